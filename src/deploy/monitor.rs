//! One monitor run, start to end: take the sha's lock, follow the sources ([`super::follow`]),
//! decide the verdict ([`decide`]), write the result, alert ([`super::alerts::notify`]).
//!
//! A [`Run`] owns what the run writes, the status log and the run record, so every line and
//! every save goes through one place, scrubbed of secrets.

use std::io::Write;
use std::path::Path;

use super::files::{self, Log, log_path, result_path};
use super::follow::{self, Decision, Followed, Progress};
use super::readiness::{self, Readiness};
use super::record::{Phase, Record, Verdict};
use super::schedule::Schedule;
use super::secrets::Secrets;
use super::sources::{self, PollContext, Setup};
use super::{Context, Error, Options, Outcome, alerts, http, lock, validate_sha};
use crate::time::show;

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
    let (settings, floored) = options.settings.floored(cx.secrets.poll_floor());
    let settings = &settings;
    let mut run = Run::start(&sha, settings, &cx, echo)?;

    let mut setup = Setup::new(settings, cx.secrets, cx.worktree, settings.request_timeout);
    // No request outlives `max_wait`, however slowly a server answers: it is committed, and so
    // is `request_timeout`.
    let left = settings.max_wait.saturating_sub(cx.clock.elapsed());
    setup.client = setup.client.until(std::time::Instant::now() + left);
    let (mut sources, problems) = sources::open(settings, &setup);
    let names: Vec<&str> = sources.iter().map(|s| s.name()).collect();
    run.say(&format!(
        "monitoring deployment of {sha} (branch {}); sources: {}",
        settings.branch,
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    ))?;
    for problem in &problems {
        run.say(&problem.to_string())?;
    }
    if let Some(note) = floored {
        run.say(&note)?;
    }
    if sources.is_empty() && problems.is_empty() {
        run.say("no deployment source is configured in [deploy]; nothing to follow")?;
        run.record.ended_at = Some(crate::time::rfc3339(cx.clock.wall()));
        run.record.error = Some("no deployment source is configured".to_owned());
        run.save()?;
        return Ok(Outcome::NothingToFollow);
    }

    let poll_cx = PollContext {
        clock: cx.clock,
        contains: cx.contains,
        once: false,
    };
    let past = follow::history(&mut sources, settings, cx.worktree, &poll_cx);
    let schedule = Schedule::choose(settings, &past);
    run.record.schedule = schedule.describe();
    run.say(&format!("schedule: {}", run.record.schedule))?;
    run.save()?;

    let followed = if sources.is_empty() {
        let reasons: Vec<String> = problems.iter().map(ToString::to_string).collect();
        Followed {
            decision: Decision::NoSource {
                reason: reasons.join("; "),
            },
            polls: 0,
            phases: Vec::new(),
            at: cx.clock.elapsed(),
            last_pending: None,
        }
    } else {
        follow::follow(&mut sources, &sha, &schedule, &poll_cx, &mut run).map_err(|e| run.io(e))?
    };
    let (verdict, error) = decide(followed, options, &cx, &mut run)?;
    run.finish(verdict, error.as_deref())?;
    if options.alerts.on.contains(&verdict) {
        let about = alerts::About {
            sha: &sha,
            branch: &settings.branch,
            verdict,
            error: run.record.error.as_deref(),
        };
        let webhook = cx.secrets.webhook_url();
        match alerts::notify(&options.alerts, webhook, &about, cx.clock) {
            alerts::Notice::Sent => {
                run.record.alert_sent = true;
                run.save()?;
                run.say("alert sent")?;
            }
            alerts::Notice::NoWebhook => {
                run.say("no alert sent: MAINSTAY_WEBHOOK_URL is not set")?;
            }
            alerts::Notice::Failed(e) => run.say(&e.to_string())?,
        }
    }
    Ok(Outcome::Verdict(verdict))
}

/// [`monitor`] as `mainstay monitor <sha>` runs it: lines are echoed to `stdout`, except when
/// stdout is the status log itself (post-push starts the monitor so), where they would appear
/// twice.
pub fn detached(
    sha: &str,
    options: &Options,
    cx: Context<'_>,
    stdout: &mut impl Write,
) -> Result<Outcome, Error> {
    let is_log = validate_sha(sha).is_ok() && {
        use std::os::unix::fs::MetadataExt;
        let log = std::fs::symlink_metadata(log_path(cx.worktree, sha));
        let out = std::fs::metadata("/dev/stdout");
        matches!((log, out), (Ok(a), Ok(b)) if a.dev() == b.dev() && a.ino() == b.ino())
    };
    if is_log {
        monitor(sha, options, cx, &mut std::io::sink())
    } else {
        monitor(sha, options, cx, stdout)
    }
}

