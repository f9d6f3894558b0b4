//! One monitor per sha: an OS file lock on `.deployment-monitor-<sha7>.lock`, held for the
//! monitor's whole life. The kernel drops it when the process dies however it dies, so a lock is
//! never stale and nothing guesses from pids.

use std::fs::{File, TryLockError};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
#[error("cannot use the monitor lock {}: {source}", path.display())]
pub struct Error {
    path: PathBuf,
    source: std::io::Error,
}

/// Holds the per-sha lock while alive.
#[derive(Debug)]
pub struct MonitorLock {
    _file: File,
}

/// The environment variable naming the descriptor of a lock handed to a child process.
pub const HANDOFF_VAR: &str = "MAINSTAY_LOCK_FD";

impl MonitorLock {
    /// This lock, for a process started with [`crate::detach::spawn`] to take over: held from
    /// the push on (see [`crate::post_push::start`]), so a re-pushed sha never shows its
    /// old verdict while `post-push` and the new monitor start.
    pub fn handoff(&self) -> crate::detach::LockHandoff<'_> {
        crate::detach::LockHandoff {
            var: HANDOFF_VAR,
            from: crate::detach::LockFrom::Held(self._file.as_fd()),
        }
    }
}

/// The lock of `sha` if the parent handed it over (see [`crate::detach::LockHandoff`]).
pub fn handed_over(worktree: &Path, sha: &str) -> Option<MonitorLock> {
    use std::os::unix::fs::MetadataExt;
    let file = crate::detach::inherited(HANDOFF_VAR)?;
    let (held, wanted) = (
        file.metadata().ok()?,
        std::fs::symlink_metadata(super::files::lock_path(worktree, sha)).ok()?,
    );
    (held.dev() == wanted.dev() && held.ino() == wanted.ino())
        .then_some(MonitorLock { _file: file })
}

/// Takes the per-sha lock; `None` when a live monitor holds it.
///
/// A `status` probe holds the lock for a moment, so a few quick retries tell a probe from a
/// monitor before giving up.
pub fn acquire(worktree: &Path, sha: &str) -> Result<Option<MonitorLock>, Error> {
    for attempt in 0..5 {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Some(lock) = try_acquire(worktree, sha)? {
            return Ok(Some(lock));
        }
    }
    Ok(None)
}

/// Takes the per-sha lock without waiting; `None` when someone holds it.
pub fn try_acquire(worktree: &Path, sha: &str) -> Result<Option<MonitorLock>, Error> {
    let path = super::files::lock_path(worktree, sha);
    let file = crate::file::open_lock(&path).map_err(|source| Error {
        path: path.clone(),
        source,
    })?;
    match file.try_lock() {
        Ok(()) => Ok(Some(MonitorLock { _file: file })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(source)) => Err(Error { path, source }),
    }
}

/// True when a live monitor holds the lock of this sha7 (a missing lock file is not held).
pub fn is_held(worktree: &Path, sha: &str) -> Result<bool, Error> {
    let path = super::files::lock_path(worktree, sha);
    let file = match crate::file::open_existing(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(source) => return Err(Error { path, source }),
    };
    // Shared, so two probes never take each other for a monitor; released on drop.
    match file.try_lock_shared() {
        Ok(()) => Ok(false),
        Err(TryLockError::WouldBlock) => Ok(true),
        Err(TryLockError::Error(source)) => Err(Error { path, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_released_on_drop() {
        let dir = tempfile::tempdir().expect("temp dir");
        let sha = "0123456789abcdef";
        assert!(!is_held(dir.path(), sha).expect("probe"));
        let lock = try_acquire(dir.path(), sha).expect("lock").expect("free");
        assert!(is_held(dir.path(), sha).expect("probe"));
        assert!(try_acquire(dir.path(), sha).expect("lock").is_none());
        drop(lock);
        assert!(!is_held(dir.path(), sha).expect("probe"));
        assert!(try_acquire(dir.path(), sha).expect("lock").is_some());
    }
}
