//! The monitor's HTTP client: one blocking agent with a total time limit per request, statuses
//! returned rather than raised, and URLs shown without credentials.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{url}: connection refused")]
    Refused { url: String },
    #[error("{url}: no answer within {}", super::settings::show(*limit))]
    Timeout { url: String, limit: Duration },
    #[error("{url}: {message}")]
    Other { url: String, message: String },
}

/// A response, read whole (bodies here are small JSON documents and log texts).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
    /// `retry-after`, in seconds.
    pub retry_after: Option<Duration>,
    pub ratelimit_remaining: Option<u64>,
    /// `ratelimit-reset`, seconds since the Unix epoch.
    pub ratelimit_reset: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Client {
    agent: ureq::Agent,
    timeout: Duration,
}

impl Client {
    pub fn new(timeout: Duration) -> Client {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            // Credentials must not follow a redirect to another host.
            .max_redirects(3)
            .user_agent(concat!("mainstay/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Client { agent, timeout }
    }

    /// GET with no header of ours but `accept`, within `limit` if that is shorter than the
    /// client's own timeout: for checks that must end inside a budget.
    pub fn get_within(&self, url: &str, limit: Duration) -> Result<Response, Error> {
        let limit = limit.min(self.timeout);
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
        };
        client.finish(url, request.call())
    }

    /// GET, with a bearer token when given.
    pub fn get(&self, url: &str, bearer: Option<&str>) -> Result<Response, Error> {
        let mut request = self.agent.get(url).header("accept", "application/json");
        if let Some(token) = bearer {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        self.finish(url, request.call())
    }

    /// POST a JSON body.
    pub fn post_json(&self, url: &str, json: &str) -> Result<Response, Error> {
        let request = self
            .agent
            .post(url)
            .header("content-type", "application/json");
        self.finish(url, request.send(json))
    }

    fn finish(
        &self,
        url: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Response, Error> {
        let mut response = result.map_err(|e| self.error(url, e))?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let retry_after = header("retry-after").map(Duration::from_secs);
        let ratelimit_remaining = header("ratelimit-remaining");
        let ratelimit_reset = header("ratelimit-reset");
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
