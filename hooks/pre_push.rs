//! `pre-push <remote> <url>`, run by git with one line per pushed ref on stdin.
//! Exit 0 lets the push go on; anything else stops it.

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::Parser;
use mainstay::hook::Outcome;
use mainstay::pre_push::{self, PrePush};
use mainstay::text::printable;

/// The push-safety hook git runs before a push (installed by install-hooks).
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The remote's name, or its URL when the push names no configured remote.
    remote: Option<String>,
    /// The remote's URL.
    url: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut stderr = std::io::stderr().lock();
    match run(&args, &mut stderr) {
        Ok(Outcome::Allowed { .. }) => ExitCode::SUCCESS,
        Ok(Outcome::Refused) => ExitCode::FAILURE,
        Ok(Outcome::LocalFailed(code)) => ExitCode::from(code.clamp(1, 255) as u8),
        Err(e) => {
            // The reason may quote a committed file: without control characters.
            let _ = writeln!(
                stderr,
                "mainstay: refusing the push, it could not be checked: {}",
                printable(&format!("{e:#}"))
            );
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args, err: &mut impl Write) -> anyhow::Result<Outcome> {
    let mut stdin = Vec::new();
    std::io::stdin().read_to_end(&mut stdin)?;
    let exe = std::env::current_exe()?;
    let hooks_dir = exe.parent().expect("an executable lives in a directory");
    let cwd = std::env::current_dir()?;
    let git_args: Vec<String> = args.remote.iter().chain(&args.url).cloned().collect();
    let reason = std::env::var(mainstay::policy::OVERRIDE_VAR).ok();
    let location = mainstay::repo::Location::from_env();
    let hook = PrePush {
        location: &location,
        cwd: &cwd,
        hooks_dir,
        args: &git_args,
        stdin: &stdin,
        override_reason: reason.as_deref(),
    };
    Ok(pre_push::run(&hook, err)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        super::Args::command().debug_assert();
    }
}
