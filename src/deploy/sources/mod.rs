//! Where the monitor learns how a deployment goes: the kinds of source, one file each, and the
//! one list of them, [`KINDS`]. This module is the registry; what a source is (the traits and
//! the words they answer in) lives in [`kind`], re-exported here.
//!
//! Everything else iterates that list: `[deploy]` hands each kind its own `[deploy.<name>]`
//! section to validate ([`validate`]), the secret scrubber removes every variable a kind declares
//! secret ([`declared`], [`secrets_from_env`]), the monitor and `mainstay status` poll what is
//! configured ([`open`]), `doctor` prints each kind's checks, `stats` reads each source's past
//! deployments and `init` writes each kind's starter. Adding a source is a file and a line in
//! [`KINDS`].
//!
//! A [`Kind`] parses its section into a [`Configured`] source, which opens a [`Source`] to poll
//! and checks itself for `doctor`. A source answers each poll with an [`Observation`] and offers
//! its past deployments ([`Past`]) to the schedule and to `stats` through [`Source::past`]. Each
//! poll round asks every configured source once, in [`KINDS`]'s order; the first definitive
//! answer (live, failed, superseded) wins.

use std::time::Duration;

use super::secrets::{self, Secrets, Var};
use super::settings::Settings;

pub mod app;
pub mod digitalocean;
pub mod github;
pub mod heroku;
pub mod hosted;
pub mod kind;
pub mod mysql;
pub mod netlify;
pub mod newer;
pub mod render;
pub mod vercel;

pub use kind::*;

/// Every kind of source, in the order a poll round asks them: the app first (cheapest, and the
/// closest to the truth), then the database, then the platforms' own APIs, then GitHub's.
pub const KINDS: &[&dyn Kind] = &[
    &app::KIND,
    &mysql::KIND,
    &digitalocean::KIND,
    &netlify::KIND,
    &render::KIND,
    &vercel::KIND,
    &heroku::KIND,
    &github::KIND,
];

/// Every environment variable read: mainstay's own ([`secrets::OWN`]), then each kind's.
pub fn declared() -> impl Iterator<Item = &'static Var> {
    secrets::OWN
        .iter()
        .chain(KINDS.iter().flat_map(|kind| kind.vars().iter()))
}

/// Every declared variable that is set in the process environment.
pub fn secrets_from_env() -> Secrets {
    Secrets::from_lookup(declared(), |name| std::env::var(name).ok())
}

/// Every declared variable among these `(name, value)` pairs, as if they were the environment:
/// for tests.
pub fn secrets_from_pairs(pairs: &[(&str, &str)]) -> Secrets {
    Secrets::from_pairs(declared(), pairs)
}

