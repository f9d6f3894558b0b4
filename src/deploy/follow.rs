//! Polling the sources on a schedule until one of them decides: live, failed, superseded, or
//! the schedule runs out. Says each new phase and each new problem once, through [`Progress`].

use std::path::Path;
use std::time::Duration;

use super::record::{self, Phase};
use super::schedule::{self, Schedule};
use super::sources::{self, Observation, Past, PollContext, Source, Span};
use crate::time::show;

/// What following the sources decided, before readiness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Live {
        source: &'static str,
        /// The later commit it is live through, when the source serves one that contains it.
        through: Option<String>,
    },
    Failed {
        source: &'static str,
        reason: String,
    },
    Superseded {
        source: &'static str,
        reason: String,
    },
    Timeout {
        reason: String,
    },
    /// Every source failed for good (bad token, no connection settings).
    NoSource {
        reason: String,
    },
}

/// The sources' story of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Followed {
    pub decision: Decision,
    pub polls: u32,
    pub phases: Vec<Phase>,
    /// When the decision was made, on the clock.
    pub at: Duration,
    /// The poll before the deciding one: the deployment ended between it and `at`.
    pub last_pending: Option<Duration>,
}

/// Past durations: the sources' own (shared by every machine that pushes) when they have
/// enough, else this work tree's run records. None for the fixed schedule, which uses none: a
/// source's history costs requests.
pub(super) fn history(
    sources: &mut [Box<dyn Source>],
    settings: &super::Settings,
    worktree: &Path,
    cx: &PollContext<'_>,
) -> Vec<Duration> {
    if settings.schedule == super::settings::ScheduleKind::Fixed {
        return Vec::new();
    }
    for source in sources.iter_mut() {
        // A source that cannot say now is asked again by the first poll, which says why.
        let Ok(past) = source.past(Span::Recent, cx) else {
            continue;
        };
        let durations: Vec<Duration> = Past::durations(&past).into_iter().take(20).collect();
        if durations.len() >= schedule::MIN_HISTORY {
            return durations;
        }
    }
    record::local_history(worktree, 20)
}

