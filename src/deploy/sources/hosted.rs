//! What the hosting platforms' own APIs share (Netlify, Render, Vercel, Heroku): one target (a
//! site, a service, a project, an app) whose deployments are listed newest first, each naming
//! the commit it deploys. A [`Platform`] says where its listing is and how to read a page; this
//! module does the rest once for all of them.
//!
//! Each poll asks for the listing's first page, conditionally (`if-none-match` with the last
//! `etag`, weak ones included; a `304` reads the kept answer again), and hands it to
//! [`Newer::decide`]: this commit's own deployment decides, else a newer one containing it.
//! `429` waits `retry-after` (at most a minute), `5xx` and lost connections are retried with a
//! growing pause (none when asked once), and `401`, `403` and `404` end the source with what to
//! fix. The token goes as `Authorization: Bearer` only where [`Client::may_send`] allows: the
//! platform's own API host over https, or a host in `MAINSTAY_API_HOSTS`. Listings that may
//! hold the answer past their first page (`stats`, `doctor`) follow the platform's pagination
//! (`Link`, a cursor, `Next-Range`) for at most [`MAX_PAGES`] pages.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::kind::{Check, Error, Observation, Past, PastStatus, PollContext, Setup, Source, Span};
use super::newer::{Listed, Listing, Newer, State};
use crate::deploy::http::{self, Bearer, Client, Response};
use crate::time::show;

/// Pages of a listing read at most, by `stats` and `doctor`.
pub const MAX_PAGES: usize = 5;

/// Deployments per page: one page serves a poll and the schedule's history.
pub const PER_PAGE: u32 = 20;

/// One deployment as a platform lists it.
#[derive(Debug, Clone)]
pub struct Deploy {
    pub id: String,
    /// The commit, when the platform knows it (a CLI upload without git may not).
    pub commit: Option<String>,
    pub state: State,
    pub started_at: Option<SystemTime>,
    /// How long it took, when it went live and the platform says.
    pub duration: Option<Duration>,
    /// The platform's own word for its state (`ready`, `build_failed`), for `stats`.
    pub word: String,
}

/// One page of a listing.
#[derive(Debug, Default)]
pub struct Page {
    pub deploys: Vec<Deploy>,
    /// How to ask for the next page, when there is one.
    pub next: Option<Request>,
}

/// A GET: the URL and the headers beside the platform's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
}

impl Request {
    pub fn get(url: String) -> Request {
        Request {
            url,
            headers: Vec::new(),
        }
    }
}

/// A platform's API, as this module uses it. Its settings are committed: every URL it builds
/// from them goes through [`Client::may_send`] before a token does.
pub trait Platform: Send + Sync + fmt::Debug + Clone + 'static {
    /// What is fixed about the platform: its name, host, token and setting.
    fn facts(&self) -> &'static Facts;
    /// The `api_base` setting.
    fn base(&self) -> &str;
    /// The target, for messages: `site 3f2a…`.
    fn target(&self) -> String;
    /// Headers every request carries (`accept` with the API version).
    fn headers(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
    /// The listing's first page, `per_page` deployments, newest first.
    fn first(&self, per_page: u32) -> Request;
    /// Reads one page of the listing (`per_page` asked), and how to ask for the next.
    fn page(&self, response: &Response, asked: &Request, per_page: u32) -> Result<Page, String>;
}

/// What is fixed about a platform, one constant per source.
#[derive(Debug)]
pub struct Facts {
    /// The kind's name: `netlify`, `render`, `vercel`, `heroku`.
    pub name: &'static str,
    /// The API's own host, where the token goes without `MAINSTAY_API_HOSTS`.
    pub home: &'static str,
    /// The environment variable holding the token.
    pub token_var: &'static str,
    /// What the token needs, for messages: `a personal access token`.
    pub token_needs: &'static str,
    /// What to correct when the API has no such target: `site_id in [deploy.netlify]`.
    pub setting: &'static str,
}

/// The `api_base` default of a platform whose API lives at `https://{home}`.
pub fn base_of(home: &str) -> String {
    format!("https://{home}")
}

/// The API client of one platform: the token, conditional requests and waiting.
struct Api<P: Platform> {
    platform: P,
    client: Client,
    token: String,
    /// The last `etag` and answer per URL.
    cache: HashMap<String, (String, String)>,
    /// No request before this time (on the clock), and why.
    held: Option<(Duration, String)>,
}

impl<P: Platform> Api<P> {
    fn new(platform: P, token: String, client: Client) -> Result<Api<P>, Error> {
        client
            .may_send(platform.base(), platform.facts().home)
            .map_err(|e| {
                Error::Fatal(format!(
                    "{}: api_base in [deploy.{}]: {e}; {} is not sent",
                    platform.facts().name,
                    platform.facts().name,
                    platform.facts().token_var
                ))
            })?;
        Ok(Api {
            platform,
            client,
            token,
            cache: HashMap::new(),
            held: None,
        })
    }

