//! The access-log bucket (`s3-bucket`), in the stack's region: the ALB
//! writes under `alb/`, CloudFront under `cloudfront/`. Ownership controls
//! BucketOwnerPreferred (CloudFront standard logging needs ACLs), SSE-S3,
//! public access blocked, the policy (TLS only, ALB log delivery), tags.
//! `down` keeps it unless `--purge-logs`.

use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier, ObjectOwnership,
    OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Tags, has, owned, user_tags};
use crate::aws::{AwsError, sdk, unless};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Phase, Resource};
use crate::engine::polls::retrying;
use crate::engine::step::{Cx, Step};

pub struct LogBucket;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    pub policy: Value,
    pub object_ownership: String,
    pub encryption: String,
    pub block_public_access: bool,
    pub tags: Tags,
}

fn build(operation: &'static str) -> impl FnOnce(aws_sdk_s3::error::BuildError) -> AwsError {
    move |e| AwsError {
        operation,
        code: None,
        message: e.to_string(),
    }
}

async fn live(s3: &aws_sdk_s3::Client, name: &str) -> Result<Option<Spec>, AwsError> {
    match s3.head_bucket().bucket(name).send().await {
        Ok(_) => {}
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => return Ok(None),
        Err(e) => return Err(AwsError::from_sdk("HeadBucket", e)),
    }
    let tags = unless(
        &["NoSuchTagSet"],
        s3.get_bucket_tagging()
            .bucket(name)
            .send()
            .await
            .map_err(sdk("GetBucketTagging")),
    )?
    .map(|o| {
        user_tags(
            o.tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string())),
        )
    })
    .unwrap_or_default();
    let policy = unless(
        &["NoSuchBucketPolicy"],
        s3.get_bucket_policy()
            .bucket(name)
            .send()
            .await
            .map_err(sdk("GetBucketPolicy")),
    )?
    .and_then(|o| o.policy().and_then(|p| serde_json::from_str(p).ok()))
    .unwrap_or(Value::Null);
    let object_ownership = unless(
        &["OwnershipControlsNotFoundError"],
        s3.get_bucket_ownership_controls()
            .bucket(name)
            .send()
            .await
            .map_err(sdk("GetBucketOwnershipControls")),
    )?
    .and_then(|o| {
        o.ownership_controls()
            .and_then(|c| c.rules().first())
            .map(|r| r.object_ownership().as_str().to_string())
    })
    .unwrap_or_default();
    let encryption = unless(
        &["ServerSideEncryptionConfigurationNotFoundError"],
        s3.get_bucket_encryption()
            .bucket(name)
            .send()
            .await
            .map_err(sdk("GetBucketEncryption")),
    )?
    .and_then(|o| {
        o.server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default())
            .map(|d| d.sse_algorithm().as_str().to_string())
    })
    .unwrap_or_default();
    let block_public_access = unless(
        &["NoSuchPublicAccessBlockConfiguration"],
        s3.get_public_access_block()
            .bucket(name)
            .send()
            .await
            .map_err(sdk("GetPublicAccessBlock")),
    )?
    .and_then(|o| {
        o.public_access_block_configuration().map(|c| {
            c.block_public_acls() == Some(true)
                && c.ignore_public_acls() == Some(true)
                && c.block_public_policy() == Some(true)
                && c.restrict_public_buckets() == Some(true)
        })
    })
    .unwrap_or(false);
    Ok(Some(Spec {
        name: name.to_string(),
        policy,
        object_ownership,
        encryption,
        block_public_access,
        tags,
    }))
}

impl Resource for LogBucket {
    type Spec = Spec;

    const NAME: &'static str = "s3-bucket";

