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
//! `core.hooksPath` included. The global config file comes back byte for byte: its bytes before
//! the first install and after the last change are kept beside the manifest (`gitconfig.before`,
//! `gitconfig.after`, readable by the user alone, as the file itself may hold credentials).
//! When the file changed since, mainstay's own edits are taken out of it textually, a three-way
//! merge that keeps everything else; where someone edited the very lines mainstay wrote, it
//! falls back to `git config`, key by key, and leaves alone any key no longer set to mainstay's
//! value.
//!
//! The monitor's status files appear in the work trees of covered clones: `post-push` notes each
//! such work tree in `worktrees` beside the manifest, and `--uninstall` keeps the global exclude
//! lines while any of them still holds status files, as a clone's own uninstall does.

use std::fs;
use std::path::{Path, PathBuf};

use super::dispatch::{self, Handoff};
use super::manifest::{self, Manifest};
use super::{Error, FIX, Options, Problem, Report, gitconfig, hooks, hookspath, target};
use crate::git::Git;

pub use super::place::Place;

/// The `core.hooksPath` git reads outside any repository (every scope, includes followed), as
/// git uses it (`~/` expanded).
pub fn hooks_path(git: &Git) -> Result<Option<PathBuf>, Error> {
    Ok(hookspath::winner(git)?.map(|w| w.value))
}

/// `~/…` as git expands it in a path-typed value, for manifests from before the expanded path
/// was kept.
fn expand_home(raw: &str, home: &Path) -> PathBuf {
    match raw.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None => PathBuf::from(raw),
    }
}

/// Whether the machine-wide install is in place (not merely the exclude lines an uninstall kept).
pub fn installed(place: &Place) -> bool {
    manifest::load_manifest(&place.manifest_path())
        .ok()
        .flatten()
        .is_some_and(|m| !m.hooks_dir.as_os_str().is_empty())
}

