//! The GitHub source as the real `mainstay monitor <sha>` runs it, against a local server
//! speaking GitHub's REST API ([`crate::github`]): deployments and their statuses on a
//! timeline, environments side by side, conditional requests, rate limits, refusals, commit
//! statuses and check runs.

use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::github::{
    GitHub, PREVIEW, PRODUCTION, TOKEN, check_run, commit_status, status, status_at,
};
use crate::http::{Reply, Request, Server};
use crate::monitor::{Deploy, FAST};
use crate::util::describe;

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// A repository whose monitor follows `github` with the token in `GITHUB_TOKEN`.
fn deploy_with(github: &GitHub, extra: &str) -> Deploy {
    Deploy::new(&github.config(FAST, extra))
        .with_env("GITHUB_TOKEN", TOKEN)
        .with_env("MAINSTAY_API_HOSTS", &github.server.host())
}

/// Writes the configuration again, for a deployment set up after the repository.
fn configure(deploy: &Deploy, github: &GitHub, before: &str, extra: &str) {
    std::fs::write(
        deploy.repo.join(".mainstay.toml"),
        github.config(before, extra),
    )
    .expect("write the configuration");
}

/// Every file under `dir` that holds `secret`.
fn files_holding(dir: &Path, secret: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("list a directory").flatten() {
            let path = entry.path();
            let kind = entry.file_type().expect("a file type");
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                let bytes = std::fs::read(&path).unwrap_or_default();
                if String::from_utf8_lossy(&bytes).contains(secret) {
                    found.push(path.display().to_string());
                }
            }
        }
    }
    found
}

fn assert_api_requests(requests: &[Request], token: &str) {
    assert!(!requests.is_empty());
    for r in requests {
        assert_eq!(r.method, "GET");
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {token}").as_str()),
            "{}",
            r.target
        );
        assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
        assert_eq!(r.header("x-github-api-version"), Some("2022-11-28"));
    }
}

#[test]
fn a_production_deployment_from_queued_to_success() {
    let github = GitHub::start();
    let deploy = deploy_with(&github, "");
    let mut live = status("success", "Deployment has completed");
    live["environment_url"] = json!("https://web-abc123.vercel.app");
    github.deploy(
        7,
        &deploy.sha,
        PRODUCTION,
        ms(0),
        vec![
            (ms(0), status("queued", "")),
            (ms(120), status("in_progress", "Building")),
            (ms(300), live),
        ],
    );
    assert_eq!(deploy.run(), "success");
    let log = deploy.log();
    for seen in ["github: queued", "github: in_progress", "github: live"] {
        assert!(log.contains(seen), "{seen}: {log}");
    }
    assert!(
        log.contains("github:   environment_url: https://web-abc123.vercel.app"),
        "{log}"
    );
    assert_eq!(deploy.record()["source"], "github");
    assert_api_requests(&github.requests(), TOKEN);
    let statuses = github
        .server
        .count("/repos/acme/web/deployments/7/statuses");
    assert!(statuses >= 2, "{statuses}");
}

#[test]
fn a_failure_brings_its_description_and_log() {
    let github = GitHub::start();
    let deploy = deploy_with(&github, "");
    let mut failed = status("failure", "Build failed: `npm run build` exited with 1");
    failed["log_url"] = json!("https://vercel.com/acme/web/Fk3x9?via=gh");
    github.deploy(
        7,
        &deploy.sha,
        PRODUCTION,
        ms(0),
        vec![(ms(0), status("in_progress", "")), (ms(150), failed)],
    );
    assert_eq!(deploy.run(), "failed");
    let log = deploy.log();
    assert!(
        log.contains("github: failed: Build failed: `npm run build` exited with 1"),
        "{log}"
    );
    assert!(
        log.contains("log: https://vercel.com/acme/web/Fk3x9"),
        "{log}"
    );
    assert!(!log.contains("via=gh"), "no query string in the log: {log}");
    let out = deploy.status(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("failed: Build failed"),
        "{}",
        describe("status", &deploy.repo, &out)
    );
}

/// A Preview deployment of the same sha, newer than the Production one so that it is listed
/// first, fails; the environment followed succeeds.
fn production_and_a_newer_failing_preview(github: &GitHub, sha: &str) {
    github.deploy(
        1,
        sha,
        PRODUCTION,
        ms(0),
        vec![
            (ms(0), status("in_progress", "")),
            (ms(300), status("success", "")),
        ],
    );
    github.deploy(
        2,
        sha,
        PREVIEW,
        ms(0),
        vec![
            (ms(0), status("in_progress", "")),
            (ms(20), status("failure", "Preview build failed")),
        ],
    );
}

