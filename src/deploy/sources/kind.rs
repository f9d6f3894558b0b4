//! What a source is, to everything that uses one: the [`Kind`] that parses its section, the
//! [`Configured`] source that opens and checks itself, the [`Source`] that is polled, and the
//! words they answer in ([`Observation`], [`Past`], [`Check`]).
//!
//! A source file implements these; the registry (`super`, with its list of kinds) and the monitor,
//! `status`, `stats` and `doctor` use them. This module imports nothing of the registry, the
//! settings or the sources, so every source file can depend on it without an import circle.

use std::fmt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::clock::Clock;
use crate::deploy::http::{self, Client};
use crate::deploy::secrets::{Secrets, Var};
use crate::deploy::settings::Settings;

/// What a source says about the deployment of one sha.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// The source knows nothing of this sha yet, in its words (`not listed yet`, `no row yet`,
    /// `app serves 3064e31da7e1`): right after a push a phase, from another clone no answer.
    Unseen(String),
    /// A deployment of this sha is under way; the phase in the source's words (`BUILDING`).
    Pending(String),
    /// This sha is deployed and serving; `details` (where it serves) go to the status log.
    Live { details: Vec<String> },
    /// A later commit that contains this one is deployed and serving: this one is live through
    /// it (a swarm pushed several in a row and the platform deployed the newest).
    LiveThrough {
        commit: String,
        details: Vec<String>,
    },
    /// The deployment failed; `details` (error message, log tail) go to the status log.
    Failed {
        reason: String,
        details: Vec<String>,
    },
    /// A newer deployment that does not contain this sha replaced it.
    Superseded { reason: String },
}

impl Observation {
    /// Live, with nothing more to say.
    pub fn live() -> Observation {
        Observation::Live {
            details: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Http(#[from] http::Error),
    /// An answer that is not what the documented format promises.
    #[error("{url}: unreadable answer: {message}")]
    Garbage { url: String, message: String },
    /// Asking again will not help (bad token, unknown app, missing settings).
    #[error("{0}")]
    Fatal(String),
    /// A problem that may pass (server busy, database down).
    #[error("{0}")]
    Transient(String),
}

impl Error {
    /// A fatal source is dropped from the run; the others go on.
    pub fn is_fatal(&self) -> bool {
        matches!(self, Error::Fatal(_))
    }
}

/// What a source may use while polling besides its own state.
pub struct PollContext<'a> {
    pub clock: &'a dyn Clock,
    /// True when commit `ancestor` is contained in commit `descendant` (git ancestry).
    pub contains: &'a dyn Fn(&str, &str) -> bool,
    /// One request per question, no retries and no waiting: `mainstay status` asking from a
    /// clone where no monitor ran, bounded by `request_timeout` per request.
    pub once: bool,
}

/// Which past deployments [`Source::past`] is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// The recent ones, for the schedule's history (the source decides how many; 20 or so).
    Recent,
    /// Every one started at or after this time, for `mainstay stats` (within the source's limits).
    Since(SystemTime),
}

/// A past deployment as a source remembers it.
#[derive(Debug, Clone, PartialEq)]
pub struct Past {
    /// The commit, lowercased (full or short, as the source spells it).
    pub sha: String,
    pub status: PastStatus,
    pub started_at: SystemTime,
    /// How long it took, when it ended well and the source says.
    pub duration: Option<Duration>,
    /// The first line of its error, when it failed and the source says.
    pub error_message: Option<String>,
}

/// How a past deployment ended, as its source tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PastStatus {
    Success,
    /// Failed; the source's word for it (`failed`, `ERROR`, `failure`).
    Failed(String),
    Superseded,
    /// Not ended; the source's word for where it is.
    Pending(String),
}

impl Past {
    /// The durations of the successful ones, for the schedule.
    pub fn durations(past: &[Past]) -> Vec<Duration> {
        past.iter()
            .filter(|p| p.status == PastStatus::Success)
            .filter_map(|p| p.duration.filter(|d| !d.is_zero()))
            .collect()
    }
}

/// A source being polled.
pub trait Source: Send {
    /// Its kind's name, for log lines and records: `app`, `mysql`, `digitalocean`, `github`.
    fn name(&self) -> &'static str;

    /// Asks once about `sha`.
    fn poll(&mut self, sha: &str, cx: &PollContext<'_>) -> Result<Observation, Error>;

    /// Past deployments, newest first; none from a source that keeps no history (the app).
    fn past(&mut self, _span: Span, _cx: &PollContext<'_>) -> Result<Vec<Past>, Error> {
        Ok(Vec::new())
    }

    /// A note for the log about how it is set up (TLS turned off), said once when it opens.
    fn warning(&self) -> Option<String> {
        None
    }
}

/// `(key under the section, message)`: why a section is refused.
pub type Invalid = (String, String);

/// A kind of source, as the registry (`sources::KINDS`) lists it.
pub trait Kind: Sync {
    /// Its section, `[deploy.<name>]`, and its name in logs, records and `doctor`.
    fn name(&self) -> &'static str;

    /// The environment variables it reads; the secret ones are scrubbed from every message.
    fn vars(&self) -> &'static [Var] {
        &[]
    }

    /// True when the environment alone makes it a source, with its section's defaults (as
    /// `MAINSTAY_DB_URL` does the table).
    fn implied(&self, _secrets: &Secrets) -> bool {
        false
    }

    /// Parses and validates its section (a TOML table; empty when only implied).
    fn configure(&self, section: &toml::Value) -> Result<Box<dyn Configured>, Invalid>;

    /// `doctor`'s lines when it is not configured.
    fn absent(&self) -> Vec<Check> {
        vec![Check::skipped(
            self.name(),
            format!("no [deploy.{}]", self.name()),
        )]
    }

