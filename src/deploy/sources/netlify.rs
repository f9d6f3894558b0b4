//! Netlify: a site's deploys (`GET /api/v1/sites/{site_id}/deploys`, newest first), this
//! commit's found by `commit_ref` among those of the production context. Netlify posts no
//! GitHub deployment for production or branch deploys (only deploy previews get commit
//! statuses), so its own API is the source of truth.
//!
//! `ready` is live; `error` and `rejected` are failed with `error_message`, except a cancelled
//! build (`Canceled build`: a newer push, or a person) and a skipped one (an ignore command,
//! `skipped`), which are live through a newer deploy that contains them ([`super::newer`]);
//! every other state (`new`, `enqueued`, `building`, `uploading`, `processing`, ...) is a
//! phase. Netlify refuses requests without a `User-Agent` (ours is `mainstay/<version>`) and
//! paginates with `Link`. The token is `NETLIFY_AUTH_TOKEN` (a personal access token).

use serde::Deserialize;

use super::hosted::{self, Deploy, Facts, Hosted, Page, Platform, Request};
use super::kind::{
    Check, Configured, Error, Invalid, Kind, Setup, Source, Starter, StarterContext,
};
use super::newer::State;
use crate::deploy::http::Response;
use crate::deploy::secrets::Var;

/// `[deploy.netlify]`.
pub const KIND: NetlifyKind = NetlifyKind;

pub struct NetlifyKind;

pub const TOKEN_VAR: &str = "NETLIFY_AUTH_TOKEN";

const HOME: &str = "api.netlify.com";

const FACTS: Facts = Facts {
    name: "netlify",
    home: HOME,
    token_var: TOKEN_VAR,
    token_needs: "a Netlify personal access token with access to the site",
    setting: "site_id in [deploy.netlify]",
};

impl Kind for NetlifyKind {
    fn name(&self) -> &'static str {
        FACTS.name
    }

    fn vars(&self) -> &'static [Var] {
        const VARS: &[Var] = &[Var::secret(TOKEN_VAR)];
        VARS
    }

    fn configure(&self, section: &toml::Value) -> Result<Box<dyn Configured>, Invalid> {
        let settings: Settings = super::kind::section(section)?;
        if settings.site_id.trim().is_empty() {
            return Err((
                "site_id".to_owned(),
                "must be the site's id (`netlify status` shows it)".to_owned(),
            ));
        }
        Ok(Box::new(settings))
    }

    /// Offered where the clone is linked to a site (`.netlify/state.json`, written by `netlify
    /// link`) or holds a `netlify.toml`; the site id only when the clone names it.
    fn starter(&self, clone: &StarterContext<'_>) -> Starter {
        let linked = super::kind::json_field(clone.worktree, ".netlify/state.json", "/siteId");
        let toml = clone.worktree.join("netlify.toml").is_file();
        let scripted = clone.scripts.contains(&"netlify");
        if linked.is_none() && !toml && !scripted {
            return Starter::default();
        }
        let mut found = Vec::new();
        if let Some(id) = &linked {
            found.push(format!(
                "a Netlify site linked in .netlify/state.json: {id}"
            ));
        } else if toml {
            found.push("a netlify.toml: a Netlify site".to_owned());
        } else {
            found.push("a package.json script runs `netlify`: a Netlify site".to_owned());
        }
        let site = linked.unwrap_or_default();
        Starter {
            found,
            snippet: Some(format!(
                "# Netlify posts no GitHub deployment for production deploys: its own API.\n\
                 # The token is {TOKEN_VAR} in the environment, never here.\n\
                 # [deploy.netlify]\n\
                 # site_id = \"{site}\"{hint}\n",
                hint = if site.is_empty() {
                    "   # `netlify status` shows it"
                } else {
                    ""
                }
            )),
            next: Some(format!(
                "export {TOKEN_VAR} (a Netlify personal access token)"
            )),
        }
    }
}