/// The listings the monitor asked for.
fn listings(github: &GitHub) -> Vec<String> {
    github
        .requests()
        .into_iter()
        .filter(|r| r.path() == "/repos/acme/web/deployments")
        .map(|r| r.target)
        .collect()
}

#[test]
fn production_is_followed_while_a_preview_of_the_same_sha_fails() {
    let github = GitHub::start();
    let deploy = deploy_with(&github, "");
    production_and_a_newer_failing_preview(&github, &deploy.sha);
    assert_eq!(deploy.run(), "success");
    let log = deploy.log();
    assert!(!log.contains("Preview build failed"), "{log}");
    assert_eq!(
        github
            .server
            .count("/repos/acme/web/deployments/2/statuses"),
        0,
        "the Preview deployment is never asked about"
    );
    // By sha alone, the environment matched here: GitHub's environment filter is case-sensitive.
    let lists = listings(&github);
    assert!(
        !lists.is_empty()
            && lists.iter().all(|target| {
                target.contains(&format!("sha={}", deploy.sha)) && !target.contains("environment=")
            }),
        "{lists:?}"
    );
}

#[test]
fn a_glob_environment_follows_production_past_a_newer_preview() {
    let github = GitHub::start();
    let config = github.config(FAST, "").replace(
        &format!("environment = \"{PRODUCTION}\""),
        "environment = \"production*\"",
    );
    let deploy = Deploy::new(&config)
        .with_env("GITHUB_TOKEN", TOKEN)
        .with_env("MAINSTAY_API_HOSTS", &github.server.host());
    production_and_a_newer_failing_preview(&github, &deploy.sha);
    assert_eq!(deploy.run(), "success");
    assert!(
        !deploy.log().contains("Preview build failed"),
        "{}",
        deploy.log()
    );
    assert_eq!(
        github
            .server
            .count("/repos/acme/web/deployments/2/statuses"),
        0
    );
}

#[test]
fn an_exact_environment_is_matched_regardless_of_case() {
    let github = GitHub::start();
    // GitHub's `environment=` filter would find nothing for this spelling.
    let config = github.config(FAST, "").replace(
        &format!("environment = \"{PRODUCTION}\""),
        &format!("environment = \"{}\"", PRODUCTION.to_lowercase()),
    );
    let deploy = Deploy::new(&config)
        .with_env("GITHUB_TOKEN", TOKEN)
        .with_env("MAINSTAY_API_HOSTS", &github.server.host());
    production_and_a_newer_failing_preview(&github, &deploy.sha);
    assert_eq!(deploy.run(), "success");
    assert!(deploy.log().contains("github: live"), "{}", deploy.log());
}

#[test]
fn a_deployment_listed_late_is_waited_for() {
    let github = GitHub::start();
    let deploy = deploy_with(&github, "");
    github.deploy(
        7,
        &deploy.sha,
        PRODUCTION,
        ms(400),
        vec![(ms(400), status("success", ""))],
    );
    assert_eq!(deploy.run(), "success");
    let log = deploy.log();
    let unseen = log
        .find("github: not listed yet")
        .expect("not listed at first");
    assert!(log[unseen..].contains("github: live"), "{log}");
    assert!(github.server.count("/repos/acme/web/deployments") >= 2);
}

#[test]
fn repeated_polls_are_conditional_and_answered_304() {
    let github = GitHub::start();
    let deploy = deploy_with(&github, "");
    github.deploy(
        7,
        &deploy.sha,
        PRODUCTION,
        ms(0),
        vec![
            (ms(0), status("in_progress", "")),
            (ms(500), status("success", "")),
        ],
    );
    assert_eq!(deploy.run(), "success");
    let requests = github.requests();
    let not_modified = github.server.answered(304);
    assert!(
        not_modified >= 3,
        "{not_modified} 304s in {} requests",
        requests.len()
    );
    // Every request after the first to a URL names the etag it was last given.
    let mut seen: Vec<&str> = Vec::new();
    for r in &requests {
        if seen.contains(&r.target.as_str()) {
            let tag = r.header("if-none-match").unwrap_or_default();
            assert!(tag.starts_with("W/\""), "{}: {tag:?}", r.target);
        } else {
            assert_eq!(r.header("if-none-match"), None, "{}", r.target);
            seen.push(&r.target);
        }
    }
    let polls = deploy.record()["polls"].as_u64().expect("polls");
    assert!(
        github.server.answered(200) < requests.len(),
        "{polls} polls, every answer a full one"
    );
}

