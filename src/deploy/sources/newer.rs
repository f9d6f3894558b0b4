//! "Live via a newer deploy", for every source that lists a target's deployments: a commit with
//! no deployment of its own (a skipped or ignored build), or whose own was cancelled or
//! replaced, is live when a newer deployment of the same target that contains it went live;
//! failed only when its own build failed. A cancellation with nothing newer that contains it is
//! waited on for [`CANCEL_GRACE`] (the replacing deployment may be listed late), then failed.
//!
//! A source describes its target through [`Deploys`]; [`Newer::decide`] turns that into an
//! [`Observation`]. Containment is asked of git through [`Through`]: its answers are kept, and
//! the deploy branch is fetched at most once per monitor, whatever a server keeps reporting.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::kind::{Error, Observation, PollContext, Setup, same_commit};

/// How long a cancelled deployment with nothing newer that contains it is waited on.
pub const CANCEL_GRACE: Duration = Duration::from_secs(180);

/// Newer deployments that contain the commit whose state is asked, at most, per poll.
const CANDIDATES: usize = 3;

/// One deployment of the target, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub id: String,
    /// The commit it deploys, as the platform spells it.
    pub commit: String,
}

/// Where a deployment is, in the words every source maps its platform's states to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Pending(String),
    Live(Vec<String>),
    /// Its own build failed.
    Failed {
        reason: String,
        details: Vec<String>,
    },
    /// Cancelled, by a newer push or a person; `why` begins the message (`deployment 7 was
    /// canceled; `).
    Cancelled(String),
    /// It went live, then a newer deployment replaced it; `why` begins the message.
    Replaced(String),
    /// The platform skipped the build (the target already serves the same content): live
    /// unless something newer came after it; `why` begins the message.
    Skipped {
        why: String,
        details: Vec<String>,
    },
}

