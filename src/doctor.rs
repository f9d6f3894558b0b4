//! `mainstay doctor`: why mainstay is not doing its job in this clone, and what to do about it.
//!
//! It checks, in this order: the configuration; the kill switch; the installation (exactly what
//! `install-hooks --check` checks); that a deployment source is configured; each source (the
//! app's version URL, the database table and columns, the DigitalOcean token and app); the
//! readiness URL; the alert webhook. Each check prints one line, `ok`, `problem` or `skip`
//! (nothing configured to check), and each problem a `fix:` line under it.
//!
//! The network checks run side by side, one request each, without retries, each bounded by
//! [`Options::timeout`] (and by `deploy.request_timeout` when that is shorter). The webhook is
//! never contacted. Every line goes through [`Secrets::scrub`] and every URL through
//! [`http::redact`], so no password, token or webhook URL is ever printed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::{self, Config};
use crate::deploy::Secrets;
use crate::deploy::http::{self, Client};
use crate::deploy::settings::Settings;
use crate::deploy::sources::digitalocean::{Access, DigitalOcean, Refusal};
use crate::deploy::sources::mysql::{Mysql, Schema};
use crate::deploy::sources::{self, app};
use crate::install;

/// The longest any one network check may take unless `deploy.request_timeout` is shorter.
pub const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot write the report: {0}")]
    Write(#[from] std::io::Error),
}

/// What to examine.
#[derive(Debug, Clone)]
pub struct Options {
    /// The top of the work tree.
    pub worktree: PathBuf,
    /// The directory of the built executables, to compare the installed ones with.
    pub source_dir: PathBuf,
    /// The longest one network check may take.
    pub timeout: Duration,
    /// Where `install-hooks --global` installs, from the environment.
    pub global: Option<install::global::Place>,
}

impl Options {
    /// Checks `worktree` against the executables beside `exe` (normally this one), with
    /// [`TIMEOUT`].
    pub fn new(worktree: &Path, exe: &Path, global: Option<install::global::Place>) -> Options {
        Options {
            worktree: worktree.to_owned(),
            source_dir: exe.parent().unwrap_or(Path::new(".")).to_owned(),
            timeout: TIMEOUT,
            global,
        }
    }
}

/// What the process was given besides the options.
#[derive(Debug)]
pub struct Context<'a> {
    pub secrets: &'a Secrets,
    /// The kill switch `MAINSTAY=0` is set.
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Ok,
    Problem {
        fix: String,
    },
    /// Nothing is configured for this check to look at.
    Skipped,
}

/// One check's verdict: its name, what it found, and for a problem the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
}

impl Check {
    fn ok(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Ok,
            detail: detail.into(),
        }
    }

    fn problem(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Problem { fix: fix.into() },
            detail: detail.into(),
        }
    }

    fn skipped(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Skipped,
            detail: detail.into(),
        }
    }
}

/// Every check made, in the order printed.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub checks: Vec<Check>,
}

impl Outcome {
    pub fn problems(&self) -> usize {
        let problem = |c: &&Check| matches!(c.status, Status::Problem { .. });
        self.checks.iter().filter(problem).count()
    }

    /// No check found a problem.
    pub fn healthy(&self) -> bool {
        self.problems() == 0
    }
}

/// Runs every check and writes one line each to `out`, then a summary line.
pub fn examine(
    options: &Options,
    cx: &Context<'_>,
    out: &mut impl Write,
) -> Result<Outcome, Error> {
    let mut outcome = Outcome::default();
    let mut report = |checks: Vec<Check>, out: &mut dyn Write| -> Result<(), Error> {
        for check in checks {
            write_check(&check, cx.secrets, out)?;
            outcome.checks.push(check);
        }
        Ok(())
    };
    let loaded = Config::load(&options.worktree);
    let config_check = match &loaded {
        Ok(_) => config_ok(&options.worktree),
        Err(e) => config_problem(e),
    };
    report(vec![config_check, switch(cx.disabled)], out)?;
    let Ok(config) = loaded else {
        let rest = "the installation, the sources and the webhook are checked once the \
                    configuration is valid";
        report(vec![Check::skipped("others", rest)], out)?;
        return finish(outcome, cx.secrets, out);
    };
    report(installation(options), out)?;
    let deploy = &config.deploy;
    report(vec![source_count(deploy, cx.secrets)], out)?;
    let timeout = options.timeout.min(deploy.request_timeout);
    let client = cx.secrets.client(timeout);
    let network = std::thread::scope(|s| {
        let app = s.spawn(|| version(deploy.app.as_ref(), &client));
        let ready = s.spawn(|| readiness(deploy.app.as_ref(), &client));
        let mysql = s.spawn(|| database(deploy, cx.secrets, timeout));
        let digitalocean = s.spawn(|| digitalocean(deploy, cx.secrets, &client));
        let checks = [app, ready, mysql, digitalocean];
        checks.map(|h| {
            h.join()
                .expect("a check returns its problems rather than panicking")
        })
    });
    report(network.into(), out)?;
    report(vec![webhook(&config, cx.secrets)], out)?;
    finish(outcome, cx.secrets, out)
}

