//! The stack's own VPC (10.0.0.0/23): two public and two private /26
//! subnets over two zones, an internet gateway, one NAT gateway with its
//! Elastic IP, and a route table per tier. Used only when the profile asks
//! for a new network.
//!
//! EC2 has no names and (for most of these calls) no idempotency token, so
//! each resource is tagged in the create call itself (TagSpecifications)
//! and found again by its ownership tags: a run killed between the create
//! call and the lockfile write adopts what it made. Tags are compared on
//! our side, because not every EC2 describe call filters on them.

use std::collections::BTreeMap;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, DomainType, Filter, NatGatewayState, ResourceType, Tag, TagSpecification,
};

use super::{RESOURCE_TAG, owned_by};
use crate::aws::AwsError;

pub const VPC_CIDR: &str = "10.0.0.0/23";

/// The four subnets: logical id, CIDR, zone index, public.
pub const SUBNETS: [(&str, &str, usize, bool); 4] = [
    ("subnet_public_a", "10.0.0.0/26", 0, true),
    ("subnet_public_b", "10.0.0.64/26", 1, true),
    ("subnet_private_a", "10.0.0.128/26", 0, false),
    ("subnet_private_b", "10.0.0.192/26", 1, false),
];

pub fn tag_spec(kind: ResourceType, tags: &BTreeMap<String, String>) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .build()
}

pub fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect()
}

