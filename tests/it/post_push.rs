//! The post-push trigger: `pre-push` starts `post-push`, which fires exactly once for a push
//! that landed, through real `git push` to real bare remotes.

use crate::pre_push::Setup;
use crate::util::{describe, read, wait_until, write};

#[test]
fn push_to_main_fires_post_push_once() {
    let s = Setup::new();
    let sha = s.commit("app.txt", "v1\n");
    let said = s.push_ok(&["origin", "main"]);
    assert!(
        said.contains(&format!(".deployment-status-{}.log", &sha[..7])),
        "{said}"
    );
    assert!(s.wait_for_decision(&sha).contains(&format!("{sha} landed")));
    let log = s.status_log(&sha);
    wait_until("the monitor's first log line", || {
        read(&log).contains(&format!("monitoring deployment of {sha}"))
    });
    let second = s.sentinel_push();
    let landed = s.landed_lines();
    assert_eq!(landed.len(), 2, "{landed:?}");
    assert!(
        landed[0].contains(&sha) && landed[1].contains(&second),
        "{landed:?}"
    );
    assert_eq!(read(&log).matches("monitoring deployment").count(), 1);
}

#[test]
fn push_to_a_url_without_tracking_ref_fires() {
    let s = Setup::new();
    let sha = s.commit("app.txt", "v1\n");
    s.push_ok(&[s.remote.to_str().expect("utf-8"), "main"]);
    assert!(s.wait_for_decision(&sha).contains("landed"));
    assert_eq!(s.remote_head("main"), sha);
}

#[test]
fn fetch_pull_and_other_branches_do_not_fire() {
    let s = Setup::new();
    let other = s.sb.clone_repo(&s.remote, "other");
    s.sb.commit(&other, "theirs.txt", "x\n", "theirs");
    s.sb.git(&other, &["push", "-q", "origin", "main"]);
    s.sb.git(&s.work, &["fetch", "-q"]);
    s.sb.git(&s.work, &["pull", "-q", "--rebase"]);
    s.sb.git(&s.work, &["switch", "-q", "-c", "feature"]);
    s.commit("feature.txt", "f\n");
    s.push_ok(&["origin", "feature"]);
    s.sb.git(&s.work, &["switch", "-q", "main"]);
    let sentinel = s.sentinel_push();
    let lines = s.post_push_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains(&sentinel));
}

#[test]
fn push_rejected_by_the_remote_does_not_fire() {
    let s = Setup::new();
    let hook = s.remote.join("hooks/pre-receive");
    write(&hook, "#!/bin/sh\necho 'remote says no' >&2\nexit 1\n");
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let sha = s.commit("app.txt", "v1\n");
    s.push_refused(&["origin", "main"]);
    assert!(s.wait_for_decision(&sha).contains("did not land"));
    assert!(!s.status_log(&sha).exists());
}

#[test]
fn push_rejected_because_the_remote_moved_does_not_fire() {
    let s = Setup::new();
    let other = s.sb.clone_repo(&s.remote, "other");
    s.sb.commit(&other, "theirs.txt", "x\n", "theirs");
    s.sb.git(&other, &["push", "-q", "origin", "main"]);
    let sha = s.commit("ours.txt", "y\n");
    s.push_refused(&["origin", "main"]);
    s.sb.git(&s.work, &["pull", "-q", "--rebase"]);
    s.sentinel_push();
    assert!(s.post_push_lines().iter().all(|l| !l.contains(&sha)));
    assert_eq!(s.landed_lines().len(), 1);
}

#[test]
fn dry_run_does_not_fire() {
    let s = Setup::new();
    let sha = s.commit("app.txt", "v1\n");
    s.push_ok(&["--dry-run", "origin", "main"]);
    s.push_ok(&["-n", "origin", "main"]);
    s.push_ok(&["origin", "main"]);
    s.wait_for_decision(&sha);
    s.sentinel_push();
    let mine: Vec<_> = s
        .post_push_lines()
        .into_iter()
        .filter(|l| l.contains(&sha))
        .collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert!(mine[0].contains("landed"));
}

#[test]
fn push_through_a_pipe_returns_at_once() {
    let s = Setup::new();
    let sha = s.commit("app.txt", "v1\n");
    let out =
        s.sb.command("sh", &s.work)
            .args(["-c", "git push origin main 2>&1 | cat"])
            .output()
            .expect("run sh");
    assert!(
        out.status.success(),
        "{}",
        describe("git push | cat", &s.work, &out)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("once the push lands"), "{text}");
    assert!(s.wait_for_decision(&sha).contains("landed"));
}

