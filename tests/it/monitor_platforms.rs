//! The Netlify, Render, Vercel and Heroku sources as the real `mainstay monitor <sha>` runs
//! them, against the local stand-in of each platform's own API ([`crate::platforms`]): each
//! platform's real sequence of states, a swarm's cancelled and skipped builds, a monorepo's
//! projects side by side, rate limits, server errors, refusals and pagination.

use std::time::Duration;

use crate::monitor::{Deploy, FAST};
use crate::platforms::{Dialect, Platform, TOKEN};
use crate::util::describe;

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// A repository whose monitor follows `target` on `platform`, the token in the environment.
fn follow(platform: &Platform, target: &str) -> Deploy {
    Deploy::new(&format!("{FAST}\n{}", platform.section(target)))
        .with_env(platform.dialect.token_var(), TOKEN)
        .with_env("MAINSTAY_API_HOSTS", &platform.server.host())
}

/// Runs the monitor for `sha` to its end; the verdict.
fn verdict(deploy: &Deploy, sha: &str) -> String {
    let out = deploy.command(&["monitor", sha]).output().expect("monitor");
    assert!(
        out.status.success(),
        "{}",
        describe("monitor", &deploy.repo, &out)
    );
    deploy.result()
}

fn assert_clean(deploy: &Deploy, platform: &Platform) {
    for ext in ["log", "result", "json"] {
        assert!(
            !deploy.file(ext).contains(TOKEN),
            ".{ext}: {}",
            deploy.file(ext)
        );
    }
    let requests = platform.server.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(r.method, "GET");
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert!(
            r.header("user-agent")
                .is_some_and(|ua| ua.starts_with("mainstay/"))
        );
    }
}

/// Each platform's everyday sequence: listed a moment after the push, through its phases, live.
#[test]
fn each_platform_is_followed_from_its_first_phase_to_live() {
    for dialect in [
        Dialect::Netlify,
        Dialect::Render,
        Dialect::Vercel,
        Dialect::Heroku,
    ] {
        let platform = Platform::start(dialect);
        let deploy = follow(&platform, "srv-web");
        let words = dialect.words();
        let mut states: Vec<(u64, &str)> = words
            .phases
            .iter()
            .enumerate()
            .map(|(i, p)| (i as u64 * 100, *p))
            .collect();
        states.push((words.phases.len() as u64 * 100, words.live));
        platform.deploy("d1", "srv-web", &deploy.sha, ms(150), &states);
        assert_eq!(
            verdict(&deploy, &deploy.sha),
            "success",
            "{dialect:?}: {}",
            deploy.log()
        );
        let log = deploy.log();
        let name = dialect.name();
        assert!(log.contains(&format!("{name}: not listed yet")), "{log}");
        assert!(
            log.contains(&format!("{name}: {}", words.phases[0])),
            "{log}"
        );
        assert!(log.contains(&format!("{name}: live")), "{log}");
        assert_clean(&deploy, &platform);
        // Conditional requests: an unchanged listing is answered 304.
        assert!(platform.server.answered(304) > 0, "{dialect:?}");
    }
}

#[test]
fn a_failed_build_of_its_own_is_failed_on_every_platform() {
    for dialect in [
        Dialect::Netlify,
        Dialect::Render,
        Dialect::Vercel,
        Dialect::Heroku,
    ] {
        let platform = Platform::start(dialect);
        let deploy = follow(&platform, "srv-web");
        let words = dialect.words();
        platform.deploy_in(
            "d1",
            "srv-web",
            &deploy.sha,
            "production",
            ms(0),
            &[(0, words.phases[0]), (100, words.failed)],
            "Build script returned non-zero exit code: 2",
        );
        assert_eq!(verdict(&deploy, &deploy.sha), "failed", "{dialect:?}");
    }
}

/// A swarm pushes A, then B on top of it: the platform cancels A's build (or never builds A:
/// `[skip render]`, an ignored build step) and deploys B. A is live via B.
#[test]
fn a_swarm_s_cancelled_and_skipped_builds_are_live_via_the_newer_one() {
    for dialect in [
        Dialect::Netlify,
        Dialect::Render,
        Dialect::Vercel,
        Dialect::Heroku,
    ] {
        for own in [true, false] {
            let platform = Platform::start(dialect);
            let deploy = follow(&platform, "srv-web");
            let a = deploy.sha.clone();
            let b = deploy.sandbox.commit(&deploy.repo, "b.txt", "b\n", "b");
            let words = dialect.words();
            if own {
                platform.deploy_in(
                    "d1",
                    "srv-web",
                    &a,
                    "production",
                    ms(0),
                    &[(0, words.phases[0]), (100, words.cancelled)],
                    "Canceled build",
                );
            }
            platform.deploy(
                "d2",
                "srv-web",
                &b,
                ms(100),
                &[(0, words.phases[0]), (300, words.live)],
            );
            if dialect == Dialect::Heroku && own {
                // Heroku has no cancelled state: its `failed` is a failure of A's own build.
                assert_eq!(verdict(&deploy, &a), "failed");
                continue;
            }
            assert_eq!(
                verdict(&deploy, &a),
                "success",
                "{dialect:?} own={own}: {}",
                deploy.log()
            );
            assert_eq!(deploy.record()["live_through"], b.as_str());
            assert!(deploy.log().contains(&format!("live via {}", &b[..7])));
        }
    }
}

