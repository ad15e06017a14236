//! A private bucket's grant to the distribution (`s3-bucket-grant`): one
//! statement with our Sid, merged into the bucket's policy, allowing
//! CloudFront's service principal to read only on behalf of this
//! distribution (`AWS:SourceArn`). The bucket and every other statement are
//! the user's: a write touches our statement alone, and the delete puts the
//! policy back as it was (or deletes it when ours was the only statement).
//!
//! The Sid is the stack's name encoded injectively into IAM's Sid
//! characters, so two stacks never share one. A statement under our Sid is
//! ours only if it is exactly what we would write (CloudFront's principal,
//! our actions and resources, our distribution's ARN): any other is never
//! adopted, changed or removed (`up` refuses before any write, see
//! `stack::grants`). A grant written under the Sid of earlier versions
//! (hyphens dropped) is found by its content and moved to the new Sid by
//! the next `up`, or removed by `down`.

use aws_sdk_s3::Client;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::aws::{AwsError, sdk, unless};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Resource};
use crate::engine::step::{Cx, Step, StepError};
use crate::resources::policy_doc;

pub struct BucketGrant;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub bucket: String,
    /// The whole statement, Sid included: what is sent is what is compared.
    pub statement: Value,
}

/// Our statement's Sid in a bucket policy, one per stack: IAM allows only
/// `[A-Za-z0-9]`, so the name is encoded injectively: lower-case letters
/// and digits stand for themselves, every other byte is `X` and two
/// upper-case hex digits (`img-site` -> `imgX2Dsite`, `imgsite` stays).
pub fn sid(stack: &str) -> String {
    let mut encoded = String::new();
    for b in stack.bytes() {
        if b.is_ascii_lowercase() || b.is_ascii_digit() {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("X{b:02X}"));
        }
    }
    format!("AhiEdge{encoded}CloudFrontRead")
}

/// The Sid versions before issue 23 wrote: the name's alphanumerics only,
/// which `img-site` and `imgsite` shared. Read, never written.
pub fn legacy_sid(stack: &str) -> String {
    let plain: String = stack.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("AhiEdge{plain}CloudFrontRead")
}

/// Why `statement` is not a grant this stack would write for `bucket` and
/// the distribution `distribution_arn` (with or without listing); `None`
/// when it is one. Arrays and single values are compared alike.
pub fn foreign(statement: &Value, stack: &str, bucket: &str, distribution_arn: &str) -> Option<String> {
    // By meaning (resources::policy_doc), the Sid aside: S3 may hand the
    // statement back rewritten.
    let shape = |s: &Value| -> Value {
        let mut s = policy_doc::statement(s);
        if let Some(map) = s.as_object_mut() {
            map.remove("Sid");
        }
        s
    };
    let got = shape(statement);
    let ours = [false, true].map(|list| shape(&Spec::new(stack, bucket, distribution_arn, list).statement));
    if ours.contains(&got) {
        return None;
    }
    // The keys that match neither way we write it (both, when only their
    // combination is wrong: listing actions on the objects' resource).
    let mut keys: Vec<&str> = ["Effect", "Principal", "Action", "Resource", "Condition"].to_vec();
    for key in got.as_object().into_iter().flat_map(|m| m.keys()) {
        if !keys.contains(&key.as_str()) {
            keys.push(key);
        }
    }
    let mut differing: Vec<&str> = keys
        .into_iter()
        .filter(|k| ours.iter().all(|o| o.get(*k) != got.get(*k)))
        .collect();
    if differing.is_empty() {
        differing = vec!["Action", "Resource"];
    }
    Some(
        differing
            .iter()
            .map(|k| format!("{k} {}", statement.get(*k).unwrap_or(&Value::Null)))
            .collect::<Vec<_>>()
            .join(", "),
    )
}

