//! Reading and atomically writing the lockfile.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::{Lockfile, RunLock, SCHEMA};
use crate::error::Error;

/// Reads a lockfile without locking it (for read-only commands). `None` when
/// there is no file. A file that cannot be read as a lockfile is an error
/// naming the path and the parse error (exit 2), never a silent reset.
pub fn read(path: &Path) -> Result<Option<Lockfile>, Error> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(format!("reading lockfile {}", path.display()), e)),
    };
    parse(path, &text).map(Some)
}

/// Reads a lockfile document; `path` names where it came from (a file, or
/// an `s3://` URL) in errors.
pub fn parse(path: &Path, text: &str) -> Result<Lockfile, Error> {
    let corrupt = |detail: String| Error::LockfileCorrupt {
        path: path.to_path_buf(),
        detail,
    };
    // The schema is checked before the full parse, so a newer file is refused
    // as newer rather than reported as full of unknown keys.
    let table: toml::Table = toml::from_str(text).map_err(|e| corrupt(one_line(&e.to_string())))?;
    match table.get("schema").and_then(toml::Value::as_integer) {
        None => return Err(corrupt("`schema` is missing or not a number".into())),
        Some(found) if found > i64::from(SCHEMA) => {
            return Err(Error::LockfileNewer {
                path: path.to_path_buf(),
                found,
                supported: SCHEMA,
            });
        }
        Some(found) if found < 1 => {
            return Err(corrupt(format!("schema = {found} is not a valid schema")));
        }
        Some(1) => {
            return super::migrate::from_v1(text).map_err(|e| corrupt(one_line(&e.to_string())));
        }
        Some(_) => {}
    }
    toml::from_str(text).map_err(|e| corrupt(one_line(&e.to_string())))
}

/// Where a migrated lockfile's original is kept.
pub fn backup_path(path: &Path, schema: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".schema{schema}.bak"));
    PathBuf::from(name)
}

/// TOML errors span several lines with a source excerpt; keep the gist.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('|'))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes `bytes` to `path` so that a crash at any instant leaves either the
/// old file or the new one, never a mix: temp file in the same directory,
/// fsync, rename over the target, fsync the directory. Mode 0600.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let staged = Staged::write(path, bytes)?;
    staged.commit()
}

/// A new file, mode 0600, created only if nothing (not even a dangling
/// symbolic link) is at `path`, and never through a link.
fn create_private(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// A fully written temp file not yet renamed into place.
pub(super) struct Staged {
    temp: PathBuf,
    target: PathBuf,
}

impl Staged {
    pub(super) fn write(target: &Path, bytes: &[u8]) -> io::Result<Staged> {
        let name = target
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "lockfile path has no file name"))?;
        // A name nobody can guess beforehand, created only if it does not
        // exist (O_EXCL) and never through a symbolic link (O_NOFOLLOW): a
        // link planted in the lockfile's directory cannot redirect the write.
        let mut random = [0u8; 8];
        getrandom::fill(&mut random)
            .map_err(|e| io::Error::other(format!("no randomness for a temp name: {e}")))?;
        let random: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".tmp-{}-{random}", std::process::id()));
        let temp = target.with_file_name(temp_name);
        let mut file = create_private(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        Ok(Staged {
            temp,
            target: target.to_path_buf(),
        })
    }

    pub(super) fn commit(self) -> io::Result<()> {
        fs::rename(&self.temp, &self.target)?;
        let dir = match self.target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()
    }
}

/// The lockfile of one run: locked for the run's lifetime, saved atomically
/// after every change.
#[derive(Debug)]
pub struct StateStore {
    path: PathBuf,
    lock: RunLock,
    state: Lockfile,
}

impl StateStore {
    /// Locks `path` (exit 5 if another run holds it), then reads it, or starts
    /// an empty one for `stack` (written on the first change). Refuses a
    /// lockfile of another stack.
    pub fn open(path: &Path, stack: &str) -> Result<StateStore, Error> {
        let lock = RunLock::acquire(path)?;
        let state = match read(path)? {
            Some(state) if state.stack != stack => {
                return Err(Error::LockfileStackMismatch {
                    path: path.to_path_buf(),
                    found: state.stack,
                    expected: stack.to_string(),
                });
            }
            Some(state) => state,
            None => Lockfile::new(stack),
        };
        Ok(StateStore {
            path: path.to_path_buf(),
            lock,
            state,
        })
    }

    /// Locks and reads an existing lockfile whatever stack it belongs to
    /// (`down` works from the lockfile alone). `None` when there is none.
    pub fn open_existing(path: &Path) -> Result<Option<StateStore>, Error> {
        let lock = RunLock::acquire(path)?;
        Ok(read(path)?.map(|state| StateStore {
            path: path.to_path_buf(),
            lock,
            state,
        }))
    }

