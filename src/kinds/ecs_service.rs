//! The proxy's ECS service (`ecs-service`): Fargate tasks of the task
//! definition in the private subnets (no public IP) behind the target
//! group. `up` waits until it is steady (rollout COMPLETED, running =
//! desired), then deregisters the revisions it no longer runs.

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, DeploymentCircuitBreaker, DeploymentConfiguration, LaunchType,
    LoadBalancer, NetworkConfiguration, Service, ServiceField,
};
use serde::{Deserialize, Serialize};

use super::{Tags, has, owned, user_tags};
use crate::aws::{AwsError, sdk, unless};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Phase, Resource, Typical};
use crate::engine::polls::attempt_token;
use crate::engine::polls::{retrying, wait_for};
use crate::engine::step::{Cx, Step, StepError};
use crate::engine::wait::{Backoff, Check, Jitter, retry_when};
use crate::resources::proxy::{deregister_family, ecs_tags, sync_tags, tag_map};

pub struct EcsService;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub cluster: String,
    pub name: String,
    pub task_definition: String,
    pub desired_count: i32,
    pub launch_type: String,
    /// Sorted.
    pub subnets: Vec<String>,
    /// Sorted.
    pub security_groups: Vec<String>,
    pub assign_public_ip: String,
    pub target_group: String,
    pub container: String,
    pub container_port: i32,
    pub health_check_grace_s: i32,
    /// ECS's deployment circuit breaker, with rollback: a rollout whose
    /// tasks never start ends FAILED (and rolls back) instead of running on.
    pub circuit_breaker: bool,
    pub tags: Tags,
}

/// The service while ACTIVE; with `draining`, also while DRAINING (a delete
/// under way: `down` waits for it rather than forget it).
async fn describe(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    name: &str,
    draining: bool,
) -> Result<Option<Service>, AwsError> {
    let out = unless(
        &["ClusterNotFoundException"],
        ecs.describe_services()
            .cluster(cluster)
            .services(name)
            .include(ServiceField::Tags)
            .send()
            .await
            .map_err(sdk("DescribeServices")),
    )?;
    Ok(out
        .and_then(|o| o.services().first().cloned())
        .filter(|s| s.status() == Some("ACTIVE") || (draining && s.status() == Some("DRAINING"))))
}

fn rollout(s: &Service) -> String {
    s.deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))
        .and_then(|d| d.rollout_state())
        .map(|r| r.as_str().to_string())
        .unwrap_or_default()
}

fn network(spec: &Spec) -> Result<NetworkConfiguration, AwsError> {
    Ok(NetworkConfiguration::builder()
        .awsvpc_configuration(
            AwsVpcConfiguration::builder()
                .set_subnets(Some(spec.subnets.clone()))
                .set_security_groups(Some(spec.security_groups.clone()))
                .assign_public_ip(AssignPublicIp::from(spec.assign_public_ip.as_str()))
                .build()
                .map_err(|e| AwsError {
                    operation: "CreateService",
                    code: None,
                    message: e.to_string(),
                })?,
        )
        .build())
}

fn deployment(spec: &Spec) -> DeploymentConfiguration {
    DeploymentConfiguration::builder()
        .deployment_circuit_breaker(
            DeploymentCircuitBreaker::builder()
                .enable(spec.circuit_breaker)
                .rollback(spec.circuit_breaker)
                .build(),
        )
        .build()
}

fn balancer(spec: &Spec) -> LoadBalancer {
    LoadBalancer::builder()
        .target_group_arn(&spec.target_group)
        .container_name(&spec.container)
        .container_port(spec.container_port)
        .build()
}

/// The spec's cluster; a migrated entry (no spec) is in the stack's own.
/// Why the service's tasks stopped (the first three distinct reasons), as
/// ECS reports them: the cause of a failed rollout (an image that cannot be
/// pulled, a crashing container, a failing health check).
async fn stopped_reasons(ecs: &aws_sdk_ecs::Client, spec: &Spec) -> Result<String, AwsError> {
    let listed = ecs
        .list_tasks()
        .cluster(&spec.cluster)
        .service_name(&spec.name)
        .desired_status(aws_sdk_ecs::types::DesiredStatus::Stopped)
        .send()
        .await
        .map_err(sdk("ListTasks"))?;
    let arns: Vec<String> = listed.task_arns().iter().take(10).cloned().collect();
    if arns.is_empty() {
        return Ok("none listed".into());
    }
    let described = ecs
        .describe_tasks()
        .cluster(&spec.cluster)
        .set_tasks(Some(arns))
        .send()
        .await
        .map_err(sdk("DescribeTasks"))?;
    let mut reasons: Vec<String> = described
        .tasks()
        .iter()
        .filter_map(|t| t.stopped_reason().map(str::to_string))
        .collect();
    reasons.sort();
    reasons.dedup();
    reasons.truncate(3);
    Ok(if reasons.is_empty() {
        "no reason given".into()
    } else {
        reasons.join("; ")
    })
}