    /// Its part of the starter `.mainstay.toml` that `mainstay init` writes for this clone:
    /// nothing, by default.
    fn starter(&self, _clone: &StarterContext<'_>) -> Starter {
        Starter::default()
    }
}

/// What `mainstay init` shows each kind of the clone.
pub struct StarterContext<'a> {
    /// The top of the work tree, for files that are signs of a platform (`.do/app.yaml`).
    pub worktree: &'a Path,
    /// The deploy remote's URL, when it has one.
    pub remote_url: Option<&'a str>,
    /// Every remote's URL (a Heroku app is a remote on `git.heroku.com`).
    pub remotes: &'a [String],
    /// The platform commands `package.json`'s deploy scripts run (`vercel`, `netlify`).
    pub scripts: &'a [&'static str],
}

/// The JSON file at `path` under the work tree, within a size limit (committed or written by a
/// platform's CLI: untrusted either way).
pub fn json_file(worktree: &Path, path: &str) -> Option<serde_json::Value> {
    let text = crate::file::read_text(&worktree.join(path), crate::file::SMALL).ok()??;
    serde_json::from_str(&text).ok()
}

/// The string at `pointer` in the JSON file at `path`, when it is a plain id ([`plain_id`]).
pub fn json_field(worktree: &Path, path: &str, pointer: &str) -> Option<String> {
    let json = json_file(worktree, path)?;
    let value = json.pointer(pointer)?.as_str()?;
    plain_id(value).then(|| value.to_owned())
}

/// 1 to 100 letters, digits, `-`, `_` or `.`, not starting with `.` or `-`: what a platform's
/// ids and names are, and all that is ever copied from a file into a starter or a URL.
pub fn plain_id(text: &str) -> bool {
    (1..=100).contains(&text.len())
        && !text.starts_with(['.', '-'])
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// A kind's part of the starter `.mainstay.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Starter {
    /// The signs of it the clone shows, a line each (`the deploy remote is on GitHub: acme/web`).
    pub found: Vec<String>,
    /// Its section as comments, ending in a newline, to uncomment; `None` when nothing here
    /// suggests it.
    pub snippet: Option<String>,
    /// What to do before it works, beside uncommenting it (`export GITHUB_TOKEN ...`).
    pub next: Option<String>,
}

/// What opening a source and checking it may use.
pub struct Setup<'a> {
    pub secrets: &'a Secrets,
    /// Sends tokens only where [`Client::may_send`] allows; each request within `timeout`.
    pub client: Client,
    pub timeout: Duration,
    /// The work tree, for what a source reads from git (the deploy remote's URL).
    pub worktree: &'a Path,
    /// `[deploy] remote`.
    pub remote: &'a str,
    /// `[deploy] branch`.
    pub branch: &'a str,
}

impl<'a> Setup<'a> {
    /// The setup for sources in `worktree` that deploy `deploy`'s branch from its remote,
    /// requests bounded by `timeout`.
    pub fn new(
        deploy: &'a Settings,
        secrets: &'a Secrets,
        worktree: &'a Path,
        timeout: Duration,
    ) -> Setup<'a> {
        Setup {
            secrets,
            client: secrets.client(timeout),
            timeout,
            worktree,
            remote: &deploy.remote,
            branch: &deploy.branch,
        }
    }
}

/// A source's validated section.
pub trait Configured: Send + Sync + fmt::Debug {
    /// Its kind's name.
    fn name(&self) -> &'static str;

    /// The source, ready to poll; an error naming the fix when it cannot work (no token, an
    /// address its token may not go to).
    fn open(&self, setup: &Setup<'_>) -> Result<Box<dyn Source>, Error>;

    /// `doctor`'s checks of it: one request each, no retries.
    fn doctor(&self, setup: &Setup<'_>) -> Vec<Check>;

    /// True when its source remembers past deployments ([`Source::past`]), which every machine
    /// then shares: `stats` reads those.
    fn keeps_history(&self) -> bool {
        false
    }

    /// The readiness check it asks for after a live answer: URL and budget.
    fn readiness(&self) -> Option<(&str, Duration)> {
        None
    }
}

/// Parses a section into its settings type, the error keyed by where in the section it is.
pub fn section<T: serde::de::DeserializeOwned>(value: &toml::Value) -> Result<T, Invalid> {
    serde_path_to_error::deserialize(value.clone()).map_err(|e| {
        let path = e.path().to_string();
        let key = if path == "." { String::new() } else { path };
        let message = e.inner().message().split_whitespace().collect::<Vec<_>>();
        (key, message.join(" "))
    })
}

/// True when a reported commit names `sha` (apps and tables may report the short form).
pub fn same_commit(reported: &str, sha: &str) -> bool {
    let reported = reported.trim().to_ascii_lowercase();
    let sha = sha.to_ascii_lowercase();
    reported.len() >= 7 && (sha.starts_with(&reported) || reported.starts_with(&sha))
}

/// One `mainstay doctor` line: what a check found, and for a problem the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Something will not work.
    Problem {
        fix: String,
    },
    /// Something is not set up (no webhook, no source): all that is there works.
    Warning {
        fix: String,
    },
    /// Nothing is configured for this check to look at.
    Skipped,
}

impl Check {
    pub fn ok(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Ok,
            detail: detail.into(),
        }
    }

    pub fn problem(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Problem { fix: fix.into() },
            detail: detail.into(),
        }
    }

    pub fn warning(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Warning { fix: fix.into() },
            detail: detail.into(),
        }
    }

    pub fn skipped(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Skipped,
            detail: detail.into(),
        }
    }
}
