//! `merge-driver` end to end, as git runs it: read `%O %A %B`, merge them, overwrite `%A` (or
//! print the merge), and log each conflict left for a person.
//!
//! The executable only parses its arguments and reads its environment into an [`Environment`];
//! everything it decides is here. Bad settings never lose a side: the driver says why on one
//! line and falls back to `git merge-file`, which leaves both sides in the file between markers.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, SystemTime};

use crate::config::{Config, Section};
use crate::git::Git;
use crate::ledger::{Conflict, Context, Kind, Options, Outcome, Prepared, Side};
use crate::text::printable;

/// What can stop the driver: unreadable or unwritable files, a failed `git`. Bad settings and
/// bad contents never do (they fall back to the line merge).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read the {what} file {}: {source}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the result to {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the merge to stdout: {0}")]
    Stdout(std::io::Error),
    #[error("`git merge-file` could not merge {}: {stderr}", path.display())]
    LineMerge { path: PathBuf, stderr: String },
    #[error(transparent)]
    Git(#[from] crate::git::Error),
    #[error("conflict log: {0}")]
    Log(#[from] crate::state::Error),
}

/// The largest side the driver reads (real ledgers are a few hundred KB).
const LEDGER_LIMIT: u64 = 64 << 20;

/// One run of the driver: git's `%O %A %B %L %P`.
#[derive(Debug, Clone)]
pub struct Request {
    pub kind: Kind,
    /// The common ancestor (`%O`).
    pub base: PathBuf,
    /// Our version (`%A`), overwritten with the result unless `stdout` is set.
    pub ours: PathBuf,
    /// Their version (`%B`).
    pub theirs: PathBuf,
    /// Conflict marker length (`%L`).
    pub marker_size: usize,
    /// The file's path in the repository (`%P`), named in the conflict log.
    pub path: Option<String>,
    /// Print the merge instead of overwriting `ours`, for trying it by hand.
    pub stdout: bool,
}

/// What the driver knows of its process, passed in so that tests can set it.
#[derive(Debug, Clone)]
pub struct Environment {
    /// The directory the driver runs in; git runs drivers at the top of the work tree.
    pub dir: PathBuf,
    /// `GIT_REFLOG_ACTION`: which git operation is merging.
    pub reflog_action: Option<String>,
    /// The kill switch (`MAINSTAY=0`) is set.
    pub disabled: bool,
    pub now: SystemTime,
    /// The longest the record merge may take before the driver falls back to the marked line
    /// merge (`MAINSTAY_MERGE_BUDGET`, default [`BUDGET`]).
    pub budget: Duration,
}

pub use crate::ledger::{BUDGET, BUDGET_VAR};

/// The exit statuses of a finished run, as git reads them; errors exit 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Merged cleanly: the result has no conflict markers.
    Clean = 0,
    /// Conflicts remain, marked in the result.
    Conflicts = 1,
}

