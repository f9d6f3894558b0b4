//! Every timing knob of `mainstay push` in one place: how long to wait after a lost race, how
//! often a parked run looks at the queue, how patient it is with changes ahead of it, and how
//! long a remote may stay unreachable. Each is a pure function of the settings and of what this
//! run itself measured, so the queue's bounds can be read off here and tested without a clock.

use std::time::Duration;

use crate::clock::Jitter;

/// How long a remote may stay unreachable (refused, reset, hung up) before that is final.
pub(super) const NETWORK_WINDOW: Duration = Duration::from_secs(30);

/// How often a local ref-lock race (another worktree of this clone) is tried again, and the
/// longest pause before each try.
pub(super) const LOCAL_RETRIES: u32 = 20;
pub(super) const LOCAL_PAUSE: Duration = Duration::from_millis(100);

/// How many pushes in a row may find the same ref lock taken on the remote before it counts as
/// left behind by a crashed git process (concurrent pushes hold a lock for milliseconds).
pub(super) const REMOTE_LOCK_TRIES: u32 = 8;

/// How often taking a parked change back is tried before the run says it is still parked.
pub(super) const UNPARK_TRIES: u32 = 3;

/// How many patiences a parked run waits at most after it parked, whatever the others do.
pub(super) const MOST_PATIENCES: u32 = 3;

/// The pause after the `losses`-th lost race in a row: up to `backoff` doubled per loss, at
/// most 16 times `backoff`.
pub(super) fn after_loss(backoff: Duration, losses: u32, jitter: &mut Jitter) -> Duration {
    jitter.up_to(backoff * (1 << losses.saturating_sub(1).min(4)))
}

/// The pause before asking an unreachable remote again.
pub(super) fn after_unreachable(backoff: Duration, jitter: &mut Jitter) -> Duration {
    backoff + jitter.up_to(backoff * 4)
}

/// How long a parked run trusts the changes ahead of it to be landed by their owners: three of
/// its own push cycles (the pace of this remote, as this run measured it), at least 25 backoffs.
pub(super) fn patience(cycle: Duration, backoff: Duration) -> Duration {
    (cycle * 3).max(backoff * 25)
}

/// The pause between two looks at the queue with `waiting` parked changes: between `n/4` and
/// `n/2` backoffs (at least half a backoff to one, at most 25 to 50), so that the queue as a
/// whole asks the remote about `2.7 / backoff` times a second, however long it is.
pub(super) fn between_looks(backoff: Duration, waiting: usize, jitter: &mut Jitter) -> Duration {
    let crowd = u32::try_from(waiting / 2).unwrap_or(u32::MAX).clamp(1, 50);
    backoff * crowd / 2 + jitter.up_to(backoff * crowd / 2)
}

/// The pause before seeing again whether a parked ref that is gone landed: a fetch may see the
/// ref gone before it sees the branch move.
pub(super) fn before_confirming(backoff: Duration, jitter: &mut Jitter) -> Duration {
    jitter.up_to(backoff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_after_losses_double_up_to_sixteen_backoffs() {
        let mut jitter = Jitter::new(7);
        let backoff = Duration::from_millis(100);
        for (losses, cap) in [(1, 100), (2, 200), (3, 400), (5, 1600), (40, 1600)] {
            for _ in 0..50 {
                assert!(after_loss(backoff, losses, &mut jitter) <= Duration::from_millis(cap));
            }
        }
    }

    #[test]
    fn patience_follows_the_remote_s_pace_but_never_drops_below_25_backoffs() {
        let backoff = Duration::from_millis(200);
        assert_eq!(patience(Duration::ZERO, backoff), Duration::from_secs(5));
        assert_eq!(
            patience(Duration::from_secs(4), backoff),
            Duration::from_secs(12)
        );
    }

    #[test]
    fn the_queue_together_polls_a_few_times_a_second_whatever_its_length() {
        let mut jitter = Jitter::new(3);
        let backoff = Duration::from_millis(200);
        for waiting in [1usize, 2, 10, 64, 100] {
            let mut total = Duration::ZERO;
            let rounds = 400;
            for _ in 0..rounds {
                total += between_looks(backoff, waiting, &mut jitter);
            }
            let mean = total.as_secs_f64() / f64::from(rounds);
            let per_second = waiting as f64 / mean;
            // Two agents or fewer poll at one or two a second each.
            assert!(per_second <= 14.0, "{waiting}: {per_second}");
        }
    }
}
