//! When to poll. The fixed schedule is the field's usual one (every `poll_initial` until
//! `poll_switch_after`, then every `poll_later`). The history schedule fits past durations with a
//! median and a robust spread (the interquartile range over 1.349, a normal's), polls sparsely
//! before that, at eight points around the median whose gaps widen away from it, and with gaps
//! that grow with the lateness after them. Both poll at once when the monitor starts (a re-push of a
//! live sha is answered at once, a bad token is reported at once) and never after `max_wait`.

use std::time::Duration;

use super::settings::{ScheduleKind, Settings};
use crate::time::show;

/// The fewest past durations the history schedule trusts.
pub const MIN_HISTORY: usize = 3;

/// Where the dense polls go, in spreads from the median. Half the runs end within 0.67 spreads
/// of it, where the gaps are a third of a spread, so the median delay stays near a sixth of a
/// spread; the tails get wider gaps, so an early or late run costs few extra polls: one at 3
/// spreads out makes 12 polls in all.
const DENSE: [f64; 8] = [-1.8, -1.0, -0.5, -0.17, 0.17, 0.5, 1.0, 1.8];

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
        /// The robust spread of past durations.
        spread: Duration,
        /// The dense polls, ascending and at least `min_gap` apart.
        dense: Vec<Duration>,
        /// The longest gap before the first dense poll.
        sparse: Duration,
        /// The shortest gap anywhere.
        min_gap: Duration,
        /// The longest gap after the last dense poll.
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
        let estimate = quantile(0.5);
        // A quarter of the fixed schedule's first interval: never hammer a source.
        let min_gap = settings.poll_initial / 4;
        let spread = (quantile(0.75) - quantile(0.25))
            .div_f64(1.349)
            .max(estimate / 100)
            .max(min_gap);
        let mut dense: Vec<Duration> = Vec::with_capacity(DENSE.len());
        for z in DENSE {
            let offset = spread.mul_f64(z.abs());
            let at = if z < 0.0 {
                estimate.saturating_sub(offset)
            } else {
                estimate + offset
            };
            let at = match dense.last() {
                Some(&last) => at.max(last + min_gap),
                None => at.max(min_gap),
            };
            dense.push(at);
        }
        Schedule::History {
            estimate,
            spread,
            sparse: settings.poll_later.max(dense[0] / 2),
            dense,
            min_gap,
            later: settings.poll_later,
            max_wait: settings.max_wait,
            samples: sorted.len(),
        }
    }

    /// When to poll next, after a poll planned at `at`; `None` once `max_wait` has been polled.
    pub fn next(&self, at: Duration) -> Option<Duration> {
        let (next, max_wait) = match self {
            Schedule::Fixed {
                initial,
                later,
                switch_after,
                max_wait,
            } => {
                let gap = if at < *switch_after { initial } else { later };
                (at + *gap, *max_wait)
            }
            Schedule::History {
                estimate,
                dense,
                sparse,
                min_gap,
                later,
                max_wait,
                ..
            } => {
                let next = match dense.iter().copied().find(|&d| d > at) {
                    // A sparse poll never lands just before the first dense one.
                    Some(first) if at < dense[0] && at + *sparse + *min_gap < first => at + *sparse,
                    Some(d) => d,
                    // Overdue: the gap grows with the lateness, up to `later`.
                    None => at + at.saturating_sub(*estimate).clamp(*min_gap, *later),
                };
                (next, *max_wait)
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
                spread,
                dense,
                samples,
                max_wait,
                ..
            } => format!(
                "history: estimated {} ± {} from {samples} past deployments; dense from {} to {}, up to {}",
                show(*estimate),
                show(*spread),
                show(dense[0]),
                show(dense[dense.len() - 1]),
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

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    /// The polls made for a deployment that ends at `end`: up to the first at or after it.
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

    /// Twenty past four-minute deployments at the quantiles of a normal with a 10 s deviation.
    fn four_minutes() -> Vec<Duration> {
        [
            238_100, 230_700, 235_500, 234_000, 247_600, 249_300, 228_500, 243_200, 220_400,
            225_600, 244_500, 240_600, 259_600, 239_400, 246_000, 241_900, 232_400, 251_500,
            254_400, 236_800,
        ]
        .into_iter()
        .map(ms)
        .collect()
    }

    #[test]
    fn fixed_schedule_is_the_fields_usual_one() {
        let schedule = Schedule::choose(&Settings::default(), &[]);
        let polls = polls_until(&schedule, secs(240));
        assert_eq!(&polls[..3], [secs(0), secs(5), secs(10)]);
        assert!(polls.contains(&secs(120)) && polls.contains(&secs(135)));
        // The field's 32, plus ours at the start.
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
    fn history_polls_a_run_like_the_past_ones_few_times_and_late_by_little() {
        let past = four_minutes();
        let schedule = Schedule::choose(&Settings::default(), &past);
        let mut delays = Vec::new();
        for &end in &past {
            let polls = polls_until(&schedule, end);
            assert!(polls.len() <= 12, "{end:?}: {polls:?}");
            delays.push(*polls.last().expect("polled") - end);
        }
        delays.sort();
        let median = delays[delays.len() / 2];
        assert!(median <= secs(3), "median delay {median:?}: {delays:?}");
        // Early and late ones, at three and a half and four and a half minutes, cost little more.
        for end in [secs(210), secs(270)] {
            let polls = polls_until(&schedule, end);
            assert!(polls.len() <= 12, "{end:?}: {polls:?}");
            assert!(
                *polls.last().expect("polled") - end <= secs(15),
                "{polls:?}"
            );
        }
    }

    #[test]
    fn history_polls_sparsely_before_densely_around_and_gives_up_at_max_wait() {
        let schedule = Schedule::choose(&Settings::default(), &four_minutes());
        let Schedule::History {
            estimate, dense, ..
        } = &schedule
        else {
            panic!("enough history: {schedule:?}")
        };
        assert_eq!(*estimate, ms(240_600));
        let all = polls_until(&schedule, secs(10_000));
        assert_eq!(all[0], Duration::ZERO);
        let before: Vec<_> = all.iter().filter(|&&t| t < dense[0]).collect();
        assert_eq!(before.len(), 2, "{all:?}");
        let around: Vec<_> = all
            .windows(2)
            .filter(|w| w[0] >= dense[0] && w[1] <= dense[7])
            .map(|w| w[1] - w[0])
            .collect();
        assert!(around.iter().all(|&gap| gap <= secs(9)), "{all:?}");
        assert!(around.iter().any(|&gap| gap <= secs(4)), "{all:?}");
        assert_eq!(all.last(), Some(&secs(480)));
        assert!(all.windows(2).all(|w| w[1] - w[0] <= secs(120)), "{all:?}");
        let after: Vec<_> = all.iter().filter(|&&t| t > dense[7]).collect();
        assert!(
            after.windows(2).all(|w| *w[1] - *w[0] <= secs(15)),
            "{all:?}"
        );
    }

    #[test]
    fn a_much_quicker_run_is_seen_by_a_sparse_poll() {
        let schedule = Schedule::choose(&Settings::default(), &four_minutes());
        let polls = polls_until(&schedule, secs(60));
        assert_eq!(polls.len(), 2, "{polls:?}");
        assert!(polls[1] <= secs(120), "{polls:?}");
    }

    #[test]
    fn a_tight_history_never_polls_more_often_than_a_quarter_interval() {
        let settings = Settings::default();
        let schedule = Schedule::choose(&settings, &[secs(60); 10]);
        let all = polls_until(&schedule, secs(10_000));
        assert!(
            all.windows(2)
                .all(|w| w[1] - w[0] >= settings.poll_initial / 4),
            "{all:?}"
        );
        assert!(polls_until(&schedule, secs(61)).len() <= 12);
    }

    #[test]
    fn says_which_schedule_and_why() {
        let fixed = Schedule::choose(&Settings::default(), &[]);
        assert_eq!(
            fixed.describe(),
            "fixed: every 5.0s for 2m00s, then every 15.0s, up to 8m00s"
        );
        let history = Schedule::choose(&Settings::default(), &four_minutes());
        let text = history.describe();
        assert!(
            text.starts_with("history: estimated 4m00s ± ")
                && text.contains("from 20 past deployments"),
            "{text}"
        );
    }
}
