//! The queue of parked changes, as one parked run sees it: who leads, and when a run that does
//! not lead stops waiting for those ahead of it.
//!
//! Every agent tells its place from the same listing of the remote's refs (ids compare as
//! strings; nothing is read but names and shas, no clocks are compared across machines). The
//! lowest id leads and lands the queue at once. The others wait for those ahead, and measure
//! patience only by what they themselves saw:
//! - progress is a change ahead of this one leaving the queue (landed, or put aside); a busy
//!   branch is not progress, as pushes that carry nobody move it too;
//! - the next in line steps in after one patience without progress, every later one after two;
//! - whatever happens ahead (junk that nobody lands, refs that come and go, a leader that never
//!   lands), no run waits more than [`pacing::MOST_PATIENCES`] patiences after it parked.

use std::time::Duration;

use super::pacing;

/// What a parked run remembers of the queue between two looks.
#[derive(Debug, Clone)]
pub(super) struct Queue {
    parked_at: Duration,
    progress_at: Duration,
    /// The changes ahead of this one at the last look, `(id, sha)`.
    ahead: Vec<(String, String)>,
}

/// What to do after a look at the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Turn {
    /// Land the queue now.
    Land,
    /// Wait for those ahead.
    Wait,
}

impl Queue {
    /// A run that parked at `now`.
    pub fn new(now: Duration) -> Queue {
        Queue {
            parked_at: now,
            progress_at: now,
            ahead: Vec::new(),
        }
    }

    /// One look at the queue, at `now`: `listing` is every parked change `(id, sha)`, `own` this
    /// run's id; `leads_itself` for a change others would not carry (it must land it).
    pub fn look(
        &mut self,
        now: Duration,
        own: &str,
        listing: &[(String, String)],
        patience: Duration,
        leads_itself: bool,
    ) -> Turn {
        let ahead: Vec<(String, String)> = listing
            .iter()
            .filter(|(id, _)| id.as_str() < own)
            .cloned()
            .collect();
        if self.ahead.iter().any(|change| !ahead.contains(change)) {
            self.progress_at = now;
        }
        self.ahead = ahead;
        let rank = if leads_itself { 0 } else { self.ahead.len() };
        let step = patience * u32::try_from(rank.min(2)).expect("at most 2");
        let still = now.saturating_sub(self.progress_at);
        let parked = now.saturating_sub(self.parked_at);
        if still >= step || parked >= patience * pacing::MOST_PATIENCES {
            Turn::Land
        } else {
            Turn::Wait
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Duration = Duration::from_secs(5);

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn listing(ids: &[&str]) -> Vec<(String, String)> {
        ids.iter()
            .map(|id| ((*id).to_owned(), format!("sha-{id}")))
            .collect()
    }

    #[test]
    fn the_lowest_id_leads_at_once() {
        let mut q = Queue::new(s(0));
        assert_eq!(
            q.look(s(0), "1", &listing(&["1", "5", "9"]), P, false),
            Turn::Land
        );
    }

    #[test]
    fn the_next_in_line_waits_one_patience_the_others_two() {
        let mut second = Queue::new(s(0));
        let mut third = Queue::new(s(0));
        let all = listing(&["1", "2", "3"]);
        assert_eq!(second.look(s(1), "2", &all, P, false), Turn::Wait);
        assert_eq!(second.look(s(5), "2", &all, P, false), Turn::Land);
        assert_eq!(third.look(s(5), "3", &all, P, false), Turn::Wait);
        assert_eq!(third.look(s(10), "3", &all, P, false), Turn::Land);
    }

    #[test]
    fn a_change_ahead_leaving_the_queue_is_progress() {
        let mut q = Queue::new(s(0));
        assert_eq!(
            q.look(s(4), "3", &listing(&["1", "2", "3"]), P, false),
            Turn::Wait
        );
        // The leader landed: patience starts again, now second in line.
        assert_eq!(
            q.look(s(6), "3", &listing(&["2", "3"]), P, false),
            Turn::Wait
        );
        assert_eq!(
            q.look(s(10), "3", &listing(&["2", "3"]), P, false),
            Turn::Wait
        );
        assert_eq!(
            q.look(s(11), "3", &listing(&["2", "3"]), P, false),
            Turn::Land
        );
    }

    #[test]
    fn a_ref_rewritten_ahead_counts_as_leaving() {
        let mut q = Queue::new(s(0));
        q.look(s(1), "2", &listing(&["1", "2"]), P, false);
        let moved = vec![
            ("1".to_owned(), "other".to_owned()),
            ("2".to_owned(), "x".to_owned()),
        ];
        assert_eq!(q.look(s(5), "2", &moved, P, false), Turn::Wait);
        assert_eq!(q.look(s(9), "2", &moved, P, false), Turn::Wait);
        assert_eq!(q.look(s(10), "2", &moved, P, false), Turn::Land);
    }

    #[test]
    fn junk_that_comes_and_goes_ahead_holds_nobody_past_the_bound() {
        let mut q = Queue::new(s(0));
        let mut landed_at = None;
        for t in 0..60 {
            // A new junk ref with a lower id every second, the old one gone.
            let junk = format!("0{t:03}");
            let listing = listing(&[&junk, "5", "9"]);
            if q.look(s(t), "9", &listing, P, false) == Turn::Land {
                landed_at = Some(t);
                break;
            }
        }
        assert_eq!(landed_at, Some(15), "three patiences");
    }

    #[test]
    fn a_change_others_would_not_carry_leads_itself() {
        let mut q = Queue::new(s(0));
        assert_eq!(
            q.look(s(0), "9", &listing(&["1", "9"]), P, true),
            Turn::Land
        );
    }
}
