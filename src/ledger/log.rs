//! The conflict log: one JSON line per entry left in conflict for a person, appended to
//! `<git common dir>/mainstay/conflicts.jsonl`, so that someone can find what to look at later.
//!
//! Format: `{"time":"2026-02-05T10:00:00.000Z","file":"docs/ROADMAP.md","keys":["Section","ST-005"]}`.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use super::{Conflict, Error};

/// The log's file name under `<git common dir>/mainstay/`.
const NAME: &str = "conflicts.jsonl";

#[derive(Serialize)]
struct Record<'a> {
    time: &'a str,
    file: &'a str,
    keys: &'a [String],
}

/// Where the log lives under a git common dir.
pub fn path(git_common_dir: &Path) -> PathBuf {
    crate::jsonl::path(git_common_dir, NAME)
}

/// Appends one line per conflict, creating the log's directory if needed.
pub fn append(
    git_common_dir: &Path,
    file: &str,
    conflicts: &[Conflict],
    now: SystemTime,
) -> Result<(), Error> {
    let time = crate::time::rfc3339(now);
    let records: Vec<Record> = conflicts
        .iter()
        .map(|c| Record {
            time: &time,
            file,
            keys: &c.keys,
        })
        .collect();
    Ok(crate::jsonl::append(&path(git_common_dir), &records)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn appends_one_line_per_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let conflict = Conflict {
            keys: vec!["Currently Working".into(), "Session-1".into()],
        };
        append(
            dir.path(),
            "a.md",
            std::slice::from_ref(&conflict),
            UNIX_EPOCH,
        )
        .unwrap();
        append(dir.path(), "a.md", &[conflict], UNIX_EPOCH).unwrap();
        let text = std::fs::read_to_string(path(dir.path())).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert_eq!(
            text.lines().next().unwrap(),
            r#"{"time":"1970-01-01T00:00:00.000Z","file":"a.md","keys":["Currently Working","Session-1"]}"#
        );
    }
}
