//! `install-hooks [--repo PATH] [--global | --server] [--check | --uninstall]`: the one-time
//! setup of a clone, of every clone on the machine (`--global`), or of a remote (`--server`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mainstay::install::{self, Options, Problem, Report, global, server};
use mainstay::text::printable;

/// Installs mainstay's hooks and merge drivers (idempotent).
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Any directory inside the repository (for `--server`, the bare repository).
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// For every clone on this machine, made now or later: git's global `core.hooksPath`.
    #[arg(long, conflicts_with = "server")]
    global: bool,
    /// For a bare repository on a server: the policy in its `pre-receive`.
    #[arg(long)]
    server: bool,
    /// Change nothing; exit 1 naming each problem.
    #[arg(long, conflicts_with = "uninstall")]
    check: bool,
    /// Put back everything as it was before install.
    #[arg(long)]
    uninstall: bool,
    /// Bring every clone, remote and machine-wide install on this machine up to date with the
    /// executables beside this one (`install/install.sh` runs it).
    #[arg(long, conflicts_with_all = ["check", "uninstall", "global", "server"])]
    upgrade: bool,
}

/// Exit codes: 0 done (or, with `--check`, all well), 1 `--check` found a problem, 2 it could not
/// be done (not a repository, a file it will not write, a missing executable).
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let args = Args::parse();
    let mut out = std::io::stdout().lock();
    match run(&args, &mut out) {
        Ok(code) => code,
        Err(e) => {
            // It may quote a committed file (`.mainstay.toml`): no control characters.
            let _ = writeln!(
                std::io::stderr(),
                "install-hooks: {}",
                printable(&format!("{e:#}"))
            );
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(args: &Args, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe()?;
    let place = global::Place::new(
        std::env::var_os("HOME").map(PathBuf::from),
        std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from),
    );
    let options = Options {
        repo: args.repo.clone(),
        source_dir: exe
            .parent()
            .expect("an executable lives in a directory")
            .to_owned(),
        global: place.clone(),
    };
    let need_place = || {
        place
            .clone()
            .ok_or_else(|| anyhow::anyhow!("--global needs HOME set to an absolute path"))
    };
    if args.check {
        let problems = match (args.global, args.server) {
            (true, _) => global::check(&options, &need_place()?)?,
            (_, true) => server::check(&options)?,
            _ => install::check(&options)?,
        };
        return Ok(report_problems(&problems, out)?);
    }
    if args.upgrade {
        let report = install::upgrade(&options)?;
        for change in &report.changes {
            writeln!(out, "{change}")?;
        }
        if report.changes.is_empty() {
            writeln!(out, "every install on this machine is up to date")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let report = match (args.global, args.server, args.uninstall) {
        (true, _, true) => global::uninstall(&need_place()?)?,
        (true, _, false) => global::install(&options, &need_place()?)?,
        (_, true, true) => server::uninstall(&options)?,
        (_, true, false) => server::install(&options)?,
        (_, _, true) => install::uninstall(&options)?,
        _ => install::install(&options)?,
    };
    write_report(&report, args.uninstall, out)?;
    Ok(ExitCode::SUCCESS)
}

fn report_problems(problems: &[Problem], out: &mut impl Write) -> std::io::Result<ExitCode> {
    for problem in problems {
        writeln!(out, "problem: {}", printable(&problem.to_string()))?;
    }
    if problems.is_empty() {
        writeln!(out, "ok: mainstay is installed and up to date")?;
        return Ok(ExitCode::SUCCESS);
    }
    Ok(ExitCode::FAILURE)
}

fn write_report(report: &Report, uninstall: bool, out: &mut impl Write) -> std::io::Result<()> {
    for change in &report.changes {
        writeln!(out, "{}", printable(change))?;
    }
    if report.changes.is_empty() {
        let state = if uninstall {
            "not installed"
        } else {
            "already installed"
        };
        writeln!(out, "mainstay is {state}; nothing changed")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        super::Args::command().debug_assert();
    }
}
