//! `mainstay push` among parked changes other agents left: stale, hostile, look-alike, or half
//! carried by a run that was killed. Real clones of a real bare remote.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::{Sandbox, bin, describe, killed_when, write};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A remote whose `.mainstay.toml` asks for short waits (a 20 s budget), and two clones of it.
fn two_clones() -> (Sandbox, PathBuf, PathBuf, PathBuf) {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let a = sb.clone_repo(&remote, "a");
    let config = "[sync]\nbackoff = \"50ms\"\nbudget = \"20s\"\n";
    sb.commit(&a, ".mainstay.toml", config, "settings");
    sb.commit(&a, "notes.txt", &"line\n".repeat(10), "notes");
    sb.git(&a, &["push", "-q", "origin", "main"]);
    let b = sb.clone_repo(&remote, "b");
    (sb, remote, a, b)
}

/// Parks `rev` of `dir` on the remote as parked change `id`, as a parked agent would.
fn park(sb: &Sandbox, dir: &Path, rev: &str, id: &str) {
    let spec = format!("{rev}:refs/mainstay/parked/main/{id}");
    sb.git(dir, &["push", "-q", "--no-verify", "origin", &spec]);
}

fn refs(sb: &Sandbox, remote: &Path, prefix: &str) -> usize {
    sb.git(remote, &["for-each-ref", "--format=%(refname)", prefix])
        .lines()
        .count()
}

#[test]
fn commits_that_only_look_like_landed_ones_are_still_pushed() {
    // Two agents under one identity make the same change in the same second, to different lines
    // of one file: only a change this worktree parked is ever taken for landed.
    let (sb, remote, a, b) = two_clones();
    for (dir, line) in [(&a, 0), (&b, 9)] {
        let mut lines = ["line"; 10];
        lines[line] = "changed";
        write(&dir.join("notes.txt"), &(lines.join("\n") + "\n"));
        let out = sb
            .command("git", dir)
            .args(["commit", "-q", "-am", "update notes"])
            .env("GIT_AUTHOR_DATE", "1765000000 +0000")
            .output()
            .expect("git commit");
        assert!(
            out.status.success(),
            "{}",
            describe("git commit", dir, &out)
        );
    }
    sb.lands(&b);
    let said = sb.lands(&a);
    assert!(said.contains("pushed "), "{said}");
    assert!(!said.contains("landed in"), "{said}");
    let notes = sb.git(&remote, &["show", "main:notes.txt"]);
    assert!(
        notes.starts_with("changed\n") && notes.ends_with("changed"),
        "{notes}"
    );
    assert_eq!(sb.subjects(&remote).matches("update notes").count(), 2);
}

#[test]
fn parked_changes_no_push_will_land_are_put_aside_not_waited_on() {
    let (sb, remote, a, b) = two_clones();
    // Refs with nothing to land, lower in the queue than any agent's: each would cost every
    // later agent a wait; with a 20 s budget, four of them gave up without one attempt.
    let main = sb.git(&a, &["rev-parse", "HEAD"]);
    for id in 1..=4 {
        park(&sb, &a, &main, &format!("{id:016x}"));
    }
    // Three stale changes that no longer apply, and a live one.
    for id in 5..=7 {
        sb.git(&a, &["checkout", "-q", "-B", &format!("stale{id}"), &main]);
        sb.commit(&a, "notes.txt", &format!("stale {id}\n"), "stale");
        park(&sb, &a, "HEAD", &format!("{id:016x}"));
    }
    sb.git(&a, &["checkout", "-q", "-B", "edit", &main]);
    sb.commit(&a, "notes.txt", "moved on\n", "moved on");
    sb.git(&a, &["push", "-q", "origin", "HEAD:main"]);
    sb.git(&a, &["checkout", "-q", "-B", "live", "HEAD"]);
    sb.commit(&a, "live.txt", "live\n", "live");
    park(&sb, &a, "HEAD", "ffffffffffffffff");

    sb.git(&b, &["pull", "-q"]);
    sb.commit(&b, "b.txt", "b\n", "lander");
    let said = sb.lands(&b);
    assert!(
        said.contains("with 1 change another agent parked"),
        "{said}"
    );
    assert!(said.contains("put 7 parked change(s) aside"), "{said}");
    assert_eq!(refs(&sb, &remote, "refs/mainstay/parked/"), 0);
    assert_eq!(refs(&sb, &remote, "refs/mainstay/aside/"), 7);
    assert_eq!(sb.subjects(&remote).matches("live").count(), 1);
    // Nothing is lost: each stale change is still on the remote.
    let aside = sb.git(
        &remote,
        &[
            "for-each-ref",
            "--format=%(refname)",
            "refs/mainstay/aside/",
        ],
    );
    let fifth = aside
        .lines()
        .find(|r| r.starts_with("refs/mainstay/aside/main/0000000000000005-"))
        .expect("the fifth change put aside under its own name");
    let stale = sb.git(&remote, &["log", "--format=%s", fifth]);
    assert!(stale.starts_with("stale\n"), "{stale}");
}

