//! Alerts: a Slack-compatible `{"text": ...}` POST to the webhook in `MAINSTAY_WEBHOOK_URL` when a
//! deployment is not a success. Short timeouts, bounded retries; a failed alert is logged by the
//! caller and never changes the verdict. The webhook URL is itself a secret (Slack puts the key
//! in its path), so errors name only its host.

use std::time::Duration;

use serde::Deserialize;

use super::http::Client;
use super::record::Verdict;
use crate::clock::Clock;
use crate::time::duration;

/// `[alerts]` in `.mainstay.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// The verdicts that send an alert. Not ready is a `failed` verdict.
    pub on: Vec<Verdict>,
    /// Put before the message, e.g. `<!here>`: Slack's mention tokens are kept, the rest is
    /// escaped (see [`crate::text::mentions_for_chat`]).
    pub prefix: String,
    /// The longest one attempt may take.
    #[serde(deserialize_with = "duration")]
    pub timeout: Duration,
    /// Attempts after the first.
    pub retries: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            on: vec![Verdict::Failed, Verdict::Timeout],
            prefix: String::new(),
            timeout: Duration::from_secs(5),
            retries: 2,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the alert to the webhook at {host} failed after {attempts} attempts: {last}")]
pub struct Error {
    host: String,
    attempts: u32,
    last: String,
}

/// What an alert is about.
#[derive(Debug, Clone, Copy)]
pub struct About<'a> {
    pub sha: &'a str,
    pub branch: &'a str,
    pub verdict: Verdict,
    /// Why it is not success.
    pub error: Option<&'a str>,
}

/// What became of an alert.
#[derive(Debug)]
pub enum Notice {
    Sent,
    /// `MAINSTAY_WEBHOOK_URL` is not set.
    NoWebhook,
    Failed(Error),
}

/// `Deployment of 3f2a9c1 on main ended: failed (<why>)`.
pub fn message(about: &About<'_>) -> String {
    format!(
        "Deployment of {} on {} ended: {}{}",
        super::sha7(about.sha),
        about.branch,
        about.verdict,
        about.error.map(|e| format!(" ({e})")).unwrap_or_default()
    )
}

/// Sends the alert about a verdict to the webhook, if there is one.
pub fn notify(
    settings: &Settings,
    webhook: Option<&str>,
    about: &About<'_>,
    clock: &dyn Clock,
) -> Notice {
    let Some(webhook) = webhook else {
        return Notice::NoWebhook;
    };
    match send(settings, webhook, &message(about), clock) {
        Ok(()) => Notice::Sent,
        Err(e) => Notice::Failed(e),
    }
}

/// Sends `text` to `webhook`, retrying 5xx, 429 and network errors with a short pause.
pub fn send(
    settings: &Settings,
    webhook: &str,
    text: &str,
    clock: &dyn Clock,
) -> Result<(), Error> {
    let client = Client::new(settings.timeout);
    // The text holds what sources answered: escaped, it can mention no one and link nowhere.
    // The prefix is committed: it may mention (`<!here>`), which is what it is for, not link.
    let text = crate::text::for_chat(text);
    let text = if settings.prefix.is_empty() {
        text
    } else {
        format!(
            "{} {text}",
            crate::text::mentions_for_chat(&settings.prefix)
        )
    };
    let body = serde_json::json!({ "text": text }).to_string();
    let mut last = String::new();
    let attempts = settings.retries + 1;
    for attempt in 0..attempts {
        if attempt > 0 {
            clock.sleep(settings.timeout / 4 * attempt);
        }
        match client.post_json(webhook, &body) {
            Ok(r) if (200..300).contains(&r.status) => return Ok(()),
            Ok(r) if r.status == 429 || r.status >= 500 => last = format!("HTTP {}", r.status),
            Ok(r) => {
                last = format!("HTTP {}", r.status);
                return Err(error(webhook, attempt + 1, last));
            }
            // The error names the URL, which holds the key: keep only its kind.
            Err(e) => last = kind(&e).to_owned(),
        }
    }
    Err(error(webhook, attempts, last))
}

fn kind(error: &super::http::Error) -> &'static str {
    match error {
        super::http::Error::Refused { .. } => "connection refused",
        super::http::Error::Timeout { .. } => "no answer in time",
        super::http::Error::Other { .. } | super::http::Error::Untrusted { .. } => "request failed",
    }
}

fn error(webhook: &str, attempts: u32, last: String) -> Error {
    let redacted = super::http::redact(webhook);
    let without_scheme = redacted.split_once("://").map_or(&*redacted, |(_, r)| r);
    let host = without_scheme
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    Error {
        host,
        attempts,
        last,
    }
}
