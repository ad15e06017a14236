//! One module per AWS resource kind, each with the same small surface
//! (after terraform-provider-aws): a desired spec derived from the profile
//! (plain data, no SDK calls), `find` (by the id the lockfile recorded, else
//! by the deterministic name, so a run that died mid-create adopts what it
//! made), `ensure` (create, or update only when live differs from desired:
//! an unchanged resource costs no write call), and `delete` (NotFound counts
//! as done, so teardown is always safe to re-run).

pub mod cache_policy;
pub mod distribution;
pub mod edge_function;
pub mod edge_role;
pub mod origin_request_policy;
pub mod origin_secret;

use std::collections::BTreeMap;

/// What `ensure` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Unchanged,
}

/// Tag keys that mark what ahi-edge created; `down` deletes only resources
/// that carry them with this stack's name.
pub const STACK_TAG: &str = "ahi-edge:stack";
pub const RESOURCE_TAG: &str = "ahi-edge:resource";

/// The profile's tags plus the ownership tags of one resource.
pub fn tags_for(stack: &str, logical_id: &str, user: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut tags = user.clone();
    tags.insert(STACK_TAG.to_string(), stack.to_string());
    tags.insert(RESOURCE_TAG.to_string(), logical_id.to_string());
    tags
}

/// Whether live tags say this stack owns the resource.
pub fn owned_by(tags: &BTreeMap<String, String>, stack: &str) -> bool {
    tags.get(STACK_TAG).is_some_and(|s| s == stack)
}
