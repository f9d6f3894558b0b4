//! `--check`: what is wrong with a clone's installation, each problem with its fix; it changes
//! nothing.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::hooks::{HOOK_LIMIT, installed};
use super::target::Target;
use super::{EXCLUDES, EXECUTABLES, Error, FIX, Options, Problem, global, read_text};
use crate::config::Config;
use crate::file;

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

/// What is wrong with the installed copy `dest` of `source`, if anything; `whose` goes first
/// (the worktree it belongs to).
pub(super) fn check_file(
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

#[cfg(test)]
mod tests {
    use super::super::target::merge_drivers;

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
}
