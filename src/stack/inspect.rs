//! `status`'s look at one lockfile entry: does the resource exist, does it
//! still match what `up` applied (naming the fields that differ), and its
//! live state (CloudFront deploy status, ALB state, ECS counts, replicas).
//! Read-only: no call here changes anything.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::{Ctx, StepError, changed_fields, flatten};
use crate::aws::AwsError;
use crate::lockfile::{Entry, State};
use crate::names::StackNames;
use crate::resources::{
    cache_policy, distribution, edge_function, load_balancer, log_bucket, log_group, network,
    origin_request_policy, proxy, role, security_group,
};

/// The health of one resource, as `status --json` reports it (docs/status.md).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceStatus {
    pub id: String,
    pub kind: String,
    pub region: String,
    pub physical_id: Option<String>,
    /// The lockfile's lifecycle state (`ready`, `creating`, `awaiting-replicas`...).
    pub recorded: String,
    /// `ok`, `missing`, `drifted`, `incomplete` (never finished creating),
    /// `awaiting-replicas`, or `unknown` (could not be read).
    pub health: String,
    /// Fields that differ from what `up` applied.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<String>,
    /// Live detail: deploy status, ALB state, ECS counts, version.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// Lambda@Edge: replicas per region (only regions that hold some).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<BTreeMap<String, usize>>,
}

impl ResourceStatus {
    pub fn needs_attention(&self) -> bool {
        matches!(
            self.health.as_str(),
            "missing" | "drifted" | "incomplete" | "unknown"
        )
    }
}

/// What a live read found.
struct Seen {
    exists: bool,
    drift: Vec<String>,
    detail: String,
    replicas: Option<BTreeMap<String, usize>>,
}

impl Seen {
    fn exists(exists: bool) -> Self {
        Seen {
            exists,
            drift: Vec::new(),
            detail: String::new(),
            replicas: None,
        }
    }

    fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = d.into();
        self
    }

    fn drift(mut self, fields: Vec<String>) -> Self {
        self.drift = fields;
        self
    }
}

/// Fields of the live spec that differ from the spec `up` last applied (as
/// the lockfile recorded it). Status reports drift against what was applied,
/// not against an edited profile: that is `plan`'s job.
fn drift<T: Serialize>(recorded: &BTreeMap<String, String>, live: &T, only: Option<&[&str]>) -> Vec<String> {
    if recorded.is_empty() {
        return Vec::new();
    }
    let live = flatten(&serde_json::to_value(live).unwrap_or(Value::Null));
    changed_fields(recorded, &live)
        .into_iter()
        .filter(|k| only.is_none_or(|o| o.contains(&k.as_str())))
        .collect()
}