/// Where [`follow`] reports as it goes.
pub trait Progress {
    /// One line for the status log.
    fn say(&mut self, text: &str) -> std::io::Result<()>;
    /// The phases seen so far, after a new one appeared.
    fn phases(&mut self, _phases: &[Phase]) -> std::io::Result<()> {
        Ok(())
    }
    /// What `source` answered this poll, for a caller that reports each round itself.
    fn answered(&mut self, _source: &'static str, _answer: &Result<Observation, sources::Error>) {}
    /// Asked after each round without a decision; false ends following there (`status --wait`
    /// stops when the monitor of this clone's push has started, and reads its files instead).
    fn keep_going(&mut self) -> bool {
        true
    }
}

/// Polls `sources` on `schedule` until one of them decides or the schedule runs out. Says each
/// new phase and each new problem once. `max_wait` is a bound on the clock, not only on the
/// plan: a poll that takes long (a server that answers a byte at a time) moves the end no later,
/// and no round begins, nor goes on to its next source, once the clock has reached it.
pub fn follow(
    sources: &mut Vec<Box<dyn Source>>,
    sha: &str,
    schedule: &Schedule,
    cx: &PollContext<'_>,
    progress: &mut dyn Progress,
) -> std::io::Result<Followed> {
    let mut polls = 0;
    let mut phases: Vec<Phase> = Vec::new();
    let mut last_said: Vec<(&'static str, String)> = Vec::new();
    let mut planned = Duration::ZERO;
    let mut last_pending = None;
    let out_of_time = || cx.clock.elapsed() >= schedule.max_wait();
    loop {
        let now = cx.clock.elapsed();
        if planned > now {
            cx.clock.sleep(planned - now);
        }
        if polls > 0 && out_of_time() {
            return Ok(timeout(
                schedule,
                &last_said,
                polls,
                phases,
                now,
                last_pending,
            ));
        }
        polls += 1;
        let at = cx.clock.elapsed();
        let mut dropped = Vec::new();
        for (index, source) in sources.iter_mut().enumerate() {
            if index > 0 && out_of_time() {
                break;
            }
            let name = source.name();
            let decided = |decision| Followed {
                decision,
                polls,
                phases: phases.clone(),
                at,
                last_pending,
            };
            let answer = source.poll(sha, cx);
            progress.answered(name, &answer);
            let news = match answer {
                // Not seen yet is a phase too while following: right after a push it is one.
                Ok(Observation::Pending(phase) | Observation::Unseen(phase)) => {
                    if !phases.iter().any(|p| p.source == name && p.phase == phase) {
                        phases.push(Phase {
                            source: name.to_owned(),
                            phase: phase.clone(),
                            at_ms: at.as_millis() as u64,
                        });
                        progress.phases(&phases)?;
                    }
                    phase
                }
                Ok(Observation::Live { details }) => {
                    progress.say(&format!("{name}: live"))?;
                    for detail in &details {
                        progress.say(&format!("{name}:   {detail}"))?;
                    }
                    return Ok(decided(Decision::Live {
                        source: name,
                        through: None,
                    }));
                }
                Ok(Observation::LiveThrough { commit, details }) => {
                    let short: String = commit.chars().take(7).collect();
                    progress.say(&format!("{name}: live via {short}"))?;
                    for detail in &details {
                        progress.say(&format!("{name}:   {detail}"))?;
                    }
                    return Ok(decided(Decision::Live {
                        source: name,
                        through: Some(commit),
                    }));
                }
                Ok(Observation::Failed { reason, details }) => {
                    progress.say(&format!("{name}: failed: {reason}"))?;
                    for detail in &details {
                        progress.say(&format!("{name}:   {detail}"))?;
                    }
                    return Ok(decided(Decision::Failed {
                        source: name,
                        reason,
                    }));
                }
                Ok(Observation::Superseded { reason }) => {
                    progress.say(&format!("{name}: {reason}"))?;
                    return Ok(decided(Decision::Superseded {
                        source: name,
                        reason,
                    }));
                }
                Err(e) if e.is_fatal() => {
                    progress.say(&format!("{e}; {name} is no longer asked"))?;
                    dropped.push((index, e.to_string()));
                    continue;
                }
                Err(e) => e.to_string(),
            };
            let said = last_said.iter_mut().find(|(n, _)| *n == name);
            match said {
                Some((_, text)) if *text == news => {}
                Some((_, text)) => {
                    progress.say(&format!("{name}: {news}"))?;
                    *text = news;
                }
                None => {
                    progress.say(&format!("{name}: {news}"))?;
                    last_said.push((name, news));
                }
            }
        }
        last_pending = Some(at);
        for (index, _) in dropped.iter().rev() {
            sources.remove(*index);
        }
        if sources.is_empty() {
            let reasons: Vec<String> = dropped.into_iter().map(|(_, e)| e).collect();
            return Ok(Followed {
                decision: Decision::NoSource {
                    reason: reasons.join("; "),
                },
                polls,
                phases,
                at,
                last_pending,
            });
        }
        let stopped = !progress.keep_going();
        match schedule
            .next(planned)
            .filter(|_| !out_of_time() && !stopped)
        {
            Some(next) => planned = next,
            None => {
                return Ok(timeout(
                    schedule,
                    &last_said,
                    polls,
                    phases,
                    at,
                    last_pending,
                ));
            }
        }
    }
}

/// The end of the schedule, or of `max_wait` on the clock, without a verdict.
fn timeout(
    schedule: &Schedule,
    last_said: &[(&'static str, String)],
    polls: u32,
    phases: Vec<Phase>,
    at: Duration,
    last_pending: Option<Duration>,
) -> Followed {
    let last: Vec<String> = last_said.iter().map(|(n, t)| format!("{n}: {t}")).collect();
    Followed {
        decision: Decision::Timeout {
            reason: format!(
                "no verdict within {}; last seen: {}",
                show(schedule.max_wait()),
                last.join("; ")
            ),
        },
        polls,
        phases,
        at,
        last_pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, SimClock};
    use crate::deploy::sources::Observation;

    /// A source whose every answer takes `takes` on the clock, and is never a verdict.
    struct Slow {
        takes: Duration,
    }

    impl Source for Slow {
        fn name(&self) -> &'static str {
            "slow"
        }

        fn poll(
            &mut self,
            _sha: &str,
            cx: &PollContext<'_>,
        ) -> Result<Observation, sources::Error> {
            cx.clock.sleep(self.takes);
            Ok(Observation::Pending("building".to_owned()))
        }
    }

    struct Quiet;

    impl Progress for Quiet {
        fn say(&mut self, _text: &str) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn max_wait_bounds_the_clock_however_long_each_poll_takes() {
        let clock = SimClock::new(std::time::SystemTime::UNIX_EPOCH);
        let schedule = Schedule::Fixed {
            initial: Duration::from_millis(20),
            later: Duration::from_millis(40),
            switch_after: Duration::from_millis(200),
            max_wait: Duration::from_secs(3),
        };
        let cx = PollContext {
            clock: &clock,
            contains: &|_, _| false,
            once: false,
        };
        let slow = |takes| -> Box<dyn Source> { Box::new(Slow { takes }) };
        let mut sources = vec![slow(Duration::from_secs(1)), slow(Duration::from_secs(1))];
        let followed = follow(&mut sources, "abc", &schedule, &cx, &mut Quiet).expect("follow");
        assert!(matches!(followed.decision, Decision::Timeout { .. }));
        // A round of two seconds, then the first source of the next: three seconds, not the
        // schedule's eighty rounds of two.
        assert_eq!(followed.polls, 2);
        assert_eq!(clock.elapsed(), Duration::from_secs(3));
    }
}
