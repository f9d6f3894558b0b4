//! `install-hooks --global`: one step per machine (or agent image), for every clone on it,
//! including clones made later.
//!
//! The route is git's own global configuration: `core.hooksPath` in the user's global config
//! points at a mainstay hooks directory (`$XDG_CONFIG_HOME/mainstay/hooks`, else
//! `~/.config/mainstay/hooks`), and the ledger merge drivers are registered there too. With a
//! global `core.hooksPath`, git no longer runs a clone's `.git/hooks/*`, so the directory holds,
//! beside our executables, a small dispatcher for every other hook name git runs, which hands
//! on to the clone's own hook with the same arguments and stdin (its exit status is the hook's).
//! Where an earlier global `core.hooksPath` was set, the dispatchers hand on to that directory
//! instead, as git did before. `pre-push` hands on through `pre-push.local`, as in a clone.
//!
//! Two names get no dispatcher, because their mere presence changes what git does:
//! `push-to-checkout` and `proc-receive`. A repository that sets its own `core.hooksPath`
//! (husky) overrides the global one: `install-hooks --check` and `doctor` say so, with the fix.
//!
//! Everything changed is recorded in `install.json` beside the hooks directory, so a second run
//! changes nothing and `--uninstall` puts back exactly what was there, the earlier global
//! `core.hooksPath` included, and the global config file byte for byte.

use std::fs;
use std::path::{Path, PathBuf};

use super::{Error, FIX, Manifest, Options, Problem, Report};
use crate::git::Git;

/// The hook names git runs that get a dispatcher (see githooks(5)).
pub const DISPATCHED: [&str; 24] = [
    "applypatch-msg",
    "pre-applypatch",
    "post-applypatch",
    "pre-commit",
    "pre-merge-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "pre-rebase",
    "post-checkout",
    "post-merge",
    "post-rewrite",
    "reference-transaction",
    "post-index-change",
    "pre-auto-gc",
    "sendemail-validate",
    "pre-receive",
    "update",
    "post-receive",
    "post-update",
    "p4-changelist",
    "p4-prepare-changelist",
    "p4-post-changelist",
    "p4-pre-submit",
];

/// The line that marks a dispatcher as ours.
const MARKER: &str = "# installed by mainstay (install-hooks --global)";

/// Where `--global` installs.
#[derive(Debug, Clone)]
pub struct Place {
    /// The hooks directory the global `core.hooksPath` names.
    pub hooks: PathBuf,
    /// A directory to run `git config --global` in (the home directory).
    pub home: PathBuf,
    /// `$XDG_CONFIG_HOME`, or `~/.config`.
    pub config_home: PathBuf,
}

impl Place {
    /// `$XDG_CONFIG_HOME/mainstay/hooks`, else `$HOME/.config/mainstay/hooks`: from the values
    /// of those variables, which the caller reads.
    pub fn new(home: Option<PathBuf>, xdg_config_home: Option<PathBuf>) -> Option<Place> {
        let home = home.filter(|h| h.is_absolute())?;
        let config = xdg_config_home
            .filter(|x| x.is_absolute())
            .unwrap_or_else(|| home.join(".config"));
        Some(Place {
            hooks: config.join("mainstay").join("hooks"),
            home,
            config_home: config,
        })
    }

    fn manifest_path(&self) -> PathBuf {
        self.hooks.with_file_name("install.json")
    }

    fn git(&self) -> Git {
        Git::new(&self.home)
    }
}

/// The global `core.hooksPath`, if set.
pub fn hooks_path(git: &Git) -> Result<Option<String>, Error> {
    Ok(git.config_get_in("--global", "core.hooksPath")?)
}

