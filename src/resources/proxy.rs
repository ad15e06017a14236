//! The regional proxy on ECS Fargate: cluster, CloudWatch log group, task
//! definition and service, and the two roles the task runs with.
//!
//! A task definition revision is registered only when the desired one
//! differs from the family's latest active revision, so a re-run after a
//! kill adopts the revision it registered and an unchanged run registers
//! nothing.

use std::collections::BTreeMap;

use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, ClusterField, Compatibility, ContainerDefinition, CpuArchitecture,
    KeyValuePair, LaunchType, LoadBalancer, LogConfiguration, LogDriver, NetworkConfiguration, NetworkMode,
    OsFamily, PortMapping, RuntimePlatform, Tag, TaskDefinition, TaskDefinitionStatus, TransportProtocol,
};
use serde::Serialize;
use serde_json::json;

use super::role::{RoleSpec, trusted_by};
use super::security_group::PROXY_PORT;
use super::{not_owned, owned_by, tags_for};
use crate::aws::AwsError;
use crate::names::StackNames;
use crate::profile::{AuthMode, Profile};

pub const CONTAINER: &str = "proxy";
pub const EXECUTION_POLICY: &str = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
/// Time the ALB gives a new task before health checks count.
pub const HEALTH_CHECK_GRACE_S: i32 = 60;

/// HealthImaging read actions: everything the proxy calls, nothing that writes.
pub const READ_ACTIONS: [&str; 14] = [
    "medical-imaging:GetImageFrame",
    "medical-imaging:GetImageSet",
    "medical-imaging:GetImageSetMetadata",
    "medical-imaging:ListImageSetVersions",
    "medical-imaging:SearchImageSets",
    "medical-imaging:GetDatastore",
    "medical-imaging:ListDatastores",
    "medical-imaging:GetDICOMInstance",
    "medical-imaging:GetDICOMInstanceMetadata",
    "medical-imaging:GetDICOMInstanceFrames",
    "medical-imaging:GetDICOMSeriesMetadata",
    "medical-imaging:SearchDICOMStudies",
    "medical-imaging:SearchDICOMSeries",
    "medical-imaging:SearchDICOMInstances",
];

fn err<E>(operation: &'static str) -> impl FnOnce(aws_sdk_ecs::error::SdkError<E>) -> AwsError
where
    E: aws_sdk_ecs::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    move |e| AwsError::from_sdk(operation, e)
}

fn ecs_tags(map: &BTreeMap<String, String>) -> Vec<Tag> {
    map.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect()
}

pub fn execution_role(profile: &Profile) -> RoleSpec {
    let stack = &profile.stack.name;
    RoleSpec {
        stack: stack.clone(),
        name: StackNames { stack }.task_execution_role(),
        description: "ahi-edge: pulls the proxy image and writes its logs".into(),
        trust_policy: trusted_by(&["ecs-tasks.amazonaws.com"]),
        managed_policies: vec![EXECUTION_POLICY.to_string()],
        inline_policy: None,
        tags: tags_for(stack, "task_execution_role", &profile.stack.tags),
    }
}

/// The role the proxy signs HealthImaging calls with: read actions only,
/// on the datastores of the profile's region.
pub fn task_role(profile: &Profile, account: &str) -> RoleSpec {
    let stack = &profile.stack.name;
    let region = &profile.healthimaging.region;
    RoleSpec {
        stack: stack.clone(),
        name: StackNames { stack }.task_role(),
        description: "ahi-edge: the proxy's HealthImaging read access".into(),
        trust_policy: trusted_by(&["ecs-tasks.amazonaws.com"]),
        managed_policies: Vec::new(),
        inline_policy: Some((
            "healthimaging-read".into(),
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Action": READ_ACTIONS,
                    "Resource": format!("arn:aws:medical-imaging:{region}:{account}:datastore/*")
                }]
            }),
        )),
        tags: tags_for(stack, "task_role", &profile.stack.tags),
    }
}

/// The cluster: created when missing or inactive. Returns its ARN and whether it was created.
/// The active cluster `name`: its ARN and tags.
async fn active_cluster(
    client: &Client,
    name: &str,
) -> Result<Option<(String, BTreeMap<String, String>)>, AwsError> {
    let out = client
        .describe_clusters()
        .clusters(name)
        .include(ClusterField::Tags)
        .send()
        .await
        .map_err(err("DescribeClusters"))?;
    Ok(out
        .clusters()
        .iter()
        .find(|c| c.status() == Some("ACTIVE"))
        .map(|c| (c.cluster_arn().unwrap_or_default().to_string(), tag_map(c.tags()))))
}

