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
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{self, Config, Section};
use crate::file;
use crate::git::{self, Git};
use crate::pre_push::LOCAL_SUFFIX;

pub mod global;
mod registry;
pub mod server;

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
    /// The directory holding the built executables (normally beside `install-hooks`).
    pub source_dir: PathBuf,
    /// Where `--global` installs, so that a clone's check knows a global install covers it.
    pub global: Option<global::Place>,
}

/// What a run changed, one line per change, for the user.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub changes: Vec<String>,
}

/// One thing `--check` found wrong, with its fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem(pub String);

/// The fix for every problem `check` finds; each problem's text ends with it.
pub const FIX: &str = "run install-hooks";

impl Problem {
    /// What is wrong, without the fix that ends the text.
    pub fn what(&self) -> &str {
        self.0
            .strip_suffix(FIX)
            .and_then(|rest| rest.strip_suffix(": "))
            .unwrap_or(&self.0)
    }
}

/// The record of what install changed.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Manifest {
    hooks_dir: PathBuf,
    /// Installed executables, with the name of the hook moved aside for each, if any.
    files: Vec<InstalledFile>,
    /// Git config keys set, with the value each had before.
    config: Vec<ConfigEntry>,
    /// Lines added to `.gitattributes`, and whether the file was created.
    attributes: AddedLines,
    /// Lines added to `info/exclude`.
    exclude: AddedLines,
    /// `--global`: the global config file, and whether it existed before the first install.
    #[serde(default)]
    global_config: Option<PathBuf>,
    #[serde(default)]
    global_config_existed: bool,
    /// `--global`: the global hooks directory git ran hooks from before, as git read it (`~/`
    /// expanded); the dispatchers hand on to it.
    #[serde(default)]
    earlier_hooks: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct InstalledFile {
    name: String,
    backup: Option<String>,
    /// The directory it is in; absent in manifests from before worktrees had their own, where
    /// it is `hooks_dir`.
    #[serde(default)]
    dir: Option<PathBuf>,
}

