//! A security group (`ec2-security-group`) whose ingress is exactly the
//! spec's rules: a rule added by hand (say `tcp 80 from 0.0.0.0/0` beside
//! the CloudFront prefix list) shows as drift and `up` revokes it. Sources
//! are compared in the spec's vocabulary: managed prefix lists by name,
//! groups by id, CIDRs as written. Egress is EC2's default (all).

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType, UserIdGroupPair,
};
use serde::{Deserialize, Serialize};

use super::{Tags, has, owned, this_instance, user_tags};
use crate::aws::{AwsError, sdk};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Resource};
use crate::engine::polls::retrying;
use crate::engine::step::{Cx, Step};
use crate::resources::network::{consistent, ok_if_gone, sync_tags, tag_map, tag_spec, unless_gone};

pub struct SecurityGroup;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// An AWS-managed prefix list, by name.
    PrefixList(String),
    /// A prefix list we could not name (found live only).
    PrefixListId(String),
    Group(String),
    Cidr(String),
    Ipv6Cidr(String),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Rule {
    pub protocol: String,
    pub from_port: i32,
    pub to_port: i32,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    pub description: String,
    pub vpc: String,
    /// Sorted.
    pub ingress: Vec<Rule>,
    pub tags: Tags,
}

/// Prefix list name -> id for the names the spec uses.
async fn prefix_lists(ec2: &aws_sdk_ec2::Client, spec: &Spec) -> Result<BTreeMap<String, String>, AwsError> {
    let mut out = BTreeMap::new();
    for rule in &spec.ingress {
        if let Source::PrefixList(name) = &rule.source
            && !out.contains_key(name)
        {
            let found = ec2
                .describe_managed_prefix_lists()
                .filters(Filter::builder().name("prefix-list-name").values(name).build())
                .send()
                .await
                .map_err(sdk("DescribeManagedPrefixLists"))?;
            let id = found
                .prefix_lists()
                .iter()
                .find(|p| p.prefix_list_name() == Some(name.as_str()))
                .and_then(|p| p.prefix_list_id())
                .ok_or_else(|| AwsError {
                    operation: "DescribeManagedPrefixLists",
                    code: Some("NotFound".into()),
                    message: format!("the managed prefix list {name} is not available in this region"),
                })?;
            out.insert(name.clone(), id.to_string());
        }
    }
    Ok(out)
}

/// Live permissions as rules, one per source.
fn rules(permissions: &[IpPermission], names: &BTreeMap<String, String>) -> Vec<Rule> {
    let mut out = Vec::new();
    for p in permissions {
        let rule = |source| Rule {
            protocol: p.ip_protocol().unwrap_or_default().to_string(),
            from_port: p.from_port().unwrap_or(-1),
            to_port: p.to_port().unwrap_or(-1),
            source,
        };
        for pl in p.prefix_list_ids().iter().filter_map(|x| x.prefix_list_id()) {
            out.push(rule(match names.iter().find(|(_, id)| *id == pl) {
                Some((name, _)) => Source::PrefixList(name.clone()),
                None => Source::PrefixListId(pl.to_string()),
            }));
        }
        for g in p.user_id_group_pairs().iter().filter_map(|x| x.group_id()) {
            out.push(rule(Source::Group(g.to_string())));
        }
        for c in p.ip_ranges().iter().filter_map(|x| x.cidr_ip()) {
            out.push(rule(Source::Cidr(c.to_string())));
        }
        for c in p.ipv6_ranges().iter().filter_map(|x| x.cidr_ipv6()) {
            out.push(rule(Source::Ipv6Cidr(c.to_string())));
        }
    }
    out.sort();
    out
}

fn permission(rule: &Rule, names: &BTreeMap<String, String>) -> IpPermission {
    let p = IpPermission::builder()
        .ip_protocol(&rule.protocol)
        .from_port(rule.from_port)
        .to_port(rule.to_port);
    match &rule.source {
        Source::PrefixList(name) => p.prefix_list_ids(
            PrefixListId::builder()
                .prefix_list_id(names.get(name).cloned().unwrap_or_default())
                .build(),
        ),
        Source::PrefixListId(id) => p.prefix_list_ids(PrefixListId::builder().prefix_list_id(id).build()),
        Source::Group(id) => p.user_id_group_pairs(UserIdGroupPair::builder().group_id(id).build()),
        Source::Cidr(c) => p.ip_ranges(IpRange::builder().cidr_ip(c).build()),
        Source::Ipv6Cidr(c) => p.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(c).build()),
    }
    .build()
}

