//! The deployment monitor as the real `mainstay monitor <sha>` runs it, against an app, a
//! readiness endpoint and a webhook served on loopback.

use std::path::PathBuf;
use std::process::{Child, Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::http::{Reply, Server, refused_url};
use crate::util::{Sandbox, bin, describe, read, wait_until, write};

/// Variables the outer environment may hold that would change what the monitor does.
pub const FOREIGN: &[&str] = &[
    "DB_HOST",
    "DB_PORT",
    "DB_USER",
    "DB_PASS",
    "DB_NAME",
    "DIGITALOCEAN_TOKEN",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "http_proxy",
    "https_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "all_proxy",
];

/// Millisecond polling, so a run takes a fraction of a second.
pub const FAST: &str = r#"
[deploy]
max_wait = "20s"
poll_initial = "20ms"
poll_later = "40ms"
poll_switch_after = "200ms"
request_timeout = "400ms"
schedule = "fixed"
"#;

/// A repository with one commit and a `.mainstay.toml`, and the monitor's files in it.
pub struct Deploy {
    pub sandbox: Sandbox,
    pub repo: PathBuf,
    pub sha: String,
    pub env: Vec<(String, String)>,
}

impl Deploy {
    pub fn new(config: &str) -> Deploy {
        let sandbox = Sandbox::new();
        let repo = sandbox.path().join("repo");
        std::fs::create_dir_all(&repo).expect("create repo dir");
        sandbox.git(&repo, &["init", "-q", "-b", "main"]);
        let sha = sandbox.commit(&repo, "app.txt", "v1\n", "first");
        write(&repo.join(".mainstay.toml"), config);
        Deploy {
            sandbox,
            repo,
            sha,
            env: Vec::new(),
        }
    }

    pub fn with_env(mut self, name: &str, value: &str) -> Deploy {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.sandbox.command(bin("mainstay"), &self.repo);
        for name in FOREIGN {
            cmd.env_remove(name);
        }
        cmd.args(args).envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    pub fn monitor(&self) -> Output {
        self.command(&["monitor", &self.sha])
            .output()
            .expect("run mainstay monitor")
    }

    /// Starts `mainstay monitor <sha>` in the background.
    pub fn spawn_monitor(&self, sha: &str) -> Running {
        let child = self
            .command(&["monitor", sha])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start a monitor");
        Running(Some(child))
    }

    pub fn status(&self, args: &[&str]) -> Output {
        let mut all = vec!["status"];
        all.extend_from_slice(args);
        self.command(&all).output().expect("run mainstay status")
    }

    pub fn file(&self, ext: &str) -> String {
        let name = format!(".deployment-status-{}.{ext}", &self.sha[..7]);
        read(&self.repo.join(name))
    }

    pub fn log(&self) -> String {
        self.file("log")
    }

    pub fn result(&self) -> String {
        self.file("result").trim().to_owned()
    }

    pub fn record(&self) -> serde_json::Value {
        serde_json::from_str(&self.file("json")).expect("the run record is JSON")
    }

    /// Runs the monitor to its end and checks it exited 0.
    pub fn run(&self) -> String {
        let out = self.monitor();
        assert!(
            out.status.success(),
            "{}",
            describe("mainstay monitor", &self.repo, &out)
        );
        self.result()
    }
}

/// A monitor in the background; killed if the test ends before it does.
pub struct Running(Option<Child>);

impl Running {
    /// Waits for the monitor's end; true when it exited 0.
    pub fn wait(mut self) -> bool {
        let mut child = self.0.take().expect("a running monitor");
        child.wait().expect("wait for the monitor").success()
    }

    /// Waits a bounded time for the monitor's end (a hung monitor fails the test, and is killed
    /// on drop); true when it exited 0.
    pub fn finishes(mut self) -> bool {
        let child = self.0.as_mut().expect("a running monitor");
        let mut status = None;
        wait_until("the monitor to end", || {
            status = child.try_wait().expect("poll the monitor");
            status.is_some()
        });
        self.0 = None;
        status.is_some_and(|s| s.success())
    }

    /// SIGKILL, and reaps it.
    pub fn kill(mut self) {
        let mut child = self.0.take().expect("a running monitor");
        child.kill().expect("SIGKILL the monitor");
        child.wait().expect("reap the monitor");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An app whose `/health` reports `commit` (changeable) and whose `/health/ready` answers
/// from a script of replies, the last one repeating.
pub struct App {
    pub server: Server,
    pub commit: Arc<Mutex<String>>,
}

impl App {
    pub fn start(commit: &str, ready: Vec<u16>) -> App {
        let commit = Arc::new(Mutex::new(commit.to_owned()));
        let served = commit.clone();
        let ready_calls = AtomicUsize::new(0);
        let server = Server::start(move |r| match r.path() {
            "/health" => {
                let commit = served.lock().expect("commit").clone();
                Reply::json(200, format!(r#"{{"status":"ok","commit":"{commit}"}}"#))
            }
            "/health/ready" => {
                let n = ready_calls.fetch_add(1, Ordering::SeqCst);
                let status = ready[n.min(ready.len() - 1)];
                Reply::json(status, "{}")
            }
            _ => Reply::json(404, "{}"),
        });
        App { server, commit }
    }

    pub fn config(&self, ready_url: Option<&str>, budget: &str) -> String {
        let mut config = format!(
            "{FAST}\n[deploy.app]\nversion_url = \"{}\"\nready_budget = \"{budget}\"\n",
            self.server.url("/health")
        );
        if let Some(url) = ready_url {
            config.push_str(&format!("ready_url = \"{url}\"\n"));
        }
        config
    }
}

#[test]
fn wrong_commit_then_right_one_is_success() {
    let app = App::start("0000000000000000000000000000000000000000", vec![200]);
    let deploy = Deploy::new(&app.config(None, "1s"));
    let sha = deploy.sha.clone();
    let commit = app.commit.clone();
    let log = deploy
        .repo
        .join(format!(".deployment-status-{}.log", &sha[..7]));
    let flip = std::thread::spawn(move || {
        // The new version goes live only once the monitor has seen the old one.
        wait_until("the monitor to see the old version", || {
            read(&log).contains("app serves 000000000000")
        });
        *commit.lock().expect("commit") = sha;
    });
    assert_eq!(deploy.run(), "success");
    flip.join().expect("flip thread");
    let log = deploy.log();
    assert!(log.contains("app: app serves 000000000000"), "{log}");
    assert!(log.contains("app: live"), "{log}");
    assert!(log.contains("schedule: fixed"), "{log}");
    assert!(log.contains("verdict: success"), "{log}");
    let record = deploy.record();
    assert_eq!(record["verdict"], "success");
    assert_eq!(record["source"], "app");
    assert!(record["polls"].as_u64().expect("polls") >= 2, "{record}");
    assert!(record["live_after_ms"].is_u64(), "{record}");
    // Every line carries a date and a zone.
    for line in log.lines() {
        assert!(
            line.len() > 25 && &line[4..5] == "-" && &line[23..25] == "Z ",
            "{line}"
        );
    }
}

#[test]
fn ready_after_503s_is_success_with_the_time_recorded() {
    let app = App::start("", vec![503, 503, 200]);
    let deploy = Deploy::new("");
    *app.commit.lock().expect("commit") = deploy.sha.clone();
    write(
        &deploy.repo.join(".mainstay.toml"),
        &app.config(Some(&app.server.url("/health/ready")), "10s"),
    );
    assert_eq!(deploy.run(), "success");
    assert_eq!(app.server.count("/health/ready"), 3);
    let record = deploy.record();
    assert!(record["ready_after_ms"].is_u64(), "{record}");
    assert!(deploy.log().contains("ready after"), "{}", deploy.log());
}

#[test]
fn ready_refusing_connections_fails_at_once() {
    let app = App::start("", vec![200]);
    let deploy = Deploy::new("");
    *app.commit.lock().expect("commit") = deploy.sha.clone();
    let refused = refused_url("/health/ready");
    write(
        &deploy.repo.join(".mainstay.toml"),
        &app.config(Some(&refused), "20s"),
    );
    assert_eq!(deploy.run(), "failed");
    let record = deploy.record();
    let error = record["error"].as_str().expect("an error");
    assert!(
        error.starts_with("not ready: ") && error.contains("connection refused"),
        "{error}"
    );
}

#[test]
fn ready_hanging_fails_when_the_budget_is_spent() {
    let ready = Server::start(|_| Reply::Hang(Duration::from_secs(3)));
    let app = App::start("", vec![200]);
    let deploy = Deploy::new("");
    *app.commit.lock().expect("commit") = deploy.sha.clone();
    write(
        &deploy.repo.join(".mainstay.toml"),
        &app.config(Some(&ready.url("/health/ready")), "1s"),
    );
    assert_eq!(deploy.run(), "failed");
    let error = deploy.record()["error"].as_str().expect("error").to_owned();
    assert!(error.contains("not ready within 1.0s"), "{error}");
    assert!(error.contains("no answer within"), "{error}");
}

#[test]
fn ready_answering_404_fails_without_retrying() {
    let app = App::start("", vec![404]);
    let deploy = Deploy::new("");
    *app.commit.lock().expect("commit") = deploy.sha.clone();
    write(
        &deploy.repo.join(".mainstay.toml"),
        &app.config(Some(&app.server.url("/health/ready")), "20s"),
    );
    assert_eq!(deploy.run(), "failed");
    assert_eq!(app.server.count("/health/ready"), 1);
    assert!(deploy.log().contains("HTTP 404"), "{}", deploy.log());
}

#[test]
fn a_commit_that_never_goes_live_times_out() {
    let app = App::start("1111111111111111111111111111111111111111", vec![200]);
    // Long enough for the app's answer on a busy machine: no request outlives max_wait.
    let config = app
        .config(None, "1s")
        .replace("max_wait = \"20s\"", "max_wait = \"1s\"");
    let deploy = Deploy::new(&config);
    assert_eq!(deploy.run(), "timeout");
    let error = deploy.record()["error"].as_str().expect("error").to_owned();
    assert!(error.contains("no verdict within 1.0s"), "{error}");
    assert!(error.contains("app serves 111111111111"), "{error}");
}

#[test]
fn no_source_configured_follows_nothing_and_status_says_so() {
    let deploy = Deploy::new(FAST);
    let out = deploy.monitor();
    assert!(
        out.status.success(),
        "{}",
        describe("monitor", &deploy.repo, &out)
    );
    assert!(
        deploy.log().contains("nothing to follow"),
        "{}",
        deploy.log()
    );
    assert_eq!(deploy.result(), "");
    let status = deploy.status(&[]);
    assert_eq!(
        status.status.code(),
        Some(3),
        "{}",
        describe("status", &deploy.repo, &status)
    );
    assert!(String::from_utf8_lossy(&status.stdout).contains("not followed"));
}

#[test]
fn a_sha_with_sql_metacharacters_is_refused() {
    let deploy = Deploy::new(FAST);
    let out = deploy
        .command(&["monitor", "abc1234'; DROP TABLE deployments; --"])
        .output()
        .expect("run monitor");
    assert_eq!(out.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not a commit id"), "{stderr}");
    let names: Vec<_> = std::fs::read_dir(&deploy.repo)
        .expect("list repo")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with(".deployment-")),
        "{names:?}"
    );
}

#[test]
fn failure_alerts_the_webhook_and_secrets_stay_out_of_every_file() {
    let hook_secret = "T000/B000/xoxsecretkey";
    let webhook = Server::start(|_| Reply::json(200, "ok"));
    let app = App::start("", vec![200]);
    let deploy = Deploy::new("");
    *app.commit.lock().expect("commit") = deploy.sha.clone();
    let refused = refused_url("/ready");
    write(
        &deploy.repo.join(".mainstay.toml"),
        &app.config(Some(&refused), "5s"),
    );
    let deploy = deploy
        .with_env(
            "MAINSTAY_WEBHOOK_URL",
            &webhook.url(&format!("/services/{hook_secret}")),
        )
        .with_env("DIGITALOCEAN_TOKEN", "dop_v1_tokensecret")
        .with_env(
            "MAINSTAY_DB_URL",
            "mysql://deploy:dbsecretpw@127.0.0.1:1/deploys",
        );
    // The database and API are unreachable here; the app decides.
    assert_eq!(deploy.run(), "failed");
    let alerts = webhook.requests();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let body: serde_json::Value = serde_json::from_str(&alerts[0].body).expect("JSON alert");
    let text = body["text"].as_str().expect("a text field");
    assert!(
        text.contains(&deploy.sha[..7]) && text.contains("failed"),
        "{text}"
    );
    for secret in ["xoxsecretkey", "dop_v1_tokensecret", "dbsecretpw"] {
        for ext in ["log", "result", "json"] {
            assert!(
                !deploy.file(ext).contains(secret),
                "{secret} in .{ext}:\n{}",
                deploy.file(ext)
            );
        }
        assert!(!text.contains(secret), "{secret} in the alert");
    }
    assert!(deploy.log().contains("alert sent"), "{}", deploy.log());
    assert_eq!(
        deploy.record()["alert_sent"],
        true,
        "counted by mainstay stats"
    );
}

#[test]
fn a_failing_webhook_is_logged_and_the_verdict_stands() {
    let webhook = Server::start(|_| Reply::json(500, "boom"));
    let app = App::start("2222222222222222222222222222222222222222", vec![200]);
    let config = app
        .config(None, "1s")
        .replace("max_wait = \"20s\"", "max_wait = \"100ms\"")
        + "\n[alerts]\ntimeout = \"200ms\"\nretries = 2\n";
    let deploy =
        Deploy::new(&config).with_env("MAINSTAY_WEBHOOK_URL", &webhook.url("/hook/keypart"));
    assert_eq!(deploy.run(), "timeout");
    assert_eq!(webhook.requests().len(), 3);
    let log = deploy.log();
    assert!(log.contains("failed after 3 attempts: HTTP 500"), "{log}");
    assert!(!log.contains("keypart"), "{log}");
    assert_eq!(
        deploy.record()["alert_sent"],
        false,
        "a failed alert was not sent"
    );
}

#[test]
fn one_monitor_per_sha() {
    let app = App::start("3333333333333333333333333333333333333333", vec![200]);
    let deploy = Deploy::new(&app.config(None, "1s"));
    let first = deploy.spawn_monitor(&deploy.sha);
    wait_until("the first monitor to poll", || {
        deploy.log().contains("app serves")
    });
    let second = deploy.monitor();
    assert!(
        second.status.success(),
        "{}",
        describe("second monitor", &deploy.repo, &second)
    );
    let status = deploy.status(&[]);
    assert_eq!(
        status.status.code(),
        Some(2),
        "{}",
        describe("status", &deploy.repo, &status)
    );
    *app.commit.lock().expect("commit") = deploy.sha.clone();
    assert!(first.wait());
    assert_eq!(
        deploy.log().matches("monitoring deployment of").count(),
        1,
        "{}",
        deploy.log()
    );
    assert_eq!(deploy.result(), "success");
}

#[test]
fn a_configured_commit_pointer_is_read() {
    let shell = Deploy::new("");
    let sha = shell.sha.clone();
    let app = Server::start(move |_| {
        Reply::json(
            200,
            format!(r#"{{"build":{{"git":{{"sha":"{sha}"}}}},"commit":"old"}}"#),
        )
    });
    let config = format!(
        "{FAST}\n[deploy.app]\nversion_url = \"{}\"\ncommit_pointer = \"/build/git/sha\"\n",
        app.url("/version")
    );
    write(&shell.repo.join(".mainstay.toml"), &config);
    // In the foreground, the log's lines are shown as they are written.
    let out = shell.monitor();
    assert!(out.status.success());
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("app: live") && shown.contains("verdict: success"),
        "{shown}"
    );
    assert_eq!(shell.result(), "success");
}

#[test]
fn ready_hanging_then_answering_is_retried_to_success() {
    let calls = AtomicUsize::new(0);
    let ready = Server::start(move |_| {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::Hang(Duration::from_secs(3))
        } else {
            Reply::json(200, "{}")
        }
    });
    let app = App::start("", vec![200]);
    let deploy = Deploy::new("");
    *app.commit.lock().expect("commit") = deploy.sha.clone();
    write(
        &deploy.repo.join(".mainstay.toml"),
        &app.config(Some(&ready.url("/health/ready")), "10s"),
    );
    assert_eq!(deploy.run(), "success");
    assert_eq!(ready.count("/health/ready"), 2);
    assert!(deploy.record()["ready_after_ms"].is_u64());
}

#[test]
fn a_bad_duration_in_the_configuration_is_named_on_one_line() {
    let deploy = Deploy::new("[deploy]\nmax_wait = \"5 minutes\"\n");
    let out = deploy.monitor();
    assert_eq!(out.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(".mainstay.toml") && stderr.contains("deploy.max_wait"),
        "{stderr}"
    );
    assert!(stderr.contains("is not a duration like 250ms"), "{stderr}");
    assert!(deploy.log().contains("error: "), "{}", deploy.log());
}

#[test]
fn past_runs_recorded_here_pick_the_history_schedule() {
    let app = App::start("", vec![200]);
    let deploy = Deploy::new("");
    *app.commit.lock().expect("commit") = deploy.sha.clone();
    let config = app
        .config(None, "1s")
        .replace("schedule = \"fixed\"", "schedule = \"history\"");
    write(&deploy.repo.join(".mainstay.toml"), &config);
    // Three earlier runs here, seen live 100, 120 and 140 ms in, 20 ms after their last pending
    // poll: they took 90, 110 and 130 ms. A failed run teaches nothing.
    for (i, (live, verdict)) in [
        (100, "success"),
        (120, "success"),
        (140, "success"),
        (20, "failed"),
    ]
    .into_iter()
    .enumerate()
    {
        let sha = format!("{:07x}{}", i + 1, "0".repeat(33));
        let record = serde_json::json!({
            "sha": sha, "pid": 1, "started_at": format!("2026-01-0{}T00:00:00.000Z", i + 1),
            "ended_at": null, "verdict": verdict, "schedule": "fixed", "source": "app",
            "polls": 3, "phases": [], "live_after_ms": live, "last_pending_ms": live - 20,
            "ready_after_ms": null, "error": null,
        });
        write(
            &deploy
                .repo
                .join(format!(".deployment-status-{}.json", &sha[..7])),
            &record.to_string(),
        );
    }
    assert_eq!(deploy.run(), "success");
    let log = deploy.log();
    assert!(
        log.contains("schedule: history: estimated 110ms ± ")
            && log.contains("from 3 past deployments"),
        "{log}"
    );
}

/// The later commit the app serves was pushed from another clone, so this one does not know it
/// yet: the deploy branch is fetched, and this commit is live through it (not a timeout).
#[test]
fn an_app_serving_a_later_commit_pushed_from_another_clone_makes_this_one_live() {
    let app = App::start("", vec![200]);
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let a = sb.clone_repo(&remote, "a");
    let b = sb.clone_repo(&remote, "b");
    let c1 = sb.commit(&a, "one.txt", "1\n", "c1");
    sb.git(&a, &["push", "-q", "origin", "main"]);
    sb.git(&b, &["pull", "-q", "--ff-only"]);
    let c2 = sb.commit(&b, "two.txt", "2\n", "c2");
    sb.git(&b, &["push", "-q", "origin", "main"]);
    *app.commit.lock().expect("commit") = c2.clone();
    let config = app
        .config(None, "1s")
        .replace("max_wait = \"20s\"", "max_wait = \"3s\"");
    write(&a.join(".mainstay.toml"), &config);
    let mut cmd = sb.command(bin("mainstay"), &a);
    for name in FOREIGN {
        cmd.env_remove(name);
    }
    let out = cmd
        .args(["monitor", &c1])
        .output()
        .expect("run the monitor");
    assert!(out.status.success(), "{}", describe("monitor c1", &a, &out));
    let name = |ext: &str| a.join(format!(".deployment-status-{}.{ext}", &c1[..7]));
    let log = read(&name("log"));
    assert_eq!(read(&name("result")).trim(), "success", "{log}");
    assert!(
        log.contains(&format!("app: live via {}", &c2[..7])),
        "{log}"
    );
}

/// A swarm pushes several commits in a row and the app serves the newest: every earlier one is
/// live through it, not a timeout. See: the newcomer's-first-hour issue.
#[test]
fn an_app_serving_a_later_commit_that_contains_this_one_makes_it_live() {
    let app = App::start("", vec![200]);
    let deploy = Deploy::new("");
    let later = deploy
        .sandbox
        .commit(&deploy.repo, "app.txt", "v2\n", "the next push");
    *app.commit.lock().expect("commit") = later.clone();
    write(&deploy.repo.join(".mainstay.toml"), &app.config(None, "1s"));
    assert_eq!(deploy.run(), "success");
    let log = deploy.log();
    assert!(
        log.contains(&format!("app: live via {}", &later[..7])),
        "{log}"
    );
    assert_eq!(deploy.record()["live_through"], later.as_str());
    let out = deploy.status(&[&deploy.sha]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!("({}, which contains it)", &later[..7])),
        "{said}"
    );
    // A commit the app serves that does not contain this one is no answer.
    let other = Deploy::new("");
    *app.commit.lock().expect("commit") = "1111111111111111111111111111111111111111".to_owned();
    let config = app
        .config(None, "1s")
        .replace("max_wait = \"20s\"", "max_wait = \"300ms\"");
    write(&other.repo.join(".mainstay.toml"), &config);
    assert_eq!(other.run(), "timeout");
}

/// See: issue 23: a committed `version_url` answering a fresh random sha on every request made
/// each monitor fetch the deploy remote on every poll.
#[test]
fn an_app_answering_a_fresh_commit_each_time_costs_one_fetch_per_monitor() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let server = Server::start(move |_| {
        let n = counted.fetch_add(1, Ordering::SeqCst) as u64;
        let commit = format!("{:040x}", u128::from(n + 1) * 0x9e37_79b9_7f4a_7c15);
        Reply::json(200, format!(r#"{{"commit":"{commit}"}}"#))
    });
    let config = format!(
        "{}\n[deploy.app]\nversion_url = \"{}\"\n",
        FAST.replace("max_wait = \"20s\"", "max_wait = \"2s\""),
        server.url("/health")
    );
    let deploy = Deploy::new(&config);
    let fetches = deploy.sandbox.path().join("fetches");
    let here = deploy.repo.display().to_string();
    deploy
        .sandbox
        .git(&deploy.repo, &["remote", "add", "origin", &here]);
    deploy.sandbox.git(
        &deploy.repo,
        &[
            "config",
            "remote.origin.uploadpack",
            &format!("echo x >> '{}'; false", fetches.display()),
        ],
    );
    assert_eq!(deploy.run(), "timeout");
    assert!(calls.load(Ordering::SeqCst) >= 5, "polled several times");
    let fetched = std::fs::read_to_string(&fetches).unwrap_or_default();
    assert_eq!(fetched.lines().count(), 1, "{fetched:?}");
}

/// An app whose `/health` reports a fresh commit on every request: a new phase each poll, so
/// the monitor rewrites its record (through temp files) all the time.
fn restless_app() -> Server {
    let calls = Arc::new(AtomicUsize::new(0));
    Server::start(move |_| {
        let n = calls.fetch_add(1, Ordering::SeqCst) as u64;
        Reply::json(200, format!(r#"{{"commit":"{:040x}"}}"#, u128::from(n) + 7))
    })
}

fn short_run(app: &Server) -> Deploy {
    let config = format!(
        "{}\n[deploy.app]\nversion_url = \"{}\"\n",
        FAST.replace("max_wait = \"20s\"", "max_wait = \"3s\""),
        app.url("/health")
    );
    let deploy = Deploy::new(&config);
    // What install-hooks puts in the clone's exclude file.
    write(
        &deploy.repo.join(".git/info/exclude"),
        ".deployment-status-*\n.deployment-monitor-*\n",
    );
    deploy
}

/// See: issue 21 item 7: a temp file named `..deployment-status-<sha7>.json.<random>.tmp` was
/// not covered by the exclude pattern, and `git add -A` staged it.
#[test]
fn git_add_all_never_stages_a_file_of_the_monitor_while_it_writes() {
    let app = restless_app();
    let deploy = short_run(&app);
    let sha = deploy.sha.clone();
    let running = deploy.spawn_monitor(&sha);
    let mut rounds = 0;
    let mut staged_ever = Vec::new();
    while !deploy
        .repo
        .join(format!(".deployment-status-{}.result", &sha[..7]))
        .exists()
    {
        deploy.sandbox.git(&deploy.repo, &["add", "-A"]);
        let staged = deploy
            .sandbox
            .git(&deploy.repo, &["diff", "--cached", "--name-only"]);
        staged_ever.extend(
            staged
                .lines()
                .filter(|l| l.contains("deployment-"))
                .map(str::to_owned),
        );
        rounds += 1;
    }
    assert!(running.wait());
    assert!(rounds > 3, "the loop ran while the monitor wrote");
    assert!(staged_ever.is_empty(), "{staged_ever:?}");
}

/// See: issue 23: status files committed while a monitor runs were overwritten when it ended
/// (the tracked check ran once, at start).
#[test]
fn a_status_file_committed_while_the_monitor_runs_is_never_written() {
    let app = restless_app();
    let deploy = short_run(&app);
    let sha = deploy.sha.clone();
    let running = deploy.spawn_monitor(&sha);
    let log = deploy
        .repo
        .join(format!(".deployment-status-{}.log", &sha[..7]));
    wait_until("the monitor logs", || log.exists());
    let result = deploy
        .repo
        .join(format!(".deployment-status-{}.result", &sha[..7]));
    write(&result, "forged\n");
    deploy.sandbox.git(
        &deploy.repo,
        &["add", "-f", result.to_str().expect("utf-8")],
    );
    deploy.sandbox.git(
        &deploy.repo,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-q",
            "-m",
            "forge",
        ],
    );
    running.wait();
    assert_eq!(read(&result), "forged\n");
}
