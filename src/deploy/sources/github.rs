//! GitHub: the deployments a platform reports to the repository (Vercel, Netlify, Render,
//! Railway, Heroku, GitHub Actions environments), or, with `contexts`, the commit statuses and
//! check runs it posts instead.
//!
//! Deployments: `GET /repos/{owner}/{repo}/deployments?sha=…` (newest first) finds this commit's
//! deployment in the configured environment, matched here regardless of case (GitHub's own
//! `environment=` filter is case-sensitive), and keeps looking while none is listed; a short sha,
//! which GitHub's filter does not take, is matched by prefix among the newest deployments. Its
//! statuses (`…/deployments/{id}/statuses`, newest first) decide. `queued`,
//! `pending` and `in_progress` are phases; `success` is live; `failure` and `error` are failed,
//! with the status's description and log URL, except a cancellation (`error` "Canceled…", a
//! newer push replaced the build). `inactive` is superseded, except for a skipped duplicate
//! build: GitHub itself marks a deployment inactive only when a newer one in its environment
//! succeeds, and only if it had succeeded, so an `inactive` on a deployment that never succeeded
//! was posted by the platform, which skipped the build (Vercel's "Skipped – Not affected"): the
//! environment still serves an earlier deployment of the same content, and that is live. A
//! commit with no deployment of its own, or whose own was cancelled, replaced or skipped before
//! a newer one came, is live through a newer deployment of the environment that contains it
//! ([`super::newer`]); else superseded by the newer one.
//!
//! Every request after the first to a URL is conditional (`if-none-match` with the last `etag`):
//! GitHub answers `304 Not Modified` without counting it against the rate limit, and the cached
//! answer is read again. `x-ratelimit-remaining: 0` holds every request until
//! `x-ratelimit-reset`; a 403 or 429 that is a rate limit waits `retry-after` (else until the
//! reset, else a minute, doubling); 5xx is retried with a growing pause; 401, 403 and 404 end
//! the source with what to fix.
//!
//! The schedule's history reads the environment's newest deployments and their statuses; an
//! ended deployment does not change, so what was read of it is remembered between runs
//! ([`Memory`], `history-github.json` in the git common dir) and not asked again.
//!
//! The token (`GITHUB_TOKEN`, else `GH_TOKEN`) goes as `Authorization: Bearer`, only where
//! [`Client::may_send`] allows: `api.github.com` over https, or a host in `MAINSTAY_API_HOSTS`
//! (GitHub Enterprise Server).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::kind::{
    Check, Configured, Error, Invalid, Kind, Observation, Past, PastStatus, PollContext, Setup,
    Source, Span, Starter, StarterContext, same_commit,
};
use super::newer::{Deploys, Listed, Newer, State};
use crate::deploy::http::{self, Bearer, Client};
use crate::deploy::secrets::{Secrets, Var};

/// `[deploy.github]`.
pub const KIND: GitHubKind = GitHubKind;

pub struct GitHubKind;

/// Where the token is read from, in this order.
pub const TOKEN_VARS: &[&str] = &["GITHUB_TOKEN", "GH_TOKEN"];

/// The API's own host: the one place the token goes without `MAINSTAY_API_HOSTS`.
const HOME: &str = "api.github.com";

/// The REST API version asked for, so answers keep the shapes this file reads.
const API_VERSION: &str = "2022-11-28";

/// Deployments whose statuses the schedule's history reads: one request each, the first time.
const HISTORY_DEPLOYMENTS: usize = 10;

/// Pages of a hundred deployments read at most where the answer may be past the first.
const PAGES: usize = 5;

/// Deployments asked for when looking for this commit's own.
const LISTED: u32 = 100;

/// The environment's newest deployments asked for when looking for a newer one containing it.
const NEWER_LISTED: u32 = 20;

/// Past deployments remembered between runs, the newest by id: many runs' history, a small file.
const REMEMBERED: usize = 200;

impl Kind for GitHubKind {
    fn name(&self) -> &'static str {
        "github"
    }

    fn vars(&self) -> &'static [Var] {
        const VARS: &[Var] = &[Var::secret("GITHUB_TOKEN"), Var::secret("GH_TOKEN")];
        VARS
    }

    fn configure(&self, section: &toml::Value) -> Result<Box<dyn Configured>, Invalid> {
        let settings: Settings = super::kind::section(section)?;
        settings.validate()?;
        Ok(Box::new(settings))
    }

    /// Offered where the deploy remote is on github.com.
    fn starter(&self, clone: &StarterContext<'_>) -> Starter {
        let Some(repo) = clone
            .remote_url
            .filter(|url| on_github(url))
            .and_then(repo_from_url)
        else {
            return Starter::default();
        };
        Starter {
            found: vec![format!("the deploy remote is on GitHub: {repo}")],
            snippet: Some(format!(
                "# Deployments GitHub hears of (GitHub Actions environments, Railway, ...); the \
                 token is\n\
                 # GITHUB_TOKEN in the environment, never here. Netlify, Render, Vercel and \
                 Heroku have\n\
                 # sections of their own (docs/monitor.md).\n\
                 # [deploy.github]\n\
                 # repo = \"{repo}\"\n\
                 # environment = \"production\"   # the name your workflow's `environment:` gives\n"
            )),
            next: Some("export GITHUB_TOKEN (read access to deployments)".to_owned()),
        }
    }
}

/// True when a remote URL's host is github.com (https, ssh, or scp-like `git@github.com:`).
fn on_github(url: &str) -> bool {
    let url = url.trim();
    let authority = match url.split_once("://") {
        Some((_, rest)) => &rest[..rest.find('/').unwrap_or(rest.len())],
        None => url.split_once(':').map_or("", |(host, _)| host),
    };
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = host.split_once(':').map_or(host, |(host, _)| host);
    host.eq_ignore_ascii_case("github.com")
}

/// `[deploy.github]` in `.mainstay.toml`. The token is `GITHUB_TOKEN` (or `GH_TOKEN`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `owner/name`; by default read from the deploy remote's URL.
    pub repo: Option<String>,
    /// The deployment environment to follow: its name, or a glob (`*`, `?`); either matched
    /// regardless of case. Needed unless `contexts` is set.
    pub environment: Option<String>,
    /// The API's base URL: GitHub Enterprise Server (`https://ghe.example/api/v3`) and tests.
    #[serde(default = "default_base")]
    pub api_base: String,
    /// Commit-status contexts or check-run names to follow instead of deployments (names or
    /// globs): for platforms that post only those. All of them must pass.
    #[serde(default)]
    pub contexts: Vec<String>,
}

fn default_base() -> String {
    format!("https://{HOME}")
}

