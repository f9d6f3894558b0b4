//! `pre-push`: the push policy, through real `git push` to real bare remotes.

use std::path::PathBuf;

use crate::util::{Sandbox, describe, read, wait_until, write};

/// A clone with mainstay installed, pushing to its own bare remote.
pub struct Setup {
    pub sb: Sandbox,
    pub remote: PathBuf,
    pub work: PathBuf,
}

impl Setup {
    pub fn new() -> Setup {
        let sb = Sandbox::new();
        let remote = sb.remote("remote");
        let work = sb.clone_repo(&remote, "work");
        sb.install(&work);
        Setup { sb, remote, work }
    }

    pub fn push(&self, args: &[&str]) -> std::process::Output {
        let mut full = vec!["push", "-q"];
        full.extend_from_slice(args);
        self.sb.git_output(&self.work, &full)
    }

    pub fn push_ok(&self, args: &[&str]) -> String {
        let out = self.push(args);
        assert!(
            out.status.success(),
            "{}",
            describe("git push", &self.work, &out)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    pub fn push_refused(&self, args: &[&str]) -> String {
        let out = self.push(args);
        assert!(
            !out.status.success(),
            "{}",
            describe("git push", &self.work, &out)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    pub fn commit(&self, file: &str, content: &str) -> String {
        self.sb
            .commit(&self.work, file, content, &format!("change {file}"))
    }

    pub fn remote_head(&self, branch: &str) -> String {
        self.sb.git(&self.remote, &["rev-parse", branch])
    }

    /// `post-push`'s own log: one line per deploy ref it decided on.
    pub fn post_push_lines(&self) -> Vec<String> {
        let path = self
            .sb
            .common_dir(&self.work)
            .join("mainstay/post-push.log");
        read(&path).lines().map(str::to_owned).collect()
    }

    pub fn wait_for_decision(&self, sha: &str) -> String {
        let mut found = String::new();
        wait_until(&format!("post-push to decide on {sha}"), || {
            match self.post_push_lines().into_iter().find(|l| l.contains(sha)) {
                Some(line) => {
                    found = line;
                    true
                }
                None => false,
            }
        });
        found
    }

    pub fn status_log(&self, sha: &str) -> PathBuf {
        self.work
            .join(format!(".deployment-status-{}.log", &sha[..7]))
    }

    /// A push to main that must fire; after it, the post-push log says everything that fired.
    pub fn sentinel_push(&self) -> String {
        let sha = self.commit(
            "sentinel.txt",
            &format!("{:?}\n", std::time::Instant::now()),
        );
        self.push_ok(&["origin", "main"]);
        assert!(self.wait_for_decision(&sha).contains("landed"));
        sha
    }

    pub fn landed_lines(&self) -> Vec<String> {
        self.post_push_lines()
            .into_iter()
            .filter(|l| l.contains(" landed"))
            .collect()
    }
}

#[test]
fn force_push_to_main_is_refused() {
    let s = Setup::new();
    let first = s.commit("app.txt", "v1\n");
    s.push_ok(&["origin", "main"]);
    s.sb.git(&s.work, &["commit", "-q", "--amend", "-m", "rewritten"]);
    let said = s.push_refused(&["--force", "origin", "main"]);
    assert!(
        said.contains("refusing to force-push protected branch `main`"),
        "{said}"
    );
    assert!(said.contains("mainstay push"), "{said}");
    assert_eq!(s.remote_head("main"), first);
}

#[test]
fn deleting_main_is_refused() {
    let s = Setup::new();
    let said = s.push_refused(&["origin", ":main"]);
    assert!(
        said.contains("refusing to delete protected branch `main`"),
        "{said}"
    );
}

#[test]
fn override_lets_a_refused_push_through_and_is_logged() {
    let s = Setup::new();
    let old = s.commit("app.txt", "v1\n");
    s.push_ok(&["origin", "main"]);
    s.sb.git(&s.work, &["commit", "-q", "--amend", "-m", "rewritten"]);
    let new = s.sb.git(&s.work, &["rev-parse", "HEAD"]);
    let out =
        s.sb.command("git", &s.work)
            .args(["push", "-q", "--force", "origin", "main"])
            .env("MAINSTAY_OVERRIDE", "incident 42: revert a leaked key")
            .output()
            .expect("git push");
    assert!(
        out.status.success(),
        "{}",
        describe("git push", &s.work, &out)
    );
    let audit = read(&s.sb.common_dir(&s.work).join("mainstay/audit.jsonl"));
    let record: serde_json::Value =
        serde_json::from_str(audit.lines().next().expect("one record")).expect("json");
    assert_eq!(record["event"], "override");
    assert_eq!(record["ref"], "refs/heads/main");
    assert_eq!(record["old"], old.as_str());
    assert_eq!(record["new"], new.as_str());
    assert_eq!(s.remote_head("main"), new);
    assert_eq!(record["reason"], "incident 42: revert a leaked key");
    assert!(
        record["refused"]
            .as_str()
            .expect("text")
            .contains("force-push")
    );
    assert_eq!(record["user"], "Test Agent <agent@example.com>");
}

#[test]
fn force_push_to_an_agent_branch_is_allowed_and_logged() {
    let s = Setup::new();
    s.sb.git(&s.work, &["switch", "-q", "-c", "claude/x"]);
    let old = s.commit("agent.txt", "one\n");
    s.push_ok(&["origin", "claude/x"]);
    s.sb.git(&s.work, &["commit", "-q", "--amend", "-m", "rewritten"]);
    let new = s.sb.git(&s.work, &["rev-parse", "HEAD"]);
    s.push_ok(&["--force", "origin", "claude/x"]);
    assert_eq!(s.remote_head("claude/x"), new);
    let audit = read(&s.sb.common_dir(&s.work).join("mainstay/audit.jsonl"));
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 1, "{audit}");
    let r = &lines[0];
    assert_eq!(r["event"], "force-push");
    assert_eq!(r["ref"], "refs/heads/claude/x");
    assert_eq!(r["old"], old.as_str());
    assert_eq!(r["new"], new.as_str());
    assert_eq!(r["remote"], "origin");
    assert!(r["time"].as_str().expect("time").ends_with('Z'));
}

#[test]
fn a_commit_adding_conflict_markers_is_refused() {
    let s = Setup::new();
    s.commit(
        "docs/notes.md",
        "intro\n<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> topic\n",
    );
    s.commit("other.txt", "clean\n");
    let said = s.push_refused(&["origin", "main"]);
    assert!(
        said.contains("docs/notes.md:2 adds a conflict block"),
        "{said}"
    );
    // The same holds for a new branch, measured from where it forked.
    s.sb.git(&s.work, &["switch", "-q", "-c", "claude/y"]);
    let said = s.push_refused(&["origin", "claude/y"]);
    assert!(said.contains("docs/notes.md:2"), "{said}");
}

#[test]
fn markers_already_on_the_remote_are_not_blamed_on_this_push() {
    let s = Setup::new();
    let file = "<<<<<<< a\nx\n>>>>>>> b\n";
    s.commit("legacy.txt", file);
    let with_override =
        s.sb.command("git", &s.work)
            .args(["push", "-q", "origin", "main"])
            .env("MAINSTAY_OVERRIDE", "seed legacy file")
            .output()
            .expect("git push");
    assert!(with_override.status.success());
    s.commit("legacy.txt", &format!("header\n{file}"));
    s.push_ok(&["origin", "main"]);
}

#[test]
fn the_projects_own_pre_push_still_runs_and_can_block() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    let marker = sb.path().join("marker");
    let hook = work.join(".git/hooks/pre-push");
    write(
        &hook,
        &format!(
            "#!/bin/sh\nread line\necho \"$0 $1 $line\" >> '{}'\n[ -e '{}' ] && exit 7\nexit 0\n",
            marker.display(),
            sb.path().join("block").display()
        ),
    );
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    sb.install(&work);
    let sha = sb.commit(&work, "a.txt", "a\n", "a");
    sb.git(&work, &["push", "-q", "origin", "main"]);
    let seen = read(&marker);
    assert!(
        seen.contains(".git/hooks/pre-push origin refs/heads/main"),
        "{seen}"
    );
    assert!(seen.contains(&sha), "{seen}");
    write(&sb.path().join("block"), "");
    sb.commit(&work, "b.txt", "b\n", "b");
    let out = sb.git_output(&work, &["push", "-q", "origin", "main"]);
    assert!(
        !out.status.success(),
        "{}",
        describe("git push", &work, &out)
    );
    assert_eq!(read(&marker).lines().count(), 2);
}

/// A hook git ignores (not executable) stays off once `install-hooks` has moved it aside
/// (`pre-push.off`), and a `pre-push.local` that is not executable is not run either, though it
/// starts with `#!/bin/sh`. See: issue 22, item 3.
#[test]
fn a_switched_off_project_hook_stays_off() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    let marker = sb.path().join("marker");
    let hook = work.join(".git/hooks/pre-push");
    write(
        &hook,
        &format!("#!/bin/sh\necho ran >> '{}'\nexit 9\n", marker.display()),
    );
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .expect("chmod");
    // What git does with it before mainstay: nothing.
    sb.commit(&work, "a.txt", "a\n", "a");
    sb.git(&work, &["push", "-q", "origin", "main"]);
    assert_eq!(read(&marker), "");
    sb.install(&work);
    sb.commit(&work, "b.txt", "b\n", "b");
    sb.git(&work, &["push", "-q", "origin", "main"]);
    assert_eq!(read(&marker), "", "the hook git ignored was run");
    // Put where mainstay hands on to, still not executable: still off.
    let local = work.join(".git/hooks/pre-push.local");
    let off = work.join(".git/hooks/pre-push.off");
    assert!(
        off.is_file(),
        "install-hooks keeps the switched-off hook as pre-push.off"
    );
    std::fs::rename(&off, &local).expect("move the hook");
    std::fs::set_permissions(&local, std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .expect("chmod");
    sb.commit(&work, "b2.txt", "b\n", "b2");
    sb.git(&work, &["push", "-q", "origin", "main"]);
    assert_eq!(read(&marker), "", "a non-executable pre-push.local was run");
    // Switched back on, it runs, and blocks.
    std::fs::set_permissions(&local, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    sb.commit(&work, "c.txt", "c\n", "c");
    let out = sb.git_output(&work, &["push", "-q", "origin", "main"]);
    assert!(
        !out.status.success(),
        "{}",
        describe("git push", &work, &out)
    );
    assert_eq!(read(&marker), "ran\n");
}

#[test]
fn kill_switch_turns_the_policy_off() {
    let s = Setup::new();
    let out =
        s.sb.command("git", &s.work)
            .args(["push", "-q", "origin", ":main"])
            .env("MAINSTAY", "0")
            .output()
            .expect("git push");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!said.contains("protected branch"), "{said}");
}

#[test]
fn malformed_input_is_refused_with_one_line() {
    let s = Setup::new();
    let mut child =
        s.sb.command(s.work.join(".git/hooks/pre-push"), &s.work)
            .args(["origin", "url"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn pre-push");
    std::io::Write::write_all(
        &mut child.stdin.take().expect("stdin"),
        b"refs/heads/main nonsense\n",
    )
    .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(said.contains("pre-push input line 1"), "{said}");
}

#[test]
fn a_bad_configuration_refuses_naming_the_key() {
    let s = Setup::new();
    // A push is judged by the remote's side: the typo lands, and refuses the pushes after it.
    s.commit(".mainstay.toml", "[push]\nprotect = [\"main\"]\n");
    s.push_ok(&["origin", "main"]);
    s.commit("app.txt", "v1\n");
    let said = s.push_refused(&["origin", "main"]);
    assert!(
        said.contains(".mainstay.toml:2:1: key `push.protect`"),
        "{said}"
    );
    assert_eq!(said.lines().count(), 2, "{said}");
    // The fix goes through as any refused push does: overridden, and logged.
    s.commit(".mainstay.toml", "[push]\nprotected = [\"main\"]\n");
    let out =
        s.sb.command("git", &s.work)
            .args(["push", "-q", "origin", "main"])
            .env("MAINSTAY_OVERRIDE", "fix the settings")
            .output()
            .expect("run git push");
    assert!(
        out.status.success(),
        "{}",
        describe("override", &s.work, &out)
    );
    s.commit("app.txt", "v2\n");
    s.push_ok(&["origin", "main"]);
}

/// A push cannot loosen the policy that judges it: settings and attributes come from the
/// remote's side of the branch, never from what is pushed. See: issue 22, item 2.
#[test]
fn what_is_pushed_does_not_loosen_the_policy_that_judges_it() {
    let s = Setup::new();
    let first = s.sb.git(&s.work, &["rev-parse", "HEAD"]);
    const BLOCK: &str = "a\n<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> topic\nb\n";
    write(
        &s.work.join(".gitattributes"),
        "* conflict-marker-size=99\n",
    );
    write(&s.work.join("code.rs"), BLOCK);
    s.sb.git(&s.work, &["add", "-A"]);
    s.sb.git(&s.work, &["commit", "-q", "-m", "loosen the markers"]);
    let said = s.push_refused(&["origin", "main"]);
    assert!(said.contains("code.rs:2 adds a conflict block"), "{said}");
    s.sb.git(&s.work, &["reset", "-q", "--hard", &first]);
    write(
        &s.work.join(".mainstay.toml"),
        "[push]\nprotected = []\nmarkers_allowed = [\"*\"]\n",
    );
    write(&s.work.join("code.rs"), BLOCK);
    s.sb.git(&s.work, &["add", "-A"]);
    s.sb.git(&s.work, &["commit", "-q", "-m", "loosen the settings"]);
    let said = s.push_refused(&["origin", "main"]);
    assert!(said.contains("code.rs:2 adds a conflict block"), "{said}");
    s.sb.git(&s.work, &["reset", "-q", "--hard", &first]);
    s.commit(".mainstay.toml", "[push]\nprotected = []\n");
    s.sb.git(&s.work, &["push", "-q", "--no-verify", "origin", "main"]);
    s.sb.git(&s.work, &["reset", "-q", "--hard", &first]);
    s.commit("x.txt", "x\n");
    // The remote's side no longer protects main: the clone follows it, whatever it checked out.
    s.push_ok(&["--force", "origin", "main"]);
}

#[test]
fn configured_branches_are_honoured() {
    let s = Setup::new();
    write(
        &s.work.join(".mainstay.toml"),
        "[push]\nprotected = [\"release/*\"]\nagent = [\"bots/*\"]\n[deploy]\nbranch = \"release/1\"\n",
    );
    s.sb.git(&s.work, &["add", ".mainstay.toml"]);
    s.sb.git(&s.work, &["commit", "-q", "-m", "config"]);
    s.sb.git(&s.work, &["switch", "-q", "-c", "release/1"]);
    let sha = s.commit("r.txt", "r\n");
    s.push_ok(&["origin", "release/1"]);
    assert!(s.wait_for_decision(&sha).contains("landed"));
    let said = s.push_refused(&["origin", ":release/1"]);
    assert!(said.contains("`release/1`"), "{said}");
}
