//! The stack's shape: every logical resource, what it needs, and where it
//! lives. One table for `up`, `plan`, `status` and `down`: a profile selects
//! the nodes it uses (no Lambda@Edge with `auth.mode = "none"`, no network
//! nodes with an existing VPC), and teardown orders whatever the lockfile
//! holds by the same table, reversed.

use std::time::Duration;

use crate::engine::graph::Graph;
use crate::profile::{AuthMode, Network, Profile};

/// Where a resource lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// us-east-1 whatever the HealthImaging region (Lambda@Edge).
    Edge,
    /// Global services (IAM, CloudFront); recorded as `global`.
    Global,
    /// The HealthImaging region.
    Regional,
}

/// Which profiles have the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Always,
    /// Only with an authorizer (`cognito_jwt` or `oidc`).
    Authorizer,
    /// Only when the tool creates the network.
    NewNetwork,
}

#[derive(Debug, Clone, Copy)]
pub struct Node {
    pub id: &'static str,
    /// Resource kind recorded in the lockfile; `None` for a wait step, which
    /// has no entry of its own.
    pub kind: Option<&'static str>,
    pub place: Place,
    pub when: When,
    pub needs: &'static [&'static str],
    /// Typical AWS-side duration, for the progress ETA (aws-behaviour.md).
    pub typical_s: u64,
}

const fn node(
    id: &'static str,
    kind: &'static str,
    place: Place,
    when: When,
    needs: &'static [&'static str],
) -> Node {
    Node {
        id,
        kind: Some(kind),
        place,
        when,
        needs,
        typical_s: 2,
    }
}

