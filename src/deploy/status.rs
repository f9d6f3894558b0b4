//! `mainstay status` and `mainstay cleanup`: reading the status files of a sha back.
//!
//! The lock decides "in progress"; then the `.result` file decides the verdict. A run that left a
//! log or a record but holds no lock and wrote no result had its monitor die: it is reported as
//! such, never as in progress.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::clock::Clock;
use super::files::{self, log_path, read_if_exists, record_path, result_path};
use super::lock;
use super::record::{Record, Verdict};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Lock(#[from] lock::Error),
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot remove {}: {source}", path.display())]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where the deployment of a sha stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Done(Verdict),
    /// A live monitor holds the lock.
    InProgress,
    /// The monitor ended without a verdict: killed, or crashed.
    Died,
    /// The monitor ran but had nothing to follow (no source configured).
    NotFollowed,
    /// No monitor ever ran for this sha here.
    NotFound,
}

impl State {
    /// True when waiting longer cannot change the answer.
    pub fn is_final(self) -> bool {
        matches!(self, State::Done(_) | State::NotFollowed)
    }

    pub fn describe(self) -> &'static str {
        match self {
            State::Done(v) => v.as_str(),
            State::InProgress => "in progress",
            State::Died => "monitor died without a verdict",
            State::NotFollowed => "not followed",
            State::NotFound => "not found",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub sha: String,
    pub state: State,
    pub record: Option<Record>,
    /// The log's last lines, for failures and dead monitors.
    #[serde(skip)]
    pub log_tail: Vec<String>,
}

/// Reads the status files of `sha` (a full sha or at least its first seven digits).
pub fn inquire(worktree: &Path, sha: &str) -> Result<Report, Error> {
    let read = |path: PathBuf| {
        read_if_exists(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })
    };
    let held = lock::is_held(worktree, sha)?;
    let result = read(result_path(worktree, sha))?;
    let log = read(log_path(worktree, sha))?;
    let record = Record::load(worktree, sha);
    let state = if held {
        State::InProgress
    } else if let Some(verdict) = result.as_deref().and_then(Verdict::parse) {
        State::Done(verdict)
    } else if record
        .as_ref()
        .is_some_and(|r| r.ended_at.is_some() && r.verdict.is_none())
    {
        State::NotFollowed
    } else if record.is_some() || log.is_some() || record_path(worktree, sha).exists() {
        State::Died
    } else {
        State::NotFound
    };
    let log_tail = log
        .as_deref()
        .map(|text| {
            files::tail(text, 15)
                .into_iter()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(Report {
        sha: record
            .as_ref()
            .map_or_else(|| files::sha7(sha).to_owned(), |r| r.sha.clone()),
        state,
        record,
        log_tail,
    })
}

/// Inquires until the state is final or `limit` has passed, calling `tick` after each look.
///
/// A dead monitor counts as final only after a grace period: `post-push` creates the log a
/// moment before the monitor takes its lock.
pub fn wait(
    worktree: &Path,
    sha: &str,
    limit: Duration,
    clock: &dyn Clock,
    tick: &mut dyn FnMut(&Report),
) -> Result<Report, Error> {
    const GRACE: Duration = Duration::from_secs(2);
    const EVERY: Duration = Duration::from_millis(200);
    let start = clock.elapsed();
    let mut died_since = None;
    loop {
        let report = inquire(worktree, sha)?;
        tick(&report);
        let now = clock.elapsed();
        let dead_long_enough = if report.state == State::Died {
            now - *died_since.get_or_insert(now) >= GRACE
        } else {
            died_since = None;
            false
        };
        if report.state.is_final() || dead_long_enough || now - start >= limit {
            return Ok(report);
        }
        clock.sleep(EVERY.min(limit - (now - start)));
    }
}

/// Removes status files last changed before `now - older_than`, except those of a live monitor.
pub fn cleanup(
    worktree: &Path,
    older_than: Duration,
    now: SystemTime,
) -> Result<Vec<PathBuf>, Error> {
    let read_error = |source| Error::Read {
        path: worktree.to_owned(),
        source,
    };
    let cutoff = now
        .checked_sub(older_than)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut candidates = Vec::new();
    for entry in std::fs::read_dir(worktree).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let name = entry.file_name();
        let Some(sha7) = name.to_str().and_then(files::sha7_of) else {
            continue;
        };
        // A link or anything but a regular file at a status name is not ours to remove.
        let meta = entry.metadata().map_err(read_error)?;
        if !meta.is_file() || meta.modified().map_err(read_error)? >= cutoff {
            continue;
        }
        if !lock::is_held(worktree, sha7)? {
            candidates.push(entry.path());
        }
    }
    // Nor is a file git tracks: a commit put it there.
    let tracked = if candidates.is_empty() {
        Vec::new()
    } else {
        files::tracked(worktree, &candidates).map_err(|e| Error::Read {
            path: worktree.to_owned(),
            source: std::io::Error::other(e),
        })?
    };
    let mut removed = Vec::new();
    for path in candidates.into_iter().filter(|p| !tracked.contains(p)) {
        std::fs::remove_file(&path).map_err(|source| Error::Remove {
            path: path.clone(),
            source,
        })?;
        removed.push(path);
    }
    removed.sort();
    Ok(removed)
}
