//! Secrets come from the environment alone, never from `.mainstay.toml` or argv, and never reach
//! a log, a result, a record or an alert: `Debug` shows only which ones are set.
//!
//! Which variables are read is declared, not listed here: each source kind names the ones it
//! reads (`Kind::vars`), mainstay its own ([`OWN`]), and the sources' registry hands the whole
//! list to [`Secrets::from_lookup`] (`sources::secrets_from_env`). Every variable declared a
//! secret is scrubbed from every message by [`Secrets::scrub`], so a new source's token cannot
//! reach a log because someone forgot to add it to a list. This module knows no source: each
//! value is kept with its declaration.

use std::fmt;
use std::time::Duration;

use super::http;

/// What an environment variable holds, which decides what [`Secrets::scrub`] removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// The whole value is secret: a token, a password, a webhook URL (its path is its key).
    Secret,
    /// A URL whose password part is secret (`mysql://user:password@host/db`).
    UrlWithPassword,
    /// Not secret (a host name, a mode); scrubbing it would hide what messages are about.
    Setting,
}

/// An environment variable mainstay reads.
#[derive(Debug, Clone, Copy)]
pub struct Var {
    pub name: &'static str,
    pub holds: Holds,
}

impl Var {
    pub const fn secret(name: &'static str) -> Var {
        Var {
            name,
            holds: Holds::Secret,
        }
    }

    pub const fn setting(name: &'static str) -> Var {
        Var {
            name,
            holds: Holds::Setting,
        }
    }
}

/// The Slack-compatible webhook that alerts go to.
pub const WEBHOOK_VAR: &str = "MAINSTAY_WEBHOOK_URL";

/// The shortest interval between polls, for every monitor and `status --wait` of this machine:
/// `poll_initial` and `poll_later` are committed, and each pusher would poll at their pace.
pub const POLL_FLOOR_VAR: &str = "MAINSTAY_POLL_FLOOR";

/// [`POLL_FLOOR_VAR`] when the environment does not set it, or sets it to no duration.
pub const POLL_FLOOR: Duration = Duration::from_secs(1);

/// The variables mainstay reads for itself, besides those the sources declare.
pub const OWN: &[Var] = &[
    Var::secret(WEBHOOK_VAR),
    Var::setting(http::API_HOSTS_VAR),
    Var::setting(POLL_FLOOR_VAR),
];

/// The declared environment variables that are set (empty values count as unset).
#[derive(Clone, Default)]
pub struct Secrets {
    /// Each one set, with its declaration, in the order declared.
    values: Vec<(Var, String)>,
    /// `MAINSTAY_API_HOSTS`: hosts a token may go to besides its API's own (see [`http`]). Not
    /// a secret, but only the environment may widen where secrets go.
    api_hosts: Vec<String>,
}

