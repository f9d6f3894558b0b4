//! A local stand-in for the hosting platforms' own APIs, each in its documented dialect:
//! Netlify (`/api/v1/sites/{id}/deploys`, `Link` pages, `commit_ref`, `context`), Render
//! (`/v1/services/{id}/deploys`, `{deploy, cursor}` items), Vercel (`/v6/deployments?projectId=
//! &target=`, `meta.githubCommitSha`, `pagination.next`) and Heroku (`/apps/{app}/builds`,
//! `Range` and `Next-Range`, `Accept: application/vnd.heroku+json; version=3`).
//!
//! Deployments appear at a time on the stand-in's timeline and go through their states at
//! times of their own. Every answer has a weak `etag` and a request naming it gets `304`. As
//! the services do, it refuses a request without a `User-Agent` (403) or with a wrong token
//! (401), answers a target it does not know with 404, and can be told to answer a request with
//! `429` and `retry-after`, or `503`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::http::{Reply, Request, Server};

pub const TOKEN: &str = "platformToken0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Netlify,
    Render,
    Vercel,
    Heroku,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Netlify => "netlify",
            Dialect::Render => "render",
            Dialect::Vercel => "vercel",
            Dialect::Heroku => "heroku",
        }
    }

    pub fn token_var(self) -> &'static str {
        match self {
            Dialect::Netlify => "NETLIFY_AUTH_TOKEN",
            Dialect::Render => "RENDER_API_KEY",
            Dialect::Vercel => "VERCEL_TOKEN",
            Dialect::Heroku => "HEROKU_API_KEY",
        }
    }

    /// The section for target `target` on a server at `base`.
    pub fn section(self, target: &str, base: &str) -> String {
        let key = match self {
            Dialect::Netlify => "site_id",
            Dialect::Render => "service_id",
            Dialect::Vercel => "project",
            Dialect::Heroku => "app",
        };
        format!(
            "[deploy.{}]\n{key} = \"{target}\"\napi_base = \"{base}\"\n",
            self.name()
        )
    }

    /// The platform's words: live, failed, cancelled, and the phases before.
    pub fn words(self) -> Words {
        match self {
            Dialect::Netlify => Words {
                live: "ready",
                failed: "error",
                cancelled: "error",
                phases: &["enqueued", "building", "uploading", "processing"],
            },
            Dialect::Render => Words {
                live: "live",
                failed: "build_failed",
                cancelled: "canceled",
                phases: &["created", "build_in_progress", "update_in_progress"],
            },
            Dialect::Vercel => Words {
                live: "READY",
                failed: "ERROR",
                cancelled: "CANCELED",
                phases: &["QUEUED", "INITIALIZING", "BUILDING"],
            },
            Dialect::Heroku => Words {
                live: "succeeded",
                failed: "failed",
                cancelled: "failed",
                phases: &["pending"],
            },
        }
    }
}

pub struct Words {
    pub live: &'static str,
    pub failed: &'static str,
    pub cancelled: &'static str,
    pub phases: &'static [&'static str],
}

/// One deployment on the timeline.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub id: String,
    /// The site, service, project or app it belongs to.
    pub target: String,
    pub sha: String,
    /// Netlify's context, Vercel's target: `production`, or a preview's.
    pub context: String,
    pub appears: Duration,
    /// `(from, state)`, oldest first; the state before the first is the first.
    pub states: Vec<(Duration, String)>,
    /// Netlify's `error_message`.
    pub message: String,
}

pub struct State {
    pub dialect: Dialect,
    pub deployments: Vec<Deployment>,
    pub started: Option<Instant>,
    /// Where the timeline is, when a test drives it (a simulated clock); else real time since
    /// the first request.
    pub now: Option<Box<dyn Fn() -> Duration + Send>>,
    /// Replies by request number (from 0), before the API's own.
    pub script: Vec<(usize, u16, Option<u64>)>,
    pub calls: usize,
}

pub struct Platform {
    pub server: Server,
    pub state: Arc<Mutex<State>>,
    pub dialect: Dialect,
}

impl Platform {
    pub fn start(dialect: Dialect) -> Platform {
        let state = Arc::new(Mutex::new(State {
            dialect,
            deployments: Vec::new(),
            started: None,
            now: None,
            script: Vec::new(),
            calls: 0,
        }));
        let served = state.clone();
        let server = Server::start(move |r| answer(&mut served.lock().expect("state"), r));
        Platform {
            server,
            state,
            dialect,
        }
    }

    /// Adds a deployment of `sha` to `target`, listed from `appears`, in states from their times.
    pub fn deploy(
        &self,
        id: &str,
        target: &str,
        sha: &str,
        appears: Duration,
        states: &[(u64, &str)],
    ) {
        self.deploy_in(id, target, sha, "production", appears, states, "");
    }