impl Settings {
    fn validate(&self) -> Result<(), Invalid> {
        let invalid = |key: &str, message: &str| Err((key.to_owned(), message.to_owned()));
        if let Some(repo) = &self.repo
            && parse_repo(repo).is_none()
        {
            return invalid("repo", "must be owner/name, e.g. \"acme/web\"");
        }
        match &self.environment {
            Some(environment) if environment.trim().is_empty() => {
                return invalid("environment", "must be the deployment environment's name");
            }
            None if self.contexts.is_empty() => {
                return invalid(
                    "environment",
                    "is needed: the deployment environment to follow, e.g. \"Production\" (or \
                     set contexts to follow commit statuses or check runs)",
                );
            }
            _ => {}
        }
        if self.contexts.iter().any(|c| c.trim().is_empty()) {
            return invalid(
                "contexts",
                "each one must be a status context or check name",
            );
        }
        if self.api_base.trim().is_empty() {
            return invalid("api_base", "must be a URL");
        }
        Ok(())
    }
}

/// `owner/name` as its two parts; `None` unless both are plain GitHub names.
fn parse_repo(text: &str) -> Option<(&str, &str)> {
    let (owner, name) = text.trim().split_once('/')?;
    let plain = |part: &str| {
        !part.is_empty()
            && part != "."
            && part != ".."
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    (plain(owner) && plain(name)).then_some((owner, name))
}

/// `owner/name` from a remote URL (`git@github.com:acme/web.git`, `https://github.com/acme/web`,
/// `ssh://git@ghe.example/acme/web.git`); `None` for a local path or anything else.
fn repo_from_url(url: &str) -> Option<String> {
    let url = url.trim().trim_end_matches('/');
    let path = if let Some((_, rest)) = url.split_once("://") {
        let slash = rest.find('/')?;
        &rest[slash + 1..]
    } else {
        // scp-like `user@host:path`; a path with a colon before any slash.
        let colon = url.find(':')?;
        if url[..colon].contains('/') {
            return None;
        }
        &url[colon + 1..]
    };
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let mut parts = path.rsplit('/');
    let name = parts.next()?;
    let owner = parts.next()?;
    let repo = format!("{owner}/{name}");
    parse_repo(&repo).is_some().then_some(repo)
}

/// The deploy remote's URL, as git rewrites it (`url.<base>.insteadOf`).
fn remote_url(worktree: &Path, remote: &str) -> Option<String> {
    if remote.contains("://") {
        return Some(remote.to_owned());
    }
    if remote.starts_with('-') {
        return None;
    }
    let output = crate::git::Git::new(worktree)
        .output(["remote", "get-url", remote])
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// A query parameter's value, percent-encoded (environment names hold spaces and en dashes).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A name or glob, matched regardless of case (`*` any run, `?` one character).
#[derive(Debug, Clone)]
struct Pattern(String);

impl Pattern {
    fn matches(&self, name: &str) -> bool {
        crate::policy::glob_match(&self.0.to_lowercase(), &name.to_lowercase())
    }

    /// The name itself when it is no glob, for the API to filter on.
    fn exact(&self) -> Option<&str> {
        (!self.0.contains(['*', '?'])).then_some(self.0.as_str())
    }
}

#[derive(Debug, Clone, Deserialize)]
struct Deployment {
    id: u64,
    #[serde(default)]
    sha: String,
    #[serde(default)]
    environment: String,
    #[serde(default)]
    created_at: String,
}

#[derive(Debug, Clone, Deserialize)]
struct DeploymentStatus {
    state: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    environment_url: Option<String>,
    #[serde(default)]
    log_url: Option<String>,
    #[serde(default)]
    target_url: Option<String>,
    #[serde(default)]
    created_at: String,
}

#[derive(Debug, Deserialize)]
struct Combined {
    #[serde(default)]
    statuses: Vec<CommitStatus>,
}

#[derive(Debug, Deserialize)]
struct CommitStatus {
    context: String,
    state: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    target_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CheckRuns {
    #[serde(default)]
    check_runs: Vec<CheckRun>,
}

#[derive(Debug, Deserialize)]
struct CheckRun {
    name: String,
    status: String,
    #[serde(default)]
    conclusion: Option<String>,
    #[serde(default)]
    details_url: Option<String>,
    #[serde(default)]
    html_url: Option<String>,
    #[serde(default)]
    output: Option<CheckOutput>,
}

#[derive(Debug, Default, Deserialize)]
struct CheckOutput {
    #[serde(default)]
    title: Option<String>,
}

/// A URL fit for the log: without credentials or query.
fn shown_url(url: &Option<String>) -> Option<String> {
    url.as_deref()
        .filter(|u| !u.trim().is_empty())
        .map(http::redact)
}

/// Non-empty text, trimmed.
fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// What a deployment's statuses say, before anything else is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reading {
    /// `queued`, `pending`, `in_progress`, or no status yet.
    Phase(String),
    Live {
        details: Vec<String>,
    },
    Failed {
        reason: String,
        details: Vec<String>,
    },
    /// `inactive` after a success: a newer deployment replaced it.
    Replaced,
    /// `inactive` without a success before it: the platform skipped a duplicate build.
    Skipped {
        details: Vec<String>,
    },
}

/// Reads a deployment's statuses (newest first).
fn read_statuses(id: u64, statuses: &[DeploymentStatus]) -> Reading {
    let Some(latest) = statuses.first() else {
        return Reading::Phase("pending".to_owned());
    };
    let url_lines = |status: &DeploymentStatus| {
        let mut lines = Vec::new();
        if let Some(url) = shown_url(&status.environment_url) {
            lines.push(format!("environment_url: {url}"));
        }
        let log = shown_url(&status.log_url).or_else(|| shown_url(&status.target_url));
        if let Some(url) = log {
            lines.push(format!("log: {url}"));
        }
        lines
    };
    match latest.state.as_str() {
        "success" => Reading::Live {
            details: shown_url(&latest.environment_url)
                .map(|url| vec![format!("environment_url: {url}")])
                .unwrap_or_default(),
        },
        "failure" | "error" => {
            let reason = match text(&latest.description) {
                Some(description) => description.to_owned(),
                None => format!("deployment {id} ended in {}", latest.state),
            };
            let mut details = vec![format!(
                "deployment {id}: {}: {}",
                latest.state,
                text(&latest.description).unwrap_or("(no description)")
            )];
            details.extend(url_lines(latest));
            Reading::Failed { reason, details }
        }
        "inactive" if statuses[1..].iter().any(|s| s.state == "success") => Reading::Replaced,
        "inactive" => {
            let mut details = vec![format!(
                "deployment {id} was skipped: {}",
                text(&latest.description).unwrap_or("inactive without a build")
            )];
            details.extend(url_lines(latest));
            Reading::Skipped { details }
        }
        other => Reading::Phase(other.to_owned()),
    }
}

/// This deployment as a past one: created to its first success.
fn past_of(deployment: &Deployment, statuses: &[DeploymentStatus]) -> Option<Past> {
    let started_at = crate::time::parse(&deployment.created_at)?;
    let first_success = statuses.iter().rev().find(|s| s.state == "success");
    let (status, duration, error_message) = match (first_success, read_statuses(0, statuses)) {
        (Some(success), _) => {
            let ended = crate::time::parse(&success.created_at);
            let duration = ended.and_then(|e| e.duration_since(started_at).ok());
            (PastStatus::Success, duration, None)
        }
        (None, Reading::Failed { .. }) => {
            let latest = &statuses[0];
            let message = text(&latest.description).map(str::to_owned);
            (PastStatus::Failed(latest.state.clone()), None, message)
        }
        (None, Reading::Skipped { .. }) => (PastStatus::Success, None, None),
        (None, Reading::Phase(phase)) => (PastStatus::Pending(phase), None, None),
        (None, Reading::Live { .. } | Reading::Replaced) => (PastStatus::Superseded, None, None),
    };
    Some(Past {
        sha: deployment.sha.trim().to_ascii_lowercase(),
        status,
        started_at,
        duration,
        error_message,
    })
}

/// The API: the token, conditional requests and the rate limit.
struct Api {
    client: Client,
    token: String,
    /// Which variable the token came from, for messages.
    token_var: &'static str,
    base: String,
    repo: String,
    /// The last `etag`, answer and next page per URL, for conditional requests.
    cache: HashMap<String, (String, String, Option<String>)>,
    /// The last answer's next page (`Link: <…>; rel="next"`).
    next: Option<String>,
    /// No request before this time (on the clock), and why.
    held: Option<(Duration, String)>,
    /// Secondary rate limits met in a row without `retry-after`: each waits twice as long.
    secondary: u32,
}

impl Api {
    fn url(&self, rest: &str) -> String {
        format!(
            "{}/repos/{}{rest}",
            self.base.trim_end_matches('/'),
            self.repo
        )
    }

    fn hold(&mut self, cx: &PollContext<'_>, wait: Duration, why: &str) -> String {
        let until = cx.clock.wall() + wait;
        let message = format!(
            "github: {why}; no request until {}",
            crate::time::rfc3339(until)
        );
        self.held = Some((cx.clock.elapsed() + wait, message.clone()));
        message
    }

    /// One GET of `rest` under the repository, conditional when it was asked before; retried
    /// (unless asked once) on 5xx and lost connections.
    fn get(&mut self, rest: &str, cx: &PollContext<'_>) -> Result<String, Error> {
        if let Some((until, why)) = &self.held {
            if cx.clock.elapsed() < *until {
                return Err(Error::Transient(why.clone()));
            }
            self.held = None;
        }
        // A `Link` header's next page is absolute, on the same API (checked by the caller).
        let url = if rest.contains("://") {
            rest.to_owned()
        } else {
            self.url(rest)
        };
        let shown = http::redact(&url);
        let attempts = if cx.once { 1 } else { 3 };
        let mut last = String::new();
        for attempt in 0..attempts {
            let pause = Duration::from_millis(250) * 2u32.pow(attempt);
            let etag = self.cache.get(&url).map(|(etag, _, _)| etag.clone());
            let mut headers = vec![
                ("accept", "application/vnd.github+json"),
                ("x-github-api-version", API_VERSION),
            ];
            if let Some(etag) = &etag {
                headers.push(("if-none-match", etag.as_str()));
            }
            let bearer = Bearer {
                token: &self.token,
                home: HOME,
            };
            let response = match self.client.get_with(&url, Some(bearer), &headers) {
                Ok(response) => response,
                Err(e @ (http::Error::Timeout { .. } | http::Error::Refused { .. })) => {
                    last = e.to_string();
                    if attempt + 1 < attempts {
                        cx.clock.sleep(pause);
                    }
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let now = cx
                .clock
                .wall()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            let until_reset = response
                .ratelimit_reset
                .map(|reset| Duration::from_secs(reset).saturating_sub(now))
                .unwrap_or(Duration::from_secs(60))
                .max(Duration::from_secs(1));
            let spent = response.ratelimit_remaining == Some(0);
            let status = response.status;
            let rate_limited = matches!(status, 403 | 429)
                && (response.retry_after.is_some()
                    || spent
                    || response.body.to_ascii_lowercase().contains("rate limit"));
            if rate_limited {
                let wait = match response.retry_after {
                    Some(wait) => wait,
                    None if spent => until_reset,
                    None => {
                        self.secondary += 1;
                        Duration::from_secs(60) * 2u32.pow(self.secondary.min(4) - 1)
                    }
                };
                let why = format!("{shown}: HTTP {status}: rate limited");
                return Err(Error::Transient(self.hold(cx, wait, &why)));
            }
            self.secondary = 0;
            if spent && (200..400).contains(&status) {
                // The last request the hour allows: the answer stands, the next one waits.
                self.hold(
                    cx,
                    until_reset,
                    "rate limit reached (x-ratelimit-remaining: 0)",
                );
            }
            match status {
                200 => {
                    self.next = response.next_link();
                    if let Some(etag) = response.etag {
                        let kept = (etag, response.body.clone(), self.next.clone());
                        self.cache.insert(url, kept);
                    }
                    return Ok(response.body);
                }
                304 => match self.cache.get(&url) {
                    Some((_, body, next)) => {
                        self.next = next.clone();
                        return Ok(body.clone());
                    }
                    None => {
                        return Err(Error::Transient(format!(
                            "github: {shown}: HTTP 304 to a request that was not conditional"
                        )));
                    }
                },
                401 => {
                    return Err(Error::Fatal(format!(
                        "github: {shown}: HTTP 401: {} is refused (wrong or expired); export a \
                         valid token",
                        self.token_var
                    )));
                }
                403 => {
                    return Err(Error::Fatal(format!(
                        "github: {shown}: HTTP 403: {} may not read this (it needs read access \
                         to deployments, or to commit statuses and checks for contexts)",
                        self.token_var
                    )));
                }
                404 => {
                    return Err(Error::Fatal(format!(
                        "github: {shown}: HTTP 404: not found; check repo in [deploy.github] \
                         (a private repository the token cannot read answers 404 too)"
                    )));
                }
                500..=599 => {
                    last = format!("HTTP {status}");
                    if attempt + 1 < attempts {
                        cx.clock.sleep(pause);
                    }
                }
                other => {
                    return Err(Error::Transient(format!("github: {shown}: HTTP {other}")));
                }
            }
        }
        Err(Error::Transient(format!(
            "github: {shown}: {last}, giving up for this poll"
        )))
    }

    /// GET and parse.
    fn json<T: serde::de::DeserializeOwned>(
        &mut self,
        rest: &str,
        cx: &PollContext<'_>,
    ) -> Result<T, Error> {
        let body = self.get(rest, cx)?;
        serde_json::from_str(&body).map_err(|e| Error::Garbage {
            url: http::redact(&self.url(rest)),
            message: e.to_string(),
        })
    }

    /// Deployments, newest first: of `sha` when given, in `environment` when it is a name.
    fn deployments(
        &mut self,
        sha: Option<&str>,
        environment: Option<&str>,
        per_page: u32,
        cx: &PollContext<'_>,
    ) -> Result<Vec<Deployment>, Error> {
        let mut query = format!("/deployments?per_page={per_page}");
        if let Some(sha) = sha {
            query.push_str(&format!("&sha={sha}"));
        }
        if let Some(environment) = environment {
            query.push_str(&format!("&environment={}", encode(environment)));
        }
        self.json(&query, cx)
    }

    /// [`Api::deployments`], following `Link` for at most [`PAGES`] pages: where the answer may
    /// be past the newest hundred (a busy repository's previews).
    fn deployments_paged(
        &mut self,
        sha: Option<&str>,
        environment: Option<&str>,
        cx: &PollContext<'_>,
    ) -> Result<Vec<Deployment>, Error> {
        let mut listed = self.deployments(sha, environment, 100, cx)?;
        let base = self.url("/");
        for _ in 1..PAGES {
            let Some(next) = self.next.take().filter(|n| n.starts_with(&base)) else {
                break;
            };
            let page: Vec<Deployment> = self.json(&next, cx)?;
            listed.extend(page);
        }
        Ok(listed)
    }

    fn statuses(&mut self, id: u64, cx: &PollContext<'_>) -> Result<Vec<DeploymentStatus>, Error> {
        self.json(&format!("/deployments/{id}/statuses?per_page=100"), cx)
    }
}

/// What the source follows.
#[derive(Debug, Clone)]
enum Target {
    Deployments(Pattern),
    Contexts(Vec<Pattern>),
}

pub struct GitHub {
    api: Api,
    target: Target,
    /// This commit's own deployment, once found.
    own: Option<Deployment>,
    /// Live via a newer deployment; none for `doctor`, which follows nothing.
    newer: Option<Newer>,
    /// The environment's listing the history read, so the first poll may find the deployment
    /// in it without a request.
    prefetched: Option<Vec<Deployment>>,
    /// Whether a context was last seen among commit statuses (true) or check runs (false), so
    /// each poll asks only the endpoint that has it.
    seen_in: HashMap<String, bool>,
    /// Why the history's listing failed for good: the first poll's answer, so a refused token
    /// costs one request, not two.
    refused: Option<Error>,
    /// Statuses the history read, by deployment id: the first poll's answer for the one it
    /// follows, so reading the history costs that poll nothing.
    statuses_read: HashMap<u64, Vec<DeploymentStatus>>,
    /// Ended deployments remembered between runs; none for `doctor`, which reads no history.
    memory: Option<Memory>,
}

/// Past deployments that ended, kept between runs in `history-github.json` in the git common
/// dir ([`crate::state::history_cache`]): an ended deployment does not change, so its statuses
/// are read once, and the schedule's history costs a run one request, the listing. Also the
/// platform's spelling of an environment the setting spells otherwise (GitHub's `environment=`
/// filter is case-sensitive). The file is JSON,
/// `{"deployments":[{"repo":"https://api.github.com/repos/acme/web","id":7,"sha":"…",
/// "status":"success","started_at":"…","duration_ms":200000,"error":null}],
/// "environments":[{"repo":"…","setting":"production","name":"Production"}]}`, `status` being
/// `success`, `superseded` or `failed:<GitHub's word>`; errors are stored without secrets. It
/// is a cache: anything unreadable counts as empty, a run that cannot write it asks again next
/// time, and two runs writing at once keep the last one's.
struct Memory {
    worktree: PathBuf,
    /// The API and repository its entries are of (`https://api.github.com/repos/acme/web`).
    repo: String,
    secrets: Secrets,
    /// The file and what it holds, once read.
    loaded: Option<(Option<PathBuf>, Remembered)>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Remembered {
    deployments: Vec<RememberedDeployment>,
    environments: Vec<Spelling>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RememberedDeployment {
    repo: String,
    id: u64,
    sha: String,
    status: String,
    started_at: String,
    duration_ms: Option<u64>,
    error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Spelling {
    repo: String,
    setting: String,
    name: String,
}

impl Memory {
    fn new(worktree: &Path, repo: String, secrets: &Secrets) -> Memory {
        Memory {
            worktree: worktree.to_owned(),
            repo,
            secrets: secrets.clone(),
            loaded: None,
        }
    }

    fn file(&mut self) -> &mut Remembered {
        let (_, remembered) = self.loaded.get_or_insert_with(|| {
            let path = crate::git::Git::new(&self.worktree)
                .paths()
                .ok()
                .map(|paths| crate::state::history_cache(&paths.common_dir, KIND.name()));
            let remembered = path
                .as_deref()
                .and_then(|path| crate::file::read_text(path, crate::file::SMALL).ok())
                .flatten()
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or_default();
            (path, remembered)
        });
        remembered
    }

    /// The deployment `id` as remembered.
    fn past(&mut self, id: u64) -> Option<Past> {
        let repo = self.repo.clone();
        let kept = self
            .file()
            .deployments
            .iter()
            .find(|d| d.id == id && d.repo == repo)?
            .clone();
        let status = match kept.status.as_str() {
            "success" => PastStatus::Success,
            "superseded" => PastStatus::Superseded,
            other => PastStatus::Failed(other.strip_prefix("failed:")?.to_owned()),
        };
        Some(Past {
            sha: kept.sha,
            status,
            started_at: crate::time::parse(&kept.started_at)?,
            duration: kept.duration_ms.map(Duration::from_millis),
            error_message: kept.error,
        })
    }

    /// Remembers `past` when it has ended; true when it was not known.
    fn keep(&mut self, id: u64, past: &Past) -> bool {
        let status = match &past.status {
            PastStatus::Success => "success".to_owned(),
            PastStatus::Superseded => "superseded".to_owned(),
            PastStatus::Failed(word) => format!("failed:{word}"),
            PastStatus::Pending(_) => return false,
        };
        let error = past.error_message.as_deref().map(|e| self.secrets.scrub(e));
        let repo = self.repo.clone();
        let file = self.file();
        if file
            .deployments
            .iter()
            .any(|d| d.id == id && d.repo == repo)
        {
            return false;
        }
        file.deployments.push(RememberedDeployment {
            repo,
            id,
            sha: past.sha.clone(),
            status,
            started_at: crate::time::rfc3339(past.started_at),
            duration_ms: past.duration.map(|d| d.as_millis() as u64),
            error,
        });
        true
    }

    /// The platform's name of the environment `setting` names, when one was seen.
    fn spelling(&mut self, setting: &str) -> Option<String> {
        let repo = self.repo.clone();
        self.file()
            .environments
            .iter()
            .find(|s| s.repo == repo && s.setting == setting)
            .map(|s| s.name.clone())
    }

    fn spell(&mut self, setting: &str, name: &str) {
        let repo = self.repo.clone();
        let environments = &mut self.file().environments;
        environments.retain(|s| !(s.repo == repo && s.setting == setting));
        environments.push(Spelling {
            repo,
            setting: setting.to_owned(),
            name: name.to_owned(),
        });
    }

    /// Writes the file: the newest deployments by id, atomically.
    fn save(&mut self) {
        self.file();
        let Some((Some(path), remembered)) = &mut self.loaded else {
            return;
        };
        remembered
            .deployments
            .sort_by_key(|d| std::cmp::Reverse(d.id));
        remembered.deployments.truncate(REMEMBERED);
        remembered.environments.truncate(REMEMBERED);
        let Ok(json) = serde_json::to_vec(remembered) else {
            return;
        };
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        // A cache: a run that cannot write it asks again next time.
        let _ = crate::file::write_atomic(path, &json, 0o644);
    }
}

impl GitHub {
    /// Refuses, naming the setting, an `api_base` the token may not be sent to.
    fn new(
        settings: &Settings,
        repo: String,
        token: (&'static str, String),
        client: Client,
    ) -> Result<GitHub, Error> {
        let (token_var, token) = token;
        client.may_send(&settings.api_base, HOME).map_err(|e| {
            Error::Fatal(format!(
                "github: api_base in [deploy.github]: {e}; {token_var} is not sent"
            ))
        })?;
        let target = if settings.contexts.is_empty() {
            let environment = settings.environment.clone().unwrap_or_default();
            Target::Deployments(Pattern(environment.trim().to_owned()))
        } else {
            Target::Contexts(
                settings
                    .contexts
                    .iter()
                    .map(|c| Pattern(c.trim().to_owned()))
                    .collect(),
            )
        };
        Ok(GitHub {
            api: Api {
                client,
                token,
                token_var,
                base: settings.api_base.trim().to_owned(),
                repo,
                cache: HashMap::new(),
                next: None,
                held: None,
                secondary: 0,
            },
            target,
            own: None,
            newer: None,
            prefetched: None,
            seen_in: HashMap::new(),
            refused: None,
            statuses_read: HashMap::new(),
            memory: None,
        })
    }

    /// Remembers ended deployments between runs, in `worktree`'s git common dir.
    fn remembering(mut self, worktree: &Path, secrets: &Secrets, newer: Newer) -> GitHub {
        self.newer = Some(newer);
        let repo = http::redact(&self.api.url(""));
        self.memory = Some(Memory::new(worktree, repo, secrets));
        self
    }

    fn poll_deployment(
        &mut self,
        sha: &str,
        environment: &Pattern,
        cx: &PollContext<'_>,
    ) -> Result<Observation, Error> {
        // What the history read just before is fresh for the first poll only.
        let read = std::mem::take(&mut self.statuses_read);
        let mut newer = self.newer.take();
        let mut target = Environment {
            github: self,
            environment,
            read,
            listed: HashMap::new(),
        };
        let decided = match newer.as_mut() {
            Some(newer) => newer.decide(sha, &mut target, cx),
            None => Err(Error::Fatal("github: opened without git".to_owned())),
        };
        self.newer = newer;
        decided
    }

    /// The deployments `sha` may be among, newest first. By `sha=` alone, the environment
    /// matched here: GitHub's `environment=` filter is case-sensitive, the setting is not, and a
    /// commit has a handful of deployments. A short sha GitHub's filter never matches (it takes
    /// full ids): then the newest deployments of every environment, matched by prefix.
    fn list_for(&mut self, sha: &str, cx: &PollContext<'_>) -> Result<Vec<Deployment>, Error> {
        match sha.len() {
            40 | 64 => self.api.deployments(Some(sha), None, LISTED, cx),
            _ => self.api.deployments_paged(None, None, cx),
        }
    }

    fn poll_contexts(
        &mut self,
        sha: &str,
        contexts: &[Pattern],
        cx: &PollContext<'_>,
    ) -> Result<Observation, Error> {
        let known = |seen_in: &HashMap<String, bool>, want: bool| {
            contexts
                .iter()
                .any(|c| seen_in.get(&c.0).is_none_or(|&s| s == want))
        };
        let statuses = if known(&self.seen_in, true) {
            self.api
                .json::<Combined>(&format!("/commits/{sha}/status?per_page=100"), cx)?
                .statuses
        } else {
            Vec::new()
        };
        let runs = if known(&self.seen_in, false) {
            self.api
                .json::<CheckRuns>(&format!("/commits/{sha}/check-runs?per_page=100"), cx)?
                .check_runs
        } else {
            Vec::new()
        };
        let mut live = Vec::new();
        let mut pending = Vec::new();
        let mut unseen = Vec::new();
        for context in contexts {
            if let Some(status) = statuses.iter().find(|s| context.matches(&s.context)) {
                self.seen_in.insert(context.0.clone(), true);
                let url = shown_url(&status.target_url);
                match status.state.as_str() {
                    "success" => live.push(match url {
                        Some(url) => format!("{}: success: {url}", status.context),
                        None => format!("{}: success", status.context),
                    }),
                    "failure" | "error" => {
                        let reason = format!(
                            "{}: {}",
                            status.context,
                            text(&status.description).unwrap_or(status.state.as_str())
                        );
                        let mut details =
                            vec![format!("status {}: {}", status.context, status.state)];
                        details.extend(url.map(|u| format!("log: {u}")));
                        return Ok(Observation::Failed { reason, details });
                    }
                    state => pending.push(format!("{}: {state}", status.context)),
                }
            } else if let Some(run) = runs.iter().find(|r| context.matches(&r.name)) {
                self.seen_in.insert(context.0.clone(), false);
                let url = shown_url(&run.details_url).or_else(|| shown_url(&run.html_url));
                if run.status != "completed" {
                    pending.push(format!("{}: {}", run.name, run.status));
                    continue;
                }
                let conclusion = run.conclusion.as_deref().unwrap_or("none");
                match conclusion {
                    // A skipped or neutral check passes, as GitHub's own merge checks count it.
                    "success" | "neutral" | "skipped" => live.push(match url {
                        Some(url) => format!("{}: {conclusion}: {url}", run.name),
                        None => format!("{}: {conclusion}", run.name),
                    }),
                    _ => {
                        let title = run.output.as_ref().and_then(|o| text(&o.title));
                        let reason = match title {
                            Some(title) => format!("{}: {title}", run.name),
                            None => format!("{}: {conclusion}", run.name),
                        };
                        let mut details = vec![format!("check run {}: {conclusion}", run.name)];
                        details.extend(url.map(|u| format!("log: {u}")));
                        return Ok(Observation::Failed { reason, details });
                    }
                }
            } else {
                unseen.push(context.0.clone());
            }
        }
        if pending.is_empty() && unseen.is_empty() {
            return Ok(Observation::Live { details: live });
        }
        if !pending.is_empty() {
            return Ok(Observation::Pending(pending.join(", ")));
        }
        if live.is_empty() {
            return Ok(Observation::Unseen(format!(
                "no status or check {} yet",
                unseen.join(", ")
            )));
        }
        Ok(Observation::Pending(format!(
            "waiting for {}",
            unseen.join(", ")
        )))
    }

    /// The environment's deployments with their statuses, as past ones: `limit` of them at most,
    /// a request each unless remembered from an earlier run.
    fn history(
        &mut self,
        environment: &Pattern,
        since: Option<SystemTime>,
        limit: usize,
        cx: &PollContext<'_>,
    ) -> Result<Vec<Past>, Error> {
        let per_page = if environment.exact().is_some() && since.is_none() {
            20
        } else {
            100
        };
        // GitHub's `environment=` filter is case-sensitive: the platform's spelling, once seen.
        let filter = environment.exact().map(|name| {
            self.memory
                .as_mut()
                .and_then(|m| m.spelling(name))
                .unwrap_or_else(|| name.to_owned())
        });
        let listed = match per_page {
            100 => self.api.deployments_paged(None, filter.as_deref(), cx),
            _ => self.api.deployments(None, filter.as_deref(), per_page, cx),
        };
        let listed = match listed {
            Ok(listed) => listed,
            Err(e) if e.is_fatal() && since.is_none() => {
                let said = e.to_string();
                self.refused = Some(e);
                return Err(Error::Transient(said));
            }
            Err(e) => return Err(e),
        };
        let mut listed: Vec<Deployment> = listed
            .into_iter()
            .filter(|d| environment.matches(&d.environment))
            .collect();
        if listed.is_empty()
            && let Some(name) = environment.exact()
        {
            // None under this spelling: perhaps the platform spells it otherwise.
            listed = self
                .api
                .deployments_paged(None, None, cx)?
                .into_iter()
                .filter(|d| environment.matches(&d.environment))
                .collect();
            if let (Some(first), Some(memory)) = (listed.first(), self.memory.as_mut()) {
                memory.spell(name, &first.environment);
                memory.save();
            }
        }
        if since.is_none() {
            self.prefetched = Some(listed.clone());
        }
        let mut past = Vec::new();
        let mut learnt = false;
        let mut failed = None;
        for deployment in listed.iter().take(limit) {
            let started = crate::time::parse(&deployment.created_at);
            if let (Some(since), Some(started)) = (since, started)
                && started < since
            {
                break;
            }
            if let Some(known) = self.memory.as_mut().and_then(|m| m.past(deployment.id)) {
                past.push(known);
                continue;
            }
            let statuses = match self.api.statuses(deployment.id, cx) {
                Ok(statuses) => statuses,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            };
            let Some(one) = past_of(deployment, &statuses) else {
                continue;
            };
            if let Some(memory) = self.memory.as_mut() {
                learnt |= memory.keep(deployment.id, &one);
            }
            if since.is_none() {
                self.statuses_read.insert(deployment.id, statuses);
            }
            past.push(one);
        }
        if learnt && let Some(memory) = self.memory.as_mut() {
            memory.save();
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(past),
        }
    }

    /// Remembers the deployment followed once it has ended, for the next run's history.
    fn remember(&mut self, deployment: &Deployment, statuses: &[DeploymentStatus]) {
        if let (Some(memory), Some(past)) = (self.memory.as_mut(), past_of(deployment, statuses))
            && memory.keep(deployment.id, &past)
        {
            memory.save();
        }
    }
}

/// The followed environment's deployments, as [`Newer::decide`] reads them.
struct Environment<'a> {
    github: &'a mut GitHub,
    environment: &'a Pattern,
    /// Statuses the history read, by deployment id.
    read: HashMap<u64, Vec<DeploymentStatus>>,
    /// The deployments listed this poll, by id.
    listed: HashMap<String, Deployment>,
}

impl Environment<'_> {
    fn listed(&mut self, deployment: Deployment) -> Listed {
        let listed = Listed {
            id: deployment.id.to_string(),
            commit: deployment.sha.clone(),
        };
        self.listed.insert(listed.id.clone(), deployment);
        listed
    }
}

impl Deploys for Environment<'_> {
    fn own(&mut self, sha: &str, cx: &PollContext<'_>) -> Result<Option<Listed>, Error> {
        if let Some(own) = self.github.own.clone() {
            return Ok(Some(self.listed(own)));
        }
        let environment = self.environment;
        let ours = |d: &Deployment| same_commit(&d.sha, sha) && environment.matches(&d.environment);
        let prefetched = self
            .github
            .prefetched
            .take()
            .and_then(|list| list.into_iter().find(ours));
        let found = match prefetched {
            Some(found) => Some(found),
            None => self.github.list_for(sha, cx)?.into_iter().find(ours),
        };
        self.github.own = found.clone();
        Ok(found.map(|d| self.listed(d)))
    }

    fn newer(&mut self, own: Option<&Listed>, cx: &PollContext<'_>) -> Result<Vec<Listed>, Error> {
        let own = own.and_then(|o| self.listed.get(&o.id)).cloned();
        // The environment as GitHub spells it (its filter is case-sensitive): the own
        // deployment's, else the platform's spelling once seen, else the setting.
        let filter = match &own {
            Some(own) => Some(own.environment.clone()),
            None => self.environment.exact().map(|name| {
                self.github
                    .memory
                    .as_mut()
                    .and_then(|m| m.spelling(name))
                    .unwrap_or_else(|| name.to_owned())
            }),
        };
        let listed = self
            .github
            .api
            .deployments(None, filter.as_deref(), NEWER_LISTED, cx)?;
        let environment = self.environment;
        Ok(listed
            .into_iter()
            .filter(|d| environment.matches(&d.environment))
            .filter(|d| own.as_ref().is_none_or(|own| d.id > own.id))
            .map(|d| self.listed(d))
            .collect())
    }

    fn state(&mut self, d: &Listed, own: bool, cx: &PollContext<'_>) -> Result<State, Error> {
        let Some(deployment) = self.listed.get(&d.id).cloned() else {
            return Ok(State::Pending("not listed".to_owned()));
        };
        let statuses = match self.read.remove(&deployment.id) {
            Some(statuses) => statuses,
            None => self.github.api.statuses(deployment.id, cx)?,
        };
        let reading = read_statuses(deployment.id, &statuses);
        if own && matches!(reading, Reading::Live { .. } | Reading::Failed { .. }) {
            self.github.remember(&deployment, &statuses);
        }
        let id = deployment.id;
        Ok(match reading {
            Reading::Phase(phase) => State::Pending(phase),
            Reading::Live { details } => State::Live(details),
            // Vercel, and GitHub Actions' concurrency groups: `error` "Canceled…" when a newer
            // push replaced the build.
            Reading::Failed { reason, .. } if reason.to_ascii_lowercase().starts_with("cancel") => {
                State::Cancelled(format!("deployment {id} was canceled ({reason}); "))
            }
            Reading::Failed { reason, details } => State::Failed { reason, details },
            Reading::Replaced => State::Replaced(String::new()),
            // Inactive without a success: a skipped duplicate build, unless a newer deployment
            // came after it (a platform may also mark a cancelled build inactive).
            Reading::Skipped { details } => State::Skipped {
                why: format!("deployment {id} is inactive without a success; "),
                details,
            },
        })
    }
}

impl Source for GitHub {
    fn name(&self) -> &'static str {
        KIND.name()
    }

    fn poll(&mut self, sha: &str, cx: &PollContext<'_>) -> Result<Observation, Error> {
        // Validated again here: the sha goes into a URL.
        if crate::deploy::validate_sha(sha).is_err() {
            return Err(Error::Fatal(format!("github: {sha:?} is not a commit id")));
        }
        if let Some(refused) = self.refused.take() {
            return Err(refused);
        }
        match self.target.clone() {
            Target::Deployments(environment) => self.poll_deployment(sha, &environment, cx),
            Target::Contexts(contexts) => self.poll_contexts(sha, &contexts, cx),
        }
    }

    /// The environment's recent deployments, from creation to their first success; the listing
    /// serves the first poll too.
    fn past(&mut self, span: Span, cx: &PollContext<'_>) -> Result<Vec<Past>, Error> {
        let Target::Deployments(environment) = self.target.clone() else {
            return Ok(Vec::new());
        };
        match span {
            Span::Recent => self.history(&environment, None, HISTORY_DEPLOYMENTS, cx),
            Span::Since(since) => self.history(&environment, Some(since), 100, cx),
        }
    }
}

impl Settings {
    /// The repository: the setting, else the deploy remote's URL.
    fn repo(&self, setup: &Setup<'_>) -> Result<String, Error> {
        if let Some(repo) = &self.repo {
            return Ok(repo.trim().to_owned());
        }
        remote_url(setup.worktree, setup.remote)
            .and_then(|url| repo_from_url(&url))
            .ok_or_else(|| {
                Error::Fatal(format!(
                    "github: no repo in [deploy.github], and the URL of remote `{}` names no \
                     owner/name: set repo = \"owner/name\"",
                    setup.remote
                ))
            })
    }

    fn token(setup: &Setup<'_>) -> Result<(&'static str, String), Error> {
        setup
            .secrets
            .first_of(TOKEN_VARS)
            .map(|(name, value)| (name, value.to_owned()))
            .ok_or_else(|| {
                Error::Fatal(
                    "github: GITHUB_TOKEN (or GH_TOKEN) is not set in the environment".to_owned(),
                )
            })
    }
}

impl Configured for Settings {
    fn name(&self) -> &'static str {
        KIND.name()
    }

    fn open(&self, setup: &Setup<'_>) -> Result<Box<dyn Source>, Error> {
        let token = Settings::token(setup)?;
        let repo = self.repo(setup)?;
        let source = GitHub::new(self, repo, token, setup.client.clone())?;
        let source = source.remembering(setup.worktree, setup.secrets, Newer::new(setup));
        Ok(Box::new(source))
    }

    fn doctor(&self, setup: &Setup<'_>) -> Vec<Check> {
        doctor(self, setup)
    }

    fn keeps_history(&self) -> bool {
        self.contexts.is_empty()
    }
}

/// The token is accepted and the repository found (`GET /repos/{owner}/{repo}`), then the
/// environment is among the recent deployments' (`GET …/deployments?per_page=100`).
fn doctor(settings: &Settings, setup: &Setup<'_>) -> Vec<Check> {
    const NAME: &str = "github";
    let Ok(token) = Settings::token(setup) else {
        return vec![Check::problem(
            NAME,
            "GITHUB_TOKEN (or GH_TOKEN) is not set in the environment",
            "export GITHUB_TOKEN, a token that can read the repository's deployments (and \
             commit statuses and checks, for contexts)",
        )];
    };
    let token_var = token.0;
    let repo = match settings.repo(setup) {
        Ok(repo) => repo,
        Err(e) => {
            return vec![Check::problem(
                NAME,
                e.to_string(),
                "set repo = \"owner/name\" in [deploy.github]",
            )];
        }
    };
    let mut source = match GitHub::new(settings, repo.clone(), token, setup.client.clone()) {
        Ok(source) => source,
        Err(e) => {
            return vec![Check::problem(
                NAME,
                e.to_string(),
                format!(
                    "remove api_base from [deploy.github], or name its host in {}",
                    http::API_HOSTS_VAR
                ),
            )];
        }
    };
    let clock = crate::clock::SystemClock::new();
    let cx = PollContext {
        clock: &clock,
        contains: &|_, _| false,
        once: true,
    };
    let api = http::redact(&settings.api_base);
    let found = match source.api.json::<serde_json::Value>("", &cx) {
        Ok(_) => Check::ok(
            NAME,
            format!("repository {repo} found and {token_var} is accepted"),
        ),
        Err(e) => {
            let said = e.to_string();
            let fix = if said.contains("HTTP 401") {
                format!("export a {token_var} that is valid")
            } else if said.contains("HTTP 404") || said.contains("HTTP 403") {
                format!(
                    "set repo in [deploy.github] to owner/name, or give {token_var} read access \
                     to it"
                )
            } else {
                "correct api_base in [deploy.github], or try again if the API is down".to_owned()
            };
            let detail = if said.contains("HTTP 401") {
                format!("{api} refuses {token_var} (HTTP 401)")
            } else if said.contains("HTTP 404") {
                format!("{api} has no repository {repo} for this token (HTTP 404)")
            } else {
                said
            };
            return vec![Check::problem(NAME, detail, fix)];
        }
    };
    let Target::Deployments(environment) = source.target.clone() else {
        return vec![found];
    };
    let seen = match source.api.deployments_paged(None, None, &cx) {
        Ok(listed) => listed,
        Err(e) => {
            return vec![
                found,
                Check::problem(NAME, e.to_string(), "try again if the API is down"),
            ];
        }
    };
    let mut names: Vec<&str> = Vec::new();
    for deployment in &seen {
        if !names.contains(&deployment.environment.as_str()) {
            names.push(&deployment.environment);
        }
    }
    let wanted = &environment.0;
    let matching: Vec<String> = names
        .iter()
        .filter(|n| environment.matches(n))
        .map(|n| format!("{n:?}"))
        .collect();
    let check = if matching.len() > 1 {
        // A monorepo: `Production*` matches `Production – web` and `Production – docs`, and
        // whichever is listed first would decide.
        Check::problem(
            NAME,
            format!(
                "environment {wanted:?} matches {} environments: {}",
                matching.len(),
                matching.join(", ")
            ),
            "set environment in [deploy.github] to exactly one of them (on Vercel, follow the \
             project with [deploy.vercel] instead)",
        )
    } else if !matching.is_empty() {
        Check::ok(
            NAME,
            format!(
                "environment {wanted:?} is among the {} most recent deployments'",
                seen.len()
            ),
        )
    } else if names.is_empty() {
        Check::problem(
            NAME,
            format!("{repo} has no deployment yet, so environment {wanted:?} cannot be checked"),
            "push once so the platform reports a deployment, or follow commit statuses with \
             contexts in [deploy.github]",
        )
    } else {
        let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
        Check::problem(
            NAME,
            format!(
                "environment {wanted:?} is not among the {} most recent deployments', which are \
                 in {}",
                seen.len(),
                quoted.join(", ")
            ),
            "set environment in [deploy.github] to the name the platform reports (one of those), \
             or a glob",
        )
    };
    vec![found, check]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: &str, description: &str) -> DeploymentStatus {
        DeploymentStatus {
            state: state.to_owned(),
            description: Some(description.to_owned()),
            environment_url: Some("https://web-abc.vercel.app".to_owned()),
            log_url: Some("https://vercel.com/acme/web/dpl?token=x".to_owned()),
            target_url: None,
            created_at: "2026-12-01T10:04:00Z".to_owned(),
        }
    }

    #[test]
    fn repositories_come_from_remote_urls() {
        for (url, repo) in [
            ("git@github.com:acme/web.git", Some("acme/web")),
            ("https://github.com/acme/web", Some("acme/web")),
            (
                "https://x-access-token:t@github.com/acme/web.git/",
                Some("acme/web"),
            ),
            (
                "ssh://git@ghe.example:2222/team/site.git",
                Some("team/site"),
            ),
            ("/srv/git/web.git", None),
            ("../web", None),
            ("https://github.com/acme", None),
        ] {
            assert_eq!(repo_from_url(url).as_deref(), repo, "{url}");
        }
        assert!(parse_repo("acme/web").is_some());
        for bad in ["acme", "acme/web/x", "../web", "acme/we b", "acme/", "a/?x"] {
            assert!(parse_repo(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_starter_reads_github_remotes_only() {
        let worktree = std::env::temp_dir();
        let starter = |url: &str| {
            KIND.starter(&StarterContext {
                worktree: &worktree,
                remote_url: Some(url),
                remotes: &[],
                scripts: &[],
            })
        };
        for url in [
            "https://github.com/acme/web.git",
            "git@github.com:acme/web.git",
            "https://x:tok@github.com/acme/web",
            "ssh://git@github.com:22/acme/web.git",
        ] {
            let found = starter(url);
            assert_eq!(
                found.found,
                ["the deploy remote is on GitHub: acme/web"],
                "{url}"
            );
            assert!(
                found
                    .snippet
                    .is_some_and(|s| s.contains("# repo = \"acme/web\"\n")),
                "{url}"
            );
        }
        for url in [
            "https://gitlab.com/acme/web.git",
            "https://github.com/acme/we\"b",
            "https://github.com.evil.example/acme/web",
            "/srv/git/web.git",
        ] {
            assert_eq!(starter(url), Starter::default(), "{url}");
        }
    }

    #[test]
    fn environments_match_by_name_or_glob_regardless_of_case() {
        let exact = Pattern("Production – web".to_owned());
        assert!(exact.matches("production – web") && !exact.matches("Preview – web"));
        assert_eq!(exact.exact(), Some("Production – web"));
        let glob = Pattern("Production*".to_owned());
        assert!(glob.matches("Production – web") && !glob.matches("Preview – web"));
        assert_eq!(glob.exact(), None);
        assert_eq!(encode("Production – web"), "Production%20%E2%80%93%20web");
    }

    #[test]
    fn statuses_read_newest_first() {
        assert_eq!(read_statuses(1, &[]), Reading::Phase("pending".to_owned()));
        let building = [status("in_progress", "Building"), status("queued", "")];
        assert_eq!(
            read_statuses(1, &building),
            Reading::Phase("in_progress".to_owned())
        );
        let Reading::Live { details } = read_statuses(1, &[status("success", "")]) else {
            panic!("success is live")
        };
        assert_eq!(details, ["environment_url: https://web-abc.vercel.app"]);
        let Reading::Failed { reason, details } = read_statuses(
            7,
            &[
                status("failure", "Build failed: exit 1"),
                status("in_progress", ""),
            ],
        ) else {
            panic!("failure is failed")
        };
        assert_eq!(reason, "Build failed: exit 1");
        assert!(
            details.contains(&"log: https://vercel.com/acme/web/dpl".to_owned()),
            "no query in the log: {details:?}"
        );
    }

    #[test]
    fn inactive_is_superseded_unless_it_never_succeeded() {
        let replaced = [
            status("inactive", ""),
            status("success", ""),
            status("in_progress", ""),
        ];
        assert_eq!(read_statuses(1, &replaced), Reading::Replaced);
        let skipped = [
            status("inactive", "Skipped – Not affected"),
            status("queued", ""),
        ];
        let Reading::Skipped { details } = read_statuses(1, &skipped) else {
            panic!("a skipped build")
        };
        assert_eq!(
            details[0],
            "deployment 1 was skipped: Skipped – Not affected"
        );
    }

    /// A loopback server answering every request with `status` and `body`, counting them.
    fn serve(
        status: u16,
        body: &'static str,
    ) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("address").to_string();
        let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = count.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (addr, count)
    }

    #[test]
    fn secondary_rate_limits_without_retry_after_wait_a_minute_then_twice_as_long() {
        let (addr, requests) = serve(
            403,
            r#"{"message":"You have exceeded a secondary rate limit."}"#,
        );
        let client = Client::new(Duration::from_secs(5)).trusting(vec![format!("http://{addr}")]);
        let mut api = Api {
            client,
            token: "t0ken".to_owned(),
            token_var: "GITHUB_TOKEN",
            base: format!("http://{addr}"),
            repo: "acme/web".to_owned(),
            cache: HashMap::new(),
            next: None,
            held: None,
            secondary: 0,
        };
        use crate::clock::Clock;
        let clock = crate::clock::SimClock::new(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
        let cx = PollContext {
            clock: &clock,
            contains: &|_, _| false,
            once: false,
        };
        let mut waits = Vec::new();
        for asked in 1..=5 {
            let said = api.get("/deployments", &cx).expect_err("rate limited");
            assert!(
                said.to_string().contains("HTTP 403: rate limited"),
                "{said}"
            );
            let (until, _) = api.held.clone().expect("held");
            let wait = until - clock.elapsed();
            waits.push(wait.as_secs());
            // Held: nothing is sent until then.
            clock.sleep(wait - Duration::from_secs(1));
            assert!(api.get("/deployments", &cx).is_err());
            assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), asked);
            clock.sleep(Duration::from_secs(1));
        }
        assert_eq!(waits, [60, 120, 240, 480, 480]);
    }

    #[test]
    fn the_history_runs_from_creation_to_the_first_success() {
        let deployment = Deployment {
            id: 1,
            sha: "ABCDEF0123".to_owned(),
            environment: "Production".to_owned(),
            created_at: "2026-12-01T10:00:00Z".to_owned(),
        };
        let mut success = status("success", "");
        success.created_at = "2026-12-01T10:03:20Z".to_owned();
        let mut inactive = status("inactive", "");
        inactive.created_at = "2026-12-01T11:00:00Z".to_owned();
        let past = past_of(&deployment, &[inactive, success, status("queued", "")])
            .expect("a past deployment");
        assert_eq!(past.status, PastStatus::Success);
        assert_eq!(past.duration, Some(Duration::from_secs(200)));
        assert_eq!(past.sha, "abcdef0123");
        let failed = past_of(&deployment, &[status("error", "Out of memory")]).expect("past");
        assert_eq!(failed.status, PastStatus::Failed("error".to_owned()));
        assert_eq!(failed.error_message.as_deref(), Some("Out of memory"));
    }
}
