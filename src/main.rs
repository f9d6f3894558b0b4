//! `mainstay`: the command line for people and agents.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use mainstay::clock::{Jitter, SystemClock};
use mainstay::config::{Config, Section};
use mainstay::deploy::status;
use mainstay::deploy::{self, sources};
use mainstay::doctor;
use mainstay::git::Git;
use mainstay::text::printable;
use mainstay::time::parse_duration;

/// Keeps a shared main safe: push policy, deploy monitor, ledger merges.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// Run as if started in DIR, as git's `-C` (several are taken in turn).
    #[arg(short = 'C', value_name = "DIR", action = clap::ArgAction::Append)]
    dirs: Vec<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Follow the deployment of one pushed commit to a verdict (started by post-push).
    Monitor(MonitorArgs),
    /// Did the deployment of a commit work? Exit 0 success, 1 not, 2 in progress, 3 not found.
    /// Where no monitor followed it here, the configured sources are asked.
    Status(StatusArgs),
    /// Remove old status files, never those of a live monitor.
    Cleanup(CleanupArgs),
    /// Fetch, rebase and push, retrying when the remote moved. Exit 0 pushed, 1 needs a person,
    /// 75 the remote kept moving (run it again).
    Push(PushArgs),
    /// Deployment figures per day: success rate, failures by cause, times, polls, alerts.
    Stats(StatsArgs),
    /// Check the installation, the configuration and every source. Exit 0 no problem (warnings
    /// aside), 1 a problem.
    Doctor,
    /// Write a commented starter .mainstay.toml from what this clone shows, and say what next.
    Init,
    /// Print the completion script for SHELL (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Write the man pages (mainstay.1 and one per subcommand) into DIR.
    Man(ManArgs),
}

#[derive(Args)]
struct CompletionsArgs {
    shell: clap_complete::Shell,
}

#[derive(Args)]
struct ManArgs {
    /// The directory, created if need be (`share/man/man1`).
    dir: PathBuf,
}

#[derive(Args)]
struct MonitorArgs {
    /// The full commit id that was pushed.
    sha: String,
}

#[derive(Args)]
struct StatusArgs {
    /// A full or short sha, or any revision.
    #[arg(default_value = "HEAD")]
    rev: String,
    /// Wait for a verdict, up to SECS seconds (`--wait` alone: 30). The time is written
    /// `--wait=SECS`, so that `--wait <rev>` waits on that revision.
    #[arg(
        long,
        value_name = "SECS",
        num_args = 0..=1,
        default_missing_value = "30",
        require_equals = true
    )]
    wait: Option<u64>,
    /// Print the run record as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct CleanupArgs {
    /// Remove status files last changed longer ago than this (`7d`, `12h`, `30m`).
    #[arg(long, default_value = "7d", value_parser = parse_duration)]
    older_than: Duration,
}

