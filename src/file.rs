//! Files in places a commit can shape (the work tree, a hooks directory inside it): every read and
//! write of ours that lands there goes through here.
//!
//! A commit is untrusted input, and it can put a symbolic link, or a link to a device, at any name
//! we use. So:
//! - reads take regular files only, opened without following a final symlink, through a size
//!   limit ([`read`]);
//! - whole-file writes go to a new file with a random name, created exclusively beside the target,
//!   then renamed over it ([`write_atomic`]); a symlink or anything but a regular file at the
//!   target's name is refused, never written through or replaced;
//! - appends open the file without following a symlink and refuse anything but a regular file
//!   ([`open_append`]).
//!
//! The errors are `io::Error`s whose message says what was refused; callers add the path.

use std::collections::hash_map::RandomState;
use std::fs::{self, File, OpenOptions};
use std::hash::BuildHasher;
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The largest file any of our readers takes in: configuration, run records, hook heads.
pub const SMALL: u64 = 1 << 20;

/// Reads a regular file of at most `limit` bytes; `None` when nothing is at `path`. A symlink, a
/// device, a directory or a larger file is an error.
pub fn read(path: &Path, limit: u64) -> io::Result<Option<Vec<u8>>> {
    let file = match open_regular(path, OpenOptions::new().read(true)) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {limit} bytes, the most mainstay reads"),
        ));
    }
    Ok(Some(bytes))
}

/// [`read`] as UTF-8 text.
pub fn read_text(path: &Path, limit: u64) -> io::Result<Option<String>> {
    read(path, limit)?
        .map(|bytes| {
            String::from_utf8(bytes)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
        })
        .transpose()
}

/// Replaces `path` with `bytes` (mode `mode`): a new file with a random name in the same
/// directory, created exclusively, synced, then renamed over `path`. Refuses when `path` is a
/// symlink or not a regular file.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    refuse_non_regular(path)?;
    let (temp, mut file) = create_temp_beside(path, mode)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.set_permissions(fs::Permissions::from_mode(mode)))
        .and_then(|()| file.sync_data())
        .and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

/// Opens `path` for appending, creating it (mode 0644) if missing; refuses a symlink and anything
/// but a regular file.
pub fn open_append(path: &Path) -> io::Result<File> {
    open_regular(
        path,
        OpenOptions::new().append(true).create(true).mode(0o644),
    )
}

/// Opens `path` for writing without truncating, creating it if missing, as a lock file: the same
/// refusals as [`open_append`].
pub fn open_lock(path: &Path) -> io::Result<File> {
    open_regular(
        path,
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644),
    )
}

/// Opens an existing `path` for reading only (for a shared lock); the same refusals.
pub fn open_existing(path: &Path) -> io::Result<File> {
    open_regular(path, OpenOptions::new().read(true))
}

/// An error unless `path` is a regular file or absent.
pub fn refuse_non_regular(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(symlink_error()),
        Ok(meta) if !meta.is_file() => Err(not_regular_error()),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// The first directory from `top` (exclusive) down to `dir` (inclusive) that is a symlink, if
/// any: a directory a commit replaced by a link, so that writes into it would land elsewhere.
pub fn linked_dir(top: &Path, dir: &Path) -> Option<PathBuf> {
    let rest = dir.strip_prefix(top).ok()?;
    let mut at = top.to_owned();
    for part in rest.components() {
        at.push(part);
        if fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            return Some(at);
        }
    }
    None
}

fn open_regular(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    // O_NONBLOCK: opening a FIFO must not hang; it is refused just below.
    let file = options
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                symlink_error()
            } else {
                e
            }
        })?;
    if !file.metadata()?.is_file() {
        return Err(not_regular_error());
    }
    Ok(file)
}

/// A new, empty file beside `path` under a random name nobody else has: `O_EXCL` fails on
/// anything already there, a dangling symlink included.
fn create_temp_beside(path: &Path, mode: u32) -> io::Result<(PathBuf, File)> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let name = name.unwrap_or_default();
    let state = RandomState::new();
    for attempt in 0u32..16 {
        let tag = state.hash_one((std::process::id(), attempt));
        // One leading dot only: a hidden file's temp keeps its prefix, so an exclude pattern
        // of the file (`.deployment-status-*`) covers its temp too.
        let dot = if name.starts_with('.') { "" } else { "." };
        let temp_name = format!("{dot}{name}.{tag:016x}.tmp");
        let temp = dir.map_or_else(|| PathBuf::from(&temp_name), |d| d.join(&temp_name));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode & 0o700 | 0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&temp)
        {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free temporary name beside it",
    ))
}

fn symlink_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "is a symbolic link, which mainstay never reads or writes through",
    )
}

fn not_regular_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "is not a regular file, which is all mainstay reads or writes",
    )
}

/// Removes a file that may already be gone.
pub fn remove_if_exists(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn never_writes_through_a_symlink_or_a_planted_temp_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        let outside = dir.path().join("outside");
        fs::write(&outside, "keep").expect("write");
        let target = dir.path().join(".gitattributes");
        symlink(&outside, &target).expect("link");
        let err = write_atomic(&target, b"x", 0o644).expect_err("a link is refused");
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(fs::read_to_string(&outside).expect("read"), "keep");

        let plain = dir.path().join("plain");
        write_atomic(&plain, b"one", 0o644).expect("write");
        write_atomic(&plain, b"two", 0o644).expect("rewrite");
        assert_eq!(fs::read_to_string(&plain).expect("read"), "two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 3, "no temp file left: {names:?}");
    }

    #[test]
    fn reads_only_small_regular_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let zero = dir.path().join("zero");
        symlink("/dev/zero", &zero).expect("link");
        assert!(read(&zero, SMALL).is_err());
        let big = dir.path().join("big");
        fs::write(&big, vec![b'a'; 11]).expect("write");
        assert!(read(&big, 10).is_err());
        assert_eq!(read(&big, 11).expect("read").map(|b| b.len()), Some(11));
        assert_eq!(read(&dir.path().join("none"), 10).expect("read"), None);
        assert!(open_append(&zero).is_err());
        let dangling = dir.path().join("dangling.lock");
        symlink(dir.path().join("created-elsewhere"), &dangling).expect("link");
        assert!(open_lock(&dangling).is_err());
        assert!(!dir.path().join("created-elsewhere").exists());
    }

    #[test]
    fn finds_a_linked_directory_on_the_way_down() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::create_dir_all(dir.path().join("real")).expect("mkdir");
        symlink(dir.path().join("real"), dir.path().join(".husky")).expect("link");
        let hooks = dir.path().join(".husky/_");
        assert_eq!(
            linked_dir(dir.path(), &hooks),
            Some(dir.path().join(".husky"))
        );
        assert_eq!(linked_dir(dir.path(), &dir.path().join("real")), None);
    }
}