#[test]
fn a_spent_rate_limit_holds_requests_until_the_reset() {
    let github = GitHub::start();
    let deploy = deploy_with(&github, "");
    let reset = std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after the epoch")
        .as_secs()
        + 2;
    {
        let mut state = github.state.lock().expect("state");
        // The listing and one statuses answer; the second spends the limit.
        state.remaining = 2;
        state.reset = reset;
    }
    github.deploy(
        7,
        &deploy.sha,
        PRODUCTION,
        ms(0),
        vec![
            (ms(0), status("in_progress", "")),
            (ms(100), status("success", "")),
        ],
    );
    assert_eq!(deploy.run(), "success");
    let requests = github.requests();
    assert_eq!(github.server.answered(403), 0, "never asked while spent");
    let spent_at = requests[1].at;
    let next = &requests[2];
    assert!(
        next.at >= UNIX_EPOCH + Duration::from_secs(reset),
        "asked again {:?} after the limit was spent, before the reset",
        next.at.duration_since(spent_at)
    );
    assert!(
        deploy
            .log()
            .contains("rate limit reached (x-ratelimit-remaining: 0)"),
        "{}",
        deploy.log()
    );
}

#[test]
fn secondary_rate_limits_wait_retry_after() {
    let github = GitHub::start();
    let deploy = deploy_with(&github, "");
    github.script(|_, n| match n {
        1 => Some(Reply::Full(
            403,
            vec![("retry-after", "1".to_owned())],
            r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#.to_owned(),
        )),
        3 => Some(Reply::Full(
            429,
            vec![("retry-after", "1".to_owned())],
            r#"{"message":"Too many requests"}"#.to_owned(),
        )),
        _ => None,
    });
    github.deploy(
        7,
        &deploy.sha,
        PRODUCTION,
        ms(0),
        vec![
            (ms(0), status("in_progress", "")),
            (ms(2500), status("success", "")),
        ],
    );
    assert_eq!(deploy.run(), "success");
    let requests = github.requests();
    for limited in [1, 3] {
        let waited = requests[limited + 1]
            .at
            .duration_since(requests[limited].at)
            .expect("in order");
        assert!(waited >= Duration::from_secs(1), "{limited}: {waited:?}");
    }
    let log = deploy.log();
    assert!(
        log.contains("HTTP 403: rate limited; no request until"),
        "{log}"
    );
    assert!(log.contains("HTTP 429: rate limited"), "{log}");
}

#[test]
fn server_errors_are_retried_with_backoff() {
    let github = GitHub::start();
    let deploy = deploy_with(&github, "");
    github.script(|_, n| (n < 2).then(|| Reply::json(502, "<html>bad gateway</html>")));
    github.deploy(
        7,
        &deploy.sha,
        PRODUCTION,
        ms(0),
        vec![(ms(0), status("success", ""))],
    );
    assert_eq!(deploy.run(), "success");
    assert_eq!(
        deploy.record()["polls"],
        1,
        "the retries are inside one poll"
    );
    let requests = github.requests();
    let pause = requests[2]
        .at
        .duration_since(requests[1].at)
        .expect("in order");
    assert!(pause >= ms(400), "the second pause doubles: {pause:?}");
}

#[test]
fn a_secondary_rate_limit_without_retry_after_waits_a_minute() {
    let github = GitHub::start();
    let config = github
        .config(FAST, "")
        .replace("max_wait = \"20s\"", "max_wait = \"1500ms\"");
    let deploy = Deploy::new(&config)
        .with_env("GITHUB_TOKEN", TOKEN)
        .with_env("MAINSTAY_API_HOSTS", &github.server.host());
    github.script(|_, n| {
        (n == 1).then(|| {
            Reply::json(
                403,
                r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#,
            )
        })
    });
    github.deploy(
        7,
        &deploy.sha,
        PRODUCTION,
        ms(0),
        vec![(ms(0), status("in_progress", ""))],
    );
    assert_eq!(deploy.run(), "timeout");
    let requests = github.requests();
    assert_eq!(requests.len(), 2, "nothing asked while held");
    let log = deploy.log();
    let (_, until) = log
        .split_once("HTTP 403: rate limited; no request until ")
        .unwrap_or_else(|| panic!("{log}"));
    let until = mainstay::time::parse(&until[..24]).expect("a time");
    let held = until.duration_since(requests[1].at).expect("later");
    assert!(
        (Duration::from_secs(59)..=Duration::from_secs(61)).contains(&held),
        "{held:?}"
    );
    assert!(!log.contains("no longer asked"), "{log}");
}

