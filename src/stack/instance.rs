//! Instances: what a producer makes of a profile. Each is one resource of
//! a registered kind (with the function that builds its spec from the
//! profile and what its dependencies recorded), or a readiness wait on one.
//! Any number of each kind; ids are the producer's (`vpc`,
//! `subnet_public_a`, later `bucket_grant/acme-media`).

use serde::Serialize;
use serde_json::Value;

use super::{StepError, output};
use crate::engine::graph::Graph;
use crate::engine::kind::{Output, Resource};
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
    /// The instances whose outputs the spec read (its needs).
    pub reads: Reads,
}

/// The ids a spec builder read outputs of, in the order it read them.
#[derive(Debug, Default)]
pub struct Reads(std::cell::RefCell<Vec<String>>);

impl Reads {
    fn note(&self, id: &str) {
        let mut ids = self.0.borrow_mut();
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
        }
    }

    pub fn ids(&self) -> Vec<String> {
        self.0.borrow().clone()
    }
}

/// A value only `up` will know (an id AWS has not given yet).
pub const UNKNOWN: &str = "(known after up)";

impl Sources<'_> {
    /// An output another instance recorded; the instance becomes a need.
    pub fn output(&self, id: &str, key: Output) -> Result<String, StepError> {
        self.reads.note(id);
        self.recorded_output(id, key)
    }

    /// An output that stays what was recorded while its instance is
    /// updated (an ARN), read without making the instance a need: the
    /// producer orders the two itself (a bucket grant goes before an
    /// existing distribution's update, so the distribution never names a
    /// bucket that does not let it read yet).
    pub fn recorded_output(&self, id: &str, key: Output) -> Result<String, StepError> {
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

/// Makes every instance need what its spec reads: each builder runs once
/// as `plan` would (against no recorded outputs), and every instance whose
/// outputs it asked for joins its needs. So a spec cannot read an output
/// its instance does not wait for, whatever its producer declared.
pub fn add_read_needs(instances: &mut [Instance], profile: &Profile) {
    let lock = Lockfile::new(&profile.stack.name);
    for inst in instances.iter_mut() {
        let src = Sources {
            profile,
            lock: &lock,
            account: UNKNOWN,
            package_sha: Some(UNKNOWN.to_string()),
            planning: true,
            reads: Reads::default(),
        };
        if inst.spec(&src).is_none() {
            continue;
        }
        for id in src.reads.ids() {
            if id != inst.id && !inst.needs.contains(&id) {
                inst.needs.push(id);
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(name: &str) -> Profile {
        let text =
            std::fs::read_to_string(format!("{}/profiles/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        crate::profile::check(std::path::Path::new(name), &text)
            .profile
            .expect("a shipped profile is valid")
    }

    #[test]
    fn an_instance_needs_whatever_its_spec_reads() {
        let profile = shipped("ahi-delivery.toml");
        let mut instances = vec![Instance::resource(
            "rule",
            "elbv2-listener-rule",
            "us-east-1",
            &["b"],
            |src| {
                Ok(vec![
                    src.output("a", Output::ARN)?,
                    src.output("b", Output::ID)?,
                    src.output("c", Output::ARN)?,
                ])
            },
        )];
        add_read_needs(&mut instances, &profile);
        assert_eq!(
            instances[0].needs,
            ["b", "a", "c"],
            "declared first, then what it read"
        );
    }

    /// The producers declare what their specs read, and the reads prove it:
    /// inference adds nothing to a shipped profile's stack.
    #[test]
    fn the_shipped_profiles_declare_every_need_their_specs_read() {
        for name in [
            "ahi-delivery.toml",
            "ahi-delivery-https.toml",
            "ahi-delivery-noauth.toml",
            "reverse-proxy.toml",
        ] {
            let profile = shipped(name);
            let lock = Lockfile::new(&profile.stack.name);
            let mut declared = super::super::healthimaging::instances(&profile);
            declared.extend(super::super::routes::instances(&profile, &lock));
            let inferred = super::super::instances(&profile, &lock);
            let missing: Vec<String> = declared
                .iter()
                .zip(&inferred)
                .filter(|(d, i)| d.needs != i.needs)
                .map(|(d, i)| format!("{}: declared {:?}, reads {:?}", d.id, d.needs, i.needs))
                .collect();
            assert!(missing.is_empty(), "{name}: {missing:#?}");
        }
    }

    /// A bucket grant reads the recorded distribution ARN without needing
    /// the distribution (it goes before an existing one's update): what a
    /// spec reads never makes a cycle of the order the lockfile decides.
    #[test]
    fn reads_of_recorded_outputs_keep_the_grant_before_an_existing_distribution() {
        let profile = shipped("reverse-proxy.toml");
        let mut lock = Lockfile::new(&profile.stack.name);
        lock.record_intent("distribution", "cloudfront-distribution", "global", "t", &[]);
        lock.mark_ready(
            "distribution",
            crate::lockfile::Ready {
                physical_id: "E1".into(),
                arn: Some("arn:aws:cloudfront::123456789012:distribution/E1".into()),
                fingerprint: String::new(),
                outputs: Default::default(),
                spec: "{}".into(),
                needs: vec![],
            },
        );
        let instances = super::super::instances(&profile, &lock);
        let grants: Vec<&Instance> = instances.iter().filter(|i| i.id.starts_with("grant/")).collect();
        assert!(!grants.is_empty());
        assert!(
            grants.iter().all(|g| g.needs.is_empty()),
            "{:?}",
            grants.iter().map(|g| &g.needs).collect::<Vec<_>>()
        );
        let graph = graph(instances.iter().map(|i| (i.id.as_str(), i.needs.as_slice())));
        assert_eq!(graph.check(), Ok(()));
    }
}
