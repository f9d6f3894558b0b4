//! What `mainstay push` asks of git: the clean-tree check, fetch, rebase, push, and the sorting
//! of what git says into a race (worth another round), a refusal, or a failure.

use super::Error;
use crate::clock::{Clock, Jitter};
use crate::git::{self, Git};
use crate::policy;

/// The remote as git is told it (a remote's name, or the name a URL was given through the
/// environment) and as people are shown it (without credentials).
pub(super) struct Remote<'a> {
    pub git: &'a Git,
    pub name: &'a str,
    pub shown: &'a str,
}

/// How one `git push` ended.
#[derive(Debug)]
pub(super) enum Pushed {
    /// The remote took it; the hooks' own lines (where the deploy is followed), to pass on.
    Yes(Vec<String>),
    /// The remote moved since we fetched, or a parked change we leased on moved: another round.
    Race(String),
    /// The remote cannot update several refs as one (`--atomic`): nothing can be parked there.
    NoAtomic,
    /// The remote could not take a ref's lock, whose file exists there: a concurrent push
    /// holds it (a race), or a crashed git process left it (stays until someone removes it).
    Locked(String),
    Failed(Error),
}

impl Pushed {
    /// How it ended, as a landing plan reads it.
    pub fn ended(&self) -> super::carry::Ended {
        use super::carry::Ended;
        match self {
            Pushed::Yes(_) => Ended::Taken,
            Pushed::Race(_) | Pushed::Locked(_) => Ended::Race,
            Pushed::NoAtomic => Ended::NoAtomic,
            Pushed::Failed(Error::Refused { .. }) => Ended::Refused,
            Pushed::Failed(_) => Ended::Failed,
        }
    }
}

/// One ref update of a push: a refspec, and the lease it holds on the remote ref, if any.
#[derive(Debug, Clone)]
pub(super) struct Update {
    pub refspec: String,
    /// `<ref>:<sha>`, or `<ref>:` for a ref that must not exist yet.
    pub lease: Option<String>,
}

/// The clone here, as one `git rev-parse` tells it.
pub(super) struct Here {
    pub common_dir: std::path::PathBuf,
    pub git_dir: std::path::PathBuf,
    /// `HEAD`'s commit when the command started.
    pub head: String,
}

/// Refuses tracked changes and unfinished operations (untracked files are the agent's own), and
/// says where the clone is.
pub(super) fn check_clean(git: &Git) -> Result<Here, Error> {
    let states = [
        "rebase-merge",
        "rebase-apply",
        "MERGE_HEAD",
        "CHERRY_PICK_HEAD",
    ];
    let mut args = vec![
        "rev-parse",
        "--path-format=absolute",
        "--git-common-dir",
        "--git-dir",
    ];
    for state in states {
        args.extend(["--git-path", state]);
    }
    args.push("HEAD");
    let said = git.run(args)?;
    let lines: Vec<&str> = said.lines().collect();
    let [common_dir, git_dir, paths @ .., head] = lines.as_slice() else {
        return Err(Error::RebaseFailed {
            detail: format!("`git rev-parse` said {said:?}"),
        });
    };
    if paths.iter().any(|p| std::path::Path::new(p).exists()) {
        return Err(Error::InProgress);
    }
    let status = git.run(["status", "--porcelain=v1", "--untracked-files=no"])?;
    let files: Vec<String> = status
        .lines()
        .filter_map(|l| l.get(3..))
        .map(str::to_owned)
        .collect();
    if !files.is_empty() {
        return Err(Error::Dirty { files });
    }
    Ok(Here {
        common_dir: common_dir.into(),
        git_dir: git_dir.into(),
        head: (*head).to_owned(),
    })
}

