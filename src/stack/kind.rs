//! The one surface every resource kind implements, and what the walks
//! (`up`, `plan`, `status`, `down`) know of a resource: nothing but this.
//!
//! A kind never sees the profile. It gets an [`At`]: the instance id, the
//! region the resource lives in, and its spec (plain JSON, built once by a
//! producer from the profile and its dependencies' outputs, or read back
//! from the lockfile). The engine compares that spec with the kind's
//! [`Found::live`] view field by field, so a kind cannot forget a field:
//! a field its live view leaves out shows as a change on every run.

use std::collections::BTreeMap;

use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::teardown::Options;
use super::{Ctx, StepError};
use crate::engine::wait::Check;
use crate::lockfile::Entry;

/// What a kind's async methods return.
pub type Fut<'a, T> = LocalBoxFuture<'a, Result<T, StepError>>;

/// One instance of a kind, where the engine is working on it.
pub struct At<'a> {
    /// The instance id (`vpc`, `subnet_public_a`, `distribution`...).
    pub id: &'a str,
    /// The AWS region for its calls (`global` resolved to us-east-1).
    pub region: &'a str,
    /// The spec: desired (`up`, `plan`) or as applied (`status`, `down`).
    pub spec: &'a Value,
    /// The lockfile's entry, when there is one.
    pub entry: Option<&'a Entry>,
}

impl At<'_> {
    /// The spec as the kind's own type.
    pub fn spec<T: DeserializeOwned>(&self) -> Result<T, StepError> {
        serde_json::from_value(self.spec.clone()).map_err(|e| {
            StepError::Missing(format!(
                "{}: the spec does not fit its kind ({e}); run `ahi-edge up` to record it again",
                self.id
            ))
        })
    }

    /// A spec field as a string, when the spec has it.
    pub fn field(&self, key: &str) -> Option<String> {
        self.spec.get(key).and_then(Value::as_str).map(str::to_string)
    }

    /// The physical id the lockfile recorded.
    pub fn recorded(&self) -> Option<&str> {
        self.entry.and_then(|e| e.physical_id.as_deref())
    }

    pub fn recorded_arn(&self) -> Option<&str> {
        self.entry.and_then(|e| e.arn.as_deref())
    }

    pub fn output(&self, key: &str) -> Option<&str> {
        self.entry.and_then(|e| e.outputs.get(key)).map(String::as_str)
    }
}

/// A resource as it exists.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub physical_id: String,
    pub arn: Option<String>,
    /// What other instances and `outputs` need (DNS names, version ARNs...).
    pub outputs: BTreeMap<String, String>,
    /// The live resource in the spec's own shape: every field of the spec.
    pub live: Value,
    /// Whether it carries this stack's ownership tag (or comment marker).
    pub owned: bool,
    /// Live detail for `status` (deploy status, counts, state).
    pub detail: String,
}

impl Found {
    pub fn new(physical_id: impl Into<String>, live: Value, owned: bool) -> Self {
        Found {
            physical_id: physical_id.into(),
            live,
            owned,
            ..Found::default()
        }
    }

    pub fn arn(mut self, arn: impl Into<String>) -> Self {
        self.arn = Some(arn.into());
        self
    }

    /// The ARN `find` read, for a call that needs it: absent, it is an
    /// error naming the call, never an empty string sent to AWS.
    pub fn arn_for(&self, operation: &'static str) -> Result<&str, crate::aws::AwsError> {
        self.arn
            .as_deref()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| crate::aws::AwsError::missing(operation, &format!("ARN of {}", self.physical_id)))
    }

    pub fn out(mut self, key: &str, value: impl Into<String>) -> Self {
        self.outputs.insert(key.to_string(), value.into());
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// The live view as the kind's own spec type.
    pub fn view<T: DeserializeOwned>(&self) -> Result<T, StepError> {
        serde_json::from_value(self.live.clone()).map_err(|e| {
            StepError::Missing(format!(
                "{}: live view does not fit its kind: {e}",
                self.physical_id
            ))
        })
    }
}

/// How a delete ended.
pub enum Gone {
    Deleted,
    /// Deliberately left in place (the log bucket without `--purge-logs`).
    Kept(String),
}

