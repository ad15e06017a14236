//! Schema 1 -> 2. Schema 1 (ahi-edge before the registry of kinds) kept each
//! entry's spec flattened to strings in a shape that no longer matches the
//! kinds' specs, and no `needs`. The migration keeps what identifies each
//! resource (kind, region, physical id, ARN, outputs), derives `needs` from
//! the fixed stack schema 1 could describe, and drops the old spec: the next
//! `up` records the applied spec (with no AWS write when nothing changed).
//! The file is rewritten on the first change only, after a backup
//! (`<lockfile>.schema1.bak`) is kept.

use std::collections::BTreeMap;

use super::{Entry, Lockfile, SCHEMA};

/// What each schema-1 id needed (the fixed table schema 1 was written from).
const V1_NEEDS: &[(&str, &[&str])] = &[
    ("edge_function", &["edge_role"]),
    ("subnet_public_a", &["vpc"]),
    ("subnet_public_b", &["vpc"]),
    ("subnet_private_a", &["vpc"]),
    ("subnet_private_b", &["vpc"]),
    ("internet_gateway", &["vpc"]),
    ("nat_gateway", &["subnet_public_a", "nat_eip", "internet_gateway"]),
    (
        "public_routes",
        &["internet_gateway", "subnet_public_a", "subnet_public_b"],
    ),
    (
        "private_routes",
        &["nat_gateway", "subnet_private_a", "subnet_private_b"],
    ),
    ("alb_security_group", &["vpc"]),
    ("task_security_group", &["vpc", "alb_security_group"]),
    (
        "load_balancer",
        &[
            "alb_security_group",
            "subnet_public_a",
            "subnet_public_b",
            "internet_gateway",
            "log_bucket",
        ],
    ),
    ("target_group", &["vpc"]),
    ("listener", &["load_balancer"]),
    ("listener_rule", &["listener", "target_group", "origin_secret"]),
    (
        "distribution",
        &[
            "cache_policy",
            "origin_request_policy",
            "edge_function",
            "load_balancer",
            "origin_secret",
            "log_bucket",
        ],
    ),
    (
        "task_definition",
        &["task_execution_role", "task_role", "log_group"],
    ),
    (
        "service",
        &[
            "cluster",
            "task_definition",
            "listener_rule",
            "task_security_group",
            "subnet_private_a",
            "subnet_private_b",
            "private_routes",
        ],
    ),
];

/// A schema-1 entry: as schema 2, but `spec` was a table and there were no `needs`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct V1Entry {
    kind: String,
    region: String,
    state: super::State,
    physical_id: Option<String>,
    arn: Option<String>,
    token: Option<String>,
    #[allow(dead_code)]
    fingerprint: Option<String>,
    created_at: String,
    updated_at: String,
    #[serde(default)]
    outputs: BTreeMap<String, String>,
    #[allow(dead_code)]
    #[serde(default)]
    spec: BTreeMap<String, String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct V1 {
    #[allow(dead_code)]
    schema: u32,
    stack: String,
    tool_version: String,
    created_at: String,
    updated_at: String,
    #[serde(default)]
    resources: BTreeMap<String, V1Entry>,
}

/// Reads a schema-1 document as a schema-2 lockfile (marked as migrated).
pub fn from_v1(text: &str) -> Result<Lockfile, toml::de::Error> {
    let v1: V1 = toml::from_str(text)?;
    let stack = v1.stack.clone();
    let ids: Vec<String> = v1.resources.keys().cloned().collect();
    let resources = v1
        .resources
        .into_iter()
        .map(|(id, e)| {
            let needs = V1_NEEDS
                .iter()
                .find(|(n, _)| *n == id)
                .map(|(_, needs)| {
                    needs
                        .iter()
                        .filter(|d| ids.iter().any(|i| i == *d))
                        .map(|d| d.to_string())
                        .collect()
                })
                .unwrap_or_default();
            // Schema 1 created every distribution with the reference
            // `ahi-edge-<stack>`; it is what finds a half-made one again.
            let token = if e.kind == "cloudfront-distribution" {
                Some(crate::resources::distribution::v1_caller_reference(&stack))
            } else {
                e.token
            };
            let entry = Entry {
                kind: e.kind,
                region: e.region,
                state: e.state,
                physical_id: e.physical_id,
                arn: e.arn,
                token,
                fingerprint: None,
                created_at: e.created_at,
                updated_at: e.updated_at,
                outputs: e.outputs,
                spec: String::new(),
                needs,
            };
            (id, entry)
        })
        .collect();
    Ok(Lockfile {
        schema: SCHEMA,
        stack: v1.stack,
        tool_version: v1.tool_version,
        created_at: v1.created_at,
        updated_at: v1.updated_at,
        rotation: None,
        resources,
        migrated_from: Some(1),
    })
}
