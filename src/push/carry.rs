//! The carry: other agents' parked changes put on top of the lander's commits as content, and
//! nothing else.
//!
//! A parked change is untrusted: any agent with push access wrote it, and no server or forge
//! check ran on `refs/mainstay/parked/*`. So the carry
//! - never touches the work tree: each carried commit is made in the object database (`git
//!   merge-tree --write-tree` of its own change onto the new tip, then the commit object itself),
//!   so no checkout, no hook (`post-commit`, `post-checkout`, ...) and no filter runs on their
//!   files, and the landing push's hooks see the lander's own work tree;
//! - reads attributes (which merge driver, the marker size) from the lander's commit from before
//!   the carry (`--attr-source`), never from a carried tree, and starts no hook at all
//!   (`core.hooksPath` pointed at nothing);
//! - never carries a change to configuration or code that runs
//!   ([`policy::configuration::is`]): such a
//!   chain is put aside, and its owner lands it itself, through every check a push to the
//!   branch passes;
//! - keeps each carried commit's author, committer and message byte for byte and signs nothing:
//!   a signature of the original does not survive a new parent, so it is dropped rather than
//!   replaced with the lander's;
//! - runs inside the run's budget, the merge driver's own budget included.

use std::time::Duration;

use crate::git::{self, Git};

use super::objects;
use super::park::Chain;

/// At most this many commits of others are carried by one push.
pub(super) const MAX_CARRIED: usize = 400;

/// What [`pick`] made: the new tip with every carried chain on it, and the chains that did not
/// apply.
#[derive(Debug)]
pub(super) struct Picked {
    /// `onto` itself when nothing was carried.
    pub tip: String,
    pub carried: Vec<Chain>,
    pub failed: Vec<Chain>,
}

/// How the carry is made.
pub(super) struct Context<'a> {
    /// The lander's commit from before the carry: the attributes its merges read.
    pub attributes_from: &'a str,
    /// How long the run has left; `None` once it has run out.
    pub remaining: &'a dyn Fn() -> Option<Duration>,
}

/// Puts `chains` on `onto`, in order, each whole or not at all (one that does not apply cleanly,
/// the ledger driver resolving what it can, is left out), up to [`MAX_CARRIED`] commits in all,
/// and no more once the budget is spent. Nothing outside the object database changes.
pub(super) fn pick(
    git: &Git,
    onto: &str,
    chains: Vec<Chain>,
    context: &Context<'_>,
) -> Result<Picked, git::Error> {
    let mut picked = Picked {
        tip: onto.to_owned(),
        carried: Vec::new(),
        failed: Vec::new(),
    };
    let mut total = 0;
    for chain in chains {
        total += chain.commits.len();
        if total > MAX_CARRIED {
            break;
        }
        match put(git, &picked.tip, &chain, context)? {
            Put::Done(tip) => {
                picked.tip = tip;
                picked.carried.push(chain);
            }
            Put::Conflict => picked.failed.push(chain),
            Put::OutOfTime => break,
        }
    }
    Ok(picked)
}

enum Put {
    Done(String),
    Conflict,
    OutOfTime,
}

/// `commits` (oldest first, a linear chain) made again on `onto`, each as its own change.
fn put(git: &Git, onto: &str, chain: &Chain, context: &Context<'_>) -> Result<Put, git::Error> {
    let mut tip = onto.to_owned();
    // A linear chain: each commit's parent is the one before it, the first one's its base.
    let parents = std::iter::once(&chain.base).chain(&chain.commits);
    for (commit, parent) in chain.commits.iter().zip(parents) {
        let Some(left) = (context.remaining)() else {
            return Ok(Put::OutOfTime);
        };
        let Some(tree) = objects::merge(git, parent, &tip, commit, context.attributes_from, left)?
        else {
            return Ok(Put::Conflict);
        };
        tip = objects::recommit(git, commit, &tree, &tip)?;
    }
    Ok(Put::Done(tip))
}

