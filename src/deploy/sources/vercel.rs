//! Vercel: a project's deployments to a target (`GET /v6/deployments?projectId=…&target=production`,
//! newest first), this commit's found by the git commit in its `meta` (`githubCommitSha`, or
//! GitLab's or Bitbucket's). The project is named exactly (its id, or its name): in a monorepo
//! several projects deploy one repository, and only this one's deployments are listed, never
//! found by an environment-name pattern another project also matches. A CLI deploy of a git
//! checkout carries the same `meta`, and is found by project the same way.
//!
//! `READY` is live; `ERROR` is failed; `CANCELED` (a newer commit replaced a queued build, or
//! the Ignored Build Step) is live through a newer deployment that contains it, as is a commit
//! with no deployment of its own ([`super::newer`]); `QUEUED`, `INITIALIZING` and `BUILDING`
//! are phases. Pages follow `pagination.next` (`until=`). The token is `VERCEL_TOKEN`; a team's
//! project also needs `team_id`.

use serde::Deserialize;

use super::hosted::{self, Deploy, Facts, Hosted, Page, Platform, Request};
use super::kind::{
    Check, Configured, Error, Invalid, Kind, Setup, Source, Starter, StarterContext,
};
use super::newer::State;
use crate::deploy::http::Response;
use crate::deploy::secrets::Var;

/// `[deploy.vercel]`.
pub const KIND: VercelKind = VercelKind;

pub struct VercelKind;

pub const TOKEN_VAR: &str = "VERCEL_TOKEN";

const HOME: &str = "api.vercel.com";

const FACTS: Facts = Facts {
    name: "vercel",
    home: HOME,
    token_var: TOKEN_VAR,
    token_needs: "a Vercel access token with access to the project's team",
    setting: "project and team_id in [deploy.vercel]",
};

impl Kind for VercelKind {
    fn name(&self) -> &'static str {
        FACTS.name
    }

    fn vars(&self) -> &'static [Var] {
        const VARS: &[Var] = &[Var::secret(TOKEN_VAR)];
        VARS
    }

    fn configure(&self, section: &toml::Value) -> Result<Box<dyn Configured>, Invalid> {
        let settings: Settings = super::kind::section(section)?;
        if settings.project.trim().is_empty() {
            return Err((
                "project".to_owned(),
                "must be the project's id or name (.vercel/project.json's projectId)".to_owned(),
            ));
        }
        Ok(Box::new(settings))
    }

    /// Offered where the clone is linked to Vercel: `.vercel/project.json` (`vercel link`)
    /// names the project, `.vercel/repo.json` (`vercel link --repo`) a monorepo's projects.
    fn starter(&self, clone: &StarterContext<'_>) -> Starter {
        let linked = super::kind::json_field(clone.worktree, ".vercel/project.json", "/projectId");
        let org = super::kind::json_field(clone.worktree, ".vercel/project.json", "/orgId")
            .or_else(|| super::kind::json_field(clone.worktree, ".vercel/repo.json", "/orgId"));
        let projects = monorepo_projects(clone.worktree);
        let scripted = clone.scripts.contains(&"vercel");
        if linked.is_none() && projects.is_empty() && !scripted {
            return Starter::default();
        }
        let team = org
            .filter(|o| o.starts_with("team_"))
            .map(|o| format!("# team_id = \"{o}\"\n"))
            .unwrap_or_default();
        let mut found = Vec::new();
        let mut snippet = format!(
            "# Vercel's own API, by project (a monorepo's other projects never match). The token\n\
             # is {TOKEN_VAR} in the environment, never here.\n\
             # [deploy.vercel]\n"
        );
        if let Some(id) = &linked {
            found.push(format!(
                "a Vercel project linked in .vercel/project.json: {id}"
            ));
            snippet.push_str(&format!("# project = \"{id}\"\n"));
        } else if !projects.is_empty() {
            let names: Vec<String> = projects
                .iter()
                .map(|(id, name)| format!("{name} ({id})"))
                .collect();
            found.push(format!(
                "a Vercel monorepo linked in .vercel/repo.json: {}",
                names.join(", ")
            ));
            snippet.push_str("# project = \"\"   # one of:");
            for (id, name) in &projects {
                snippet.push_str(&format!(" \"{id}\" ({name})"));
            }
            snippet.push('\n');
        } else {
            found.push("a package.json script runs `vercel`: a Vercel project".to_owned());
            snippet.push_str("# project = \"\"   # `vercel link` writes .vercel/project.json\n");
        }
        snippet.push_str(&team);
        Starter {
            found,
            snippet: Some(snippet),
            next: Some(format!("export {TOKEN_VAR} (a Vercel access token)")),
        }
    }
}