fn finish(outcome: Outcome, secrets: &Secrets, out: &mut dyn Write) -> Result<Outcome, Error> {
    let total = outcome.checks.len();
    let skipped = outcome
        .checks
        .iter()
        .filter(|c| c.status == Status::Skipped)
        .count();
    let line = match outcome.problems() {
        0 if skipped > 0 => format!("doctor: all {total} checks ok ({skipped} skipped)"),
        0 => format!("doctor: all {total} checks ok"),
        1 => format!("doctor: 1 problem in {total} checks"),
        n => format!("doctor: {n} problems in {total} checks"),
    };
    writeln!(out, "{}", secrets.scrub(&line))?;
    Ok(outcome)
}

/// `ok      name         detail`, and `        fix: …` under a problem.
fn write_check(check: &Check, secrets: &Secrets, out: &mut dyn Write) -> Result<(), Error> {
    let status = match check.status {
        Status::Ok => "ok",
        Status::Problem { .. } => "problem",
        Status::Skipped => "skip",
    };
    let line = format!("{status:<7} {:<12} {}", check.name, check.detail);
    // Details quote servers' answers: without control characters, and without secrets.
    let shown = |text: &str| crate::text::printable(&secrets.scrub(text)).into_owned();
    writeln!(out, "{}", shown(line.trim_end()))?;
    if let Status::Problem { fix } = &check.status {
        writeln!(out, "{:7} fix: {}", "", shown(fix))?;
    }
    Ok(())
}

fn config_ok(worktree: &Path) -> Check {
    if worktree.join(config::FILE_NAME).exists() {
        Check::ok("config", format!("{} is valid", config::FILE_NAME))
    } else {
        Check::ok(
            "config",
            format!("no {}: the defaults apply", config::FILE_NAME),
        )
    }
}

fn config_problem(error: &config::Error) -> Check {
    Check::problem(
        "config",
        error.to_string(),
        format!(
            "correct {}, then run mainstay doctor again",
            config::FILE_NAME
        ),
    )
}

fn switch(disabled: bool) -> Check {
    if disabled {
        Check::problem(
            "switch",
            format!("{}=0 is set: every hook does nothing", config::KILL_SWITCH),
            format!("unset {}", config::KILL_SWITCH),
        )
    } else {
        Check::ok(
            "switch",
            format!("{}=0 is not set, so the hooks run", config::KILL_SWITCH),
        )
    }
}

/// What `install-hooks --check` finds, one line per problem.
fn installation(options: &Options) -> Vec<Check> {
    let install = install::Options {
        repo: options.worktree.clone(),
        source_dir: options.source_dir.clone(),
        global: options.global.clone(),
    };
    match install::check(&install) {
        Ok(problems) if problems.is_empty() => vec![Check::ok(
            "install",
            "hooks, merge drivers and .gitattributes are in place",
        )],
        Ok(problems) => problems
            .iter()
            .map(|p| Check::problem("install", p.what(), install::FIX))
            .collect(),
        Err(e) => vec![Check::problem(
            "install",
            format!("cannot check the installation: {e}"),
            install::FIX,
        )],
    }
}

fn source_count(deploy: &Settings, secrets: &Secrets) -> Check {
    let mut names = Vec::new();
    if deploy.app.is_some() {
        names.push("app");
    }
    if sources::mysql_settings(deploy, secrets).is_some() {
        names.push("mysql");
    }
    if deploy.digitalocean.is_some() {
        names.push("digitalocean");
    }
    if names.is_empty() {
        return Check::problem(
            "sources",
            format!(
                "no deployment source is configured: pushes to {} are not followed",
                deploy.branch
            ),
            format!(
                "add [deploy.app], [deploy.mysql] or [deploy.digitalocean] to {}",
                config::FILE_NAME
            ),
        );
    }
    Check::ok(
        "sources",
        format!(
            "pushes to {} are followed through {}",
            deploy.branch,
            names.join(", ")
        ),
    )
}

