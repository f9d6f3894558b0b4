//! `install-hooks`: the one-time setup of a clone, its check, and its undoing.
//!
//! - The executables go into the directory git really reads hooks from (`git rev-parse
//!   --git-path hooks`, which honours `core.hooksPath` and linked worktrees). A hook that was
//!   already there is moved to `<name>.local` and still run by ours, first.
//! - The ledger merge drivers are registered in the clone's git config, and `.gitattributes` gets
//!   the lines that route the configured ledger files to them.
//! - The status-file globs go into `info/exclude`.
//!
//! Everything changed is recorded in a manifest, `<git common dir>/mainstay/install.json`, so a
//! second run changes nothing and `--uninstall` puts back exactly what was there.

use std::fs;
use std::path::{Path, PathBuf};

use crate::config;
use crate::file;
use crate::git;

mod check;
mod clone;
mod dispatch;
mod gitconfig;
pub mod global;
mod hooks;
mod hookspath;
mod managers;
mod manifest;
mod place;
mod registry;
pub mod server;
mod target;
mod upgrade;

pub use check::check;
pub use clone::{install, uninstall};
pub use upgrade::upgrade;

/// The executables installed into the hooks directory. Git runs only `pre-push`; the others are
/// started by it (`post-push`, which starts `mainstay monitor`) or by merges (`merge-driver`).
pub const EXECUTABLES: [&str; 4] = ["pre-push", "post-push", "merge-driver", "mainstay"];

/// Status files the monitor writes into the work tree; never to be committed.
pub const EXCLUDES: [&str; 2] = [".deployment-status-*", ".deployment-monitor-*"];

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Git(#[from] git::Error),
    #[error(transparent)]
    Config(#[from] config::Error),
    #[error("{} is missing; build the executables first (`cargo build --release`)", path.display())]
    MissingExecutable { path: PathBuf },
    #[error("{} and {} both exist: move one of them away, then run install-hooks again", hook.display(), local.display())]
    BackupTaken { hook: PathBuf, local: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is a symbolic link, so hooks written into {} would land elsewhere; remove the link (it came with a commit?), then run install-hooks again", link.display(), hooks.display())]
    LinkedHooks { link: PathBuf, hooks: PathBuf },
    #[error("{} is a symbolic link in {}, where a commit can put one (the link came with a commit?); install-hooks neither reads, moves nor runs it: remove it, then run install-hooks again", link.display(), hooks.display())]
    LinkedHook { link: PathBuf, hooks: PathBuf },
    #[error("{} is a bare repository, which no one pushes from; for the push policy on a remote, run `install-hooks --server --repo {}`", repo.display(), repo.display())]
    Bare { repo: PathBuf },
    #[error("{} is a work tree, not a bare repository: `--server` is for the remote; for a clone, run install-hooks without it", repo.display())]
    NotBare { repo: PathBuf },
    #[error("{}: not a manifest written by install-hooks ({message}); delete it to start over", path.display())]
    Manifest { path: PathBuf, message: String },
}

/// Where to install from and to.
#[derive(Debug, Clone)]
pub struct Options {
    /// Any directory inside the repository.
    pub repo: PathBuf,
    /// The directory of `install-hooks` (or `mainstay`): where `mainstay` is, and where the hook
    /// executables are looked for first (see [`executables_dir`]).
    pub source_dir: PathBuf,
    /// Where `--global` installs, so that a clone's check knows a global install covers it.
    pub global: Option<place::Place>,
}

/// What a run changed, one line per change, for the user.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub changes: Vec<String>,
}

/// One thing `--check` found wrong, with the command or step that fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    what: String,
    fix: String,
}

/// The fix for most problems `check` finds: installing again repairs what install made.
pub const FIX: &str = "run install-hooks";

impl Problem {
    pub fn new(what: impl Into<String>, fix: impl Into<String>) -> Problem {
        Problem {
            what: what.into(),
            fix: fix.into(),
        }
    }

    /// What is wrong.
    pub fn what(&self) -> &str {
        &self.what
    }

