//! The access-log bucket, in the HealthImaging region: the ALB writes under
//! `alb/`, CloudFront under `cloudfront/`. ACLs enabled (BucketOwnerPreferred,
//! which CloudFront standard logging needs), SSE-S3, public access blocked,
//! TLS-only. `down` keeps it unless `--purge-logs`.

use std::collections::BTreeMap;

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier, ObjectOwnership,
    OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
};
use serde_json::{Value, json};

use super::{not_owned, owned_by};
use crate::aws::AwsError;

fn err<E>(operation: &'static str) -> impl FnOnce(aws_sdk_s3::error::SdkError<E>) -> AwsError
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    move |e| AwsError::from_sdk(operation, e)
}

fn build_err(operation: &'static str) -> impl FnOnce(aws_sdk_s3::error::BuildError) -> AwsError {
    move |e| AwsError {
        operation,
        code: None,
        message: e.to_string(),
    }
}

/// The account Elastic Load Balancing writes access logs from, in regions
/// older than August 2022; newer regions use the log-delivery service principal.
fn elb_log_account(region: &str) -> Option<&'static str> {
    Some(match region {
        "us-east-1" => "127311923021",
        "us-east-2" => "033677994240",
        "us-west-1" => "027434742980",
        "us-west-2" => "797873946194",
        "eu-west-1" => "156460612806",
        "eu-west-2" => "652711504416",
        "eu-west-3" => "009996457667",
        "eu-central-1" => "054676820928",
        "eu-north-1" => "897822967062",
        "ap-southeast-1" => "114774131450",
        "ap-southeast-2" => "783225319266",
        "ap-northeast-1" => "582318560864",
        "ap-northeast-2" => "600734575887",
        "ap-south-1" => "718504428378",
        "ca-central-1" => "985666609251",
        "sa-east-1" => "507241528517",
        _ => return None,
    })
}

/// TLS-only, and the ALB may write under `alb/`.
pub fn policy(bucket: &str, account: &str, region: &str) -> Value {
    let principal = match elb_log_account(region) {
        Some(elb) => json!({"AWS": format!("arn:aws:iam::{elb}:root")}),
        None => json!({"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}),
    };
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            },
            {
                "Sid": "AlbAccessLogs",
                "Effect": "Allow",
                "Principal": principal,
                "Action": "s3:PutObject",
                "Resource": format!("arn:aws:s3:::{bucket}/alb/AWSLogs/{account}/*")
            }
        ]
    })
}

/// The bucket's tags, or `None` when it does not exist.
pub async fn tags(client: &Client, bucket: &str) -> Result<Option<BTreeMap<String, String>>, AwsError> {
    match client.head_bucket().bucket(bucket).send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => return Ok(None),
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => return Ok(None),
        Err(e) => return Err(AwsError::from_sdk("HeadBucket", e)),
    }
    match client.get_bucket_tagging().bucket(bucket).send().await {
        Ok(out) => Ok(Some(
            out.tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
        )),
        Err(e) => {
            let e = AwsError::from_sdk("GetBucketTagging", e);
            if e.is("NoSuchTagSet") {
                Ok(Some(BTreeMap::new()))
            } else {
                Err(e)
            }
        }
    }
}