/// What one landing push sends: the tip (the lander's commits, with what it carries), the
/// chains it carries, and the parked changes it moves out of the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Plan {
    /// The lander's own commits: what lands when nothing else can.
    pub own: String,
    pub tip: String,
    /// `(id, sha)` of each carried chain, whose parked ref the push deletes.
    pub carried: Vec<(String, String)>,
    /// `(id, sha)` of each parked change moved aside, at most [`super::park::MAX_ASIDE`].
    pub aside: Vec<(String, String)>,
}

/// How a landing push ended, as far as the plan goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ended {
    Taken,
    /// The remote moved, or a lease did not hold: another round, not another plan.
    Race,
    /// A hook or the remote refused it.
    Refused,
    /// The remote cannot update several refs as one.
    NoAtomic,
    /// Anything else: the run ends.
    Failed,
}

impl Plan {
    pub fn new(own: String, picked: Picked, mut aside: Vec<(String, String)>) -> Plan {
        aside.extend(picked.failed.into_iter().map(|c| (c.id, c.tip)));
        aside.truncate(super::park::MAX_ASIDE);
        Plan {
            own,
            tip: picked.tip,
            carried: picked.carried.into_iter().map(|c| (c.id, c.tip)).collect(),
            aside,
        }
    }

    /// The next, smaller plan after a push of this one ended so: a carried change that the
    /// hooks or the remote refuse must not stop the lander's own, so it lands without them and
    /// puts them aside; a remote that refuses even that, or cannot push refs atomically, gets
    /// the branch alone. `None`: this push's end is the attempt's.
    pub fn after(&self, ended: Ended) -> Option<Plan> {
        let alone = Plan {
            own: self.own.clone(),
            tip: self.own.clone(),
            carried: Vec::new(),
            aside: Vec::new(),
        };
        match ended {
            Ended::Refused if !self.carried.is_empty() => {
                let mut aside = self.aside.clone();
                aside.extend(self.carried.iter().cloned());
                aside.truncate(super::park::MAX_ASIDE);
                Some(Plan { aside, ..alone })
            }
            Ended::Refused | Ended::NoAtomic if *self != alone => Some(alone),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(carried: usize, aside: usize) -> Plan {
        let change = |i: usize| (format!("{i:016x}"), format!("{i:040x}"));
        Plan {
            own: "own".to_owned(),
            tip: if carried == 0 { "own" } else { "tip" }.to_owned(),
            carried: (0..carried).map(change).collect(),
            aside: (100..100 + aside).map(change).collect(),
        }
    }

    #[test]
    fn a_refused_carry_lands_the_lander_alone_and_puts_the_carried_aside() {
        let next = plan(2, 1).after(Ended::Refused).expect("a smaller plan");
        assert_eq!(next.tip, "own");
        assert!(next.carried.is_empty());
        assert_eq!(next.aside.len(), 3);
        // Refused again: only the branch, then nothing more to try.
        let alone = next.after(Ended::Refused).expect("the branch alone");
        assert_eq!(alone, plan(0, 0));
        assert_eq!(alone.after(Ended::Refused), None);
    }

    #[test]
    fn a_remote_without_atomic_pushes_gets_the_branch_alone() {
        assert_eq!(plan(3, 2).after(Ended::NoAtomic), Some(plan(0, 0)));
        assert_eq!(plan(0, 2).after(Ended::NoAtomic), Some(plan(0, 0)));
        assert_eq!(plan(0, 0).after(Ended::NoAtomic), None);
    }

    #[test]
    fn taken_races_and_failures_end_the_cascade() {
        for ended in [Ended::Taken, Ended::Race, Ended::Failed] {
            assert_eq!(plan(2, 2).after(ended), None, "{ended:?}");
        }
    }

    #[test]
    fn the_aside_list_stays_bounded() {
        let next = plan(50, super::super::park::MAX_ASIDE)
            .after(Ended::Refused)
            .expect("a smaller plan");
        assert_eq!(next.aside.len(), super::super::park::MAX_ASIDE);
    }
}
