//! The DigitalOcean App Platform API v2: this commit's deployment among the app's deployments,
//! followed by its `phase`.
//!
//! The deployment is found by `cause_details.git_push.commit_sha`, else by a
//! component's (service, static site, worker, job, function) `source_commit_hash`; it appears
//! only some time after the push. On `ERROR` the failed steps' reasons and the tails of the
//! build and deploy logs go to the status log. A commit with no deployment of its own, or whose
//! own was `CANCELED` or `SUPERSEDED`, is live through a newer one that contains it
//! ([`super::newer`]). 429 and 5xx are retried
//! (honouring `retry-after`), `ratelimit-remaining: 0` holds polls until `ratelimit-reset`, and
//! 401, 403 and 404 end this source with a message saying what to fix.

use std::time::{Duration, UNIX_EPOCH};

use serde::Deserialize;

use super::kind::{
    Check, Configured, Error, Invalid, Kind, Observation, Past, PastStatus, PollContext, Setup,
    Source, Span, Starter, StarterContext, same_commit,
};
use super::newer::{Listed, Listing, Newer, State};
use crate::deploy::files::tail;
use crate::deploy::http::{self, Bearer, Client};
use crate::deploy::secrets::Var;
use crate::time::show;

/// `[deploy.digitalocean]`.
pub const KIND: DigitalOceanKind = DigitalOceanKind;

pub struct DigitalOceanKind;

/// The App Platform API token (read access to apps).
pub const TOKEN_VAR: &str = "DIGITALOCEAN_TOKEN";

impl Kind for DigitalOceanKind {
    fn name(&self) -> &'static str {
        "digitalocean"
    }

    fn vars(&self) -> &'static [Var] {
        const VARS: &[Var] = &[Var::secret(TOKEN_VAR)];
        VARS
    }

    fn configure(&self, section: &toml::Value) -> Result<Box<dyn Configured>, Invalid> {
        let settings: Settings = super::kind::section(section)?;
        if settings.app_id.trim().is_empty() {
            return Err((
                "app_id".to_owned(),
                "must be the App Platform app id".to_owned(),
            ));
        }
        Ok(Box::new(settings))
    }

    /// Offered where the clone holds an App Platform spec.
    fn starter(&self, clone: &StarterContext<'_>) -> Starter {
        let spec = [".do/app.yaml", ".do/deploy.template.yaml"]
            .iter()
            .any(|name| clone.worktree.join(name).is_file());
        if !spec {
            return Starter::default();
        }
        Starter {
            found: vec!["a DigitalOcean App Platform spec (.do/)".to_owned()],
            snippet: Some(format!(
                "# DigitalOcean App Platform; the token is {TOKEN_VAR} in the environment.\n\
                 # [deploy.digitalocean]\n\
                 # app_id = \"\"   # `doctl apps list` shows it\n"
            )),
            next: None,
        }
    }
}

/// `[deploy.digitalocean]` in `.mainstay.toml`. The token is `DIGITALOCEAN_TOKEN`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub app_id: String,
    /// The API's base URL, for tests and proxies.
    #[serde(default = "default_base")]
    pub api_base: String,
    /// Lines of each log copied to the status log on failure.
    #[serde(default = "default_log_lines")]
    pub log_lines: usize,
}

/// The API's own host, the one place `DIGITALOCEAN_TOKEN` goes without `MAINSTAY_API_HOSTS`.
const HOME: &str = "api.digitalocean.com";

fn default_base() -> String {
    format!("https://{HOME}")
}

fn default_log_lines() -> usize {
    20
}

