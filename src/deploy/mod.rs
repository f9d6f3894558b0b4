//! The deployment monitor: follows one pushed commit to a verdict.
//!
//! One monitor per sha: it holds an OS file lock on `.deployment-monitor-<sha7>.lock` for its
//! whole life ([`lock`]). It asks every configured source ([`sources`]) on a [`schedule`] until
//! one gives a definitive answer, checks [`readiness`] after a live answer, then writes the status
//! files ([`files`], [`record`]) and sends an alert ([`alerts`]) when the verdict is not success.
//! Time, sleeping and jitter come in through [`clock`], so all of it runs in tests without
//! waiting.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

pub mod alerts;
pub mod files;
pub mod http;
pub mod lock;
pub mod readiness;
pub mod record;
pub mod schedule;
pub mod secrets;
pub mod settings;
pub mod sources;
pub mod status;

pub use files::{lock_path, log_path, result_path, sha7};
pub use record::Verdict;
pub use secrets::Secrets;
pub use settings::Settings;

use crate::clock::{Clock, Jitter};
use files::Log;
use readiness::Readiness;
use record::{Phase, Record};
use schedule::Schedule;
use crate::time::show;
use sources::{Observation, PollContext, Source};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{sha:?} is not a commit id (4 to 64 hex digits)")]
    BadSha { sha: String },
    #[error(transparent)]
    Lock(#[from] lock::Error),
    #[error(transparent)]
    Unsafe(#[from] files::Unsafe),
    #[error("cannot write the status files in {}: {source}", dir.display())]
    Files {
        dir: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// Requires a plain hex commit id: it ends up in file names and queries.
pub fn validate_sha(sha: &str) -> Result<(), Error> {
    if (4..=64).contains(&sha.len()) && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(Error::BadSha {
            sha: sha.to_owned(),
        })
    }
}

/// What the monitor is told: `[deploy]` and `[alerts]`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub settings: Settings,
    pub alerts: alerts::Settings,
}

/// What the monitor works with besides its options: the seams and the secrets.
pub struct Context<'a> {
    pub worktree: &'a Path,
    pub secrets: &'a Secrets,
    pub clock: &'a dyn Clock,
    pub jitter: Jitter,
    /// True when commit `ancestor` is contained in commit `descendant`.
    pub contains: &'a dyn Fn(&str, &str) -> bool,
}

/// How a monitor run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Another live monitor already follows this sha; this one did nothing.
    AlreadyRunning,
    /// No deployment source is configured, so there is nothing to follow.
    NothingToFollow,
    Verdict(Verdict),
}

/// What following the sources decided, before readiness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Live {
        source: &'static str,
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

