//! `up`'s work on one instance, the same for every kind: build the spec
//! once, record the intent (with that spec) before any create, find the
//! resource, compare every field of the spec with its live view, create or
//! update only what differs, and record exactly the spec that was applied.
//! A wait instance polls its kind's readiness.

use std::time::Duration;

use serde_json::Value;

use super::instance::{Instance, Role, Sources};
use super::kind::{At, Found, Kind, differing};
use super::{Ctx, StepError, call_region, not_owned, registry};
use crate::aws::AwsError;
use crate::engine::wait::{Backoff, Check, CheckError, Jitter, Wait, scaled};
use crate::lockfile::{Ready, State, fingerprint};
use crate::profile::Profile;

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

impl From<AwsError> for CheckError {
    fn from(e: AwsError) -> Self {
        CheckError::Transient(e.to_string())
    }
}

/// The idempotency token recorded with an intent.
pub fn token(stack: &str, id: &str) -> String {
    format!("ahi-edge-{stack}-{id}")
}

/// The client token of one create call (EC2 NAT gateway, ECS service): 32 hex
/// characters (ECS allows 36), new for every attempt. Tokens make an SDK
/// retry of the same call idempotent; a run killed after the call finds the
/// resource by its tags or name instead, and a fresh token lets a resource
/// deleted out of band be created again (EC2 would answer a reused token
/// with the deleted one).
pub fn attempt_token(stack: &str, id: &str) -> String {
    use sha2::{Digest, Sha256};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let digest = Sha256::digest(format!("{stack}/{id}/{nanos}/{}", std::process::id()));
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// How `up` polls: quick at first, then every 10 s (modelled time).
fn poll() -> Backoff {
    Backoff {
        initial: Duration::from_secs(2),
        max: Duration::from_secs(10),
        factor: 1.5,
        jitter: 0.2,
    }
    .scaled()
}

pub fn kind_of(name: &str) -> Result<&'static dyn Kind, StepError> {
    registry::kind(name).ok_or_else(|| {
        StepError::Missing(format!(
            "kind {name} is not known to this version of ahi-edge; upgrade it, or delete the resource by hand and remove its entry"
        ))
    })
}

/// Polls `look` until it is done, for about `minutes` of modelled time,
/// showing its state on the instance's progress line.
pub async fn wait_until(
    cx: &Ctx,
    id: &str,
    what: &str,
    minutes: u64,
    typical_s: u64,
    look: impl AsyncFn() -> Result<Check<()>, CheckError>,
) -> Result<(), StepError> {
    Wait {
        what: what.to_string(),
        timeout: scaled(Duration::from_secs(minutes * 60)),
        backoff: poll(),
    }
    .until(
        &mut Jitter::from_entropy(),
        || look(),
        |p| {
            cx.progress.state(
                id,
                Duration::from_secs(typical_s),
                &format!("waiting: {}", p.state),
            )
        },
    )
    .await?;
    Ok(())
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
        return Err(StepError::Missing(format!(
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
    let at = At {
        id: &inst.id,
        region: call_region(&inst.region),
        spec: &spec,
        entry: entry.as_ref(),
    };
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
    match kind.find(cx, at).await? {
        None => Ok((kind.create(cx, at).await?, Change::Created)),
        Some(live) if !live.owned => Err(not_owned(kind.name(), &live.physical_id, cx.stack())),
        Some(live) => {
            let fields = differing(at.spec, &live.live);
            let replace: Vec<&str> = fields
                .iter()
                .map(String::as_str)
                .filter(|f| kind.replace_fields().contains(f))
                .collect();
            if !replace.is_empty() {
                return Err(StepError::Missing(format!(
                    "{} needs replacing ({}), which `up` does not do in place; see docs/runbooks.md (moving a stack)",
                    at.id,
                    replace.join(", ")
                )));
            }
            if fields.is_empty() {
                Ok((live, if fresh { Change::Adopted } else { Change::Unchanged }))
            } else {
                Ok((kind.update(cx, at, &live, &fields).await?, Change::Updated))
            }
        }
    }
}

/// A wait instance: poll the kind's readiness of instance `of`.
async fn ready(cx: &Ctx, kind: &dyn Kind, inst: &Instance, of: &str) -> Result<(), StepError> {
    let entry = cx
        .entry(of)
        .ok_or_else(|| StepError::Missing(format!("{of} is not in the lockfile yet")))?;
    let spec = entry.spec_value();
    let at = At {
        id: of,
        region: call_region(&entry.region),
        spec: &spec,
        entry: Some(&entry),
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_tokens_fit_ecs_and_are_new_each_attempt() {
        let stack = "a".repeat(28);
        let a = attempt_token(&stack, "service");
        let b = attempt_token(&stack, "service");
        assert!(a.len() <= 36 && a.bytes().all(|c| c.is_ascii_hexdigit()), "{a}");
        assert_ne!(a, b);
    }
}