/// Runs the driver: the merge goes to `%A` or to `out`, one-line warnings to `warnings`.
pub fn run(
    request: &Request,
    env: &Environment,
    race: &Race,
    out: &mut impl Write,
    warnings: &mut impl Write,
) -> Result<Exit, Error> {
    if env.disabled {
        return line_merge(request, env, out);
    }
    let prepared = match settings(&env.dir)
        .map_err(|e| e.to_string())
        .and_then(|options| {
            // Checked here as well as by `Config`, so that a bad pattern can never stop a merge.
            Prepared::new(&options).map_err(|e| e.to_string())
        }) {
        Ok(prepared) => prepared,
        Err(reason) => {
            // The reason quotes the committed configuration: no control characters.
            let reason = printable(&reason);
            let _ = writeln!(warnings, "merge-driver: {reason}; merging line by line");
            return line_merge(request, env, out);
        }
    };
    // git hands over temporary files; a bound still keeps a hostile ledger from taking the
    // machine's memory.
    let read = |what: &'static str, path: &Path| {
        crate::file::read(path, LEDGER_LIMIT)
            .and_then(|bytes| bytes.ok_or_else(|| std::io::ErrorKind::NotFound.into()))
            .map_err(|source| Error::Read {
                what,
                path: path.to_owned(),
                source,
            })
    };
    let base = read("base", &request.base)?;
    let ours = read("ours", &request.ours)?;
    let theirs = read("theirs", &request.theirs)?;
    let context = Context {
        kind: request.kind,
        receiving: receiving_side(env),
        marker_size: request.marker_size,
    };
    // On this thread: a thread of its own would get a fresh allocator arena, grown by hundreds
    // of `mprotect` calls, which cost more than the merge's parsing. The budget is the
    // watchdog's ([`Race`]).
    let outcome = prepared.merge(&base, &ours, &theirs, &context);
    if !race.merge_wins() {
        // The watchdog is writing the line merge and ends the process.
        loop {
            std::thread::park();
        }
    }
    let sides = [base, ours, theirs];
    let (text, conflicts) = if outcome.is_clean() {
        (outcome.text, outcome.conflicts)
    } else {
        never_worse_than_git(request, env, &prepared, &sides, outcome)
    };
    if request.stdout {
        write_stdout(out, &text)?;
    } else {
        std::fs::write(&request.ours, &text).map_err(|source| Error::Write {
            path: request.ours.clone(),
            source,
        })?;
        if let Err(err) = log_conflicts(request, env, &conflicts) {
            // The merge itself is done and correct; a missing log line must not fail it.
            let _ = writeln!(warnings, "merge-driver: {}", printable(&err.to_string()));
        }
    }
    Ok(if conflicts.is_empty() {
        Exit::Clean
    } else {
        Exit::Conflicts
    })
}

/// Where the record merge left a conflict, `git merge-file`'s own result when git merged the
/// file cleanly (and holds no entry twice) or left less in conflict: the driver is never worse
/// than the line merge it replaces. The result, and the conflicts left (none when clean).
fn never_worse_than_git(
    request: &Request,
    env: &Environment,
    prepared: &Prepared,
    sides: &[Vec<u8>; 3],
    outcome: Outcome,
) -> (Vec<u8>, Vec<Conflict>) {
    let mut conflicts = outcome.conflicts;
    if conflicts.is_empty() {
        // Stepped aside without markers (a result that failed the check): never clean.
        conflicts.push(line_conflict());
    }
    let Ok(output) = merge_file(request, env, true) else {
        return (outcome.text, conflicts);
    };
    let sides = [&sides[0][..], &sides[1][..], &sides[2][..]];
    match output.status.code() {
        Some(0) if prepared.accepts(sides, &output.stdout, request.kind) => {
            (output.stdout, Vec::new())
        }
        Some(1..=127)
            if Prepared::conflicted_lines(&output.stdout)
                < Prepared::conflicted_lines(&outcome.text) =>
        {
            let n = output.status.code().map_or(1, |n| n as usize);
            (output.stdout, (0..n).map(|_| line_conflict()).collect())
        }
        _ => (outcome.text, conflicts),
    }
}

fn line_conflict() -> Conflict {
    Conflict {
        keys: vec!["(line merge)".to_owned()],
    }
}

/// Who finishes a run: the merge, or the watchdog once the time budget is spent. Exactly one
/// of them wins, so the result file is written once.
#[derive(Debug, Default)]
pub struct Race(AtomicU8);

const RUNNING: u8 = 0;
const MERGED: u8 = 1;
const TIMED_OUT: u8 = 2;

