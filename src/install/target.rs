//! The clone as install sees it: where git reads its hooks (every worktree's), where the merge
//! driver lives, which lines route its ledgers, and which links a commit may have planted on
//! the way.

use std::fs;
use std::path::{Path, PathBuf};

use super::manifest::{self, Manifest};
use super::place::Place;
use super::{EXECUTABLES, Error, FIX, Options, Problem, read_text, shell_quote};
use crate::config::{Config, Section};
use crate::file;
use crate::git::{self, Git};
use crate::pre_push::LOCAL_SUFFIX;

/// The repository as install sees it.
pub(super) struct Target {
    pub(super) git: Git,
    pub(super) paths: git::Paths,
    pub(super) config: Config,
}

impl Target {
    pub(super) fn open(options: &Options) -> Result<Target, Error> {
        let git = Git::new(&options.repo);
        let paths = git.paths()?;
        let config = match &paths.worktree {
            Some(worktree) => Config::load_only(worktree, &[Section::Ledgers])?,
            None => {
                return Err(Error::Bare {
                    repo: paths.common_dir.clone(),
                });
            }
        };
        Ok(Target { git, paths, config })
    }

    pub(super) fn manifest_path(&self) -> PathBuf {
        crate::state::install_manifest(&self.paths.common_dir)
    }