/// Vercel names a monorepo's projects' environments `Production – web`, `Production – docs`:
/// followed by project, each gets its own verdict, whichever is listed first.
#[test]
fn a_vercel_monorepo_s_projects_each_get_their_own_verdict() {
    let platform = Platform::start(Dialect::Vercel);
    let web = follow(&platform, "prj_web");
    let sha = web.sha.clone();
    platform.deploy(
        "w1",
        "prj_web",
        &sha,
        ms(0),
        &[(0, "BUILDING"), (100, "READY")],
    );
    platform.deploy(
        "d1",
        "prj_docs",
        &sha,
        ms(50),
        &[(0, "BUILDING"), (300, "ERROR")],
    );
    // A preview of the same commit in the same project never decides.
    platform.deploy_in("p1", "prj_web", &sha, "preview", ms(0), &[(0, "ERROR")], "");
    assert_eq!(verdict(&web, &sha), "success", "{}", web.log());
    let docs = Deploy::new(&format!("{FAST}\n{}", platform.section("prj_docs")))
        .with_env("VERCEL_TOKEN", TOKEN)
        .with_env("MAINSTAY_API_HOSTS", &platform.server.host());
    docs.sandbox
        .git(&docs.repo, &["reset", "-q", "--soft", "HEAD"]);
    let out = docs.command(&["monitor", &sha]).output().expect("monitor");
    assert!(out.status.success());
    let docs_result = std::fs::read_to_string(
        docs.repo
            .join(format!(".deployment-status-{}.result", &sha[..7])),
    )
    .expect("a result");
    assert_eq!(docs_result.trim(), "failed");
    for r in platform.server.requests() {
        assert!(r.target.contains("target=production"), "{}", r.target);
    }
}

#[test]
fn rate_limits_and_server_errors_are_waited_out() {
    for dialect in [
        Dialect::Netlify,
        Dialect::Render,
        Dialect::Vercel,
        Dialect::Heroku,
    ] {
        let platform = Platform::start(dialect);
        let deploy = follow(&platform, "srv-web");
        let words = dialect.words();
        platform.deploy(
            "d1",
            "srv-web",
            &deploy.sha,
            ms(0),
            &[(0, words.phases[0]), (200, words.live)],
        );
        platform.fault(1, 429, Some(1));
        platform.fault(2, 503, None);
        assert_eq!(verdict(&deploy, &deploy.sha), "success", "{dialect:?}");
        let requests = platform.server.requests();
        let after_429 = requests[2]
            .at
            .duration_since(requests[1].at)
            .unwrap_or_default();
        assert!(
            after_429 >= Duration::from_millis(900),
            "{dialect:?}: retry-after waited"
        );
    }
}

#[test]
fn a_refused_token_or_an_unknown_target_ends_the_source_with_what_to_fix() {
    for dialect in [
        Dialect::Netlify,
        Dialect::Render,
        Dialect::Vercel,
        Dialect::Heroku,
    ] {
        let platform = Platform::start(dialect);
        platform.deploy(
            "d1",
            "srv-web",
            "0000000",
            ms(0),
            &[(0, dialect.words().live)],
        );
        let deploy = Deploy::new(&format!("{FAST}\n{}", platform.section("srv-web")))
            .with_env(dialect.token_var(), "wrong")
            .with_env("MAINSTAY_API_HOSTS", &platform.server.host());
        assert_eq!(
            verdict(&deploy, &deploy.sha),
            "failed",
            "{dialect:?}: {}",
            deploy.log()
        );
        assert!(
            deploy
                .log()
                .contains(&format!("HTTP 401: {} is refused", dialect.token_var())),
            "{}",
            deploy.log()
        );
        let unknown = follow(&platform, "srv-nope");
        assert_eq!(verdict(&unknown, &unknown.sha), "failed");
        assert!(unknown.log().contains("HTTP 404: no "), "{}", unknown.log());
    }
}

