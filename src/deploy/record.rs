//! The machine-readable record of one monitor run, `.deployment-status-<sha7>.json`: what
//! `status --json` prints and what the history-based schedule learns from.
//!
//! Written when the run starts (no `ended_at`, no verdict) and again when it ends. Times are
//! RFC 3339; durations are milliseconds since the run started.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How a deployment ended, as the `.result` file spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Success,
    Failed,
    Timeout,
    Superseded,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Success => "success",
            Verdict::Failed => "failed",
            Verdict::Timeout => "timeout",
            Verdict::Superseded => "superseded",
        }
    }

    pub fn parse(word: &str) -> Option<Verdict> {
        [
            Verdict::Success,
            Verdict::Failed,
            Verdict::Timeout,
            Verdict::Superseded,
        ]
        .into_iter()
        .find(|v| v.as_str() == word.trim())
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A phase a source reported, the first time it reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    pub source: String,
    pub phase: String,
    pub at_ms: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub sha: String,
    /// The monitor's process id.
    pub pid: u32,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub verdict: Option<Verdict>,
    /// The schedule used, as logged (`fixed`, `history: ...`).
    pub schedule: String,
    /// The source whose answer decided the verdict.
    pub source: Option<String>,
    /// Poll rounds made (each asks every source once).
    pub polls: u32,
    pub phases: Vec<Phase>,
    /// From the start of the run until a source reported this sha live.
    pub live_after_ms: Option<u64>,
    /// The later commit this one went live through (it contains this one), when not itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_through: Option<String>,
    /// The poll before that one, when the sources still said pending: the deployment went live
    /// between the two.
    #[serde(default)]
    pub last_pending_ms: Option<u64>,
    /// From the live verdict until the readiness check passed.
    pub ready_after_ms: Option<u64>,
    /// Why the verdict is not success, or why nothing was followed.
    pub error: Option<String>,
    /// The deploy branch the run followed; absent in records written before it was kept.
    pub branch: Option<String>,
    /// True once the alert about the verdict reached the webhook.
    #[serde(default)]
    pub alert_sent: bool,
}

impl Record {
    pub fn load(worktree: &Path, sha: &str) -> Option<Record> {
        let path = super::files::record_path(worktree, sha);
        let bytes = crate::file::read(&path, crate::file::SMALL).ok()??;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn save(&self, worktree: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self).expect("a record always serializes");
        super::files::write_atomic(&super::files::record_path(worktree, &self.sha), &json)
    }
}

/// Every readable run record in the work tree, in no particular order: the local run history.
/// Unreadable records are skipped; `mainstay cleanup` removes old ones. So are records git
/// tracks (a commit put them there, to steer the schedule or the figures), and all of them when
/// git cannot say which it tracks.
pub fn load_all(worktree: &Path) -> Vec<Record> {
    let Ok(tracked) = super::files::tracked_all(worktree) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(worktree) else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name();
            let name = name.to_str()?;
            if !name.ends_with(".json") || tracked.contains(&entry.path()) {
                return None;
            }
            Record::load(worktree, super::files::sha7_of(name)?)
        })
        .collect()
}

/// How long past deployments took to go live, from the records in the work tree, newest first:
/// the middle of the last two polls, so a sparse schedule does not inflate the next estimate.
pub fn local_history(worktree: &Path, limit: usize) -> Vec<Duration> {
    let mut runs: Vec<(String, Duration)> = load_all(worktree)
        .into_iter()
        .filter_map(|record| {
            let live = record
                .live_after_ms
                .filter(|_| record.verdict == Some(Verdict::Success))?;
            let pending = record.last_pending_ms.unwrap_or(live).min(live);
            Some((
                record.started_at,
                Duration::from_millis((live + pending) / 2),
            ))
        })
        .collect();
    runs.sort_by(|a, b| b.0.cmp(&a.0));
    runs.into_iter().take(limit).map(|(_, d)| d).collect()
}