/// Whether `sha` was ever on local branch `branch`: reachable from an entry of its reflog.
pub(super) fn integrated(git: &Git, branch: &str, sha: &str) -> Result<bool, Error> {
    let reflog = git.output([
        "reflog",
        "show",
        "--format=%H",
        &format!("refs/heads/{branch}"),
    ])?;
    let mut input = format!("{sha}\n");
    for entry in String::from_utf8_lossy(&reflog.stdout).lines() {
        input.push('^');
        input.push_str(entry.trim());
        input.push('\n');
    }
    // `rev-list <sha> --not <every reflog entry>` lists nothing when one of them holds it.
    let listed = git.run_with_input(["rev-list", "--stdin", "-n", "1"], input.as_bytes())?;
    Ok(listed.trim().is_empty())
}

/// Fetches with `refspecs` (the first one the branch's); `false` when the remote has no such
/// branch yet. A local lock race (another worktree of this clone updating the same tracking
/// ref) is tried again after a short pause.
pub(super) fn fetch(
    remote: &Remote<'_>,
    refspecs: &[String],
    clock: &dyn Clock,
    jitter: &mut Jitter,
) -> Result<bool, Error> {
    // Nothing else runs on the way: no maintenance, no FETCH_HEAD (the refs are read instead), no
    // forced-update check; this fetch may run many times a minute.
    let mut args = vec![
        "fetch",
        "--quiet",
        "--no-tags",
        "--prune",
        "--no-auto-maintenance",
        "--no-write-fetch-head",
        "--no-show-forced-updates",
        remote.name,
    ];
    args.extend(refspecs.iter().map(String::as_str));
    let mut output = remote.git.output(&args)?;
    for _ in 0..super::pacing::LOCAL_RETRIES {
        if output.status.success() || !is_local_lock_race(&output.stderr) {
            break;
        }
        clock.sleep(jitter.up_to(super::pacing::LOCAL_PAUSE));
        output = remote.git.output(&args)?;
    }
    if output.status.success() {
        return Ok(true);
    }
    if let Some(lock) = lock_file(&output.stderr) {
        return Err(Error::LocalLock { lock });
    }
    let stderr = git::trimmed(&output.stderr);
    if stderr.contains("couldn't find remote ref") {
        return Ok(false);
    }
    Err(
        classify_failure(remote.shown, &stderr).unwrap_or_else(|| Error::Unreachable {
            remote: remote.shown.to_owned(),
            detail: stderr,
        }),
    )
}

/// Lists the remote's refs matching `patterns` (`(sha, name)`), without fetching anything.
pub(super) fn list(
    remote: &Remote<'_>,
    patterns: &[String],
) -> Result<Vec<(String, String)>, Error> {
    let mut args = vec!["ls-remote", remote.name];
    args.extend(patterns.iter().map(String::as_str));
    let output = remote.git.output(&args)?;
    if !output.status.success() {
        let stderr = git::trimmed(&output.stderr);
        return Err(classify_failure(remote.shown, &stderr).unwrap_or_else(|| {
            Error::Unreachable {
                remote: remote.shown.to_owned(),
                detail: stderr,
            }
        }));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| {
            let (sha, name) = l.split_once('\t')?;
            Some((sha.to_owned(), name.to_owned()))
        })
        .collect())
}

/// git's words for a ref lock another process of this clone holds: a passing, local race.
fn is_local_lock_race(stderr: &[u8]) -> bool {
    let text = String::from_utf8_lossy(stderr);
    text.contains("cannot lock ref")
        || (text.contains("Unable to create") && text.contains(".lock"))
}

/// The lock file git could not create (`Unable to create '<path>.lock': File exists`).
fn lock_file(stderr: &[u8]) -> Option<String> {
    const BEFORE: &str = "Unable to create '";
    let text = String::from_utf8_lossy(stderr);
    let rest = &text[text.find(BEFORE)? + BEFORE.len()..];
    let path = &rest[..rest.find('\'')?];
    path.ends_with(".lock").then(|| path.to_owned())
}