/// Installs, or brings the global installation up to date; a second run changes nothing.
pub fn install(options: &Options, place: &Place) -> Result<Report, Error> {
    let path = place.manifest_path();
    let mut manifest = super::load_manifest(&path)?.unwrap_or_default();
    let mut report = Report::default();
    let git = place.git();
    let hooks = &place.hooks;
    fs::create_dir_all(hooks).map_err(|source| Error::Io {
        path: hooks.clone(),
        source,
    })?;
    if manifest.hooks_dir.as_os_str().is_empty() {
        // The first run: remember where the global config lives and whether it existed.
        manifest.global_config = Some(global_config_file(place));
        manifest.global_config_existed =
            manifest.global_config.as_ref().is_some_and(|p| p.exists());
    }
    manifest.hooks_dir = hooks.clone();
    for name in super::EXECUTABLES {
        super::install_file(&options.source_dir, hooks, name, &mut manifest, &mut report)?;
    }
    // Where the dispatchers hand on to: an earlier global hooks directory, or the clone's own.
    let earlier = manifest
        .config
        .iter()
        .find(|c| c.key == "core.hooksPath")
        .map(|c| c.previous.clone())
        .unwrap_or(hooks_path(&git)?)
        .filter(|p| Path::new(p) != hooks.as_path());
    for name in DISPATCHED.iter().copied().chain(["pre-push.local"]) {
        let hook = name.trim_end_matches(".local");
        let text = dispatcher(hook, earlier.as_deref());
        let dest = hooks.join(name);
        if crate::file::read_text(&dest, crate::file::SMALL)
            .ok()
            .flatten()
            .as_deref()
            == Some(&text)
        {
            continue;
        }
        super::write_atomic(&dest, text.as_bytes(), 0o755)?;
        if !manifest.files.iter().any(|f| f.name == name) {
            manifest.files.push(super::InstalledFile {
                name: name.to_owned(),
                backup: None,
                dir: Some(hooks.clone()),
            });
        }
        report.changes.push(format!("installed {}", dest.display()));
    }
    let hooks_text = hooks.display().to_string();
    if super::set_config(
        &git,
        "--global",
        "core.hooksPath",
        &hooks_text,
        &mut manifest,
    )? {
        report
            .changes
            .push("set global git config core.hooksPath".to_owned());
    }
    for (key, value) in driver_config(hooks) {
        if super::set_config(&git, "--global", &key, &value, &mut manifest)? {
            report.changes.push(format!("set global git config {key}"));
        }
    }
    // Status files appear in every work tree: ignored through the global excludes file.
    let excludes: Vec<String> = super::EXCLUDES.iter().map(|s| (*s).to_owned()).collect();
    super::add_lines(
        &excludes_file(place, &git)?,
        &excludes,
        &mut manifest.exclude,
        &mut report,
    )?;
    if !report.changes.is_empty() {
        super::save_manifest(&path, &manifest)?;
    }
    Ok(report)
}

/// The global excludes file git reads: `core.excludesFile`, else `$XDG_CONFIG_HOME/git/ignore`.
fn excludes_file(place: &Place, git: &Git) -> Result<PathBuf, Error> {
    Ok(match git.config_get_in("--global", "core.excludesFile")? {
        Some(path) => match path.strip_prefix("~/") {
            Some(rest) => place.home.join(rest),
            None => PathBuf::from(path),
        },
        None => place.config_home.join("git").join("ignore"),
    })
}

/// Everything wrong with the global installation, each with its fix.
pub fn check(options: &Options, place: &Place) -> Result<Vec<Problem>, Error> {
    let mut problems = Vec::new();
    let hooks = &place.hooks;
    for name in super::EXECUTABLES {
        let source = options.source_dir.join(name);
        problems.extend(super::check_file(&hooks.join(name), &source, "")?);
    }
    let fix = format!("{FIX} --global");
    for name in DISPATCHED.iter().copied().chain(["pre-push.local"]) {
        let dest = hooks.join(name);
        let text = crate::file::read_text(&dest, crate::file::SMALL)
            .ok()
            .flatten();
        if !text.is_some_and(|t| t.contains(MARKER)) {
            problems.push(Problem(format!(
                "{} is missing or not ours: {fix}",
                dest.display()
            )));
        }
    }
    let git = place.git();
    let excludes = excludes_file(place, &git)?;
    let text = crate::file::read_text(&excludes, crate::file::SMALL)
        .ok()
        .flatten()
        .unwrap_or_default();
    for line in super::EXCLUDES {
        if !text.lines().any(|l| l.trim() == line) {
            problems.push(Problem(format!(
                "{} lacks `{line}`, so status files show as untracked: {fix}",
                excludes.display()
            )));
        }
    }
    let hooks_text = hooks.display().to_string();
    let mut wanted = vec![("core.hooksPath".to_owned(), hooks_text)];
    wanted.extend(driver_config(hooks));
    for (key, value) in wanted {
        if git.config_get_in("--global", &key)?.as_deref() != Some(value.as_str()) {
            problems.push(Problem(format!(
                "global git config {key} is not what install-hooks --global sets: {fix}"
            )));
        }
    }
    Ok(problems)
}

