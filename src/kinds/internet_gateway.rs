//! The VPC's internet gateway (`ec2-internet-gateway`): attached to the
//! VPC the spec names, tagged.

use aws_sdk_ec2::types::ResourceType;
use serde::{Deserialize, Serialize};

use super::{Tags, has, owned, this_instance, user_tags};
use crate::aws::{AwsError, sdk};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Output, Resource};
use crate::engine::polls::retrying;
use crate::engine::step::{Cx, Step};
use crate::resources::network::{consistent, gone, ok_if_gone, sync_tags, tag_map, tag_spec, unless_gone};

pub struct InternetGateway;

/// The VPC the gateway is attached to.
pub const VPC: Output = Output("vpc");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub vpc: String,
    pub tags: Tags,
}

async fn attach(ec2: &aws_sdk_ec2::Client, id: &str, vpc: &str) -> Result<(), AwsError> {
    consistent(async || {
        ec2.attach_internet_gateway()
            .internet_gateway_id(id)
            .vpc_id(vpc)
            .send()
            .await
            .map_err(sdk("AttachInternetGateway"))
    })
    .await?;
    Ok(())
}

async fn detach(ec2: &aws_sdk_ec2::Client, id: &str, vpc: &str) -> Result<(), AwsError> {
    match ec2
        .detach_internet_gateway()
        .internet_gateway_id(id)
        .vpc_id(vpc)
        .send()
        .await
        .map_err(sdk("DetachInternetGateway"))
    {
        Err(e) if !gone(&e) && !e.is("Gateway.NotAttached") => Err(e),
        _ => Ok(()),
    }
}

impl Resource for InternetGateway {
    type Spec = Spec;

    const NAME: &'static str = "ec2-internet-gateway";

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let ec2 = cx.clients.ec2(at.region);
        let call = ec2.describe_internet_gateways();
        let call = match at.recorded() {
            Some(id) => call.internet_gateway_ids(id),
            None => call,
        };
        let Some(out) = unless_gone(call.send().await.map_err(sdk("DescribeInternetGateways")))? else {
            return Ok(None);
        };
        let Some(igw) = this_instance(out.internet_gateways(), |g| g.tags(), at, cx.stack()) else {
            return Ok(None);
        };
        let id = igw
            .internet_gateway_id()
            .ok_or_else(|| AwsError::missing("DescribeInternetGateways", "InternetGatewayId"))?;
        let tags = user_tags(tag_map(igw.tags()));
        let vpc = igw.attachments().first().and_then(|a| a.vpc_id());
        let live = serde_json::json!({"vpc": vpc, "tags": tags});
        let found = Found::new(id, live, owned(&tags, cx.stack()));
        Ok(Some(match vpc {
            Some(v) => found.out(VPC, v),
            None => found,
        }))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let ec2 = cx.clients.ec2(at.region);
        let out = ec2
            .create_internet_gateway()
            .tag_specifications(tag_spec(ResourceType::InternetGateway, &spec.tags))
            .send()
            .await
            .map_err(sdk("CreateInternetGateway"))?;
        let id = out
            .internet_gateway()
            .and_then(|g| g.internet_gateway_id())
            .ok_or_else(|| AwsError::missing("CreateInternetGateway", "InternetGateway.InternetGatewayId"))?;
        attach(&ec2, id, &spec.vpc).await?;
        Ok(Found::new(id, spec, true).out(VPC, &spec.vpc))
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        let ec2 = cx.clients.ec2(at.region);
        if has(fields, "vpc") {
            if let Some(old) = live.outputs.get("vpc") {
                detach(&ec2, &live.physical_id, old).await?;
            }
            attach(&ec2, &live.physical_id, &spec.vpc).await?;
        }
        if has(fields, "tags") {
            let was = live.tags()?;
            sync_tags(&ec2, &live.physical_id, &spec.tags, &was).await?;
        }
        Ok(Found::new(&live.physical_id, spec, true).out(VPC, &spec.vpc))
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _opts: &Options) -> Step<Gone> {
        let ec2 = cx.clients.ec2(at.region);
        retrying(&["DependencyViolation"], 20, async || {
            if let Some(vpc) = live.outputs.get("vpc") {
                detach(&ec2, &live.physical_id, vpc).await?;
            }
            ok_if_gone(
                ec2.delete_internet_gateway()
                    .internet_gateway_id(&live.physical_id)
                    .send()
                    .await
                    .map_err(sdk("DeleteInternetGateway")),
            )
        })
        .await?;
        Ok(Gone::Deleted)
    }
}
