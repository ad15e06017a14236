//! `up`'s work on one instance, the same for every kind: build the spec
//! once, record the intent (with that spec) before any create, find the
//! resource, compare every field of the spec with its live view, create or
//! update only what differs, and record exactly the spec that was applied.
//! A wait instance polls its kind's readiness.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use super::instance::{Instance, Role, Sources};
use super::{Ctx, StepError, call_region, not_owned, registry};
use crate::engine::graph::Outcome;
use crate::engine::kind::{At, Decision, Found, Kind, decide};
use crate::engine::polls::wait_until;
use crate::engine::wait::CheckError;
use crate::lockfile::{Ready, State, fingerprint};
use crate::profile::Profile;

/// How many nodes run at once: enough for every independent branch.
pub const CONCURRENCY: usize = 12;

/// What one `up` walk came to: each instance's outcome, and how each
/// resource that finished came out.
pub struct Walked {
    pub outcomes: BTreeMap<String, Outcome<StepError>>,
    pub changes: BTreeMap<String, Change>,
}

/// `up`'s walk: each instance once what it needs is done, concurrently
/// where independent; a failure skips only what depends on it.
pub async fn walk(ctx: &Ctx, up: &Up<'_>, instances: &[Instance]) -> Walked {
    let graph = super::instance::graph(instances.iter().map(|i| (i.id.as_str(), i.needs.as_slice())));
    let changes: Mutex<BTreeMap<String, Change>> = Mutex::new(BTreeMap::new());
    let outcomes = graph
        .run(CONCURRENCY, |id| {
            let changes = &changes;
            async move {
                let inst = instances
                    .iter()
                    .find(|i| i.id == id)
                    .ok_or_else(|| StepError::Missing(format!("no instance {id}")))?;
                let change = node(ctx, up, inst).await?;
                changes
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(id, change);
                Ok(())
            }
        })
        .await;
    Walked {
        outcomes,
        changes: changes.into_inner().unwrap_or_else(|p| p.into_inner()),
    }
}

/// What every instance of one `up` is built from.
pub struct Up<'a> {
    pub profile: &'a Profile,
    pub package_sha: Option<String>,
    /// The ids of this run's instances (recorded needs name only these).
    pub ids: Vec<String>,
}

/// How a resource came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Adopted,
    Updated,
    Unchanged,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Created => "created",
            Change::Adopted => "adopted",
            Change::Updated => "updated",
            Change::Unchanged => "unchanged",
        }
    }
}

/// The idempotency token recorded with an intent.
pub fn token(stack: &str, id: &str) -> String {
    format!("ahi-edge-{stack}-{id}")
}

pub fn kind_of(name: &str) -> Result<&'static dyn Kind, StepError> {
    registry::kind(name).ok_or_else(|| {
        StepError::Unusable(format!(
            "kind {name} is not known to this version of ahi-edge; upgrade it, or delete the resource by hand and remove its entry"
        ))
    })
}

/// Runs one instance of `up`.
pub async fn node(cx: &Ctx, up: &Up<'_>, inst: &Instance) -> Result<Change, StepError> {
    let kind = kind_of(inst.kind)?;
    let result = match &inst.role {
        Role::Ready { of } => ready(cx, kind, inst, of).await.map(|()| Change::Unchanged),
        Role::Resource(_) => resource(cx, up, kind, inst).await,
    };
    let shown = match &result {
        Ok(_) if inst.is_wait() => "ready",
        Ok(change) => change.as_str(),
        Err(_) => "failed",
    };
    cx.progress.done(&inst.id, shown);
    result
}

