//! A local stand-in for GitHub's REST API, speaking its documented shapes and headers: the
//! deployments of a repository and their statuses on a timeline, the combined commit status,
//! check runs, `etag` and `304 Not Modified`, the `x-ratelimit-*` headers of the primary rate
//! limit (a 200 with `x-ratelimit-remaining: 0`, then 403 until the reset), 401 for any other
//! token, 404 for any other repository, under a path prefix when one is set (GitHub Enterprise
//! Server's `/api/v3`). Scripted answers (secondary rate limits, 5xx) go first.
//! The timeline starts at the first request, so it runs from the monitor's start however long
//! the test took to set up.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::http::{Reply, Request, Server};

pub const TOKEN: &str = "ghp_testToken0123456789abcdefABCDEF";
pub const REPO: &str = "acme/web";
pub const PRODUCTION: &str = "Production – web";
pub const PREVIEW: &str = "Preview – web";

/// One deployment: listed from `appears` on, each status shown from its time on.
pub struct Deployment {
    pub id: u64,
    pub sha: String,
    pub environment: String,
    pub created_at: String,
    pub appears: Duration,
    /// (shown from, state, description, environment_url, log_url, created_at)
    pub statuses: Vec<(Duration, Value)>,
}

/// A commit status or a check run, shown from its time on.
pub struct Timed {
    pub sha: String,
    pub at: Duration,
    pub body: Value,
}

type Script = dyn Fn(&Request, usize) -> Option<Reply> + Send;

pub struct State {
    pub deployments: Vec<Deployment>,
    pub commit_statuses: Vec<Timed>,
    pub check_runs: Vec<Timed>,
    /// Requests the primary limit allows before it is spent, and when it resets.
    pub remaining: u64,
    pub reset: u64,
    /// Where the API is under the server's root: empty for api.github.com's layout, `/api/v3`
    /// for GitHub Enterprise Server's.
    pub prefix: String,
    /// The first request's time: the timeline's zero.
    started: Option<Instant>,
    calls: usize,
    script: Option<Box<Script>>,
}

/// The fake API and what it serves.
pub struct GitHub {
    pub server: Server,
    pub state: Arc<Mutex<State>>,
}

/// A status as GitHub lists it.
pub fn status(state: &str, description: &str) -> Value {
    json!({
        "id": 1, "state": state, "description": description,
        "environment": PRODUCTION, "creator": {"login": "vercel[bot]"},
        "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z",
        "target_url": "", "log_url": "", "environment_url": "",
    })
}

/// A status with its URLs and creation time set.
pub fn status_at(state: &str, description: &str, created_at: &str) -> Value {
    let mut value = status(state, description);
    value["created_at"] = json!(created_at);
    value
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after the epoch")
        .as_secs()
}

/// `a=1&b=x%20y` as pairs, percent-decoded.
fn query(request: &Request) -> Vec<(String, String)> {
    let Some((_, query)) = request.target.split_once('?') else {
        return Vec::new();
    };
    let decode = |text: &str| {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
                out.push(u8::from_str_radix(hex, 16).expect("hex"));
                i += 3;
            } else {
                out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
                i += 1;
            }
        }
        String::from_utf8(out).expect("utf-8")
    };
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

impl GitHub {
    pub fn start() -> GitHub {
        let state = Arc::new(Mutex::new(State {
            deployments: Vec::new(),
            commit_statuses: Vec::new(),
            check_runs: Vec::new(),
            remaining: 5000,
            reset: now_secs() + 3600,
            prefix: String::new(),
            started: None,
            calls: 0,
            script: None,
        }));
        let served = state.clone();
        let server = Server::start(move |r| answer(&mut served.lock().expect("state"), r));
        GitHub { server, state }
    }

    /// Adds a deployment of `sha` to `environment`, listed from `appears` on, with statuses
    /// shown from their times on (given oldest first).
    pub fn deploy(
        &self,
        id: u64,
        sha: &str,
        environment: &str,
        appears: Duration,
        statuses: Vec<(Duration, Value)>,
    ) {
        let mut state = self.state.lock().expect("state");
        state.deployments.push(Deployment {
            id,
            sha: sha.to_owned(),
            environment: environment.to_owned(),
            created_at: "2026-12-01T10:00:00Z".to_owned(),
            appears,
            statuses,
        });
    }

