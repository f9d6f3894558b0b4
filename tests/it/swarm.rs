//! The swarm: 16 clones of one bare remote push 10 commits each, concurrently, with
//! `mainstay push`; every commit adds a roadmap row, completes one of the agent's earlier tasks,
//! appends a session line and edits the agent's own source file. Nothing may be lost.

use std::path::{Path, PathBuf};

use crate::util::{Sandbox, describe, read, write};

const AGENTS: usize = 16;
const COMMITS: usize = 10;
pub const ROADMAP: &str = "docs/roadmaps/MASTER_ROADMAP.md";
pub const SESSIONS: &str = "docs/ACTIVE_SESSIONS.md";

pub fn task_id(agent: usize, commit: usize) -> String {
    format!("SW-{agent:02}{commit:02}")
}

pub fn session_line(agent: usize, commit: usize) -> String {
    format!(
        "- Session-20261123-SW-{agent:02}{commit:02}-{:06x}: agent {agent} commit {commit}",
        agent * 100 + commit
    )
}

/// The status task `commit` ends with: each agent's later commit completes it, but the last.
pub fn last_status(commit: usize, commits: usize) -> &'static str {
    if commit + 1 == commits {
        "📋 PLANNED"
    } else {
        "✅ COMPLETE"
    }
}

/// A remote holding the two ledgers and the routing lines, ready for clones.
pub fn seeded_remote(sb: &Sandbox) -> PathBuf {
    let remote = sb.remote("swarm");
    let seed = sb.clone_repo(&remote, "seed");
    write(
        &seed.join(ROADMAP),
        "# Master Roadmap\n\n**Version:** 1.0\n\n## Tasks\n\n| ID | Task | Status |\n|----|------|--------|\n\
         | ST-000 | Seed the roadmap | ✅ COMPLETE |\n",
    );
    write(
        &seed.join(SESSIONS),
        "# Active Sessions\n\n## Session log\n\n- Session-20261123-SEED-000000: seed\n",
    );
    sb.install(&seed);
    sb.git(&seed, &["add", ".gitattributes", ROADMAP, SESSIONS]);
    sb.git(&seed, &["commit", "-q", "-m", "ledgers"]);
    sb.git(&seed, &["push", "-q", "origin", "main"]);
    remote
}

/// One agent's edit for commit `commit`, applied to its clone's current files.
pub fn edit(dir: &Path, agent: usize, commit: usize) {
    let roadmap = dir.join(ROADMAP);
    let mut lines: Vec<String> = read(&roadmap).lines().map(str::to_owned).collect();
    if commit > 0 {
        // A push that lost the row (the benchmark's plain loop) leaves nothing to complete; the
        // swarm test's final check catches that.
        let earlier = format!("| {} |", task_id(agent, commit - 1));
        if let Some(row) = lines.iter_mut().find(|l| l.starts_with(&earlier)) {
            *row = row.replace("📋 PLANNED", "✅ COMPLETE");
        }
    }
    let last_row = lines
        .iter()
        .rposition(|l| l.starts_with('|'))
        .expect("a table");
    let row = format!(
        "| {} | Task {commit} of agent {agent} | 📋 PLANNED |",
        task_id(agent, commit)
    );
    lines.insert(last_row + 1, row);
    write(&roadmap, &(lines.join("\n") + "\n"));
    let sessions = dir.join(SESSIONS);
    write(
        &sessions,
        &format!("{}{}\n", read(&sessions), session_line(agent, commit)),
    );
    let source = dir.join(format!("src/agent_{agent:02}.rs"));
    write(&source, &format!("{}// change {commit}\n", read(&source)));
}

/// [`edit`], then commit exactly the files it touched (never `git add -A`).
pub fn edit_and_commit(sb: &Sandbox, dir: &Path, agent: usize, commit: usize) {
    edit(dir, agent, commit);
    let source = format!("src/agent_{agent:02}.rs");
    sb.git(dir, &["add", "--", ROADMAP, SESSIONS, &source]);
    let message = format!("agent {agent} commit {commit}");
    sb.git(dir, &["commit", "-q", "-m", &message]);
}

/// Each agent's commits are in `log` (subjects, newest first) once each, in the order the agent
/// made them.
fn in_order(log: &str, agents: usize, commits: usize) {
    for agent in 0..agents {
        let prefix = format!("agent {agent} commit ");
        let order: Vec<usize> = log
            .lines()
            .rev()
            .filter_map(|l| l.strip_prefix(&prefix)?.parse().ok())
            .collect();
        assert_eq!(order, (0..commits).collect::<Vec<_>>(), "agent {agent}");
    }
}

/// Runs `mainstay push` once: at the default settings it must land, whatever the others do.
fn push_once(sb: &Sandbox, dir: &Path) -> std::process::Output {
    let out = sb.run("mainstay", dir, &["push"]);
    assert!(
        out.status.success(),
        "{}",
        describe("mainstay push", dir, &out)
    );
    out
}

