//! `mainstay push`: the push an agent runs instead of `git push`.
//!
//! Fetch, rebase the local commits onto the remote branch (ledger files merge through the ledger
//! driver, so they do not stop the rebase), push; when the remote moved meanwhile, start again,
//! with exponential backoff and full jitter inside a total budget. What retrying cannot fix ends
//! at once: an authentication failure, a refusal by a hook or the policy, an unreachable remote,
//! a conflict a person must resolve. A conflict aborts the rebase, so the branch, the index and
//! the work tree are exactly as they were; the conflicted files go to the conflict log.

use std::io::Write;
use std::time::Duration;

use serde::Deserialize;

use crate::clock::{Clock, Jitter};
use crate::git::{self, Git};
use crate::policy;
use crate::time::{duration, show};

/// `[sync]` in `.mainstay.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Further attempts after the first, when the remote moved meanwhile.
    pub retries: u32,
    /// The whole command, waits included, ends within this.
    #[serde(deserialize_with = "duration")]
    pub budget: Duration,
    /// The first backoff's upper bound; it doubles with each retry.
    #[serde(deserialize_with = "duration")]
    pub backoff: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            retries: 3,
            budget: Duration::from_secs(30),
            backoff: Duration::from_millis(500),
        }
    }
}

impl Settings {
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        if self.budget.is_zero() {
            return Err((
                "sync.budget".to_owned(),
                "must be more than zero".to_owned(),
            ));
        }
        Ok(())
    }
}

/// What to push where.
#[derive(Debug, Clone)]
pub struct Options {
    pub remote: String,
    /// The remote branch; `None` means the current branch's name.
    pub branch: Option<String>,
    /// A real lease: only on agent branches, never on protected ones.
    pub force: bool,
    pub settings: Settings,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("HEAD is not on a branch; switch to the branch to push")]
    Detached,
    #[error(
        "`{branch}` is not the branch checked out here (`{current}`): mainstay push never lands one branch's commits on another; switch to it (`git switch {branch}`), or push this one (`mainstay push {remote} {current}`)"
    )]
    OtherBranch {
        branch: String,
        current: String,
        remote: String,
    },
    #[error("`{remote}` is not a remote of this clone (`git remote -v` lists them) nor a URL")]
    NoSuchRemote { remote: String },
    #[error("refusing to force-push `{branch}`: the remote's {} was never on this branch here, so the push would drop work this clone has not seen; look at it first (`git log {remote}/{branch}`), then integrate it or force again", &sha[..sha.len().min(7)])]
    NotIntegrated {
        remote: String,
        branch: String,
        sha: String,
    },
    #[error("a rebase or merge is in progress; finish or abort it first")]
    InProgress,
    #[error("uncommitted changes in {}; commit or stash them first (mainstay never adds files for you)", files.join(", "))]
    Dirty { files: Vec<String> },
    #[error("--force is only for agent branches ({agents}); `{branch}` is not one")]
    ForceNotAgent { branch: String, agents: String },
    #[error("--force is never allowed on protected branch `{branch}`")]
    ForceProtected { branch: String },
    #[error("authentication to `{remote}` failed: {detail}")]
    Auth { remote: String, detail: String },
    #[error("`{remote}` is unreachable: {detail}")]
    Unreachable { remote: String, detail: String },
    #[error("the push was refused: {detail}")]
    Refused { detail: String },
    #[error("rebasing onto {remote}/{branch} conflicts in {}; nothing was changed here; to resolve: `git pull --rebase {remote} {branch}`, fix those files, `git add` them, `git rebase --continue`, then `mainstay push` again (the files are in the conflict log)", files.join(", "))]
    Conflict {
        remote: String,
        branch: String,
        files: Vec<String>,
    },
    #[error("the remote kept moving: {attempts} attempts in {}; run `mainstay push` again", show(*elapsed))]
    RetriesExhausted { attempts: u32, elapsed: Duration },
    #[error("the rebase failed and was aborted: {detail}")]
    RebaseFailed { detail: String },
    #[error(transparent)]
    Git(#[from] git::Error),
    #[error(transparent)]
    Log(#[from] crate::state::Error),
}

impl Error {
    /// True when running the command again later may succeed (the remote kept moving).
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::RetriesExhausted { .. })
    }

    /// True when the command was asked something it cannot do as asked: a bad argument.
    pub fn is_usage(&self) -> bool {
        matches!(self, Error::NoSuchRemote { .. } | Error::OtherBranch { .. })
    }
}

