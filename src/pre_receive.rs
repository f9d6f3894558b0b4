//! `pre-receive` on the remote: the push policy for every client, with hooks or without, and
//! whatever `--no-verify` says. Installed by `install-hooks --server` into a bare repository on a
//! server of one's own (for Gitea, Forgejo and GitLab, see docs/install.md).
//!
//! The rules are `pre-push`'s ([`crate::policy`]), applied to each `<old> <new> <ref>` line,
//! with the repository's own branches as "the remote's copy" (so every alias of a protected
//! branch is one) and the pushed objects read from git's quarantine. The settings are the
//! `[push]` and `[deploy]` sections of `.mainstay.toml` in the bare repository's own directory,
//! which only the server's administrator writes: a pushed commit cannot loosen them. An override
//! comes as a push option, `git push -o mainstay-override="<why>"`, and is honoured only for the
//! users the repository's own git config lists in [`OVERRIDE_USERS_KEY`] (none by default), named
//! by what the transport authenticated ([`PUSHER_VARS`]); it is logged with that user.
//! Parked changes (`refs/mainstay/parked/*`) are held to what a lander would carry
//! ([`policy::parked`]). Nothing is started after the push: the monitor and its status files
//! live in a work tree.

use std::io::Write;
use std::path::Path;

use crate::config::{self, Config, Section};
use crate::hook::{self, Outcome};
use crate::policy::{self, PushContext};
use crate::repo;

/// The push option that lets a refused push through, naming why.
pub const OVERRIDE_OPTION: &str = "mainstay-override";

/// The repository's own git config key (multi-valued, one user each) listing who may override.
pub const OVERRIDE_USERS_KEY: &str = "mainstay.overrideUser";

/// Where the server names the user it authenticated, first found first: an ssh forced command's
/// (`command="env MAINSTAY_PUSHER=alice git-shell -c \"$SSH_ORIGINAL_COMMAND\""` in
/// `authorized_keys`), GitLab's, gitolite's, Gitea's and Forgejo's, a web server's (smart HTTP).
pub const PUSHER_VARS: [&str; 5] = [
    "MAINSTAY_PUSHER",
    "GL_USERNAME",
    "GL_USER",
    "GITEA_PUSHER_NAME",
    "REMOTE_USER",
];

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
}

/// Everything `pre-receive` is given.
#[derive(Debug, Clone)]
pub struct PreReceive<'a> {
    /// Where git runs the hook: the bare repository.
    pub cwd: &'a Path,
    /// The directory our executable is installed in.
    pub hooks_dir: &'a Path,
    /// git's stdin, one `<old> <new> <ref>` line per ref.
    pub stdin: &'a [u8],
    /// The push options the client sent (`GIT_PUSH_OPTION_<n>`).
    pub push_options: &'a [String],
    /// Who pushes, as the server authenticated them (the first of [`PUSHER_VARS`] set).
    pub pusher: Option<&'a str>,
    /// The repository and quarantine git names in the hook's environment.
    pub location: &'a repo::Location,
}

/// Runs the whole hook; what the pusher should read goes to `err` (git shows it as `remote: …`).
pub fn run(hook: &PreReceive<'_>, err: &mut impl Write) -> Result<Outcome, Error> {
    if let Some(status) = hook::run_local(hook.hooks_dir, "pre-receive", &[], hook.stdin)?
        && !status.success()
    {
        return Ok(Outcome::LocalFailed(status.code().unwrap_or(1)));
    }
    if config::disabled() {
        return Ok(Outcome::Allowed { followed: None });
    }
    let repo = repo::open(hook.cwd, hook.location)?;
    let config = Config::load_only(repo.common_dir(), &[Section::Push, Section::Deploy])?;
    let updates = policy::parse_received(&String::from_utf8_lossy(hook.stdin))?;
    let reason = hook.push_options.iter().find_map(|o| {
        o.strip_prefix(OVERRIDE_OPTION)?
            .strip_prefix('=')
            .map(str::trim)
            .filter(|r| !r.is_empty())
    });
    // Only a user the server authenticated and its owner listed may override.
    let denied = reason.and_then(|_| override_denied(&repo, hook.pusher));
    let push = PushContext {
        remote: "(received)",
        deploy_branch: &config.deploy.branch,
        remote_refs: "refs/heads/".to_owned(),
        updates: &updates,
        override_reason: reason.filter(|_| denied.is_none()),
        policy_from: None,
        // The repository's own file, whatever the pushed or the old tree holds.
        settings: &|_| Ok(config.push.clone()),
    };
    let mut verdict = policy::check(&repo, &push);
    // The queue of parked changes: never overridden, as a lander would carry what it lets in.
    let git = crate::git::Git::new(hook.cwd);
    let parked = policy::parked::check(&repo, &git, &updates, &config.push);
    verdict
        .refusals
        .extend(parked.into_iter().map(policy::Refusal::Parked));
    let user = || hook.pusher.map_or_else(|| hook::user(&repo), str::to_owned);
    hook::report(&repo, user, &verdict, err)?;
    if !verdict.allowed() {
        if let Some(denied) = denied {
            let _ = writeln!(err, "mainstay: {}", crate::text::printable(&denied));
        }
        return Ok(Outcome::Refused);
    }
    Ok(Outcome::Allowed { followed: None })
}

/// Why `pusher` may not override here, or `None` when the repository's own config lists them.
fn override_denied(repo: &repo::Repo, pusher: Option<&str>) -> Option<String> {
    let Some(pusher) = pusher else {
        return Some(format!(
            "the override is not honoured: the server named no authenticated user ({})",
            PUSHER_VARS.join(", ")
        ));
    };
    let listed = crate::git::Git::new(repo.common_dir())
        .output([
            "config",
            "--local",
            "--includes",
            "--get-all",
            OVERRIDE_USERS_KEY,
        ])
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if listed.lines().any(|user| user.trim() == pusher) {
        return None;
    }
    Some(format!(
        "the override is not honoured: `{pusher}` is not in this repository's {OVERRIDE_USERS_KEY} \
         (`git config --add {OVERRIDE_USERS_KEY} {pusher}` on the server lets them)"
    ))
}