/// `[deploy.netlify]` in `.mainstay.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The site's API id (or its `name.netlify.app` name).
    pub site_id: String,
    /// The deploy context followed.
    #[serde(default = "default_context")]
    pub context: String,
    /// The API's base URL, for tests and proxies.
    #[serde(default = "default_base")]
    pub api_base: String,
}

fn default_context() -> String {
    "production".to_owned()
}

fn default_base() -> String {
    hosted::base_of(HOME)
}

#[derive(Debug, Deserialize)]
struct NetlifyDeploy {
    id: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    context: Option<String>,
    #[serde(default)]
    commit_ref: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    skipped: Option<bool>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    published_at: Option<String>,
    /// Seconds the build took.
    #[serde(default)]
    deploy_time: Option<u64>,
}

impl NetlifyDeploy {
    fn state(&self) -> State {
        let message = self.error_message.as_deref().unwrap_or("").trim();
        let id = &self.id;
        let lower = message.to_ascii_lowercase();
        match self.state.as_str() {
            "ready" => State::Live(Vec::new()),
            _ if self.skipped == Some(true) || self.state == "skipped" => State::Skipped {
                why: format!("deploy {id} was skipped; "),
                details: Vec::new(),
            },
            "error" | "rejected" if lower.contains("cancel") => {
                State::Cancelled(format!("deploy {id} was canceled ({message}); "))
            }
            "error" | "rejected" => State::Failed {
                reason: if message.is_empty() {
                    format!("deploy {id} ended in {}", self.state)
                } else {
                    message.to_owned()
                },
                details: vec![format!("deploy {id}: {}", self.state)],
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
        format!("site {}", self.site_id.trim())
    }

    fn first(&self, per_page: u32) -> Request {
        Request::get(format!(
            "{}/api/v1/sites/{}/deploys?page=1&per_page={per_page}",
            self.api_base.trim_end_matches('/'),
            hosted::encode(&self.site_id)
        ))
    }

    fn page(&self, response: &Response, _: &Request, _: u32) -> Result<Page, String> {
        let listed: Vec<NetlifyDeploy> =
            serde_json::from_str(&response.body).map_err(|e| e.to_string())?;
        let context = self.context.trim();
        let deploys = listed
            .iter()
            .filter(|d| {
                d.context
                    .as_deref()
                    .is_some_and(|c| c.eq_ignore_ascii_case(context))
            })
            .map(|d| {
                let started_at = d.created_at.as_deref().and_then(crate::time::parse);
                let published = d.published_at.as_deref().and_then(crate::time::parse);
                let duration = hosted::between(started_at, published).or(d
                    .deploy_time
                    .filter(|_| d.state == "ready")
                    .map(std::time::Duration::from_secs));
                Deploy {
                    id: d.id.clone(),
                    commit: d.commit_ref.clone().filter(|c| !c.trim().is_empty()),
                    state: d.state(),
                    started_at,
                    duration: duration.filter(|_| d.state == "ready"),
                    word: d.state.clone(),
                }
            })
            .collect();
        Ok(Page {
            deploys,
            next: response.next_link().map(Request::get),
        })
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
    use super::*;

    #[test]
    fn states_are_read_as_netlify_documents_them() {
        let deploy = |state: &str, message: &str| NetlifyDeploy {
            id: "d1".into(),
            state: state.into(),
            context: Some("production".into()),
            commit_ref: None,
            error_message: Some(message.into()),
            skipped: None,
            created_at: None,
            published_at: None,
            deploy_time: None,
        };
        assert_eq!(deploy("ready", "").state(), State::Live(vec![]));
        assert!(matches!(deploy("building", "").state(), State::Pending(p) if p == "building"));
        assert!(matches!(
            deploy("error", "Canceled build").state(),
            State::Cancelled(_)
        ));
        assert!(matches!(
            deploy("error", "Build script returned non-zero exit code: 2").state(),
            State::Failed { .. }
        ));
    }
}
