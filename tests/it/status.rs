//! `mainstay status` and `mainstay cleanup` over real monitor runs, and a whole push followed to
//! its verdict.

use std::fs::File;
use std::time::{Duration, SystemTime};

use crate::monitor::{App, Deploy, Running};
use crate::util::{Sandbox, describe, read, wait_until, write};

fn code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A monitor left running on an app that does not serve the sha yet.
fn running(deploy: &Deploy) -> Running {
    let child = deploy.spawn_monitor(&deploy.sha);
    wait_until("the monitor to poll", || {
        deploy.log().contains("app serves")
    });
    child
}

fn pending_app() -> App {
    App::start("4444444444444444444444444444444444444444", vec![200])
}

#[test]
fn exit_codes_follow_the_run() {
    let app = pending_app();
    let deploy = Deploy::new(&app.config(None, "1s"));
    let out = deploy.status(&[]);
    assert_eq!(
        code(&out),
        Some(3),
        "{}",
        describe("status", &deploy.repo, &out)
    );
    assert!(stdout(&out).contains("not found"));

    let monitor = running(&deploy);
    let out = deploy.status(&["HEAD"]);
    assert_eq!(
        code(&out),
        Some(2),
        "{}",
        describe("status", &deploy.repo, &out)
    );
    assert!(
        stdout(&out).contains("in progress (app: app serves 444444444444)"),
        "{}",
        stdout(&out)
    );

    *app.commit.lock().expect("commit") = deploy.sha.clone();
    assert!(monitor.wait());
    for rev in ["HEAD", &deploy.sha[..7], &deploy.sha, "main"] {
        let out = deploy.status(&[rev]);
        assert_eq!(
            code(&out),
            Some(0),
            "{rev}: {}",
            describe("status", &deploy.repo, &out)
        );
        assert!(
            stdout(&out).contains("success: live after"),
            "{}",
            stdout(&out)
        );
    }
    let out = deploy.status(&["--json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON status");
    assert_eq!(json["exit_code"], 0);
    assert_eq!(json["state"]["done"], "success");
    assert_eq!(json["record"]["sha"], deploy.sha);
    assert!(
        json["record"]["phases"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "{json}"
    );
}

#[test]
fn failure_exits_1_with_the_logs_last_lines() {
    let app = App::start("", vec![200]);
    let deploy = Deploy::new("");
    *app.commit.lock().expect("commit") = deploy.sha.clone();
    let refused = crate::http::refused_url("/ready");
    write(
        &deploy.repo.join(".mainstay.toml"),
        &app.config(Some(&refused), "1s"),
    );
    assert_eq!(deploy.run(), "failed");
    let out = deploy.status(&[]);
    assert_eq!(code(&out), Some(1));
    let text = stdout(&out);
    assert!(text.contains("failed: not ready:"), "{text}");
    assert!(
        text.contains("  ") && text.contains("verdict: failed"),
        "{text}"
    );
    let out = deploy.status(&["--wait=5"]);
    assert_eq!(code(&out), Some(1));
    assert!(stdout(&out).contains("verdict: failed"), "{}", stdout(&out));
}

#[test]
fn a_killed_monitor_is_reported_dead_not_in_progress() {
    let app = pending_app();
    let deploy = Deploy::new(&app.config(None, "1s"));
    running(&deploy).kill();
    let out = deploy.status(&[]);
    assert_eq!(
        code(&out),
        Some(1),
        "{}",
        describe("status", &deploy.repo, &out)
    );
    let text = stdout(&out);
    assert!(text.contains("monitor died without a verdict"), "{text}");
    assert!(text.contains("app serves"), "{text}");
    let out = deploy.status(&["--wait=20"]);
    assert_eq!(code(&out), Some(1), "a dead monitor ends the wait too");
}

#[test]
fn wait_blocks_until_the_verdict() {
    let app = pending_app();
    let deploy = Deploy::new(&app.config(None, "1s"));
    let monitor = running(&deploy);
    let waiter = deploy
        .command(&["status", "--wait=60"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start status --wait");
    *app.commit.lock().expect("commit") = deploy.sha.clone();
    let out = waiter.wait_with_output().expect("status ends");
    assert_eq!(
        code(&out),
        Some(0),
        "{}",
        describe("status --wait", &deploy.repo, &out)
    );
    assert!(monitor.wait());
}

#[test]
fn wait_gives_up_in_progress_when_time_is_up() {
    let app = pending_app();
    let deploy = Deploy::new(&app.config(None, "1s"));
    let _monitor = running(&deploy);
    let out = deploy.status(&["--wait=1"]);
    assert_eq!(
        code(&out),
        Some(2),
        "{}",
        describe("status --wait=1", &deploy.repo, &out)
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains('\x1b'),
        "no progress line off a terminal"
    );
}

#[test]
fn wait_shows_a_live_progress_line_on_a_terminal() {
    let app = pending_app();
    let deploy = Deploy::new(&app.config(None, "1s"));
    let _monitor = running(&deploy);
    // `script` runs the command on a new pseudo-terminal and copies what it shows.
    let command = format!(
        "'{}' status --wait=1",
        crate::util::bin("mainstay").display()
    );
    let out = deploy
        .sandbox
        .command("script", &deploy.repo)
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .output()
        .expect("run script");
    assert_eq!(
        code(&out),
        Some(2),
        "{}",
        describe("script status --wait", &deploy.repo, &out)
    );
    let shown = stdout(&out);
    assert!(
        shown.contains("\r\x1b[K")
            && shown.contains("in progress (app: app serves 444444444444) ("),
        "{shown:?}"
    );
}

#[test]
fn a_repush_of_the_same_sha_never_reports_the_old_result() {
    let app = App::start("", vec![200]);
    let deploy = Deploy::new("");
    *app.commit.lock().expect("commit") = deploy.sha.clone();
    write(&deploy.repo.join(".mainstay.toml"), &app.config(None, "1s"));
    assert_eq!(deploy.run(), "success");
    *app.commit.lock().expect("commit") = "5555555555555555555555555555555555555555".to_owned();
    let monitor = running(&deploy);
    assert_eq!(
        deploy.result(),
        "",
        "the old verdict is gone once the new run starts"
    );
    assert_eq!(code(&deploy.status(&[])), Some(2));
    *app.commit.lock().expect("commit") = deploy.sha.clone();
    assert!(monitor.wait());
    assert_eq!(deploy.log().matches("monitoring deployment of").count(), 2);
}

#[test]
fn cleanup_removes_old_files_but_not_a_live_monitors() {
    let app = App::start("", vec![200]);
    let old = Deploy::new("");
    *app.commit.lock().expect("commit") = old.sha.clone();
    write(&old.repo.join(".mainstay.toml"), &app.config(None, "1s"));
    assert_eq!(old.run(), "success");
    // A second, live monitor in the same work tree, for another commit.
    let sha = old.sandbox.commit(&old.repo, "b.txt", "b\n", "second");
    let _live = old.spawn_monitor(&sha);
    let live_log = old
        .repo
        .join(format!(".deployment-status-{}.log", &sha[..7]));
    wait_until("the live monitor to poll", || {
        read(&live_log).contains("app serves")
    });
    let long_ago = SystemTime::now() - Duration::from_secs(30 * 86_400);
    for entry in std::fs::read_dir(&old.repo).expect("list") {
        let path = entry.expect("entry").path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(".deployment-"))
        {
            let file = File::options().append(true).open(&path).expect("open");
            file.set_modified(long_ago).expect("age the file");
        }
    }
    let out = old
        .command(&["cleanup", "--older-than", "7d"])
        .output()
        .expect("cleanup");
    assert!(
        out.status.success(),
        "{}",
        describe("cleanup", &old.repo, &out)
    );
    assert!(
        stdout(&out).contains("4 status files removed"),
        "{}",
        stdout(&out)
    );
    assert_eq!(old.log(), "");
    assert!(read(&live_log).contains("monitoring deployment"));
}

/// An installed clone that follows deployments on a pending app, with a commit not pushed yet:
/// the remote, the clone, the app and that commit.
fn following_clone(sb: &Sandbox) -> (std::path::PathBuf, std::path::PathBuf, App, String) {
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    sb.install(&work);
    let app = pending_app();
    write(&work.join(".mainstay.toml"), &app.config(None, "1s"));
    sb.git(&work, &["add", ".mainstay.toml"]);
    sb.git(&work, &["commit", "-q", "-m", "follow deployments"]);
    let sha = sb.git(&work, &["rev-parse", "HEAD"]);
    (remote, work, app, sha)
}

#[test]
fn a_whole_push_is_followed_to_success() {
    let sb = Sandbox::new();
    let (_, work, app, sha) = following_clone(&sb);
    // Through a pipe and in its own process group, as a terminal would run it.
    let mut push = sb.command("sh", &work);
    std::os::unix::process::CommandExt::process_group(&mut push, 0);
    let out = push
        .args(["-c", "git push origin main 2>&1 | cat"])
        .output()
        .expect("git push | cat");
    assert!(
        out.status.success(),
        "{}",
        describe("git push | cat", &work, &out)
    );
    let log = work.join(format!(".deployment-status-{}.log", &sha[..7]));
    wait_until("the monitor to poll", || read(&log).contains("app serves"));
    // The push and its pipe are gone; the monitor is in a session of its own and runs on.
    let status = |args: &[&str]| {
        let mut cmd = sb.command(crate::util::bin("mainstay"), &work);
        cmd.arg("status").args(args).output().expect("status")
    };
    assert_eq!(code(&status(&[])), Some(2));
    *app.commit.lock().expect("commit") = sha.clone();
    let out = status(&["--wait"]);
    assert_eq!(
        code(&out),
        Some(0),
        "{}",
        describe("status --wait", &work, &out)
    );
    assert!(read(&log).contains("verdict: success"), "{}", read(&log));
}

/// Opens the remote's gate when dropped, so a failing test never leaves a push hanging.
struct Gate(std::path::PathBuf);

impl Drop for Gate {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.0, "");
    }
}

/// A bare copy of `remote` as it is now, named `name`, added to `work` as a remote of that name.
fn mirror(sb: &Sandbox, remote: &std::path::Path, work: &std::path::Path, name: &str) {
    let copy = sb.path().join(format!("{name}.git"));
    let (from, to) = (
        remote.to_str().expect("utf-8"),
        copy.to_str().expect("utf-8"),
    );
    sb.git(sb.path(), &["clone", "-q", "--bare", from, to]);
    sb.git(work, &["remote", "add", name, to]);
}

#[test]
fn a_repushed_sha_is_in_progress_from_the_moment_git_push_returns() {
    let sb = Sandbox::new();
    let (remote, work, app, sha) = following_clone(&sb);
    // Two more remotes that do not have the commit yet; the second refuses every push.
    mirror(&sb, &remote, &work, "mirror");
    mirror(&sb, &remote, &work, "closed");
    let hook = sb.path().join("closed.git/hooks/pre-receive");
    write(&hook, "#!/bin/sh\nexit 1\n");
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let status = |args: &[&str]| {
        let mut cmd = sb.command(crate::util::bin("mainstay"), &work);
        cmd.arg("status").args(args).output().expect("status")
    };
    *app.commit.lock().expect("commit") = sha.clone();
    sb.git(&work, &["push", "-q", "origin", "main"]);
    assert_eq!(code(&status(&["--wait"])), Some(0));

    // The same sha again, while the app still serves another commit: never the old verdict, not
    // even while the push is still going on (held at the remote's gate) and no monitor runs yet.
    *app.commit.lock().expect("commit") = "6666666666666666666666666666666666666666".to_owned();
    // Only pushes to the deploy remote are followed: the mirror is it now.
    let deploy_from = |remote: &str| {
        let config = app.config(None, "1s").replacen(
            "[deploy]\n",
            &format!("[deploy]\nremote = \"{remote}\"\n"),
            1,
        );
        write(&work.join(".mainstay.toml"), &config);
    };
    deploy_from("mirror");
    let gate = Gate(sb.path().join("gate"));
    let hook = sb.path().join("mirror.git/hooks/pre-receive");
    let wait = format!(
        "touch '{0}.reached'; while [ ! -e '{0}' ]; do sleep 0.02; done",
        gate.0.display()
    );
    write(&hook, &format!("#!/bin/sh\n{wait}\n"));
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let mut push = sb.command("git", &work);
    let mut push = push
        .args(["push", "-q", "mirror", "main"])
        .spawn()
        .expect("git push");
    wait_until("the push to reach the remote", || {
        gate.0.with_extension("reached").exists()
    });
    let out = status(&[]);
    assert_eq!(code(&out), Some(2), "{}", describe("status", &work, &out));
    drop(gate);
    assert!(push.wait().expect("git push").success());
    assert_eq!(code(&status(&[])), Some(2));
    *app.commit.lock().expect("commit") = sha.clone();
    assert_eq!(code(&status(&["--wait"])), Some(0));
    let log = read(&work.join(format!(".deployment-status-{}.log", &sha[..7])));
    assert_eq!(log.matches("monitoring deployment of").count(), 2, "{log}");

    // A push of it that does not land starts nothing and leaves the last verdict standing.
    deploy_from("closed");
    let refused = sb.git_output(&work, &["push", "-q", "closed", "main"]);
    assert!(!refused.status.success());
    let post_push = sb.common_dir(&work).join("mainstay/post-push.log");
    wait_until("post-push to decide", || {
        read(&post_push).contains("did not land")
    });
    wait_until("the lock to be let go", || code(&status(&[])) == Some(0));
    let log = read(&work.join(format!(".deployment-status-{}.log", &sha[..7])));
    assert_eq!(log.matches("monitoring deployment of").count(), 2, "{log}");
}

/// A project whose pushes another machine follows: the pusher commits `[deploy.github]` (with no
/// `repo`: it comes from the deploy remote's URL) and four commits, and pushes without hooks; a
/// fresh clone, where no monitor ever ran, asks about them.
struct Elsewhere {
    sb: Sandbox,
    fresh: std::path::PathBuf,
    github: crate::github::GitHub,
    shas: Vec<String>,
}

impl Elsewhere {
    fn new() -> Elsewhere {
        use crate::github::{GitHub, REPO};
        let sb = Sandbox::new();
        let github = GitHub::start();
        let remote = sb.remote("remote");
        let pusher = sb.clone_repo(&remote, "pusher");
        let config = github
            .config(crate::monitor::FAST, "")
            .replace(&format!("repo = \"{REPO}\"\n"), "");
        write(&pusher.join(".mainstay.toml"), &config);
        sb.git(&pusher, &["add", ".mainstay.toml"]);
        sb.git(
            &pusher,
            &["commit", "-q", "-m", "follow GitHub deployments"],
        );
        let mut shas = vec![sb.git(&pusher, &["rev-parse", "HEAD"])];
        for name in ["a", "b", "c"] {
            shas.push(sb.commit(&pusher, name, name, name));
        }
        sb.git(&pusher, &["push", "-q", "origin", "main"]);
        let fresh = sb.clone_repo(&remote, "fresh");
        sb.git(
            &fresh,
            &["remote", "set-url", "origin", "git@github.com:acme/web.git"],
        );
        Elsewhere {
            sb,
            fresh,
            github,
            shas,
        }
    }

    fn status(&self, args: &[&str], token: bool) -> std::process::Output {
        let mut cmd = self.sb.command(crate::util::bin("mainstay"), &self.fresh);
        for name in crate::monitor::FOREIGN {
            cmd.env_remove(name);
        }
        if token {
            cmd.env("GITHUB_TOKEN", crate::github::TOKEN);
        }
        cmd.env("MAINSTAY_API_HOSTS", self.github.server.host())
            .arg("status")
            .args(args)
            .output()
            .expect("run mainstay status")
    }
}

#[test]
fn status_in_a_clone_where_no_monitor_ran_asks_github() {
    use crate::github::{PRODUCTION, status as deployment_status};
    use serde_json::json;
    let here = Elsewhere::new();
    let [failed, live, building, unlisted] = [0, 1, 2, 3].map(|i| here.shas[i].clone());
    let mut failure = deployment_status("failure", "Build failed: `next build` exited with 1");
    failure["log_url"] = json!("https://vercel.com/acme/web/Fk3x9");
    let mut success = deployment_status("success", "");
    success["environment_url"] = json!("https://web.example");
    let zero = Duration::ZERO;
    here.github.deploy(
        1,
        &failed,
        PRODUCTION,
        zero,
        vec![
            (zero, deployment_status("in_progress", "")),
            (zero, failure),
        ],
    );
    here.github
        .deploy(2, &live, PRODUCTION, zero, vec![(zero, success)]);
    here.github.deploy(
        3,
        &building,
        PRODUCTION,
        zero,
        vec![(zero, deployment_status("in_progress", "Building"))],
    );

    let out = here.status(&[&failed], true);
    assert_eq!(
        code(&out),
        Some(1),
        "{}",
        describe("status", &here.fresh, &out)
    );
    assert_eq!(
        stdout(&out),
        format!(
            "{}: failed (from github: Build failed: `next build` exited with 1)\n  \
             deployment 1: failure: Build failed: `next build` exited with 1\n  \
             log: https://vercel.com/acme/web/Fk3x9\n",
            &failed[..7]
        )
    );
    assert_eq!(
        here.github.requests().len(),
        2,
        "asked once: the listing and the statuses"
    );

    let out = here.status(&[&live[..7]], true);
    assert_eq!(
        code(&out),
        Some(0),
        "{}",
        describe("status", &here.fresh, &out)
    );
    assert_eq!(
        stdout(&out),
        format!(
            "{}: success (from github: live)\n  environment_url: https://web.example\n",
            &live[..7]
        )
    );
    let out = here.status(&[&building], true);
    assert_eq!(code(&out), Some(2));
    assert!(
        stdout(&out).contains("in progress (from github: in_progress)"),
        "{}",
        stdout(&out)
    );
    let out = here.status(&["HEAD"], true);
    assert_eq!(code(&out), Some(3));
    assert_eq!(
        stdout(&out),
        format!(
            "{}: not found (no monitor ran here; github: not listed yet)\n",
            &unlisted[..7]
        )
    );
    let out = here.status(&[&failed, "--json"], true);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["exit_code"], 1);
    assert_eq!(report["asked"]["source"], "github");
    assert_eq!(report["state"], json!({"done": "failed"}));

    // Without a token the source cannot answer, and says why.
    let out = here.status(&[&live], false);
    assert_eq!(code(&out), Some(3));
    assert!(
        stdout(&out).contains("github: GITHUB_TOKEN (or GH_TOKEN) is not set in the environment"),
        "{}",
        stdout(&out)
    );

    // --wait follows the sources like a monitor until the verdict.
    let later = here.github.elapsed() + Duration::from_millis(400);
    here.github.deploy(
        4,
        &unlisted,
        PRODUCTION,
        later,
        vec![(later, deployment_status("success", ""))],
    );
    let out = here.status(&["--wait=20"], true);
    assert_eq!(
        code(&out),
        Some(0),
        "{}",
        describe("status --wait", &here.fresh, &out)
    );
    assert!(
        stdout(&out).contains("success (from github: live)"),
        "{}",
        stdout(&out)
    );

    let names: Vec<String> = std::fs::read_dir(&here.fresh)
        .expect("list the clone")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with(".deployment-")),
        "asking writes no status file: {names:?}"
    );
    assert!(
        !crate::util::read(&here.sb.common_dir(&here.fresh).join("config")).contains("ghp_"),
        "the token is in no file"
    );
}

