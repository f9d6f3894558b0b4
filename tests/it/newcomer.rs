//! A newcomer's first hour, through the real executables and the real install script: from
//! another directory, onto PATH, upgraded in one command; `init`; the messages met first.
//!
//! See: the newcomer's-first-hour issue.

use std::path::Path;

use crate::monitor::{App, Deploy};
use crate::util::{Sandbox, describe, read, wait_until};

/// `install/install.sh` run as a newcomer would, from a directory of their own, building the
/// debug executables (already built by this test run, so the build is quick).
fn install_sh(sb: &Sandbox, cwd: &Path, args: &[&str]) -> std::process::Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("install/install.sh");
    let mut cmd = sb.command("bash", cwd);
    for (key, _) in std::env::vars_os() {
        // Nothing of this test run's own cargo may steer the script's build.
        if key.to_string_lossy().starts_with("CARGO_") && key != "CARGO_HOME" {
            cmd.env_remove(&key);
        }
    }
    cmd.arg(script)
        .args(args)
        .env("MAINSTAY_BUILD_PROFILE", "dev")
        .output()
        .expect("run install.sh")
}

#[test]
fn the_install_script_works_from_anywhere_puts_mainstay_on_path_and_upgrades() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let repo = sb.clone_repo(&remote, "myrepo");
    let elsewhere = sb.path().join("somewhere/else");
    std::fs::create_dir_all(&elsewhere).expect("mkdir");
    let prefix = sb.path().join("home/.local/bin");
    // `cd myrepo && ../mainstay/install/install.sh`, as its usage line invites: REPO relative.
    let out = install_sh(&sb, &repo, &["."]);
    assert!(
        out.status.success(),
        "{}",
        describe("install.sh .", &repo, &out)
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(&format!("installed mainstay into {}", prefix.display())),
        "{said}"
    );
    for exe in ["mainstay", "install-hooks"] {
        assert!(prefix.join(exe).is_file(), "{exe} on PATH");
    }
    for exe in ["pre-push", "post-push", "merge-driver", "pre-receive"] {
        let libexec = sb.path().join("home/.local/libexec/mainstay");
        assert!(libexec.join(exe).is_file(), "{exe} off PATH");
    }
    assert!(
        said.contains("is not on PATH"),
        "says how to put it there: {said}"
    );
    assert!(
        said.contains("Finished"),
        "cargo's own progress is shown: {said}"
    );
    let installed = |name: &str| prefix.join(name);
    let check = sb
        .command(installed("install-hooks"), &repo)
        .arg("--check")
        .output()
        .expect("check");
    assert!(
        check.status.success(),
        "{}",
        describe("install-hooks --check", &repo, &check)
    );
    // Upgrading is running it again: every clone set up from these executables follows.
    std::fs::write(repo.join(".git/hooks/mainstay"), "stale").expect("make a hook stale");
    let out = install_sh(
        &sb,
        &elsewhere,
        &["--prefix", prefix.to_str().expect("utf-8")],
    );
    assert!(
        out.status.success(),
        "{}",
        describe("install.sh again", &elsewhere, &out)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!("upgraded {}", repo.display())),
        "{said}"
    );
    let check = sb
        .command(installed("install-hooks"), &repo)
        .arg("--check")
        .output()
        .expect("check");
    assert!(
        check.status.success(),
        "{}",
        describe("--check after the upgrade", &repo, &check)
    );
    // A bad option is one line and exit 2.
    let out = install_sh(&sb, &elsewhere, &["--nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim().lines().count(),
        1
    );
}

