//! IAM roles the stack creates (the Lambda@Edge role, the proxy's task
//! execution and task roles): a trust policy, managed policies, at most one
//! inline policy, and the ownership tags. Found by name; a role with our
//! name but without our tags is neither adopted nor deleted.

use std::collections::BTreeMap;

use aws_sdk_iam::Client;
use aws_sdk_iam::types::Tag;
use serde::Serialize;
use serde_json::{Value, json};

use super::{Change, not_owned, owned_by};
use crate::aws::AwsError;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleSpec {
    pub stack: String,
    pub name: String,
    pub description: String,
    pub trust_policy: Value,
    pub managed_policies: Vec<String>,
    /// (policy name, document): the role's one inline policy, if any.
    pub inline_policy: Option<(String, Value)>,
    pub tags: BTreeMap<String, String>,
}

/// A trust policy letting these AWS services assume the role.
pub fn trusted_by(services: &[&str]) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": services},
            "Action": "sts:AssumeRole"
        }]
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    pub arn: String,
    pub trust_policy: Value,
    pub tags: BTreeMap<String, String>,
}

/// IAM returns policy documents URL-encoded.
fn policy_document(raw: &str) -> Value {
    let decoded = urlencoding::decode(raw)
        .map(|d| d.into_owned())
        .unwrap_or_else(|_| raw.to_string());
    serde_json::from_str(&decoded).unwrap_or(Value::Null)
}

pub async fn get(client: &Client, name: &str) -> Result<Option<Live>, AwsError> {
    match client.get_role().role_name(name).send().await {
        Ok(out) => Ok(out.role().map(|r| Live {
            arn: r.arn().to_string(),
            trust_policy: policy_document(r.assume_role_policy_document().unwrap_or("{}")),
            tags: r
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
        })),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(AwsError::from_sdk("GetRole", e)),
    }
}

async fn attached(client: &Client, name: &str) -> Result<Vec<String>, AwsError> {
    let out = client
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ListAttachedRolePolicies", e))?;
    Ok(out
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect())
}

fn not_ours(name: &str, stack: &str) -> AwsError {
    not_owned("GetRole", "IAM role", name, stack)
}

/// Creates the role or brings trust policy and attachments in line; returns its ARN.
pub async fn ensure(client: &Client, spec: &RoleSpec) -> Result<(String, Change), AwsError> {
    let (arn, mut change) = match get(client, &spec.name).await? {
        Some(live) if !owned_by(&live.tags, &spec.stack) => return Err(not_ours(&spec.name, &spec.stack)),
        Some(live) if live.trust_policy == spec.trust_policy => (live.arn, Change::Unchanged),
        Some(live) => {
            client
                .update_assume_role_policy()
                .role_name(&spec.name)
                .policy_document(spec.trust_policy.to_string())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("UpdateAssumeRolePolicy", e))?;
            (live.arn, Change::Updated)
        }
        None => {
            let tags: Vec<Tag> = spec
                .tags
                .iter()
                .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
                .collect();
            let out = client
                .create_role()
                .role_name(&spec.name)
                .assume_role_policy_document(spec.trust_policy.to_string())
                .description(&spec.description)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("CreateRole", e))?;
            (
                out.role().map(|r| r.arn().to_string()).unwrap_or_default(),
                Change::Created,
            )
        }
    };
    let have = attached(client, &spec.name).await?;
    for policy in spec.managed_policies.iter().filter(|p| !have.contains(p)) {
        client
            .attach_role_policy()
            .role_name(&spec.name)
            .policy_arn(policy)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("AttachRolePolicy", e))?;
        if change == Change::Unchanged {
            change = Change::Updated;
        }
    }
    if let Some((policy_name, document)) = &spec.inline_policy {
        let live = match client
            .get_role_policy()
            .role_name(&spec.name)
            .policy_name(policy_name)
            .send()
            .await
        {
            Ok(out) => Some(policy_document(out.policy_document())),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_no_such_entity_exception()) =>
            {
                None
            }
            Err(e) => return Err(AwsError::from_sdk("GetRolePolicy", e)),
        };
        if live.as_ref() != Some(document) {
            client
                .put_role_policy()
                .role_name(&spec.name)
                .policy_name(policy_name)
                .policy_document(document.to_string())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("PutRolePolicy", e))?;
            if change == Change::Unchanged {
                change = Change::Updated;
            }
        }
    }
    Ok((arn, change))
}

/// Detaches its policies and deletes the role; gone counts as done. A role
/// without this stack's ownership tag is refused, never deleted.
pub async fn delete(client: &Client, name: &str, stack: &str) -> Result<(), AwsError> {
    let Some(live) = get(client, name).await? else {
        return Ok(());
    };
    if !owned_by(&live.tags, stack) {
        return Err(not_ours(name, stack));
    }
    for policy in attached(client, name).await? {
        client
            .detach_role_policy()
            .role_name(name)
            .policy_arn(policy)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DetachRolePolicy", e))?;
    }
    let inline = client
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ListRolePolicies", e))?;
    for policy in inline.policy_names() {
        client
            .delete_role_policy()
            .role_name(name)
            .policy_name(policy)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DeleteRolePolicy", e))?;
    }
    match client.delete_role().role_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(AwsError::from_sdk("DeleteRole", e)),
    }
}
