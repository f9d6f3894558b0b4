//! `merge-driver <kind> %O %A %B %L %P`: git's merge driver for Markdown ledgers.
//!
//! Overwrites `%A` with the merge of the three versions and exits 0 when clean, 1 when conflicts
//! remain (each one also appended to the conflict log under the git dir), 2 on bad arguments or
//! unreadable files. `--stdout BASE OURS THEIRS` prints the merge instead, for trying it by hand.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use clap::Parser;
use mainstay::ledger::Kind;
use mainstay::merge_driver::{self as driver, Environment, Race, Request};
use mainstay::text::printable;

/// Merge Markdown ledgers (roadmaps, session registries) entry by entry.
#[derive(Debug, Parser)]
#[command(name = "merge-driver", version)]
struct Args {
    /// The ledger kind.
    #[arg(value_parser = kinds())]
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

/// The kinds' names, from the kinds list, so that `--help` and the errors list them.
fn kinds() -> impl clap::builder::TypedValueParser<Value = Kind> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Kind::all().map(Kind::name)).map(|name| {
        name.parse::<Kind>()
            .expect("a possible value is a kind's name, because the list is made of them")
    })
}

/// Bad arguments, unreadable files or a failed write; git then leaves the file in conflict.
const EXIT_ERROR: u8 = 2;

/// `MAINSTAY_MERGE_BUDGET`, or the default (saying so) when it is not a duration.
fn budget() -> std::time::Duration {
    let Ok(value) = std::env::var(driver::BUDGET_VAR) else {
        return driver::BUDGET;
    };
    mainstay::time::parse_duration(&value).unwrap_or_else(|e| {
        eprintln!(
            "merge-driver: {}: {}; using {}s",
            driver::BUDGET_VAR,
            printable(&e),
            driver::BUDGET.as_secs()
        );
        driver::BUDGET
    })
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
            let message = message.join(" ");
            // git's %P is a committed file's name: no control character reaches the terminal.
            let message = printable(message.trim_start_matches("error: "));
            eprintln!("merge-driver: {message}");
            return ExitCode::from(EXIT_ERROR);
        }
        Err(err) => {
            // --help and --version.
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
    };
    let request = Request {
        kind: args.kind,
        base: args.base,
        ours: args.ours,
        theirs: args.theirs,
        marker_size: args.marker_size,
        path: args.path,
        stdout: args.stdout,
    };
    let env = Environment {
        dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        reflog_action: std::env::var("GIT_REFLOG_ACTION").ok(),
        disabled: mainstay::config::disabled(),
        now: SystemTime::now(),
        budget: budget(),
    };
    let race = Arc::new(Race::default());
    {
        // The watchdog: past the budget, the line merge instead, and the process ends with it.
        let (race, request, env) = (Arc::clone(&race), request.clone(), env.clone());
        std::thread::spawn(move || {
            std::thread::sleep(env.budget);
            if race.watchdog_wins() {
                let code = finish(driver::timed_out(
                    &request,
                    &env,
                    &mut std::io::stdout(),
                    &mut std::io::stderr(),
                ));
                std::process::exit(code.into());
            }
        });
    }
    // Unlocked handles: the watchdog may need them while the merge runs.
    let result = driver::run(
        &request,
        &env,
        &race,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    ExitCode::from(finish(result))
}

/// The exit status of a run, saying why on stderr when it failed.
fn finish(result: Result<driver::Exit, driver::Error>) -> u8 {
    match result {
        Ok(exit) => exit as u8,
        Err(err) => {
            eprintln!("merge-driver: {}", printable(&err.to_string()));
            EXIT_ERROR
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        super::Args::command().debug_assert();
    }
}