    #[allow(clippy::too_many_arguments)]
    pub fn deploy_in(
        &self,
        id: &str,
        target: &str,
        sha: &str,
        context: &str,
        appears: Duration,
        states: &[(u64, &str)],
        message: &str,
    ) {
        self.state
            .lock()
            .expect("state")
            .deployments
            .push(Deployment {
                id: id.to_owned(),
                target: target.to_owned(),
                sha: sha.to_owned(),
                context: context.to_owned(),
                appears,
                states: states
                    .iter()
                    .map(|(ms, s)| (Duration::from_millis(*ms), (*s).to_owned()))
                    .collect(),
                message: message.to_owned(),
            });
    }

    /// Request number `n` (from 0) is answered `status`, with `retry-after` when given.
    pub fn fault(&self, n: usize, status: u16, retry_after: Option<u64>) {
        self.state
            .lock()
            .expect("state")
            .script
            .push((n, status, retry_after));
    }

    /// The timeline follows `now` instead of real time.
    pub fn clock(&self, now: impl Fn() -> Duration + Send + 'static) {
        self.state.lock().expect("state").now = Some(Box::new(now));
    }

    pub fn base(&self) -> String {
        self.server.url("")
    }

    pub fn section(&self, target: &str) -> String {
        self.dialect.section(target, &self.base())
    }
}

fn now_of(state: &mut State) -> Duration {
    if let Some(now) = &state.now {
        return now();
    }
    state.started.get_or_insert_with(Instant::now).elapsed()
}

