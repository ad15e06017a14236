//! The resource kinds: one module each, each implementing
//! [`crate::stack::kind::Kind`] (find, create, update, delete, and for some
//! a readiness check). The SDK plumbing some share lives in
//! `crate::resources`; what the engine sees is only the `Kind` surface.

pub mod bucket_grant;
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
pub mod origin_secret;
pub mod public_key;
pub mod route_table;
pub mod security_group;
pub mod subnet;
pub mod target_group;
pub mod task_definition;
pub mod vpc;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::resources::{RESOURCE_TAG, STACK_TAG};

pub type Tags = BTreeMap<String, String>;

/// Tags as the spec compares them: AWS's own (`aws:`) are not ours to manage.
pub fn user_tags(tags: impl IntoIterator<Item = (String, String)>) -> Tags {
    tags.into_iter().filter(|(k, _)| !k.starts_with("aws:")).collect()
}

/// Whether live tags say this stack owns the resource.
pub fn owned(tags: &Tags, stack: &str) -> bool {
    tags.get(STACK_TAG).is_some_and(|s| s == stack)
}

/// Whether tags mark this stack's instance `id` (EC2 finds by tags).
pub fn ours(tags: &Tags, stack: &str, id: &str) -> bool {
    owned(tags, stack) && tags.get(RESOURCE_TAG).is_some_and(|r| r == id)
}

/// What to set and what to remove to turn `have` into `want`.
pub fn tag_changes(want: &Tags, have: &Tags) -> (Tags, Vec<String>) {
    let set = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = have.keys().filter(|k| !want.contains_key(*k)).cloned().collect();
    (set, remove)
}

/// JSON of a plain value (specs and live views are plain data).
pub fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Whether `fields` (the ones that differ) include `name`.
pub fn has(fields: &[String], name: &str) -> bool {
    fields.iter().any(|f| f == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_changes_set_what_differs_and_remove_what_is_extra() {
        let want: Tags = [("a", "1"), ("b", "2")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let have: Tags = [("a", "1"), ("b", "9"), ("c", "3")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (set, remove) = tag_changes(&want, &have);
        assert_eq!(set.into_iter().collect::<Vec<_>>(), [("b".into(), "2".into())]);
        assert_eq!(remove, ["c"]);
        assert!(user_tags([("aws:cloudformation:stack".into(), "x".into())]).is_empty());
    }
}
