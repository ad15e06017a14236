//! IAM roles the stack creates (the Lambda@Edge role, the proxy's task
//! execution and task roles): a trust policy, managed policies, at most one
//! inline policy, and the ownership tags. Found by name; a role with our
//! name but without our tags is neither adopted nor deleted.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleSpec {
    pub name: String,
    pub description: String,
    pub trust_policy: Value,
    pub managed_policies: Vec<String>,
    /// (policy name, document): the role's one inline policy, if any.
    pub inline_policy: Option<(String, Value)>,
    pub tags: BTreeMap<String, String>,
}

/// Where the permissions boundary lives: a customer managed policy an
/// administrator creates once per stack, before the first `up`, from the
/// document `ahi-edge iam-policy --boundary` prints (docs/permissions.md,
/// "The permissions boundary"). The deployer policy lets roles be created
/// and their policies changed only with exactly this boundary, and grants
/// no write on the policy itself, so the deployer cannot widen it.
pub const BOUNDARY_PATH: &str = "/ahi-edge/";

/// The boundary policy's name (under `BOUNDARY_PATH`).
pub fn boundary_name(stack: &str) -> String {
    format!("{stack}-boundary")
}

/// The boundary's ARN in `account` (`${aws:PrincipalAccount}` in the
/// deployer policy, which is written before the account is known).
pub fn boundary_arn(stack: &str, account: &str) -> String {
    format!(
        "arn:aws:iam::{account}:policy{BOUNDARY_PATH}{}",
        boundary_name(stack)
    )
}

/// A trust policy letting these AWS services assume the role, from any
/// account's resources. Only for services that do not support the
/// `aws:SourceAccount` condition in a trust policy (Lambda@Edge: see
/// docs/permissions.md).
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

/// A trust policy letting these AWS services assume the role only on
/// behalf of `account`'s own resources (`aws:SourceAccount`), so another
/// account cannot make the service act as this role (the confused deputy).
pub fn trusted_by_in_account(services: &[&str], account: &str) -> Value {
    let mut policy = trusted_by(services);
    policy["Statement"][0]["Condition"] = json!({"StringEquals": {"aws:SourceAccount": account}});
    policy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boundary_is_named_after_the_stack_under_its_own_path() {
        assert_eq!(
            boundary_arn("img", "123456789012"),
            "arn:aws:iam::123456789012:policy/ahi-edge/img-boundary"
        );
    }

    #[test]
    fn the_account_condition_names_the_stacks_account() {
        assert_eq!(
            trusted_by_in_account(&["ecs-tasks.amazonaws.com"], "123456789012"),
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": ["ecs-tasks.amazonaws.com"]},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}
                }]
            })
        );
    }
}
