//! The application itself: a URL whose JSON names the commit it runs. The deployment of a sha is
//! live when the app reports that sha, or a commit that contains it (a later push went live in
//! its place). Needs no database and no token, and is sent none. Its section also holds the
//! readiness check the monitor makes after any live answer.
//!
//! Whether the reported commit contains this one is asked of git through [`Through`], which
//! every source shares (at most one fetch of the deploy branch per monitor).

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::kind::{
    Check, Configured, Error, Invalid, Kind, Observation, PollContext, Setup, Source, Starter,
    StarterContext, same_commit,
};
use super::newer::Through;
use crate::deploy::http::{self, Client};
use crate::time::duration;

/// `[deploy.app]`.
pub const KIND: AppKind = AppKind;

pub struct AppKind;

impl Kind for AppKind {
    fn name(&self) -> &'static str {
        "app"
    }

    fn configure(&self, section: &toml::Value) -> Result<Box<dyn Configured>, Invalid> {
        let settings: Settings = super::kind::section(section)?;
        let urls = [
            ("version_url", Some(&settings.version_url)),
            ("ready_url", settings.ready_url.as_ref()),
        ];
        for (key, url) in urls {
            if url.is_some_and(|u| !u.starts_with("http://") && !u.starts_with("https://")) {
                return Err((
                    key.to_owned(),
                    "must be an http:// or https:// URL".to_owned(),
                ));
            }
        }
        // Committed, like max_wait: every pusher's monitor would keep checking that long.
        if settings.ready_budget > MAX_READY_BUDGET {
            return Err(("ready_budget".to_owned(), "must be at most 1h".to_owned()));
        }
        Ok(Box::new(settings))
    }

    fn absent(&self) -> Vec<Check> {
        vec![
            Check::skipped("app", "no [deploy.app]"),
            Check::skipped(READINESS, "no ready_url in [deploy.app]"),
        ]
    }

    /// Offered to every clone: any app can report its commit.
    fn starter(&self, clone: &StarterContext<'_>) -> Starter {
        let found = clone
            .worktree
            .join("package.json")
            .is_file()
            .then(|| "a package.json: an app that can report its commit".to_owned());
        Starter {
            found: found.into_iter().collect(),
            snippet: Some(
                "# The app itself: a URL whose JSON answer names the commit it runs.\n\
                 # [deploy.app]\n\
                 # version_url = \"https://app.example/health\"\n\
                 # commit_pointer = \"/commit\"\n\
                 # ready_url = \"https://app.example/health/ready\"\n"
                    .to_owned(),
            ),
            next: None,
        }
    }
}

/// The longest `ready_budget` a configuration may set.
const MAX_READY_BUDGET: Duration = Duration::from_secs(60 * 60);

/// The name of the readiness check in `doctor`.
const READINESS: &str = "readiness";

/// `[deploy.app]` in `.mainstay.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Where the app reports its commit, e.g. `https://app.example/health`.
    pub version_url: String,
    /// The JSON pointer to the commit in that answer.
    #[serde(default = "default_pointer")]
    pub commit_pointer: String,
    /// Checked once the sha is live, e.g. `https://app.example/health/ready`.
    pub ready_url: Option<String>,
    /// How long readiness may take, retries included.
    #[serde(default = "default_budget", deserialize_with = "duration")]
    pub ready_budget: Duration,
}

fn default_pointer() -> String {
    "/commit".to_owned()
}

fn default_budget() -> Duration {
    Duration::from_secs(30)
}

pub struct App {
    settings: Settings,
    client: Client,
    through: Through,
}

impl App {
    fn new(settings: Settings, client: Client, through: Through) -> App {
        App {
            settings,
            client,
            through,
        }
    }

    /// Asks the version URL once for the commit it reports, whatever that string is.
    pub fn reported_commit(&self) -> Result<String, Error> {
        let url = &self.settings.version_url;
        let response = self.client.get(url, None)?;
        if response.status != 200 {
            return Err(Error::Transient(format!(
                "{}: HTTP {}",
                http::redact(url),
                response.status
            )));
        }
        let garbage = |message: String| Error::Garbage {
            url: http::redact(url),
            message,
        };
        let json: serde_json::Value =
            serde_json::from_str(&response.body).map_err(|e| garbage(e.to_string()))?;
        let pointer = &self.settings.commit_pointer;
        json.pointer(pointer)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| garbage(format!("no commit string at {pointer}")))
    }
}