#[derive(Debug, Deserialize)]
struct Deployments {
    deployments: Vec<Deployment>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct Deployment {
    id: String,
    phase: String,
    cause_details: Option<CauseDetails>,
    services: Vec<Service>,
    static_sites: Vec<Service>,
    workers: Vec<Service>,
    jobs: Vec<Service>,
    functions: Vec<Service>,
    progress: Option<Progress>,
    created_at: Option<String>,
    phase_last_updated_at: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct CauseDetails {
    git_push: Option<GitPush>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct GitPush {
    commit_sha: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct Service {
    source_commit_hash: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct Progress {
    success_steps: u32,
    total_steps: u32,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct Step {
    name: String,
    status: String,
    reason: Option<Reason>,
    steps: Vec<Step>,
    ended_at: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct Reason {
    code: String,
    message: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Logs {
    live_url: Option<String>,
    historic_urls: Vec<String>,
}

impl Deployment {
    /// The commit this deployment deploys.
    fn commit(&self) -> Option<&str> {
        let pushed = self
            .cause_details
            .as_ref()
            .and_then(|c| c.git_push.as_ref());
        // Not caused by a push (`doctl apps create-deployment`, the console): every kind of
        // component carries the commit it runs.
        pushed.and_then(|p| p.commit_sha.as_deref()).or_else(|| {
            [
                &self.services,
                &self.static_sites,
                &self.workers,
                &self.jobs,
                &self.functions,
            ]
            .into_iter()
            .flatten()
            .find_map(|s| s.source_commit_hash.as_deref())
        })
    }

    fn deploys(&self, sha: &str) -> bool {
        self.commit().is_some_and(|c| same_commit(c, sha))
    }

    /// The phase with the step count when the API gives one: `BUILDING (1/3 steps, build)`.
    fn progress_text(&self) -> String {
        let Some(progress) = self.progress.as_ref().filter(|p| p.total_steps > 0) else {
            return self.phase.clone();
        };
        let running = progress.steps.iter().find(|s| s.status == "RUNNING");
        format!(
            "{} ({}/{} steps{})",
            self.phase,
            progress.success_steps,
            progress.total_steps,
            running.map(|s| format!(", {}", s.name)).unwrap_or_default()
        )
    }

    /// How long a finished deployment took: from its creation to the end of its last step, or,
    /// for the live one without steps, to its last phase change. `None` for unfinished ones.
    fn duration(&self) -> Option<Duration> {
        if !matches!(self.phase.as_str(), "ACTIVE" | "SUPERSEDED") {
            return None;
        }
        let start = parse_rfc3339(self.created_at.as_deref()?)?;
        let steps = self.progress.as_ref().map_or(&[][..], |p| &p.steps[..]);
        let end = if !steps.is_empty() && steps.iter().all(|s| s.status == "SUCCESS") {
            steps
                .iter()
                .filter_map(|s| parse_rfc3339(s.ended_at.as_deref()?))
                .max()?
        } else if self.phase == "ACTIVE" {
            parse_rfc3339(self.phase_last_updated_at.as_deref()?)?
        } else {
            // Superseded before it finished: no duration to learn from.
            return None;
        };
        end.checked_sub(start).filter(|d| !d.is_zero())
    }

    /// `name: message` of every failed step, depth first.
    fn failed_steps(&self) -> Vec<String> {
        fn walk(steps: &[Step], out: &mut Vec<String>) {
            for step in steps {
                if step.status == "ERROR" {
                    match &step.reason {
                        Some(r) if !r.message.is_empty() => {
                            out.push(format!(
                                "step {} failed: {} ({})",
                                step.name, r.message, r.code
                            ));
                        }
                        _ => out.push(format!("step {} failed", step.name)),
                    }
                }
                walk(&step.steps, out);
            }
        }
        let mut out = Vec::new();
        if let Some(progress) = &self.progress {
            walk(&progress.steps, &mut out);
        }
        out
    }
}

/// Why the API refuses for good: asking again will not help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 401 or 403: the token is wrong, expired or lacks read access to apps.
    Token(u16),
    /// 404: there is no app with this id (for this token).
    NoSuchApp,
}

impl Refusal {
    fn of(status: u16) -> Option<Refusal> {
        match status {
            401 | 403 => Some(Refusal::Token(status)),
            404 => Some(Refusal::NoSuchApp),
            _ => None,
        }
    }
}

/// What `GET /v2/apps/{app_id}` says about the token and the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// The token is accepted and the app exists; its name in the app spec.
    Granted {
        name: String,
    },
    Refused(Refusal),
}

/// The error for an answer that is neither 200 nor worth retrying.
fn final_error(status: u16, shown: &str) -> Error {
    match Refusal::of(status) {
        Some(Refusal::Token(status)) => Error::Fatal(format!(
            "digitalocean: {shown}: HTTP {status}: DIGITALOCEAN_TOKEN is refused (needs read access to apps)"
        )),
        Some(Refusal::NoSuchApp) => Error::Fatal(format!(
            "digitalocean: {shown}: HTTP 404: no such app; check app_id in [deploy.digitalocean]"
        )),
        None => Error::Transient(format!("digitalocean: {shown}: HTTP {status}")),
    }
}

#[derive(Debug, Deserialize)]
struct AppAnswer {
    app: AppObject,
}

#[derive(Debug, Deserialize)]
struct AppObject {
    #[serde(default)]
    spec: AppSpec,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AppSpec {
    name: String,
}

pub struct DigitalOcean {
    settings: Settings,
    token: String,
    client: Client,
    /// Live via a newer deployment, when this commit's own did not go live.
    newer: Newer,
    /// No request before this time (on the clock), set by `ratelimit-remaining: 0`.
    not_before: Duration,
    last: Observation,
    /// The listing fetched for the history, or why it failed: the first poll's answer, so it
    /// costs no second request.
    prefetched: Option<Result<Vec<Deployment>, Error>>,
}

impl DigitalOcean {
    /// Refuses, naming the setting, an `api_base` the token may not be sent to.
    pub fn new(
        settings: Settings,
        token: String,
        client: Client,
        newer: Newer,
    ) -> Result<DigitalOcean, Error> {
        client.may_send(&settings.api_base, HOME).map_err(|e| {
            Error::Fatal(format!(
                "digitalocean: api_base in [deploy.digitalocean]: {e}; DIGITALOCEAN_TOKEN is not sent"
            ))
        })?;
        Ok(DigitalOcean {
            settings,
            token,
            client,
            newer,
            not_before: Duration::ZERO,
            last: Observation::Pending("not asked yet".to_owned()),
            prefetched: None,
        })
    }

    fn bearer(&self) -> Bearer<'_> {
        Bearer {
            token: &self.token,
            home: HOME,
        }
    }

    fn app_url(&self, rest: &str) -> String {
        let base = self.settings.api_base.trim_end_matches('/');
        format!("{base}/v2/apps/{}{rest}", self.settings.app_id)
    }

    /// `GET /v2/apps/{app_id}` once, without retries: is the token accepted, does the app exist?
    pub fn access(&self) -> Result<Access, Error> {
        let url = self.app_url("");
        let shown = http::redact(&url);
        let response = self.client.get(&url, Some(self.bearer()))?;
        if let Some(refusal) = Refusal::of(response.status) {
            return Ok(Access::Refused(refusal));
        }
        if response.status != 200 {
            return Err(final_error(response.status, &shown));
        }
        let answer: AppAnswer =
            serde_json::from_str(&response.body).map_err(|e| Error::Garbage {
                url: shown,
                message: e.to_string(),
            })?;
        Ok(Access::Granted {
            name: answer.app.spec.name,
        })
    }

    /// One API GET with retries: 429 after `retry-after`, 5xx with a growing pause (none when
    /// asked just once).
    fn api_get(&mut self, url: &str, cx: &PollContext<'_>) -> Result<String, Error> {
        let shown = http::redact(url);
        let mut last = String::new();
        let attempts = if cx.once { 1 } else { 4 };
        for attempt in 0..attempts {
            let response = match self.client.get(url, Some(self.bearer())) {
                Ok(r) => r,
                Err(e @ http::Error::Timeout { .. }) | Err(e @ http::Error::Refused { .. })
                    if !cx.once =>
                {
                    last = e.to_string();
                    cx.clock
                        .sleep(Duration::from_millis(250) * 2u32.pow(attempt));
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if response.ratelimit_remaining == Some(0) {
                let now = cx
                    .clock
                    .wall()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                let reset = response
                    .ratelimit_reset
                    .map_or(Duration::from_secs(60), |r| {
                        Duration::from_secs(r).saturating_sub(now)
                    });
                self.not_before = cx.clock.elapsed() + reset.min(Duration::from_secs(300));
            }
            match response.status {
                200 => return Ok(response.body),
                429 => {
                    let wait = response.retry_after.unwrap_or(Duration::from_secs(1));
                    last = format!("HTTP 429, retry after {}", show(wait));
                    if !cx.once {
                        cx.clock.sleep(wait.min(Duration::from_secs(60)));
                    }
                }
                500..=599 => {
                    last = format!("HTTP {}", response.status);
                    if !cx.once {
                        cx.clock
                            .sleep(Duration::from_millis(250) * 2u32.pow(attempt));
                    }
                }
                status => return Err(final_error(status, &shown)),
            }
        }
        Err(Error::Transient(format!(
            "digitalocean: {shown}: {last}, giving up for this poll"
        )))
    }

    fn list(&mut self, per_page: u32, cx: &PollContext<'_>) -> Result<Vec<Deployment>, Error> {
        let url = self.app_url(&format!("/deployments?per_page={per_page}"));
        let body = self.api_get(&url, cx)?;
        let list: Deployments = serde_json::from_str(&body).map_err(|e| Error::Garbage {
            url: http::redact(&url),
            message: e.to_string(),
        })?;
        Ok(list.deployments)
    }

    /// The tails of the build and deploy logs, fetched from the URLs the API hands out.
    fn log_tails(&mut self, id: &str, cx: &PollContext<'_>) -> Vec<String> {
        let mut details = Vec::new();
        for kind in ["BUILD", "DEPLOY"] {
            let url = self.app_url(&format!("/deployments/{id}/logs?type={kind}"));
            let logs = self.api_get(&url, cx).and_then(|body| {
                serde_json::from_str::<Logs>(&body).map_err(|e| Error::Garbage {
                    url: http::redact(&url),
                    message: e.to_string(),
                })
            });
            let logs = match logs {
                Ok(logs) => logs,
                Err(e) => {
                    details.push(format!("{kind} logs unavailable: {e}"));
                    continue;
                }
            };
            let Some(text_url) = logs.historic_urls.first().or(logs.live_url.as_ref()) else {
                continue;
            };
            // The log URLs are pre-signed elsewhere: the token is not sent there.
            match self.client.get(text_url, None) {
                Ok(r) if r.status == 200 => {
                    let lines = tail(&r.body, self.settings.log_lines);
                    if !lines.is_empty() {
                        details.push(format!("{kind} log, last {} lines:", lines.len()));
                        details.extend(lines.iter().map(|l| format!("  {l}")));
                    }
                }
                Ok(r) => details.push(format!("{kind} log unavailable: HTTP {}", r.status)),
                Err(e) => details.push(format!("{kind} log unavailable: {e}")),
            }
        }
        details
    }
}

impl Source for DigitalOcean {
    fn name(&self) -> &'static str {
        KIND.name()
    }

    fn poll(&mut self, sha: &str, cx: &PollContext<'_>) -> Result<Observation, Error> {
        if cx.clock.elapsed() < self.not_before {
            return Ok(self.last.clone());
        }
        let deployments = match self.prefetched.take() {
            Some(listed) => listed?,
            None => self.list(20, cx)?,
        };
        let mut listing = Listing(
            deployments
                .iter()
                .filter_map(|d| Some((d.listed()?, d.state())))
                .collect(),
        );
        let mut observation = self.newer.decide(sha, &mut listing, cx)?;
        if let Observation::Failed { details, .. } = &mut observation
            && let Some(own) = deployments.iter().find(|d| d.deploys(sha))
            && own.phase == "ERROR"
        {
            details.extend(self.log_tails(&own.id, cx));
        }
        self.last = observation.clone();
        Ok(observation)
    }

    /// The app's deployments in one listing, newest first: for the schedule the first poll's
    /// listing (so it costs no second request), for `stats` up to 100.
    fn past(&mut self, span: Span, cx: &PollContext<'_>) -> Result<Vec<Past>, Error> {
        let deployments = match span {
            Span::Recent => {
                let listed = self.list(20, cx);
                let deployments = listed
                    .as_ref()
                    .map(Vec::clone)
                    .map_err(|e| Error::Transient(format!("digitalocean: no history: {e}")));
                self.prefetched = Some(listed);
                deployments?
            }
            Span::Since(_) => self.list(100, cx)?,
        };
        let since = match span {
            Span::Since(since) => since,
            Span::Recent => UNIX_EPOCH,
        };
        Ok(deployments
            .iter()
            .filter_map(|d| d.past())
            .filter(|p| p.started_at >= since)
            .collect())
    }
}

impl Deployment {
    fn listed(&self) -> Option<Listed> {
        Some(Listed {
            id: self.id.clone(),
            commit: self.commit()?.to_owned(),
        })
    }

    /// Its phase in the words every source answers in.
    fn state(&self) -> State {
        match self.phase.as_str() {
            "ACTIVE" => State::Live(Vec::new()),
            "ERROR" => {
                let details = self.failed_steps();
                let reason = details
                    .first()
                    .cloned()
                    .unwrap_or_else(|| format!("deployment {} failed", self.id));
                State::Failed { reason, details }
            }
            // Cancelled by a newer push (or by hand): live when a newer one containing it is.
            "CANCELED" => State::Cancelled(format!("deployment {} was canceled; ", self.id)),
            "SUPERSEDED" => State::Replaced(String::new()),
            _ => State::Pending(self.progress_text()),
        }
    }

    /// This deployment as a past one; `None` without a commit or a creation time.
    fn past(&self) -> Option<Past> {
        let started_at = crate::time::parse(self.created_at.as_deref()?)?;
        let duration = self.duration();
        let status = match self.phase.as_str() {
            "ACTIVE" => PastStatus::Success,
            // Replaced after it finished: it was live.
            "SUPERSEDED" if duration.is_some() => PastStatus::Success,
            "SUPERSEDED" => PastStatus::Superseded,
            "ERROR" | "CANCELED" => PastStatus::Failed(self.phase.clone()),
            other => PastStatus::Pending(other.to_owned()),
        };
        let error_message = self.failed_steps().into_iter().next();
        Some(Past {
            sha: self.commit()?.trim().to_ascii_lowercase(),
            status,
            started_at,
            duration,
            error_message,
        })
    }
}

impl Configured for Settings {
    fn name(&self) -> &'static str {
        KIND.name()
    }

    fn open(&self, setup: &Setup<'_>) -> Result<Box<dyn Source>, Error> {
        let token = setup.secrets.get(TOKEN_VAR).ok_or_else(|| {
            Error::Fatal(format!(
                "digitalocean: {TOKEN_VAR} is not set in the environment"
            ))
        })?;
        let source = DigitalOcean::new(
            self.clone(),
            token.to_owned(),
            setup.client.clone(),
            Newer::new(setup),
        )?;
        Ok(Box::new(source))
    }

    fn doctor(&self, setup: &Setup<'_>) -> Vec<Check> {
        vec![check(self, setup)]
    }

    fn keeps_history(&self) -> bool {
        true
    }
}

/// The token is accepted and the app exists: `GET /v2/apps/{app_id}`.
fn check(settings: &Settings, setup: &Setup<'_>) -> Check {
    const NAME: &str = "digitalocean";
    let Some(token) = setup.secrets.get(TOKEN_VAR) else {
        return Check::problem(
            NAME,
            format!("{TOKEN_VAR} is not set in the environment"),
            format!("export {TOKEN_VAR}, a token with read access to apps"),
        );
    };
    let app_id = settings.app_id.clone();
    let api = http::redact(&settings.api_base);
    let newer = Newer::new(setup);
    let source = match DigitalOcean::new(
        settings.clone(),
        token.to_owned(),
        setup.client.clone(),
        newer,
    ) {
        Ok(source) => source,
        Err(e) => {
            return Check::problem(
                NAME,
                e.to_string(),
                format!(
                    "remove api_base from [deploy.digitalocean], or name its host in {}",
                    http::API_HOSTS_VAR
                ),
            );
        }
    };
    match source.access() {
        Ok(Access::Granted { name }) => {
            let named = if name.is_empty() {
                String::new()
            } else {
                format!(" ({name})")
            };
            Check::ok(
                NAME,
                format!("app {app_id}{named} exists and {TOKEN_VAR} is accepted"),
            )
        }
        Ok(Access::Refused(Refusal::Token(status))) => Check::problem(
            NAME,
            format!("{api} refuses {TOKEN_VAR} (HTTP {status})"),
            format!("export a {TOKEN_VAR} that is valid and has read access to apps"),
        ),
        Ok(Access::Refused(Refusal::NoSuchApp)) => Check::problem(
            NAME,
            format!("{api} has no app {app_id} for this token (HTTP 404)"),
            "set app_id in [deploy.digitalocean] to the app's id (`doctl apps list`)",
        ),
        Err(e) => Check::problem(
            NAME,
            e.to_string(),
            "correct api_base in [deploy.digitalocean], or try again if the API is down",
        ),
    }
}

/// Seconds since the epoch for `YYYY-MM-DDTHH:MM:SS[.fff]Z`, the API's form.
fn parse_rfc3339(text: &str) -> Option<Duration> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let time = &time[..time.find('.').unwrap_or(time.len())];
    let mut t = time.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    // Days from civil (the inverse of `time::civil_from_days`).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    u64::try_from(secs).ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_apis_timestamps() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(Duration::ZERO));
        assert_eq!(
            parse_rfc3339("2026-11-23T19:00:41.123Z"),
            Some(Duration::from_secs(1_795_460_441))
        );
        assert_eq!(
            parse_rfc3339("2000-02-29T00:00:00Z"),
            Some(Duration::from_secs(951_782_400))
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn finds_the_commit_in_cause_or_services() {
        let json = r#"{"deployments":[
            {"id":"a","phase":"BUILDING","cause_details":{"git_push":{"commit_sha":"abcdef0123"}}},
            {"id":"b","phase":"ACTIVE","services":[{"name":"web","source_commit_hash":"1234567890"}]}
        ]}"#;
        let list: Deployments = serde_json::from_str(json).expect("documented shape");
        assert!(list.deployments[0].deploys("abcdef0123"));
        assert!(list.deployments[1].deploys("1234567890"));
        assert!(!list.deployments[1].deploys("abcdef0123"));
    }

    #[test]
    fn learns_durations_from_finished_deployments_and_counts_steps() {
        let json = r#"{"deployments":[
            {"id":"a","phase":"BUILDING","created_at":"2026-11-23T10:20:00Z",
             "progress":{"success_steps":1,"total_steps":3,"steps":[
                {"name":"initialize","status":"SUCCESS","ended_at":"2026-11-23T10:20:09Z"},
                {"name":"build","status":"RUNNING"},{"name":"deploy","status":"PENDING"}]}},
            {"id":"b","phase":"ACTIVE","created_at":"2026-11-23T10:00:00Z",
             "phase_last_updated_at":"2026-11-23T10:09:00Z",
             "progress":{"steps":[{"name":"build","status":"SUCCESS","ended_at":"2026-11-23T10:02:10Z"},
                {"name":"deploy","status":"SUCCESS","ended_at":"2026-11-23T10:04:05Z"}]}},
            {"id":"c","phase":"SUPERSEDED","created_at":"2026-11-23T09:00:00Z",
             "progress":{"steps":[{"name":"build","status":"SUCCESS","ended_at":"2026-11-23T09:03:55Z"}]}},
            {"id":"d","phase":"SUPERSEDED","created_at":"2026-11-23T08:00:00Z",
             "progress":{"steps":[{"name":"build","status":"PENDING"}]}},
            {"id":"e","phase":"ACTIVE","created_at":"2026-11-23T07:00:00Z",
             "phase_last_updated_at":"2026-11-23T07:04:02Z"},
            {"id":"f","phase":"ERROR","created_at":"2026-11-23T06:00:00Z",
             "phase_last_updated_at":"2026-11-23T06:01:00Z"}
        ]}"#;
        let list: Deployments = serde_json::from_str(json).expect("documented shape");
        let durations: Vec<u64> = list
            .deployments
            .iter()
            .filter_map(Deployment::duration)
            .map(|d| d.as_secs())
            .collect();
        assert_eq!(durations, [245, 235, 242]);
        assert_eq!(
            list.deployments[0].progress_text(),
            "BUILDING (1/3 steps, build)"
        );
        assert_eq!(list.deployments[4].progress_text(), "ACTIVE");
    }
}
