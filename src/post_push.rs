//! The post-push trigger. Git has no post-push hook, so `pre-push` starts `post-push` detached and
//! hands it a [`Handoff`]; `post-push` waits for the `git push` process to end, decides for each
//! deploy-branch ref whether the push landed, and starts one detached monitor per landed sha.
//!
//! Landed means the remote-tracking ref moved to the pushed sha, or, with no tracking ref (a push
//! to a URL) or one that did not move, that `git ls-remote` shows the sha on the remote. A
//! rejected push, a `--dry-run` and a failed connection leave both unchanged, so nothing fires.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::deploy::lock::{self, MonitorLock};
use crate::detach;
use crate::git::{self, Git};

/// The environment variable that carries the remote to `post-push`: it may be a URL with
/// credentials, which must never reach argv.
pub const REMOTE_VAR: &str = "MAINSTAY_PUSH_REMOTE";

/// What `pre-push` tells `post-push`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    /// The `git push` process to wait for.
    pub push_pid: u32,
    /// The remote's name, or its URL.
    pub remote: String,
    pub refs: Vec<PushedRef>,
}

/// One deploy-branch ref in the push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRef {
    /// The branch on the remote, e.g. `main`.
    pub branch: String,
    pub sha: String,
    /// The remote-tracking ref's value before the push, if there was one.
    pub tracking_before: Option<String>,
}

impl PushedRef {
    /// `branch=sha[@tracking-before]`, the argv form (no secrets in it).
    pub fn to_arg(&self) -> String {
        match &self.tracking_before {
            Some(before) => format!("{}={}@{before}", self.branch, self.sha),
            None => format!("{}={}", self.branch, self.sha),
        }
    }

