//! `merge-driver <kind> %O %A %B %L %P`: git's merge driver for Markdown ledgers.
//!
//! Overwrites `%A` with the merge of the three versions and exits 0 when clean, 1 when conflicts
//! remain (each one also appended to the conflict log under the git dir), 2 on bad arguments or
//! unreadable files. `--stdout BASE OURS THEIRS` prints the merge instead, for trying it by hand.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::SystemTime;

use anyhow::Context as _;
use clap::Parser;
use mainstay::ledger::{self, Context, Kind, Options, Side};

/// Merge Markdown ledgers (roadmaps, session registries) entry by entry.
#[derive(Debug, Parser)]
#[command(name = "merge-driver", version)]
struct Args {
    /// Ledger kind: `roadmap` or `sessions`.
    #[arg(value_parser = |s: &str| s.parse::<Kind>())]
    kind: Kind,
    /// Print the merge on stdout instead of overwriting OURS.
    #[arg(long)]
    stdout: bool,
    /// The common ancestor (git's %O).
    base: PathBuf,
    /// Our version, overwritten with the result (git's %A).
    ours: PathBuf,
    /// Their version (git's %B).
    theirs: PathBuf,
    /// Conflict marker length (git's %L).
    #[arg(default_value_t = 7)]
    marker_size: usize,
    /// The file's path in the repository (git's %P), named in the conflict log.
    path: Option<String>,
}

/// What the exit status means to git.
#[repr(u8)]
enum Exit {
    Clean = 0,
    Conflicts = 1,
    /// Bad arguments or unreadable files; git then leaves the file in conflict.
    Error = 2,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(err) if err.use_stderr() => {
            // One line, like every other error of ours: clap's message without usage and hints.
            let text = err.to_string();
            let message: Vec<&str> = text
                .lines()
                .take_while(|l| !l.trim().is_empty() && !l.starts_with("Usage:"))
                .map(str::trim)
                .collect();
            eprintln!(
                "merge-driver: {}",
                message.join(" ").trim_start_matches("error: ")
            );
            return ExitCode::from(Exit::Error as u8);
        }
        Err(err) => {
            // --help and --version.
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
    };
    let exit = match merge(&args) {
        Ok(exit) => exit,
        Err(err) => {
            eprintln!("merge-driver: {err:#}");
            Exit::Error
        }
    };
    ExitCode::from(exit as u8)
}

fn merge(args: &Args) -> anyhow::Result<Exit> {
    let read = |what: &str, path: &Path| {
        std::fs::read(path).with_context(|| format!("cannot read {what} file {}", path.display()))
    };
    if mainstay::config::disabled() {
        return line_merge(args);
    }
    let base = read("base", &args.base)?;
    let ours = read("ours", &args.ours)?;
    let theirs = read("theirs", &args.theirs)?;
    let context = Context {
        kind: args.kind,
        receiving: receiving_side(),
        marker_size: args.marker_size,
    };
    // `[ledgers.merge]` is not part of `.mainstay.toml` yet; until then, the defaults.
    let outcome = ledger::merge(&base, &ours, &theirs, &context, &Options::default())?;
    if args.stdout {
        let mut stdout = std::io::stdout().lock();
        match stdout
            .write_all(&outcome.text)
            .and_then(|()| stdout.flush())
        {
            Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
                return Err(err).context("cannot write to stdout");
            }
            _ => {}
        }
    } else {
        std::fs::write(&args.ours, &outcome.text)
            .with_context(|| format!("cannot write the result to {}", args.ours.display()))?;
        if let Err(err) = log_conflicts(args, &outcome.conflicts) {
            // The merge itself is done and correct; a missing log line must not fail it.
            eprintln!("merge-driver: {err:#}");
        }
    }
    Ok(if outcome.is_clean() {
        Exit::Clean
    } else {
        Exit::Conflicts
    })
}

/// The kill switch (`MAINSTAY=0`): merge as git would without us, with `git merge-file`.
/// Doing nothing and succeeding, as the other hooks do, would drop their side.
fn line_merge(args: &Args) -> anyhow::Result<Exit> {
    let marker_size = format!("--marker-size={}", args.marker_size);
    let mut cmd = Command::new("git");
    cmd.args([
        "merge-file",
        &marker_size,
        "-L",
        "ours",
        "-L",
        "base",
        "-L",
        "theirs",
    ]);
    if args.stdout {
        cmd.arg("-p");
    }
    let status = cmd
        .args([&args.ours, &args.base, &args.theirs])
        .status()
        .context("cannot run `git merge-file`")?;
    match status.code() {
        Some(0) => Ok(Exit::Clean),
        Some(1..=127) => Ok(Exit::Conflicts),
        _ => anyhow::bail!("`git merge-file` failed: {status}"),
    }
}

/// Which side is receiving: `GIT_REFLOG_ACTION` names a pull, and a rebase directory in the git
/// dir tells `git pull` that rebases (its action is plain `pull` under `pull.rebase`) from one
/// that merges.
fn receiving_side() -> Side {
    let action = std::env::var("GIT_REFLOG_ACTION").ok();
    let rebasing = || {
        git(&["rev-parse", "--path-format=absolute", "--git-dir"]).is_ok_and(|dir| {
            ["rebase-merge", "rebase-apply"]
                .iter()
                .any(|d| dir.join(d).exists())
        })
    };
    let pulling = action.as_deref().is_some_and(|a| a.starts_with("pull"));
    Side::receiving(action.as_deref(), pulling && rebasing())
}

/// Runs git in the current directory (git runs drivers at the top of the work tree) for a path.
fn git(args: &[&str]) -> anyhow::Result<PathBuf> {
    let output = Command::new("git")
        .args(args)
        .output()
        .with_context(|| format!("cannot run `git {}`", args.join(" ")))?;
    anyhow::ensure!(
        output.status.success(),
        "`git {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(PathBuf::from(
        String::from_utf8_lossy(&output.stdout).trim(),
    ))
}

fn log_conflicts(args: &Args, conflicts: &[ledger::Conflict]) -> anyhow::Result<()> {
    if conflicts.is_empty() {
        return Ok(());
    }
    let dir = git(&["rev-parse", "--path-format=absolute", "--git-common-dir"])?;
    let file = args
        .path
        .clone()
        .unwrap_or_else(|| args.ours.display().to_string());
    ledger::log::append(
        &ledger::log::path(&dir),
        &file,
        conflicts,
        SystemTime::now(),
    )?;
    Ok(())
}
