//! The Lambda@Edge authorizer function in us-east-1, and the numbered
//! version CloudFront references. A new version is published only when the
//! package or the function's settings changed, so an unchanged `up` makes
//! no write call and the distribution keeps pointing at the same version.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime};
use base64::Engine;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Change, tags_for};
use crate::aws::AwsError;
use crate::engine::wait::{Backoff, Jitter, retry_when};
use crate::names::StackNames;
use crate::profile::Profile;

pub const LOGICAL_ID: &str = "edge_function";

/// Lambda@Edge limits for viewer-request functions.
pub const MEMORY_MB: i32 = 128;
pub const TIMEOUT_S: i32 = 5;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdgeFunctionSpec {
    pub name: String,
    pub role_arn: String,
    pub handler: String,
    pub memory_mb: i32,
    pub timeout_s: i32,
    pub description: String,
    /// base64 SHA-256 of the zip, as Lambda reports `CodeSha256`.
    pub code_sha256: String,
    pub tags: std::collections::BTreeMap<String, String>,
}

impl EdgeFunctionSpec {
    pub fn new(profile: &Profile, role_arn: &str, package: &[u8]) -> Self {
        let stack = &profile.stack.name;
        EdgeFunctionSpec {
            name: StackNames { stack }.edge_function(),
            role_arn: role_arn.to_string(),
            handler: "index.handler".into(),
            memory_mb: MEMORY_MB,
            timeout_s: TIMEOUT_S,
            description: format!("ahi-edge stack {stack}: viewer-request JWT authorizer"),
            code_sha256: base64::engine::general_purpose::STANDARD.encode(Sha256::digest(package)),
            tags: tags_for(stack, LOGICAL_ID, &profile.stack.tags),
        }
    }
}

/// The current Node.js runtime Lambda@Edge supports.
fn runtime() -> Runtime {
    Runtime::Nodejs22x
}

/// Lambda says this while a just-created IAM role has not reached it yet.
fn role_not_ready(e: &AwsError) -> bool {
    e.is("InvalidParameterValueException") && e.message.contains("cannot be assumed by Lambda")
}

fn backoff() -> Backoff {
    Backoff {
        initial: Duration::from_secs(2),
        max: Duration::from_secs(10),
        factor: 2.0,
        jitter: 0.2,
    }
}

