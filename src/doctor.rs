//! `mainstay doctor`: why mainstay is not doing its job in this clone, and what to do about it.
//!
//! It checks, in this order: the configuration; the kill switch; the installation (exactly what
//! `install-hooks --check` checks); that a deployment source is configured; each kind of source
//! in [`sources::KINDS`]'s order, with the checks the kind contributes (the app's version URL and
//! readiness URL, the database table and columns, the DigitalOcean token and app, the GitHub
//! token, repository and environment), or a `skip` line when it is not configured; the alert
//! webhook. Each check prints one line, `ok`, `problem` or `skip` (nothing configured to check),
//! and each problem a `fix:` line under it.
//!
//! The network checks run side by side, a few requests each, without retries, each bounded by
//! [`Options::timeout`] (and by `deploy.request_timeout` when that is shorter). The webhook is
//! never contacted. Every line goes through [`Secrets::scrub`] and every URL through
//! [`http::redact`], so no password, token or webhook URL is ever printed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::{self, Config};
use crate::deploy::Secrets;
use crate::deploy::settings::Settings;
use crate::deploy::sources::{self, Setup};
use crate::install;

pub use crate::deploy::sources::{Check, Status};

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
    let configured = sources::configured(deploy, cx.secrets);
    report(vec![source_count(deploy, &configured)], out)?;
    let timeout = options.timeout.min(deploy.request_timeout);
    let setup = Setup::new(deploy, cx.secrets, &options.worktree, timeout);
    let network: Vec<Check> = std::thread::scope(|s| {
        let checks: Vec<_> = sources::KINDS
            .iter()
            .map(|kind| {
                let mine = configured.iter().find(|c| match c {
                    Ok(c) => c.name() == kind.name(),
                    Err(_) => false,
                });
                let setup = &setup;
                s.spawn(move || match mine {
                    Some(Ok(configured)) => configured.doctor(setup),
                    _ => kind.absent(),
                })
            })
            .collect();
        checks
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .expect("a check returns its problems rather than panicking")
            })
            .collect()
    });
    report(network, out)?;
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
    let warnings = outcome
        .checks
        .iter()
        .filter(|c| matches!(c.status, Status::Warning { .. }))
        .count();
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    let mut line = match outcome.problems() {
        0 if warnings > 0 => format!("doctor: no problem in {total} checks"),
        0 if skipped > 0 => format!("doctor: all {total} checks ok ({skipped} skipped)"),
        0 => format!("doctor: all {total} checks ok"),
        n => format!("doctor: {} in {total} checks", plural(n, "problem")),
    };
    if warnings > 0 {
        line.push_str(&format!(", {}", plural(warnings, "warning")));
    }
    writeln!(out, "{}", secrets.scrub(&line))?;
    Ok(outcome)
}

/// `ok      name         detail`, and `        fix: …` under a problem.
fn write_check(check: &Check, secrets: &Secrets, out: &mut dyn Write) -> Result<(), Error> {
    let status = match check.status {
        Status::Ok => "ok",
        Status::Problem { .. } => "problem",
        Status::Warning { .. } => "warning",
        Status::Skipped => "skip",
    };
    let line = format!("{status:<7} {:<12} {}", check.name, check.detail);
    // Details quote servers' answers: without control characters, and without secrets.
    let shown = |text: &str| crate::text::printable(&secrets.scrub(text)).into_owned();
    writeln!(out, "{}", shown(line.trim_end()))?;
    if let Status::Problem { fix } | Status::Warning { fix } = &check.status {
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
        Check::warning(
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
            .map(|p| Check::problem("install", p.what(), p.fix()))
            .collect(),
        Err(e) => vec![Check::problem(
            "install",
            format!("cannot check the installation: {e}"),
            install::FIX,
        )],
    }
}

fn source_count(
    deploy: &Settings,
    configured: &[Result<Box<dyn sources::Configured>, sources::Error>],
) -> Check {
    let names: Vec<&str> = configured
        .iter()
        .filter_map(|c| c.as_ref().ok().map(|c| c.name()))
        .collect();
    if names.is_empty() {
        let sections: Vec<String> = sources::KINDS
            .iter()
            .map(|k| format!("[deploy.{}]", k.name()))
            .collect();
        return Check::warning(
            "sources",
            format!(
                "no deployment source is configured: pushes to {} are not followed",
                deploy.branch
            ),
            format!(
                "add one of {} to {}",
                sections.join(", "),
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

/// `MAINSTAY_WEBHOOK_URL` is set and an http(s) URL. Never contacted: that would post an alert.
fn webhook(config: &Config, secrets: &Secrets) -> Check {
    const NAME: &str = "webhook";
    if config.alerts.on.is_empty() {
        return Check::skipped(NAME, "[alerts] on is empty: no alert is ever sent");
    }
    let Some(url) = secrets.webhook_url() else {
        return Check::warning(
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
    fn problems_print_their_fix_and_no_secret() {
        let secrets = sources::secrets_from_pairs(&[("DIGITALOCEAN_TOKEN", "dop_v1_secret")]);
        let check = Check::problem("digitalocean", "sent dop_v1_secret", "export another");
        let mut out = Vec::new();
        write_check(&check, &secrets, &mut out).expect("writes to memory");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "problem digitalocean sent ***\n        fix: export another\n"
        );
    }
}
