//! `[deploy]`: the monitor's own settings, and one section per source, `[deploy.<name>]`, each
//! validated by its kind (see [`super::sources::KINDS`]).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::time::duration;

use super::sources;

/// The longest `request_timeout` a configuration may set.
pub const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// `[deploy]` in `.mainstay.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The branch whose pushes are deployed and followed.
    pub branch: String,
    /// The remote deploys come from: only pushes of `branch` to it (by name, or by its URL) are
    /// followed, not those to a fork, a mirror or a backup.
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
    /// cannot refuse unknown keys beside a flattened map, so [`Settings::validate`] does.)
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
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        let invalid = |key: &str, message: &str| Err((format!("deploy.{key}"), message.to_owned()));
        if self.branch.is_empty() || self.branch.contains(char::is_whitespace) {
            return invalid("branch", "must be a branch name");
        }
        if self.remote.is_empty() || self.remote.contains(char::is_whitespace) {
            return invalid("remote", "must be a remote's name");
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
        for (name, section) in &self.sources {
            let Some(kind) = sources::kind(name) else {
                return Err((
                    format!("deploy.{name}"),
                    format!(
                        "unknown key; [deploy] takes branch, remote, max_wait, poll_initial, \
                         poll_later, poll_switch_after, schedule, request_timeout and a section \
                         per source: {}",
                        sources::kind_names()
                    ),
                ));
            };
            if !section.is_table() {
                return invalid(name, "must be a section, [deploy.<source>]");
            }
            kind.configure(section).map_err(|(key, message)| {
                let key = if key.is_empty() {
                    format!("deploy.{name}")
                } else {
                    format!("deploy.{name}.{key}")
                };
                (key, message)
            })?;
        }
        Ok(())
    }

    /// `[deploy.<name>]`, when the file has it.
    pub fn section(&self, name: &str) -> Option<&toml::Value> {
        self.sources.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, (String, String)> {
        let settings: Settings =
            toml::from_str(text).map_err(|e| (String::new(), e.to_string()))?;
        settings.validate().map(|()| settings)
    }

    #[test]
    fn each_source_section_is_validated_by_its_kind() {
        let settings = parse(
            "branch = \"main\"\n[github]\nrepo = \"acme/web\"\nenvironment = \"Production\"\n",
        )
        .expect("valid");
        assert!(settings.section("github").is_some());
        let (key, message) = parse("[githb]\nrepo = \"acme/web\"\n").expect_err("a typo");
        assert_eq!(key, "deploy.githb");
        assert!(
            message.contains("app, mysql, digitalocean, github"),
            "{message}"
        );
        let (key, _) = parse("[mysql]\ntls = \"disabled\"\n").expect_err("refused");
        assert_eq!(key, "deploy.mysql.tls");
        let (key, _) = parse("[app]\nversion_url = 3\n").expect_err("not a string");
        assert_eq!(key, "deploy.app.version_url");
        let (key, _) = parse("brnach = \"main\"\n").expect_err("a typo");
        assert_eq!(key, "deploy.brnach");
    }
}