#[test]
fn a_403_that_is_no_rate_limit_ends_the_source_with_what_to_fix() {
    let github = GitHub::start();
    let deploy = deploy_with(&github, "");
    github.script(|r, _| {
        r.path().ends_with("/statuses").then(|| {
            Reply::json(
                403,
                r#"{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest","status":"403"}"#,
            )
        })
    });
    github.deploy(
        7,
        &deploy.sha,
        PRODUCTION,
        ms(0),
        vec![(ms(0), status("success", ""))],
    );
    assert_eq!(deploy.run(), "failed");
    let log = deploy.log();
    assert!(
        log.contains(
            "HTTP 403: GITHUB_TOKEN may not read this (it needs read access to deployments"
        ) && log.contains("github is no longer asked"),
        "{log}"
    );
    assert_eq!(
        github
            .server
            .count("/repos/acme/web/deployments/7/statuses"),
        1,
        "not retried"
    );
}

#[test]
fn an_api_base_with_a_path_prefix_is_followed() {
    let github = GitHub::start();
    github.state.lock().expect("state").prefix = "/api/v3".to_owned();
    let config = github.config(FAST, "").replace(
        &format!("api_base = \"{}\"", github.server.url("")),
        &format!("api_base = \"{}/\"", github.server.url("/api/v3")),
    );
    let deploy = Deploy::new(&config)
        .with_env("GITHUB_TOKEN", TOKEN)
        .with_env("MAINSTAY_API_HOSTS", &github.server.host());
    github.deploy(
        7,
        &deploy.sha,
        PRODUCTION,
        ms(0),
        vec![(ms(0), status("success", ""))],
    );
    assert_eq!(deploy.run(), "success");
    let requests = github.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.path().starts_with("/api/v3/repos/acme/web/")),
        "{:?}",
        requests.iter().map(|r| &r.target).collect::<Vec<_>>()
    );
    assert_api_requests(&requests, TOKEN);
}

#[test]
fn a_refused_token_ends_the_source_with_what_to_fix() {
    let github = GitHub::start();
    let deploy = Deploy::new(&github.config(FAST, ""))
        .with_env("GITHUB_TOKEN", "ghp_revokedToken999")
        .with_env("MAINSTAY_API_HOSTS", &github.server.host());
    assert_eq!(deploy.run(), "failed");
    let log = deploy.log();
    assert!(
        log.contains("HTTP 401: GITHUB_TOKEN is refused (wrong or expired)"),
        "{log}"
    );
    assert!(log.contains("github is no longer asked"), "{log}");
    assert_eq!(github.requests().len(), 1, "not retried");
    assert!(!log.contains("ghp_revokedToken999"), "{log}");
}

#[test]
fn an_unknown_repository_ends_the_source_with_what_to_fix() {
    let github = GitHub::start();
    let config = github
        .config(FAST, "")
        .replace("repo = \"acme/web\"", "repo = \"acme/wbe\"");
    let deploy = Deploy::new(&config)
        .with_env("GITHUB_TOKEN", TOKEN)
        .with_env("MAINSTAY_API_HOSTS", &github.server.host());
    assert_eq!(deploy.run(), "failed");
    assert!(
        deploy
            .log()
            .contains("HTTP 404: not found; check repo in [deploy.github]"),
        "{}",
        deploy.log()
    );
}

#[test]
fn a_missing_token_is_named_and_nothing_is_sent() {
    let github = GitHub::start();
    let deploy =
        Deploy::new(&github.config(FAST, "")).with_env("MAINSTAY_API_HOSTS", &github.server.host());
    assert_eq!(deploy.run(), "failed");
    assert!(
        deploy
            .log()
            .contains("github: GITHUB_TOKEN (or GH_TOKEN) is not set in the environment"),
        "{}",
        deploy.log()
    );
    assert!(github.requests().is_empty());
}

#[test]
fn the_token_reaches_no_file_and_goes_with_every_api_request() {
    let github = GitHub::start();
    let webhook = Server::start(|_| Reply::json(200, "ok"));
    // GH_TOKEN, gh's name for it; and a server that echoes the token back in an error.
    let deploy = Deploy::new(&github.config(FAST, ""))
        .with_env("GH_TOKEN", TOKEN)
        .with_env("MAINSTAY_API_HOSTS", &github.server.host())
        .with_env("MAINSTAY_WEBHOOK_URL", &webhook.url("/hook"));
    let mut failed = status("error", &format!("could not authenticate with {TOKEN}"));
    failed["log_url"] = json!(format!("https://ci.example/log?token={TOKEN}"));
    github.deploy(
        7,
        &deploy.sha,
        PRODUCTION,
        ms(0),
        vec![(ms(0), status("queued", "")), (ms(100), failed)],
    );
    assert_eq!(deploy.run(), "failed");
    assert!(
        deploy.log().contains("could not authenticate with ***"),
        "{}",
        deploy.log()
    );
    let holding = files_holding(deploy.sandbox.path(), TOKEN);
    assert!(holding.is_empty(), "the token is in {holding:?}");
    let alerts = webhook.requests();
    assert_eq!(alerts.len(), 1);
    assert!(!alerts[0].body.contains(TOKEN), "{}", alerts[0].body);
    assert_api_requests(&github.requests(), TOKEN);
}

