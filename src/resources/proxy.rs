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
    Compatibility, ContainerDefinition, CpuArchitecture, KeyValuePair, LogConfiguration, LogDriver,
    NetworkMode, OsFamily, PortMapping, RuntimePlatform, Secret, Tag, TaskDefinition, TaskDefinitionStatus,
    TransportProtocol,
};
use serde::Serialize;
use serde_json::json;

use super::role::{RoleSpec, trusted_by_in_account};
use super::security_group::PROXY_PORT;
use super::{Tags, tags_for};
use crate::aws::AwsError;
use crate::names::StackNames;
use crate::profile::{AuthMode, Delivery, HealthImaging, Operation, Profile};

pub const CONTAINER: &str = "proxy";
pub const EXECUTION_POLICY: &str = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
/// Time the ALB gives a new task before health checks count.
pub const HEALTH_CHECK_GRACE_S: i32 = 60;

fn err<E>(operation: &'static str) -> impl FnOnce(aws_sdk_ecs::error::SdkError<E>) -> AwsError
where
    E: aws_sdk_ecs::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    move |e| AwsError::from_sdk(operation, e)
}

pub fn ecs_tags(map: &BTreeMap<String, String>) -> Vec<Tag> {
    map.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect()
}

/// ECS assumes both task roles for this account's tasks only: AWS
/// documents `aws:SourceAccount` in the trust policy of ECS task roles
/// (docs/permissions.md, "Role trust policies").
pub fn execution_role(profile: &Profile, account: &str) -> RoleSpec {
    let stack = &profile.stack.name;
    RoleSpec {
        name: StackNames { stack }.task_execution_role(),
        description: "ahi-edge: pulls the proxy image and writes its logs".into(),
        trust_policy: trusted_by_in_account(&["ecs-tasks.amazonaws.com"], account),
        managed_policies: vec![EXECUTION_POLICY.to_string()],
        inline_policy: Some(("origin-secret-read".into(), origin_secret_read(profile, account))),
        tags: tags_for(stack, "task_execution_role", &profile.stack.tags),
    }
}

/// ECS reads the task definition's `secrets` with the execution role when
/// a task starts: the origin secret only (any of its versions; the `-??????`
/// is the suffix Secrets Manager appends to the name in the ARN).
pub fn origin_secret_read(profile: &Profile, account: &str) -> serde_json::Value {
    let name = StackNames {
        stack: &profile.stack.name,
    }
    .origin_secret();
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": format!("arn:aws:secretsmanager:{}:{account}:secret:{name}-??????", profile.region)
        }]
    })
}

/// The role the proxy signs HealthImaging calls with: the enabled
/// operations' actions only, on the profile's data stores only. The Service
/// Authorization Reference (list_awshealthimaging) makes the image set reads
/// (GetImageFrame, GetImageSet, GetImageSetMetadata, ListImageSetVersions)
/// require two resource types, `datastore*` and `imageset*`
/// (`datastore/<id>/imageset/<set>`), so their statement names both: with
/// the image set ARN alone AWS denies them. SearchImageSets requires
/// `datastore*` only. No data store listing or DICOMweb action is granted.
pub fn task_role(profile: &Profile, account: &str) -> RoleSpec {
    let stack = &profile.stack.name;
    RoleSpec {
        name: StackNames { stack }.task_role(),
        description: "ahi-edge: the proxy's HealthImaging read access".into(),
        trust_policy: trusted_by_in_account(&["ecs-tasks.amazonaws.com"], account),
        managed_policies: Vec::new(),
        inline_policy: profile.delivery.as_ref().map(|hi| {
            (
                "healthimaging-read".into(),
                read_policy(&hi.healthimaging, account),
            )
        }),
        tags: tags_for(stack, "task_role", &profile.stack.tags),
    }
}

