//! mainstay: git hooks that keep a shared `main` safe.
//!
//! The executables (`pre-push`, `post-push`, `merge-driver`, `install-hooks`, `mainstay`) are thin
//! shells over this library: each parses its arguments, calls one function here and maps the
//! result to an exit code. The library never prints; output goes through `impl Write` arguments.
//!
//! The modules, from what users run down to what everything shares:
//! - the parts users name: [`pre_push`], [`pre_receive`], [`post_push`], [`merge_driver`], [`push`], [`install`],
//!   [`deploy`] (the monitor and `status`), [`stats`], [`doctor`], [`init`];
//! - what they are made of: [`policy`] (the push rules), [`ledger`] (the merge engine, pure),
//!   [`config`];
//! - what all of them share: [`git`], [`repo`], [`state`], [`file`], [`text`], [`process`],
//!   [`detach`], [`time`], [`clock`].
#![warn(clippy::print_stdout, clippy::print_stderr)]

/// The seams for time, sleeping and randomness, so schedules are tested without waiting.
pub mod clock;
/// `.mainstay.toml` and the environment: settings with defaults, validated with clear errors.
pub mod config;
/// The deployment monitor: one process per pushed sha, its lock, status files and verdict; the
/// sources as plug-ins (`deploy::sources::KINDS`); `status`, from the files or the sources.
pub mod deploy;
/// Starting a process fully detached from the pushing terminal; waiting on a foreign pid.
pub mod detach;
/// `mainstay doctor`: every check of the setup and the sources, one line each, with the fix.
pub mod doctor;
/// Reading and writing files a commit can shape: regular files only, never through a link.
pub mod file;
/// Running the `git` executable for what gix cannot do, with errors that explain themselves.
pub mod git;
/// What `pre-push` and `pre-receive` share: the moved-aside `.local` hook, outcomes, the report.
pub mod hook;
/// `mainstay init`: a commented starter `.mainstay.toml` from what the clone shows.
pub mod init;
/// `install-hooks`: put the hooks where git reads them, register merge drivers, undo it all.
pub mod install;
/// Markdown ledgers (roadmap, session registry, changelog) merged as records: the pure engine.
pub mod ledger;
/// `merge-driver`: git's merge driver around the ledger engine: files, settings, fallbacks.
pub mod merge_driver;
/// `pre-push` rules: protected and agent branches, conflict markers, the audit log.
pub mod policy;
/// `post-push`: wait for `git push` to end, confirm the deploy branch landed, start the monitor.
pub mod post_push;
/// `pre-push` end to end: the project's own hook, the policy, the audit log, post-push's start.
pub mod pre_push;
/// `pre-receive` on the remote: the same policy for every client, hooks or not.
pub mod pre_receive;
/// The processes around a hook: the `git push` that runs it, `/proc`.
pub mod process;
/// `mainstay push`: fetch, rebase, push, retry with backoff; fail fast on what retries cannot fix.
pub mod push;
/// Reading the repository with gix: ancestry and the files a push changes.
pub mod repo;
/// mainstay's own files in the git common dir: their paths, and the append-only logs.
pub mod state;
/// `mainstay stats`: deployment figures from the sources' shared history and the local run records.
pub mod stats;
/// Text from outside made fit to show: no control characters, no credentials in URLs.
pub mod text;
/// Timestamps and durations, without a time-zone database.
pub mod time;
