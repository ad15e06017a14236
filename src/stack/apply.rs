//! `up`'s work on one node: record the intent, make the resource match its
//! desired spec (create, adopt, update, or nothing), record the result; or,
//! for a wait step, poll until AWS says the resource is ready.

use std::collections::BTreeMap;
use std::time::Duration;

use super::desired::Sources;
use super::{Ctx, StepError, flatten, shape};
use crate::engine::wait::{Backoff, Check, CheckError, Jitter, Wait, scaled};
use crate::lockfile::{Entry, Ready, State, fingerprint};
use crate::names::StackNames;
use crate::resources::network::{self, DefaultRoute, SUBNETS};
use crate::resources::security_group::{self, GroupSpec, PROXY_PORT, Source};
use crate::resources::{
    Change, cache_policy, distribution, edge_function, load_balancer, log_bucket, log_group,
    origin_request_policy, origin_secret, proxy, role,
};

/// What making a resource left behind.
struct Made {
    physical_id: String,
    arn: Option<String>,
    outputs: BTreeMap<String, String>,
    change: Change,
}

impl Made {
    fn new(physical_id: impl Into<String>, change: Change) -> Self {
        Made {
            physical_id: physical_id.into(),
            arn: None,
            outputs: BTreeMap::new(),
            change,
        }
    }

    fn arn(mut self, arn: impl Into<String>) -> Self {
        self.arn = Some(arn.into());
        self
    }

    fn out(mut self, key: &str, value: impl Into<String>) -> Self {
        self.outputs.insert(key.to_string(), value.into());
        self
    }
}

fn wrote(w: bool) -> Change {
    if w { Change::Updated } else { Change::Unchanged }
}

/// The idempotency token sent with a create (where the API takes one).
pub fn token(stack: &str, id: &str) -> String {
    format!("ahi-edge-{stack}-{id}")
}