/// What a successful push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub sha: String,
    pub attempts: u32,
    pub waited: Duration,
}

/// How one `git push` ended.
#[derive(Debug)]
enum PushResult {
    /// Pushed; the hooks' own lines (where the deploy is followed), to pass on.
    Pushed(Vec<String>),
    /// The remote moved since we fetched: worth another round.
    Race(String),
    Failed(Error),
}

/// Runs the whole command; progress lines go to `out`.
pub fn run(
    git: &Git,
    options: &Options,
    policy: &policy::Settings,
    clock: &dyn Clock,
    jitter: &mut Jitter,
    out: &mut impl Write,
) -> Result<Outcome, Error> {
    let local = git
        .run(["symbolic-ref", "--quiet", "--short", "HEAD"])
        .map_err(|_| Error::Detached)?;
    let branch = options.branch.clone().unwrap_or_else(|| local.clone());
    // `git push origin main` pushes local `main`: so does this, and only from where it is; or
    // the branch checked out here, when it tracks that very branch (`git switch -c wt1 --track
    // origin/main`, a worktree per agent), as `push.default=upstream` would.
    let tracks = || -> Result<bool, Error> {
        let remote = git.config_get(&format!("branch.{local}.remote"))?;
        let merge = git.config_get(&format!("branch.{local}.merge"))?;
        Ok(remote.as_deref() == Some(options.remote.as_str())
            && merge.as_deref() == Some(format!("refs/heads/{branch}").as_str()))
    };
    if branch != local && !tracks()? {
        return Err(Error::OtherBranch {
            branch,
            current: local,
            remote: crate::text::without_credentials(&options.remote).into_owned(),
        });
    }
    let is_url = options.remote.contains("://")
        || options.remote.contains(':')
        || options.remote.starts_with(['/', '.']);
    if !is_url
        && git
            .config_get(&format!("remote.{}.url", options.remote))?
            .is_none()
    {
        return Err(Error::NoSuchRemote {
            remote: options.remote.clone(),
        });
    }
    check_clean(git)?;
    if options.force {
        if policy.is_protected(&branch) {
            return Err(Error::ForceProtected { branch });
        }
        if !policy.is_agent(&branch) {
            let agents = policy.agent.join(", ");
            return Err(Error::ForceNotAgent { branch, agents });
        }
    }
    // A URL is named to git through the environment, and shown without its credentials.
    let (url_git, remote) = git.remote(&options.remote);
    let git = &url_git;
    let remote = remote.as_str();
    let shown = crate::text::without_credentials(&options.remote).into_owned();
    let shown = shown.as_str();
    let attempts = options.settings.retries + 1;
    let mut waited = Duration::ZERO;
    for attempt in 1..=attempts {
        let upstream = fetch(git, remote, shown, &branch, clock, jitter)?;
        let head = git.run(["rev-parse", "HEAD"])?;
        if upstream.as_deref() == Some(head.as_str()) {
            let _ = writeln!(
                out,
                "nothing to push: {shown}/{branch} is already at {}",
                &head[..head.len().min(7)]
            );
            return Ok(Outcome {
                sha: head,
                attempts: attempt,
                waited,
            });
        }
        // A force push leases on exactly what it fetched, and only once this clone has had that
        // commit on the branch: `--force-if-includes` does nothing beside an explicit lease.
        let lease = match (&upstream, options.force) {
            (Some(sha), true) if !integrated(git, &local, sha)? => {
                return Err(Error::NotIntegrated {
                    remote: shown.to_owned(),
                    branch,
                    sha: sha.clone(),
                });
            }
            (_, true) => Some(upstream.clone().unwrap_or_default()),
            (Some(upstream), false) => {
                rebase(git, shown, &branch, upstream)?;
                None
            }
            (None, false) => None,
        };
        match push_once(git, (remote, shown), &branch, lease.as_deref())? {
            PushResult::Pushed(notes) => {
                let sha = git.run(["rev-parse", "HEAD"])?;
                let _ = writeln!(
                    out,
                    "pushed {} to {shown}/{branch} (attempt {attempt}, waited {})",
                    &sha[..sha.len().min(7)],
                    show(waited)
                );
                for note in notes {
                    let _ = writeln!(out, "{note}");
                }
                return Ok(Outcome {
                    sha,
                    attempts: attempt,
                    waited,
                });
            }
            PushResult::Failed(error) => return Err(error),
            PushResult::Race(why) => {
                let cap = options
                    .settings
                    .backoff
                    .saturating_mul(1 << (attempt - 1).min(16));
                let wait = jitter.up_to(cap);
                let elapsed = clock.elapsed();
                if attempt == attempts || elapsed + wait >= options.settings.budget {
                    let _ = writeln!(out, "attempt {attempt}: {why}; giving up");
                    return Err(Error::RetriesExhausted {
                        attempts: attempt,
                        elapsed,
                    });
                }
                let _ = writeln!(out, "attempt {attempt}: {why}; retrying in {}", show(wait));
                clock.sleep(wait);
                waited += wait;
            }
        }
    }
    unreachable!("the last attempt returns")
}

