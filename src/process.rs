//! The processes around a hook: the `git push` that runs it, and what the system says of any pid.
//!
//! On Linux the answers come from `/proc`; elsewhere (macOS, the BSDs), and on Linux with
//! `MAINSTAY_PORTABLE=1` (how the tests check the portable path), from POSIX `ps`. Where neither
//! answers, every answer is "unknown" (an empty command line, no parent), which the callers treat
//! as "no `git push` found".

use std::path::Path;

/// The `git push` process a hook runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushProcess {
    pub pid: u32,
    /// `--dry-run` or `-n`: nothing will land, so nothing is started.
    pub dry_run: bool,
}

/// Finds the `git push` process this hook runs under: the nearest `git` ancestor (only a push
/// runs `pre-push`, whatever its command line says: an alias, `git -C dir push`). Wrappers
/// (husky's shell scripts, `sh -c`) may sit in between. `alias` expands a git alias's name
/// (`git config alias.<name>`), asked only for a command line that does not say `push`.
pub fn find_push_process(alias: &dyn Fn(&str) -> Option<String>) -> Option<PushProcess> {
    let mut pid = std::os::unix::process::parent_id();
    for _ in 0..32 {
        let argv = command_line(pid);
        if is_git(&argv) {
            let dry_run = push_arguments(&argv, alias).is_some_and(|args| is_dry_run(&args));
            return Some(PushProcess { pid, dry_run });
        }
        pid = parent_of(pid).filter(|p| *p > 1)?;
    }
    None
}

fn is_git(argv: &[String]) -> bool {
    let Some(program) = argv.first() else {
        return false;
    };
    let name = Path::new(program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    matches!(name, "git" | "git-push")
}

/// git's global options that take a value as the next argument.
const GLOBAL_WITH_VALUE: [&str; 6] = [
    "-C",
    "-c",
    "--git-dir",
    "--work-tree",
    "--namespace",
    "--config-env",
];

/// The arguments after `push` in a git command line read by git's grammar: global options (and
/// their values) skipped, an alias expanded. `None` when it is not a push git can tell us of (a
/// shell alias).
fn push_arguments(argv: &[String], alias: &dyn Fn(&str) -> Option<String>) -> Option<Vec<String>> {
    let program = Path::new(argv.first()?).file_name()?.to_str()?;
    if program == "git-push" {
        return Some(argv[1..].to_vec());
    }
    let mut rest = argv[1..].iter();
    while let Some(arg) = rest.next() {
        if GLOBAL_WITH_VALUE.contains(&arg.as_str()) {
            rest.next();
            continue;
        }
        if arg.starts_with('-') {
            continue;
        }
        let tail: Vec<String> = rest.cloned().collect();
        if arg == "push" {
            return Some(tail);
        }
        // An alias of push (`alias.p = push -n`); a shell alias (`!…`) cannot be read here.
        let expansion = alias(arg)?;
        let mut words = expansion.split_whitespace().map(str::to_owned);
        if words.next().as_deref() != Some("push") {
            return None;
        }
        return Some(words.chain(tail).collect());
    }
    None
}

/// git push's options that take a value as the next argument.
const PUSH_WITH_VALUE: [&str; 5] = ["-o", "--push-option", "--repo", "--receive-pack", "--exec"];

/// Whether push's arguments make it a dry run: the last of `--dry-run`, `-n` (alone or in a
/// cluster such as `-fn`) and `--no-dry-run` wins; option values (`-o -n`) and everything after
/// `--` are not options.
fn is_dry_run(args: &[String]) -> bool {
    let mut dry = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--" => break,
            "--dry-run" => dry = true,
            "--no-dry-run" => dry = false,
            a if PUSH_WITH_VALUE.contains(&a) => {
                rest.next();
            }
            a if a.starts_with("--") => {}
            a if a.starts_with('-') && a.len() > 1 => {
                for (i, c) in a[1..].char_indices() {
                    match c {
                        'n' => dry = true,
                        // `-o` takes the rest of the cluster, or the next argument.
                        'o' => {
                            if i + 2 == a.len() {
                                rest.next();
                            }
                            break;
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    dry
}

/// The environment variable that makes the portable path (`ps`, polling, closing descriptors
/// one by one) the one taken on Linux too.
pub const PORTABLE_VAR: &str = "MAINSTAY_PORTABLE";

/// Whether to take the portable path: not Linux, or [`PORTABLE_VAR`] set to `1`.
pub fn portable() -> bool {
    !cfg!(target_os = "linux") || std::env::var_os(PORTABLE_VAR).is_some_and(|v| v == "1")
}

/// `ps -o <field>= -p <pid>`, trimmed; `None` when `ps` knows no such process.
fn ps(field: &str, pid: u32) -> Option<String> {
    let out = std::process::Command::new("ps")
        .args(["-o", &format!("{field}="), "-p", &pid.to_string()])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// True while `pid` exists and is not a zombie.
pub fn is_running(pid: u32) -> bool {
    if portable() {
        return ps("stat", pid).is_some_and(|state| !state.starts_with('Z'));
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat_field(&stat, 0).is_some_and(|state| state != "Z"),
        Err(_) => false,
    }
}

/// The parent of `pid`.
pub fn parent_of(pid: u32) -> Option<u32> {
    if portable() {
        return ps("ppid", pid)?.parse().ok();
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_field(&stat, 1)?.parse().ok()
}

/// Fields after the command name, which is in parentheses and may hold spaces: 0 is the state.
fn stat_field(stat: &str, index: usize) -> Option<&str> {
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(index)
}

/// The command line of `pid`, one entry per argument (from `ps`, split at spaces: an argument
/// holding one is split too, which the grammar of `git push` reading it tolerates).
pub fn command_line(pid: u32) -> Vec<String> {
    if portable() {
        return ps("args", pid)
            .map(|line| line.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
    }
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

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    fn dry(line: &str) -> bool {
        let alias = |name: &str| (name == "pn").then(|| "push -n".to_owned());
        push_arguments(&argv(line), &alias).is_some_and(|a| is_dry_run(&a))
    }

    #[test]
    fn reads_git_push_command_lines_by_gits_grammar() {
        assert!(is_git(&argv("/usr/bin/git -c a=b push")));
        assert!(!is_git(&argv("sh -c git push")));
        assert!(dry("git push --dry-run origin main"));
        assert!(dry("git push -fn origin main"));
        assert!(dry("git -C push push -n origin main"));
        assert!(dry("git pn origin main"));
        assert!(!dry("git push origin -- -n"));
        assert!(!dry("git push -o ci.skip origin main"));
        assert!(!dry("git push -o -n origin main"), "-n is -o's value");
        assert!(
            !dry("git push -n --no-dry-run origin main"),
            "the last one wins"
        );
        assert!(dry("git push --no-dry-run --dry-run origin main"));
        assert!(!dry("git push -fo-n origin main"));
        assert!(!dry("git -c push.n=1 push origin main"));
        assert!(
            !dry("git p origin main"),
            "an unknown alias is no push git can tell of"
        );
    }
}
