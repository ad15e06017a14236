//! The lockfile: what ahi-edge has created, so every command can resume.
//!
//! Format and invariants are described in docs/lockfile.md. This module is
//! plain data and pure operations; `store` does the disk work (atomic
//! writes) and `run_lock` the exclusive lock held for a whole run.

mod migrate;
mod run_lock;
mod store;

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use run_lock::RunLock;
pub use store::{StateStore, parse, read, write_atomic};

/// The schema this build reads and writes. A newer one is refused.
pub const SCHEMA: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lockfile {
    pub schema: u32,
    /// The profile's `stack.name`: a lockfile belongs to exactly one stack.
    pub stack: String,
    /// The ahi-edge version that last wrote the file.
    pub tool_version: String,
    pub created_at: String,
    pub updated_at: String,
    /// A `rotate-origin-secret` under way: absent otherwise. Boxed: rare,
    /// and the lockfile travels inside the state stores by value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<Box<Rotation>>,
    /// Instance id (e.g. `distribution`, `subnet_public_a`) -> what exists in AWS.
    #[serde(default)]
    pub resources: BTreeMap<String, Entry>,
    /// The schema this was read from when older (the file is rewritten, after
    /// a backup, on the first change).
    #[serde(skip)]
    pub migrated_from: Option<u32>,
}

/// An origin secret rotation in progress: the versions it moves between
/// (ids only, never a value) and the phase it is in. Recorded before the
/// phase's first write, so a killed run resumes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    pub phase: Phase,
    pub secret_arn: String,
    /// The version CloudFront, the rule and the proxy used before.
    pub old_version: String,
    /// The new version's id, chosen (as the PutSecretValue client request
    /// token) before it is created.
    pub new_version: String,
    pub started_at: String,
}

/// The phases of a rotation, in order: each is done when the next is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The new version is put in Secrets Manager (staged AWSPENDING).
    NewVersion,
    /// The ALB rule accepts the old and the new value.
    RuleBoth,
    /// The proxy accepts both: a task definition with both, the service rolled.
    ProxyBoth,
    /// The distribution sends the new value; waited for Deployed.
    Distribution,
    /// The ALB rule accepts only the new value.
    RuleNew,
    /// The proxy accepts only the new value (rolled again).
    ProxyNew,
    /// AWSCURRENT moves to the new version; the old one is retired.
    Retire,
}

impl Phase {
    pub const ALL: [Phase; 7] = [
        Phase::NewVersion,
        Phase::RuleBoth,
        Phase::ProxyBoth,
        Phase::Distribution,
        Phase::RuleNew,
        Phase::ProxyNew,
        Phase::Retire,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::NewVersion => "new-version",
            Phase::RuleBoth => "rule-both",
            Phase::ProxyBoth => "proxy-both",
            Phase::Distribution => "distribution",
            Phase::RuleNew => "rule-new",
            Phase::ProxyNew => "proxy-new",
            Phase::Retire => "retire",
        }
    }

    /// The phase after this one (`None` after the last).
    pub fn next(self) -> Option<Phase> {
        let at = Phase::ALL.iter().position(|p| *p == self)?;
        Phase::ALL.get(at + 1).copied()
    }

    /// What the phase does, for `status` and the command's progress.
    pub fn describe(self) -> &'static str {
        match self {
            Phase::NewVersion => "creating the new secret version",
            Phase::RuleBoth => "the ALB rule accepts the old and the new value",
            Phase::ProxyBoth => "the proxy accepts both values (service rolling)",
            Phase::Distribution => "the distribution sends the new value (deploying)",
            Phase::RuleNew => "the ALB rule accepts only the new value",
            Phase::ProxyNew => "the proxy accepts only the new value (service rolling)",
            Phase::Retire => "the old version is retired",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Resource kind, e.g. `cloudfront-distribution` (the registry's name).
    pub kind: String,
    /// Where the resource lives: an AWS region, or `global` (IAM, CloudFront).
    /// Every later call for this entry goes there, whatever the profile says now.
    pub region: String,
    pub state: State,
    /// The id AWS gave it (or the name we chose), once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Idempotency token or deterministic name sent with the create call, so
    /// a run killed mid-create finds (adopts) what it made instead of making
    /// it twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Fingerprint of the desired spec the resource was last made to match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Values other resources and `outputs` need (DNS names, version ARNs...).
    /// Never a secret.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, String>,
    /// The spec the resource was last made to match, as compact JSON: the
    /// very value that was sent to AWS, so `status` compares live with it and
    /// `down` works from it alone. Never a secret: specs name the origin
    /// secret by ARN and version, not its value.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub spec: String,
    /// The entries this one needs (ids in this lockfile): `down` deletes in
    /// the reverse of this order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<String>,
}

impl Entry {
    /// The recorded spec (`Null` before the first successful create).
    pub fn spec_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.spec).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Intent recorded; the create call may or may not have reached AWS.
    Creating,
    Ready,
    Updating,
    Deleting,
    /// A Lambda@Edge function whose delete waits for CloudFront to remove replicas.
    AwaitingReplicas,
}

impl Lockfile {
    pub fn new(stack: &str) -> Self {
        let now = now();
        Lockfile {
            schema: SCHEMA,
            stack: stack.to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            created_at: now.clone(),
            updated_at: now,
            rotation: None,
            resources: BTreeMap::new(),
            migrated_from: None,
        }
    }

