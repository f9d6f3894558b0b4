//! mainstay's own files under `<git common dir>/mainstay/`, shared by every worktree of a clone.
//! This module is the one place their names are spelled:
//!
//! - `audit.jsonl`: force pushes on agent branches and overrides (see [`crate::policy::audit`]);
//! - `conflicts.jsonl`: what a person must resolve, from the merge driver and from
//!   `mainstay push`, one [`Conflict`] per line;
//! - `post-push.log`: what each post-push decided;
//! - `install.json`: what `install-hooks` changed, so it can be undone;
//! - `history-<source>.json`: past deployments a deployment source has read and that ended, so
//!   the next run need not ask again (`history-github.json`, see
//!   `deploy::sources::github`); a cache, rewritten whole, any run may drop it;
//! - `park-salt`: random, made once per clone: what makes `mainstay push`'s parked change ids
//!   differ between clones (see `push::park`).
//!
//! The logs are appended with one `write` of whole lines to a file opened in append mode, so
//! hooks and agents writing at the same time never interleave inside a line.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

#[derive(Debug, thiserror::Error)]
#[error("cannot append to {}: {source}", path.display())]
pub struct Error {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// `<git common dir>/mainstay`.
pub fn dir(common_dir: &Path) -> PathBuf {
    common_dir.join("mainstay")
}

pub fn audit_log(common_dir: &Path) -> PathBuf {
    dir(common_dir).join("audit.jsonl")
}

pub fn conflict_log(common_dir: &Path) -> PathBuf {
    dir(common_dir).join("conflicts.jsonl")
}

pub fn post_push_log(common_dir: &Path) -> PathBuf {
    dir(common_dir).join("post-push.log")
}

pub fn install_manifest(common_dir: &Path) -> PathBuf {
    dir(common_dir).join("install.json")
}

/// The past deployments `source` (a kind's name) remembers between runs.
pub fn history_cache(common_dir: &Path, source: &str) -> PathBuf {
    dir(common_dir).join(format!("history-{source}.json"))
}

pub fn park_salt(common_dir: &Path) -> PathBuf {
    dir(common_dir).join("park-salt")
}

/// One line of `conflicts.jsonl`, whoever found the conflict:
/// `{"time":…,"source":"merge-driver","file":"docs/ROADMAP.md","keys":["Section","ST-005"]}`, or
/// from `mainstay push`, `{"time":…,"source":"mainstay push","file":"x","branch":"main"}`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Conflict {
    pub time: String,
    /// `merge-driver` or `mainstay push`.
    pub source: &'static str,
    /// The file's path in the repository.
    pub file: String,
    /// The branch being pushed, for `mainstay push`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Where in a ledger the entry is: enclosing sections' keys, then the entry's own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
}

/// Appends conflicts to `conflicts.jsonl`.
pub fn log_conflicts(common_dir: &Path, conflicts: &[Conflict]) -> Result<(), Error> {
    append(&conflict_log(common_dir), conflicts)
}

/// Appends one line per record, creating the directory if needed.
pub fn append<T: Serialize>(path: &Path, records: &[T]) -> Result<(), Error> {
    if records.is_empty() {
        return Ok(());
    }
    let fail = |source| Error {
        path: path.to_owned(),
        source,
    };
    let mut text = String::new();
    for record in records {
        let line = serde_json::to_string(record).map_err(|e| fail(std::io::Error::other(e)))?;
        text.push_str(&line);
        text.push('\n');
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    crate::file::open_append(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_one_line_per_conflict_in_one_schema() {
        let dir = tempfile::tempdir().expect("temp dir");
        let driver = Conflict {
            time: "1970-01-01T00:00:00.000Z".to_owned(),
            source: "merge-driver",
            file: "a.md".to_owned(),
            branch: None,
            keys: vec!["Currently Working".into(), "Session-1".into()],
        };
        let push = Conflict {
            source: "mainstay push",
            branch: Some("main".to_owned()),
            keys: Vec::new(),
            ..driver.clone()
        };
        log_conflicts(dir.path(), &[driver]).expect("append");
        log_conflicts(dir.path(), &[push]).expect("append");
        let text = std::fs::read_to_string(conflict_log(dir.path())).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                r#"{"time":"1970-01-01T00:00:00.000Z","source":"merge-driver","file":"a.md","keys":["Currently Working","Session-1"]}"#,
                r#"{"time":"1970-01-01T00:00:00.000Z","source":"mainstay push","file":"a.md","branch":"main"}"#,
            ]
        );
    }
}
