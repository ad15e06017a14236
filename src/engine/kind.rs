//! The one surface every resource kind implements, and what the walks
//! (`up`, `plan`, `status`, `down`) know of a resource: nothing but this.
//!
//! A kind implements [`Resource`] over its own `Spec` type; [`Typed`] turns
//! it into the object-safe [`Kind`] the registry holds, so no kind reads
//! JSON by hand. A kind never sees the profile or the lockfile. It gets an
//! [`At`]: the instance id, the region the resource lives in, its spec
//! (built once by a producer from the profile and its dependencies'
//! outputs, or read back from the lockfile) and what was recorded of it.
//! The engine compares that spec with the kind's [`Found::live`] view field
//! by field, so a kind cannot forget a field: a field its live view leaves
//! out shows as a change on every run.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::future::LocalBoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::step::{Cx, Step, StepError};
use super::wait::Check;

/// What a kind's async methods return through the object-safe surface.
pub type Fut<'a, T> = LocalBoxFuture<'a, Step<T>>;

/// Where a recorded instance stands, as far as a kind needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Intent recorded; the create call may or may not have reached AWS.
    Creating,
    /// Created; `up` may update it.
    Applied,
    /// `down` has started on it.
    Deleting,
}

/// What the lockfile recorded of an instance, as the walk hands it over.
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a> {
    pub physical_id: Option<&'a str>,
    pub arn: Option<&'a str>,
    pub outputs: &'a BTreeMap<String, String>,
    pub phase: Phase,
}

/// One instance of a kind, where the engine is working on it, with its spec
/// as `S` (the kind's own type; `Value` on the engine's side).
pub struct At<'a, S = Value> {
    /// The instance id (`vpc`, `subnet_public_a`, `distribution`...).
    pub id: &'a str,
    /// The AWS region for its calls (`global` resolved to us-east-1).
    pub region: &'a str,
    /// The spec as recorded or built: desired (`up`, `plan`) or as applied
    /// (`status`, `down`).
    pub raw: &'a Value,
    spec: Result<S, String>,
    pub recorded: Option<Recorded<'a>>,
}

impl<'a> At<'a> {
    pub fn new(id: &'a str, region: &'a str, raw: &'a Value, recorded: Option<Recorded<'a>>) -> Self {
        At {
            id,
            region,
            raw,
            spec: Ok(raw.clone()),
            recorded,
        }
    }

    /// The same instance with its spec in a kind's type (the error, if it
    /// does not fit, is kept for the kind to meet when it asks).
    pub fn typed<S: DeserializeOwned>(&self) -> At<'a, S> {
        At {
            id: self.id,
            region: self.region,
            raw: self.raw,
            spec: serde_json::from_value(self.raw.clone()).map_err(|e| e.to_string()),
            recorded: self.recorded,
        }
    }
}

impl<S> At<'_, S> {
    /// The spec: an error naming the instance when the recorded one does
    /// not fit the kind (an entry migrated from an older lockfile).
    pub fn spec(&self) -> Step<&S> {
        self.spec.as_ref().map_err(|e| {
            StepError::Unusable(format!(
                "{}: the spec does not fit its kind ({e}); run `ahi-edge up` to record it again",
                self.id
            ))
        })
    }

    /// A spec field as a string, when the spec has it (also when the rest
    /// of the spec does not fit).
    pub fn field(&self, key: &str) -> Option<String> {
        self.raw.get(key).and_then(Value::as_str).map(str::to_string)
    }

    /// The recorded physical id, else the spec field that names the
    /// resource (a run killed after its create call finds it by name).
    pub fn recorded_or(&self, key: &str) -> Option<String> {
        self.recorded().map(str::to_string).or_else(|| self.field(key))
    }

    /// The physical id the lockfile recorded.
    pub fn recorded(&self) -> Option<&str> {
        self.recorded.and_then(|r| r.physical_id)
    }

    pub fn recorded_arn(&self) -> Option<&str> {
        self.recorded.and_then(|r| r.arn)
    }

    pub fn output(&self, key: Output) -> Option<&str> {
        self.recorded
            .and_then(|r| r.outputs.get(key.0))
            .map(String::as_str)
    }

    /// Whether the walk records this instance in `phase`.
    pub fn is(&self, phase: Phase) -> bool {
        self.recorded.is_some_and(|r| r.phase == phase)
    }
}

/// What `down` was asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub wait_replicas: bool,
    /// How long to wait for replicas (modelled time).
    pub timeout: Duration,
    pub purge_logs: bool,
    /// Also empty and delete the route buckets the stack created.
    pub purge_buckets: bool,
}

/// An output a kind records for other instances (and `outputs`) to read:
/// one constant per key, declared by the kind that records it, so a reader
/// names the constant and cannot misspell the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output(pub &'static str);

