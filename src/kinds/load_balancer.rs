//! The regional proxy's ALB (`elbv2-load-balancer`): internet-facing, IPv4,
//! in the spec's subnets and security groups, with its attributes (invalid
//! header fields dropped, access logs to the log bucket) and tags. Found by
//! name (unique per account and region). `up` waits until it is active.

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::types::{
    IpAddressType, LoadBalancer, LoadBalancerAttribute, LoadBalancerSchemeEnum, LoadBalancerTypeEnum,
};
use serde::{Deserialize, Serialize};

use super::{Tags, has, owned, user_tags};
use crate::aws::{AwsError, sdk, unless};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Output, Resource, Typical};
use crate::engine::polls::wait_for;
use crate::engine::step::{Cx, Step};
use crate::engine::wait::Check;
use crate::resources::load_balancer::{sync_tags, tags, tags_of};

pub struct LoadBalancerKind;

/// The ALB's DNS name (the origin CloudFront sends to).
pub const DNS_NAME: Output = Output("dns_name");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    pub scheme: String,
    pub ip_address_type: String,
    /// Sorted.
    pub subnets: Vec<String>,
    /// Sorted.
    pub security_groups: Vec<String>,
    pub attributes: BTreeMap<String, String>,
    pub tags: Tags,
}

const NOT_FOUND: &[&str] = &["LoadBalancerNotFound"];

async fn describe(cx: &Cx, at: &At<'_, Spec>) -> Result<Option<LoadBalancer>, AwsError> {
    lookup(cx, at.region, at.recorded_arn(), at.field("name")).await
}

async fn lookup(
    cx: &Cx,
    region: &str,
    arn: Option<&str>,
    name: Option<String>,
) -> Result<Option<LoadBalancer>, AwsError> {
    let elb = cx.clients.elb(region);
    let call = elb.describe_load_balancers();
    let call = match (arn, name) {
        (Some(arn), _) => call.load_balancer_arns(arn),
        (None, Some(name)) => call.names(name),
        (None, None) => return Ok(None),
    };
    let out = unless(NOT_FOUND, call.send().await.map_err(sdk("DescribeLoadBalancers")))?;
    Ok(out.and_then(|o| o.load_balancers().first().cloned()))
}

fn state(lb: &LoadBalancer) -> String {
    lb.state()
        .and_then(|s| s.code())
        .map(|c| c.as_str().to_string())
        .unwrap_or_default()
}

async fn set_attributes(cx: &Cx, at: &At<'_, Spec>, arn: &str, spec: &Spec) -> Result<(), AwsError> {
    cx.clients
        .elb(at.region)
        .modify_load_balancer_attributes()
        .load_balancer_arn(arn)
        .set_attributes(Some(
            spec.attributes
                .iter()
                .map(|(k, v)| LoadBalancerAttribute::builder().key(k).value(v).build())
                .collect(),
        ))
        .send()
        .await
        .map_err(sdk("ModifyLoadBalancerAttributes"))?;
    Ok(())
}

impl Resource for LoadBalancerKind {
    type Spec = Spec;

    const NAME: &'static str = "elbv2-load-balancer";

    const TYPICAL: Typical = Typical {
        create: 5,
        update: 2,
        delete: 30,
        ready: 116,
    };