/// Installs, or brings the global installation up to date; a second run changes nothing.
pub fn install(options: &Options, place: &Place) -> Result<Report, Error> {
    let path = place.manifest_path();
    let mut manifest = manifest::load_manifest(&path)?.unwrap_or_default();
    let mut report = Report::default();
    let git = place.git();
    let hooks = &place.hooks;
    fs::create_dir_all(hooks).map_err(|source| Error::Io {
        path: hooks.clone(),
        source,
    })?;
    let first = manifest.hooks_dir.as_os_str().is_empty();
    if first {
        // The first run: remember where the global config lives, whether it existed, and where
        // git ran hooks from before.
        manifest.global_config = Some(gitconfig::global_config_file(place));
        manifest.global_config_existed =
            manifest.global_config.as_ref().is_some_and(|p| p.exists());
        manifest.earlier_hooks = hooks_path(&git)?.filter(|p| p != hooks);
    } else if manifest.earlier_hooks.is_none() {
        manifest.earlier_hooks = manifest
            .config
            .iter()
            .find(|c| c.key == "core.hooksPath")
            .and_then(|c| c.previous.as_deref())
            .map(|raw| expand_home(raw, &place.home));
    }
    manifest.hooks_dir = hooks.clone();
    for name in super::EXECUTABLES {
        hooks::install_file(options, hooks, name, &mut manifest, &mut report)?;
    }
    let config_file = manifest
        .global_config
        .clone()
        .unwrap_or_else(|| gitconfig::global_config_file(place));
    let config_before = gitconfig::read_config(&config_file)?;
    let mut config_changed = false;
    for (key, value) in wanted_config(hooks) {
        if manifest::set_config(&git, "--global", &key, &value, &mut manifest)? {
            report.changes.push(format!("set global git config {key}"));
            config_changed = true;
        }
    }
    // git reads the last value: one an include after ours sets would win, so ours goes last.
    let includes = hookspath::includes(&git, &config_file, hooks)?;
    if let Some(theirs) = includes.after.first() {
        let mut text = gitconfig::read_config(&config_file)?;
        if !text.is_empty() && !text.ends_with(b"\n") {
            text.push(b'\n');
        }
        text.extend_from_slice(format!("[core]\n\thooksPath = {}\n", hooks.display()).as_bytes());
        super::write_atomic(&config_file, &text, gitconfig::mode_of(&config_file))?;
        report.changes.push(format!(
            "set core.hooksPath again at the end of {}: it includes {} after its own value, \
             which sets core.hooksPath too and would win",
            config_file.display(),
            theirs.display()
        ));
        config_changed = true;
    }
    if config_changed {
        gitconfig::keep_config_bytes(
            place,
            first,
            &config_before,
            &gitconfig::read_config(&config_file)?,
        )?;
    }
    // Read again: an include that came after ours comes before it now.
    manifest.ask_git = hookspath::includes(&git, &config_file, hooks)?.conditional_before;
    // Where the dispatchers hand on to: an earlier global hooks directory, or the clone's own.
    let earlier = manifest.earlier_hooks.clone().filter(|p| p != hooks);
    let handoff = handoff(&manifest, hooks, earlier.as_deref());
    for name in dispatched() {
        let text = dispatch::script(name, handoff);
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
            manifest.files.push(manifest::InstalledFile {
                name: name.to_owned(),
                backup: None,
                dir: Some(hooks.clone()),
            });
        }
        report.changes.push(format!("installed {}", dest.display()));
    }
    if let Some(winner) = hookspath::winner(&git)?.filter(|w| w.value != *hooks) {
        report.changes.push(format!(
            "but git reads core.hooksPath={} from {}, so it does not run mainstay's hooks: \
             see install-hooks --global --check",
            winner.value.display(),
            winner.set_in()
        ));
    }
    // Status files appear in every work tree: ignored through the global excludes file.
    let excludes: Vec<String> = super::EXCLUDES.iter().map(|s| (*s).to_owned()).collect();
    manifest::add_lines(
        &excludes_file(place, &git)?,
        &excludes,
        &mut manifest.exclude,
        &mut report,
    )?;
    if !report.changes.is_empty() {
        manifest::save_manifest(&path, &manifest)?;
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
    let fix = format!("{FIX} --global");
    let manifest = manifest::load_manifest(&place.manifest_path())?.unwrap_or_default();
    if manifest.hooks_dir.as_os_str().is_empty() {
        problems.push(Problem::new("mainstay is not installed machine-wide", &fix));
        return Ok(problems);
    }
    for name in super::EXECUTABLES {
        let source = options.source(name);
        problems.extend(hooks::check_file(&hooks.join(name), &source, "", &fix)?);
    }
    let earlier = manifest.earlier_hooks.clone().filter(|p| p != hooks);
    let handoff = handoff(&manifest, hooks, earlier.as_deref());
    for name in dispatched() {
        let dest = hooks.join(name);
        let text = crate::file::read_text(&dest, crate::file::SMALL)
            .ok()
            .flatten();
        if text.as_deref() != Some(dispatch::script(name, handoff).as_str()) {
            problems.push(Problem::new(
                format!("{} is missing, not ours or out of date", dest.display()),
                &fix,
            ));
        }
    }
    problems.extend(reads_ours(place, &manifest)?);
    let git = place.git();
    let excludes = excludes_file(place, &git)?;
    let text = crate::file::read_text(&excludes, crate::file::SMALL)
        .ok()
        .flatten()
        .unwrap_or_default();
    for line in super::EXCLUDES {
        if !text.lines().any(|l| l.trim() == line) {
            problems.push(Problem::new(
                format!(
                    "{} lacks `{line}`, so status files show as untracked",
                    excludes.display()
                ),
                &fix,
            ));
        }
    }
    for (key, value) in wanted_config(hooks) {
        if git.config_get_in("--global", &key)?.as_deref() != Some(value.as_str()) {
            problems.push(Problem::new(
                format!("global git config {key} is not what install-hooks --global sets"),
                &fix,
            ));
        }
    }
    Ok(problems)
}

