//! Installing into one clone and undoing it: the executables where git reads hooks, the merge
//! drivers in the clone's config, the routing lines and the status-file excludes.

use std::fs;
use std::path::Path;

use super::hooks::{install_file, uninstall_files};
use super::manifest::{
    AddedLines, InstalledFile, Manifest, add_lines, remove_lines, restore_config, save_manifest,
    set_config,
};
use super::place::Place;
use super::target::Target;
use super::{EXCLUDES, EXECUTABLES, Error, Options, Report, managers, registry, status_files_in};

/// Installs, or brings an installation up to date. A second run reports no changes.
pub fn install(options: &Options) -> Result<Report, Error> {
    let target = Target::open(options)?;
    if let Some(place) = target.covered_by(options) {
        let mut report = Report::default();
        // Installed on its own before the machine-wide install: retired, never left dormant.
        if let Some(manifest) = target.load_manifest()? {
            retire(&target, &manifest, &mut report)?;
        }
        report
            .changes
            .extend(install_covered(&target, place)?.changes);
        return Ok(report);
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
            install_file(options, hooks, name, &mut manifest, &mut report)?;
        }
    }
    // Under husky, the project's `.husky/pre-push` calls ours too: husky rewrites `.husky/_` on
    // every `npm install`, and that line survives it (it does nothing where mainstay is absent).
    let husky = target.husky_dir();
    let shared: &[&str] = if husky.is_some() {
        &EXECUTABLES
    } else {
        &["merge-driver"]
    };
    for name in shared {
        install_file(options, &driver_dir, name, &mut manifest, &mut report)?;
    }
    if let Some(dir) = husky {
        add_first_line(
            &dir.join("pre-push"),
            managers::HUSKY_LINE,
            &mut manifest.husky,
            &mut report,
        )?;
    }
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
pub(super) fn install_covered(target: &Target, place: &Place) -> Result<Report, Error> {
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

/// Adds `line` to the script at `path` as its first command (after a `#!` line), where it gets
/// the hook's stdin before anything else reads it.
fn add_first_line(
    path: &Path,
    line: &str,
    added: &mut AddedLines,
    report: &mut Report,
) -> Result<(), Error> {
    let existing = super::read_text(path)?;
    let text = existing.clone().unwrap_or_default();
    if text.lines().any(|l| l.trim() == line) {
        return Ok(());
    }
    let at = if text.starts_with("#!") {
        text.find('\n').map_or(text.len(), |i| i + 1)
    } else {
        0
    };
    let mut out = text.clone();
    if at == text.len() && !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
        added.newline_added = true;
    }
    let at = at.min(out.len());
    out.insert_str(at, &format!("{line}\n"));
    added.lines.push(line.to_owned());
    added.created |= existing.is_none();
    added.path = Some(path.to_owned());
    super::write_atomic(path, out.as_bytes(), 0o644)?;
    report.changes.push(format!(
        "added a line to {} that runs mainstay's pre-push first (commit it: it survives husky's \
         rewrite of .husky/_, and does nothing where mainstay is not installed)",
        path.display()
    ));
    Ok(())
}

/// Whether git runs this clone's hooks from the machine-wide install.
pub(super) fn covered(options: &Options) -> Result<bool, Error> {
    Ok(Target::open(options)?.covered_by(options).is_some())
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
    remove_project_lines(&target, &manifest.attributes, &mut report)?;
    remove_project_lines(&target, &manifest.husky, &mut report)?;
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

/// Takes a per-clone install out of a clone the machine-wide install covers: its executables and
/// config go (git runs the global ones), the routing lines stay (the project's, as in any
/// covered clone), and so do the exclude lines while status files remain.
fn retire(target: &Target, manifest: &Manifest, report: &mut Report) -> Result<(), Error> {
    report.changes.push(
        "retired this clone's own install (from before the machine-wide one, which covers it)"
            .to_owned(),
    );
    uninstall_files(manifest, &manifest.files, report)?;
    restore_config(&target.git, "--local", manifest, report)?;
    let path = target.manifest_path();
    let left = target.paths.worktree.as_deref().map_or(0, status_files_in);
    if left == 0 {
        remove_lines(&manifest.exclude, report)?;
        fs::remove_file(&path).map_err(|source| Error::Io { path, source })
    } else {
        let rest = Manifest {
            exclude: manifest.exclude.clone(),
            ..Manifest::default()
        };
        save_manifest(&path, &rest)
    }
}

/// Takes out the lines install added to a file of the project's (`.gitattributes`, husky's
/// `.husky/pre-push`), unless the file is committed: then they are the project's, and stay.
fn remove_project_lines(
    target: &Target,
    added: &AddedLines,
    report: &mut Report,
) -> Result<(), Error> {
    let (Some(path), Some(worktree)) = (&added.path, &target.paths.worktree) else {
        return Ok(());
    };
    let committed = crate::git::Git::new(worktree)
        .output([
            std::ffi::OsStr::new("ls-files"),
            std::ffi::OsStr::new("--error-unmatch"),
            std::ffi::OsStr::new("--"),
            path.as_os_str(),
        ])
        .is_ok_and(|out| out.status.success());
    if committed {
        report.changes.push(format!(
            "left the lines mainstay added to {}: it is committed, so they are the project's",
            path.display()
        ));
        return Ok(());
    }
    remove_lines(added, report)
}
