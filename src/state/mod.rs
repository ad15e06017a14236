//! Where the stack's state lives, behind one surface: the local lockfile
//! (one operator, the default) or an object in S3 (a team and its CI
//! runners), chosen by the profile's `[state]` or `--state`.
//!
//! The engine sees only [`Store`]: the state, and `change`, which saves one
//! change before it returns. The walks and their crash-safety invariants
//! (an intent saved before each create call) are the same for both; the
//! format of the document is the same too (docs/lockfile.md).

pub mod guard;
mod holder;
mod location;
mod remote;
pub mod s3;

pub use holder::Holder;
pub use location::{LOCK_SUFFIX, Location, S3Location, check_bucket, check_key, check_kms_key, parse_url};

use crate::error::Error;
use crate::lockfile::{Lockfile, StateStore};

/// The state of one run that may write it: locked for the run's lifetime.
#[derive(Debug)]
pub enum Store {
    Local(StateStore),
    S3(Box<s3::S3Store>),
}

impl Store {
    pub fn state(&self) -> &Lockfile {
        match self {
            Store::Local(store) => store.state(),
            Store::S3(store) => store.state(),
        }
    }

    /// Applies one change and saves it before returning, so the state is
    /// never behind what was done in AWS.
    pub fn change<R>(&mut self, f: impl FnOnce(&mut Lockfile) -> R) -> Result<R, Error> {
        match self {
            Store::Local(store) => store.change(f),
            Store::S3(store) => store.change(f),
        }
    }

    /// Removes the state once the stack is gone, so `status` reports
    /// nothing deployed.
    pub fn remove(self) -> Result<(), Error> {
        match self {
            Store::Local(store) => store.remove(),
            Store::S3(store) => (*store).remove(),
        }
    }

    /// Where it lives, for messages.
    pub fn describe(&self) -> String {
        match self {
            Store::Local(store) => store.path().display().to_string(),
            Store::S3(store) => store.url(),
        }
    }
}
