//! The status files in the work tree root, named by the sha's first seven digits:
//!
//! - `.deployment-status-<sha7>.log`: timestamped human-readable lines, appended to;
//! - `.deployment-status-<sha7>.result`: one word, `success`, `failed`, `timeout` or `superseded`;
//! - `.deployment-status-<sha7>.json`: the run record (see [`super::record`]);
//! - `.deployment-monitor-<sha7>.lock`: held by the live monitor (see [`super::lock`]).
//!
//! Every write is a whole new file renamed over the old one, so a reader sees the previous
//! content or the next, never half a line. Only the monitor holding the lock writes them.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The first seven hex digits, as status file names use them.
pub fn sha7(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}

/// `.deployment-status-<sha7>.log` in the work tree.
pub fn log_path(worktree: &Path, sha: &str) -> PathBuf {
    worktree.join(format!(".deployment-status-{}.log", sha7(sha)))
}

/// `.deployment-status-<sha7>.result` in the work tree.
pub fn result_path(worktree: &Path, sha: &str) -> PathBuf {
    worktree.join(format!(".deployment-status-{}.result", sha7(sha)))
}

/// `.deployment-status-<sha7>.json` in the work tree.
pub fn record_path(worktree: &Path, sha: &str) -> PathBuf {
    worktree.join(format!(".deployment-status-{}.json", sha7(sha)))
}

/// `.deployment-monitor-<sha7>.lock` in the work tree.
pub fn lock_path(worktree: &Path, sha: &str) -> PathBuf {
    worktree.join(format!(".deployment-monitor-{}.lock", sha7(sha)))
}

/// The sha7 a status file belongs to, from its name.
pub fn sha7_of(name: &str) -> Option<&str> {
    let rest = name
        .strip_prefix(".deployment-status-")
        .or_else(|| name.strip_prefix(".deployment-monitor-"))?;
    let (sha7, ext) = rest.split_once('.')?;
    let known = matches!(ext, "log" | "result" | "json" | "lock");
    (known && sha7.len() == 7 && sha7.bytes().all(|b| b.is_ascii_hexdigit())).then_some(sha7)
}

/// Replaces `path` with `content`: a temp file beside it, synced, then renamed over it.
pub fn write_atomic(path: &Path, content: &[u8]) -> io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let temp = path.with_file_name(format!(
        "{}.{}.tmp",
        name.unwrap_or_default(),
        std::process::id()
    ));
    let written = (|| {
        let mut file = fs::File::create(&temp)?;
        file.write_all(content)?;
        file.sync_data()?;
        fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

/// Appends one line to the log as a whole-file replacement (logs are a few kilobytes).
pub fn append_atomic(path: &Path, line: &str) -> io::Result<()> {
    let mut content = match fs::read(path) {
        Ok(content) => content,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    if !content.is_empty() && !content.ends_with(b"\n") {
        content.push(b'\n');
    }
    content.extend_from_slice(line.as_bytes());
    content.push(b'\n');
    write_atomic(path, &content)
}

/// Reads a file, `None` when it does not exist.
pub fn read_if_exists(path: &Path) -> io::Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Removes a file that may already be gone.
pub fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// The last `n` lines of a text.
pub fn tail(text: &str, n: usize) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

/// The status log, written line by line with timestamps; each line is also echoed to `echo`
/// (the terminal of a foreground monitor, or a sink).
pub struct Log<'a, W: Write> {
    path: PathBuf,
    echo: &'a mut W,
}

impl<'a, W: Write> Log<'a, W> {
    pub fn new(path: PathBuf, echo: &'a mut W) -> Self {
        Log { path, echo }
    }

    /// Appends `<rfc3339> <text>`; several lines of text become several log lines.
    pub fn line(&mut self, at: SystemTime, text: &str) -> io::Result<()> {
        let stamp = crate::time::rfc3339(at);
        let stamped: Vec<String> = text.lines().map(|l| format!("{stamp} {l}")).collect();
        let stamped = stamped.join("\n");
        append_atomic(&self.path, &stamped)?;
        // The echo is a courtesy: a closed terminal must not stop the monitor.
        let _ = writeln!(self.echo, "{stamped}").and_then(|()| self.echo.flush());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_whole_lines_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = log_path(dir.path(), "abcdef0123");
        append_atomic(&path, "one").expect("append");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(b"partial"))
            .expect("simulate a torn line");
        append_atomic(&path, "two").expect("append");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, "one\npartial\ntwo\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, [".deployment-status-abcdef0.log"]);
    }

    #[test]
    fn recognises_status_file_names() {
        assert_eq!(sha7_of(".deployment-status-abcdef0.log"), Some("abcdef0"));
        assert_eq!(sha7_of(".deployment-monitor-abcdef0.lock"), Some("abcdef0"));
        assert_eq!(sha7_of(".deployment-status-abcdef0.log.12.tmp"), None);
        assert_eq!(sha7_of(".deployment-status-xyz.log"), None);
        assert_eq!(sha7_of("README.md"), None);
    }
}
