//! The audit log: one JSON object per line in `<git common dir>/mainstay/audit.jsonl`.
//!
//! Fields: `time` (RFC 3339 UTC), `event` (`force-push` or `override`), `user`, `remote`, `ref`,
//! `old`, `new` and, for overrides, `reason` and `refused`.

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
            remote: crate::text::without_credentials(remote).into_owned(),
            reference: update.remote_ref.clone(),
            old: update.remote.map(|id| id.to_string()),
            new: update.local.map(|id| id.to_string()),
            reason: None,
            refused: None,
        }
    }

    /// An update refused by `refusal` and let through by `MAINSTAY_OVERRIDE`, with its ref and
    /// both of its ids.
    pub(super) fn overridden(
        remote: &str,
        update: &Update,
        refusal: &Refusal,
        reason: &str,
    ) -> Record {
        Record {
            time: crate::time::now(),
            event: "override",
            user: String::new(),
            remote: crate::text::without_credentials(remote).into_owned(),
            reference: update.remote_ref.clone(),
            old: update.remote.map(|id| id.to_string()),
            new: update.local.map(|id| id.to_string()),
            reason: Some(reason.to_owned()),
            refused: Some(refusal.to_string()),
        }
    }
}

/// The audit log's path inside a git common dir.
pub fn path(common_dir: &Path) -> PathBuf {
    crate::state::audit_log(common_dir)
}

/// Appends records, stamping each with `user`.
pub fn append(
    common_dir: &Path,
    user: &str,
    records: &[Record],
) -> Result<(), crate::state::Error> {
    let stamped: Vec<Record> = records
        .iter()
        .map(|r| Record {
            user: user.to_owned(),
            ..r.clone()
        })
        .collect();
    crate::state::append(&path(common_dir), &stamped)
}
