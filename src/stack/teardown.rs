//! `down`'s work on one lockfile entry: mark it `deleting`, delete it (or
//! wait out what AWS makes us wait for), and forget it. NotFound always
//! counts as done; a resource without our ownership tags is left alone and
//! forgotten with a warning; Lambda@Edge functions CloudFront still holds
//! replicas of become `awaiting-replicas`.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Ctx, StepError, inspect};
use crate::aws::AwsError;
use crate::engine::wait::{Backoff, Check, CheckError, Jitter, Wait, retry_when, scaled};
use crate::lockfile::{Entry, State};
use crate::names::StackNames;
use crate::resources::distribution::{self, caller_reference, comment};
use crate::resources::{
    cache_policy, edge_function, load_balancer, log_bucket, log_group, network, origin_request_policy,
    origin_secret, proxy, role, security_group,
};

#[derive(Debug, Clone)]
pub struct Options {
    pub wait_replicas: bool,
    /// How long to wait for replicas (modelled time).
    pub timeout: Duration,
    pub purge_logs: bool,
}

/// How `down` polls deploys and deletions: quick at first, then every 15 s.
fn poll() -> Backoff {
    Backoff {
        initial: Duration::from_secs(2),
        max: Duration::from_secs(15),
        factor: 1.5,
        jitter: 0.2,
    }
    .scaled()
}

/// The replica poll: grows to a steady 60 s (48-60 s with jitter), so a wait
/// of hours costs one ListFunctions per replica region per minute at most.
pub fn replica_poll() -> Backoff {
    Backoff {
        initial: Duration::from_secs(10),
        max: Duration::from_secs(60),
        factor: 1.5,
        jitter: 0.2,
    }
    .scaled()
}

/// Retries `op` while AWS answers with one of `codes` (dependencies still
/// draining), for about `minutes` of modelled time.
async fn retrying<T>(
    codes: &[&str],
    minutes: u64,
    op: impl AsyncFn() -> Result<T, AwsError>,
) -> Result<T, AwsError> {
    let backoff = poll();
    let attempts = (minutes * 60 / 15).max(4) as u32;
    retry_when(
        attempts,
        &backoff,
        &mut Jitter::from_entropy(),
        |e: &AwsError| codes.iter().any(|c| e.is(c)),
        || op(),
    )
    .await
}

fn transient(e: AwsError) -> CheckError {
    CheckError::Transient(e.to_string())
}

/// Tears down entry `id`.
pub async fn node(ctx: &Ctx<'_>, id: &str, opts: &Options) -> Result<(), StepError> {
    let Some(entry) = ctx.entry(id) else {
        return Ok(());
    };
    let typical = super::shape::get(id)
        .map(super::shape::typical)
        .unwrap_or_default();
    if entry.state != State::AwaitingReplicas {
        ctx.change(|l| l.set_state(id, State::Deleting))?;
    }
    ctx.progress.state(id, typical, "deleting");
    match delete(ctx, id, &entry, opts).await {
        Ok(Gone::Deleted) => {
            ctx.change(|l| l.forget(id))?;
            ctx.progress.done(id, "deleted");
            Ok(())
        }
        Ok(Gone::Kept(why)) => {
            ctx.change(|l| l.forget(id))?;
            ctx.progress.done(id, &format!("kept: {why}"));
            Ok(())
        }
        Err(StepError::Aws(e)) if e.is("NotOwned") => {
            ctx.change(|l| l.forget(id))?;
            ctx.progress.done(id, &format!("left alone: {}", e.message));
            Ok(())
        }
        Err(e) => {
            let shown = match &e {
                StepError::AwaitingReplicas(_) => "awaiting replicas",
                _ => "failed",
            };
            ctx.progress.done(id, shown);
            Err(e)
        }
    }
}

enum Gone {
    Deleted,
    Kept(String),
}

