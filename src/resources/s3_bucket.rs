//! S3 buckets: where a bucket no kind owns is (an origin's bucket), and the
//! settings, create and purge of the buckets the stack owns (the access-log
//! bucket, a route's bucket with `create = true`), shared by their kinds.

use aws_sdk_s3::Client;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier, ObjectOwnership,
    OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
};
use serde::{Deserialize, Serialize};

use super::{Tags, user_tags};
use crate::aws::{AwsError, sdk, unless};

/// Where S3 says `bucket` is, asked in `region`; `None` when it does not
/// exist (404). A refusal without the region header is AWS's own error.
pub async fn region_of(s3: &Client, region: &str, bucket: &str) -> Result<Option<String>, AwsError> {
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(out) => Ok(Some(out.bucket_region().unwrap_or(region).to_string())),
        Err(e) => {
            let named = match &e {
                SdkError::ServiceError(s) => s.raw().headers().get("x-amz-bucket-region").map(str::to_string),
                _ => None,
            };
            let status = match &e {
                SdkError::ServiceError(s) => Some(s.raw().status().as_u16()),
                _ => None,
            };
            match (named, status) {
                (Some(found), _) => Ok(Some(found)),
                (None, Some(404)) => Ok(None),
                _ => Err(AwsError::from_sdk("HeadBucket", e)),
            }
        }
    }
}

/// The settings ahi-edge keeps on a bucket it creates and owns (the access
/// log bucket, a route's bucket made with `create = true`), in the spec's
/// shape: a kind's spec flattens it beside its own fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub object_ownership: String,
    pub encryption: String,
    pub block_public_access: bool,
    pub tags: Tags,
}

/// Every settings field, for a create (all of them are written).
pub const SETTINGS_FIELDS: [&str; 4] = ["tags", "object_ownership", "block_public_access", "encryption"];

fn build(operation: &'static str) -> impl FnOnce(aws_sdk_s3::error::BuildError) -> AwsError {
    move |e| AwsError {
        operation,
        code: None,
        message: e.to_string(),
    }
}

/// Whether `bucket` exists and this account may read it (HeadBucket).
pub async fn exists(s3: &Client, bucket: &str) -> Result<bool, AwsError> {
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(true),
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(false),
        Err(e) => Err(AwsError::from_sdk("HeadBucket", e)),
    }
}

/// The bucket's tags (none set reads as none).
pub async fn tags(s3: &Client, bucket: &str) -> Result<Tags, AwsError> {
    let sent = s3.get_bucket_tagging().bucket(bucket).send().await;
    let tags = unless(&["NoSuchTagSet"], sent.map_err(sdk("GetBucketTagging")))?;
    let pairs = tags
        .iter()
        .flat_map(|o| o.tag_set())
        .map(|t| (t.key().to_string(), t.value().to_string()));
    Ok(user_tags(pairs))
}

/// The bucket's settings as S3 reports them; a setting S3 says is not
/// configured reads as off (empty), so the spec shows it as drift.
pub async fn settings(s3: &Client, bucket: &str) -> Result<Settings, AwsError> {
    let tags = tags(s3, bucket).await?;
    let sent = s3.get_bucket_ownership_controls().bucket(bucket).send().await;
    let ownership = unless(
        &["OwnershipControlsNotFoundError"],
        sent.map_err(sdk("GetBucketOwnershipControls")),
    )?;
    let rule = ownership
        .as_ref()
        .and_then(|o| o.ownership_controls()?.rules().first());
    let sent = s3.get_bucket_encryption().bucket(bucket).send().await;
    let encryption = unless(
        &["ServerSideEncryptionConfigurationNotFoundError"],
        sent.map_err(sdk("GetBucketEncryption")),
    )?;
    let default = encryption.as_ref().and_then(|o| {
        o.server_side_encryption_configuration()?
            .rules()
            .first()?
            .apply_server_side_encryption_by_default()
    });
    let sent = s3.get_public_access_block().bucket(bucket).send().await;
    let block = unless(
        &["NoSuchPublicAccessBlockConfiguration"],
        sent.map_err(sdk("GetPublicAccessBlock")),
    )?;
    let blocked = block
        .as_ref()
        .and_then(|o| o.public_access_block_configuration())
        .is_some_and(|c| {
            c.block_public_acls() == Some(true)
                && c.ignore_public_acls() == Some(true)
                && c.block_public_policy() == Some(true)
                && c.restrict_public_buckets() == Some(true)
        });
    Ok(Settings {
        object_ownership: rule
            .map(|r| r.object_ownership().as_str().to_string())
            .unwrap_or_default(),
        encryption: default
            .map(|d| d.sse_algorithm().as_str().to_string())
            .unwrap_or_default(),
        block_public_access: blocked,
        tags,
    })
}

