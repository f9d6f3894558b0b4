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
    /// `--mirror`: the remote loses every ref this clone lacks, which git does not tell pre-push.
    pub mirror: bool,
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
            let flags = push_arguments(&argv, alias)
                .map(|args| read_push(&args))
                .unwrap_or_default();
            return Some(PushProcess {
                pid,
                dry_run: flags.dry_run,
                mirror: flags.mirror,
            });
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

/// `git push`'s long options (`git push --git-completion-helper-all`, `git push -h`): the name,
/// whether it takes the next argument as its value (an optional value only ever follows `=`),
/// and whether `--no-<name>` exists.
const PUSH_LONG: [(&str, bool, bool); 28] = [
    ("verbose", false, true),
    ("quiet", false, true),
    ("repo", true, true),
    ("all", false, true),
    ("branches", false, true),
    ("mirror", false, true),
    ("delete", false, true),
    ("tags", false, true),
    ("dry-run", false, true),
    ("porcelain", false, true),
    ("force", false, true),
    ("force-with-lease", false, true),
    ("force-if-includes", false, true),
    ("recurse-submodules", true, true),
    ("thin", false, true),
    ("receive-pack", true, true),
    ("exec", true, true),
    ("set-upstream", false, true),
    ("progress", false, true),
    ("prune", false, true),
    // Its negation is `--verify`.
    ("no-verify", false, true),
    ("follow-tags", false, true),
    ("signed", false, true),
    ("atomic", false, true),
    ("push-option", true, true),
    ("ipv4", false, false),
    ("ipv6", false, false),
    ("verify", false, false),
];

/// Options that name the same thing: an abbreviation matching both is not ambiguous.
const PUSH_ALIASES: [(&str, &str); 3] = [
    ("all", "branches"),
    ("receive-pack", "exec"),
    ("no-verify", "verify"),
];

/// `git push`'s short options that take a value (the rest of the cluster, or the next argument).
const PUSH_SHORT_WITH_VALUE: [char; 1] = ['o'];

/// A long option as git's parse-options reads it: its index in [`PUSH_LONG`] and whether it is
/// negated (`--no-…`).
type LongMatch = (usize, bool);

/// Finds the option `word` (what follows `--`, before any `=`) names: exactly, or by a unique
/// abbreviation, each also negated by `no-` (git's `parse_long_opt`). `None` when it names none
/// or is ambiguous (git then refuses the command line).
fn long_option(word: &str) -> Option<LongMatch> {
    let mut abbreviated: Vec<LongMatch> = Vec::new();
    for (index, &(name, _, negatable)) in PUSH_LONG.iter().enumerate() {
        // `--verify` for `no-verify`: a name starting with `no-` is negated without it.
        if let Some(positive) = name.strip_prefix("no-")
            && negatable
            && !word.starts_with("no-")
        {
            if word == positive {
                return Some((index, true));
            }
            if positive.starts_with(word) {
                abbreviated.push((index, true));
            }
            continue;
        }
        if word == name {
            return Some((index, false));
        }
        if name.starts_with(word) {
            abbreviated.push((index, false));
            continue;
        }
        if !negatable {
            continue;
        }
        if let Some(rest) = word.strip_prefix("no-") {
            if rest == name {
                return Some((index, true));
            }
            if name.starts_with(rest) {
                abbreviated.push((index, true));
            }
        } else if "no-".starts_with(word) {
            abbreviated.push((index, true));
        }
    }
    let first = *abbreviated.first()?;
    let name = |(i, _): LongMatch| PUSH_LONG[i].0;
    let alias = |a: &str, b: &str| {
        a == b || PUSH_ALIASES.contains(&(a, b)) || PUSH_ALIASES.contains(&(b, a))
    };
    abbreviated
        .iter()
        .all(|&m| alias(name(m), name(first)))
        .then_some(first)
}

/// What a `git push` command line asks for, of what pre-push needs to know.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct PushFlags {
    dry_run: bool,
    mirror: bool,
}

/// Reads push's arguments by git's grammar: long options by their unique abbreviations and
/// `--no-` forms, the last of each pair winning; values taken where the option takes one
/// (`-o -n`, `--push-opt -n`); short clusters (`-fn`); nothing after `--` or `--end-of-options`.
fn read_push(args: &[String]) -> PushFlags {
    let mut flags = PushFlags::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--" || arg == "--end-of-options" {
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (word, value) = match long.split_once('=') {
                Some((word, _)) => (word, true),
                None => (long, false),
            };
            let Some((index, negated)) = long_option(word) else {
                continue;
            };
            let (name, takes_value, _) = PUSH_LONG[index];
            if takes_value && !negated && !value {
                rest.next();
            }
            match name {
                "dry-run" => flags.dry_run = !negated,
                "mirror" => flags.mirror = !negated,
                _ => {}
            }
            continue;
        }
        let Some(cluster) = arg.strip_prefix('-').filter(|c| !c.is_empty()) else {
            continue;
        };
        for (i, c) in cluster.char_indices() {
            if c == 'n' {
                flags.dry_run = true;
            }
            if PUSH_SHORT_WITH_VALUE.contains(&c) {
                // The rest of the cluster is the value; with none, the next argument is.
                if i + c.len_utf8() == cluster.len() {
                    rest.next();
                }
                break;
            }
        }
    }
    flags
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
        push_arguments(&argv(line), &alias).is_some_and(|a| read_push(&a).dry_run)
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

    #[test]
    fn long_options_by_their_unique_abbreviations() {
        // Each as git 2.47 reads it (`git push <option> --porcelain origin main`).
        assert!(dry("git push --dry origin main"));
        assert!(dry("git push --dry-r origin main"));
        assert!(
            !dry("git push --push-opt -n origin main"),
            "-n is the value"
        );
        assert!(dry("git push --push-opt=x -n origin main"));
        assert!(!dry("git push -n --no-dry origin main"));
        assert!(!dry("git push --dry-run --no-dry origin main"));
        assert!(!dry("git push --recurse -n origin main"), "-n is the value");
        assert!(!dry("git push --exe -n origin main"), "--exec takes -n");
        assert!(!dry("git push --e -n origin main"), "--exec takes -n");
        assert!(!dry("git push --receive -n origin main"));
        assert!(
            dry("git push --force-with-lease -n origin main"),
            "its value needs ="
        );
        assert!(dry("git push --signed -n origin main"), "its value needs =");
        assert!(
            dry("git push --no-push-option -n origin main"),
            "a negation takes nothing"
        );
        assert!(dry("git push --no-no-verify -n origin main"));
        assert!(!dry("git push --end-of-options -n"));
        for ambiguous in [
            "--rec", "--re", "--no-d", "--d", "--ver", "--n", "--no-", "--f",
        ] {
            assert_eq!(long_option(&ambiguous[2..]), None, "{ambiguous}");
        }
        assert_eq!(long_option("b"), long_option("branches"));
        assert!(
            long_option("verif").is_some(),
            "verify and no-verify are one"
        );
        assert_eq!(long_option("no-ip"), None, "--ipv4 has no negation");
        let mirror = |line: &str| read_push(&argv(line)[2..]).mirror;
        assert!(mirror("git push --mirror origin"));
        assert!(mirror("git push --m origin"));
        assert!(!mirror("git push --mirror --no-mir origin"));
        assert!(!mirror("git push -o --mirror origin"), "a value");
        assert!(!mirror("git push --repo --mirror"), "a value");
    }
}
