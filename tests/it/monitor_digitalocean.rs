//! The DigitalOcean source against a local server speaking the App Platform API v2's documented
//! formats: scripted phase timelines, throttling, server errors, garbage, slowness, superseded
//! deployments and log URLs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::http::{Reply, Request, Server};
use crate::monitor::{Deploy, FAST};

const TOKEN: &str = "dop_v1_testtoken123";
const LIST: &str = "/v2/apps/app-1/deployments";

/// One deployment object; `commit` goes in `cause_details` unless `via_services`.
fn deployment(id: &str, commit: &str, phase: &str, via_services: bool) -> String {
    let cause = if via_services {
        format!(r#""services":[{{"name":"web","source_commit_hash":"{commit}"}}]"#)
    } else {
        format!(r#""cause_details":{{"type":"GIT_PUSH","git_push":{{"commit_sha":"{commit}"}}}}"#)
    };
    format!(
        r#"{{"id":"{id}","phase":"{phase}",{cause},"created_at":"2026-11-23T10:00:00Z","phase_last_updated_at":"2026-11-23T10:04:00Z","progress":{{"steps":[]}}}}"#
    )
}

fn list(deployments: &[String]) -> String {
    format!(
        r#"{{"deployments":[{}],"links":{{}},"meta":{{"total":{}}}}}"#,
        deployments.join(","),
        deployments.len()
    )
}

/// An API whose deployment listing answers from `script` in turn (the last reply repeats);
/// `other` answers every other path.
fn api(script: Vec<Reply>, other: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Server {
    let calls = AtomicUsize::new(0);
    let script = Mutex::new(script);
    Server::start(move |r| {
        if r.path() != LIST {
            return other(r);
        }
        let n = calls.fetch_add(1, Ordering::SeqCst);
        let script = script.lock().expect("script");
        match &script[n.min(script.len() - 1)] {
            Reply::Full(status, headers, body) => {
                Reply::Full(*status, headers.clone(), body.clone())
            }
            Reply::Hang(d) => Reply::Hang(*d),
            Reply::Drip { length, every } => Reply::Drip {
                length: *length,
                every: *every,
            },
        }
    })
}

fn no_other(_: &Request) -> Reply {
    Reply::json(404, r#"{"id":"not_found"}"#)
}

/// Points `deploy`'s monitor at `server` and hands it the token.
fn configure(deploy: Deploy, server: &Server) -> Deploy {
    let config = format!(
        "{FAST}\n[deploy.digitalocean]\napp_id = \"app-1\"\napi_base = \"{}\"\n",
        server.url("")
    );
    std::fs::write(deploy.repo.join(".mainstay.toml"), config).expect("write config");
    deploy
        .with_env("DIGITALOCEAN_TOKEN", TOKEN)
        .with_env("MAINSTAY_API_HOSTS", &server.host())
}

/// A deployment whose listing is scripted: not listed, then each phase in turn.
fn scripted(phases: &[&str], via_services: bool) -> (Deploy, Server) {
    let deploy = Deploy::new("");
    let mut script = vec![Reply::json(200, list(&[]))];
    for phase in phases {
        script.push(Reply::json(
            200,
            list(&[deployment("d-1", &deploy.sha, phase, via_services)]),
        ));
    }
    let server = api(script, no_other);
    (configure(deploy, &server), server)
}

fn assert_no_token(deploy: &Deploy) {
    for ext in ["log", "result", "json"] {
        assert!(
            !deploy.file(ext).contains(TOKEN),
            ".{ext}:\n{}",
            deploy.file(ext)
        );
    }
}

#[test]
fn a_phase_timeline_to_active() {
    let phases = [
        "PENDING_BUILD",
        "BUILDING",
        "PENDING_DEPLOY",
        "DEPLOYING",
        "ACTIVE",
    ];
    let (deploy, server) = scripted(&phases, false);
    assert_eq!(deploy.run(), "success");
    let log = deploy.log();
    for seen in [
        "not listed yet",
        "PENDING_BUILD",
        "BUILDING",
        "PENDING_DEPLOY",
        "DEPLOYING",
    ] {
        assert!(
            log.contains(&format!("digitalocean: {seen}")),
            "{seen}: {log}"
        );
    }
    let requests = server.requests();
    assert!(requests.iter().all(|r| r.method == "GET"));
    let bearer = format!("Bearer {TOKEN}");
    assert!(
        requests
            .iter()
            .all(|r| r.header("authorization") == Some(bearer.as_str()))
    );
    assert_no_token(&deploy);
}

#[test]
fn found_by_the_services_source_commit() {
    let (deploy, _server) = scripted(&["BUILDING", "ACTIVE"], true);
    assert_eq!(deploy.run(), "success");
}

#[test]
fn throttled_429_is_retried_after_retry_after() {
    let shell = Deploy::new("");
    let active = list(&[deployment("d-1", &shell.sha, "ACTIVE", false)]);
    let throttled = Reply::Full(429, vec![("retry-after", "1".to_owned())], "{}".to_owned());
    let server = api(vec![throttled, Reply::json(200, active)], no_other);
    let deploy = configure(shell, &server);
    assert_eq!(deploy.run(), "success");
    assert_eq!(server.count(LIST), 2);
    assert_eq!(deploy.record()["polls"], 1, "the retry is inside one poll");
}

#[test]
fn server_errors_are_retried() {
    let shell = Deploy::new("");
    let active = list(&[deployment("d-1", &shell.sha, "ACTIVE", false)]);
    let script = vec![
        Reply::json(502, "bad gateway"),
        Reply::json(503, "{}"),
        Reply::json(200, active),
    ];
    let server = api(script, no_other);
    let deploy = configure(shell, &server);
    assert_eq!(deploy.run(), "success");
    assert_eq!(server.count(LIST), 3);
}

#[test]
fn garbage_json_is_logged_and_polling_goes_on() {
    let shell = Deploy::new("");
    let active = list(&[deployment("d-1", &shell.sha, "ACTIVE", false)]);
    let script = vec![Reply::json(200, "<html>oops"), Reply::json(200, active)];
    let server = api(script, no_other);
    let deploy = configure(shell, &server);
    assert_eq!(deploy.run(), "success");
    assert!(
        deploy.log().contains("unreadable answer"),
        "{}",
        deploy.log()
    );
}

#[test]
fn slow_responses_time_out_and_polling_goes_on() {
    let shell = Deploy::new("");
    let active = list(&[deployment("d-1", &shell.sha, "ACTIVE", false)]);
    let script = vec![
        Reply::Hang(Duration::from_secs(2)),
        Reply::json(200, active),
    ];
    let server = api(script, no_other);
    let deploy = configure(shell, &server);
    assert_eq!(deploy.run(), "success");
    assert!(server.count(LIST) >= 2);
}

#[test]
fn superseded_by_a_commit_that_contains_this_one_is_followed() {
    let shell = Deploy::new("");
    let sha = shell.sha.clone();
    let newer = shell
        .sandbox
        .commit(&shell.repo, "next.txt", "next\n", "next");
    let mine = deployment("d-1", &sha, "SUPERSEDED", false);
    let script = vec![
        Reply::json(
            200,
            list(&[deployment("d-2", &newer, "BUILDING", false), mine.clone()]),
        ),
        Reply::json(
            200,
            list(&[deployment("d-2", &newer, "ACTIVE", false), mine]),
        ),
    ];
    let server = api(script, no_other);
    let deploy = configure(shell, &server);
    let out = deploy
        .command(&["monitor", &sha])
        .output()
        .expect("monitor");
    assert!(out.status.success());
    assert_eq!(deploy.result(), "success");
    assert!(
        deploy
            .log()
            .contains("which contains this commit; following it"),
        "{}",
        deploy.log()
    );
}

#[test]
fn superseded_by_an_unrelated_commit_is_the_verdict() {
    let shell = Deploy::new("");
    let other = "9999999999999999999999999999999999999999";
    let script = vec![Reply::json(
        200,
        list(&[
            deployment("d-2", other, "ACTIVE", false),
            deployment("d-1", &shell.sha, "SUPERSEDED", false),
        ]),
    )];
    let server = api(script, no_other);
    let deploy = configure(shell, &server);
    assert_eq!(deploy.run(), "superseded");
    let out = deploy.status(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("superseded: superseded by deployment d-2 of 9999999")
    );
}

#[test]
fn an_error_brings_failed_steps_and_log_tails() {
    let shell = Deploy::new("");
    let failed = format!(
        r#"{{"deployments":[{{"id":"d-1","phase":"ERROR","cause_details":{{"git_push":{{"commit_sha":"{}"}}}},
        "progress":{{"steps":[{{"name":"build","status":"ERROR","steps":[{{"name":"buildpack","status":"ERROR",
        "reason":{{"code":"BuildJobExitNonZero","message":"the build exited with 1"}}}}]}}]}}}}]}}"#,
        shell.sha
    );
    let base = Arc::new(Mutex::new(String::new()));
    let base_in = base.clone();
    let server = api(vec![Reply::json(200, failed)], move |r| {
        let base = base_in.lock().expect("base").clone();
        match (r.path(), r.target.contains("type=BUILD")) {
            ("/v2/apps/app-1/deployments/d-1/logs", true) => Reply::json(
                200,
                format!(r#"{{"historic_urls":["{base}/logs/build.txt?X-Amz-Signature=abc"]}}"#),
            ),
            ("/v2/apps/app-1/deployments/d-1/logs", false) => {
                Reply::json(200, format!(r#"{{"live_url":"{base}/logs/deploy.txt"}}"#))
            }
            ("/logs/build.txt", _) => {
                let text: String = (1..=30).map(|i| format!("build line {i}\n")).collect();
                Reply::Full(200, Vec::new(), text)
            }
            ("/logs/deploy.txt", _) => {
                Reply::Full(200, Vec::new(), "deploy never started\n".to_owned())
            }
            _ => no_other(r),
        }
    });
    *base.lock().expect("base") = server.url("");
    let deploy = configure(shell, &server);
    assert_eq!(deploy.run(), "failed");
    let log = deploy.log();
    assert!(
        log.contains("step buildpack failed: the build exited with 1 (BuildJobExitNonZero)"),
        "{log}"
    );
    assert!(
        log.contains("build line 30") && log.contains("build line 11"),
        "{log}"
    );
    assert!(!log.contains("build line 10\n"), "{log}");
    assert!(log.contains("deploy never started"), "{log}");
    assert!(!log.contains("X-Amz-Signature"), "{log}");
    let to_logs: Vec<Request> = server
        .requests()
        .into_iter()
        .filter(|r| r.path().starts_with("/logs/"))
        .collect();
    assert_eq!(to_logs.len(), 2);
    assert!(
        to_logs.iter().all(|r| r.header("authorization").is_none()),
        "the token stays with the API"
    );
}

#[test]
fn a_refused_token_ends_the_source_with_a_clear_message() {
    let server = api(vec![Reply::json(401, r#"{"id":"unauthorized"}"#)], no_other);
    let deploy = configure(Deploy::new(""), &server);
    assert_eq!(deploy.run(), "failed");
    let log = deploy.log();
    assert!(
        log.contains("HTTP 401: DIGITALOCEAN_TOKEN is refused"),
        "{log}"
    );
    assert!(log.contains("digitalocean is no longer asked"), "{log}");
    assert_eq!(server.count(LIST), 1, "not retried");
    assert_no_token(&deploy);
}

#[test]
fn an_unknown_app_ends_the_source_with_a_clear_message() {
    let server = api(vec![Reply::json(404, r#"{"id":"not_found"}"#)], no_other);
    let deploy = configure(Deploy::new(""), &server);
    assert_eq!(deploy.run(), "failed");
    assert!(
        deploy.log().contains("no such app; check app_id"),
        "{}",
        deploy.log()
    );
}

#[test]
fn a_missing_token_is_named() {
    let server = api(vec![Reply::json(200, list(&[]))], no_other);
    let deploy = configure(Deploy::new(""), &server);
    let deploy = Deploy {
        env: Vec::new(),
        ..deploy
    };
    assert_eq!(deploy.run(), "failed");
    assert!(
        deploy.log().contains("DIGITALOCEAN_TOKEN is not set"),
        "{}",
        deploy.log()
    );
    assert_eq!(server.requests().len(), 0);
}

#[test]
fn ratelimit_remaining_zero_holds_requests_until_the_reset() {
    let shell = Deploy::new("");
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after the epoch")
        .as_secs()
        + 2;
    let exhausted = Reply::Full(
        200,
        vec![
            ("ratelimit-remaining", "0".to_owned()),
            ("ratelimit-reset", reset.to_string()),
        ],
        list(&[]),
    );
    let active = list(&[deployment("d-1", &shell.sha, "ACTIVE", false)]);
    let server = api(vec![exhausted, Reply::json(200, active)], no_other);
    let deploy = configure(shell, &server);
    assert_eq!(deploy.run(), "success");
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "no request while the limit is spent");
    assert!(
        requests[1].at >= std::time::UNIX_EPOCH + Duration::from_secs(reset),
        "asked again before the reset"
    );
    let polls = deploy.record()["polls"].as_u64().expect("polls");
    assert!(polls > 2, "polls went on from what was last seen: {polls}");
}

/// A finished deployment of another commit that took `secs` seconds, by its steps' end.
fn finished(id: &str, commit: &str, secs: u32) -> String {
    format!(
        r#"{{"id":"{id}","phase":"SUPERSEDED","cause_details":{{"git_push":{{"commit_sha":"{commit}"}}}},
        "created_at":"2026-11-23T09:00:00Z","progress":{{"success_steps":2,"total_steps":2,"steps":[
        {{"name":"build","status":"SUCCESS","ended_at":"2026-11-23T09:00:01Z"}},
        {{"name":"deploy","status":"SUCCESS","ended_at":"2026-11-23T09:00:0{secs}Z"}}]}}}}"#
    )
}

#[test]
fn history_from_the_apis_timestamps_picks_the_schedule_and_steps_are_followed() {
    let shell = Deploy::new("");
    let past = [
        finished("d-3", &"3".repeat(40), 2),
        finished("d-2", &"2".repeat(40), 3),
        finished("d-1", &"1".repeat(40), 2),
    ];
    let building = format!(
        r#"{{"id":"d-4","phase":"BUILDING","cause_details":{{"git_push":{{"commit_sha":"{}"}}}},
        "progress":{{"success_steps":1,"total_steps":3,"steps":[{{"name":"initialize","status":"SUCCESS"}},
        {{"name":"build","status":"RUNNING"}},{{"name":"deploy","status":"PENDING"}}]}}}}"#,
        shell.sha
    );
    let listing = |mine: String| {
        let mut all = vec![mine];
        all.extend(past.iter().cloned());
        Reply::json(200, list(&all))
    };
    let script = vec![
        listing(building),
        listing(deployment("d-4", &shell.sha, "ACTIVE", false)),
    ];
    let server = api(script, no_other);
    let deploy = configure(shell, &server);
    let config = std::fs::read_to_string(deploy.repo.join(".mainstay.toml")).expect("config");
    std::fs::write(
        deploy.repo.join(".mainstay.toml"),
        config.replace("schedule = \"fixed\"", "schedule = \"history\""),
    )
    .expect("config");
    assert_eq!(deploy.run(), "success");
    let log = deploy.log();
    assert!(
        log.contains("schedule: history: estimated 2.0s ± ")
            && log.contains(" from 3 past deployments"),
        "{log}"
    );
    assert!(
        log.contains("digitalocean: BUILDING (1/3 steps, build)"),
        "{log}"
    );
    assert_eq!(
        server.count(LIST),
        2,
        "the history's listing served the first poll"
    );
}

/// The app source beside the API, both asked every round.
fn with_app(app: &crate::monitor::App, server: &Server, deploy: Deploy) -> Deploy {
    let config = format!(
        "{}\n[deploy.digitalocean]\napp_id = \"app-1\"\napi_base = \"{}\"\n",
        app.config(None, "1s"),
        server.url("")
    );
    std::fs::write(deploy.repo.join(".mainstay.toml"), config).expect("write config");
    deploy
        .with_env("DIGITALOCEAN_TOKEN", TOKEN)
        .with_env("MAINSTAY_API_HOSTS", &server.host())
}

#[test]
fn a_failure_the_api_sees_beats_an_app_still_serving_the_old_commit() {
    let app = crate::monitor::App::start(&"7".repeat(40), vec![200]);
    let shell = Deploy::new("");
    let failed = list(&[deployment("d-1", &shell.sha, "ERROR", false)]);
    let server = api(vec![Reply::json(200, failed)], no_other);
    let deploy = with_app(&app, &server, shell);
    assert_eq!(deploy.run(), "failed");
    assert_eq!(deploy.record()["source"], "digitalocean");
    assert!(deploy.log().contains("app: app serves 777777777777"));
}

#[test]
fn an_app_serving_the_commit_beats_an_api_still_deploying() {
    let shell = Deploy::new("");
    let app = crate::monitor::App::start(&shell.sha, vec![200]);
    let deploying = list(&[deployment("d-1", &shell.sha, "DEPLOYING", false)]);
    let server = api(vec![Reply::json(200, deploying)], no_other);
    let deploy = with_app(&app, &server, shell);
    assert_eq!(deploy.run(), "success");
    assert_eq!(deploy.record()["source"], "app");
}

/// A commit with no deployment of its own (or a cancelled one), and a newer commit that
/// contains it: the monitor of the first ends `success`, live via the newer one.
fn live_via_a_newer_deployment(own: Option<&str>) -> Deploy {
    let shell = Deploy::new("");
    let sha = shell.sha.clone();
    let newer = shell
        .sandbox
        .commit(&shell.repo, "next.txt", "next\n", "next");
    let mut building = vec![deployment("d-2", &newer, "BUILDING", false)];
    let mut active = vec![deployment("d-2", &newer, "ACTIVE", false)];
    if let Some(phase) = own {
        building.push(deployment("d-1", &sha, phase, false));
        active.push(deployment("d-1", &sha, phase, false));
    }
    let script = vec![
        Reply::json(200, list(&building)),
        Reply::json(200, list(&active)),
    ];
    let server = api(script, no_other);
    let deploy = configure(shell, &server);
    let out = deploy
        .command(&["monitor", &sha])
        .output()
        .expect("monitor");
    assert!(out.status.success());
    assert_eq!(deploy.result(), "success", "{}", deploy.log());
    assert_eq!(deploy.record()["live_through"], newer.as_str());
    deploy
}

/// See: issue 23, "live via a newer deploy".
#[test]
fn a_commit_without_its_own_deployment_is_live_via_a_newer_one() {
    let deploy = live_via_a_newer_deployment(None);
    assert!(
        deploy.log().contains("no deployment of its own"),
        "{}",
        deploy.log()
    );
}

/// See: issue 23: `CANCELED` by a newer push was reported `failed: was canceled`.
#[test]
fn a_deployment_canceled_by_a_newer_push_is_live_via_it() {
    let deploy = live_via_a_newer_deployment(Some("CANCELED"));
    let log = deploy.log();
    assert!(!log.contains("failed"), "{log}");
    assert!(
        log.contains("d-1 was canceled; superseded by deployment d-2"),
        "{log}"
    );
}

#[test]
fn a_cancellation_replaced_by_an_unrelated_deployment_is_superseded() {
    let shell = Deploy::new("");
    let other = "9999999999999999999999999999999999999999";
    let script = vec![Reply::json(
        200,
        list(&[
            deployment("d-2", other, "ACTIVE", false),
            deployment("d-1", &shell.sha, "CANCELED", false),
        ]),
    )];
    let server = api(script, no_other);
    let deploy = configure(shell, &server);
    assert_eq!(deploy.run(), "superseded");
    // Asked from a clone without a monitor: the cancellation alone is the answer.
    let out = deploy.status(&[]);
    assert_eq!(out.status.code(), Some(1));
}

/// See: issue 23: a deployment not caused by a push, of a static site (no services).
#[test]
fn a_static_site_deployment_not_caused_by_a_push_is_found() {
    let shell = Deploy::new("");
    let site = format!(
        r#"{{"id":"d-1","phase":"ACTIVE","cause":"manual","static_sites":[{{"name":"web","source_commit_hash":"{}"}}],"created_at":"2026-11-23T10:00:00Z","progress":{{"steps":[]}}}}"#,
        shell.sha
    );
    let server = api(vec![Reply::json(200, list(&[site]))], no_other);
    let deploy = configure(shell, &server);
    assert_eq!(deploy.run(), "success");
}

/// See: issue 23: `status --json` printed C1 control characters (U+009B) raw; bidirectional
/// overrides reorder what a terminal shows.
#[test]
fn no_control_or_bidi_character_reaches_status_output() {
    let shell = Deploy::new("");
    let failed = format!(
        r#"{{"deployments":[{{"id":"d-1","phase":"ERROR","cause_details":{{"git_push":{{"commit_sha":"{}"}}}},
        "progress":{{"steps":[{{"name":"build","status":"ERROR",
        "reason":{{"code":"X","message":"bad \u009b31m red \u202e txt.exe \u2066 \u001b[2J"}}}}]}}}}]}}"#,
        shell.sha
    );
    let server = api(vec![Reply::json(200, failed)], no_other);
    let deploy = configure(shell, &server);
    assert_eq!(deploy.run(), "failed");
    for args in [&["--json"][..], &[][..]] {
        let out = deploy.status(args);
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains("red"), "{said}");
        for bad in ['\u{9b}', '\u{202e}', '\u{2066}', '\u{1b}'] {
            assert!(!said.contains(bad), "{args:?}: {bad:?} in {said:?}");
        }
    }
}
