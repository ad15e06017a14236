//! The Lambda@Edge function's delete, the one AWS makes us wait for:
//! while CloudFront holds replicas, Lambda refuses it. The walk is told at
//! once (`Cx::held`: the entry becomes `awaiting-replicas`) and, with
//! `--wait-replicas`, the replica regions the spec names are polled until
//! none lists a replica, and the delete tried again (it is the final
//! arbiter).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_lambda::Client;

use super::{NOT_FOUND, Spec};
use crate::aws::{AwsError, sdk, unless};
use crate::engine::kind::{At, Found, Gone, Options};
use crate::engine::polls::replica_poll;
use crate::engine::step::{Cx, Step, StepError};
use crate::engine::wait::{Check, CheckError, Jitter, Wait, scaled};

/// Lambda refuses to delete a function CloudFront still has replicas of
/// (there is no distinct error code, so the message is matched).
pub fn is_replicated(e: &AwsError) -> bool {
    e.is("InvalidParameterValueException") && e.message.contains("because it is a replicated function")
}

/// Deletes the function (every version); gone counts as done. A replicated
/// function comes back as an error [`is_replicated`] recognises.
pub async fn delete_function(lambda: &Client, name: &str) -> Result<(), AwsError> {
    unless(
        NOT_FOUND,
        lambda
            .delete_function()
            .function_name(name)
            .send()
            .await
            .map_err(sdk("DeleteFunction")),
    )?;
    Ok(())
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

pub(super) fn regions(at: &At<'_, Spec>) -> Vec<String> {
    at.raw
        .get("replica_regions")
        .and_then(|r| serde_json::from_value(r.clone()).ok())
        .unwrap_or_else(|| {
            crate::profile::formats::DEFAULT_REPLICA_REGIONS
                .iter()
                .map(|r| r.to_string())
                .collect()
        })
}

/// Replicas of the function per region (only regions that hold some),
/// listing the regions in parallel.
pub async fn replicas(cx: &Cx, name: &str, regions: &[String]) -> Result<BTreeMap<String, usize>, AwsError> {
    let lookups = regions.iter().map(|region| async move {
        replicas_in(&cx.clients.lambda(region), name)
            .await
            .map(|n| (region.clone(), n))
    });
    let counts = futures_util::future::try_join_all(lookups).await?;
    Ok(counts.into_iter().filter(|(_, n)| *n > 0).collect())
}

/// Deletes the log groups Lambda made for the replicas,
/// `/aws/lambda/us-east-1.<name>` in each region (by exact name: it embeds
/// our function's). They outlive the replicas; `--purge-logs` removes them.
pub async fn purge_replica_logs(cx: &Cx, name: &str, regions: &[String]) -> Step<()> {
    let group = format!("/aws/lambda/{}.{name}", crate::aws::EDGE_REGION);
    for region in regions {
        unless(
            NOT_FOUND,
            cx.clients
                .logs(region)
                .delete_log_group()
                .log_group_name(&group)
                .send()
                .await
                .map_err(sdk("DeleteLogGroup")),
        )?;
    }
    Ok(())
}

fn listed(counts: &BTreeMap<String, usize>, polled: &[String]) -> String {
    if counts.is_empty() {
        return format!(
            "none listed in the configured regions ({}); the delete still refuses",
            polled.join(", ")
        );
    }
    counts
        .iter()
        .map(|(r, n)| format!("{r}={n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Deletes `live`, waiting out CloudFront's replicas as `opts` says.
pub(super) async fn delete(cx: &Cx, at: &At<'_, Spec>, live: &Found, opts: &Options) -> Step<Gone> {
    let lambda = cx.clients.lambda(at.region);
    let name = &live.physical_id;
    let polled = regions(at);
    let started = tokio::time::Instant::now();
    let deadline = started + scaled(opts.timeout);
    let mut jitter = Jitter::from_entropy();
    let mut refused_with_none_listed = false;
    loop {
        match delete_function(&lambda, name).await {
            Ok(_) => {
                if opts.purge_logs {
                    purge_replica_logs(cx, name, &polled).await?;
                }
                return Ok(Gone::Deleted);
            }
            Err(e) if is_replicated(&e) => {}
            Err(e) => return Err(e.into()),
        }
        // Recorded at once: a run stopped while it waits leaves the
        // entry `awaiting_replicas`.
        cx.held(at.id)?;
        let timed_out = |state: &str| {
            StepError::AwaitingReplicas(format!(
                "{name}: still replicated after --timeout {} ({state})",
                humantime::format_duration(opts.timeout)
            ))
        };
        if !opts.wait_replicas {
            let counts = replicas(cx, name, &polled).await?;
            return Err(StepError::AwaitingReplicas(format!(
                "{name}: CloudFront still holds replicas ({})",
                listed(&counts, &polled)
            )));
        }
        if refused_with_none_listed {
            // No region lists a replica, yet the delete refused (a
            // region missing from the list, or lag between the two
            // systems): wait the steady interval, never a busy loop.
            let none = listed(&BTreeMap::new(), &polled);
            cx.progress
                .state(at.id, Duration::ZERO, &format!("replicas left: {none}"));
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            if remaining.is_zero() {
                return Err(timed_out(&none));
            }
            tokio::time::sleep(replica_poll().max.min(remaining)).await;
        }
        // Poll until no region lists a replica, then let the delete
        // decide (it is the final arbiter).
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        let waited = Wait {
            what: format!("replicas of {name}"),
            timeout: remaining,
            backoff: replica_poll(),
        }
        .until(
            &mut jitter,
            || async {
                let counts = replicas(cx, name, &polled)
                    .await
                    .map_err(|e| CheckError::Transient(e.to_string()))?;
                if counts.is_empty() {
                    Ok(Check::Done(()))
                } else {
                    Ok(Check::Pending(listed(&counts, &polled)))
                }
            },
            |p| {
                let waited = humantime::format_duration(Duration::from_secs(
                    (started.elapsed().as_secs_f64() / crate::engine::wait::time_scale()) as u64,
                ));
                cx.progress.state(
                    at.id,
                    Duration::ZERO,
                    &format!("replicas left: {} (waited {waited})", p.state),
                )
            },
        )
        .await;
        if let Err(crate::engine::wait::WaitError::Timeout { last_state, .. }) = waited {
            return Err(timed_out(&last_state));
        }
        waited?;
        refused_with_none_listed = true;
    }
}
