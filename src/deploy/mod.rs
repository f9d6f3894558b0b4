//! The deployment monitor: follows one pushed commit to a verdict.
//!
//! One monitor per sha: it holds an OS file lock on `.deployment-monitor-<sha7>.lock` in the work
//! tree for its whole life (the kernel releases it when the process dies, so a lock is never
//! stale). Its stdout and stderr are the status log `.deployment-status-<sha7>.log`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// `[deploy]` in `.mainstay.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// The branch whose pushes are deployed and followed.
    pub branch: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            branch: "main".to_owned(),
        }
    }
}

impl Settings {
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        if self.branch.is_empty() || self.branch.contains(char::is_whitespace) {
            return Err((
                "deploy.branch".to_owned(),
                "must be a branch name".to_owned(),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{sha:?} is not a commit id (4 to 64 hex digits)")]
    BadSha { sha: String },
    #[error("cannot open the monitor lock {}: {source}", path.display())]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the status log: {0}")]
    Log(#[from] std::io::Error),
}

/// The first seven hex digits, as status file names use them.
pub fn sha7(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}

/// `.deployment-status-<sha7>.log` in the work tree.
pub fn log_path(worktree: &Path, sha: &str) -> PathBuf {
    worktree.join(format!(".deployment-status-{}.log", sha7(sha)))
}

/// `.deployment-monitor-<sha7>.lock` in the work tree.
pub fn lock_path(worktree: &Path, sha: &str) -> PathBuf {
    worktree.join(format!(".deployment-monitor-{}.lock", sha7(sha)))
}

/// Requires a plain hex commit id: it ends up in file names and queries.
pub fn validate_sha(sha: &str) -> Result<(), Error> {
    if (4..=64).contains(&sha.len()) && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(Error::BadSha {
            sha: sha.to_owned(),
        })
    }
}

/// How a monitor run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Another live monitor already follows this sha.
    AlreadyRunning,
    /// No deployment source is configured, so there is nothing to follow.
    NothingToFollow,
}

/// Holds the per-sha lock while alive.
#[derive(Debug)]
pub struct MonitorLock {
    _file: File,
}

/// Takes the per-sha lock without waiting; `None` when a live monitor holds it.
pub fn try_lock(worktree: &Path, sha: &str) -> Result<Option<MonitorLock>, Error> {
    let path = lock_path(worktree, sha);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| Error::Lock {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(Some(MonitorLock { _file: file })),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(source)) => Err(Error::Lock { path, source }),
    }
}

/// Follows `sha` to a verdict, writing timestamped lines to `log`.
pub fn monitor(
    worktree: &Path,
    sha: &str,
    settings: &Settings,
    log: &mut impl Write,
) -> Result<Outcome, Error> {
    validate_sha(sha)?;
    let Some(_lock) = try_lock(worktree, sha)? else {
        line(
            log,
            &format!("monitor for {sha} already running; this one exits"),
        )?;
        return Ok(Outcome::AlreadyRunning);
    };
    line(
        log,
        &format!(
            "monitoring deployment of {sha} (branch {})",
            settings.branch
        ),
    )?;
    line(log, "no deployment source is configured; nothing to follow")?;
    Ok(Outcome::NothingToFollow)
}

/// One timestamped log line.
pub fn line(log: &mut impl Write, text: &str) -> std::io::Result<()> {
    writeln!(log, "{} {text}", crate::time::now())?;
    log.flush()
}