    const REPLACE: &'static [&'static str] = &["name"];

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let Some(name) = at.recorded_or("name") else {
            return Ok(None);
        };
        let Some(mut live) = live(&cx.clients.s3(at.region), &name).await? else {
            return Ok(None);
        };
        // S3 may hand the policy back rewritten: by meaning, that is no drift.
        if let Ok(spec) = at.spec() {
            crate::resources::policy_doc::follow(&mut live.policy, &spec.policy);
        }
        // An untagged bucket under our name is ours when a run died between
        // CreateBucket and PutBucketTagging (the name embeds our account).
        let creating = at.is(Phase::Creating);
        let mine = owned(&live.tags, cx.stack()) || (creating && live.tags.is_empty());
        Ok(Some(Found::new(&name, &live, mine)))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let mut call = cx.clients.s3(at.region).create_bucket().bucket(&spec.name);
        if at.region != "us-east-1" {
            call = call.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(at.region))
                    .build(),
            );
        }
        unless(
            &["BucketAlreadyOwnedByYou"],
            call.send().await.map_err(sdk("CreateBucket")),
        )?;
        let empty = Found::new(&spec.name, Value::Null, true);
        let all: Vec<String> = [
            "tags",
            "object_ownership",
            "block_public_access",
            "encryption",
            "policy",
        ]
        .iter()
        .map(|f| f.to_string())
        .collect();
        self.update(cx, at, &empty, &all).await
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        let s3 = cx.clients.s3(at.region);
        let bucket = &spec.name;
        // Tags first: they are what lets a re-run adopt the bucket.
        if has(fields, "tags") {
            let set = spec
                .tags
                .iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect::<Result<_, _>>()
                .map_err(build("PutBucketTagging"))?;
            s3.put_bucket_tagging()
                .bucket(bucket)
                .tagging(
                    Tagging::builder()
                        .set_tag_set(Some(set))
                        .build()
                        .map_err(build("PutBucketTagging"))?,
                )
                .send()
                .await
                .map_err(sdk("PutBucketTagging"))?;
        }
        if has(fields, "object_ownership") {
            let rule = OwnershipControlsRule::builder()
                .object_ownership(ObjectOwnership::from(spec.object_ownership.as_str()))
                .build()
                .map_err(build("PutBucketOwnershipControls"))?;
            s3.put_bucket_ownership_controls()
                .bucket(bucket)
                .ownership_controls(
                    OwnershipControls::builder()
                        .rules(rule)
                        .build()
                        .map_err(build("PutBucketOwnershipControls"))?,
                )
                .send()
                .await
                .map_err(sdk("PutBucketOwnershipControls"))?;
        }
        if has(fields, "block_public_access") {
            let on = spec.block_public_access;
            s3.put_public_access_block()
                .bucket(bucket)
                .public_access_block_configuration(
                    PublicAccessBlockConfiguration::builder()
                        .block_public_acls(on)
                        .ignore_public_acls(on)
                        .block_public_policy(on)
                        .restrict_public_buckets(on)
                        .build(),
                )
                .send()
                .await
                .map_err(sdk("PutPublicAccessBlock"))?;
        }
        if has(fields, "encryption") {
            let default = ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::from(spec.encryption.as_str()))
                .build()
                .map_err(build("PutBucketEncryption"))?;
            s3.put_bucket_encryption()
                .bucket(bucket)
                .server_side_encryption_configuration(
                    ServerSideEncryptionConfiguration::builder()
                        .rules(
                            ServerSideEncryptionRule::builder()
                                .apply_server_side_encryption_by_default(default)
                                .build(),
                        )
                        .build()
                        .map_err(build("PutBucketEncryption"))?,
                )
                .send()
                .await
                .map_err(sdk("PutBucketEncryption"))?;
        }
        if has(fields, "policy") {
            s3.put_bucket_policy()
                .bucket(bucket)
                .policy(spec.policy.to_string())
                .send()
                .await
                .map_err(sdk("PutBucketPolicy"))?;
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
        // Logs delivered late land after a listing: empty, then delete, again.
        retrying(&["BucketNotEmpty"], 5, async || {
            loop {
                let out = s3
                    .list_objects_v2()
                    .bucket(bucket)
                    .send()
                    .await
                    .map_err(sdk("ListObjectsV2"))?;
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
                s3.delete_objects()
                    .bucket(bucket)
                    .delete(
                        Delete::builder()
                            .set_objects(Some(keys))
                            .quiet(true)
                            .build()
                            .map_err(build("DeleteObjects"))?,
                    )
                    .send()
                    .await
                    .map_err(sdk("DeleteObjects"))?;
            }
            unless(
                &["NoSuchBucket"],
                s3.delete_bucket()
                    .bucket(bucket)
                    .send()
                    .await
                    .map_err(sdk("DeleteBucket")),
            )
            .map(|_| ())
        })
        .await?;
        Ok(Gone::Deleted)
    }
}
