//! An IAM role (`iam-role`): trust policy, description, exactly the managed
//! policies and inline policies of the spec (one widened or added by hand
//! is drift, and `up` puts the spec's back and removes the extra), tags.
//! The permissions boundary is sent on CreateRole, and one removed or
//! changed by hand is drift that `up` puts back (PutRolePermissionsBoundary).
//! Found by name; IAM is global.

use std::collections::BTreeMap;

use aws_sdk_iam::types::Tag;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Tags, has, owned, user_tags};
use crate::aws::{AwsError, sdk, unless};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Resource};
use crate::engine::step::{Cx, Step};
use crate::resources::sync_tags;

pub struct IamRole;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    pub description: String,
    pub trust_policy: Value,
    /// Sorted ARNs.
    pub managed_policies: Vec<String>,
    /// Inline policy name -> document.
    pub inline_policies: BTreeMap<String, Value>,
    pub tags: Tags,
    /// The managed policy capping the role (a state written before
    /// boundaries has none: the next `up` sees the drift and adds it).
    #[serde(default)]
    pub permissions_boundary: Option<String>,
}

const NO_SUCH: &[&str] = &["NoSuchEntity"];

/// IAM returns policy documents URL-encoded.
fn document(raw: &str) -> Value {
    let decoded = urlencoding::decode(raw)
        .map(|d| d.into_owned())
        .unwrap_or_else(|_| raw.to_string());
    serde_json::from_str(&decoded).unwrap_or(Value::String(decoded))
}

async fn attached(iam: &aws_sdk_iam::Client, name: &str) -> Result<Vec<String>, AwsError> {
    let out = iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(sdk("ListAttachedRolePolicies"))?;
    let mut arns: Vec<String> = out
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect();
    arns.sort();
    Ok(arns)
}

async fn inline(iam: &aws_sdk_iam::Client, name: &str) -> Result<BTreeMap<String, Value>, AwsError> {
    let names = iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(sdk("ListRolePolicies"))?;
    let mut out = BTreeMap::new();
    for policy in names.policy_names() {
        let got = iam
            .get_role_policy()
            .role_name(name)
            .policy_name(policy)
            .send()
            .await
            .map_err(sdk("GetRolePolicy"))?;
        out.insert(policy.clone(), document(got.policy_document()));
    }
    Ok(out)
}

fn iam_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

impl Resource for IamRole {
    type Spec = Spec;

    const NAME: &'static str = "iam-role";