/// Creates the bucket, or adopts ours. Its settings are written when it is
/// created or when `configure` says they may be missing (a run killed
/// between the create and the settings); otherwise only the policy is
/// compared. Returns whether anything was written.
pub async fn ensure(
    client: &Client,
    bucket: &str,
    region: &str,
    account: &str,
    stack: &str,
    tag_map: &BTreeMap<String, String>,
    configure: bool,
) -> Result<bool, AwsError> {
    let created = match tags(client, bucket).await? {
        // An untagged bucket under our name is ours when a run died between
        // CreateBucket and PutBucketTagging (the name embeds our account).
        Some(live) if !(owned_by(&live, stack) || configure && live.is_empty()) => {
            return Err(not_owned("GetBucketTagging", "S3 bucket", bucket, stack));
        }
        Some(_) => false,
        None => {
            let mut call = client.create_bucket().bucket(bucket);
            if region != "us-east-1" {
                call = call.create_bucket_configuration(
                    CreateBucketConfiguration::builder()
                        .location_constraint(BucketLocationConstraint::from(region))
                        .build(),
                );
            }
            match call.send().await {
                Ok(_) => {}
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_bucket_already_owned_by_you()) => {}
                Err(e) => return Err(AwsError::from_sdk("CreateBucket", e)),
            }
            true
        }
    };
    let document = policy(bucket, account, region);
    if created || configure {
        // Tags first: they are what lets a re-run adopt the bucket.
        client
            .put_bucket_tagging()
            .bucket(bucket)
            .tagging(
                Tagging::builder()
                    .set_tag_set(Some(
                        tag_map
                            .iter()
                            .map(|(k, v)| Tag::builder().key(k).value(v).build())
                            .collect::<Result<_, _>>()
                            .map_err(build_err("PutBucketTagging"))?,
                    ))
                    .build()
                    .map_err(build_err("PutBucketTagging"))?,
            )
            .send()
            .await
            .map_err(err("PutBucketTagging"))?;
        client
            .put_bucket_ownership_controls()
            .bucket(bucket)
            .ownership_controls(
                OwnershipControls::builder()
                    .rules(
                        OwnershipControlsRule::builder()
                            .object_ownership(ObjectOwnership::BucketOwnerPreferred)
                            .build()
                            .map_err(build_err("PutBucketOwnershipControls"))?,
                    )
                    .build()
                    .map_err(build_err("PutBucketOwnershipControls"))?,
            )
            .send()
            .await
            .map_err(err("PutBucketOwnershipControls"))?;
        client
            .put_public_access_block()
            .bucket(bucket)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map_err(err("PutPublicAccessBlock"))?;
        client
            .put_bucket_encryption()
            .bucket(bucket)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(
                        ServerSideEncryptionRule::builder()
                            .apply_server_side_encryption_by_default(
                                ServerSideEncryptionByDefault::builder()
                                    .sse_algorithm(ServerSideEncryption::Aes256)
                                    .build()
                                    .map_err(build_err("PutBucketEncryption"))?,
                            )
                            .build(),
                    )
                    .build()
                    .map_err(build_err("PutBucketEncryption"))?,
            )
            .send()
            .await
            .map_err(err("PutBucketEncryption"))?;
    }
    let live_policy = match client.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => out.policy().and_then(|p| serde_json::from_str::<Value>(p).ok()),
        Err(e) => {
            let e = AwsError::from_sdk("GetBucketPolicy", e);
            if e.is("NoSuchBucketPolicy") {
                None
            } else {
                return Err(e);
            }
        }
    };
    let mut wrote = created || configure;
    if live_policy.as_ref() != Some(&document) {
        client
            .put_bucket_policy()
            .bucket(bucket)
            .policy(document.to_string())
            .send()
            .await
            .map_err(err("PutBucketPolicy"))?;
        wrote = true;
    }
    Ok(wrote)
}

/// Empties and deletes the bucket if it is ours; gone counts as done.
pub async fn purge(client: &Client, bucket: &str, stack: &str) -> Result<(), AwsError> {
    let Some(live) = tags(client, bucket).await? else {
        return Ok(());
    };
    if !owned_by(&live, stack) {
        return Err(not_owned("GetBucketTagging", "S3 bucket", bucket, stack));
    }
    loop {
        let out = client
            .list_objects_v2()
            .bucket(bucket)
            .send()
            .await
            .map_err(err("ListObjectsV2"))?;
        let keys: Vec<ObjectIdentifier> = out
            .contents()
            .iter()
            .filter_map(|o| {
                ObjectIdentifier::builder()
                    .set_key(o.key().map(str::to_string))
                    .build()
                    .ok()
            })
            .collect();
        if keys.is_empty() {
            break;
        }
        client
            .delete_objects()
            .bucket(bucket)
            .delete(
                Delete::builder()
                    .set_objects(Some(keys))
                    .quiet(true)
                    .build()
                    .map_err(build_err("DeleteObjects"))?,
            )
            .send()
            .await
            .map_err(err("DeleteObjects"))?;
    }
    match client.delete_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = AwsError::from_sdk("DeleteBucket", e);
            if e.is("NoSuchBucket") { Ok(()) } else { Err(e) }
        }
    }
}
