//! `mainstay doctor` in a real clone set up by `install-hooks`, against the real MariaDB, an app,
//! the DigitalOcean API and GitHub's served on loopback. Each test breaks one thing and checks that the
//! doctor names that one thing, with its fix, and nothing else; none may print a secret.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::github::{self, GitHub};
use crate::http::{Reply, Server};
use crate::mariadb::{self, PASSWORD};
use crate::monitor::FOREIGN;
use crate::util::{Sandbox, bin, describe, write};

const TOKEN: &str = "dop_v1_doctorToken7731";
const WRONG_TOKEN: &str = "dop_v1_revokedToken4410";
/// The path part of a Slack webhook is its key.
const WEBHOOK_PATH: &str = "/services/T0DOC/B0DOC/hookKey9qx2";

/// A clone with mainstay installed and every source configured and answering.
struct Clinic {
    sandbox: Sandbox,
    /// The executables this clinic installs and runs (see [`executables`]).
    bin: PathBuf,
    repo: PathBuf,
    sha: String,
    /// What the app's `/version` answers.
    version: Arc<Mutex<String>>,
    app: Server,
    api: Server,
    github: GitHub,
    webhook: Server,
    db: String,
    env: Vec<(&'static str, String)>,
}

impl Clinic {
    fn new() -> Clinic {
        let sandbox = Sandbox::new();
        let remote = sandbox.remote("remote");
        Clinic::on(sandbox, &remote)
    }

