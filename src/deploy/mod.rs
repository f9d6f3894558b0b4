//! The deployment monitor: follows one pushed commit to a verdict.
//!
//! One monitor per sha: it holds an OS file lock on `.deployment-monitor-<sha7>.lock` for its
//! whole life ([`lock`]). It asks every configured source ([`sources`]) on a [`schedule`] until
//! one gives a definitive answer, checks [`readiness`] after a live answer, then writes the status
//! files ([`files`], [`record`]) and sends an alert ([`alerts`]) when the verdict is not success.
//! Time, sleeping and jitter come in through [`clock`], so all of it runs in tests without
//! waiting.

use std::path::Path;

pub mod alerts;
pub mod files;
pub mod follow;
pub mod http;
pub mod lock;
pub mod monitor;
pub mod readiness;
pub mod record;
pub mod schedule;
pub mod secrets;
pub mod settings;
pub mod sources;
pub mod status;

pub use files::{lock_path, log_path, result_path, sha7};
pub use record::Verdict;
pub use secrets::Secrets;
pub use settings::Settings;

pub use follow::{Decision, Followed, Progress, follow};

use crate::clock::{Clock, Jitter};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{sha:?} is not a commit id (4 to 64 hex digits)")]
    BadSha { sha: String },
    #[error(transparent)]
    Lock(#[from] lock::Error),
    #[error(transparent)]
    Unsafe(#[from] files::Unsafe),
    #[error("cannot write the status files in {}: {source}", dir.display())]
    Files {
        dir: std::path::PathBuf,
        source: std::io::Error,
    },
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

/// What the monitor is told: `[deploy]` and `[alerts]`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub settings: Settings,
    pub alerts: alerts::Settings,
}

/// What the monitor works with besides its options: the seams and the secrets.
pub struct Context<'a> {
    pub worktree: &'a Path,
    pub secrets: &'a Secrets,
    pub clock: &'a dyn Clock,
    pub jitter: Jitter,
    /// True when commit `ancestor` is contained in commit `descendant`.
    pub contains: &'a dyn Fn(&str, &str) -> bool,
}

/// How a monitor run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Another live monitor already follows this sha; this one did nothing.
    AlreadyRunning,
    /// No deployment source is configured, so there is nothing to follow.
    NothingToFollow,
    Verdict(Verdict),
}

/// Commit ancestry through `git merge-base --is-ancestor`, in `worktree`.
pub fn git_contains(worktree: &Path) -> impl Fn(&str, &str) -> bool + '_ {
    move |ancestor, descendant| {
        let valid = |s: &str| validate_sha(s).is_ok();
        valid(ancestor)
            && valid(descendant)
            && crate::git::Git::new(worktree)
                .is_ancestor(ancestor, descendant)
                .unwrap_or(false)
    }
}