impl Output {
    /// Every resource's physical id and ARN (the lockfile's own fields).
    pub const ID: Output = Output("id");
    pub const ARN: Output = Output("arn");
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
    /// `live` is the resource in the spec's shape (any serialisable view).
    pub fn new(physical_id: impl Into<String>, live: impl Serialize, owned: bool) -> Self {
        Found {
            physical_id: physical_id.into(),
            live: serde_json::to_value(live).unwrap_or(Value::Null),
            owned,
            ..Found::default()
        }
    }

    /// Replaces the live view (after an update, with what was applied).
    pub fn set_live(&mut self, live: impl Serialize) {
        self.live = serde_json::to_value(live).unwrap_or(Value::Null);
    }

    /// This resource with `spec` applied: what an update hands back.
    pub fn applied(&self, spec: impl Serialize) -> Self {
        let mut found = self.clone();
        found.set_live(spec);
        found
    }

    /// The live view's tags (every taggable kind's view has them).
    pub fn tags(&self) -> Step<BTreeMap<String, String>> {
        serde_json::from_value(self.live["tags"].clone()).map_err(|e| {
            StepError::Unusable(format!("{}: live view has no usable tags: {e}", self.physical_id))
        })
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

    pub fn out(mut self, key: Output, value: impl Into<String>) -> Self {
        self.outputs.insert(key.0.to_string(), value.into());
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// The live view as the kind's own spec type.
    pub fn view<T: DeserializeOwned>(&self) -> Step<T> {
        serde_json::from_value(self.live.clone()).map_err(|e| {
            StepError::Unusable(format!(
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

/// The engine's object-safe view of a kind, over JSON specs. Kinds do not
/// implement it: they implement [`Resource`], and [`Typed`] adapts.
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
    fn find<'a>(&'a self, cx: &'a Cx, at: &'a At<'a>) -> Fut<'a, Option<Found>>;

    /// Creates it to match the spec.
    fn create<'a>(&'a self, cx: &'a Cx, at: &'a At<'a>) -> Fut<'a, Found>;

    /// Brings `live` to the spec; `fields` are the spec fields that differ.
    fn update<'a>(
        &'a self,
        cx: &'a Cx,
        at: &'a At<'a>,
        live: &'a Found,
        fields: &'a [String],
    ) -> Fut<'a, Found>;

    /// Deletes `live` (found, and owned: the engine checked both); already
    /// gone by now counts as done.
    fn delete<'a>(&'a self, cx: &'a Cx, at: &'a At<'a>, live: &'a Found, opts: &'a Options) -> Fut<'a, Gone>;

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
    fn remains<'a>(&'a self, _cx: &'a Cx, _at: &'a At<'a>) -> Fut<'a, Option<BTreeMap<String, usize>>> {
        Box::pin(async { Ok(None) })
    }

    /// What a change (`create`, `update`, `delete`) waits for at the edge,
    /// for `plan` (CloudFront kinds only).
    fn deploy_note(&self, _action: &str) -> Option<&'static str> {
        None
    }

    /// One look at readiness (ALB active, distribution deployed, service
    /// steady), for kinds `up` waits on.
    fn ready<'a>(&'a self, _cx: &'a Cx, _at: &'a At<'a>) -> Fut<'a, Check<()>> {
        Box::pin(async { Ok(Check::Done(())) })
    }
}

/// A resource kind: its whole lifecycle behind one surface, typed over its
/// own spec. Register a new kind with one line in `crate::stack::registry`
/// (`&Typed(my_kind::MyKind)`).
#[allow(async_fn_in_trait)]
pub trait Resource: Sync {
    type Spec: DeserializeOwned;

    /// The name the lockfile records (`ec2-vpc`, `cloudfront-distribution`).
    const NAME: &'static str;

    /// How long each step typically takes, in modelled seconds.
    const TYPICAL: Typical = Typical::QUICK;

    /// Spec fields AWS cannot change in place: a change to one is a
    /// replacement, which `plan` shows and `up` refuses before any call.
    const REPLACE: &'static [&'static str] = &[];

    /// See [`Kind::region_correctable`].
    const REGION_CORRECTABLE: bool = false;

    /// The spec field that is the create call's idempotency token.
    const TOKEN: Option<&'static str> = None;

    /// How long `up` waits for readiness, in modelled minutes.
    const READY_MINUTES: u64 = 30;

    /// Whether an update gives new outputs (see [`Kind::update_changes_outputs`]).
    const UPDATE_CHANGES_OUTPUTS: bool = false;

    /// See [`Kind::deploy_note`].
    fn deploy_note(&self, _action: &str) -> Option<&'static str> {
        None
    }

    /// The resource by its recorded id, else by what names it; `None` when
    /// it does not exist.
    async fn find(&self, cx: &Cx, at: &At<'_, Self::Spec>) -> Step<Option<Found>>;

    /// Creates it to match the spec.
    async fn create(&self, cx: &Cx, at: &At<'_, Self::Spec>) -> Step<Found>;

    /// Brings `live` to the spec; `fields` are the spec fields that differ.
    async fn update(&self, cx: &Cx, at: &At<'_, Self::Spec>, live: &Found, fields: &[String]) -> Step<Found>;

    /// Deletes `live` (found and owned); already gone counts as done.
    async fn delete(&self, cx: &Cx, at: &At<'_, Self::Spec>, live: &Found, opts: &Options) -> Step<Gone>;

    /// What AWS still holds that keeps the resource from being deleted.
    async fn remains(&self, _cx: &Cx, _at: &At<'_, Self::Spec>) -> Step<Option<BTreeMap<String, usize>>> {
        Ok(None)
    }

    /// One look at readiness, for kinds `up` waits on.
    async fn ready(&self, _cx: &Cx, _at: &At<'_, Self::Spec>) -> Step<Check<()>> {
        Ok(Check::Done(()))
    }
}

/// A [`Resource`] as the engine holds it: the spec is read into the kind's
/// type once per call, here and nowhere else.
pub struct Typed<R>(pub R);

impl<R: Resource> Kind for Typed<R> {
    fn name(&self) -> &'static str {
        R::NAME
    }

    fn typical(&self) -> Typical {
        R::TYPICAL
    }

    fn replace_fields(&self) -> &'static [&'static str] {
        R::REPLACE
    }

    fn find<'a>(&'a self, cx: &'a Cx, at: &'a At<'a>) -> Fut<'a, Option<Found>> {
        Box::pin(async move { self.0.find(cx, &at.typed()).await })
    }

    fn create<'a>(&'a self, cx: &'a Cx, at: &'a At<'a>) -> Fut<'a, Found> {
        Box::pin(async move { self.0.create(cx, &at.typed()).await })
    }

    fn update<'a>(
        &'a self,
        cx: &'a Cx,
        at: &'a At<'a>,
        live: &'a Found,
        fields: &'a [String],
    ) -> Fut<'a, Found> {
        Box::pin(async move { self.0.update(cx, &at.typed(), live, fields).await })
    }

    fn delete<'a>(&'a self, cx: &'a Cx, at: &'a At<'a>, live: &'a Found, opts: &'a Options) -> Fut<'a, Gone> {
        Box::pin(async move { self.0.delete(cx, &at.typed(), live, opts).await })
    }

    fn region_correctable(&self) -> bool {
        R::REGION_CORRECTABLE
    }

    fn token_field(&self) -> Option<&'static str> {
        R::TOKEN
    }

    fn ready_minutes(&self) -> u64 {
        R::READY_MINUTES
    }

    fn update_changes_outputs(&self) -> bool {
        R::UPDATE_CHANGES_OUTPUTS
    }

    fn deploy_note(&self, action: &str) -> Option<&'static str> {
        self.0.deploy_note(action)
    }

    fn remains<'a>(&'a self, cx: &'a Cx, at: &'a At<'a>) -> Fut<'a, Option<BTreeMap<String, usize>>> {
        Box::pin(async move { self.0.remains(cx, &at.typed()).await })
    }

    fn ready<'a>(&'a self, cx: &'a Cx, at: &'a At<'a>) -> Fut<'a, Check<()>> {
        Box::pin(async move { self.0.ready(cx, &at.typed()).await })
    }
}

/// What the engine does with one instance, decided from its spec and what
/// is live alone: `up` acts on it and `plan` shows it, so the two cannot
/// disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing live: create it.
    Create,
    /// Live under our name without our tag: refuse it.
    NotOwned,
    /// Fields AWS cannot change in place differ (all differing fields).
    Replace(Vec<String>),
    /// Fields that differ, all changeable in place.
    Update(Vec<String>),
    Unchanged,
}

