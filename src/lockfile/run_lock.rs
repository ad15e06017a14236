//! The exclusive advisory lock held for a whole run.
//!
//! The lock is taken on a sidecar file (`<lockfile>.pid`), not on the
//! lockfile itself, because atomic writes replace the lockfile's inode on
//! every save. The OS releases the lock when the process exits, however it
//! exits, so a killed run never leaves a stale lock. The sidecar holds the
//! holder's pid so a second run can say who is in the way.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::Error;

#[derive(Debug)]
pub struct RunLock {
    file: File,
    path: PathBuf,
}

impl RunLock {
    pub fn path_for(lockfile: &Path) -> PathBuf {
        let mut name = lockfile.as_os_str().to_os_string();
        name.push(".pid");
        PathBuf::from(name)
    }

    /// Takes the lock or fails at once (exit 5) naming the holder's pid.
    pub fn acquire(lockfile: &Path) -> Result<RunLock, Error> {
        let path = Self::path_for(lockfile);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| Error::io(format!("opening lock {}", path.display()), e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                // The holder writes its pid right after locking; an empty read
                // means we raced that write.
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                return Err(Error::LockHeld {
                    lockfile: lockfile.to_path_buf(),
                    lock: path,
                    pid: if pid.is_empty() {
                        "unknown".into()
                    } else {
                        pid.to_string()
                    },
                });
            }
            Err(TryLockError::Error(e)) => {
                return Err(Error::io(format!("locking {}", path.display()), e));
            }
        }
        let record = file
            .set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .and_then(|()| file.sync_all());
        record.map_err(|e| Error::io(format!("writing lock {}", path.display()), e))?;
        Ok(RunLock { file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Clear the pid so a leftover file does not suggest a live holder.
        // The file itself stays: unlinking it would let two runs lock two
        // different inodes under the same name.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}
