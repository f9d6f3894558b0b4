//! `mainstay push`: the push an agent runs instead of `git push`.
//!
//! Fetch, rebase the local commits onto the remote branch (ledger files merge through the ledger
//! driver, so they do not stop the rebase), carry the changes other agents parked (see
//! [`park`]), push. A push that loses the race parks its change on the remote and waits: the
//! next push to win lands it, or it tries again itself, as long as the budget allows. What
//! retrying cannot fix ends at once: an authentication failure, a refusal by a hook or the
//! policy, an unreachable remote, a conflict a person must resolve. A conflict aborts the rebase,
//! so the branch, the index and the work tree are exactly as they were; the conflicted files go
//! to the conflict log.

mod carry;
mod objects;
mod pacing;
mod park;
mod queue;
mod remote;
mod round;
#[cfg(test)]
mod sim;

use std::io::Write;
use std::time::Duration;

use serde::Deserialize;

use crate::clock::{Clock, Jitter};
use crate::git::{self, Git};
use crate::policy;
use crate::text::sha7;
use crate::time::{duration, show};
use park::{Parked, Refs, Seen};
use queue::Queue;
use remote::{Flags, Pushed, Remote, Update};

/// `[sync]` in `.mainstay.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// At most this many further attempts to land after the first; unset, as many as the
    /// budget allows.
    pub retries: Option<u32>,
    /// The whole command, waits included, ends within this.
    #[serde(deserialize_with = "duration")]
    pub budget: Duration,
    /// The first wait's upper bound; the waits grow with the contention seen.
    #[serde(deserialize_with = "duration")]
    pub backoff: Duration,
    /// Park a change that lost the race on the remote, for the next push to land with its own.
    pub park: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            retries: None,
            budget: Duration::from_secs(120),
            backoff: Duration::from_millis(200),
            park: true,
        }
    }
}

/// The longest `budget` a configuration may set: the file is committed, and every agent's
/// `mainstay push` may wait that long.
const MAX_BUDGET: Duration = Duration::from_secs(60 * 60);

/// The longest `backoff` a configuration may set, for the same reason.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

impl Settings {
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        for (key, value, limit, shown) in [
            ("sync.budget", self.budget, MAX_BUDGET, "1h"),
            ("sync.backoff", self.backoff, MAX_BACKOFF, "10s"),
        ] {
            if value.is_zero() {
                return Err((key.to_owned(), "must be more than zero".to_owned()));
            }
            if value > limit {
                return Err((key.to_owned(), format!("must be at most {shown}")));
            }
        }
        Ok(())
    }
}

/// What to push where.
#[derive(Debug, Clone)]
pub struct Options {
    pub remote: String,
    /// The remote branch as given: `None` means the current branch's name; a name must be the
    /// branch checked out here; `HEAD:<branch>` (or `<current>:<branch>`) lands this branch's
    /// commits on another remote branch, as git's own refspec says.
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
        "`{branch}` is not the branch checked out here (`{current}`): mainstay push never lands one branch's commits on another; to push `{branch}`, switch to it (`git switch {branch}`) and run `mainstay push {remote} HEAD:{target}`; to land `{current}`'s commits on `{target}`: `mainstay push {remote} HEAD:{target}`"
    )]
    OtherBranch {
        /// The local branch asked for.
        branch: String,
        current: String,
        remote: String,
        /// The remote branch asked for.
        target: String,
    },
    #[error(
        "`{spec}` asks for a force push: write the branch without `+` and add `--force` (agent branches only, with a real lease)"
    )]
    ForceSpec { spec: String },
    #[error(
        "`{spec}` would delete the remote branch: mainstay push never deletes (`git push REMOTE --delete BRANCH` does, where the policy allows)"
    )]
    DeleteSpec { spec: String },
    #[error("`{name}` is not a branch name (`git check-ref-format --branch` refuses it)")]
    BadBranch { name: String },
    #[error("`{remote}` is not a remote of this clone (`git remote -v` lists them) nor a URL")]
    NoSuchRemote { remote: String },
    #[error(
        "refusing to force-push `{branch}`: the remote's {} was never on this branch here, so the push would drop work this clone has not seen; look at it first (`git log {remote}/{branch}`), then integrate it (`git rebase {remote}/{branch}`) and run `mainstay push` again",
        crate::text::sha7(sha)
    )]
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
    #[error(
        "{lock} stays locked: if no git process is running in this clone, a crashed one left it; remove it (`rm {lock}`) and run `mainstay push` again"
    )]
    LocalLock { lock: String },
    #[error(
        "`{remote}` keeps {lock} locked push after push: a git process on the remote crashed and left it; whoever runs the remote removes it (when no git process runs there), then run `mainstay push` again"
    )]
    RemoteLock { remote: String, lock: String },
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
    #[error("the budget ran out: {} in {} while the remote kept moving or other parked changes were ahead of this one; run `mainstay push` again", attempts_said(*attempts), show(*elapsed))]
    RetriesExhausted { attempts: u32, elapsed: Duration },
    #[error(
        "the change is still parked on the remote as {name} (taking it back failed: {detail}) and may yet land; `mainstay push` here again follows it"
    )]
    StillParked { name: String, detail: String },
    #[error("the rebase failed and was aborted: {detail}")]
    RebaseFailed { detail: String },
    #[error("{0}")]
    Interrupted(String),
    #[error(transparent)]
    Git(#[from] git::Error),
    #[error(transparent)]
    Log(#[from] crate::state::Error),
}

impl Error {
    /// True when running the command again later may succeed (the remote kept moving).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::RetriesExhausted { .. } | Error::StillParked { .. }
        )
    }

    /// True when the command was asked something it cannot do as asked: a bad argument.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::NoSuchRemote { .. }
                | Error::OtherBranch { .. }
                | Error::ForceSpec { .. }
                | Error::DeleteSpec { .. }
                | Error::BadBranch { .. }
        )
    }
}