/// Follows `sha` to a verdict: the whole monitor run. Log lines go to the status log and to `echo`.
pub fn monitor(
    sha: &str,
    options: &Options,
    cx: Context<'_>,
    echo: &mut impl Write,
) -> Result<Outcome, Error> {
    validate_sha(sha)?;
    let sha = sha.to_ascii_lowercase();
    files::check_safe(cx.worktree, &sha)?;
    let held = match lock::handed_over(cx.worktree, &sha) {
        Some(lock) => Some(lock),
        None => lock::acquire(cx.worktree, &sha)?,
    };
    let Some(_lock) = held else {
        // Only the lock holder writes the status files; this one leaves quietly.
        return Ok(Outcome::AlreadyRunning);
    };
    let files_error = |source| Error::Files {
        dir: cx.worktree.to_owned(),
        source,
    };
    // A new run: an old verdict for this sha must never pass for this run's.
    files::remove_if_exists(&result_path(cx.worktree, &sha)).map_err(files_error)?;
    let mut log = Log::new(log_path(cx.worktree, &sha), echo);
    let clock = cx.clock;
    let mut say = |text: &str| log.line(clock.wall(), text);
    let settings = &options.settings;
    let mut record = Record {
        sha: sha.clone(),
        pid: std::process::id(),
        started_at: crate::time::rfc3339(clock.wall()),
        branch: Some(settings.branch.clone()),
        ..Record::default()
    };

    let (mut sources, problems) = sources::from_settings(settings, cx.secrets);
    let names: Vec<&str> = sources.iter().map(|s| s.name()).collect();
    say(&format!(
        "monitoring deployment of {sha} (branch {}); sources: {}",
        settings.branch,
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    ))
    .map_err(files_error)?;
    for problem in &problems {
        say(&cx.secrets.scrub(&problem.to_string())).map_err(files_error)?;
    }
    if sources.is_empty() && problems.is_empty() {
        say("no deployment source is configured in [deploy]; nothing to follow")
            .map_err(files_error)?;
        record.ended_at = Some(crate::time::rfc3339(clock.wall()));
        record.error = Some("no deployment source is configured".to_owned());
        record.save(cx.worktree).map_err(files_error)?;
        return Ok(Outcome::NothingToFollow);
    }

    let poll_cx = PollContext {
        clock,
        contains: cx.contains,
    };
    let schedule = Schedule::choose(settings, &history(&mut sources, cx.worktree, &poll_cx));
    record.schedule = schedule.describe();
    say(&format!("schedule: {}", record.schedule)).map_err(files_error)?;
    record.save(cx.worktree).map_err(files_error)?;

    let followed = if sources.is_empty() {
        let reasons: Vec<String> = problems.iter().map(ToString::to_string).collect();
        Followed {
            decision: Decision::NoSource {
                reason: cx.secrets.scrub(&reasons.join("; ")),
            },
            polls: 0,
            phases: Vec::new(),
            at: clock.elapsed(),
            last_pending: None,
        }
    } else {
        let mut progress = Reporter {
            say: &mut say,
            record: &mut record,
            worktree: cx.worktree,
            secrets: cx.secrets,
        };
        follow(&mut sources, &sha, &schedule, &poll_cx, &mut progress).map_err(files_error)?
    };
    record.polls = followed.polls;
    record.phases = followed.phases;
    record.last_pending_ms = followed.last_pending.map(|d| d.as_millis() as u64);

    let (verdict, error) = match followed.decision {
        Decision::Live { source } => {
            record.source = Some(source.to_owned());
            record.live_after_ms = Some(followed.at.as_millis() as u64);
            say(&format!("live after {} ({source})", show(followed.at))).map_err(files_error)?;
            let mut jitter = cx.jitter;
            match settings
                .app
                .as_ref()
                .and_then(|a| Some((a.ready_url.as_deref()?, a.ready_budget)))
            {
                None => (Verdict::Success, None),
                Some((url, budget)) => {
                    say(&format!(
                        "checking readiness at {} (budget {})",
                        http::redact(url),
                        show(budget)
                    ))
                    .map_err(files_error)?;
                    let client = http::Client::new(settings.request_timeout);
                    match readiness::check(&client, url, budget, clock, &mut jitter) {
                        Readiness::Ready { after } => {
                            record.ready_after_ms = Some(after.as_millis() as u64);
                            say(&format!("ready after {}", show(after))).map_err(files_error)?;
                            (Verdict::Success, None)
                        }
                        Readiness::NotReady { reason } => {
                            (Verdict::Failed, Some(format!("not ready: {reason}")))
                        }
                    }
                }
            }
        }
        Decision::Failed { source, reason } => {
            record.source = Some(source.to_owned());
            (Verdict::Failed, Some(reason))
        }
        Decision::Superseded { source, reason } => {
            record.source = Some(source.to_owned());
            (Verdict::Superseded, Some(reason))
        }
        Decision::Timeout { reason } => (Verdict::Timeout, Some(reason)),
        Decision::NoSource { reason } => (
            Verdict::Failed,
            Some(format!("no source can answer: {reason}")),
        ),
    };
    let error = error.map(|e| cx.secrets.scrub(&e));
    record.verdict = Some(verdict);
    record.error = error.clone();
    record.ended_at = Some(crate::time::rfc3339(clock.wall()));
    match &error {
        Some(e) => say(&format!("verdict: {verdict}: {e}")),
        None => say(&format!("verdict: {verdict}")),
    }
    .map_err(files_error)?;
    record.save(cx.worktree).map_err(files_error)?;
    files::write_atomic(
        &result_path(cx.worktree, &sha),
        format!("{verdict}\n").as_bytes(),
    )
    .map_err(files_error)?;

    if options.alerts.on.contains(&verdict) {
        let text = format!(
            "Deployment of {} on {} ended: {verdict}{}",
            sha7(&sha),
            settings.branch,
            error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        );
        match &cx.secrets.webhook_url {
            None => say("no alert sent: MAINSTAY_WEBHOOK_URL is not set"),
            Some(url) => match alerts::send(&options.alerts, url, &text, clock) {
                Ok(()) => {
                    record.alert_sent = true;
                    record.save(cx.worktree).and_then(|()| say("alert sent"))
                }
                Err(e) => say(&cx.secrets.scrub(&e.to_string())),
            },
        }
        .map_err(files_error)?;
    }
    Ok(Outcome::Verdict(verdict))
}