#[test]
fn a_skipped_duplicate_build_is_live() {
    let github = GitHub::start();
    let deploy = deploy_with(&github, "");
    let mut skipped = status("inactive", "Skipped – Not affected");
    skipped["environment_url"] = json!("https://web-previous.vercel.app");
    github.deploy(
        7,
        &deploy.sha,
        PRODUCTION,
        ms(0),
        vec![(ms(0), status("queued", "")), (ms(100), skipped)],
    );
    assert_eq!(deploy.run(), "success");
    let log = deploy.log();
    assert!(
        log.contains("github:   deployment 7 was skipped: Skipped – Not affected"),
        "{log}"
    );
    assert!(
        log.contains("environment_url: https://web-previous.vercel.app"),
        "{log}"
    );
}

#[test]
fn an_inactive_deployment_after_success_is_superseded_unless_the_newer_contains_it() {
    let github = GitHub::start();
    let deploy = deploy_with(&github, "");
    let sha = deploy.sha.clone();
    let replaced = vec![
        (ms(0), status("in_progress", "")),
        (ms(0), status("success", "")),
        (ms(0), status("inactive", "")),
    ];
    let other = "9".repeat(40);
    github.deploy(7, &sha, PRODUCTION, ms(0), replaced.clone());
    github.deploy(
        8,
        &other,
        PRODUCTION,
        ms(0),
        vec![(ms(0), status("success", ""))],
    );
    assert_eq!(deploy.run(), "superseded");
    assert!(
        deploy.log().contains(
            "github: superseded by deployment 8 of 9999999, which does not contain this commit"
        ),
        "{}",
        deploy.log()
    );

    // A newer commit that contains this one: its deployment is followed to its verdict.
    newer_deployment_containing_it(deploy, replaced);
}

/// Deploys a newer commit on top of `deploy`'s, after `first` for its own deployment (7), and
/// runs the monitor for the first: it must follow deployment 8 to success. Returns the monitored
/// clone and the newer commit.
fn newer_deployment_containing_it(
    deploy: Deploy,
    first: Vec<(Duration, Value)>,
) -> (Deploy, String) {
    let github = GitHub::start();
    let sha = deploy.sha.clone();
    let newer = deploy
        .sandbox
        .commit(&deploy.repo, "next.txt", "next\n", "next");
    github.deploy(7, &sha, PRODUCTION, ms(0), first);
    github.deploy(
        8,
        &newer,
        PRODUCTION,
        ms(0),
        vec![
            (ms(0), status("in_progress", "")),
            (ms(200), status("success", "")),
        ],
    );
    configure(&deploy, &github, FAST, "");
    let deploy = deploy.with_env("MAINSTAY_API_HOSTS", &github.server.host());
    let out = deploy
        .command(&["monitor", &sha])
        .output()
        .expect("monitor");
    assert!(
        out.status.success(),
        "{}",
        describe("monitor", &deploy.repo, &out)
    );
    assert_eq!(deploy.result(), "success");
    assert!(
        deploy
            .log()
            .contains("which contains this commit; following it"),
        "{}",
        deploy.log()
    );
    (deploy, newer)
}

#[test]
fn inactive_without_success_then_a_newer_deployment_is_not_a_skipped_build() {
    // A platform that marks a cancelled build inactive: it never deployed this commit.
    let cancelled = vec![
        (ms(0), status("queued", "")),
        (ms(0), status("inactive", "Canceled")),
    ];
    let github = GitHub::start();
    let deploy = deploy_with(&github, "");
    let sha = deploy.sha.clone();
    github.deploy(7, &sha, PRODUCTION, ms(0), cancelled.clone());
    let other = "9".repeat(40);
    github.deploy(
        8,
        &other,
        PRODUCTION,
        ms(0),
        vec![(ms(0), status("success", ""))],
    );
    assert_eq!(deploy.run(), "superseded");
    assert!(
        deploy.log().contains(
            "github: deployment 7 is inactive without a success; superseded by deployment 8 of \
             9999999, which does not contain this commit"
        ),
        "{}",
        deploy.log()
    );

    // The newer deployment's commit contains this one: followed, and live through it.
    let (deploy, newer) = newer_deployment_containing_it(deploy, cancelled);
    let log = deploy.log();
    assert!(
        log.contains(&format!("github: live via {}", &newer[..7])),
        "{log}"
    );
    assert_eq!(deploy.record()["live_through"], newer.as_str());
}