#[test]
fn asking_the_sources_once_is_bounded_by_request_timeout() {
    let here = Elsewhere::new();
    here.github
        .script(|_, _| Some(crate::http::Reply::Hang(Duration::from_secs(10))));
    let started = std::time::Instant::now();
    let out = here.status(&[], true);
    let took = started.elapsed();
    assert_eq!(
        code(&out),
        Some(3),
        "{}",
        describe("status", &here.fresh, &out)
    );
    assert!(
        stdout(&out).contains("no answer within 400ms"),
        "{}",
        stdout(&out)
    );
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(here.github.requests().len(), 1, "no retry");
}

#[test]
fn a_short_sha_this_clone_lacks_is_matched_among_the_newest_deployments() {
    use crate::github::{PREVIEW, PRODUCTION, status as deployment_status};
    let here = Elsewhere::new();
    // Pushed from elsewhere and never fetched here: git cannot lengthen the short form.
    let unknown = "3f2a9c1d0e5b7a8f6c4d2e0b9a7c5e3f1d0b8a6c";
    let zero = Duration::ZERO;
    here.github.deploy(
        8,
        unknown,
        PRODUCTION,
        zero,
        vec![(zero, deployment_status("failure", "Build failed: exit 1"))],
    );
    here.github.deploy(
        9,
        unknown,
        PREVIEW,
        zero,
        vec![(zero, deployment_status("success", ""))],
    );
    here.github.deploy(
        10,
        &here.shas[3],
        PRODUCTION,
        zero,
        vec![(zero, deployment_status("success", ""))],
    );
    let out = here.status(&[&unknown[..9]], true);
    assert_eq!(
        code(&out),
        Some(1),
        "{}",
        describe("status <short sha>", &here.fresh, &out)
    );
    assert!(
        stdout(&out).starts_with("3f2a9c1: failed (from github: Build failed: exit 1)"),
        "{}",
        stdout(&out)
    );
    let listing = &here.github.requests()[0];
    assert!(!listing.target.contains("sha="), "{}", listing.target);
}

