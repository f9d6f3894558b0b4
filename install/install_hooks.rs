//! `install-hooks [--repo PATH] [--check] [--uninstall]`: the one-time setup of a clone.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mainstay::install::{self, Options};

/// Installs mainstay's hooks and merge drivers into a clone (idempotent).
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Any directory inside the repository.
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// Change nothing; exit 1 naming each problem.
    #[arg(long, conflicts_with = "uninstall")]
    check: bool,
    /// Put back everything as it was before install.
    #[arg(long)]
    uninstall: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut out = std::io::stdout().lock();
    match run(&args, &mut out) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "install-hooks: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe()?;
    let options = Options {
        repo: args.repo.clone(),
        source_dir: exe
            .parent()
            .expect("an executable lives in a directory")
            .to_owned(),
    };
    if args.check {
        let problems = install::check(&options)?;
        for problem in &problems {
            writeln!(out, "problem: {}", problem.0)?;
        }
        if problems.is_empty() {
            writeln!(out, "ok: mainstay is installed and up to date")?;
            return Ok(ExitCode::SUCCESS);
        }
        return Ok(ExitCode::FAILURE);
    }
    let report = if args.uninstall {
        install::uninstall(&options)?
    } else {
        install::install(&options)?
    };
    for change in &report.changes {
        writeln!(out, "{change}")?;
    }
    if report.changes.is_empty() {
        let state = if args.uninstall {
            "not installed"
        } else {
            "already installed"
        };
        writeln!(out, "mainstay is {state}; nothing changed")?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        super::Args::command().debug_assert();
    }
}