/// The monitor's [`Progress`]: scrubbed lines to the log, phases to the run record.
struct Reporter<'a> {
    say: &'a mut dyn FnMut(&str) -> std::io::Result<()>,
    record: &'a mut Record,
    worktree: &'a Path,
    secrets: &'a Secrets,
}

impl Progress for Reporter<'_> {
    fn say(&mut self, text: &str) -> std::io::Result<()> {
        (self.say)(&self.secrets.scrub(text))
    }

    fn phases(&mut self, phases: &[Phase]) -> std::io::Result<()> {
        self.record.phases = phases.to_vec();
        self.record.save(self.worktree)
    }
}

/// Past durations: the sources' own (shared by every machine that pushes) when they have
/// enough, else this work tree's run records.
fn history(
    sources: &mut [Box<dyn Source>],
    worktree: &Path,
    cx: &PollContext<'_>,
) -> Vec<Duration> {
    for source in sources.iter_mut() {
        let past = source.history(cx);
        if past.len() >= schedule::MIN_HISTORY {
            return past;
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
}

/// Polls `sources` on `schedule` until one of them decides or the schedule runs out. Says each
/// new phase and each new problem once.
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
    loop {
        let now = cx.clock.elapsed();
        if planned > now {
            cx.clock.sleep(planned - now);
        }
        polls += 1;
        let at = cx.clock.elapsed();
        let mut dropped = Vec::new();
        for (index, source) in sources.iter_mut().enumerate() {
            let name = source.name();
            let decided = |decision| Followed {
                decision,
                polls,
                phases: phases.clone(),
                at,
                last_pending,
            };
            let news = match source.poll(sha, cx) {
                Ok(Observation::Pending(phase)) => {
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
                Ok(Observation::Live) => {
                    progress.say(&format!("{name}: live"))?;
                    return Ok(decided(Decision::Live { source: name }));
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
        match schedule.next(planned) {
            Some(next) => planned = next,
            None => {
                let last: Vec<String> =
                    last_said.iter().map(|(n, t)| format!("{n}: {t}")).collect();
                return Ok(Followed {
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
                });
            }
        }
    }
}

/// Commit ancestry through `git merge-base --is-ancestor`, in `worktree`.
pub fn git_contains(worktree: &Path) -> impl Fn(&str, &str) -> bool + '_ {
    move |ancestor, descendant| {
        let valid = |s: &str| validate_sha(s).is_ok();
        valid(ancestor)
            && valid(descendant)
            && crate::git::Git::new(worktree)
                .output(["merge-base", "--is-ancestor", ancestor, descendant])
                .is_ok_and(|o| o.status.success())
    }
}