impl Resource for SecurityGroup {
    type Spec = Spec;

    const NAME: &'static str = "ec2-security-group";

    const REPLACE: &'static [&'static str] = &["name", "description", "vpc"];

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let ec2 = cx.clients.ec2(at.region);
        let call = ec2.describe_security_groups();
        let call = match (at.recorded(), at.field("vpc")) {
            (Some(id), _) => call.group_ids(id),
            (None, Some(vpc)) => call.filters(Filter::builder().name("vpc-id").values(vpc).build()),
            (None, None) => return Ok(None),
        };
        let Some(out) = unless_gone(call.send().await.map_err(sdk("DescribeSecurityGroups")))? else {
            return Ok(None);
        };
        let Some(group) = this_instance(out.security_groups(), |g| g.tags(), at, cx.stack()) else {
            return Ok(None);
        };
        let id = group
            .group_id()
            .ok_or_else(|| AwsError::missing("DescribeSecurityGroups", "GroupId"))?;
        let names = match at.spec() {
            Ok(spec) => prefix_lists(&ec2, spec).await?,
            Err(_) => BTreeMap::new(),
        };
        let tags = user_tags(tag_map(group.tags()));
        let live = Spec {
            name: group.group_name().unwrap_or_default().to_string(),
            description: group.description().unwrap_or_default().to_string(),
            vpc: group.vpc_id().unwrap_or_default().to_string(),
            ingress: rules(group.ip_permissions(), &names),
            tags: tags.clone(),
        };
        Ok(Some(Found::new(id, &live, owned(&tags, cx.stack()))))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let ec2 = cx.clients.ec2(at.region);
        let out = consistent(async || {
            ec2.create_security_group()
                .group_name(&spec.name)
                .description(&spec.description)
                .vpc_id(&spec.vpc)
                .tag_specifications(tag_spec(ResourceType::SecurityGroup, &spec.tags))
                .send()
                .await
                .map_err(sdk("CreateSecurityGroup"))
        })
        .await?;
        let id = out
            .group_id()
            .ok_or_else(|| AwsError::missing("CreateSecurityGroup", "GroupId"))?;
        let empty = Found::new(id, serde_json::json!({"ingress": [], "tags": spec.tags}), true);
        self.update(cx, at, &empty, &["ingress".to_string()]).await
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        let ec2 = cx.clients.ec2(at.region);
        let id = &live.physical_id;
        if has(fields, "ingress") {
            let names = prefix_lists(&ec2, spec).await?;
            let was: Vec<Rule> = serde_json::from_value(live.live["ingress"].clone()).unwrap_or_default();
            let extra: Vec<IpPermission> = was
                .iter()
                .filter(|r| !spec.ingress.contains(r))
                .map(|r| permission(r, &names))
                .collect();
            if !extra.is_empty() {
                ec2.revoke_security_group_ingress()
                    .group_id(id)
                    .set_ip_permissions(Some(extra))
                    .send()
                    .await
                    .map_err(sdk("RevokeSecurityGroupIngress"))?;
            }
            let missing: Vec<IpPermission> = spec
                .ingress
                .iter()
                .filter(|r| !was.contains(r))
                .map(|r| permission(r, &names))
                .collect();
            if !missing.is_empty() {
                consistent(async || {
                    ec2.authorize_security_group_ingress()
                        .group_id(id)
                        .set_ip_permissions(Some(missing.clone()))
                        .send()
                        .await
                        .map_err(sdk("AuthorizeSecurityGroupIngress"))
                })
                .await?;
            }
        }
        if has(fields, "tags") {
            let was = live.tags()?;
            sync_tags(&ec2, id, &spec.tags, &was).await?;
        }
        Ok(Found::new(id, spec, true))
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _opts: &Options) -> Step<Gone> {
        let ec2 = cx.clients.ec2(at.region);
        // ENIs of a deleted ALB or of stopped tasks drain for a while.
        retrying(&["DependencyViolation", "InvalidGroup.InUse"], 20, async || {
            ok_if_gone(
                ec2.delete_security_group()
                    .group_id(&live.physical_id)
                    .send()
                    .await
                    .map_err(sdk("DeleteSecurityGroup")),
            )
        })
        .await?;
        Ok(Gone::Deleted)
    }
}