    pub fn parse_arg(arg: &str) -> Result<PushedRef, Error> {
        let bad = || Error::BadRef {
            arg: arg.to_owned(),
        };
        let (branch, rest) = arg.split_once('=').ok_or_else(bad)?;
        let (sha, before) = match rest.split_once('@') {
            Some((sha, before)) => (sha, Some(before.to_owned())),
            None => (rest, None),
        };
        let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
        if branch.is_empty() || !hex(sha) || before.as_deref().is_some_and(|b| !hex(b)) {
            return Err(bad());
        }
        Ok(PushedRef {
            branch: branch.to_owned(),
            sha: sha.to_owned(),
            tracking_before: before,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{arg:?} is not `<branch>=<sha>[@<sha>]`")]
    BadRef { arg: String },
    #[error("cannot start `{}`: {source}", program.display())]
    Spawn {
        program: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the status log {}: {source}", path.display())]
    Log {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Git(#[from] git::Error),
}

/// Starts `post-push` detached with the handoff; returns at once. Its process first takes the
/// monitor lock of the first ref's sha: at once when the lock file exists (a re-pushed sha, whose
/// old verdict `status` must not show while the new push runs), else creating it once `git push`
/// has exited (a new sha has no verdict to hide, and a new file slows the push). A live monitor of
/// that sha keeps its lock, and goes on, as a second start would. The process waits, an idle copy
/// of `pre-push`, for `git push` to exit before `post-push` itself starts.
///
/// It runs in the work tree with the repository named absolutely (`git_dir`, `worktree`): a
/// `GIT_DIR` or `GIT_WORK_TREE` git handed the hook may be relative to where `git push` started,
/// and post-push and the monitor it starts inherit what they are given.
pub fn start(
    program: &Path,
    handoff: &Handoff,
    git_dir: &Path,
    worktree: &Path,
) -> Result<u32, Error> {
    let mut cmd = Command::new(program);
    cmd.current_dir(worktree)
        .env("GIT_DIR", git_dir)
        .env("GIT_WORK_TREE", worktree)
        .arg("--pid")
        .arg(handoff.push_pid.to_string())
        .args(handoff.refs.iter().map(PushedRef::to_arg))
        .env(REMOTE_VAR, &handoff.remote);
    let lock_path = handoff
        .refs
        .first()
        .map(|first| crate::deploy::lock_path(worktree, &first.sha));
    let how = detach::Detach {
        lock: lock_path.as_deref().map(|path| detach::LockHandoff {
            var: lock::HANDOFF_VAR,
            from: detach::LockFrom::File(path),
        }),
        after_exit_of: Some(handoff.push_pid),
        ..Default::default()
    };
    detach::spawn(&cmd, how).map_err(|source| Error::Spawn {
        program: program.to_owned(),
        source,
    })
}

/// The file saying which sha `pre-push` handed on for the `git push` process `pid`. git runs
/// `pre-push` once per push URL (two `pushurl`s, two runs), and one hand-off serves them all;
/// `post-push` removes it once that push has ended.
pub fn handoff_marker(common_dir: &Path, pid: u32) -> PathBuf {
    crate::state::dir(common_dir).join(format!("handoff-{pid}"))
}

/// Claims the hand-off of `sha` for the `git push` process `pid`: `false` when an earlier run of
/// `pre-push` for the same push has handed it on already.
pub fn claim_handoff(common_dir: &Path, pid: u32, sha: &str) -> bool {
    use std::io::Write;
    let path = handoff_marker(common_dir, pid);
    let create = || {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
    };
    // The directory is there after the first push: made only when it is not.
    let created = match create() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let _ = std::fs::create_dir_all(crate::state::dir(common_dir));
            create()
        }
        other => other,
    };
    match created {
        Ok(mut file) => {
            let _ = file.write_all(sha.as_bytes());
            true
        }
        // git runs the URLs one after another, so the first run has written its sha; another
        // sha was left by an earlier push whose pid this one reuses.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if crate::file::read_text(&path, 128).ok().flatten().as_deref() == Some(sha) {
                return false;
            }
            let _ = std::fs::write(&path, sha);
            true
        }
        // Following twice is better than not at all.
        Err(_) => true,
    }
}

/// What `post-push` did for one ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fired {
    /// The push landed and a monitor was started for the sha.
    Monitor { sha: String, pid: u32 },
    /// The remote does not have the sha: the push was rejected, failed or was a dry run.
    NotLanded { sha: String },
    /// It landed, but its status files cannot be used safely (see
    /// [`crate::deploy::files::check_safe`]): no monitor was started.
    Refused { sha: String, reason: String },
}

/// The whole of `post-push` once the push has ended (the caller waits): confirm, start monitors.
pub fn run(
    git: &Git,
    worktree: &Path,
    mainstay: &Path,
    handoff: &Handoff,
) -> Result<Vec<Fired>, Error> {
    let mut fired = Vec::new();
    // Taken by pre-push's forked copy (see `start_post_push`), so `status` says "in progress"
    // until the monitor has it; a push that did not land lets it go when this process ends.
    let mut lock = handoff
        .refs
        .first()
        .and_then(|first| Some((first.sha.as_str(), lock::handed_over(worktree, &first.sha)?)));
    for pushed in &handoff.refs {
        if !landed(git, &handoff.remote, pushed)? {
            fired.push(Fired::NotLanded {
                sha: pushed.sha.clone(),
            });
            continue;
        }
        let held = lock
            .take_if(|(sha, _)| *sha == pushed.sha)
            .map(|(_, held)| held);
        if let Err(reason) = crate::deploy::files::check_safe(worktree, &pushed.sha) {
            fired.push(Fired::Refused {
                sha: pushed.sha.clone(),
                reason: reason.to_string(),
            });
            continue;
        }
        let pid = start_monitor(mainstay, worktree, &pushed.sha, held.as_ref())?;
        fired.push(Fired::Monitor {
            sha: pushed.sha.clone(),
            pid,
        });
    }
    Ok(fired)
}

/// The remote-tracking ref that `git push` to a named remote updates, e.g. `refs/remotes/origin/main`.
pub fn tracking_ref(remote: &str, branch: &str) -> String {
    format!("refs/remotes/{remote}/{branch}")
}

fn landed(git: &Git, remote: &str, pushed: &PushedRef) -> Result<bool, Error> {
    // A URL has no tracking ref (`mainstay-url` has none), so ls-remote answers.
    let (git, remote) = git.remote(remote);
    let remote = remote.as_str();
    let tracking = git.output([
        "rev-parse",
        "--verify",
        "--quiet",
        &tracking_ref(remote, &pushed.branch),
    ])?;
    let now = String::from_utf8_lossy(&tracking.stdout).trim().to_owned();
    let moved =
        tracking.status.success() && pushed.tracking_before.as_deref() != Some(now.as_str());
    if moved && now == pushed.sha {
        return Ok(true);
    }
    let refname = format!("refs/heads/{}", pushed.branch);
    let listing = git.run(["ls-remote", "--", remote, &refname])?;
    Ok(listing.lines().any(|l| {
        l.split_whitespace().collect::<Vec<_>>() == [pushed.sha.as_str(), refname.as_str()]
    }))
}

/// Opens `post-push`'s own log for appending; a sink when it cannot be opened, since a detached
/// process has nowhere else to report.
pub fn open_log(path: &Path) -> Box<dyn std::io::Write> {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match crate::file::open_append(path) {
        Ok(file) => Box::new(file),
        Err(_) => Box::new(std::io::sink()),
    }
}

/// Starts `mainstay monitor <sha>` detached, its output appended to the status log, handing it
/// the sha's monitor lock if this process holds it.
pub fn start_monitor(
    mainstay: &Path,
    worktree: &Path,
    sha: &str,
    lock: Option<&MonitorLock>,
) -> Result<u32, Error> {
    let path = crate::deploy::log_path(worktree, sha);
    let log = crate::file::open_append(&path).map_err(|source| Error::Log {
        path: path.clone(),
        source,
    })?;
    let mut cmd = Command::new(mainstay);
    // The remote may be a URL with a password: the monitor has no use for it.
    cmd.current_dir(worktree)
        .args(["monitor", sha])
        .env_remove(REMOTE_VAR);
    let how = detach::Detach {
        output: Some(&log),
        lock: lock.map(MonitorLock::handoff),
        ..Default::default()
    };
    detach::spawn(&cmd, how).map_err(|source| Error::Spawn {
        program: mainstay.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushed_ref_round_trips() {
        for arg in ["main=abc123", "main=abc123@def456", "release/x=ff"] {
            assert_eq!(PushedRef::parse_arg(arg).expect(arg).to_arg(), arg);
        }
        for bad in ["main", "=abc", "main=xyz", "main=ab@", "main=ab@zz"] {
            assert!(PushedRef::parse_arg(bad).is_err(), "{bad}");
        }
    }
}