#[test]
fn detached_processes_hold_nothing_of_the_push() {
    let (reader, writer) = std::io::pipe().expect("pipe");
    let mut cmd = std::process::Command::new("sleep");
    cmd.arg("30");
    let keep_open = writer.try_clone().expect("dup");
    // Leaked without close-on-exec, as git's pipes are to a hook.
    #[allow(unsafe_code)]
    // SAFETY: fcntl on an open descriptor this test owns only changes its flags.
    unsafe {
        libc::fcntl(
            std::os::fd::AsRawFd::as_raw_fd(&keep_open),
            libc::F_SETFD,
            0,
        )
    };
    let pid = mainstay::detach::spawn(&cmd, Default::default()).expect("spawn");
    drop((writer, keep_open));
    // spawn returns without waiting for the exec, and `sleep` opens its locale files as it
    // starts: what counts is what it settles down with. A descriptor of ours would stay.
    let list_fds = || -> Vec<String> {
        let mut fds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .expect("list fds")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        fds.sort();
        fds
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut fds = list_fds();
    while std::time::Instant::now() < deadline
        && (std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default() != "sleep\n"
            || fds != ["0", "1", "2"])
    {
        std::thread::sleep(std::time::Duration::from_millis(1));
        fds = list_fds();
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let session: u32 = after
        .split(' ')
        .nth(3)
        .expect("sid")
        .parse()
        .expect("number");
    std::process::Command::new("kill")
        .arg(pid.to_string())
        .status()
        .expect("kill");
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut &reader, &mut rest).expect("read to EOF");
    assert_eq!(fds, ["0", "1", "2"]);
    assert_eq!(session, pid, "the detached process leads its own session");
}

#[test]
fn a_detached_program_that_cannot_run_is_an_error_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("post-push");
    let err = mainstay::detach::spawn(&std::process::Command::new(&missing), Default::default())
        .unwrap_err();
    assert!(
        err.to_string().contains(&*missing.to_string_lossy()),
        "{err}"
    );
    std::fs::write(&missing, "#!/bin/sh\n").expect("write");
    let err = mainstay::detach::spawn(&std::process::Command::new(&missing), Default::default())
        .unwrap_err();
    assert!(err.to_string().contains("not an executable file"), "{err}");
}

/// The path macOS and the BSDs take (`ps` for the process tree, polling for the push's end,
/// descriptors closed one by one), forced on Linux: a push fires once, a dry run does not.
#[test]
fn the_portable_path_fires_once_and_not_for_a_dry_run() {
    let s = Setup::new();
    let push = |args: &[&str]| {
        s.sb.command("git", &s.work)
            .env("MAINSTAY_PORTABLE", "1")
            .args(args)
            .output()
            .expect("git push")
    };
    let dry = s.commit("portable.txt", "dry\n");
    let out = push(&["push", "-q", "--dry-run", "origin", "main"]);
    assert!(
        out.status.success(),
        "{}",
        describe("dry run", &s.work, &out)
    );
    let sha = s.commit("portable.txt", "real\n");
    let out = push(&["push", "-q", "origin", "main"]);
    assert!(out.status.success(), "{}", describe("push", &s.work, &out));
    assert!(s.wait_for_decision(&sha).contains("landed"));
    let lines = s.post_push_lines();
    assert_eq!(
        lines.iter().filter(|l| l.contains(&sha)).count(),
        1,
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.contains(&dry)), "{lines:?}");
}

/// git runs pre-push once per push URL: two `pushurl`s still give one notice and one monitor.
/// See: issue 22, item 8.
#[test]
fn two_push_urls_are_followed_once() {
    let s = Setup::new();
    let mirror = s.sb.path().join("mirror.git");
    let origin = s.remote.to_str().expect("utf-8");
    s.sb.git(
        s.sb.path(),
        &[
            "clone",
            "-q",
            "--bare",
            origin,
            mirror.to_str().expect("utf-8"),
        ],
    );
    for url in [origin, mirror.to_str().expect("utf-8")] {
        s.sb.git(&s.work, &["config", "--add", "remote.origin.pushurl", url]);
    }
    let sha = s.commit("app.txt", "v1\n");
    let said = s.push_ok(&["origin", "main"]);
    assert_eq!(said.matches("once the push lands").count(), 1, "{said}");
    assert_eq!(
        s.sb.git(&mirror, &["rev-parse", "main"]),
        sha,
        "both URLs took it"
    );
    assert!(s.wait_for_decision(&sha).contains("landed"));
    let second = s.sentinel_push();
    let landed = s.landed_lines();
    assert_eq!(landed.len(), 2, "{landed:?}");
    assert!(
        landed[0].contains(&sha) && landed[1].contains(&second),
        "{landed:?}"
    );
}
