//! A route's CloudFront Function (`cloudfront-function`): generated code
//! (see `routes::transform`), created in DEVELOPMENT and published to LIVE
//! before any behaviour names it. A code change is UpdateFunction then
//! PublishFunction: CloudFront moves every behaviour that uses the function
//! to the new code itself, so it needs no distribution update.
//!
//! Functions take no tags: ours carry `ahi-edge stack <name>:` at the start
//! of their comment. The live view is the LIVE stage's code, so a run
//! killed between create and publish finds an unpublished function and
//! publishes it.

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::primitives::Blob;
use aws_sdk_cloudfront::types::{FunctionConfig, FunctionRuntime, FunctionStage};
use serde::{Deserialize, Serialize};

use super::cloudfront_policy::marked;
use crate::aws::{AwsError, sdk, unless};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Resource};
use crate::engine::polls::until_released;
use crate::engine::step::{Cx, Step, StepError};

pub struct CloudFrontFunction;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    pub comment: String,
    pub runtime: String,
    /// The whole code (a few hundred bytes): what is sent is what is recorded.
    pub code: String,
}

fn build(e: aws_sdk_cloudfront::error::BuildError) -> AwsError {
    AwsError {
        operation: "FunctionConfig",
        code: None,
        message: e.to_string(),
    }
}

fn config(spec: &Spec) -> Result<FunctionConfig, AwsError> {
    FunctionConfig::builder()
        .comment(&spec.comment)
        .runtime(FunctionRuntime::from(spec.runtime.as_str()))
        .build()
        .map_err(build)
}

/// The DEVELOPMENT stage: its ETag, ARN and config; `None` when the
/// function does not exist.
struct Development {
    etag: String,
    arn: String,
    comment: String,
    runtime: String,
}

async fn describe(c: &Client, name: &str) -> Result<Option<Development>, AwsError> {
    let out = unless(
        &["NoSuchFunctionExists"],
        c.describe_function()
            .name(name)
            .stage(FunctionStage::Development)
            .send()
            .await
            .map_err(sdk("DescribeFunction")),
    )?;
    let Some(out) = out else { return Ok(None) };
    let summary = out
        .function_summary()
        .ok_or_else(|| AwsError::missing("DescribeFunction", "FunctionSummary"))?;
    let config = summary.function_config();
    Ok(Some(Development {
        etag: out
            .e_tag()
            .ok_or_else(|| AwsError::missing("DescribeFunction", "ETag"))?
            .to_string(),
        arn: summary
            .function_metadata()
            .map(|m| m.function_arn().to_string())
            .unwrap_or_default(),
        comment: config.map(|c| c.comment().to_string()).unwrap_or_default(),
        runtime: config
            .map(|c| c.runtime().as_str().to_string())
            .unwrap_or_default(),
    }))
}

/// The LIVE stage's code, `None` before the first publish.
async fn live_code(c: &Client, name: &str) -> Result<Option<String>, AwsError> {
    let out = unless(
        &["NoSuchFunctionExists"],
        c.get_function()
            .name(name)
            .stage(FunctionStage::Live)
            .send()
            .await
            .map_err(sdk("GetFunction")),
    )?;
    Ok(out.and_then(|o| {
        o.function_code()
            .map(|b| String::from_utf8_lossy(b.as_ref()).into_owned())
    }))
}

/// Puts the spec's code into DEVELOPMENT and publishes it to LIVE.
async fn update_and_publish(c: &Client, spec: &Spec, etag: &str) -> Result<(), AwsError> {
    let updated = c
        .update_function()
        .name(&spec.name)
        .if_match(etag)
        .function_config(config(spec)?)
        .function_code(Blob::new(spec.code.as_bytes()))
        .send()
        .await
        .map_err(sdk("UpdateFunction"))?;
    let etag = match updated.e_tag() {
        Some(e) => e.to_string(),
        None => {
            describe(c, &spec.name)
                .await?
                .ok_or_else(|| AwsError::missing("UpdateFunction", "the function"))?
                .etag
        }
    };
    publish(c, &spec.name, &etag).await
}

async fn publish(c: &Client, name: &str, etag: &str) -> Result<(), AwsError> {
    c.publish_function()
        .name(name)
        .if_match(etag)
        .send()
        .await
        .map_err(sdk("PublishFunction"))?;
    Ok(())
}

impl Resource for CloudFrontFunction {
    type Spec = Spec;

    const NAME: &'static str = "cloudfront-function";

    fn deploy_note(&self, action: &str) -> Option<&'static str> {
        Some(match action {
            "update" => "function publish (seconds)",
            "create" => "function publish (seconds), then the distribution deploy that names it",
            _ => "after the distribution deploy without it",
        })
    }

    const REPLACE: &'static [&'static str] = &["name"];

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let Some(name) = at.field("name").or_else(|| at.recorded().map(str::to_string)) else {
            return Ok(None);
        };
        let c = cx.clients.cloudfront();
        let Some(dev) = describe(&c, &name).await? else {
            return Ok(None);
        };
        let code = live_code(&c, &name).await?.unwrap_or_default();
        let view = Spec {
            name: name.clone(),
            comment: dev.comment.clone(),
            runtime: dev.runtime.clone(),
            code,
        };
        Ok(Some(
            Found::new(&name, &view, marked(&dev.comment, cx.stack()))
                .arn(&dev.arn)
                .detail(if view.code.is_empty() {
                    "not published"
                } else {
                    "LIVE"
                }),
        ))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let c = cx.clients.cloudfront();
        let created = c
            .create_function()
            .name(&spec.name)
            .function_config(config(spec)?)
            .function_code(Blob::new(spec.code.as_bytes()))
            .send()
            .await
            .map_err(sdk("CreateFunction"))?;
        let arn = created
            .function_summary()
            .and_then(|s| s.function_metadata())
            .map(|m| m.function_arn().to_string())
            .ok_or_else(|| AwsError::missing("CreateFunction", "FunctionARN"))?;
        let etag = created
            .e_tag()
            .ok_or_else(|| AwsError::missing("CreateFunction", "ETag"))?;
        // Behaviours may name only published functions.
        publish(&c, &spec.name, etag).await?;
        Ok(Found::new(&spec.name, spec, true).arn(arn).detail("LIVE"))
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        let c = cx.clients.cloudfront();
        let dev = describe(&c, &spec.name)
            .await?
            .ok_or_else(|| StepError::Vanished(format!("function {} vanished", spec.name)))?;
        update_and_publish(&c, spec, &dev.etag).await?;
        let mut found = live.clone();
        found.set_live(spec);
        found.detail = "LIVE".into();
        Ok(found)
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _opts: &Options) -> Step<Gone> {
        let c = cx.clients.cloudfront();
        let name = &live.physical_id;
        // In use until the distribution that names it has deployed without
        // it, and CloudFront has let go (bounded by a distribution's deploy).
        let what = format!("CloudFront Function {name}");
        until_released(
            cx,
            at.id,
            &what,
            &["FunctionInUse", "PreconditionFailed"],
            async || {
                let Some(dev) = describe(&c, name).await? else {
                    return Ok(());
                };
                match c.delete_function().name(name).if_match(&dev.etag).send().await {
                    Ok(_) => Ok(()),
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_no_such_function_exists()) =>
                    {
                        Ok(())
                    }
                    Err(e) => Err(AwsError::from_sdk("DeleteFunction", e)),
                }
            },
        )
        .await?;
        Ok(Gone::Deleted)
    }
}