async fn delete(ctx: &Ctx<'_>, id: &str, entry: &Entry, opts: &Options) -> Result<Gone, StepError> {
    let c = &ctx.clients;
    let stack = ctx.stack();
    let names = StackNames { stack };
    let lock = ctx.lock();
    let src = ctx.sources(&lock);
    let recorded = entry.physical_id.clone();
    let vpc = || async {
        match super::output(&lock, "vpc", "id") {
            Ok(v) => Ok::<_, AwsError>(Some(v)),
            Err(_) => match &ctx.profile.network {
                crate::profile::Network::Existing { vpc_id, .. } => Ok(Some(vpc_id.clone())),
                crate::profile::Network::Create => network::find_vpc(&c.ec2, stack, "vpc").await,
            },
        }
    };
    match entry.kind.as_str() {
        "cloudfront-distribution" => {
            let found = match &recorded {
                Some(d) => Some(d.clone()),
                None => distribution::find(&c.cloudfront, &comment(stack), &caller_reference(stack))
                    .await?
                    .map(|l| l.id),
            };
            if let Some(d) = found {
                delete_distribution(ctx, id, &d).await?;
            }
        }
        "cloudfront-cache-policy" => {
            let found = match recorded {
                Some(p) => Some(p),
                None => cache_policy::find_by_name(&c.cloudfront, &names.cache_policy())
                    .await?
                    .map(|l| l.id),
            };
            if let Some(p) = found {
                retrying(&["CachePolicyInUse"], 5, async || {
                    cache_policy::delete(&c.cloudfront, &p).await
                })
                .await?;
            }
        }
        "cloudfront-origin-request-policy" => {
            let found = match recorded {
                Some(p) => Some(p),
                None => origin_request_policy::find_by_name(&c.cloudfront, &names.origin_request_policy())
                    .await?
                    .map(|l| l.id),
            };
            if let Some(p) = found {
                retrying(&["OriginRequestPolicyInUse"], 5, async || {
                    origin_request_policy::delete(&c.cloudfront, &p).await
                })
                .await?;
            }
        }
        "lambda-edge-function" => {
            let name = recorded.unwrap_or_else(|| names.edge_function());
            delete_edge_function(ctx, id, &name, opts).await?;
        }
        "iam-role" => {
            let name = recorded.unwrap_or_else(|| match id {
                "edge_role" => names.edge_role(),
                "task_execution_role" => names.task_execution_role(),
                _ => names.task_role(),
            });
            role::delete(&c.iam, &name, stack).await?;
        }
        "s3-bucket" => {
            let bucket = recorded.unwrap_or_else(|| src.log_bucket());
            if !opts.purge_logs {
                return Ok(Gone::Kept(format!(
                    "access logs stay in s3://{bucket} (--purge-logs deletes them)"
                )));
            }
            log_bucket::purge(&c.s3, &bucket, stack).await?;
        }
        "secretsmanager-secret" => {
            origin_secret::delete(&c.secrets, &names.origin_secret(), stack).await?;
        }
        "ecs-service" => {
            let cluster = names.cluster();
            let service = recorded.unwrap_or_else(|| names.service());
            if let Some(live) = proxy::get_service(&c.ecs, &cluster, &service).await?
                && live.status == "ACTIVE"
                && !crate::resources::owned_by(&live.tags, stack)
            {
                return Err(
                    crate::resources::not_owned("DescribeServices", "ECS service", &service, stack).into(),
                );
            }
            retrying(&["InvalidParameterException"], 5, async || {
                proxy::delete_service(&c.ecs, &cluster, &service).await
            })
            .await?;
            wait_for(
                ctx,
                id,
                format!("ECS service {service} to drain"),
                30,
                async || {
                    Ok(match proxy::get_service(&c.ecs, &cluster, &service).await? {
                        Some(s) if s.status != "INACTIVE" => Some(s.status.to_lowercase()),
                        _ => None,
                    })
                },
            )
            .await?;
        }
        "ecs-task-definition" => {
            proxy::deregister_family(&c.ecs, &recorded.unwrap_or_else(|| names.task_family()), None).await?;
        }
        "ecs-cluster" => {
            let cluster = recorded.unwrap_or_else(|| names.cluster());
            if proxy::cluster_owned(&c.ecs, &cluster, stack).await? == Some(false) {
                return Err(
                    crate::resources::not_owned("DescribeClusters", "ECS cluster", &cluster, stack).into(),
                );
            }
            retrying(
                &[
                    "ClusterContainsServicesException",
                    "ClusterContainsTasksException",
                ],
                10,
                async || proxy::delete_cluster(&c.ecs, &cluster).await,
            )
            .await?;
        }
        "logs-log-group" => {
            log_group::delete(
                &c.logs,
                &recorded.unwrap_or_else(|| names.proxy_log_group()),
                stack,
            )
            .await?;
        }
        "elbv2-listener-rule" => {
            if let Some(arn) = &entry.arn {
                load_balancer::delete_rule(&c.elb, arn).await?;
            }
        }
        "elbv2-listener" => {
            if let Some(arn) = &entry.arn {
                load_balancer::delete_listener(&c.elb, arn).await?;
            }
        }
        "elbv2-load-balancer" => {
            let arn = match &entry.arn {
                Some(a) => Some(a.clone()),
                None => load_balancer::get_alb(&c.elb, &names.load_balancer())
                    .await?
                    .map(|l| l.arn),
            };
            if let Some(arn) = arn
                && load_balancer::alb_exists(&c.elb, &arn).await?.is_some()
            {
                if !load_balancer::owned(&c.elb, &arn, stack).await? {
                    return Err(crate::resources::not_owned(
                        "DescribeTags",
                        "load balancer",
                        &names.load_balancer(),
                        stack,
                    )
                    .into());
                }
                load_balancer::delete_alb(&c.elb, &arn).await?;
                wait_for(ctx, id, "load balancer to go".into(), 20, async || {
                    load_balancer::alb_exists(&c.elb, &arn).await
                })
                .await?;
            }
        }
        "elbv2-target-group" => {
            let arn = match &entry.arn {
                Some(a) => Some(a.clone()),
                None => load_balancer::get_target_group(&c.elb, &names.target_group()).await?,
            };
            if let Some(arn) = arn
                && load_balancer::get_target_group(&c.elb, &names.target_group())
                    .await?
                    .as_deref()
                    == Some(arn.as_str())
            {
                if !load_balancer::owned(&c.elb, &arn, stack).await? {
                    return Err(crate::resources::not_owned(
                        "DescribeTags",
                        "target group",
                        &names.target_group(),
                        stack,
                    )
                    .into());
                }
                retrying(&["ResourceInUse"], 10, async || {
                    load_balancer::delete_target_group(&c.elb, &arn).await
                })
                .await?;
            }
        }
        "ec2-security-group" => {
            let group = match recorded {
                Some(g) => Some(g),
                None => match vpc().await? {
                    Some(v) => find_group(ctx, &v, id).await?,
                    None => None,
                },
            };
            if let Some(g) = group {
                retrying(&["DependencyViolation", "InvalidGroup.InUse"], 20, async || {
                    security_group::delete(&c.ec2, &g).await
                })
                .await?;
            }
        }
        "ec2-nat-gateway" => {
            let nat = match recorded {
                Some(n) => Some(n),
                None => match super::output(&lock, "subnet_public_a", "id") {
                    Ok(s) => network::find_nat_gateway(&c.ec2, &s, stack, id)
                        .await?
                        .map(|(n, _)| n),
                    Err(_) => None,
                },
            };
            if let Some(n) = nat {
                network::delete_nat_gateway(&c.ec2, &n).await?;
                wait_for(
                    ctx,
                    id,
                    format!("NAT gateway {n} to be deleted"),
                    20,
                    async || {
                        Ok(network::nat_gateway_state(&c.ec2, &n)
                            .await?
                            .filter(|s| s.as_str() != "deleted")
                            .map(|s| s.as_str().to_string()))
                    },
                )
                .await?;
            }
        }
        "ec2-elastic-ip" => {
            let address = match recorded {
                Some(a) => Some(a),
                None => network::find_address(&c.ec2, stack, id).await?,
            };
            if let Some(a) = address {
                retrying(&["InvalidIPAddress.InUse", "AuthFailure"], 10, async || {
                    network::release_address(&c.ec2, &a).await
                })
                .await?;
            }
        }
        "ec2-internet-gateway" => {
            if let Some((igw, attached)) = network::find_internet_gateway(&c.ec2, stack, id).await? {
                retrying(&["DependencyViolation"], 20, async || {
                    network::delete_internet_gateway(&c.ec2, &igw, attached.as_deref()).await
                })
                .await?;
            }
        }
        "ec2-route-table" => {
            let table = match recorded {
                Some(t) => Some(t),
                None => match vpc().await? {
                    Some(v) => network::find_route_table(&c.ec2, &v, stack, id).await?,
                    None => None,
                },
            };
            if let Some(t) = table {
                network::delete_route_table(&c.ec2, &t).await?;
            }
        }
        "ec2-subnet" => {
            let subnet = match recorded {
                Some(s) => Some(s),
                None => match vpc().await? {
                    Some(v) => network::find_subnet(&c.ec2, &v, stack, id).await?,
                    None => None,
                },
            };
            if let Some(s) = subnet {
                retrying(&["DependencyViolation"], 20, async || {
                    network::delete_subnet(&c.ec2, &s).await
                })
                .await?;
            }
        }
        "ec2-vpc" => {
            let found = match recorded {
                Some(v) => Some(v),
                None => network::find_vpc(&c.ec2, stack, id).await?,
            };
            if let Some(v) = found {
                retrying(&["DependencyViolation"], 20, async || {
                    network::delete_vpc(&c.ec2, &v).await
                })
                .await?;
            }
        }
        other => {
            return Err(StepError::Missing(format!(
                "the lockfile records {id} of kind {other}, which this version cannot delete; delete it by hand and remove its entry"
            )));
        }
    }
    Ok(Gone::Deleted)
}

