//! The MySQL source against a real MariaDB server: the `deployments` table as deploy scripts
//! fill it, read by the real `mainstay monitor`.

use std::net::TcpListener;

use mysql::Value;

use crate::mariadb::{self, MariaDb, PASSWORD, Relay, USER};
use crate::monitor::{Deploy, FAST};
use crate::util::wait_until;

/// A repository whose monitor reads `db` through `port` (the server's, or a relay's).
fn deploy(db: &str, port: u16, extra: &str) -> Deploy {
    let config = format!("{FAST}{extra}\n[deploy.mysql]\n");
    Deploy::new(&config).with_env("MAINSTAY_DB_URL", &mariadb::server().url(db, port))
}

fn insert(db: &str, sha: &str, status: &str) {
    mariadb::server().exec(
        db,
        "INSERT INTO deployments (commitSha, status) VALUES (?, ?)",
        vec![Value::from(sha), Value::from(status)],
    );
}

fn set_status(db: &str, sha: &str, status: &str) {
    mariadb::server().exec(
        db,
        "UPDATE deployments SET status = ? WHERE commitSha = ?",
        vec![Value::from(status), Value::from(sha)],
    );
}

fn assert_no_password(deploy: &Deploy) {
    for ext in ["log", "result", "json"] {
        assert!(
            !deploy.file(ext).contains(PASSWORD),
            ".{ext}:\n{}",
            deploy.file(ext)
        );
    }
}

