//! The Lambda@Edge authorizer (`lambda-edge-function`) in us-east-1, and
//! the numbered version CloudFront references (output `version_arn`). A new
//! version is published only when code or settings changed, or none with
//! this code exists (a run killed between update and publish).
//!
//! Its delete is the one AWS makes us wait for: while CloudFront holds
//! replicas, Lambda refuses it. Then the entry becomes `awaiting-replicas`
//! and, with `--wait-replicas`, the replica regions the spec names are
//! polled until none lists a replica, and the delete tried again.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod replicas;

use replicas::regions;
pub use replicas::{delete_function, is_replicated, purge_replica_logs, replicas};

use super::{Tags, has, owned, user_tags};
use crate::aws::{AwsError, sdk, unless};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Output, Resource, Typical};
use crate::engine::polls::wait_until;
use crate::engine::step::{Cx, Step, StepError};
use crate::engine::wait::{Backoff, Check, CheckError, Jitter, retry_when};
use crate::resources::sync_tags;

/// Lambda@Edge limits for viewer-request functions.
pub const MEMORY_MB: i32 = 128;
pub const TIMEOUT_S: i32 = 5;

pub struct EdgeFunction;

/// The published version CloudFront associates.
pub const VERSION_ARN: Output = Output("version_arn");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    pub role_arn: String,
    pub runtime: String,
    pub handler: String,
    pub memory_mb: i32,
    pub timeout_s: i32,
    pub description: String,
    /// base64 SHA-256 of the zip, as Lambda reports `CodeSha256`.
    pub code_sha256: String,
    /// A numbered version with this code exists (CloudFront needs one).
    pub published: bool,
    pub tags: Tags,
    /// Where to look for CloudFront's replicas (not sent: AWS lists none).
    pub replica_regions: Vec<String>,
}

impl Spec {
    pub fn code_sha256(package: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(package))
    }
}

const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

/// Lambda says this while a just-created IAM role has not reached it yet.
fn role_not_ready(e: &AwsError) -> bool {
    e.is("InvalidParameterValueException") && e.message.contains("cannot be assumed by Lambda")
}

/// The newest published version whose code is `sha`.
async fn published_with(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    sha: &str,
) -> Result<Option<String>, AwsError> {
    let mut best: Option<(u64, String)> = None;
    let mut marker = None;
    loop {
        let page = lambda
            .list_versions_by_function()
            .function_name(name)
            .set_marker(marker)
            .send()
            .await
            .map_err(sdk("ListVersionsByFunction"))?;
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

/// Waits until the function (a name: `$LATEST`; a qualified ARN: that
/// version) is Active and no update is in progress. Lambda refuses updates
/// and publishing meanwhile (ResourceConflictException), and CloudFront
/// refuses a Pending version; a new function or version is Pending for
/// seconds, an update InProgress likewise.
async fn settled(cx: &Cx, at: &At<'_, Spec>, lambda: &aws_sdk_lambda::Client, function: &str) -> Step<()> {
    use aws_sdk_lambda::types::{LastUpdateStatus, State};
    wait_until(
        cx,
        at.id,
        &format!("Lambda function {function} to be Active"),
        10,
        5,
        async || {
            let c = lambda
                .get_function_configuration()
                .function_name(function)
                .send()
                .await
                .map_err(sdk("GetFunctionConfiguration"))?;
            let reason = c
                .state_reason()
                .or(c.last_update_status_reason())
                .unwrap_or_default();
            match (c.state(), c.last_update_status()) {
                (Some(State::Failed), _) | (_, Some(LastUpdateStatus::Failed)) => Err(CheckError::Fatal(
                    format!("Lambda says the function failed: {reason}"),
                )),
                (Some(State::Active), None | Some(LastUpdateStatus::Successful)) => Ok(Check::Done(())),
                (state, update) => Ok(Check::Pending(format!(
                    "state {}, last update {}",
                    state.map_or("unknown", |s| s.as_str()),
                    update.map_or("none", |u| u.as_str())
                ))),
            }
        },
    )
    .await
}

fn package<'a>(cx: &'a Cx, spec: &Spec) -> Step<&'a [u8]> {
    let zip = cx
        .package
        .as_deref()
        .ok_or_else(|| StepError::Missing("the authorizer package was not built".into()))?;
    if Spec::code_sha256(zip) != spec.code_sha256 {
        return Err(StepError::Refused(
            "the authorizer package differs from the spec's code_sha256".into(),
        ));
    }
    Ok(zip)
}

impl Resource for EdgeFunction {
    type Spec = Spec;

    const NAME: &'static str = "lambda-edge-function";

    const TYPICAL: Typical = Typical {
        create: 25,
        update: 12,
        delete: 5,
        ready: 0,
    };

