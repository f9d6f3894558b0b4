//! The conflict log: one JSON line per entry left in conflict for a person, appended to
//! `<git common dir>/mainstay/conflicts.jsonl`, so that someone can find what to look at later.
//!
//! Format: `{"time":"2026-02-05T10:00:00Z","file":"docs/ROADMAP.md","keys":["Section","ST-005"]}`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::{Conflict, Error};

/// Where the log lives under a git common dir.
pub fn path(git_common_dir: &Path) -> PathBuf {
    git_common_dir.join("mainstay").join("conflicts.jsonl")
}

/// Appends one line per conflict, creating the log's directory if needed.
pub fn append(
    log: &Path,
    file: &str,
    conflicts: &[Conflict],
    now: SystemTime,
) -> Result<(), Error> {
    if conflicts.is_empty() {
        return Ok(());
    }
    let time = rfc3339(now);
    let mut lines = String::new();
    for conflict in conflicts {
        let record = serde_json::json!({ "time": time, "file": file, "keys": conflict.keys });
        lines.push_str(&record.to_string());
        lines.push('\n');
    }
    let fail = |source| Error::Log {
        path: log.to_path_buf(),
        source,
    };
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    // One write of whole lines in append mode: concurrent drivers never interleave inside a line.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .and_then(|mut f| f.write_all(lines.as_bytes()))
        .map_err(fail)
}

/// `YYYY-MM-DDTHH:MM:SSZ` in UTC.
fn rfc3339(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_are_utc_rfc3339() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_770_285_600);
        assert_eq!(rfc3339(t), "2026-02-05T10:00:00Z");
    }

    #[test]
    fn appends_one_line_per_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let log = path(dir.path());
        let conflict = Conflict {
            keys: vec!["Currently Working".into(), "Session-1".into()],
        };
        append(&log, "a.md", std::slice::from_ref(&conflict), UNIX_EPOCH).unwrap();
        append(&log, "a.md", &[conflict], UNIX_EPOCH).unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert_eq!(
            text.lines().next().unwrap(),
            r#"{"file":"a.md","keys":["Currently Working","Session-1"],"time":"1970-01-01T00:00:00Z"}"#
        );
    }
}
