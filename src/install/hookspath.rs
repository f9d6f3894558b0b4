//! Which `core.hooksPath` git uses, and from which file, asked of git itself: every scope
//! (system, `$XDG_CONFIG_HOME/git/config`, `~/.gitconfig`, the repository's own, `-c` and
//! `GIT_CONFIG_*`) with its `[include]` and `[includeIf]` sections, in git's order. The last
//! value git reads wins; `--global` must be that one, and must know what it took over from.

use std::path::{Path, PathBuf};

use super::Error;
use crate::git::Git;

/// The `core.hooksPath` git uses where `git` runs, with where it was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Winner {
    /// `system`, `global`, `local`, `worktree` or `command`.
    pub scope: String,
    /// `file:<path>`, `command line:`, as git says it.
    pub origin: String,
    /// The value, `~/` expanded; a relative one is relative to the work tree.
    pub value: PathBuf,
}

impl Winner {
    /// Where the value was set, for a person.
    pub fn set_in(&self) -> String {
        match self.origin.strip_prefix("file:") {
            Some(file) => format!("{file} ({} config)", self.scope),
            None if self.scope == "command" => {
                "the command line or a GIT_CONFIG_* variable of this environment".to_owned()
            }
            None => format!("{} ({} config)", self.origin, self.scope),
        }
    }
}

/// `git config --show-scope --show-origin --type=path --get core.hooksPath`, run by `git`.
pub fn winner(git: &Git) -> Result<Option<Winner>, Error> {
    let Some(line) = query(
        git,
        &[
            "config",
            "--show-scope",
            "--show-origin",
            "--type=path",
            "--get",
            "core.hooksPath",
        ],
    )?
    else {
        return Ok(None);
    };
    let mut parts = line.splitn(3, '\t');
    let (Some(scope), Some(origin), Some(value)) = (parts.next(), parts.next(), parts.next())
    else {
        return Ok(None);
    };
    Ok(Some(Winner {
        scope: scope.to_owned(),
        origin: origin.to_owned(),
        value: PathBuf::from(value),
    }))
}

/// What `file`'s includes do to a `core.hooksPath` of `ours` written in it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Includes {
    /// Files included after the last `core.hooksPath = ours` line (or anywhere, when there is
    /// none) that set `core.hooksPath` themselves: theirs wins where they apply.
    pub after: Vec<PathBuf>,
    /// An `[includeIf]` before it sets `core.hooksPath`: what git ran before differs from one
    /// repository to another.
    pub conditional_before: bool,
}

/// The includes of `file` (a config file), read in git's order with git's own parser.
pub fn includes(git: &Git, file: &Path, ours: &Path) -> Result<Includes, Error> {
    let mut found = Includes::default();
    let file_arg = file.display().to_string();
    let listing = match query(
        git,
        &[
            "config",
            "--file",
            &file_arg,
            "--type=path",
            "--get-regexp",
            r"^(core\.hookspath|include\.path|includeif\..*\.path)$",
        ],
    ) {
        Ok(listing) => listing.unwrap_or_default(),
        // A file git cannot read has no includes git follows either.
        Err(_) => return Ok(found),
    };
    let base = file.parent().unwrap_or(Path::new("/"));
    let mut entries: Vec<(bool, Option<PathBuf>)> = Vec::new();
    let mut last_ours = None;
    for line in listing.lines() {
        let Some((key, value)) = line.split_once(' ') else {
            continue;
        };
        if key == "core.hookspath" {
            if Path::new(value) == ours {
                last_ours = Some(entries.len());
            }
            entries.push((false, None));
            continue;
        }
        let included = base.join(value);
        let sets = sets_hooks_path(git, &included);
        let conditional = key.starts_with("includeif.");
        entries.push((conditional, sets.then_some(included)));
    }
    for (i, (conditional, sets)) in entries.into_iter().enumerate() {
        let Some(included) = sets else { continue };
        match last_ours {
            Some(at) if i < at => found.conditional_before |= conditional,
            _ => found.after.push(included),
        }
    }
    Ok(found)
}

/// Whether the config file at `path`, with its own includes, sets `core.hooksPath`.
fn sets_hooks_path(git: &Git, path: &Path) -> bool {
    let path = path.display().to_string();
    query(
        git,
        &[
            "config",
            "--file",
            &path,
            "--includes",
            "--get-all",
            "core.hooksPath",
        ],
    )
    .is_ok_and(|v| v.is_some())
}

/// `git config` that finds nothing (exit 1) is `None`; any other failure is git's error.
fn query(git: &Git, args: &[&str]) -> Result<Option<String>, Error> {
    let out = git.output(args)?;
    match out.status.code() {
        Some(0) => Ok(Some(
            String::from_utf8_lossy(&out.stdout).trim_end().to_owned(),
        )),
        Some(1) => Ok(None),
        _ => Err(match git.run(args) {
            Err(e) => e.into(),
            Ok(_) => return Ok(None),
        }),
    }
}
