//! Secrets come from the environment alone, never from `.mainstay.toml` or argv, and never reach
//! a log, a result, a record or an alert: `Debug` shows only which ones are set.
//!
//! Which variables are read is declared, not listed here: each source kind names the ones it
//! reads ([`super::sources::Kind::vars`]), mainstay its own ([`OWN`]). Every variable declared a
//! secret is scrubbed from every message by [`Secrets::scrub`], so a new source's token cannot
//! reach a log because someone forgot to add it to a list.

use std::fmt;

use super::http;
use super::sources::KINDS;

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

/// The variables mainstay reads for itself, besides those the sources declare.
pub const OWN: &[Var] = &[Var::secret(WEBHOOK_VAR), Var::setting(http::API_HOSTS_VAR)];

/// Every variable read: mainstay's own, then each source kind's.
pub fn declared() -> impl Iterator<Item = &'static Var> {
    OWN.iter()
        .chain(KINDS.iter().flat_map(|kind| kind.vars().iter()))
}

/// The declared environment variables that are set (empty values count as unset).
#[derive(Clone, Default)]
pub struct Secrets {
    values: Vec<(&'static str, String)>,
    /// `MAINSTAY_API_HOSTS`: hosts a token may go to besides its API's own (see [`http`]). Not
    /// a secret, but only the environment may widen where secrets go.
    api_hosts: Vec<String>,
}

impl Secrets {
    /// Reads the process environment.
    pub fn from_env() -> Secrets {
        Secrets::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads every declared variable through `lookup`: the environment, or a test's values.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Secrets {
        let mut values: Vec<(&'static str, String)> = Vec::new();
        for var in declared() {
            if values.iter().any(|(name, _)| *name == var.name) {
                continue;
            }
            if let Some(value) = lookup(var.name).filter(|v| !v.is_empty()) {
                values.push((var.name, value));
            }
        }
        let api_hosts = http::api_hosts(
            values
                .iter()
                .find(|(name, _)| *name == http::API_HOSTS_VAR)
                .map(|(_, v)| v.as_str()),
        );
        Secrets { values, api_hosts }
    }

    /// These `(name, value)` pairs as the environment, for tests.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Secrets {
        Secrets::from_lookup(|name| {
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
            .find(|(n, _)| *n == name)
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
        let mut secrets: Vec<&str> = declared()
            .filter_map(|var| {
                let value = self.get(var.name)?;
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
        for var in declared() {
            let Some(value) = self.get(var.name) else {
                continue;
            };
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

    #[test]
    fn scrubs_every_declared_secret_and_debug_shows_none() {
        let secrets = Secrets::from_pairs(&[
            ("MAINSTAY_DB_URL", "mysql://app:hunter22@10.0.0.5/deploys"),
            ("DIGITALOCEAN_TOKEN", "dop_v1_abc"),
            ("GH_TOKEN", "ghp_secretvalue"),
            ("DB_HOST", "10.0.0.5"),
            ("NOT_DECLARED", "plainvalue"),
        ]);
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
    }

    #[test]
    fn every_source_declares_where_its_token_comes_from() {
        let names: Vec<&str> = declared().map(|v| v.name).collect();
        for name in [
            "DIGITALOCEAN_TOKEN",
            "GITHUB_TOKEN",
            "GH_TOKEN",
            "DB_PASS",
            WEBHOOK_VAR,
        ] {
            assert!(names.contains(&name), "{name} is not declared: {names:?}");
        }
    }
}
