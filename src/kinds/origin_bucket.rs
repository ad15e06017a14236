//! A route's bucket the stack creates and owns (`s3-origin-bucket`): an
//! `s3` origin with `create = true`. Private: ACLs disabled (ownership
//! BucketOwnerEnforced), SSE-S3, public access blocked, tagged as the
//! stack's. Its policy is the bucket grant's (`bucket_grant.rs`), not this
//! kind's. `down` keeps it, content and all, unless `--purge-buckets`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::owned;
use crate::engine::kind::{At, Found, Gone, Options, Phase, Resource};
use crate::engine::polls::retrying;
use crate::engine::step::{Cx, Step};
use crate::resources::s3_bucket::{self, SETTINGS_FIELDS, Settings};

pub struct OriginBucket;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    #[serde(flatten)]
    pub settings: Settings,
}

impl Spec {
    /// The settings every stack-owned origin bucket has.
    pub fn private(name: &str, tags: crate::resources::Tags) -> Spec {
        Spec {
            name: name.to_string(),
            settings: Settings {
                object_ownership: "BucketOwnerEnforced".into(),
                encryption: "AES256".into(),
                block_public_access: true,
                tags,
            },
        }
    }
}

/// A bucket the stack owns, by its recorded name or the spec's: its name,
/// settings, and whether it is ours. Only our tag proves that (bucket
/// names are global), or, untagged, our own create not yet confirmed (a
/// run that died between CreateBucket and PutBucketTagging).
pub(super) async fn find_owned<S>(cx: &Cx, at: &At<'_, S>) -> Step<Option<(String, Settings, bool)>> {
    let Some(name) = at.recorded_or("name") else {
        return Ok(None);
    };
    let s3 = cx.clients.s3(at.region);
    if !s3_bucket::exists(&s3, &name).await? {
        return Ok(None);
    }
    let settings = s3_bucket::settings(&s3, &name).await?;
    let tags = &settings.tags;
    let mine = owned(tags, cx.stack()) || (at.is(Phase::Creating) && tags.is_empty());
    Ok(Some((name, settings, mine)))
}

impl Resource for OriginBucket {
    type Spec = Spec;

    const NAME: &'static str = "s3-origin-bucket";

    const REPLACE: &'static [&'static str] = &["name"];

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let Some((name, settings, mine)) = find_owned(cx, at).await? else {
            return Ok(None);
        };
        Ok(Some(Found::new(
            &name,
            Spec {
                name: name.clone(),
                settings,
            },
            mine,
        )))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        s3_bucket::create(&cx.clients.s3(at.region), at.region, &spec.name).await?;
        let empty = Found::new(&spec.name, Value::Null, true);
        let all: Vec<String> = SETTINGS_FIELDS.iter().map(|f| f.to_string()).collect();
        self.update(cx, at, &empty, &all).await
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        s3_bucket::apply(&cx.clients.s3(at.region), &spec.name, &spec.settings, fields).await?;
        Ok(Found::new(&live.physical_id, spec, true))
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, opts: &Options) -> Step<Gone> {
        let bucket = &live.physical_id;
        if !opts.purge_buckets {
            return Ok(Gone::Kept(format!(
                "s3://{bucket} stays with its content (--purge-buckets empties and deletes it)"
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
