//! The stack: producers (`healthimaging`, `routes`) turn a profile into
//! instances of resource kinds (`instance`); each kind owns its lifecycle
//! behind one surface (`crate::engine::kind`, registered in `registry`).
//! The walks know no kind: `apply` for `up`, `inspect` for `status` and
//! `plan`, `teardown` for `down`. They share one context: the kinds' own
//! (`crate::engine::step::Cx`) and the lockfile, saved after every state
//! change, which only the walks write.
//!
//! Layering: nothing here sees clap or the printer; errors are `StepError`,
//! mapped to exit codes by the commands.

pub mod apply;
pub mod bucket_kms;
pub mod bucket_region;
pub mod grants;
pub mod healthimaging;
pub mod inspect;
pub mod instance;
pub mod policies;
pub mod preflight;
pub mod registry;
pub mod routes;
pub mod teardown;

use std::sync::{Arc, Mutex};

use crate::engine::clients::Clients;
pub use crate::engine::clients::call_region;
use crate::engine::kind::{Output, Phase, Recorded};
use crate::engine::progress::Progress;
use crate::engine::step::Held;
pub use crate::engine::step::{Cx, StepError, not_owned};
use crate::lockfile::{Entry, Lockfile, State};
use crate::state::Store;

/// The lockfile as a run holds it: locked and saved on every change (`up`,
/// `down`), or a snapshot read without the lock (`status`, `plan`, `outputs`
/// work while another run holds it).
pub enum Ledger {
    Writable(Store),
    ReadOnly(Lockfile),
}

impl Ledger {
    fn state(&self) -> &Lockfile {
        match self {
            Ledger::Writable(store) => store.state(),
            Ledger::ReadOnly(lock) => lock,
        }
    }
}

/// What one walk works with: the kinds' context ([`Cx`], which it derefs
/// to) and the lockfile, which only the walks change. No profile: `down`
/// and `status` work from the lockfile alone.
pub struct Ctx {
    cx: Cx,
    ledger: Arc<Mutex<Ledger>>,
}

impl std::ops::Deref for Ctx {
    type Target = Cx;
    fn deref(&self) -> &Cx {
        &self.cx
    }
}

fn ledger_of(ledger: &Mutex<Ledger>) -> std::sync::MutexGuard<'_, Ledger> {
    ledger.lock().unwrap_or_else(|p| p.into_inner())
}

/// Applies one change to the lockfile and saves it at once.
fn change_in<R>(ledger: &Mutex<Ledger>, f: impl FnOnce(&mut Lockfile) -> R) -> Result<R, StepError> {
    match &mut *ledger_of(ledger) {
        Ledger::Writable(store) => store.change(f).map_err(|e| StepError::Lockfile(e.to_string())),
        Ledger::ReadOnly(_) => Err(StepError::Lockfile(
            "this command does not change the lockfile".into(),
        )),
    }
}

impl Ctx {
    pub fn new(
        stack: &str,
        clients: Clients,
        account: String,
        ledger: Ledger,
        progress: Progress,
        package: Option<Vec<u8>>,
    ) -> Self {
        let ledger = Arc::new(Mutex::new(ledger));
        let shared = ledger.clone();
        // A delete AWS holds (replicas) is recorded at once, so a run
        // stopped while it waits leaves the entry `awaiting_replicas`.
        let held: Held = Box::new(move |id: &str| {
            let awaiting = ledger_of(&shared)
                .state()
                .resources
                .get(id)
                .is_some_and(|e| e.state == State::AwaitingReplicas);
            if awaiting {
                return Ok(());
            }
            change_in(&shared, |l| {
                l.set_state(id, State::AwaitingReplicas);
            })
        });
        Ctx {
            cx: Cx::new(stack, clients, account, progress, package, held),
            ledger,
        }
    }

    pub fn lock(&self) -> Lockfile {
        ledger_of(&self.ledger).state().clone()
    }

    pub fn entry(&self, id: &str) -> Option<Entry> {
        ledger_of(&self.ledger).state().resources.get(id).cloned()
    }

    /// Applies one change to the lockfile and saves it at once.
    pub fn change<R>(&self, f: impl FnOnce(&mut Lockfile) -> R) -> Result<R, StepError> {
        change_in(&self.ledger, f)
    }

    pub fn into_ledger(self) -> Ledger {
        let Ctx { cx, ledger } = self;
        // The hook in `cx` holds the other reference.
        drop(cx);
        match Arc::try_unwrap(ledger) {
            Ok(ledger) => ledger.into_inner().unwrap_or_else(|p| p.into_inner()),
            Err(_) => unreachable!("the context's hook was dropped with it"),
        }
    }
}

/// What the lockfile recorded of `entry`, as a kind sees it.
pub fn recorded(entry: &Entry) -> Recorded<'_> {
    Recorded {
        physical_id: entry.physical_id.as_deref(),
        arn: entry.arn.as_deref(),
        outputs: &entry.outputs,
        phase: match entry.state {
            State::Creating => Phase::Creating,
            State::Ready | State::Updating => Phase::Applied,
            State::Deleting | State::AwaitingReplicas => Phase::Deleting,
        },
    }
}

/// Every instance the profile deploys: the HealthImaging stack's own (with
/// `[healthimaging]`), then the distribution and what its routes need. The
/// lockfile decides one order: a bucket grant comes before an existing
/// distribution's update, after a new one's create.
pub fn instances(profile: &crate::profile::Profile, lock: &Lockfile) -> Vec<instance::Instance> {
    let mut out = healthimaging::instances(profile);
    out.extend(routes::instances(profile, lock));
    instance::add_read_needs(&mut out, profile);
    out
}

/// An output another instance recorded (ids, ARNs, DNS names).
pub fn output(lock: &Lockfile, id: &str, key: Output) -> Result<String, StepError> {
    let entry = lock
        .resources
        .get(id)
        .ok_or_else(|| StepError::Missing(format!("{id} is not in the lockfile yet")))?;
    let value = match key.0 {
        "id" => entry.physical_id.clone(),
        "arn" => entry.arn.clone(),
        _ => None,
    };
    value
        .or_else(|| entry.outputs.get(key.0).cloned())
        .ok_or_else(|| StepError::Missing(format!("{id} has no output {} in the lockfile yet", key.0)))
}