    /// Sets a deployment's creation time (for the history).
    pub fn created_at(&self, id: u64, at: &str) {
        let mut state = self.state.lock().expect("state");
        let d = state
            .deployments
            .iter_mut()
            .find(|d| d.id == id)
            .expect("a deployment");
        d.created_at = at.to_owned();
    }

    /// Answers requests with `script` first, given each request and its number (from 0);
    /// `None` lets the API answer.
    pub fn script(&self, script: impl Fn(&Request, usize) -> Option<Reply> + Send + 'static) {
        self.state.lock().expect("state").script = Some(Box::new(script));
    }

    /// `[deploy.github]` for this server, after `before` (the `[deploy]` settings).
    pub fn config(&self, before: &str, extra: &str) -> String {
        format!(
            "{before}\n[deploy.github]\nrepo = \"{REPO}\"\nenvironment = \"{PRODUCTION}\"\n\
             api_base = \"{}\"\n{extra}",
            self.server.url("")
        )
    }

    /// Where its timeline is: the time since the first request.
    pub fn elapsed(&self) -> Duration {
        let state = self.state.lock().expect("state");
        state.started.map_or(Duration::ZERO, |s| s.elapsed())
    }

    /// The requests to the API, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }
}

fn answer(state: &mut State, r: &Request) -> Reply {
    let call = state.calls;
    state.calls += 1;
    let elapsed = state.started.get_or_insert_with(Instant::now).elapsed();
    if r.header("authorization") != Some(format!("Bearer {TOKEN}").as_str()) {
        return Reply::json(
            401,
            r#"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}"#,
        );
    }
    if let Some(reply) = state.script.as_ref().and_then(|s| s(r, call)) {
        return reply;
    }
    let now = now_secs();
    if state.remaining == 0 && now >= state.reset {
        state.remaining = 5000;
        state.reset = now + 3600;
    }
    let limit = |remaining: u64, reset: u64| {
        vec![
            ("x-ratelimit-limit", "5000".to_owned()),
            ("x-ratelimit-remaining", remaining.to_string()),
            ("x-ratelimit-used", (5000 - remaining.min(5000)).to_string()),
            ("x-ratelimit-reset", reset.to_string()),
            ("x-ratelimit-resource", "core".to_owned()),
        ]
    };
    if state.remaining == 0 {
        return Reply::Full(
            403,
            limit(0, state.reset),
            r#"{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}"#.to_owned(),
        );
    }
    let not_found = || {
        Reply::json(
            404,
            r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest","status":"404"}"#,
        )
    };
    let base = format!("{}/repos/{REPO}", state.prefix);
    let Some(rest) = r.path().strip_prefix(&base) else {
        return not_found();
    };
    let params = query(r);
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let per_page: usize = param("per_page").and_then(|p| p.parse().ok()).unwrap_or(30);
    let page: usize = param("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    let mut link = None;
    let body = match parts.as_slice() {
        [] => json!({"id": 1, "name": "web", "full_name": REPO, "private": true,
                     "default_branch": "main"}),
        ["deployments"] => {
            let matching: Vec<&Deployment> = state
                .deployments
                .iter()
                .rev()
                .filter(|d| d.appears <= elapsed)
                .filter(|d| param("sha").is_none_or(|s| s == d.sha))
                .filter(|d| param("environment").is_none_or(|e| e == d.environment))
                .collect();
            if page * per_page < matching.len() {
                // GitHub's pagination: the same query with the next page, absolute.
                let others: Vec<String> = params
                    .iter()
                    .filter(|(k, _)| k != "page")
                    .map(|(k, v)| {
                        let v: String = v
                            .bytes()
                            .map(|b| match b {
                                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                                    char::from(b).to_string()
                                }
                                _ => format!("%{b:02X}"),
                            })
                            .collect();
                        format!("{k}={v}")
                    })
                    .collect();
                link = Some(format!(
                    "<http://{}{}?{}&page={}>; rel=\"next\"",
                    r.header("host").unwrap_or(""),
                    r.path(),
                    others.join("&"),
                    page + 1
                ));
            }
            let listed: Vec<Value> = matching
                .into_iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .map(|d| {
                    json!({
                        "url": format!("https://api.github.com/repos/{REPO}/deployments/{}", d.id),
                        "id": d.id, "node_id": "DE_x", "sha": d.sha, "ref": "main",
                        "task": "deploy", "payload": {}, "original_environment": d.environment,
                        "environment": d.environment, "description": null,
                        "creator": {"login": "vercel[bot]"},
                        "created_at": d.created_at, "updated_at": d.created_at,
                        "statuses_url": format!("https://api.github.com/repos/{REPO}/deployments/{}/statuses", d.id),
                        "repository_url": format!("https://api.github.com/repos/{REPO}"),
                        "transient_environment": false,
                        "production_environment": d.environment.starts_with("Production"),
                    })
                })
                .collect();
            Value::Array(listed)
        }
        ["deployments", id, "statuses"] => {
            let Some(d) = state
                .deployments
                .iter()
                .find(|d| id.parse() == Ok(d.id) && d.appears <= elapsed)
            else {
                return not_found();
            };
            let shown: Vec<Value> = d
                .statuses
                .iter()
                .rev()
                .filter(|(at, _)| *at <= elapsed)
                .take(per_page)
                .map(|(_, s)| s.clone())
                .collect();
            Value::Array(shown)
        }
        ["commits", sha, "status"] => {
            let statuses: Vec<&Value> = state
                .commit_statuses
                .iter()
                .rev()
                .filter(|t| t.sha == *sha && t.at <= elapsed)
                .map(|t| &t.body)
                .collect();
            // The latest status per context, as the combined status lists them.
            let mut latest: Vec<Value> = Vec::new();
            for s in statuses {
                if !latest.iter().any(|l| l["context"] == s["context"]) {
                    latest.push(s.clone());
                }
            }
            let state_word = if latest.iter().any(|s| s["state"] != "success") {
                if latest
                    .iter()
                    .any(|s| s["state"] == "failure" || s["state"] == "error")
                {
                    "failure"
                } else {
                    "pending"
                }
            } else if latest.is_empty() {
                "pending"
            } else {
                "success"
            };
            json!({"state": state_word, "statuses": latest, "sha": sha,
                   "total_count": latest.len(), "repository": {"full_name": REPO}})
        }
        ["commits", sha, "check-runs"] => {
            let mut latest: Vec<Value> = Vec::new();
            for t in state
                .check_runs
                .iter()
                .rev()
                .filter(|t| t.sha == *sha && t.at <= elapsed)
            {
                if !latest.iter().any(|l| l["name"] == t.body["name"]) {
                    latest.push(t.body.clone());
                }
            }
            json!({"total_count": latest.len(), "check_runs": latest})
        }
        _ => return not_found(),
    };
    let headers = link.map(|l| vec![("link", l)]).unwrap_or_default();
    let reply = Reply::conditional(r, 200, headers, body.to_string());
    // A 304 does not count against the primary rate limit.
    let counted = matches!(&reply, Reply::Full(200, _, _));
    if counted {
        state.remaining -= 1;
    }
    let (remaining, reset) = (state.remaining, state.reset);
    match reply {
        Reply::Full(status, mut headers, body) => {
            headers.extend(limit(remaining, reset));
            Reply::Full(status, headers, body)
        }
        hang => hang,
    }
}

/// A commit status as the combined status lists it.
pub fn commit_status(context: &str, state: &str, description: &str) -> Value {
    json!({"context": context, "state": state, "description": description,
           "target_url": format!("https://ci.example/{context}"),
           "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z"})
}

/// A check run; `conclusion` only when completed.
pub fn check_run(name: &str, status: &str, conclusion: Option<&str>, title: &str) -> Value {
    json!({"id": 9, "name": name, "head_sha": "", "status": status, "conclusion": conclusion,
           "started_at": "2026-12-01T10:00:00Z", "completed_at": null,
           "details_url": "https://fly.example/runs/9", "html_url": "https://github.com/acme/web/runs/9",
           "output": {"title": title, "summary": ""}})
}