/// What a successful `mainstay push` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Where the branch is now, here and on the remote.
    pub sha: String,
    /// Pushes to the branch this command made.
    pub attempts: u32,
    pub waited: Duration,
    pub landed: Landed,
}

/// How the commits reached the branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Landed {
    /// This command pushed them, with `carried` changes other agents had parked.
    Pushed { carried: usize },
    /// Another agent's push carried them; the last of them is `in` on the branch.
    Carried { r#in: String },
    /// The remote already had them.
    Nothing,
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
    let spec = options.branch.as_deref().map(Spec::parse).transpose()?;
    let local = git
        .run(["symbolic-ref", "--quiet", "--short", "HEAD"])
        .map_err(|_| Error::Detached)?;
    let branch = match spec {
        None => local.clone(),
        Some(spec) => spec.target(git, &local, &options.remote)?,
    };
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
    let refs = Refs::new(&branch);
    match park::recover(git, &refs) {
        Ok(Some(note)) => {
            let _ = writeln!(out, "{note}");
        }
        Ok(None) => {}
        Err(park::Recover::Git(e)) => return Err(e.into()),
        Err(park::Recover::Unclear(what)) => return Err(Error::Interrupted(what)),
    }
    let here = remote::check_clean(git)?;
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
    let (url_git, name) = git.remote(&options.remote);
    let shown = crate::text::without_credentials(&options.remote).into_owned();
    let remote = Remote {
        git: &url_git,
        name: &name,
        shown: &shown,
    };
    let id = park::own_id(&here.common_dir, &here.git_dir, &branch);
    let orig = here.head;
    let mut run = Run {
        refs,
        remote,
        branch: &branch,
        local: &local,
        settings: &options.settings,
        clock,
        jitter,
        id,
        parked: None,
        queue: None,
        park: options.settings.park && !options.force,
        attempts: 0,
        waited: Duration::ZERO,
        locked: None,
        cycle: Duration::ZERO,
    };
    let result = if options.force {
        run.force(out)
    } else {
        run.land(out)
    };
    let Err(error) = result else {
        run.forget_parked();
        return result;
    };
    // Never leave a change parked behind an error: take it back, or learn that it landed.
    match run.unpark() {
        Ok(Some(landed)) => {
            if let Ok(seen) = run.fetch() {
                let upstream = seen.upstream.unwrap_or_else(|| landed.clone());
                let outcome = run.carried(landed, &upstream, out);
                run.forget_parked();
                return outcome;
            }
        }
        Ok(None) => run.forget_parked(),
        Err(still) => {
            if !matches!(error, Error::StillParked { .. }) {
                let _ = writeln!(out, "{still}");
            }
        }
    }
    // The clone as it was before the command: the branch where it was.
    if git
        .run(["rev-parse", "HEAD"])
        .is_ok_and(|head| head != orig)
    {
        let _ = git.run(["reset", "--quiet", "--keep", &orig]);
    }
    Err(error)
}

/// `BRANCH` read as git reads a refspec, so that nothing git would take otherwise is taken as a
/// branch's name: `[<source>:]<destination>`, each with or without `refs/heads/`.
struct Spec<'a> {
    /// `None`: the destination's own name, as `git push origin main` pushes local `main`.
    source: Option<&'a str>,
    destination: &'a str,
}