    /// Records the intent to create `id` before the create call is sent.
    pub fn record_intent(&mut self, id: &str, kind: &str, region: &str, token: &str, needs: &[String]) {
        let now = now();
        self.resources.insert(
            id.to_string(),
            Entry {
                kind: kind.to_string(),
                region: region.to_string(),
                state: State::Creating,
                physical_id: None,
                arn: None,
                token: Some(token.to_string()),
                fingerprint: None,
                created_at: now.clone(),
                updated_at: now,
                outputs: BTreeMap::new(),
                spec: String::new(),
                needs: needs.to_vec(),
            },
        );
    }

    /// Records that `id` exists and matches the spec with `fingerprint`.
    /// Returns false when there is no such entry.
    pub fn mark_ready(&mut self, id: &str, ready: Ready) -> bool {
        let Some(entry) = self.resources.get_mut(id) else {
            return false;
        };
        entry.state = State::Ready;
        entry.physical_id = Some(ready.physical_id);
        entry.arn = ready.arn;
        entry.fingerprint = Some(ready.fingerprint);
        entry.outputs = ready.outputs;
        entry.spec = ready.spec;
        entry.needs = ready.needs;
        entry.updated_at = now();
        true
    }

    pub fn set_state(&mut self, id: &str, state: State) -> bool {
        let Some(entry) = self.resources.get_mut(id) else {
            return false;
        };
        entry.state = state;
        entry.updated_at = now();
        true
    }

    /// Drops an entry once its resource is gone.
    pub fn forget(&mut self, id: &str) -> Option<Entry> {
        self.resources.remove(id)
    }
}

/// What a finished create or update leaves in the lockfile.
#[derive(Debug, Clone, Default)]
pub struct Ready {
    pub physical_id: String,
    pub arn: Option<String>,
    pub fingerprint: String,
    pub outputs: BTreeMap<String, String>,
    /// The applied spec as compact JSON.
    pub spec: String,
    pub needs: Vec<String>,
}

/// A stable fingerprint of a desired spec: `sha256:<hex>` of its JSON form.
/// Specs must use ordered maps (BTreeMap) so equal specs give equal bytes.
pub fn fingerprint<T: Serialize>(spec: &T) -> String {
    // Serializing plain data structs to JSON cannot fail.
    let bytes = serde_json::to_vec(spec).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

pub fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_toml() {
        let mut lock = Lockfile::new("ahi-prod");
        lock.record_intent(
            "distribution",
            "cloudfront-distribution",
            "us-east-1",
            "ahi-prod-7f3a",
            &[],
        );
        lock.record_intent(
            "edge_function",
            "lambda-edge-function",
            "us-east-1",
            "ahi-prod-edge-auth",
            &["edge_role".to_string()],
        );
        let mut outputs = BTreeMap::new();
        outputs.insert(
            "domain_name".to_string(),
            "d111111abcdef8.cloudfront.net".to_string(),
        );
        assert!(lock.mark_ready(
            "distribution",
            Ready {
                physical_id: "E2QWRUHEXAMPLE".into(),
                arn: Some("arn:aws:cloudfront::123456789012:distribution/E2QWRUHEXAMPLE".into()),
                fingerprint: fingerprint(&("spec", 1)),
                outputs,
                spec: r#"{"enabled":true}"#.into(),
                needs: vec!["edge_function".into()],
            }
        ));
        assert!(lock.set_state("edge_function", State::AwaitingReplicas));
        let text = toml::to_string(&lock).unwrap();
        assert!(text.contains("state = \"awaiting-replicas\""), "{text}");
        let back: Lockfile = toml::from_str(&text).unwrap();
        assert_eq!(back, lock);
        assert!(!lock.set_state("nope", State::Ready));
    }

    #[test]
    fn a_rotation_round_trips_and_its_absence_writes_nothing() {
        let mut lock = Lockfile::new("ahi-prod");
        let plain = toml::to_string(&lock).unwrap();
        assert!(!plain.contains("rotation"), "{plain}");
        lock.rotation = Some(Box::new(Rotation {
            phase: Phase::ProxyBoth,
            secret_arn: "arn:aws:secretsmanager:us-east-1:1:secret:ahi-edge/ahi-prod/origin-header-AbCdEf"
                .into(),
            old_version: "v-old".into(),
            new_version: "v-new".into(),
            started_at: now(),
        }));
        let text = toml::to_string(&lock).unwrap();
        assert!(
            text.contains("[rotation]") && text.contains("phase = \"proxy-both\""),
            "{text}"
        );
        let back: Lockfile = toml::from_str(&text).unwrap();
        assert_eq!(back, lock);
        // A lockfile written before rotations existed reads as none in progress.
        let before: Lockfile = toml::from_str(&plain).unwrap();
        assert_eq!(before.rotation, None);
    }

    #[test]
    fn phases_run_in_order_and_end() {
        let mut seen = vec![Phase::NewVersion];
        while let Some(next) = seen.last().unwrap().next() {
            assert!(next > *seen.last().unwrap());
            seen.push(next);
        }
        assert_eq!(seen, Phase::ALL);
        for phase in Phase::ALL {
            let text = serde_json::to_string(&phase).unwrap();
            assert_eq!(text, format!("\"{}\"", phase.as_str()));
        }
    }

    #[test]
    fn fingerprints_are_stable_and_sensitive() {
        let a = fingerprint(&BTreeMap::from([("cache_headers", vec!["authorization"])]));
        let b = fingerprint(&BTreeMap::from([("cache_headers", vec!["authorization"])]));
        let c = fingerprint(&BTreeMap::from([(
            "cache_headers",
            vec!["authorization", "accept"],
        )]));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.starts_with("sha256:") && a.len() == 7 + 64);
    }
}
