//! What `up`, `plan`, `status`, `outputs` and `down` start from: the
//! validated profile (or, for the commands that work from the lockfile
//! alone, the lockfile without it), the locked lockfile, SDK clients and
//! the account. Everything that can be refused is checked here, before any
//! AWS call that changes something.

use crate::authorizer::{self, AuthorizerConfig};
use crate::engine::clients::Clients;
use crate::error::Error;
use crate::lockfile::{self, Lockfile, StateStore};
use crate::output::Printer;
use crate::profile::{self, Profile};
use crate::settings::Settings;
use crate::state::{Location, S3Location, Store, s3::S3Store};

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
    if !settings.profile.exists() && (settings.lockfile.exists() || settings.state.is_some()) {
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

/// Where the state lives: `--state`, else the profile's `[state]`, else
/// the lockfile (`--lockfile`, or beside the profile).
pub fn location(settings: &Settings, profile: Option<&Profile>) -> Result<Location, Error> {
    let configured = profile.and_then(|p| p.state.as_ref());
    if let Some(flag) = &settings.state {
        let same_bucket = configured.filter(|s| s.bucket == flag.bucket);
        let region = flag
            .region
            .clone()
            .or_else(|| same_bucket.map(|s| s.region.clone()))
            .or_else(|| profile.map(|p| p.region.clone()))
            .ok_or_else(|| Error::BadFlag {
                flag: "--state",
                value: format!("s3://{}/{}", flag.bucket, flag.key),
                reason: "the state bucket's region is not known (there is no profile to take it from)".into(),
                fix: "add --state-region REGION".into(),
            })?;
        return Ok(Location::S3(S3Location {
            bucket: flag.bucket.clone(),
            key: flag.key.clone(),
            region,
            kms_key_id: same_bucket
                .filter(|s| s.key == flag.key)
                .and_then(|s| s.kms_key_id.clone()),
        }));
    }
    if let Some(s3) = configured {
        if settings.lockfile != settings.profile.with_extension("lock") {
            return Err(Error::BadFlag {
                flag: "--lockfile",
                value: settings.lockfile.display().to_string(),
                reason: format!(
                    "names a local lockfile, but the profile keeps the state in S3 ([state] backend = \"s3\", {})",
                    s3.url()
                ),
                fix: "leave --lockfile out; for a local copy, `ahi-edge state pull --to FILE`".into(),
            });
        }
        return Ok(Location::S3(s3.clone()));
    }
    Ok(Location::Local(settings.lockfile.clone()))
}

/// Locks and reads the state (exit 5 when another run holds it) for
/// `command`, after saying where it lives.
pub fn store(
    settings: &Settings,
    printer: &Printer,
    profile: &Profile,
    command: &str,
) -> Result<Store, Error> {
    let location = location(settings, Some(profile))?;
    printer.info(format!("state: {location}"));
    let stack = &profile.stack.name;
    Ok(match location {
        Location::Local(path) => Store::Local(StateStore::open(&path, stack)?),
        Location::S3(at) => Store::S3(Box::new(S3Store::open(at, &settings.aws, stack, command)?)),
    })
}

/// Locks and reads an existing state whatever stack it belongs to (`down`
/// without a profile). `None` when there is none.
pub fn store_existing(settings: &Settings, printer: &Printer, command: &str) -> Result<Option<Store>, Error> {
    let location = location(settings, None)?;
    printer.info(format!("state: {location}"));
    Ok(match location {
        Location::Local(path) => StateStore::open_existing(&path)?.map(Store::Local),
        Location::S3(at) => {
            S3Store::open_existing(at, &settings.aws, command)?.map(|s| Store::S3(Box::new(s)))
        }
    })
}

/// The state as it is, without the lock. With a profile, it must be that
/// profile's stack's; none yet is an empty one.
pub fn snapshot(
    settings: &Settings,
    printer: &Printer,
    profile: Option<&Profile>,
) -> Result<Option<Lockfile>, Error> {
    let location = location(settings, profile)?;
    printer.info(format!("state: {location}"));
    let recorded = match &location {
        Location::Local(path) => lockfile::read(path)?,
        Location::S3(at) => crate::state::s3::read(at, &settings.aws)?,
    };
    match (recorded, profile) {
        (Some(lock), Some(p)) if lock.stack != p.stack.name => Err(Error::LockfileStackMismatch {
            path: location.name().into(),
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

/// What a run wants deployed, against what the state records.
pub struct Desired<'a> {
    pub profile: &'a Profile,
    pub instances: &'a [crate::stack::instance::Instance],
    pub lock: &'a Lockfile,
    pub package_sha: Option<String>,
}

/// The clients and account for `plan` and `up`, and the profile's bucket
/// origins put in the regions S3 says they are in (`stack::bucket_region`:
/// HeadBucket reads only; a wrong `region` key or a missing bucket is
/// refused here, before any instance is built or anything written).
pub async fn clients_for(
    settings: &Settings,
    printer: &Printer,
    profile: &mut Profile,
) -> Result<(Clients, String), Error> {
    let (clients, account) = clients(settings).await?;
    for note in crate::stack::bucket_region::locate(&clients, profile, &settings.profile).await? {
        printer.info(format!("note: {note}"));
    }
    Ok((clients, account))
}

/// What `plan` and `up` check against AWS before their first write, in
/// order: the changes the stack cannot make in place, the origin buckets'
/// policies (a foreign statement under our grant's Sid), then the
/// pre-flight (certificates, the proxy image, the identity provider).
/// Warnings are printed, and the buckets' are returned by instance id (for
/// `plan`'s steps); the first refusal is the error.
pub async fn before_first_write(
    settings: &Settings,
    printer: &Printer,
    (clients, account): (&Clients, &str),
    desired: Desired<'_>,
) -> Result<Vec<(String, String)>, Error> {
    let Desired {
        profile,
        instances,
        lock,
        package_sha,
    } = desired;
    let refused = crate::stack::inspect::refusals(profile, instances, lock, account, package_sha);
    if !refused.is_empty() {
        return Err(super::up::refusal(settings, &refused));
    }
    let grants = crate::stack::grants::check(clients, profile, instances, lock, account).await?;
    if let Some(refused) = grants.refusal(&settings.profile, &profile.stack.name) {
        return Err(refused);
    }
    for (_, warning) in &grants.warnings {
        printer.warn(warning);
    }
    crate::stack::bucket_region::refuse_foreign(clients, profile, lock, &settings.profile).await?;
    let fetch = crate::stack::preflight::Fetch::new(settings.aws.endpoint_url.as_deref());
    for note in crate::stack::preflight::check(clients, &fetch, (profile, account), &settings.profile).await?
    {
        printer.warn(format!("{}: {note}", settings.profile.display()));
    }
    Ok(grants.warnings)
}

/// Asks on the terminal (stderr) with `prompt` and whether the line typed is
/// `expected`: the one confirmation read `down` and `state unlock` share.
/// Runs a command's work unless Ctrl-C comes first. Interrupted, the
/// progress is cleared, `interrupted` (what the lockfile holds and how to
/// resume) is said, and the answer is `None`: the caller exits Interrupted.
pub async fn unless_interrupted<T>(
    progress: &crate::engine::progress::Progress,
    printer: &Printer,
    interrupted: String,
    work: impl std::future::Future<Output = T>,
) -> Option<T> {
    tokio::select! {
        done = work => Some(done),
        _ = tokio::signal::ctrl_c() => {
            progress.clear();
            printer.warn(format!("interrupted: {interrupted}"));
            None
        }
    }
}

pub fn typed_confirmation(prompt: &str, expected: &str) -> Result<bool, Error> {
    use std::io::{BufRead, Write};
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::io("reading the confirmation", e))?;
    Ok(answer.trim() == expected)
}
