//! The regional proxy's front door: an internet-facing ALB (invalid header
//! fields dropped, access logs on), its target group (ip targets on 8080,
//! health check `/healthcheck`), a listener whose default answer is a
//! fixed 403, and one rule (priority 1) that forwards only requests
//! carrying the origin header CloudFront adds.
//!
//! ALB and target group names are unique per account and region, so they
//! are found by name; listeners and rules hang off their parent's ARN.

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, FixedResponseActionConfig, HttpHeaderConditionConfig, IpAddressType,
    LoadBalancerAttribute, LoadBalancerSchemeEnum, LoadBalancerStateEnum, LoadBalancerTypeEnum, ProtocolEnum,
    RuleCondition, Tag, TargetTypeEnum,
};
use serde::Serialize;

use super::{not_owned, owned_by};
use crate::aws::AwsError;
use crate::resources::distribution::ORIGIN_HEADER;

pub const TLS_POLICY: &str = "ELBSecurityPolicy-TLS-1-2-Ext-2018-06";
pub const HEALTH_CHECK_PATH: &str = "/healthcheck";
pub const DENIED_BODY: &str = "Access denied";

fn err<E>(
    operation: &'static str,
) -> impl FnOnce(aws_sdk_elasticloadbalancingv2::error::SdkError<E>) -> AwsError
where
    E: aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    move |e| AwsError::from_sdk(operation, e)
}

