//! `[deploy]` and its source sections, and the duration syntax they share (`250ms`, `5s`, `2m`).

use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::sources::{app, digitalocean, mysql};

/// `[deploy]` in `.mainstay.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// The branch whose pushes are deployed and followed.
    pub branch: String,
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
    pub mysql: Option<mysql::Settings>,
    pub digitalocean: Option<digitalocean::Settings>,
    pub app: Option<app::Settings>,
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
            max_wait: Duration::from_secs(8 * 60),
            poll_initial: Duration::from_secs(5),
            poll_later: Duration::from_secs(15),
            poll_switch_after: Duration::from_secs(2 * 60),
            schedule: ScheduleKind::History,
            request_timeout: Duration::from_secs(10),
            mysql: None,
            digitalocean: None,
            app: None,
        }
    }
}

impl Settings {
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        let invalid = |key: &str, message: &str| Err((format!("deploy.{key}"), message.to_owned()));
        if self.branch.is_empty() || self.branch.contains(char::is_whitespace) {
            return invalid("branch", "must be a branch name");
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
        if let Some(mysql) = &self.mysql {
            mysql
                .validate()
                .map_err(|(key, message)| (format!("deploy.mysql.{key}"), message))?;
        }
        if let Some(app) = &self.app
            && app.version_url.trim().is_empty()
        {
            return invalid("app.version_url", "must be a URL");
        }
        if let Some(digitalocean) = &self.digitalocean
            && digitalocean.app_id.trim().is_empty()
        {
            return invalid("digitalocean.app_id", "must be the App Platform app id");
        }
        Ok(())
    }
}

/// Deserializes `250ms`, `5s`, `2m`, `1h` or `7d`.
pub fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_duration(&text).map_err(serde::de::Error::custom)
}

/// Parses `<digits><unit>` with unit `ms`, `s`, `m`, `h` or `d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration like 250ms, 5s, 2m, 1h or 7d");
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let millis = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad()),
    };
    n.checked_mul(millis)
        .map(Duration::from_millis)
        .ok_or_else(bad)
}

/// `4m02s`, `2.5s` or `250ms`: short, for log lines.
pub fn show(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}m{:02}s", ms / 60_000, ms % 60_000 / 1_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_down_to_milliseconds() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        for bad in ["", "5", "s", "5 s", "1.5s", "-1s", "5y"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shows_durations_briefly() {
        assert_eq!(show(Duration::from_millis(250)), "250ms");
        assert_eq!(show(Duration::from_millis(2_500)), "2.5s");
        assert_eq!(show(Duration::from_secs(242)), "4m02s");
    }
}