pub async fn ensure_cluster(
    client: &Client,
    name: &str,
    stack: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(String, bool), AwsError> {
    if let Some((arn, live_tags)) = active_cluster(client, name).await? {
        if !owned_by(&live_tags, stack) {
            return Err(not_owned("DescribeClusters", "ECS cluster", name, stack));
        }
        return Ok((arn, false));
    }
    let out = client
        .create_cluster()
        .cluster_name(name)
        .set_tags(Some(ecs_tags(tags)))
        .send()
        .await
        .map_err(err("CreateCluster"))?;
    Ok((
        out.cluster()
            .and_then(|c| c.cluster_arn())
            .unwrap_or_default()
            .to_string(),
        true,
    ))
}

/// Whether the active cluster `name` carries this stack's tag (`None`: no such cluster).
pub async fn cluster_owned(client: &Client, name: &str, stack: &str) -> Result<Option<bool>, AwsError> {
    Ok(active_cluster(client, name)
        .await?
        .map(|(_, tags)| owned_by(&tags, stack)))
}

pub async fn cluster_active(client: &Client, name: &str) -> Result<bool, AwsError> {
    Ok(active_cluster(client, name).await?.is_some())
}

pub async fn delete_cluster(client: &Client, name: &str) -> Result<(), AwsError> {
    match client.delete_cluster().cluster(name).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_cluster_not_found_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(AwsError::from_sdk("DeleteCluster", e)),
    }
}

/// The task definition: what the proxy runs and with which settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskSpec {
    pub family: String,
    pub image: String,
    pub cpu: String,
    pub memory: String,
    pub architecture: String,
    pub execution_role_arn: String,
    pub task_role_arn: String,
    pub log_group: String,
    pub log_region: String,
    pub environment: BTreeMap<String, String>,
}

impl TaskSpec {
    pub fn new(profile: &Profile, execution_role_arn: &str, task_role_arn: &str) -> Self {
        let stack = &profile.stack.name;
        let names = StackNames { stack };
        let mut env = BTreeMap::new();
        env.insert("AHI_REGION".to_string(), profile.healthimaging.region.clone());
        env.insert("PROXY_LOG_LEVEL".to_string(), profile.proxy.log_level.clone());
        env.insert("PORT".to_string(), PROXY_PORT.to_string());
        match &profile.auth.mode {
            AuthMode::CognitoJwt(c) => {
                env.insert("AUTH_MODE".into(), "cognito_jwt".into());
                env.insert("COGNITO_USER_POOL_ID".into(), c.user_pool_id.clone());
                env.insert("COGNITO_CLIENT_ID".into(), c.client_ids.join(","));
                let token_use = match c.token_use {
                    crate::profile::TokenUse::Access => "access",
                    crate::profile::TokenUse::Id => "id",
                };
                env.insert("COGNITO_TOKEN_USE".into(), token_use.into());
            }
            AuthMode::Oidc(o) => {
                env.insert("AUTH_MODE".into(), "oidc".into());
                env.insert("OIDC_ISSUER".into(), o.issuer.clone());
                env.insert("OIDC_JWKS_URL".into(), o.jwks_url.clone());
                env.insert("OIDC_AUDIENCE".into(), o.audiences.join(","));
            }
            AuthMode::None => {
                env.insert("AUTH_MODE".into(), "none".into());
            }
        }
        TaskSpec {
            family: names.task_family(),
            image: profile.proxy.image.clone(),
            cpu: profile.proxy.cpu.to_string(),
            memory: profile.proxy.memory.to_string(),
            architecture: profile.proxy.architecture.to_uppercase(),
            execution_role_arn: execution_role_arn.to_string(),
            task_role_arn: task_role_arn.to_string(),
            log_group: names.proxy_log_group(),
            log_region: profile.healthimaging.region.clone(),
            environment: env,
        }
    }

    fn from_live(td: &TaskDefinition) -> Option<Self> {
        let container = td
            .container_definitions()
            .iter()
            .find(|c| c.name() == Some(CONTAINER))?;
        let options = container.log_configuration().and_then(|l| l.options());
        let option = |k: &str| options.and_then(|o| o.get(k)).cloned().unwrap_or_default();
        Some(TaskSpec {
            family: td.family().unwrap_or_default().to_string(),
            image: container.image().unwrap_or_default().to_string(),
            cpu: td.cpu().unwrap_or_default().to_string(),
            memory: td.memory().unwrap_or_default().to_string(),
            architecture: td
                .runtime_platform()
                .and_then(|r| r.cpu_architecture())
                .map(|a| a.as_str().to_string())
                .unwrap_or_else(|| "X86_64".into()),
            execution_role_arn: td.execution_role_arn().unwrap_or_default().to_string(),
            task_role_arn: td.task_role_arn().unwrap_or_default().to_string(),
            log_group: option("awslogs-group"),
            log_region: option("awslogs-region"),
            environment: container
                .environment()
                .iter()
                .filter_map(|kv| Some((kv.name()?.to_string(), kv.value()?.to_string())))
                .collect(),
        })
    }
}