/// Rebases the local commits (those after `after`, when given) onto `upstream`; a conflict
/// aborts it and is logged. Each merge-driver call gets at most `left`, what the run has left.
pub(super) fn rebase(
    git: &Git,
    remote: &str,
    branch: &str,
    upstream: &str,
    after: Option<&str>,
    left: std::time::Duration,
) -> Result<(), Error> {
    // No editor may open: an agent has no terminal.
    let mut args = vec![
        "-c",
        "core.editor=true",
        "rebase",
        "--quiet",
        "--no-autostash",
    ];
    match after {
        Some(after) => args.extend(["--onto", upstream, after]),
        None => args.push(upstream),
    }
    let budget = format!("{}ms", left.min(crate::ledger::BUDGET).as_millis().max(1));
    let output = git.output_with(&args, &[(crate::ledger::BUDGET_VAR, &budget)])?;
    if output.status.success() {
        return Ok(());
    }
    let conflicted = git.run(["diff", "--name-only", "--diff-filter=U"])?;
    let files: Vec<String> = conflicted.lines().map(str::to_owned).collect();
    // A rebase that could not start (an untracked file in the way) has nothing to abort: its
    // own words say why.
    let aborted = git.output(["rebase", "--abort"])?;
    if files.is_empty() || !aborted.status.success() {
        return Err(Error::RebaseFailed {
            detail: git::trimmed(&output.stderr),
        });
    }
    let time = crate::time::now();
    let records: Vec<crate::state::Conflict> = files
        .iter()
        .map(|file| crate::state::Conflict {
            time: time.clone(),
            source: "mainstay push",
            file: file.clone(),
            branch: Some(branch.to_owned()),
            keys: Vec::new(),
        })
        .collect();
    let common = git.run(["rev-parse", "--path-format=absolute", "--git-common-dir"])?;
    crate::state::log_conflicts(std::path::Path::new(&common), &records)?;
    Err(Error::Conflict {
        remote: remote.to_owned(),
        branch: branch.to_owned(),
        files,
    })
}

/// How a push is made.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Flags<'a> {
    /// Every update lands, or none does.
    pub atomic: bool,
    /// Without the clone's pre-push hooks: for refs under `refs/mainstay/` only, never a branch.
    pub no_verify: bool,
    /// The commit whose `.mainstay.toml` the clone's `pre-push` judges the push by, instead of
    /// the work tree's (see [`crate::policy::CONFIG_FROM_VAR`]).
    pub config_from: Option<&'a str>,
}

impl Flags<'static> {
    /// A push of one ref under `refs/mainstay/`: no branch moves, so no hook of the clone's has
    /// anything to say about it (the push that lands it runs them all).
    pub const PARKING: Flags<'static> = Flags {
        atomic: true,
        no_verify: true,
        config_from: None,
    };
}

/// One `git push` of `updates`; `target` is the ref whose acceptance means "pushed".
pub(super) fn push(
    remote: &Remote<'_>,
    target: &str,
    updates: &[Update],
    flags: Flags<'_>,
) -> Result<Pushed, Error> {
    let mut args = vec!["push".to_owned(), "--porcelain".to_owned()];
    if flags.atomic {
        args.push("--atomic".to_owned());
    }
    if flags.no_verify {
        args.push("--no-verify".to_owned());
    }
    for lease in updates.iter().filter_map(|u| u.lease.as_ref()) {
        args.push(format!("--force-with-lease={lease}"));
    }
    args.push(remote.name.to_owned());
    args.extend(updates.iter().map(|u| u.refspec.clone()));
    let env: Vec<(&str, &str)> = flags
        .config_from
        .map(|rev| (crate::policy::CONFIG_FROM_VAR, rev))
        .into_iter()
        .collect();
    let output = remote.git.output_with(&args, &env)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The remote took it even when updating the local tracking ref then lost a lock race: the
    // target's line says so, and under `--atomic` every line must.
    let taken = |l: &str| matches!(l.chars().next(), Some(' ' | '+' | '*' | '-' | '='));
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.get(1..2) == Some("\t"))
        .collect();
    let took = if flags.atomic {
        !lines.is_empty() && lines.iter().all(|l| taken(l))
    } else {
        lines
            .iter()
            .any(|l| l.contains(&format!(":{target}\t")) && taken(l))
    };
    if output.status.success() || took {
        let notes = stderr.lines().filter(|l| l.starts_with("mainstay: "));
        return Ok(Pushed::Yes(notes.map(str::to_owned).collect()));
    }
    if stderr.contains("does not support --atomic") {
        return Ok(Pushed::NoAtomic);
    }
    Ok(classify(remote.shown, &format!("{stdout}\n{stderr}")))
}

