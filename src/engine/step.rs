//! What a kind works with and how its steps fail: [`Cx`], the run's context
//! as a kind sees it (SDK clients, the stack and account, the progress
//! lines, the origin secret), and [`StepError`]. The lockfile is not here:
//! the walks (`crate::stack`) own it, so a kind cannot write it. What a kind
//! must tell the walk mid-step (a delete held by CloudFront's replicas) goes
//! through [`Cx::held`], which the walk records.

use std::fmt;

use tokio::sync::OnceCell;

use super::clients::Clients;
use super::progress::Progress;
use super::wait::WaitError;
use crate::aws::AwsError;
use crate::resources::origin_secret::{self, SecretValue};

/// What a step of the engine or a kind gives back.
pub type Step<T> = Result<T, StepError>;

/// Why one instance did not finish.
#[derive(Debug)]
pub enum StepError {
    Aws(AwsError),
    Wait(WaitError),
    /// A dependency's output (or this run's package) is not there yet.
    Missing(String),
    /// A change `up` will not make: a replacement, a move between regions,
    /// a value changed outside ahi-edge, an account that cannot hold it.
    Refused(String),
    /// What was recorded cannot be used: a spec that does not fit its
    /// kind, a kind this version does not know.
    Unusable(String),
    /// AWS took the change and could not roll it out (an ECS deployment
    /// the circuit breaker stopped).
    DeploymentFailed(String),
    /// The resource went away between the read and the write.
    Vanished(String),
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
            | StepError::Refused(what)
            | StepError::Unusable(what)
            | StepError::DeploymentFailed(what)
            | StepError::Vanished(what)
            | StepError::Lockfile(what)
            | StepError::NotOwned(what)
            | StepError::AwaitingReplicas(what) => write!(f, "{what}"),
        }
    }
}

impl std::error::Error for StepError {}

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

/// How the walk records that AWS holds an instance's delete (Lambda@Edge
/// replicas): called with the instance id.
pub type Held = Box<dyn Fn(&str) -> Result<(), StepError> + Send + Sync>;

/// What one run gives every kind. No profile and no lockfile.
pub struct Cx {
    pub stack: String,
    pub clients: Clients,
    pub account: String,
    pub progress: Progress,
    /// The authorizer zip, built once per run (`up` with an authorizer only).
    pub package: Option<Vec<u8>>,
    held: Held,
    secret: OnceCell<SecretValue>,
    /// Values by version (a rotation holds two at once), read once each.
    versions: tokio::sync::Mutex<std::collections::BTreeMap<(String, String), SecretValue>>,
}

impl Cx {
    pub fn new(
        stack: &str,
        clients: Clients,
        account: String,
        progress: Progress,
        package: Option<Vec<u8>>,
        held: Held,
    ) -> Self {
        Cx {
            stack: stack.to_string(),
            clients,
            account,
            progress,
            package,
            held,
            secret: OnceCell::new(),
            versions: Default::default(),
        }
    }

    pub fn stack(&self) -> &str {
        &self.stack
    }

    /// Tells the walk that AWS holds instance `id`'s delete (replicas still
    /// being removed), so a run stopped while waiting leaves it recorded.
    pub fn held(&self, id: &str) -> Result<(), StepError> {
        (self.held)(id)
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
}