/// Looks at entry `id` live.
pub async fn entry(ctx: &Ctx<'_>, id: &str, entry: &Entry) -> ResourceStatus {
    let mut status = ResourceStatus {
        id: id.to_string(),
        kind: entry.kind.clone(),
        region: entry.region.clone(),
        physical_id: entry.physical_id.clone(),
        recorded: serde_json::to_value(entry.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        health: String::new(),
        drift: Vec::new(),
        detail: String::new(),
        replicas: None,
    };
    if entry.physical_id.is_none() {
        status.health = "incomplete".into();
        status.detail = "the create never finished; run `ahi-edge up` to finish it".into();
        return status;
    }
    match look(ctx, id, entry).await {
        Ok(seen) => {
            status.detail = seen.detail;
            status.replicas = seen.replicas;
            status.health = if entry.state == State::AwaitingReplicas {
                "awaiting-replicas".into()
            } else if !seen.exists {
                "missing".into()
            } else if entry.state == State::Creating {
                "incomplete".into()
            } else if !seen.drift.is_empty() {
                status.drift = seen.drift;
                "drifted".into()
            } else {
                "ok".into()
            };
            if entry.state == State::AwaitingReplicas && !seen.exists {
                status.health = "ok".into();
                status.detail = "gone; the next `ahi-edge down` forgets it".into();
            }
        }
        Err(e) => {
            status.health = "unknown".into();
            status.detail = e.to_string();
        }
    }
    status
}

async fn look(ctx: &Ctx<'_>, id: &str, entry: &Entry) -> Result<Seen, StepError> {
    let c = &ctx.clients;
    let physical = entry.physical_id.as_deref().unwrap_or_default();
    let arn = entry.arn.as_deref().unwrap_or_default();
    let stack = ctx.stack();
    let names = StackNames { stack };
    let lock = ctx.lock();
    let src = ctx.sources(&lock);
    Ok(match entry.kind.as_str() {
        "iam-role" => Seen::exists(role::get(&c.iam, physical).await?.is_some()),
        "lambda-edge-function" => {
            let live = edge_function::latest(&c.edge_lambda, physical).await?;
            let mut seen = Seen::exists(live.is_some());
            if let Some(v) = entry.outputs.get("version_arn") {
                seen.detail = format!("version {}", v.rsplit(':').next().unwrap_or_default());
            }
            seen.replicas = Some(replicas(ctx, physical).await?);
            seen
        }
        "cloudfront-cache-policy" => match cache_policy::get(&c.cloudfront, physical).await? {
            Some(live) => Seen::exists(true).drift(drift(&entry.spec, &live.spec, None)),
            None => Seen::exists(false),
        },
        "cloudfront-origin-request-policy" => {
            match origin_request_policy::get(&c.cloudfront, physical).await? {
                Some(live) => Seen::exists(true).drift(drift(&entry.spec, &live.spec, None)),
                None => Seen::exists(false),
            }
        }
        "cloudfront-distribution" => match distribution::get(&c.cloudfront, physical).await? {
            Some(live) => {
                let version = super::output(&lock, "origin_secret", "version_id").unwrap_or_default();
                let secret = ctx.secret().await?;
                let (mut seen, live_secret) =
                    distribution::DistributionSpec::from_config(&live.config, &version);
                if live_secret.as_deref() != Some(secret.expose()) {
                    seen.origin_secret_version = "(differs)".into();
                }
                Seen::exists(true)
                    .drift(drift(&entry.spec, &seen, None))
                    .detail(live.status)
            }
            None => Seen::exists(false),
        },
        "s3-bucket" => Seen::exists(log_bucket::tags(&c.s3, physical).await?.is_some()),
        "secretsmanager-secret" => {
            let out = c.secrets.describe_secret().secret_id(arn).send().await;
            match out {
                Ok(o) => Seen::exists(o.deleted_date().is_none()),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_not_found_exception()) =>
                {
                    Seen::exists(false)
                }
                Err(e) => return Err(AwsError::from_sdk("DescribeSecret", e).into()),
            }
        }
        "ec2-vpc" => Seen::exists(network::vpc_exists(&c.ec2, physical).await?),
        "ec2-subnet" => Seen::exists(network::subnet_exists(&c.ec2, physical).await?),
        "ec2-internet-gateway" => {
            Seen::exists(network::find_internet_gateway(&c.ec2, stack, id).await?.is_some())
        }
        "ec2-elastic-ip" => Seen::exists(network::find_address(&c.ec2, stack, id).await?.is_some()),
        "ec2-nat-gateway" => match network::nat_gateway_state(&c.ec2, physical).await? {
            Some(s) => {
                Seen::exists(!matches!(s.as_str(), "deleted" | "deleting" | "failed")).detail(s.as_str())
            }
            None => Seen::exists(false),
        },
        "ec2-route-table" => Seen::exists(network::route_table_exists(&c.ec2, physical).await?),
        "ec2-security-group" => match security_group::drift(
            &c.ec2,
            physical,
            if id == "alb_security_group" {
                src.listener_port()
            } else {
                security_group::PROXY_PORT
            },
        )
        .await?
        {
            Some(odd) => Seen::exists(true).drift(odd),
            None => Seen::exists(false),
        },
        "elbv2-load-balancer" => match load_balancer::alb_exists(&c.elb, arn).await? {
            Some(state) => Seen::exists(true).detail(state),
            None => Seen::exists(false),
        },
        "elbv2-target-group" => {
            Seen::exists(load_balancer::get_target_group(&c.elb, physical).await?.is_some())
        }
        "elbv2-listener" => Seen::exists(load_balancer::listener_exists(&c.elb, arn).await?),
        "elbv2-listener-rule" => {
            let listener = super::output(&lock, "listener", "arn")?;
            let target_group = super::output(&lock, "target_group", "arn")?;
            let secret = ctx.secret().await?;
            match load_balancer::rule_matches(&c.elb, &listener, &target_group, secret.expose()).await? {
                Some(true) => Seen::exists(true),
                Some(false) => Seen::exists(true).drift(vec!["condition or target".into()]),
                None => Seen::exists(false),
            }
        }
        "ecs-cluster" => Seen::exists(proxy::cluster_active(&c.ecs, physical).await?),
        "logs-log-group" => match log_group::get(&c.logs, physical).await? {
            Some((_, retention)) => Seen::exists(true).drift(drift(
                &entry.spec,
                &serde_json::json!({"retention_days": retention}),
                Some(&["retention_days"]),
            )),
            None => Seen::exists(false),
        },
        "ecs-task-definition" => match proxy::latest_task_definition(&c.ecs, physical).await? {
            Some((live_arn, live)) => {
                let mut fields = drift(&entry.spec, &live, None);
                if live_arn != arn && fields.is_empty() && !arn.is_empty() {
                    fields.push("revision".into());
                }
                Seen::exists(true)
                    .drift(fields)
                    .detail(live_arn.rsplit('/').next().unwrap_or_default().to_string())
            }
            None => Seen::exists(false),
        },
        "ecs-service" => match proxy::get_service(&c.ecs, &names.cluster(), physical).await? {
            Some(s) if s.status == "ACTIVE" => {
                let live =
                    serde_json::json!({"desired_count": s.desired, "task_definition": s.task_definition});
                let fields = drift(&entry.spec, &live, Some(&["desired_count", "task_definition"]));
                let rollout = if s.rollout.is_empty() {
                    "unknown".to_string()
                } else {
                    s.rollout.to_lowercase()
                };
                Seen::exists(true)
                    .drift(fields)
                    .detail(format!("{}/{} running, rollout {rollout}", s.running, s.desired))
            }
            _ => Seen::exists(false),
        },
        other => Seen::exists(true).detail(format!("kind {other} is not inspected by this version")),
    })
}

