//! SSE-KMS on a private origin bucket (issue 27, item 8), read before the
//! first write by `plan` and `up` (GetBucketEncryption; with a customer
//! managed key, KMS DescribeKey and GetKeyPolicy; nothing is written).
//!
//! An object S3 encrypts with SSE-KMS is read through an origin access
//! control only when the key's policy lets the service principal
//! `cloudfront.amazonaws.com` use `kms:Decrypt` for the distribution
//! (CloudFront Developer Guide, "Restrict access to an Amazon S3 origin",
//! the SSE-KMS statement; its example also grants `kms:Encrypt` and
//! `kms:GenerateDataKey*` for uploads through CloudFront, which this tool
//! never makes). Without it every such object answers 403 to viewers. The
//! AWS managed key `aws/s3` can never be used so: nobody can edit its
//! policy. Each case is a warning naming the bucket, the key and the fix
//! (the exact statement to add); the key policy is the user's, so the tool
//! does not write it.

use serde_json::{Value, json};

use super::instance::UNKNOWN;
use crate::aws::{AwsError, sdk, unless};
use crate::engine::clients::Clients;
use crate::resources::policy_doc;

/// The bucket's default SSE-KMS key, when its default encryption is
/// SSE-KMS (`Some(None)`: the AWS managed key `aws/s3`).
async fn default_kms_key(
    clients: &Clients,
    region: &str,
    bucket: &str,
) -> Result<Option<Option<String>>, AwsError> {
    let answer = unless(
        &["ServerSideEncryptionConfigurationNotFoundError", "NoSuchBucket"],
        clients
            .s3(region)
            .get_bucket_encryption()
            .bucket(bucket)
            .send()
            .await
            .map_err(sdk("GetBucketEncryption")),
    )?;
    let default = answer.and_then(|a| {
        a.server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default())
            .cloned()
    });
    Ok(default.and_then(|d| {
        d.sse_algorithm()
            .as_str()
            .starts_with("aws:kms")
            .then(|| d.kms_master_key_id().map(str::to_string))
    }))
}

fn is_aws_managed_alias(key: &str) -> bool {
    key == "alias/aws/s3" || key.ends_with(":alias/aws/s3")
}

/// The statement CloudFront needs in the key's policy, for `distribution_arn`.
pub fn statement(distribution_arn: &str) -> Value {
    json!({
        "Sid": "AllowCloudFrontServicePrincipalSSEKMSRead",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}}
    })
}

/// Whether `policy` lets CloudFront decrypt for `distribution_arn`: an
/// Allow for the service principal (or everyone) with `kms:Decrypt` (or a
/// wildcard over it), unconditioned or conditioned on this distribution's
/// ARN alone, and no Deny of the same. Read by meaning (policy_doc).
pub fn lets_cloudfront_decrypt(policy: &Value, distribution_arn: &str) -> bool {
    let policy = policy_doc::canonical(policy);
    let mut allowed = false;
    for s in policy["Statement"].as_array().into_iter().flatten() {
        let principal = &s["Principal"];
        let listed = |kind: &str, name: &str| {
            principal[kind]
                .as_array()
                .is_some_and(|names| names.iter().any(|n| n == name))
        };
        let to_cloudfront = listed("AWS", "*") || listed("Service", "cloudfront.amazonaws.com");
        let decrypts = s["Action"].as_array().is_some_and(|a| {
            a.iter()
                .any(|a| matches!(a.as_str(), Some("kms:Decrypt" | "kms:*" | "*")))
        });
        if !(to_cloudfront && decrypts) {
            continue;
        }
        let for_us = match s.get("Condition").and_then(Value::as_object) {
            None => true,
            Some(operators) => operators.iter().all(|(operator, keys)| {
                let arn_test = matches!(
                    operator.as_str(),
                    "StringEquals" | "ArnEquals" | "StringLike" | "ArnLike"
                );
                keys.as_object().is_some_and(|keys| {
                    keys.iter().all(|(key, values)| {
                        arn_test
                            && key.eq_ignore_ascii_case("aws:SourceArn")
                            && values
                                .as_array()
                                .is_some_and(|v| v.iter().any(|v| v == distribution_arn))
                    })
                })
            }),
        };
        match s["Effect"].as_str() {
            Some("Deny") => return false,
            Some("Allow") if for_us => allowed = true,
            _ => {}
        }
    }
    allowed
}