/// The source ARN a statement of ours names (the distribution's).
fn source_arn(statement: &Value) -> &str {
    statement
        .pointer("/Condition/StringEquals/AWS:SourceArn")
        .and_then(Value::as_str)
        .unwrap_or_default()
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

/// The bucket's policy, read in the bucket's own region, and the client
/// for that region: the recorded region first; on `PermanentRedirect` (a
/// grant recorded in the wrong region by a version before bucket regions
/// were looked up) S3 is asked where the bucket is and read there.
async fn policy_where_it_is(
    cx: &Cx,
    region: &str,
    bucket: &str,
) -> Result<(Client, Option<Value>), AwsError> {
    let s3 = cx.clients.s3(region);
    match policy(&s3, bucket).await {
        Err(e) if e.is("PermanentRedirect") => {
            let Some(actual) =
                crate::resources::s3_bucket::region_of(&cx.clients.s3(region), region, bucket).await?
            else {
                return Err(e);
            };
            let s3 = cx.clients.s3(&actual);
            let current = policy(&s3, bucket).await?;
            Ok((s3, current))
        }
        other => other.map(|current| (s3, current)),
    }
}

fn statements(policy: &Value) -> Vec<Value> {
    match policy.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// The policy with every statement `drop` picks removed and `ours` (if
/// any) added at the end.
fn merged(current: Option<&Value>, drop: impl Fn(&Value) -> bool, ours: Option<&Value>) -> Option<Value> {
    let mut doc = current
        .cloned()
        .unwrap_or_else(|| json!({"Version": "2012-10-17"}));
    let mut kept: Vec<Value> = statements(&doc).into_iter().filter(|s| !drop(s)).collect();
    kept.extend(ours.cloned());
    if kept.is_empty() {
        return None;
    }
    doc["Statement"] = Value::Array(kept);
    Some(doc)
}

fn sid_of(statement: &Value) -> Option<&str> {
    statement.get("Sid").and_then(Value::as_str)
}

/// Our grants in a policy, for the stack and the spec's bucket and
/// distribution: the statement under our Sid, and one under the legacy
/// Sid that is exactly ours (a stack deployed before issue 23).
struct Held {
    /// The statement under our Sid, whoever wrote it.
    current: Option<Value>,
    /// Under the legacy Sid, and ours by content.
    legacy: Option<Value>,
}

fn held(policy: Option<&Value>, stack: &str, spec: &Spec) -> Held {
    let all = policy.map(statements).unwrap_or_default();
    let (ours, legacy) = (sid(stack), legacy_sid(stack));
    let current = all.iter().find(|s| sid_of(s) == Some(ours.as_str())).cloned();
    let legacy = (legacy != ours)
        .then(|| {
            all.iter()
                .find(|s| {
                    sid_of(s) == Some(legacy.as_str())
                        && foreign(s, stack, &spec.bucket, source_arn(&spec.statement)).is_none()
                })
                .cloned()
        })
        .flatten();
    Held { current, legacy }
}

/// Whether `statement` is one of our grants to remove before writing ours:
/// anything under our Sid (checked to be ours before), and the legacy
/// statement when it is exactly ours.
fn ours_to_replace(statement: &Value, stack: &str, spec: &Spec) -> bool {
    match sid_of(statement) {
        Some(s) if s == sid(stack) => true,
        Some(s) if s == legacy_sid(stack) => {
            foreign(statement, stack, &spec.bucket, source_arn(&spec.statement)).is_none()
        }
        _ => false,
    }
}

/// The refusal for a statement under our Sid that we did not write.
pub fn not_ours(bucket: &str, stack: &str, why: &str) -> String {
    format!(
        "bucket {bucket}'s policy has a statement with Sid {}, the Sid of stack {stack}'s CloudFront grant, that ahi-edge would not write ({why}): it is not adopted, changed or removed",
        sid(stack)
    )
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

async fn apply(cx: &Cx, at: &At<'_, Spec>, spec: &Spec) -> Step<Found> {
    let stack = cx.stack();
    let (s3, current) = policy_where_it_is(cx, at.region, &spec.bucket).await?;
    // Checked again just before the write: a statement under our Sid that
    // appeared since is still never overwritten.
    if let Some(theirs) = held(current.as_ref(), stack, spec).current
        && let Some(why) = foreign(&theirs, stack, &spec.bucket, source_arn(&spec.statement))
    {
        return Err(StepError::NotOwned(not_ours(&spec.bucket, stack, &why)));
    }
    write(
        &s3,
        &spec.bucket,
        merged(
            current.as_ref(),
            |s| ours_to_replace(s, stack, spec),
            Some(&spec.statement),
        ),
    )
    .await?;
    Ok(Found::new(
        format!("{}/{}", spec.bucket, spec.sid()),
        crate::kinds::json(spec),
        true,
    ))
}

impl Resource for BucketGrant {
    type Spec = Spec;

    const NAME: &'static str = "s3-bucket-grant";

    const REPLACE: &'static [&'static str] = &["bucket"];

    const REGION_CORRECTABLE: bool = true;

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let spec = at.spec()?;
        let current = match policy_where_it_is(cx, at.region, &spec.bucket)
            .await
            .map(|(_, p)| p)
        {
            Err(e) if e.is("NoSuchBucket") && at.recorded().is_some() => {
                // The bucket is gone, and our statement with it.
                return Ok(None);
            }
            other => other?,
        };
        let stack = cx.stack();
        let held = held(current.as_ref(), stack, spec);
        // Under our Sid, ours only if it is what we would write; else
        // under the legacy Sid, exactly ours (moved to our Sid by `up`).
        let found = match (held.current, held.legacy) {
            (Some(statement), _) => {
                let owned = foreign(&statement, stack, &spec.bucket, source_arn(&spec.statement)).is_none();
                Some((statement, owned))
            }
            (None, Some(legacy)) => Some((legacy, true)),
            (None, None) => None,
        };
        Ok(found.map(|(mut statement, owned)| {
            // S3's rewrite of what we sent is no drift.
            policy_doc::follow(&mut statement, &spec.statement);
            let view = Spec {
                bucket: spec.bucket.clone(),
                statement,
            };
            Found::new(
                format!("{}/{}", spec.bucket, sid(stack)),
                crate::kinds::json(&view),
                owned,
            )
        }))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        apply(cx, at, at.spec()?).await
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, _live: &Found, _fields: &[String]) -> Step<Found> {
        apply(cx, at, at.spec()?).await
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, _live: &Found, _opts: &Options) -> Step<Gone> {
        let spec = at.spec()?;
        let (s3, current) = match policy_where_it_is(cx, at.region, &spec.bucket).await {
            Err(e) if e.is("NoSuchBucket") => return Ok(Gone::Deleted),
            other => other?,
        };
        if let Some(current) = current {
            let stack = cx.stack();
            // Ours under our Sid (found owned by the engine), and a
            // legacy grant that is exactly ours: both go.
            let doc = merged(Some(&current), |s| ours_to_replace(s, stack, spec), None);
            if doc.as_ref() != Some(&current) {
                write(&s3, &spec.bucket, doc).await?;
            }
        }
        Ok(Gone::Deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:cloudfront::1:distribution/E1";

    #[test]
    fn merging_touches_our_statement_only() {
        let foreign_read = json!({"Sid": "TheirRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/public/*"});
        let before = json!({"Version": "2012-10-17", "Id": "theirs", "Statement": [foreign_read.clone()]});
        let ours = Spec::new("site", "b", ARN, false);
        let drop = |s: &Value| ours_to_replace(s, "site", &ours);
        let with = merged(Some(&before), drop, Some(&ours.statement)).unwrap();
        assert_eq!(with["Id"], "theirs");
        assert_eq!(
            statements(&with),
            vec![foreign_read.clone(), ours.statement.clone()]
        );
        let again = merged(Some(&with), drop, Some(&ours.statement)).unwrap();
        assert_eq!(again, with, "idempotent");
        assert_eq!(merged(Some(&with), drop, None).unwrap(), before);
        assert_eq!(merged(None, drop, None), None, "no policy stays no policy");
        let only = merged(None, drop, Some(&ours.statement)).unwrap();
        assert_eq!(merged(Some(&only), drop, None), None);
    }

    #[test]
    fn sids_are_iam_characters_and_distinct_for_distinct_stacks() {
        assert_eq!(sid("img-site"), "AhiEdgeimgX2DsiteCloudFrontRead");
        assert_eq!(sid("imgsite"), "AhiEdgeimgsiteCloudFrontRead");
        assert_eq!(
            legacy_sid("img-site"),
            legacy_sid("imgsite"),
            "the collision fixed here"
        );
        let names = [
            "img-site",
            "imgsite",
            "img-sit-e",
            "i-m-g-site",
            "imgx2dsite",
            "img2dsite",
            "a",
            "a-1",
            "a1",
            "ax2d1",
            "imgX2Dsite",
        ];
        let sids: std::collections::BTreeSet<String> = names.iter().map(|n| sid(n)).collect();
        assert_eq!(sids.len(), names.len(), "{sids:?}");
        for s in &sids {
            assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()), "{s}");
        }
        assert_eq!(
            sid("acme"),
            legacy_sid("acme"),
            "names without hyphens keep their Sid"
        );
    }

    #[test]
    fn only_what_we_would_write_is_ours() {
        let ours = Spec::new("site", "b", ARN, false).statement;
        assert_eq!(foreign(&ours, "site", "b", ARN), None);
        let listing = Spec::new("site", "b", ARN, true).statement;
        assert_eq!(
            foreign(&listing, "site", "b", ARN),
            None,
            "list on or off: both ours"
        );
        let mut single = ours.clone();
        single["Action"] = json!("s3:GetObject");
        single["Resource"] = json!("arn:aws:s3:::b/*");
        single["Principal"] = json!({"Service": "cloudfront.amazonaws.com"});
        assert_eq!(
            foreign(&single, "site", "b", ARN),
            None,
            "a single value is a one-element list"
        );
        let mut public = ours.clone();
        public["Principal"] = json!("*");
        assert_eq!(foreign(&public, "site", "b", ARN).unwrap(), "Principal \"*\"");
        let mut other = ours.clone();
        other["Condition"]["StringEquals"]["AWS:SourceArn"] = json!("arn:aws:cloudfront::1:distribution/E2");
        assert!(
            foreign(&other, "site", "b", ARN)
                .unwrap()
                .starts_with("Condition ")
        );
        let mut broad = ours.clone();
        broad["Action"] = json!("s3:*");
        assert_eq!(foreign(&broad, "site", "b", ARN).unwrap(), "Action \"s3:*\"");
        let mut extra = ours.clone();
        extra["NotResource"] = json!("arn:aws:s3:::b/private/*");
        assert!(foreign(&extra, "site", "b", ARN).unwrap().contains("NotResource"));
        assert!(foreign(&ours, "site", "b", "arn:aws:cloudfront::1:distribution/E9").is_some());
    }
}