impl Source for App {
    fn name(&self) -> &'static str {
        KIND.name()
    }

    fn poll(&mut self, sha: &str, cx: &PollContext<'_>) -> Result<Observation, Error> {
        let reported = match self.reported_commit() {
            Ok(reported) => reported,
            // An app being replaced refuses connections for a moment: while following, a phase,
            // not news; asked from another clone, it says nothing of this sha.
            Err(Error::Http(http::Error::Refused { .. })) => {
                return Ok(Observation::Unseen("app unreachable".to_owned()));
            }
            Err(e) => return Err(e),
        };
        let reported = reported.trim();
        let shown: String = reported.chars().take(12).collect();
        if same_commit(reported, sha) {
            return Ok(Observation::live());
        }
        if self.through.contains(sha, reported, cx) {
            Ok(Observation::LiveThrough {
                commit: reported.to_owned(),
                details: vec![format!(
                    "the app serves {shown}, which contains this commit"
                )],
            })
        } else {
            Ok(Observation::Unseen(format!("app serves {shown}")))
        }
    }
}

impl Configured for Settings {
    fn name(&self) -> &'static str {
        KIND.name()
    }

    fn open(&self, setup: &Setup<'_>) -> Result<Box<dyn Source>, Error> {
        Ok(Box::new(App::new(
            self.clone(),
            setup.client.clone(),
            Through::new(setup),
        )))
    }

    fn doctor(&self, setup: &Setup<'_>) -> Vec<Check> {
        vec![version(self, &setup.client), readiness(self, &setup.client)]
    }

    fn readiness(&self) -> Option<(&str, Duration)> {
        Some((self.ready_url.as_deref()?, self.ready_budget))
    }
}

/// The version URL answers with a commit id at the configured pointer.
fn version(settings: &Settings, client: &Client) -> Check {
    const NAME: &str = "app";
    let url = http::redact(&settings.version_url);
    let pointer = &settings.commit_pointer;
    let source = App::new(
        settings.clone(),
        client.clone(),
        Through::at(Path::new("."), "origin", None),
    );
    match source.reported_commit() {
        Ok(commit) if is_commit(&commit) => {
            let short: String = commit.chars().take(12).collect();
            Check::ok(NAME, format!("{url} answers with commit {short}"))
        }
        Ok(other) => {
            let shown: String = other.chars().take(40).collect();
            Check::problem(
                NAME,
                format!("{url} reports {shown:?} at {pointer}, which is not a commit id"),
                "make the app report the full sha of the commit it runs there",
            )
        }
        Err(e @ Error::Garbage { .. }) => Check::problem(
            NAME,
            e.to_string(),
            format!(
                "make the app answer JSON holding its commit sha at {pointer}, or correct \
                 commit_pointer in [deploy.app]"
            ),
        ),
        Err(e) => Check::problem(
            NAME,
            e.to_string(),
            "start the app, or correct version_url in [deploy.app]: it must answer 200",
        ),
    }
}

/// 7 to 64 hex digits: what `same_commit` can match against a pushed sha.
fn is_commit(text: &str) -> bool {
    (7..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The readiness URL answers 2xx now. Once: the monitor's retries are for a deploy warming up.
fn readiness(settings: &Settings, client: &Client) -> Check {
    let Some(url) = settings.ready_url.as_deref() else {
        return Check::skipped(READINESS, "no ready_url in [deploy.app]");
    };
    let shown = http::redact(url);
    let fix = "start the app, or correct ready_url in [deploy.app]: it must answer 2xx when ready";
    match client.get(url, None) {
        Ok(r) if (200..300).contains(&r.status) => {
            Check::ok(READINESS, format!("{shown} answers HTTP {}", r.status))
        }
        Ok(r) => Check::problem(READINESS, format!("{shown} answers HTTP {}", r.status), fix),
        Err(e) => Check::problem(READINESS, e.to_string(), fix),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_ids_are_hex_of_seven_to_sixty_four() {
        assert!(is_commit("0123abc") && is_commit(&"f".repeat(40)));
        assert!(!is_commit("012345") && !is_commit("unknown") && !is_commit(""));
    }
}
