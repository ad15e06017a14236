//! The S3 calls of the state store, made synchronously.
//!
//! The engine records a state change from inside its async walks through a
//! plain `fn` (the local lockfile is written the same way, fsync and all),
//! so the walks, and the invariant that an intent is saved before its
//! create call, stay exactly as they are. The S3 store therefore owns a
//! small runtime of its own and drives each call on a scoped thread (a
//! runtime cannot be entered from inside another one's task).

use std::future::Future;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;

use super::location::S3Location;
use crate::aws::{AwsError, AwsSettings, sdk, unless};
use crate::call_log::CallLog;
use crate::error::Error;

/// An object as read: its text and what a conditional write names.
#[derive(Debug, Clone)]
pub struct Object {
    pub body: String,
    pub etag: String,
    /// The KMS key it is encrypted with (SSE-KMS), if any.
    pub kms_key_id: Option<String>,
}

/// The precondition of a write.
#[derive(Debug, Clone, Copy)]
pub enum Condition<'a> {
    /// Create only: `If-None-Match: *`.
    Absent,
    /// Replace only this content: `If-Match: <etag>`.
    Matches(&'a str),
}

pub struct Remote {
    /// `Some` until dropped (see `Drop`).
    runtime: Option<tokio::runtime::Runtime>,
    client: aws_sdk_s3::Client,
    pub at: S3Location,
}

impl Remote {
    pub fn connect(at: S3Location, aws: &AwsSettings) -> Result<Remote, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("starting the state store's runtime", e))?;
        let path_style = aws.endpoint_url.is_some();
        let config = on_own_thread(&runtime, crate::aws::sdk_config(aws, &at.region));
        let client = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(path_style)
                .interceptor(CallLog)
                .build(),
        );
        Ok(Remote {
            runtime: Some(runtime),
            client,
            at,
        })
    }

    fn block<F>(&self, work: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        match &self.runtime {
            Some(runtime) => on_own_thread(runtime, work),
            None => unreachable!("the runtime lives until the store is dropped"),
        }
    }

    /// The object at `key`, or `None` when there is none.
    pub fn get(&self, key: &str) -> Result<Option<Object>, AwsError> {
        let (client, bucket) = (&self.client, &self.at.bucket);
        self.block(async move {
            let Some(out) = unless(
                &["NoSuchKey"],
                client
                    .get_object()
                    .bucket(bucket)
                    .key(key)
                    .send()
                    .await
                    .map_err(sdk("GetObject")),
            )?
            else {
                return Ok(None);
            };
            let etag = out
                .e_tag()
                .map(str::to_string)
                .ok_or_else(|| AwsError::missing("GetObject", "ETag"))?;
            let kms_key_id = match out.server_side_encryption() {
                Some(ServerSideEncryption::AwsKms | ServerSideEncryption::AwsKmsDsse) => {
                    out.ssekms_key_id().map(str::to_string)
                }
                _ => None,
            };
            let bytes = out.body.collect().await.map_err(|e| AwsError {
                operation: "GetObject",
                code: None,
                message: format!("reading the object: {e}"),
            })?;
            let body = String::from_utf8(bytes.into_bytes().to_vec()).map_err(|_| AwsError {
                operation: "GetObject",
                code: None,
                message: format!("s3://{bucket}/{key} is not UTF-8 text"),
            })?;
            Ok(Some(Object {
                body,
                etag,
                kms_key_id,
            }))
        })
    }

    /// Writes `body` at `key` under `condition`, encrypted at rest (SSE-KMS
    /// with `kms_key_id`, else SSE-S3). Returns the new ETag.
    pub fn put(
        &self,
        key: &str,
        body: &str,
        content_type: &str,
        condition: Condition<'_>,
        kms_key_id: Option<&str>,
    ) -> Result<String, AwsError> {
        let mut put = self
            .client
            .put_object()
            .bucket(&self.at.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body.as_bytes().to_vec()));
        put = match condition {
            Condition::Absent => put.if_none_match("*"),
            Condition::Matches(etag) => put.if_match(etag),
        };
        put = match kms_key_id {
            Some(id) => put
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(id),
            None => put.server_side_encryption(ServerSideEncryption::Aes256),
        };
        self.block(async move {
            let out = put.send().await.map_err(sdk("PutObject"))?;
            out.e_tag()
                .map(str::to_string)
                .ok_or_else(|| AwsError::missing("PutObject", "ETag"))
        })
    }

    /// Deletes `key` only while its content is still `etag`'s.
    pub fn delete(&self, key: &str, etag: &str) -> Result<(), AwsError> {
        let delete = self
            .client
            .delete_object()
            .bucket(&self.at.bucket)
            .key(key)
            .if_match(etag);
        self.block(async move {
            delete.send().await.map_err(sdk("DeleteObject"))?;
            Ok(())
        })
    }

    /// What makes the state bucket unsafe for a stack's state, as warnings:
    /// no versioning (an overwritten or deleted state cannot be recovered),
    /// public access not blocked on the bucket.
    pub fn safety(&self) -> Result<Vec<String>, AwsError> {
        let (client, bucket) = (&self.client, &self.at.bucket);
        self.block(async move {
            let mut warnings = Vec::new();
            let versioning = client
                .get_bucket_versioning()
                .bucket(bucket)
                .send()
                .await
                .map_err(sdk("GetBucketVersioning"))?;
            if versioning.status().map(|s| s.as_str()) != Some("Enabled") {
                warnings.push(format!(
                    "the state bucket {bucket} has no versioning: an overwritten or deleted state object cannot be recovered; fix: aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled"
                ));
            }
            let blocked = unless(
                &["NoSuchPublicAccessBlockConfiguration"],
                client
                    .get_public_access_block()
                    .bucket(bucket)
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
            if !blocked {
                warnings.push(format!(
                    "the state bucket {bucket} does not block public access (all four Block Public Access settings): a policy or ACL could expose the stack's state; fix: aws s3api put-public-access-block --bucket {bucket} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"
                ));
            }
            Ok(warnings)
        })
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        // The store may be dropped inside the command's own runtime, where a
        // runtime cannot be dropped the blocking way. Nothing is pending:
        // every call was driven to completion.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Runs `work` to completion on `runtime`, from a thread of its own.
fn on_own_thread<F>(runtime: &tokio::runtime::Runtime, work: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| runtime.block_on(work))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// An S3 failure as the user can act on it: a missing bucket or one in
/// another region is bad input naming `[state]`; the rest is AWS's own word.
pub fn explain(at: &S3Location, e: AwsError) -> Error {
    let refused = |reason: String, fix: &str| Error::Refused {
        path: at.url().into(),
        reason,
        fix: fix.to_string(),
    };
    if e.is("NoSuchBucket") {
        refused(
            format!("the state bucket {} does not exist ({e})", at.bucket),
            "create it once, with versioning and Block Public Access (docs/profile.md, [state]), or correct [state] bucket",
        )
    } else if e.is_any(&[
        "PermanentRedirect",
        "AuthorizationHeaderMalformed",
        "IllegalLocationConstraintException",
    ]) {
        refused(
            format!("the state bucket {} is not in {} ({e})", at.bucket, at.region),
            "set [state] region (or --state-region) to the bucket's region",
        )
    } else {
        Error::Aws(e)
    }
}

/// Whether an S3 answer means another writer got there first: the
/// precondition no longer holds (412), the object is gone (404 on
/// `If-Match`), or a delete landed while the write was in flight (409).
pub fn lost_race(e: &AwsError) -> bool {
    e.is_any(&["PreconditionFailed", "NoSuchKey", "ConditionalRequestConflict"])
}
