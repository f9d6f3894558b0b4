//! `mainstay status` and `mainstay cleanup`: reading the status files of a sha back, or, in a
//! clone where no monitor followed it, asking the sources.
//!
//! The lock decides "in progress"; then the `.result` file decides the verdict. A run that left a
//! log or a record but holds no lock and wrote no result had its monitor die: it is reported as
//! such, never as in progress. When no monitor ran here at all (another machine pushed), [`ask`]
//! asks the configured sources once, or follows them for a while like a monitor, without writing
//! a file or sending an alert; the answer says it came from them.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::files::{self, log_path, read_if_exists, record_path, result_path};
use super::lock;
use super::record::{Record, Verdict};
use super::schedule::Schedule;
use super::secrets::Secrets;
use super::settings::Settings;
use super::sources::{self, Observation, PollContext, Setup};
use crate::clock::Clock;
use crate::text::printable;
use crate::time::show;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Lock(#[from] lock::Error),
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{rev:?} is not a commit in {}", worktree.display())]
    NoSuchCommit { rev: String, worktree: PathBuf },
    #[error(transparent)]
    Git(#[from] crate::git::Error),
    #[error(transparent)]
    Config(#[from] crate::config::Error),
    #[error("cannot remove {}: {source}", path.display())]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where the deployment of a sha stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Done(Verdict),
    /// A live monitor holds the lock.
    InProgress,
    /// The monitor ended without a verdict: killed, or crashed.
    Died,
    /// The monitor ran but had nothing to follow (no source configured).
    NotFollowed,
    /// No monitor ever ran for this sha here.
    NotFound,
}

impl State {
    /// True when waiting longer cannot change the answer.
    pub fn is_final(self) -> bool {
        matches!(self, State::Done(_) | State::NotFollowed)
    }

    pub fn describe(self) -> &'static str {
        match self {
            State::Done(v) => v.as_str(),
            State::InProgress => "in progress",
            State::Died => "monitor died without a verdict",
            State::NotFollowed => "not followed",
            State::NotFound => "not found",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub sha: String,
    pub state: State,
    pub record: Option<Record>,
    /// The log's last lines, for failures and dead monitors.
    #[serde(skip)]
    pub log_tail: Vec<String>,
    /// What the sources said, when no monitor ran here and they were asked instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asked: Option<Asked>,
    /// Status files of this sha that git tracks: a commit put them there, so they were not read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
}

/// The sources' answer about a sha no monitor followed here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Asked {
    /// The source whose answer it is; `None` when none knows the sha (`said` has each one's word).
    pub source: Option<&'static str>,
    pub said: String,
    /// Further lines: where it serves, the failure's log.
    pub details: Vec<String>,
}

/// Reads the status files of `sha` (a full sha or at least its first seven digits). Those git
/// tracks are not read: a commit can carry a `.result` that says `success`.
pub fn inquire(worktree: &Path, sha: &str) -> Result<Report, Error> {
    let readable = [
        result_path(worktree, sha),
        log_path(worktree, sha),
        record_path(worktree, sha),
    ];
    let tracked = files::tracked(worktree, &readable)?;
    let ours = |path: &PathBuf| !tracked.contains(path);
    let read = |path: PathBuf| {
        if !ours(&path) {
            return Ok(None);
        }
        read_if_exists(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })
    };
    let held = lock::is_held(worktree, sha)?;
    let result = read(result_path(worktree, sha))?;
    let log = read(log_path(worktree, sha))?;
    let record = Record::load(worktree, sha).filter(|_| ours(&record_path(worktree, sha)));
    let state = if held {
        State::InProgress
    } else if let Some(verdict) = result.as_deref().and_then(Verdict::parse) {
        State::Done(verdict)
    } else if record
        .as_ref()
        .is_some_and(|r| r.ended_at.is_some() && r.verdict.is_none())
    {
        State::NotFollowed
    } else if record.is_some()
        || log.is_some()
        || (ours(&record_path(worktree, sha)) && record_path(worktree, sha).exists())
    {
        State::Died
    } else {
        State::NotFound
    };
    let log_tail = log
        .as_deref()
        .map(|text| {
            files::tail(text, 15)
                .into_iter()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(Report {
        sha: record
            .as_ref()
            .map_or_else(|| files::sha7(sha).to_owned(), |r| r.sha.clone()),
        state,
        record,
        log_tail,
        asked: None,
        ignored: tracked
            .iter()
            .filter_map(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
            .collect(),
    })
}

impl Report {
    /// `mainstay status`'s exit code: 0 success, 1 not (failed, timed out, superseded, not ready,
    /// or its monitor died), 2 in progress, 3 not found here.
    pub fn exit_code(&self) -> u8 {
        match self.state {
            State::Done(Verdict::Success) => 0,
            State::Done(_) | State::Died => 1,
            State::InProgress => 2,
            State::NotFollowed | State::NotFound => 3,
        }
    }
}

/// One line: `abc1234: failed: <reason>`, or from the sources `abc1234: failed (from github:
/// <reason>)`.
pub fn summary(report: &Report) -> String {
    let sha7 = files::sha7(&report.sha);
    if let Some(asked) = &report.asked {
        return match asked.source {
            Some(source) => format!(
                "{sha7}: {} (from {source}: {})",
                report.state.describe(),
                asked.said
            ),
            None => format!(
                "{sha7}: {} (no monitor ran here; {})",
                report.state.describe(),
                asked.said
            ),
        };
    }
    let record = report.record.as_ref();
    match report.state {
        State::Done(verdict) => {
            let detail = record.and_then(|r| match (&r.error, r.live_after_ms) {
                (Some(error), _) => Some(error.clone()),
                (None, Some(ms)) => Some(format!(
                    "live after {} via {}{}{}",
                    show(Duration::from_millis(ms)),
                    r.source.as_deref().unwrap_or("?"),
                    r.live_through
                        .as_deref()
                        .map(|c| format!(" ({}, which contains it)", files::sha7(c)))
                        .unwrap_or_default(),
                    r.ready_after_ms
                        .map(|ms| format!(", ready after {}", show(Duration::from_millis(ms))))
                        .unwrap_or_default()
                )),
                (None, None) => None,
            });
            match detail {
                Some(detail) => format!("{sha7}: {verdict}: {detail}"),
                None => format!("{sha7}: {verdict}"),
            }
        }
        State::InProgress => {
            let phase = record.and_then(|r| r.phases.last());
            match phase {
                Some(p) => format!("{sha7}: in progress ({}: {})", p.source, p.phase),
                None => format!("{sha7}: in progress"),
            }
        }
        State::NotFollowed => format!("{sha7}: not followed: no deployment source is configured"),
        State::Died | State::NotFound => format!("{sha7}: {}", report.state.describe()),
    }
}

/// What `status` prints: the summary (and the log's tail when it is not a success), or the
/// report as one JSON object with its `exit_code`. Records and logs hold what servers
/// answered: no control character reaches the terminal.
pub fn write(out: &mut impl std::io::Write, report: &Report, json: bool) -> std::io::Result<()> {
    let exit = report.exit_code();
    if json {
        let mut value = serde_json::to_value(report).map_err(std::io::Error::other)?;
        // JSON escapes C0 but passes C1 and bidi controls through: every string is cleaned.
        printable_json(&mut value);
        value["exit_code"] = exit.into();
        return writeln!(out, "{value}");
    }
    writeln!(out, "{}", printable(&summary(report)))?;
    if !report.ignored.is_empty() {
        writeln!(
            out,
            "  not read: {} (tracked by git, so a commit put it there, not a monitor)",
            printable(&report.ignored.join(", "))
        )?;
    }
    for line in report.asked.iter().flat_map(|a| &a.details) {
        writeln!(out, "  {}", printable(line))?;
    }
    if exit == 1 {
        for line in &report.log_tail {
            writeln!(out, "  {}", printable(line))?;
        }
    }
    Ok(())
}

/// Every string in `value`, keys included, made [`printable`].
fn printable_json(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(text) => {
            if let std::borrow::Cow::Owned(clean) = printable(text) {
                *text = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(printable_json),
        Value::Object(map) => {
            let taken = std::mem::take(map);
            for (key, mut item) in taken {
                printable_json(&mut item);
                map.insert(printable(&key).into_owned(), item);
            }
        }
        _ => {}
    }
}

/// A revision to a sha; a hex id git does not know (not fetched here) is taken as given.
pub fn resolve(worktree: &Path, rev: &str) -> Result<String, Error> {
    let missing = || Error::NoSuchCommit {
        rev: rev.to_owned(),
        worktree: worktree.to_owned(),
    };
    if rev.starts_with('-') {
        return Err(missing());
    }
    let git = crate::git::Git::new(worktree);
    let output = git.output([
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{rev}^{{commit}}"),
    ])?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned());
    }
    if rev.len() >= 7 && super::validate_sha(rev).is_ok() {
        return Ok(rev.to_ascii_lowercase());
    }
    Err(missing())
}

/// What `mainstay status` is asked.
#[derive(Debug, Clone)]
pub struct Options {
    /// A full or short sha, or any revision.
    pub rev: String,
    /// Wait for a verdict up to this long.
    pub wait: Option<Duration>,
    /// Print the report as JSON.
    pub json: bool,
}

/// How long `status --wait` in the clone that pushed waits for its monitor to start before it
/// asks the sources itself.
pub const MONITOR_START: Duration = Duration::from_secs(15);

/// `mainstay status` end to end: the status files of the sha, else (no monitor here) the
/// sources; with `wait`, followed until a verdict. In the clone that has just pushed the sha,
/// `--wait` waits for the monitor about to start and reads its files. `live`, when given, gets
/// a line rewritten after each look (a terminal). Returns the exit code (0/1/2/3).
pub fn run(
    worktree: &Path,
    options: &Options,
    clock: &dyn Clock,
    out: &mut impl std::io::Write,
    mut live: Option<&mut dyn std::io::Write>,
) -> Result<u8, Error> {
    let sha = resolve(worktree, &options.rev)?;
    let mut tick = |r: &Report| {
        if let Some(live) = live.as_mut() {
            let elapsed = show(clock.elapsed());
            let line = printable(&summary(r)).into_owned();
            let _ = write!(live, "\r\x1b[K{line} ({elapsed})");
            let _ = live.flush();
        }
    };
    let mut report = inquire(worktree, &sha)?;
    let start = clock.elapsed();
    let left = |clock: &dyn Clock| {
        options
            .wait
            .map(|w| w.saturating_sub(clock.elapsed() - start))
    };
    if report.state == State::NotFound {
        // Nothing here may be because the monitor could not read its settings: say so.
        let config = crate::config::Config::load_only(
            worktree,
            &[
                crate::config::Section::Deploy,
                crate::config::Section::Alerts,
            ],
        )?;
        if let Some(wait) = options.wait
            && pushed_here(worktree, &config.deploy, &sha, clock.wall())
        {
            report = wait_for_monitor(worktree, &sha, wait.min(MONITOR_START), clock, &mut tick)?;
        }
        if report.state != State::NotFound {
            let limit = left(clock).unwrap_or_default();
            report = wait(worktree, &sha, limit, clock, &mut tick)?;
        } else {
            // No monitor ran here (another clone pushed): the sources can still answer.
            let secrets = sources::secrets_from_env();
            let contains = super::git_contains(worktree);
            let cx = AskContext {
                worktree,
                secrets: &secrets,
                clock,
                contains: &contains,
            };
            // `None`: no source is configured, so nothing can ever answer (a monitor started now
            // would follow nothing either): not found, at once, however long `--wait` allows.
            match ask(&sha, &config.deploy, &cx, left(clock), &mut tick)? {
                Some(Answer::Sources(mut asked)) => {
                    // What was not read here still says why no monitor's answer was found.
                    asked.ignored = std::mem::take(&mut report.ignored);
                    report = *asked;
                }
                Some(Answer::MonitorStarted) => {
                    let limit = left(clock).unwrap_or_default();
                    report = wait(worktree, &sha, limit, clock, &mut tick)?;
                }
                None => {}
            }
        }
    } else if let Some(limit) = left(clock) {
        report = wait(worktree, &sha, limit, clock, &mut tick)?;
    }
    if let Some(live) = live.as_mut() {
        let _ = write!(live, "\r\x1b[K");
    }
    // The exit code is the answer: a reader that went away does not change it.
    let _ = write(out, &report, options.json);
    Ok(report.exit_code())
}

/// True when this clone pushed `sha` to the deploy branch a moment ago: the remote-tracking
/// ref's reflog has it as `update by push` within [`MONITOR_START`] and a minute. Its
/// post-push is then about to start the monitor.
fn pushed_here(worktree: &Path, settings: &Settings, sha: &str, now: SystemTime) -> bool {
    let tracking = format!("refs/remotes/{}/{}", settings.remote, settings.branch);
    let Ok(out) = crate::git::Git::new(worktree).output([
        "reflog",
        "show",
        "--date=unix",
        "--format=%H %gd %gs",
        "-n",
        "5",
        &tracking,
        "--",
    ]) else {
        return false;
    };
    let now = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    String::from_utf8_lossy(&out.stdout).lines().any(|line| {
        let mut words = line.splitn(3, ' ');
        let (Some(commit), Some(selector), Some(subject)) =
            (words.next(), words.next(), words.next())
        else {
            return false;
        };
        let at = selector
            .rsplit_once("@{")
            .and_then(|(_, t)| t.strip_suffix('}'))
            .and_then(|t| t.parse::<u64>().ok())
            .map(Duration::from_secs);
        sources::same_commit(commit, sha)
            && subject.starts_with("update by push")
            && at
                .is_some_and(|at| now.saturating_sub(at) <= MONITOR_START + Duration::from_secs(60))
    })
}

/// Looks at the status files until the monitor's appear or `limit` passes.
fn wait_for_monitor(
    worktree: &Path,
    sha: &str,
    limit: Duration,
    clock: &dyn Clock,
    tick: &mut dyn FnMut(&Report),
) -> Result<Report, Error> {
    let appeared = |report: &Report, _: Duration| report.state != State::NotFound;
    watch(
        worktree,
        sha,
        limit,
        clock,
        tick,
        Duration::from_millis(100),
        appeared,
    )
}

/// Inquires until the state is final or `limit` has passed, calling `tick` after each look.
///
/// A dead monitor counts as final only after a grace period: `post-push` creates the log a
/// moment before the monitor takes its lock.
pub fn wait(
    worktree: &Path,
    sha: &str,
    limit: Duration,
    clock: &dyn Clock,
    tick: &mut dyn FnMut(&Report),
) -> Result<Report, Error> {
    const GRACE: Duration = Duration::from_secs(2);
    let mut died_since = None;
    let done = |report: &Report, now: Duration| {
        let dead_long_enough = if report.state == State::Died {
            now - *died_since.get_or_insert(now) >= GRACE
        } else {
            died_since = None;
            false
        };
        report.state.is_final() || dead_long_enough
    };
    watch(
        worktree,
        sha,
        limit,
        clock,
        tick,
        Duration::from_millis(200),
        done,
    )
}

/// Inquires every `every` until `done` (given the report and the clock) or `limit` has passed.
fn watch(
    worktree: &Path,
    sha: &str,
    limit: Duration,
    clock: &dyn Clock,
    tick: &mut dyn FnMut(&Report),
    every: Duration,
    mut done: impl FnMut(&Report, Duration) -> bool,
) -> Result<Report, Error> {
    let start = clock.elapsed();
    loop {
        let report = inquire(worktree, sha)?;
        tick(&report);
        let now = clock.elapsed();
        if done(&report, now) || now - start >= limit {
            return Ok(report);
        }
        clock.sleep(every.min(limit - (now - start)));
    }
}

/// What [`ask`] works with.
pub struct AskContext<'a> {
    pub worktree: &'a Path,
    pub secrets: &'a Secrets,
    pub clock: &'a dyn Clock,
    /// True when commit `ancestor` is contained in commit `descendant`.
    pub contains: &'a dyn Fn(&str, &str) -> bool,
}

/// What [`ask`] found: the sources' answer, or that a monitor of this clone started meanwhile.
pub enum Answer {
    Sources(Box<Report>),
    MonitorStarted,
}

/// Where the deployment of `sha` stands according to the sources `[deploy]` configures: for a
/// clone where no monitor followed it. Without `wait`, each source is asked once, a request at a
/// time within `request_timeout`, without retries; with it, they are followed by the monitor's
/// own loop ([`super::follow::follow`]) on its schedule for up to that long, `tick` called
/// after each round, until a monitor of this sha starts here (then [`Answer::MonitorStarted`]).
/// `None` when no source is configured. Nothing is written and no alert is sent: the pushing
/// clone's monitor does that.
pub fn ask(
    sha: &str,
    settings: &Settings,
    cx: &AskContext<'_>,
    wait: Option<Duration>,
    tick: &mut dyn FnMut(&Report),
) -> Result<Option<Answer>, Error> {
    let mut setup = Setup::new(settings, cx.secrets, cx.worktree, settings.request_timeout);
    if let Some(limit) = wait {
        // `--wait` is a bound on the clock: no request outlives it.
        setup.client = setup.client.until(std::time::Instant::now() + limit);
    }
    let (mut sources, problems) = sources::open(settings, &setup);
    if sources.is_empty() && problems.is_empty() {
        return Ok(None);
    }
    // A source that cannot be asked at all says why in every answer; warnings are for logs.
    let unasked: Vec<String> = problems
        .iter()
        .filter(|e| e.is_fatal())
        .map(ToString::to_string)
        .collect();
    let poll_cx = PollContext {
        clock: cx.clock,
        contains: cx.contains,
        once: wait.is_none(),
    };
    let mut heard = Heard {
        sha,
        worktree: cx.worktree,
        secrets: cx.secrets,
        unasked: &unasked,
        answers: Vec::new(),
        tick,
        monitor_started: false,
    };
    let Some(limit) = wait else {
        for source in &mut sources {
            let answer = source.poll(sha, &poll_cx);
            let definitive = matches!(
                answer,
                Ok(Observation::Live { .. }
                    | Observation::LiveThrough { .. }
                    | Observation::Failed { .. }
                    | Observation::Superseded { .. })
            );
            heard.answers.push((source.name(), answer));
            if definitive {
                break;
            }
        }
        let report = heard.report();
        (heard.tick)(&report);
        return Ok(Some(Answer::Sources(Box::new(report))));
    };
    let past = super::follow::history(&mut sources, settings, cx.worktree, &poll_cx);
    // Only the schedule polls: the machine's floor and `--wait` bound it.
    let (mut bounded, _) = settings.floored(cx.secrets.poll_floor());
    bounded.max_wait = limit;
    let schedule = Schedule::choose(&bounded, &past);
    super::follow::follow(&mut sources, sha, &schedule, &poll_cx, &mut heard).map_err(
        |source| Error::Read {
            path: cx.worktree.to_owned(),
            source,
        },
    )?;
    if heard.monitor_started {
        return Ok(Some(Answer::MonitorStarted));
    }
    let report = heard.report();
    (heard.tick)(&report);
    Ok(Some(Answer::Sources(Box::new(report))))
}

/// What the sources answered in the latest round, as [`ask`] hears it while following.
struct Heard<'a, 't> {
    sha: &'a str,
    worktree: &'a Path,
    secrets: &'a Secrets,
    unasked: &'a [String],
    /// Each source's latest answer, in the order they are asked.
    answers: Vec<(&'static str, Result<Observation, sources::Error>)>,
    tick: &'t mut dyn FnMut(&Report),
    monitor_started: bool,
}

impl Heard<'_, '_> {
    /// The first definitive answer, else a deployment under way, else nobody knows the sha
    /// (each source's word, and why any could not be asked).
    fn report(&self) -> Report {
        let (state, asked) = classify(&self.answers, self.unasked);
        let scrub = |text: &str| self.secrets.scrub(text);
        Report {
            sha: self.sha.to_owned(),
            state,
            record: None,
            log_tail: Vec::new(),
            asked: Some(Asked {
                source: asked.source,
                said: scrub(&asked.said),
                details: asked.details.iter().map(|d| scrub(d)).collect(),
            }),
            ignored: Vec::new(),
        }
    }
}

impl super::follow::Progress for Heard<'_, '_> {
    fn say(&mut self, _text: &str) -> std::io::Result<()> {
        Ok(())
    }

    fn answered(&mut self, source: &'static str, answer: &Result<Observation, sources::Error>) {
        let kept = match answer {
            Ok(observation) => Ok(observation.clone()),
            Err(e) if e.is_fatal() => Err(sources::Error::Fatal(e.to_string())),
            Err(e) => Err(sources::Error::Transient(e.to_string())),
        };
        match self.answers.iter_mut().find(|(name, _)| *name == source) {
            Some(slot) => slot.1 = kept,
            None => self.answers.push((source, kept)),
        }
    }

    fn keep_going(&mut self) -> bool {
        let report = self.report();
        (self.tick)(&report);
        // The monitor this clone's push started: its files answer from now on.
        let started = inquire(self.worktree, self.sha).is_ok_and(|r| r.state != State::NotFound);
        self.monitor_started = started;
        !started
    }
}

/// The state and the answer of a round of `answers`.
fn classify(
    answers: &[(&'static str, Result<Observation, sources::Error>)],
    unasked: &[String],
) -> (State, Asked) {
    let mut words: Vec<String> = Vec::new();
    let mut under_way: Option<(&'static str, String)> = None;
    for (name, answer) in answers {
        let decided = |verdict, said: String, details: &[String]| {
            let asked = Asked {
                source: Some(*name),
                said,
                details: details.to_vec(),
            };
            (State::Done(verdict), asked)
        };
        match answer {
            Ok(Observation::Live { details }) => {
                return decided(Verdict::Success, "live".to_owned(), details);
            }
            Ok(Observation::LiveThrough { commit, details }) => {
                let via = format!("live via {}", files::sha7(commit));
                return decided(Verdict::Success, via, details);
            }
            Ok(Observation::Failed { reason, details }) => {
                return decided(Verdict::Failed, reason.clone(), details);
            }
            Ok(Observation::Superseded { reason }) => {
                return decided(Verdict::Superseded, reason.clone(), &[]);
            }
            Ok(Observation::Pending(phase)) => {
                words.push(format!("{name}: {phase}"));
                under_way.get_or_insert((name, phase.clone()));
            }
            Ok(Observation::Unseen(what)) => words.push(format!("{name}: {what}")),
            Err(e) => words.push(e.to_string()),
        }
    }
    match under_way {
        Some((name, phase)) => (
            State::InProgress,
            Asked {
                source: Some(name),
                said: phase,
                details: Vec::new(),
            },
        ),
        None => {
            words.extend(unasked.iter().cloned());
            (
                State::NotFound,
                Asked {
                    source: None,
                    said: words.join("; "),
                    details: Vec::new(),
                },
            )
        }
    }
}

/// Removes status files last changed before `now - older_than`, except those of a live monitor.
pub fn cleanup(
    worktree: &Path,
    older_than: Duration,
    now: SystemTime,
) -> Result<Vec<PathBuf>, Error> {
    let read_error = |source| Error::Read {
        path: worktree.to_owned(),
        source,
    };
    let cutoff = now
        .checked_sub(older_than)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut candidates = Vec::new();
    for entry in std::fs::read_dir(worktree).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let name = entry.file_name();
        let Some(sha7) = name.to_str().and_then(files::sha7_of) else {
            continue;
        };
        // A link or anything but a regular file at a status name is not ours to remove.
        let meta = entry.metadata().map_err(read_error)?;
        if !meta.is_file() || meta.modified().map_err(read_error)? >= cutoff {
            continue;
        }
        if !lock::is_held(worktree, sha7)? {
            candidates.push(entry.path());
        }
    }
    // Nor is a file git tracks: a commit put it there.
    let tracked = if candidates.is_empty() {
        Vec::new()
    } else {
        files::tracked(worktree, &candidates).map_err(|e| Error::Read {
            path: worktree.to_owned(),
            source: std::io::Error::other(e),
        })?
    };
    let mut removed = Vec::new();
    for path in candidates.into_iter().filter(|p| !tracked.contains(p)) {
        std::fs::remove_file(&path).map_err(|source| Error::Remove {
            path: path.clone(),
            source,
        })?;
        removed.push(path);
    }
    removed.sort();
    Ok(removed)
}
