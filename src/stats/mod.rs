//! `mainstay stats`: how deployments have been going, from the history the configured sources
//! share (the `deployments` table, DigitalOcean's and GitHub's deployments: every source whose
//! kind keeps one, through [`Source::past`](crate::deploy::sources::Source::past)) and this work
//! tree's run records (`.deployment-status-<sha7>.json`, the monitor's local history).
//!
//! [`gather`] reads both; [`compute`] is the pure part, rows and records in, [`Report`] out;
//! [`text`] and [`html`] render a report. A deployment is one commit: the sources' newest row for
//! it and the record of the run that followed it are joined by sha. Where both know a deployment,
//! the monitor's verdict wins, because it also covers readiness and its own timeout.
//!
//! The sources' history has no branch column: its rows are taken as deployments of
//! `[deploy].branch`, so for any other `--branch` only run records (which name the branch they
//! followed) count. Days are UTC dates of the push (the record's start, else the row's start).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::deploy::record::{self, Record, Verdict};
use crate::deploy::secrets::Secrets;
use crate::deploy::sources::{self, Past, PastStatus, PollContext, Setup, Span, same_commit};

pub mod html;
pub mod text;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the history of {source_name} cannot be read: {error}")]
    History {
        source_name: &'static str,
        error: sources::Error,
    },
    #[error("--since must be longer than zero")]
    Since,
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// `[stats]` in `.mainstay.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// The share of deployments that should succeed, as a fraction (`0.95` for 95%).
    pub target: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { target: 0.95 }
    }
}

impl Settings {
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        if self.target.is_finite() && self.target > 0.0 && self.target <= 1.0 {
            Ok(())
        } else {
            Err((
                "stats.target".to_owned(),
                format!(
                    "{} must be a fraction above 0 and at most 1 (0.95 for 95%)",
                    self.target
                ),
            ))
        }
    }
}

/// What to report on.
#[derive(Debug, Clone)]
pub struct Options {
    /// How far back from `now`.
    pub since: Duration,
    /// The branch; `None` for `[deploy].branch`.
    pub branch: Option<String>,
    pub now: SystemTime,
}

/// What [`compute`] needs to know besides the rows.
#[derive(Debug, Clone)]
pub struct Context {
    pub since: Duration,
    pub now: SystemTime,
    pub branch: String,
    /// `[deploy].branch`: the branch the sources' rows belong to.
    pub deploy_branch: String,
    /// `[deploy].max_wait`: a row still pending after this long is a timeout.
    pub max_wait: Duration,
    pub target: f64,
    /// The configured sources that keep a history, by name; none when no source does.
    pub history_sources: Vec<String>,
}

/// The past deployments one source gave.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    pub source: String,
    pub rows: Vec<Past>,
}

/// How one deployment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Failed, with its cause: a short text that groups alike failures.
    Failed(String),
    Timeout,
    /// A newer deployment replaced it; counted, but not in the success rate.
    Superseded,
    /// No verdict yet: in progress, or its monitor ended without one.
    Pending,
}

/// One deployment, joined from the table and the run record.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub sha: String,
    /// When it was pushed (the monitor started), else when the table says it started.
    pub started_at: SystemTime,
    pub outcome: Outcome,
    /// From the push to the verdict: the run's length, else the table's `duration`.
    pub verdict_after: Option<Duration>,
    /// From live to ready (run records only).
    pub ready_after: Option<Duration>,
    /// Poll rounds (run records with a verdict only).
    pub polls: Option<u32>,
    pub alert_sent: bool,
}

/// A sample of durations: how many, the median and the 95th percentile, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Spread {
    pub count: usize,
    pub median_ms: Option<u64>,
    pub p95_ms: Option<u64>,
}

