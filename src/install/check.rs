//! `--check`: what is wrong with a clone's installation, each problem with its fix; it changes
//! nothing.

use std::path::{Path, PathBuf};

use super::hooks;
use super::managers;
use super::place::Place;
use super::target::Target;
use super::{EXCLUDES, EXECUTABLES, Error, FIX, Options, Problem, global, hookspath, read_text};
use crate::config::Config;

/// Everything wrong with the installation, each with its fix; empty when all is well.
pub fn check(options: &Options) -> Result<Vec<Problem>, Error> {
    let target = Target::open(options)?;
    let mut problems = Vec::new();
    // Every section, not only the ledgers install reads: each executable reads its own.
    if let Some(worktree) = &target.paths.worktree
        && let Err(e) = Config::load(worktree)
    {
        problems.push(Problem::new(
            format!("{e}; every hook that reads that section refuses until then"),
            "fix it",
        ));
    }
    let hooks = &target.paths.hooks;
    let manifest = target.load_manifest()?;
    // A global install covers a clone that has none of its own, unless git reads the clone's
    // hooks from elsewhere: its own core.hooksPath (husky's), or an include after mainstay's.
    let global = options.global.as_ref().filter(|p| global::installed(p));
    if let (Some(place), None) = (global, &manifest) {
        if *hooks == place.hooks {
            problems.extend(global::check(options, place)?);
        } else {
            problems.push(not_read(&target, place)?);
        }
        // The project routes its ledgers in its committed `.gitattributes`; no line is ours here.
        problems.extend(target.attribute_problems(false)?);
        return Ok(problems);
    }
    if let (Some(place), Some(m)) = (global, &manifest)
        && *hooks == place.hooks
        && !m.files.is_empty()
    {
        problems.push(Problem::new(
            format!(
                "this clone has an install of its own from before the machine-wide one in {}, \
                 which git runs instead",
                place.hooks.display()
            ),
            "run install-hooks (it retires this clone's own; install-hooks --uninstall removes it)",
        ));
        return Ok(problems);
    }
    let exclude = read_text(&target.exclude_path())
        .ok()
        .flatten()
        .unwrap_or_default();
    for line in EXCLUDES {
        if !exclude.lines().any(|l| l.trim() == line) {
            problems.push(Problem::new(
                format!(
                    "{} lacks `{line}`, so status files show as untracked",
                    target.exclude_path().display()
                ),
                FIX,
            ));
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
        problems.push(Problem::new(
            format!(
                "mainstay is installed in {}, but git reads hooks from {}",
                elsewhere.display(),
                hooks.display()
            ),
            FIX,
        ));
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
    // Under husky, the shared copies are what `.husky/pre-push` runs once husky rewrote `_`.
    let husky = target.husky_dir();
    let husky_line = husky.as_ref().is_some_and(|dir| {
        read_text(&dir.join("pre-push"))
            .ok()
            .flatten()
            .is_some_and(|t| t.lines().any(|l| l.trim() == managers::HUSKY_LINE))
    });
    let shared: &[&str] = if husky.is_some() {
        &EXECUTABLES
    } else {
        &["merge-driver"]
    };
    for name in shared {
        wanted.push((target.driver_dir().join(name), name, None));
    }
    if let Some(dir) = &husky
        && !husky_line
    {
        problems.push(Problem::new(
            format!(
                "{} lacks the line that runs mainstay's pre-push, so the next `npm install` \
                 (husky) leaves mainstay out",
                dir.join("pre-push").display()
            ),
            FIX,
        ));
    }
    for (dest, name, worktree) in wanted {
        // husky's own script, after `npm install`: it runs ours through `.husky/pre-push`.
        if husky_line && managers::whose(&dest).is_some_and(|m| m.name == "husky") {
            continue;
        }
        // Each worktree reads its own hooks directory: name the one left unprotected.
        let whose = worktree
            .map(|w| format!("worktree {}: ", w.display()))
            .unwrap_or_default();
        let source = options.source(name);
        // Under pre-commit's script, ours is the hook it runs first.
        problems.extend(hooks::check_file(
            &managers::slot(&dest),
            &source,
            &whose,
            FIX,
        )?);
    }
    for (key, value) in target.driver_config() {
        match target.git.config_get(&key)? {
            Some(current) if current == value => {}
            Some(_) => problems.push(Problem::new(
                format!("git config {key} is not the command install-hooks sets"),
                FIX,
            )),
            // Reported below for each attribute that routes a file to the missing driver.
            None => {}
        }
    }
    problems.extend(target.attribute_problems(true)?);
    Ok(problems)
}

/// Why git does not run the machine-wide hooks in this clone, and the fix.
fn not_read(target: &Target, place: &Place) -> Result<Problem, Error> {
    let hooks = &target.paths.hooks;
    let winner = hookspath::winner(&target.git)?;
    Ok(match winner {
        Some(w) if w.scope == "local" || w.scope == "worktree" => Problem::new(
            format!(
                "this clone reads its hooks from {} (its own core.hooksPath, in {}), which \
                 overrides mainstay's global hooks in {}, so nothing of mainstay runs here",
                hooks.display(),
                w.set_in(),
                place.hooks.display()
            ),
            format!("{FIX} in this clone"),
        ),
        Some(w) if w.scope == "command" => Problem::new(
            format!(
                "git reads this clone's hooks from {}, set on {}, so nothing of mainstay runs here",
                hooks.display(),
                w.set_in()
            ),
            "unset it (git -c core.hooksPath, GIT_CONFIG_PARAMETERS, GIT_CONFIG_COUNT)",
        ),
        Some(w) => Problem::new(
            format!(
                "git reads this clone's hooks from {}, set in {} after mainstay's global \
                 core.hooksPath, so nothing of mainstay runs here",
                hooks.display(),
                w.set_in()
            ),
            format!("{FIX} --global"),
        ),
        None => Problem::new(
            format!(
                "no core.hooksPath reaches this clone, so git runs its own hooks in {}, not \
                 mainstay's global ones",
                hooks.display()
            ),
            format!("{FIX} --global"),
        ),
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