#[test]
fn init_writes_a_starter_configuration_that_parses_and_says_what_next() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    sb.git(
        &work,
        &["remote", "set-url", "origin", "git@github.com:acme/web.git"],
    );
    std::fs::create_dir_all(work.join(".do")).expect("mkdir");
    std::fs::write(work.join(".do/app.yaml"), "name: web\n").expect("write");
    let out = sb.run("mainstay", &work, &["init"]);
    assert!(
        out.status.success(),
        "{}",
        describe("mainstay init", &work, &out)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("found the deploy remote is on GitHub: acme/web"),
        "{said}"
    );
    assert!(
        said.contains("next:") && said.contains("install-hooks"),
        "{said}"
    );
    let text = read(&work.join(".mainstay.toml"));
    assert!(
        text.contains("# repo = \"acme/web\"") && text.contains("[deploy.digitalocean]"),
        "{text}"
    );
    mainstay::config::Config::parse(&text, Path::new(".mainstay.toml"))
        .expect("it parses as written");
    let again = sb.run("mainstay", &work, &["init"]);
    assert_eq!(again.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[test]
fn init_suggests_the_source_a_package_json_deploy_script_names() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    sb.git(
        &work,
        &[
            "remote",
            "set-url",
            "origin",
            "https://github.com/acme/site.git",
        ],
    );
    std::fs::write(
        work.join("package.json"),
        r#"{"name": "site", "scripts": {"build": "astro build", "deploy": "netlify deploy --prod"}}"#,
    )
    .expect("write");
    let out = sb.run("mainstay", &work, &["init"]);
    assert!(
        out.status.success(),
        "{}",
        describe("mainstay init", &work, &out)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("package.json's `deploy` script deploys with Netlify")
            && said.contains("[deploy.netlify] below"),
        "{said}"
    );
    let text = read(&work.join(".mainstay.toml"));
    // A script's deploy bypasses Netlify's Git integration: no GitHub deployment comes of it.
    assert!(
        text.contains("# [deploy.netlify]\n# site_id = \"\""),
        "{text}"
    );
    mainstay::config::Config::parse(&text, Path::new(".mainstay.toml")).expect("it parses");
}

#[test]
fn status_wait_takes_its_time_with_an_equals_sign_and_a_revision_after_it() {
    let app = App::start("", vec![200]);
    let deploy = Deploy::new("");
    *app.commit.lock().expect("commit") = deploy.sha.clone();
    std::fs::write(deploy.repo.join(".mainstay.toml"), app.config(None, "1s")).expect("config");
    assert_eq!(deploy.run(), "success");
    let out = deploy.status(&["--wait", &deploy.sha[..10]]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        describe("status --wait <rev>", &deploy.repo, &out)
    );
    let out = deploy.status(&["--wait=5", &deploy.sha]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        describe("status --wait=5 <rev>", &deploy.repo, &out)
    );
}

/// No source configured and no monitor ran for the commit: nothing can ever answer, so
/// `--wait` answers not found at once instead of waiting out its time.
#[test]
fn status_wait_on_a_commit_nothing_can_answer_says_not_found_at_once() {
    let deploy = Deploy::new("");
    let unknown = "1234567890abcdef1234567890abcdef12345678";
    let child = deploy
        .command(&["status", "--wait=600", unknown])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run mainstay status");
    // Killed if the test fails before it ends.
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Kill(child);
    let mut status = None;
    wait_until("status --wait=600 to answer", || {
        status = child.0.try_wait().expect("poll status");
        status.is_some()
    });
    assert_eq!(status.and_then(|s| s.code()), Some(3));
}

#[test]
fn the_first_mistakes_get_one_line_that_helps() {
    let sb = Sandbox::new();
    let outside = sb.path().join("not-a-repo");
    std::fs::create_dir_all(&outside).expect("mkdir");
    for (program, args, code) in [
        ("mainstay", &["status"][..], 4),
        ("install-hooks", &[][..], 2),
    ] {
        let out = sb.run(program, &outside, args);
        assert_eq!(out.status.code(), Some(code), "{program}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            said.contains("is not inside a git repository"),
            "{program}: {said}"
        );
        assert_eq!(said.trim().lines().count(), 1, "{program}: {said}");
        assert!(
            !said.contains("rev-parse"),
            "no raw git command line: {said}"
        );
    }
    let out = sb.run("mainstay", &outside, &["stauts"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("similar subcommand"));
}
