//! What `pre-push` does end to end: run the project's own hook, apply the policy, record the
//! audit log, and start `post-push` when the deploy branch is in the push.
//!
//! A safety hook that cannot decide refuses: a bad configuration, unreadable input or an
//! unreadable repository all block the push with a one-line reason.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::{self, Config, Section};
use crate::policy::{self, PushContext};
use crate::post_push::{self, Handoff, PushedRef};
use crate::{deploy, hook, repo};
use gix::ObjectId;

/// Where `install-hooks` finds it (it lives in [`crate::hook`], beside the code that runs it).
pub use crate::hook::LOCAL_SUFFIX;
use crate::hook::Outcome;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Hook(#[from] hook::Error),
    #[error(transparent)]
    Config(#[from] config::Error),
    #[error(transparent)]
    Policy(#[from] policy::Error),
    #[error(transparent)]
    Repo(#[from] repo::Error),
    #[error("{0}: the repository has no work tree")]
    Bare(String),
    #[error(transparent)]
    PostPush(#[from] post_push::Error),
}

/// Everything `pre-push` is given.
#[derive(Debug, Clone)]
pub struct PrePush<'a> {
    /// Where git runs the hook: the work tree top.
    pub cwd: &'a Path,
    /// The directory our executables are installed in.
    pub hooks_dir: &'a Path,
    /// git's arguments: the remote's name (or URL) and its URL.
    pub args: &'a [String],
    /// git's stdin, one line per ref.
    pub stdin: &'a [u8],
    /// `MAINSTAY_OVERRIDE`, if set.
    pub override_reason: Option<&'a str>,
    /// The repository git names in the hook's environment.
    pub location: &'a repo::Location,
}

/// Runs the whole hook; messages for the user go to `err`.
pub fn run(hook: &PrePush<'_>, err: &mut impl Write) -> Result<Outcome, Error> {
    if let Some(status) = hook::run_local(hook.hooks_dir, "pre-push", hook.args, hook.stdin)?
        && !status.success()
    {
        return Ok(Outcome::LocalFailed(status.code().unwrap_or(1)));
    }
    if config::disabled() {
        return Ok(Outcome::Allowed { followed: None });
    }
    let repo = repo::open(hook.cwd, hook.location)?;
    let worktree = repo
        .workdir()
        .map(Path::to_owned)
        .ok_or_else(|| Error::Bare(hook.cwd.display().to_string()))?;
    let policy_from = std::env::var(policy::CONFIG_FROM_VAR)
        .ok()
        .filter(|rev| !rev.is_empty());
    // `[deploy]` says what is followed (no rule loosens with it): the work tree's. `[push]` is
    // the remote's side's, as committed there (see [`committed_settings`]), or the pre-carry
    // commit's for the push that carries other agents' changes.
    let config = match &policy_from {
        Some(rev) => Config::load_only_at(&worktree, rev, &[Section::Push, Section::Deploy])?,
        None => Config::load_only(&worktree, &[Section::Deploy])?,
    };
    let fixed = policy_from.is_some().then(|| config.push.clone());
    let cache: RefCell<HashMap<Option<ObjectId>, Result<policy::Settings, String>>> =
        RefCell::default();
    let settings = |commit: Option<ObjectId>| {
        if let Some(fixed) = &fixed {
            return Ok(fixed.clone());
        }
        if let Some(known) = cache.borrow().get(&commit) {
            return known.clone();
        }
        let found = committed_settings(&repo, commit);
        cache.borrow_mut().insert(commit, found.clone());
        found
    };
    let text = String::from_utf8_lossy(hook.stdin);
    let mut updates = policy::parse_updates(&text)?;
    let given = hook.args.first().map(String::as_str).unwrap_or("origin");
    // A push to a URL that is a remote this clone tracks (`git push --mirror <origin's URL>`,
    // however spelt) is judged by what the clone knows of that remote, as a push by name is.
    let url = hook.args.get(1).map(String::as_str);
    let tracked = tracked_remote(&repo, given, url);
    let remote = tracked.as_deref().unwrap_or(given);
    let alias = |name: &str| repo::config_string(&repo, &format!("alias.{name}"));
    // `git push --mirror` deletes every branch of the remote this clone lacks, and git does not
    // tell pre-push of those deletions: each protected one is judged as a deletion here, by the
    // settings of the remote's copy of the deploy branch. The push's own command line says
    // whether it mirrors (it is read anyway for a push of the deploy branch), before any branch
    // of the remote is looked up.
    let process = crate::process::find_push_process(&alias);
    let mirror = process.is_some_and(|p| p.mirror)
        || repo::local_config_bool(&repo, &format!("remote.{remote}.mirror")) == Some(true);
    let lacking = if mirror {
        let deploy_tip = repo::resolve_ref(
            &repo,
            &post_push::tracking_ref(remote, &config.deploy.branch),
        );
        let mirror_settings = settings(deploy_tip).unwrap_or_default();
        protected_lacking_here(&repo, remote, &mirror_settings)
    } else {
        Vec::new()
    };
    if !lacking.is_empty() {
        updates.extend(lacking.iter().map(|(branch, id)| policy::Update {
            local_ref: "(mirror)".to_owned(),
            local: None,
            remote_ref: format!("refs/heads/{branch}"),
            remote: Some(*id),
        }));
    }
    let push = PushContext {
        remote,
        deploy_branch: &config.deploy.branch,
        remote_refs: format!("refs/remotes/{remote}/"),
        updates: &updates,
        override_reason: hook.override_reason.filter(|r| !r.trim().is_empty()),
        policy_from: policy_from.as_deref().and_then(|rev| repo.parse_id(rev)),
        settings: &settings,
    };
    let verdict = policy::check(&repo, &push);
    hook::report(&repo, || hook::user(&repo), &verdict, err)?;
    if !verdict.allowed() {
        if !lacking.is_empty() {
            let names: Vec<String> = lacking.iter().map(|(b, _)| format!("`{b}`")).collect();
            let _ = writeln!(
                err,
                "mainstay: `git push --mirror` deletes each branch of `{}` this clone has no \
                 local branch for ({}); push branches by name, or create them here first \
                 (`git branch {} {remote}/{}`)",
                crate::text::without_credentials(remote),
                names.join(", "),
                lacking[0].0,
                lacking[0].0,
            );
        }
        return Ok(Outcome::Refused);
    }
    let refs: Vec<PushedRef> = updates
        .iter()
        .filter(|u| u.branch() == Some(config.deploy.branch.as_str()))
        .filter_map(|u| {
            let sha = u.local?.to_string();
            let branch = config.deploy.branch.clone();
            // What git itself pushed to: a push by URL updates no tracking ref, and the URL,
            // not the remote's fetch URL, is where post-push looks for it.
            let tracking = post_push::tracking_ref(given, &branch);
            let tracking_before = repo::resolve_ref(&repo, &tracking).map(|id| id.to_string());
            Some(PushedRef {
                branch,
                sha,
                tracking_before,
            })
        })
        .collect();
    let Some(first) = refs.first() else {
        return Ok(Outcome::Allowed { followed: None });
    };
    let followed = first.sha.clone();
    // A fork, a mirror, a backup, `git push . x:main`: nothing deploys from those.
    if !is_deploy_remote(&repo, remote, url, &config.deploy.remote) {
        let line = format!(
            "{} {followed} pushed to `{}`, not to the deploy remote `{}`: not followed\n",
            crate::time::now(),
            crate::text::without_credentials(remote),
            config.deploy.remote
        );
        let _ = crate::file::open_append(&crate::state::post_push_log(repo.common_dir()))
            .and_then(|mut f| f.write_all(line.as_bytes()));
        return Ok(Outcome::Allowed { followed: None });
    }
    if process.is_some_and(|p| p.dry_run) {
        return Ok(Outcome::Allowed { followed: None });
    }
    let handoff = Handoff {
        // No `git push` among our ancestors (the hook run by hand): wait for our parent instead.
        push_pid: process.map_or_else(std::os::unix::process::parent_id, |p| p.pid),
        remote: given.to_owned(),
        refs,
    };
    // A second push URL of the same push (two `pushurl`s): followed once, told once.
    if !post_push::claim_handoff(repo.common_dir(), handoff.push_pid, &followed) {
        return Ok(Outcome::Allowed {
            followed: Some(followed),
        });
    }
    let git_dir = absolute_path(repo.git_dir());
    let worktree = absolute_path(&worktree);
    // Freed before the fork: after it, every page this process writes (freeing included) is
    // copied, since the fork's copy shares them until it execs.
    drop((config, verdict, updates, cache));
    drop(repo);
    post_push::start(
        &hook.hooks_dir.join("post-push"),
        &handoff,
        &git_dir,
        &worktree,
    )?;
    let log = deploy::log_path(Path::new(""), &followed);
    let _ = writeln!(
        err,
        "mainstay: once the push lands, its deploy is followed in {} (`mainstay status {}`)",
        log.display(),
        deploy::sha7(&followed)
    );
    Ok(Outcome::Allowed {
        followed: Some(followed),
    })
}

/// The `[push]` settings in `.mainstay.toml` as `commit` holds it (the defaults without one, or
/// without a commit). A clone judges a push by the remote's side of each branch, never by what
/// it pushes: a commit that loosens the policy is judged by the policy before it, and takes effect
/// once it has landed.
fn committed_settings(
    repo: &repo::Repo,
    commit: Option<ObjectId>,
) -> Result<policy::Settings, String> {
    let Some(commit) = commit else {
        return Ok(policy::Settings::default());
    };
    let text = repo::top_file(repo, commit, config::FILE_NAME, crate::file::SMALL)
        .map_err(|e| e.to_string())?;
    let Some(text) = text else {
        return Ok(policy::Settings::default());
    };
    let name = format!(
        "{}:{}",
        crate::text::sha7(&commit.to_string()),
        config::FILE_NAME
    );
    let text = String::from_utf8(text).map_err(|_| format!("{name}: not UTF-8 text"))?;
    Config::parse_only(&text, Path::new(&name), &[Section::Push])
        .map(|c| c.push)
        .map_err(|e| e.to_string())
}

/// The protected branches the remote has, as this clone last saw it (`refs/remotes/<remote>/`),
/// for which this clone has no local branch: what `git push --mirror` would delete.
fn protected_lacking_here(
    repo: &repo::Repo,
    remote: &str,
    settings: &policy::Settings,
) -> Vec<(String, gix::ObjectId)> {
    let prefix = format!("refs/remotes/{remote}/");
    let globs = settings
        .protected
        .iter()
        .any(|p| p.contains(['*', '?', '[']));
    // Plain names are looked up one by one: a clone may track thousands of branches.
    let remote_has: Vec<(String, gix::ObjectId)> = if globs {
        repo::refs_under(repo, &prefix)
            .into_iter()
            .filter(|(branch, _)| settings.is_protected(branch))
            .collect()
    } else {
        settings
            .protected
            .iter()
            .filter(|branch| repo::symbolic_target(repo, &format!("{prefix}{branch}")).is_none())
            .filter_map(|branch| {
                let id = repo::resolve_ref(repo, &format!("{prefix}{branch}"))?;
                Some((branch.clone(), id))
            })
            .collect()
    };
    remote_has
        .into_iter()
        .filter(|(branch, _)| repo::resolve_ref(repo, &format!("refs/heads/{branch}")).is_none())
        .collect()
}

/// The configured remote a push names by URL (`given`, as git hands it to the hook, and `url`):
/// one whose `url` or `pushurl` is the same place, however spelt. `None` for a push by name, or
/// to a URL no configured remote has.
fn tracked_remote(repo: &repo::Repo, given: &str, url: Option<&str>) -> Option<String> {
    // git hands the hook the name it was given, or the URL: a name has no `/` or `:` (almost
    // always), and looking further reads the whole configuration, off the common path.
    if !given.contains(['/', ':']) && given != "." {
        return None;
    }
    let base = repo.workdir().unwrap_or(repo.git_dir());
    let wanted: Vec<String> = [Some(given), url]
        .into_iter()
        .flatten()
        .map(|u| same_place(base, u))
        .collect();
    repo::remotes(repo)
        .into_iter()
        .find(|(_, urls)| urls.iter().any(|u| wanted.contains(&same_place(base, u))))
        .map(|(name, _)| name)
}

/// Whether a push to `remote` (a name, or a URL) at `url` goes to the deploy remote: by name,
/// or by one of the deploy remote's configured URLs (`url` or `pushurl`), however spelt.
fn is_deploy_remote(repo: &repo::Repo, remote: &str, url: Option<&str>, deploy: &str) -> bool {
    if remote == deploy {
        return true;
    }
    // Read only off the common path: the configuration costs more than the rest of the hook.
    let base = repo.workdir().unwrap_or(repo.git_dir());
    let configured: Vec<String> = repo::remote_urls(repo, deploy)
        .iter()
        .map(|u| same_place(base, u))
        .collect();
    [Some(remote), url]
        .into_iter()
        .flatten()
        .any(|u| configured.contains(&same_place(base, u)))
}

/// One spelling of the place a remote URL names, for comparing two: `file://` and a path are
/// the same, a relative path is resolved against `base` (the work tree, where git runs), and a
/// trailing `/` or `.git` and any credentials do not count.
fn same_place(base: &Path, url: &str) -> String {
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    // git's rule: `host:path` is scp-like when the colon comes before any slash.
    let scp_like = url
        .find(':')
        .is_some_and(|colon| !url[..colon].contains('/'));
    let place = match scheme {
        Some("file") => Some(&url["file://".len()..]),
        Some(_) => None,
        None if scp_like => None,
        None => Some(url),
    };
    let text = match place {
        Some(path) => {
            // As git does for a local remote: the path, else the path with `.git`.
            let path = base.join(path);
            let mut dotgit = path.clone().into_os_string();
            dotgit.push(".git");
            [path.clone(), PathBuf::from(dotgit)]
                .iter()
                .find_map(|p| std::fs::canonicalize(p).ok())
                .unwrap_or_else(|| lexically_normal(&path))
                .to_string_lossy()
                .into_owned()
        }
        None => crate::text::without_credentials(url).into_owned(),
    };
    let text = text.trim_end_matches('/');
    let text = text.strip_suffix(".git").unwrap_or(text);
    text.trim_end_matches('/').to_owned()
}

/// `path` with `.` and `..` taken out by their names alone, for a path that does not exist.
fn lexically_normal(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `path` without `..` and symbolic links where it exists (the repository's paths are absolute
/// already, but may be spelt from the hook's working directory: `dir/../../w/.git`).
fn absolute_path(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_place_however_spelt() {
        let base = Path::new("/nonexistent/work");
        let same = |a: &str, b: &str| same_place(base, a) == same_place(base, b);
        assert!(same("file:///nonexistent/r.git", "../r"));
        assert!(same("/nonexistent/r.git/", "/nonexistent/./r"));
        assert!(same("https://u:pw@host/o/r.git/", "https://host/o/r"));
        assert!(same("git@host:o/r.git", "git@host:o/r/"));
        assert!(!same("git@host:o/r", "/nonexistent/work/git@host:o/r"));
        assert!(!same("https://host/o/r", "https://host/o/s"));
    }
}
