//! The stack's state as an S3 object, for a team and its CI runners.
//!
//! - A run that may write takes the lock first: a `PutObject` of
//!   `<key>.run-lock` with `If-None-Match: *` whose body says who holds it
//!   (`holder`). A second run finds it taken (412) and exits 5 naming the
//!   holder and the lock id. Release deletes the lock only while it is still
//!   this run's (`If-Match` on the lock's ETag).
//! - Every state write is a `PutObject` with `If-Match` on the ETag this run
//!   last read or wrote (`If-None-Match: *` for the first one): if anything
//!   else wrote the state meanwhile (a run whose lock was broken, a hand
//!   edit), the write fails and this run stops before any further AWS write
//!   (`guard`). Nothing is lost: every entry this run saved is in the object.
//! - `state unlock` fences before it unlocks: it rewrites the state object
//!   (a comment line recording the break) so the old holder's next write
//!   fails even if no other run writes first.
//! - Writes are encrypted at rest (SSE-KMS with the configured key, else
//!   the key the object already has, else SSE-S3).
//!
//! S3 semantics: https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
//! and https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html

use std::io;
use std::path::PathBuf;

use super::guard;
use super::holder::Holder;
use super::location::S3Location;
use super::remote::{Condition, Object, Remote, explain, lost_race};
use crate::aws::{AwsError, AwsSettings};
use crate::error::Error;
use crate::lockfile::{self, Lockfile};

const STATE_TYPE: &str = "application/toml";
const LOCK_TYPE: &str = "application/json";
/// A lock `PutObject` answered 409 (a delete of the lock landed meanwhile)
/// is tried again, as S3 advises; a few times at most.
const LOCK_ATTEMPTS: usize = 3;
/// The first line `state unlock` writes into the state object.
const FENCE: &str = "# ahi-edge state unlock:";

/// The lock this run holds.
struct Held {
    holder: Holder,
    etag: String,
}

/// A run's view of the S3 state: locked for its lifetime, saved after every
/// change with a compare-and-swap on the object's ETag.
pub struct S3Store {
    remote: Remote,
    lock: Option<Held>,
    /// The ETag of the state object as this run last read or wrote it;
    /// `None`: there was no object.
    etag: Option<String>,
    /// The KMS key writes use (configured, or the object's own).
    kms_key_id: Option<String>,
    state: Lockfile,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "S3Store({})", self.remote.at.url())
    }
}

impl S3Store {
    /// Takes the lock (exit 5 if another run holds it), then reads the
    /// state, which must be `stack`'s (a new, empty one when there is no
    /// state object yet).
    pub fn open(at: S3Location, aws: &AwsSettings, stack: &str, command: &str) -> Result<S3Store, Error> {
        let store = Self::open_with(at, aws, Some(stack), command)?;
        store.ok_or_else(|| Error::io("opening the state", io::Error::other("no state")))
    }

    /// Locks and reads an existing state whatever stack it belongs to
    /// (`down` works from the state alone). `None` when there is none.
    pub fn open_existing(at: S3Location, aws: &AwsSettings, command: &str) -> Result<Option<S3Store>, Error> {
        Self::open_with(at, aws, None, command)
    }

    fn open_with(
        at: S3Location,
        aws: &AwsSettings,
        stack: Option<&str>,
        command: &str,
    ) -> Result<Option<S3Store>, Error> {
        let remote = Remote::connect(at, aws)?;
        let mut store = S3Store {
            kms_key_id: remote.at.kms_key_id.clone(),
            remote,
            lock: None,
            etag: None,
            state: Lockfile::new(stack.unwrap_or_default()),
        };
        let holder = Holder::this_run(stack.unwrap_or("(from the state)"), command)
            .map_err(|e| Error::io("naming the lock", io::Error::other(e)))?;
        store.lock = Some(acquire(&store.remote, holder)?);
        // From here on, dropping the store releases the lock.
        let url = store.remote.at.url();
        match store
            .remote
            .get(&store.remote.at.key)
            .map_err(|e| explain(&store.remote.at, e))?
        {
            None if stack.is_none() => return Ok(None),
            None => {}
            Some(object) => {
                let state = parse(&url, &object.body)?;
                if let Some(expected) = stack
                    && state.stack != expected
                {
                    return Err(Error::LockfileStackMismatch {
                        path: PathBuf::from(url),
                        found: state.stack,
                        expected: expected.to_string(),
                    });
                }
                if store.kms_key_id.is_none() {
                    store.kms_key_id = object.kms_key_id;
                }
                store.etag = Some(object.etag);
                store.state = state;
            }
        }
        Ok(Some(store))
    }

