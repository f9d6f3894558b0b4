//! `[deploy]`: the monitor's own settings, and one section per source, `[deploy.<name>]`, kept
//! as data here: the sources' registry validates each section by its kind
//! (`deploy::sources::validate`). Plain data, so the sources may read it without a circle.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::time::{duration, show};

/// The longest `request_timeout` a configuration may set.
pub const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest `max_wait` a configuration may set: a day. The file is committed, and every
/// pusher's monitor stays alive and polling for that long.
pub const MAX_WAIT_LIMIT: Duration = Duration::from_secs(24 * 60 * 60);

/// `[deploy]` in `.mainstay.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The branch whose pushes are deployed and followed.
    pub branch: String,
    /// The remote deploys come from, by name: only pushes of `branch` to it (by name, or by its
    /// configured URL) are followed, not those to a fork, a mirror or a backup. Never a URL: the
    /// file is committed, and git would fetch from it with this clone's credentials.
    pub remote: String,
    /// Give up (verdict `timeout`) this long after the monitor started.
    #[serde(deserialize_with = "duration")]
    pub max_wait: Duration,
    /// The fixed schedule's interval until `poll_switch_after`.
    #[serde(deserialize_with = "duration")]
    pub poll_initial: Duration,
    /// The fixed schedule's interval after `poll_switch_after`.
    #[serde(deserialize_with = "duration")]
    pub poll_later: Duration,
    #[serde(deserialize_with = "duration")]
    pub poll_switch_after: Duration,
    /// `history` (the default) estimates the end from past runs; `fixed` never does.
    pub schedule: ScheduleKind,
    /// The longest any one HTTP request may take.
    #[serde(deserialize_with = "duration")]
    pub request_timeout: Duration,
    /// Every other key: the sources' sections by kind name, each parsed by its kind. (A map
    /// rather than a field per source, so a new source is a file and a line in `KINDS`; serde
    /// cannot refuse unknown keys beside a flattened map, so `sources::validate` does.)
    #[serde(flatten)]
    pub sources: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    History,
    Fixed,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            branch: "main".to_owned(),
            remote: "origin".to_owned(),
            max_wait: Duration::from_secs(8 * 60),
            poll_initial: Duration::from_secs(5),
            poll_later: Duration::from_secs(15),
            poll_switch_after: Duration::from_secs(2 * 60),
            schedule: ScheduleKind::History,
            request_timeout: Duration::from_secs(10),
            sources: BTreeMap::new(),
        }
    }
}

impl Settings {
    /// Checks `[deploy]`'s own keys; the sources' sections are the registry's to check.
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        let invalid = |key: &str, message: &str| Err((format!("deploy.{key}"), message.to_owned()));
        if self.branch.is_empty() || self.branch.contains(char::is_whitespace) {
            return invalid("branch", "must be a branch name");
        }
        if !is_remote_name(&self.remote) {
            return invalid(
                "remote",
                "must be the name of a remote of this clone (`origin`), never a URL or a path",
            );
        }
        for (key, value) in [
            ("max_wait", self.max_wait),
            ("poll_initial", self.poll_initial),
            ("poll_later", self.poll_later),
            ("request_timeout", self.request_timeout),
        ] {
            if value.is_zero() {
                return invalid(key, "must be longer than zero");
            }
        }
        // Committed, and every pusher's monitor waits this long on each request.
        if self.request_timeout > MAX_REQUEST_TIMEOUT {
            return invalid("request_timeout", "must be at most 1m");
        }
        if self.max_wait > MAX_WAIT_LIMIT {
            return invalid("max_wait", "must be at most 24h");
        }
        Ok(())
    }

    /// These settings with `poll_initial` and `poll_later` raised to `floor` (the environment's:
    /// the file is committed), and a line for the log when that changed them.
    pub fn floored(&self, floor: Duration) -> (Settings, Option<String>) {
        let mut settings = self.clone();
        let mut raised = Vec::new();
        for (key, value) in [
            ("poll_initial", &mut settings.poll_initial),
            ("poll_later", &mut settings.poll_later),
        ] {
            if *value < floor {
                raised.push(format!("{key} {}", show(*value)));
                *value = floor;
            }
        }
        let note = (!raised.is_empty()).then(|| {
            format!(
                "polling no more often than every {} (MAINSTAY_POLL_FLOOR): {} raised",
                show(floor),
                raised.join(", ")
            )
        });
        (settings, note)
    }

    /// `[deploy.<name>]`, when the file has it.
    pub fn section(&self, name: &str) -> Option<&toml::Value> {
        self.sources.get(name)
    }
}

/// A name git could give a remote, and nothing that reads as a URL or a path (`https://…`,
/// `git@host:x`, `/srv/x`, `../x`) or as an option.
pub fn is_remote_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['-', '.', '/'])
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || ":\\*?[^~".contains(c))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_remote_is_a_name_never_a_url_or_a_path() {
        for good in ["origin", "deploy", "team/upstream"] {
            assert!(super::is_remote_name(good), "{good}");
        }
        for bad in [
            "https://evil.example/x.git",
            "git@evil.example:x",
            "/srv/x",
            "../x",
            "-u",
            "",
            "a b",
            "ext::sh",
        ] {
            assert!(!super::is_remote_name(bad), "{bad}");
        }
    }
}
