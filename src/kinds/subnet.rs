//! A subnet of the stack's VPC (`ec2-subnet`): CIDR and zone (the n-th
//! availability zone of the region, by name), tags. VPC, CIDR and zone
//! cannot change in place.

use aws_sdk_ec2::types::ResourceType;
use serde::{Deserialize, Serialize};

use super::{Tags, has, owned, this_instance, user_tags};
use crate::aws::{AwsError, sdk};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Output, Resource};
use crate::engine::polls::retrying;
use crate::engine::step::{Cx, Step, StepError};
use crate::resources::network::{consistent, ok_if_gone, sync_tags, tag_map, tag_spec, unless_gone, zones};

pub struct Subnet;

/// The availability zone the subnet is in.
pub const ZONE: Output = Output("zone");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub vpc: String,
    pub cidr: String,
    /// Which availability zone: the index in the region's zones by name.
    pub zone: usize,
    pub tags: Tags,
}

impl Resource for Subnet {
    type Spec = Spec;

    const NAME: &'static str = "ec2-subnet";

    const REPLACE: &'static [&'static str] = &["vpc", "cidr", "zone"];

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let ec2 = cx.clients.ec2(at.region);
        let call = ec2.describe_subnets();
        let call = match (at.recorded(), at.field("vpc")) {
            (Some(id), _) => call.subnet_ids(id),
            (None, Some(vpc)) => call.filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("vpc-id")
                    .values(vpc)
                    .build(),
            ),
            (None, None) => return Ok(None),
        };
        let Some(out) = unless_gone(call.send().await.map_err(sdk("DescribeSubnets")))? else {
            return Ok(None);
        };
        let Some(subnet) = this_instance(out.subnets(), |s| s.tags(), at, cx.stack()) else {
            return Ok(None);
        };
        let id = subnet
            .subnet_id()
            .ok_or_else(|| AwsError::missing("DescribeSubnets", "SubnetId"))?;
        let all = zones(&ec2).await?;
        let zone = subnet.availability_zone().unwrap_or_default();
        let tags = user_tags(tag_map(subnet.tags()));
        let live = serde_json::json!({
            "vpc": subnet.vpc_id(),
            "cidr": subnet.cidr_block(),
            "zone": all.iter().position(|z| z == zone),
            "tags": tags,
        });
        Ok(Some(
            Found::new(id, live, owned(&tags, cx.stack())).out(ZONE, zone),
        ))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let ec2 = cx.clients.ec2(at.region);
        let all = zones(&ec2).await?;
        let zone = all.get(spec.zone).ok_or_else(|| {
            StepError::Refused(format!(
                "{}: the region has {} availability zones; the stack needs at least {}",
                at.region,
                all.len(),
                spec.zone + 1
            ))
        })?;
        let out = consistent(async || {
            ec2.create_subnet()
                .vpc_id(&spec.vpc)
                .cidr_block(&spec.cidr)
                .availability_zone(zone)
                .tag_specifications(tag_spec(ResourceType::Subnet, &spec.tags))
                .send()
                .await
                .map_err(sdk("CreateSubnet"))
        })
        .await?;
        let id = out
            .subnet()
            .and_then(|s| s.subnet_id())
            .ok_or_else(|| AwsError::missing("CreateSubnet", "Subnet.SubnetId"))?;
        Ok(Found::new(id, spec, true).out(ZONE, zone))
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        if has(fields, "tags") {
            let was = live.tags()?;
            sync_tags(&cx.clients.ec2(at.region), &live.physical_id, &spec.tags, &was).await?;
        }
        Ok(live.applied(spec))
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _opts: &Options) -> Step<Gone> {
        let ec2 = cx.clients.ec2(at.region);
        retrying(&["DependencyViolation"], 20, async || {
            ok_if_gone(
                ec2.delete_subnet()
                    .subnet_id(&live.physical_id)
                    .send()
                    .await
                    .map_err(sdk("DeleteSubnet")),
            )
        })
        .await?;
        Ok(Gone::Deleted)
    }
}