/// Refuses tracked changes and unfinished operations; untracked files are the agent's own.
fn check_clean(git: &Git) -> Result<(), Error> {
    for state in [
        "rebase-merge",
        "rebase-apply",
        "MERGE_HEAD",
        "CHERRY_PICK_HEAD",
    ] {
        let path = git.run(["rev-parse", "--path-format=absolute", "--git-path", state])?;
        if std::path::Path::new(&path).exists() {
            return Err(Error::InProgress);
        }
    }
    let status = git.run(["status", "--porcelain=v1", "--untracked-files=no"])?;
    let files: Vec<String> = status
        .lines()
        .filter_map(|l| l.get(3..))
        .map(str::to_owned)
        .collect();
    if files.is_empty() {
        Ok(())
    } else {
        Err(Error::Dirty { files })
    }
}

/// Whether `sha` was ever on local branch `branch`: reachable from an entry of its reflog.
fn integrated(git: &Git, branch: &str, sha: &str) -> Result<bool, Error> {
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

/// Fetches the remote branch; its sha, or `None` when the remote has no such branch yet. A
/// local lock race (another worktree of this clone fetching the same ref) is tried again.
fn fetch(
    git: &Git,
    remote: &str,
    shown: &str,
    branch: &str,
    clock: &dyn Clock,
    jitter: &mut Jitter,
) -> Result<Option<String>, Error> {
    let mut output = git.output(["fetch", "--quiet", "--no-tags", remote, branch])?;
    for _ in 0..LOCAL_RETRIES {
        if output.status.success() || !is_local_lock_race(&output.stderr) {
            break;
        }
        clock.sleep(jitter.up_to(Duration::from_millis(100)));
        output = git.output(["fetch", "--quiet", "--no-tags", remote, branch])?;
    }
    if output.status.success() {
        return Ok(Some(git.run(["rev-parse", "FETCH_HEAD"])?));
    }
    let stderr = git::trimmed(&output.stderr);
    if stderr.contains("couldn't find remote ref") {
        return Ok(None);
    }
    Err(
        classify_failure(shown, &stderr).unwrap_or_else(|| Error::Unreachable {
            remote: shown.to_owned(),
            detail: stderr,
        }),
    )
}

/// How often a local lock race is tried again before it counts as a failure.
const LOCAL_RETRIES: u32 = 20;

/// git's words for a ref lock another process of this clone holds: a passing, local race.
fn is_local_lock_race(stderr: &[u8]) -> bool {
    let text = String::from_utf8_lossy(stderr);
    text.contains("cannot lock ref")
        || (text.contains("Unable to create") && text.contains(".lock"))
}

fn rebase(git: &Git, remote: &str, branch: &str, upstream: &str) -> Result<(), Error> {
    // No editor may open: an agent has no terminal.
    let output = git.output([
        "-c",
        "core.editor=true",
        "rebase",
        "--quiet",
        "--no-autostash",
        upstream,
    ])?;
    if output.status.success() {
        return Ok(());
    }
    let conflicted = git.run(["diff", "--name-only", "--diff-filter=U"])?;
    let files: Vec<String> = conflicted.lines().map(str::to_owned).collect();
    git.run(["rebase", "--abort"])?;
    if files.is_empty() {
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

/// One `git push` to `remote` (the argument for git), `shown` (the remote for people).
fn push_once(
    git: &Git,
    (remote, shown): (&str, &str),
    branch: &str,
    lease: Option<&str>,
) -> Result<PushResult, Error> {
    let refspec = format!("HEAD:refs/heads/{branch}");
    let mut args = vec!["push".to_owned(), "--porcelain".to_owned()];
    if let Some(lease) = lease {
        // An empty lease: the branch must not exist on the remote.
        args.push(format!("--force-with-lease=refs/heads/{branch}:{lease}"));
    }
    args.extend([remote.to_owned(), refspec]);
    let output = git.output(&args)?;
    // The remote took it even when updating the local tracking ref then lost a lock race.
    let landed = String::from_utf8_lossy(&output.stdout).lines().any(|l| {
        l.ends_with(&format!(":refs/heads/{branch}\t[new branch]"))
            || (l.contains(&format!(":refs/heads/{branch}\t"))
                && matches!(l.chars().next(), Some(' ' | '+' | '*')))
    });
    if output.status.success() || landed {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let notes = stderr.lines().filter(|l| l.starts_with("mainstay: "));
        return Ok(PushResult::Pushed(notes.map(str::to_owned).collect()));
    }
    let said = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(classify_push(shown, &said))
}

/// Sorts a failed push's porcelain output and stderr into race, refusal, auth or unreachable.
fn classify_push(remote: &str, said: &str) -> PushResult {
    let detail = git::trimmed(said.as_bytes());
    let rejected = said
        .lines()
        .find(|l| l.starts_with('!') && l.contains("rejected]"));
    if let Some(line) = rejected {
        let reason = line.rsplit('(').next().unwrap_or("").trim_end_matches(')');
        // Rejected for being behind, or beaten to the ref lock by a concurrent push.
        let race = [
            "fetch first",
            "non-fast-forward",
            "failed to update ref",
            "failed to lock",
        ]
        .iter()
        .any(|r| reason.contains(r));
        if race {
            return PushResult::Race(format!("the remote moved ({reason})"));
        }
        let detail = if reason == "stale info" {
            "the branch moved on the remote since this clone last fetched, so the lease refused \
             to overwrite it; fetch and look at it first"
                .to_owned()
        } else {
            reason.to_owned()
        };
        return PushResult::Failed(Error::Refused { detail });
    }
    if said.contains(policy::REMOTE_UNKNOWN) {
        // Our pre-push saw a remote commit this clone never fetched: the remote moved meanwhile.
        return PushResult::Race("the remote moved (a commit not fetched yet)".to_owned());
    }
    if let Some(error) = classify_failure(remote, said) {
        return PushResult::Failed(error);
    }
    PushResult::Failed(Error::Refused { detail })
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
    const UNREACHABLE: [&str; 6] = [
        "Could not resolve host",
        "Connection refused",
        "Connection timed out",
        "does not appear to be a git repository",
        "Could not read from remote repository",
        "unable to access",
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
        assert!(matches!(classify_push("origin", said), PushResult::Race(_)));
        let said = "!\tHEAD:refs/heads/main\t[remote rejected] (failed to update ref)\n";
        assert!(matches!(classify_push("origin", said), PushResult::Race(_)));
        let said = "!\tHEAD:refs/heads/x\t[rejected] (stale info)\n";
        assert!(matches!(
            classify_push("origin", said),
            PushResult::Failed(Error::Refused { .. })
        ));
    }

    #[test]
    fn hooks_and_auth_fail_fast() {
        let said = "!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)\n";
        let PushResult::Failed(Error::Refused { .. }) = classify_push("origin", said) else {
            panic!("a hook refusal is final");
        };
        let said = "error: failed to push some refs\nmainstay: refusing to force-push";
        assert!(matches!(
            classify_push("origin", said),
            PushResult::Failed(Error::Refused { .. })
        ));
        let said = "fatal: Authentication failed for 'https://host/repo.git/'";
        assert!(matches!(
            classify_push("origin", said),
            PushResult::Failed(Error::Auth { .. })
        ));
        let said = "fatal: '/nope' does not appear to be a git repository";
        assert!(matches!(
            classify_push("origin", said),
            PushResult::Failed(Error::Unreachable { .. })
        ));
    }
}
