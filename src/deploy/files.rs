//! The status files in the work tree root, named by the sha's first seven digits:
//!
//! - `.deployment-status-<sha7>.log`: timestamped human-readable lines, appended to;
//! - `.deployment-status-<sha7>.result`: one word, `success`, `failed`, `timeout` or `superseded`;
//! - `.deployment-status-<sha7>.json`: the run record (see [`super::record`]);
//! - `.deployment-monitor-<sha7>.lock`: held by the live monitor (see [`super::lock`]).
//!
//! The log is appended to, one `write` per line, by its one writer (the monitor, whose stdout and
//! stderr are the same file); the result and the record are whole new files renamed over the old
//! ones, so a reader sees the previous content or the next, never half a line. Only the monitor
//! holding the lock writes them.
//!
//! A commit can put anything at these names, so before a monitor starts, [`check_safe`] refuses
//! any of them that git tracks or that is not a regular file; every open goes through
//! [`crate::file`], which never follows a symlink.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::git::Git;

/// The most of a status file any reader takes in (a log of many runs is a few hundred KB).
pub const LIMIT: u64 = 4 << 20;

pub use crate::text::sha7;

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

/// Every status file name of `sha`, in the work tree.
pub fn all_paths(worktree: &Path, sha: &str) -> [PathBuf; 4] {
    [
        log_path(worktree, sha),
        result_path(worktree, sha),
        record_path(worktree, sha),
        lock_path(worktree, sha),
    ]
}

/// Why the status files of a sha cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Unsafe {
    #[error("{} is tracked by git (a commit put it there): mainstay writes none of its status files for this sha", path.display())]
    Tracked { path: PathBuf },
    #[error("{}: {source}; mainstay writes none of its status files for this sha", path.display())]
    NotRegular { path: PathBuf, source: io::Error },
    #[error("cannot tell whether git tracks the status files: {0}")]
    Git(#[from] crate::git::Error),
}

/// Refuses the status files of `sha` when git tracks any of them (writing one would change a
/// commit's file) or when anything but a regular file is at one of their names.
pub fn check_safe(worktree: &Path, sha: &str) -> Result<(), Unsafe> {
    let paths = all_paths(worktree, sha);
    if let Some(path) = tracked(worktree, &paths)?.into_iter().next() {
        return Err(Unsafe::Tracked { path });
    }
    for path in &paths {
        crate::file::refuse_non_regular(path).map_err(|source| Unsafe::NotRegular {
            path: path.clone(),
            source,
        })?;
    }
    Ok(())
}

/// Those of `paths` (in the work tree's root) that git tracks.
pub fn tracked(worktree: &Path, paths: &[PathBuf]) -> Result<Vec<PathBuf>, crate::git::Error> {
    let mut args = vec!["ls-files".to_owned(), "-z".to_owned(), "--".to_owned()];
    args.extend(
        paths
            .iter()
            .filter_map(|p| p.file_name()?.to_str())
            // Status file names hold no glob characters; `:(literal)` keeps it so for git.
            .map(|name| format!(":(literal){name}")),
    );
    let listed = Git::new(worktree).run(&args)?;
    Ok(listed
        .split('\0')
        .filter(|name| !name.is_empty())
        .map(|name| worktree.join(name))
        .collect())
}

/// Refuses to write a status file (`.deployment-*`) that git tracks: checked again at every
/// write, since a commit may add one while a monitor runs (the check at start is not enough).
pub fn refuse_tracked(path: &Path) -> io::Result<()> {
    let status_file = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(".deployment-"));
    let Some(dir) = path.parent().filter(|_| status_file) else {
        return Ok(());
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let tracked = tracked(dir, &[path.to_owned()]).map_err(io::Error::other)?;
    match tracked.first() {
        None => Ok(()),
        Some(path) => Err(io::Error::other(Unsafe::Tracked { path: path.clone() })),
    }
}

/// Every status file in the work tree's root that git tracks, in one `git ls-files`.
pub fn tracked_all(worktree: &Path) -> Result<Vec<PathBuf>, crate::git::Error> {
    // `glob`: the `*` stays within the root, where status files live.
    let listed = Git::new(worktree).run([
        "ls-files",
        "-z",
        "--",
        ":(glob).deployment-status-*",
        ":(glob).deployment-monitor-*",
    ])?;
    Ok(listed
        .split('\0')
        .filter(|name| !name.is_empty())
        .map(|name| worktree.join(name))
        .collect())
}

/// Replaces `path` with `content` through [`crate::file::write_atomic`]; a status file only
/// while git does not track it ([`refuse_tracked`]).
pub fn write_atomic(path: &Path, content: &[u8]) -> io::Result<()> {
    refuse_tracked(path)?;
    crate::file::write_atomic(path, content, 0o644)
}

/// Appends one line to the file, in one write, while git does not track it.
pub fn append_line(path: &Path, line: &str) -> io::Result<()> {
    refuse_tracked(path)?;
    let mut file = crate::file::open_append(path)?;
    file.write_all(format!("{line}\n").as_bytes())
}

/// Reads a status file, `None` when it does not exist; a link or a huge file is an error.
pub fn read_if_exists(path: &Path) -> io::Result<Option<String>> {
    crate::file::read(path, LIMIT)
        .map(|bytes| bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
}

pub use crate::file::remove_if_exists;

/// The last `n` lines of a text.
pub fn tail(text: &str, n: usize) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

/// The status log, written line by line with timestamps; each line is also echoed to `echo`
/// (the terminal of a foreground monitor, or a sink).
pub struct Log<'a, W: Write> {
    path: PathBuf,
    file: Option<File>,
    echo: &'a mut W,
}

impl<'a, W: Write> Log<'a, W> {
    pub fn new(path: PathBuf, echo: &'a mut W) -> Self {
        Log {
            path,
            file: None,
            echo,
        }
    }

    /// Appends `<rfc3339> <text>`, one write for all its lines; several lines of text become
    /// several log lines. Text from outside (a server, a commit) loses its control characters.
    pub fn line(&mut self, at: SystemTime, text: &str) -> io::Result<()> {
        let stamp = crate::time::rfc3339(at);
        let mut stamped = String::new();
        for line in text.lines() {
            stamped.push_str(&stamp);
            stamped.push(' ');
            stamped.push_str(&crate::text::printable(line));
            stamped.push('\n');
        }
        refuse_tracked(&self.path)?;
        let file = match &mut self.file {
            Some(file) => file,
            None => self.file.insert(crate::file::open_append(&self.path)?),
        };
        file.write_all(stamped.as_bytes())?;
        // The echo is a courtesy: a closed terminal must not stop the monitor.
        let _ = self
            .echo
            .write_all(stamped.as_bytes())
            .and_then(|()| self.echo.flush());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_whole_lines_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        // Status files are written in a work tree, which is asked whether git tracks them.
        let init = std::process::Command::new("git")
            .args(["init", "-q"])
            .current_dir(dir.path())
            .status()
            .expect("git runs");
        assert!(init.success());
        let path = log_path(dir.path(), "abcdef0123");
        append_line(&path, "one").expect("append");
        write_atomic(&result_path(dir.path(), "abcdef0123"), b"success\n").expect("write");
        std::fs::remove_file(result_path(dir.path(), "abcdef0123")).expect("remove");
        append_line(&path, "two").expect("append");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, "one\ntwo\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .filter(|n| n != ".git")
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