/// Whether `said` is a push that a hook of this clone refused: git reports no ref (the remote
/// was never asked to update one) and says only that it failed to push. What the hook printed
/// is then the hook's: a file name in it must not read as git's own words.
fn refused_here(said: &str) -> bool {
    let reported = said.lines().any(|l| {
        let b = l.as_bytes();
        b.len() > 1 && b[1] == b'\t' && b"!* +-=".contains(&b[0])
    });
    !reported
        && said
            .lines()
            .any(|l| l.starts_with("error: failed to push some refs"))
}

/// Sorts a failed push's porcelain output and stderr into race, refusal, auth or unreachable.
fn classify(remote: &str, said: &str) -> Pushed {
    let detail = git::trimmed(said.as_bytes());
    if refused_here(said) {
        // Our pre-push saw a remote commit this clone never fetched: the remote moved meanwhile.
        let unknown = said.lines().any(|l| {
            l.starts_with("mainstay: refusing to push protected branch `")
                && l.contains(policy::REMOTE_UNKNOWN)
        });
        if unknown {
            return Pushed::Race("the remote moved (a commit not fetched yet)".to_owned());
        }
        return Pushed::Failed(Error::Refused { detail });
    }
    // Under `--atomic` every other ref is refused because of the one that was: those say so.
    let rejected: Vec<(&str, &str)> = said
        .lines()
        .filter(|l| l.starts_with('!') && l.contains("rejected]"))
        .map(|l| {
            let target = l.split('\t').nth(1).and_then(|s| s.rsplit(':').next());
            let reason = l.rsplit('(').next().unwrap_or("").trim_end_matches(')');
            (target.unwrap_or(""), reason)
        })
        .filter(|(_, reason)| !reason.starts_with("atomic"))
        .collect();
    if let Some((_, reason)) = rejected.first() {
        // Rejected for being behind, beaten to the ref lock by a concurrent push, or a lease on a
        // parked change that another push has landed meanwhile.
        let race = [
            "fetch first",
            "non-fast-forward",
            "failed to update ref",
            "failed to lock",
        ];
        let raced = rejected.iter().find(|(target, reason)| {
            race.iter().any(|r| reason.contains(r))
                || (target.starts_with(super::park::REMOTE) && *reason == "stale info")
        });
        if let Some((_, reason)) = raced {
            return Pushed::Race(format!("the remote moved ({reason})"));
        }
        let detail = if *reason == "stale info" {
            "the branch moved on the remote since this clone last fetched, so the lease refused \
             to overwrite it; fetch and look at it first"
                .to_owned()
        } else {
            (*reason).to_owned()
        };
        return Pushed::Failed(Error::Refused { detail });
    }
    // The remote's words (`remote: error: cannot lock ref ...: Unable to create '<lock>': File
    // exists`): a lock file there, which only the remote's own lines name.
    let remote_said: String = said
        .lines()
        .filter_map(|l| l.strip_prefix("remote: "))
        .collect::<Vec<_>>()
        .join("\n");
    if remote_said.contains("File exists")
        && let Some(lock) = lock_file(remote_said.as_bytes())
    {
        return Pushed::Locked(lock);
    }
    // A transaction the remote could not commit: a concurrent push took a ref's lock or moved it.
    if said.contains("atomic transaction failed")
        && (said.contains("but expected") || said.contains("cannot lock ref"))
    {
        return Pushed::Race("the remote moved (failed to update ref)".to_owned());
    }
    match classify_failure(remote, said) {
        // The connection failed on the way: another round finds out whether the push landed.
        Some(Error::Unreachable { detail, .. }) if transient(&detail) => {
            Pushed::Race(format!("the connection failed ({detail})"))
        }
        Some(error) => Pushed::Failed(error),
        None => Pushed::Failed(Error::Refused { detail }),
    }
}