/// Whether `tags` mark this stack's resource `logical_id`.
pub fn is_ours(tags: &BTreeMap<String, String>, stack: &str, logical_id: &str) -> bool {
    owned_by(tags, stack) && tags.get(RESOURCE_TAG).is_some_and(|r| r == logical_id)
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

fn err<E>(operation: &'static str) -> impl FnOnce(aws_sdk_ec2::error::SdkError<E>) -> AwsError
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    move |e| AwsError::from_sdk(operation, e)
}

/// EC2's "already gone" codes all end in `.NotFound` (or `NotFound`).
pub fn gone(e: &AwsError) -> bool {
    e.code.as_deref().is_some_and(|c| c.ends_with("NotFound"))
}

/// A call's answer, with EC2's NotFound as `None`.
fn unless_gone<T>(result: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if gone(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

fn ok_if_gone(result: Result<(), AwsError>) -> Result<(), AwsError> {
    unless_gone(result).map(|_| ())
}

/// Our VPC, found by its tags.
pub async fn find_vpc(client: &Client, stack: &str, logical_id: &str) -> Result<Option<String>, AwsError> {
    let out = client.describe_vpcs().send().await.map_err(err("DescribeVpcs"))?;
    Ok(out
        .vpcs()
        .iter()
        .find(|v| is_ours(&tag_map(v.tags()), stack, logical_id))
        .and_then(|v| v.vpc_id().map(str::to_string)))
}

pub async fn create_vpc(client: &Client, tags: &BTreeMap<String, String>) -> Result<String, AwsError> {
    let out = client
        .create_vpc()
        .cidr_block(VPC_CIDR)
        .tag_specifications(tag_spec(ResourceType::Vpc, tags))
        .send()
        .await
        .map_err(err("CreateVpc"))?;
    let id = out.vpc().and_then(|v| v.vpc_id()).unwrap_or_default().to_string();
    // Fargate tasks resolve the HealthImaging endpoint through the VPC's DNS.
    for hostnames in [false, true] {
        let on = AttributeBooleanValue::builder().value(true).build();
        let call = client.modify_vpc_attribute().vpc_id(&id);
        let call = if hostnames {
            call.enable_dns_hostnames(on)
        } else {
            call.enable_dns_support(on)
        };
        call.send().await.map_err(err("ModifyVpcAttribute"))?;
    }
    Ok(id)
}

pub async fn vpc_exists(client: &Client, id: &str) -> Result<bool, AwsError> {
    let out = unless_gone(
        client
            .describe_vpcs()
            .vpc_ids(id)
            .send()
            .await
            .map_err(err("DescribeVpcs")),
    )?;
    Ok(out.is_some_and(|o| !o.vpcs().is_empty()))
}

pub async fn delete_vpc(client: &Client, id: &str) -> Result<(), AwsError> {
    ok_if_gone(
        client
            .delete_vpc()
            .vpc_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(err("DeleteVpc")),
    )
}

/// The first two availability zones of the region, by name.
pub async fn zones(client: &Client) -> Result<Vec<String>, AwsError> {
    let out = client
        .describe_availability_zones()
        .filters(filter("state", "available"))
        .send()
        .await
        .map_err(err("DescribeAvailabilityZones"))?;
    let mut names: Vec<String> = out
        .availability_zones()
        .iter()
        .filter_map(|z| z.zone_name().map(str::to_string))
        .collect();
    names.sort();
    names.truncate(2);
    Ok(names)
}

pub async fn find_subnet(
    client: &Client,
    vpc_id: &str,
    stack: &str,
    logical_id: &str,
) -> Result<Option<String>, AwsError> {
    let out = client
        .describe_subnets()
        .filters(filter("vpc-id", vpc_id))
        .send()
        .await
        .map_err(err("DescribeSubnets"))?;
    Ok(out
        .subnets()
        .iter()
        .find(|s| is_ours(&tag_map(s.tags()), stack, logical_id))
        .and_then(|s| s.subnet_id().map(str::to_string)))
}

pub async fn create_subnet(
    client: &Client,
    vpc_id: &str,
    cidr: &str,
    zone: &str,
    tags: &BTreeMap<String, String>,
) -> Result<String, AwsError> {
    let out = client
        .create_subnet()
        .vpc_id(vpc_id)
        .cidr_block(cidr)
        .availability_zone(zone)
        .tag_specifications(tag_spec(ResourceType::Subnet, tags))
        .send()
        .await
        .map_err(err("CreateSubnet"))?;
    Ok(out
        .subnet()
        .and_then(|s| s.subnet_id())
        .unwrap_or_default()
        .to_string())
}

pub async fn subnet_exists(client: &Client, id: &str) -> Result<bool, AwsError> {
    let out = unless_gone(
        client
            .describe_subnets()
            .subnet_ids(id)
            .send()
            .await
            .map_err(err("DescribeSubnets")),
    )?;
    Ok(out.is_some_and(|o| !o.subnets().is_empty()))
}

pub async fn delete_subnet(client: &Client, id: &str) -> Result<(), AwsError> {
    ok_if_gone(
        client
            .delete_subnet()
            .subnet_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(err("DeleteSubnet")),
    )
}

/// Our internet gateway and the VPC it is attached to, if any.
pub async fn find_internet_gateway(
    client: &Client,
    stack: &str,
    logical_id: &str,
) -> Result<Option<(String, Option<String>)>, AwsError> {
    let out = client
        .describe_internet_gateways()
        .send()
        .await
        .map_err(err("DescribeInternetGateways"))?;
    Ok(out
        .internet_gateways()
        .iter()
        .find(|g| is_ours(&tag_map(g.tags()), stack, logical_id))
        .map(|g| {
            (
                g.internet_gateway_id().unwrap_or_default().to_string(),
                g.attachments()
                    .first()
                    .and_then(|a| a.vpc_id())
                    .map(str::to_string),
            )
        }))
}

pub async fn create_internet_gateway(
    client: &Client,
    tags: &BTreeMap<String, String>,
) -> Result<String, AwsError> {
    let out = client
        .create_internet_gateway()
        .tag_specifications(tag_spec(ResourceType::InternetGateway, tags))
        .send()
        .await
        .map_err(err("CreateInternetGateway"))?;
    Ok(out
        .internet_gateway()
        .and_then(|g| g.internet_gateway_id())
        .unwrap_or_default()
        .to_string())
}

pub async fn attach_internet_gateway(client: &Client, id: &str, vpc_id: &str) -> Result<(), AwsError> {
    client
        .attach_internet_gateway()
        .internet_gateway_id(id)
        .vpc_id(vpc_id)
        .send()
        .await
        .map(|_| ())
        .map_err(err("AttachInternetGateway"))
}

pub async fn delete_internet_gateway(
    client: &Client,
    id: &str,
    vpc_id: Option<&str>,
) -> Result<(), AwsError> {
    if let Some(vpc_id) = vpc_id {
        let detached = client
            .detach_internet_gateway()
            .internet_gateway_id(id)
            .vpc_id(vpc_id)
            .send()
            .await
            .map(|_| ())
            .map_err(err("DetachInternetGateway"));
        match detached {
            Err(e) if !gone(&e) && !e.is("Gateway.NotAttached") => return Err(e),
            _ => {}
        }
    }
    ok_if_gone(
        client
            .delete_internet_gateway()
            .internet_gateway_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(err("DeleteInternetGateway")),
    )
}

pub async fn find_address(
    client: &Client,
    stack: &str,
    logical_id: &str,
) -> Result<Option<String>, AwsError> {
    let out = client
        .describe_addresses()
        .send()
        .await
        .map_err(err("DescribeAddresses"))?;
    Ok(out
        .addresses()
        .iter()
        .find(|a| is_ours(&tag_map(a.tags()), stack, logical_id))
        .and_then(|a| a.allocation_id().map(str::to_string)))
}

pub async fn allocate_address(client: &Client, tags: &BTreeMap<String, String>) -> Result<String, AwsError> {
    let out = client
        .allocate_address()
        .domain(DomainType::Vpc)
        .tag_specifications(tag_spec(ResourceType::ElasticIp, tags))
        .send()
        .await
        .map_err(err("AllocateAddress"))?;
    Ok(out.allocation_id().unwrap_or_default().to_string())
}

pub async fn release_address(client: &Client, allocation_id: &str) -> Result<(), AwsError> {
    match client.release_address().allocation_id(allocation_id).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = AwsError::from_sdk("ReleaseAddress", e);
            // moto and EC2 both answer an unknown allocation id this way.
            if gone(&e) || e.is("InvalidAllocationID.NotFound") {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}

/// Our NAT gateway in `subnet_id` and its state, ignoring deleted ones.
pub async fn find_nat_gateway(
    client: &Client,
    subnet_id: &str,
    stack: &str,
    logical_id: &str,
) -> Result<Option<(String, NatGatewayState)>, AwsError> {
    let out = client
        .describe_nat_gateways()
        .filter(filter("subnet-id", subnet_id))
        .send()
        .await
        .map_err(err("DescribeNatGateways"))?;
    Ok(out
        .nat_gateways()
        .iter()
        .filter(|n| {
            !matches!(
                n.state(),
                Some(NatGatewayState::Deleted | NatGatewayState::Deleting)
            )
        })
        .find(|n| is_ours(&tag_map(n.tags()), stack, logical_id))
        .map(|n| {
            (
                n.nat_gateway_id().unwrap_or_default().to_string(),
                n.state().cloned().unwrap_or(NatGatewayState::Pending),
            )
        }))
}

pub async fn nat_gateway_state(client: &Client, id: &str) -> Result<Option<NatGatewayState>, AwsError> {
    match client.describe_nat_gateways().nat_gateway_ids(id).send().await {
        Ok(out) => Ok(out.nat_gateways().first().and_then(|n| n.state().cloned())),
        Err(e) => {
            let e = AwsError::from_sdk("DescribeNatGateways", e);
            if gone(&e) { Ok(None) } else { Err(e) }
        }
    }
}

pub async fn create_nat_gateway(
    client: &Client,
    subnet_id: &str,
    allocation_id: &str,
    token: &str,
    tags: &BTreeMap<String, String>,
) -> Result<String, AwsError> {
    let out = client
        .create_nat_gateway()
        .subnet_id(subnet_id)
        .allocation_id(allocation_id)
        .client_token(token)
        .tag_specifications(tag_spec(ResourceType::Natgateway, tags))
        .send()
        .await
        .map_err(err("CreateNatGateway"))?;
    Ok(out
        .nat_gateway()
        .and_then(|n| n.nat_gateway_id())
        .unwrap_or_default()
        .to_string())
}

pub async fn delete_nat_gateway(client: &Client, id: &str) -> Result<(), AwsError> {
    ok_if_gone(
        client
            .delete_nat_gateway()
            .nat_gateway_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(err("DeleteNatGateway")),
    )
}

/// Our route table in the VPC.
pub async fn find_route_table(
    client: &Client,
    vpc_id: &str,
    stack: &str,
    logical_id: &str,
) -> Result<Option<String>, AwsError> {
    let out = client
        .describe_route_tables()
        .filters(filter("vpc-id", vpc_id))
        .send()
        .await
        .map_err(err("DescribeRouteTables"))?;
    Ok(out
        .route_tables()
        .iter()
        .find(|t| is_ours(&tag_map(t.tags()), stack, logical_id))
        .and_then(|t| t.route_table_id().map(str::to_string)))
}

/// Where the default route of a table goes.
pub enum DefaultRoute<'a> {
    Internet(&'a str),
    Nat(&'a str),
}

/// Creates the route table when missing, then makes sure it has the default
/// route and the subnet associations (each checked first, so a re-run after a
/// kill adds only what is missing and an unchanged run writes nothing).
/// Returns the table id and whether anything was written.
pub async fn ensure_route_table(
    client: &Client,
    vpc_id: &str,
    known: Option<String>,
    route: DefaultRoute<'_>,
    subnets: &[String],
    tags: &BTreeMap<String, String>,
) -> Result<(String, bool), AwsError> {
    let (id, mut wrote) = match known {
        Some(id) => (id, false),
        None => {
            let out = client
                .create_route_table()
                .vpc_id(vpc_id)
                .tag_specifications(tag_spec(ResourceType::RouteTable, tags))
                .send()
                .await
                .map_err(err("CreateRouteTable"))?;
            let id = out
                .route_table()
                .and_then(|t| t.route_table_id())
                .unwrap_or_default()
                .to_string();
            (id, true)
        }
    };
    let out = client
        .describe_route_tables()
        .route_table_ids(&id)
        .send()
        .await
        .map_err(err("DescribeRouteTables"))?;
    let table = out.route_tables().first();
    let has_default = table.is_some_and(|t| {
        t.routes()
            .iter()
            .any(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
    });
    let associated: Vec<String> = table
        .map(|t| {
            t.associations()
                .iter()
                .filter_map(|a| a.subnet_id().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if !has_default {
        let call = client
            .create_route()
            .route_table_id(&id)
            .destination_cidr_block("0.0.0.0/0");
        let call = match route {
            DefaultRoute::Internet(igw) => call.gateway_id(igw),
            DefaultRoute::Nat(nat) => call.nat_gateway_id(nat),
        };
        call.send().await.map_err(err("CreateRoute"))?;
        wrote = true;
    }
    for subnet in subnets.iter().filter(|s| !associated.contains(s)) {
        client
            .associate_route_table()
            .route_table_id(&id)
            .subnet_id(subnet)
            .send()
            .await
            .map_err(err("AssociateRouteTable"))?;
        wrote = true;
    }
    Ok((id, wrote))
}

pub async fn route_table_exists(client: &Client, id: &str) -> Result<bool, AwsError> {
    let out = unless_gone(
        client
            .describe_route_tables()
            .route_table_ids(id)
            .send()
            .await
            .map_err(err("DescribeRouteTables")),
    )?;
    Ok(out.is_some_and(|o| !o.route_tables().is_empty()))
}

/// Removes the table's subnet associations, then the table.
pub async fn delete_route_table(client: &Client, id: &str) -> Result<(), AwsError> {
    let out = match client.describe_route_tables().route_table_ids(id).send().await {
        Ok(out) => out,
        Err(e) => return ok_if_gone(Err(AwsError::from_sdk("DescribeRouteTables", e))),
    };
    for table in out.route_tables() {
        for association in table.associations().iter().filter(|a| !a.main().unwrap_or(false)) {
            if let Some(assoc) = association.route_table_association_id() {
                ok_if_gone(
                    client
                        .disassociate_route_table()
                        .association_id(assoc)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(err("DisassociateRouteTable")),
                )?;
            }
        }
    }
    ok_if_gone(
        client
            .delete_route_table()
            .route_table_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(err("DeleteRouteTable")),
    )
}