/// Appends why a run could not go on to its status log, without secrets: detached, nobody reads
/// its stderr. Not for a sha whose status files are unsafe to write, nor for a malformed sha.
pub fn log_error(worktree: &Path, sha: &str, secrets: &Secrets, error: &str) {
    if validate_sha(sha).is_err() || files::check_safe(worktree, &sha.to_ascii_lowercase()).is_err()
    {
        return;
    }
    let line = format!(
        "{} error: {}",
        crate::time::now(),
        crate::text::printable(&secrets.scrub(error))
    );
    let _ = files::append_line(&log_path(worktree, &sha.to_ascii_lowercase()), &line);
}

/// The verdict from what the sources said, checking readiness after a live answer; the reason
/// when it is not success. Records when it went live and ready.
fn decide(
    followed: Followed,
    options: &Options,
    cx: &Context<'_>,
    run: &mut Run<'_, impl Write>,
) -> Result<(Verdict, Option<String>), Error> {
    let record = &mut run.record;
    record.polls = followed.polls;
    record.phases = followed.phases;
    record.last_pending_ms = followed.last_pending.map(|d| d.as_millis() as u64);
    Ok(match followed.decision {
        Decision::Live { source, through } => {
            record.source = Some(source.to_owned());
            record.live_after_ms = Some(followed.at.as_millis() as u64);
            record.live_through = through;
            run.say(&format!("live after {} ({source})", show(followed.at)))?;
            let settings = &options.settings;
            let Some((url, budget)) = sources::readiness(settings, cx.secrets) else {
                return Ok((Verdict::Success, None));
            };
            let url = url.as_str();
            run.say(&format!(
                "checking readiness at {} (budget {})",
                http::redact(url),
                show(budget)
            ))?;
            let client = http::Client::new(settings.request_timeout);
            let mut jitter = cx.jitter.clone();
            match readiness::check(&client, url, budget, cx.clock, &mut jitter) {
                Readiness::Ready { after } => {
                    run.record.ready_after_ms = Some(after.as_millis() as u64);
                    run.say(&format!("ready after {}", show(after)))?;
                    (Verdict::Success, None)
                }
                Readiness::NotReady { reason } => {
                    (Verdict::Failed, Some(format!("not ready: {reason}")))
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
    })
}

/// What one run writes: its status log and its run record, with the secrets scrubbed from both.
pub struct Run<'a, W: Write> {
    log: Log<'a, W>,
    pub(super) record: Record,
    worktree: &'a Path,
    cx: &'a Context<'a>,
}

impl<'a, W: Write> Run<'a, W> {
    /// A new run of `sha`: an old verdict for it is removed first, so it never passes for this
    /// run's.
    fn start(
        sha: &str,
        settings: &super::Settings,
        cx: &'a Context<'a>,
        echo: &'a mut W,
    ) -> Result<Self, Error> {
        let files_error = |source| Error::Files {
            dir: cx.worktree.to_owned(),
            source,
        };
        files::remove_if_exists(&result_path(cx.worktree, sha)).map_err(files_error)?;
        Ok(Run {
            log: Log::new(log_path(cx.worktree, sha), echo),
            record: Record {
                sha: sha.to_owned(),
                pid: std::process::id(),
                started_at: crate::time::rfc3339(cx.clock.wall()),
                branch: Some(settings.branch.clone()),
                ..Record::default()
            },
            worktree: cx.worktree,
            cx,
        })
    }

    /// One line (or several) for the status log, without secrets.
    pub(super) fn say(&mut self, text: &str) -> Result<(), Error> {
        let text = self.cx.secrets.scrub(text);
        self.log
            .line(self.cx.clock.wall(), &text)
            .map_err(|e| self.io(e))
    }

    pub(super) fn save(&self) -> Result<(), Error> {
        self.record.save(self.worktree).map_err(|e| self.io(e))
    }

    /// The verdict into the record, the log and the `.result` file.
    fn finish(&mut self, verdict: Verdict, error: Option<&str>) -> Result<(), Error> {
        let error = error.map(|e| self.cx.secrets.scrub(e));
        self.record.verdict = Some(verdict);
        self.record.error = error.clone();
        self.record.ended_at = Some(crate::time::rfc3339(self.cx.clock.wall()));
        match &error {
            Some(e) => self.say(&format!("verdict: {verdict}: {e}"))?,
            None => self.say(&format!("verdict: {verdict}"))?,
        }
        self.save()?;
        let result = result_path(self.worktree, &self.record.sha);
        files::write_atomic(&result, format!("{verdict}\n").as_bytes()).map_err(|e| self.io(e))
    }

    fn io(&self, source: std::io::Error) -> Error {
        Error::Files {
            dir: self.worktree.to_owned(),
            source,
        }
    }
}

/// The run as [`follow::follow`] reports to it: lines to the log, phases to the record.
impl<W: Write> Progress for Run<'_, W> {
    fn say(&mut self, text: &str) -> std::io::Result<()> {
        Run::say(self, text).map_err(std::io::Error::other)
    }

    fn phases(&mut self, phases: &[Phase]) -> std::io::Result<()> {
        self.record.phases = phases.to_vec();
        self.record.save(self.worktree)
    }
}