    const REPLACE: &'static [&'static str] = &["name"];

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let Some(name) = at.recorded_or("name") else {
            return Ok(None);
        };
        let iam = cx.clients.iam();
        let Some(out) = unless(
            NO_SUCH,
            iam.get_role()
                .role_name(&name)
                .send()
                .await
                .map_err(sdk("GetRole")),
        )?
        else {
            return Ok(None);
        };
        let role = out.role().ok_or_else(|| AwsError::missing("GetRole", "Role"))?;
        let tags = user_tags(
            role.tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string())),
        );
        let live = Spec {
            name: role.role_name().to_string(),
            description: role.description().unwrap_or_default().to_string(),
            trust_policy: document(role.assume_role_policy_document().unwrap_or("{}")),
            managed_policies: attached(&iam, &name).await?,
            inline_policies: inline(&iam, &name).await?,
            tags: tags.clone(),
            permissions_boundary: role
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_string),
        };
        Ok(Some(
            Found::new(&name, &live, owned(&tags, cx.stack())).arn(role.arn()),
        ))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let out = cx
            .clients
            .iam()
            .create_role()
            .role_name(&spec.name)
            .assume_role_policy_document(spec.trust_policy.to_string())
            .description(&spec.description)
            .set_permissions_boundary(spec.permissions_boundary.clone())
            .set_tags(Some(iam_tags(&spec.tags)))
            .send()
            .await
            .map_err(sdk("CreateRole"))?;
        let arn = out
            .role()
            .map(|r| r.arn().to_string())
            .ok_or_else(|| AwsError::missing("CreateRole", "Role.Arn"))?;
        let created = Found::new(
            &spec.name,
            serde_json::json!({"managed_policies": [], "inline_policies": {}, "tags": spec.tags}),
            true,
        )
        .arn(arn);
        let fields = ["managed_policies".to_string(), "inline_policies".to_string()];
        self.update(cx, at, &created, &fields).await
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        let iam = cx.clients.iam();
        let name = &spec.name;
        if has(fields, "trust_policy") {
            iam.update_assume_role_policy()
                .role_name(name)
                .policy_document(spec.trust_policy.to_string())
                .send()
                .await
                .map_err(sdk("UpdateAssumeRolePolicy"))?;
        }
        // Put back before the policies: the deployer may change a
        // role's policies only while it carries the boundary.
        if let (true, Some(boundary)) = (has(fields, "permissions_boundary"), &spec.permissions_boundary) {
            iam.put_role_permissions_boundary()
                .role_name(name)
                .permissions_boundary(boundary)
                .send()
                .await
                .map_err(sdk("PutRolePermissionsBoundary"))?;
        }
        if has(fields, "description") {
            iam.update_role()
                .role_name(name)
                .description(&spec.description)
                .send()
                .await
                .map_err(sdk("UpdateRole"))?;
        }
        if has(fields, "managed_policies") {
            let was: Vec<String> =
                serde_json::from_value(live.live["managed_policies"].clone()).unwrap_or_default();
            for arn in was.iter().filter(|a| !spec.managed_policies.contains(a)) {
                iam.detach_role_policy()
                    .role_name(name)
                    .policy_arn(arn)
                    .send()
                    .await
                    .map_err(sdk("DetachRolePolicy"))?;
            }
            for arn in spec.managed_policies.iter().filter(|a| !was.contains(a)) {
                iam.attach_role_policy()
                    .role_name(name)
                    .policy_arn(arn)
                    .send()
                    .await
                    .map_err(sdk("AttachRolePolicy"))?;
            }
        }
        if has(fields, "inline_policies") {
            let was: BTreeMap<String, Value> =
                serde_json::from_value(live.live["inline_policies"].clone()).unwrap_or_default();
            for policy in was.keys().filter(|p| !spec.inline_policies.contains_key(*p)) {
                iam.delete_role_policy()
                    .role_name(name)
                    .policy_name(policy)
                    .send()
                    .await
                    .map_err(sdk("DeleteRolePolicy"))?;
            }
            for (policy, doc) in spec
                .inline_policies
                .iter()
                .filter(|(p, d)| was.get(*p) != Some(*d))
            {
                iam.put_role_policy()
                    .role_name(name)
                    .policy_name(policy)
                    .policy_document(doc.to_string())
                    .send()
                    .await
                    .map_err(sdk("PutRolePolicy"))?;
            }
        }
        if has(fields, "tags") {
            let set = async |set: Tags| {
                let call = iam.tag_role().role_name(name).set_tags(Some(iam_tags(&set)));
                call.send().await.map(drop).map_err(sdk("TagRole"))
            };
            let remove = async |keys| {
                let call = iam.untag_role().role_name(name).set_tag_keys(Some(keys));
                call.send().await.map(drop).map_err(sdk("UntagRole"))
            };
            sync_tags(&spec.tags, &live.tags()?, set, remove).await?;
        }
        Ok(live.applied(spec))
    }

    async fn delete(&self, cx: &Cx, _at: &At<'_, Spec>, live: &Found, _opts: &Options) -> Step<Gone> {
        let iam = cx.clients.iam();
        let name = &live.physical_id;
        let was: Spec = live.view()?;
        for arn in &was.managed_policies {
            unless(
                NO_SUCH,
                iam.detach_role_policy()
                    .role_name(name)
                    .policy_arn(arn)
                    .send()
                    .await
                    .map_err(sdk("DetachRolePolicy")),
            )?;
        }
        for policy in was.inline_policies.keys() {
            unless(
                NO_SUCH,
                iam.delete_role_policy()
                    .role_name(name)
                    .policy_name(policy)
                    .send()
                    .await
                    .map_err(sdk("DeleteRolePolicy")),
            )?;
        }
        unless(
            NO_SUCH,
            iam.delete_role()
                .role_name(name)
                .send()
                .await
                .map_err(sdk("DeleteRole")),
        )?;
        Ok(Gone::Deleted)
    }
}
