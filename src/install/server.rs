//! `install-hooks --server --repo BARE`: the push policy on a remote people run themselves.
//!
//! `pre-receive` goes where git reads the bare repository's hooks (`git rev-parse --git-path
//! hooks`, so `core.hooksPath` is honoured); a `pre-receive` already there (Gitea's, a team's
//! own) moves to `pre-receive.local` and still runs, first. What changed is recorded in the
//! repository's own `mainstay/install.json`, so `--check` and `--uninstall` work as for a clone.

use std::fs;

use super::{Error, FIX, Manifest, Options, Problem, Report};
use crate::git::Git;

/// The executables a remote gets.
pub const EXECUTABLES: [&str; 1] = ["pre-receive"];

struct Bare {
    paths: crate::git::Paths,
}

fn open(options: &Options) -> Result<Bare, Error> {
    let paths = Git::new(&options.repo).paths()?;
    if let Some(worktree) = paths.worktree {
        return Err(Error::NotBare { repo: worktree });
    }
    Ok(Bare { paths })
}

impl Bare {
    fn manifest_path(&self) -> std::path::PathBuf {
        crate::state::install_manifest(&self.paths.common_dir)
    }
}

/// Installs `pre-receive`, or brings it up to date; a second run reports no changes.
pub fn install(options: &Options) -> Result<Report, Error> {
    let bare = open(options)?;
    let mut manifest = super::load_manifest(&bare.manifest_path())?.unwrap_or_default();
    let mut report = Report::default();
    let hooks = &bare.paths.hooks;
    fs::create_dir_all(hooks).map_err(|source| Error::Io {
        path: hooks.clone(),
        source,
    })?;
    manifest.hooks_dir = hooks.clone();
    for name in EXECUTABLES {
        super::install_file(&options.source_dir, hooks, name, &mut manifest, &mut report)?;
    }
    if !report.changes.is_empty() {
        super::save_manifest(&bare.manifest_path(), &manifest)?;
    }
    if let Some(place) = &options.global {
        super::registry::add(place, super::registry::Kind::Server, &bare.paths.common_dir)?;
    }
    Ok(report)
}

/// Everything wrong with the remote's installation, each with its fix.
pub fn check(options: &Options) -> Result<Vec<Problem>, Error> {
    let bare = open(options)?;
    let mut problems = Vec::new();
    for name in EXECUTABLES {
        let dest = bare.paths.hooks.join(name);
        if let Some(problem) = super::check_file(&dest, &options.source_dir.join(name), "")? {
            problems.push(problem);
        }
    }
    // The remote's own settings, read by every push: say when they do not parse.
    if let Err(e) = crate::config::Config::load(&bare.paths.common_dir) {
        problems.push(Problem(format!(
            "{e}; every push is refused until it is fixed"
        )));
    }
    let _ = FIX;
    Ok(problems)
}

/// Removes `pre-receive` and puts back the one that was there.
pub fn uninstall(options: &Options) -> Result<Report, Error> {
    let bare = open(options)?;
    let mut report = Report::default();
    let path = bare.manifest_path();
    let Some(manifest): Option<Manifest> = super::load_manifest(&path)? else {
        return Ok(report);
    };
    super::uninstall_files(&manifest, &manifest.files, &mut report)?;
    fs::remove_file(&path).map_err(|source| Error::Io { path, source })?;
    if let Some(place) = &options.global {
        super::registry::remove(place, super::registry::Kind::Server, &bare.paths.common_dir)?;
    }
    Ok(report)
}
