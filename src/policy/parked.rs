//! The queue on the server: `pre-receive`'s rules for `refs/mainstay/parked/<branch>/<id>`, the
//! refs `mainstay push` parks changes under for other agents to carry.
//!
//! A parked change passes no forge's branch protection, and the next lander carries it onto the
//! branch: so the server holds it to what a lander would carry, before anyone fetches it.
//! - a parked ref is written once: made where none is, or deleted (taken back, carried, put
//!   aside), never overwritten, so no agent's parked change is replaced by another's;
//! - it is a linear chain of at most [`MAX_CHAIN`] commits on a commit of its branch, which
//!   exists here;
//! - none of its commits changes configuration ([`super::configuration::is`]);
//! - its change adds no conflict block, by the branch's own rules ([`super::check`], judged
//!   from the chain's base as a push of the branch would be).

use std::fmt;

use super::{PushContext, Refusal, Settings, Update};
use crate::git::Git;
use crate::repo::Repo;

/// Where parked changes live.
pub const PREFIX: &str = "refs/mainstay/parked/";

/// The longest chain a lander carries (`mainstay push`'s own limit).
pub const MAX_CHAIN: usize = 100;

/// Why a parked ref update is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub reference: String,
    pub reason: String,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refusing to park `{}`: {}", self.reference, self.reason)
    }
}

/// The branch a parked ref belongs to: `<branch>` escaped as `mainstay push` escapes it.
fn branch_of(reference: &str) -> Option<String> {
    let rest = reference.strip_prefix(PREFIX)?;
    let (key, id) = rest.rsplit_once('/')?;
    if key.contains('/') || id.is_empty() {
        return None;
    }
    Some(key.replace("%2F", "/").replace("%25", "%"))
}

/// Applies the queue's rules to every update under [`PREFIX`] of a received push.
pub fn check(repo: &Repo, git: &Git, updates: &[Update], settings: &Settings) -> Vec<Refused> {
    let mut refused = Vec::new();
    for update in updates.iter().filter(|u| u.remote_ref.starts_with(PREFIX)) {
        let Some(new) = update.local else {
            continue;
        };
        let reference = update.remote_ref.clone();
        let refuse = |reason: String| Refused {
            reference: reference.clone(),
            reason,
        };
        if update.remote.is_some() {
            refused.push(refuse(
                "a parked ref is written once: it holds another change already (take yours back \
                 and park it under your own id)"
                    .to_owned(),
            ));
            continue;
        }
        let Some(branch) = branch_of(&reference) else {
            refused.push(refuse(
                "not `refs/mainstay/parked/<branch>/<id>`".to_owned(),
            ));
            continue;
        };
        match chain_base(git, &new.to_string(), &branch) {
            Err(reason) => refused.push(refuse(reason)),
            Ok((base, commits)) => {
                let commits: Vec<&str> = commits.iter().map(String::as_str).collect();
                match super::configuration::touched(git, &commits, None) {
                    Ok(touched) => {
                        if let Some((_, path)) = touched.first() {
                            refused.push(refuse(format!(
                                "it changes {path}, which decides what runs or how the \
                                 repository is read: push it to the branch itself, where every \
                                 check applies"
                            )));
                            continue;
                        }
                    }
                    Err(e) => {
                        refused.push(refuse(format!("cannot list what it changes: {e}")));
                        continue;
                    }
                }
                refused.extend(markers(repo, update, &branch, base, settings));
            }
        }
    }
    refused
}

/// The commit of `branch` that `tip`'s chain starts from, and the chain's commits: a linear
/// chain of at most [`MAX_CHAIN`] commits not on the branch.
fn chain_base(git: &Git, tip: &str, branch: &str) -> Result<(String, Vec<String>), String> {
    let head = format!("refs/heads/{branch}");
    if git.resolve(&head).is_none() {
        return Err(format!("there is no branch `{branch}` here"));
    }
    let limit = format!("--max-count={}", MAX_CHAIN + 1);
    let listed = git
        .run(["rev-list", "--parents", &limit, tip, "--not", &head])
        .map_err(|e| format!("cannot walk it: {e}"))?;
    let mut commits = Vec::new();
    let mut expected: Option<String> = None;
    let mut base = None;
    for line in listed.lines() {
        let mut words = line.split(' ');
        let sha = words.next().unwrap_or_default().to_owned();
        let parents: Vec<&str> = words.collect();
        let [parent] = parents.as_slice() else {
            return Err("it is no linear chain (a merge, or a root commit)".to_owned());
        };
        if expected.as_ref().is_some_and(|e| *e != sha) {
            return Err("it is no linear chain".to_owned());
        }
        expected = Some((*parent).to_owned());
        base = Some((*parent).to_owned());
        commits.push(sha);
    }
    if commits.is_empty() {
        return Err(format!("it holds nothing that `{branch}` does not"));
    }
    if commits.len() > MAX_CHAIN {
        return Err(format!("a chain of more than {MAX_CHAIN} commits"));
    }
    commits.reverse();
    Ok((base.expect("a chain has a base"), commits))
}

/// Conflict blocks the chain adds, judged as a push of `branch` from `base` would be.
fn markers(
    repo: &Repo,
    update: &Update,
    branch: &str,
    base: String,
    settings: &Settings,
) -> Vec<Refused> {
    let Ok(base) = gix::ObjectId::from_hex(base.as_bytes()) else {
        return Vec::new();
    };
    let as_branch = Update {
        local_ref: update.remote_ref.clone(),
        local: update.local,
        remote_ref: format!("refs/heads/{branch}"),
        remote: Some(base),
    };
    let updates = [as_branch];
    let push = PushContext {
        remote: "(received)",
        deploy_branch: branch,
        remote_refs: "refs/heads/".to_owned(),
        updates: &updates,
        override_reason: None,
        policy_from: None,
        settings: &|_| Ok(settings.clone()),
    };
    super::check(repo, &push)
        .refusals
        .into_iter()
        .map(|refusal| Refused {
            reference: update.remote_ref.clone(),
            reason: match refusal {
                Refusal::ConflictMarkers { path, line, .. } => {
                    format!("{path}:{line} adds a conflict block")
                }
                other => other.to_string(),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parked_ref_names_its_branch_escaped() {
        assert_eq!(
            branch_of("refs/mainstay/parked/main/00ff").as_deref(),
            Some("main")
        );
        assert_eq!(
            branch_of("refs/mainstay/parked/agent%2Fx/1").as_deref(),
            Some("agent/x")
        );
        assert_eq!(branch_of("refs/mainstay/parked/main/0/x"), None);
        assert_eq!(branch_of("refs/mainstay/parked/main"), None);
    }
}