async fn find_group(ctx: &Ctx<'_>, vpc: &str, id: &str) -> Result<Option<String>, AwsError> {
    let out = ctx
        .clients
        .ec2
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(vpc)
                .build(),
        )
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeSecurityGroups", e))?;
    Ok(out
        .security_groups()
        .iter()
        .find(|g| network::is_ours(&network::tag_map(g.tags()), ctx.stack(), id))
        .and_then(|g| g.group_id().map(str::to_string)))
}

/// Polls `look` (which answers the state while the thing is still there)
/// until it answers `None`.
async fn wait_for(
    ctx: &Ctx<'_>,
    id: &str,
    what: String,
    minutes: u64,
    look: impl AsyncFn() -> Result<Option<String>, AwsError>,
) -> Result<(), StepError> {
    Wait {
        what,
        timeout: scaled(Duration::from_secs(minutes * 60)),
        backoff: poll(),
    }
    .until(
        &mut Jitter::from_entropy(),
        || async {
            match look().await.map_err(transient)? {
                None => Ok(Check::Done(())),
                Some(state) => Ok(Check::Pending(state)),
            }
        },
        |p| {
            ctx.progress
                .state(id, Duration::ZERO, &format!("waiting: {}", p.state))
        },
    )
    .await?;
    Ok(())
}

