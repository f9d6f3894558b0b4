//! mainstay: git hooks that keep a shared `main` safe.
//!
//! The executables (`pre-push`, `post-push`, `merge-driver`, `install-hooks`, `mainstay`) are thin
//! shells over this library: each parses its arguments, calls one function here and maps the
//! result to an exit code. The library never prints; output goes through `impl Write` arguments.
#![warn(clippy::print_stdout, clippy::print_stderr)]

/// `.mainstay.toml` and the environment: settings with defaults, validated with clear errors.
pub mod config;
/// The deployment monitor: one process per pushed sha, its lock, status files and verdict.
pub mod deploy;
/// Starting a process fully detached from the pushing terminal; waiting on a foreign pid.
pub mod detach;
/// `mainstay doctor`: every check of the setup and the sources, one line each, with the fix.
pub mod doctor;
/// Reading and writing files a commit can shape: regular files only, never through a link.
pub mod file;
/// Running the `git` executable for what gix cannot do, with errors that explain themselves.
pub mod git;
/// `pre-push` end to end: the project's own hook, the policy, the audit log, the trigger.
pub mod hook;
/// `install-hooks`: put the hooks where git reads them, register merge drivers, undo it all.
pub mod install;
/// Append-only JSON-lines logs under the git dir: audit, conflicts.
pub mod jsonl;
/// Markdown ledgers (roadmap, session registry) merged as records by the merge driver.
pub mod ledger;
/// `pre-push` rules: protected and agent branches, conflict markers, the audit log.
pub mod policy;
/// Reading the repository with gix: ancestry and the files a push changes.
pub mod repo;
/// `mainstay stats`: deployment figures from the shared table and the local run records.
pub mod stats;
/// `mainstay push`: fetch, rebase, push, retry with backoff; fail fast on what retries cannot fix.
pub mod sync;
/// Text from outside made fit to show: no control characters, no credentials in URLs.
pub mod text;
/// Timestamps for logs and audit records, without a time-zone database.
pub mod time;
/// `post-push`: wait for `git push` to end, confirm the deploy branch landed, start the monitor.
pub mod trigger;
