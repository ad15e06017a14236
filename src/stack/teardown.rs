//! `down`'s work on one lockfile entry, the same for every kind, from the
//! entry alone (its kind, region, id and recorded spec; the profile is not
//! needed): mark it `deleting`, find it, refuse it when it lacks our
//! ownership tag, delete it (or wait out what AWS makes us wait for), and
//! forget it. Gone already counts as done.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use super::apply::CONCURRENCY;
use super::instance::Instance;
use super::{Ctx, StepError, apply::kind_of, call_region};
use crate::engine::graph::Outcome;
use crate::engine::kind::Options;
use crate::engine::kind::{At, Gone};
use crate::lockfile::{Lockfile, State};

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
    let at = At::new(
        id,
        call_region(&entry.region),
        &spec,
        Some(super::recorded(&entry)),
    );
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

/// What one teardown walk came to: each entry's outcome, and how each
/// that finished ended.
pub struct TornDown {
    pub outcomes: BTreeMap<String, Outcome<StepError>>,
    pub ended: BTreeMap<String, Ended>,
}

/// `down`'s walk over entries `ids`: each goes once what needs it is gone,
/// concurrently where independent.
pub async fn walk(ctx: &Ctx, ids: &[String], opts: &Options) -> TornDown {
    let lock = ctx.lock();
    let ended: Mutex<BTreeMap<String, Ended>> = Mutex::new(BTreeMap::new());
    let outcomes = order(&lock, ids)
        .run(CONCURRENCY, |id| {
            let ended = &ended;
            async move {
                let how = node(ctx, &id, opts).await?;
                ended.lock().unwrap_or_else(|p| p.into_inner()).insert(id, how);
                Ok(())
            }
        })
        .await;
    TornDown {
        outcomes,
        ended: ended.into_inner().unwrap_or_else(|p| p.into_inner()),
    }
}

/// What the lockfile records and the profile no longer produces.
pub fn unused(lock: &Lockfile, instances: &[Instance]) -> Vec<String> {
    lock.resources
        .keys()
        .filter(|id| !instances.iter().any(|i| &i.id == *id))
        .cloned()
        .collect()
}

/// Deletes what the lockfile records but the profile no longer produces,
/// once the rest is up (so nothing still refers to it), in the reverse
/// order of what the entries recorded they need. A Lambda@Edge function
/// still replicated stays `awaiting-replicas` for the next `up` or `down`.
pub async fn prune(ctx: &Ctx, instances: &[Instance]) -> TornDown {
    let unused = unused(&ctx.lock(), instances);
    let opts = Options {
        wait_replicas: false,
        timeout: Duration::ZERO,
        purge_logs: false,
        purge_buckets: false,
    };
    walk(ctx, &unused, &opts).await
}

/// The teardown order over recorded entries: each goes once everything that
/// needs it is gone.
pub fn order(lock: &Lockfile, ids: &[String]) -> crate::engine::graph::Graph {
    super::instance::graph(
        ids.iter()
            .filter_map(|id| lock.resources.get(id).map(|e| (id.as_str(), e.needs.as_slice()))),
    )
    .reversed()
}