    /// Clones `remote`, installs mainstay there and points every source at a healthy server.
    fn on(sandbox: Sandbox, remote: &Path) -> Clinic {
        let bin = executables(&sandbox);
        let repo = sandbox.clone_repo(remote, "work");
        let repo_arg = repo.to_str().expect("utf-8");
        let installed = sandbox
            .command(bin.join("install-hooks"), &repo)
            .args(["--repo", repo_arg])
            .output()
            .expect("run install-hooks");
        assert!(
            installed.status.success(),
            "{}",
            describe("install-hooks", &repo, &installed)
        );
        let sha = sandbox.git(&repo, &["rev-parse", "HEAD"]);
        let version = Arc::new(Mutex::new(format!(r#"{{"status":"ok","commit":"{sha}"}}"#)));
        let served = version.clone();
        let app = Server::start(move |r| match r.path() {
            "/version" => Reply::json(200, served.lock().expect("version").clone()),
            "/ready" => Reply::json(200, r#"{"ready":true}"#),
            _ => Reply::json(404, "{}"),
        });
        let api = Server::start(|r| {
            if r.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
                return Reply::json(
                    401,
                    r#"{"id":"Unauthorized","message":"Unable to authenticate you"}"#,
                );
            }
            match r.path() {
                "/v2/apps/app-1" => Reply::json(
                    200,
                    r#"{"app":{"id":"app-1","spec":{"name":"sample-app"},"live_url":"https://sample.example"}}"#,
                ),
                _ => Reply::json(
                    404,
                    r#"{"id":"not_found","message":"The resource you were accessing could not be found."}"#,
                ),
            }
        });
        let github = GitHub::start();
        github.deploy(1, &sha, github::PREVIEW, Duration::ZERO, Vec::new());
        github.deploy(2, &sha, github::PRODUCTION, Duration::ZERO, Vec::new());
        let webhook = Server::start(|_| Reply::json(200, "ok"));
        let server = mariadb::server();
        let db = server.database();
        let clinic = Clinic {
            bin,
            env: vec![
                ("MAINSTAY_DB_URL", server.url(&db, server.port)),
                ("DIGITALOCEAN_TOKEN", TOKEN.to_owned()),
                ("GITHUB_TOKEN", github::TOKEN.to_owned()),
                (
                    "MAINSTAY_API_HOSTS",
                    format!("{},{}", api.host(), github.server.host()),
                ),
                ("MAINSTAY_WEBHOOK_URL", webhook.url(WEBHOOK_PATH)),
            ],
            sandbox,
            repo,
            sha,
            version,
            app,
            api,
            github,
            webhook,
            db,
        };
        clinic.configure(&clinic.app.url("/version"));
        clinic
    }

    /// Writes `.mainstay.toml` with the app's version URL set to `version_url`.
    fn configure(&self, version_url: &str) {
        let config = format!(
            "[deploy]\nrequest_timeout = \"3s\"\n\n\
             [deploy.app]\nversion_url = \"{version_url}\"\nready_url = \"{}\"\n\n\
             [deploy.mysql]\n\n\
             [deploy.digitalocean]\napp_id = \"app-1\"\napi_base = \"{}\"\n\n\
             [deploy.github]\nrepo = \"{}\"\nenvironment = \"{}\"\napi_base = \"{}\"\n",
            self.app.url("/ready"),
            self.api.url(""),
            github::REPO,
            github::PRODUCTION,
            self.github.server.url(""),
        );
        write(&self.repo.join(".mainstay.toml"), &config);
    }

    fn set_env(&mut self, name: &'static str, value: &str) {
        self.env.retain(|(n, _)| *n != name);
        self.env.push((name, value.to_owned()));
    }

    /// Runs `mainstay doctor`, checks no secret is in what it printed, and that the webhook was
    /// never contacted.
    fn doctor(&self) -> Doctor {
        let mut cmd = self.sandbox.command(self.bin.join("mainstay"), &self.repo);
        for name in FOREIGN {
            cmd.env_remove(name);
        }
        cmd.arg("doctor").envs(self.env.iter().map(|(k, v)| (k, v)));
        let output = cmd.output().expect("run mainstay doctor");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let secrets: Vec<&str> = self
            .env
            .iter()
            .filter(|(name, _)| !matches!(*name, "MAINSTAY" | "MAINSTAY_API_HOSTS"))
            .map(|(_, v)| v.as_str())
            .chain([
                PASSWORD,
                TOKEN,
                WRONG_TOKEN,
                github::TOKEN,
                WEBHOOK_PATH,
                "hookKey9qx2",
            ])
            .collect();
        for secret in secrets {
            assert!(
                !all.contains(secret),
                "a secret was printed: {secret}\n{}",
                describe("mainstay doctor", &self.repo, &output)
            );
        }
        assert_eq!(
            self.webhook.requests().len(),
            0,
            "the webhook was contacted"
        );
        Doctor {
            output,
            repo: self.repo.clone(),
        }
    }
}

struct Doctor {
    output: Output,
    repo: PathBuf,
}

impl Doctor {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    fn describe(&self) -> String {
        describe("mainstay doctor", &self.repo, &self.output)
    }

    fn assert_exit(&self, code: i32) {
        assert_eq!(self.output.status.code(), Some(code), "{}", self.describe());
    }

    /// The check names of the `problem` lines, in order.
    fn problems(&self) -> Vec<String> {
        self.stdout()
            .lines()
            .filter_map(|l| l.strip_prefix("problem "))
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_owned)
            .collect()
    }

    /// Asserts exit 1 and exactly one problem, in `check`, whose line holds `says` and whose fix
    /// line holds `fix`; returns what the problem line says after the check's name.
    fn only_problem(&self, check: &str, says: &str, fix: &str) -> String {
        self.assert_exit(1);
        assert_eq!(self.problems(), [check], "{}", self.describe());
        let stdout = self.stdout();
        let lines: Vec<&str> = stdout.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.starts_with("problem "))
            .expect("a problem line");
        let fix_line = lines.get(at + 1).copied().unwrap_or_default();
        let told = fix_line.strip_prefix("        fix: ").unwrap_or_default();
        assert!(lines[at].contains(says), "{}", self.describe());
        assert!(told.contains(fix), "{}", self.describe());
        let last = lines.last().copied().unwrap_or_default();
        let checks = lines
            .iter()
            .filter(|l| !l.starts_with("        fix: "))
            .count()
            - 1;
        assert_eq!(
            last,
            format!("doctor: 1 problem in {checks} checks"),
            "{}",
            self.describe()
        );
        let after = lines[at].strip_prefix("problem ").unwrap_or_default();
        let said = after.trim_start().strip_prefix(check).unwrap_or_default();
        said.trim().to_owned()
    }
}

/// The executables, hard-linked (or copied) into the sandbox: the doctor compares the installed
/// hooks with the ones beside it, and a build finishing mid-test must not change those.
fn executables(sandbox: &Sandbox) -> PathBuf {
    let dir = sandbox.path().join("bin");
    std::fs::create_dir_all(&dir).expect("create the bin dir");
    for name in [
        "pre-push",
        "post-push",
        "merge-driver",
        "install-hooks",
        "mainstay",
    ] {
        let (from, to) = (bin(name), dir.join(name));
        if std::fs::hard_link(&from, &to).is_err() {
            std::fs::copy(&from, &to).expect("copy an executable");
        }
    }
    dir
}

/// Ports and the commit replaced by placeholders, so the report can be compared whole.
fn normalized(text: &str, sha: &str) -> String {
    let ports = regex::Regex::new(r"127\.0\.0\.1:\d+").expect("a valid regex");
    let text = text.replace(&sha[..12], "<sha>");
    ports.replace_all(&text, "127.0.0.1:<port>").into_owned()
}

#[test]
fn all_ok() {
    let clinic = Clinic::new();
    let doctor = clinic.doctor();
    doctor.assert_exit(0);
    assert_eq!(
        normalized(&doctor.stdout(), &clinic.sha),
        "\
ok      config       .mainstay.toml is valid
ok      switch       MAINSTAY=0 is not set, so the hooks run
ok      install      hooks, merge drivers and .gitattributes are in place
ok      sources      pushes to main are followed through app, mysql, digitalocean, github
ok      app          http://127.0.0.1:<port>/version answers with commit <sha>
ok      readiness    http://127.0.0.1:<port>/ready answers HTTP 200
ok      mysql        127.0.0.1:<port>: table `deployments` has every configured column
ok      digitalocean app app-1 (sample-app) exists and DIGITALOCEAN_TOKEN is accepted
skip    netlify      no [deploy.netlify]
skip    render       no [deploy.render]
skip    vercel       no [deploy.vercel]
skip    heroku       no [deploy.heroku]
ok      github       repository acme/web found and GITHUB_TOKEN is accepted
ok      github       environment \"Production – web\" is among the 2 most recent deployments'
ok      webhook      MAINSTAY_WEBHOOK_URL is set: an http URL on 127.0.0.1 (not contacted)
doctor: all 15 checks ok (4 skipped)
"
    );
    assert_eq!(doctor.output.stderr, b"", "{}", doctor.describe());
    assert_eq!(clinic.api.count("/v2/apps/app-1"), 1);
    assert_eq!(clinic.github.requests().len(), 2, "one request per check");
}

#[test]
fn github_refuses_the_token() {
    let mut clinic = Clinic::new();
    clinic.set_env("GITHUB_TOKEN", "ghp_revokedDoctorToken55");
    let doctor = clinic.doctor();
    doctor.only_problem(
        "github",
        "refuses GITHUB_TOKEN (HTTP 401)",
        "export a GITHUB_TOKEN that is valid",
    );
    assert_eq!(clinic.github.requests().len(), 1, "one request, no retries");
    assert!(!doctor.stdout().contains("ghp_revokedDoctorToken55"));
}

#[test]
fn github_has_no_such_repository() {
    let clinic = Clinic::new();
    let config = std::fs::read_to_string(clinic.repo.join(".mainstay.toml")).expect("config");
    write(
        &clinic.repo.join(".mainstay.toml"),
        &config.replace("repo = \"acme/web\"", "repo = \"acme/site\""),
    );
    let doctor = clinic.doctor();
    doctor.only_problem(
        "github",
        "has no repository acme/site for this token (HTTP 404)",
        "set repo in [deploy.github] to owner/name",
    );
}

#[test]
fn github_environment_not_among_the_deployments() {
    let clinic = Clinic::new();
    let config = std::fs::read_to_string(clinic.repo.join(".mainstay.toml")).expect("config");
    write(
        &clinic.repo.join(".mainstay.toml"),
        &config.replace("Production – web", "production"),
    );
    let doctor = clinic.doctor();
    let what = doctor.only_problem(
        "github",
        "environment \"production\" is not among the 2 most recent deployments'",
        "set environment in [deploy.github] to the name the platform reports",
    );
    assert!(
        what.contains("\"Production – web\", \"Preview – web\""),
        "the environments seen are named: {what}"
    );
}

#[test]
fn merge_driver_not_registered() {
    // A teammate registered a merge driver in their own clone and committed the attribute that
    // routes to it; git config is not cloned, so this clone lacks the driver.
    let sandbox = Sandbox::new();
    let remote = sandbox.remote("remote");
    let teammate = sandbox.clone_repo(&remote, "teammate");
    sandbox.git(
        &teammate,
        &[
            "config",
            "merge.npm-merge-driver.driver",
            "npx npm-merge-driver merge %A %O %B %P",
        ],
    );
    sandbox.commit(
        &teammate,
        ".gitattributes",
        "package-lock.json merge=npm-merge-driver\n",
        "Merge lock files with npm-merge-driver",
    );
    sandbox.git(&teammate, &["push", "-q", "origin", "main"]);
    let clinic = Clinic::on(sandbox, &remote);
    let doctor = clinic.doctor();
    let what = doctor.only_problem(
        "install",
        "routes package-lock.json to merge driver `npm-merge-driver`, which this clone does not \
         register",
        "run install-hooks",
    );
    // The same problem, word for word, as `install-hooks --check` reports it.
    let check = clinic
        .sandbox
        .command(clinic.bin.join("install-hooks"), &clinic.repo)
        .arg("--check")
        .output()
        .expect("run install-hooks --check");
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(said.contains(&what), "{said}\nvs\n{what}");
}

#[test]
fn database_unreachable() {
    let mut clinic = Clinic::new();
    let closed = mariadb::free_port();
    let url = mariadb::server().url(&clinic.db, closed);
    clinic.set_env("MAINSTAY_DB_URL", &url);
    let doctor = clinic.doctor();
    doctor.only_problem(
        "mysql",
        &format!("127.0.0.1:{closed}: cannot connect"),
        "start the database",
    );
}

#[test]
fn table_lacks_a_configured_column() {
    let clinic = Clinic::new();
    mariadb::server().exec(
        &clinic.db,
        "ALTER TABLE deployments DROP COLUMN buildLogs",
        Vec::new(),
    );
    let doctor = clinic.doctor();
    let what = doctor.only_problem(
        "mysql",
        "table `deployments` has no column `buildLogs`",
        "set build_logs under [deploy.mysql.columns]",
    );
    assert!(
        what.ends_with("no column `buildLogs`"),
        "only that one: {what}"
    );
}

#[test]
fn token_refused_by_the_api() {
    let mut clinic = Clinic::new();
    clinic.set_env("DIGITALOCEAN_TOKEN", WRONG_TOKEN);
    let doctor = clinic.doctor();
    doctor.only_problem(
        "digitalocean",
        "refuses DIGITALOCEAN_TOKEN (HTTP 401)",
        "read access to apps",
    );
    let sent = clinic.api.requests();
    assert_eq!(sent.len(), 1, "one request, no retries");
    assert_eq!(
        sent[0].header("authorization"),
        Some(format!("Bearer {WRONG_TOKEN}").as_str())
    );
}

#[test]
fn version_url_without_a_commit() {
    let clinic = Clinic::new();
    *clinic.version.lock().expect("version") = r#"{"status":"ok","version":"1.4.2"}"#.to_owned();
    let doctor = clinic.doctor();
    doctor.only_problem(
        "app",
        "/version: unreadable answer: no commit string at /commit",
        "commit_pointer",
    );
}

#[test]
fn no_secret_is_printed_when_everything_fails() {
    let mut clinic = Clinic::new();
    // Credentials in a configured URL, a password the server refuses, a refused token and a
    // webhook that is no URL: every place a secret could slip into a message.
    clinic.configure(&format!(
        "http://probe:urlPass5512@{}",
        clinic.app.url("/missing").trim_start_matches("http://")
    ));
    let server = mariadb::server();
    let url = format!(
        "mysql://{}:wrongPass8823@127.0.0.1:{}/{}",
        mariadb::USER,
        server.port,
        clinic.db
    );
    clinic.set_env("MAINSTAY_DB_URL", &url);
    clinic.set_env("DIGITALOCEAN_TOKEN", WRONG_TOKEN);
    clinic.set_env("GITHUB_TOKEN", "ghp_wrongToken8823x");
    clinic.set_env(
        "MAINSTAY_WEBHOOK_URL",
        "hooks.example/services/T0/B0/plainKey7781",
    );
    let doctor = clinic.doctor();
    doctor.assert_exit(1);
    assert_eq!(
        doctor.problems(),
        ["app", "mysql", "digitalocean", "github", "webhook"],
        "{}",
        doctor.describe()
    );
    let stdout = doctor.stdout();
    for secret in [
        "urlPass5512",
        "wrongPass8823",
        "plainKey7781",
        "ghp_wrongToken8823x",
    ] {
        assert!(!stdout.contains(secret), "{secret} printed:\n{stdout}");
    }
    assert!(stdout.contains("Access denied"), "{stdout}");
}

/// What is not set up is a warning, not a problem: doctor still exits 0, so CI can run it.
#[test]
fn kill_switch_set_and_no_webhook_are_warnings() {
    let mut clinic = Clinic::new();
    clinic.set_env("MAINSTAY", "0");
    clinic
        .env
        .retain(|(name, _)| *name != "MAINSTAY_WEBHOOK_URL");
    let doctor = clinic.doctor();
    doctor.assert_exit(0);
    let stdout = doctor.stdout();
    assert!(doctor.problems().is_empty(), "{}", doctor.describe());
    assert!(
        stdout.contains("warning switch       MAINSTAY=0 is set: every hook does nothing"),
        "{stdout}"
    );
    assert!(
        stdout.contains("warning webhook      MAINSTAY_WEBHOOK_URL is not set"),
        "{stdout}"
    );
    assert!(stdout.contains("fix: unset MAINSTAY"), "{stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("doctor: no problem in ") && last.ends_with(", 2 warnings"),
        "{stdout}"
    );
}

#[test]
fn invalid_configuration_stops_there() {
    let clinic = Clinic::new();
    write(
        &clinic.repo.join(".mainstay.toml"),
        "[deploy]\nmax_wait = \"soon\"\n",
    );
    let doctor = clinic.doctor();
    doctor.assert_exit(1);
    let stdout = doctor.stdout();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    assert!(
        lines[0].starts_with("problem config") && lines[0].contains("key `deploy.max_wait`"),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("        fix: correct .mainstay.toml"),
        "{stdout}"
    );
    assert!(lines[2].starts_with("ok      switch"), "{stdout}");
    assert!(lines[3].starts_with("skip    others"), "{stdout}");
    assert_eq!(lines[4], "doctor: 1 problem in 3 checks");
    assert_eq!(clinic.api.requests().len(), 0, "no source is asked");
}
