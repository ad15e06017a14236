//! A route table of the stack's VPC (`ec2-route-table`): the default route
//! (to the internet gateway, or to the NAT gateway) and exactly the subnets
//! the spec names. An association or route added by hand is removed.

use aws_sdk_ec2::types::{Filter, ResourceType, RouteTable as Live};
use serde::{Deserialize, Serialize};

use super::{Tags, has, ours, owned, user_tags};
use crate::aws::{AwsError, sdk};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Resource};
use crate::engine::step::{Cx, Step};
use crate::resources::network::{consistent, gone, ok_if_gone, sync_tags, tag_map, tag_spec};

pub struct RouteTable;

const DEFAULT: &str = "0.0.0.0/0";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub vpc: String,
    /// Where 0.0.0.0/0 goes: an internet gateway (`igw-`) or a NAT gateway (`nat-`).
    pub default_route: String,
    /// Associated subnets, sorted.
    pub subnets: Vec<String>,
    pub tags: Tags,
}

fn view(table: &Live) -> (Spec, Vec<(String, String)>) {
    let default_route = table
        .routes()
        .iter()
        .find(|r| r.destination_cidr_block() == Some(DEFAULT))
        .and_then(|r| r.nat_gateway_id().or(r.gateway_id()))
        .unwrap_or_default()
        .to_string();
    let associations: Vec<(String, String)> = table
        .associations()
        .iter()
        .filter(|a| !a.main().unwrap_or(false))
        .filter_map(|a| {
            Some((
                a.subnet_id()?.to_string(),
                a.route_table_association_id()?.to_string(),
            ))
        })
        .collect();
    let mut subnets: Vec<String> = associations.iter().map(|(s, _)| s.clone()).collect();
    subnets.sort();
    let spec = Spec {
        vpc: table.vpc_id().unwrap_or_default().to_string(),
        default_route,
        subnets,
        tags: user_tags(tag_map(table.tags())),
    };
    (spec, associations)
}

async fn describe(cx: &Cx, at: &At<'_, Spec>, id: &str) -> Result<Option<Live>, AwsError> {
    match cx
        .clients
        .ec2(at.region)
        .describe_route_tables()
        .route_table_ids(id)
        .send()
        .await
        .map_err(sdk("DescribeRouteTables"))
    {
        Ok(out) => Ok(out.route_tables().first().cloned()),
        Err(e) if gone(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

impl Resource for RouteTable {
    type Spec = Spec;

    const NAME: &'static str = "ec2-route-table";

    const REPLACE: &'static [&'static str] = &["vpc"];

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let table = match (at.recorded(), at.field("vpc")) {
            (Some(id), _) => describe(cx, at, id).await?,
            (None, Some(vpc)) => cx
                .clients
                .ec2(at.region)
                .describe_route_tables()
                .filters(Filter::builder().name("vpc-id").values(vpc).build())
                .send()
                .await
                .map_err(sdk("DescribeRouteTables"))?
                .route_tables()
                .iter()
                .find(|t| ours(&tag_map(t.tags()), cx.stack(), at.id))
                .cloned(),
            (None, None) => None,
        };
        let Some(table) = table else {
            return Ok(None);
        };
        let id = table
            .route_table_id()
            .ok_or_else(|| AwsError::missing("DescribeRouteTables", "RouteTableId"))?;
        let (live, _) = view(&table);
        let mine = owned(&live.tags, cx.stack());
        Ok(Some(Found::new(id, &live, mine)))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let ec2 = cx.clients.ec2(at.region);
        let out = consistent(async || {
            ec2.create_route_table()
                .vpc_id(&spec.vpc)
                .tag_specifications(tag_spec(ResourceType::RouteTable, &spec.tags))
                .send()
                .await
                .map_err(sdk("CreateRouteTable"))
        })
        .await?;
        let id = out
            .route_table()
            .and_then(|t| t.route_table_id())
            .ok_or_else(|| AwsError::missing("CreateRouteTable", "RouteTable.RouteTableId"))?;
        let empty = Found::new(id, serde_json::json!({"tags": spec.tags}), true);
        let fields = ["default_route".to_string(), "subnets".to_string()];
        self.update(cx, at, &empty, &fields).await
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        let ec2 = cx.clients.ec2(at.region);
        let id = &live.physical_id;
        let table = describe(cx, at, id).await?;
        let (was, associations) = table.as_ref().map(view).unwrap_or_else(|| {
            (
                Spec {
                    vpc: spec.vpc.clone(),
                    default_route: String::new(),
                    subnets: vec![],
                    tags: Tags::new(),
                },
                vec![],
            )
        });
        if has(fields, "default_route") && was.default_route != spec.default_route {
            let nat = spec.default_route.starts_with("nat-");
            if was.default_route.is_empty() {
                let call = ec2
                    .create_route()
                    .route_table_id(id)
                    .destination_cidr_block(DEFAULT);
                let call = if nat {
                    call.nat_gateway_id(&spec.default_route)
                } else {
                    call.gateway_id(&spec.default_route)
                };
                consistent(async || call.clone().send().await.map_err(sdk("CreateRoute"))).await?;
            } else {
                let call = ec2
                    .replace_route()
                    .route_table_id(id)
                    .destination_cidr_block(DEFAULT);
                let call = if nat {
                    call.nat_gateway_id(&spec.default_route)
                } else {
                    call.gateway_id(&spec.default_route)
                };
                consistent(async || call.clone().send().await.map_err(sdk("ReplaceRoute"))).await?;
            }
        }
        if has(fields, "subnets") {
            for (subnet, association) in &associations {
                if !spec.subnets.contains(subnet) {
                    ok_if_gone(
                        ec2.disassociate_route_table()
                            .association_id(association)
                            .send()
                            .await
                            .map_err(sdk("DisassociateRouteTable")),
                    )?;
                }
            }
            for subnet in spec.subnets.iter().filter(|s| !was.subnets.contains(s)) {
                consistent(async || {
                    ec2.associate_route_table()
                        .route_table_id(id)
                        .subnet_id(subnet)
                        .send()
                        .await
                        .map_err(sdk("AssociateRouteTable"))
                })
                .await?;
            }
        }
        if has(fields, "tags") {
            sync_tags(&ec2, id, &spec.tags, &was.tags).await?;
        }
        Ok(Found::new(id, spec, true))
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _opts: &Options) -> Step<Gone> {
        let ec2 = cx.clients.ec2(at.region);
        if let Some(table) = describe(cx, at, &live.physical_id).await? {
            for (_, association) in view(&table).1 {
                ok_if_gone(
                    ec2.disassociate_route_table()
                        .association_id(association)
                        .send()
                        .await
                        .map_err(sdk("DisassociateRouteTable")),
                )?;
            }
        }
        ok_if_gone(
            ec2.delete_route_table()
                .route_table_id(&live.physical_id)
                .send()
                .await
                .map_err(sdk("DeleteRouteTable")),
        )?;
        Ok(Gone::Deleted)
    }
}
