//! One generic poller and one retry helper.
//!
//! CloudFront deploys take minutes and Lambda@Edge replicas hours, so waits
//! back off to a steady interval instead of hammering the API, carry a
//! deadline, report progress on every poll, and on timeout say what state
//! the resource was last in (AWS's own words where it gave some).
//!
//! Time is tokio's: tests run with paused time, which advances on its own
//! whenever every task sleeps, so an hour-long wait is tested instantly.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::time::Instant;

/// Shrinks every modelled duration the tool waits by (poll intervals, retry
/// pauses, deadlines), for tests and benchmarks that run the emulator with
/// the same scale. Unset means 1: real AWS time.
pub const TIME_SCALE_ENV: &str = "AHI_EDGE_TIME_SCALE";

/// The time scale from `AHI_EDGE_TIME_SCALE` (a number in (0, 1]), read once.
pub fn time_scale() -> f64 {
    static SCALE: OnceLock<f64> = OnceLock::new();
    *SCALE.get_or_init(|| {
        std::env::var(TIME_SCALE_ENV)
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| *s > 0.0 && *s <= 1.0)
            .unwrap_or(1.0)
    })
}

/// A modelled duration in real time.
pub fn scaled(d: Duration) -> Duration {
    d.mul_f64(time_scale())
}

/// Exponential backoff with jitter, capped at a steady interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    pub initial: Duration,
    /// The steady interval: polls never come further apart than this, and
    /// no closer once reached.
    pub max: Duration,
    pub factor: f64,
    /// Fraction of each delay that is randomised (0 = none, 0.2 = up to 20% shorter).
    pub jitter: f64,
}

impl Backoff {
    /// The same backoff with its intervals shrunk by the time scale.
    pub fn scaled(&self) -> Backoff {
        Backoff {
            initial: scaled(self.initial),
            max: scaled(self.max),
            ..self.clone()
        }
    }

    /// The delay before attempt `n` (0-based), given a random `r` in [0, 1).
    pub fn delay(&self, n: u32, r: f64) -> Duration {
        let grown = self.initial.as_secs_f64() * self.factor.powi(n.min(64) as i32);
        let capped = grown.min(self.max.as_secs_f64());
        Duration::from_secs_f64(capped * (1.0 - self.jitter.clamp(0.0, 1.0) * r.clamp(0.0, 1.0)))
    }
}

