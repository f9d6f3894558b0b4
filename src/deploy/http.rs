//! The monitor's HTTP client: one blocking agent with a total time limit per request, statuses
//! returned rather than raised, and URLs shown without credentials.
//!
//! It is also the one place that decides where a token may go. The settings that name an API's
//! address are committed, so any agent can change them; a token therefore goes only to its API's
//! own host over https, or to a host the environment names in `MAINSTAY_API_HOSTS`
//! (comma-separated `host[:port]`, over https; `http://host[:port]` allows plain http too;
//! without a port, any port of that host). Every request with a
//! [`Bearer`] is checked here, whoever sends it.

use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{url}: connection refused")]
    Refused { url: String },
    #[error("{url}: no answer within {}", crate::time::show(*limit))]
    Timeout { url: String, limit: Duration },
    #[error("{url}: {message}")]
    Other { url: String, message: String },
    #[error(
        "{url}: not sent: the token goes only to https://{home} or to a host named in {API_HOSTS_VAR} (over https, unless the entry names http://)"
    )]
    Untrusted { url: String, home: &'static str },
}

/// The environment variable naming further hosts a token may be sent to.
pub const API_HOSTS_VAR: &str = "MAINSTAY_API_HOSTS";

/// A token, with the one host it belongs to.
#[derive(Clone, Copy)]
pub struct Bearer<'a> {
    pub token: &'a str,
    /// The API's own host, e.g. `api.digitalocean.com`: the only one reached over https by default.
    pub home: &'static str,
}

/// The hosts of `MAINSTAY_API_HOSTS`, lowercased, empty entries dropped.
pub fn api_hosts(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect()
}

/// A response, read whole (bodies here are small JSON documents and log texts).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
    /// `retry-after`, in seconds.
    pub retry_after: Option<Duration>,
    /// `ratelimit-remaining`, or GitHub's `x-ratelimit-remaining`.
    pub ratelimit_remaining: Option<u64>,
    /// `ratelimit-reset` (or `x-ratelimit-reset`), seconds since the Unix epoch.
    pub ratelimit_reset: Option<u64>,
    /// `etag`, for a conditional request (`if-none-match`) next time.
    pub etag: Option<String>,
    /// Every header, names lowercased (`link`, `location`, `next-range`).
    pub headers: Vec<(String, String)>,
}

impl Response {
    /// The first header named `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `rel="next"` URL of a `Link` header (RFC 8288), as GitHub and Netlify paginate.
    pub fn next_link(&self) -> Option<String> {
        let link = self.header("link")?;
        link.split(',').find_map(|part| {
            let (url, params) = part.split_once(';')?;
            let next = params
                .split(';')
                .any(|p| p.trim().eq_ignore_ascii_case("rel=\"next\"") || p.trim() == "rel=next");
            let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
            next.then(|| url.to_owned())
        })
    }
}

/// Redirects followed at most.
const MAX_REDIRECTS: u32 = 3;

#[derive(Debug, Clone)]
pub struct Client {
    agent: ureq::Agent,
    timeout: Duration,
    /// `MAINSTAY_API_HOSTS`: where tokens may go besides their API's own host.
    token_hosts: Vec<String>,
    /// No request goes on past this: the monitor's `max_wait`. An `Instant`, not the monitor's
    /// clock, since the agent's timeouts are real time too.
    deadline: Option<Instant>,
}

impl Client {
    /// A client that sends tokens only to their own API's host (see [`Client::trusting`]).
    pub fn new(timeout: Duration) -> Client {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            // Credentials must not follow a redirect to another host.
            .max_redirects(3)
            .user_agent(concat!("mainstay/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Client {
            agent,
            timeout,
            token_hosts: Vec::new(),
            deadline: None,
        }
    }

    /// This client, each request of it cut at `deadline` if that comes before its timeout.
    pub fn until(mut self, deadline: Instant) -> Client {
        self.deadline = Some(deadline);
        self
    }

    /// How long the next request may take: the timeout, or less if the deadline is nearer;
    /// the error when the deadline has passed (nothing is sent then).
    fn limit(&self, url: &str) -> Result<Duration, Error> {
        let Some(deadline) = self.deadline else {
            return Ok(self.timeout);
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::Timeout {
                url: redact(url),
                limit: Duration::ZERO,
            });
        }
        Ok(left.min(self.timeout))
    }

    /// This client, also sending tokens to `hosts` (from `MAINSTAY_API_HOSTS`, see [`api_hosts`]).
    pub fn trusting(mut self, hosts: Vec<String>) -> Client {
        self.token_hosts = hosts;
        self
    }