/// The task role's policy document (see [`task_role`]).
pub fn read_policy(hi: &HealthImaging, account: &str) -> serde_json::Value {
    let arn = |id: &str| format!("arn:aws:medical-imaging:{}:{account}:datastore/{id}", hi.region);
    let actions = |search: bool| -> Vec<String> {
        hi.operations
            .iter()
            .filter(|o| (**o == Operation::SearchImageSets) == search)
            .map(|o| format!("medical-imaging:{}", o.name()))
            .collect()
    };
    let mut statements = Vec::new();
    let image_set_reads = actions(false);
    if !image_set_reads.is_empty() {
        statements.push(json!({
            "Sid": "ImageSetReads",
            "Effect": "Allow",
            "Action": image_set_reads,
            "Resource": hi
                .datastores
                .iter()
                .flat_map(|id| [arn(id), format!("{}/imageset/*", arn(id))])
                .collect::<Vec<_>>(),
        }));
    }
    let search = actions(true);
    if !search.is_empty() {
        statements.push(json!({
            "Sid": "Search",
            "Effect": "Allow",
            "Action": search,
            "Resource": hi.datastores.iter().map(|id| arn(id)).collect::<Vec<_>>(),
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// The task definition: what the proxy runs and with which settings.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
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
    /// Variable -> `valueFrom` (a Secrets Manager ARN pinned to a version):
    /// ECS reads the values when a task starts; they are never in the spec.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, String>,
}

/// The variables the proxy reads the accepted origin header values from:
/// the current one, and during a rotation the next one.
pub const ORIGIN_SECRET_VARS: [&str; 2] = ["ORIGIN_SECRET", "ORIGIN_SECRET_NEXT"];
/// The variable naming the header the values arrive in.
pub const ORIGIN_HEADER_VAR: &str = "ORIGIN_HEADER";

/// ECS's `valueFrom` for one version of a Secrets Manager secret:
/// `<secret ARN>:<json-key>:<version-stage>:<version-id>`, the whole
/// string value (no JSON key) of exactly that version (no stage, which
/// would follow the label as it moves).
pub fn secret_value_from(secret_arn: &str, version: &str) -> String {
    format!("{secret_arn}:::{version}")
}

impl TaskSpec {
    /// The proxy checks the origin header too: the header's name in the
    /// environment, the accepted versions (one, or two during a rotation)
    /// through `secrets`.
    pub fn with_origin_secret(mut self, secret_arn: &str, versions: &[&str]) -> Self {
        self.environment.insert(
            ORIGIN_HEADER_VAR.into(),
            crate::resources::distribution::ORIGIN_HEADER.into(),
        );
        self.secrets = ORIGIN_SECRET_VARS
            .iter()
            .zip(versions)
            .map(|(var, version)| (var.to_string(), secret_value_from(secret_arn, version)))
            .collect();
        self
    }
}

impl TaskSpec {
    pub fn new(profile: &Profile, hi: &Delivery, execution_role_arn: &str, task_role_arn: &str) -> Self {
        let stack = &profile.stack.name;
        let names = StackNames { stack };
        let mut env = BTreeMap::new();
        env.insert("AHI_REGION".to_string(), hi.healthimaging.region.clone());
        env.insert("PROXY_LOG_LEVEL".to_string(), hi.proxy.log_level.clone());
        env.insert("PORT".to_string(), PROXY_PORT.to_string());
        // The proxy's own boundary (it refuses anything else before signing).
        env.insert("DATASTORES".to_string(), hi.healthimaging.datastores.join(","));
        env.insert(
            "OPERATIONS".to_string(),
            hi.healthimaging.operation_names().join(","),
        );
        // The proxy checks the token again only where the edge passes it on
        // (per-viewer cache); in the shared cache the edge removed it.
        let forwarded = profile.cloudfront.cache == crate::profile::CacheScope::PerViewer;
        match &hi.auth.mode {
            _ if !forwarded => {
                env.insert("AUTH_MODE".into(), "none".into());
            }
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
            image: hi.proxy.image.clone(),
            cpu: hi.proxy.cpu.to_string(),
            memory: hi.proxy.memory.to_string(),
            architecture: hi.proxy.architecture.to_uppercase(),
            execution_role_arn: execution_role_arn.to_string(),
            task_role_arn: task_role_arn.to_string(),
            log_group: names.proxy_log_group(),
            log_region: hi.healthimaging.region.clone(),
            environment: env,
            secrets: BTreeMap::new(),
        }
    }

    pub fn from_live(td: &TaskDefinition) -> Option<Self> {
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
            secrets: container
                .secrets()
                .iter()
                .map(|s| (s.name().to_string(), s.value_from().to_string()))
                .collect(),
        })
    }
}

/// Registers a new revision of the family as `spec` says; returns its ARN.
pub async fn register_task_definition(
    client: &Client,
    spec: &TaskSpec,
    tags: &BTreeMap<String, String>,
) -> Result<String, AwsError> {
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
        .set_secrets(match spec.secrets.is_empty() {
            true => None,
            false => Some(
                spec.secrets
                    .iter()
                    .map(|(name, from)| {
                        Secret::builder()
                            .name(name)
                            .value_from(from)
                            .build()
                            .map_err(|e| AwsError {
                                operation: "RegisterTaskDefinition",
                                code: None,
                                message: e.to_string(),
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        })
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
    out.task_definition()
        .and_then(|t| t.task_definition_arn())
        .map(str::to_string)
        .ok_or_else(|| AwsError::missing("RegisterTaskDefinition", "taskDefinition.taskDefinitionArn"))
}

/// Deregisters the family's active revisions, all but `keep` (the one the
/// service runs) when given, and deletes the deregistered ones (INACTIVE
/// revisions stay listed otherwise). Returns how many were deregistered.
pub async fn deregister_family(client: &Client, family: &str, keep: Option<&str>) -> Result<usize, AwsError> {
    // The prefix matches longer families too; only ours, and not `keep`.
    let ours = |arn: &str| {
        arn.rsplit_once('/')
            .and_then(|(_, r)| r.rsplit_once(':'))
            .map(|(f, _)| f)
            == Some(family)
            && keep != Some(arn)
    };
    let listed = |status: TaskDefinitionStatus| async move {
        let out = client
            .list_task_definitions()
            .family_prefix(family)
            .status(status)
            .send()
            .await
            .map_err(err("ListTaskDefinitions"))?;
        Ok::<Vec<String>, AwsError>(
            out.task_definition_arns()
                .iter()
                .filter(|a| ours(a))
                .cloned()
                .collect(),
        )
    };
    let active = listed(TaskDefinitionStatus::Active).await?;
    for arn in &active {
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
    // A deregistered revision stays listed as INACTIVE until deleted.
    let inactive = listed(TaskDefinitionStatus::Inactive).await?;
    for batch in inactive.chunks(10) {
        client
            .delete_task_definitions()
            .set_task_definitions(Some(batch.to_vec()))
            .send()
            .await
            .map_err(err("DeleteTaskDefinitions"))?;
    }
    Ok(active.len())
}

/// Brings the tags of the ECS resource at `arn` from `have` to `want`.
pub async fn sync_tags(client: &Client, arn: &str, want: &Tags, have: &Tags) -> Result<(), AwsError> {
    let set = async |set: Tags| {
        let call = client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(ecs_tags(&set)));
        call.send().await.map(drop).map_err(err("TagResource"))
    };
    let remove = async |keys| {
        let call = client.untag_resource().resource_arn(arn).set_tag_keys(Some(keys));
        call.send().await.map(drop).map_err(err("UntagResource"))
    };
    crate::resources::sync_tags(want, have, set, remove).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The resource types each action requires, as the Service
    /// Authorization Reference's actions table for HealthImaging lists them
    /// (the `*` column).
    const REQUIRED: [(&str, &[&str]); 5] = [
        ("GetImageFrame", &["datastore", "imageset"]),
        ("GetImageSet", &["datastore", "imageset"]),
        ("GetImageSetMetadata", &["datastore", "imageset"]),
        ("ListImageSetVersions", &["datastore", "imageset"]),
        ("SearchImageSets", &["datastore"]),
    ];

    /// The resource type an ARN of ours names.
    fn resource_type(arn: &str) -> &'static str {
        match arn.contains("/imageset/") {
            true => "imageset",
            false => "datastore",
        }
    }

    #[test]
    fn every_enabled_action_names_each_resource_type_it_requires_on_each_data_store_only() {
        let ds = ["a".repeat(32), "b".repeat(32)];
        let hi = HealthImaging {
            region: "us-east-1".into(),
            datastores: ds.to_vec(),
            operations: Operation::ALL.to_vec(),
        };
        let policy = read_policy(&hi, "111122223333");
        for (action, types) in REQUIRED {
            let resources: Vec<&str> = policy["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| {
                    s["Action"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|a| *a == format!("medical-imaging:{action}"))
                })
                .flat_map(|s| {
                    s["Resource"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r.as_str().unwrap())
                })
                .collect();
            for id in &ds {
                for t in types {
                    assert!(
                        resources
                            .iter()
                            .any(|r| resource_type(r) == *t && r.contains(&format!("datastore/{id}"))),
                        "{action} lacks a {t} ARN of {id}: {resources:?}"
                    );
                }
            }
            for r in &resources {
                assert!(
                    ds.iter().any(|id| r.contains(&format!(":datastore/{id}"))),
                    "{action}: {r}"
                );
            }
        }
    }
}