/// Creates `bucket` in `region` (S3 wants the region named, except in
/// us-east-1); a bucket this account already owns under the name is fine.
pub async fn create(s3: &Client, region: &str, bucket: &str) -> Result<(), AwsError> {
    let mut call = s3.create_bucket().bucket(bucket);
    if region != "us-east-1" {
        let constraint = BucketLocationConstraint::from(region);
        call = call.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(constraint)
                .build(),
        );
    }
    unless(
        &["BucketAlreadyOwnedByYou"],
        call.send().await.map_err(sdk("CreateBucket")),
    )?;
    Ok(())
}

/// Writes the settings named in `fields` (tags first: they are what lets a
/// re-run adopt the bucket).
pub async fn apply(s3: &Client, bucket: &str, want: &Settings, fields: &[String]) -> Result<(), AwsError> {
    let has = |name: &str| fields.iter().any(|f| f == name);
    if has("tags") {
        let set: Vec<Tag> = want
            .tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<_, _>>()
            .map_err(build("PutBucketTagging"))?;
        let tagging = Tagging::builder()
            .set_tag_set(Some(set))
            .build()
            .map_err(build("PutBucketTagging"))?;
        let sent = s3
            .put_bucket_tagging()
            .bucket(bucket)
            .tagging(tagging)
            .send()
            .await;
        sent.map_err(sdk("PutBucketTagging"))?;
    }
    if has("object_ownership") {
        let ownership = ObjectOwnership::from(want.object_ownership.as_str());
        let rule = OwnershipControlsRule::builder()
            .object_ownership(ownership)
            .build();
        let controls = OwnershipControls::builder()
            .rules(rule.map_err(build("PutBucketOwnershipControls"))?)
            .build()
            .map_err(build("PutBucketOwnershipControls"))?;
        let sent = s3
            .put_bucket_ownership_controls()
            .bucket(bucket)
            .ownership_controls(controls)
            .send()
            .await;
        sent.map_err(sdk("PutBucketOwnershipControls"))?;
    }
    if has("block_public_access") {
        let on = want.block_public_access;
        let block = PublicAccessBlockConfiguration::builder()
            .block_public_acls(on)
            .ignore_public_acls(on)
            .block_public_policy(on)
            .restrict_public_buckets(on)
            .build();
        let sent = s3
            .put_public_access_block()
            .bucket(bucket)
            .public_access_block_configuration(block)
            .send()
            .await;
        sent.map_err(sdk("PutPublicAccessBlock"))?;
    }
    if has("encryption") {
        let algorithm = ServerSideEncryption::from(want.encryption.as_str());
        let default = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(algorithm)
            .build();
        let rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(default.map_err(build("PutBucketEncryption"))?)
            .build();
        let config = ServerSideEncryptionConfiguration::builder().rules(rule).build();
        let call = s3.put_bucket_encryption().bucket(bucket);
        let sent = call
            .server_side_encryption_configuration(config.map_err(build("PutBucketEncryption"))?)
            .send()
            .await;
        sent.map_err(sdk("PutBucketEncryption"))?;
    }
    Ok(())
}

/// Deletes every object version and delete marker in `bucket`, then the
/// bucket (already gone counts as done). An object written meanwhile (a log
/// delivered late) makes S3 answer `BucketNotEmpty`: the caller purges again.
pub async fn purge(s3: &Client, bucket: &str) -> Result<(), AwsError> {
    loop {
        let sent = s3.list_object_versions().bucket(bucket).send().await;
        let Some(out) = unless(&["NoSuchBucket"], sent.map_err(sdk("ListObjectVersions")))? else {
            return Ok(());
        };
        let versions = out.versions().iter().map(|v| (v.key(), v.version_id()));
        let markers = out.delete_markers().iter().map(|m| (m.key(), m.version_id()));
        let objects: Vec<ObjectIdentifier> = versions
            .chain(markers)
            .filter_map(|(key, version)| {
                let id = ObjectIdentifier::builder().set_key(key.map(str::to_string));
                id.set_version_id(version.map(str::to_string)).build().ok()
            })
            .collect();
        if objects.is_empty() {
            break;
        }
        let delete = Delete::builder().set_objects(Some(objects)).quiet(true).build();
        let sent = s3
            .delete_objects()
            .bucket(bucket)
            .delete(delete.map_err(build("DeleteObjects"))?)
            .send()
            .await;
        sent.map_err(sdk("DeleteObjects"))?;
    }
    let sent = s3.delete_bucket().bucket(bucket).send().await;
    unless(&["NoSuchBucket"], sent.map_err(sdk("DeleteBucket"))).map(drop)
}