    /// The machine-wide install, when git runs this clone's hooks from its directory.
    pub(super) fn covered_by<'o>(&self, options: &'o Options) -> Option<&'o Place> {
        options
            .global
            .as_ref()
            .filter(|place| self.paths.hooks == place.hooks)
    }

    pub(super) fn load_manifest(&self) -> Result<Option<Manifest>, Error> {
        manifest::load_manifest(&self.manifest_path())
    }

    pub(super) fn save_manifest(&self, manifest: &Manifest) -> Result<(), Error> {
        manifest::save_manifest(&self.manifest_path(), manifest)
    }

    pub(super) fn attributes_path(&self) -> Option<PathBuf> {
        self.paths
            .worktree
            .as_ref()
            .map(|w| w.join(".gitattributes"))
    }

    /// Refuses, before anything is changed, to write where a commit has put a link: at
    /// `.gitattributes`, on the way down to a hooks directory inside the work tree (husky's
    /// `.husky/_`), or at a hook's name (or its `.local`) in such a directory.
    pub(super) fn refuse_links(&self, worktree: &Path, hooks: &Path) -> Result<(), Error> {
        self.refuse_linked_dirs(worktree)?;
        if committable(worktree, &self.paths.common_dir, hooks) {
            for name in EXECUTABLES {
                for link in [
                    hooks.join(name),
                    hooks.join(format!("{name}{LOCAL_SUFFIX}")),
                ] {
                    if fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink()) {
                        return Err(Error::LinkedHook {
                            link,
                            hooks: hooks.to_owned(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// [`Target::refuse_links`] for `.gitattributes` and the hooks directory's parents.
    pub(super) fn refuse_linked_dirs(&self, worktree: &Path) -> Result<(), Error> {
        if let Some(path) = self.attributes_path() {
            file::refuse_non_regular(&path).map_err(|source| Error::Io { path, source })?;
        }
        // git resolves the hooks directory through links; a relative `core.hooksPath` (husky's
        // `.husky/_`) is walked as written, from the work tree down.
        let hooks_path = self.git.config_get("core.hooksPath")?;
        let Some(relative) = hooks_path
            .as_deref()
            .map(Path::new)
            .filter(|p| p.is_relative() && !p.starts_with("~"))
        else {
            return Ok(());
        };
        let written = worktree.join(relative);
        match file::linked_dir(worktree, &written) {
            Some(link) => Err(Error::LinkedHooks {
                link,
                hooks: written,
            }),
            None => Ok(()),
        }
    }

    /// Where every worktree of the clone reads its hooks, this one's first: one directory unless
    /// a relative `core.hooksPath` (husky's `.husky/_`) gives each worktree its own. Each with
    /// the worktree it belongs to.
    pub(super) fn hooks_dirs(&self) -> Result<Vec<(PathBuf, PathBuf)>, Error> {
        let mut dirs = Vec::new();
        if let Some(worktree) = &self.paths.worktree {
            dirs.push((self.paths.hooks.clone(), worktree.clone()));
        }
        let listing = self.git.run(["worktree", "list", "--porcelain"])?;
        for block in listing.split("\n\n") {
            let mut lines = block.lines();
            let Some(path) = lines.next().and_then(|l| l.strip_prefix("worktree ")) else {
                continue;
            };
            let path = PathBuf::from(path);
            if block
                .lines()
                .any(|l| l == "bare" || l.starts_with("prunable"))
                || !path.is_dir()
            {
                continue;
            }
            let hooks = Git::new(&path).run([
                "rev-parse",
                "--path-format=absolute",
                "--git-path",
                "hooks",
            ])?;
            let hooks = PathBuf::from(hooks);
            if !dirs.iter().any(|(d, _)| *d == hooks) {
                dirs.push((hooks, path));
            }
        }
        if dirs.is_empty() {
            dirs.push((self.paths.hooks.clone(), self.paths.common_dir.clone()));
        }
        Ok(dirs)
    }

    /// husky's directory (`.husky`), when git reads this worktree's hooks from husky's `_` in it.
    pub(super) fn husky_dir(&self) -> Option<PathBuf> {
        let hooks = &self.paths.hooks;
        let worktree = self.paths.worktree.as_ref()?;
        (hooks.file_name()? == "_"
            && hooks.join("h").is_file()
            && committable(worktree, &self.paths.common_dir, hooks))
        .then(|| hooks.parent().map(Path::to_owned))
        .flatten()
    }

    /// Where the merge driver lives, shared by every worktree: the drivers are registered in the
    /// clone's config, which all worktrees read.
    pub(super) fn driver_dir(&self) -> PathBuf {
        crate::state::dir(&self.paths.common_dir).join("bin")
    }

    /// Files routed to a merge driver this clone does not register, and attribute lines install
    /// would add.
    pub(super) fn attribute_problems(&self, lacking: bool) -> Result<Vec<Problem>, Error> {
        let mut problems = Vec::new();
        let mut attribute_files = vec![self.paths.common_dir.join("info").join("attributes")];
        attribute_files.extend(self.attributes_path());
        for path in &attribute_files {
            let text = match read_text(path) {
                Ok(Some(text)) => text,
                Ok(None) => continue,
                Err(e) => {
                    problems.push(Problem::new(format!("{e}"), FIX));
                    continue;
                }
            };
            for (pattern, driver) in merge_drivers(&text) {
                if self
                    .git
                    .config_get(&format!("merge.{driver}.driver"))?
                    .is_none()
                {
                    problems.push(Problem::new(format!(
                        "{} routes {pattern} to merge driver `{driver}`, which this clone does not \
                         register, so git silently falls back to a line merge",
                        path.display()
                    ), FIX));
                }
            }
        }
        if let Some(path) = self.attributes_path().filter(|_| lacking) {
            let text = read_text(&path).ok().flatten().unwrap_or_default();
            let have: Vec<&str> = text.lines().map(str::trim).collect();
            for line in self
                .attribute_lines()
                .iter()
                .filter(|l| !have.contains(&l.as_str()))
            {
                problems.push(Problem::new(
                    format!("{} lacks `{line}`", path.display()),
                    FIX,
                ));
            }
        }
        Ok(problems)
    }

    pub(super) fn exclude_path(&self) -> PathBuf {
        self.paths.common_dir.join("info").join("exclude")
    }

    /// The config values install sets: a name and a driver command per ledger kind.
    pub(super) fn driver_config(&self) -> Vec<(String, String)> {
        driver_lines(&self.driver_dir().join("merge-driver"))
    }

    pub(super) fn attribute_lines(&self) -> Vec<String> {
        let ledgers = &self.config.ledgers;
        ledgers
            .patterns()
            .map(|(kind, pattern)| format!("{pattern} merge=mainstay-{kind}"))
            .collect()
    }
}

/// A name and a driver command per ledger kind, for the driver at `program`.
pub(super) fn driver_lines(program: &Path) -> Vec<(String, String)> {
    let program = shell_quote(program);
    crate::ledger::Kind::all()
        .flat_map(|kind| {
            [
                (
                    format!("merge.mainstay-{kind}.name"),
                    format!("mainstay {kind} ledger merge"),
                ),
                (
                    format!("merge.mainstay-{kind}.driver"),
                    format!("{program} {kind} -- %O %A %B %L %P"),
                ),
            ]
        })
        .collect()
}

/// Whether `hooks` is a directory a commit can fill: inside the work tree, outside the git dir
/// (husky's `.husky/_`, a committed `.githooks`). `.git/hooks` and a directory elsewhere are
/// the user's own.
pub(super) fn committable(worktree: &Path, common_dir: &Path, hooks: &Path) -> bool {
    hooks.starts_with(worktree)
        && !hooks.starts_with(common_dir)
        && !hooks.starts_with(worktree.join(".git"))
}

/// `(pattern, driver)` for each `merge=<driver>` attribute naming a custom driver.
pub(super) fn merge_drivers(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
        let mut words = line.split_whitespace();
        let Some(pattern) = words.next() else {
            continue;
        };
        for word in words {
            if let Some(driver) = word.strip_prefix("merge=")
                && !matches!(driver, "text" | "binary" | "union")
            {
                found.push((pattern.to_owned(), driver.to_owned()));
            }
        }
    }
    found
}
