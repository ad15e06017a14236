//! The NAT gateway (`ec2-nat-gateway`) in the first public subnet, with the
//! stack's Elastic IP. Subnet and address cannot change in place. A create
//! waits until the gateway is available (the private routes need it).

use aws_sdk_ec2::types::{Filter, NatGatewayState, ResourceType};
use serde::{Deserialize, Serialize};

use super::{Tags, has, ours, owned, user_tags};
use crate::aws::{AwsError, sdk};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Resource, Typical};
use crate::engine::polls::wait_for;
use crate::engine::polls::{attempt_token, wait_until};
use crate::engine::step::{Cx, Step, StepError};
use crate::engine::wait::{Check, CheckError};
use crate::resources::network::{consistent, gone, ok_if_gone, sync_tags, tag_map, tag_spec};

pub struct NatGateway;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub subnet: String,
    pub allocation: String,
    pub tags: Tags,
}

async fn state(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<Option<NatGatewayState>, AwsError> {
    match ec2
        .describe_nat_gateways()
        .nat_gateway_ids(id)
        .send()
        .await
        .map_err(sdk("DescribeNatGateways"))
    {
        Ok(out) => Ok(out.nat_gateways().first().and_then(|n| n.state().cloned())),
        Err(e) if gone(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn available(cx: &Cx, at: &At<'_, Spec>, id: &str) -> Step<()> {
    let ec2 = cx.clients.ec2(at.region);
    wait_until(cx, at.id, &format!("NAT gateway {id}"), 15, 90, async || {
        Ok(match state(&ec2, id).await? {
            Some(NatGatewayState::Available) => Check::Done(()),
            Some(NatGatewayState::Failed) => return Err(CheckError::Fatal("failed".into())),
            Some(s) => Check::Pending(s.as_str().to_string()),
            None => Check::Pending("not listed yet".into()),
        })
    })
    .await
}

impl Resource for NatGateway {
    type Spec = Spec;

    const NAME: &'static str = "ec2-nat-gateway";

    const TYPICAL: Typical = Typical {
        create: 90,
        delete: 60,
        ..Typical::QUICK
    };

    const REPLACE: &'static [&'static str] = &["subnet", "allocation"];

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let ec2 = cx.clients.ec2(at.region);
        let call = ec2.describe_nat_gateways();
        let call = match (at.recorded(), at.field("subnet")) {
            (Some(id), _) => call.nat_gateway_ids(id),
            (None, Some(subnet)) => call.filter(Filter::builder().name("subnet-id").values(subnet).build()),
            (None, None) => return Ok(None),
        };
        let out = match call.send().await.map_err(sdk("DescribeNatGateways")) {
            Ok(out) => out,
            Err(e) if gone(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(nat) = out.nat_gateways().iter().find(|n| {
            !matches!(
                n.state(),
                Some(NatGatewayState::Deleted | NatGatewayState::Deleting | NatGatewayState::Failed)
            ) && (at.recorded().is_some() || ours(&tag_map(n.tags()), cx.stack(), at.id))
        }) else {
            return Ok(None);
        };
        let id = nat
            .nat_gateway_id()
            .ok_or_else(|| AwsError::missing("DescribeNatGateways", "NatGatewayId"))?;
        let tags = user_tags(tag_map(nat.tags()));
        let live = serde_json::json!({
            "subnet": nat.subnet_id(),
            "allocation": nat.nat_gateway_addresses().first().and_then(|a| a.allocation_id()),
            "tags": tags,
        });
        let detail = nat.state().map(|s| s.as_str().to_string()).unwrap_or_default();
        Ok(Some(
            Found::new(id, live, owned(&tags, cx.stack())).detail(detail),
        ))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let ec2 = cx.clients.ec2(at.region);
        // A NAT gateway can end `failed` (and stays listed for about an
        // hour): delete it and make another, a few times at most.
        let mut attempt = 1;
        loop {
            let out = consistent(async || {
                ec2.create_nat_gateway()
                    .subnet_id(&spec.subnet)
                    .allocation_id(&spec.allocation)
                    .client_token(attempt_token(cx.stack(), at.id))
                    .tag_specifications(tag_spec(ResourceType::Natgateway, &spec.tags))
                    .send()
                    .await
                    .map_err(sdk("CreateNatGateway"))
            })
            .await?;
            let id = out
                .nat_gateway()
                .and_then(|n| n.nat_gateway_id())
                .ok_or_else(|| AwsError::missing("CreateNatGateway", "NatGateway.NatGatewayId"))?
                .to_string();
            match available(cx, at, &id).await {
                Ok(()) => return Ok(Found::new(id, spec, true)),
                Err(StepError::Wait(crate::engine::wait::WaitError::Failed { reason, .. }))
                    if attempt < 3 =>
                {
                    cx.progress.state(
                        at.id,
                        std::time::Duration::from_secs(90),
                        &format!("NAT gateway {id} {reason}; deleting it and making another"),
                    );
                    ok_if_gone(
                        ec2.delete_nat_gateway()
                            .nat_gateway_id(&id)
                            .send()
                            .await
                            .map_err(sdk("DeleteNatGateway")),
                    )?;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        if has(fields, "tags") {
            let was = live.tags()?;
            sync_tags(&cx.clients.ec2(at.region), &live.physical_id, &spec.tags, &was).await?;
        }
        Ok(Found::new(&live.physical_id, spec, true))
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _opts: &Options) -> Step<Gone> {
        let ec2 = cx.clients.ec2(at.region);
        let id = &live.physical_id;
        ok_if_gone(
            ec2.delete_nat_gateway()
                .nat_gateway_id(id)
                .send()
                .await
                .map_err(sdk("DeleteNatGateway")),
        )?;
        wait_for(
            cx,
            at.id,
            format!("NAT gateway {id} to be deleted"),
            20,
            async || {
                Ok(state(&ec2, id)
                    .await?
                    .filter(|s| *s != NatGatewayState::Deleted)
                    .map(|s| s.as_str().to_string()))
            },
        )
        .await?;
        Ok(Gone::Deleted)
    }
}
