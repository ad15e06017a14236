//! `down`'s work on one lockfile entry, the same for every kind, from the
//! entry alone (its kind, region, id and recorded spec; the profile is not
//! needed): mark it `deleting`, find it, refuse it when it lacks our
//! ownership tag, delete it (or wait out what AWS makes us wait for), and
//! forget it. Gone already counts as done.

use std::time::Duration;

use super::kind::{At, Gone};
use super::{Ctx, StepError, apply::kind_of, call_region};
use crate::aws::AwsError;
use crate::engine::wait::{Backoff, Check, CheckError, Jitter, Wait, retry_when, scaled};
use crate::lockfile::State;

#[derive(Debug, Clone)]
pub struct Options {
    pub wait_replicas: bool,
    /// How long to wait for replicas (modelled time).
    pub timeout: Duration,
    pub purge_logs: bool,
}

/// How `down` polls deploys and deletions: quick at first, then every 15 s.
fn poll() -> Backoff {
    Backoff {
        initial: Duration::from_secs(2),
        max: Duration::from_secs(15),
        factor: 1.5,
        jitter: 0.2,
    }
    .scaled()
}

/// The replica poll: grows to a steady 60 s (48-60 s with jitter), so a wait
/// of hours costs one ListFunctions per replica region per minute at most.
pub fn replica_poll() -> Backoff {
    Backoff {
        initial: Duration::from_secs(10),
        max: Duration::from_secs(60),
        factor: 1.5,
        jitter: 0.2,
    }
    .scaled()
}

/// Retries `op` while AWS answers with one of `codes` (dependencies still
/// draining), for about `minutes` of modelled time.
pub async fn retrying<T>(
    codes: &[&str],
    minutes: u64,
    op: impl AsyncFn() -> Result<T, AwsError>,
) -> Result<T, AwsError> {
    let backoff = poll();
    let attempts = (minutes * 60 / 15).max(4) as u32;
    retry_when(
        attempts,
        &backoff,
        &mut Jitter::from_entropy(),
        |e: &AwsError| e.is_any(codes),
        || op(),
    )
    .await
}

/// How long CloudFront may keep a policy, OAC, key group, public key or
/// function "in use": as long as a distribution deploy may take (the
/// distribution's own budget), since a deploy or a deletion still under way
/// is what holds it.
pub const RELEASE_MINUTES: u64 = 90;

/// Deletes with `op` once CloudFront lets go: while the delete answers one
/// of `held` (a distribution still names the resource, or is still
/// deploying the change or the deletion that dropped it), it is tried
/// again, showing what it waits for, for up to [`RELEASE_MINUTES`]. Past
/// that the step fails saying so; the entry stays recorded, so the same
/// command run again resumes the delete. Any other error ends it at once.
pub async fn until_released(
    cx: &Ctx,
    id: &str,
    what: &str,
    held: &[&str],
    op: impl AsyncFn() -> Result<(), AwsError>,
) -> Result<(), StepError> {
    let other = std::sync::Mutex::new(None::<AwsError>);
    let waited = Wait {
        what: format!("CloudFront to release {what}"),
        timeout: scaled(Duration::from_secs(RELEASE_MINUTES * 60)),
        backoff: poll(),
    }
    .until(
        &mut Jitter::from_entropy(),
        || async {
            match op().await {
                Ok(()) => Ok(Check::Done(())),
                Err(e) if e.is_any(held) => Ok(Check::Pending(format!(
                    "in use ({})",
                    e.code.as_deref().unwrap_or_default()
                ))),
                Err(e) => {
                    let reason = e.to_string();
                    *other.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    Err(CheckError::Fatal(reason))
                }
            }
        },
        |p| {
            cx.progress
                .state(id, Duration::ZERO, &format!("waiting: {}", p.state))
        },
    )
    .await;
    if let Some(e) = other.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(StepError::Aws(e));
    }
    waited.map_err(|e| match e {
        crate::engine::wait::WaitError::Timeout { last_state, .. } => {
            StepError::Wait(crate::engine::wait::WaitError::Failed {
                what: format!("deleting {what}"),
                reason: format!(
                    "CloudFront still answers {last_state} after {RELEASE_MINUTES} minutes: a distribution still names it, \
                     or has not finished deploying the change or deletion that dropped it; it stays recorded, and the same \
                     command run again resumes the delete"
                ),
            })
        }
        other => StepError::Wait(other),
    })
}

