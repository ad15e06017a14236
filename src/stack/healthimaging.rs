//! The HealthImaging delivery stack's own instances (with `[healthimaging]`
//! only): the authorizer, the stack's CloudFront policies, the origin
//! secret, the network, the ALB and the proxy on ECS. The distribution and
//! what its routes need come from `stack::routes`. Each instance's spec is
//! built here, once, from the profile and what its dependencies recorded;
//! the very same value is sent to AWS, fingerprinted and recorded.
//!
//! A profile selects what it uses: no Lambda@Edge with `auth.mode =
//! "none"`, no network instances with an existing VPC.

use crate::engine::kind::Output;
use std::collections::BTreeMap;

use super::StepError;
use super::instance::{Instance, Sources};
use crate::kinds::cloudfront_policy::Policy;
use crate::kinds::{
    cache_policy, ecs_cluster, ecs_service, edge_function, elastic_ip, iam_role, internet_gateway, listener,
    listener_rule, load_balancer, log_group, nat_gateway, origin_request_policy, origin_secret,
    response_headers_policy, route_table, security_group, subnet, target_group, task_definition, vpc,
};
use crate::names::StackNames;
use crate::profile::{AlbOrigin, Delivery, Network, Profile};
use crate::resources::distribution::ORIGIN_HEADER;
use crate::resources::load_balancer::{HEALTH_CHECK_PATH, TLS_POLICY};
use crate::resources::network::{SUBNETS, VPC_CIDR};
use crate::resources::proxy::{self, CONTAINER, HEALTH_CHECK_GRACE_S, TaskSpec};
use crate::resources::role::RoleSpec;
use crate::resources::security_group::{CLOUDFRONT_PREFIX_LIST, PROXY_PORT};
use crate::resources::{edge_role, tags_for};
use cache_policy::CachePolicySpec;
use origin_request_policy::OriginRequestPolicySpec;
use response_headers_policy::ResponseHeadersPolicySpec;

pub(super) fn names<'a>(src: &'a Sources<'a>) -> StackNames<'a> {
    StackNames {
        stack: &src.profile.stack.name,
    }
}

pub(super) fn tags(src: &Sources, id: &str) -> BTreeMap<String, String> {
    tags_for(&src.profile.stack.name, id, &src.profile.stack.tags)
}

/// The HealthImaging sections of the profile (its instances exist only with them).
fn hi<'a>(src: &'a Sources) -> Result<&'a Delivery, StepError> {
    src.profile
        .delivery
        .as_ref()
        .ok_or_else(|| StepError::Missing("the profile has no [healthimaging]".into()))
}

fn vpc_id(src: &Sources) -> Result<String, StepError> {
    match &hi(src)?.network {
        Network::Create => src.output("vpc", Output::ID),
        Network::Existing { vpc_id, .. } => Ok(vpc_id.clone()),
    }
}

fn subnets(src: &Sources, public: bool) -> Result<Vec<String>, StepError> {
    let mut ids = match &hi(src)?.network {
        Network::Create => SUBNETS
            .iter()
            .filter(|(_, _, _, p)| *p == public)
            .map(|(id, ..)| src.output(id, Output::ID))
            .collect::<Result<Vec<_>, _>>()?,
        Network::Existing {
            public_subnet_ids,
            private_subnet_ids,
            ..
        } => {
            if public {
                public_subnet_ids.clone()
            } else {
                private_subnet_ids.clone()
            }
        }
    };
    ids.sort();
    Ok(ids)
}

fn listener_port(hi: &Delivery) -> i32 {
    match hi.alb {
        AlbOrigin::Https { .. } => 443,
        AlbOrigin::Http => 80,
    }
}

/// Every role the stack creates carries the stack's permissions boundary.
fn role(src: &Sources, spec: RoleSpec) -> iam_role::Spec {
    let mut managed = spec.managed_policies;
    managed.sort();
    iam_role::Spec {
        permissions_boundary: Some(crate::resources::role::boundary_arn(
            &src.profile.stack.name,
            src.account,
        )),
        name: spec.name,
        description: spec.description,
        trust_policy: spec.trust_policy,
        managed_policies: managed,
        inline_policies: spec.inline_policy.into_iter().collect(),
        tags: spec.tags,
    }
}

