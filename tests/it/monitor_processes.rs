//! The monitor as a process of its own: started by the real hooks, it outlives the push that
//! started it, a hangup, and a second start for the same sha.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mainstay::process::{command_line, is_running, parent_of};

use crate::monitor::App;
use crate::util::{Sandbox, bin, describe, read, wait_until, write};

/// A clone with mainstay installed and the app source configured on `app`, committed.
fn clone_following(sb: &Sandbox, app: &App) -> (PathBuf, String) {
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    sb.install(&work);
    write(&work.join(".mainstay.toml"), &app.config(None, "1s"));
    sb.git(&work, &["add", ".mainstay.toml"]);
    sb.git(&work, &["commit", "-q", "-m", "follow deployments"]);
    let sha = sb.git(&work, &["rev-parse", "HEAD"]);
    (work, sha)
}

fn status(sb: &Sandbox, work: &Path, args: &[&str]) -> Output {
    let mut cmd = sb.command(bin("mainstay"), work);
    cmd.arg("status")
        .args(args)
        .output()
        .expect("mainstay status")
}

fn status_file(work: &Path, sha: &str, ext: &str) -> PathBuf {
    work.join(format!(".deployment-status-{}.{ext}", &sha[..7]))
}

/// The session a process leads or belongs to, from `/proc/<pid>/stat`.
fn session_of(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    after
        .split(' ')
        .nth(3)
        .expect("sid")
        .parse()
        .expect("a number")
}

fn signal(signal: &str, target: &str) -> bool {
    Command::new("kill")
        .args([signal, "--", target])
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run kill")
        .success()
}

/// The app starts serving `sha`; `status --wait` then ends with success. The status log.
fn goes_live(sb: &Sandbox, work: &Path, app: &App, sha: &str) -> String {
    *app.commit.lock().expect("commit") = sha.to_owned();
    let out = status(sb, work, &["--wait=20"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        describe("status --wait", work, &out)
    );
    read(&status_file(work, sha, "log"))
}

#[test]
fn the_monitor_survives_its_parents_exit_and_sighup() {
    let sb = Sandbox::new();
    let app = App::start(&"6".repeat(40), vec![200]);
    let (work, sha) = clone_following(&sb, &app);
    let mut push = sb.command("sh", &work);
    push.process_group(0);
    let child = push
        .args(["-c", "git push -q origin main 2>&1 | cat"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("git push | cat");
    let pushing_group = child.id();
    let out = child.wait_with_output().expect("git push ends");
    assert!(
        out.status.success(),
        "{}",
        describe("git push", &work, &out)
    );
    let log = status_file(&work, &sha, "log");
    wait_until("the monitor to poll", || read(&log).contains("app serves"));
    let record: serde_json::Value =
        serde_json::from_str(&read(&status_file(&work, &sha, "json"))).expect("run record");
    let pid = u32::try_from(record["pid"].as_u64().expect("pid")).expect("a pid");
    assert!(is_running(pid));
    // Nothing but the sha on its command line: secrets stay in the environment.
    let argv = command_line(pid);
    assert_eq!(argv[1..], ["monitor".to_owned(), sha.clone()], "{argv:?}");
    // post-push started it and has exited: the monitor now belongs to whoever adopts orphans.
    wait_until("post-push to exit", || {
        parent_of(pid).is_some_and(|p| !command_line(p).iter().any(|a| a.ends_with("post-push")))
    });
    assert_eq!(
        session_of(pid),
        pid,
        "the monitor leads a session of its own"
    );
    assert_ne!(session_of(pid), session_of(std::process::id()));
    // Hangups to the pushing terminal's process group (gone by now), to the monitor's own
    // group, and to the monitor itself.
    let _ = signal("-HUP", &format!("-{pushing_group}"));
    assert!(signal("-HUP", &format!("-{pid}")));
    assert!(signal("-HUP", &pid.to_string()));
    let text = goes_live(&sb, &work, &app, &sha);
    assert!(text.contains("verdict: success"), "{text}");
    assert_eq!(
        text.matches("monitoring deployment of").count(),
        1,
        "{text}"
    );
}

#[test]
fn two_post_push_events_for_one_sha_start_one_monitor() {
    let sb = Sandbox::new();
    let app = App::start(&"8".repeat(40), vec![200]);
    let (work, sha) = clone_following(&sb, &app);
    let before = sb.git(&work, &["rev-parse", "refs/remotes/origin/main"]);
    // The push itself without our hooks, so only the two events below start anything.
    let out = sb
        .command("git", &work)
        .env("MAINSTAY", "0")
        .args(["push", "-q", "origin", "main"])
        .output()
        .expect("git push");
    assert!(
        out.status.success(),
        "{}",
        describe("git push", &work, &out)
    );
    // Stands for the `git push` both wait for; its end releases them at the same moment.
    let mut pushing = Command::new("sleep").arg("60").spawn().expect("sleep");
    let event = || {
        sb.command(bin("post-push"), &work)
            .env("MAINSTAY_PUSH_REMOTE", "origin")
            .args(["--pid", &pushing.id().to_string()])
            .arg(format!("main={sha}@{before}"))
            .spawn()
            .expect("start post-push")
    };
    let (mut first, mut second) = (event(), event());
    pushing.kill().expect("end the stand-in push");
    pushing.wait().expect("reap it");
    assert!(first.wait().expect("post-push").success());
    assert!(second.wait().expect("post-push").success());
    let post_push_log = sb.common_dir(&work).join("mainstay/post-push.log");
    let pids: Vec<u32> = read(&post_push_log)
        .lines()
        .filter_map(|l| l.split("landed; monitor pid ").nth(1))
        .map(|p| p.trim().parse().expect("a pid"))
        .collect();
    assert_eq!(pids.len(), 2, "{}", read(&post_push_log));
    wait_until("the second monitor to leave", || {
        pids.iter().filter(|&&p| is_running(p)).count() == 1
    });
    let log = status_file(&work, &sha, "log");
    wait_until("the monitor to poll", || read(&log).contains("app serves"));
    assert_eq!(status(&sb, &work, &[]).status.code(), Some(2));
    let text = goes_live(&sb, &work, &app, &sha);
    assert_eq!(
        text.matches("monitoring deployment of").count(),
        1,
        "{text}"
    );
    assert_eq!(text.matches("verdict: success").count(), 1, "{text}");
}
