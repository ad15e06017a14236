//! The stack engine. Producers (`healthimaging`, `routes`) turn a profile into
//! instances of resource kinds (`instance`); each kind owns its lifecycle
//! behind one surface (`kind`, registered in `registry`). The walks know
//! no kind: `apply` for `up`, `inspect` for `status` and `plan`, `teardown`
//! for `down`. They share one context: SDK clients per region, the account,
//! and the lockfile, saved after every state change.
//!
//! Layering: nothing here sees clap or the printer; errors are `StepError`,
//! mapped to exit codes by the commands.

pub mod apply;
pub mod bucket_kms;
pub mod bucket_region;
pub mod clients;
pub mod grants;
pub mod healthimaging;
pub mod inspect;
pub mod instance;
pub mod kind;
pub mod preflight;
pub mod progress;
pub mod registry;
pub mod routes;
pub mod teardown;

use std::fmt;
use std::sync::Mutex;

use tokio::sync::OnceCell;

use crate::aws::AwsError;
use crate::engine::wait::WaitError;
use crate::lockfile::{Entry, Lockfile};
use crate::resources::origin_secret::{self, SecretValue};
use crate::state::Store;
use clients::Clients;
use progress::Progress;

/// Why one instance did not finish.
#[derive(Debug)]
pub enum StepError {
    Aws(AwsError),
    Wait(WaitError),
    /// A dependency's output is missing, or a recorded spec is unusable.
    Missing(String),
    /// The lockfile could not be written.
    Lockfile(String),
    /// A resource under our name without our ownership tag: never adopted,
    /// changed or deleted.
    NotOwned(String),
    /// Lambda@Edge functions whose delete waits for CloudFront's replicas.
    AwaitingReplicas(String),
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::Aws(e) => write!(f, "{e}"),
            StepError::Wait(e) => write!(f, "{e}"),
            StepError::Missing(what)
            | StepError::Lockfile(what)
            | StepError::NotOwned(what)
            | StepError::AwaitingReplicas(what) => write!(f, "{what}"),
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

/// The refusal for a look-alike: a resource with our name but not our tags.
pub fn not_owned(what: &str, name: &str, stack: &str) -> StepError {
    StepError::NotOwned(format!(
        "{what} {name} exists but does not carry the tag {} = {stack}: ahi-edge will not adopt, change or delete it; rename the stack or remove the {what}",
        crate::resources::STACK_TAG
    ))
}

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

/// What one run works with. No profile: `down` and `status` work from the
/// lockfile alone.
pub struct Ctx {
    pub stack: String,
    pub clients: Clients,
    pub account: String,
    ledger: Mutex<Ledger>,
    pub progress: Progress,
    /// The authorizer zip, built once per run (`up` with an authorizer only).
    pub package: Option<Vec<u8>>,
    secret: OnceCell<SecretValue>,
    /// Values by version (a rotation holds two at once), read once each.
    versions: tokio::sync::Mutex<std::collections::BTreeMap<(String, String), SecretValue>>,
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
        Ctx {
            stack: stack.to_string(),
            clients,
            account,
            ledger: Mutex::new(ledger),
            progress,
            package,
            secret: OnceCell::new(),
            versions: Default::default(),
        }
    }

    pub fn stack(&self) -> &str {
        &self.stack
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
            Ledger::Writable(store) => store.change(f).map_err(|e| StepError::Lockfile(e.to_string())),
            Ledger::ReadOnly(_) => Err(StepError::Lockfile(
                "this command does not change the lockfile".into(),
            )),
        }
    }

    /// The origin header value, read once from Secrets Manager by the ARN a
    /// spec names (in the secret's own region).
    pub async fn secret(&self, arn: &str) -> Result<&SecretValue, StepError> {
        self.secret
            .get_or_try_init(|| async {
                let region = arn.split(':').nth(3).unwrap_or(crate::aws::EDGE_REGION);
                let (value, _) = origin_secret::value(&self.clients.secrets(region), arn).await?;
                Ok::<_, StepError>(value)
            })
            .await
    }

    /// The origin header value of one version of the secret at `arn`
    /// (specs name the version they were made with), read once per run.
    pub async fn secret_version(&self, arn: &str, version: &str) -> Result<SecretValue, StepError> {
        let mut cache = self.versions.lock().await;
        let key = (arn.to_string(), version.to_string());
        if let Some(value) = cache.get(&key) {
            return Ok(value.clone());
        }
        let region = arn.split(':').nth(3).unwrap_or(crate::aws::EDGE_REGION);
        let value = origin_secret::value_at(&self.clients.secrets(region), arn, version).await?;
        cache.insert(key, value.clone());
        Ok(value)
    }

    pub fn into_ledger(self) -> Ledger {
        self.ledger.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

/// Every instance the profile deploys: the HealthImaging stack's own (with
/// `[healthimaging]`), then the distribution and what its routes need. The
/// lockfile decides one order: a bucket grant comes before an existing
/// distribution's update, after a new one's create.
pub fn instances(profile: &crate::profile::Profile, lock: &Lockfile) -> Vec<instance::Instance> {
    let mut out = healthimaging::instances(profile);
    out.extend(routes::instances(profile, lock));
    out
}

/// An output another instance recorded (ids, ARNs, DNS names).
pub fn output(lock: &Lockfile, id: &str, key: &str) -> Result<String, StepError> {
    let entry = lock
        .resources
        .get(id)
        .ok_or_else(|| StepError::Missing(format!("{id} is not in the lockfile yet")))?;
    let value = match key {
        "id" => entry.physical_id.clone(),
        "arn" => entry.arn.clone(),
        _ => None,
    };
    value
        .or_else(|| entry.outputs.get(key).cloned())
        .ok_or_else(|| StepError::Missing(format!("{id} has no output {key} in the lockfile yet")))
}

/// The region an entry's calls go to (`global` services answer in us-east-1).
pub fn call_region(recorded: &str) -> &str {
    if recorded == "global" {
        crate::aws::EDGE_REGION
    } else {
        recorded
    }
}
