//! What `plan` and `up` read of each origin bucket before the first write
//! (GetBucketPolicy; the SSE-KMS reads of `bucket_kms`):
//! - a statement under our grant's Sid that is not what we would write is
//!   refused: it is someone else's, and `up` must not adopt, change or
//!   remove it;
//! - a statement granting everyone (`Principal: "*"`) read access to the
//!   bucket's objects is a warning: viewers can fetch them from S3
//!   directly, bypassing the origin access control, the authorizer and
//!   signed URLs;
//! - a default encryption CloudFront cannot decrypt (SSE-KMS under aws/s3,
//!   or a key whose policy does not admit the distribution) is a warning
//!   with the statement to add (`bucket_kms`).

use std::path::Path;

use serde_json::Value;

use super::instance::{Instance, Sources};
use crate::aws::{sdk, unless};
use crate::engine::clients::Clients;
use crate::error::Error;
use crate::kinds::bucket_grant::{Spec, foreign, not_ours, sid};
use crate::lockfile::Lockfile;
use crate::profile::Profile;

/// What the bucket policies say, per grant instance.
#[derive(Debug, Default)]
pub struct Findings {
    /// Statements under our Sid that are not ours: `up` refuses them.
    pub refusals: Vec<String>,
    /// (grant instance id, message): public read access to a bucket.
    pub warnings: Vec<(String, String)>,
}

impl Findings {
    /// The refusal as bad input (exit 2), naming each bucket, the Sid and
    /// the fix; `None` when there is none.
    pub fn refusal(&self, profile_path: &Path, stack: &str) -> Option<Error> {
        (!self.refusals.is_empty()).then(|| Error::Refused {
            path: profile_path.to_path_buf(),
            reason: format!(
                "checked before any change; nothing was changed:\n      {}",
                self.refusals.join("\n      ")
            ),
            fix: format!(
                "remove that statement from the bucket's policy, or give it another Sid than {} \
                 (aws s3api get-bucket-policy / put-bucket-policy), then run the command again; \
                 if it is another ahi-edge stack's grant written before Sids kept stack names apart, \
                 run `ahi-edge up` for that stack first: it moves its grant to its own Sid",
                sid(stack)
            ),
        })
    }
}

/// Reads the policy of every bucket the profile grants to and reports.
pub async fn check(
    clients: &Clients,
    profile: &Profile,
    instances: &[Instance],
    lock: &Lockfile,
    account: &str,
) -> Result<Findings, Error> {
    let stack = profile.stack.name.as_str();
    let src = Sources {
        profile,
        lock,
        account,
        package_sha: None,
        planning: true,
        reads: Default::default(),
    };
    let mut findings = Findings::default();
    for inst in instances.iter().filter(|i| {
        i.kind == <crate::kinds::bucket_grant::BucketGrant as crate::engine::kind::Resource>::NAME
    }) {
        let Some(Ok(spec)) = inst.spec(&src) else {
            continue;
        };
        let Ok(spec) = serde_json::from_value::<Spec>(spec) else {
            continue;
        };
        let distribution = spec
            .statement
            .pointer("/Condition/StringEquals/AWS:SourceArn")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let region = super::call_region(&inst.region);
        if let Some(warning) =
            super::bucket_kms::check(clients, region, &spec.bucket, distribution, account).await?
        {
            findings.warnings.push((inst.id.clone(), warning));
        }
        let s3 = clients.s3(region);
        let answer = unless(
            &["NoSuchBucketPolicy", "NoSuchBucket"],
            s3.get_bucket_policy()
                .bucket(&spec.bucket)
                .send()
                .await
                .map_err(sdk("GetBucketPolicy")),
        )?;
        let Some(text) = answer.and_then(|a| a.policy().map(str::to_string)) else {
            continue;
        };
        let Ok(policy) = serde_json::from_str::<Value>(&text) else {
            continue; // S3 holds only valid policies; the kind reports a bad read
        };
        for statement in statements(&policy) {
            if statement.get("Sid").and_then(Value::as_str) == Some(sid(stack).as_str())
                && let Some(why) = foreign(&statement, stack, &spec.bucket, distribution)
            {
                findings.refusals.push(not_ours(&spec.bucket, stack, &why));
            }
            if grants_public_read(&statement, &spec.bucket) {
                findings
                    .warnings
                    .push((inst.id.clone(), public_read(&spec.bucket, &statement)));
            }
        }
    }
    Ok(findings)
}