/// Whether git, outside any repository, reads mainstay's `core.hooksPath`, and no include after
/// it can set another one for some repositories.
fn reads_ours(place: &Place, manifest: &Manifest) -> Result<Vec<Problem>, Error> {
    let git = place.git();
    let hooks = &place.hooks;
    let fix = format!("{FIX} --global");
    let mut problems = Vec::new();
    match hookspath::winner(&git)? {
        Some(w) if w.value == *hooks => {}
        Some(w) if w.scope == "command" => problems.push(Problem::new(
            format!(
                "git reads core.hooksPath={} from {}, so it runs none of mainstay's hooks",
                w.value.display(),
                w.set_in()
            ),
            "unset it (git -c core.hooksPath, GIT_CONFIG_PARAMETERS, GIT_CONFIG_COUNT)",
        )),
        Some(w) => problems.push(Problem::new(
            format!(
                "git reads core.hooksPath={} from {}, after mainstay's, so it runs none of \
                 mainstay's hooks",
                w.value.display(),
                w.set_in()
            ),
            &fix,
        )),
        None => problems.push(Problem::new(
            "no core.hooksPath is set, so git runs none of mainstay's machine-wide hooks",
            &fix,
        )),
    }
    if let Some(file) = &manifest.global_config {
        for theirs in hookspath::includes(&git, file, hooks)?.after {
            problems.push(Problem::new(
                format!(
                    "{} includes {} after mainstay's core.hooksPath, which sets its own: where it \
                     applies, git runs none of mainstay's hooks",
                    file.display(),
                    theirs.display()
                ),
                &fix,
            ));
        }
    }
    Ok(problems)
}

/// Puts back everything `install` changed: the global config as it was, the files removed.
pub fn uninstall(place: &Place) -> Result<Report, Error> {
    let mut report = Report::default();
    let path = place.manifest_path();
    let Some(manifest): Option<Manifest> = manifest::load_manifest(&path)? else {
        return Ok(report);
    };
    if manifest.hooks_dir.as_os_str().is_empty() {
        // What a previous uninstall left: the exclude lines, kept for status files.
        return uninstall_excludes(place, &manifest, &mut report).map(|()| report);
    }
    restore_global_config(place, &manifest, &mut report)?;
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
    hooks::uninstall_files(&manifest, &manifest.files, &mut report)?;
    for name in [gitconfig::BEFORE, gitconfig::AFTER] {
        super::remove_if_there(&place.hooks.with_file_name(name))?;
    }
    uninstall_excludes(place, &manifest, &mut report)?;
    Ok(report)
}

/// Removes the global exclude lines, or, while covered clones still hold status files, keeps
/// them (and the record of them) and says so; then what is left of the installation.
fn uninstall_excludes(
    place: &Place,
    manifest: &Manifest,
    report: &mut Report,
) -> Result<(), Error> {
    let path = place.manifest_path();
    let remaining: Vec<(PathBuf, usize)> = status_worktrees(place)?
        .into_iter()
        .map(|w| {
            let n = super::status_files_in(&w);
            (w, n)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    if let Some((first, _)) = remaining.first() {
        let left: usize = remaining.iter().map(|(_, n)| n).sum();
        let excludes = manifest.exclude.path.as_deref().map_or_else(
            || "the global excludes file".to_owned(),
            |p| p.display().to_string(),
        );
        report.changes.push(format!(
            "kept the status-file lines in {excludes}: {left} status file(s) remain in {} \
             clone(s), {} among them (`mainstay cleanup --older-than 0d` there removes them, \
             then uninstall again)",
            remaining.len(),
            first.display()
        ));
        let rest = Manifest {
            exclude: manifest.exclude.clone(),
            ..Manifest::default()
        };
        return manifest::save_manifest(&path, &rest);
    }
    manifest::remove_lines(&manifest.exclude, report)?;
    super::remove_if_there(&place.hooks.with_file_name(WORKTREES))?;
    fs::remove_file(&path).map_err(|source| Error::Io { path, source })?;
    for dir in [
        place.hooks.as_path(),
        place.hooks.parent().unwrap_or(&place.hooks),
    ] {
        // Only when empty: anything else there is not ours to remove.
        let _ = fs::remove_dir(dir);
    }
    Ok(())
}

/// The work trees `post-push` noted (see [`note_worktree`]) that still exist.
fn status_worktrees(place: &Place) -> Result<Vec<PathBuf>, Error> {
    let file = place.hooks.with_file_name(WORKTREES);
    let text = super::read_text(&file)?.unwrap_or_default();
    Ok(text
        .lines()
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && p.is_dir())
        .collect())
}

/// Work trees that got status files under the machine-wide install, one a line.
const WORKTREES: &str = "worktrees";

/// Notes that the monitor writes status files into `worktree`, when `hooks` (the directory
/// `post-push` runs from) is the machine-wide install's: its `--uninstall` then keeps the
/// exclude lines while they remain. Anything else (a clone's own install) notes nothing.
pub fn note_worktree(hooks: &Path, worktree: &Path) -> Result<(), Error> {
    let is_global = hooks.file_name().is_some_and(|n| n == "hooks")
        && hooks
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|n| n == "mainstay")
        && hooks.with_file_name("install.json").is_file();
    if !is_global || !worktree.is_absolute() {
        return Ok(());
    }
    let file = hooks.with_file_name(WORKTREES);
    let text = crate::file::read_text(&file, crate::file::SMALL)
        .ok()
        .flatten()
        .unwrap_or_default();
    if text.lines().any(|l| Path::new(l) == worktree) {
        return Ok(());
    }
    use std::io::Write;
    // One append of one line: two post-push processes may note at the same moment.
    crate::file::open_append(&file)
        .and_then(|mut f| f.write_all(format!("{}\n", worktree.display()).as_bytes()))
        .map_err(|source| Error::Io { path: file, source })
}

