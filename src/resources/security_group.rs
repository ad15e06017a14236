//! The two security groups: the ALB's, open only to CloudFront's
//! origin-facing prefix list on the listener port, and the tasks', open
//! only to the ALB's group on the proxy port.

use std::collections::BTreeMap;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, IpPermission, PrefixListId, ResourceType, UserIdGroupPair};

use super::network::{gone, is_ours, tag_map, tag_spec};
use crate::aws::AwsError;

/// CloudFront's origin-facing addresses (IPv4), as an AWS-managed prefix list.
pub const CLOUDFRONT_PREFIX_LIST: &str = "com.amazonaws.global.cloudfront.origin-facing";
pub const PROXY_PORT: i32 = 8080;

/// Where a group's one ingress rule comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    PrefixList(String),
    Group(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupSpec {
    pub logical_id: &'static str,
    pub name: String,
    pub description: String,
    pub vpc_id: String,
    pub port: i32,
    pub source: Source,
    pub tags: BTreeMap<String, String>,
}

fn err<E>(operation: &'static str) -> impl FnOnce(aws_sdk_ec2::error::SdkError<E>) -> AwsError
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    move |e| AwsError::from_sdk(operation, e)
}

/// The id of CloudFront's origin-facing prefix list in this region.
pub async fn cloudfront_prefix_list(client: &Client) -> Result<String, AwsError> {
    let out = client
        .describe_managed_prefix_lists()
        .filters(
            Filter::builder()
                .name("prefix-list-name")
                .values(CLOUDFRONT_PREFIX_LIST)
                .build(),
        )
        .send()
        .await
        .map_err(err("DescribeManagedPrefixLists"))?;
    out.prefix_lists()
        .iter()
        .find(|p| p.prefix_list_name() == Some(CLOUDFRONT_PREFIX_LIST))
        .and_then(|p| p.prefix_list_id().map(str::to_string))
        .ok_or_else(|| AwsError {
            operation: "DescribeManagedPrefixLists",
            code: Some("NotFound".into()),
            message: format!(
                "the managed prefix list {CLOUDFRONT_PREFIX_LIST} is not available in this region"
            ),
        })
}

fn permission(spec: &GroupSpec) -> IpPermission {
    let rule = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(spec.port)
        .to_port(spec.port);
    match &spec.source {
        Source::PrefixList(id) => rule.prefix_list_ids(PrefixListId::builder().prefix_list_id(id).build()),
        Source::Group(id) => rule.user_id_group_pairs(UserIdGroupPair::builder().group_id(id).build()),
    }
    .build()
}

/// Whether a live rule is the one the spec asks for.
fn matches(rule: &IpPermission, spec: &GroupSpec) -> bool {
    rule.ip_protocol() == Some("tcp")
        && rule.from_port() == Some(spec.port)
        && rule.to_port() == Some(spec.port)
        && match &spec.source {
            Source::PrefixList(id) => rule
                .prefix_list_ids()
                .iter()
                .any(|p| p.prefix_list_id() == Some(id)),
            Source::Group(id) => rule
                .user_id_group_pairs()
                .iter()
                .any(|p| p.group_id() == Some(id)),
        }
}

/// Our group in the VPC, with its ingress rules.
async fn find(
    client: &Client,
    spec: &GroupSpec,
    stack: &str,
) -> Result<Option<(String, Vec<IpPermission>)>, AwsError> {
    let out = client
        .describe_security_groups()
        .filters(Filter::builder().name("vpc-id").values(&spec.vpc_id).build())
        .send()
        .await
        .map_err(err("DescribeSecurityGroups"))?;
    Ok(out
        .security_groups()
        .iter()
        .find(|g| is_ours(&tag_map(g.tags()), stack, spec.logical_id))
        .map(|g| {
            (
                g.group_id().unwrap_or_default().to_string(),
                g.ip_permissions().to_vec(),
            )
        }))
}

/// Creates the group when missing and makes its ingress exactly the one
/// rule of the spec (extra rules added by hand are revoked). Returns the
/// group id and whether anything was written.
pub async fn ensure(client: &Client, spec: &GroupSpec, stack: &str) -> Result<(String, bool), AwsError> {
    let (id, rules, mut wrote) = match find(client, spec, stack).await? {
        Some((id, rules)) => (id, rules, false),
        None => {
            let out = client
                .create_security_group()
                .group_name(&spec.name)
                .description(&spec.description)
                .vpc_id(&spec.vpc_id)
                .tag_specifications(tag_spec(ResourceType::SecurityGroup, &spec.tags))
                .send()
                .await
                .map_err(err("CreateSecurityGroup"))?;
            (out.group_id().unwrap_or_default().to_string(), Vec::new(), true)
        }
    };
    let extra: Vec<IpPermission> = rules.iter().filter(|r| !matches(r, spec)).cloned().collect();
    if !extra.is_empty() {
        client
            .revoke_security_group_ingress()
            .group_id(&id)
            .set_ip_permissions(Some(extra))
            .send()
            .await
            .map_err(err("RevokeSecurityGroupIngress"))?;
        wrote = true;
    }
    if !rules.iter().any(|r| matches(r, spec)) {
        client
            .authorize_security_group_ingress()
            .group_id(&id)
            .ip_permissions(permission(spec))
            .send()
            .await
            .map_err(err("AuthorizeSecurityGroupIngress"))?;
        wrote = true;
    }
    Ok((id, wrote))
}

/// The group's ingress drifted from the spec: the rules that differ, described.
pub async fn drift(client: &Client, id: &str, spec_port: i32) -> Result<Option<Vec<String>>, AwsError> {
    let out = match client.describe_security_groups().group_ids(id).send().await {
        Ok(out) => out,
        Err(e) => {
            let e = AwsError::from_sdk("DescribeSecurityGroups", e);
            return if gone(&e) { Ok(None) } else { Err(e) };
        }
    };
    let Some(group) = out.security_groups().first() else {
        return Ok(None);
    };
    let odd: Vec<String> = group
        .ip_permissions()
        .iter()
        .filter(|r| {
            r.from_port() != Some(spec_port) || r.to_port() != Some(spec_port) || !r.ip_ranges().is_empty()
        })
        .map(|r| {
            format!(
                "ingress {}-{} from {}",
                r.from_port().unwrap_or(-1),
                r.to_port().unwrap_or(-1),
                r.ip_ranges()
                    .iter()
                    .filter_map(|x| x.cidr_ip())
                    .collect::<Vec<_>>()
                    .join(",")
            )
        })
        .collect();
    Ok(Some(odd))
}

/// Deletes the group. `DependencyViolation` (ENIs of a deleted ALB or of
/// stopped tasks still draining) is returned for the caller to retry.
pub async fn delete(client: &Client, id: &str) -> Result<(), AwsError> {
    match client.delete_security_group().group_id(id).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = AwsError::from_sdk("DeleteSecurityGroup", e);
            if gone(&e) { Ok(()) } else { Err(e) }
        }
    }
}
