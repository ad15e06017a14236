//! Instances: what a producer makes of a profile. Each is one resource of
//! a registered kind (with the function that builds its spec from the
//! profile and what its dependencies recorded), or a readiness wait on one.
//! Any number of each kind; ids are the producer's (`vpc`,
//! `subnet_public_a`, later `bucket_grant/acme-media`).

use serde::Serialize;
use serde_json::Value;

use super::{StepError, output};
use crate::engine::graph::Graph;
use crate::engine::kind::Resource;
use crate::lockfile::Lockfile;
use crate::profile::Profile;

/// What a spec is built from.
pub struct Sources<'a> {
    pub profile: &'a Profile,
    pub lock: &'a Lockfile,
    pub account: &'a str,
    /// base64 SHA-256 of the authorizer zip (with an authorizer only).
    pub package_sha: Option<String>,
    /// `plan`: a dependency not created yet stands as [`UNKNOWN`] instead of
    /// failing the spec.
    pub planning: bool,
}

/// A value only `up` will know (an id AWS has not given yet).
pub const UNKNOWN: &str = "(known after up)";

impl Sources<'_> {
    /// An output another instance recorded.
    pub fn output(&self, id: &str, key: &str) -> Result<String, StepError> {
        match output(self.lock, id, key) {
            Err(_) if self.planning => Ok(UNKNOWN.to_string()),
            other => other,
        }
    }
}

pub type Build = Box<dyn Fn(&Sources) -> Result<Value, StepError> + Send + Sync>;

pub enum Role {
    /// A resource, with the function that builds its spec.
    Resource(Build),
    /// Wait until the instance `of` is ready (ALB active, distribution
    /// deployed, service steady). Recorded nowhere.
    Ready { of: String },
}

pub struct Instance {
    pub id: String,
    /// The registry name of its kind (for a wait: the kind of what it waits on).
    pub kind: &'static str,
    /// An AWS region, or `global`.
    pub region: String,
    pub needs: Vec<String>,
    pub role: Role,
}

impl Instance {
    /// A resource of the kind named `kind` (for a spec taken from the
    /// lockfile; producers use [`Instance::of`]).
    pub fn resource<S: Serialize + 'static>(
        id: &str,
        kind: &'static str,
        region: &str,
        needs: &[&str],
        build: impl Fn(&Sources) -> Result<S, StepError> + Send + Sync + 'static,
    ) -> Self {
        Instance {
            id: id.to_string(),
            kind,
            region: region.to_string(),
            needs: needs.iter().map(|n| n.to_string()).collect(),
            role: Role::Resource(Box::new(move |src| {
                build(src).map(|spec| serde_json::to_value(spec).unwrap_or(Value::Null))
            })),
        }
    }

    /// A resource of kind `R`: its kind name is `R`'s, and its spec builder
    /// must give `R`'s spec.
    pub fn of<R: Resource>(
        id: &str,
        region: &str,
        needs: &[&str],
        build: impl Fn(&Sources) -> Result<R::Spec, StepError> + Send + Sync + 'static,
    ) -> Self
    where
        R::Spec: Serialize + 'static,
    {
        Self::resource(id, R::NAME, region, needs, build)
    }

    pub fn ready(id: &str, of: &Instance) -> Self {
        Instance {
            id: id.to_string(),
            kind: of.kind,
            region: of.region.clone(),
            needs: vec![of.id.clone()],
            role: Role::Ready { of: of.id.clone() },
        }
    }

    /// The desired spec (`None` for a wait).
    pub fn spec(&self, src: &Sources) -> Option<Result<Value, StepError>> {
        match &self.role {
            Role::Resource(build) => Some(build(src)),
            Role::Ready { .. } => None,
        }
    }

    pub fn is_wait(&self) -> bool {
        matches!(self.role, Role::Ready { .. })
    }
}

/// The dependency graph over instances: edges to ids outside the set are
/// dropped (a dependency that is not part of this profile, e.g. an existing VPC).
pub fn graph<'a>(nodes: impl IntoIterator<Item = (&'a str, &'a [String])>) -> Graph {
    let nodes: Vec<(&str, &[String])> = nodes.into_iter().collect();
    let ids: Vec<&str> = nodes.iter().map(|(id, _)| *id).collect();
    let mut g = Graph::new();
    for (id, needs) in &nodes {
        let needs: Vec<&str> = needs
            .iter()
            .map(String::as_str)
            .filter(|d| ids.contains(d))
            .collect();
        g.add(id, &needs);
    }
    g
}
