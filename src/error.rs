//! Typed errors and the exit codes they map to.
//!
//! Exit codes are part of the interface: runbooks branch on them, so every
//! error is sorted into exactly one [`ExitStatus`] here and nowhere else.

use std::path::PathBuf;

use crate::profile::Problem;

/// Process exit codes (documented in README.md; scripts depend on them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything asked for was done.
    Success = 0,
    /// Something failed (AWS, I/O, an unexpected answer).
    Failure = 1,
    /// Bad input: profile, flags or lockfile. Nothing was changed.
    BadInput = 2,
    /// Done except what must wait (e.g. Lambda@Edge replicas still present).
    Incomplete = 3,
    /// `status`/`plan`: live state differs from the desired state.
    Drift = 4,
    /// The lockfile (or the S3 state) is held, or was changed, by another run.
    Locked = 5,
    /// Stopped by Ctrl-C (SIGINT) after recording what was done: 128 + 2,
    /// the shell's convention.
    Interrupted = 130,
}

impl ExitStatus {
    pub fn code(self) -> i32 {
        self as i32
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The profile has problems; each one is reported on its own.
    #[error("{}", invalid_profile(path, problems))]
    InvalidProfile { path: PathBuf, problems: Vec<Problem> },

    /// A flag or environment value is unusable.
    #[error("{flag} = {value:?}: {reason}\n    fix: {fix}")]
    BadFlag {
        flag: &'static str,
        value: String,
        reason: String,
        fix: String,
    },

    #[error(
        "{}: the lockfile is held by another ahi-edge run (pid {pid}, lock {})\n    fix: wait for that run to finish; the lock is released when its process exits",
        lockfile.display(),
        lock.display()
    )]
    LockHeld {
        lockfile: PathBuf,
        lock: PathBuf,
        pid: String,
    },

    #[error(
        "{state}: the state is locked by another ahi-edge run: {holder}; lock id {lock_id}\n    fix: wait for that run to finish; if it died (killed, its machine gone) and nothing else runs, remove its lock with `ahi-edge state unlock {lock_id}` (docs/runbooks.md, \"A stuck lock\")"
    )]
    StateLocked {
        state: String,
        holder: String,
        lock_id: String,
    },

    /// The S3 state changed under this run: it stopped before any further
    /// AWS write (the message says what happened and how to go on).
    #[error("{0}")]
    StateChanged(String),

    #[error(
        "{}: cannot be read as an ahi-edge lockfile: {detail}\n    fix: restore the file from a backup or correct it by hand (see docs/lockfile.md); ahi-edge never overwrites a lockfile it cannot read",
        path.display()
    )]
    LockfileCorrupt { path: PathBuf, detail: String },

    #[error(
        "{}: schema = {found} was written by a newer ahi-edge (this one reads schema {supported})\n    fix: upgrade ahi-edge to the version that wrote it",
        path.display()
    )]
    LockfileNewer {
        path: PathBuf,
        found: i64,
        supported: u32,
    },

    #[error(
        "{}: belongs to stack {found:?}, but the profile names stack {expected:?}\n    fix: pass the lockfile of this stack with --lockfile, or use the profile that created this lockfile",
        path.display()
    )]
    LockfileStackMismatch {
        path: PathBuf,
        found: String,
        expected: String,
    },

    #[error("{}: {reason}\n    fix: {fix}", path.display())]
    Refused {
        path: PathBuf,
        reason: String,
        fix: String,
    },

    /// An AWS call failed before any work started (credentials, account lookup).
    #[error("{}", with_fix(.0))]
    Aws(#[from] crate::aws::AwsError),

    /// A step outside the per-resource report failed (a rotation phase,
    /// what `down` does before its walk).
    #[error("{doing}: {source}")]
    Step {
        doing: String,
        #[source]
        source: crate::engine::step::StepError,
    },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn step(doing: impl Into<String>, source: crate::engine::step::StepError) -> Self {
        Error::Step {
            doing: doing.into(),
            source,
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Error::InvalidProfile { .. }
            | Error::BadFlag { .. }
            | Error::LockfileCorrupt { .. }
            | Error::LockfileNewer { .. }
            | Error::LockfileStackMismatch { .. }
            | Error::Refused { .. } => ExitStatus::BadInput,
            Error::LockHeld { .. } | Error::StateLocked { .. } | Error::StateChanged(_) => ExitStatus::Locked,
            Error::Io { .. } | Error::Aws(_) | Error::Step { .. } => ExitStatus::Failure,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

fn invalid_profile(path: &std::path::Path, problems: &[Problem]) -> String {
    let errors = problems
        .iter()
        .filter(|p| p.severity == crate::profile::Severity::Error)
        .count();
    let mut text = format!(
        "{}: {errors} error(s) in the profile; nothing was changed",
        path.display()
    );
    for problem in problems {
        text.push('\n');
        text.push_str(&problem.to_string());
    }
    text
}

/// An early AWS failure with one fix: its own when the error names one
/// (credentials, connection), else the general advice.
fn with_fix(e: &crate::aws::AwsError) -> String {
    match e.message.split_once("; fix: ") {
        Some((what, fix)) => format!("{}: {what}\n    fix: {fix}", e.operation),
        None => format!(
            "{e}\n    fix: check the AWS credentials and region (aws sts get-caller-identity), or --endpoint-url"
        ),
    }
}