/// Checks `[deploy]`'s sections, `[deploy.<name>]`, each by its kind; any other key `[deploy]`
/// does not take is refused here, naming what it does take. Keys are from the file's top
/// (`deploy.github.repo`).
pub fn validate(settings: &Settings) -> Result<(), Invalid> {
    for (name, section) in &settings.sources {
        let Some(kind) = kind(name) else {
            return Err((
                format!("deploy.{name}"),
                format!(
                    "unknown key; [deploy] takes branch, remote, max_wait, poll_initial, \
                     poll_later, poll_switch_after, schedule, request_timeout and a section \
                     per source: {}",
                    kind_names()
                ),
            ));
        };
        if !section.is_table() {
            return Err((
                format!("deploy.{name}"),
                "must be a section, [deploy.<source>]".to_owned(),
            ));
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

/// The kind named `name`.
pub fn kind(name: &str) -> Option<&'static dyn Kind> {
    KINDS.iter().copied().find(|k| k.name() == name)
}

/// The names of every kind, for messages: `app, mysql, digitalocean, github`.
pub fn kind_names() -> String {
    KINDS
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The sources `[deploy]` and the environment configure, in [`KINDS`]'s order. A section that
/// does not parse (settings that were not validated) is an error beside the others.
pub fn configured(
    settings: &Settings,
    secrets: &Secrets,
) -> Vec<Result<Box<dyn Configured>, Error>> {
    let empty = toml::Value::Table(toml::Table::new());
    KINDS
        .iter()
        .filter_map(|kind| {
            let section = match settings.section(kind.name()) {
                Some(section) => section,
                None if kind.implied(secrets) => &empty,
                None => return None,
            };
            Some(kind.configure(section).map_err(|(key, message)| {
                let key = [format!("deploy.{}", kind.name()), key]
                    .into_iter()
                    .filter(|k| !k.is_empty())
                    .collect::<Vec<_>>()
                    .join(".");
                Error::Fatal(format!("{}: key `{key}`: {message}", kind.name()))
            }))
        })
        .collect()
}

/// Opens every configured source. One that cannot be set up is returned as an error beside the
/// others, so a run goes on with what it has; a source's warning comes back the same way.
pub fn open(settings: &Settings, setup: &Setup<'_>) -> (Vec<Box<dyn Source>>, Vec<Error>) {
    let mut sources: Vec<Box<dyn Source>> = Vec::new();
    let mut problems = Vec::new();
    for configured in configured(settings, setup.secrets) {
        match configured.and_then(|c| c.open(setup)) {
            Ok(source) => {
                // Not a problem with the source: a note for the log, which problems go to.
                problems.extend(source.warning().map(Error::Transient));
                sources.push(source);
            }
            Err(e) => problems.push(e),
        }
    }
    (sources, problems)
}

/// The readiness check the configured sources ask for, if any: URL and budget.
pub fn readiness(settings: &Settings, secrets: &Secrets) -> Option<(String, Duration)> {
    configured(settings, secrets)
        .into_iter()
        .flatten()
        .find_map(|c| c.readiness().map(|(url, budget)| (url.to_owned(), budget)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, (String, String)> {
        let settings: Settings =
            toml::from_str(text).map_err(|e| (String::new(), e.to_string()))?;
        settings.validate()?;
        validate(&settings).map(|()| settings)
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
            message.contains("app, mysql, digitalocean, netlify, render, vercel, heroku, github"),
            "{message}"
        );
        let (key, _) = parse("[mysql]\ntls = \"disabled\"\n").expect_err("refused");
        assert_eq!(key, "deploy.mysql.tls");
        let (key, _) = parse("[app]\nversion_url = 3\n").expect_err("not a string");
        assert_eq!(key, "deploy.app.version_url");
        for (section, key) in [
            (
                "version_url = \"app.example/health\"",
                "deploy.app.version_url",
            ),
            (
                "version_url = \"https://a.example\"\nready_url = \"file:///etc/passwd\"",
                "deploy.app.ready_url",
            ),
        ] {
            let (found, message) = parse(&format!("[app]\n{section}\n")).expect_err("no URL");
            assert_eq!(found, key);
            assert!(message.contains("http:// or https://"), "{message}");
        }
        let (key, _) = parse("brnach = \"main\"\n").expect_err("a typo");
        assert_eq!(key, "deploy.brnach");
    }

    #[test]
    fn every_source_declares_where_its_token_comes_from() {
        let names: Vec<&str> = declared().map(|v| v.name).collect();
        for name in [
            "DIGITALOCEAN_TOKEN",
            "GITHUB_TOKEN",
            "GH_TOKEN",
            "NETLIFY_AUTH_TOKEN",
            "RENDER_API_KEY",
            "VERCEL_TOKEN",
            "HEROKU_API_KEY",
            "DB_PASS",
            secrets::WEBHOOK_VAR,
        ] {
            assert!(names.contains(&name), "{name} is not declared: {names:?}");
        }
    }

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

    #[test]
    fn every_kind_has_its_own_name() {
        let mut names: Vec<&str> = KINDS.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KINDS.len(), "{names:?}");
        assert_eq!(
            kind_names(),
            "app, mysql, digitalocean, netlify, render, vercel, heroku, github"
        );
    }

    #[test]
    fn every_source_is_named_as_its_kind() {
        let secrets = secrets_from_pairs(&[
            ("MAINSTAY_DB_URL", "mysql://app:pw@127.0.0.1:3306/deploys"),
            ("DIGITALOCEAN_TOKEN", "dop_v1_x"),
            ("GITHUB_TOKEN", "ghp_x"),
            ("NETLIFY_AUTH_TOKEN", "nfp_x"),
            ("RENDER_API_KEY", "rnd_x"),
            ("VERCEL_TOKEN", "vcp_x"),
            ("HEROKU_API_KEY", "hrku_x"),
        ]);
        let dir = std::env::temp_dir();
        let deploy = Settings::default();
        let setup = Setup::new(&deploy, &secrets, &dir, Duration::from_secs(1));
        for kind in KINDS {
            let section = match kind.name() {
                "app" => "version_url = \"https://app.example/health\"",
                "mysql" => "",
                "digitalocean" => "app_id = \"a1\"",
                "netlify" => "site_id = \"s1\"",
                "render" => "service_id = \"srv-1\"",
                "vercel" => "project = \"prj_1\"",
                "heroku" => "app = \"acme-web\"",
                "github" => "repo = \"acme/web\"\nenvironment = \"Production\"",
                other => panic!("give the new kind {other} a minimal section here"),
            };
            let section: toml::Value = toml::from_str(section).expect("a table");
            let configured = kind.configure(&section).expect("a valid section");
            let source = configured.open(&setup).expect("opens without a request");
            assert_eq!(configured.name(), kind.name());
            assert_eq!(source.name(), kind.name());
        }
    }
}