#[test]
fn commit_statuses_and_check_runs_are_followed_by_name() {
    let github = GitHub::start();
    let deploy = deploy_with(&github, "contexts = [\"ci/deploy\", \"Deploy to Fly\"]\n");
    {
        let mut state = github.state.lock().expect("state");
        let timed = |at, body| crate::github::Timed {
            sha: deploy.sha.clone(),
            at: ms(at),
            body,
        };
        state.commit_statuses.extend([
            timed(0, commit_status("ci/deploy", "pending", "Deploying")),
            timed(150, commit_status("ci/deploy", "success", "Deployed")),
            // Another context failing says nothing about these two.
            timed(0, commit_status("ci/lint", "failure", "lint failed")),
        ]);
        state.check_runs.extend([
            timed(0, check_run("Deploy to Fly", "in_progress", None, "")),
            timed(
                300,
                check_run("Deploy to Fly", "completed", Some("success"), "Deployed"),
            ),
        ]);
    }
    assert_eq!(deploy.run(), "success");
    let log = deploy.log();
    assert!(
        log.contains("github: ci/deploy: pending, Deploy to Fly: in_progress"),
        "{log}"
    );
    assert!(!log.contains("lint failed"), "{log}");
    assert!(
        log.contains("Deploy to Fly: success: https://fly.example/runs/9"),
        "{log}"
    );

    let github = GitHub::start();
    let failing = deploy_with(&github, "contexts = [\"Deploy to Fly\"]\n");
    github
        .state
        .lock()
        .expect("state")
        .check_runs
        .push(crate::github::Timed {
            sha: failing.sha.clone(),
            at: ms(0),
            body: check_run(
                "Deploy to Fly",
                "completed",
                Some("failure"),
                "flyctl deploy exited 1",
            ),
        });
    assert_eq!(failing.run(), "failed");
    let log = failing.log();
    assert!(
        log.contains("github: failed: Deploy to Fly: flyctl deploy exited 1"),
        "{log}"
    );
    assert!(log.contains("log: https://fly.example/runs/9"), "{log}");
}

#[test]
fn past_deployments_pick_the_history_schedule() {
    let github = GitHub::start();
    let history = FAST.replace("schedule = \"fixed\"", "schedule = \"history\"");
    let deploy = Deploy::new(&github.config(&history, ""))
        .with_env("GITHUB_TOKEN", TOKEN)
        .with_env("MAINSTAY_API_HOSTS", &github.server.host());
    // Three earlier deployments that took 2, 3 and 2 seconds from creation to success, one
    // that failed, and a Preview one.
    for (id, secs) in [(1, 2), (2, 3), (3, 2)] {
        let sha = format!("{id}").repeat(40);
        github.deploy(
            id,
            &sha,
            PRODUCTION,
            ms(0),
            vec![
                (ms(0), status_at("in_progress", "", "2026-12-01T09:00:00Z")),
                (
                    ms(0),
                    status_at("success", "", &format!("2026-12-01T09:00:0{secs}Z")),
                ),
                (ms(0), status_at("inactive", "", "2026-12-01T09:30:00Z")),
            ],
        );
        github.created_at(id, "2026-12-01T09:00:00Z");
    }
    github.deploy(
        4,
        &"4".repeat(40),
        PRODUCTION,
        ms(0),
        vec![(ms(0), status("failure", "x"))],
    );
    github.deploy(
        5,
        &"5".repeat(40),
        PREVIEW,
        ms(0),
        vec![(ms(0), status("success", ""))],
    );
    github.deploy(
        6,
        &deploy.sha,
        PRODUCTION,
        ms(0),
        vec![(ms(0), status("success", ""))],
    );
    assert_eq!(deploy.run(), "success");
    let log = deploy.log();
    assert!(
        log.contains("schedule: history: estimated 2.0s ± ")
            && log.contains("from 3 past deployments"),
        "{log}"
    );
    assert_eq!(
        github
            .server
            .count("/repos/acme/web/deployments/5/statuses"),
        0,
        "the Preview environment's history is not read"
    );
    assert_eq!(
        github.server.count("/repos/acme/web/deployments"),
        1,
        "the history's listing served the first poll"
    );
}