    /// One GET with retries; the answer (a 304 read from the kept one).
    fn get(&mut self, request: &Request, cx: &PollContext<'_>) -> Result<Response, Error> {
        let name = self.platform.facts().name;
        if let Some((until, why)) = &self.held {
            if cx.clock.elapsed() < *until {
                return Err(Error::Transient(why.clone()));
            }
            self.held = None;
        }
        let url = &request.url;
        let shown = http::redact(url);
        let attempts = if cx.once { 1 } else { 3 };
        let mut last = String::new();
        for attempt in 0..attempts {
            let pause = Duration::from_millis(250) * 2u32.pow(attempt);
            let mut headers = self.platform.headers();
            headers.extend(request.headers.iter().cloned());
            if let Some((etag, _)) = self.cache.get(url) {
                headers.push(("if-none-match", etag.clone()));
            }
            let borrowed: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            let bearer = Bearer {
                token: &self.token,
                home: self.platform.facts().home,
            };
            let mut response = match self.client.get_with(url, Some(bearer), &borrowed) {
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
                let why = format!("{name}: {shown}: rate limit reached");
                self.held = Some((
                    cx.clock.elapsed() + reset.min(Duration::from_secs(300)),
                    why,
                ));
            }
            match response.status {
                200..=299 => {
                    if let Some(etag) = &response.etag {
                        self.cache
                            .insert(url.clone(), (etag.clone(), response.body.clone()));
                    }
                    return Ok(response);
                }
                304 => match self.cache.get(url) {
                    Some((_, body)) => {
                        response.body = body.clone();
                        response.status = 200;
                        return Ok(response);
                    }
                    None => {
                        return Err(Error::Transient(format!(
                            "{name}: {shown}: HTTP 304 to a request that was not conditional"
                        )));
                    }
                },
                429 => {
                    let wait = response.retry_after.unwrap_or(Duration::from_secs(1));
                    last = format!("HTTP 429, retry after {}", show(wait));
                    if cx.once {
                        break;
                    }
                    cx.clock.sleep(wait.min(Duration::from_secs(60)));
                }
                500..=599 => {
                    last = format!("HTTP {}", response.status);
                    if attempt + 1 < attempts {
                        cx.clock.sleep(pause);
                    }
                }
                status => return Err(self.refusal(status, &shown)),
            }
        }
        Err(Error::Transient(format!(
            "{name}: {shown}: {last}, giving up for this poll"
        )))
    }

    fn refusal(&self, status: u16, shown: &str) -> Error {
        let p = &self.platform;
        match status {
            401 | 403 => Error::Fatal(format!(
                "{}: {shown}: HTTP {status}: {} is refused (needs {})",
                p.facts().name,
                p.facts().token_var,
                p.facts().token_needs
            )),
            404 => Error::Fatal(format!(
                "{}: {shown}: HTTP 404: no {}; check {}",
                p.facts().name,
                p.target(),
                p.facts().setting
            )),
            _ => Error::Transient(format!("{}: {shown}: HTTP {status}", p.facts().name)),
        }
    }

    /// The listing, `pages` pages at most, newest first.
    fn list(
        &mut self,
        per_page: u32,
        pages: usize,
        cx: &PollContext<'_>,
    ) -> Result<Vec<Deploy>, Error> {
        let mut request = self.platform.first(per_page);
        let mut deploys = Vec::new();
        for _ in 0..pages {
            let response = self.get(&request, cx)?;
            let page = self
                .platform
                .page(&response, &request, per_page)
                .map_err(|message| Error::Garbage {
                    url: http::redact(&request.url),
                    message,
                })?;
            deploys.extend(page.deploys);
            match page.next {
                // A next page on another address would carry the token there: never followed.
                Some(next)
                    if self
                        .client
                        .may_send(&next.url, self.platform.facts().home)
                        .is_ok() =>
                {
                    request = next;
                }
                _ => break,
            }
        }
        Ok(deploys)
    }
}

/// A platform's target being followed.
pub struct Hosted<P: Platform> {
    api: Api<P>,
    newer: Newer,
    /// The history's listing, the first poll's answer.
    prefetched: Option<Vec<Deploy>>,
}

impl<P: Platform> Hosted<P> {
    /// The source, or why it cannot work (no token, an address its token may not go to).
    pub fn open(platform: P, setup: &Setup<'_>) -> Result<Box<dyn Source>, Error> {
        let api = api(platform, setup)?;
        Ok(Box::new(Hosted {
            api,
            newer: Newer::new(setup),
            prefetched: None,
        }))
    }
}

fn api<P: Platform>(platform: P, setup: &Setup<'_>) -> Result<Api<P>, Error> {
    let var = platform.facts().token_var;
    let token = setup.secrets.get(var).ok_or_else(|| {
        Error::Fatal(format!(
            "{}: {var} is not set in the environment",
            platform.facts().name
        ))
    })?;
    Api::new(platform, token.to_owned(), setup.client.clone())
}

