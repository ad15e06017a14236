//! What each node should be: its desired spec, from the profile and the
//! outputs its dependencies recorded in the lockfile. Pure (no SDK calls),
//! so `plan` can compare it with what `up` last applied, and `up` applies
//! exactly this.

use serde::Serialize;
use serde_json::{Value, json};

use super::{StepError, output};
use crate::lockfile::Lockfile;
use crate::names::StackNames;
use crate::profile::{AlbOrigin, Network, Profile};
use crate::resources::cache_policy::CachePolicySpec;
use crate::resources::distribution::{DistributionSpec, Inputs};
use crate::resources::edge_function::EdgeFunctionSpec;
use crate::resources::load_balancer::{AlbSpec, HEALTH_CHECK_PATH, ListenerSpec, TargetGroupSpec};
use crate::resources::network::{SUBNETS, VPC_CIDR};
use crate::resources::origin_request_policy::OriginRequestPolicySpec;
use crate::resources::origin_secret::OriginSecretSpec;
use crate::resources::proxy::{self, ServiceSpec, TaskSpec};
use crate::resources::role::RoleSpec;
use crate::resources::security_group::PROXY_PORT;
use crate::resources::{edge_role, log_bucket, tags_for};

/// What the specs are built from.
pub struct Sources<'a> {
    pub profile: &'a Profile,
    pub lock: &'a Lockfile,
    pub account: &'a str,
    /// The authorizer zip (with an authorizer only).
    pub package: Option<&'a [u8]>,
}

