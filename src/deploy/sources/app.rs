//! The application itself: a URL whose JSON names the commit it runs. The deployment of a sha is
//! live when the app reports that sha. Needs no database and no token.

use std::time::Duration;

use serde::Deserialize;

use super::{Error, Observation, PollContext, Source, same_commit};
use crate::deploy::http::{self, Client};
use crate::time::duration;

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
}

impl App {
    pub fn new(settings: Settings, client: Client) -> App {
        App { settings, client }
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
        "app"
    }

    fn poll(&mut self, sha: &str, _cx: &PollContext<'_>) -> Result<Observation, Error> {
        let reported = match self.reported_commit() {
            Ok(reported) => reported,
            // An app being replaced refuses connections for a moment: that is a phase, not news.
            Err(Error::Http(http::Error::Refused { .. })) => {
                return Ok(Observation::Pending("app unreachable".to_owned()));
            }
            Err(e) => return Err(e),
        };
        if same_commit(&reported, sha) {
            Ok(Observation::Live)
        } else {
            let shown: String = reported.chars().take(12).collect();
            Ok(Observation::Pending(format!("app serves {shown}")))
        }
    }
}
