//! What `up`, `plan`, `status`, `outputs` and `down` all start from: the
//! validated profile, the locked lockfile, SDK clients and the account.
//! Everything that can be refused is checked here, before any AWS call
//! that changes something.

use crate::authorizer::{self, AuthorizerConfig};
use crate::error::Error;
use crate::lockfile::{Lockfile, StateStore};
use crate::output::Printer;
use crate::profile::{self, Profile};
use crate::settings::Settings;
use crate::stack::clients::Clients;
use crate::stack::progress::Progress;
use crate::stack::{Ctx, Ledger};

/// The profile, with warnings printed; invalid profiles are refused (exit 2).
pub fn profile(settings: &Settings, printer: &Printer) -> Result<Profile, Error> {
    let (profile, warnings) = profile::load(&settings.profile)?;
    for warning in &warnings {
        printer.problem(warning);
    }
    Ok(profile)
}

/// The authorizer zip `up` deploys, or `None` with `auth.mode = "none"`.
pub fn package(settings: &Settings, profile: &Profile) -> Result<Option<Vec<u8>>, Error> {
    let Some(config) = AuthorizerConfig::from_profile(profile) else {
        return Ok(None);
    };
    authorizer::package(&config, authorizer::BUNDLE)
        .map(Some)
        .map_err(|e| Error::Refused {
            path: settings.profile.clone(),
            reason: e.to_string(),
            fix: "shorten the profile's auth lists".into(),
        })
}

/// Locks and reads the lockfile (exit 5 when another run holds it).
pub fn store(settings: &Settings, profile: &Profile) -> Result<StateStore, Error> {
    StateStore::open(&settings.lockfile, &profile.stack.name)
}

/// SDK clients for the profile's regions and the account they act in.
pub async fn clients(settings: &Settings, profile: &Profile) -> Result<(Clients, String), Error> {
    let clients = Clients::new(&settings.aws, &profile.healthimaging.region).await;
    let account = clients.account().await?;
    Ok((clients, account))
}

/// A context for the read-only commands (`status`, `plan`): a snapshot of
/// the lockfile, taken without its lock, and no progress output.
pub async fn read_only<'a>(
    settings: &Settings,
    profile: &'a Profile,
    lock: &Lockfile,
) -> Result<Ctx<'a>, Error> {
    let package = package(settings, profile)?;
    let (clients, account) = clients(settings, profile).await?;
    Ok(Ctx::new(
        profile,
        clients,
        account,
        Ledger::ReadOnly(lock.clone()),
        Progress::silent(),
        package,
    ))
}

/// A multi-threaded runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", e))
}