impl Sources<'_> {
    fn names(&self) -> StackNames<'_> {
        StackNames {
            stack: &self.profile.stack.name,
        }
    }

    pub fn tags(&self, id: &str) -> std::collections::BTreeMap<String, String> {
        tags_for(&self.profile.stack.name, id, &self.profile.stack.tags)
    }

    fn region(&self) -> &str {
        &self.profile.healthimaging.region
    }

    pub fn vpc_id(&self) -> Result<String, StepError> {
        match &self.profile.network {
            Network::Create => output(self.lock, "vpc", "id"),
            Network::Existing { vpc_id, .. } => Ok(vpc_id.clone()),
        }
    }

    pub fn subnets(&self, public: bool) -> Result<Vec<String>, StepError> {
        match &self.profile.network {
            Network::Create => SUBNETS
                .iter()
                .filter(|(_, _, _, p)| *p == public)
                .map(|(id, ..)| output(self.lock, id, "id"))
                .collect(),
            Network::Existing {
                public_subnet_ids,
                private_subnet_ids,
                ..
            } => Ok(if public {
                public_subnet_ids.clone()
            } else {
                private_subnet_ids.clone()
            }),
        }
    }

    pub fn log_bucket(&self) -> String {
        self.names().log_bucket(self.account, self.region())
    }

    pub fn edge_role(&self) -> RoleSpec {
        edge_role::spec(self.profile)
    }

    pub fn edge_function(&self) -> Result<EdgeFunctionSpec, StepError> {
        let role_arn = output(self.lock, "edge_role", "arn")?;
        let package = self
            .package
            .ok_or_else(|| StepError::Missing("the authorizer package was not built".into()))?;
        Ok(EdgeFunctionSpec::new(self.profile, &role_arn, package))
    }

    pub fn alb(&self) -> Result<AlbSpec, StepError> {
        Ok(AlbSpec {
            name: self.names().load_balancer(),
            subnets: self.subnets(true)?,
            security_group: output(self.lock, "alb_security_group", "id")?,
            log_bucket: self.log_bucket(),
            tags: self.tags("load_balancer"),
        })
    }

    pub fn target_group(&self) -> Result<TargetGroupSpec, StepError> {
        Ok(TargetGroupSpec {
            name: self.names().target_group(),
            vpc_id: self.vpc_id()?,
            port: PROXY_PORT,
            health_check_path: HEALTH_CHECK_PATH.into(),
            tags: self.tags("target_group"),
        })
    }

    pub fn listener(&self) -> Result<ListenerSpec, StepError> {
        let (port, certificate_arn) = match &self.profile.alb {
            AlbOrigin::Https { certificate_arn, .. } => (443, Some(certificate_arn.clone())),
            AlbOrigin::Http => (80, None),
        };
        Ok(ListenerSpec {
            load_balancer_arn: output(self.lock, "load_balancer", "arn")?,
            port,
            certificate_arn,
        })
    }

    pub fn listener_port(&self) -> i32 {
        match self.profile.alb {
            AlbOrigin::Https { .. } => 443,
            AlbOrigin::Http => 80,
        }
    }

    pub fn distribution(&self) -> Result<DistributionSpec, StepError> {
        let authorizer = match self.profile.auth.mode {
            crate::profile::AuthMode::None => None,
            _ => Some(output(self.lock, "edge_function", "version_arn")?),
        };
        let inputs = Inputs {
            alb_dns_name: output(self.lock, "load_balancer", "dns_name")?,
            cache_policy_id: output(self.lock, "cache_policy", "id")?,
            origin_request_policy_id: output(self.lock, "origin_request_policy", "id")?,
            authorizer_version_arn: authorizer,
            log_bucket_domain: format!("{}.s3.amazonaws.com", self.log_bucket()),
            origin_secret_version: output(self.lock, "origin_secret", "version_id")?,
        };
        Ok(DistributionSpec::new(self.profile, &inputs))
    }

    pub fn task_definition(&self) -> Result<TaskSpec, StepError> {
        Ok(TaskSpec::new(
            self.profile,
            &output(self.lock, "task_execution_role", "arn")?,
            &output(self.lock, "task_role", "arn")?,
        ))
    }

    pub fn service(&self) -> Result<ServiceSpec, StepError> {
        Ok(ServiceSpec {
            cluster: self.names().cluster(),
            name: self.names().service(),
            task_definition: output(self.lock, "task_definition", "arn")?,
            desired_count: self.profile.proxy.desired_count as i32,
            subnets: self.subnets(false)?,
            security_group: output(self.lock, "task_security_group", "id")?,
            target_group_arn: output(self.lock, "target_group", "arn")?,
        })
    }

    /// The desired spec of node `id` as JSON, or `None` for wait steps.
    pub fn json(&self, id: &str) -> Result<Option<Value>, StepError> {
        fn j<T: Serialize>(spec: T) -> Result<Option<Value>, StepError> {
            Ok(Some(serde_json::to_value(spec).unwrap_or(Value::Null)))
        }
        let names = self.names();
        let region = self.region();
        match id {
            "edge_role" => j(self.edge_role()),
            "edge_function" => j(self.edge_function()?),
            "cache_policy" => j(CachePolicySpec::for_profile(self.profile)),
            "origin_request_policy" => j(OriginRequestPolicySpec::for_profile(self.profile)),
            "log_bucket" => j(json!({
                "name": self.log_bucket(),
                "policy": log_bucket::policy(&self.log_bucket(), self.account, region),
                "tags": self.tags(id),
            })),
            "origin_secret" => j(OriginSecretSpec::for_profile(self.profile)),
            "vpc" => j(json!({"cidr": VPC_CIDR, "tags": self.tags(id)})),
            "internet_gateway" => j(json!({"vpc": self.vpc_id()?, "tags": self.tags(id)})),
            "nat_eip" => j(json!({"tags": self.tags(id)})),
            "nat_gateway" => j(json!({
                "subnet": output(self.lock, "subnet_public_a", "id")?,
                "allocation": output(self.lock, "nat_eip", "id")?,
                "tags": self.tags(id),
            })),
            "public_routes" => j(json!({
                "vpc": self.vpc_id()?,
                "via": output(self.lock, "internet_gateway", "id")?,
                "subnets": self.subnets(true)?,
            })),
            "private_routes" => j(json!({
                "vpc": self.vpc_id()?,
                "via": output(self.lock, "nat_gateway", "id")?,
                "subnets": self.subnets(false)?,
            })),
            "alb_security_group" => j(json!({
                "vpc": self.vpc_id()?,
                "port": self.listener_port(),
                "from": "com.amazonaws.global.cloudfront.origin-facing",
            })),
            "task_security_group" => j(json!({
                "vpc": self.vpc_id()?,
                "port": PROXY_PORT,
                "from": output(self.lock, "alb_security_group", "id")?,
            })),
            "load_balancer" => j(self.alb()?),
            "target_group" => j(self.target_group()?),
            "listener" => j(self.listener()?),
            "listener_rule" => j(json!({
                "listener": output(self.lock, "listener", "arn")?,
                "target_group": output(self.lock, "target_group", "arn")?,
                "origin_secret_version": output(self.lock, "origin_secret", "version_id")?,
            })),
            "distribution" => j(self.distribution()?),
            "cluster" => j(json!({"name": names.cluster(), "tags": self.tags(id)})),
            "task_execution_role" => j(proxy::execution_role(self.profile)),
            "task_role" => j(proxy::task_role(self.profile, self.account)),
            "log_group" => j(json!({
                "name": names.proxy_log_group(),
                "retention_days": self.profile.logs.retention_days,
            })),
            "task_definition" => j(self.task_definition()?),
            "service" => j(self.service()?),
            subnet if subnet.starts_with("subnet_") => {
                let (_, cidr, zone, public) = SUBNETS
                    .iter()
                    .find(|(s, ..)| *s == subnet)
                    .ok_or_else(|| StepError::Missing(format!("unknown subnet {subnet}")))?;
                j(json!({"vpc": self.vpc_id()?, "cidr": cidr, "zone": zone, "public": public}))
            }
            _ => Ok(None),
        }
    }
}