    /// Whether a request to `url` may carry a token that belongs to `home`; the error says why not.
    pub fn may_send(&self, url: &str, home: &'static str) -> Result<(), Error> {
        let untrusted = || Error::Untrusted {
            url: redact(url),
            home,
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(untrusted)?;
        let scheme = scheme.to_ascii_lowercase();
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        if authority.contains('@') {
            return Err(untrusted());
        }
        let authority = authority.to_ascii_lowercase();
        let (host, port) = split_port(&authority);
        let default_port = match scheme.as_str() {
            "https" => "443",
            "http" => "80",
            _ => return Err(untrusted()),
        };
        let port = port.unwrap_or(default_port);
        if scheme == "https" && host == home && port == "443" {
            return Ok(());
        }
        let named = self.token_hosts.iter().any(|entry| {
            // Over https only, unless the entry itself names `http://` (a local stand-in).
            let (plain, entry) = match entry.split_once("://") {
                Some(("http", rest)) => (true, rest),
                Some(("https", rest)) => (false, rest),
                Some(_) => return false,
                None => (false, entry.as_str()),
            };
            let entry = entry.trim_end_matches('/');
            let (h, p) = split_port(entry);
            (scheme == "https" || plain) && h == host && p.is_none_or(|p| p == port)
        });
        if named { Ok(()) } else { Err(untrusted()) }
    }

    /// GET with no header of ours but `accept`, within `limit` if that is shorter than the
    /// client's own timeout: for checks that must end inside a budget.
    pub fn get_within(&self, url: &str, limit: Duration) -> Result<Response, Error> {
        let limit = limit.min(self.limit(url)?);
        let request = self
            .agent
            .get(url)
            .header("accept", "application/json")
            .config()
            .timeout_global(Some(limit))
            .build();
        let client = Client {
            agent: self.agent.clone(),
            timeout: limit,
            token_hosts: Vec::new(),
            deadline: None,
        };
        client.finish(url, request.call())
    }

    /// GET, with a bearer token when given, which goes only where [`Client::may_send`] allows.
    pub fn get(&self, url: &str, bearer: Option<Bearer<'_>>) -> Result<Response, Error> {
        self.get_with(url, bearer, &[])
    }

    /// [`Client::get`] with further request headers (an API's own `accept`, `if-none-match`).
    pub fn get_with(
        &self,
        url: &str,
        bearer: Option<Bearer<'_>>,
        headers: &[(&str, &str)],
    ) -> Result<Response, Error> {
        let mut url = url.to_owned();
        let mut bearer = bearer;
        for _ in 0..MAX_REDIRECTS {
            let response = self.get_once(&url, bearer, headers)?;
            let Some(location) = response
                .header("location")
                .filter(|_| matches!(response.status, 301 | 302 | 303 | 307 | 308))
            else {
                return Ok(response);
            };
            let next = resolve(&url, location);
            // The token follows a redirect only to the same API address (a renamed or
            // transferred repository); never to another host, port or scheme.
            if bearer.is_some() && authority(&next) != authority(&url) {
                bearer = None;
            }
            url = next;
        }
        self.get_once(&url, bearer, headers)
    }

    /// One GET, no redirect followed.
    fn get_once(
        &self,
        url: &str,
        bearer: Option<Bearer<'_>>,
        headers: &[(&str, &str)],
    ) -> Result<Response, Error> {
        let mut request = self.agent.get(url);
        if !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("accept"))
        {
            request = request.header("accept", "application/json");
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(bearer) = bearer {
            self.may_send(url, bearer.home)?;
            request = request.header("authorization", format!("Bearer {}", bearer.token));
        }
        let limit = self.limit(url)?;
        let request = request
            .config()
            .timeout_global(Some(limit))
            .max_redirects(0)
            .max_redirects_will_error(false)
            .build();
        self.within(limit).finish(url, request.call())
    }

    /// POST a JSON body.
    pub fn post_json(&self, url: &str, json: &str) -> Result<Response, Error> {
        let limit = self.limit(url)?;
        let request = self
            .agent
            .post(url)
            .header("content-type", "application/json")
            .config()
            .timeout_global(Some(limit))
            .build();
        self.within(limit).finish(url, request.send(json))
    }

    /// This client, its errors naming `limit` as the time a request had.
    fn within(&self, limit: Duration) -> Client {
        Client {
            timeout: limit,
            ..self.clone()
        }
    }

    fn finish(
        &self,
        url: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Response, Error> {
        let mut response = result.map_err(|e| self.error(url, e))?;
        let text = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_owned())
        };
        let number = |name: &str| text(name).and_then(|v| v.parse::<u64>().ok());
        let retry_after = number("retry-after").map(Duration::from_secs);
        let ratelimit_remaining =
            number("ratelimit-remaining").or_else(|| number("x-ratelimit-remaining"));
        let ratelimit_reset = number("ratelimit-reset").or_else(|| number("x-ratelimit-reset"));
        let etag = text("etag").filter(|e| !e.is_empty());
        let headers = response
            .headers()
            .iter()
            .filter_map(|(n, v)| {
                Some((
                    n.as_str().to_ascii_lowercase(),
                    v.to_str().ok()?.trim().to_owned(),
                ))
            })
            .collect();
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(4 << 20)
            .read_to_string()
            .map_err(|e| self.error(url, e))?;
        Ok(Response {
            status,
            body,
            retry_after,
            ratelimit_remaining,
            ratelimit_reset,
            etag,
            headers,
        })
    }

