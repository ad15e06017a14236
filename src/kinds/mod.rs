//! The resource kinds: one module each, each implementing
//! [`crate::engine::kind::Resource`] over its own spec (find, create,
//! update, delete, and for some a readiness check). They see the engine
//! below them (`Cx`, `At`, the waits) and the SDK plumbing several share
//! (`crate::resources`), never the walks, the lockfile or the commands.

pub mod bucket_grant;
pub mod cache_policy;
pub mod cloudfront_function;
pub mod cloudfront_policy;
pub mod distribution;
pub mod ecs_cluster;
pub mod ecs_service;
pub mod edge_function;
pub mod elastic_ip;
pub mod iam_role;
pub mod internet_gateway;
pub mod key_group;
pub mod listener;
pub mod listener_rule;
pub mod load_balancer;
pub mod log_bucket;
pub mod log_group;
pub mod nat_gateway;
pub mod origin_access_control;
pub mod origin_bucket;
pub mod origin_request_policy;
pub mod origin_secret;
pub mod public_key;
pub mod response_headers_policy;
pub mod route_table;
pub mod security_group;
pub mod subnet;
pub mod target_group;
pub mod task_definition;
pub mod vpc;

use serde_json::Value;

pub use crate::resources::{Tags, ours, owned, tag_changes, user_tags};

/// The item of an EC2 Describe answer that is this instance: with an id
/// recorded, the call named it, so the first; else the first carrying this
/// stack's and this instance's ownership tags.
pub fn this_instance<'a, T, S>(
    items: &'a [T],
    tags: impl Fn(&T) -> &[aws_sdk_ec2::types::Tag],
    at: &crate::engine::kind::At<'_, S>,
    stack: &str,
) -> Option<&'a T> {
    items
        .iter()
        .find(|i| at.recorded().is_some() || ours(&crate::resources::network::tag_map(tags(i)), stack, at.id))
}

/// JSON of a plain value (specs and live views are plain data).
pub fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Whether `fields` (the ones that differ) include `name`.
pub fn has(fields: &[String], name: &str) -> bool {
    fields.iter().any(|f| f == name)
}
