//! Where the monitor learns how a deployment goes. Every configured source is asked once per poll
//! round; the first definitive answer (live, failed, superseded) wins.

use std::time::Duration;

use super::http;
use super::secrets::Secrets;
use super::settings::Settings;
use crate::clock::Clock;

pub mod app;
pub mod digitalocean;
pub mod mysql;

/// What a source says about the deployment of one sha.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// Not decided yet; the phase in the source's words (`building`, `not listed yet`, ...).
    Pending(String),
    /// This sha is deployed and serving.
    Live,
    /// The deployment failed; `details` (error message, log tail) go to the status log.
    Failed {
        reason: String,
        details: Vec<String>,
    },
    /// A newer deployment that does not contain this sha replaced it.
    Superseded { reason: String },
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
}

pub trait Source {
    /// Short and stable, for log lines and records: `app`, `mysql`, `digitalocean`.
    fn name(&self) -> &'static str;

    /// Asks once about `sha`.
    fn poll(&mut self, sha: &str, cx: &PollContext<'_>) -> Result<Observation, Error>;

    /// How long past deployments took, if the source knows; asked once, before the first poll.
    fn history(&mut self, _cx: &PollContext<'_>) -> Vec<Duration> {
        Vec::new()
    }
}

/// The sources `[deploy]` configures, in the order they are asked: the app first (cheapest and
/// closest to the truth), then the database, then the API. A source that cannot be set up is
/// returned as an error beside the others, so the run goes on with what it has.
pub fn from_settings(settings: &Settings, secrets: &Secrets) -> (Vec<Box<dyn Source>>, Vec<Error>) {
    let client = secrets.client(settings.request_timeout);
    let mut sources: Vec<Box<dyn Source>> = Vec::new();
    let mut problems = Vec::new();
    if let Some(app) = &settings.app {
        sources.push(Box::new(app::App::new(app.clone(), client.clone())));
    }
    if let Some(table) = mysql_settings(settings, secrets) {
        match mysql::Mysql::new(table, secrets, settings.request_timeout) {
            Ok(source) => {
                // Not a problem with the source: a note for the log, which problems go to.
                problems.extend(source.warning().map(|w| Error::Transient(w.to_owned())));
                sources.push(Box::new(source));
            }
            Err(e) => problems.push(e),
        }
    }
    if let Some(digitalocean) = &settings.digitalocean {
        match &secrets.digitalocean_token {
            Some(token) => {
                match digitalocean::DigitalOcean::new(digitalocean.clone(), token.clone(), client) {
                    Ok(source) => sources.push(Box::new(source)),
                    Err(e) => problems.push(e),
                }
            }
            None => problems.push(Error::Fatal(
                "digitalocean: DIGITALOCEAN_TOKEN is not set in the environment".to_owned(),
            )),
        }
    }
    (sources, problems)
}

/// `[deploy.mysql]`, or its defaults when only `MAINSTAY_DB_URL` asks for the database; `None`
/// when the database is not a source.
pub fn mysql_settings(settings: &Settings, secrets: &Secrets) -> Option<mysql::Settings> {
    (settings.mysql.is_some() || secrets.db_url.is_some())
        .then(|| settings.mysql.clone().unwrap_or_default())
}

/// True when a reported commit names `sha` (apps and tables may report the short form).
pub fn same_commit(reported: &str, sha: &str) -> bool {
    let reported = reported.trim().to_ascii_lowercase();
    let sha = sha.to_ascii_lowercase();
    reported.len() >= 7 && (sha.starts_with(&reported) || reported.starts_with(&sha))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_full_forms_name_the_same_commit() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert!(same_commit(sha, sha));
        assert!(same_commit("0123456", sha));
        assert!(same_commit(
            "0123456789ABCDEF0123456789ABCDEF01234567\n",
            sha
        ));
        assert!(!same_commit("012345", sha));
        assert!(!same_commit("1123456", sha));
    }
}
