//! The whole stack: its shape (`shape`), the desired spec of each node
//! (`desired`, pure), and the three walks over it: `apply` for `up`,
//! `inspect` for `status` and `plan`, `teardown` for `down`. They share one
//! context: the profile, the SDK clients, and the lockfile, saved after
//! every state change.

pub mod apply;
pub mod clients;
pub mod desired;
pub mod inspect;
pub mod progress;
pub mod shape;
pub mod teardown;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use tokio::sync::OnceCell;

use crate::aws::AwsError;
use crate::engine::wait::WaitError;
use crate::error::Error;
use crate::lockfile::{Entry, Lockfile, StateStore};
use crate::profile::Profile;
use crate::resources::origin_secret::{self, SecretValue};
use clients::Clients;
use progress::Progress;

/// Why one node did not finish.
#[derive(Debug)]
pub enum StepError {
    Aws(AwsError),
    Wait(WaitError),
    /// A dependency's output is missing from the lockfile.
    Missing(String),
    Lockfile(Error),
    /// Lambda@Edge functions whose delete waits for CloudFront's replicas.
    AwaitingReplicas(String),
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::Aws(e) => write!(f, "{e}"),
            StepError::Wait(e) => write!(f, "{e}"),
            StepError::Missing(what) => write!(f, "{what}"),
            StepError::Lockfile(e) => write!(f, "{e}"),
            StepError::AwaitingReplicas(what) => write!(f, "{what}"),
        }
    }
}

impl From<AwsError> for StepError {
    fn from(e: AwsError) -> Self {
        StepError::Aws(e)
    }
}

impl From<WaitError> for StepError {
    fn from(e: WaitError) -> Self {
        StepError::Wait(e)
    }
}

impl From<Error> for StepError {
    fn from(e: Error) -> Self {
        StepError::Lockfile(e)
    }
}

/// The lockfile as a run holds it: locked and saved on every change (`up`,
/// `down`), or a snapshot read without the lock (`status`, `plan`, `outputs`
/// work while another run holds it).
pub enum Ledger {
    Writable(StateStore),
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

/// What one run works with.
pub struct Ctx<'a> {
    pub profile: &'a Profile,
    pub clients: Clients,
    pub account: String,
    ledger: Mutex<Ledger>,
    pub progress: Progress,
    /// The authorizer zip, built once per run (with an authorizer only).
    pub package: Option<Vec<u8>>,
    secret: OnceCell<SecretValue>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        profile: &'a Profile,
        clients: Clients,
        account: String,
        ledger: Ledger,
        progress: Progress,
        package: Option<Vec<u8>>,
    ) -> Self {
        Ctx {
            profile,
            clients,
            account,
            ledger: Mutex::new(ledger),
            progress,
            package,
            secret: OnceCell::new(),
        }
    }

    pub fn stack(&self) -> &str {
        &self.profile.stack.name
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn lock(&self) -> Lockfile {
        self.ledger().state().clone()
    }

    pub fn entry(&self, id: &str) -> Option<Entry> {
        self.ledger().state().resources.get(id).cloned()
    }

    /// Applies one change to the lockfile and saves it at once.
    pub fn change<R>(&self, f: impl FnOnce(&mut Lockfile) -> R) -> Result<R, StepError> {
        match &mut *self.ledger() {
            Ledger::Writable(store) => Ok(store.change(f)?),
            Ledger::ReadOnly(_) => Err(StepError::Missing(
                "this command does not change the lockfile".into(),
            )),
        }
    }

    /// The origin header value, read once from Secrets Manager.
    pub async fn secret(&self) -> Result<&SecretValue, StepError> {
        self.secret
            .get_or_try_init(|| async {
                let arn = output(&self.lock(), "origin_secret", "arn")?;
                let (value, _) = origin_secret::value(&self.clients.secrets, &arn).await?;
                Ok::<_, StepError>(value)
            })
            .await
    }

    /// What desired specs are built from, for a snapshot of the lockfile.
    pub fn sources<'b>(&'b self, lock: &'b Lockfile) -> desired::Sources<'b> {
        desired::Sources {
            profile: self.profile,
            lock,
            account: &self.account,
            package: self.package.as_deref(),
        }
    }

    pub fn into_ledger(self) -> Ledger {
        self.ledger.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

/// An output another node recorded (ids, ARNs, DNS names).
pub fn output(lock: &Lockfile, id: &str, key: &str) -> Result<String, StepError> {
    let entry = lock
        .resources
        .get(id)
        .ok_or_else(|| StepError::Missing(format!("{id} is not in the lockfile yet")))?;
    if key == "id"
        && let Some(p) = &entry.physical_id
    {
        return Ok(p.clone());
    }
    if key == "arn"
        && let Some(a) = &entry.arn
    {
        return Ok(a.clone());
    }
    entry
        .outputs
        .get(key)
        .cloned()
        .ok_or_else(|| StepError::Missing(format!("{id} has no output {key} in the lockfile yet")))
}

/// A spec as the lockfile keeps it: each top-level field as compact JSON,
/// so `plan` can name the fields that changed.
pub fn flatten(spec: &serde_json::Value) -> BTreeMap<String, String> {
    match spec {
        serde_json::Value::Object(map) => map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect(),
        other => BTreeMap::from([("value".to_string(), other.to_string())]),
    }
}

/// The fields whose values differ between two flattened specs.
pub fn changed_fields(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> Vec<String> {
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changed_fields_name_added_removed_and_changed_keys() {
        let old = flatten(&json!({"cpu": "512", "image": "a", "gone": 1}));
        let new = flatten(&json!({"cpu": "1024", "image": "a", "added": true, "nothing": null}));
        assert_eq!(changed_fields(&old, &new), ["added", "cpu", "gone"]);
    }
}