    pub fn state(&self) -> &Lockfile {
        &self.state
    }

    pub fn url(&self) -> String {
        self.remote.at.url()
    }

    /// Applies one change and saves it before returning, with `If-Match` on
    /// the ETag this run last saw: a lost race stops every further AWS write.
    pub fn change<R>(&mut self, f: impl FnOnce(&mut Lockfile) -> R) -> Result<R, Error> {
        if let Some(reason) = guard::stopped() {
            return Err(Error::StateChanged(reason.to_string()));
        }
        let mut next = self.state.clone();
        next.migrated_from = None;
        let result = f(&mut next);
        next.updated_at = lockfile::now();
        next.tool_version = env!("CARGO_PKG_VERSION").to_string();
        let text =
            toml::to_string(&next).map_err(|e| Error::io("encoding the state", io::Error::other(e)))?;
        let key = self.remote.at.key.clone();
        let condition = match &self.etag {
            Some(etag) => Condition::Matches(etag),
            None => Condition::Absent,
        };
        match self
            .remote
            .put(&key, &text, STATE_TYPE, condition, self.kms_key_id.as_deref())
        {
            Ok(etag) => self.etag = Some(etag),
            Err(e) if lost_race(&e) => match self.remote.get(&key) {
                // The SDK retried a write whose first try had landed.
                Ok(Some(now)) if now.body == text => self.etag = Some(now.etag),
                _ => return Err(self.stopped(&e)),
            },
            Err(e) => return Err(explain(&self.remote.at, e)),
        }
        self.state = next;
        Ok(result)
    }

    /// Deletes the state object once the stack is gone (only the content
    /// this run last saw), then releases the lock.
    pub fn remove(mut self) -> Result<(), Error> {
        if let Some(etag) = self.etag.take() {
            let key = self.remote.at.key.clone();
            match self.remote.delete(&key, &etag) {
                Ok(()) => {}
                Err(e) if e.is("NoSuchKey") => {}
                Err(e) if lost_race(&e) => return Err(self.stopped(&e)),
                Err(e) => return Err(Error::Aws(e)),
            }
        }
        Ok(())
    }

    fn stopped(&self, e: &AwsError) -> Error {
        let reason = format!(
            "{}: the state object changed since this run last read or wrote it ({e}): another run wrote it, or this run's lock was removed with `ahi-edge state unlock`; this run stopped before any further AWS write, and every entry it had saved is in the state object\n    fix: see who holds the state now with `ahi-edge state show`, then run the command again once it is free: it resumes from the state object",
            self.remote.at.url()
        );
        guard::stop(reason.clone());
        Error::StateChanged(reason)
    }
}

impl Drop for S3Store {
    fn drop(&mut self) {
        let Some(held) = self.lock.take() else {
            return;
        };
        let key = self.remote.at.lock_key();
        match self.remote.delete(&key, &held.etag) {
            Ok(()) => {}
            Err(e) if lost_race(&e) => eprintln!(
                "warning: the state lock {} was no longer this run's ({}) when it ended: it was removed with `ahi-edge state unlock`",
                held.holder.id, e
            ),
            Err(e) => eprintln!(
                "warning: could not release the state lock {} ({e}); remove it with `ahi-edge state unlock {}`",
                held.holder.id, held.holder.id
            ),
        }
    }
}

