//! `install-hooks --server --repo BARE`: the push policy on a remote people run themselves.
//!
//! `pre-receive` goes into the bare repository's own hooks directory: `<BARE>/hooks`, or the
//! directory the repository's own config names in `core.hooksPath` (its administrator's choice).
//! A global or system `core.hooksPath` (`install-hooks --global` on the same machine, say) is
//! shared by every repository, so it is never written into: the repository gets its own
//! `core.hooksPath=<BARE>/hooks` instead, and `--uninstall` takes it away again. A `pre-receive`
//! already there (Gitea's, a team's own) moves to `pre-receive.local` and still runs, first.
//! What changed is recorded in the repository's own `mainstay/install.json`, so `--check` and
//! `--uninstall` work as for a clone.

use std::fs;
use std::path::PathBuf;

use super::manifest::{self, Manifest};
use super::{Error, FIX, Options, Problem, Report, hooks};
use crate::git::Git;

/// The executables a remote gets.
pub const EXECUTABLES: [&str; 1] = ["pre-receive"];

struct Bare {
    git: Git,
    paths: crate::git::Paths,
}

fn open(options: &Options) -> Result<Bare, Error> {
    let git = Git::new(&options.repo);
    let paths = git.paths()?;
    if let Some(worktree) = paths.worktree {
        return Err(Error::NotBare { repo: worktree });
    }
    Ok(Bare { git, paths })
}

impl Bare {
    fn manifest_path(&self) -> PathBuf {
        crate::state::install_manifest(&self.paths.common_dir)
    }

    /// Where `pre-receive` belongs: where git reads this repository's hooks when its own config
    /// says so, else its own `hooks` directory, whatever a global `core.hooksPath` says.
    fn hooks_dir(&self) -> Result<PathBuf, Error> {
        Ok(match self.git.config_get_in("--local", "core.hooksPath")? {
            Some(_) => self.paths.hooks.clone(),
            None => self.paths.common_dir.join("hooks"),
        })
    }

    /// The fix line every problem ends with.
    fn fix(&self) -> String {
        format!("{FIX} --server --repo {}", self.paths.common_dir.display())
    }
}

/// Installs `pre-receive`, or brings it up to date; a second run reports no changes.
pub fn install(options: &Options) -> Result<Report, Error> {
    let bare = open(options)?;
    let mut manifest = manifest::load_manifest(&bare.manifest_path())?.unwrap_or_default();
    let mut report = Report::default();
    let hooks = bare.hooks_dir()?;
    fs::create_dir_all(&hooks).map_err(|source| Error::Io {
        path: hooks.clone(),
        source,
    })?;
    // An install made where git used to read hooks (a global directory, before the repository
    // got its own): moved here, and what it moved aside there put back.
    let stale: Vec<manifest::InstalledFile> = manifest
        .files
        .iter()
        .filter(|f| f.dir(&manifest) != hooks)
        .cloned()
        .collect();
    hooks::uninstall_files(&manifest, &stale, &mut report)?;
    let legacy = manifest.hooks_dir.clone();
    manifest
        .files
        .retain(|f| f.dir.as_deref().unwrap_or(&legacy) == hooks);
    manifest.hooks_dir = hooks.clone();
    for name in EXECUTABLES {
        hooks::install_file(options, &hooks, name, &mut manifest, &mut report)?;
    }
    if bare.paths.hooks != hooks {
        // A global (or system) core.hooksPath sends this repository's hooks to a directory all
        // repositories share: this one reads its own instead.
        let value = hooks.display().to_string();
        if manifest::set_config(
            &bare.git,
            "--local",
            "core.hooksPath",
            &value,
            &mut manifest,
        )? {
            report.changes.push(format!(
                "set git config core.hooksPath={value} in {}: git read its hooks from {} \
                 (a global core.hooksPath, shared by every repository), which no longer \
                 applies to this one",
                bare.paths.common_dir.display(),
                bare.paths.hooks.display()
            ));
        }
    }
    if !report.changes.is_empty() {
        manifest::save_manifest(&bare.manifest_path(), &manifest)?;
    }
    if let Some(place) = &options.global {
        super::registry::add(place, super::registry::Kind::Server, &bare.paths.common_dir)?;
    }
    Ok(report)
}

/// Everything wrong with the remote's installation, each with its fix.
pub fn check(options: &Options) -> Result<Vec<Problem>, Error> {
    let bare = open(options)?;
    let fix = bare.fix();
    let mut problems = Vec::new();
    let hooks = bare.hooks_dir()?;
    for name in EXECUTABLES {
        let dest = hooks.join(name);
        let source = options.source(name);
        problems.extend(super::hooks::check_file(&dest, &source, "", &fix)?);
    }
    if bare.paths.hooks != hooks {
        problems.push(Problem::new(
            format!(
                "git reads the hooks of {} from {} (a global core.hooksPath), not from {}, where \
             pre-receive belongs, so no push is checked",
                bare.paths.common_dir.display(),
                bare.paths.hooks.display(),
                hooks.display()
            ),
            &fix,
        ));
    }
    // The remote's own settings, read by every push: say when they do not parse.
    if let Err(e) = crate::config::Config::load(&bare.paths.common_dir) {
        problems.push(Problem::new(
            format!("{e}; every push is refused until it is fixed"),
            "fix it",
        ));
    }
    Ok(problems)
}

/// Removes `pre-receive`, puts back the one that was there and the repository's
/// `core.hooksPath` as it was.
pub fn uninstall(options: &Options) -> Result<Report, Error> {
    let bare = open(options)?;
    let mut report = Report::default();
    let path = bare.manifest_path();
    let Some(manifest): Option<Manifest> = manifest::load_manifest(&path)? else {
        return Ok(report);
    };
    hooks::uninstall_files(&manifest, &manifest.files, &mut report)?;
    manifest::restore_config(&bare.git, "--local", &manifest, &mut report)?;
    fs::remove_file(&path).map_err(|source| Error::Io { path, source })?;
    if let Some(place) = &options.global {
        super::registry::remove(place, super::registry::Kind::Server, &bare.paths.common_dir)?;
    }
    Ok(report)
}
