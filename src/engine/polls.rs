//! How kinds wait on AWS: retrying while dependencies drain, waiting for
//! CloudFront to release what a distribution named, for a thing to go, or
//! for readiness; each shows its state on the instance's progress line.
//! Times are modelled (scaled by `AHI_EDGE_TIME_SCALE` in tests).

use std::time::Duration;

use super::step::{Cx, StepError};
use super::wait::{Backoff, Check, CheckError, Jitter, Wait, retry_when, scaled};
use crate::aws::AwsError;

impl From<AwsError> for CheckError {
    fn from(e: AwsError) -> Self {
        CheckError::Transient(e.to_string())
    }
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

/// How `up` polls a wait whose typical length is `typical_s` (modelled):
/// about twenty looks over it, at least a second apart and at most five,
/// so the wait ends within a few percent of when AWS is done (a Lambda
/// version Pending for seconds is looked at every second, a distribution
/// deploying for minutes every five).
fn up_poll(typical_s: u64) -> Backoff {
    let max = Duration::from_secs((typical_s / 20).clamp(1, 5));
    Backoff {
        initial: max.min(Duration::from_secs(2)),
        max,
        factor: 1.5,
        jitter: 0.2,
    }
    .scaled()
}

/// Polls `look` until it is done, for about `minutes` of modelled time,
/// showing its state on the instance's progress line.
pub async fn wait_until(
    cx: &Cx,
    id: &str,
    what: &str,
    minutes: u64,
    typical_s: u64,
    look: impl AsyncFn() -> Result<Check<()>, CheckError>,
) -> Result<(), StepError> {
    Wait {
        what: what.to_string(),
        timeout: scaled(Duration::from_secs(minutes * 60)),
        backoff: up_poll(typical_s),
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
    cx: &Cx,
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
    cx: &Cx,
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