#[test]
fn a_token_quoted_by_an_error_reaches_neither_the_log_nor_stderr() {
    let github = GitHub::start();
    // The token pasted into the committed file by mistake: the error that quotes the value
    // must not spread it further.
    let deploy = deploy_with(&github, &format!("contexts = \"{TOKEN}\"\n"));
    let out = deploy.monitor();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        describe("monitor", &deploy.repo, &out)
    );
    let log = deploy.log();
    assert!(
        log.contains("error: ") && log.contains("key `deploy.github.contexts`"),
        "{log}"
    );
    assert!(log.contains("invalid type: string \"***\""), "{log}");
    assert!(!log.contains(TOKEN), "{log}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("key `deploy.github.contexts`"), "{stderr}");
    assert!(!stderr.contains(TOKEN), "{stderr}");
    assert!(github.requests().is_empty());
}

#[test]
fn ended_deployments_are_remembered_so_the_next_history_costs_one_request() {
    let github = GitHub::start();
    // The platform spells it "Production – web"; GitHub's environment filter is case-sensitive.
    let history = FAST.replace("schedule = \"fixed\"", "schedule = \"history\"");
    let config = github.config(&history, "").replace(
        &format!("environment = \"{PRODUCTION}\""),
        &format!("environment = \"{}\"", PRODUCTION.to_lowercase()),
    );
    let deploy = Deploy::new(&config)
        .with_env("GITHUB_TOKEN", TOKEN)
        .with_env("MAINSTAY_API_HOSTS", &github.server.host());
    let ended = |hour: u32, secs: u32| {
        vec![
            (
                ms(0),
                status_at("in_progress", "", &format!("2026-12-01T{hour:02}:00:00Z")),
            ),
            (
                ms(0),
                status_at("success", "", &format!("2026-12-01T{hour:02}:00:0{secs}Z")),
            ),
        ]
    };
    for (id, secs) in [(1, 2), (2, 3), (3, 2)] {
        github.deploy(
            id,
            &format!("{id}").repeat(40),
            PRODUCTION,
            ms(0),
            ended(9, secs),
        );
        github.created_at(id, "2026-12-01T09:00:00Z");
    }
    github.deploy(
        4,
        &deploy.sha,
        PRODUCTION,
        ms(0),
        vec![
            (ms(0), status_at("in_progress", "", "2026-12-01T10:00:00Z")),
            (ms(150), status_at("success", "", "2026-12-01T10:00:04Z")),
        ],
    );
    github.created_at(4, "2026-12-01T10:00:00Z");
    assert_eq!(deploy.run(), "success");
    assert!(
        deploy.log().contains("from 3 past deployments"),
        "the history is found under the platform's spelling: {}",
        deploy.log()
    );

    // The next push: its deployment is the only one whose statuses are not known.
    let next = deploy
        .sandbox
        .commit(&deploy.repo, "next.txt", "next\n", "next");
    github.deploy(5, &next, PRODUCTION, ms(0), ended(11, 3));
    github.created_at(5, "2026-12-01T11:00:00Z");
    let before = github.requests().len();
    let out = deploy
        .command(&["monitor", &next])
        .output()
        .expect("monitor");
    assert!(
        out.status.success(),
        "{}",
        describe("monitor", &deploy.repo, &out)
    );
    let log = crate::util::read(
        &deploy
            .repo
            .join(format!(".deployment-status-{}.log", &next[..7])),
    );
    assert!(log.contains("github: live"), "{log}");
    // The three, the first run's own (remembered at its end), and this one: it had ended.
    assert!(log.contains("from 5 past deployments"), "{log}");
    let asked: Vec<String> = github.requests()[before..]
        .iter()
        .map(|r| r.target.clone())
        .collect();
    assert_eq!(
        asked,
        [
            "/repos/acme/web/deployments?per_page=20&environment=Production%20%E2%80%93%20web"
                .to_owned(),
            "/repos/acme/web/deployments/5/statuses?per_page=100".to_owned(),
        ],
        "the listing, and the new deployment's statuses, which the first poll reads"
    );
    let remembered = crate::util::read(
        &deploy
            .sandbox
            .common_dir(&deploy.repo)
            .join("mainstay/history-github.json"),
    );
    assert!(remembered.contains("\"id\":4"), "{remembered}");
    assert!(!remembered.contains(TOKEN));
}