impl<'a> Spec<'a> {
    fn parse(spec: &'a str) -> Result<Spec<'a>, Error> {
        if spec.starts_with('+') {
            return Err(Error::ForceSpec {
                spec: spec.to_owned(),
            });
        }
        let (source, destination) = match spec.split_once(':') {
            Some(("", _)) => {
                return Err(Error::DeleteSpec {
                    spec: spec.to_owned(),
                });
            }
            Some((source, destination)) => (Some(source), destination),
            None => (None, spec),
        };
        Ok(Spec {
            source,
            destination,
        })
    }

    /// The remote branch to land on, when the commits are those of `local`, the branch checked
    /// out here; anything else is refused.
    fn target(&self, git: &Git, local: &str, remote: &str) -> Result<String, Error> {
        // `HEAD` alone, as in `git push origin HEAD`, is the branch checked out here.
        let destination = match self.destination {
            "HEAD" if self.source.is_none() => local,
            name => branch_name(git, name)?,
        };
        let source = match self.source {
            Some("HEAD") => local,
            Some(name) => branch_name(git, name)?,
            None => destination,
        };
        if source != local {
            return Err(Error::OtherBranch {
                branch: source.to_owned(),
                current: local.to_owned(),
                remote: crate::text::without_credentials(remote).into_owned(),
                target: destination.to_owned(),
            });
        }
        Ok(destination.to_owned())
    }
}

/// A branch's name from `name` or `refs/heads/<name>`; refs elsewhere and names git refuses for
/// a branch (`git check-ref-format --branch`) are refused.
fn branch_name<'n>(git: &Git, name: &'n str) -> Result<&'n str, Error> {
    let bad = || Error::BadBranch {
        name: name.to_owned(),
    };
    let short = name.strip_prefix("refs/heads/").unwrap_or(name);
    if short.starts_with("refs/") || short.starts_with('-') {
        return Err(bad());
    }
    // It also expands `@{-1}` and the like: only a name that stays as it is, is one.
    match git.run(["check-ref-format", "--branch", short]) {
        Ok(checked) if checked == short => Ok(short),
        _ => Err(bad()),
    }
}

/// What a parked run does next.
enum Turn {
    /// Land the queue, with what was just fetched.
    Now,
    /// Fetch again: the change may have been carried, or its turn came.
    Look,
    OutOfTime,
}

/// One `mainstay push` under way.
struct Run<'a> {
    remote: Remote<'a>,
    refs: Refs,
    /// The remote branch.
    branch: &'a str,
    /// The branch checked out here.
    local: &'a str,
    settings: &'a Settings,
    clock: &'a dyn Clock,
    jitter: &'a mut Jitter,
    /// This run's parked change's id.
    id: String,
    parked: Option<Parked>,
    /// What this run saw of the queue while parked.
    queue: Option<Queue>,
    /// Whether this run may park (the setting, and a remote that takes atomic pushes).
    park: bool,
    attempts: u32,
    waited: Duration,
    /// The remote's ref lock the last pushes found taken, and how many in a row.
    locked: Option<(String, u32)>,
    /// How long the last attempt took, fetch to push: the pace of this remote.
    cycle: Duration,
}