fn answer(state: &mut State, r: &Request) -> Reply {
    let call = state.calls;
    state.calls += 1;
    let now = now_of(state);
    if r.header("user-agent").is_none_or(|ua| ua.trim().is_empty()) {
        return Reply::json(403, r#"{"message":"a User-Agent header is required"}"#);
    }
    if r.header("authorization") != Some(format!("Bearer {TOKEN}").as_str()) {
        return Reply::json(401, r#"{"code":401,"message":"Unauthorized"}"#);
    }
    if let Some((_, status, retry)) = state.script.iter().find(|(n, _, _)| *n == call) {
        let headers = retry
            .map(|s| vec![("retry-after", s.to_string())])
            .unwrap_or_default();
        return Reply::Full(*status, headers, r#"{"message":"slow down"}"#.to_owned());
    }
    let dialect = state.dialect;
    let Some((target, query)) = route(dialect, r) else {
        return Reply::json(404, r#"{"message":"Not Found"}"#);
    };
    // Newest first: the latest to appear first.
    let mut listed: Vec<(Deployment, String)> = state
        .deployments
        .iter()
        .filter(|d| d.target == target && d.appears <= now)
        .filter(|d| match dialect {
            Dialect::Vercel => query
                .iter()
                .find(|(k, _)| k == "target")
                .is_none_or(|(_, t)| *t == d.context),
            _ => true,
        })
        .map(|d| {
            let state = d
                .states
                .iter()
                .rev()
                .find(|(at, _)| d.appears + *at <= now)
                .or(d.states.first())
                .map(|(_, s)| s.clone())
                .unwrap_or_default();
            (d.clone(), state)
        })
        .collect();
    if listed.is_empty() && !state.deployments.iter().any(|d| d.target == target) {
        return Reply::json(404, r#"{"message":"Not Found"}"#);
    }
    listed.sort_by_key(|(d, _)| std::cmp::Reverse(d.appears));
    page(dialect, r, &query, &listed)
}

/// The target a request names, and its query; `None` for a path the API does not have.
fn route(dialect: Dialect, r: &Request) -> Option<(String, Vec<(String, String)>)> {
    let query: Vec<(String, String)> = r
        .target
        .split_once('?')
        .map(|(_, q)| {
            q.split('&')
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let parts: Vec<&str> = r.path().split('/').collect();
    let target = match (dialect, parts.as_slice()) {
        (Dialect::Netlify, ["", "api", "v1", "sites", site, "deploys"]) => (*site).to_owned(),
        (Dialect::Render, ["", "v1", "services", service, "deploys"]) => (*service).to_owned(),
        (Dialect::Vercel, ["", "v6", "deployments"]) => query
            .iter()
            .find(|(k, _)| k == "projectId")
            .map(|(_, v)| v.clone())?,
        (Dialect::Heroku, ["", "apps", app, "builds"]) => {
            // The Platform API answers only its version 3.
            if r.header("accept") != Some("application/vnd.heroku+json; version=3") {
                return None;
            }
            (*app).to_owned()
        }
        _ => return None,
    };
    Some((target, query))
}

fn number(query: &[(String, String)], key: &str) -> Option<usize> {
    query
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.parse().ok())
}

const CREATED: u64 = 1_796_000_000;

fn iso(d: &Deployment) -> String {
    let at = std::time::UNIX_EPOCH + Duration::from_secs(CREATED) + d.appears;
    mainstay::time::rfc3339(at)
}

fn page(
    dialect: Dialect,
    r: &Request,
    query: &[(String, String)],
    listed: &[(Deployment, String)],
) -> Reply {
    match dialect {
        Dialect::Netlify => {
            let per_page = number(query, "per_page").unwrap_or(100);
            let page = number(query, "page").unwrap_or(1).max(1);
            let items: Vec<Value> = listed
                .iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .map(|(d, state)| {
                    json!({"id": d.id, "site_id": d.target, "state": state, "context": d.context,
                        "branch": "main", "commit_ref": d.sha, "created_at": iso(d),
                        "error_message": if state == "error" { Value::from(d.message.clone()) } else { Value::Null },
                        "deploy_time": 30})
                })
                .collect();
            let mut headers = Vec::new();
            if page * per_page < listed.len() {
                let next = format!("{}?page={}&per_page={per_page}", r.path(), page + 1);
                headers.push((
                    "link",
                    format!(
                        "<http://{}{next}>; rel=\"next\"",
                        r.header("host").unwrap_or("")
                    ),
                ));
            }
            Reply::conditional(r, 200, headers, Value::from(items).to_string())
        }
        Dialect::Render => {
            let limit = number(query, "limit").unwrap_or(20);
            let after = query
                .iter()
                .find(|(k, _)| k == "cursor")
                .map(|(_, v)| v.clone());
            let start = after
                .and_then(|c| listed.iter().position(|(d, _)| d.id == c))
                .map_or(0, |i| i + 1);
            let items: Vec<Value> = listed
                .iter()
                .skip(start)
                .take(limit)
                .map(|(d, state)| {
                    json!({"deploy": {"id": d.id, "status": state, "trigger": "new_commit",
                        "commit": {"id": d.sha, "message": "a change", "createdAt": iso(d)},
                        "createdAt": iso(d), "updatedAt": iso(d), "finishedAt": Value::Null},
                        "cursor": d.id})
                })
                .collect();
            Reply::conditional(r, 200, Vec::new(), Value::from(items).to_string())
        }
        Dialect::Vercel => {
            let limit = number(query, "limit").unwrap_or(20);
            let until = number(query, "until");
            let created = |d: &Deployment| (CREATED * 1000) as u128 + d.appears.as_millis();
            let items: Vec<&(Deployment, String)> = listed
                .iter()
                .filter(|(d, _)| until.is_none_or(|u| created(d) < u as u128))
                .take(limit)
                .collect();
            let next = (items.len() == limit)
                .then(|| items.last().map(|(d, _)| created(d)))
                .flatten();
            let deployments: Vec<Value> = items
                .iter()
                .map(|(d, state)| {
                    json!({"uid": d.id, "name": d.target, "url": format!("{}-{}.vercel.app", d.target, d.id),
                        "created": created(d), "createdAt": created(d), "state": state, "readyState": state,
                        "target": d.context, "source": "git", "projectId": d.target,
                        "meta": {"githubCommitSha": d.sha, "githubCommitRef": "main", "githubOrg": "acme"}})
                })
                .collect();
            let body = json!({"deployments": deployments,
                "pagination": {"count": deployments.len(), "next": next, "prev": Value::Null}});
            Reply::conditional(r, 200, Vec::new(), body.to_string())
        }
        Dialect::Heroku => {
            let range = r.header("range").unwrap_or("");
            let max = range
                .split("max=")
                .nth(1)
                .and_then(|m| m.split([',', ';']).next())
                .and_then(|m| m.trim().parse().ok())
                .unwrap_or(200usize);
            let after = range
                .strip_prefix("id ]")
                .and_then(|r| r.split("..").next())
                .map(str::trim)
                .map(str::to_owned);
            let start = after
                .and_then(|c| listed.iter().position(|(d, _)| d.id == c))
                .map_or(0, |i| i + 1);
            let items: Vec<&(Deployment, String)> = listed.iter().skip(start).take(max).collect();
            let builds: Vec<Value> = items
                .iter()
                .map(|(d, state)| {
                    json!({"id": d.id, "status": state, "app": {"id": d.target},
                        "source_blob": {"url": "https://example.invalid/x.tgz", "version": d.sha, "checksum": Value::Null},
                        "created_at": iso(d), "updated_at": iso(d)})
                })
                .collect();
            let more = start + items.len() < listed.len();
            let mut headers = Vec::new();
            if more && let Some((last, _)) = items.last() {
                headers.push(("next-range", format!("id ]{}..; max={max}", last.id)));
            }
            Reply::conditional(
                r,
                if more { 206 } else { 200 },
                headers,
                Value::from(builds).to_string(),
            )
        }
    }
}