/// `PutObject` of the lock with `If-None-Match: *`; taken means exit 5
/// naming the holder.
fn acquire(remote: &Remote, holder: Holder) -> Result<Held, Error> {
    let key = remote.at.lock_key();
    let body = holder.to_json();
    for _ in 0..LOCK_ATTEMPTS {
        match remote.put(
            &key,
            &body,
            LOCK_TYPE,
            Condition::Absent,
            remote.at.kms_key_id.as_deref(),
        ) {
            Ok(etag) => return Ok(Held { holder, etag }),
            Err(e) if e.is("ConditionalRequestConflict") => continue,
            Err(e) if e.is("PreconditionFailed") => {
                match remote.get(&key).map_err(|e| explain(&remote.at, e))? {
                    // Our own first try landed and the SDK retried it.
                    Some(lock) if lock.body == body => {
                        return Ok(Held {
                            holder,
                            etag: lock.etag,
                        });
                    }
                    Some(lock) => return Err(locked(remote, &lock)),
                    // Released meanwhile: try again.
                    None => continue,
                }
            }
            Err(e) => return Err(explain(&remote.at, e)),
        }
    }
    Err(Error::io(
        format!("taking the state lock {}", remote.at.lock_key()),
        io::Error::other(format!(
            "the lock object kept changing during {LOCK_ATTEMPTS} attempts; run again"
        )),
    ))
}

/// Exit 5: who holds the lock, and the id `state unlock` needs.
fn locked(remote: &Remote, lock: &Object) -> Error {
    let (holder, lock_id) = describe(lock);
    Error::StateLocked {
        state: remote.at.url(),
        holder,
        lock_id,
    }
}

/// (who, id) of a lock object. One that is not ahi-edge's JSON is named by
/// its ETag, which `state unlock` then accepts.
fn describe(lock: &Object) -> (String, String) {
    match serde_json::from_str::<Holder>(&lock.body) {
        Ok(holder) => (holder.to_string(), holder.id),
        Err(_) => (
            "an unknown writer (the lock object is not ahi-edge's)".into(),
            lock.etag.trim_matches('"').to_string(),
        ),
    }
}

/// Reads a state document, as the local lockfile is read.
fn parse(url: &str, text: &str) -> Result<Lockfile, Error> {
    lockfile::parse(std::path::Path::new(url), text)
}

/// The state without the lock (`status`, `plan`, `outputs` work while a run
/// holds it). `None`: there is no state object.
pub fn read(at: &S3Location, aws: &AwsSettings) -> Result<Option<Lockfile>, Error> {
    let remote = Remote::connect(at.clone(), aws)?;
    match remote.get(&at.key).map_err(|e| explain(at, e))? {
        None => Ok(None),
        Some(object) => parse(&at.url(), &object.body).map(Some),
    }
}

/// The lock's holder, if the state is locked.
pub fn holder(at: &S3Location, aws: &AwsSettings) -> Result<Option<(String, String)>, Error> {
    let remote = Remote::connect(at.clone(), aws)?;
    Ok(remote
        .get(&at.lock_key())
        .map_err(|e| explain(at, e))?
        .as_ref()
        .map(describe))
}

/// The state bucket's safety warnings (versioning, Block Public Access).
pub fn safety(at: &S3Location, aws: &AwsSettings) -> Result<Vec<String>, Error> {
    Remote::connect(at.clone(), aws)?
        .safety()
        .map_err(|e| explain(at, e))
}

/// What `state unlock` found and did.
pub enum Unlocked {
    /// There was no lock.
    NotLocked,
    /// The lock held another id: nothing was changed.
    Other { holder: String, lock_id: String },
    /// Removed, after the state object was fenced.
    Removed { holder: String },
}