/// The client token of one create call (EC2 NAT gateway, ECS service): 32 hex
/// characters (ECS allows 36), new for every attempt. Tokens make an SDK
/// retry of the same call idempotent; a run killed after the call finds the
/// resource by its tags or name instead, and a fresh token lets a resource
/// deleted out of band be created again (EC2 would answer a reused token
/// with the deleted one).
fn attempt_token(stack: &str, id: &str) -> String {
    use sha2::{Digest, Sha256};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let digest = Sha256::digest(format!("{stack}/{id}/{nanos}/{}", std::process::id()));
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// How `up` polls: quick at first, then every 10 s (modelled time).
fn poll() -> Backoff {
    Backoff {
        initial: Duration::from_secs(2),
        max: Duration::from_secs(10),
        factor: 1.5,
        jitter: 0.2,
    }
    .scaled()
}

/// Runs node `id` of the stack.
pub async fn node(ctx: &Ctx<'_>, id: &str) -> Result<(), StepError> {
    let node = shape::get(id).ok_or_else(|| StepError::Missing(format!("unknown node {id}")))?;
    let typical = shape::typical(node);
    let Some(kind) = node.kind else {
        return wait_step(ctx, id, typical).await;
    };
    let lock = ctx.lock();
    let src = ctx.sources(&lock);
    let spec = src.json(id)?.unwrap_or_default();
    let print = fingerprint(&spec);
    let entry = lock.resources.get(id).cloned();
    if entry.is_none() {
        let region = shape::region_of(node, ctx.profile);
        ctx.change(|l| l.record_intent(id, kind, &region, &token(ctx.stack(), id)))?;
    }
    let fresh = entry.as_ref().is_none_or(|e| e.state == State::Creating);
    ctx.progress
        .state(id, typical, if fresh { "creating" } else { "checking" });
    let made = match make(ctx, &src, id, entry.as_ref()).await {
        Ok(made) => made,
        Err(e) => {
            ctx.progress.done(id, "failed");
            return Err(e);
        }
    };
    let unchanged_record = entry.as_ref().is_some_and(|e| {
        e.state == State::Ready
            && e.fingerprint.as_deref() == Some(print.as_str())
            && e.physical_id.as_deref() == Some(made.physical_id.as_str())
            && e.arn == made.arn
            && e.outputs == made.outputs
    });
    if !unchanged_record {
        ctx.change(|l| {
            l.mark_ready(
                id,
                Ready {
                    physical_id: made.physical_id.clone(),
                    arn: made.arn.clone(),
                    fingerprint: print.clone(),
                    outputs: made.outputs.clone(),
                    spec: flatten(&spec),
                },
            )
        })?;
    }
    let outcome = match made.change {
        Change::Created => "created",
        Change::Updated if fresh => "created",
        Change::Updated => "updated",
        Change::Unchanged if fresh => "adopted",
        Change::Unchanged => "unchanged",
    };
    ctx.progress.done(id, outcome);
    Ok(())
}

async fn make(ctx: &Ctx<'_>, src: &Sources<'_>, id: &str, entry: Option<&Entry>) -> Result<Made, StepError> {
    let c = &ctx.clients;
    let stack = ctx.stack();
    let names = StackNames { stack };
    let known = entry.and_then(|e| e.physical_id.as_deref());
    Ok(match id {
        "edge_role" | "task_execution_role" | "task_role" => {
            let spec = match id {
                "edge_role" => src.edge_role(),
                "task_execution_role" => proxy::execution_role(ctx.profile),
                _ => proxy::task_role(ctx.profile, &ctx.account),
            };
            let (arn, change) = role::ensure(&c.iam, &spec).await?;
            Made::new(&spec.name, change).arn(arn)
        }
        "edge_function" => {
            let spec = src.edge_function()?;
            let package = ctx.package.as_deref().unwrap_or_default();
            let (version_arn, change) = edge_function::ensure(&c.edge_lambda, &spec, package).await?;
            Made::new(&spec.name, change).out("version_arn", version_arn)
        }
        "cache_policy" => {
            let spec = cache_policy::CachePolicySpec::for_profile(ctx.profile);
            let (policy, change) = cache_policy::ensure(&c.cloudfront, &spec, known).await?;
            Made::new(policy, change)
        }
        "origin_request_policy" => {
            let spec = origin_request_policy::OriginRequestPolicySpec::for_profile(ctx.profile);
            let (policy, change) = origin_request_policy::ensure(&c.cloudfront, &spec, known).await?;
            Made::new(policy, change)
        }
        "log_bucket" => {
            let bucket = src.log_bucket();
            let configure = entry.is_none_or(|e| e.state != State::Ready);
            let w = log_bucket::ensure(
                &c.s3,
                &bucket,
                &ctx.profile.healthimaging.region,
                &ctx.account,
                stack,
                &src.tags(id),
                configure,
            )
            .await?;
            Made::new(&bucket, wrote(w))
        }
        "origin_secret" => {
            let spec = origin_secret::OriginSecretSpec::for_profile(ctx.profile);
            let (recorded, change) = origin_secret::ensure(&c.secrets, &spec).await?;
            Made::new(&spec.name, change)
                .arn(recorded.arn)
                .out("version_id", recorded.version_id)
        }
        "vpc" => {
            let found = match known {
                Some(v) if network::vpc_exists(&c.ec2, v).await? => Some(v.to_string()),
                _ => network::find_vpc(&c.ec2, stack, id).await?,
            };
            match found {
                Some(v) => Made::new(v, Change::Unchanged),
                None => Made::new(network::create_vpc(&c.ec2, &src.tags(id)).await?, Change::Created),
            }
        }
        subnet if subnet.starts_with("subnet_") => {
            let (_, cidr, zone, _) = SUBNETS
                .iter()
                .find(|(s, ..)| *s == subnet)
                .ok_or_else(|| StepError::Missing(format!("unknown subnet {subnet}")))?;
            let vpc = src.vpc_id()?;
            let found = match known {
                Some(s) if network::subnet_exists(&c.ec2, s).await? => Some(s.to_string()),
                _ => network::find_subnet(&c.ec2, &vpc, stack, id).await?,
            };
            match found {
                Some(s) => Made::new(s, Change::Unchanged),
                None => {
                    let zones = network::zones(&c.ec2).await?;
                    let zone = zones.get(*zone).or(zones.first()).cloned().unwrap_or_default();
                    let s = network::create_subnet(&c.ec2, &vpc, cidr, &zone, &src.tags(id)).await?;
                    Made::new(s, Change::Created)
                }
            }
        }
        "internet_gateway" => {
            let vpc = src.vpc_id()?;
            let (igw, attached, mut change) = match network::find_internet_gateway(&c.ec2, stack, id).await? {
                Some((igw, attached)) => (igw, attached, Change::Unchanged),
                None => (
                    network::create_internet_gateway(&c.ec2, &src.tags(id)).await?,
                    None,
                    Change::Created,
                ),
            };
            if attached.as_deref() != Some(vpc.as_str()) {
                network::attach_internet_gateway(&c.ec2, &igw, &vpc).await?;
                if change == Change::Unchanged {
                    change = Change::Updated;
                }
            }
            Made::new(igw, change).out("vpc", vpc)
        }
        "nat_eip" => match network::find_address(&c.ec2, stack, id).await? {
            Some(a) => Made::new(a, Change::Unchanged),
            None => Made::new(
                network::allocate_address(&c.ec2, &src.tags(id)).await?,
                Change::Created,
            ),
        },
        "nat_gateway" => {
            let subnet = super::output(src.lock, "subnet_public_a", "id")?;
            let allocation = super::output(src.lock, "nat_eip", "id")?;
            let (nat, change) = match network::find_nat_gateway(&c.ec2, &subnet, stack, id).await? {
                Some((nat, _)) => (nat, Change::Unchanged),
                None => (
                    network::create_nat_gateway(
                        &c.ec2,
                        &subnet,
                        &allocation,
                        &attempt_token(stack, id),
                        &src.tags(id),
                    )
                    .await?,
                    Change::Created,
                ),
            };
            wait_nat(ctx, &nat).await?;
            Made::new(nat, change)
        }
        "public_routes" | "private_routes" => {
            let vpc = src.vpc_id()?;
            let public = id == "public_routes";
            let table = match known {
                Some(t) if network::route_table_exists(&c.ec2, t).await? => Some(t.to_string()),
                _ => network::find_route_table(&c.ec2, &vpc, stack, id).await?,
            };
            let created = table.is_none();
            let via = super::output(
                src.lock,
                if public { "internet_gateway" } else { "nat_gateway" },
                "id",
            )?;
            let route = if public {
                DefaultRoute::Internet(&via)
            } else {
                DefaultRoute::Nat(&via)
            };
            let (table, w) =
                network::ensure_route_table(&c.ec2, &vpc, table, route, &src.subnets(public)?, &src.tags(id))
                    .await?;
            Made::new(table, if created { Change::Created } else { wrote(w) })
        }
        "alb_security_group" | "task_security_group" => {
            let alb = id == "alb_security_group";
            let spec = GroupSpec {
                logical_id: if alb {
                    "alb_security_group"
                } else {
                    "task_security_group"
                },
                name: if alb {
                    names.alb_security_group()
                } else {
                    names.task_security_group()
                },
                description: if alb {
                    "ahi-edge: the ALB, reachable only from CloudFront".into()
                } else {
                    "ahi-edge: the proxy tasks, reachable only from the ALB".into()
                },
                vpc_id: src.vpc_id()?,
                port: if alb { src.listener_port() } else { PROXY_PORT },
                source: if alb {
                    Source::PrefixList(security_group::cloudfront_prefix_list(&c.ec2).await?)
                } else {
                    Source::Group(super::output(src.lock, "alb_security_group", "id")?)
                },
                tags: src.tags(id),
            };
            let (group, w) = security_group::ensure(&c.ec2, &spec, stack).await?;
            Made::new(group, wrote(w))
        }
        "load_balancer" => {
            let spec = src.alb()?;
            let (alb, w) = load_balancer::ensure_alb(&c.elb, &spec, stack).await?;
            Made::new(&spec.name, wrote(w))
                .arn(&alb.arn)
                .out("dns_name", alb.dns_name)
        }
        "target_group" => {
            let spec = src.target_group()?;
            let (arn, w) = load_balancer::ensure_target_group(&c.elb, &spec, stack).await?;
            Made::new(&spec.name, wrote(w)).arn(arn)
        }
        "listener" => {
            let spec = src.listener()?;
            let (arn, w) = load_balancer::ensure_listener(&c.elb, &spec).await?;
            Made::new(&arn, wrote(w)).arn(arn)
        }
        "listener_rule" => {
            let listener = super::output(src.lock, "listener", "arn")?;
            let target_group = super::output(src.lock, "target_group", "arn")?;
            let secret = ctx.secret().await?;
            let (arn, w) =
                load_balancer::ensure_rule(&c.elb, &listener, &target_group, secret.expose()).await?;
            Made::new(&arn, wrote(w)).arn(arn)
        }
        "distribution" => {
            let spec = src.distribution()?;
            let secret = ctx.secret().await?;
            let (live, change) =
                distribution::ensure(&c.cloudfront, &spec, secret.expose(), &src.tags(id), known).await?;
            Made::new(&live.id, change)
                .arn(live.arn)
                .out("domain_name", live.domain_name)
        }
        "cluster" => {
            let (arn, created) =
                proxy::ensure_cluster(&c.ecs, &names.cluster(), stack, &src.tags(id)).await?;
            Made::new(
                names.cluster(),
                if created {
                    Change::Created
                } else {
                    Change::Unchanged
                },
            )
            .arn(arn)
        }
        "log_group" => {
            let name = names.proxy_log_group();
            let w = log_group::ensure(
                &c.logs,
                &name,
                ctx.profile.logs.retention_days as i32,
                stack,
                &src.tags(id),
            )
            .await?;
            Made::new(name, wrote(w))
        }
        "task_definition" => {
            let spec = src.task_definition()?;
            let (arn, w) = proxy::ensure_task_definition(&c.ecs, &spec, &src.tags(id)).await?;
            Made::new(&spec.family, wrote(w)).arn(arn)
        }
        "service" => {
            let spec = src.service()?;
            let (arn, w) =
                proxy::ensure_service(&c.ecs, &spec, stack, &attempt_token(stack, id), &src.tags(id)).await?;
            Made::new(&spec.name, wrote(w)).arn(arn)
        }
        other => return Err(StepError::Missing(format!("no way to make {other}"))),
    })
}

fn transient(e: crate::aws::AwsError) -> CheckError {
    CheckError::Transient(e.to_string())
}

async fn wait_nat(ctx: &Ctx<'_>, nat: &str) -> Result<(), StepError> {
    use aws_sdk_ec2::types::NatGatewayState;
    let wait = Wait {
        what: format!("NAT gateway {nat}"),
        timeout: scaled(Duration::from_secs(15 * 60)),
        backoff: poll(),
    };
    wait.until(
        &mut Jitter::from_entropy(),
        || async {
            match network::nat_gateway_state(&ctx.clients.ec2, nat)
                .await
                .map_err(transient)?
            {
                Some(NatGatewayState::Available) => Ok(Check::Done(())),
                Some(NatGatewayState::Failed) | None => {
                    Err(CheckError::Fatal("the NAT gateway failed".into()))
                }
                Some(state) => Ok(Check::Pending(state.as_str().to_string())),
            }
        },
        |p| {
            ctx.progress.state(
                "nat_gateway",
                Duration::from_secs(90),
                &format!("waiting: {}", p.state),
            )
        },
    )
    .await?;
    Ok(())
}

/// The wait steps: ALB active, distribution deployed, service steady.
async fn wait_step(ctx: &Ctx<'_>, id: &str, typical: Duration) -> Result<(), StepError> {
    let lock = ctx.lock();
    let c = &ctx.clients;
    let names = StackNames { stack: ctx.stack() };
    let mut jitter = Jitter::from_entropy();
    let show =
        |p: &crate::engine::wait::Progress| ctx.progress.state(id, typical, &format!("waiting: {}", p.state));
    let result = match id {
        "load_balancer_active" => {
            let arn = super::output(&lock, "load_balancer", "arn")?;
            Wait {
                what: format!("load balancer {}", names.load_balancer()),
                timeout: scaled(Duration::from_secs(20 * 60)),
                backoff: poll(),
            }
            .until(
                &mut jitter,
                || async {
                    match load_balancer::alb_exists(&c.elb, &arn).await.map_err(transient)? {
                        Some(s) if load_balancer::is_active(&s) => Ok(Check::Done(())),
                        Some(s) if s == "failed" => Err(CheckError::Fatal("the load balancer failed".into())),
                        Some(s) => Ok(Check::Pending(s)),
                        None => Err(CheckError::Fatal("the load balancer is gone".into())),
                    }
                },
                show,
            )
            .await
        }
        "distribution_deployed" => {
            let dist = super::output(&lock, "distribution", "id")?;
            Wait {
                what: format!("distribution {dist}"),
                timeout: scaled(Duration::from_secs(90 * 60)),
                backoff: poll(),
            }
            .until(
                &mut jitter,
                || async {
                    match distribution::get(&c.cloudfront, &dist).await.map_err(transient)? {
                        Some(l) if l.status == "Deployed" => Ok(Check::Done(())),
                        Some(l) => Ok(Check::Pending(l.status)),
                        None => Err(CheckError::Fatal("the distribution is gone".into())),
                    }
                },
                show,
            )
            .await
        }
        "service_steady" => {
            Wait {
                what: format!("ECS service {}", names.service()),
                timeout: scaled(Duration::from_secs(30 * 60)),
                backoff: poll(),
            }
            .until(
                &mut jitter,
                || async {
                    match proxy::get_service(&c.ecs, &names.cluster(), &names.service())
                        .await
                        .map_err(transient)?
                    {
                        Some(s) if s.steady() => Ok(Check::Done(())),
                        Some(s) if s.rollout == "FAILED" => {
                            Err(CheckError::Fatal("the deployment failed".into()))
                        }
                        Some(s) => Ok(Check::Pending(format!(
                            "{}/{} running, rollout {}",
                            s.running,
                            s.desired,
                            if s.rollout.is_empty() {
                                "pending"
                            } else {
                                &s.rollout
                            }
                        ))),
                        None => Err(CheckError::Fatal("the service is gone".into())),
                    }
                },
                show,
            )
            .await
        }
        other => return Err(StepError::Missing(format!("no wait step {other}"))),
    };
    match result {
        Ok(()) => {
            if id == "service_steady" {
                // The service runs the current revision now; older ones go.
                let current = super::output(&lock, "task_definition", "arn")?;
                proxy::deregister_family(&c.ecs, &names.task_family(), Some(&current)).await?;
            }
            ctx.progress.done(id, "ready");
            Ok(())
        }
        Err(e) => {
            ctx.progress.done(id, "failed");
            Err(e.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_tokens_fit_ecs_and_are_new_each_attempt() {
        let stack = "a".repeat(28);
        let a = attempt_token(&stack, "service");
        let b = attempt_token(&stack, "service");
        assert!(a.len() <= 36 && a.bytes().all(|c| c.is_ascii_hexdigit()), "{a}");
        assert_ne!(a, b);
    }
}