#[derive(Args)]
struct PushArgs {
    /// The remote to push to.
    #[arg(default_value = "origin")]
    remote: String,
    /// The branch checked out here (its name, the default), or `HEAD:<branch>` to land its
    /// commits on another remote branch.
    #[arg(value_name = "BRANCH")]
    branch: Option<String>,
    /// Force with a real lease (agent branches only).
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
struct StatsArgs {
    /// How far back to look (`30d`, `12h`).
    #[arg(long, default_value = "30d", value_parser = period)]
    since: Duration,
    /// The branch; defaults to `[deploy].branch`.
    #[arg(long)]
    branch: Option<String>,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
    /// Also write a self-contained HTML page with charts to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

/// Exit codes: `status` uses all of 0 to 4, `push` 0, 1, 4 and 75, `doctor` 0 (all ok), 1 (a
/// problem) and 4; the rest 0 or 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    /// The deployment succeeded.
    Success = 0,
    /// It failed, timed out, was superseded, was not ready, or its monitor died.
    NotSuccess = 1,
    /// A live monitor is following it.
    InProgress = 2,
    /// No monitor has followed it here.
    NotFound = 3,
    /// mainstay could not answer: bad arguments, not a repository, unreadable files.
    Error = 4,
    /// `push` ran out of retries while the remote kept moving; running it again may succeed.
    TryAgain = 75,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// `--version` names the executable's own path: with a package install and a source build on
/// one machine, it says which one runs.
fn version() -> String {
    let exe = std::env::current_exe().map_or_else(|_| "?".into(), |p| p.display().to_string());
    format!("{} ({exe})", env!("CARGO_PKG_VERSION"))
}

fn main() -> ExitCode {
    let parsed = Cli::command()
        .version(version())
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Error
            } else {
                Exit::Success
            }
            .into();
        }
    };
    match run(cli) {
        Ok(exit) => exit.into(),
        // The reader went away (`mainstay stats | head`): what it wanted, it got.
        Err(e) if is_broken_pipe(&e) => Exit::Success.into(),
        Err(e) => {
            // The one error line. It may quote what a server or the configuration echoed: no
            // token among it, and no control characters from a committed file.
            let said = sources::secrets_from_env().scrub(&format!("{e:#}"));
            let _ = writeln!(std::io::stderr(), "mainstay: {}", printable(&said));
            Exit::Error.into()
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

fn run(cli: Cli) -> anyhow::Result<Exit> {
    for dir in &cli.dirs {
        std::env::set_current_dir(dir)
            .with_context(|| format!("-C {}: cannot change into it", dir.display()))?;
    }
    let command = match cli.command {
        // Answered from the definitions above, in or out of a clone.
        Command::Completions(args) => {
            let mut out = std::io::stdout().lock();
            clap_complete::generate(args.shell, &mut Cli::command(), "mainstay", &mut out);
            return Ok(Exit::Success);
        }
        Command::Man(args) => {
            std::fs::create_dir_all(&args.dir)
                .with_context(|| format!("cannot create {}", args.dir.display()))?;
            clap_mangen::generate_to(Cli::command(), &args.dir).with_context(|| {
                format!("cannot write the man pages into {}", args.dir.display())
            })?;
            return Ok(Exit::Success);
        }
        command => command,
    };
    let worktree = worktree()?;
    match command {
        Command::Completions(_) | Command::Man(_) => unreachable!("answered above"),
        Command::Monitor(args) => monitor(&worktree, &args),
        Command::Status(args) => status(&worktree, &args),
        Command::Push(args) => push(&worktree, args),
        Command::Stats(args) => stats(&worktree, args),
        Command::Doctor => diagnose(&worktree),
        Command::Init => {
            let done = mainstay::init::run(&worktree)?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "wrote {}", done.path.display())?;
            for line in &done.found {
                writeln!(out, "  found {}", printable(line))?;
            }
            writeln!(out, "next:")?;
            for (i, step) in done.next.iter().enumerate() {
                writeln!(out, "  {}. {}", i + 1, printable(step))?;
            }
            Ok(Exit::Success)
        }
        Command::Cleanup(args) => {
            let removed = status::cleanup(&worktree, args.older_than, SystemTime::now())?;
            let mut out = std::io::stdout().lock();
            for path in &removed {
                writeln!(out, "removed {}", path.display())?;
            }
            writeln!(out, "{} status files removed", removed.len())?;
            Ok(Exit::Success)
        }
    }
}

fn push(worktree: &Path, args: PushArgs) -> anyhow::Result<Exit> {
    let config = Config::load_only(worktree, &[Section::Sync, Section::Push])?;
    let options = mainstay::push::Options {
        remote: args.remote,
        branch: args.branch,
        force: args.force,
        settings: config.sync,
    };
    let git = Git::new(worktree);
    let clock = SystemClock::new();
    let mut jitter = Jitter::from_entropy();
    let mut out = std::io::stdout().lock();
    match mainstay::push::run(&git, &options, &config.push, &clock, &mut jitter, &mut out) {
        Ok(_) => Ok(Exit::Success),
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "mainstay push: {}",
                printable(&e.to_string())
            );
            Ok(if e.is_transient() {
                Exit::TryAgain
            } else if e.is_usage() {
                Exit::Error
            } else {
                Exit::NotSuccess
            })
        }
    }
}

