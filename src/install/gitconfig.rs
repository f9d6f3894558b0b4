//! The global config file's own bytes, kept so that `--global --uninstall` gives it back as it
//! was: `gitconfig.before` (before the first install) and `gitconfig.after` (after the last
//! change install made), beside the manifest, readable by the user alone, as the file itself may
//! hold credentials. An edit made since is kept by a three-way merge.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use super::Error;
use super::place::Place;
use crate::git::Git;

/// The global config's bytes before the first install, and after the last change install made.
pub(super) const BEFORE: &str = "gitconfig.before";
pub(super) const AFTER: &str = "gitconfig.after";

pub(super) fn read_config(path: &Path) -> Result<Vec<u8>, Error> {
    match fs::read(path) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(Error::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Keeps the global config's bytes as they were before mainstay's first change (`before`, on
/// the first run; else the kept ones, with any edits made since carried over) and as this run
/// left them (`after`).
pub(super) fn keep_config_bytes(
    place: &Place,
    first: bool,
    now_before: &[u8],
    after: &[u8],
) -> Result<(), Error> {
    let before_path = place.hooks.with_file_name(BEFORE);
    let after_path = place.hooks.with_file_name(AFTER);
    let kept = (!first)
        .then(|| Some((fs::read(&before_path).ok()?, fs::read(&after_path).ok()?)))
        .flatten();
    let original = match kept {
        None if first => Some(now_before.to_vec()),
        // An install from before the bytes were kept: uninstall goes key by key.
        None => None,
        Some((original, last)) if last == now_before => Some(original),
        // Edited since: the original, with those edits.
        Some((original, last)) => revert(place, &last, now_before, &original),
    };
    match original {
        Some(original) => {
            super::write_atomic(&before_path, &original, 0o600)?;
            super::write_atomic(&after_path, after, 0o600)
        }
        None => {
            super::remove_if_there(&before_path)?;
            super::remove_if_there(&after_path)
        }
    }
}

/// `current` with the change from `original` to `last` undone: a three-way merge by `git
/// merge-file` (git's own), after the one case it calls a conflict and we do not: lines added
/// right beside mainstay's (`git config` appends a new section after the last one, which may be
/// ours) stay, beside what comes back. `None` on a conflict.
pub(super) fn revert(
    place: &Place,
    last: &[u8],
    current: &[u8],
    original: &[u8],
) -> Option<Vec<u8>> {
    if let Some(added) = current.strip_prefix(last) {
        return Some([original, added].concat());
    }
    if let Some(added) = current.strip_suffix(last) {
        return Some([added, original].concat());
    }
    // The files may hold credentials: in a directory of the user's alone, removed when done.
    let dir = place.hooks.parent().unwrap_or(&place.hooks);
    let scratch = dir.join(format!(".merge-{}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&scratch)
        .ok()?;
    let names = ["current", "last", "original"];
    let written = names
        .iter()
        .zip([current, last, original])
        .all(|(name, bytes)| fs::write(scratch.join(name), bytes).is_ok());
    let out = written
        .then(|| {
            Git::new(&scratch)
                .output(["merge-file", "-p", "--quiet", names[0], names[1], names[2]])
                .ok()
        })
        .flatten();
    let _ = fs::remove_dir_all(&scratch);
    let out = out?;
    // Its exit status is the number of conflicts.
    out.status.success().then_some(out.stdout)
}

/// The file `git config --global` writes: `~/.gitconfig`, or, when only that exists, the XDG
/// one (`$XDG_CONFIG_HOME/git/config`).
pub(super) fn global_config_file(place: &Place) -> PathBuf {
    let dot = place.home.join(".gitconfig");
    let xdg = place.config_home.join("git").join("config");
    if !dot.exists() && xdg.exists() {
        xdg
    } else {
        dot
    }
}

/// The permission bits of the config file at `path` (0644 when there is none yet).
pub(super) fn mode_of(path: &Path) -> u32 {
    fs::metadata(path).map_or(0o644, |m| {
        std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777
    })
}