    /// What fixes it.
    pub fn fix(&self) -> &str {
        &self.fix
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.what, self.fix)
    }
}

/// The executables a package keeps off `PATH`, in `<bin>/../libexec/mainstay`.
const HOOK_EXECUTABLES: [&str; 4] = ["pre-push", "post-push", "merge-driver", "pre-receive"];

/// The directory holding the hook executables for an `install-hooks` (or `mainstay`) in
/// `beside`: next to it (the build directory, and the layout with every executable on `PATH`),
/// else `<beside>/../libexec/mainstay` (the packages' layout, which puts only `mainstay` and
/// `install-hooks` on `PATH`). Next to it wins when both hold them all, so a build run from its
/// own directory never installs a package's copies; the set is never mixed from both. With
/// neither complete, next to it, so an error names a path there.
pub fn executables_dir(beside: &Path) -> PathBuf {
    let holds = |dir: &Path| HOOK_EXECUTABLES.iter().all(|name| dir.join(name).is_file());
    let libexec = beside.join("../libexec/mainstay");
    if !holds(beside) && holds(&libexec) {
        // Without `..`: the path goes into config (the merge driver's command) and messages.
        return fs::canonicalize(&libexec).unwrap_or(libexec);
    }
    beside.to_owned()
}

impl Options {
    /// The built executable `name` to install: a hook executable from [`executables_dir`],
    /// `mainstay` from beside `install-hooks`, where every layout keeps it.
    pub fn source(&self, name: &str) -> PathBuf {
        if HOOK_EXECUTABLES.contains(&name) {
            executables_dir(&self.source_dir).join(name)
        } else {
            self.source_dir.join(name)
        }
    }
}

/// How many of the monitor's status files are in `worktree`.
fn status_files_in(worktree: &Path) -> usize {
    fs::read_dir(worktree).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_name()
                    .to_str()
                    .and_then(crate::deploy::files::sha7_of)
                    .is_some()
            })
            .count()
    })
}

fn remove_if_there(path: &Path) -> Result<(), Error> {
    file::remove_if_exists(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

/// Writes through a new file with a random name beside `path` and a rename (see [`crate::file`]),
/// so a reader never sees a half-written hook or manifest and nothing is written through a link.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .expect("every target path has a parent directory");
    fs::create_dir_all(dir).map_err(io)?;
    file::write_atomic(path, bytes, mode).map_err(io)
}

/// Reads a text file we edit (`.gitattributes`, `info/exclude`, the lists under the machine-wide
/// install): `None` when absent; a link or anything but a small regular file is an error naming it.
fn read_text(path: &Path) -> Result<Option<String>, Error> {
    file::read_text(path, file::SMALL).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

/// Quotes a path for the shell git runs merge drivers with.
fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_executables_beside_install_hooks_first_then_in_libexec() {
        let root = tempfile::tempdir().expect("temp dir");
        let bin = root.path().join("bin");
        let libexec = root.path().join("libexec/mainstay");
        let put = |dir: &Path| {
            fs::create_dir_all(dir).expect("mkdir");
            for name in HOOK_EXECUTABLES {
                fs::write(dir.join(name), "x").expect("write");
            }
        };
        fs::create_dir_all(&bin).expect("mkdir");
        assert_eq!(
            executables_dir(&bin),
            bin,
            "neither: beside, to name the missing one"
        );
        let options = Options {
            repo: bin.clone(),
            source_dir: bin.clone(),
            global: None,
        };
        put(&libexec);
        assert_eq!(
            executables_dir(&bin),
            fs::canonicalize(&libexec).expect("exists")
        );
        assert_eq!(options.source("mainstay"), bin.join("mainstay"));
        assert_eq!(
            options.source("pre-push").parent(),
            fs::canonicalize(&libexec).ok().as_deref()
        );
        put(&bin);
        assert_eq!(executables_dir(&bin), bin, "both: beside wins");
    }

    #[test]
    fn quotes_paths_for_the_shell() {
        assert_eq!(shell_quote(Path::new("/a b/it's")), r"'/a b/it'\''s'");
    }
}