/// Puts back everything `install` changed: the global config as it was, the files removed.
pub fn uninstall(place: &Place) -> Result<Report, Error> {
    let mut report = Report::default();
    let path = place.manifest_path();
    let Some(manifest): Option<Manifest> = super::load_manifest(&path)? else {
        return Ok(report);
    };
    super::restore_config(&place.git(), "--global", &manifest, &mut report)?;
    if let Some(config) = &manifest.global_config
        && !manifest.global_config_existed
        && fs::metadata(config).is_ok_and(|m| m.len() == 0)
    {
        // git leaves the file it created, empty: it was not there before.
        fs::remove_file(config).map_err(|source| Error::Io {
            path: config.clone(),
            source,
        })?;
    }
    super::uninstall_files(&manifest, &manifest.files, &mut report)?;
    super::remove_lines(&manifest.exclude, &mut report)?;
    fs::remove_file(&path).map_err(|source| Error::Io { path, source })?;
    for dir in [
        place.hooks.as_path(),
        place.hooks.parent().unwrap_or(&place.hooks),
    ] {
        // Only when empty: anything else there is not ours to remove.
        let _ = fs::remove_dir(dir);
    }
    Ok(report)
}

/// The file `git config --global` writes: `~/.gitconfig`, or, when only that exists, the XDG
/// one (`$XDG_CONFIG_HOME/git/config`).
fn global_config_file(place: &Place) -> PathBuf {
    let dot = place.home.join(".gitconfig");
    let xdg = place.config_home.join("git").join("config");
    if !dot.exists() && xdg.exists() {
        xdg
    } else {
        dot
    }
}

/// The merge driver registrations, pointing at the global directory's driver.
fn driver_config(hooks: &Path) -> Vec<(String, String)> {
    super::driver_lines(&hooks.join("merge-driver"))
}

/// A dispatcher for `hook`: runs the repository's own hook of that name (or the one in
/// `earlier`, the global hooks directory that was set before), with the same arguments and
/// stdin. Cheap on purpose: it runs for every commit once installed.
fn dispatcher(hook: &str, earlier: Option<&str>) -> String {
    let dir = match earlier {
        Some(dir) => format!("dir='{}'", dir.replace('\'', r"'\''")),
        // The common git dir: a clone's hooks are shared by its worktrees. `.git` as a directory
        // at the top of the work tree is the common case, answered without running git.
        None => "if [ -d .git ]; then dir=.git/hooks; else dir=\"$(git rev-parse --git-common-dir 2>/dev/null)/hooks\" || exit 0; fi".to_owned(),
    };
    let name = if hook == "pre-push" && earlier.is_none() {
        // A clone installed on its own keeps its project's hook as `pre-push.local`, and its
        // `pre-push` is ours: run the project's, not ours twice.
        "if [ -f \"$dir/../mainstay/install.json\" ]; then hook=\"$dir/pre-push.local\"; else hook=\"$dir/pre-push\"; fi".to_owned()
    } else {
        format!("hook=\"$dir/{hook}\"")
    };
    format!(
        "#!/bin/sh\n{MARKER}\n# Hands on to this repository's own `{hook}` hook, which git no longer runs itself.\n{dir}\n{name}\n[ -x \"$hook\" ] || exit 0\nexec \"$hook\" \"$@\"\n"
    )
}
