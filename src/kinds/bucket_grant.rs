//! A private bucket's grant to the distribution (`s3-bucket-grant`): one
//! statement with our Sid, merged into the bucket's policy, allowing
//! CloudFront's service principal to read only on behalf of this
//! distribution (`AWS:SourceArn`). The bucket and every other statement are
//! the user's: a write touches our statement alone, and the delete puts the
//! policy back as it was (or deletes it when ours was the only statement).

use aws_sdk_s3::Client;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::aws::{AwsError, sdk, unless};
use crate::stack::kind::{At, Found, Fut, Gone, Kind};
use crate::stack::teardown::Options;
use crate::stack::{Ctx, StepError};

pub struct BucketGrant;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub bucket: String,
    /// The whole statement, Sid included: what is sent is what is compared.
    pub statement: Value,
}

/// Our statement's Sid in a bucket policy: alphanumeric, per stack.
pub fn sid(stack: &str) -> String {
    let plain: String = stack.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("AhiEdge{plain}CloudFrontRead")
}

impl Spec {
    /// Read (and, with `list`, list) for CloudFront on behalf of one distribution.
    pub fn new(stack: &str, bucket: &str, distribution_arn: &str, list: bool) -> Self {
        let mut actions = vec!["s3:GetObject"];
        let mut resources = vec![format!("arn:aws:s3:::{bucket}/*")];
        if list {
            actions.push("s3:ListBucket");
            resources.push(format!("arn:aws:s3:::{bucket}"));
        }
        Spec {
            bucket: bucket.to_string(),
            statement: json!({
                "Sid": sid(stack),
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": actions,
                "Resource": resources,
                "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}}
            }),
        }
    }

