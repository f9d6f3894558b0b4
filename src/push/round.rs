//! One round of a run, as named steps and the pure decisions between them.
//!
//! A round goes **fetch → check parked → join → wait → attempt → back off**:
//! - *check parked*: this run's parked change still there at its sha, gone and landed (its
//!   content on the branch), or gone without landing (put aside, taken back, or overwritten);
//!   a fetch may see the ref gone a moment before it sees the branch move, so that is confirmed
//!   once;
//! - *join*: a run with commits to land that finds others' changes parked parks behind them
//!   rather than racing them;
//! - *wait*: while parked, [`super::queue::Queue::look`] says when to land the queue;
//! - *attempt*: rebase, carry ([`super::carry`]), push, and the landing cascade;
//! - *back off*: after a lost race, a pause from [`super::pacing`], inside the budget and the
//!   retries.
//!
//! `Run` and the simulator ([`super::sim`]) both take these decisions.

use std::time::Duration;

use super::pacing;
use crate::clock::Jitter;

/// This run's parked change, as one fetch shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Parked {
    No,
    /// Still on the remote at the sha this run parked.
    Still,
    /// Gone, or holding another sha; `landed` when the branch holds its content.
    Gone {
        landed: bool,
    },
}

/// What to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Check {
    /// Nothing to decide here: go on with the round.
    Go,
    /// Another push landed it: report where, and end.
    Landed,
    /// Look again after a short pause before concluding anything.
    Confirm,
    /// It left the queue without landing: land it from here, without parking again.
    LeftQueue,
}

/// The check-parked step; `unconfirmed` is how many rounds in a row already saw it gone.
pub(super) fn check(parked: Parked, unconfirmed: u32) -> Check {
    match parked {
        Parked::No | Parked::Still => Check::Go,
        Parked::Gone { landed: true } => Check::Landed,
        Parked::Gone { landed: false } if unconfirmed == 0 => Check::Confirm,
        Parked::Gone { landed: false } => Check::LeftQueue,
    }
}

/// The join step: whether to park behind the changes already waiting.
pub(super) fn joins(may_park: bool, parked: bool, others_waiting: bool, has_commits: bool) -> bool {
    may_park && !parked && others_waiting && has_commits
}

/// The back-off step after a lost race.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AfterLoss {
    Retry(Duration),
    GiveUp,
}

/// How the run goes on after its `losses`-th lost race in a row, `attempts` made so far and
/// `elapsed` of `budget` spent.
pub(super) fn after_loss(
    attempts: u32,
    retries: Option<u32>,
    losses: u32,
    elapsed: Duration,
    budget: Duration,
    backoff: Duration,
    jitter: &mut Jitter,
) -> AfterLoss {
    if retries.is_some_and(|r| attempts > r) {
        return AfterLoss::GiveUp;
    }
    let pause = pacing::after_loss(backoff, losses, jitter);
    if elapsed + pause >= budget {
        return AfterLoss::GiveUp;
    }
    AfterLoss::Retry(pause)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parked_change_that_is_gone_is_confirmed_once_before_it_counts_as_left() {
        let gone = Parked::Gone { landed: false };
        assert_eq!(check(gone, 0), Check::Confirm);
        assert_eq!(check(gone, 1), Check::LeftQueue);
        assert_eq!(check(Parked::Gone { landed: true }, 0), Check::Landed);
        assert_eq!(check(Parked::Still, 5), Check::Go);
        assert_eq!(check(Parked::No, 0), Check::Go);
    }

    #[test]
    fn only_a_run_with_commits_joins_a_waiting_queue_once() {
        assert!(joins(true, false, true, true));
        assert!(!joins(false, false, true, true), "parking is off");
        assert!(!joins(true, true, true, true), "already parked");
        assert!(!joins(true, false, false, true), "nobody waits: race");
        assert!(!joins(true, false, true, false), "nothing to land");
    }

    #[test]
    fn a_lost_race_backs_off_inside_the_retries_and_the_budget() {
        let mut jitter = Jitter::new(1);
        let second = Duration::from_secs(1);
        let ms = Duration::from_millis(100);
        assert!(matches!(
            after_loss(1, None, 1, second, second * 10, ms, &mut jitter),
            AfterLoss::Retry(p) if p <= ms
        ));
        assert_eq!(
            after_loss(3, Some(2), 1, second, second * 10, ms, &mut jitter),
            AfterLoss::GiveUp
        );
        assert_eq!(
            after_loss(1, None, 1, second * 10, second * 10, ms, &mut jitter),
            AfterLoss::GiveUp
        );
    }
}
