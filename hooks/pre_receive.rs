//! `pre-receive`, run by git on the remote with one `<old> <new> <ref>` line per pushed ref on
//! stdin. Exit 0 accepts the push; anything else refuses all of it.

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::Parser;
use mainstay::hook::Outcome;
use mainstay::pre_receive::{self, PreReceive};
use mainstay::text::printable;

/// The push policy on the remote (installed by `install-hooks --server`).
#[derive(Parser)]
#[command(version)]
struct Args {}

fn main() -> ExitCode {
    let _ = Args::parse();
    let mut stderr = std::io::stderr().lock();
    match run(&mut stderr) {
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

fn run(err: &mut impl Write) -> anyhow::Result<Outcome> {
    let mut stdin = Vec::new();
    std::io::stdin().read_to_end(&mut stdin)?;
    let exe = std::env::current_exe()?;
    let hooks_dir = exe.parent().expect("an executable lives in a directory");
    let cwd = std::env::current_dir()?;
    let count: usize = std::env::var("GIT_PUSH_OPTION_COUNT")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let push_options: Vec<String> = (0..count)
        .filter_map(|i| std::env::var(format!("GIT_PUSH_OPTION_{i}")).ok())
        .collect();
    let pusher = pre_receive::PUSHER_VARS
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()));
    let location = mainstay::repo::Location::from_env();
    let hook = PreReceive {
        cwd: &cwd,
        hooks_dir,
        stdin: &stdin,
        push_options: &push_options,
        pusher: pusher.as_deref(),
        location: &location,
    };
    Ok(pre_receive::run(&hook, err)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        super::Args::command().debug_assert();
    }
}