    fn sid(&self) -> &str {
        self.statement
            .get("Sid")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// The bucket's policy document, `None` when it has none.
async fn policy(s3: &Client, bucket: &str) -> Result<Option<Value>, AwsError> {
    let out = unless(
        &["NoSuchBucketPolicy"],
        s3.get_bucket_policy()
            .bucket(bucket)
            .send()
            .await
            .map_err(sdk("GetBucketPolicy")),
    )?;
    out.and_then(|o| o.policy().map(str::to_string))
        .map(|p| {
            serde_json::from_str(&p).map_err(|e| AwsError {
                operation: "GetBucketPolicy",
                code: None,
                message: format!("bucket {bucket}'s policy is not JSON: {e}"),
            })
        })
        .transpose()
}

fn statements(policy: &Value) -> Vec<Value> {
    match policy.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// The policy with our statement replaced by `ours` (or removed).
fn merged(current: Option<&Value>, sid: &str, ours: Option<&Value>) -> Option<Value> {
    let mut doc = current
        .cloned()
        .unwrap_or_else(|| json!({"Version": "2012-10-17"}));
    let mut kept: Vec<Value> = statements(&doc)
        .into_iter()
        .filter(|s| s.get("Sid").and_then(Value::as_str) != Some(sid))
        .collect();
    kept.extend(ours.cloned());
    if kept.is_empty() {
        return None;
    }
    doc["Statement"] = Value::Array(kept);
    Some(doc)
}

async fn write(s3: &Client, bucket: &str, doc: Option<Value>) -> Result<(), AwsError> {
    match doc {
        Some(doc) => {
            s3.put_bucket_policy()
                .bucket(bucket)
                .policy(doc.to_string())
                .send()
                .await
                .map_err(sdk("PutBucketPolicy"))?;
        }
        None => {
            s3.delete_bucket_policy()
                .bucket(bucket)
                .send()
                .await
                .map_err(sdk("DeleteBucketPolicy"))?;
        }
    }
    Ok(())
}

async fn apply(cx: &Ctx, at: &At<'_>, spec: &Spec) -> Result<Found, StepError> {
    let s3 = cx.clients.s3(at.region);
    let current = policy(&s3, &spec.bucket).await?;
    write(
        &s3,
        &spec.bucket,
        merged(current.as_ref(), spec.sid(), Some(&spec.statement)),
    )
    .await?;
    Ok(Found::new(
        format!("{}/{}", spec.bucket, spec.sid()),
        crate::kinds::json(spec),
        true,
    ))
}

impl Kind for BucketGrant {
    fn name(&self) -> &'static str {
        "s3-bucket-grant"
    }

    fn replace_fields(&self) -> &'static [&'static str] {
        &["bucket"]
    }

    fn find<'a>(&'a self, cx: &'a Ctx, at: &'a At<'a>) -> Fut<'a, Option<Found>> {
        Box::pin(async move {
            let spec: Spec = at.spec()?;
            let s3 = cx.clients.s3(at.region);
            let current = match policy(&s3, &spec.bucket).await {
                Err(e) if e.is("NoSuchBucket") && at.entry.is_some_and(|e| e.physical_id.is_some()) => {
                    // The bucket is gone, and our statement with it.
                    return Ok(None);
                }
                other => other?,
            };
            let ours = current
                .as_ref()
                .map(statements)
                .unwrap_or_default()
                .into_iter()
                .find(|s| s.get("Sid").and_then(Value::as_str) == Some(spec.sid()));
            // Our Sid is the ownership mark: the statement is ours to manage.
            Ok(ours.map(|statement| {
                let view = Spec {
                    bucket: spec.bucket.clone(),
                    statement,
                };
                Found::new(
                    format!("{}/{}", spec.bucket, spec.sid()),
                    crate::kinds::json(&view),
                    true,
                )
            }))
        })
    }

    fn create<'a>(&'a self, cx: &'a Ctx, at: &'a At<'a>) -> Fut<'a, Found> {
        Box::pin(async move { apply(cx, at, &at.spec()?).await })
    }

    fn update<'a>(
        &'a self,
        cx: &'a Ctx,
        at: &'a At<'a>,
        _live: &'a Found,
        _fields: &'a [String],
    ) -> Fut<'a, Found> {
        Box::pin(async move { apply(cx, at, &at.spec()?).await })
    }

    fn delete<'a>(
        &'a self,
        cx: &'a Ctx,
        at: &'a At<'a>,
        _live: &'a Found,
        _opts: &'a Options,
    ) -> Fut<'a, Gone> {
        Box::pin(async move {
            let spec: Spec = at.spec()?;
            let s3 = cx.clients.s3(at.region);
            let current = match policy(&s3, &spec.bucket).await {
                Err(e) if e.is("NoSuchBucket") => return Ok(Gone::Deleted),
                other => other?,
            };
            if let Some(current) = current {
                write(&s3, &spec.bucket, merged(Some(&current), spec.sid(), None)).await?;
            }
            Ok(Gone::Deleted)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_touches_our_statement_only() {
        let foreign = json!({"Sid": "TheirRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/public/*"});
        let before = json!({"Version": "2012-10-17", "Id": "theirs", "Statement": [foreign.clone()]});
        let ours = Spec::new("site", "b", "arn:aws:cloudfront::1:distribution/E1", false);
        let with = merged(Some(&before), ours.sid(), Some(&ours.statement)).unwrap();
        assert_eq!(with["Id"], "theirs");
        assert_eq!(statements(&with), vec![foreign.clone(), ours.statement.clone()]);
        let again = merged(Some(&with), ours.sid(), Some(&ours.statement)).unwrap();
        assert_eq!(again, with, "idempotent");
        assert_eq!(merged(Some(&with), ours.sid(), None).unwrap(), before);
        assert_eq!(merged(None, ours.sid(), None), None, "no policy stays no policy");
        let only = merged(None, ours.sid(), Some(&ours.statement)).unwrap();
        assert_eq!(merged(Some(&only), ours.sid(), None), None);
        assert_eq!(sid("acme-site"), "AhiEdgeacmesiteCloudFrontRead");
    }
}