/// Whether a failure to reach the remote may pass (a refused, reset or dropped connection, a
/// server restarting) rather than stay (no such repository or host, no access).
pub(super) fn transient(detail: &str) -> bool {
    const LASTING: [&str; 6] = [
        "does not appear to be a git repository",
        "not found",
        "Could not resolve host",
        "access denied",
        "not exported",
        "No such file or directory",
    ];
    const PASSING: [&str; 10] = [
        "Connection refused",
        "Connection reset",
        "Connection timed out",
        "hung up unexpectedly",
        "early EOF",
        "Broken pipe",
        "unexpected disconnect",
        "Network is unreachable",
        "No route to host",
        "RPC failed",
    ];
    !LASTING.iter().any(|p| detail.contains(p)) && PASSING.iter().any(|p| detail.contains(p))
}

/// Authentication and connection failures, from what git prints.
fn classify_failure(remote: &str, said: &str) -> Option<Error> {
    const AUTH: [&str; 6] = [
        "Authentication failed",
        "Permission denied",
        "could not read Username",
        "could not read Password",
        "The requested URL returned error: 401",
        "The requested URL returned error: 403",
    ];
    const UNREACHABLE: [&str; 11] = [
        "Could not resolve host",
        "Connection refused",
        "Connection reset",
        "Connection timed out",
        "does not appear to be a git repository",
        "Could not read from remote repository",
        "unable to access",
        "hung up unexpectedly",
        "early EOF",
        "unexpected disconnect",
        "Network is unreachable",
    ];
    let detail = git::trimmed(said.as_bytes());
    let remote = remote.to_owned();
    if AUTH.iter().any(|p| said.contains(p)) {
        Some(Error::Auth { remote, detail })
    } else if UNREACHABLE.iter().any(|p| said.contains(p)) {
        Some(Error::Unreachable { remote, detail })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_remote_is_a_race() {
        let said = "To /r.git\n!\tHEAD:refs/heads/main\t[rejected] (fetch first)\nDone\n";
        assert!(matches!(classify("origin", said), Pushed::Race(_)));
        let said = "!\tHEAD:refs/heads/main\t[remote rejected] (failed to update ref)\n";
        assert!(matches!(classify("origin", said), Pushed::Race(_)));
        let said = "!\tHEAD:refs/heads/x\t[rejected] (stale info)\n";
        assert!(matches!(
            classify("origin", said),
            Pushed::Failed(Error::Refused { .. })
        ));
    }

    #[test]
    fn an_atomic_push_is_judged_by_the_update_that_failed() {
        let said = "!\tHEAD:refs/heads/main\t[rejected] (fetch first)\n\
                    !\t(delete):refs/mainstay/parked/main/x\t[rejected] (atomic push failed)\n";
        assert!(matches!(classify("origin", said), Pushed::Race(_)));
        let said = "!\tHEAD:refs/heads/main\t[rejected] (atomic push failed)\n\
                    !\t(delete):refs/mainstay/parked/main/x\t[rejected] (stale info)\n";
        assert!(matches!(classify("origin", said), Pushed::Race(_)));
        let said = "!\tHEAD:refs/heads/main\t[remote rejected] (atomic transaction failed)\n\
                    !\t:refs/mainstay/parked/main/x\t[remote rejected] (atomic transaction failed)\n\
                    remote: error: cannot lock ref 'refs/heads/main': is at 1 but expected 2\n";
        assert!(matches!(classify("origin", said), Pushed::Race(_)));
        let said = "!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)\n\
                    !\t(delete):refs/mainstay/parked/main/x\t[remote rejected] (atomic transaction failed)\n";
        assert!(matches!(
            classify("origin", said),
            Pushed::Failed(Error::Refused { .. })
        ));
    }

    #[test]
    fn a_lock_file_on_the_remote_is_told_apart_from_a_moving_remote() {
        let said = "To /srv/r.git\n!\tHEAD:refs/heads/main\t[remote rejected] (atomic transaction \
                    failed)\nDone\nremote: error: cannot lock ref 'refs/heads/main': Unable to \
                    create '/srv/r.git/./refs/heads/main.lock': File exists.\nerror: failed to \
                    push some refs to '/srv/r.git'";
        assert!(matches!(
            classify("origin", said),
            Pushed::Locked(lock) if lock == "/srv/r.git/./refs/heads/main.lock"
        ));
        // A file named like git's words in this clone's own hook output is not the remote's.
        let said = "mainstay: Unable to create '/x.lock': File exists\n!\tHEAD:refs/heads/main\t\
                    [rejected] (fetch first)";
        assert!(matches!(classify("origin", said), Pushed::Race(_)));
    }

    #[test]
    fn a_lock_left_behind_is_named() {
        let said = b"error: cannot lock ref 'refs/remotes/origin/main': Unable to create \
                     '/r/.git/refs/remotes/origin/main.lock': File exists.\n";
        assert_eq!(
            lock_file(said).as_deref(),
            Some("/r/.git/refs/remotes/origin/main.lock")
        );
        // A ref that moved is no file to remove.
        let said = b"error: cannot lock ref 'refs/remotes/origin/main': is at 1 but expected 2\n";
        assert_eq!(lock_file(said), None);
    }

    #[test]
    fn hooks_and_auth_fail_fast() {
        let said = "!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)\n";
        let Pushed::Failed(Error::Refused { .. }) = classify("origin", said) else {
            panic!("a hook refusal is final");
        };
        let said = "error: failed to push some refs\nmainstay: refusing to force-push";
        assert!(matches!(
            classify("origin", said),
            Pushed::Failed(Error::Refused { .. })
        ));
        let said = "fatal: Authentication failed for 'https://host/repo.git/'";
        assert!(matches!(
            classify("origin", said),
            Pushed::Failed(Error::Auth { .. })
        ));
        let said = "fatal: '/nope' does not appear to be a git repository\n\
                    fatal: Could not read from remote repository.";
        assert!(matches!(
            classify("origin", said),
            Pushed::Failed(Error::Unreachable { .. })
        ));
    }

    #[test]
    fn what_a_hook_of_this_clone_prints_is_not_read_as_git_s_words() {
        // A carried file's name quoted in a refusal: neither an authentication failure nor a race.
        for name in [
            "Authentication failed.txt",
            "is not in this clone",
            "Connection refused",
        ] {
            let said = format!(
                "mainstay: refusing to push `refs/heads/main`: {name}:1 adds a conflict block\n\
                 error: failed to push some refs to '/r.git'\n"
            );
            assert!(
                matches!(
                    classify("origin", &said),
                    Pushed::Failed(Error::Refused { .. })
                ),
                "{name}"
            );
        }
        let said = "mainstay: refusing to push protected branch `main`: the remote's 1234567 is \
                    not in this clone, so this may overwrite work; fetch first\n\
                    error: failed to push some refs to '/r.git'\n";
        assert!(matches!(classify("origin", said), Pushed::Race(_)));
    }

    #[test]
    fn a_dropped_connection_is_another_round() {
        let said = "fatal: unable to connect to 127.0.0.1:\n127.0.0.1[0: 127.0.0.1]: errno=Connection refused";
        assert!(matches!(classify("origin", said), Pushed::Race(_)));
        let said = "fatal: the remote end hung up unexpectedly";
        assert!(matches!(classify("origin", said), Pushed::Race(_)));
        assert!(!transient("fatal: Could not resolve host: nowhere.example"));
    }
}