fn diagnose(worktree: &Path) -> anyhow::Result<Exit> {
    let global = mainstay::install::global::Place::new(
        std::env::var_os("HOME").map(PathBuf::from),
        std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from),
    );
    let options = doctor::Options::new(worktree, &std::env::current_exe()?, global);
    let secrets = sources::secrets_from_env();
    let disabled = mainstay::config::disabled();
    let cx = doctor::Context {
        secrets: &secrets,
        disabled,
    };
    let outcome = doctor::examine(&options, &cx, &mut std::io::stdout().lock())?;
    Ok(if outcome.healthy() {
        Exit::Success
    } else {
        Exit::NotSuccess
    })
}

/// A `--since` period: a duration longer than zero.
fn period(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        d if d.is_zero() => Err(format!("{text:?} must be longer than zero")),
        d => Ok(d),
    }
}

/// No data is an answer, not an error: it exits 0 and says so.
fn stats(worktree: &Path, args: StatsArgs) -> anyhow::Result<Exit> {
    use mainstay::stats;
    let config = Config::load_only(worktree, &[Section::Deploy, Section::Stats])?;
    let options = stats::Options {
        since: args.since,
        branch: args.branch,
        now: SystemTime::now(),
    };
    let secrets = sources::secrets_from_env();
    let report = stats::gather(worktree, &config.deploy, &config.stats, &secrets, &options)?;
    if let Some(path) = &args.html {
        stats::html::write(path, &report)?;
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        // Causes and notes quote what sources answered: each line without control characters.
        let mut text = Vec::new();
        stats::text::write(&mut text, &report)?;
        for line in String::from_utf8_lossy(&text).lines() {
            writeln!(out, "{}", printable(line))?;
        }
        if let Some(path) = &args.html {
            writeln!(out, "\nwrote {}", path.display())?;
        }
    }
    Ok(Exit::Success)
}

fn monitor(worktree: &Path, args: &MonitorArgs) -> anyhow::Result<Exit> {
    let secrets = sources::secrets_from_env();
    let result = Config::load_only(worktree, &[Section::Deploy, Section::Alerts])
        .map_err(anyhow::Error::from)
        .and_then(|config| {
            let options = deploy::Options {
                settings: config.deploy,
                alerts: config.alerts,
            };
            let clock = SystemClock::new();
            let contains = deploy::git_contains(worktree);
            let cx = deploy::Context {
                worktree,
                secrets: &secrets,
                clock: &clock,
                jitter: Jitter::from_entropy(),
                contains: &contains,
            };
            let mut stdout = std::io::stdout().lock();
            Ok(deploy::monitor::detached(
                &args.sha,
                &options,
                cx,
                &mut stdout,
            )?)
        });
    if let Err(e) = &result {
        deploy::monitor::log_error(worktree, &args.sha, &secrets, &format!("{e:#}"));
    }
    result.map(|_| Exit::Success)
}

fn status(worktree: &Path, args: &StatusArgs) -> anyhow::Result<Exit> {
    let options = status::Options {
        rev: args.rev.clone(),
        wait: args.wait.map(Duration::from_secs),
        json: args.json,
    };
    let mut progress = std::io::stderr();
    let live = progress.is_terminal() && !args.json && args.wait.is_some();
    let live: Option<&mut dyn Write> = if live { Some(&mut progress) } else { None };
    let code = status::run(
        worktree,
        &options,
        &SystemClock::new(),
        &mut std::io::stdout().lock(),
        live,
    )?;
    Ok(match code {
        0 => Exit::Success,
        1 => Exit::NotSuccess,
        2 => Exit::InProgress,
        _ => Exit::NotFound,
    })
}

fn worktree() -> anyhow::Result<PathBuf> {
    Git::new(".")
        .paths()?
        .worktree
        .context("this repository has no work tree")
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
