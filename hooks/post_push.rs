//! `post-push --pid <git push pid> <branch>=<sha>[@<tracking before>]...`, started detached by
//! `pre-push` (git has no post-push hook). The remote comes in `MAINSTAY_PUSH_REMOTE`.
//! Its own messages go to `<git common dir>/mainstay/post-push.log`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use mainstay::git::{Git, Paths};
use mainstay::post_push::{self, Fired, Handoff, PushedRef};

/// Waits for `git push` to end, confirms the deploy branch landed, starts the deploy monitor.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The `git push` process to wait for.
    #[arg(long)]
    pid: u32,
    /// The pushed deploy-branch refs.
    #[arg(required = true, value_parser = PushedRef::parse_arg)]
    refs: Vec<PushedRef>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Nothing runs before the push has ended: the push must not share the machine with us.
    mainstay::detach::wait_for_exit(args.pid);
    let git = Git::new(".");
    let paths = git.paths();
    let log_path = match &paths {
        Ok(p) => {
            // The push has ended: no further run of its pre-push will look for the hand-off.
            let _ = std::fs::remove_file(post_push::handoff_marker(&p.common_dir, args.pid));
            mainstay::state::post_push_log(&p.common_dir)
        }
        Err(_) => PathBuf::from("/dev/null"),
    };
    let mut log = post_push::open_log(&log_path);
    // One write per line: two post-push processes may append to the log at the same moment.
    let mut say = |line: String| {
        let line = mainstay::text::printable(&line);
        let _ = log.write_all(format!("{} {line}\n", mainstay::time::now()).as_bytes());
    };
    match run(args, &git, paths) {
        Ok(fired) => {
            for event in fired {
                say(match event {
                    Fired::Monitor { sha, pid } => format!("{sha} landed; monitor pid {pid}"),
                    Fired::NotLanded { sha } => format!("{sha} did not land; nothing started"),
                    Fired::Refused { sha, reason } => {
                        format!("{sha} landed, but is not followed: {reason}")
                    }
                });
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            say(format!("error: {e:#}"));
            ExitCode::FAILURE
        }
    }
}

fn run(
    args: Args,
    git: &Git,
    paths: Result<Paths, mainstay::git::Error>,
) -> anyhow::Result<Vec<Fired>> {
    let remote = std::env::var(post_push::REMOTE_VAR)
        .with_context(|| format!("{} is not set", post_push::REMOTE_VAR))?;
    let paths = paths?;
    let worktree = paths.worktree.context("the repository has no work tree")?;
    let exe = std::env::current_exe()?;
    let beside = exe.with_file_name("mainstay");
    let mainstay = if beside.is_file() {
        beside
    } else {
        PathBuf::from("mainstay")
    };
    let handoff = Handoff {
        push_pid: args.pid,
        remote,
        refs: args.refs,
    };
    let fired = post_push::run(git, &worktree, &mainstay, &handoff)?;
    if fired.iter().any(|f| matches!(f, Fired::Monitor { .. }))
        && let Some(hooks) = exe.parent()
    {
        // Status files now exist here: the machine-wide install's uninstall must know. A failed
        // note must not hide the monitors started, which the log lists next.
        let _ = mainstay::install::global::note_worktree(hooks, &worktree);
    }
    Ok(fired)
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        super::Args::command().debug_assert();
    }
}
