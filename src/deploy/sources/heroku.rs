//! Heroku: an app's builds (`GET /apps/{app}/builds`, newest first by a `Range` header of
//! `created_at`), this commit's found by `source_blob.version`, which a `git push heroku` and
//! the GitHub integration's automatic deploys both set to the commit. Heroku creates no GitHub
//! deployment for pipeline promotions, nor for pushes to its own git remote.
//!
//! `succeeded` is live, `failed` is failed, `pending` is a phase; a commit with no build of its
//! own (a newer push built first) is live through a newer build that contains it
//! ([`super::newer`]). The API is version 3 (`Accept: application/vnd.heroku+json;
//! version=3`); pages follow `Next-Range`. The token is `HEROKU_API_KEY`.

use serde::Deserialize;

use super::hosted::{self, Deploy, Facts, Hosted, Page, Platform, Request};
use super::kind::{
    Check, Configured, Error, Invalid, Kind, Setup, Source, Starter, StarterContext,
};
use super::newer::State;
use crate::deploy::http::Response;
use crate::deploy::secrets::Var;

/// `[deploy.heroku]`.
pub const KIND: HerokuKind = HerokuKind;

pub struct HerokuKind;

pub const TOKEN_VAR: &str = "HEROKU_API_KEY";

const HOME: &str = "api.heroku.com";

const FACTS: Facts = Facts {
    name: "heroku",
    home: HOME,
    token_var: TOKEN_VAR,
    token_needs: "an API key with access to the app (`heroku auth:token`)",
    setting: "app in [deploy.heroku]",
};

impl Kind for HerokuKind {
    fn name(&self) -> &'static str {
        FACTS.name
    }

    fn vars(&self) -> &'static [Var] {
        const VARS: &[Var] = &[Var::secret(TOKEN_VAR)];
        VARS
    }

    fn configure(&self, section: &toml::Value) -> Result<Box<dyn Configured>, Invalid> {
        let settings: Settings = super::kind::section(section)?;
        if !super::kind::plain_id(settings.app.trim()) {
            return Err((
                "app".to_owned(),
                "must be the app's name or id (`heroku apps` lists them)".to_owned(),
            ));
        }
        Ok(Box::new(settings))
    }

    /// Offered where the clone has a remote on `git.heroku.com` (the app is its name there),
    /// or an `app.json` or `Procfile`, which do not name the app.
    fn starter(&self, clone: &StarterContext<'_>) -> Starter {
        let app = clone.remotes.iter().find_map(|url| app_from_url(url));
        let app = app.as_deref();
        let files = ["app.json", "Procfile"]
            .iter()
            .any(|f| clone.worktree.join(f).is_file());
        if app.is_none() && !files {
            return Starter::default();
        }
        let found = match app {
            Some(app) => format!("a git remote on Heroku: app {app}"),
            None => "an app.json or Procfile: a Heroku app".to_owned(),
        };
        Starter {
            found: vec![found],
            snippet: Some(format!(
                "# Heroku's builds, by the commit each built. The key is {TOKEN_VAR} in the\n\
                 # environment, never here.\n\
                 # [deploy.heroku]\n\
                 # app = \"{}\"{}\n",
                app.unwrap_or_default(),
                if app.is_none() {
                    "   # `heroku apps` lists them"
                } else {
                    ""
                }
            )),
            next: Some(format!("export {TOKEN_VAR} (`heroku auth:token`)")),
        }
    }
}

/// The app a Heroku git remote URL names: `https://git.heroku.com/<app>.git`.
pub fn app_from_url(url: &str) -> Option<String> {
    let rest = url.trim().strip_prefix("https://git.heroku.com/")?;
    let app = rest.strip_suffix(".git").unwrap_or(rest);
    super::kind::plain_id(app).then(|| app.to_owned())
}

/// `[deploy.heroku]` in `.mainstay.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The app's name or id.
    pub app: String,
    /// The API's base URL, for tests and proxies.
    #[serde(default = "default_base")]
    pub api_base: String,
}

fn default_base() -> String {
    hosted::base_of(HOME)
}

#[derive(Debug, Deserialize)]
struct Build {
    id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    source_blob: Option<SourceBlob>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SourceBlob {
    #[serde(default)]
    version: Option<String>,
}

impl Build {
    fn state(&self) -> State {
        let id = &self.id;
        match self.status.as_str() {
            "succeeded" => State::Live(Vec::new()),
            "failed" => State::Failed {
                reason: format!("build {id} failed"),
                details: vec![format!("build {id}: failed (`heroku builds:output {id}`)")],
            },
            other => State::Pending(other.to_owned()),
        }
    }
}

impl Platform for Settings {
    fn facts(&self) -> &'static Facts {
        &FACTS
    }
    fn base(&self) -> &str {
        &self.api_base
    }
    fn target(&self) -> String {
        format!("app {}", self.app.trim())
    }
    fn headers(&self) -> Vec<(&'static str, String)> {
        vec![(
            "accept",
            "application/vnd.heroku+json; version=3".to_owned(),
        )]
    }

    fn first(&self, per_page: u32) -> Request {
        Request {
            url: format!(
                "{}/apps/{}/builds",
                self.api_base.trim_end_matches('/'),
                hosted::encode(&self.app)
            ),
            headers: vec![(
                "range",
                format!("created_at ..; order=desc, max={per_page}"),
            )],
        }
    }

    fn page(&self, response: &Response, asked: &Request, _: u32) -> Result<Page, String> {
        let builds: Vec<Build> = serde_json::from_str(&response.body).map_err(|e| e.to_string())?;
        let next = response
            .header("next-range")
            .filter(|_| response.status == 206)
            .map(|range| Request {
                url: asked.url.clone(),
                headers: vec![("range", range.to_owned())],
            });
        let deploys = builds
            .iter()
            .map(|b| {
                let started_at = b.created_at.as_deref().and_then(crate::time::parse);
                let ended = b.updated_at.as_deref().and_then(crate::time::parse);
                Deploy {
                    id: b.id.clone(),
                    commit: b.source_blob.as_ref().and_then(|s| s.version.clone()),
                    state: b.state(),
                    started_at,
                    duration: hosted::between(started_at, ended)
                        .filter(|_| b.status == "succeeded"),
                    word: b.status.clone(),
                }
            })
            .collect();
        Ok(Page { deploys, next })
    }
}

impl Configured for Settings {
    fn name(&self) -> &'static str {
        KIND.name()
    }

    fn open(&self, setup: &Setup<'_>) -> Result<Box<dyn Source>, Error> {
        Hosted::open(self.clone(), setup)
    }

    fn doctor(&self, setup: &Setup<'_>) -> Vec<Check> {
        hosted::doctor(self.clone(), setup)
    }

    fn keeps_history(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_app_is_read_from_a_heroku_remote() {
        assert_eq!(
            super::app_from_url("https://git.heroku.com/acme-web.git").as_deref(),
            Some("acme-web")
        );
        assert_eq!(super::app_from_url("https://github.com/acme/web.git"), None);
        assert_eq!(super::app_from_url("https://git.heroku.com/../x.git"), None);
    }
}
