//! `ahi-edge state show | pull | push | unlock`: the stack's state, moved
//! between the local lockfile and S3, and a stuck S3 lock removed.

use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::session;
use crate::error::{Error, ExitStatus};
use crate::lockfile::{self, StateStore};
use crate::output::Printer;
use crate::settings::Settings;
use crate::state::s3::{self, Unlocked};
use crate::state::{Location, S3Location};

#[derive(Debug, Serialize)]
pub struct StateReport {
    /// The document's version (docs/status.md).
    pub schema: u32,
    /// The lockfile's path or the state object's URL.
    pub state: String,
    /// `local` or `s3`.
    pub backend: &'static str,
    pub stack: Option<String>,
    pub updated_at: Option<String>,
    /// Who holds the S3 lock, if anyone (`null`: free, or a local lockfile,
    /// whose lock the OS releases when its run exits).
    pub lock: Option<LockInfo>,
    pub resources: Vec<Row>,
    /// The S3 bucket's safety (versioning, Block Public Access).
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct LockInfo {
    pub id: String,
    pub holder: String,
}

#[derive(Debug, Serialize)]
pub struct Row {
    pub id: String,
    pub kind: String,
    pub state: String,
    pub region: String,
    pub physical_id: Option<String>,
}

impl fmt::Display for StateReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "state: {} ({})", self.state, self.backend)?;
        match &self.stack {
            Some(stack) => writeln!(
                f,
                "stack {stack}: {} resource(s), updated {}",
                self.resources.len(),
                self.updated_at.as_deref().unwrap_or("-")
            )?,
            None => writeln!(f, "nothing recorded yet")?,
        }
        match &self.lock {
            Some(lock) => writeln!(f, "locked by {} (lock id {})", lock.holder, lock.id)?,
            None if self.backend == "s3" => writeln!(f, "not locked")?,
            None => {}
        }
        if !self.resources.is_empty() {
            writeln!(
                f,
                "{:<32} {:<17} {:<10} {:<24} kind",
                "id", "state", "region", "physical id"
            )?;
        }
        for r in &self.resources {
            writeln!(
                f,
                "{:<32} {:<17} {:<10} {:<24} {}",
                r.id,
                r.state,
                r.region,
                r.physical_id.as_deref().unwrap_or("-"),
                r.kind
            )?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}

pub fn show(settings: &Settings, printer: &Printer) -> Result<ExitStatus, Error> {
    let profile = session::profile_if_present(settings, printer)?;
    let location = session::location(settings, profile.as_ref())?;
    let recorded = session::snapshot(settings, printer, profile.as_ref())?;
    let (backend, lock, warnings) = match &location {
        Location::Local(_) => ("local", None, Vec::new()),
        Location::S3(at) => (
            "s3",
            s3::holder(at, &settings.aws)?.map(|(holder, id)| LockInfo { id, holder }),
            s3::safety(at, &settings.aws)?,
        ),
    };
    let recorded = recorded.filter(|l| !l.stack.is_empty());
    let report = StateReport {
        schema: 1,
        state: location.name(),
        backend,
        stack: recorded.as_ref().map(|l| l.stack.clone()),
        updated_at: recorded.as_ref().map(|l| l.updated_at.clone()),
        lock,
        resources: recorded
            .iter()
            .flat_map(|l| &l.resources)
            .map(|(id, e)| Row {
                id: id.clone(),
                kind: e.kind.clone(),
                state: serde_json::to_value(e.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                region: e.region.clone(),
                physical_id: e.physical_id.clone(),
            })
            .collect(),
        warnings,
    };
    printer.result(&report)?;
    Ok(ExitStatus::Success)
}

/// What `pull` and `push` did.
#[derive(Debug, Serialize)]
pub struct Moved {
    pub from: String,
    pub to: String,
    pub stack: String,
    pub resources: usize,
    pub next_steps: Vec<String>,
}

impl fmt::Display for Moved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "copied the state of stack {} ({} resource(s)) from {} to {}",
            self.stack, self.resources, self.from, self.to
        )?;
        for step in &self.next_steps {
            writeln!(f, "next: {step}")?;
        }
        Ok(())
    }
}

pub fn pull(settings: &Settings, printer: &Printer, to: &Path, force: bool) -> Result<ExitStatus, Error> {
    let profile = session::profile_if_present(settings, printer)?;
    let Location::S3(at) = session::location(settings, profile.as_ref())? else {
        return Err(Error::Refused {
            path: settings.lockfile.clone(),
            reason: "the state is already this local lockfile; there is nothing to pull".into(),
            fix: "name the S3 state with the profile's [state] or --state s3://BUCKET/KEY".into(),
        });
    };
    let Some(state) = s3::read(&at, &settings.aws)? else {
        return Err(Error::Refused {
            path: PathBuf::from(at.url()),
            reason: "holds no state (no such object)".into(),
            fix: "check the bucket and key; `ahi-edge state push` creates it from a lockfile".into(),
        });
    };
    if to.exists() && !force {
        return Err(Error::Refused {
            path: to.to_path_buf(),
            reason: "exists; nothing was written".into(),
            fix: "pass --force to overwrite it, or pull to another file".into(),
        });
    }
    let text =
        toml::to_string(&state).map_err(|e| Error::io("encoding the state", std::io::Error::other(e)))?;
    lockfile::write_atomic(to, text.as_bytes())
        .map_err(|e| Error::io(format!("writing {}", to.display()), e))?;
    printer.result(&Moved {
        from: at.url(),
        to: to.display().to_string(),
        stack: state.stack.clone(),
        resources: state.resources.len(),
        next_steps: vec![format!(
            "to leave S3: remove [state] from the profile and keep {} beside it as its lockfile",
            to.display()
        )],
    })?;
    Ok(ExitStatus::Success)
}