fn statements(policy: &Value) -> Vec<Value> {
    match policy.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

fn public_read(bucket: &str, statement: &Value) -> String {
    let named = statement.get("Sid").and_then(Value::as_str).map_or_else(
        || "a statement without a Sid".to_string(),
        |s| format!("statement {s}"),
    );
    let condition = if statement.get("Condition").is_some() {
        " (to requests meeting its condition)"
    } else {
        ""
    };
    format!(
        "bucket {bucket}'s policy ({named}) lets anyone (Principal \"*\") read its objects{condition}: \
         they can be fetched from S3 directly, bypassing CloudFront's origin access control, the \
         authorizer and signed URLs; remove that statement (and turn on S3 Block Public Access) so \
         the objects are reachable only through the distribution"
    )
}

/// Whether `statement` allows everyone `s3:GetObject` on some object of `bucket`.
pub fn grants_public_read(statement: &Value, bucket: &str) -> bool {
    let everyone = match statement.get("Principal") {
        Some(Value::String(p)) => p == "*",
        Some(Value::Object(p)) => p.get("AWS").is_some_and(|a| list(a).iter().any(|x| x == "*")),
        _ => false,
    };
    let allows = statement.get("Effect").and_then(Value::as_str) == Some("Allow");
    let reads = match (statement.get("Action"), statement.get("NotAction")) {
        (Some(a), _) => list(a)
            .iter()
            .any(|p| glob(&p.to_ascii_lowercase(), "s3:getobject")),
        (None, Some(n)) => !list(n)
            .iter()
            .any(|p| glob(&p.to_ascii_lowercase(), "s3:getobject")),
        (None, None) => false,
    };
    let objects = match (statement.get("Resource"), statement.get("NotResource")) {
        (Some(r), _) => list(r).iter().any(|p| covers_objects_of(p, bucket)),
        // NotResource: everything but what it names, objects of this bucket among it.
        (None, Some(_)) => true,
        (None, None) => false,
    };
    everyone && allows && reads && objects
}

fn list(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Whether an IAM resource pattern matches some object ARN of `bucket`
/// (`arn:aws:s3:::<bucket>/<key>` for some key).
fn covers_objects_of(pattern: &str, bucket: &str) -> bool {
    can_match_with_prefix(pattern, &format!("arn:aws:s3:::{bucket}/"))
}

/// IAM's wildcards: `*` any run of characters, `?` one.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti, mut star) = (0, 0, None);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether some text starting with `prefix` matches `pattern`: after the
/// prefix any pattern rest can still be met (`*` empty, `?` and literals
/// by themselves), so it is whether any pattern position survives it.
fn can_match_with_prefix(pattern: &str, prefix: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let close = |mut states: Vec<usize>| {
        let mut i = 0;
        while i < states.len() {
            let s = states[i];
            if s < p.len() && p[s] == '*' && !states.contains(&(s + 1)) {
                states.push(s + 1);
            }
            i += 1;
        }
        states
    };
    let mut states = close(vec![0]);
    for c in prefix.chars() {
        let mut next = Vec::new();
        for &s in &states {
            if s < p.len() && (p[s] == '*') && !next.contains(&s) {
                next.push(s);
            }
            if s < p.len() && (p[s] == '?' || p[s] == c) && !next.contains(&(s + 1)) {
                next.push(s + 1);
            }
        }
        states = close(next);
        if states.is_empty() {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn statement(principal: Value, action: Value, resource: Value) -> Value {
        json!({"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource})
    }

    #[test]
    fn public_read_is_everyone_reading_some_object() {
        let objects = json!("arn:aws:s3:::site/*");
        for principal in [json!("*"), json!({"AWS": "*"}), json!({"AWS": ["*"]})] {
            assert!(grants_public_read(
                &statement(principal, json!("s3:GetObject"), objects.clone()),
                "site"
            ));
        }
        for action in [
            json!("s3:*"),
            json!("*"),
            json!(["s3:Get*"]),
            json!("S3:GetObject"),
            json!("s3:GetObj?ct"),
        ] {
            assert!(
                grants_public_read(&statement(json!("*"), action.clone(), objects.clone()), "site"),
                "{action}"
            );
        }
        for resource in [
            json!("*"),
            json!("arn:aws:s3:::site/public/*"),
            json!("arn:aws:s3:::si*"),
            json!("arn:aws:s3:::*/*"),
        ] {
            assert!(
                grants_public_read(
                    &statement(json!("*"), json!("s3:GetObject"), resource.clone()),
                    "site"
                ),
                "{resource}"
            );
        }
        // Not public read of this bucket's objects:
        for (principal, action, resource) in [
            (
                json!({"AWS": "arn:aws:iam::123456789012:root"}),
                json!("s3:GetObject"),
                objects.clone(),
            ),
            (
                json!({"Service": "cloudfront.amazonaws.com"}),
                json!("s3:GetObject"),
                objects.clone(),
            ),
            (json!("*"), json!("s3:ListBucket"), json!("arn:aws:s3:::site")),
            (json!("*"), json!("s3:PutObject"), objects.clone()),
            (json!("*"), json!("s3:GetObject"), json!("arn:aws:s3:::other/*")),
            (json!("*"), json!("s3:GetObject"), json!("arn:aws:s3:::site")),
            (json!("*"), json!("s3:GetObject"), json!("arn:aws:s3:::sitex/*")),
        ] {
            assert!(
                !grants_public_read(
                    &statement(principal.clone(), action.clone(), resource.clone()),
                    "site"
                ),
                "{principal} {action} {resource}"
            );
        }
        let mut deny = statement(json!("*"), json!("s3:GetObject"), objects.clone());
        deny["Effect"] = json!("Deny");
        assert!(!grants_public_read(&deny, "site"));
        let not_action =
            json!({"Effect": "Allow", "Principal": "*", "NotAction": "s3:PutObject", "Resource": objects});
        assert!(grants_public_read(&not_action, "site"));
    }
}