    const REPLACE: &'static [&'static str] = &["name", "scheme"];

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let Some(lb) = describe(cx, at).await? else {
            return Ok(None);
        };
        let elb = cx.clients.elb(at.region);
        let arn = lb
            .load_balancer_arn()
            .ok_or_else(|| AwsError::missing("DescribeLoadBalancers", "LoadBalancerArn"))?;
        let dns = lb
            .dns_name()
            .ok_or_else(|| AwsError::missing("DescribeLoadBalancers", "DNSName"))?;
        let tags = user_tags(tags_of(&elb, arn).await?);
        let wanted: Vec<String> = at
            .raw
            .get("attributes")
            .and_then(|a| a.as_object())
            .map(|a| a.keys().cloned().collect())
            .unwrap_or_default();
        let attributes = elb
            .describe_load_balancer_attributes()
            .load_balancer_arn(arn)
            .send()
            .await
            .map_err(sdk("DescribeLoadBalancerAttributes"))?
            .attributes()
            .iter()
            .filter_map(|a| Some((a.key()?.to_string(), a.value()?.to_string())))
            .filter(|(k, _)| wanted.contains(k))
            .collect();
        let mut subnets: Vec<String> = lb
            .availability_zones()
            .iter()
            .filter_map(|z| z.subnet_id().map(str::to_string))
            .collect();
        subnets.sort();
        let mut security_groups = lb.security_groups().to_vec();
        security_groups.sort();
        let live = Spec {
            name: lb.load_balancer_name().unwrap_or_default().to_string(),
            scheme: lb.scheme().map(|s| s.as_str().to_string()).unwrap_or_default(),
            ip_address_type: lb
                .ip_address_type()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            subnets,
            security_groups,
            attributes,
            tags: tags.clone(),
        };
        Ok(Some(
            Found::new(&live.name, &live, owned(&tags, cx.stack()))
                .arn(arn)
                .out(DNS_NAME, dns)
                .detail(state(&lb)),
        ))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let out = cx
            .clients
            .elb(at.region)
            .create_load_balancer()
            .name(&spec.name)
            .set_subnets(Some(spec.subnets.clone()))
            .set_security_groups(Some(spec.security_groups.clone()))
            .scheme(LoadBalancerSchemeEnum::from(spec.scheme.as_str()))
            .r#type(LoadBalancerTypeEnum::Application)
            .ip_address_type(IpAddressType::from(spec.ip_address_type.as_str()))
            .set_tags(Some(tags(&spec.tags)))
            .send()
            .await
            .map_err(sdk("CreateLoadBalancer"))?;
        let lb = out
            .load_balancers()
            .first()
            .ok_or_else(|| AwsError::missing("CreateLoadBalancer", "LoadBalancers"))?;
        let arn = lb
            .load_balancer_arn()
            .ok_or_else(|| AwsError::missing("CreateLoadBalancer", "LoadBalancerArn"))?;
        let dns = lb
            .dns_name()
            .ok_or_else(|| AwsError::missing("CreateLoadBalancer", "DNSName"))?;
        set_attributes(cx, at, arn, spec).await?;
        Ok(Found::new(&spec.name, spec, true).arn(arn).out(DNS_NAME, dns))
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        let was: Spec = live.view()?;
        let elb = cx.clients.elb(at.region);
        let arn = live.arn_for("ModifyLoadBalancerAttributes")?;
        if has(fields, "subnets") {
            elb.set_subnets()
                .load_balancer_arn(arn)
                .set_subnets(Some(spec.subnets.clone()))
                .send()
                .await
                .map_err(sdk("SetSubnets"))?;
        }
        if has(fields, "security_groups") {
            elb.set_security_groups()
                .load_balancer_arn(arn)
                .set_security_groups(Some(spec.security_groups.clone()))
                .send()
                .await
                .map_err(sdk("SetSecurityGroups"))?;
        }
        if has(fields, "ip_address_type") {
            elb.set_ip_address_type()
                .load_balancer_arn(arn)
                .ip_address_type(IpAddressType::from(spec.ip_address_type.as_str()))
                .send()
                .await
                .map_err(sdk("SetIpAddressType"))?;
        }
        if has(fields, "attributes") {
            set_attributes(cx, at, arn, spec).await?;
        }
        if has(fields, "tags") {
            sync_tags(&elb, arn, &spec.tags, &was.tags).await?;
        }
        Ok(live.applied(spec))
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _opts: &Options) -> Step<Gone> {
        let elb = cx.clients.elb(at.region);
        let arn = live.arn_for("DeleteLoadBalancer")?.to_string();
        unless(
            NOT_FOUND,
            elb.delete_load_balancer()
                .load_balancer_arn(&arn)
                .send()
                .await
                .map_err(sdk("DeleteLoadBalancer")),
        )?;
        wait_for(cx, at.id, "load balancer to go".into(), 20, async || {
            Ok(lookup(cx, at.region, Some(&arn), None)
                .await?
                .map(|lb| state(&lb)))
        })
        .await?;
        Ok(Gone::Deleted)
    }

    async fn ready(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Check<()>> {
        Ok(match describe(cx, at).await? {
            Some(lb) if state(&lb) == "active" => Check::Done(()),
            Some(lb) => Check::Pending(state(&lb)),
            None => Check::Pending("not listed yet".into()),
        })
    }
}