    const REPLACE: &'static [&'static str] = &["name"];

    const UPDATE_CHANGES_OUTPUTS: bool = true;

    async fn remains(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<BTreeMap<String, usize>>> {
        let Some(name) = at.recorded() else {
            return Ok(None);
        };
        Ok(Some(replicas(cx, name, &regions(at)).await?))
    }

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let Some(name) = at.recorded_or("name") else {
            return Ok(None);
        };
        let lambda = cx.clients.lambda(at.region);
        let Some(out) = unless(
            NOT_FOUND,
            lambda
                .get_function()
                .function_name(&name)
                .send()
                .await
                .map_err(sdk("GetFunction")),
        )?
        else {
            return Ok(None);
        };
        let c = out
            .configuration()
            .ok_or_else(|| AwsError::missing("GetFunction", "Configuration"))?;
        let tags = user_tags(out.tags().map(|t| t.clone().into_iter()).into_iter().flatten());
        let sha = c.code_sha256().unwrap_or_default().to_string();
        let version = published_with(&lambda, &name, &sha).await?;
        let live = Spec {
            name: name.clone(),
            role_arn: c.role().unwrap_or_default().to_string(),
            runtime: c.runtime().map(|r| r.as_str().to_string()).unwrap_or_default(),
            handler: c.handler().unwrap_or_default().to_string(),
            memory_mb: c.memory_size().unwrap_or_default(),
            timeout_s: c.timeout().unwrap_or_default(),
            description: c.description().unwrap_or_default().to_string(),
            code_sha256: sha,
            published: version.is_some(),
            tags: tags.clone(),
            replica_regions: regions(at),
        };
        let arn = c
            .function_arn()
            .ok_or_else(|| AwsError::missing("GetFunction", "Configuration.FunctionArn"))?;
        let mut found = Found::new(&name, &live, owned(&tags, cx.stack())).arn(arn);
        if let Some(v) = version {
            found = found.detail(format!("version {}", v.rsplit(':').next().unwrap_or_default()));
            found = found.out(VERSION_ARN, v);
        }
        Ok(Some(found))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let zip = package(cx, spec)?;
        let lambda = cx.clients.lambda(at.region);
        let tags: HashMap<String, String> = spec.tags.clone().into_iter().collect();
        let backoff = Backoff {
            initial: Duration::from_secs(2),
            max: Duration::from_secs(10),
            factor: 2.0,
            jitter: 0.2,
        };
        let created = retry_when(
            8,
            &backoff,
            &mut Jitter::from_entropy(),
            role_not_ready,
            || async {
                lambda
                    .create_function()
                    .function_name(&spec.name)
                    .runtime(Runtime::from(spec.runtime.as_str()))
                    .role(&spec.role_arn)
                    .handler(&spec.handler)
                    .memory_size(spec.memory_mb)
                    .timeout(spec.timeout_s)
                    .description(&spec.description)
                    .code(FunctionCode::builder().zip_file(Blob::new(zip.to_vec())).build())
                    .set_tags(Some(tags.clone()))
                    .publish(true)
                    .send()
                    .await
                    .map_err(sdk("CreateFunction"))
            },
        )
        .await?;
        let version = created
            .version()
            .ok_or_else(|| AwsError::missing("CreateFunction", "Version"))?;
        let arn = created
            .function_arn()
            .ok_or_else(|| AwsError::missing("CreateFunction", "FunctionArn"))?;
        // CreateFunction answers with the unqualified ARN of $LATEST.
        let qualified = if arn.ends_with(&format!(":{version}")) {
            arn.to_string()
        } else {
            format!("{arn}:{version}")
        };
        settled(cx, at, &lambda, &spec.name).await?;
        settled(cx, at, &lambda, &qualified).await?;
        Ok(Found::new(&spec.name, spec, true)
            .arn(arn)
            .out(VERSION_ARN, qualified))
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        let was: Spec = live.view()?;
        let lambda = cx.clients.lambda(at.region);
        let name = &spec.name;
        let code = has(fields, "code_sha256");
        // A previous run may have left an update in progress.
        settled(cx, at, &lambda, name).await?;
        if code {
            lambda
                .update_function_code()
                .function_name(name)
                .zip_file(Blob::new(package(cx, spec)?.to_vec()))
                .send()
                .await
                .map_err(sdk("UpdateFunctionCode"))?;
            settled(cx, at, &lambda, name).await?;
        }
        let settings = [
            "role_arn",
            "runtime",
            "handler",
            "memory_mb",
            "timeout_s",
            "description",
        ]
        .iter()
        .any(|f| has(fields, f));
        if settings {
            lambda
                .update_function_configuration()
                .function_name(name)
                .role(&spec.role_arn)
                .runtime(Runtime::from(spec.runtime.as_str()))
                .handler(&spec.handler)
                .memory_size(spec.memory_mb)
                .timeout(spec.timeout_s)
                .description(&spec.description)
                .send()
                .await
                .map_err(sdk("UpdateFunctionConfiguration"))?;
            settled(cx, at, &lambda, name).await?;
        }
        if has(fields, "tags") {
            let arn = live.arn_for("TagResource")?.to_string();
            let set = async |set: Tags| {
                let call = lambda
                    .tag_resource()
                    .resource(&arn)
                    .set_tags(Some(set.into_iter().collect()));
                call.send().await.map(drop).map_err(sdk("TagResource"))
            };
            let remove = async |keys| {
                let call = lambda.untag_resource().resource(&arn).set_tag_keys(Some(keys));
                call.send().await.map(drop).map_err(sdk("UntagResource"))
            };
            sync_tags(&spec.tags, &was.tags, set, remove).await?;
        }
        let mut found = live.clone();
        if code || settings || !was.published {
            let published = lambda
                .publish_version()
                .function_name(name)
                .code_sha256(&spec.code_sha256)
                .send()
                .await
                .map_err(sdk("PublishVersion"))?;
            let arn = published
                .function_arn()
                .ok_or_else(|| AwsError::missing("PublishVersion", "FunctionArn"))?;
            // CloudFront takes only an Active version.
            settled(cx, at, &lambda, arn).await?;
            found = found.out(VERSION_ARN, arn);
        }
        found.set_live(spec);
        Ok(found)
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, opts: &Options) -> Step<Gone> {
        replicas::delete(cx, at, live, opts).await
    }
}
