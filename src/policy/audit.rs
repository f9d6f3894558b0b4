//! The audit log: one JSON object per line in `<git common dir>/mainstay/audit.jsonl`.
//!
//! Fields: `time` (RFC 3339 UTC), `event` (`force-push` or `override`), `user`, `remote`, `ref`,
//! `old`, `new` and, for overrides, `reason` and `refused`. Lines are appended with a single
//! write, so concurrent hooks do not interleave records.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Refusal, Update};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Record {
    pub time: String,
    pub event: &'static str,
    pub user: String,
    pub remote: String,
    #[serde(rename = "ref")]
    pub reference: String,
    pub old: Option<String>,
    pub new: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

impl Record {
    pub(super) fn force_push(remote: &str, update: &Update) -> Record {
        Record {
            time: crate::time::now(),
            event: "force-push",
            user: String::new(),
            remote: remote.to_owned(),
            reference: update.remote_ref.clone(),
            old: update.remote.map(|id| id.to_string()),
            new: update.local.map(|id| id.to_string()),
            reason: None,
            refused: None,
        }
    }

    pub(super) fn overridden(remote: &str, refusal: &Refusal, reason: &str) -> Record {
        Record {
            time: crate::time::now(),
            event: "override",
            user: String::new(),
            remote: remote.to_owned(),
            reference: String::new(),
            old: None,
            new: None,
            reason: Some(reason.to_owned()),
            refused: Some(refusal.to_string()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot append to the audit log {}: {source}", path.display())]
pub struct Error {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// The audit log's path inside a git common dir.
pub fn path(common_dir: &Path) -> PathBuf {
    common_dir.join("mainstay").join("audit.jsonl")
}

/// Appends records, stamping each with `user`.
pub fn append(common_dir: &Path, user: &str, records: &[Record]) -> Result<(), Error> {
    if records.is_empty() {
        return Ok(());
    }
    let path = path(common_dir);
    let fail = |source| Error {
        path: path.clone(),
        source,
    };
    let mut text = String::new();
    for record in records {
        let mut record = record.clone();
        record.user = user.to_owned();
        let line = serde_json::to_string(&record).expect("a record of strings always serializes");
        text.push_str(&line);
        text.push('\n');
    }
    std::fs::create_dir_all(path.parent().expect("the log path has a parent")).map_err(fail)?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(fail)?;
    file.write_all(text.as_bytes()).map_err(fail)
}