impl Spread {
    /// The median is the middle value (the mean of the two middle ones for an even count); the
    /// 95th percentile is the nearest rank, the `ceil(0.95 n)`-th smallest.
    pub fn of(mut samples: Vec<Duration>) -> Spread {
        samples.sort();
        let n = samples.len();
        let ms = |d: Duration| d.as_millis() as u64;
        let median = match n {
            0 => None,
            _ if n % 2 == 1 => Some(ms(samples[n / 2])),
            _ => Some((ms(samples[n / 2 - 1]) + ms(samples[n / 2])) / 2),
        };
        let rank = (n * 95).div_ceil(100);
        Spread {
            count: n,
            median_ms: median,
            p95_ms: rank.checked_sub(1).map(|i| ms(samples[i])),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cause {
    pub cause: String,
    pub count: usize,
}

/// Poll rounds per deployment, over the runs that reached a verdict here.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Polls {
    pub deployments: usize,
    pub total: u64,
    pub per_deployment: Option<f64>,
}

/// The figures of a set of deployments: the whole period or one day.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    pub deployments: usize,
    pub successes: usize,
    /// Failed or timed out.
    pub failures: usize,
    pub timeouts: usize,
    pub superseded: usize,
    pub pending: usize,
    /// Successes over successes and failures; `None` when nothing was decided.
    pub success_rate: Option<f64>,
    /// Failures grouped by cause, most frequent first.
    pub causes: Vec<Cause>,
    pub push_to_verdict: Spread,
    pub time_until_ready: Spread,
    pub polls: Polls,
    pub alerts_sent: usize,
}

impl Figures {
    pub fn of(deployments: &[&Deployment]) -> Figures {
        let count = |f: fn(&Outcome) -> bool| deployments.iter().filter(|d| f(&d.outcome)).count();
        let successes = count(|o| *o == Outcome::Success);
        let timeouts = count(|o| *o == Outcome::Timeout);
        let failures = timeouts + count(|o| matches!(o, Outcome::Failed(_)));
        let mut causes: BTreeMap<&str, usize> = BTreeMap::new();
        for d in deployments {
            match &d.outcome {
                Outcome::Failed(cause) => *causes.entry(cause).or_default() += 1,
                Outcome::Timeout => *causes.entry("timeout").or_default() += 1,
                _ => {}
            }
        }
        let mut causes: Vec<Cause> = causes
            .into_iter()
            .map(|(cause, count)| Cause {
                cause: cause.to_owned(),
                count,
            })
            .collect();
        causes.sort_by_key(|c| std::cmp::Reverse(c.count));
        let polls: Vec<u32> = deployments.iter().filter_map(|d| d.polls).collect();
        let total_polls = polls.iter().map(|&p| u64::from(p)).sum();
        let decided = successes + failures;
        Figures {
            deployments: deployments.len(),
            successes,
            failures,
            timeouts,
            superseded: count(|o| *o == Outcome::Superseded),
            pending: count(|o| *o == Outcome::Pending),
            success_rate: (decided > 0).then(|| successes as f64 / decided as f64),
            causes,
            push_to_verdict: Spread::of(
                deployments.iter().filter_map(|d| d.verdict_after).collect(),
            ),
            time_until_ready: Spread::of(
                deployments.iter().filter_map(|d| d.ready_after).collect(),
            ),
            polls: Polls {
                deployments: polls.len(),
                total: total_polls,
                per_deployment: (!polls.is_empty())
                    .then(|| total_polls as f64 / polls.len() as f64),
            },
            alerts_sent: deployments.iter().filter(|d| d.alert_sent).count(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Day {
    /// `2026-03-02`, UTC.
    pub date: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// Rows a source's history gave for the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryRows {
    pub source: String,
    pub rows: usize,
}

/// Where the figures came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Origin {
    /// Rows each source's history gave in the period; empty when no source keeping one is
    /// configured, or when the branch is not the deploy branch (see `notes`).
    pub history: Vec<HistoryRows>,
    /// Run records in this work tree in the period, on the branch.
    pub local_runs: usize,
    /// Why a source gave nothing, when it is worth saying.
    pub notes: Vec<String>,
}

/// Everything `mainstay stats` shows, in every format.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub branch: String,
    /// RFC 3339, the start of the period.
    pub since: String,
    /// RFC 3339, when the report was made.
    pub until: String,
    /// The period as given (`30d`).
    pub period: String,
    pub target: f64,
    pub sources: Origin,
    pub total: Figures,
    /// Days with deployments, oldest first.
    pub days: Vec<Day>,
    /// The deployments themselves, for charts.
    #[serde(skip)]
    pub deployments: Vec<Deployment>,
}

impl Report {
    /// True when no source knew of any deployment in the period.
    pub fn is_empty(&self) -> bool {
        self.deployments.is_empty()
    }

    /// The sentence that says so, naming what was read.
    pub fn no_data(&self) -> String {
        let history = if self.sources.history.is_empty() {
            "no configured source keeps a history".to_owned()
        } else {
            let names: Vec<&str> = self
                .sources
                .history
                .iter()
                .map(|h| h.source.as_str())
                .collect();
            format!("the history of {} has none", names.join(" and "))
        };
        format!(
            "no deployments of {} in the last {}: {history}, and this work tree has no run records for it",
            self.branch, self.period
        )
    }
}

impl Origin {
    /// `mysql history (8 rows)`, or `no shared history`: what the sources gave.
    pub fn describe_history(&self) -> String {
        if self.history.is_empty() {
            return "no shared history".to_owned();
        }
        let parts: Vec<String> = self
            .history
            .iter()
            .map(|h| format!("{} history ({} rows)", h.source, h.rows))
            .collect();
        parts.join(", ")
    }
}

/// Reads the history of every configured source that keeps one, and the run records in
/// `worktree`, and computes.
pub fn gather(
    worktree: &Path,
    deploy: &crate::deploy::Settings,
    settings: &Settings,
    secrets: &Secrets,
    options: &Options,
) -> Result<Report, Error> {
    if options.since.is_zero() {
        return Err(Error::Since);
    }
    let branch = options
        .branch
        .clone()
        .unwrap_or_else(|| deploy.branch.clone());
    let keeping: Vec<Box<dyn sources::Configured>> = sources::configured(deploy, secrets)
        .into_iter()
        .flatten()
        .filter(|c| c.keeps_history())
        .collect();
    let cx = Context {
        since: options.since,
        now: options.now,
        branch,
        deploy_branch: deploy.branch.clone(),
        max_wait: deploy.max_wait,
        target: settings.target,
        history_sources: keeping.iter().map(|c| c.name().to_owned()).collect(),
    };
    let mut history = Vec::new();
    if cx.branch == cx.deploy_branch {
        let setup = Setup::new(deploy, secrets, worktree, deploy.request_timeout);
        let clock = crate::clock::SystemClock::new();
        let poll_cx = PollContext {
            clock: &clock,
            contains: &|_, _| false,
            once: false,
        };
        let start = options
            .now
            .checked_sub(options.since)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        for configured in &keeping {
            let failed = |error| Error::History {
                source_name: configured.name(),
                error,
            };
            let mut source = configured.open(&setup).map_err(failed)?;
            let mut rows = source.past(Span::Since(start), &poll_cx).map_err(failed)?;
            for row in &mut rows {
                row.error_message = row.error_message.as_deref().map(|m| secrets.scrub(m));
            }
            history.push(History {
                source: configured.name().to_owned(),
                rows,
            });
        }
    }
    Ok(compute(&history, &record::load_all(worktree), &cx))
}

/// The report for these rows and records: the pure heart of `mainstay stats`.
pub fn compute(history: &[History], records: &[Record], cx: &Context) -> Report {
    let start = cx
        .now
        .checked_sub(cx.since)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let in_period = |at: SystemTime| at >= start && at <= cx.now;
    let table_counts = cx.branch == cx.deploy_branch;
    // The newest row per commit, as the monitor reads it.
    let mut newest: Vec<&Past> = Vec::new();
    let rows: Vec<&Past> = history
        .iter()
        .flat_map(|h| &h.rows)
        .filter(|r| table_counts && in_period(r.started_at))
        .collect();
    for row in &rows {
        match newest.iter_mut().find(|n| same_commit(&n.sha, &row.sha)) {
            Some(n) if n.started_at <= row.started_at => *n = row,
            Some(_) => {}
            None => newest.push(row),
        }
    }
    let records: Vec<(&Record, SystemTime)> = records
        .iter()
        .filter(|r| r.branch.as_deref().unwrap_or(&cx.deploy_branch) == cx.branch)
        .filter_map(|r| Some((r, crate::time::parse(&r.started_at)?)))
        .filter(|(_, at)| in_period(*at))
        .collect();

    let mut deployments = Vec::new();
    let mut joined = vec![false; newest.len()];
    for (record, started_at) in &records {
        let row = newest.iter().position(|n| same_commit(&n.sha, &record.sha));
        if let Some(i) = row {
            joined[i] = true;
        }
        let row = row.map(|i| newest[i]);
        if let Some(d) = from_record(record, *started_at, row, cx) {
            deployments.push(d);
        }
    }
    for (row, _) in newest.iter().zip(&joined).filter(|(_, joined)| !**joined) {
        deployments.push(from_row(row, row.started_at, cx));
    }
    deployments.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.sha.cmp(&b.sha)));