/// The decision for `spec` against `live` (what `find` answered), for a
/// kind whose `replace` fields AWS cannot change in place.
pub fn decide(replace: &[&str], spec: &Value, live: Option<&Found>) -> Decision {
    let Some(live) = live else {
        return Decision::Create;
    };
    if !live.owned {
        return Decision::NotOwned;
    }
    let fields = differing(spec, &live.live);
    if fields.is_empty() {
        Decision::Unchanged
    } else if fields.iter().any(|f| replace.contains(&f.as_str())) {
        Decision::Replace(fields)
    } else {
        Decision::Update(fields)
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
    fn one_decision_for_every_case_up_and_plan_meet() {
        let spec = json!({"name": "a", "port": 80});
        let live = |v: Value, owned: bool| Found::new("id-1", v, owned);
        let replace = &["name"];
        assert_eq!(decide(replace, &spec, None), Decision::Create);
        assert_eq!(
            decide(replace, &spec, Some(&live(spec.clone(), false))),
            Decision::NotOwned
        );
        assert_eq!(
            decide(replace, &spec, Some(&live(spec.clone(), true))),
            Decision::Unchanged
        );
        assert_eq!(
            decide(
                replace,
                &spec,
                Some(&live(json!({"name": "a", "port": 81}), true))
            ),
            Decision::Update(vec!["port".into()])
        );
        assert_eq!(
            decide(
                replace,
                &spec,
                Some(&live(json!({"name": "b", "port": 81}), true))
            ),
            Decision::Replace(vec!["name".into(), "port".into()])
        );
    }

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
