//! Append-only JSON-lines logs under `<git common dir>/mainstay/` (audit, conflicts).
//!
//! Records are appended with one `write` of whole lines to a file opened in append mode, so
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

/// `<git common dir>/mainstay/<name>`.
pub fn path(common_dir: &Path, name: &str) -> PathBuf {
    common_dir.join("mainstay").join(name)
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
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(fail)
}