/// Removes the lock `lock_id` after fencing the state: the state object is
/// rewritten (same entries, a first comment line naming the break) with
/// `If-Match`, so the old holder's next write fails; then the lock is
/// deleted with `If-Match` on the ETag that was read. `confirm` sees the
/// holder first and may refuse.
pub fn unlock(
    at: &S3Location,
    aws: &AwsSettings,
    lock_id: &str,
    confirm: impl FnOnce(&str) -> Result<(), Error>,
) -> Result<Unlocked, Error> {
    let remote = Remote::connect(at.clone(), aws)?;
    let Some(lock) = remote.get(&at.lock_key()).map_err(|e| explain(at, e))? else {
        return Ok(Unlocked::NotLocked);
    };
    let (holder, id) = describe(&lock);
    if id != lock_id {
        return Ok(Unlocked::Other { holder, lock_id: id });
    }
    confirm(&holder)?;
    let stack = serde_json::from_str::<Holder>(&lock.body)
        .map(|h| h.stack)
        .unwrap_or_default();
    fence(&remote, lock_id, &stack)?;
    match remote.delete(&at.lock_key(), &lock.etag) {
        Ok(()) => Ok(Unlocked::Removed { holder }),
        // Its holder released it meanwhile: gone all the same.
        Err(e) if e.is("NoSuchKey") => Ok(Unlocked::Removed { holder }),
        Err(e) if lost_race(&e) => Err(Error::io(
            format!("removing the lock {}", at.lock_key()),
            io::Error::other(format!(
                "the lock changed while it was being removed ({e}): another run took it; see `ahi-edge state show`"
            )),
        )),
        Err(e) => Err(Error::Aws(e)),
    }
}

/// Rewrites the state object so its ETag changes (a first comment line,
/// which every reader ignores). With no state object yet, writes an empty
/// state of the lock's stack, so the old holder's first write (a create
/// with `If-None-Match: *`) fails too.
fn fence(remote: &Remote, lock_id: &str, stack: &str) -> Result<(), Error> {
    let key = &remote.at.key;
    let note = format!(
        "{FENCE} lock {lock_id} removed at {} by {}; the run that held it stops at its next state write\n",
        lockfile::now(),
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    );
    for _ in 0..LOCK_ATTEMPTS {
        let current = remote.get(key).map_err(Error::Aws)?;
        let (body, condition, kms) = match &current {
            Some(object) => {
                let rest: String = object
                    .body
                    .split_inclusive('\n')
                    .skip_while(|l| l.starts_with(FENCE))
                    .collect();
                (
                    format!("{note}{rest}"),
                    Condition::Matches(&object.etag),
                    object.kms_key_id.clone().or(remote.at.kms_key_id.clone()),
                )
            }
            None => {
                let empty = toml::to_string(&Lockfile::new(stack))
                    .map_err(|e| Error::io("encoding the state", io::Error::other(e)))?;
                (
                    format!("{note}{empty}"),
                    Condition::Absent,
                    remote.at.kms_key_id.clone(),
                )
            }
        };
        match remote.put(key, &body, STATE_TYPE, condition, kms.as_deref()) {
            Ok(_) => return Ok(()),
            // The holder wrote meanwhile: fence what it wrote.
            Err(e) if lost_race(&e) => continue,
            Err(e) => return Err(Error::Aws(e)),
        }
    }
    Err(Error::io(
        format!("fencing the state {}", remote.at.url()),
        io::Error::other("the state object kept changing; is its holder still running? run again"),
    ))
}

/// `state push`: writes `state` as the state object, under the target's
/// lock: refused when one exists unless `force` (and always when it holds
/// another stack's state).
pub fn push(at: &S3Location, aws: &AwsSettings, state: &Lockfile, force: bool) -> Result<(), Error> {
    let mut store = S3Store::open(at.clone(), aws, &state.stack, "state push")?;
    if store.etag.is_some() && !force {
        return Err(Error::Refused {
            path: PathBuf::from(at.url()),
            reason: format!(
                "already holds the state of stack {:?} ({} resource(s)); nothing was written",
                store.state.stack,
                store.state.resources.len()
            ),
            fix: "pull it first (`ahi-edge state pull --to FILE`) if it matters, then pass --force to replace it"
                .into(),
        });
    }
    let replacement = state.clone();
    store.change(move |s| *s = replacement)?;
    Ok(())
}
