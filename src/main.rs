//! `mainstay`: the command line for people and agents.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use mainstay::config::Config;
use mainstay::deploy;
use mainstay::git::Git;

/// Keeps a shared main safe: push policy, deploy monitor, ledger merges.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Follow the deployment of one pushed commit to a verdict (started by post-push).
    Monitor(MonitorArgs),
}

#[derive(Args)]
struct MonitorArgs {
    /// The full commit id that was pushed.
    sha: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "mainstay: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Monitor(args) => {
            let worktree = worktree()?;
            let config = Config::load(&worktree)?;
            let mut out = std::io::stdout().lock();
            deploy::monitor(&worktree, &args.sha, &config.deploy, &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
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
