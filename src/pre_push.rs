//! What `pre-push` does end to end: run the project's own hook, apply the policy, record the
//! audit log, and start `post-push` when the deploy branch is in the push.
//!
//! A safety hook that cannot decide refuses: a bad configuration, unreadable input or an
//! unreadable repository all block the push with a one-line reason.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use crate::config::{self, Config, Section};
use crate::policy::{self, PushContext};
use crate::post_push::{self, Handoff, PushedRef};
use crate::{deploy, repo};

/// The suffix under which `install-hooks` keeps a hook that was already there.
pub const LOCAL_SUFFIX: &str = ".local";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot run the project's own hook {}: {source}", path.display())]
    Local {
        path: PathBuf,
        source: std::io::Error,
    },
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
    #[error(transparent)]
    Audit(#[from] crate::state::Error),
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

/// How `pre-push` ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The push may go on; `followed` holds the deploy sha handed to `post-push`, if any.
    Allowed { followed: Option<String> },
    /// Our policy refused it.
    Refused,
    /// The project's own pre-push hook failed with this code.
    LocalFailed(i32),
}

/// Runs the whole hook; messages for the user go to `err`.
pub fn run(hook: &PrePush<'_>, err: &mut impl Write) -> Result<Outcome, Error> {
    if let Some(status) = run_local(hook.hooks_dir, "pre-push", hook.args, hook.stdin)?
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
    let config = Config::load_only(&worktree, &[Section::Push, Section::Deploy])?;
    let text = String::from_utf8_lossy(hook.stdin);
    let updates = policy::parse_updates(&text)?;
    let remote = hook.args.first().map(String::as_str).unwrap_or("origin");
    let push = PushContext {
        remote,
        deploy_branch: &config.deploy.branch,
        remote_refs: format!("refs/remotes/{remote}/"),
        updates: &updates,
        override_reason: hook.override_reason.filter(|r| !r.trim().is_empty()),
    };
    let verdict = policy::check(&repo, &push, &config.push);
    if !verdict.audit.is_empty() {
        policy::audit::append(repo.common_dir(), &user(&repo), &verdict.audit)?;
    }
    for record in verdict.audit.iter().filter(|r| r.event == "override") {
        let refused = record.refused.as_deref().unwrap_or_default();
        let line = format!("mainstay: override used, and logged: {refused}");
        let _ = writeln!(err, "{}", crate::text::printable(&line));
    }
    if !verdict.allowed() {
        for refusal in &verdict.refusals {
            // A refusal names committed files: nothing in it may drive the terminal.
            let _ = writeln!(
                err,
                "mainstay: {}",
                crate::text::printable(&refusal.to_string())
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
            let tracking = post_push::tracking_ref(remote, &branch);
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
    let url = hook.args.get(1).map(String::as_str);
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
    let alias = |name: &str| repo::config_string(&repo, &format!("alias.{name}"));
    let process = crate::process::find_push_process(&alias);
    if process.is_some_and(|p| p.dry_run) {
        return Ok(Outcome::Allowed { followed: None });
    }
    let handoff = Handoff {
        // No `git push` among our ancestors (the hook run by hand): wait for our parent instead.
        push_pid: process.map_or_else(std::os::unix::process::parent_id, |p| p.pid),
        remote: remote.to_owned(),
        refs,
    };
    // Freed before the fork: after it, every page this process writes (freeing included) is
    // copied, since the fork's copy shares them until it execs.
    drop((repo, config, verdict, updates));
    post_push::start(&hook.hooks_dir.join("post-push"), &handoff, &worktree)?;
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

/// Whether a push to `remote` (a name, or a URL) at `url` goes to the deploy remote: by name,
/// or by the deploy remote's configured URL.
fn is_deploy_remote(repo: &repo::Repo, remote: &str, url: Option<&str>, deploy: &str) -> bool {
    if remote == deploy {
        return true;
    }
    // Read only off the common path: the configuration costs more than the rest of the hook.
    let configured = repo::remote_url(repo, deploy);
    configured.is_some_and(|c| Some(c.as_str()) == url || c == remote)
}

/// Runs `<hooks dir>/<name>.local`, the hook that was there before mainstay, with git's
/// arguments and stdin; `None` when there is none.
pub fn run_local(
    hooks_dir: &Path,
    name: &str,
    args: &[String],
    stdin: &[u8],
) -> Result<Option<ExitStatus>, Error> {
    let path = hooks_dir.join(format!("{name}{LOCAL_SUFFIX}"));
    if !path.is_file() {
        return Ok(None);
    }
    let fail = |source| Error::Local {
        path: path.clone(),
        source,
    };
    let mut cmd = local_command(&path, &hooks_dir.join(name)).map_err(fail)?;
    let mut child = cmd.args(args).stdin(Stdio::piped()).spawn().map_err(fail)?;
    if let Some(mut input) = child.stdin.take() {
        // A hook that exits without reading its input closes the pipe: not an error of ours.
        let _ = input.write_all(stdin);
    }
    child.wait().map(Some).map_err(fail)
}

/// The command that runs a moved-aside hook as git would have run it. A shell script is sourced
/// by its own shell with `$0` set to the hook's original path, because wrappers such as husky's
/// find the project's script by the name they were called by.
fn local_command(path: &Path, original: &Path) -> std::io::Result<Command> {
    // The first line is all that is needed, and all that is read.
    let mut head = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(std::fs::File::open(path)?, 256),
        &mut head,
    )?;
    let first = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let first = String::from_utf8_lossy(first);
    let shell = first.strip_prefix("#!").and_then(|line| {
        let mut words = line.split_whitespace();
        let program = words.next()?;
        let program = if program.ends_with("/env") {
            words.next()?
        } else {
            program
        };
        let name = Path::new(program).file_name()?.to_str()?;
        matches!(name, "sh" | "bash" | "dash" | "zsh" | "ksh").then(|| program.to_owned())
    });
    Ok(match shell {
        Some(shell) => {
            let mut cmd = Command::new(shell);
            cmd.arg("-c")
                .arg(". \"$MAINSTAY_LOCAL_HOOK\"")
                .arg(original)
                .env("MAINSTAY_LOCAL_HOOK", path);
            cmd
        }
        None => Command::new(path),
    })
}

/// Who pushes, for the audit log: git's `user.name <user.email>`, else the login name.
pub(crate) fn user(repo: &repo::Repo) -> String {
    match repo::identity(repo) {
        (Some(name), Some(email)) => format!("{name} <{email}>"),
        (Some(name), None) => name,
        (None, Some(email)) => email,
        (None, None) => std::env::var("USER").unwrap_or_default(),
    }
}