#[test]
fn a_long_history_under_one_parked_ref_hides_no_other() {
    let (sb, remote, a, b) = two_clones();
    let tree = sb.git(&a, &["rev-parse", "HEAD^{tree}"]);
    let mut tip = sb.git(&a, &["rev-parse", "HEAD"]);
    for i in 0..210 {
        let message = format!("h{i}");
        let out = sb
            .command("git", &a)
            .args(["commit-tree", "-p", &tip, "-m", &message, &tree])
            .env("GIT_COMMITTER_DATE", "2031-01-01T00:00:00")
            .output()
            .expect("git commit-tree");
        tip = text(&out.stdout).trim().to_owned();
    }
    park(&sb, &a, &tip, "0000000000000001");
    sb.commit(&a, "live.txt", "live\n", "live");
    park(&sb, &a, "HEAD", "ffffffffffffffff");
    sb.git(&a, &["reset", "-q", "--hard", "HEAD~1"]);

    sb.commit(&b, "b.txt", "b\n", "lander");
    let said = sb.lands(&b);
    assert!(
        said.contains("with 1 change another agent parked"),
        "{said}"
    );
    assert_eq!(sb.subjects(&remote).matches("live").count(), 1);
    assert_eq!(refs(&sb, &remote, "refs/mainstay/aside/"), 1);
}

#[test]
fn a_hostile_parked_change_stops_no_lander() {
    // A parked commit the lander's pre-push refuses, under a file name that reads like git's
    // own words: the lander lands its own commits and puts the change aside.
    for name in ["Authentication failed.txt", "is not in this clone"] {
        hostile_is_put_aside(&[(name, BLOCK)]);
    }
}

/// A conflict block, git's way.
const BLOCK: &str = "<<<<<<< a\nx\n=======\ny\n>>>>>>> b\n";

/// A lander with mainstay's hooks, and a parked change of another agent that writes `files`:
/// the lander's pre-push refuses it, so it lands alone and puts the change aside.
fn hostile_is_put_aside(files: &[(&str, &str)]) {
    let (sb, remote, a, b) = two_clones();
    sb.install(&b);
    sb.git(&b, &["add", ".gitattributes"]);
    sb.git(&b, &["commit", "-q", "-m", "hooks"]);
    for (name, content) in files {
        write(&a.join(name), content);
    }
    sb.git(&a, &["add", "-A"]);
    sb.git(&a, &["commit", "-q", "-m", "hostile"]);
    park(&sb, &a, "HEAD", "0000000000000001");
    sb.commit(&b, "b.txt", "b\n", "lander");
    let said = sb.lands(&b);
    assert!(said.contains("put 1 parked change(s) aside"), "{said}");
    let log = sb.subjects(&remote);
    assert!(
        log.starts_with("lander\n") && !log.contains("hostile"),
        "{log}"
    );
    assert_eq!(refs(&sb, &remote, "refs/mainstay/parked/"), 0);
}

#[test]
fn a_carried_configuration_does_not_judge_the_push_that_carries_it() {
    // The parked change loosens the policy and adds a conflict block under it: the lander's
    // pre-push judges the landing push by the lander's own `.mainstay.toml`.
    let loose = "[sync]\nbackoff = \"50ms\"\n[push]\nmarkers_allowed = [\"*\"]\n";
    hostile_is_put_aside(&[(".mainstay.toml", loose), ("code.rs", BLOCK)]);
}