impl InstalledFile {
    fn dir<'m>(&'m self, manifest: &'m Manifest) -> &'m Path {
        self.dir.as_deref().unwrap_or(&manifest.hooks_dir)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ConfigEntry {
    key: String,
    previous: Option<String>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct AddedLines {
    path: Option<PathBuf>,
    lines: Vec<String>,
    created: bool,
    /// A final newline was added to a file that lacked one.
    #[serde(default)]
    newline_added: bool,
}

/// The repository as install sees it.
struct Target {
    git: Git,
    paths: git::Paths,
    config: Config,
}

impl Target {
    fn open(options: &Options) -> Result<Target, Error> {
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

    fn manifest_path(&self) -> PathBuf {
        crate::state::install_manifest(&self.paths.common_dir)
    }

    /// The machine-wide install, when git runs this clone's hooks from its directory.
    fn covered_by<'o>(&self, options: &'o Options) -> Option<&'o global::Place> {
        options
            .global
            .as_ref()
            .filter(|place| self.paths.hooks == place.hooks)
    }

    fn load_manifest(&self) -> Result<Option<Manifest>, Error> {
        load_manifest(&self.manifest_path())
    }

    fn save_manifest(&self, manifest: &Manifest) -> Result<(), Error> {
        save_manifest(&self.manifest_path(), manifest)
    }

    fn attributes_path(&self) -> Option<PathBuf> {
        self.paths
            .worktree
            .as_ref()
            .map(|w| w.join(".gitattributes"))
    }

    /// Refuses, before anything is changed, to write where a commit has put a link: at
    /// `.gitattributes`, on the way down to a hooks directory inside the work tree (husky's
    /// `.husky/_`), or at a hook's name (or its `.local`) in such a directory.
    fn refuse_links(&self, worktree: &Path, hooks: &Path) -> Result<(), Error> {
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
    fn refuse_linked_dirs(&self, worktree: &Path) -> Result<(), Error> {
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
    fn hooks_dirs(&self) -> Result<Vec<(PathBuf, PathBuf)>, Error> {
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

    /// Where the merge driver lives, shared by every worktree: the drivers are registered in the
    /// clone's config, which all worktrees read.
    fn driver_dir(&self) -> PathBuf {
        crate::state::dir(&self.paths.common_dir).join("bin")
    }

    /// Files routed to a merge driver this clone does not register, and attribute lines install
    /// would add.
    fn attribute_problems(&self, lacking: bool) -> Result<Vec<Problem>, Error> {
        let mut problems = Vec::new();
        let mut attribute_files = vec![self.paths.common_dir.join("info").join("attributes")];
        attribute_files.extend(self.attributes_path());
        for path in &attribute_files {
            let text = match read_text(path) {
                Ok(Some(text)) => text,
                Ok(None) => continue,
                Err(e) => {
                    problems.push(Problem(format!("{e}: {FIX}")));
                    continue;
                }
            };
            for (pattern, driver) in merge_drivers(&text) {
                if self
                    .git
                    .config_get(&format!("merge.{driver}.driver"))?
                    .is_none()
                {
                    problems.push(Problem(format!(
                        "{} routes {pattern} to merge driver `{driver}`, which this clone does not \
                         register, so git silently falls back to a line merge: {FIX}",
                        path.display()
                    )));
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
                problems.push(Problem(format!("{} lacks `{line}`: {FIX}", path.display())));
            }
        }
        Ok(problems)
    }

    fn exclude_path(&self) -> PathBuf {
        self.paths.common_dir.join("info").join("exclude")
    }

    /// The config values install sets: a name and a driver command per ledger kind.
    fn driver_config(&self) -> Vec<(String, String)> {
        driver_lines(&self.driver_dir().join("merge-driver"))
    }

    fn attribute_lines(&self) -> Vec<String> {
        let ledgers = &self.config.ledgers;
        ledgers
            .patterns()
            .map(|(kind, pattern)| format!("{pattern} merge=mainstay-{kind}"))
            .collect()
    }
}

/// A name and a driver command per ledger kind, for the driver at `program`.
fn driver_lines(program: &Path) -> Vec<(String, String)> {
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

/// The manifest at `path`, if there is one.
fn load_manifest(path: &Path) -> Result<Option<Manifest>, Error> {
    match fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| Error::Manifest {
                path: path.to_owned(),
                message: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

fn save_manifest(path: &Path, manifest: &Manifest) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(manifest).expect("a manifest always serializes");
    write_atomic(path, text.as_bytes(), 0o644)
}

/// Sets git config `key` to `value` in `scope` (`--local`, `--global`), remembering in
/// `manifest` what it was before the first time; `true` when it changed.
fn set_config(
    git: &Git,
    scope: &str,
    key: &str,
    value: &str,
    manifest: &mut Manifest,
) -> Result<bool, Error> {
    let current = git.config_get_in(scope, key)?;
    if current.as_deref() == Some(value) {
        return Ok(false);
    }
    if !manifest.config.iter().any(|c| c.key == key) {
        manifest.config.push(ConfigEntry {
            key: key.to_owned(),
            previous: current,
        });
    }
    git.run(["config", scope, key, value])?;
    Ok(true)
}

/// Puts back every config value `manifest` recorded, in `scope`, newest first.
fn restore_config(
    git: &Git,
    scope: &str,
    manifest: &Manifest,
    report: &mut Report,
) -> Result<(), Error> {
    for entry in manifest.config.iter().rev() {
        match &entry.previous {
            Some(value) => git.run(["config", scope, &entry.key, value])?,
            None => git
                .run(["config", scope, "--unset-all", &entry.key])
                .or_else(|e| {
                    // Exit 5: the key is already gone, which is what we want.
                    match &e {
                        git::Error::Failed { status, .. } if status.code() == Some(5) => {
                            Ok(String::new())
                        }
                        _ => Err(e),
                    }
                })?,
        };
        report
            .changes
            .push(format!("restored git config {}", entry.key));
    }
    Ok(())
}

/// Installs, or brings an installation up to date. A second run reports no changes.
pub fn install(options: &Options) -> Result<Report, Error> {
    let target = Target::open(options)?;
    if let Some(place) = target.covered_by(options) {
        return install_covered(&target, place);
    }
    let mut manifest = target.load_manifest()?.unwrap_or_default();
    let mut report = Report::default();
    let dirs = target.hooks_dirs()?;
    let driver_dir = target.driver_dir();
    let legacy = manifest.hooks_dir.clone();
    for file in &mut manifest.files {
        file.dir.get_or_insert_with(|| legacy.clone());
    }
    // git reads hooks elsewhere now (husky set core.hooksPath, a worktree went): move them there.
    let stale: Vec<InstalledFile> = manifest
        .files
        .iter()
        .filter(|f| {
            let dir = f.dir(&manifest);
            dir != driver_dir && !dirs.iter().any(|(d, _)| d == dir)
        })
        .cloned()
        .collect();
    // Everything refused is refused before the first change.
    for (hooks, worktree) in &dirs {
        target.refuse_links(worktree, hooks)?;
    }
    uninstall_files(&manifest, &stale, &mut report)?;
    manifest
        .files
        .retain(|f| !stale.iter().any(|s| s.name == f.name && s.dir == f.dir));
    manifest.hooks_dir = target.paths.hooks.clone();
    for (hooks, _) in &dirs {
        fs::create_dir_all(hooks).map_err(|source| Error::Io {
            path: hooks.clone(),
            source,
        })?;
        for name in EXECUTABLES {
            install_file(&options.source_dir, hooks, name, &mut manifest, &mut report)?;
        }
    }
    install_file(
        &options.source_dir,
        &driver_dir,
        "merge-driver",
        &mut manifest,
        &mut report,
    )?;
    for (key, value) in target.driver_config() {
        if set_config(&target.git, "--local", &key, &value, &mut manifest)? {
            report.changes.push(format!("set git config {key}"));
        }
    }
    if let Some(path) = target.attributes_path() {
        let wanted = target.attribute_lines();
        add_lines(&path, &wanted, &mut manifest.attributes, &mut report)?;
    }
    let exclude: Vec<String> = EXCLUDES.iter().map(|s| (*s).to_owned()).collect();
    add_lines(
        &target.exclude_path(),
        &exclude,
        &mut manifest.exclude,
        &mut report,
    )?;
    if !report.changes.is_empty() {
        target.save_manifest(&manifest)?;
    }
    if let (Some(place), Some(worktree)) = (&options.global, &target.paths.worktree) {
        registry::add(place, registry::Kind::Clone, worktree)?;
    }
    Ok(report)
}

/// In a clone whose hooks git runs from the machine-wide install: nothing of its own to install
/// (the global hooks, merge drivers and excludes serve it), only the `.gitattributes` lines that
/// route the ledgers, which belong to the project and are committed. They are not recorded: a
/// manifest here would tell the global `pre-push` dispatcher that the clone has an install of
/// its own.
fn install_covered(target: &Target, place: &global::Place) -> Result<Report, Error> {
    let mut report = Report::default();
    report.changes.push(format!(
        "this clone is already covered by the machine-wide install in {} (install-hooks \
         --global): git runs mainstay's hooks from there, so it needs none of its own",
        place.hooks.display()
    ));
    if let (Some(path), Some(worktree)) = (target.attributes_path(), &target.paths.worktree) {
        target.refuse_linked_dirs(worktree)?;
        let mut added = AddedLines::default();
        add_lines(&path, &target.attribute_lines(), &mut added, &mut report)?;
        if !added.lines.is_empty() {
            report.changes.push(format!(
                "commit {} so that every clone routes its ledgers to the merge drivers \
                 (the lines are the project's now: --uninstall leaves them)",
                path.display()
            ));
        }
    }
    Ok(report)
}

/// `install-hooks --upgrade`: brings every clone, remote and machine-wide install made from these
/// executables up to date with them; one line per install that changed or is gone.
pub fn upgrade(options: &Options) -> Result<Report, Error> {
    let mut report = Report::default();
    let Some(place) = &options.global else {
        return Ok(report);
    };
    for (kind, path) in registry::all(place)? {
        let at = Options {
            repo: path.clone(),
            ..options.clone()
        };
        let done = match kind {
            registry::Kind::Clone
                if Git::new(&path)
                    .paths()
                    .is_ok_and(|p| crate::state::install_manifest(&p.common_dir).exists()) =>
            {
                install(&at)
            }
            registry::Kind::Server if crate::state::install_manifest(&path).exists() => {
                server::install(&at)
            }
            _ => {
                report
                    .changes
                    .push(format!("{} is no longer set up; forgotten", path.display()));
                registry::remove(place, kind, &path)?;
                continue;
            }
        };
        match done {
            Ok(changed) if changed.changes.is_empty() => {}
            Ok(changed) => report.changes.push(format!(
                "upgraded {} ({} change(s))",
                path.display(),
                changed.changes.len()
            )),
            // One install that cannot be upgraded must not stop the others.
            Err(e) => report
                .changes
                .push(format!("could not upgrade {}: {e}", path.display())),
        }
    }
    if place.hooks.with_file_name("install.json").exists() {
        let changed = global::install(options, place)?;
        if !changed.changes.is_empty() {
            report.changes.push(format!(
                "upgraded the global install in {} ({} change(s))",
                place.hooks.display(),
                changed.changes.len()
            ));
        }
    }
    Ok(report)
}

fn install_file(
    source_dir: &Path,
    hooks: &Path,
    name: &str,
    manifest: &mut Manifest,
    report: &mut Report,
) -> Result<(), Error> {
    let source = source_dir.join(name);
    let bytes = fs::read(&source).map_err(|_| Error::MissingExecutable {
        path: source.clone(),
    })?;
    let dest = hooks.join(name);
    let mut ours = manifest
        .files
        .iter()
        .any(|f| f.name == name && f.dir(manifest) == hooks);
    // Ours are executables; a script in our place is a hook manager's (lefthook, pre-commit,
    // husky) that overwrote ours: it is theirs, to keep running, not to replace.
    if ours && is_script(&dest) {
        let local = hooks.join(format!("{name}{LOCAL_SUFFIX}"));
        if !same_script(&dest, &local)? {
            if present(&local) {
                return Err(Error::BackupTaken { hook: dest, local });
            }
            fs::rename(&dest, &local).map_err(|source| Error::Io {
                path: dest.clone(),
                source,
            })?;
            report.changes.push(format!(
                "moved {}, which replaced ours, to {} (it still runs, first)",
                dest.display(),
                local.display()
            ));
            if let Some(file) = manifest.files.iter_mut().find(|f| f.name == name) {
                file.backup = Some(format!("{name}{LOCAL_SUFFIX}"));
            }
        }
        ours = true;
    }
    match installed(&dest, &bytes)? {
        Some(true) if ours => return Ok(()),
        Some(_) if ours => report.changes.push(format!("updated {}", dest.display())),
        Some(_) => {
            let local = hooks.join(format!("{name}{LOCAL_SUFFIX}"));
            if present(&local) {
                return Err(Error::BackupTaken { hook: dest, local });
            }
            // A link is moved as the link it is: it is the project's hook, not ours to follow.
            fs::rename(&dest, &local).map_err(|source| Error::Io {
                path: dest.clone(),
                source,
            })?;
            report.changes.push(format!(
                "moved the existing {} to {} (it still runs, first)",
                dest.display(),
                local.display()
            ));
            report.changes.push(format!("installed {}", dest.display()));
            manifest.files.push(InstalledFile {
                name: name.to_owned(),
                backup: Some(format!("{name}{LOCAL_SUFFIX}")),
                dir: Some(hooks.to_owned()),
            });
        }
        None => {
            if !ours {
                manifest.files.push(InstalledFile {
                    name: name.to_owned(),
                    backup: None,
                    dir: Some(hooks.to_owned()),
                });
            }
            report.changes.push(format!("installed {}", dest.display()));
        }
    }
    write_atomic(&dest, &bytes, 0o755)
}

/// Whether anything is at `path`, a link (even a dangling one) included: never followed.
fn present(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// Whether the script at `hook` and what is at `local` are the same small regular file content.
/// Neither is read through a link or past [`file::SMALL`]: a commit can put either there.
fn same_script(hook: &Path, local: &Path) -> Result<bool, Error> {
    let regular = |path: &Path| {
        fs::symlink_metadata(path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len())
    };
    let (Some(len), Some(local_len)) = (regular(hook), regular(local)) else {
        return Ok(false);
    };
    if len != local_len || len > file::SMALL {
        return Ok(false);
    }
    let read = |path: &Path| {
        file::read(path, file::SMALL).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })
    };
    Ok(read(hook)? == read(local)?)
}

/// Whether `hooks` is a directory a commit can fill: inside the work tree, outside the git dir
/// (husky's `.husky/_`, a committed `.githooks`). `.git/hooks` and a directory elsewhere are
/// the user's own.
fn committable(worktree: &Path, common_dir: &Path, hooks: &Path) -> bool {
    hooks.starts_with(worktree)
        && !hooks.starts_with(common_dir)
        && !hooks.starts_with(worktree.join(".git"))
}

/// The largest hook file compared byte for byte with ours (our executables are a few MB).
const HOOK_LIMIT: u64 = 1 << 30;

/// What is at a hook's name: `None` when nothing, else whether it is a regular file holding
/// exactly `ours`. A link, or anything else, is never read through.
fn installed(dest: &Path, ours: &[u8]) -> Result<Option<bool>, Error> {
    let io = |source| Error::Io {
        path: dest.to_owned(),
        source,
    };
    match fs::symlink_metadata(dest) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(e)),
        // The size first: a file of another size is not ours, and is not read.
        Ok(meta) if meta.is_file() && meta.len() == ours.len() as u64 => {
            let bytes = file::read(dest, HOOK_LIMIT).map_err(io)?;
            Ok(Some(bytes.as_deref() == Some(ours)))
        }
        Ok(_) => Ok(Some(false)),
    }
}

fn add_lines(
    path: &Path,
    wanted: &[String],
    added: &mut AddedLines,
    report: &mut Report,
) -> Result<(), Error> {
    let existing = read_text(path)?;
    let text = existing.clone().unwrap_or_default();
    let have: Vec<&str> = text.lines().map(str::trim).collect();
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|w| !have.contains(&w.as_str()))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut out = text.clone();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
        added.newline_added = true;
    }
    for line in &missing {
        out.push_str(line);
        out.push('\n');
        added.lines.push((*line).clone());
    }
    if existing.is_none() {
        added.created = true;
    }
    added.path = Some(path.to_owned());
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|source| Error::Io {
            path: parent.to_owned(),
            source,
        })?;
    }
    write_atomic(path, out.as_bytes(), 0o644)?;
    report.changes.push(format!(
        "added {} line(s) to {}",
        missing.len(),
        path.display()
    ));
    Ok(())
}

/// Undoes everything install recorded; the hooks that were there before come back.
pub fn uninstall(options: &Options) -> Result<Report, Error> {
    let target = Target::open(options)?;
    let mut report = Report::default();
    let Some(manifest) = target.load_manifest()? else {
        if let Some(place) = target.covered_by(options) {
            report.changes.push(format!(
                "nothing installed in this clone: it is covered by the machine-wide install in \
                 {}, which `install-hooks --global --uninstall` removes",
                place.hooks.display()
            ));
        }
        return Ok(report);
    };
    uninstall_files(&manifest, &manifest.files, &mut report)?;
    restore_config(&target.git, "--local", &manifest, &mut report)?;
    remove_lines(&manifest.attributes, &mut report)?;
    // Status files still in the work tree would show up as untracked without these lines.
    let left = target.paths.worktree.as_deref().map_or(0, status_files_in);
    if left == 0 {
        remove_lines(&manifest.exclude, &mut report)?;
    } else {
        report.changes.push(format!(
            "kept the status-file lines in {}: {left} status file(s) remain \
             (`mainstay cleanup --older-than 0d` removes them, then uninstall again)",
            target.exclude_path().display()
        ));
    }
    let path = target.manifest_path();
    if left > 0 {
        // What is left to undo: the exclude lines, for the next `--uninstall`.
        let rest = Manifest {
            exclude: manifest.exclude.clone(),
            ..Manifest::default()
        };
        save_manifest(&path, &rest)?;
    } else {
        fs::remove_file(&path).map_err(|source| Error::Io { path, source })?;
    }
    if let (Some(place), Some(worktree)) = (&options.global, &target.paths.worktree) {
        registry::remove(place, registry::Kind::Clone, worktree)?;
    }
    Ok(report)
}

/// Removes installed executables and puts the moved-aside hooks back.
fn uninstall_files(
    manifest: &Manifest,
    files: &[InstalledFile],
    report: &mut Report,
) -> Result<(), Error> {
    for file in files {
        let hooks = file.dir(manifest);
        let dest = hooks.join(&file.name);
        match fs::remove_file(&dest) {
            Ok(()) => report.changes.push(format!("removed {}", dest.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(Error::Io { path: dest, source }),
        }
        if let Some(backup) = &file.backup {
            let local = hooks.join(backup);
            if present(&local) {
                fs::rename(&local, &dest).map_err(|source| Error::Io {
                    path: local.clone(),
                    source,
                })?;
                report.changes.push(format!("restored {}", dest.display()));
            }
        }
    }
    Ok(())
}

fn remove_lines(added: &AddedLines, report: &mut Report) -> Result<(), Error> {
    let Some(path) = &added.path else {
        return Ok(());
    };
    let Some(text) = read_text(path)? else {
        return Ok(());
    };
    let mut remaining = added.lines.clone();
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if let Some(i) = remaining.iter().position(|l| l == trimmed) {
            remaining.remove(i);
            continue;
        }
        out.push_str(line);
    }
    if added.newline_added && remaining.is_empty() && out.ends_with('\n') {
        out.pop();
    }
    if out.is_empty() && added.created {
        fs::remove_file(path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
    } else {
        write_atomic(path, out.as_bytes(), 0o644)?;
    }
    report.changes.push(format!(
        "removed the lines mainstay added to {}",
        path.display()
    ));
    Ok(())
}

/// Everything wrong with the installation, each with its fix; empty when all is well.
pub fn check(options: &Options) -> Result<Vec<Problem>, Error> {
    let target = Target::open(options)?;
    let mut problems = Vec::new();
    // Every section, not only the ledgers install reads: each executable reads its own.
    if let Some(worktree) = &target.paths.worktree
        && let Err(e) = Config::load(worktree)
    {
        problems.push(Problem(format!(
            "{e}; fix it, every hook that reads that section refuses until then"
        )));
    }
    let hooks = &target.paths.hooks;
    let manifest = target.load_manifest()?;
    // A global install covers a clone that has none of its own, unless the clone reads its
    // hooks elsewhere (husky's `core.hooksPath`), which overrides the global one.
    let global = match &options.global {
        Some(place)
            if global::hooks_path(&target.git)?.as_deref().map(Path::new)
                == Some(place.hooks.as_path()) =>
        {
            Some(place)
        }
        _ => None,
    };
    if let (Some(place), None) = (global, &manifest) {
        if *hooks == place.hooks {
            problems.extend(global::check(options, place)?);
        } else {
            problems.push(Problem(format!(
                "this clone reads its hooks from {} (its own core.hooksPath), which overrides \
                 mainstay's global hooks in {}, so nothing of mainstay runs here: {FIX} in this clone",
                hooks.display(),
                place.hooks.display()
            )));
        }
        // The project routes its ledgers in its committed `.gitattributes`; no line is ours here.
        problems.extend(target.attribute_problems(false)?);
        return Ok(problems);
    }
    let exclude = read_text(&target.exclude_path())
        .ok()
        .flatten()
        .unwrap_or_default();
    for line in EXCLUDES {
        if !exclude.lines().any(|l| l.trim() == line) {
            problems.push(Problem(format!(
                "{} lacks `{line}`, so status files show as untracked: {FIX}",
                target.exclude_path().display()
            )));
        }
    }
    let dirs = target.hooks_dirs()?;
    let driver_dir = target.driver_dir();
    if let Some(m) = &manifest
        && let Some(elsewhere) = m
            .files
            .iter()
            .map(|f| f.dir(m))
            .find(|d| *d != driver_dir && !dirs.iter().any(|(h, _)| h == d))
    {
        problems.push(Problem(format!(
            "mainstay is installed in {}, but git reads hooks from {}: {FIX}",
            elsewhere.display(),
            hooks.display()
        )));
    }
    let mut wanted: Vec<(PathBuf, &str, Option<&Path>)> = Vec::new();
    for (dir, worktree) in &dirs {
        let other = (*dir != *hooks).then_some(worktree.as_path());
        wanted.extend(
            EXECUTABLES
                .iter()
                .map(|name| (dir.join(name), *name, other)),
        );
    }
    wanted.push((
        target.driver_dir().join("merge-driver"),
        "merge-driver",
        None,
    ));
    for (dest, name, worktree) in wanted {
        // Each worktree reads its own hooks directory: name the one left unprotected.
        let whose = worktree
            .map(|w| format!("worktree {}: ", w.display()))
            .unwrap_or_default();
        let source = options.source_dir.join(name);
        problems.extend(check_file(&dest, &source, &whose, FIX)?);
    }
    for (key, value) in target.driver_config() {
        match target.git.config_get(&key)? {
            Some(current) if current == value => {}
            Some(_) => problems.push(Problem(format!(
                "git config {key} is not the command install-hooks sets: {FIX}"
            ))),
            // Reported below for each attribute that routes a file to the missing driver.
            None => {}
        }
    }
    problems.extend(target.attribute_problems(true)?);
    Ok(problems)
}

/// Whether `path` is a regular file starting with `#!`.
fn is_script(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 2];
    fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
        && fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok()
        && head == *b"#!"
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

/// What is wrong with the installed copy `dest` of `source`, if anything; `whose` goes first
/// (the worktree it belongs to).
fn check_file(
    dest: &Path,
    source: &Path,
    whose: &str,
    fix: &str,
) -> Result<Option<Problem>, Error> {
    let built = file::read(source, HOOK_LIMIT).ok().flatten();
    let same = match &built {
        Some(built) => installed(dest, built)?,
        None => fs::symlink_metadata(dest).ok().map(|_| true),
    };
    Ok(match (same, built) {
        (None, _) => Some(Problem(format!(
            "{whose}{} is missing: {fix}",
            dest.display()
        ))),
        (Some(false), Some(_)) => Some(Problem(format!(
            "{whose}{} is not the version beside install-hooks (older or replaced): {fix}",
            dest.display()
        ))),
        (Some(_), _) => {
            let executable = fs::metadata(dest).is_ok_and(|m| m.permissions().mode() & 0o111 != 0);
            (!executable).then(|| {
                Problem(format!(
                    "{whose}{} is not executable: {fix}",
                    dest.display()
                ))
            })
        }
    })
}

/// `(pattern, driver)` for each `merge=<driver>` attribute naming a custom driver.
fn merge_drivers(text: &str) -> Vec<(String, String)> {
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
    fn finds_custom_merge_drivers_only() {
        let text = "# c\n*.md merge=mainstay-roadmap\n*.lock merge=union\nx -diff merge=ours2\n";
        assert_eq!(
            merge_drivers(text),
            [
                ("*.md".to_owned(), "mainstay-roadmap".to_owned()),
                ("x".to_owned(), "ours2".to_owned())
            ]
        );
    }

    #[test]
    fn quotes_paths_for_the_shell() {
        assert_eq!(shell_quote(Path::new("/a b/it's")), r"'/a b/it'\''s'");
    }
}