/// The version URL answers with a commit id at the configured pointer.
fn version(settings: Option<&app::Settings>, client: &Client) -> Check {
    const NAME: &str = "app";
    let Some(settings) = settings else {
        return Check::skipped(NAME, "no [deploy.app]");
    };
    let url = http::redact(&settings.version_url);
    let pointer = &settings.commit_pointer;
    let source = app::App::new(settings.clone(), client.clone());
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
        Err(e @ sources::Error::Garbage { .. }) => Check::problem(
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
fn readiness(settings: Option<&app::Settings>, client: &Client) -> Check {
    const NAME: &str = "readiness";
    let Some(url) = settings.and_then(|s| s.ready_url.as_deref()) else {
        return Check::skipped(NAME, "no ready_url in [deploy.app]");
    };
    let shown = http::redact(url);
    let fix = "start the app, or correct ready_url in [deploy.app]: it must answer 2xx when ready";
    match client.get(url, None) {
        Ok(r) if (200..300).contains(&r.status) => {
            Check::ok(NAME, format!("{shown} answers HTTP {}", r.status))
        }
        Ok(r) => Check::problem(NAME, format!("{shown} answers HTTP {}", r.status), fix),
        Err(e) => Check::problem(NAME, e.to_string(), fix),
    }
}

/// The database connects and holds the table with every configured column.
fn database(deploy: &Settings, secrets: &Secrets, timeout: Duration) -> Check {
    const NAME: &str = "mysql";
    let Some(settings) = sources::mysql_settings(deploy, secrets) else {
        return Check::skipped(NAME, "no [deploy.mysql] and no MAINSTAY_DB_URL");
    };
    let table = settings.table.clone();
    let mut source = match Mysql::new(settings, secrets, timeout) {
        Ok(source) => source,
        Err(e) => {
            return Check::problem(
                NAME,
                e.to_string(),
                "set MAINSTAY_DB_URL=mysql://user:password@host:port/database \
                 (or DB_HOST, DB_PORT, DB_USER, DB_PASS and DB_NAME)",
            );
        }
    };
    let target = source.target().to_owned();
    match source.schema() {
        Ok(Schema::Table { missing }) if missing.is_empty() => Check::ok(
            NAME,
            format!("{target}: table `{table}` has every configured column"),
        ),
        Ok(Schema::Table { missing }) => {
            let names: Vec<String> = missing.iter().map(|(_, n)| format!("`{n}`")).collect();
            let keys: Vec<&str> = missing.iter().map(|(k, _)| *k).collect();
            Check::problem(
                NAME,
                format!(
                    "{target}: table `{table}` has no column {}",
                    names.join(", ")
                ),
                format!(
                    "add the column, or set {} under [deploy.mysql.columns] to the name the table uses",
                    keys.join(", ")
                ),
            )
        }
        Ok(Schema::NoTable { database }) => {
            let place = match database {
                Some(db) => format!("in database `{db}`"),
                None => "(the connection names no database)".to_owned(),
            };
            Check::problem(
                NAME,
                format!("{target}: no table `{table}` {place}"),
                "create the table, or set table in [deploy.mysql] (`database.table` names the \
                 database too)",
            )
        }
        Err(e) => Check::problem(
            NAME,
            e.to_string(),
            "start the database, or correct the host, port, user and password in \
             MAINSTAY_DB_URL (or DB_HOST, DB_PORT, DB_USER, DB_PASS)",
        ),
    }
}

/// The token is accepted and the app exists: `GET /v2/apps/{app_id}`.
fn digitalocean(deploy: &Settings, secrets: &Secrets, client: &Client) -> Check {
    const NAME: &str = "digitalocean";
    let Some(settings) = &deploy.digitalocean else {
        return Check::skipped(NAME, "no [deploy.digitalocean]");
    };
    let Some(token) = &secrets.digitalocean_token else {
        return Check::problem(
            NAME,
            "DIGITALOCEAN_TOKEN is not set in the environment",
            "export DIGITALOCEAN_TOKEN, a token with read access to apps",
        );
    };
    let app_id = settings.app_id.clone();
    let api = http::redact(&settings.api_base);
    let source = match DigitalOcean::new(settings.clone(), token.clone(), client.clone()) {
        Ok(source) => source,
        Err(e) => {
            return Check::problem(
                NAME,
                e.to_string(),
                format!(
                    "remove api_base from [deploy.digitalocean], or name its host in {}",
                    http::API_HOSTS_VAR
                ),
            );
        }
    };
    match source.access() {
        Ok(Access::Granted { name }) => {
            let named = if name.is_empty() {
                String::new()
            } else {
                format!(" ({name})")
            };
            Check::ok(
                NAME,
                format!("app {app_id}{named} exists and DIGITALOCEAN_TOKEN is accepted"),
            )
        }
        Ok(Access::Refused(Refusal::Token(status))) => Check::problem(
            NAME,
            format!("{api} refuses DIGITALOCEAN_TOKEN (HTTP {status})"),
            "export a DIGITALOCEAN_TOKEN that is valid and has read access to apps",
        ),
        Ok(Access::Refused(Refusal::NoSuchApp)) => Check::problem(
            NAME,
            format!("{api} has no app {app_id} for this token (HTTP 404)"),
            "set app_id in [deploy.digitalocean] to the app's id (`doctl apps list`)",
        ),
        Err(e) => Check::problem(
            NAME,
            e.to_string(),
            "correct api_base in [deploy.digitalocean], or try again if the API is down",
        ),
    }
}

/// `MAINSTAY_WEBHOOK_URL` is set and an http(s) URL. Never contacted: that would post an alert.
fn webhook(config: &Config, secrets: &Secrets) -> Check {
    const NAME: &str = "webhook";
    if config.alerts.on.is_empty() {
        return Check::skipped(NAME, "[alerts] on is empty: no alert is ever sent");
    }
    let Some(url) = &secrets.webhook_url else {
        return Check::problem(
            NAME,
            "MAINSTAY_WEBHOOK_URL is not set: deployments that fail alert nobody",
            "export MAINSTAY_WEBHOOK_URL, a Slack-compatible incoming webhook URL",
        );
    };
    match webhook_host(url) {
        Some((scheme, host)) => Check::ok(
            NAME,
            format!("MAINSTAY_WEBHOOK_URL is set: an {scheme} URL on {host} (not contacted)"),
        ),
        // The value itself is the secret: say what is wrong, never what it is.
        None => Check::problem(
            NAME,
            "MAINSTAY_WEBHOOK_URL is not an http:// or https:// URL",
            "set MAINSTAY_WEBHOOK_URL to the webhook's whole URL, as the chat service gave it",
        ),
    }
}

/// The scheme and host of an http(s) URL; `None` for anything else.
fn webhook_host(url: &str) -> Option<(String, String)> {
    let uri: ureq::http::Uri = url.trim().parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let host = uri.host().filter(|h| !h.is_empty())?;
    ["http", "https"]
        .contains(&scheme.as_str())
        .then(|| (scheme, host.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_must_be_http_with_a_host() {
        assert_eq!(
            webhook_host("https://hooks.slack.com/services/T0/B0/x"),
            Some(("https".to_owned(), "hooks.slack.com".to_owned()))
        );
        assert_eq!(
            webhook_host("http://127.0.0.1:9/h"),
            Some(("http".to_owned(), "127.0.0.1".to_owned()))
        );
        for bad in [
            "",
            "hooks.slack.com/x",
            "ftp://h/x",
            "https://",
            "http:// /x",
            "/path",
        ] {
            assert_eq!(webhook_host(bad), None, "{bad}");
        }
    }

    #[test]
    fn commit_ids_are_hex_of_seven_to_sixty_four() {
        assert!(is_commit("0123abc") && is_commit(&"f".repeat(40)));
        assert!(!is_commit("012345") && !is_commit("unknown") && !is_commit(""));
    }

    #[test]
    fn problems_print_their_fix_and_no_secret() {
        let secrets = Secrets {
            digitalocean_token: Some("dop_v1_secret".to_owned()),
            ..Secrets::default()
        };
        let check = Check::problem("digitalocean", "sent dop_v1_secret", "export another");
        let mut out = Vec::new();
        write_check(&check, &secrets, &mut out).expect("writes to memory");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "problem digitalocean sent ***\n        fix: export another\n"
        );
    }
}
