//! The NAT gateway's Elastic IP (`ec2-elastic-ip`): only tags to manage.

use aws_sdk_ec2::types::{DomainType, ResourceType};
use serde::{Deserialize, Serialize};

use super::{Tags, json, ours, owned, user_tags};
use crate::aws::{AwsError, sdk};
use crate::resources::network::{gone, sync_tags, tag_map, tag_spec};
use crate::stack::Ctx;
use crate::stack::kind::{At, Found, Fut, Gone, Kind};
use crate::stack::teardown::{Options, retrying};

pub struct ElasticIp;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub tags: Tags,
}

impl Kind for ElasticIp {
    fn name(&self) -> &'static str {
        "ec2-elastic-ip"
    }

    fn find<'a>(&'a self, cx: &'a Ctx, at: &'a At<'a>) -> Fut<'a, Option<Found>> {
        Box::pin(async move {
            let ec2 = cx.clients.ec2(at.region);
            let call = ec2.describe_addresses();
            let call = match at.recorded() {
                Some(id) => call.allocation_ids(id),
                None => call,
            };
            let out = match call.send().await.map_err(sdk("DescribeAddresses")) {
                Ok(out) => out,
                Err(e) if gone(&e) || e.is("InvalidAllocationID.NotFound") => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            let Some(address) = out
                .addresses()
                .iter()
                .find(|a| at.recorded().is_some() || ours(&tag_map(a.tags()), cx.stack(), at.id))
            else {
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
        })
    }

    fn create<'a>(&'a self, cx: &'a Ctx, at: &'a At<'a>) -> Fut<'a, Found> {
        Box::pin(async move {
            let spec: Spec = at.spec()?;
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
            Ok(Found::new(id, json(&spec), true))
        })
    }

    fn update<'a>(
        &'a self,
        cx: &'a Ctx,
        at: &'a At<'a>,
        live: &'a Found,
        _fields: &'a [String],
    ) -> Fut<'a, Found> {
        Box::pin(async move {
            let spec: Spec = at.spec()?;
            let was: Spec = live.view()?;
            sync_tags(
                &cx.clients.ec2(at.region),
                &live.physical_id,
                &spec.tags,
                &was.tags,
            )
            .await?;
            Ok(Found::new(&live.physical_id, json(&spec), true))
        })
    }

    fn delete<'a>(
        &'a self,
        cx: &'a Ctx,
        at: &'a At<'a>,
        live: &'a Found,
        _opts: &'a Options,
    ) -> Fut<'a, Gone> {
        Box::pin(async move {
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
        })
    }
}