impl<P: Platform> Source for Hosted<P> {
    fn name(&self) -> &'static str {
        self.api.platform.facts().name
    }

    fn poll(&mut self, sha: &str, cx: &PollContext<'_>) -> Result<Observation, Error> {
        let deploys = match self.prefetched.take() {
            Some(deploys) => deploys,
            None => self.api.list(PER_PAGE, 1, cx)?,
        };
        let mut listing = Listing(
            deploys
                .into_iter()
                .filter_map(|d| {
                    let commit = d.commit?.trim().to_ascii_lowercase();
                    Some((Listed { id: d.id, commit }, d.state))
                })
                .collect(),
        );
        self.newer.decide(sha, &mut listing, cx)
    }

    fn past(&mut self, span: Span, cx: &PollContext<'_>) -> Result<Vec<Past>, Error> {
        let (deploys, since) = match span {
            Span::Recent => {
                let deploys = self.api.list(PER_PAGE, 1, cx)?;
                self.prefetched = Some(deploys.clone());
                (deploys, UNIX_EPOCH)
            }
            Span::Since(since) => (self.api.list(100, MAX_PAGES, cx)?, since),
        };
        Ok(deploys
            .iter()
            .filter_map(past_of)
            .filter(|p| p.started_at >= since)
            .collect())
    }
}

fn past_of(d: &Deploy) -> Option<Past> {
    let status = match &d.state {
        State::Live(_) | State::Replaced(_) | State::Skipped { .. } => PastStatus::Success,
        State::Failed { .. } => PastStatus::Failed(d.word.clone()),
        State::Cancelled(_) => PastStatus::Superseded,
        State::Pending(phase) => PastStatus::Pending(phase.clone()),
    };
    let error_message = match &d.state {
        State::Failed { reason, .. } => Some(reason.clone()),
        _ => None,
    };
    Some(Past {
        sha: d.commit.as_deref()?.trim().to_ascii_lowercase(),
        status,
        started_at: d.started_at?,
        duration: d.duration,
        error_message,
    })
}

/// `doctor`'s check of a platform: the token is accepted and the target exists (its listing
/// answers), and how many of its recent deployments name a commit.
pub fn doctor<P: Platform>(platform: P, setup: &Setup<'_>) -> Vec<Check> {
    let name = platform.facts().name;
    let var = platform.facts().token_var;
    let needs = platform.facts().token_needs;
    let target = platform.target();
    let setting = platform.facts().setting;
    let mut api = match api(platform, setup) {
        Ok(api) => api,
        Err(e) if setup.secrets.get(var).is_none() => {
            return vec![Check::problem(
                name,
                e.to_string(),
                format!("export {var}, {needs}"),
            )];
        }
        Err(e) => {
            return vec![Check::problem(
                name,
                e.to_string(),
                format!(
                    "remove api_base from [deploy.{name}], or name its host in {}",
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
    let check = match api.list(PER_PAGE, MAX_PAGES, &cx) {
        Ok(deploys) => {
            let with_commit = deploys.iter().filter(|d| d.commit.is_some()).count();
            let detail = format!(
                "{target} answers and {var} is accepted: {} recent deployments, {with_commit} \
                 naming their commit",
                deploys.len()
            );
            if !deploys.is_empty() && with_commit == 0 {
                Check::warning(
                    name,
                    detail,
                    "none names a commit (uploads without git): connect the repository, or let \
                     the app report its commit ([deploy.app])",
                )
            } else {
                Check::ok(name, detail)
            }
        }
        Err(e @ Error::Fatal(_)) if e.to_string().contains("HTTP 404") => {
            Check::problem(name, e.to_string(), format!("correct {setting}"))
        }
        Err(e @ Error::Fatal(_)) => Check::problem(
            name,
            e.to_string(),
            format!("export a {var} that is valid: {needs}"),
        ),
        Err(e) => Check::problem(
            name,
            e.to_string(),
            format!("correct api_base in [deploy.{name}], or try again if the API is down"),
        ),
    };
    vec![check]
}

/// `?` or `&`, whichever joins another query parameter to `url`.
pub fn joiner(url: &str) -> char {
    if url.contains('?') { '&' } else { '?' }
}

/// A value fit for a URL path segment or query: unreserved characters kept, the rest escaped.
pub fn encode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.trim().bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Milliseconds since the epoch (Vercel's times).
pub fn from_millis(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// From `start` to `end`, when both are known and in order.
pub fn between(start: Option<SystemTime>, end: Option<SystemTime>) -> Option<Duration> {
    end?.duration_since(start?).ok().filter(|d| !d.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_for_urls() {
        assert_eq!(encode("my site/../x"), "my%20site%2F..%2Fx");
        assert_eq!(joiner("https://a/b?x=1"), '&');
        assert_eq!(joiner("https://a/b"), '?');
    }
}