impl Run<'_> {
    fn git(&self) -> &Git {
        self.remote.git
    }

    /// Fetches the branch and what is parked on it.
    fn fetch(&mut self) -> Result<Seen, Error> {
        let specs = self.refs.refspecs(self.park);
        let found =
            self.patiently(|run| remote::fetch(&run.remote, &specs, run.clock, run.jitter))?;
        Ok(self.refs.seen(self.git(), found)?)
    }

    /// `ask` of the remote; a connection refused, reset or dropped is asked again for
    /// [`NETWORK_WINDOW`], inside the budget.
    fn patiently<T>(
        &mut self,
        mut ask: impl FnMut(&mut Self) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut down_since = None;
        loop {
            match ask(self) {
                Err(Error::Unreachable { remote, detail }) if remote::transient(&detail) => {
                    let since = *down_since.get_or_insert(self.clock.elapsed());
                    let pause = pacing::after_unreachable(self.settings.backoff, self.jitter);
                    if self.clock.elapsed().saturating_sub(since) >= pacing::NETWORK_WINDOW
                        || !self.pause(pause)
                    {
                        return Err(Error::Unreachable { remote, detail });
                    }
                }
                answer => return answer,
            }
        }
    }

    /// Lands this branch's commits: fetch, then either attempt (rebase, carry, push), or, while
    /// parked and another change is first in line, wait for a push to carry this one.
    fn land(&mut self, out: &mut impl Write) -> Result<Outcome, Error> {
        let mut losses = 0u32;
        let mut unconfirmed = 0;
        let mut first = true;
        loop {
            let mut seen = self.fetch()?;
            if first {
                first = false;
                if let Some(outcome) = self.resume(&seen, out)? {
                    return Ok(outcome);
                }
            }
            let mut landed_in = None;
            let parked = match &self.parked {
                None => round::Parked::No,
                Some(p) if seen.parked.contains(&(p.id.clone(), p.sha.clone())) => {
                    round::Parked::Still
                }
                Some(p) => {
                    if let Some(upstream) = &seen.upstream {
                        landed_in = p.landed_in(self.git(), upstream)?;
                    }
                    round::Parked::Gone {
                        landed: landed_in.is_some(),
                    }
                }
            };
            match round::check(parked, unconfirmed) {
                round::Check::Go => {}
                round::Check::Landed => {
                    let upstream = seen.upstream.clone().unwrap_or_default();
                    let landed = landed_in.expect("found on the branch, as the check says");
                    return self.carried(landed, &upstream, out);
                }
                round::Check::Confirm => {
                    unconfirmed += 1;
                    let pause = pacing::before_confirming(self.settings.backoff, self.jitter);
                    if !self.pause(pause) {
                        return self.give_up(out);
                    }
                    continue;
                }
                round::Check::LeftQueue => {
                    // Put aside by a lander (it did not apply on the branch with theirs), taken
                    // back, or written over: it lands from here, without waiting again.
                    self.parked = None;
                    self.park = false;
                    let _ = writeln!(
                        out,
                        "the parked change left the queue without landing (another push could \
                         not apply it); landing it from here"
                    );
                }
            }
            unconfirmed = 0;
            // A queue is waiting: join it rather than race it; whoever lands next carries it.
            let others = seen.parked.iter().any(|(id, _)| *id != self.id);
            if let Some(upstream) = &seen.upstream
                && round::joins(
                    self.park,
                    self.parked.is_some(),
                    others,
                    self.ahead_of(upstream)?,
                )
            {
                let head = self.git().run(["rev-parse", "HEAD"])?;
                if self.park_here(&head, upstream)? {
                    let ahead = seen.parked.iter().filter(|(id, _)| *id != self.id).count();
                    let _ = writeln!(
                        out,
                        "parked on the remote behind {ahead} other change(s), for the next push \
                         to land"
                    );
                    seen.parked.push((self.id.clone(), head));
                }
            }
            if seen.upstream.is_some() && self.parked.is_some() {
                match self.wait_turn(&seen)? {
                    Turn::Now => {}
                    Turn::Look => continue,
                    Turn::OutOfTime => return self.give_up(out),
                }
            }
            if let Some(outcome) = self.attempt(&seen, out)? {
                return Ok(outcome);
            }
            losses += 1;
            if !self.back_off(losses) {
                return self.give_up(out);
            }
        }
    }

    /// Picks up where an earlier run from this worktree ended with its change parked: still
    /// parked (adopted), or carried onto the branch by another push since (then this branch
    /// follows the remote's). Only a change this worktree parked counts: commits that merely
    /// look like ones on the branch are never taken for landed.
    fn resume(&mut self, seen: &Seen, out: &mut impl Write) -> Result<Option<Outcome>, Error> {
        let Some(upstream) = &seen.upstream else {
            return Ok(None);
        };
        // What this worktree parked is what its own record says: a parked ref under its id that
        // holds anything else was written by someone else, and is never taken for its change.
        let recorded = self.git().resolve(&self.refs.own());
        let mut earlier = None;
        if let Some((_, sha)) = seen.parked.iter().find(|(id, _)| *id == self.id) {
            if recorded.as_deref() != Some(sha.as_str()) {
                let _ = writeln!(
                    out,
                    "the parked ref under this worktree's id ({}) holds {}, which this worktree \
                     did not park; it is left alone, and this run lands its commits itself",
                    self.refs.remote(&self.id),
                    sha7(sha)
                );
                self.park = false;
            } else {
                let base = self.git().run(["merge-base", sha, upstream])?;
                self.parked = Some(Parked::new(self.git(), self.id.clone(), sha.clone(), base)?);
                if park::same_change(self.git(), sha, "HEAD", upstream)? {
                    return Ok(None);
                }
                // The branch moved on since: take the old change back, and push what is here now.
                if self.unpark()?.is_none() {
                    return Ok(None);
                }
                earlier = Some(sha.clone());
            }
        }
        let Some(earlier) = earlier.or(recorded) else {
            return Ok(None);
        };
        if !self.ahead_of(upstream)? {
            return Ok(None);
        }
        let base = self.git().run(["merge-base", &earlier, upstream])?;
        let change = Parked::new(self.git(), self.id.clone(), earlier.clone(), base)?;
        let Some(landed) = change.landed_in(self.git(), upstream)? else {
            return Ok(None);
        };
        if park::same_change(self.git(), &earlier, "HEAD", upstream)? {
            return self.carried(landed, upstream, out).map(Some);
        }
        let on_top = self.git().is_ancestor(&earlier, "HEAD")?;
        if on_top {
            // The parked commits landed; those made here since are this run's to push.
            let _ = writeln!(
                out,
                "the commits parked from here earlier landed in {}, carried by another push; \
                 pushing the ones made since",
                sha7(&landed)
            );
            remote::rebase(
                self.git(),
                self.remote.shown,
                self.branch,
                upstream,
                Some(&earlier),
                self.left(),
            )?;
        }
        Ok(None)
    }

    /// Drops this worktree's record of a parked change: the run ended knowing where it is.
    fn forget_parked(&self) {
        let _ = self.git().output(["update-ref", "-d", &self.refs.own()]);
    }

    /// While parked: waits as long as the changes ahead of this one may still land it (see
    /// [`queue`]), polling the remote's refs (a listing, no objects) no faster than the queue's
    /// length allows.
    fn wait_turn(&mut self, seen: &Seen) -> Result<Turn, Error> {
        let mut listing = seen.clone();
        let mut waited = false;
        loop {
            let Some(parked) = &self.parked else {
                return Ok(Turn::Look);
            };
            if !listing
                .parked
                .contains(&(parked.id.clone(), parked.sha.clone()))
            {
                // Gone: carried, most likely; a fetch finds out.
                return Ok(Turn::Look);
            }
            let (id, leads_itself) = (parked.id.clone(), !parked.carriable());
            let patience = pacing::patience(self.cycle, self.settings.backoff);
            let now = self.clock.elapsed();
            let queue = self.queue.get_or_insert_with(|| Queue::new(now));
            if queue.look(now, &id, &listing.parked, patience, leads_itself) == queue::Turn::Land {
                return Ok(if waited { Turn::Look } else { Turn::Now });
            }
            let pause =
                pacing::between_looks(self.settings.backoff, listing.parked.len(), self.jitter);
            if !self.pause(pause) {
                // The budget is nearly spent waiting: one attempt of its own before giving up.
                return Ok(if self.attempts == 0 {
                    Turn::Now
                } else {
                    Turn::OutOfTime
                });
            }
            listing = self.list()?;
            waited = true;
        }
    }

    /// The remote's branch and parked refs, listed without fetching.
    fn list(&mut self) -> Result<Seen, Error> {
        let patterns = self.refs.patterns();
        let refs = self.patiently(|run| remote::list(&run.remote, &patterns))?;
        Ok(self.refs.listed(&refs))
    }

    /// Whether `HEAD` holds commits `upstream` does not.
    fn ahead_of(&self, upstream: &str) -> Result<bool, Error> {
        Ok(!self.git().is_ancestor("HEAD", upstream)?)
    }

    /// One round: rebase onto what was fetched, carry parked changes, push. `None`: the remote
    /// moved, and this change is parked (when it can be).
    fn attempt(&mut self, seen: &Seen, out: &mut impl Write) -> Result<Option<Outcome>, Error> {
        let started = self.clock.elapsed();
        self.attempts += 1;
        if let Some(upstream) = &seen.upstream
            && let Err(e) = remote::rebase(
                self.git(),
                self.remote.shown,
                self.branch,
                upstream,
                None,
                self.left(),
            )
        {
            // Still parked when taking it back fails: `run` says so; the rebase's error stays.
            return match self.unpark() {
                Ok(Some(landed)) => self.carried(landed, upstream, out).map(Some),
                _ => Err(e),
            };
        }
        let head = self.git().run(["rev-parse", "HEAD"])?;
        if seen.upstream.as_deref() == Some(head.as_str()) {
            if let Some(landed) = self.unpark()? {
                return self.carried(landed, &head, out).map(Some);
            }
            let _ = writeln!(
                out,
                "nothing to push: {}/{} is already at {}",
                self.remote.shown,
                self.branch,
                sha7(&head)
            );
            return Ok(Some(self.outcome(head, Landed::Nothing)));
        }
        let others: Vec<(String, String)> = seen
            .parked
            .iter()
            .filter(|(id, _)| *id != self.id)
            .cloned()
            .collect();
        let hooks_path = self.git().config_get("core.hooksPath")?;
        let mut sorted = match &seen.upstream {
            Some(upstream) if self.park => {
                park::chains(self.git(), &others, upstream, hooks_path.as_deref())?
            }
            _ => park::Chains::default(),
        };
        // An interrupted run of an earlier version still has records for another branch (see
        // `park::recover`): nothing is carried until that one is put right.
        if !sorted.carriable.is_empty() && self.git().resolve(&self.refs.carrying()).is_some() {
            sorted.carriable.clear();
        }
        let (clock, budget) = (self.clock, self.settings.budget);
        let remaining = || {
            budget
                .checked_sub(clock.elapsed())
                .filter(|left| !left.is_zero())
        };
        let context = carry::Context {
            attributes_from: &head,
            remaining: &remaining,
        };
        let picked = carry::pick(self.git(), &head, sorted.carriable, &context)?;
        // What no push of others will land leaves the queue in the landing push.
        let mut aside = sorted.not_chains;
        aside.extend(sorted.configuration);
        let mut plan = carry::Plan::new(head.clone(), picked, aside);
        let result = loop {
            let result = self.push(&plan)?;
            match plan.after(result.ended()) {
                Some(next) => plan = next,
                None => break result,
            }
        };
        if !matches!(result, Pushed::Locked(_)) {
            self.locked = None;
        }
        self.cycle = self.clock.elapsed().saturating_sub(started);
        match result {
            Pushed::Yes(notes) => {
                let sha = plan.tip.clone();
                let carried = plan.carried.len();
                if sha != head {
                    // Their commits are on the branch now: this clone follows it, as a pull
                    // would; untracked files in the way leave it behind, and the next run
                    // catches up.
                    let _ = self.git().output(["reset", "--quiet", "--keep", &sha]);
                }
                let also = match carried {
                    0 => String::new(),
                    1 => ", with 1 change another agent parked".to_owned(),
                    n => format!(", with {n} changes other agents parked"),
                };
                let _ = writeln!(
                    out,
                    "pushed {} to {}/{} (attempt {}, waited {}{also})",
                    sha7(&sha),
                    self.remote.shown,
                    self.branch,
                    self.attempts,
                    show(self.waited),
                );
                if !plan.aside.is_empty() {
                    let _ = writeln!(
                        out,
                        "put {} parked change(s) aside (under {}): each did not apply here, was \
                         refused with the push that carried it, changes configuration, or is no \
                         change others can land; their owners land them themselves",
                        plan.aside.len(),
                        park::ASIDE
                    );
                }
                for note in notes {
                    let _ = writeln!(out, "{note}");
                }
                Ok(Some(self.outcome(sha, Landed::Pushed { carried })))
            }
            Pushed::Failed(error) => match self.unpark() {
                Ok(Some(landed)) => {
                    let upstream = seen.upstream.clone().unwrap_or_default();
                    self.carried(landed, &upstream, out).map(Some)
                }
                _ => Err(error),
            },
            Pushed::NoAtomic => {
                self.park = false;
                Ok(None)
            }
            Pushed::Locked(lock) => {
                self.locked_race(lock)?;
                let _ = writeln!(
                    out,
                    "attempt {}: the remote's ref lock is taken",
                    self.attempts
                );
                Ok(None)
            }
            Pushed::Race(why) => {
                let parked = match &seen.upstream {
                    Some(upstream) if self.park && self.parked.is_none() => {
                        self.park_here(&head, upstream)?
                    }
                    _ => false,
                };
                let _ = writeln!(
                    out,
                    "attempt {}: {why}{}",
                    self.attempts,
                    if parked {
                        "; parked on the remote for the next push to land"
                    } else {
                        ""
                    }
                );
                Ok(None)
            }
        }
    }

    /// Pushes `plan`'s tip to the branch, taking the parked refs of what it carries (and of this
    /// run's own parked change) off the remote in the same atomic push, and moving those it puts
    /// aside out of the queue. The lander's own commits, from before the carry, judge the push:
    /// its policy, not theirs.
    fn push(&self, plan: &carry::Plan) -> Result<Pushed, Error> {
        let target = format!("refs/heads/{}", self.branch);
        let mut updates = vec![Update {
            refspec: format!("{}:{target}", plan.tip),
            lease: None,
        }];
        for (id, sha) in &plan.aside {
            updates.push(Update {
                refspec: format!("+{sha}:{}", self.refs.aside(id, sha)),
                lease: None,
            });
        }
        let own = self.parked.as_ref().map(|p| (p.id.clone(), p.sha.clone()));
        for (id, sha) in plan.carried.iter().chain(&plan.aside).chain(&own) {
            let name = self.refs.remote(id);
            updates.push(Update {
                refspec: format!(":{name}"),
                lease: Some(format!("{name}:{sha}")),
            });
        }
        let flags = Flags {
            atomic: updates.len() > 1,
            no_verify: false,
            config_from: (!plan.carried.is_empty()).then_some(plan.own.as_str()),
        };
        remote::push(&self.remote, &target, &updates, flags)
    }

    /// Parks `head` (this branch's commits on `upstream`) on the remote; whether it is parked.
    fn park_here(&mut self, head: &str, upstream: &str) -> Result<bool, Error> {
        let name = self.refs.remote(&self.id);
        let update = Update {
            refspec: format!("{head}:{name}"),
            lease: Some(format!("{name}:")),
        };
        // Recorded before it can be on the remote: a parked ref under this id that the record
        // does not name is never this worktree's (see `resume`).
        self.git().run(["update-ref", &self.refs.own(), head])?;
        let pushed = remote::push(&self.remote, &name, &[update], Flags::PARKING);
        if !matches!(pushed, Ok(Pushed::Yes(_))) {
            self.forget_parked();
        }
        match pushed? {
            Pushed::Yes(_) => {
                let base = self.git().run(["merge-base", head, upstream])?;
                let parked = Parked::new(self.git(), self.id.clone(), head.to_owned(), base)?;
                self.parked = Some(parked);
                self.queue = Some(Queue::new(self.clock.elapsed()));
                Ok(true)
            }
            Pushed::NoAtomic => {
                self.park = false;
                Ok(false)
            }
            Pushed::Race(_) | Pushed::Locked(_) | Pushed::Failed(_) => Ok(false),
        }
    }

    /// Takes this run's parked change back off the remote. When it is already gone, another
    /// push landed it: the commit it landed in.
    /// While it cannot tell, the change stays this run's: [`Error::StillParked`].
    fn unpark(&mut self) -> Result<Option<String>, Error> {
        let Some(parked) = self.parked.clone() else {
            return Ok(None);
        };
        let name = self.refs.remote(&parked.id);
        let update = Update {
            refspec: format!(":{name}"),
            lease: Some(format!("{name}:{}", parked.sha)),
        };
        let mut detail = String::new();
        for tried in 0..pacing::UNPARK_TRIES {
            if tried > 0 {
                self.clock.sleep(self.settings.backoff);
            }
            let pushed = remote::push(
                &self.remote,
                &name,
                std::slice::from_ref(&update),
                Flags::PARKING,
            );
            match pushed {
                Ok(Pushed::Yes(_)) => {
                    self.parked = None;
                    return Ok(None);
                }
                Ok(Pushed::Race(why)) => detail = why,
                Ok(Pushed::Locked(lock)) => detail = format!("{lock} is locked on the remote"),
                Ok(Pushed::NoAtomic) => detail = "the remote refused an atomic push".to_owned(),
                Ok(Pushed::Failed(e)) | Err(e) => detail = e.to_string(),
            }
            // Refused: gone already (landed, or put aside), or the connection failed.
            let Ok(seen) = self.fetch() else {
                continue;
            };
            if let Some(upstream) = &seen.upstream
                && let Some(landed) = parked.landed_in(self.git(), upstream)?
            {
                self.parked = None;
                return Ok(Some(landed));
            }
            if !seen
                .parked
                .contains(&(parked.id.clone(), parked.sha.clone()))
            {
                self.parked = None;
                return Ok(None);
            }
        }
        Err(Error::StillParked { name, detail })
    }

    /// Another push landed this change, in `landed`: this branch follows the remote's.
    fn carried(
        &mut self,
        landed: String,
        upstream: &str,
        out: &mut impl Write,
    ) -> Result<Outcome, Error> {
        self.parked = None;
        self.git().run(["reset", "--quiet", "--keep", upstream])?;
        let tried = match self.attempts {
            0 => "parked".to_owned(),
            n => format!("attempt {n}"),
        };
        let _ = writeln!(
            out,
            "landed in {} on {}/{}, carried by another agent's push ({tried}, waited {}); {} is now at {}",
            sha7(&landed),
            self.remote.shown,
            self.branch,
            show(self.waited),
            self.local,
            sha7(upstream),
        );
        Ok(self.outcome(upstream.to_owned(), Landed::Carried { r#in: landed }))
    }

    /// A push found `lock` taken on the remote: a race the first times, a lock a crashed git
    /// process left once it stays taken push after push.
    fn locked_race(&mut self, lock: String) -> Result<(), Error> {
        self.locked = match self.locked.take() {
            Some((seen, times)) if seen == lock => Some((seen, times + 1)),
            _ => Some((lock, 1)),
        };
        match &self.locked {
            Some((lock, times)) if *times >= pacing::REMOTE_LOCK_TRIES => Err(Error::RemoteLock {
                remote: self.remote.shown.to_owned(),
                lock: lock.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// The back-off step after the `losses`-th lost race in a row: sleeps, or says to give up.
    fn back_off(&mut self, losses: u32) -> bool {
        let next = round::after_loss(
            self.attempts,
            self.settings.retries,
            losses,
            self.clock.elapsed(),
            self.settings.budget,
            self.settings.backoff,
            self.jitter,
        );
        match next {
            round::AfterLoss::Retry(pause) => {
                self.clock.sleep(pause);
                self.waited += pause;
                true
            }
            round::AfterLoss::GiveUp => false,
        }
    }

    /// What is left of the budget.
    fn left(&self) -> Duration {
        self.settings.budget.saturating_sub(self.clock.elapsed())
    }

    /// Sleeps `pause` unless that would end past the budget; whether it slept.
    fn pause(&mut self, pause: Duration) -> bool {
        if self.clock.elapsed() + pause >= self.settings.budget {
            return false;
        }
        self.clock.sleep(pause);
        self.waited += pause;
        true
    }

    /// The budget (or the retries) ran out: take the parked change back, unless it landed.
    fn give_up(&mut self, out: &mut impl Write) -> Result<Outcome, Error> {
        if let Some(landed) = self.unpark()? {
            let upstream = self.fetch()?.upstream.unwrap_or_else(|| landed.clone());
            return self.carried(landed, &upstream, out);
        }
        let _ = writeln!(out, "attempt {}: giving up", self.attempts);
        Err(Error::RetriesExhausted {
            attempts: self.attempts,
            elapsed: self.clock.elapsed(),
        })
    }

    fn outcome(&self, sha: String, landed: Landed) -> Outcome {
        Outcome {
            sha,
            attempts: self.attempts,
            waited: self.waited,
            landed,
        }
    }

    /// `--force`: no rebase, no parking; a real lease on what was just fetched, and only once
    /// this clone has had that commit on the branch.
    fn force(&mut self, out: &mut impl Write) -> Result<Outcome, Error> {
        let mut losses = 0u32;
        loop {
            let seen = self.fetch()?;
            let head = self.git().run(["rev-parse", "HEAD"])?;
            self.attempts += 1;
            if seen.upstream.as_deref() == Some(head.as_str()) {
                let _ = writeln!(
                    out,
                    "nothing to push: {}/{} is already at {}",
                    self.remote.shown,
                    self.branch,
                    sha7(&head)
                );
                return Ok(self.outcome(head, Landed::Nothing));
            }
            // `--force-if-includes` does nothing beside an explicit lease: check it here.
            if let Some(sha) = &seen.upstream
                && !remote::integrated(self.git(), self.local, sha)?
            {
                return Err(Error::NotIntegrated {
                    remote: self.remote.shown.to_owned(),
                    branch: self.branch.to_owned(),
                    sha: sha.clone(),
                });
            }
            let target = format!("refs/heads/{}", self.branch);
            // An empty lease: the branch must not exist on the remote.
            let update = Update {
                refspec: format!("HEAD:{target}"),
                lease: Some(format!(
                    "{target}:{}",
                    seen.upstream.as_deref().unwrap_or("")
                )),
            };
            let pushed = remote::push(&self.remote, &target, &[update], Flags::default())?;
            if !matches!(pushed, Pushed::Locked(_)) {
                self.locked = None;
            }
            match pushed {
                Pushed::Yes(notes) => {
                    let _ = writeln!(
                        out,
                        "pushed {} to {}/{} (attempt {}, waited {})",
                        sha7(&head),
                        self.remote.shown,
                        self.branch,
                        self.attempts,
                        show(self.waited)
                    );
                    for note in notes {
                        let _ = writeln!(out, "{note}");
                    }
                    return Ok(self.outcome(head, Landed::Pushed { carried: 0 }));
                }
                Pushed::Failed(error) => return Err(error),
                Pushed::Race(why) => {
                    let _ = writeln!(out, "attempt {}: {why}", self.attempts);
                }
                Pushed::Locked(lock) => {
                    self.locked_race(lock)?;
                    let _ = writeln!(
                        out,
                        "attempt {}: the remote's ref lock is taken",
                        self.attempts
                    );
                }
                Pushed::NoAtomic => {}
            }
            losses += 1;
            if !self.back_off(losses) {
                return self.give_up(out);
            }
        }
    }
}

fn attempts_said(n: u32) -> String {
    match n {
        1 => "1 attempt".to_owned(),
        n => format!("{n} attempts"),
    }
}
