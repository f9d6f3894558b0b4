//! The swarm three ways, side by side: `mainstay push`; a plain `git pull --rebase && git push`
//! retry loop; and that loop with `merge=union` on the ledgers.
//!
//! `cargo bench --bench swarm -- [AGENTS] [COMMITS]` (default 16 agents x 10 commits). Prints commits
//! landed, conflicts that needed a person, entries lost, entries duplicated, rows whose last status
//! change was lost (stale) and total time.
//!
//! The plain loop meets conflicts it cannot resolve; it does what such scripts do, keeping one
//! side's whole file (the remote's), and the table shows what that costs.

#[allow(dead_code)]
#[path = "../tests/it/util.rs"]
mod util;

#[allow(dead_code)]
#[path = "../tests/it/swarm.rs"]
mod swarm;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use util::Sandbox;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Mainstay,
    Plain,
    Union,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Mainstay => "mainstay push",
            Mode::Plain => "pull --rebase && push",
            Mode::Union => "same, merge=union",
        }
    }
}

struct Row {
    landed: usize,
    conflicts: usize,
    lost: usize,
    duplicated: usize,
    /// Rows there once whose last status change was lost.
    stale: usize,
    seconds: f64,
}

/// One push by the plain loop: rebase, and on a conflict keep the remote's ledger whole.
fn plain_push(sb: &Sandbox, dir: &Path, conflicts: &AtomicUsize) {
    loop {
        if !sb
            .git_output(dir, &["pull", "-q", "--rebase"])
            .status
            .success()
        {
            conflicts.fetch_add(1, Ordering::Relaxed);
            loop {
                let unmerged = sb.git(dir, &["diff", "--name-only", "--diff-filter=U"]);
                if unmerged.is_empty() {
                    break;
                }
                for file in unmerged.lines() {
                    sb.git(dir, &["checkout", "--ours", "--", file]);
                    sb.git(dir, &["add", "--", file]);
                }
                let next = sb
                    .command("git", dir)
                    .args(["-c", "core.editor=true", "rebase", "--continue"])
                    .output();
                if next.expect("git rebase --continue").status.success() {
                    break;
                }
            }
        }
        if sb
            .git_output(dir, &["push", "-q", "origin", "main"])
            .status
            .success()
        {
            return;
        }
    }
}

fn run(mode: Mode, agents: usize, commits: usize) -> Row {
    let sb = Arc::new(Sandbox::new());
    let remote = swarm::seeded_remote(&sb);
    if mode == Mode::Union {
        let dir = sb.clone_repo(&remote, "union-setup");
        let lines = format!(
            "{} merge=union\n{} merge=union\n",
            swarm::ROADMAP,
            swarm::SESSIONS
        );
        util::write(&dir.join(".gitattributes"), &lines);
        sb.git(&dir, &["commit", "-q", "-am", "union"]);
        sb.git(&dir, &["push", "-q", "origin", "main"]);
    }
    let conflicts = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..agents)
        .map(|agent| {
            let dir = sb.clone_repo(&remote, &format!("agent{agent:02}"));
            if mode == Mode::Mainstay {
                sb.install(&dir);
            }
            let (sb, conflicts) = (Arc::clone(&sb), Arc::clone(&conflicts));
            std::thread::spawn(move || {
                for commit in 0..commits {
                    swarm::edit_and_commit(&sb, &dir, agent, commit);
                    match mode {
                        Mode::Mainstay => loop {
                            let out = sb.run("mainstay", &dir, &["push"]);
                            match out.status.code() {
                                Some(0) => break,
                                Some(75) => continue,
                                _ => {
                                    conflicts.fetch_add(1, Ordering::Relaxed);
                                    break;
                                }
                            }
                        },
                        Mode::Plain | Mode::Union => plain_push(&sb, &dir, &conflicts),
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("agent thread");
    }
    let seconds = start.elapsed().as_secs_f64();
    let log = sb.git(&remote, &["log", "--format=%s", "main"]);
    let landed = log.lines().filter(|l| l.starts_with("agent ")).count();
    let roadmap = sb.git(&remote, &["show", &format!("main:{}", swarm::ROADMAP)]);
    let sessions = sb.git(&remote, &["show", &format!("main:{}", swarm::SESSIONS)]);
    let (mut lost, mut duplicated, mut stale) = (0, 0, 0);
    for agent in 0..agents {
        for commit in 0..commits {
            let id = format!("| {} |", swarm::task_id(agent, commit));
            let rows: Vec<&str> = roadmap.lines().filter(|l| l.starts_with(&id)).collect();
            let line = swarm::session_line(agent, commit);
            for count in [rows.len(), sessions.lines().filter(|l| *l == line).count()] {
                lost += usize::from(count == 0);
                duplicated += usize::from(count > 1);
            }
            let status = swarm::last_status(commit, commits);
            stale += usize::from(rows.len() == 1 && !rows[0].contains(status));
        }
    }
    Row {
        landed,
        conflicts: conflicts.load(Ordering::Relaxed),
        lost,
        duplicated,
        stale,
        seconds,
    }
}

fn main() {
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let agents = numbers.first().copied().unwrap_or(16);
    let commits = numbers.get(1).copied().unwrap_or(10);
    println!(
        "{agents} agents x {commits} commits, {} entries expected",
        2 * agents * commits
    );
    println!(
        "{:<24}{:>8}{:>11}{:>7}{:>12}{:>8}{:>9}",
        "push", "landed", "conflicts", "lost", "duplicated", "stale", "time"
    );
    for mode in [Mode::Mainstay, Mode::Plain, Mode::Union] {
        let row = run(mode, agents, commits);
        println!(
            "{:<24}{:>8}{:>11}{:>7}{:>12}{:>8}{:>8.1}s",
            mode.name(),
            row.landed,
            row.conflicts,
            row.lost,
            row.duplicated,
            row.stale,
            row.seconds
        );
    }
}
