//! The processes around a hook: the `git push` that runs it, and what `/proc` says of any pid.
//!
//! Linux has `/proc`; where it is missing every answer here is "unknown" (an empty command line,
//! no parent), which the callers treat as "no `git push` found".

use std::path::Path;

/// The `git push` process a hook runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushProcess {
    pub pid: u32,
    /// `--dry-run` or `-n`: nothing will land, so nothing is started.
    pub dry_run: bool,
}

/// Finds the `git push` process this hook runs under: the nearest ancestor whose command line is
/// a git push. Wrappers (husky's shell scripts, `sh -c`) may sit in between.
pub fn find_push_process() -> Option<PushProcess> {
    let mut pid = std::os::unix::process::parent_id();
    for _ in 0..32 {
        let argv = command_line(pid);
        if is_git_push(&argv) {
            let dry_run = is_dry_run(&argv);
            return Some(PushProcess { pid, dry_run });
        }
        pid = parent_of(pid).filter(|p| *p > 1)?;
    }
    None
}

fn is_git_push(argv: &[String]) -> bool {
    let Some(program) = argv.first() else {
        return false;
    };
    let name = Path::new(program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    match name {
        "git-push" => true,
        "git" => argv[1..].iter().any(|a| a == "push"),
        _ => false,
    }
}

/// `--dry-run`, or `-n` alone or in a cluster of git push's flag letters (`-fn`), before `--`.
fn is_dry_run(argv: &[String]) -> bool {
    argv.iter().take_while(|a| *a != "--").any(|a| {
        a == "--dry-run"
            || a.strip_prefix('-').is_some_and(|flags| {
                !flags.starts_with('-')
                    && flags.contains('n')
                    && flags.chars().all(|c| "vqfnu46".contains(c))
            })
    })
}

/// True while `pid` exists and is not a zombie.
pub fn is_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat_field(&stat, 0).is_some_and(|state| state != "Z"),
        Err(_) => false,
    }
}

/// The parent of `pid`, from `/proc/<pid>/stat`.
pub fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_field(&stat, 1)?.parse().ok()
}

/// Fields after the command name, which is in parentheses and may hold spaces: 0 is the state.
fn stat_field(stat: &str, index: usize) -> Option<&str> {
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(index)
}

/// The command line of `pid`, one entry per argument.
pub fn command_line(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            raw.split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_git_push_command_lines() {
        let argv = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert!(is_git_push(&argv("git push origin main")));
        assert!(is_git_push(&argv("/usr/bin/git -c a=b push")));
        assert!(!is_git_push(&argv("git fetch")));
        assert!(!is_git_push(&argv("sh -c git push")));
        assert!(is_dry_run(&argv("git push --dry-run origin main")));
        assert!(is_dry_run(&argv("git push -fn origin main")));
        assert!(!is_dry_run(&argv("git push origin -- -n")));
        assert!(!is_dry_run(&argv("git push -o ci.skip origin main")));
    }
}