const fn wait(id: &'static str, needs: &'static [&'static str], typical_s: u64) -> Node {
    Node {
        id,
        kind: None,
        place: Place::Regional,
        when: When::Always,
        needs,
        typical_s,
    }
}

use Place::*;
use When::*;

/// Every node, in no particular order (the graph orders them).
pub const NODES: &[Node] = &[
    node("edge_role", "iam-role", Global, Authorizer, &[]),
    Node {
        typical_s: 25,
        ..node(
            "edge_function",
            "lambda-edge-function",
            Edge,
            Authorizer,
            &["edge_role"],
        )
    },
    node("cache_policy", "cloudfront-cache-policy", Global, Always, &[]),
    node(
        "origin_request_policy",
        "cloudfront-origin-request-policy",
        Global,
        Always,
        &[],
    ),
    node("log_bucket", "s3-bucket", Regional, Always, &[]),
    node("origin_secret", "secretsmanager-secret", Regional, Always, &[]),
    node("vpc", "ec2-vpc", Regional, NewNetwork, &[]),
    node("subnet_public_a", "ec2-subnet", Regional, NewNetwork, &["vpc"]),
    node("subnet_public_b", "ec2-subnet", Regional, NewNetwork, &["vpc"]),
    node("subnet_private_a", "ec2-subnet", Regional, NewNetwork, &["vpc"]),
    node("subnet_private_b", "ec2-subnet", Regional, NewNetwork, &["vpc"]),
    node(
        "internet_gateway",
        "ec2-internet-gateway",
        Regional,
        NewNetwork,
        &["vpc"],
    ),
    node("nat_eip", "ec2-elastic-ip", Regional, NewNetwork, &[]),
    Node {
        typical_s: 90,
        ..node(
            "nat_gateway",
            "ec2-nat-gateway",
            Regional,
            NewNetwork,
            &["subnet_public_a", "nat_eip", "internet_gateway"],
        )
    },
    node(
        "public_routes",
        "ec2-route-table",
        Regional,
        NewNetwork,
        &["internet_gateway", "subnet_public_a", "subnet_public_b"],
    ),
    node(
        "private_routes",
        "ec2-route-table",
        Regional,
        NewNetwork,
        &["nat_gateway", "subnet_private_a", "subnet_private_b"],
    ),
    node(
        "alb_security_group",
        "ec2-security-group",
        Regional,
        Always,
        &["vpc"],
    ),
    node(
        "task_security_group",
        "ec2-security-group",
        Regional,
        Always,
        &["vpc", "alb_security_group"],
    ),
    node(
        "load_balancer",
        "elbv2-load-balancer",
        Regional,
        Always,
        &[
            "alb_security_group",
            "subnet_public_a",
            "subnet_public_b",
            "internet_gateway",
            "log_bucket",
        ],
    ),
    wait("load_balancer_active", &["load_balancer"], 116),
    node("target_group", "elbv2-target-group", Regional, Always, &["vpc"]),
    node("listener", "elbv2-listener", Regional, Always, &["load_balancer"]),
    node(
        "listener_rule",
        "elbv2-listener-rule",
        Regional,
        Always,
        &["listener", "target_group", "origin_secret"],
    ),
    node(
        "distribution",
        "cloudfront-distribution",
        Global,
        Always,
        &[
            "cache_policy",
            "origin_request_policy",
            "edge_function",
            "load_balancer",
            "origin_secret",
            "log_bucket",
        ],
    ),
    wait("distribution_deployed", &["distribution"], 266),
    node("cluster", "ecs-cluster", Regional, Always, &[]),
    node("task_execution_role", "iam-role", Global, Always, &[]),
    node("task_role", "iam-role", Global, Always, &[]),
    node("log_group", "logs-log-group", Regional, Always, &[]),
    node(
        "task_definition",
        "ecs-task-definition",
        Regional,
        Always,
        &["task_execution_role", "task_role", "log_group"],
    ),
    node(
        "service",
        "ecs-service",
        Regional,
        Always,
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
    wait("service_steady", &["service"], 119),
];

pub fn get(id: &str) -> Option<&'static Node> {
    NODES.iter().find(|n| n.id == id)
}

/// Whether the profile has this node.
pub fn wanted(node: &Node, profile: &Profile) -> bool {
    match node.when {
        Always => true,
        Authorizer => !matches!(profile.auth.mode, AuthMode::None),
        NewNetwork => matches!(profile.network, Network::Create),
    }
}

/// The nodes a profile deploys.
pub fn for_profile(profile: &Profile) -> Vec<&'static Node> {
    NODES.iter().filter(|n| wanted(n, profile)).collect()
}

/// The dependency graph over `ids`: edges to nodes outside the set are
/// dropped (an existing VPC is not a node; teardown of a partial stack).
pub fn graph<'a>(ids: impl IntoIterator<Item = &'a str>) -> Graph {
    let ids: Vec<&str> = ids.into_iter().collect();
    let mut g = Graph::new();
    for id in &ids {
        if let Some(n) = get(id) {
            let needs: Vec<&str> = n.needs.iter().copied().filter(|d| ids.contains(d)).collect();
            g.add(id, &needs);
        }
    }
    g
}

/// The region a node's lockfile entry records.
pub fn region_of(node: &Node, profile: &Profile) -> String {
    match node.place {
        Edge => crate::aws::EDGE_REGION.to_string(),
        Global => "global".to_string(),
        Regional => profile.healthimaging.region.clone(),
    }
}

/// Typical time of a node, for ETAs.
pub fn typical(node: &Node) -> Duration {
    Duration::from_secs(node.typical_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_a_dag_with_no_unknown_names() {
        let g = graph(NODES.iter().map(|n| n.id));
        g.check().unwrap();
        for n in NODES {
            for d in n.needs {
                assert!(get(d).is_some(), "{} needs unknown {d}", n.id);
            }
        }
    }

    #[test]
    fn the_distribution_needs_only_outputs_not_readiness() {
        let d = get("distribution").unwrap();
        assert!(!d.needs.contains(&"load_balancer_active"));
        assert!(!d.needs.contains(&"service_steady"));
    }
}
