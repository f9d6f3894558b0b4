//! `mainstay push` when the remote fails under it: a server restarting, a connection dropped
//! during the push, a remote gone for good, and a change left parked by a run that failed.
//! The remote is served by a real `git daemon` on 127.0.0.1, stopped and started by the test.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::util::{Sandbox, describe, write};

/// `git daemon` serving the sandbox's repositories, pushes allowed, on a port of its own.
struct Daemon {
    base: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Daemon {
    fn start(sb: &Sandbox) -> Daemon {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut daemon = Daemon {
            base: sb.path().to_owned(),
            port,
            child: None,
        };
        daemon.resume();
        daemon
    }

    fn url(&self, repo: &str) -> String {
        format!("git://127.0.0.1:{}/{repo}", self.port)
    }

    fn resume(&mut self) {
        // The daemon itself, not the `git` wrapper that would run it as a child of its own: the
        // process to stop is the one that listens.
        let exec_path = Command::new("git")
            .arg("--exec-path")
            .output()
            .expect("git --exec-path");
        let exec_path = String::from_utf8_lossy(&exec_path.stdout).trim().to_owned();
        let child = Command::new(Path::new(&exec_path).join("git-daemon"))
            .args(["--reuseaddr", "--export-all", "--enable=receive-pack"])
            .arg(format!("--base-path={}", self.base.display()))
            .args(["--listen=127.0.0.1", &format!("--port={}", self.port)])
            .arg(&self.base)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start git daemon");
        self.child = Some(child);
        crate::util::wait_until("git daemon listening", || {
            std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
        });
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        crate::util::wait_until("git daemon stopped", || {
            std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err()
        });
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Two installed clones reaching one remote through `git daemon`.
fn served() -> (Sandbox, Daemon, PathBuf, PathBuf, PathBuf) {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let daemon = Daemon::start(&sb);
    let mut clones = Vec::new();
    for name in ["ours", "theirs"] {
        let dir = sb.clone_repo(&remote, name);
        sb.git(
            &dir,
            &["remote", "set-url", "origin", &daemon.url("remote.git")],
        );
        sb.install(&dir);
        write(
            &dir.join(".mainstay.toml"),
            "[sync]\nbackoff = \"50ms\"\nbudget = \"20s\"\n",
        );
        clones.push(dir);
    }
    let [ours, theirs] = [clones[0].clone(), clones[1].clone()];
    (sb, daemon, remote, ours, theirs)
}

fn hook(remote: &Path, body: &str) {
    let hook = remote.join("hooks/pre-receive");
    write(&hook, &format!("#!/bin/sh\n{body}"));
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn a_server_restarting_during_the_push_is_waited_for() {
    let (sb, mut daemon, remote, ours, _) = served();
    sb.commit(&ours, "mine.txt", "mine\n", "mine");
    daemon.stop();
    let push = {
        let mut cmd = sb.command(crate::util::bin("mainstay"), &ours);
        cmd.arg("push");
        std::thread::spawn(move || cmd.output().expect("run mainstay push"))
    };
    std::thread::sleep(Duration::from_millis(1500));
    daemon.resume();
    let out = push.join().expect("the pushing thread");
    assert!(
        out.status.success(),
        "{}",
        describe("mainstay push", &ours, &out)
    );
    assert_eq!(sb.subjects(&remote), "mine\ninitial");
}

#[test]
fn a_connection_dropped_during_the_push_is_another_round_and_lands_once() {
    let (sb, _daemon, remote, ours, _) = served();
    sb.commit(&ours, "mine.txt", "mine\n", "mine");
    // The first push to main loses its connection: its receive-pack is killed mid-push.
    let once = remote.join("dropped");
    hook(
        &remote,
        &format!(
            "grep -q ' refs/heads/main$' || exit 0\n[ -e '{o}' ] && exit 0\ntouch '{o}'\n\
             kill -9 $PPID\nsleep 5\n",
            o = once.display()
        ),
    );
    let said = sb.lands(&ours);
    assert!(once.exists(), "the connection was dropped once");
    assert!(said.contains("attempt 1: the connection failed"), "{said}");
    assert_eq!(sb.subjects(&remote), "mine\ninitial");
}

#[test]
fn a_remote_gone_for_good_is_unreachable_and_the_clone_is_as_it_was() {
    let (sb, mut daemon, _remote, ours, theirs) = served();
    sb.commit(&theirs, "theirs.txt", "theirs\n", "theirs");
    assert!(sb.run("mainstay", &theirs, &["push"]).status.success());
    sb.commit(&ours, "mine.txt", "mine\n", "mine");
    write(
        &ours.join(".mainstay.toml"),
        "[sync]\nbackoff = \"50ms\"\nbudget = \"2s\"\n",
    );
    let before = sb.git(&ours, &["rev-parse", "HEAD"]);
    daemon.stop();
    let out = sb.run("mainstay", &ours, &["push"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("mainstay push", &ours, &out)
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("`origin` is unreachable"), "{said}");
    assert_eq!(sb.git(&ours, &["rev-parse", "HEAD"]), before);
    assert_eq!(
        sb.git(&ours, &["status", "--porcelain", "--untracked-files=no"]),
        ""
    );
}

/// A run that parks and then cannot reach the remote again: it ends with its change parked.
/// The server is back afterwards.
fn leave_parked(sb: &Sandbox, daemon: &mut Daemon, remote: &Path, ours: &Path) {
    write(
        &ours.join(".mainstay.toml"),
        "[sync]\nbackoff = \"50ms\"\nbudget = \"3s\"\n",
    );
    sb.commit(ours, "mine.txt", "mine\n", "mine");
    // Main moves under our first push, so we park; parking takes the server down, so the run
    // cannot take its change back.
    let moved = remote.join("moved");
    hook(
        remote,
        &format!(
            "read old new ref\n\
             if [ \"$ref\" = refs/heads/main ] && [ ! -e '{m}' ]; then touch '{m}'\n\
               unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\n\
               tip=$(git rev-parse refs/heads/main)\n\
               git update-ref refs/heads/main $(git commit-tree -p $tip -m concurrent $tip^{{tree}})\n\
             fi\n\
             case \"$ref\" in refs/mainstay/parked/*) kill {daemon} ;; esac\n",
            m = moved.display(),
            daemon = daemon.pid()
        ),
    );
    let out = sb.run("mainstay", ours, &["push"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("mainstay push", ours, &out)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("still parked on the remote"), "{said}");
    assert_eq!(parked(sb, remote), 1);
    daemon.stop();
    daemon.resume();
    hook(remote, "exit 0\n");
}

fn parked(sb: &Sandbox, remote: &Path) -> usize {
    sb.git(
        remote,
        &["for-each-ref", "--format=%(refname)", "refs/mainstay/"],
    )
    .lines()
    .count()
}

#[test]
fn a_change_left_parked_by_a_failed_run_lands_once_and_the_next_run_knows() {
    let (sb, mut daemon, remote, ours, theirs) = served();
    leave_parked(&sb, &mut daemon, &remote, &ours);
    // The next push from elsewhere carries the parked change.
    sb.commit(&theirs, "theirs.txt", "theirs\n", "theirs");
    let said = sb.lands(&theirs);
    assert!(
        said.contains("with 1 change another agent parked"),
        "{said}"
    );
    // Our next run sees that its commit landed, and lands it no second time.
    let said = sb.lands(&ours);
    assert!(said.contains("carried by another agent's push"), "{said}");
    let log = sb.subjects(&remote);
    assert_eq!(log.matches("mine").count(), 1, "{log}");
    assert_eq!(
        sb.git(&ours, &["rev-parse", "HEAD"]),
        sb.git(&remote, &["rev-parse", "main"])
    );
    assert_eq!(parked(&sb, &remote), 0);
}

#[test]
fn the_next_run_lands_a_change_its_predecessor_left_parked() {
    let (sb, mut daemon, remote, ours, _) = served();
    leave_parked(&sb, &mut daemon, &remote, &ours);
    sb.lands(&ours);
    let log = sb.subjects(&remote);
    assert_eq!(log.matches("mine").count(), 1, "{log}");
    assert_eq!(
        parked(&sb, &remote),
        0,
        "the parked change was taken off as it landed"
    );
}

#[test]
fn commits_made_after_a_change_was_left_parked_land_once_each() {
    let (sb, mut daemon, remote, ours, theirs) = served();
    leave_parked(&sb, &mut daemon, &remote, &ours);
    sb.commit(&ours, "more.txt", "more\n", "more");
    // Carried while we were away ...
    sb.commit(&theirs, "theirs.txt", "theirs\n", "theirs");
    assert!(sb.run("mainstay", &theirs, &["push"]).status.success());
    // ... so only the newer commit is ours to push.
    let said = sb.lands(&ours);
    assert!(
        said.contains("the commits parked from here earlier landed in")
            && said.contains("pushing the ones made since"),
        "{said}"
    );
    let log = sb.subjects(&remote);
    assert_eq!(log.matches("mine").count(), 1, "{log}");
    assert_eq!(log.matches("more").count(), 1, "{log}");
    assert!(log.starts_with("more\n"), "{log}");
}