/// The function's `$LATEST` settings as they are now, or `None`.
pub async fn latest(client: &Client, name: &str) -> Result<Option<(EdgeFunctionSpec, String)>, AwsError> {
    match client.get_function().function_name(name).send().await {
        Ok(out) => {
            let Some(c) = out.configuration() else {
                return Ok(None);
            };
            let live = EdgeFunctionSpec {
                name: name.to_string(),
                role_arn: c.role().unwrap_or_default().to_string(),
                handler: c.handler().unwrap_or_default().to_string(),
                memory_mb: c.memory_size().unwrap_or_default(),
                timeout_s: c.timeout().unwrap_or_default(),
                description: c.description().unwrap_or_default().to_string(),
                code_sha256: c.code_sha256().unwrap_or_default().to_string(),
                tags: out
                    .tags()
                    .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
            };
            let arn = c.function_arn().unwrap_or_default().to_string();
            Ok(Some((live, arn)))
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(AwsError::from_sdk("GetFunction", e)),
    }
}

/// The newest published version whose code is `sha` (a run killed between
/// the update and the publish finds none and publishes).
async fn published_with(client: &Client, name: &str, sha: &str) -> Result<Option<String>, AwsError> {
    let mut best: Option<(u64, String)> = None;
    let mut marker = None;
    loop {
        let page = client
            .list_versions_by_function()
            .function_name(name)
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ListVersionsByFunction", e))?;
        for v in page.versions() {
            let number = v.version().and_then(|n| n.parse::<u64>().ok());
            if let (Some(n), Some(arn)) = (number, v.function_arn())
                && v.code_sha256() == Some(sha)
                && best.as_ref().is_none_or(|(b, _)| n > *b)
            {
                best = Some((n, arn.to_string()));
            }
        }
        marker = page.next_marker().map(str::to_string);
        if marker.is_none() {
            return Ok(best.map(|(_, arn)| arn));
        }
    }
}

/// Creates or updates the function and returns the qualified ARN of the
/// version that matches `spec` (publishing one only when needed).
pub async fn ensure(
    client: &Client,
    spec: &EdgeFunctionSpec,
    package: &[u8],
) -> Result<(String, Change), AwsError> {
    let mut jitter = Jitter::from_entropy();
    let Some((live, _)) = latest(client, &spec.name).await? else {
        let tags: HashMap<String, String> = spec.tags.clone().into_iter().collect();
        let created = retry_when(8, &backoff(), &mut jitter, role_not_ready, || async {
            client
                .create_function()
                .function_name(&spec.name)
                .runtime(runtime())
                .role(&spec.role_arn)
                .handler(&spec.handler)
                .memory_size(spec.memory_mb)
                .timeout(spec.timeout_s)
                .description(&spec.description)
                .code(
                    FunctionCode::builder()
                        .zip_file(Blob::new(package.to_vec()))
                        .build(),
                )
                .set_tags(Some(tags.clone()))
                .publish(true)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("CreateFunction", e))
        })
        .await?;
        let version = created.version().unwrap_or("1");
        let arn = created.function_arn().unwrap_or_default();
        // CreateFunction answers with the unqualified ARN of $LATEST.
        let qualified = if arn.ends_with(&format!(":{version}")) {
            arn.to_string()
        } else {
            format!("{arn}:{version}")
        };
        return Ok((qualified, Change::Created));
    };
    let settings_differ = (
        &live.role_arn,
        &live.handler,
        live.memory_mb,
        live.timeout_s,
        &live.description,
    ) != (
        &spec.role_arn,
        &spec.handler,
        spec.memory_mb,
        spec.timeout_s,
        &spec.description,
    );
    let code_differs = live.code_sha256 != spec.code_sha256;
    if code_differs {
        client
            .update_function_code()
            .function_name(&spec.name)
            .zip_file(Blob::new(package.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("UpdateFunctionCode", e))?;
    }
    if settings_differ {
        client
            .update_function_configuration()
            .function_name(&spec.name)
            .role(&spec.role_arn)
            .handler(&spec.handler)
            .memory_size(spec.memory_mb)
            .timeout(spec.timeout_s)
            .description(&spec.description)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("UpdateFunctionConfiguration", e))?;
    }
    if !code_differs
        && !settings_differ
        && let Some(arn) = published_with(client, &spec.name, &spec.code_sha256).await?
    {
        return Ok((arn, Change::Unchanged));
    }
    let published = client
        .publish_version()
        .function_name(&spec.name)
        .code_sha256(&spec.code_sha256)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("PublishVersion", e))?;
    Ok((
        published.function_arn().unwrap_or_default().to_string(),
        Change::Updated,
    ))
}

/// Lambda refuses to delete a function CloudFront still has replicas of
/// (there is no distinct error code, so the message is matched).
pub fn is_replicated(e: &AwsError) -> bool {
    e.is("InvalidParameterValueException") && e.message.contains("because it is a replicated function")
}

/// Deletes the function (every version); gone counts as done. A replicated
/// function comes back as an error `is_replicated` recognises.
pub async fn delete(client: &Client, name: &str) -> Result<(), AwsError> {
    match client.delete_function().function_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(AwsError::from_sdk("DeleteFunction", e)),
    }
}

/// How many replicas of `name`'s versions Lambda lists in the region of
/// `client` (`ListFunctions` with `MasterRegion=us-east-1`,
/// `FunctionVersion=ALL`, pages of 50).
pub async fn replicas_in(client: &Client, name: &str) -> Result<usize, AwsError> {
    let suffix = format!(":function:{name}");
    let mut count = 0;
    let mut marker: Option<String> = None;
    loop {
        let page = client
            .list_functions()
            .master_region(crate::aws::EDGE_REGION)
            .function_version(aws_sdk_lambda::types::FunctionVersion::All)
            .max_items(50)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ListFunctions", e))?;
        count += page
            .functions()
            .iter()
            .filter(|f| {
                f.master_arn()
                    .is_some_and(|m| m.ends_with(&suffix) || m.contains(&format!("{suffix}:")))
            })
            .count();
        marker = page.next_marker().map(str::to_string);
        if marker.is_none() {
            return Ok(count);
        }
    }
}