/// See: issue 23: `git push && mainstay status --wait` answered `not found` (exit 3) when it
/// ran before the monitor had started; the monitor that started a moment later ended
/// `timeout`. In the clone that pushed, it waits for that monitor and reads its files.
#[test]
fn status_wait_right_after_the_push_answers_with_the_monitor_s_verdict() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    sb.install(&work);
    let app = pending_app();
    let config = app
        .config(None, "1s")
        .replace("max_wait = \"20s\"", "max_wait = \"2s\"");
    write(&work.join(".mainstay.toml"), &config);
    sb.git(&work, &["add", ".mainstay.toml"]);
    sb.git(&work, &["commit", "-q", "-m", "follow deployments"]);
    let sha = sb.git(&work, &["rev-parse", "HEAD"]);
    let mainstay = crate::util::bin("mainstay");
    let out = sb
        .command("sh", &work)
        .args([
            "-c",
            &format!(
                "git push -q origin main && '{}' status --wait=20",
                mainstay.display()
            ),
        ])
        .output()
        .expect("push, then status --wait");
    assert_eq!(
        code(&out),
        Some(1),
        "{}",
        describe("git push && mainstay status --wait", &work, &out)
    );
    assert!(
        stdout(&out).contains(&format!("{}: timeout", &sha[..7])),
        "{}",
        stdout(&out)
    );
}
