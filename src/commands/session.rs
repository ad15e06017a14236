//! What `up`, `plan`, `status`, `outputs` and `down` start from: the
//! validated profile (or, for the commands that work from the lockfile
//! alone, the lockfile without it), the locked lockfile, SDK clients and
//! the account. Everything that can be refused is checked here, before any
//! AWS call that changes something.

use crate::authorizer::{self, AuthorizerConfig};
use crate::error::Error;
use crate::lockfile::{self, Lockfile, StateStore};
use crate::output::Printer;
use crate::profile::{self, Profile};
use crate::settings::Settings;
use crate::stack::clients::Clients;

/// The profile, with warnings printed; invalid profiles are refused (exit 2).
pub fn profile(settings: &Settings, printer: &Printer) -> Result<Profile, Error> {
    let (profile, warnings) = profile::load(&settings.profile)?;
    for warning in &warnings {
        printer.problem(warning);
    }
    Ok(profile)
}

/// The profile for `up`: as [`profile`], and against AWS (no
/// `--endpoint-url`) a profile that still holds the templates' example
/// values is refused before any call unless `--yes` says it is meant.
pub fn profile_for_up(settings: &Settings, printer: &Printer) -> Result<Profile, Error> {
    let (profile, warnings) = profile::load(&settings.profile)?;
    for warning in &warnings {
        printer.problem(warning);
    }
    let examples: Vec<String> = warnings
        .iter()
        .filter(|w| w.message.ends_with("still as `ahi-edge init` wrote it"))
        .map(|w| format!("{}:{} {}", w.line, w.column, w.key))
        .collect();
    if !examples.is_empty() && settings.aws.endpoint_url.is_none() && !settings.yes {
        return Err(Error::Refused {
            path: settings.profile.clone(),
            reason: format!(
                "still holds the template's example values ({}); nothing was changed",
                examples.join(", ")
            ),
            fix: "replace them with your own (see the warnings above), or pass --yes if they are meant"
                .into(),
        });
    }
    Ok(profile)
}

/// The profile when its file exists (`status`, `outputs` and `down` work
/// from the lockfile alone when it is gone); a file that exists must be valid.
pub fn profile_if_present(settings: &Settings, printer: &Printer) -> Result<Option<Profile>, Error> {
    if !settings.profile.exists() && settings.lockfile.exists() {
        return Ok(None);
    }
    profile(settings, printer).map(Some)
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

/// The lockfile as it is on disk, without the run lock. With a profile, it
/// must be that profile's stack's; none yet is an empty one.
pub fn snapshot(settings: &Settings, profile: Option<&Profile>) -> Result<Option<Lockfile>, Error> {
    match (lockfile::read(&settings.lockfile)?, profile) {
        (Some(lock), Some(p)) if lock.stack != p.stack.name => Err(Error::LockfileStackMismatch {
            path: settings.lockfile.clone(),
            found: lock.stack,
            expected: p.stack.name.clone(),
        }),
        (Some(lock), _) => Ok(Some(lock)),
        (None, Some(p)) => Ok(Some(Lockfile::new(&p.stack.name))),
        (None, None) => Ok(None),
    }
}

/// SDK clients and the account they act in.
pub async fn clients(settings: &Settings) -> Result<(Clients, String), Error> {
    let clients = Clients::new(&settings.aws).await;
    let account = clients.account().await?;
    Ok((clients, account))
}

/// A multi-threaded runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", e))
}