/// Replicas of the function per replica region, listing the regions in parallel.
pub async fn replicas(ctx: &Ctx<'_>, name: &str) -> Result<BTreeMap<String, usize>, StepError> {
    let lookups = ctx
        .profile
        .lambda_edge
        .replica_regions
        .iter()
        .map(|region| async move {
            let client = ctx.clients.lambda_in(region);
            edge_function::replicas_in(&client, name)
                .await
                .map(|n| (region.clone(), n))
        });
    let counts = futures_util::future::try_join_all(lookups).await?;
    Ok(counts.into_iter().filter(|(_, n)| *n > 0).collect())
}

/// ACM certificates the profile names, with their status (HTTPS mode, aliases).
pub async fn certificates(ctx: &Ctx<'_>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut check = Vec::new();
    if let crate::profile::AlbOrigin::Https { certificate_arn, .. } = &ctx.profile.alb {
        check.push((certificate_arn.clone(), &ctx.clients.acm));
    }
    if let Some(arn) = &ctx.profile.cloudfront.certificate_arn {
        check.push((arn.clone(), &ctx.clients.acm_edge));
    }
    for (arn, client) in check {
        let status = match client.describe_certificate().certificate_arn(&arn).send().await {
            Ok(o) => o
                .certificate()
                .and_then(|c| c.status())
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| "unknown".into()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                "missing".into()
            }
            Err(e) => format!("unknown: {}", AwsError::from_sdk("DescribeCertificate", e)),
        };
        out.push((arn, status));
    }
    out
}
