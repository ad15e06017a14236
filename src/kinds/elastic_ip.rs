//! The NAT gateway's Elastic IP (`ec2-elastic-ip`): only tags to manage.

use aws_sdk_ec2::types::{DomainType, ResourceType};
use serde::{Deserialize, Serialize};

use super::{Tags, owned, this_instance, user_tags};
use crate::aws::{AwsError, sdk};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Resource};
use crate::engine::polls::retrying;
use crate::engine::step::{Cx, Step};
use crate::resources::network::{gone, sync_tags, tag_map, tag_spec, unless_gone};

pub struct ElasticIp;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub tags: Tags,
}

impl Resource for ElasticIp {
    type Spec = Spec;

    const NAME: &'static str = "ec2-elastic-ip";

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let ec2 = cx.clients.ec2(at.region);
        let call = ec2.describe_addresses();
        let call = match at.recorded() {
            Some(id) => call.allocation_ids(id),
            None => call,
        };
        let Some(out) = unless_gone(call.send().await.map_err(sdk("DescribeAddresses")))? else {
            return Ok(None);
        };
        let Some(address) = this_instance(out.addresses(), |a| a.tags(), at, cx.stack()) else {
            return Ok(None);
        };
        let id = address
            .allocation_id()
            .ok_or_else(|| AwsError::missing("DescribeAddresses", "AllocationId"))?;
        let tags = user_tags(tag_map(address.tags()));
        Ok(Some(Found::new(
            id,
            serde_json::json!({"tags": tags}),
            owned(&tags, cx.stack()),
        )))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let out = cx
            .clients
            .ec2(at.region)
            .allocate_address()
            .domain(DomainType::Vpc)
            .tag_specifications(tag_spec(ResourceType::ElasticIp, &spec.tags))
            .send()
            .await
            .map_err(sdk("AllocateAddress"))?;
        let id = out
            .allocation_id()
            .ok_or_else(|| AwsError::missing("AllocateAddress", "AllocationId"))?;
        Ok(Found::new(id, spec, true))
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        let was: Spec = live.view()?;
        sync_tags(
            &cx.clients.ec2(at.region),
            &live.physical_id,
            &spec.tags,
            &was.tags,
        )
        .await?;
        Ok(Found::new(&live.physical_id, spec, true))
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _opts: &Options) -> Step<Gone> {
        let ec2 = cx.clients.ec2(at.region);
        // The NAT gateway releases the address some time after its delete.
        retrying(&["InvalidIPAddress.InUse", "AuthFailure"], 10, async || match ec2
            .release_address()
            .allocation_id(&live.physical_id)
            .send()
            .await
            .map_err(sdk("ReleaseAddress"))
        {
            Err(e) if !gone(&e) && !e.is("InvalidAllocationID.NotFound") => Err(e),
            _ => Ok(()),
        })
        .await?;
        Ok(Gone::Deleted)
    }
}