/// A target's deployments, as a source reads them.
pub trait Deploys {
    /// The newest deployment of `sha` itself, if listed.
    fn own(&mut self, sha: &str, cx: &PollContext<'_>) -> Result<Option<Listed>, Error>;
    /// The target's deployments newer than `own` (every listed one without it), newest first.
    fn newer(&mut self, own: Option<&Listed>, cx: &PollContext<'_>) -> Result<Vec<Listed>, Error>;
    /// Where `deployment` is; `own` when it is the commit's own (which may read more, logs).
    fn state(
        &mut self,
        deployment: &Listed,
        own: bool,
        cx: &PollContext<'_>,
    ) -> Result<State, Error>;
}

/// A listing read whole, newest first, each deployment with its state: what most sources have.
pub struct Listing(pub Vec<(Listed, State)>);

impl Deploys for Listing {
    fn own(&mut self, sha: &str, _: &PollContext<'_>) -> Result<Option<Listed>, Error> {
        Ok(self
            .0
            .iter()
            .find(|(d, _)| same_commit(&d.commit, sha))
            .map(|(d, _)| d.clone()))
    }

    fn newer(&mut self, own: Option<&Listed>, _: &PollContext<'_>) -> Result<Vec<Listed>, Error> {
        Ok(self
            .0
            .iter()
            .map(|(d, _)| d)
            .take_while(|d| Some(*d) != own)
            .cloned()
            .collect())
    }

    fn state(&mut self, d: &Listed, _: bool, _: &PollContext<'_>) -> Result<State, Error> {
        Ok(self
            .0
            .iter()
            .find(|(listed, _)| listed == d)
            .map_or_else(|| State::Pending("unknown".to_owned()), |(_, s)| s.clone()))
    }
}

/// A source's memory for [`Newer::decide`]: containment, and when a cancellation was seen.
pub struct Newer {
    through: Through,
    cancelled_at: Option<Duration>,
}

impl Newer {
    pub fn new(setup: &Setup<'_>) -> Newer {
        Newer::with(Through::new(setup))
    }

    pub fn with(through: Through) -> Newer {
        Newer {
            through,
            cancelled_at: None,
        }
    }

    /// What `deploys` says of `sha`.
    pub fn decide(
        &mut self,
        sha: &str,
        deploys: &mut dyn Deploys,
        cx: &PollContext<'_>,
    ) -> Result<Observation, Error> {
        let own = deploys.own(sha, cx)?;
        let own_state = match &own {
            Some(d) => Some(deploys.state(d, true, cx)?),
            None => None,
        };
        let why = match &own_state {
            Some(State::Live(details)) => {
                return Ok(Observation::Live {
                    details: details.clone(),
                });
            }
            Some(State::Failed { reason, details }) => {
                return Ok(Observation::Failed {
                    reason: reason.clone(),
                    details: details.clone(),
                });
            }
            // Its own is under way: its own verdict will come (a cancellation is posted).
            Some(State::Pending(phase)) => return Ok(Observation::Pending(phase.clone())),
            Some(State::Cancelled(why) | State::Replaced(why) | State::Skipped { why, .. }) => {
                why.clone()
            }
            None => String::new(),
        };
        let newer = deploys.newer(own.as_ref(), cx)?;
        let mut following = None;
        let mut failed = None;
        let mut unrelated = None;
        let mut asked = 0;
        for d in &newer {
            if same_commit(&d.commit, sha) {
                continue;
            }
            if !self.through.contains(sha, &d.commit, cx) {
                unrelated.get_or_insert(d);
                continue;
            }
            if asked == CANDIDATES {
                break;
            }
            asked += 1;
            match deploys.state(d, false, cx)? {
                State::Live(details) | State::Skipped { details, .. } => {
                    let mut details = details;
                    details.insert(
                        0,
                        format!(
                            "deployment {} of {}, which contains this commit, is live",
                            d.id,
                            crate::deploy::sha7(&d.commit)
                        ),
                    );
                    return Ok(through(d, details));
                }
                // It went live before it was replaced: so did this commit.
                State::Replaced(_) => return Ok(through(d, Vec::new())),
                State::Pending(phase) => {
                    following.get_or_insert((d, phase));
                }
                State::Failed { .. } => {
                    failed.get_or_insert(d);
                }
                State::Cancelled(_) => {}
            }
        }
        let short = |d: &Listed| crate::deploy::sha7(&d.commit).to_owned();
        if let Some((d, phase)) = following {
            let text = match own {
                Some(_) => format!(
                    "{why}superseded by deployment {} of {}, which contains this commit; \
                     following it ({phase})",
                    d.id,
                    short(d)
                ),
                None => format!(
                    "no deployment of its own; deployment {} of {}, which contains it, is {phase}",
                    d.id,
                    short(d)
                ),
            };
            return Ok(Observation::Pending(text));
        }
        let Some(own_state) = own_state else {
            return Ok(Observation::Unseen(match failed {
                Some(d) => format!(
                    "no deployment of its own; deployment {} of {}, which contains it, failed",
                    d.id,
                    short(d)
                ),
                None => "not listed yet".to_owned(),
            }));
        };
        if let Some(d) = failed {
            return Ok(Observation::Pending(format!(
                "{why}deployment {} of {}, which contains this commit, failed; waiting for a \
                 newer one",
                d.id,
                short(d)
            )));
        }
        if let Some(d) = unrelated {
            return Ok(Observation::Superseded {
                reason: format!(
                    "{why}superseded by deployment {} of {}, which does not contain this commit",
                    d.id,
                    short(d)
                ),
            });
        }
        Ok(match own_state {
            State::Skipped { details, .. } => Observation::Live { details },
            State::Replaced(why) => Observation::Superseded {
                reason: format!("{why}a newer deployment replaced it"),
            },
            State::Cancelled(why) => {
                let since = *self.cancelled_at.get_or_insert(cx.clock.elapsed());
                let why = why.trim_end_matches([';', ' ']);
                if !cx.once && cx.clock.elapsed().saturating_sub(since) < CANCEL_GRACE {
                    Observation::Pending(format!(
                        "{why}; waiting for a newer deployment that contains it"
                    ))
                } else {
                    Observation::Failed {
                        reason: format!("{why}, and no newer deployment contains it"),
                        details: Vec::new(),
                    }
                }
            }
            State::Live(_) | State::Failed { .. } | State::Pending(_) => {
                unreachable!("answered above")
            }
        })
    }
}

fn through(d: &Listed, details: Vec<String>) -> Observation {
    Observation::LiveThrough {
        commit: d.commit.trim().to_ascii_lowercase(),
        details,
    }
}

/// Whether a commit a source reports deployed contains the followed one, asked of git in the
/// work tree: answers are kept per commit git knows; a commit it does not know (pushed from
/// another clone) brings one fetch of the deploy branch, once per monitor at most, so that no
/// answer of a server's makes network work per poll.
pub struct Through {
    worktree: PathBuf,
    /// `[deploy] remote`: a remote name of this clone.
    remote: String,
    /// `[deploy] branch`, when `.mainstay.toml` names one git can fetch as it is.
    branch: Option<String>,
    /// Reported commits git knew, and whether each contains the followed one.
    checked: HashMap<String, bool>,
    /// True once the deploy branch was fetched.
    fetched: bool,
}

/// Answers kept at most: a server reporting a fresh commit each time fills no memory.
const KEPT: usize = 256;

impl Through {
    pub fn new(setup: &Setup<'_>) -> Through {
        let branch = Some(setup.branch.to_owned()).filter(|b| fetchable(b));
        Through::at(setup.worktree, setup.remote, branch)
    }

    pub fn at(worktree: &Path, remote: &str, branch: Option<String>) -> Through {
        Through {
            worktree: worktree.to_owned(),
            remote: remote.to_owned(),
            branch,
            checked: HashMap::new(),
            fetched: false,
        }
    }

    /// True when `later` (a commit id a source reported) contains `sha`.
    pub fn contains(&mut self, sha: &str, later: &str, cx: &PollContext<'_>) -> bool {
        let later = later.trim().to_ascii_lowercase();
        if let Some(&contains) = self.checked.get(&later) {
            return contains;
        }
        if crate::deploy::validate_sha(&later).is_err() {
            return false;
        }
        if !self.known(&later) && !self.fetched {
            self.fetched = true;
            self.fetch(&later);
        }
        if !self.known(&later) {
            // Not kept: the user's own fetch may bring it.
            return false;
        }
        let contains = (cx.contains)(sha, &later);
        if self.checked.len() >= KEPT {
            self.checked.clear();
        }
        self.checked.insert(later, contains);
        contains
    }

    fn known(&self, commit: &str) -> bool {
        crate::git::Git::new(&self.worktree)
            .output(["cat-file", "-e", &format!("{commit}^{{commit}}")])
            .is_ok_and(|o| o.status.success())
    }

    /// Fetches the deploy branch (or, with no branch to name, the commit itself) from the
    /// deploy remote, within [`FETCH_LIMIT`]; a failure is the same as not knowing the commit.
    /// Only a remote this clone names is fetched from: a committed URL is never reached.
    fn fetch(&self, commit: &str) {
        let git = crate::git::Git::new(&self.worktree);
        if !is_remote_name(&git, &self.remote) {
            return;
        }
        let what = match &self.branch {
            Some(branch) => format!("refs/heads/{branch}"),
            None => commit.to_owned(),
        };
        let mut cmd = git.command([
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--",
            &self.remote,
            &what,
        ]);
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let Ok(mut child) = cmd.spawn() else {
            return;
        };
        // A remote that does not answer must not hold the poll (and the monitor) for long.
        let deadline = std::time::Instant::now() + FETCH_LIMIT;
        while matches!(child.try_wait(), Ok(None)) {
            if std::time::Instant::now() >= deadline {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.wait();
    }
}

/// True when `name` is a remote this clone's git config names (`remote.<name>.url`).
pub fn is_remote_name(git: &crate::git::Git, name: &str) -> bool {
    crate::deploy::settings::is_remote_name(name)
        && git
            .output(["config", "--get", &format!("remote.{name}.url")])
            .is_ok_and(|o| o.status.success())
}

/// The longest the fetch for an unknown commit may take.
const FETCH_LIMIT: Duration = Duration::from_secs(30);

/// A branch name that cannot turn `refs/heads/<name>` into more than one branch to fetch (a
/// `:` would name a local ref to write, a glob many branches).
fn fetchable(branch: &str) -> bool {
    !branch.is_empty()
        && !branch.starts_with('-')
        && !branch
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || ":*?[\\^~".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, SimClock};

    #[test]
    fn only_plain_branch_names_are_fetched() {
        assert!(fetchable("main") && fetchable("release/2026"));
        for bad in ["", "-x", "a:refs/heads/main", "feat/*", "a b", "x~1"] {
            assert!(!fetchable(bad), "{bad}");
        }
    }

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const C: &str = "cccccccccccccccccccccccccccccccccccccccc";

    fn listed(id: &str, commit: &str, state: State) -> (Listed, State) {
        (
            Listed {
                id: id.to_owned(),
                commit: commit.to_owned(),
            },
            state,
        )
    }

    /// Decides `A` against `listing`, where B contains A and C does not; git is faked by a
    /// `Through` that already knows both answers.
    fn decide(listing: Vec<(Listed, State)>, clock: &SimClock, once: bool) -> Observation {
        let mut through = Through::at(Path::new("."), "origin", None);
        through.checked.insert(B.to_owned(), true);
        through.checked.insert(C.to_owned(), false);
        let cx = PollContext {
            clock,
            contains: &|_, _| false,
            once,
        };
        Newer::with(through)
            .decide(A, &mut Listing(listing), &cx)
            .expect("a listing answers")
    }

    fn pending(phase: &str) -> State {
        State::Pending(phase.to_owned())
    }

    #[test]
    fn a_commit_without_its_own_deployment_is_live_through_a_newer_one() {
        let clock = SimClock::new(std::time::UNIX_EPOCH);
        let live = decide(vec![listed("2", B, State::Live(vec![]))], &clock, false);
        assert!(matches!(live, Observation::LiveThrough { ref commit, .. } if commit == B));
        let building = decide(vec![listed("2", B, pending("BUILDING"))], &clock, false);
        assert!(matches!(building, Observation::Pending(ref p) if p.contains("BUILDING")));
        let unrelated = decide(vec![listed("2", C, State::Live(vec![]))], &clock, false);
        assert_eq!(unrelated, Observation::Unseen("not listed yet".to_owned()));
        // The newest containing one is building, an older containing one is live: live.
        let older = decide(
            vec![
                listed("3", B, pending("BUILDING")),
                listed("2", B, State::Live(vec![])),
            ],
            &clock,
            false,
        );
        assert!(matches!(older, Observation::LiveThrough { .. }));
    }

    #[test]
    fn a_cancellation_is_superseded_unless_nothing_newer_contains_it() {
        let clock = SimClock::new(std::time::UNIX_EPOCH);
        let cancelled = || {
            listed(
                "1",
                A,
                State::Cancelled("deployment 1 was canceled; ".into()),
            )
        };
        let live = decide(
            vec![listed("2", B, State::Live(vec![])), cancelled()],
            &clock,
            false,
        );
        assert!(matches!(live, Observation::LiveThrough { .. }), "{live:?}");
        let other = decide(
            vec![listed("2", C, State::Live(vec![])), cancelled()],
            &clock,
            false,
        );
        assert!(matches!(other, Observation::Superseded { .. }), "{other:?}");
        // Nothing newer: waited on (the newer deployment may come late), then failed.
        let mut through = Through::at(Path::new("."), "origin", None);
        through.checked.insert(B.to_owned(), true);
        let mut newer = Newer::with(through);
        let cx = PollContext {
            clock: &clock,
            contains: &|_, _| false,
            once: false,
        };
        let alone = newer
            .decide(A, &mut Listing(vec![cancelled()]), &cx)
            .expect("answers");
        assert!(matches!(alone, Observation::Pending(_)), "{alone:?}");
        clock.sleep(Duration::from_secs(90));
        let late = newer
            .decide(
                A,
                &mut Listing(vec![listed("2", B, State::Live(vec![])), cancelled()]),
                &cx,
            )
            .expect("answers");
        assert!(matches!(late, Observation::LiveThrough { .. }), "{late:?}");
        clock.sleep(CANCEL_GRACE);
        let ended = newer
            .decide(A, &mut Listing(vec![cancelled()]), &cx)
            .expect("answers");
        assert!(matches!(ended, Observation::Failed { .. }), "{ended:?}");
        assert!(matches!(
            decide(vec![cancelled()], &clock, true),
            Observation::Failed { .. }
        ));
    }

    #[test]
    fn failed_only_when_its_own_build_failed() {
        let clock = SimClock::new(std::time::UNIX_EPOCH);
        let failed = || State::Failed {
            reason: "build exited 1".into(),
            details: vec![],
        };
        let newer_failed = decide(vec![listed("2", B, failed())], &clock, false);
        assert!(
            matches!(newer_failed, Observation::Unseen(_)),
            "{newer_failed:?}"
        );
        let own = decide(
            vec![
                listed("2", B, State::Live(vec![])),
                listed("1", A, failed()),
            ],
            &clock,
            false,
        );
        assert!(matches!(own, Observation::Failed { .. }), "{own:?}");
    }

    #[test]
    fn a_server_reporting_a_fresh_commit_each_time_costs_no_fetch_per_poll() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .output()
                .expect("git runs");
            assert!(out.status.success(), "{args:?}");
        };
        git(&["init", "-q", "-b", "main"]);
        // A remote whose upload-pack notes each fetch and fails.
        let log = dir.path().join("fetches");
        let here = dir.path().display().to_string();
        git(&["config", "remote.origin.url", &here]);
        git(&[
            "config",
            "remote.origin.uploadpack",
            &format!("echo x >> '{}'; false", log.display()),
        ]);
        let clock = SimClock::new(std::time::UNIX_EPOCH);
        let cx = PollContext {
            clock: &clock,
            contains: &|_, _| true,
            once: false,
        };
        let mut through = Through::at(dir.path(), "origin", Some("main".to_owned()));
        for n in 0..12u32 {
            let random = format!("{:040x}", u128::from(n) * 0x9e37_79b9_7f4a_7c15 + 1);
            assert!(!through.contains(A, &random, &cx));
        }
        let fetches = std::fs::read_to_string(&log).unwrap_or_default();
        assert_eq!(fetches.lines().count(), 1, "{fetches:?}");
    }
}
