//! What `pre-push` and `pre-receive` share as hooks: the project's own hook that `install-hooks`
//! moved aside (`<hook>.local`, run first, as git would run it), how a hook ends, and the report
//! of a verdict (overrides used, refusals) and its audit records.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use crate::policy::{self, Verdict};
use crate::repo::{self, Repo};

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
    Audit(#[from] crate::state::Error),
}

/// How a hook ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The push may go on; `followed` holds the deploy sha handed to `post-push`, if any.
    Allowed { followed: Option<String> },
    /// Our policy refused it.
    Refused,
    /// The project's own hook failed with this code.
    LocalFailed(i32),
}

/// Runs `<hooks dir>/<name>.local`, the hook that was there before mainstay, with git's
/// arguments and stdin; `None` when there is none, or it is not executable (git would not run it).
pub fn run_local(
    hooks_dir: &Path,
    name: &str,
    args: &[String],
    stdin: &[u8],
) -> Result<Option<ExitStatus>, Error> {
    use std::os::unix::fs::PermissionsExt;
    let path = hooks_dir.join(format!("{name}{LOCAL_SUFFIX}"));
    // git runs a hook only when it is executable: one switched off with `chmod -x` stays off,
    // whatever its first line says.
    let runnable =
        std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    if !runnable {
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

/// Appends the verdict's audit records, stamped with `user` (asked only when there are some),
/// and tells `err` of every override used and every refusal. Whether the push goes on is
/// [`Verdict::allowed`].
pub fn report(
    repo: &Repo,
    user: impl FnOnce() -> String,
    verdict: &Verdict,
    err: &mut impl Write,
) -> Result<(), Error> {
    if !verdict.audit.is_empty() {
        policy::audit::append(repo.common_dir(), &user(), &verdict.audit)?;
    }
    for record in verdict.audit.iter().filter(|r| r.event == "override") {
        let refused = record.refused.as_deref().unwrap_or_default();
        let line = format!("mainstay: override used, and logged: {refused}");
        let _ = writeln!(err, "{}", crate::text::printable(&line));
    }
    for refusal in &verdict.refusals {
        // A refusal names committed files: nothing in it may drive the terminal.
        let line = format!("mainstay: {refusal}");
        let _ = writeln!(err, "{}", crate::text::printable(&line));
    }
    Ok(())
}

/// Who pushes, for the audit log, when no server names them: git's `user.name <user.email>`,
/// else the login name.
pub fn user(repo: &Repo) -> String {
    match repo::identity(repo) {
        (Some(name), Some(email)) => format!("{name} <{email}>"),
        (Some(name), None) => name,
        (None, Some(email)) => email,
        (None, None) => std::env::var("USER").unwrap_or_default(),
    }
}