fn tags(map: &BTreeMap<String, String>) -> Vec<Tag> {
    map.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

async fn tags_of(client: &Client, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let out = client
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .map_err(err("DescribeTags"))?;
    Ok(out
        .tag_descriptions()
        .iter()
        .flat_map(|d| d.tags())
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect())
}

/// Whether the ALB or target group at `arn` carries this stack's tag.
pub async fn owned(client: &Client, arn: &str, stack: &str) -> Result<bool, AwsError> {
    Ok(owned_by(&tags_of(client, arn).await?, stack))
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlbSpec {
    pub name: String,
    pub subnets: Vec<String>,
    pub security_group: String,
    pub log_bucket: String,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveAlb {
    pub arn: String,
    pub dns_name: String,
    pub state: String,
}

pub async fn get_alb(client: &Client, name: &str) -> Result<Option<LiveAlb>, AwsError> {
    match client.describe_load_balancers().names(name).send().await {
        Ok(out) => Ok(out.load_balancers().first().map(|lb| LiveAlb {
            arn: lb.load_balancer_arn().unwrap_or_default().to_string(),
            dns_name: lb.dns_name().unwrap_or_default().to_string(),
            state: lb
                .state()
                .and_then(|s| s.code())
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
        })),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_load_balancer_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(AwsError::from_sdk("DescribeLoadBalancers", e)),
    }
}

pub fn is_active(state: &str) -> bool {
    state == LoadBalancerStateEnum::Active.as_str()
}

/// Creates the ALB or adopts ours; sets its attributes only when they differ.
pub async fn ensure_alb(client: &Client, spec: &AlbSpec, stack: &str) -> Result<(LiveAlb, bool), AwsError> {
    let (alb, mut wrote) = match get_alb(client, &spec.name).await? {
        Some(live) => {
            if !owned_by(&tags_of(client, &live.arn).await?, stack) {
                return Err(not_owned(
                    "DescribeLoadBalancers",
                    "load balancer",
                    &spec.name,
                    stack,
                ));
            }
            (live, false)
        }
        None => {
            let out = client
                .create_load_balancer()
                .name(&spec.name)
                .set_subnets(Some(spec.subnets.clone()))
                .security_groups(&spec.security_group)
                .scheme(LoadBalancerSchemeEnum::InternetFacing)
                .r#type(LoadBalancerTypeEnum::Application)
                .ip_address_type(IpAddressType::Ipv4)
                .set_tags(Some(tags(&spec.tags)))
                .send()
                .await
                .map_err(err("CreateLoadBalancer"))?;
            let lb = out.load_balancers().first();
            (
                LiveAlb {
                    arn: lb
                        .and_then(|l| l.load_balancer_arn())
                        .unwrap_or_default()
                        .to_string(),
                    dns_name: lb.and_then(|l| l.dns_name()).unwrap_or_default().to_string(),
                    state: "provisioning".into(),
                },
                true,
            )
        }
    };
    let want = [
        (
            "routing.http.drop_invalid_header_fields.enabled",
            "true".to_string(),
        ),
        ("access_logs.s3.enabled", "true".to_string()),
        ("access_logs.s3.bucket", spec.log_bucket.clone()),
        ("access_logs.s3.prefix", "alb".to_string()),
    ];
    let out = client
        .describe_load_balancer_attributes()
        .load_balancer_arn(&alb.arn)
        .send()
        .await
        .map_err(err("DescribeLoadBalancerAttributes"))?;
    let have: BTreeMap<&str, &str> = out
        .attributes()
        .iter()
        .filter_map(|a| Some((a.key()?, a.value()?)))
        .collect();
    if want.iter().any(|(k, v)| have.get(k) != Some(&v.as_str())) {
        client
            .modify_load_balancer_attributes()
            .load_balancer_arn(&alb.arn)
            .set_attributes(Some(
                want.iter()
                    .map(|(k, v)| LoadBalancerAttribute::builder().key(*k).value(v).build())
                    .collect(),
            ))
            .send()
            .await
            .map_err(err("ModifyLoadBalancerAttributes"))?;
        wrote = true;
    }
    Ok((alb, wrote))
}

/// Deletes the ALB (its listeners and rules go with it); gone counts as done.
pub async fn delete_alb(client: &Client, arn: &str) -> Result<(), AwsError> {
    match client.delete_load_balancer().load_balancer_arn(arn).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_load_balancer_not_found_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(AwsError::from_sdk("DeleteLoadBalancer", e)),
    }
}

pub async fn alb_exists(client: &Client, arn: &str) -> Result<Option<String>, AwsError> {
    match client
        .describe_load_balancers()
        .load_balancer_arns(arn)
        .send()
        .await
    {
        Ok(out) => Ok(out.load_balancers().first().map(|lb| {
            lb.state()
                .and_then(|s| s.code())
                .map(|c| c.as_str().to_string())
                .unwrap_or_default()
        })),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_load_balancer_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(AwsError::from_sdk("DescribeLoadBalancers", e)),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetGroupSpec {
    pub name: String,
    pub vpc_id: String,
    pub port: i32,
    pub health_check_path: String,
    pub tags: BTreeMap<String, String>,
}

pub async fn get_target_group(client: &Client, name: &str) -> Result<Option<String>, AwsError> {
    match client.describe_target_groups().names(name).send().await {
        Ok(out) => Ok(out
            .target_groups()
            .first()
            .and_then(|t| t.target_group_arn().map(str::to_string))),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_target_group_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(AwsError::from_sdk("DescribeTargetGroups", e)),
    }
}

pub async fn ensure_target_group(
    client: &Client,
    spec: &TargetGroupSpec,
    stack: &str,
) -> Result<(String, bool), AwsError> {
    if let Some(arn) = get_target_group(client, &spec.name).await? {
        if !owned_by(&tags_of(client, &arn).await?, stack) {
            return Err(not_owned(
                "DescribeTargetGroups",
                "target group",
                &spec.name,
                stack,
            ));
        }
        return Ok((arn, false));
    }
    let out = client
        .create_target_group()
        .name(&spec.name)
        .protocol(ProtocolEnum::Http)
        .port(spec.port)
        .vpc_id(&spec.vpc_id)
        .target_type(TargetTypeEnum::Ip)
        .health_check_protocol(ProtocolEnum::Http)
        .health_check_path(&spec.health_check_path)
        .set_tags(Some(tags(&spec.tags)))
        .send()
        .await
        .map_err(err("CreateTargetGroup"))?;
    Ok((
        out.target_groups()
            .first()
            .and_then(|t| t.target_group_arn())
            .unwrap_or_default()
            .to_string(),
        true,
    ))
}

/// Deletes the target group. `ResourceInUse` (its listener rule or ALB not
/// gone yet) is returned for the caller to retry.
pub async fn delete_target_group(client: &Client, arn: &str) -> Result<(), AwsError> {
    match client.delete_target_group().target_group_arn(arn).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = AwsError::from_sdk("DeleteTargetGroup", e);
            if e.is("TargetGroupNotFound") {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListenerSpec {
    pub load_balancer_arn: String,
    pub port: i32,
    /// `Some` for HTTPS: the ACM certificate for the ALB hostname.
    pub certificate_arn: Option<String>,
}

fn denied() -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::FixedResponse)
        .fixed_response_config(
            FixedResponseActionConfig::builder()
                .status_code("403")
                .content_type("text/plain")
                .message_body(DENIED_BODY)
                .build(),
        )
        .build()
}

/// The ALB's listener on the spec's port: created when missing, its
/// certificate and policy brought in line when they differ.
pub async fn ensure_listener(client: &Client, spec: &ListenerSpec) -> Result<(String, bool), AwsError> {
    let out = client
        .describe_listeners()
        .load_balancer_arn(&spec.load_balancer_arn)
        .send()
        .await
        .map_err(err("DescribeListeners"))?;
    let protocol = if spec.certificate_arn.is_some() {
        ProtocolEnum::Https
    } else {
        ProtocolEnum::Http
    };
    if let Some(live) = out.listeners().iter().find(|l| l.port() == Some(spec.port)) {
        let arn = live.listener_arn().unwrap_or_default().to_string();
        let live_cert = live.certificates().first().and_then(|c| c.certificate_arn());
        if live.protocol() == Some(&protocol) && live_cert == spec.certificate_arn.as_deref() {
            return Ok((arn, false));
        }
        let mut call = client.modify_listener().listener_arn(&arn).protocol(protocol);
        if let Some(cert) = &spec.certificate_arn {
            call = call
                .certificates(Certificate::builder().certificate_arn(cert).build())
                .ssl_policy(TLS_POLICY);
        }
        call.send().await.map_err(err("ModifyListener"))?;
        return Ok((arn, true));
    }
    let mut call = client
        .create_listener()
        .load_balancer_arn(&spec.load_balancer_arn)
        .protocol(protocol)
        .port(spec.port)
        .default_actions(denied());
    if let Some(cert) = &spec.certificate_arn {
        call = call
            .certificates(Certificate::builder().certificate_arn(cert).build())
            .ssl_policy(TLS_POLICY);
    }
    let out = call.send().await.map_err(err("CreateListener"))?;
    Ok((
        out.listeners()
            .first()
            .and_then(|l| l.listener_arn())
            .unwrap_or_default()
            .to_string(),
        true,
    ))
}

pub async fn delete_listener(client: &Client, arn: &str) -> Result<(), AwsError> {
    match client.delete_listener().listener_arn(arn).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_listener_not_found_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(AwsError::from_sdk("DeleteListener", e)),
    }
}

pub async fn listener_exists(client: &Client, arn: &str) -> Result<bool, AwsError> {
    match client.describe_listeners().listener_arns(arn).send().await {
        Ok(out) => Ok(!out.listeners().is_empty()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_listener_not_found_exception()) =>
        {
            Ok(false)
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_load_balancer_not_found_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(AwsError::from_sdk("DescribeListeners", e)),
    }
}

fn header_condition(secret: &str) -> RuleCondition {
    RuleCondition::builder()
        .field("http-header")
        .http_header_config(
            HttpHeaderConditionConfig::builder()
                .http_header_name(ORIGIN_HEADER)
                .values(secret)
                .build(),
        )
        .build()
}

fn forward(target_group_arn: &str) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(target_group_arn)
        .build()
}

/// What the priority-1 rule looks like live: its ARN, the header value it
/// requires (compared, never shown) and where it forwards.
async fn live_rule(
    client: &Client,
    listener_arn: &str,
) -> Result<Option<(String, Option<String>, Option<String>)>, AwsError> {
    let out = client
        .describe_rules()
        .listener_arn(listener_arn)
        .send()
        .await
        .map_err(err("DescribeRules"))?;
    Ok(out.rules().iter().find(|r| r.priority() == Some("1")).map(|r| {
        let value = r
            .conditions()
            .iter()
            .filter_map(|c| c.http_header_config())
            .find(|h| h.http_header_name() == Some(ORIGIN_HEADER))
            .and_then(|h| h.values().first().cloned());
        let target = r
            .actions()
            .iter()
            .find_map(|a| a.target_group_arn().map(str::to_string));
        (r.rule_arn().unwrap_or_default().to_string(), value, target)
    }))
}

/// The forwarding rule: created when missing, rewritten when it requires
/// another header value or forwards elsewhere. Returns its ARN and whether
/// anything was written.
pub async fn ensure_rule(
    client: &Client,
    listener_arn: &str,
    target_group_arn: &str,
    secret: &str,
) -> Result<(String, bool), AwsError> {
    match live_rule(client, listener_arn).await? {
        Some((arn, value, target))
            if value.as_deref() == Some(secret) && target.as_deref() == Some(target_group_arn) =>
        {
            Ok((arn, false))
        }
        Some((arn, _, _)) => {
            client
                .modify_rule()
                .rule_arn(&arn)
                .conditions(header_condition(secret))
                .actions(forward(target_group_arn))
                .send()
                .await
                .map_err(err("ModifyRule"))?;
            Ok((arn, true))
        }
        None => {
            let out = client
                .create_rule()
                .listener_arn(listener_arn)
                .priority(1)
                .conditions(header_condition(secret))
                .actions(forward(target_group_arn))
                .send()
                .await
                .map_err(err("CreateRule"))?;
            Ok((
                out.rules()
                    .first()
                    .and_then(|r| r.rule_arn())
                    .unwrap_or_default()
                    .to_string(),
                true,
            ))
        }
    }
}

/// Whether the rule still requires `secret` and forwards to the target group
/// (`None` when the rule is gone).
pub async fn rule_matches(
    client: &Client,
    listener_arn: &str,
    target_group_arn: &str,
    secret: &str,
) -> Result<Option<bool>, AwsError> {
    match live_rule(client, listener_arn).await {
        Ok(Some((_, value, target))) => Ok(Some(
            value.as_deref() == Some(secret) && target.as_deref() == Some(target_group_arn),
        )),
        Ok(None) => Ok(None),
        Err(e) if e.is("ListenerNotFound") || e.is("LoadBalancerNotFound") => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn delete_rule(client: &Client, arn: &str) -> Result<(), AwsError> {
    match client.delete_rule().rule_arn(arn).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_rule_not_found_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(AwsError::from_sdk("DeleteRule", e)),
    }
}