/// A commit with `own` as its deployment's statuses (none: no deployment of its own) and a
/// child commit whose deployment goes live: the first's monitor ends live via the child.
fn live_via_a_child(own: Option<Vec<(Duration, Value)>>) -> Deploy {
    let github = GitHub::start();
    let deploy = deploy_with(&github, "");
    let sha = deploy.sha.clone();
    let child = deploy
        .sandbox
        .commit(&deploy.repo, "next.txt", "next\n", "next");
    if let Some(own) = own {
        github.deploy(7, &sha, PRODUCTION, ms(0), own);
    }
    github.deploy(
        8,
        &child,
        PRODUCTION,
        ms(100),
        vec![
            (ms(0), status("in_progress", "")),
            (ms(300), status("success", "")),
        ],
    );
    let out = deploy
        .command(&["monitor", &sha])
        .output()
        .expect("monitor");
    assert!(
        out.status.success(),
        "{}",
        describe("monitor", &deploy.repo, &out)
    );
    assert_eq!(deploy.result(), "success", "{}", deploy.log());
    assert_eq!(deploy.record()["live_through"], child.as_str());
    assert!(
        deploy
            .log()
            .contains(&format!("github: live via {}", &child[..7])),
        "{}",
        deploy.log()
    );
    deploy
}

/// See: issue 23: A with no deployment, B (a child of A) live, ended `timeout`.
#[test]
fn a_commit_without_its_own_deployment_is_live_via_a_newer_one() {
    let deploy = live_via_a_child(None);
    assert!(deploy.log().contains("not listed yet"), "{}", deploy.log());
}

/// See: issue 23: `error` "Canceled: a newer commit was pushed" was reported `failed`.
#[test]
fn a_build_canceled_by_a_newer_push_is_live_via_it() {
    let deploy = live_via_a_child(Some(vec![
        (ms(0), status("queued", "")),
        (
            ms(0),
            status("error", "Canceled: a newer commit was pushed"),
        ),
    ]));
    let log = deploy.log();
    assert!(!log.contains("github: failed"), "{log}");
    assert!(log.contains("deployment 7 was canceled"), "{log}");
}

#[test]
fn a_failed_build_of_its_own_is_failed_whatever_came_later() {
    let github = GitHub::start();
    let deploy = deploy_with(&github, "");
    let sha = deploy.sha.clone();
    let child = deploy
        .sandbox
        .commit(&deploy.repo, "next.txt", "next\n", "next");
    github.deploy(
        7,
        &sha,
        PRODUCTION,
        ms(0),
        vec![(ms(0), status("failure", "Build failed"))],
    );
    github.deploy(
        8,
        &child,
        PRODUCTION,
        ms(0),
        vec![(ms(0), status("success", ""))],
    );
    let out = deploy
        .command(&["monitor", &sha])
        .output()
        .expect("monitor");
    assert!(out.status.success());
    assert_eq!(deploy.result(), "failed", "{}", deploy.log());
}

/// See: issue 23: listings stopped at the newest 100, so on a busy repository (previews) the
/// production environment was missing from `doctor` and from `status <short sha>`.
#[test]
fn doctor_and_a_short_sha_read_past_the_newest_hundred() {
    let github = GitHub::start();
    let deploy = deploy_with(&github, "");
    let sha = deploy.sha.clone();
    github.deploy(
        1,
        &sha,
        PRODUCTION,
        ms(0),
        vec![(ms(0), status("success", ""))],
    );
    for id in 2..=130 {
        github.deploy(
            id,
            &"9".repeat(40),
            PREVIEW,
            ms(0),
            vec![(ms(0), status("success", ""))],
        );
    }
    let out = deploy.command(&["doctor"]).output().expect("doctor");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!(
            "environment \"{PRODUCTION}\" is among the 130 most recent"
        )),
        "{said}"
    );
    let out = deploy.status(&[&sha[..7]]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        describe("status <short sha>", &deploy.repo, &out)
    );
}

/// `Production*` in a monorepo matches every project's production environment: doctor names
/// the candidates instead of letting whichever is listed first decide.
#[test]
fn doctor_names_the_candidates_a_glob_matches() {
    let github = GitHub::start();
    let deploy = Deploy::new(&github.config(FAST, "").replace(PRODUCTION, "Production*"))
        .with_env("GITHUB_TOKEN", TOKEN)
        .with_env("MAINSTAY_API_HOSTS", &github.server.host());
    let sha = deploy.sha.clone();
    github.deploy(1, &sha, "Production – web", ms(0), vec![]);
    github.deploy(2, &sha, "Production – docs", ms(0), vec![]);
    let out = deploy.command(&["doctor"]).output().expect("doctor");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("matches 2 environments: \"Production – docs\", \"Production – web\""),
        "{said}"
    );
}