/// Typical AWS-side durations in seconds, for progress ETAs (aws-behaviour.md).
#[derive(Debug, Clone, Copy)]
pub struct Typical {
    pub create: u64,
    pub update: u64,
    pub delete: u64,
    /// The readiness wait, for kinds that have one.
    pub ready: u64,
}

impl Typical {
    pub const QUICK: Typical = Typical {
        create: 2,
        update: 2,
        delete: 2,
        ready: 0,
    };
}

/// A resource kind: its whole lifecycle behind one surface. Register a new
/// kind with one line in `registry.rs`.
pub trait Kind: Sync {
    /// The name the lockfile records (`ec2-vpc`, `cloudfront-distribution`).
    fn name(&self) -> &'static str;

    fn typical(&self) -> Typical {
        Typical::QUICK
    }

    /// Spec fields AWS cannot change in place: a change to one is a
    /// replacement, which `plan` shows and `up` refuses before any call.
    fn replace_fields(&self) -> &'static [&'static str] {
        &[]
    }

    /// The resource by its recorded id, else by what names it (a run killed
    /// after the create call adopts what it made); `None` when it does not exist.
    fn find<'a>(&'a self, cx: &'a Ctx, at: &'a At<'a>) -> Fut<'a, Option<Found>>;

    /// Creates it to match the spec.
    fn create<'a>(&'a self, cx: &'a Ctx, at: &'a At<'a>) -> Fut<'a, Found>;

    /// Brings `live` to the spec; `fields` are the spec fields that differ.
    fn update<'a>(
        &'a self,
        cx: &'a Ctx,
        at: &'a At<'a>,
        live: &'a Found,
        fields: &'a [String],
    ) -> Fut<'a, Found>;

    /// Deletes `live` (found, and owned: the engine checked both); already
    /// gone by now counts as done.
    fn delete<'a>(&'a self, cx: &'a Ctx, at: &'a At<'a>, live: &'a Found, opts: &'a Options)
    -> Fut<'a, Gone>;

    /// Whether the region only says where the calls go, not what the
    /// resource is (a statement in a globally named bucket's policy): a
    /// recorded region that differs from the profile's is then corrected by
    /// `up`, not refused as a move.
    fn region_correctable(&self) -> bool {
        false
    }

    /// The spec field that is the create call's idempotency token, recorded
    /// with the intent so a run killed after the call finds what it made.
    fn token_field(&self) -> Option<&'static str> {
        None
    }

    /// How long `up` waits for readiness, in modelled minutes.
    fn ready_minutes(&self) -> u64 {
        30
    }

    /// Whether an update gives new outputs (a new function version, a new
    /// task definition revision): `plan` then shows dependents changing too.
    fn update_changes_outputs(&self) -> bool {
        false
    }

    /// What AWS still holds that keeps the resource from being deleted
    /// (Lambda@Edge replicas, per region), for `status`.
    fn remains<'a>(&'a self, _cx: &'a Ctx, _at: &'a At<'a>) -> Fut<'a, Option<BTreeMap<String, usize>>> {
        Box::pin(async { Ok(None) })
    }

    /// One look at readiness (ALB active, distribution deployed, service
    /// steady), for kinds `up` waits on.
    fn ready<'a>(&'a self, _cx: &'a Ctx, _at: &'a At<'a>) -> Fut<'a, Check<()>> {
        Box::pin(async { Ok(Check::Done(())) })
    }
}

/// The spec fields whose values differ from the live view (fields the spec
/// has; extra live fields are not compared).
pub fn differing(spec: &Value, live: &Value) -> Vec<String> {
    match spec {
        Value::Object(map) => map
            .iter()
            .filter(|(k, v)| live.get(k.as_str()).unwrap_or(&Value::Null) != *v)
            .map(|(k, _)| k.clone())
            .collect(),
        other if other != live => vec!["value".into()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differing_names_every_spec_field_that_live_does_not_match() {
        let spec = json!({"cidr": "10.0.0.0/23", "tags": {"a": "1"}, "port": 80, "gone": null});
        let live = json!({"cidr": "10.0.0.0/23", "tags": {"a": "2"}, "extra": true});
        assert_eq!(differing(&spec, &live), ["port", "tags"]);
        assert!(
            differing(
                &spec,
                &json!({"cidr": "10.0.0.0/23", "tags": {"a": "1"}, "port": 80})
            )
            .is_empty()
        );
    }
}
