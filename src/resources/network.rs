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
use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};

use crate::aws::AwsError;
use crate::resources::Tags;

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
pub fn unless_gone<T>(result: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if gone(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A delete's answer, with EC2's NotFound as done.
pub fn ok_if_gone<T>(result: Result<T, AwsError>) -> Result<(), AwsError> {
    unless_gone(result).map(|_| ())
}

/// The region's availability zones, by name. Local and Wavelength Zones
/// (which an opted-in account also lists, and which may sort first) run no
/// Fargate, ALB or NAT gateway, so only `availability-zone` counts.
pub async fn zones(client: &Client) -> Result<Vec<String>, AwsError> {
    let out = client
        .describe_availability_zones()
        .filters(filter("state", "available"))
        .filters(filter("zone-type", "availability-zone"))
        .send()
        .await
        .map_err(err("DescribeAvailabilityZones"))?;
    let mut names: Vec<String> = out
        .availability_zones()
        .iter()
        .filter_map(|z| z.zone_name().map(str::to_string))
        .collect();
    names.sort();
    Ok(names)
}

/// Brings an EC2 resource's tags from `have` to `want` (CreateTags for what
/// differs, DeleteTags for what is extra).
pub async fn sync_tags(client: &Client, id: &str, want: &Tags, have: &Tags) -> Result<(), AwsError> {
    let set = async |set: Tags| {
        let tags = set.iter().map(|(k, v)| Tag::builder().key(k).value(v).build());
        let call = client.create_tags().resources(id).set_tags(Some(tags.collect()));
        call.send().await.map(drop).map_err(err("CreateTags"))
    };
    let remove = async |keys: Vec<String>| {
        let tags = keys.iter().map(|k| Tag::builder().key(k).build());
        let call = client.delete_tags().resources(id).set_tags(Some(tags.collect()));
        call.send().await.map(drop).map_err(err("DeleteTags"))
    };
    crate::resources::sync_tags(want, have, set, remove).await
}

/// EC2 is eventually consistent: right after a create, a call naming the
/// new id can answer `InvalidVpcID.NotFound`, `InvalidSubnetID.NotFound`,
/// `NatGatewayNotFound`... Calls that name an id made moments ago go
/// through this: retried on NotFound for about a minute (modelled time).
pub async fn consistent<T>(op: impl AsyncFn() -> Result<T, AwsError>) -> Result<T, AwsError> {
    use crate::engine::wait::{Backoff, Jitter, retry_when};
    use std::time::Duration;
    let backoff = Backoff {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(10),
        factor: 2.0,
        jitter: 0.2,
    }
    .scaled();
    retry_when(10, &backoff, &mut Jitter::from_entropy(), gone, || op()).await
}