async fn resource(cx: &Ctx, up: &Up<'_>, kind: &dyn Kind, inst: &Instance) -> Result<Change, StepError> {
    let lock = cx.lock();
    let src = Sources {
        profile: up.profile,
        lock: &lock,
        account: &cx.account,
        package_sha: up.package_sha.clone(),
        planning: false,
        reads: Default::default(),
    };
    let spec: Value = inst
        .spec(&src)
        .unwrap_or_else(|| Err(StepError::Missing(format!("{} has no spec", inst.id))))?;
    let text = spec.to_string();
    let print = fingerprint(&spec);
    let needs: Vec<String> = inst
        .needs
        .iter()
        .filter(|n| up.ids.contains(n))
        .cloned()
        .collect();
    let mut entry = lock.resources.get(&inst.id).cloned();
    if let Some(e) = entry.as_mut()
        && e.region != inst.region
        && kind.region_correctable()
    {
        // Only where the calls go was wrong (a bucket grant recorded before
        // bucket regions were looked up): record the right one and go on.
        cx.change(|l| {
            if let Some(recorded) = l.resources.get_mut(&inst.id) {
                recorded.region = inst.region.clone();
            }
        })?;
        e.region = inst.region.clone();
    }
    if let Some(e) = &entry
        && e.region != inst.region
    {
        return Err(StepError::Refused(format!(
            "{} is recorded in {} but the profile puts it in {}; see docs/runbooks.md (moving a stack)",
            inst.id, e.region, inst.region
        )));
    }
    let fresh = entry.as_ref().is_none_or(|e| e.state == State::Creating);
    if entry.is_none() {
        let token = kind
            .token_field()
            .and_then(|f| spec.get(f))
            .and_then(Value::as_str)
            .map_or_else(|| token(cx.stack(), &inst.id), str::to_string);
        cx.change(|l| {
            l.record_intent(&inst.id, kind.name(), &inst.region, &token, &needs);
            if let Some(e) = l.resources.get_mut(&inst.id) {
                // What is about to be sent, so `down` can find it after a kill.
                e.spec = text.clone();
            }
        })?;
    }
    let entry = cx.entry(&inst.id);
    let typical = kind.typical();
    cx.progress.state(
        &inst.id,
        Duration::from_secs(if fresh { typical.create } else { typical.update }),
        if fresh { "creating" } else { "checking" },
    );
    let at = At::new(
        &inst.id,
        call_region(&inst.region),
        &spec,
        entry.as_ref().map(super::recorded),
    );
    let (found, change) = ensure(cx, kind, &at, fresh).await?;
    let unchanged_record = entry.as_ref().is_some_and(|e| {
        e.state == State::Ready
            && e.fingerprint.as_deref() == Some(print.as_str())
            && e.spec == text
            && e.needs == needs
            && e.physical_id.as_deref() == Some(found.physical_id.as_str())
            && e.arn == found.arn
            && e.outputs == found.outputs
    });
    if !unchanged_record {
        cx.change(|l| {
            l.mark_ready(
                &inst.id,
                Ready {
                    physical_id: found.physical_id.clone(),
                    arn: found.arn.clone(),
                    fingerprint: print.clone(),
                    outputs: found.outputs.clone(),
                    spec: text.clone(),
                    needs: needs.clone(),
                },
            )
        })?;
    }
    Ok(change)
}

/// Makes the resource at `at` match its spec: find it, refuse it when it is
/// not ours, create it when missing, else compare every spec field with the
/// live view and update only what differs (no write call when nothing does).
/// `fresh`: no finished create is recorded (what is found is adopted).
pub async fn ensure(
    cx: &Ctx,
    kind: &dyn Kind,
    at: &At<'_>,
    fresh: bool,
) -> Result<(Found, Change), StepError> {
    let live = kind.find(cx, at).await?;
    match (decide(kind.replace_fields(), at.raw, live.as_ref()), live) {
        (Decision::Create, _) | (_, None) => Ok((kind.create(cx, at).await?, Change::Created)),
        (Decision::NotOwned, Some(live)) => Err(not_owned(kind.name(), &live.physical_id, cx.stack())),
        (Decision::Replace(fields), _) => {
            let replace: Vec<&str> = fields
                .iter()
                .map(String::as_str)
                .filter(|f| kind.replace_fields().contains(f))
                .collect();
            Err(StepError::Refused(format!(
                "{} needs replacing ({}), which `up` does not do in place; see docs/runbooks.md (moving a stack)",
                at.id,
                replace.join(", ")
            )))
        }
        (Decision::Unchanged, Some(live)) => {
            Ok((live, if fresh { Change::Adopted } else { Change::Unchanged }))
        }
        (Decision::Update(fields), Some(live)) => {
            Ok((kind.update(cx, at, &live, &fields).await?, Change::Updated))
        }
    }
}

/// A wait instance: poll the kind's readiness of instance `of`.
async fn ready(cx: &Ctx, kind: &dyn Kind, inst: &Instance, of: &str) -> Result<(), StepError> {
    let entry = cx
        .entry(of)
        .ok_or_else(|| StepError::Missing(format!("{of} is not in the lockfile yet")))?;
    let spec = entry.spec_value();
    let at = At::new(
        of,
        call_region(&entry.region),
        &spec,
        Some(super::recorded(&entry)),
    );
    let minutes = kind.ready_minutes();
    let what = format!("{of} ({})", entry.physical_id.as_deref().unwrap_or("?"));
    wait_until(cx, &inst.id, &what, minutes, kind.typical().ready, async || {
        kind.ready(cx, &at).await.map_err(|e| match e {
            StepError::Aws(e) => CheckError::Transient(e.to_string()),
            other => CheckError::Fatal(other.to_string()),
        })
    })
    .await
}
