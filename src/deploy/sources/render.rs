//! Render: a service's deploys (`GET /v1/services/{service_id}/deploys`, newest first, each
//! `{"deploy": {...}, "cursor": "..."}`), this commit's found by `commit.id`. Render reports no
//! GitHub deployment for its deploys, so its own API is the source of truth.
//!
//! `live` is live; `deactivated` went live and was replaced; `build_failed`, `update_failed`
//! and `pre_deploy_failed` are failed; `canceled` (a newer push, or a person) is live through a
//! newer deploy that contains it, as is a commit Render never deployed (`[skip render]`, build
//! filters) ([`super::newer`]); `created`, `queued` and the `*_in_progress` states are phases.
//! Pages follow the last item's `cursor`. The token is `RENDER_API_KEY` (an API key).

use serde::Deserialize;

use super::hosted::{self, Deploy, Facts, Hosted, Page, Platform, Request};
use super::kind::{
    Check, Configured, Error, Invalid, Kind, Setup, Source, Starter, StarterContext,
};
use super::newer::State;
use crate::deploy::http::Response;
use crate::deploy::secrets::Var;

/// `[deploy.render]`.
pub const KIND: RenderKind = RenderKind;

pub struct RenderKind;

pub const TOKEN_VAR: &str = "RENDER_API_KEY";

const HOME: &str = "api.render.com";

const FACTS: Facts = Facts {
    name: "render",
    home: HOME,
    token_var: TOKEN_VAR,
    token_needs: "a Render API key of the service's workspace",
    setting: "service_id in [deploy.render]",
};

impl Kind for RenderKind {
    fn name(&self) -> &'static str {
        FACTS.name
    }

    fn vars(&self) -> &'static [Var] {
        const VARS: &[Var] = &[Var::secret(TOKEN_VAR)];
        VARS
    }

    fn configure(&self, section: &toml::Value) -> Result<Box<dyn Configured>, Invalid> {
        let settings: Settings = super::kind::section(section)?;
        if !settings.service_id.trim().starts_with("srv-") {
            return Err((
                "service_id".to_owned(),
                "must be the service's id, `srv-...` (the dashboard's URL shows it)".to_owned(),
            ));
        }
        Ok(Box::new(settings))
    }

    /// Offered where the clone holds a Blueprint (`render.yaml`), which names services but not
    /// their ids: the id is left for the user to fill in.
    fn starter(&self, clone: &StarterContext<'_>) -> Starter {
        if !clone.worktree.join("render.yaml").is_file() {
            return Starter::default();
        }
        Starter {
            found: vec!["a render.yaml: a Render Blueprint".to_owned()],
            snippet: Some(format!(
                "# Render reports no GitHub deployment: its own API. The key is {TOKEN_VAR} in the\n\
                 # environment, never here.\n\
                 # [deploy.render]\n\
                 # service_id = \"srv-\"   # the service's id, from its dashboard URL\n"
            )),
            next: Some(format!("export {TOKEN_VAR} (a Render API key)")),
        }
    }
}

/// `[deploy.render]` in `.mainstay.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub service_id: String,
    /// The API's base URL, for tests and proxies.
    #[serde(default = "default_base")]
    pub api_base: String,
}

fn default_base() -> String {
    hosted::base_of(HOME)
}

#[derive(Debug, Deserialize)]
struct Item {
    deploy: RenderDeploy,
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RenderDeploy {
    id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    commit: Option<Commit>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    finished_at: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Commit {
    #[serde(default)]
    id: Option<String>,
}

impl RenderDeploy {
    fn state(&self) -> State {
        let id = &self.id;
        match self.status.as_str() {
            "live" => State::Live(Vec::new()),
            "deactivated" => State::Replaced(format!("deploy {id} was deactivated; ")),
            "build_failed" | "update_failed" | "pre_deploy_failed" => State::Failed {
                reason: format!("deploy {id}: {}", self.status),
                details: vec![format!("deploy {id} ended in {}", self.status)],
            },
            "canceled" => State::Cancelled(format!("deploy {id} was canceled; ")),
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
        format!("service {}", self.service_id.trim())
    }

    fn first(&self, per_page: u32) -> Request {
        Request::get(format!(
            "{}/v1/services/{}/deploys?limit={per_page}",
            self.api_base.trim_end_matches('/'),
            hosted::encode(&self.service_id)
        ))
    }

    fn page(&self, response: &Response, asked: &Request, per_page: u32) -> Result<Page, String> {
        let items: Vec<Item> = serde_json::from_str(&response.body).map_err(|e| e.to_string())?;
        // A full page has a next one, from the last item's cursor.
        let next = items
            .last()
            .and_then(|i| i.cursor.clone())
            .filter(|_| items.len() >= per_page as usize)
            .map(|cursor| {
                let base = asked.url.split("&cursor=").next().unwrap_or(&asked.url);
                Request::get(format!("{base}&cursor={}", hosted::encode(&cursor)))
            });
        let deploys = items
            .into_iter()
            .map(|i| {
                let d = i.deploy;
                let started_at = d.created_at.as_deref().and_then(crate::time::parse);
                let finished = d.finished_at.as_deref().and_then(crate::time::parse);
                let live = matches!(d.status.as_str(), "live" | "deactivated");
                Deploy {
                    commit: d.commit.as_ref().and_then(|c| c.id.clone()),
                    state: d.state(),
                    started_at,
                    duration: hosted::between(started_at, finished).filter(|_| live),
                    word: d.status.clone(),
                    id: d.id,
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