fn cluster_of(cx: &Cx, at: &At<'_, Spec>) -> String {
    at.field("cluster").unwrap_or_else(|| cx.stack().to_string())
}

impl Resource for EcsService {
    type Spec = Spec;

    const NAME: &'static str = "ecs-service";

    const TYPICAL: Typical = Typical {
        create: 5,
        update: 3,
        delete: 60,
        ready: 119,
    };

    const REPLACE: &'static [&'static str] = &["cluster", "name", "launch_type"];

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let Some(name) = at.recorded_or("name") else {
            return Ok(None);
        };
        let cluster = cluster_of(cx, at);
        let deleting = at.is(Phase::Deleting);
        let Some(s) = describe(&cx.clients.ecs(at.region), &cluster, &name, deleting).await? else {
            return Ok(None);
        };
        let arn = s
            .service_arn()
            .ok_or_else(|| AwsError::missing("DescribeServices", "serviceArn"))?;
        let vpc = s.network_configuration().and_then(|n| n.awsvpc_configuration());
        let mut subnets = vpc.map(|v| v.subnets().to_vec()).unwrap_or_default();
        subnets.sort();
        let mut security_groups = vpc.map(|v| v.security_groups().to_vec()).unwrap_or_default();
        security_groups.sort();
        let lb = s.load_balancers().first();
        let tags = user_tags(tag_map(s.tags()));
        let live = serde_json::json!({
            "cluster": cluster,
            "name": s.service_name(),
            "task_definition": s.task_definition(),
            "desired_count": s.desired_count(),
            "launch_type": s.launch_type().map(|l| l.as_str()),
            "subnets": subnets,
            "security_groups": security_groups,
            "assign_public_ip": vpc.and_then(|v| v.assign_public_ip()).map(|a| a.as_str()),
            "target_group": lb.and_then(|l| l.target_group_arn()),
            "container": lb.and_then(|l| l.container_name()),
            "container_port": lb.and_then(|l| l.container_port()),
            "health_check_grace_s": s.health_check_grace_period_seconds(),
            "circuit_breaker": s
                .deployment_configuration()
                .and_then(|d| d.deployment_circuit_breaker())
                .is_some_and(|b| b.enable() && b.rollback()),
            "tags": tags,
        });
        let state = rollout(&s);
        let detail = if s.status() == Some("DRAINING") {
            "draining".to_string()
        } else {
            format!(
                "{}/{} running, rollout {}",
                s.running_count(),
                s.desired_count(),
                if state.is_empty() {
                    "unknown".into()
                } else {
                    state.to_lowercase()
                }
            )
        };
        Ok(Some(
            Found::new(&name, live, owned(&tags, cx.stack()))
                .arn(arn)
                .detail(detail),
        ))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let ecs = cx.clients.ecs(at.region);
        // In an account that never used ECS, the service-linked role
        // CreateCluster asks for may not exist yet.
        let no_role =
            |e: &AwsError| e.is("InvalidParameterException") && e.message.contains("service linked role");
        let backoff = Backoff {
            initial: std::time::Duration::from_secs(5),
            max: std::time::Duration::from_secs(20),
            factor: 1.5,
            jitter: 0.2,
        }
        .scaled();
        let out = retry_when(10, &backoff, &mut Jitter::from_entropy(), no_role, || async {
            ecs.create_service()
                .cluster(&spec.cluster)
                .service_name(&spec.name)
                .task_definition(&spec.task_definition)
                .desired_count(spec.desired_count)
                .launch_type(LaunchType::from(spec.launch_type.as_str()))
                .network_configuration(network(spec)?)
                .load_balancers(balancer(spec))
                .health_check_grace_period_seconds(spec.health_check_grace_s)
                .deployment_configuration(deployment(spec))
                .client_token(attempt_token(cx.stack(), at.id))
                .set_tags(Some(ecs_tags(&spec.tags)))
                .send()
                .await
                .map_err(sdk("CreateService"))
        })
        .await?;
        let arn = out
            .service()
            .and_then(|s| s.service_arn())
            .ok_or_else(|| AwsError::missing("CreateService", "service.serviceArn"))?;
        Ok(Found::new(&spec.name, spec, true).arn(arn))
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        let ecs = cx.clients.ecs(at.region);
        let mut call = ecs.update_service().cluster(&spec.cluster).service(&spec.name);
        let mut send = false;
        if has(fields, "task_definition") || has(fields, "desired_count") {
            call = call
                .task_definition(&spec.task_definition)
                .desired_count(spec.desired_count);
            send = true;
        }
        if ["subnets", "security_groups", "assign_public_ip"]
            .iter()
            .any(|f| has(fields, f))
        {
            call = call.network_configuration(network(spec)?);
            send = true;
        }
        if ["target_group", "container", "container_port"]
            .iter()
            .any(|f| has(fields, f))
        {
            call = call.load_balancers(balancer(spec));
            send = true;
        }
        if has(fields, "health_check_grace_s") {
            call = call.health_check_grace_period_seconds(spec.health_check_grace_s);
            send = true;
        }
        if has(fields, "circuit_breaker") {
            call = call.deployment_configuration(deployment(spec));
            send = true;
        }
        if send {
            call.send().await.map_err(sdk("UpdateService"))?;
        }
        if has(fields, "tags") {
            // Only the tags: the live view may hold what a spec cannot (no
            // load balancer on a service changed by hand).
            let was = live.tags()?;
            sync_tags(&ecs, live.arn_for("TagResource")?, &spec.tags, &was).await?;
        }
        Ok(live.applied(spec))
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _opts: &Options) -> Step<Gone> {
        let ecs = cx.clients.ecs(at.region);
        let cluster = cluster_of(cx, at);
        let name = &live.physical_id;
        let active = live.detail != "draining";
        if active && live.live["desired_count"] != 0 {
            ecs.update_service()
                .cluster(&cluster)
                .service(name)
                .desired_count(0)
                .send()
                .await
                .map_err(sdk("UpdateService"))?;
        }
        // "The service cannot be stopped while deployments are active."
        retrying(&["InvalidParameterException"], 5, async || {
            if !active {
                return Ok(());
            }
            unless(
                &["ServiceNotFoundException", "ClusterNotFoundException"],
                ecs.delete_service()
                    .cluster(&cluster)
                    .service(name)
                    .force(true)
                    .send()
                    .await
                    .map_err(sdk("DeleteService")),
            )
            .map(|_| ())
        })
        .await?;
        wait_for(
            cx,
            at.id,
            format!("ECS service {name} to drain"),
            30,
            async || {
                let out = unless(
                    &["ClusterNotFoundException"],
                    ecs.describe_services()
                        .cluster(&cluster)
                        .services(name)
                        .send()
                        .await
                        .map_err(sdk("DescribeServices")),
                )?;
                Ok(out
                    .and_then(|o| o.services().first().cloned())
                    .and_then(|s| s.status().map(str::to_string))
                    .filter(|s| s != "INACTIVE")
                    .map(|s| s.to_lowercase()))
            },
        )
        .await?;
        Ok(Gone::Deleted)
    }

    async fn ready(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Check<()>> {
        let spec = at.spec()?;
        let ecs = cx.clients.ecs(at.region);
        let Some(s) = describe(&ecs, &spec.cluster, &spec.name, false).await? else {
            return Ok(Check::Pending("not listed yet".into()));
        };
        let state = rollout(&s);
        if state == "FAILED" {
            let reason = s
                .deployments()
                .iter()
                .find(|d| d.status() == Some("PRIMARY"))
                .and_then(|d| d.rollout_state_reason())
                .unwrap_or("no reason given");
            let stopped = stopped_reasons(&ecs, spec).await?;
            return Err(StepError::DeploymentFailed(format!(
                "ECS service {}: the deployment failed: {reason}; stopped tasks: {stopped} (the circuit breaker rolls back to the previous task definition)",
                spec.name
            )));
        }
        if state == "COMPLETED" && s.running_count() == s.desired_count() {
            // The service runs the current revision now; older ones go.
            let family = spec
                .task_definition
                .rsplit_once('/')
                .and_then(|(_, r)| r.rsplit_once(':'))
                .map(|(f, _)| f.to_string())
                .unwrap_or_default();
            deregister_family(&ecs, &family, Some(&spec.task_definition)).await?;
            return Ok(Check::Done(()));
        }
        Ok(Check::Pending(format!(
            "{}/{} running, rollout {}",
            s.running_count(),
            s.desired_count(),
            if state.is_empty() { "pending" } else { &state }
        )))
    }
}