impl Secrets {
    /// Reads each of `vars` through `lookup` (the environment, or a test's values); a name
    /// declared twice is read once.
    pub fn from_lookup<'v>(
        vars: impl IntoIterator<Item = &'v Var>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Secrets {
        let mut values: Vec<(Var, String)> = Vec::new();
        for var in vars {
            if values.iter().any(|(known, _)| known.name == var.name) {
                continue;
            }
            if let Some(value) = lookup(var.name).filter(|v| !v.is_empty()) {
                values.push((*var, value));
            }
        }
        let api_hosts = http::api_hosts(
            values
                .iter()
                .find(|(var, _)| var.name == http::API_HOSTS_VAR)
                .map(|(_, v)| v.as_str()),
        );
        Secrets { values, api_hosts }
    }

    /// Each of `vars` among these `(name, value)` pairs, as if they were the environment.
    pub fn from_pairs<'v>(
        vars: impl IntoIterator<Item = &'v Var>,
        pairs: &[(&str, &str)],
    ) -> Secrets {
        Secrets::from_lookup(vars, |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    /// The value of a declared variable, when set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(var, _)| var.name == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first of `names` that is set, with its name: for a token with two usual names.
    pub fn first_of(&self, names: &[&'static str]) -> Option<(&'static str, &str)> {
        names
            .iter()
            .find_map(|name| self.get(name).map(|value| (*name, value)))
    }

    /// `MAINSTAY_WEBHOOK_URL`.
    pub fn webhook_url(&self) -> Option<&str> {
        self.get(WEBHOOK_VAR)
    }

    /// `MAINSTAY_POLL_FLOOR`, else [`POLL_FLOOR`].
    pub fn poll_floor(&self) -> Duration {
        self.get(POLL_FLOOR_VAR)
            .and_then(|text| crate::time::parse_duration(text).ok())
            .unwrap_or(POLL_FLOOR)
    }

    /// The hosts of `MAINSTAY_API_HOSTS`.
    pub fn api_hosts(&self) -> &[String] {
        &self.api_hosts
    }

    /// An HTTP client that sends tokens only where the environment allows.
    pub fn client(&self, timeout: std::time::Duration) -> http::Client {
        http::Client::new(timeout).trusting(self.api_hosts.clone())
    }

    /// Replaces every secret value in `text` with `***`: for messages from libraries and servers
    /// that may echo what they were given.
    pub fn scrub(&self, text: &str) -> String {
        let mut secrets: Vec<&str> = self
            .values
            .iter()
            .filter_map(|(var, value)| {
                let value = value.as_str();
                match var.holds {
                    Holds::Secret => Some(value),
                    Holds::UrlWithPassword => url_password(value),
                    Holds::Setting => None,
                }
            })
            .filter(|s| s.len() >= 3)
            .collect();
        // The longest first: a secret that contains another is removed whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut text = text.to_owned();
        for secret in secrets {
            text = text.replace(secret, "***");
        }
        text
    }
}

/// The password part of `scheme://user:password@host/...`.
fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let userinfo = rest[..rest.find('/').unwrap_or(rest.len())]
        .rsplit_once('@')?
        .0;
    userinfo
        .split_once(':')
        .map(|(_, p)| p)
        .filter(|p| p.len() >= 3)
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Secrets");
        for (var, value) in &self.values {
            match var.holds {
                Holds::Setting => debug.field(var.name, &value),
                Holds::Secret | Holds::UrlWithPassword => debug.field(var.name, &"set"),
            };
        }
        debug.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Declarations as the sources make them: a URL with a password, tokens, a setting.
    const VARS: &[Var] = &[
        Var {
            name: "MAINSTAY_DB_URL",
            holds: Holds::UrlWithPassword,
        },
        Var::secret("DIGITALOCEAN_TOKEN"),
        Var::secret("GITHUB_TOKEN"),
        Var::secret("GH_TOKEN"),
        Var::setting("DB_HOST"),
        Var::secret("GH_TOKEN"),
    ];

    #[test]
    fn scrubs_every_declared_secret_and_debug_shows_none() {
        let secrets = Secrets::from_pairs(
            OWN.iter().chain(VARS),
            &[
                ("MAINSTAY_DB_URL", "mysql://app:hunter22@10.0.0.5/deploys"),
                ("DIGITALOCEAN_TOKEN", "dop_v1_abc"),
                ("GH_TOKEN", "ghp_secretvalue"),
                ("DB_HOST", "10.0.0.5"),
                ("NOT_DECLARED", "plainvalue"),
            ],
        );
        let text =
            secrets.scrub("auth hunter22 failed with dop_v1_abc and ghp_secretvalue at 10.0.0.5");
        assert_eq!(text, "auth *** failed with *** and *** at 10.0.0.5");
        assert_eq!(
            secrets.get("NOT_DECLARED"),
            None,
            "only declared names are read"
        );
        let debug = format!("{secrets:?}");
        for secret in ["hunter22", "dop_v1", "ghp_"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        assert!(
            debug.contains("10.0.0.5") && debug.contains("GH_TOKEN"),
            "{debug}"
        );
        assert_eq!(debug.matches("GH_TOKEN").count(), 1, "read once: {debug}");
    }
}