/// `b`'s `mainstay push` killed while its push carries `a`'s parked "redeploy please": the hook
/// of the landing push takes its time, and the whole run is killed meanwhile.
fn killed_while_carrying() -> (Sandbox, PathBuf, PathBuf, String) {
    let (sb, remote, a, b) = two_clones();
    sb.git(
        &a,
        &["commit", "-q", "--allow-empty", "-m", "redeploy please"],
    );
    park(&sb, &a, "HEAD", "0000000000000001");
    let before = sb.commit(&b, "b.txt", "b\n", "lander");
    let started_hook = sb.path().join("hook-started");
    let hook = b.join(".git/hooks/pre-push");
    write(
        &hook,
        &format!(
            "#!/bin/sh\ncat >/dev/null\ntouch '{}'\nsleep 30\n",
            started_hook.display()
        ),
    );
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let mut run = sb.command(bin("mainstay"), &b);
    run.arg("push");
    // The whole group is killed: the run, its git push and the hook.
    killed_when(run, "the landing push's hook", || started_hook.exists());
    std::fs::remove_file(&hook).expect("remove the hook");
    (sb, remote, b, before)
}

#[test]
fn a_run_killed_while_carrying_leaves_the_branch_as_it_was() {
    // The carry is made in the object database: until the push lands, the branch, the index
    // and the work tree hold the lander's own commits only, so a kill leaves nothing to undo.
    let (sb, remote, b, before) = killed_while_carrying();
    assert_eq!(sb.git(&b, &["rev-parse", "HEAD"]), before);
    assert_eq!(sb.git(&b, &["status", "--porcelain"]), "");
    assert!(!sb.subjects(&b).contains("redeploy please"));
    let said = sb.lands(&b);
    assert!(
        said.contains("with 1 change another agent parked"),
        "{said}"
    );
    let log = sb.subjects(&remote);
    assert_eq!(log.matches("redeploy please").count(), 1, "{log}");
    assert_eq!(log.matches("lander").count(), 1, "{log}");
    assert_eq!(refs(&sb, &remote, "refs/mainstay/parked/"), 0);
}

#[test]
fn commits_made_after_an_interrupted_carry_are_kept_and_theirs_land_once() {
    let (sb, remote, b, _) = killed_while_carrying();
    sb.commit(&b, "mine.txt", "mine\n", "my own work");
    sb.lands(&b);
    let log = sb.subjects(&remote);
    assert_eq!(log.matches("redeploy please").count(), 1, "{log}");
    assert_eq!(log.matches("my own work").count(), 1, "{log}");
    assert_eq!(refs(&sb, &remote, "refs/mainstay/parked/"), 0);
}

/// The records an earlier version of `mainstay push` left when it was killed while carrying:
/// `a`'s parked "redeploy please" picked onto `b`'s branch, where it was before, and after.
fn records_left_by_an_earlier_version() -> (Sandbox, PathBuf, PathBuf) {
    let (sb, remote, a, b) = two_clones();
    sb.git(
        &a,
        &["commit", "-q", "--allow-empty", "-m", "redeploy please"],
    );
    park(&sb, &a, "HEAD", "0000000000000001");
    let before = sb.commit(&b, "b.txt", "b\n", "lander");
    sb.git(
        &b,
        &[
            "fetch",
            "-q",
            "origin",
            "refs/mainstay/parked/main/0000000000000001",
        ],
    );
    sb.git(&b, &["cherry-pick", "--allow-empty", "FETCH_HEAD"]);
    sb.git(
        &b,
        &[
            "update-ref",
            "refs/worktree/mainstay/carrying/main",
            &before,
        ],
    );
    sb.git(
        &b,
        &["update-ref", "refs/worktree/mainstay/picked/main", "HEAD"],
    );
    (sb, remote, b)
}

#[test]
fn records_an_earlier_version_left_are_put_right_by_the_next_run() {
    let (sb, remote, b) = records_left_by_an_earlier_version();
    let out: Output = sb.run("mainstay", &b, &["push"]);
    assert!(
        out.status.success(),
        "{}",
        describe("mainstay push", &b, &out)
    );
    let said = text(&out.stdout);
    assert!(
        said.contains("an interrupted run had picked other agents' parked commits"),
        "{said}"
    );
    let log = sb.subjects(&remote);
    assert_eq!(log.matches("redeploy please").count(), 1, "{log}");
    assert_eq!(log.matches("lander").count(), 1, "{log}");
    assert_eq!(refs(&sb, &remote, "refs/mainstay/parked/"), 0);
}

