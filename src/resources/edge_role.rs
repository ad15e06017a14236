//! The Lambda@Edge execution role: trusted by lambda.amazonaws.com and
//! edgelambda.amazonaws.com (Lambda@Edge needs both), with basic logging.
//! No `aws:SourceAccount` condition: CloudFront's guide gives this trust
//! policy without one and documents none for edgelambda.amazonaws.com,
//! which assumes the role in the regions the function is replicated to;
//! an unsupported condition would stop the function at the edge
//! (docs/permissions.md, "Role trust policies").

use super::role::{RoleSpec, trusted_by};
use super::tags_for;
use crate::names::StackNames;
use crate::profile::Profile;

pub const LOGICAL_ID: &str = "edge_role";
pub const BASIC_EXECUTION: &str = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

pub fn spec(profile: &Profile) -> RoleSpec {
    let stack = &profile.stack.name;
    RoleSpec {
        name: StackNames { stack }.edge_role(),
        description: "ahi-edge: Lambda@Edge authorizer".into(),
        trust_policy: trusted_by(&["edgelambda.amazonaws.com", "lambda.amazonaws.com"]),
        managed_policies: vec![BASIC_EXECUTION.to_string()],
        inline_policy: None,
        tags: tags_for(stack, LOGICAL_ID, &profile.stack.tags),
    }
}