#[test]
fn pending_building_deploying_success() {
    let server = mariadb::server();
    let db = server.database();
    let deploy = deploy(&db, server.port, "");
    let monitor = deploy.spawn_monitor(&deploy.sha);
    wait_until("no row yet", || deploy.log().contains("mysql: no row yet"));
    insert(&db, &deploy.sha, "pending");
    for (now, next) in [
        ("pending", "building"),
        ("building", "deploying"),
        ("deploying", "success"),
    ] {
        wait_until(now, || deploy.log().contains(&format!("mysql: {now}")));
        set_status(&db, &deploy.sha, next);
    }
    assert!(monitor.wait());
    assert_eq!(deploy.result(), "success");
    let record = deploy.record();
    let phases: Vec<&str> = record["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .map(|p| p["phase"].as_str().expect("phase"))
        .collect();
    assert_eq!(phases, ["no row yet", "pending", "building", "deploying"]);
    assert_eq!(record["source"], "mysql");
    assert_no_password(&deploy);
}

#[test]
fn failed_with_its_error_message_and_log_tail() {
    let server = mariadb::server();
    let db = server.database();
    let deploy = deploy(&db, server.port, "");
    let logs: String = (1..=40).map(|i| format!("build step {i}\n")).collect();
    server.exec(
        &db,
        "INSERT INTO deployments (commitSha, status, errorMessage, buildLogs) VALUES (?, 'failed', ?, ?)",
        vec![
            Value::from(&deploy.sha),
            Value::from("npm ERR! missing script: build"),
            Value::from(logs),
        ],
    );
    assert_eq!(deploy.run(), "failed");
    let log = deploy.log();
    assert!(
        log.contains("mysql: failed: npm ERR! missing script: build"),
        "{log}"
    );
    assert!(
        log.contains("build step 40") && log.contains("build step 21"),
        "{log}"
    );
    assert!(!log.contains("build step 20\n"), "only the tail: {log}");
    assert_eq!(deploy.record()["error"], "npm ERR! missing script: build");
}

/// No row for this commit, but the newest successful one is for a later commit that contains
/// it: live through that one, as with the app.
#[test]
fn a_later_commit_deployed_that_contains_this_one_makes_it_live() {
    let server = mariadb::server();
    let db = server.database();
    let deploy = deploy(&db, server.port, "");
    let config = FAST.replace("max_wait = \"20s\"", "max_wait = \"3s\"") + "\n[deploy.mysql]\n";
    std::fs::write(deploy.repo.join(".mainstay.toml"), config).expect("config");
    let later = deploy
        .sandbox
        .commit(&deploy.repo, "app.txt", "v2\n", "the next push");
    insert(&db, &later, "success");
    assert_eq!(deploy.run(), "success", "{}", deploy.log());
    let log = deploy.log();
    assert!(
        log.contains(&format!("mysql: live via {}", &later[..7])),
        "{log}"
    );
    assert_eq!(deploy.record()["live_through"], later.as_str());
}

#[test]
fn a_row_that_never_appears_times_out() {
    let server = mariadb::server();
    let db = server.database();
    insert(&db, "ffffffffffffffffffffffffffffffffffffffff", "success");
    let deploy =
        deploy(&db, server.port, "").with_env("MAINSTAY_DB_URL", &server.url(&db, server.port));
    std::fs::write(
        deploy.repo.join(".mainstay.toml"),
        FAST.replace("max_wait = \"20s\"", "max_wait = \"300ms\"") + "\n[deploy.mysql]\n",
    )
    .expect("config");
    assert_eq!(deploy.run(), "timeout");
    assert!(
        deploy.log().contains("last seen: mysql: no row yet"),
        "{}",
        deploy.log()
    );
}

#[test]
fn the_database_down_at_start_then_back() {
    let server = mariadb::server();
    let db = server.database();
    let relay = Relay::down(server.port);
    let deploy = deploy(&db, relay.port, "");
    let monitor = deploy.spawn_monitor(&deploy.sha);
    wait_until("a refused connection", || {
        deploy.log().contains("cannot connect")
    });
    insert(&db, &deploy.sha, "success");
    relay.start();
    assert!(monitor.wait());
    assert_eq!(deploy.result(), "success");
    assert_no_password(&deploy);
}

#[test]
fn the_database_server_killed_mid_run_and_back() {
    let server = MariaDb::own();
    let db = server.database();
    let config = format!("{FAST}\n[deploy.mysql]\n");
    let deploy = Deploy::new(&config).with_env("MAINSTAY_DB_URL", &server.url(&db, server.port));
    server.exec(
        &db,
        "INSERT INTO deployments (commitSha, status) VALUES (?, 'building')",
        vec![Value::from(&deploy.sha)],
    );
    let monitor = deploy.spawn_monitor(&deploy.sha);
    wait_until("building", || deploy.log().contains("mysql: building"));
    server.kill();
    wait_until("the lost database", || {
        let log = deploy.log();
        log.contains("query failed") || log.contains("cannot connect")
    });
    server.restart();
    server.exec(
        &db,
        "UPDATE deployments SET status = 'success' WHERE commitSha = ?",
        vec![Value::from(&deploy.sha)],
    );
    assert!(monitor.finishes());
    assert_eq!(deploy.result(), "success");
    assert_no_password(&deploy);
}

#[test]
fn the_connection_cut_mid_run_and_back() {
    let server = mariadb::server();
    let db = server.database();
    let relay = Relay::down(server.port);
    relay.start();
    let deploy = deploy(&db, relay.port, "");
    insert(&db, &deploy.sha, "building");
    let monitor = deploy.spawn_monitor(&deploy.sha);
    wait_until("building", || deploy.log().contains("mysql: building"));
    relay.cut();
    wait_until("the lost database", || {
        let log = deploy.log();
        log.contains("query failed") || log.contains("cannot connect")
    });
    set_status(&db, &deploy.sha, "success");
    relay.start();
    assert!(monitor.wait());
    assert_eq!(deploy.result(), "success");
    assert_no_password(&deploy);
}

#[test]
fn the_connection_from_db_host_and_its_companions() {
    let server = mariadb::server();
    let db = server.database();
    let deploy = Deploy::new(&format!("{FAST}\n[deploy.mysql]\n"))
        .with_env("DB_HOST", "127.0.0.1")
        .with_env("DB_PORT", &server.port.to_string())
        .with_env("DB_USER", USER)
        .with_env("DB_PASS", PASSWORD)
        .with_env("DB_NAME", &db);
    insert(&db, &deploy.sha, "success");
    assert_eq!(deploy.run(), "success");
    assert_eq!(deploy.record()["source"], "mysql");
    assert_no_password(&deploy);
}

#[test]
fn a_bad_db_port_is_named() {
    let deploy = Deploy::new(&format!("{FAST}\n[deploy.mysql]\n"))
        .with_env("DB_HOST", "127.0.0.1")
        .with_env("DB_PORT", "33o6");
    assert_eq!(deploy.run(), "failed");
    assert!(
        deploy
            .log()
            .contains(r#"mysql: DB_PORT "33o6" is not a port"#),
        "{}",
        deploy.log()
    );
}

#[test]
fn required_tls_against_a_server_without_it_ends_the_source() {
    let server = mariadb::server();
    let db = server.database();
    let deploy = deploy(&db, server.port, "");
    std::fs::write(
        deploy.repo.join(".mainstay.toml"),
        format!("{FAST}\n[deploy.mysql]\ntls = \"required\"\n"),
    )
    .expect("config");
    insert(&db, &deploy.sha, "success");
    assert_eq!(deploy.run(), "failed");
    let log = deploy.log();
    assert!(log.contains("the server does not offer TLS"), "{log}");
    assert!(log.contains("mysql is no longer asked"), "{log}");
    assert_eq!(deploy.record()["polls"], 1, "not asked again: {log}");
    assert_no_password(&deploy);
}

#[test]
fn a_database_that_never_answers_costs_a_bounded_wait() {
    // Accepts connections and never sends the server's greeting.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = silent.local_addr().expect("address").port();
    let config = FAST.replace("max_wait = \"20s\"", "max_wait = \"1s\"") + "\n[deploy.mysql]\n";
    let deploy = Deploy::new(&config).with_env(
        "MAINSTAY_DB_URL",
        &format!("mysql://{USER}:{PASSWORD}@127.0.0.1:{port}/none"),
    );
    let monitor = deploy.spawn_monitor(&deploy.sha);
    assert!(monitor.finishes(), "the monitor ends despite the silence");
    assert_eq!(deploy.result(), "timeout");
    assert!(deploy.log().contains("cannot connect"), "{}", deploy.log());
    assert_no_password(&deploy);
    drop(silent);
}

#[test]
fn configured_names_and_words_are_used() {
    let server = mariadb::server();
    let db = server.database();
    server.exec(&db, "ALTER TABLE deployments RENAME TO releases", vec![]);
    server.exec(
        &db,
        "ALTER TABLE releases CHANGE status state VARCHAR(50)",
        vec![],
    );
    let config = format!(
        "{FAST}\n[deploy.mysql]\ntable = \"releases\"\ncolumns.status = \"state\"\n\
         statuses.success = [\"live\"]\nstatuses.failed = [\"broken\"]\n"
    );
    let deploy = Deploy::new(&config).with_env("MAINSTAY_DB_URL", &server.url(&db, server.port));
    server.exec(
        &db,
        "INSERT INTO releases (commitSha, state) VALUES (?, 'live')",
        vec![Value::from(&deploy.sha)],
    );
    assert_eq!(deploy.run(), "success");
}

#[test]
fn history_from_the_tables_durations_picks_the_schedule() {
    let server = mariadb::server();
    let db = server.database();
    for (i, secs) in [238, 241, 244, 240].iter().enumerate() {
        server.exec(
            &db,
            "INSERT INTO deployments (commitSha, status, duration) VALUES (?, 'success', ?)",
            vec![Value::from(format!("{i:040x}")), Value::from(*secs)],
        );
    }
    let deploy = Deploy::new(&format!(
        "{}\n[deploy.mysql]\n",
        FAST.replace("schedule = \"fixed\"", "schedule = \"history\"")
    ))
    .with_env("MAINSTAY_DB_URL", &server.url(&db, server.port));
    insert(&db, &deploy.sha, "success");
    assert_eq!(deploy.run(), "success");
    let log = deploy.log();
    assert!(
        log.contains("schedule: history: estimated 4m01s ± 2.4s from 4 past deployments"),
        "{log}"
    );
    assert_eq!(server.count(&db, "SELECT COUNT(*) FROM deployments"), 5);
}

#[test]
fn a_sha_with_sql_metacharacters_is_refused_before_any_query() {
    let server = mariadb::server();
    let db = server.database();
    let deploy = deploy(&db, server.port, "");
    insert(&db, &deploy.sha, "success");
    for sha in [
        "abc1234' OR '1'='1",
        "abc1234; DROP TABLE deployments",
        "abc1234\\",
    ] {
        let out = deploy.command(&["monitor", sha]).output().expect("monitor");
        assert_eq!(out.status.code(), Some(4), "{sha}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("is not a commit id"));
    }
    assert_eq!(server.count(&db, "SELECT COUNT(*) FROM deployments"), 1);
}