/// A small deterministic generator for jitter (no global state; seedable in tests).
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    pub fn seeded(seed: u64) -> Self {
        Jitter(seed | 1)
    }

    pub fn from_entropy() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() as u64);
        Self::seeded(nanos ^ (u64::from(std::process::id()) << 32))
    }

    /// A number in [0, 1).
    pub fn sample(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What one look at a resource found.
#[derive(Debug, Clone, PartialEq)]
pub enum Check<T> {
    Done(T),
    /// Not there yet; the text is the state to show and to report on timeout.
    Pending(String),
}

/// Why a look failed.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckError {
    /// Worth looking again (throttling, a dropped connection...).
    Transient(String),
    /// The resource went somewhere it will not come back from.
    Fatal(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Progress<'a> {
    pub what: &'a str,
    pub attempt: u32,
    pub waited: Duration,
    pub state: &'a str,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WaitError {
    #[error("gave up waiting for {what} after {}: last state {last_state:?}", humantime::format_duration(*waited))]
    Timeout {
        what: String,
        waited: Duration,
        last_state: String,
    },
    #[error("{what} failed: {reason}")]
    Failed { what: String, reason: String },
}

#[derive(Debug, Clone)]
pub struct Wait {
    pub what: String,
    pub timeout: Duration,
    pub backoff: Backoff,
}

impl Wait {
    /// Polls `check` until it is done, failed for good, or the deadline
    /// passes. `progress` hears about every poll.
    pub async fn until<T, F, Fut>(
        &self,
        jitter: &mut Jitter,
        mut check: F,
        mut progress: impl FnMut(&Progress),
    ) -> Result<T, WaitError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Check<T>, CheckError>>,
    {
        let started = Instant::now();
        let deadline = started + self.timeout;
        let mut attempt = 0;
        loop {
            let state = match check().await {
                Ok(Check::Done(value)) => return Ok(value),
                Ok(Check::Pending(state)) => state,
                Err(CheckError::Transient(reason)) => format!("(could not look: {reason})"),
                Err(CheckError::Fatal(reason)) => {
                    return Err(WaitError::Failed {
                        what: self.what.clone(),
                        reason,
                    });
                }
            };
            progress(&Progress {
                what: &self.what,
                attempt,
                waited: started.elapsed(),
                state: &state,
            });
            let now = Instant::now();
            if now >= deadline {
                return Err(WaitError::Timeout {
                    what: self.what.clone(),
                    waited: now - started,
                    last_state: state,
                });
            }
            // Never sleep past the deadline: look one last time at it.
            let pause = self.backoff.delay(attempt, jitter.sample()).min(deadline - now);
            tokio::time::sleep(pause).await;
            attempt += 1;
        }
    }
}

/// Retries `op` while `transient` says its error is worth retrying, up to
/// `attempts` tries in all, with `backoff` between them.
pub async fn retry_when<T, E, F, Fut>(
    attempts: u32,
    backoff: &Backoff,
    jitter: &mut Jitter,
    transient: impl Fn(&E) -> bool,
    mut op: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut tried = 0;
    loop {
        match op().await {
            Ok(value) => return Ok(value),
            Err(e) if tried + 1 < attempts.max(1) && transient(&e) => {
                tokio::time::sleep(backoff.delay(tried, jitter.sample())).await;
                tried += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn backoff() -> Backoff {
        Backoff {
            initial: Duration::from_secs(5),
            max: Duration::from_secs(30),
            factor: 2.0,
            jitter: 0.0,
        }
    }

    #[test]
    fn backoff_grows_to_a_steady_interval_and_jitter_only_shortens() {
        let b = backoff();
        let delays: Vec<u64> = (0..6).map(|n| b.delay(n, 0.5).as_secs()).collect();
        assert_eq!(delays, [5, 10, 20, 30, 30, 30]);
        let jittery = Backoff { jitter: 0.2, ..b };
        for r in [0.0, 0.5, 0.999] {
            let d = jittery.delay(10, r).as_secs_f64();
            assert!((24.0..=30.0).contains(&d), "{d}");
        }
        let mut j = Jitter::seeded(42);
        assert!((0..1000).map(|_| j.sample()).all(|x| (0.0..1.0).contains(&x)));
    }

    #[tokio::test(start_paused = true)]
    async fn waits_until_done_reporting_every_poll() {
        let polls = Cell::new(0);
        let wait = Wait {
            what: "distribution E1".into(),
            timeout: Duration::from_secs(600),
            backoff: backoff(),
        };
        let started = Instant::now();
        let mut seen = Vec::new();
        let result = wait
            .until(
                &mut Jitter::seeded(1),
                || {
                    polls.set(polls.get() + 1);
                    let n = polls.get();
                    async move {
                        Ok(if n < 4 {
                            Check::Pending("InProgress".into())
                        } else {
                            Check::Done(n)
                        })
                    }
                },
                |p| seen.push((p.attempt, p.state.to_string())),
            )
            .await;
        assert_eq!(result, Ok(4));
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[2], (2, "InProgress".to_string()));
        // 5 + 10 + 20 seconds of (virtual) sleeping between the four looks.
        assert_eq!(started.elapsed().as_secs(), 35);
    }

    #[tokio::test(start_paused = true)]
    async fn an_hours_long_wait_costs_few_polls_and_times_out_with_the_last_state() {
        let polls = Cell::new(0u32);
        let wait = Wait {
            what: "replicas of auth:1".into(),
            timeout: Duration::from_secs(4 * 3600),
            backoff: backoff(),
        };
        let err = wait
            .until(
                &mut Jitter::seeded(7),
                || {
                    polls.set(polls.get() + 1);
                    async { Ok::<Check<()>, _>(Check::Pending("3 replicas in eu-west-1".into())) }
                },
                |_| {},
            )
            .await
            .unwrap_err();
        assert_eq!(
            err,
            WaitError::Timeout {
                what: "replicas of auth:1".into(),
                waited: Duration::from_secs(4 * 3600),
                last_state: "3 replicas in eu-west-1".into(),
            }
        );
        // At one look per 30 s in steady state: 4 h is at most ~480 looks.
        assert!(polls.get() <= 4 * 3600 / 30 + 5, "{}", polls.get());
        assert!(
            err.to_string()
                .contains("gave up waiting for replicas of auth:1 after 4h"),
            "{err}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn transient_errors_keep_waiting_and_fatal_ones_stop() {
        let polls = Cell::new(0);
        let wait = Wait {
            what: "service".into(),
            timeout: Duration::from_secs(600),
            backoff: backoff(),
        };
        let result = wait
            .until(
                &mut Jitter::seeded(3),
                || {
                    polls.set(polls.get() + 1);
                    let n = polls.get();
                    async move {
                        match n {
                            1 => Err(CheckError::Transient("Throttling".into())),
                            2 => Ok(Check::Pending("IN_PROGRESS".into())),
                            _ => Err(CheckError::Fatal("rollout FAILED: tasks failed to start".into())),
                        }
                    }
                },
                |_| {},
            )
            .await;
        assert_eq!(
            result,
            Err::<(), _>(WaitError::Failed {
                what: "service".into(),
                reason: "rollout FAILED: tasks failed to start".into()
            })
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retry_when_retries_only_what_it_is_told_to() {
        let tries = Cell::new(0);
        let transient = |e: &&str| *e == "PreconditionFailed";
        let result = retry_when(5, &backoff(), &mut Jitter::seeded(9), transient, || {
            tries.set(tries.get() + 1);
            let n = tries.get();
            async move { if n < 3 { Err("PreconditionFailed") } else { Ok(n) } }
        })
        .await;
        assert_eq!(result, Ok(3));

        tries.set(0);
        let fatal = retry_when(5, &backoff(), &mut Jitter::seeded(9), transient, || {
            tries.set(tries.get() + 1);
            async { Err::<(), _>("AccessDenied") }
        })
        .await;
        assert_eq!((fatal, tries.get()), (Err("AccessDenied"), 1));

        tries.set(0);
        let exhausted = retry_when(3, &backoff(), &mut Jitter::seeded(9), transient, || {
            tries.set(tries.get() + 1);
            async { Err::<(), _>("PreconditionFailed") }
        })
        .await;
        assert_eq!((exhausted, tries.get()), (Err("PreconditionFailed"), 3));
    }
}
