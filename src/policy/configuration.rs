//! What counts as configuration in a commit: files that change what runs, or how git and
//! mainstay read the repository, rather than content. A change to them is never carried for
//! another agent (`mainstay push`), and never parked (`pre-receive`).

use crate::git::{self, Git};

/// Whether a change to `path` (relative to the top of the work tree) changes what runs or how
/// git and mainstay read the repository, rather than content: never carried for another agent.
pub fn is(path: &str, hooks_path: Option<&str>) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    // Read by git or by us wherever they stand in the tree.
    if matches!(name, ".gitattributes" | ".gitmodules" | ".mainstay.toml") {
        return true;
    }
    let top = path.split('/').next().unwrap_or(path);
    let hook_dirs = [
        ".husky",
        ".githooks",
        ".git-hooks",
        ".hooks",
        ".lefthook",
        ".lefthook-local",
    ];
    if path.contains('/') && hook_dirs.contains(&top) {
        return true;
    }
    if let Some(hooks) = hooks_path.map(|h| h.trim_start_matches("./").trim_end_matches('/'))
        && !hooks.is_empty()
        && (path == hooks || path.starts_with(&format!("{hooks}/")))
    {
        return true;
    }
    if path.contains('/') {
        return false;
    }
    // Top-level files that hook managers and package managers read to decide what runs.
    let lefthook = name
        .strip_prefix('.')
        .unwrap_or(name)
        .strip_prefix("lefthook")
        .is_some_and(|rest| {
            let rest = rest.strip_prefix("-local").unwrap_or(rest);
            matches!(rest, ".yml" | ".yaml" | ".json" | ".jsonc" | ".toml")
        });
    lefthook
        || matches!(
            name,
            ".lfsconfig"
                | ".pre-commit-config.yaml"
                | ".pre-commit-config.yml"
                | ".pre-commit-hooks.yaml"
                | "package.json"
                | ".npmrc"
                | ".yarnrc"
                | ".yarnrc.yml"
                | ".simple-git-hooks.json"
                | ".simple-git-hooks.cjs"
                | ".simple-git-hooks.js"
                | ".overcommit.yml"
        )
        || name.starts_with(".lintstagedrc")
        || name.starts_with("lint-staged.config.")
}

/// `(commit, path)` for each of `commits` that changes configuration ([`is`]), asked of git in
/// one process.
pub fn touched(
    git: &Git,
    commits: &[&str],
    hooks_path: Option<&str>,
) -> Result<Vec<(String, String)>, git::Error> {
    let mut found = Vec::new();
    if commits.is_empty() {
        return Ok(found);
    }
    let input: String = commits.iter().map(|c| format!("{c}\n")).collect();
    // `-z`: paths as they are, however they are spelt; without rename detection a rename lists
    // both of its names.
    let listed = git.run_with_input(
        [
            "diff-tree",
            "--stdin",
            "-r",
            "--name-only",
            "-z",
            "--no-renames",
        ],
        input.as_bytes(),
    )?;
    let asked: std::collections::HashSet<&str> = commits.iter().copied().collect();
    let mut current: Option<&str> = None;
    for word in listed.split('\0') {
        let word = word.trim_start_matches('\n');
        if let Some(commit) = asked.get(word) {
            current = Some(commit);
        } else if let Some(commit) = current
            && !word.is_empty()
            && is(word, hooks_path)
        {
            found.push((commit.to_owned(), word.to_owned()));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_is_what_decides_what_runs() {
        for path in [
            ".gitattributes",
            "docs/.gitattributes",
            ".gitmodules",
            ".mainstay.toml",
            "sub/.mainstay.toml",
            ".husky/pre-push",
            ".husky/_/husky.sh",
            "lefthook.yml",
            ".lefthook.yaml",
            "lefthook-local.toml",
            ".lefthook/pre-push/run.sh",
            ".pre-commit-config.yaml",
            ".lfsconfig",
            "package.json",
            ".lintstagedrc.json",
        ] {
            assert!(is(path, None), "{path}");
        }
        for path in [
            "README.md",
            "src/main.rs",
            "docs/ROADMAP.md",
            "web/package.json.md",
            "husky.md",
            ".husky",
            "lefthooks.yml",
            "tools/lefthook.yml",
        ] {
            assert!(!is(path, None), "{path}");
        }
        assert!(is("tools/hooks/pre-push", Some("tools/hooks")));
        assert!(is("tools/hooks/pre-push", Some("./tools/hooks/")));
        assert!(!is("tools/hooksy", Some("tools/hooks")));
    }
}