/// A committed `api_base` naming a host the environment does not: the token is never sent.
#[test]
fn the_token_goes_nowhere_the_environment_does_not_name() {
    for dialect in [
        Dialect::Netlify,
        Dialect::Render,
        Dialect::Vercel,
        Dialect::Heroku,
    ] {
        let platform = Platform::start(dialect);
        let deploy = Deploy::new(&format!("{FAST}\n{}", platform.section("srv-web")))
            .with_env(dialect.token_var(), TOKEN);
        let out = deploy.monitor();
        assert!(platform.server.requests().is_empty(), "{dialect:?}");
        let said = format!("{}{}", deploy.log(), String::from_utf8_lossy(&out.stderr));
        assert!(said.contains("is not sent"), "{said}");
    }
}

/// `doctor` reads past the first page (Netlify's `Link`, Render's cursor, Vercel's `until`,
/// Heroku's `Next-Range`), within a bound.
#[test]
fn doctor_follows_each_platform_s_pagination() {
    for dialect in [
        Dialect::Netlify,
        Dialect::Render,
        Dialect::Vercel,
        Dialect::Heroku,
    ] {
        let platform = Platform::start(dialect);
        platform.clock(|| Duration::from_secs(3600));
        for n in 0..45 {
            let sha = format!("{n:040x}");
            platform.deploy(
                &format!("d{n:02}"),
                "srv-web",
                &sha,
                ms(n),
                &[(0, dialect.words().live)],
            );
        }
        let deploy = follow(&platform, "srv-web");
        let out = deploy.command(&["doctor"]).output().expect("doctor");
        let said = String::from_utf8_lossy(&out.stdout);
        let said: String = said
            .lines()
            .filter(|l| l.contains(dialect.name()))
            .collect();
        assert!(
            said.contains("45 recent deployments, 45 naming their commit"),
            "{dialect:?}: {said}"
        );
        assert_eq!(
            platform.server.requests().len(),
            3,
            "{dialect:?}: three pages of 20"
        );
    }
}

/// A clock the test and the stand-in share: time moves only when the monitor's loop sleeps.
struct Shared(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl mainstay::clock::Clock for Shared {
    fn elapsed(&self) -> Duration {
        Duration::from_millis(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
    fn wall(&self) -> std::time::SystemTime {
        std::time::UNIX_EPOCH + Duration::from_secs(1_796_000_000) + self.elapsed()
    }
    fn sleep(&self, duration: Duration) {
        self.0.fetch_add(
            duration.as_millis() as u64,
            std::sync::atomic::Ordering::SeqCst,
        );
    }
}

/// The deployment is created 90 s after the push (a queue on the platform), then builds for
/// two and a half minutes: followed on the real schedule (5 s, then 15 s) through the clock
/// seam, no second of it slept.
#[test]
fn a_deployment_created_ninety_seconds_after_the_push_is_waited_for() {
    use mainstay::deploy::{Settings, follow, schedule::Schedule, sources};
    let platform = Platform::start(Dialect::Render);
    let ms_now = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen = ms_now.clone();
    platform.clock(move || Duration::from_millis(seen.load(std::sync::atomic::Ordering::SeqCst)));
    let deploy = Deploy::new("");
    platform.deploy(
        "dep-1",
        "srv-web",
        &deploy.sha,
        Duration::from_secs(90),
        &[
            (0, "created"),
            (10_000, "build_in_progress"),
            (150_000, "live"),
        ],
    );
    // `[deploy]`'s own keys, then its source's section as `[deploy]` sees it.
    let text = format!(
        "schedule = \"fixed\"\n{}",
        platform
            .section("srv-web")
            .replace("[deploy.render]", "[render]")
    );
    let settings: Settings = toml::from_str(&text).expect("[deploy] settings");
    let host = platform.server.host();
    let secrets = sources::secrets_from_pairs(&[
        ("RENDER_API_KEY", TOKEN),
        ("MAINSTAY_API_HOSTS", host.as_str()),
    ]);
    let setup = sources::Setup::new(&settings, &secrets, &deploy.repo, Duration::from_secs(5));
    let (mut opened, problems) = sources::open(&settings, &setup);
    assert!(problems.is_empty(), "{problems:?}");
    let clock = Shared(ms_now);
    let cx = sources::PollContext {
        clock: &clock,
        contains: &|_, _| false,
        once: false,
    };
    struct Quiet;
    impl follow::Progress for Quiet {
        fn say(&mut self, _: &str) -> std::io::Result<()> {
            Ok(())
        }
    }
    let schedule = Schedule::choose(&settings, &[]);
    let followed =
        follow::follow(&mut opened, &deploy.sha, &schedule, &cx, &mut Quiet).expect("follows");
    assert!(
        matches!(
            followed.decision,
            follow::Decision::Live {
                source: "render",
                ..
            }
        ),
        "{followed:?}"
    );
    let at = followed.at.as_secs();
    assert!((240..=256).contains(&at), "live at {at} s on the clock");
    assert!(followed.phases.iter().any(|p| p.phase == "not listed yet"));
    assert!(
        followed
            .phases
            .iter()
            .any(|p| p.phase == "build_in_progress")
    );
}