impl Race {
    /// The merge is done: whether it may write its result (the watchdog has not begun).
    pub fn merge_wins(&self) -> bool {
        self.0
            .compare_exchange(RUNNING, MERGED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// The budget is spent: whether the watchdog may write the line merge instead.
    pub fn watchdog_wins(&self) -> bool {
        self.0
            .compare_exchange(RUNNING, TIMED_OUT, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

/// What the watchdog does once it won the [`Race`]: `git merge-file`'s line merge in place of
/// the record merge, never clean, and a line saying why.
pub fn timed_out(
    request: &Request,
    env: &Environment,
    out: &mut impl Write,
    warnings: &mut impl Write,
) -> Result<Exit, Error> {
    let _ = writeln!(
        warnings,
        "merge-driver: {}: the record merge took longer than {}ms ({BUDGET_VAR}); merging line \
         by line",
        printable(request.path.as_deref().unwrap_or("the ledger")),
        env.budget.as_millis()
    );
    line_merge(request, env, out)?;
    // Never clean: a person looks at what the line merge made of it.
    Ok(Exit::Conflicts)
}

/// `[ledgers.merge]` from `.mainstay.toml` at the top of the repository holding `dir` (or in
/// `dir` itself outside a repository); the defaults when there is no such file.
fn settings(dir: &Path) -> Result<Options, crate::config::Error> {
    // Looked up on disk, not with `git rev-parse`: a process per merge would double its cost.
    let top = dir
        .ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(dir);
    Ok(Config::load_only(top, &[Section::Ledgers])?.ledgers.merge)
}

/// Which side is receiving: `GIT_REFLOG_ACTION` names a pull, and a rebase directory in the git
/// dir tells a `git pull` that rebases (its action is plain `pull` under `pull.rebase`) from one
/// that merges.
fn receiving_side(env: &Environment) -> Side {
    let action = env.reflog_action.as_deref();
    let pulling = action.is_some_and(|a| a.starts_with("pull"));
    let rebasing = || {
        let git = Git::new(&env.dir);
        git.run(["rev-parse", "--path-format=absolute", "--git-dir"])
            .is_ok_and(|dir| {
                let dir = Path::new(&dir);
                ["rebase-merge", "rebase-apply"]
                    .iter()
                    .any(|d| dir.join(d).exists())
            })
    };
    Side::receiving(action, pulling && rebasing())
}

/// Merges as git would without us, with `git merge-file`: the kill switch, and the fallback for
/// bad settings. Doing nothing and succeeding, as the other hooks do when off, would drop a side.
fn line_merge(request: &Request, env: &Environment, out: &mut impl Write) -> Result<Exit, Error> {
    let output = merge_file(request, env, request.stdout)?;
    // `git merge-file` exits with the number of conflicts (at most 127), negative on errors.
    let exit = match output.status.code() {
        Some(0) => Exit::Clean,
        Some(1..=127) => Exit::Conflicts,
        _ => {
            return Err(Error::LineMerge {
                path: request.ours.clone(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
    };
    write_stdout(out, &output.stdout)?;
    Ok(exit)
}

/// Runs `git merge-file` on the request's files: printing the merge with `print`, else
/// writing it to `%A`.
fn merge_file(
    request: &Request,
    env: &Environment,
    print: bool,
) -> Result<std::process::Output, Error> {
    let mut args: Vec<OsString> = ["merge-file", "-L", "ours", "-L", "base", "-L", "theirs"]
        .map(OsString::from)
        .into();
    args.push(format!("--marker-size={}", request.marker_size).into());
    if print {
        args.push("-p".into());
    }
    args.extend([&request.ours, &request.base, &request.theirs].map(|p| p.into()));
    Ok(Git::new(&env.dir).output(&args)?)
}

/// Writes the merge to stdout; a reader that closed the pipe early (`| head`) is no error.
fn write_stdout(out: &mut impl Write, text: &[u8]) -> Result<(), Error> {
    match out.write_all(text).and_then(|()| out.flush()) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Stdout(err)),
        _ => Ok(()),
    }
}

fn log_conflicts(
    request: &Request,
    env: &Environment,
    conflicts: &[Conflict],
) -> Result<(), Error> {
    if conflicts.is_empty() {
        return Ok(());
    }
    let git = Git::new(&env.dir);
    let common_dir = git.run(["rev-parse", "--path-format=absolute", "--git-common-dir"])?;
    let file = request
        .path
        .clone()
        .unwrap_or_else(|| request.ours.display().to_string());
    let time = crate::time::rfc3339(env.now);
    let records: Vec<crate::state::Conflict> = conflicts
        .iter()
        .map(|c| crate::state::Conflict {
            time: time.clone(),
            source: "merge-driver",
            file: file.clone(),
            branch: None,
            keys: c.keys.clone(),
        })
        .collect();
    Ok(crate::state::log_conflicts(
        Path::new(&common_dir),
        &records,
    )?)
}