    pub fn state(&self) -> &Lockfile {
        &self.state
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn lock_path(&self) -> &Path {
        self.lock.path()
    }

    /// Applies one change and saves it before returning, so what is on disk
    /// is never behind what was done in AWS.
    pub fn change<R>(&mut self, f: impl FnOnce(&mut Lockfile) -> R) -> Result<R, Error> {
        if let Some(old) = self.state.migrated_from {
            // Keep the file as the older ahi-edge wrote it, once.
            let backup = backup_path(&self.path, old);
            if !backup.exists() {
                fs::copy(&self.path, &backup)
                    .map_err(|e| Error::io(format!("keeping a backup at {}", backup.display()), e))?;
            }
        }
        let mut next = self.state.clone();
        next.migrated_from = None;
        let result = f(&mut next);
        next.updated_at = super::now();
        next.tool_version = env!("CARGO_PKG_VERSION").to_string();
        let text = toml::to_string(&next).map_err(|e| Error::io("encoding lockfile", io::Error::other(e)))?;
        write_atomic(&self.path, text.as_bytes())
            .map_err(|e| Error::io(format!("writing lockfile {}", self.path.display()), e))?;
        self.state = next;
        Ok(result)
    }

    /// Removes the lockfile once the stack is gone, so `status` reports nothing deployed.
    pub fn remove(self) -> Result<(), Error> {
        // The lock file goes too; we still hold the lock while removing it.
        let _ = fs::remove_file(self.lock.path());
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(format!("removing lockfile {}", self.path.display()), e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn writes_are_atomic_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stack.lock");
        let mut store = StateStore::open(&path, "ahi-prod").unwrap();
        assert!(!path.exists(), "nothing is written before the first change");
        store
            .change(|l| l.record_intent("vpc", "ec2-vpc", "us-east-1", "tok-1", &[]))
            .unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let on_disk = read(&path).unwrap().unwrap();
        assert_eq!(on_disk.resources["vpc"].token.as_deref(), Some("tok-1"));
        drop(store);
        // A fresh open reads what the last run saved.
        let again = StateStore::open(&path, "ahi-prod").unwrap();
        assert_eq!(again.state().resources.len(), 1);
    }

    #[test]
    fn a_write_interrupted_before_rename_leaves_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stack.lock");
        let mut store = StateStore::open(&path, "ahi-prod").unwrap();
        store
            .change(|l| l.record_intent("vpc", "ec2-vpc", "us-east-1", "tok-1", &[]))
            .unwrap();
        let before = fs::read(&path).unwrap();

        // The process dies after writing the temp file, before the rename.
        let staged = Staged::write(&path, b"schema = 1\nstack = \"half").unwrap();
        let temp = staged.temp.clone();
        std::mem::forget(staged);

        assert!(temp.exists());
        assert_eq!(fs::read(&path).unwrap(), before);
        assert_eq!(read(&path).unwrap().unwrap().resources.len(), 1);
        // The next save (under a new temp name) succeeds.
        store
            .change(|l| l.record_intent("igw", "ec2-igw", "us-east-1", "tok-2", &[]))
            .unwrap();
        assert_eq!(read(&path).unwrap().unwrap().resources.len(), 2);
    }

    #[test]
    fn a_symlink_planted_at_a_temp_path_cannot_redirect_the_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stack.lock");
        let victim = dir.path().join("victim");
        fs::write(&victim, "keep me").unwrap();
        // The name the old code used (pid only), and a planted link at it.
        let predictable = dir.path().join(format!(".stack.lock.tmp-{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &predictable).unwrap();
        let staged = Staged::write(&path, b"schema = 2").unwrap();
        assert_ne!(staged.temp, predictable, "the temp name is not predictable");
        staged.commit().unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep me");
        assert_eq!(fs::read_to_string(&path).unwrap(), "schema = 2");

        // Even a link at the very name chosen is refused, never followed.
        let temp = dir.path().join(".stack.lock.tmp-link");
        std::os::unix::fs::symlink(&victim, &temp).unwrap();
        let refused = create_private(&temp).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep me");
    }

    #[test]
    fn a_broken_file_is_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stack.lock");
        fs::write(&path, "schema = 1\nstack = \"ahi-prod\"\n[resources.vpc\n").unwrap();
        let err = StateStore::open(&path, "ahi-prod").unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(text.contains("line 3"), "{text}");
        assert_eq!(err.exit_status(), crate::error::ExitStatus::BadInput);
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "schema = 1\nstack = \"ahi-prod\"\n[resources.vpc\n"
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stack.lock");
        fs::write(&path, "schema = 3\nstack = \"ahi-prod\"\nfuture_key = 1\n").unwrap();
        let err = read(&path).unwrap_err();
        assert!(
            err.to_string()
                .contains("schema = 3 was written by a newer ahi-edge"),
            "{err}"
        );
        assert_eq!(err.exit_status(), crate::error::ExitStatus::BadInput);
    }

    #[test]
    fn another_stacks_lockfile_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stack.lock");
        let mut store = StateStore::open(&path, "ahi-a").unwrap();
        store.change(|_| ()).unwrap();
        drop(store);
        let err = StateStore::open(&path, "ahi-b").unwrap_err();
        assert!(
            err.to_string()
                .contains("belongs to stack \"ahi-a\", but the profile names stack \"ahi-b\""),
            "{err}"
        );
    }

    #[test]
    fn the_lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stack.lock");
        let first = StateStore::open(&path, "ahi-prod").unwrap();
        let err = StateStore::open(&path, "ahi-prod").unwrap_err();
        assert_eq!(err.exit_status(), crate::error::ExitStatus::Locked);
        assert!(
            err.to_string().contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        assert!(StateStore::open(&path, "ahi-prod").is_ok());
    }
}
