//! The access-log bucket (`s3-bucket`), in the stack's region: the ALB
//! writes under `alb/`, CloudFront under `cloudfront/`. Ownership controls
//! BucketOwnerPreferred (CloudFront standard logging needs ACLs), SSE-S3,
//! public access blocked, the policy (TLS only, ALB log delivery), tags.
//! `down` keeps it unless `--purge-logs`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::has;
use super::origin_bucket::find_owned;
use crate::aws::{AwsError, sdk, unless};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Resource};
use crate::engine::polls::retrying;
use crate::engine::step::{Cx, Step};
use crate::resources::s3_bucket::{self, SETTINGS_FIELDS, Settings};

pub struct LogBucket;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    pub policy: Value,
    #[serde(flatten)]
    pub settings: Settings,
}

async fn policy(s3: &aws_sdk_s3::Client, name: &str) -> Result<Value, AwsError> {
    let sent = s3.get_bucket_policy().bucket(name).send().await;
    let out = unless(&["NoSuchBucketPolicy"], sent.map_err(sdk("GetBucketPolicy")))?;
    Ok(out
        .and_then(|o| o.policy().and_then(|p| serde_json::from_str(p).ok()))
        .unwrap_or(Value::Null))
}

impl Resource for LogBucket {
    type Spec = Spec;

    const NAME: &'static str = "s3-bucket";

    const REPLACE: &'static [&'static str] = &["name"];

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let Some((name, settings, mine)) = find_owned(cx, at).await? else {
            return Ok(None);
        };
        let mut live = Spec {
            policy: policy(&cx.clients.s3(at.region), &name).await?,
            name,
            settings,
        };
        // S3 may hand the policy back rewritten: by meaning, that is no drift.
        if let Ok(spec) = at.spec() {
            crate::resources::policy_doc::follow(&mut live.policy, &spec.policy);
        }
        Ok(Some(Found::new(&live.name, &live, mine)))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        s3_bucket::create(&cx.clients.s3(at.region), at.region, &spec.name).await?;
        let empty = Found::new(&spec.name, Value::Null, true);
        let all: Vec<String> = SETTINGS_FIELDS
            .iter()
            .chain(&["policy"])
            .map(|f| f.to_string())
            .collect();
        self.update(cx, at, &empty, &all).await
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        let s3 = cx.clients.s3(at.region);
        s3_bucket::apply(&s3, &spec.name, &spec.settings, fields).await?;
        if has(fields, "policy") {
            let sent = s3
                .put_bucket_policy()
                .bucket(&spec.name)
                .policy(spec.policy.to_string())
                .send()
                .await;
            sent.map_err(sdk("PutBucketPolicy"))?;
        }
        Ok(Found::new(&live.physical_id, spec, true))
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, opts: &Options) -> Step<Gone> {
        let bucket = &live.physical_id;
        if !opts.purge_logs {
            return Ok(Gone::Kept(format!(
                "access logs stay in s3://{bucket} (--purge-logs deletes them)"
            )));
        }
        let s3 = cx.clients.s3(at.region);
        retrying(&["BucketNotEmpty"], 5, async || {
            s3_bucket::purge(&s3, bucket).await
        })
        .await?;
        Ok(Gone::Deleted)
    }
}
