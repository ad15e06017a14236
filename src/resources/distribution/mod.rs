//! The CloudFront distribution: the desired config (`spec`) and the
//! ETag-guarded create / update / disable / delete cycle.
//!
//! Adoption: CloudFront's idempotency token is the CallerReference, and a
//! second create with ours fails with `DistributionAlreadyExists`; the
//! distribution is then found by its comment and CallerReference.

mod spec;

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::types::{DistributionConfig, FunctionAssociations, LambdaFunctionAssociations};

pub use spec::*;

use super::{Etagged, Write};
use crate::aws::AwsError;

/// What a live distribution amounts to.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    pub id: String,
    pub arn: String,
    pub domain_name: String,
    /// `InProgress` or `Deployed`.
    pub status: String,
    pub etag: String,
    pub config: DistributionConfig,
}

fn build(e: aws_sdk_cloudfront::error::BuildError) -> AwsError {
    AwsError {
        operation: "DistributionConfig",
        code: None,
        message: e.to_string(),
    }
}

pub async fn get(client: &Client, id: &str) -> Result<Option<Live>, AwsError> {
    match client.get_distribution().id(id).send().await {
        Ok(out) => Ok(out.distribution().and_then(|d| {
            Some(Live {
                id: d.id().to_string(),
                arn: d.arn().to_string(),
                domain_name: d.domain_name().to_string(),
                status: d.status().to_string(),
                etag: out.e_tag()?.to_string(),
                config: d.distribution_config()?.clone(),
            })
        })),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_distribution()) => Ok(None),
        Err(e) => Err(AwsError::from_sdk("GetDistribution", e)),
    }
}

/// Ours, by comment and CallerReference (for a run killed mid-create).
pub async fn find(client: &Client, comment: &str, caller_reference: &str) -> Result<Option<Live>, AwsError> {
    let mut marker: Option<String> = None;
    loop {
        let out = client
            .list_distributions()
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ListDistributions", e))?;
        let list = out.distribution_list();
        for summary in list.map(|l| l.items()).unwrap_or_default() {
            if summary.comment() != comment {
                continue;
            }
            if let Some(live) = get(client, summary.id()).await?
                && live.config.caller_reference() == caller_reference
            {
                return Ok(Some(live));
            }
        }
        marker = list
            .filter(|l| l.is_truncated())
            .and_then(|l| l.next_marker())
            .map(str::to_string);
        if marker.is_none() {
            return Ok(None);
        }
    }
}

/// Disables the distribution and drops its Lambda@Edge and function
/// associations in one update (so replicas can start to go), unless that is
/// already so. Returns whether an update was sent.
pub async fn disable(client: &Client, id: &str) -> Result<bool, AwsError> {
    for _ in 0..4 {
        let Some(live) = get(client, id).await? else {
            return Ok(false);
        };
        let default = live.config.default_cache_behavior();
        let others = live
            .config
            .cache_behaviors()
            .map(|c| c.items())
            .unwrap_or_default();
        let associated = default
            .and_then(|b| b.lambda_function_associations())
            .is_some_and(|a| a.quantity() > 0)
            || default
                .and_then(|b| b.function_associations())
                .is_some_and(|a| a.quantity() > 0)
            || others.iter().any(|b| {
                b.lambda_function_associations().is_some_and(|a| a.quantity() > 0)
                    || b.function_associations().is_some_and(|a| a.quantity() > 0)
            });
        if !live.config.enabled() && !associated {
            return Ok(false);
        }
        let mut config = live.config.clone();
        config.enabled = false;
        let none = (
            LambdaFunctionAssociations::builder()
                .quantity(0)
                .build()
                .map_err(build)?,
            FunctionAssociations::builder()
                .quantity(0)
                .build()
                .map_err(build)?,
        );
        if let Some(b) = config.default_cache_behavior.as_mut() {
            b.lambda_function_associations = Some(none.0.clone());
            b.function_associations = Some(none.1.clone());
        }
        if let Some(items) = config.cache_behaviors.as_mut().and_then(|c| c.items.as_mut()) {
            for b in items {
                b.lambda_function_associations = Some(none.0.clone());
                b.function_associations = Some(none.1.clone());
            }
        }
        match client
            .update_distribution()
            .id(id)
            .if_match(&live.etag)
            .distribution_config(config)
            .send()
            .await
        {
            Ok(_) => return Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_precondition_failed()) => continue,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_distribution()) => return Ok(false),
            Err(e) => return Err(AwsError::from_sdk("UpdateDistribution", e)),
        }
    }
    Err(AwsError {
        operation: "UpdateDistribution",
        code: Some("PreconditionFailed".into()),
        message: format!("distribution {id} kept changing under us; run again"),
    })
}

/// Deletes with a fresh ETag; gone counts as done. `DistributionNotDisabled`
/// (still enabled, or deployed a moment ago) comes back for the caller to retry.
pub async fn delete(client: &Client, id: &str) -> Result<(), AwsError> {
    let delete = async |etag: &str| match client.delete_distribution().id(id).if_match(etag).send().await {
        Ok(_) => Ok(Write::Done),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_distribution()) => Ok(Write::Done),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_precondition_failed()) => Ok(Write::Stale),
        Err(e) => Err(AwsError::from_sdk("DeleteDistribution", e)),
    };
    super::delete_etagged(
        id,
        "DeleteDistribution",
        async |id: &str| {
            Ok(get(client, id).await?.map(|l| Etagged {
                id: l.id,
                etag: l.etag,
                spec: (),
            }))
        },
        delete,
    )
    .await
}