/// The warning for one origin bucket, `None` when CloudFront can read it.
pub async fn check(
    clients: &Clients,
    region: &str,
    bucket: &str,
    distribution_arn: &str,
    account: &str,
) -> Result<Option<String>, AwsError> {
    let Some(key) = default_kms_key(clients, region, bucket).await? else {
        return Ok(None);
    };
    let managed = format!(
        "bucket {bucket} encrypts new objects with SSE-KMS under the AWS managed key aws/s3: CloudFront cannot \
         decrypt them (nobody can add CloudFront to that key's policy), so they answer 403 through the \
         distribution; fix: make the bucket's default encryption SSE-S3 (AES256) or a customer managed KMS \
         key, and copy existing objects over themselves with the new encryption"
    );
    let Some(key) = key.filter(|k| !is_aws_managed_alias(k)) else {
        return Ok(Some(managed));
    };
    let key_region = key
        .strip_prefix("arn:")
        .and_then(|arn| arn.split(':').nth(2))
        .unwrap_or(region)
        .to_string();
    let kms = clients.kms(&key_region);
    let known = distribution_arn != UNKNOWN;
    let shown_arn = if known {
        distribution_arn.to_string()
    } else {
        format!("arn:aws:cloudfront::{account}:distribution/DISTRIBUTION_ID")
    };
    let fix = format!(
        "add this statement to the key's policy (aws kms get-key-policy --key-id {key} --policy-name default, \
         then put-key-policy): {}",
        statement(&shown_arn)
    );
    let described = kms
        .describe_key()
        .key_id(&key)
        .send()
        .await
        .map_err(sdk("DescribeKey"));
    let policy = match described {
        Ok(d) if d.key_metadata().and_then(|m| m.key_manager()).map(|m| m.as_str()) == Some("AWS") => {
            return Ok(Some(managed));
        }
        Ok(_) => kms
            .get_key_policy()
            .key_id(&key)
            .policy_name("default")
            .send()
            .await
            .map_err(sdk("GetKeyPolicy")),
        Err(e) => Err(e),
    };
    let lead = format!("bucket {bucket} encrypts new objects with SSE-KMS under key {key}");
    Ok(match policy {
        Err(e) => Some(format!(
            "{lead}, whose policy could not be read ({e}): CloudFront reads such objects only if that policy \
             lets it decrypt; {fix}"
        )),
        Ok(out) => {
            let doc: Value = out
                .policy()
                .and_then(|p| serde_json::from_str(p).ok())
                .unwrap_or(Value::Null);
            if known && lets_cloudfront_decrypt(&doc, distribution_arn) {
                None
            } else if known {
                Some(format!(
                    "{lead}, whose policy does not let CloudFront decrypt for this stack's distribution: such \
                     objects answer 403 through it; {fix}"
                ))
            } else {
                Some(format!(
                    "{lead}: CloudFront reads such objects only once the key's policy lets it decrypt for the \
                     distribution this `up` creates; after it, {fix} (DISTRIBUTION_ID: `ahi-edge outputs`; \
                     `ahi-edge plan` then prints the statement with it, or nothing once it is in place)"
                ))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:cloudfront::123456789012:distribution/E1";

    fn policy(statements: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    #[test]
    fn the_printed_statement_is_what_the_check_accepts() {
        let admin = json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"});
        assert!(!lets_cloudfront_decrypt(&policy(json!([admin.clone()])), ARN));
        assert!(lets_cloudfront_decrypt(
            &policy(json!([admin.clone(), statement(ARN)])),
            ARN
        ));
        // As the guide writes it: lists, more actions, ArnLike.
        let guide = json!({"Effect": "Allow", "Principal": {"Service": ["cloudfront.amazonaws.com"]},
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"], "Resource": "*",
            "Condition": {"ArnLike": {"AWS:SourceArn": [ARN]}}});
        assert!(lets_cloudfront_decrypt(&policy(json!([guide])), ARN));
    }

    #[test]
    fn another_distribution_another_action_or_a_deny_is_not_enough() {
        let other = statement("arn:aws:cloudfront::123456789012:distribution/E2");
        assert!(!lets_cloudfront_decrypt(&policy(json!([other])), ARN));
        let mut encrypt_only = statement(ARN);
        encrypt_only["Action"] = json!("kms:Encrypt");
        assert!(!lets_cloudfront_decrypt(&policy(json!([encrypt_only])), ARN));
        let mut extra_condition = statement(ARN);
        extra_condition["Condition"]["StringEquals"]["aws:SourceAccount"] = json!("123456789012");
        assert!(
            !lets_cloudfront_decrypt(&policy(json!([extra_condition])), ARN),
            "a condition this check cannot evaluate is not assumed to hold"
        );
        let deny = json!({"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"});
        assert!(!lets_cloudfront_decrypt(
            &policy(json!([statement(ARN), deny])),
            ARN
        ));
        assert!(is_aws_managed_alias(
            "arn:aws:kms:us-east-1:123456789012:alias/aws/s3"
        ));
    }
}
