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
use super::sources::{self, Observation, PollContext, Setup, Source};
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
    const EVERY: Duration = Duration::from_millis(200);
    let start = clock.elapsed();
    let mut died_since = None;
    loop {
        let report = inquire(worktree, sha)?;
        tick(&report);
        let now = clock.elapsed();
        let dead_long_enough = if report.state == State::Died {
            now - *died_since.get_or_insert(now) >= GRACE
        } else {
            died_since = None;
            false
        };
        if report.state.is_final() || dead_long_enough || now - start >= limit {
            return Ok(report);
        }
        clock.sleep(EVERY.min(limit - (now - start)));
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

/// Where the deployment of `sha` stands according to the sources `[deploy]` configures: for a
/// clone where no monitor followed it. Without `wait`, each source is asked once, a request at a
/// time within `request_timeout`, without retries; with it, they are followed on the monitor's
/// schedule for up to that long, `tick` called after each round. `None` when no source is
/// configured. Nothing is written and no alert is sent: the pushing clone's monitor does that.
pub fn ask(
    sha: &str,
    settings: &Settings,
    cx: &AskContext<'_>,
    wait: Option<Duration>,
    tick: &mut dyn FnMut(&Report),
) -> Result<Option<Report>, Error> {
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
    let schedule = wait.map(|limit| {
        let past = super::follow::history(&mut sources, settings, cx.worktree, &poll_cx);
        // Only the schedule polls: the machine's floor and `--wait` bound it.
        let (mut bounded, _) = settings.floored(cx.secrets.poll_floor());
        bounded.max_wait = limit;
        Schedule::choose(&bounded, &past)
    });
    let start = cx.clock.elapsed();
    let mut planned = Duration::ZERO;
    loop {
        let (state, asked) = round(&mut sources, sha, &poll_cx, &unasked);
        let scrub = |text: &str| cx.secrets.scrub(text);
        let report = Report {
            sha: sha.to_owned(),
            state,
            record: None,
            log_tail: Vec::new(),
            asked: Some(Asked {
                source: asked.source,
                said: scrub(&asked.said),
                details: asked.details.iter().map(|d| scrub(d)).collect(),
            }),
            ignored: Vec::new(),
        };
        tick(&report);
        let waited = cx.clock.elapsed() - start;
        let next = schedule.as_ref().and_then(|s| s.next(planned));
        let next = next.filter(|_| wait.is_some_and(|limit| waited < limit));
        let Some(next) = next.filter(|_| !state.is_final() && !sources.is_empty()) else {
            return Ok(Some(report));
        };
        planned = next;
        if planned > waited {
            cx.clock.sleep(planned - waited);
        }
    }
}

/// Asks every source once: the first definitive answer wins, then a deployment under way, else
/// nobody knows the sha (each source's word, and why any could not be asked). A source that
/// fails for good is not asked again.
fn round(
    sources: &mut Vec<Box<dyn Source>>,
    sha: &str,
    cx: &PollContext<'_>,
    unasked: &[String],
) -> (State, Asked) {
    let mut words: Vec<String> = Vec::new();
    let mut under_way: Option<(&'static str, String)> = None;
    let mut dropped = Vec::new();
    for (index, source) in sources.iter_mut().enumerate() {
        let name = source.name();
        let decided = |verdict, said: String, details| {
            let asked = Asked {
                source: Some(name),
                said,
                details,
            };
            (State::Done(verdict), asked)
        };
        match source.poll(sha, cx) {
            Ok(Observation::Live { details }) => {
                return decided(Verdict::Success, "live".to_owned(), details);
            }
            Ok(Observation::LiveThrough { commit, details }) => {
                let via = format!("live via {}", files::sha7(&commit));
                return decided(Verdict::Success, via, details);
            }
            Ok(Observation::Failed { reason, details }) => {
                return decided(Verdict::Failed, reason, details);
            }
            Ok(Observation::Superseded { reason }) => {
                return decided(Verdict::Superseded, reason, Vec::new());
            }
            Ok(Observation::Pending(phase)) => {
                words.push(format!("{name}: {phase}"));
                under_way.get_or_insert((name, phase));
            }
            Ok(Observation::Unseen(what)) => words.push(format!("{name}: {what}")),
            Err(e) => {
                words.push(e.to_string());
                if e.is_fatal() {
                    dropped.push(index);
                }
            }
        }
    }
    for index in dropped.into_iter().rev() {
        sources.remove(index);
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