/// Puts the global config file back as it was before the first install: byte for byte when no
/// one changed it since; else with mainstay's edits taken out and the others kept; else, where
/// the very lines mainstay wrote were edited, key by key, leaving a key no longer set to
/// mainstay's value as it is.
fn restore_global_config(
    place: &Place,
    manifest: &Manifest,
    report: &mut Report,
) -> Result<(), Error> {
    let kept = fs::read(place.hooks.with_file_name(gitconfig::BEFORE))
        .ok()
        .zip(fs::read(place.hooks.with_file_name(gitconfig::AFTER)).ok());
    if let (Some(file), Some((original, last))) = (&manifest.global_config, kept) {
        let current = gitconfig::read_config(file)?;
        let restored = if current == last {
            Some(original)
        } else {
            gitconfig::revert(place, &last, &current, &original)
        };
        if let Some(bytes) = restored {
            let mode = fs::metadata(file).map_or(0o644, |m| {
                std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777
            });
            // An empty file it did not find is removed below.
            super::write_atomic(file, &bytes, mode)?;
            report.changes.push(if current == last {
                format!("restored {} as it was before install-hooks --global", file.display())
            } else {
                format!(
                    "restored {} as it was before install-hooks --global, keeping the edits made to it since",
                    file.display()
                )
            });
            return Ok(());
        }
        report.changes.push(format!(
            "{} was edited since install where mainstay wrote: restored key by key with git config",
            file.display()
        ));
    }
    let git = place.git();
    let ours = wanted_config(&place.hooks);
    let mut still_ours = Manifest::default();
    for entry in &manifest.config {
        let current = git.config_get_in("--global", &entry.key)?;
        let mine = ours.iter().find(|(k, _)| *k == entry.key).map(|(_, v)| v);
        if current.is_some() && current.as_ref() != mine {
            report.changes.push(format!(
                "left global git config {}: changed since install-hooks --global set it",
                entry.key
            ));
            continue;
        }
        still_ours.config.push(entry.clone());
    }
    manifest::restore_config(&git, "--global", &still_ours, report)
}

/// The global config values install sets: `core.hooksPath` and the merge driver registrations,
/// pointing at the global directory's driver.
fn wanted_config(hooks: &Path) -> Vec<(String, String)> {
    let mut wanted = vec![("core.hooksPath".to_owned(), hooks.display().to_string())];
    wanted.extend(target::driver_lines(&hooks.join("merge-driver")));
    wanted
}

/// Every name that gets a dispatcher: each hook git runs but `pre-push` (ours), and
/// `pre-push.local`, which our `pre-push` runs first.
fn dispatched() -> impl Iterator<Item = &'static str> {
    dispatch::HOOKS.iter().copied().chain(["pre-push.local"])
}

/// What the dispatchers hand on to, as the manifest records it.
fn handoff<'a>(manifest: &Manifest, hooks: &'a Path, earlier: Option<&'a Path>) -> Handoff<'a> {
    match earlier {
        _ if manifest.ask_git => Handoff::AskGit { ours: hooks },
        Some(dir) => Handoff::Earlier(dir),
        None => Handoff::Repository,
    }
}