pub fn push(settings: &Settings, printer: &Printer, to: &str, force: bool) -> Result<ExitStatus, Error> {
    let profile = session::profile_if_present(settings, printer)?;
    let (bucket, key) = crate::state::parse_url(to).map_err(|reason| Error::BadFlag {
        flag: "--to",
        value: to.to_string(),
        reason,
        fix: "name the state object as s3://BUCKET/KEY, e.g. s3://team-state/ahi-edge/prod.lock".into(),
    })?;
    let configured = profile
        .as_ref()
        .and_then(|p| p.state.as_ref())
        .filter(|s| s.bucket == bucket && s.key == key);
    let region = settings
        .state
        .as_ref()
        .and_then(|s| s.region.clone())
        .or_else(|| configured.map(|s| s.region.clone()))
        .or_else(|| profile.as_ref().map(|p| p.region.clone()))
        .ok_or_else(|| Error::BadFlag {
            flag: "--to",
            value: to.to_string(),
            reason: "the bucket's region is not known (there is no profile to take it from)".into(),
            fix: "add --state-region REGION".into(),
        })?;
    let at = S3Location {
        bucket,
        key,
        region,
        kms_key_id: configured.and_then(|s| s.kms_key_id.clone()),
    };
    // The local lock too: no local run may change the file while it moves.
    let path = settings.lockfile.clone();
    let missing = || Error::Refused {
        path: path.clone(),
        reason: "no lockfile here to push".into(),
        fix: "pass --lockfile with the stack's lockfile".into(),
    };
    if !path.exists() {
        return Err(missing());
    }
    let local = match &profile {
        Some(p) => StateStore::open(&path, &p.stack.name)?,
        None => StateStore::open_existing(&path)?.ok_or_else(missing)?,
    };
    printer.info(format!(
        "state: {} -> {}",
        path.display(),
        Location::S3(at.clone())
    ));
    s3::push(&at, &settings.aws, local.state(), force)?;
    for warning in s3::safety(&at, &settings.aws)? {
        printer.warn(warning);
    }
    let mut next_steps = Vec::new();
    if profile.as_ref().and_then(|p| p.state.as_ref()) != Some(&at) {
        next_steps.push(format!(
            "add to the profile: [state] backend = \"s3\", bucket = \"{}\", key = \"{}\", region = \"{}\"",
            at.bucket, at.key, at.region
        ));
    }
    next_steps.push(format!(
        "move {} away (keep it as a backup): from now on the state is read from and written to S3",
        path.display()
    ));
    printer.result(&Moved {
        from: path.display().to_string(),
        to: at.url(),
        stack: local.state().stack.clone(),
        resources: local.state().resources.len(),
        next_steps,
    })?;
    Ok(ExitStatus::Success)
}

pub fn unlock(settings: &Settings, printer: &Printer, lock_id: &str) -> Result<ExitStatus, Error> {
    let profile = session::profile_if_present(settings, printer)?;
    let location = session::location(settings, profile.as_ref())?;
    let Location::S3(at) = location else {
        return Err(Error::Refused {
            path: settings.lockfile.clone(),
            reason: "is a local lockfile: its lock is released by the OS when the run holding it exits, so there is nothing to unlock".into(),
            fix: "to unlock an S3 state, name it with the profile's [state] or --state s3://BUCKET/KEY".into(),
        });
    };
    printer.info(format!("state: {}", Location::S3(at.clone())));
    let confirm = |holder: &str| confirm(settings, &at, lock_id, holder);
    match s3::unlock(&at, &settings.aws, lock_id, confirm)? {
        Unlocked::NotLocked => {
            printer.info(format!("{} is not locked; nothing to remove", at.url()));
            Ok(ExitStatus::Success)
        }
        Unlocked::Other {
            holder,
            lock_id: held,
        } => Err(Error::Refused {
            path: PathBuf::from(at.url()),
            reason: format!("is locked by {holder} with lock id {held}, not {lock_id}; nothing was changed"),
            fix: format!("a new run holds it: wait for it; if it too died, `ahi-edge state unlock {held}`"),
        }),
        Unlocked::Removed { holder } => {
            printer.info(format!(
                "removed lock {lock_id} of {holder}; the state was fenced: if that run is still alive, it stops at its next state write without any further AWS write"
            ));
            Ok(ExitStatus::Success)
        }
    }
}

/// Shows the holder, then asks on a TTY; refuses (exit 2, nothing changed)
/// elsewhere without `--yes`.
fn confirm(settings: &Settings, at: &S3Location, lock_id: &str, holder: &str) -> Result<(), Error> {
    eprintln!("{} is locked by {holder} (lock id {lock_id})", at.url());
    if settings.yes {
        return Ok(());
    }
    let refuse = |reason: &str| Error::Refused {
        path: PathBuf::from(at.url()),
        reason: reason.to_string(),
        fix: "make sure that run is gone (its process, its CI job), then pass --yes".into(),
    };
    if !std::io::stdin().is_terminal() {
        return Err(refuse(
            "removing a lock needs confirmation, and stdin is not a terminal; nothing was changed",
        ));
    }
    if session::typed_confirmation(
        "Is that run gone for good? Type the lock id to remove its lock: ",
        lock_id,
    )? {
        Ok(())
    } else {
        Err(refuse("not confirmed; nothing was changed"))
    }
}