/// The family's latest active revision and the spec it amounts to.
pub async fn latest_task_definition(
    client: &Client,
    family: &str,
) -> Result<Option<(String, TaskSpec)>, AwsError> {
    match client
        .describe_task_definition()
        .task_definition(family)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .task_definition()
            .filter(|td| td.status() == Some(&TaskDefinitionStatus::Active))
            .and_then(|td| Some((td.task_definition_arn()?.to_string(), TaskSpec::from_live(td)?)))),
        Err(e) => {
            let e = AwsError::from_sdk("DescribeTaskDefinition", e);
            // ECS answers an unknown family with a ClientException.
            if e.is("ClientException") { Ok(None) } else { Err(e) }
        }
    }
}

/// Registers a revision when the latest one differs from `spec`; returns its ARN.
pub async fn ensure_task_definition(
    client: &Client,
    spec: &TaskSpec,
    tags: &BTreeMap<String, String>,
) -> Result<(String, bool), AwsError> {
    if let Some((arn, live)) = latest_task_definition(client, &spec.family).await?
        && live == *spec
    {
        return Ok((arn, false));
    }
    let container = ContainerDefinition::builder()
        .name(CONTAINER)
        .image(&spec.image)
        .essential(true)
        .port_mappings(
            PortMapping::builder()
                .container_port(PROXY_PORT)
                .protocol(TransportProtocol::Tcp)
                .build(),
        )
        .set_environment(Some(
            spec.environment
                .iter()
                .map(|(k, v)| KeyValuePair::builder().name(k).value(v).build())
                .collect(),
        ))
        .log_configuration(
            LogConfiguration::builder()
                .log_driver(LogDriver::Awslogs)
                .options("awslogs-group", &spec.log_group)
                .options("awslogs-region", &spec.log_region)
                .options("awslogs-stream-prefix", CONTAINER)
                .build()
                .map_err(|e| AwsError {
                    operation: "RegisterTaskDefinition",
                    code: None,
                    message: e.to_string(),
                })?,
        )
        .build();
    let out = client
        .register_task_definition()
        .family(&spec.family)
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(Compatibility::Fargate)
        .cpu(&spec.cpu)
        .memory(&spec.memory)
        .execution_role_arn(&spec.execution_role_arn)
        .task_role_arn(&spec.task_role_arn)
        .runtime_platform(
            RuntimePlatform::builder()
                .cpu_architecture(CpuArchitecture::from(spec.architecture.as_str()))
                .operating_system_family(OsFamily::Linux)
                .build(),
        )
        .container_definitions(container)
        .set_tags(Some(ecs_tags(tags)))
        .send()
        .await
        .map_err(err("RegisterTaskDefinition"))?;
    Ok((
        out.task_definition()
            .and_then(|t| t.task_definition_arn())
            .unwrap_or_default()
            .to_string(),
        true,
    ))
}

