//! When to poll. The fixed schedule is the field's usual one (every `poll_initial` until
//! `poll_switch_after`, then every `poll_later`). The history schedule estimates when this
//! deployment ends from past durations and polls sparsely before that, densely around it, and
//! with growing gaps after it. Both poll at once when the monitor starts (a re-push of a live
//! sha is answered at once) and never after `max_wait`.

use std::time::Duration;

use super::settings::{ScheduleKind, Settings, show};

/// The fewest past durations the history schedule trusts.
pub const MIN_HISTORY: usize = 3;

#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    Fixed {
        initial: Duration,
        later: Duration,
        switch_after: Duration,
        max_wait: Duration,
    },
    History {
        /// The median past duration.
        estimate: Duration,
        /// Dense polling from here...
        dense_from: Duration,
        /// ...until here, every `dense`.
        dense_until: Duration,
        dense: Duration,
        /// The gap between polls before `dense_from`.
        sparse: Duration,
        /// The longest gap after `dense_until`.
        later: Duration,
        max_wait: Duration,
        samples: usize,
    },
}

impl Schedule {
    /// The schedule the settings ask for, given past durations (any order).
    pub fn choose(settings: &Settings, history: &[Duration]) -> Schedule {
        let fixed = Schedule::Fixed {
            initial: settings.poll_initial,
            later: settings.poll_later,
            switch_after: settings.poll_switch_after,
            max_wait: settings.max_wait,
        };
        if settings.schedule == ScheduleKind::Fixed || history.len() < MIN_HISTORY {
            return fixed;
        }
        let mut sorted = history.to_vec();
        sorted.sort();
        let quantile = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        let (lo, estimate, hi) = (quantile(0.2), quantile(0.5), quantile(0.8));
        // Half the initial interval around the estimate keeps the delay near a second or two;
        // a wide spread of past durations widens the gap so the dense part stays near 8 polls.
        let dense = (settings.poll_initial / 2).max((hi - lo) / 8);
        let dense_from = lo.saturating_sub(dense);
        let dense_until = hi + dense * 2;
        Schedule::History {
            estimate,
            dense_from,
            dense_until,
            dense,
            sparse: settings.poll_later.max(dense_from / 3),
            later: settings.poll_later.max(dense),
            max_wait: settings.max_wait,
            samples: sorted.len(),
        }
    }

    /// When to poll next, after a poll planned at `at`; `None` once `max_wait` has been polled.
    pub fn next(&self, at: Duration) -> Option<Duration> {
        let (next, max_wait) = match *self {
            Schedule::Fixed {
                initial,
                later,
                switch_after,
                max_wait,
            } => {
                let gap = if at < switch_after { initial } else { later };
                (at + gap, max_wait)
            }
            Schedule::History {
                dense_from,
                dense_until,
                dense,
                sparse,
                later,
                max_wait,
                ..
            } => {
                let next = if at < dense_from {
                    (at + sparse).min(dense_from)
                } else if at < dense_until {
                    at + dense
                } else {
                    // Overdue: the gap grows with the lateness, up to `later`.
                    at + ((at - dense_until) / 2).clamp(dense, later)
                };
                (next, max_wait)
            }
        };
        (at < max_wait).then(|| next.min(max_wait))
    }

    /// One line for the log: which schedule, and why.
    pub fn describe(&self) -> String {
        match self {
            Schedule::Fixed {
                initial,
                later,
                switch_after,
                max_wait,
            } => format!(
                "fixed: every {} for {}, then every {}, up to {}",
                show(*initial),
                show(*switch_after),
                show(*later),
                show(*max_wait)
            ),
            Schedule::History {
                estimate,
                dense_from,
                dense_until,
                dense,
                samples,
                max_wait,
                ..
            } => format!(
                "history: estimated {} from {samples} past deployments; every {} from {} to {}, up to {}",
                show(*estimate),
                show(*dense),
                show(*dense_from),
                show(*dense_until),
                show(*max_wait)
            ),
        }
    }

    pub fn max_wait(&self) -> Duration {
        match self {
            Schedule::Fixed { max_wait, .. } | Schedule::History { max_wait, .. } => *max_wait,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn polls_until(schedule: &Schedule, end: Duration) -> Vec<Duration> {
        let mut at = Some(Duration::ZERO);
        let mut polls = Vec::new();
        while let Some(t) = at {
            polls.push(t);
            if t >= end {
                break;
            }
            at = schedule.next(t);
        }
        polls
    }

    #[test]
    fn fixed_schedule_is_the_fields_usual_one() {
        let schedule = Schedule::choose(&Settings::default(), &[]);
        let polls = polls_until(&schedule, secs(240));
        assert_eq!(&polls[..3], [secs(0), secs(5), secs(10)]);
        assert!(polls.contains(&secs(120)) && polls.contains(&secs(135)));
        assert_eq!(polls.len(), 33);
        let all = polls_until(&schedule, secs(10_000));
        assert_eq!(all.last(), Some(&secs(480)));
    }

    #[test]
    fn history_needs_enough_samples_and_the_setting() {
        let few = Schedule::choose(&Settings::default(), &[secs(240), secs(250)]);
        assert!(matches!(few, Schedule::Fixed { .. }));
        let settings = Settings {
            schedule: ScheduleKind::Fixed,
            ..Settings::default()
        };
        let off = Schedule::choose(&settings, &[secs(240); 5]);
        assert!(matches!(off, Schedule::Fixed { .. }));
    }

    #[test]
    fn history_polls_densely_around_the_estimate() {
        let past = [secs(236), secs(240), secs(238), secs(244), secs(241)];
        let schedule = Schedule::choose(&Settings::default(), &past);
        for end in [secs(236), secs(240), secs(247)] {
            let polls = polls_until(&schedule, end);
            let last = *polls.last().expect("polled");
            assert!(polls.len() <= 12, "{end:?}: {polls:?}");
            assert!(
                last - end <= Duration::from_millis(2_500),
                "{end:?}: {polls:?}"
            );
        }
        let never = polls_until(&schedule, secs(10_000));
        assert_eq!(never.last(), Some(&secs(480)));
        assert!(
            never.windows(2).all(|w| w[1] - w[0] <= secs(80)),
            "{never:?}"
        );
    }
}