    let mut by_day: BTreeMap<String, Vec<&Deployment>> = BTreeMap::new();
    for d in &deployments {
        by_day
            .entry(crate::time::date(d.started_at))
            .or_default()
            .push(d);
    }
    let days = by_day
        .into_iter()
        .map(|(date, ds)| Day {
            date,
            figures: Figures::of(&ds),
        })
        .collect();
    let mut notes = Vec::new();
    if !cx.history_sources.is_empty() && !table_counts {
        notes.push(format!(
            "the history of {} has no branch column; its rows count for {} only",
            cx.history_sources.join(" and "),
            cx.deploy_branch
        ));
    }
    let all: Vec<&Deployment> = deployments.iter().collect();
    Report {
        branch: cx.branch.clone(),
        since: crate::time::rfc3339(start),
        until: crate::time::rfc3339(cx.now),
        period: period(cx.since),
        target: cx.target,
        sources: Origin {
            history: if table_counts {
                history
                    .iter()
                    .map(|h| HistoryRows {
                        source: h.source.clone(),
                        rows: h.rows.iter().filter(|r| in_period(r.started_at)).count(),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            local_runs: records.len(),
            notes,
        },
        total: Figures::of(&all),
        days,
        deployments,
    }
}

/// A deployment as its run record tells it; the row decides when the run has no verdict.
fn from_record(
    record: &Record,
    started_at: SystemTime,
    row: Option<&Past>,
    cx: &Context,
) -> Option<Deployment> {
    let Some(verdict) = record.verdict else {
        return match row {
            Some(row) => Some(from_row(row, started_at, cx)),
            // Ended without a verdict: nothing was configured to follow, no deployment to count.
            None if record.ended_at.is_some() => None,
            None => Some(Deployment {
                sha: record.sha.clone(),
                started_at,
                outcome: Outcome::Pending,
                verdict_after: None,
                ready_after: None,
                polls: None,
                alert_sent: false,
            }),
        };
    };
    let outcome = match verdict {
        Verdict::Success => Outcome::Success,
        Verdict::Timeout => Outcome::Timeout,
        Verdict::Superseded => Outcome::Superseded,
        Verdict::Failed => Outcome::Failed(record_cause(record.error.as_deref())),
    };
    let ended = record.ended_at.as_deref().and_then(crate::time::parse);
    Some(Deployment {
        sha: record.sha.clone(),
        started_at,
        outcome,
        verdict_after: ended.and_then(|e| e.duration_since(started_at).ok()),
        ready_after: record.ready_after_ms.map(Duration::from_millis),
        polls: Some(record.polls),
        alert_sent: record.alert_sent,
    })
}

/// A deployment as the table tells it.
fn from_row(row: &Past, started_at: SystemTime, cx: &Context) -> Deployment {
    let (outcome, ended) = match &row.status {
        PastStatus::Success => (Outcome::Success, true),
        PastStatus::Superseded => (Outcome::Superseded, true),
        PastStatus::Failed(word) => (
            Outcome::Failed(short(
                row.error_message
                    .clone()
                    .unwrap_or_else(|| format!("status {word}")),
            )),
            true,
        ),
        // Still pending after the monitor's whole budget: the monitor would call it a timeout.
        PastStatus::Pending(_)
            if cx.now.duration_since(row.started_at).unwrap_or_default() > cx.max_wait =>
        {
            (Outcome::Timeout, false)
        }
        PastStatus::Pending(_) => (Outcome::Pending, false),
    };
    Deployment {
        sha: row.sha.clone(),
        started_at,
        outcome,
        verdict_after: row.duration.filter(|_| ended),
        ready_after: None,
        polls: None,
        alert_sent: false,
    }
}

/// The cause of a failed run: its error, with the monitor's own prefixes as the whole cause.
fn record_cause(error: Option<&str>) -> String {
    let Some(error) = error.map(str::trim).filter(|e| !e.is_empty()) else {
        return "failed".to_owned();
    };
    for prefix in ["not ready", "no source can answer"] {
        if error.starts_with(prefix) {
            return prefix.to_owned();
        }
    }
    short(error.lines().next().unwrap_or(error).to_owned())
}

/// `30d`, `12h`, `90m`: a period in the largest unit that divides it, as `--since` spells it.
pub fn period(d: Duration) -> String {
    let ms = d.as_millis();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms > 0 && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// At most 60 characters on one line: causes are table rows and chart labels.
fn short(text: String) -> String {
    const MAX: usize = 60;
    let line = text.lines().next().unwrap_or_default().trim();
    if line.chars().count() <= MAX {
        line.to_owned()
    } else {
        let cut: String = line.chars().take(MAX - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    const DAY: u64 = 86_400;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn cx(now: u64) -> Context {
        Context {
            since: Duration::from_secs(30 * DAY),
            now: at(now),
            branch: "main".to_owned(),
            deploy_branch: "main".to_owned(),
            max_wait: Duration::from_secs(480),
            target: 0.95,
            history_sources: vec!["mysql".to_owned()],
        }
    }

    fn table(rows: &[Past]) -> Vec<History> {
        vec![History {
            source: "mysql".to_owned(),
            rows: rows.to_vec(),
        }]
    }

    fn row(sha: &str, status: PastStatus, started: u64, secs: Option<u64>) -> Past {
        Past {
            sha: sha.to_owned(),
            status,
            started_at: at(started),
            duration: secs.map(Duration::from_secs),
            error_message: None,
        }
    }

    fn record(sha: &str, verdict: Option<Verdict>, started: u64, ran: Option<u64>) -> Record {
        Record {
            sha: sha.to_owned(),
            started_at: crate::time::rfc3339(at(started)),
            ended_at: ran.map(|r| crate::time::rfc3339(at(started + r))),
            verdict,
            polls: 3,
            ..Record::default()
        }
    }

    #[test]
    fn spread_uses_middle_values_and_nearest_rank() {
        let secs = |v: &[u64]| v.iter().map(|&s| Duration::from_secs(s)).collect();
        assert_eq!(Spread::of(secs(&[])), Spread::default());
        let odd = Spread::of(secs(&[30, 10, 20]));
        assert_eq!((odd.median_ms, odd.p95_ms), (Some(20_000), Some(30_000)));
        let even = Spread::of(secs(&[40, 10, 20, 30]));
        assert_eq!((even.median_ms, even.p95_ms), (Some(25_000), Some(40_000)));
        let twenty = Spread::of((1..=20).map(Duration::from_secs).collect());
        assert_eq!(twenty.p95_ms, Some(19_000));
        let one = Spread::of(secs(&[7]));
        assert_eq!((one.median_ms, one.p95_ms), (Some(7_000), Some(7_000)));
    }

    #[test]
    fn the_run_record_wins_and_old_pending_rows_time_out() {
        let now = 100 * DAY;
        let sha = |c: char| c.to_string().repeat(40);
        let rows = [
            // The table says success; the monitor found it not ready.
            row(&sha('a'), PastStatus::Success, now - DAY, Some(100)),
            row(
                &sha('b'),
                PastStatus::Pending("building".into()),
                now - DAY,
                None,
            ),
            row(
                &sha('c'),
                PastStatus::Pending("building".into()),
                now - 60,
                None,
            ),
            // Two rows for one commit: the newer decides.
            row(
                &sha('d'),
                PastStatus::Failed("failed".into()),
                now - DAY,
                Some(5),
            ),
            row(
                &sha('d')[..7],
                PastStatus::Success,
                now - DAY + 600,
                Some(50),
            ),
            // Before the period.
            row(&sha('e'), PastStatus::Success, now - 31 * DAY, Some(1)),
        ];
        let mut failed = record(&sha('a'), Some(Verdict::Failed), now - DAY - 5, Some(200));
        failed.error = Some("not ready: /ready answered 503".into());
        failed.alert_sent = true;
        let unfollowed = record(&sha('f'), None, now - DAY, Some(0));
        let report = compute(&table(&rows), &[failed, unfollowed], &cx(now));
        let outcome = |c: char| {
            report
                .deployments
                .iter()
                .find(|d| same_commit(&d.sha, &sha(c)))
                .map(|d| d.outcome.clone())
        };
        assert_eq!(outcome('a'), Some(Outcome::Failed("not ready".into())));
        assert_eq!(outcome('b'), Some(Outcome::Timeout));
        assert_eq!(outcome('c'), Some(Outcome::Pending));
        assert_eq!(outcome('d'), Some(Outcome::Success));
        assert_eq!(outcome('e'), None);
        assert_eq!(outcome('f'), None);
        let total = &report.total;
        assert_eq!(
            (total.deployments, total.successes, total.failures),
            (4, 1, 2)
        );
        assert_eq!(total.success_rate, Some(1.0 / 3.0));
        assert_eq!(total.alerts_sent, 1);
        assert_eq!(total.push_to_verdict.count, 2, "a's run and d's newest row");
        assert_eq!(total.push_to_verdict.median_ms, Some(125_000));
        assert_eq!(
            report.sources.history,
            [HistoryRows {
                source: "mysql".to_owned(),
                rows: 5
            }]
        );
        assert_eq!(report.days.len(), 2);
    }

    #[test]
    fn other_branches_see_only_their_run_records() {
        let now = 100 * DAY;
        let rows = [row("1234567", PastStatus::Success, now - DAY, Some(10))];
        let mut release = record(&"9".repeat(40), Some(Verdict::Success), now - DAY, Some(20));
        release.branch = Some("release".into());
        let old = record(&"8".repeat(40), Some(Verdict::Success), now - DAY, Some(20));
        let mut cx = cx(now);
        cx.branch = "release".into();
        let report = compute(&table(&rows), &[release, old], &cx);
        assert_eq!(report.total.deployments, 1);
        assert!(report.sources.history.is_empty());
        assert_eq!(report.sources.notes.len(), 1, "{:?}", report.sources.notes);
    }

    #[test]
    fn causes_group_and_stay_short() {
        assert_eq!(record_cause(None), "failed");
        assert_eq!(record_cause(Some("not ready: 503 for 30s")), "not ready");
        assert_eq!(record_cause(Some("exit 1\nat step 4")), "exit 1");
        let long = "x".repeat(100);
        assert_eq!(record_cause(Some(&long)).chars().count(), 60);
    }

    #[test]
    fn target_must_be_a_fraction() {
        for ok in [0.5, 0.95, 1.0] {
            assert!(Settings { target: ok }.validate().is_ok(), "{ok}");
        }
        for bad in [0.0, -1.0, 95.0, f64::NAN] {
            let (key, _) = Settings { target: bad }.validate().expect_err("refused");
            assert_eq!(key, "stats.target");
        }
    }
}