/// The projects `.vercel/repo.json` lists: `(id, name)`, plain ids and names only.
fn monorepo_projects(worktree: &std::path::Path) -> Vec<(String, String)> {
    let Some(json) = super::kind::json_file(worktree, ".vercel/repo.json") else {
        return Vec::new();
    };
    let plain = |v: Option<&serde_json::Value>| {
        v.and_then(|v| v.as_str())
            .filter(|s| super::kind::plain_id(s))
            .map(str::to_owned)
    };
    json.get("projects")
        .and_then(|p| p.as_array())
        .map(|projects| {
            projects
                .iter()
                .take(20)
                .filter_map(|p| Some((plain(p.get("id"))?, plain(p.get("name"))?)))
                .collect()
        })
        .unwrap_or_default()
}

/// `[deploy.vercel]` in `.mainstay.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The project's id (`prj_…`) or name.
    pub project: String,
    /// The team owning it, when not the token's own account.
    pub team_id: Option<String>,
    /// The target followed.
    #[serde(default = "default_target")]
    pub target: String,
    /// The API's base URL, for tests and proxies.
    #[serde(default = "default_base")]
    pub api_base: String,
}

fn default_target() -> String {
    "production".to_owned()
}

fn default_base() -> String {
    hosted::base_of(HOME)
}

#[derive(Debug, Deserialize)]
struct Listing {
    deployments: Vec<VercelDeploy>,
    #[serde(default)]
    pagination: Option<Pagination>,
}

#[derive(Debug, Deserialize)]
struct Pagination {
    next: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VercelDeploy {
    uid: String,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    ready_state: Option<String>,
    #[serde(default)]
    created: Option<u64>,
    #[serde(default)]
    ready: Option<u64>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    meta: serde_json::Map<String, serde_json::Value>,
}

impl VercelDeploy {
    fn word(&self) -> &str {
        self.ready_state
            .as_deref()
            .or(self.state.as_deref())
            .unwrap_or("")
    }

    fn commit(&self) -> Option<String> {
        ["githubCommitSha", "gitlabCommitSha", "bitbucketCommitSha"]
            .iter()
            .find_map(|key| self.meta.get(*key)?.as_str())
            .filter(|c| !c.trim().is_empty())
            .map(str::to_owned)
    }

    fn state(&self) -> State {
        let id = &self.uid;
        match self.word() {
            "READY" => State::Live(
                self.url
                    .iter()
                    .map(|u| format!("url: https://{}", crate::deploy::http::redact(u)))
                    .collect(),
            ),
            "ERROR" => State::Failed {
                reason: format!("deployment {id} failed to build"),
                details: vec![format!("deployment {id}: ERROR")],
            },
            "CANCELED" => State::Cancelled(format!("deployment {id} was canceled; ")),
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
        format!("project {}", self.project.trim())
    }

    fn first(&self, per_page: u32) -> Request {
        let mut url = format!(
            "{}/v6/deployments?projectId={}&target={}&limit={per_page}",
            self.api_base.trim_end_matches('/'),
            hosted::encode(&self.project),
            hosted::encode(&self.target)
        );
        if let Some(team) = &self.team_id {
            url.push_str(&format!("&teamId={}", hosted::encode(team)));
        }
        Request::get(url)
    }

    fn page(&self, response: &Response, asked: &Request, _: u32) -> Result<Page, String> {
        let listing: Listing = serde_json::from_str(&response.body).map_err(|e| e.to_string())?;
        let next = listing
            .pagination
            .and_then(|p| p.next)
            .filter(|_| !listing.deployments.is_empty())
            .map(|until| {
                let base = asked.url.split("&until=").next().unwrap_or(&asked.url);
                Request::get(format!("{base}&until={until}"))
            });
        let deploys = listing
            .deployments
            .iter()
            .filter(|d| d.word() != "DELETED")
            .map(|d| {
                let started_at = d.created.map(hosted::from_millis);
                let ready = d.ready.map(hosted::from_millis);
                Deploy {
                    id: d.uid.clone(),
                    commit: d.commit(),
                    state: d.state(),
                    started_at,
                    duration: hosted::between(started_at, ready).filter(|_| d.word() == "READY"),
                    word: d.word().to_owned(),
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
