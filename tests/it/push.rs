//! `mainstay push`: real clones of a real bare remote, real rebases and pushes.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::{Sandbox, describe, read, write};

fn mainstay_push(sb: &Sandbox, dir: &Path, args: &[&str]) -> Output {
    let mut full = vec!["push"];
    full.extend_from_slice(args);
    sb.run("mainstay", dir, &full)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Two installed clones of one remote; the second has already pushed something new.
fn behind() -> (Sandbox, PathBuf, PathBuf, PathBuf) {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let ours = sb.clone_repo(&remote, "ours");
    let theirs = sb.clone_repo(&remote, "theirs");
    for dir in [&ours, &theirs] {
        sb.install(dir);
        write(&dir.join(".mainstay.toml"), "[sync]\nbackoff = \"1ms\"\n");
        sb.git(dir, &["add", ".gitattributes", ".mainstay.toml"]);
        sb.git(dir, &["commit", "-q", "-m", "setup"]);
    }
    sb.git(&theirs, &["push", "-q", "origin", "main"]);
    sb.git(&ours, &["pull", "-q", "--rebase"]);
    sb.commit(&theirs, "shared.txt", "line 1\ntheirs\n", "theirs");
    sb.git(&theirs, &["push", "-q", "origin", "main"]);
    (sb, remote, ours, theirs)
}

fn state(sb: &Sandbox, dir: &Path) -> (String, String, String) {
    (
        sb.git(dir, &["rev-parse", "HEAD"]),
        sb.git(dir, &["status", "--porcelain", "--untracked-files=all"]),
        sb.git(dir, &["diff", "HEAD"]),
    )
}

#[test]
fn rebases_onto_a_moved_remote_and_pushes() {
    let (sb, remote, ours, _) = behind();
    sb.commit(&ours, "mine.txt", "mine\n", "mine");
    let out = mainstay_push(&sb, &ours, &[]);
    assert!(
        out.status.success(),
        "{}",
        describe("mainstay push", &ours, &out)
    );
    let said = text(&out.stdout);
    assert!(
        said.contains("pushed ") && said.contains("to origin/main"),
        "{said}"
    );
    let sha7 = &sb.git(&ours, &["rev-parse", "HEAD"])[..7];
    assert!(
        said.contains(&format!(".deployment-status-{sha7}.log")),
        "says where the deploy is followed: {said}"
    );
    let tip = sb.git(&remote, &["rev-parse", "main"]);
    assert_eq!(tip, sb.git(&ours, &["rev-parse", "HEAD"]));
    let files = sb.git(&remote, &["ls-tree", "--name-only", "main"]);
    assert!(
        files.contains("mine.txt") && files.contains("shared.txt"),
        "{files}"
    );
}

#[test]
fn a_conflict_leaves_everything_as_it_was() {
    let (sb, remote, ours, _) = behind();
    sb.commit(&ours, "shared.txt", "line 1\nours\n", "ours");
    write(&ours.join("scratch.txt"), "untracked work\n");
    let before = state(&sb, &ours);
    let remote_before = sb.git(&remote, &["rev-parse", "main"]);
    let out = mainstay_push(&sb, &ours, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("mainstay push", &ours, &out)
    );
    let said = text(&out.stderr);
    assert!(said.contains("conflicts in shared.txt"), "{said}");
    assert!(
        said.contains("`git rebase --continue`, then `mainstay push`"),
        "the next command: {said}"
    );
    assert_eq!(said.lines().count(), 1, "{said}");
    assert_eq!(state(&sb, &ours), before);
    assert!(!ours.join(".git/rebase-merge").exists());
    assert_eq!(sb.git(&remote, &["rev-parse", "main"]), remote_before);
    let log = read(&ours.join(".git/mainstay/conflicts.jsonl"));
    let record: serde_json::Value =
        serde_json::from_str(log.lines().last().expect("a line")).expect("json");
    assert_eq!(record["file"], "shared.txt");
    assert_eq!(record["source"], "mainstay push");
}

#[test]
fn uncommitted_changes_are_refused_up_front() {
    let (sb, _, ours, _) = behind();
    write(&ours.join("README.md"), "edited\n");
    let before = state(&sb, &ours);
    let out = mainstay_push(&sb, &ours, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("uncommitted changes in README.md"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(state(&sb, &ours), before);
}

#[test]
fn force_is_a_lease_on_agent_branches_only() {
    let (sb, remote, ours, theirs) = behind();
    sb.git(&ours, &["pull", "-q", "--rebase"]);
    let out = mainstay_push(&sb, &ours, &["--force"]);
    assert!(text(&out.stderr).contains("never allowed on protected branch `main`"));
    sb.git(&ours, &["switch", "-q", "-c", "feature"]);
    let out = mainstay_push(&sb, &ours, &["--force"]);
    assert!(
        text(&out.stderr).contains("only for agent branches"),
        "{}",
        text(&out.stderr)
    );
    sb.git(&ours, &["switch", "-q", "-c", "claude/task"]);
    sb.commit(&ours, "agent.txt", "1\n", "agent 1");
    let out = mainstay_push(&sb, &ours, &[]);
    assert!(
        out.status.success(),
        "{}",
        describe("mainstay push", &ours, &out)
    );
    sb.git(
        &ours,
        &["commit", "-q", "--amend", "-m", "agent 1, reworded"],
    );
    let out = mainstay_push(&sb, &ours, &["--force"]);
    assert!(
        out.status.success(),
        "{}",
        describe("mainstay push --force", &ours, &out)
    );
    assert_eq!(
        sb.git(&remote, &["rev-parse", "claude/task"]),
        sb.git(&ours, &["rev-parse", "HEAD"])
    );
    // Someone else pushes to the branch; a force push that never had it refuses to overwrite it.
    sb.git(&theirs, &["fetch", "-q"]);
    sb.git(&theirs, &["switch", "-q", "claude/task"]);
    sb.commit(&theirs, "other.txt", "x\n", "someone else");
    sb.git(&theirs, &["push", "-q", "origin", "claude/task"]);
    sb.git(&ours, &["commit", "-q", "--amend", "-m", "agent 1, again"]);
    let out = mainstay_push(&sb, &ours, &["--force"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("mainstay push --force", &ours, &out)
    );
    assert!(
        text(&out.stderr).contains("was never on this branch here"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        sb.git(&remote, &["rev-parse", "claude/task"]),
        sb.git(&theirs, &["rev-parse", "HEAD"])
    );
}

fn remote_hook(remote: &Path, name: &str, body: &str) {
    let hook = remote.join("hooks").join(name);
    write(&hook, &format!("#!/bin/sh\n{body}"));
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// A pre-receive hook that moves main under a push to main, as a concurrent pusher would, while
/// a counter file allows it.
fn move_main_while(remote: &Path, times: u32) {
    let counter = remote.join("moves-left");
    write(&counter, &format!("{times}\n"));
    remote_hook(
        remote,
        "pre-receive",
        &format!(
            "grep -q ' refs/heads/main$' || exit 0\n\
             left=$(cat '{c}')\n[ \"$left\" -gt 0 ] || exit 0\necho $((left - 1)) > '{c}'\n\
             unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\n\
             tip=$(git rev-parse refs/heads/main)\n\
             git update-ref refs/heads/main $(git commit-tree -p $tip -m concurrent $tip^{{tree}})\n",
            c = counter.display()
        ),
    );
}

#[test]
fn retries_when_the_remote_moves_under_the_push() {
    let (sb, remote, ours, _) = behind();
    sb.commit(&ours, "mine.txt", "mine\n", "mine");
    move_main_while(&remote, 2);
    let out = mainstay_push(&sb, &ours, &[]);
    assert!(
        out.status.success(),
        "{}",
        describe("mainstay push", &ours, &out)
    );
    let said = text(&out.stdout);
    assert_eq!(said.matches("the remote moved").count(), 2, "{said}");
    assert!(said.contains("(attempt 3,"), "{said}");
    let log = sb.git(&remote, &["log", "--format=%s", "main"]);
    assert!(log.starts_with("mine\nconcurrent\nconcurrent\n"), "{log}");
}

#[test]
fn a_remote_that_keeps_moving_exhausts_the_budget_and_leaves_the_clone_intact() {
    let (sb, remote, ours, _) = behind();
    sb.commit(
        &ours,
        ".mainstay.toml",
        "[sync]\nbackoff = \"1ms\"\nbudget = \"2s\"\n",
        "a short budget",
    );
    sb.commit(&ours, "mine.txt", "mine\n", "mine");
    move_main_while(&remote, 1000);
    let out = mainstay_push(&sb, &ours, &[]);
    assert_eq!(
        out.status.code(),
        Some(75),
        "{}",
        describe("mainstay push", &ours, &out)
    );
    assert!(
        text(&out.stderr).contains("the budget ran out"),
        "{}",
        text(&out.stderr)
    );
    let (_, status, _) = state(&sb, &ours);
    assert_eq!(status, "");
    assert_eq!(sb.git(&ours, &["log", "-1", "--format=%s"]), "mine");
    // It parked on the way, and took its change back when it gave up.
    assert!(text(&out.stdout).contains("parked on the remote"));
    assert_eq!(sb.git(&remote, &["for-each-ref", "refs/mainstay/"]), "");
}

#[test]
fn a_committed_budget_or_backoff_of_hours_is_refused() {
    // The file is committed: every agent's push would wait as long as it says.
    let (sb, _, ours, _) = behind();
    sb.commit(&ours, "mine.txt", "mine\n", "mine");
    for (setting, key, limit) in [
        ("budget = \"2d\"", "sync.budget", "at most 1h"),
        ("backoff = \"5m\"", "sync.backoff", "at most 10s"),
    ] {
        write(
            &ours.join(".mainstay.toml"),
            &format!("[sync]\n{setting}\n"),
        );
        let out = mainstay_push(&sb, &ours, &[]);
        assert_eq!(
            out.status.code(),
            Some(4),
            "{}",
            describe("mainstay push", &ours, &out)
        );
        let stderr = text(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(key) && stderr.contains(limit), "{stderr}");
    }
}

#[test]
fn what_retrying_cannot_fix_ends_at_once() {
    let (sb, remote, ours, _) = behind();
    sb.commit(&ours, "mine.txt", "mine\n", "mine");
    remote_hook(
        &remote,
        "pre-receive",
        "echo 'policy says no' >&2\nexit 1\n",
    );
    let out = mainstay_push(&sb, &ours, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("refused: pre-receive hook declined"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stdout).contains("retrying"));
    sb.git(
        &ours,
        &["remote", "set-url", "origin", "/nonexistent/remote.git"],
    );
    let out = mainstay_push(&sb, &ours, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("`origin` is unreachable"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_refusal_by_our_own_policy_ends_at_once() {
    let (sb, _, ours, _) = behind();
    sb.commit(
        &ours,
        "notes.md",
        "<<<<<<< a\nx\n=======\ny\n>>>>>>> b\n",
        "oops",
    );
    let out = mainstay_push(&sb, &ours, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("mainstay push", &ours, &out)
    );
    assert!(
        text(&out.stderr).contains("adds a conflict block"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn an_authentication_failure_ends_at_once() {
    let (sb, _, ours, _) = behind();
    sb.commit(&ours, "mine.txt", "mine\n", "mine");
    let server = crate::http::Server::start(|_| crate::http::Reply::json(401, "{}"));
    sb.git(
        &ours,
        &["remote", "set-url", "origin", &server.url("/repo.git")],
    );
    let out = mainstay_push(&sb, &ours, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("mainstay push", &ours, &out)
    );
    assert!(
        text(&out.stderr).contains("authentication to `origin` failed"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_advice_for_another_branch_s_commits_does_what_it_says() {
    // `mainstay push origin other:main` from `feature`: the suggested commands, followed, land
    // `other`'s commits on main.
    let (sb, remote, ours, _) = behind();
    sb.git(&ours, &["checkout", "-q", "-b", "other"]);
    sb.commit(&ours, "other.txt", "other\n", "other's work");
    sb.git(&ours, &["checkout", "-q", "-b", "feature", "main"]);
    let out = mainstay_push(&sb, &ours, &["origin", "other:main"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        describe("mainstay push", &ours, &out)
    );
    let said = text(&out.stderr);
    assert!(said.contains("`git switch other`"), "{said}");
    assert!(said.contains("`mainstay push origin HEAD:main`"), "{said}");
    sb.git(&ours, &["switch", "-q", "other"]);
    let out = mainstay_push(&sb, &ours, &["origin", "HEAD:main"]);
    assert!(
        out.status.success(),
        "{}",
        describe("mainstay push", &ours, &out)
    );
    assert!(sb.subjects(&remote).contains("other's work"));
}

#[test]
fn a_lock_a_crash_left_on_the_remote_is_named_not_retried_to_the_end() {
    let (sb, remote, ours, _) = behind();
    sb.commit(&ours, "mine.txt", "mine\n", "mine");
    write(&remote.join("refs/heads/main.lock"), "");
    let out = mainstay_push(&sb, &ours, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("mainstay push", &ours, &out)
    );
    let said = text(&out.stderr);
    assert!(
        said.contains("main.lock locked push after push") && said.contains("crashed"),
        "{said}"
    );
    assert_eq!(said.lines().count(), 1, "{said}");
    // Removed, the next run lands.
    std::fs::remove_file(remote.join("refs/heads/main.lock")).expect("remove the lock");
    let out = mainstay_push(&sb, &ours, &[]);
    assert!(
        out.status.success(),
        "{}",
        describe("mainstay push", &ours, &out)
    );
}