    fn error(&self, url: &str, error: ureq::Error) -> Error {
        let url = redact(url);
        match error {
            ureq::Error::Timeout(_) => Error::Timeout {
                url,
                limit: self.timeout,
            },
            ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                Error::Refused { url }
            }
            ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => Error::Timeout {
                url,
                limit: self.timeout,
            },
            other => Error::Other {
                url,
                message: other.to_string(),
            },
        }
    }
}

/// `scheme://host:port` of a URL, lowercased, the port made explicit.
fn authority(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())].to_ascii_lowercase();
    let (host, port) = split_port(&authority);
    let port = port.unwrap_or(if scheme == "https" { "443" } else { "80" });
    Some(format!("{scheme}://{host}:{port}"))
}

/// A `Location` against the URL it answered: absolute, or a path on the same address.
fn resolve(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_owned();
    }
    let Some((scheme, rest)) = base.split_once("://") else {
        return location.to_owned();
    };
    let host = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if location.starts_with('/') {
        format!("{scheme}://{host}{location}")
    } else {
        let dir = &rest[..rest.rfind('/').map_or(rest.len(), |i| i + 1)];
        let dir = if dir.contains('/') {
            dir.to_owned()
        } else {
            format!("{dir}/")
        };
        format!("{scheme}://{dir}{location}")
    }
}

/// `host` and `port` of `host[:port]`, IPv6 literals in brackets included.
fn split_port(authority: &str) -> (&str, Option<&str>) {
    let colon = if authority.starts_with('[') {
        authority.find("]:").map(|i| i + 1)
    } else {
        authority.rfind(':')
    };
    match colon {
        Some(i) => (&authority[..i], Some(&authority[i + 1..])),
        None => (authority, None),
    }
}

/// A URL fit for a log line: no user, password or query string (both may carry secrets).
pub fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let path = &path[..path.find(['?', '#']).unwrap_or(path.len())];
    if scheme.is_empty() {
        format!("{host}{path}")
    } else {
        format!("{scheme}://{host}{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_go_only_to_their_home_or_named_hosts() {
        let home = "api.digitalocean.com";
        let client = Client::new(Duration::from_secs(1));
        assert!(
            client
                .may_send("https://api.digitalocean.com/v2/apps", home)
                .is_ok()
        );
        assert!(
            client
                .may_send("https://API.digitalocean.com:443/v2", home)
                .is_ok()
        );
        for bad in [
            "http://api.digitalocean.com/v2",
            "https://api.digitalocean.com:8443/v2",
            "https://evil.example/v2",
            "https://api.digitalocean.com.evil.example/v2",
            "https://x@api.digitalocean.com/v2",
            "http://127.0.0.1:18081/v2",
            "file:///etc/passwd",
        ] {
            assert!(client.may_send(bad, home).is_err(), "{bad}");
        }
        let client = client.trusting(api_hosts(Some(
            "http://127.0.0.1:18081, ghe.corp ,http://[::1]:9, proxy.corp:8080",
        )));
        assert!(client.may_send("http://127.0.0.1:18081/v2", home).is_ok());
        assert!(client.may_send("http://127.0.0.1:18082/v2", home).is_err());
        // Named without `http://`: the token goes over https only, on any port given.
        assert!(client.may_send("http://ghe.corp/api/v3", home).is_err());
        assert!(client.may_send("http://proxy.corp:8080/", home).is_err());
        assert!(client.may_send("https://proxy.corp:8080/", home).is_ok());
        assert!(
            client
                .may_send("https://ghe.corp:8443/api/v3", home)
                .is_ok()
        );
        assert!(client.may_send("http://[::1]:9/", home).is_ok());
        let err = client
            .may_send("http://evil:18081/v2", home)
            .expect_err("not named");
        assert_eq!(
            err.to_string(),
            "http://evil:18081/v2: not sent: the token goes only to https://api.digitalocean.com \
             or to a host named in MAINSTAY_API_HOSTS (over https, unless the entry names http://)"
        );
    }

    #[test]
    fn redaction_drops_credentials_and_queries() {
        assert_eq!(
            redact("https://user:s3cret@db.example:3306/app?password=x"),
            "https://db.example:3306/app"
        );
        assert_eq!(
            redact("http://127.0.0.1:8080/health"),
            "http://127.0.0.1:8080/health"
        );
        assert_eq!(redact("http://h/p#frag"), "http://h/p");
    }
}