/// Polls `look` (which answers the state while the thing is still there)
/// until it answers `None`.
pub async fn wait_for(
    cx: &Ctx,
    id: &str,
    what: String,
    minutes: u64,
    look: impl AsyncFn() -> Result<Option<String>, AwsError>,
) -> Result<(), StepError> {
    Wait {
        what,
        timeout: scaled(Duration::from_secs(minutes * 60)),
        backoff: poll(),
    }
    .until(
        &mut Jitter::from_entropy(),
        || async {
            match look().await.map_err(|e| CheckError::Transient(e.to_string()))? {
                None => Ok(Check::Done(())),
                Some(state) => Ok(Check::Pending(state)),
            }
        },
        |p| {
            cx.progress
                .state(id, Duration::ZERO, &format!("waiting: {}", p.state))
        },
    )
    .await?;
    Ok(())
}

/// How one entry's teardown ended.
pub enum Ended {
    Deleted,
    /// Deliberately left (the log bucket without `--purge-logs`); forgotten.
    Kept(String),
    /// Not ours (no ownership tag): left alone and forgotten.
    LeftAlone(String),
}

/// Tears down entry `id`.
pub async fn node(cx: &Ctx, id: &str, opts: &Options) -> Result<Ended, StepError> {
    let Some(entry) = cx.entry(id) else {
        return Ok(Ended::Deleted);
    };
    let kind = kind_of(&entry.kind)?;
    if entry.state != State::AwaitingReplicas {
        cx.change(|l| l.set_state(id, State::Deleting))?;
    }
    cx.progress
        .state(id, Duration::from_secs(kind.typical().delete), "deleting");
    let spec = entry.spec_value();
    let at = At {
        id,
        region: call_region(&entry.region),
        spec: &spec,
        entry: Some(&entry),
    };
    let ended = match kind.find(cx, &at).await {
        Ok(None) => Ok(Ended::Deleted),
        Ok(Some(live)) if !live.owned => Ok(Ended::LeftAlone(format!(
            "{} {} does not carry the tag {} = {}; left alone",
            kind.name(),
            live.physical_id,
            crate::resources::STACK_TAG,
            cx.stack()
        ))),
        Ok(Some(live)) => kind.delete(cx, &at, &live, opts).await.map(|gone| match gone {
            Gone::Deleted => Ended::Deleted,
            Gone::Kept(why) => Ended::Kept(why),
        }),
        Err(e) => Err(e),
    };
    match ended {
        Ok(ended) => {
            cx.change(|l| l.forget(id))?;
            let shown = match &ended {
                Ended::Deleted => "deleted".to_string(),
                Ended::Kept(why) => format!("kept: {why}"),
                Ended::LeftAlone(why) => format!("left alone: {why}"),
            };
            cx.progress.done(id, &shown);
            Ok(ended)
        }
        Err(e) => {
            let shown = match &e {
                StepError::AwaitingReplicas(_) => "awaiting replicas",
                _ => "failed",
            };
            cx.progress.done(id, shown);
            Err(e)
        }
    }
}

/// The teardown order over recorded entries: each goes once everything that
/// needs it is gone.
pub fn order(lock: &crate::lockfile::Lockfile, ids: &[String]) -> crate::engine::graph::Graph {
    super::instance::graph(
        ids.iter()
            .filter_map(|id| lock.resources.get(id).map(|e| (id.as_str(), e.needs.as_slice()))),
    )
    .reversed()
}