/// Disable (dropping Lambda@Edge and function associations) -> wait
/// Deployed -> delete with a fresh ETag, retrying `DistributionNotDisabled`
/// (it can still come right after Deployed).
async fn delete_distribution(ctx: &Ctx<'_>, id: &str, dist: &str) -> Result<(), StepError> {
    let c = &ctx.clients;
    distribution::disable(&c.cloudfront, dist).await?;
    wait_for(
        ctx,
        id,
        format!("distribution {dist} to deploy its disabled config"),
        90,
        async || {
            Ok(distribution::get(&c.cloudfront, dist)
                .await?
                .filter(|l| l.status != "Deployed")
                .map(|l| format!("disabling: {}", l.status)))
        },
    )
    .await?;
    retrying(&["DistributionNotDisabled"], 5, async || {
        distribution::delete(&c.cloudfront, dist).await
    })
    .await?;
    Ok(())
}

/// Deletes the function; while CloudFront holds replicas, records
/// `awaiting-replicas` and either stops (exit 3 later) or polls the replica
/// regions until none remain and tries again (the delete decides).
async fn delete_edge_function(ctx: &Ctx<'_>, id: &str, name: &str, opts: &Options) -> Result<(), StepError> {
    let client = &ctx.clients.edge_lambda;
    let started = tokio::time::Instant::now();
    let deadline = started + scaled(opts.timeout);
    let mut jitter = Jitter::from_entropy();
    loop {
        match edge_function::delete(client, name).await {
            Ok(()) => return Ok(()),
            Err(e) if edge_function::is_replicated(&e) => {}
            Err(e) => return Err(e.into()),
        }
        if ctx.entry(id).is_some_and(|e| e.state != State::AwaitingReplicas) {
            ctx.change(|l| l.set_state(id, State::AwaitingReplicas))?;
        }
        let counts = inspect::replicas(ctx, name).await?;
        if !opts.wait_replicas {
            return Err(StepError::AwaitingReplicas(awaiting(name, &counts)));
        }
        // Poll the replica regions until none lists a replica, then let the
        // delete decide (it is the final arbiter).
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        let waited = Wait {
            what: format!("replicas of {name}"),
            timeout: remaining,
            backoff: replica_poll(),
        }
        .until(
            &mut jitter,
            || async {
                let counts = inspect::replicas(ctx, name)
                    .await
                    .map_err(|e| CheckError::Transient(e.to_string()))?;
                if counts.is_empty() {
                    Ok(Check::Done(()))
                } else {
                    Ok(Check::Pending(regions(&counts)))
                }
            },
            |p| {
                let waited = humantime::format_duration(Duration::from_secs(
                    (started.elapsed().as_secs_f64() / crate::engine::wait::time_scale()) as u64,
                ));
                ctx.progress.state(
                    id,
                    Duration::ZERO,
                    &format!("replicas left: {} (waited {waited})", p.state),
                )
            },
        )
        .await;
        if let Err(crate::engine::wait::WaitError::Timeout { last_state, .. }) = waited {
            return Err(StepError::AwaitingReplicas(format!(
                "{name}: still replicated after --timeout {} ({last_state})",
                humantime::format_duration(opts.timeout)
            )));
        }
        waited?;
    }
}

fn regions(counts: &BTreeMap<String, usize>) -> String {
    if counts.is_empty() {
        return "none listed; the delete still refuses".into();
    }
    counts
        .iter()
        .map(|(r, n)| format!("{r}={n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn awaiting(name: &str, counts: &BTreeMap<String, usize>) -> String {
    format!("{name}: CloudFront still holds replicas ({})", regions(counts))
}
