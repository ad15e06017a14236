//! The stack's own VPC (`ec2-vpc`): a CIDR, DNS support and hostnames on
//! (Fargate tasks resolve the HealthImaging endpoint through it), tags.
//! Found by its recorded id, else by its ownership tags.

use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, VpcAttributeName};
use serde::{Deserialize, Serialize};

use super::{Tags, has, this_instance, user_tags};
use crate::aws::{AwsError, sdk};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Resource};
use crate::engine::polls::retrying;
use crate::engine::step::{Cx, Step};
use crate::resources::network::{consistent, ok_if_gone, sync_tags, tag_map, tag_spec, unless_gone};

pub struct Vpc;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub cidr: String,
    pub dns_support: bool,
    pub dns_hostnames: bool,
    pub tags: Tags,
}

async fn attribute(client: &aws_sdk_ec2::Client, id: &str, name: VpcAttributeName) -> Result<bool, AwsError> {
    let out = client
        .describe_vpc_attribute()
        .vpc_id(id)
        .attribute(name.clone())
        .send()
        .await
        .map_err(sdk("DescribeVpcAttribute"))?;
    let value = match name {
        VpcAttributeName::EnableDnsHostnames => out.enable_dns_hostnames(),
        _ => out.enable_dns_support(),
    };
    Ok(value.and_then(|v| v.value()).unwrap_or(false))
}

async fn set_dns(client: &aws_sdk_ec2::Client, id: &str, spec: &Spec) -> Result<(), AwsError> {
    // One attribute per call, as EC2 requires.
    for hostnames in [false, true] {
        let on = AttributeBooleanValue::builder()
            .value(if hostnames {
                spec.dns_hostnames
            } else {
                spec.dns_support
            })
            .build();
        let call = client.modify_vpc_attribute().vpc_id(id);
        let call = if hostnames {
            call.enable_dns_hostnames(on)
        } else {
            call.enable_dns_support(on)
        };
        consistent(async || call.clone().send().await.map_err(sdk("ModifyVpcAttribute"))).await?;
    }
    Ok(())
}

impl Resource for Vpc {
    type Spec = Spec;

    const NAME: &'static str = "ec2-vpc";

    const REPLACE: &'static [&'static str] = &["cidr"];

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let ec2 = cx.clients.ec2(at.region);
        let call = ec2.describe_vpcs();
        let call = match at.recorded() {
            Some(id) => call.vpc_ids(id),
            None => call,
        };
        let Some(out) = unless_gone(call.send().await.map_err(sdk("DescribeVpcs")))? else {
            return Ok(None);
        };
        let Some(vpc) = this_instance(out.vpcs(), |v| v.tags(), at, cx.stack()) else {
            return Ok(None);
        };
        let id = vpc
            .vpc_id()
            .ok_or_else(|| AwsError::missing("DescribeVpcs", "VpcId"))?;
        let tags = user_tags(tag_map(vpc.tags()));
        let live = Spec {
            cidr: vpc.cidr_block().unwrap_or_default().to_string(),
            dns_support: attribute(&ec2, id, VpcAttributeName::EnableDnsSupport).await?,
            dns_hostnames: attribute(&ec2, id, VpcAttributeName::EnableDnsHostnames).await?,
            tags: tags.clone(),
        };
        Ok(Some(Found::new(id, &live, super::owned(&tags, cx.stack()))))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let ec2 = cx.clients.ec2(at.region);
        let out = ec2
            .create_vpc()
            .cidr_block(&spec.cidr)
            .tag_specifications(tag_spec(ResourceType::Vpc, &spec.tags))
            .send()
            .await
            .map_err(sdk("CreateVpc"))?;
        let id = out
            .vpc()
            .and_then(|v| v.vpc_id())
            .ok_or_else(|| AwsError::missing("CreateVpc", "Vpc.VpcId"))?
            .to_string();
        set_dns(&ec2, &id, spec).await?;
        Ok(Found::new(id, spec, true))
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        let ec2 = cx.clients.ec2(at.region);
        let was: Spec = live.view()?;
        if has(fields, "dns_support") || has(fields, "dns_hostnames") {
            set_dns(&ec2, &live.physical_id, spec).await?;
        }
        if has(fields, "tags") {
            sync_tags(&ec2, &live.physical_id, &spec.tags, &was.tags).await?;
        }
        Ok(Found::new(&live.physical_id, spec, true))
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _opts: &Options) -> Step<Gone> {
        let ec2 = cx.clients.ec2(at.region);
        retrying(&["DependencyViolation"], 20, async || {
            ok_if_gone(
                ec2.delete_vpc()
                    .vpc_id(&live.physical_id)
                    .send()
                    .await
                    .map_err(sdk("DeleteVpc")),
            )
        })
        .await?;
        Ok(Gone::Deleted)
    }
}