/// Deregisters every active revision of the family.
/// Deregisters the family's active revisions, all but `keep` (the one the
/// service runs) when given. Returns how many were deregistered.
pub async fn deregister_family(client: &Client, family: &str, keep: Option<&str>) -> Result<usize, AwsError> {
    let out = client
        .list_task_definitions()
        .family_prefix(family)
        .status(TaskDefinitionStatus::Active)
        .send()
        .await
        .map_err(err("ListTaskDefinitions"))?;
    let mut done = 0;
    for arn in out.task_definition_arns() {
        // The prefix matches longer families too; keep only ours.
        if arn
            .rsplit_once('/')
            .and_then(|(_, r)| r.rsplit_once(':'))
            .map(|(f, _)| f)
            != Some(family)
            || keep == Some(arn.as_str())
        {
            continue;
        }
        done += 1;
        match client
            .deregister_task_definition()
            .task_definition(arn)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) => {
                let e = AwsError::from_sdk("DeregisterTaskDefinition", e);
                if !e.is("ClientException") {
                    return Err(e);
                }
            }
        }
    }
    Ok(done)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceSpec {
    pub cluster: String,
    pub name: String,
    pub task_definition: String,
    pub desired_count: i32,
    pub subnets: Vec<String>,
    pub security_group: String,
    pub target_group_arn: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveService {
    pub arn: String,
    pub status: String,
    pub task_definition: String,
    pub desired: i32,
    pub running: i32,
    /// The primary deployment's rollout state (COMPLETED, IN_PROGRESS, FAILED).
    pub rollout: String,
    pub tags: BTreeMap<String, String>,
}

impl LiveService {
    pub fn steady(&self) -> bool {
        self.rollout == "COMPLETED" && self.running == self.desired
    }
}

pub async fn get_service(
    client: &Client,
    cluster: &str,
    name: &str,
) -> Result<Option<LiveService>, AwsError> {
    let out = match client
        .describe_services()
        .cluster(cluster)
        .services(name)
        .include(aws_sdk_ecs::types::ServiceField::Tags)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_cluster_not_found_exception()) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(AwsError::from_sdk("DescribeServices", e)),
    };
    Ok(out.services().first().map(|s| {
        let primary = s.deployments().iter().find(|d| d.status() == Some("PRIMARY"));
        LiveService {
            arn: s.service_arn().unwrap_or_default().to_string(),
            status: s.status().unwrap_or_default().to_string(),
            task_definition: s.task_definition().unwrap_or_default().to_string(),
            desired: s.desired_count(),
            running: s.running_count(),
            rollout: primary
                .and_then(|d| d.rollout_state())
                .map(|r| r.as_str().to_string())
                .unwrap_or_default(),
            tags: tag_map(s.tags()),
        }
    }))
}

/// Creates the service (with an idempotency token) or updates its task
/// definition and desired count when they differ.
pub async fn ensure_service(
    client: &Client,
    spec: &ServiceSpec,
    stack: &str,
    token: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(String, bool), AwsError> {
    match get_service(client, &spec.cluster, &spec.name).await? {
        Some(live) if live.status == "ACTIVE" => {
            if !owned_by(&live.tags, stack) {
                return Err(not_owned("DescribeServices", "ECS service", &spec.name, stack));
            }
            if live.task_definition == spec.task_definition && live.desired == spec.desired_count {
                return Ok((live.arn, false));
            }
            client
                .update_service()
                .cluster(&spec.cluster)
                .service(&spec.name)
                .task_definition(&spec.task_definition)
                .desired_count(spec.desired_count)
                .send()
                .await
                .map_err(err("UpdateService"))?;
            Ok((live.arn, true))
        }
        _ => {
            let out = client
                .create_service()
                .cluster(&spec.cluster)
                .service_name(&spec.name)
                .task_definition(&spec.task_definition)
                .desired_count(spec.desired_count)
                .launch_type(LaunchType::Fargate)
                .network_configuration(
                    NetworkConfiguration::builder()
                        .awsvpc_configuration(
                            AwsVpcConfiguration::builder()
                                .set_subnets(Some(spec.subnets.clone()))
                                .security_groups(&spec.security_group)
                                .assign_public_ip(AssignPublicIp::Disabled)
                                .build()
                                .map_err(|e| AwsError {
                                    operation: "CreateService",
                                    code: None,
                                    message: e.to_string(),
                                })?,
                        )
                        .build(),
                )
                .load_balancers(
                    LoadBalancer::builder()
                        .target_group_arn(&spec.target_group_arn)
                        .container_name(CONTAINER)
                        .container_port(PROXY_PORT)
                        .build(),
                )
                .health_check_grace_period_seconds(HEALTH_CHECK_GRACE_S)
                .client_token(token)
                .set_tags(Some(ecs_tags(tags)))
                .send()
                .await
                .map_err(err("CreateService"))?;
            Ok((
                out.service()
                    .and_then(|s| s.service_arn())
                    .unwrap_or_default()
                    .to_string(),
                true,
            ))
        }
    }
}

/// Scales the service to zero and deletes it (forced, so tasks still
/// draining do not block); gone or inactive counts as done.
pub async fn delete_service(client: &Client, cluster: &str, name: &str) -> Result<(), AwsError> {
    let Some(live) = get_service(client, cluster, name).await? else {
        return Ok(());
    };
    if live.status != "ACTIVE" {
        return Ok(());
    }
    if live.desired != 0 {
        client
            .update_service()
            .cluster(cluster)
            .service(name)
            .desired_count(0)
            .send()
            .await
            .map_err(err("UpdateService"))?;
    }
    match client
        .delete_service()
        .cluster(cluster)
        .service(name)
        .force(true)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_service_not_found_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(AwsError::from_sdk("DeleteService", e)),
    }
}