#[test]
fn another_branch_pushed_after_an_interrupted_carry_leaves_it_to_its_own_branch() {
    let (sb, remote, b) = records_left_by_an_earlier_version();
    // Off to other work, from the remote's branch: pushed without carrying anything.
    sb.git(&b, &["checkout", "-q", "-b", "other", "origin/main"]);
    sb.commit(&b, "other.txt", "other\n", "other work");
    let out = sb.run("mainstay", &b, &["push", "origin", "HEAD:main"]);
    assert!(
        out.status.success(),
        "{}",
        describe("mainstay push", &b, &out)
    );
    let said = text(&out.stdout);
    assert!(said.contains("onto another branch here"), "{said}");
    assert_eq!(refs(&sb, &remote, "refs/mainstay/parked/"), 1);
    // Back on the branch that was carrying: theirs come off, then land once.
    sb.git(&b, &["checkout", "-q", "main"]);
    let said = sb.lands(&b);
    assert!(said.contains("an interrupted run had picked"), "{said}");
    let log = sb.subjects(&remote);
    assert_eq!(log.matches("redeploy please").count(), 1, "{log}");
    assert_eq!(log.matches("lander").count(), 1, "{log}");
    assert_eq!(log.matches("other work").count(), 1, "{log}");
    assert_eq!(refs(&sb, &remote, "refs/mainstay/parked/"), 0);
}

#[test]
fn a_cherry_pick_of_ones_own_after_an_interrupted_carry_is_left_to_its_owner() {
    let (sb, _, b) = records_left_by_an_earlier_version();
    // A cherry-pick that stops on a conflict, after the kill: the run must not abort it.
    sb.git(&b, &["checkout", "-q", "-b", "side", "HEAD~2"]);
    let theirs = sb.commit(&b, "b.txt", "side\n", "side");
    sb.git(&b, &["checkout", "-q", "main"]);
    let picked = sb.git_output(&b, &["cherry-pick", &theirs]);
    assert!(!picked.status.success(), "the cherry-pick was to conflict");
    write(&b.join("b.txt"), "resolved\n");
    sb.git(&b, &["add", "b.txt"]);
    let out = sb.run("mainstay", &b, &["push"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("mainstay push", &b, &out)
    );
    assert!(
        text(&out.stderr).contains("cherry-pick is in progress"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(b.join("b.txt")).expect("read"),
        "resolved\n"
    );
}

#[test]
fn junk_ahead_in_the_queue_holds_no_agent_past_its_budget() {
    // Twenty refs with nothing to land, every id lower than any agent's.
    let (sb, remote, a, b) = two_clones();
    let main = sb.git(&a, &["rev-parse", "HEAD"]);
    for id in 1..=20 {
        park(&sb, &a, &main, &format!("{id:016x}"));
    }
    // One with a `/` in its id is no parked change at all.
    sb.git(
        &a,
        &[
            "push",
            "-q",
            "origin",
            &format!("{main}:refs/mainstay/parked/main/0/x"),
        ],
    );
    sb.commit(&b, "b.txt", "b\n", "lander");
    let said = sb.lands(&b);
    assert!(said.contains("put 20 parked change(s) aside"), "{said}");
    assert_eq!(refs(&sb, &remote, "refs/mainstay/parked/main/0/"), 1);
}

#[test]
fn a_carried_attribute_does_not_shorten_the_markers_it_is_judged_by() {
    hostile_is_put_aside(&[
        ("sub/.gitattributes", "* conflict-marker-size=20\n"),
        ("sub/code.rs", BLOCK),
    ]);
}

#[test]
fn a_rebase_that_cannot_start_says_why() {
    let (sb, _, a, b) = two_clones();
    sb.commit(&a, "new.txt", "theirs\n", "theirs");
    sb.git(&a, &["push", "-q", "origin", "main"]);
    write(&b.join("new.txt"), "untracked here\n");
    sb.commit(&b, "b.txt", "b\n", "mine");
    let out = sb.run("mainstay", &b, &["push"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("mainstay push", &b, &out)
    );
    let stderr = text(&out.stderr);
    assert!(stderr.contains("new.txt"), "{stderr}");
    assert!(!stderr.contains("rebase --abort"), "{stderr}");
}
