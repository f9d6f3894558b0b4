//! Secrets come from the environment alone, never from `.mainstay.toml` or argv, and never reach
//! a log, a result, a record or an alert: `Debug` shows only which ones are set.

use std::fmt;

/// The environment variables the monitor reads.
#[derive(Clone, Default)]
pub struct Secrets {
    /// `MAINSTAY_DB_URL`: `mysql://user:password@host:port/database`.
    pub db_url: Option<String>,
    /// `DB_HOST`, `DB_PORT`, `DB_USER`, `DB_PASS`, `DB_NAME`, used when `db_url` is not set.
    pub db_host: Option<String>,
    pub db_port: Option<String>,
    pub db_user: Option<String>,
    pub db_pass: Option<String>,
    pub db_name: Option<String>,
    /// `MAINSTAY_DB_TLS`: `auto`, `required` or `disabled`, over `[deploy.mysql] tls`.
    pub db_tls: Option<String>,
    /// `MAINSTAY_DB_SERVER_KEY`: the database server's RSA public key (a PEM file), for
    /// `caching_sha2_password` over a connection without TLS.
    pub db_server_key: Option<String>,
    /// `DIGITALOCEAN_TOKEN`.
    pub digitalocean_token: Option<String>,
    /// `MAINSTAY_WEBHOOK_URL`: Slack-compatible incoming webhook.
    pub webhook_url: Option<String>,
    /// `MAINSTAY_API_HOSTS`: hosts a token may go to besides its API's own (see
    /// [`super::http`]). Not a secret, but only the environment may widen where secrets go.
    pub api_hosts: Vec<String>,
}

impl Secrets {
    /// Reads the process environment; empty values count as unset.
    pub fn from_env() -> Secrets {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Secrets {
            db_url: var("MAINSTAY_DB_URL"),
            db_host: var("DB_HOST"),
            db_port: var("DB_PORT"),
            db_user: var("DB_USER"),
            db_pass: var("DB_PASS"),
            db_name: var("DB_NAME"),
            db_tls: var("MAINSTAY_DB_TLS"),
            db_server_key: var("MAINSTAY_DB_SERVER_KEY"),
            digitalocean_token: var("DIGITALOCEAN_TOKEN"),
            webhook_url: var("MAINSTAY_WEBHOOK_URL"),
            api_hosts: super::http::api_hosts(var(super::http::API_HOSTS_VAR).as_deref()),
        }
    }

    /// An HTTP client that sends tokens only where the environment allows.
    pub fn client(&self, timeout: std::time::Duration) -> super::http::Client {
        super::http::Client::new(timeout).trusting(self.api_hosts.clone())
    }

    /// True when a database connection is configured in the environment.
    pub fn has_database(&self) -> bool {
        self.db_url.is_some() || self.db_host.is_some()
    }

    /// Replaces every secret value in `text` with `***`: for messages from libraries that may
    /// echo what they were given.
    pub fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        let values = [&self.db_pass, &self.digitalocean_token, &self.webhook_url];
        for secret in values.into_iter().flatten().filter(|s| s.len() >= 3) {
            text = text.replace(secret.as_str(), "***");
        }
        if let Some(password) = self.db_url.as_deref().and_then(url_password) {
            text = text.replace(password, "***");
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
        let set = |v: &Option<String>| if v.is_some() { "set" } else { "unset" };
        f.debug_struct("Secrets")
            .field("db_url", &set(&self.db_url))
            .field("db_host", &self.db_host)
            .field("db_pass", &set(&self.db_pass))
            .field("digitalocean_token", &set(&self.digitalocean_token))
            .field("webhook_url", &set(&self.webhook_url))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_every_secret_and_debug_shows_none() {
        let secrets = Secrets {
            db_url: Some("mysql://app:hunter22@10.0.0.5/deploys".to_owned()),
            digitalocean_token: Some("dop_v1_abc".to_owned()),
            ..Secrets::default()
        };
        let text = secrets.scrub("auth hunter22 failed with dop_v1_abc");
        assert_eq!(text, "auth *** failed with ***");
        let debug = format!("{secrets:?}");
        assert!(
            !debug.contains("hunter22") && !debug.contains("dop_v1"),
            "{debug}"
        );
    }
}
