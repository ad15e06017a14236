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