/// Every `mainstay push` lands at the first run (no exit 75, no rerun), and nothing is lost,
/// duplicated or reordered. See: the swarm at scale.
#[test]
fn sixteen_agents_push_160_commits_and_nothing_is_lost() {
    let sb = std::sync::Arc::new(Sandbox::new());
    let remote = seeded_remote(&sb);
    let clones: Vec<PathBuf> = (0..AGENTS)
        .map(|agent| {
            let dir = sb.clone_repo(&remote, &format!("agent{agent:02}"));
            sb.install(&dir);
            dir
        })
        .collect();
    let threads: Vec<_> = clones
        .into_iter()
        .enumerate()
        .map(|(agent, dir)| {
            let sb = std::sync::Arc::clone(&sb);
            std::thread::spawn(move || {
                let mut carried = 0;
                for commit in 0..COMMITS {
                    edit_and_commit(&sb, &dir, agent, commit);
                    let out = push_once(&sb, &dir);
                    carried += usize::from(
                        String::from_utf8_lossy(&out.stdout).contains("carried by another"),
                    );
                }
                carried
            })
        })
        .collect();
    let carried: usize = threads
        .into_iter()
        .map(|t| t.join().expect("agent thread"))
        .sum();
    // Parking worked: some commits landed in another agent's push (none of this is timing).
    assert!(carried > 0, "no change was carried by another agent's push");

    let log = sb.git(&remote, &["log", "--format=%s", "main"]);
    let agent_commits = log.lines().filter(|l| l.starts_with("agent ")).count();
    assert_eq!(agent_commits, AGENTS * COMMITS);
    in_order(&log, AGENTS, COMMITS);
    let roadmap = sb.git(&remote, &["show", &format!("main:{ROADMAP}")]);
    let sessions = sb.git(&remote, &["show", &format!("main:{SESSIONS}")]);
    for agent in 0..AGENTS {
        for commit in 0..COMMITS {
            let id = format!("| {} |", task_id(agent, commit));
            let rows: Vec<&str> = roadmap.lines().filter(|l| l.starts_with(&id)).collect();
            assert_eq!(rows.len(), 1, "{id} in\n{roadmap}");
            assert!(
                rows[0].contains(last_status(commit, COMMITS)),
                "{}",
                rows[0]
            );
            let line = session_line(agent, commit);
            assert_eq!(sessions.lines().filter(|l| *l == line).count(), 1, "{line}");
        }
    }
    let markers = sb.git_output(
        &remote,
        &["grep", "-n", "-E", "^(<<<<<<<|>>>>>>>|=======$)", "main"],
    );
    assert_eq!(
        markers.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&markers.stdout)
    );
}

/// Agents as linked worktrees of one clone, each on its own branch, all landing on main with
/// `mainstay push origin HEAD:main` at once: every run lands at the first go, none says
/// "unreachable" over the clone's shared ref locks, and nothing is lost or landed twice.
/// See: the swarm at scale.
#[test]
fn agents_in_linked_worktrees_of_one_clone_land_every_commit() {
    const TREES: usize = 6;
    const ROUNDS: usize = 3;
    let sb = std::sync::Arc::new(Sandbox::new());
    let remote = seeded_remote(&sb);
    let clone = sb.clone_repo(&remote, "clone");
    sb.install(&clone);
    let trees: Vec<PathBuf> = (0..TREES)
        .map(|agent| {
            let dir = sb.path().join(format!("wt{agent}"));
            let d = dir.to_str().expect("utf-8");
            let name = format!("wt{agent}");
            sb.git(
                &clone,
                &[
                    "worktree",
                    "add",
                    "-q",
                    "--track",
                    "-b",
                    &name,
                    d,
                    "origin/main",
                ],
            );
            dir
        })
        .collect();
    let threads: Vec<_> = trees
        .into_iter()
        .enumerate()
        .map(|(agent, dir)| {
            let sb = std::sync::Arc::clone(&sb);
            std::thread::spawn(move || {
                for commit in 0..ROUNDS {
                    edit_and_commit(&sb, &dir, agent, commit);
                    let out = sb.run("mainstay", &dir, &["push", "origin", "HEAD:main"]);
                    let said = String::from_utf8_lossy(&out.stderr);
                    assert!(
                        out.status.success() && !said.contains("unreachable"),
                        "{}",
                        describe("mainstay push origin HEAD:main", &dir, &out)
                    );
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("agent thread");
    }
    let log = sb.git(&remote, &["log", "--format=%s", "main"]);
    in_order(&log, TREES, ROUNDS);
    let sessions = sb.git(&remote, &["show", &format!("main:{SESSIONS}")]);
    for agent in 0..TREES {
        for commit in 0..ROUNDS {
            let line = session_line(agent, commit);
            assert_eq!(sessions.lines().filter(|l| *l == line).count(), 1, "{line}");
        }
    }
}