/// The HealthImaging stack's instances (none without `[healthimaging]`).
pub fn instances(profile: &Profile) -> Vec<Instance> {
    let Some(delivery) = &profile.delivery else {
        return Vec::new();
    };
    let r = profile.region.clone();
    let mut out = Vec::new();
    if delivery.authorizer() {
        out.push(Instance::of::<iam_role::IamRole>(
            "edge_role",
            "global",
            &[],
            |src| Ok(role(src, edge_role::spec(src.profile))),
        ));
        out.push(Instance::of::<edge_function::EdgeFunction>(
            "edge_function",
            crate::aws::EDGE_REGION,
            &["edge_role"],
            |src| {
                let stack = &src.profile.stack.name;
                Ok(edge_function::Spec {
                    name: names(src).edge_function(),
                    role_arn: src.output("edge_role", Output::ARN)?,
                    runtime: "nodejs22.x".into(),
                    handler: "index.handler".into(),
                    memory_mb: edge_function::MEMORY_MB,
                    timeout_s: edge_function::TIMEOUT_S,
                    description: format!("ahi-edge stack {stack}: viewer-request JWT authorizer"),
                    code_sha256: src
                        .package_sha
                        .clone()
                        .ok_or_else(|| StepError::Missing("the authorizer package was not built".into()))?,
                    published: true,
                    tags: tags(src, "edge_function"),
                    replica_regions: hi(src)?.lambda_edge.replica_regions.clone(),
                })
            },
        ));
    }
    out.push(Instance::of::<Policy<cache_policy::Api>>(
        "cache_policy",
        "global",
        &[],
        |src| Ok(CachePolicySpec::for_profile(src.profile)),
    ));
    out.push(Instance::of::<Policy<origin_request_policy::Api>>(
        "origin_request_policy",
        "global",
        &[],
        |src| Ok(OriginRequestPolicySpec::for_profile(src.profile)),
    ));
    out.push(Instance::of::<Policy<response_headers_policy::Api>>(
        "response_headers_policy",
        "global",
        &[],
        |src| Ok(ResponseHeadersPolicySpec::for_profile(src.profile, hi(src)?)),
    ));
    out.push(Instance::of::<origin_secret::OriginSecret>(
        "origin_secret",
        &r,
        &[],
        |src| {
            Ok(origin_secret::Spec {
                name: names(src).origin_secret(),
                description: "ahi-edge: the header CloudFront sends and the ALB requires".into(),
                tags: tags(src, "origin_secret"),
            })
        },
    ));
    if matches!(delivery.network, Network::Create) {
        network(&mut out, &r);
    }
    out.push(Instance::of::<security_group::SecurityGroup>(
        "alb_security_group",
        &r,
        &["vpc"],
        |src| {
            Ok(security_group::Spec {
                name: names(src).alb_security_group(),
                description: "ahi-edge: the ALB, reachable only from CloudFront".into(),
                vpc: vpc_id(src)?,
                ingress: vec![security_group::Rule {
                    protocol: "tcp".into(),
                    from_port: listener_port(hi(src)?),
                    to_port: listener_port(hi(src)?),
                    source: security_group::Source::PrefixList(CLOUDFRONT_PREFIX_LIST.into()),
                }],
                tags: tags(src, "alb_security_group"),
            })
        },
    ));
    out.push(Instance::of::<security_group::SecurityGroup>(
        "task_security_group",
        &r,
        &["vpc", "alb_security_group"],
        |src| {
            Ok(security_group::Spec {
                name: names(src).task_security_group(),
                description: "ahi-edge: the proxy tasks, reachable only from the ALB".into(),
                vpc: vpc_id(src)?,
                ingress: vec![security_group::Rule {
                    protocol: "tcp".into(),
                    from_port: PROXY_PORT,
                    to_port: PROXY_PORT,
                    source: security_group::Source::Group(src.output("alb_security_group", Output::ID)?),
                }],
                tags: tags(src, "task_security_group"),
            })
        },
    ));
    let alb = Instance::of::<load_balancer::LoadBalancerKind>(
        "load_balancer",
        &r,
        &[
            "alb_security_group",
            "subnet_public_a",
            "subnet_public_b",
            "internet_gateway",
            "log_bucket",
        ],
        |src| {
            let attributes = [
                (
                    "routing.http.drop_invalid_header_fields.enabled",
                    "true".to_string(),
                ),
                ("access_logs.s3.enabled", "true".to_string()),
                ("access_logs.s3.bucket", super::routes::log_bucket_name(src)),
                ("access_logs.s3.prefix", "alb".to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            Ok(load_balancer::Spec {
                name: names(src).load_balancer(),
                scheme: "internet-facing".into(),
                ip_address_type: "ipv4".into(),
                subnets: subnets(src, true)?,
                security_groups: vec![src.output("alb_security_group", Output::ID)?],
                attributes,
                tags: tags(src, "load_balancer"),
            })
        },
    );
    out.push(Instance::ready("load_balancer_active", &alb));
    out.push(alb);
    out.push(Instance::of::<target_group::TargetGroupKind>(
        "target_group",
        &r,
        &["vpc"],
        |src| {
            Ok(target_group::Spec {
                name: names(src).target_group(),
                protocol: "HTTP".into(),
                port: PROXY_PORT,
                vpc: vpc_id(src)?,
                target_type: "ip".into(),
                health_check_protocol: "HTTP".into(),
                health_check_path: HEALTH_CHECK_PATH.into(),
                // The proxy is stateless: a draining task needs seconds, not
                // the default 5 minutes every rollout and `down` would wait.
                deregistration_delay_s: 30,
                tags: tags(src, "target_group"),
            })
        },
    ));
    out.push(Instance::of::<listener::ListenerKind>(
        "listener",
        &r,
        &["load_balancer"],
        |src| {
            let https = match &hi(src)?.alb {
                AlbOrigin::Https { certificate_arn, .. } => Some(certificate_arn.clone()),
                AlbOrigin::Http => None,
            };
            Ok(listener::Spec {
                load_balancer: src.output("load_balancer", Output::ARN)?,
                port: listener_port(hi(src)?),
                protocol: if https.is_some() { "HTTPS" } else { "HTTP" }.into(),
                ssl_policy: https.as_ref().map(|_| TLS_POLICY.to_string()),
                certificate: https,
                default_action: listener::DENY_ALL.into(),
            })
        },
    ));
    out.push(Instance::of::<listener_rule::ListenerRule>(
        "listener_rule",
        &r,
        &["listener", "target_group", "origin_secret"],
        |src| {
            Ok(listener_rule::Spec {
                listener: src.output("listener", Output::ARN)?,
                priority: "1".into(),
                header: ORIGIN_HEADER.into(),
                origin_secret: listener_rule::SecretRef {
                    arn: src.output("origin_secret", Output::ARN)?,
                    version: src.output("origin_secret", crate::kinds::origin_secret::VERSION_ID)?,
                },
                target_group: src.output("target_group", Output::ARN)?,
                rotating_to: None,
            })
        },
    ));
    out.push(Instance::of::<ecs_cluster::EcsCluster>(
        "cluster",
        &r,
        &[],
        |src| {
            Ok(ecs_cluster::Spec {
                name: names(src).cluster(),
                tags: tags(src, "cluster"),
            })
        },
    ));
    out.push(Instance::of::<iam_role::IamRole>(
        "task_execution_role",
        "global",
        &[],
        |src| Ok(role(src, proxy::execution_role(src.profile, src.account))),
    ));
    out.push(Instance::of::<iam_role::IamRole>(
        "task_role",
        "global",
        &[],
        |src| Ok(role(src, proxy::task_role(src.profile, src.account))),
    ));
    out.push(Instance::of::<log_group::LogGroup>("log_group", &r, &[], |src| {
        Ok(log_group::Spec {
            name: names(src).proxy_log_group(),
            retention_days: src.profile.logs.retention_days as i32,
            tags: tags(src, "log_group"),
        })
    }));
    out.push(Instance::of::<task_definition::TaskDefinition>(
        "task_definition",
        &r,
        &["task_execution_role", "task_role", "log_group", "origin_secret"],
        |src| {
            Ok(task_definition::Spec {
                task: TaskSpec::new(
                    src.profile,
                    hi(src)?,
                    &src.output("task_execution_role", Output::ARN)?,
                    &src.output("task_role", Output::ARN)?,
                )
                .with_origin_secret(
                    &src.output("origin_secret", Output::ARN)?,
                    &[&src.output("origin_secret", crate::kinds::origin_secret::VERSION_ID)?],
                ),
                tags: tags(src, "task_definition"),
            })
        },
    ));
    let service = Instance::of::<ecs_service::EcsService>(
        "service",
        &r,
        &[
            "cluster",
            "task_definition",
            "listener_rule",
            "task_security_group",
            "subnet_private_a",
            "subnet_private_b",
            "private_routes",
            "target_group",
        ],
        |src| {
            Ok(ecs_service::Spec {
                cluster: names(src).cluster(),
                name: names(src).service(),
                task_definition: src.output("task_definition", Output::ARN)?,
                desired_count: hi(src)?.proxy.desired_count as i32,
                launch_type: "FARGATE".into(),
                subnets: subnets(src, false)?,
                security_groups: vec![src.output("task_security_group", Output::ID)?],
                assign_public_ip: "DISABLED".into(),
                target_group: src.output("target_group", Output::ARN)?,
                container: CONTAINER.into(),
                container_port: PROXY_PORT,
                health_check_grace_s: HEALTH_CHECK_GRACE_S,
                circuit_breaker: true,
                tags: tags(src, "service"),
            })
        },
    );
    out.push(Instance::ready("service_steady", &service));
    out.push(service);
    out
}

/// The stack's own VPC: two public and two private subnets over two zones,
/// an internet gateway, a NAT gateway with its address, a route table per tier.
fn network(out: &mut Vec<Instance>, r: &str) {
    out.push(Instance::of::<vpc::Vpc>("vpc", r, &[], |src| {
        Ok(vpc::Spec {
            cidr: VPC_CIDR.into(),
            dns_support: true,
            dns_hostnames: true,
            tags: tags(src, "vpc"),
        })
    }));
    for (id, cidr, zone, _) in SUBNETS {
        out.push(Instance::of::<subnet::Subnet>(id, r, &["vpc"], move |src| {
            Ok(subnet::Spec {
                vpc: vpc_id(src)?,
                cidr: cidr.into(),
                zone,
                tags: tags(src, id),
            })
        }));
    }
    out.push(Instance::of::<internet_gateway::InternetGateway>(
        "internet_gateway",
        r,
        &["vpc"],
        |src| {
            Ok(internet_gateway::Spec {
                vpc: vpc_id(src)?,
                tags: tags(src, "internet_gateway"),
            })
        },
    ));
    out.push(Instance::of::<elastic_ip::ElasticIp>("nat_eip", r, &[], |src| {
        Ok(elastic_ip::Spec {
            tags: tags(src, "nat_eip"),
        })
    }));
    out.push(Instance::of::<nat_gateway::NatGateway>(
        "nat_gateway",
        r,
        &["subnet_public_a", "nat_eip", "internet_gateway"],
        |src| {
            Ok(nat_gateway::Spec {
                subnet: src.output("subnet_public_a", Output::ID)?,
                allocation: src.output("nat_eip", Output::ID)?,
                tags: tags(src, "nat_gateway"),
            })
        },
    ));
    for (id, public) in [("public_routes", true), ("private_routes", false)] {
        let needs: &[&str] = if public {
            &["internet_gateway", "subnet_public_a", "subnet_public_b", "vpc"]
        } else {
            &["nat_gateway", "subnet_private_a", "subnet_private_b", "vpc"]
        };
        out.push(Instance::of::<route_table::RouteTable>(
            id,
            r,
            needs,
            move |src| {
                let via = if public { "internet_gateway" } else { "nat_gateway" };
                Ok(route_table::Spec {
                    vpc: vpc_id(src)?,
                    default_route: src.output(via, Output::ID)?,
                    subnets: subnets(src, public)?,
                    tags: tags(src, id),
                })
            },
        ));
    }
}
