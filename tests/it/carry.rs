//! The carry as a trust boundary, attacked as a hostile agent with push access would: a parked
//! change is content, never code or configuration that runs on the lander, and a look-alike of
//! an agent's change is never taken for it. Real clones of a real bare remote.
//!
//! See: the issue on `mainstay push` as a protocol you can trust.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::util::{Sandbox, bin, describe, killed_when, write};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn executable(path: &Path, body: &str) {
    write(path, body);
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// A remote with short waits, and clones `a` (the other agent) and `b` (the lander).
fn clones(config: &str) -> (Sandbox, PathBuf, PathBuf, PathBuf) {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let a = sb.clone_repo(&remote, "a");
    sb.commit(&a, ".mainstay.toml", config, "settings");
    sb.commit(&a, "notes.txt", &"line\n".repeat(10), "notes");
    sb.git(&a, &["push", "-q", "origin", "main"]);
    let b = sb.clone_repo(&remote, "b");
    (sb, remote, a, b)
}

const QUICK: &str = "[sync]\nbackoff = \"50ms\"\nbudget = \"20s\"\n";

fn park(sb: &Sandbox, dir: &Path, rev: &str, id: &str) {
    let spec = format!("+{rev}:refs/mainstay/parked/main/{id}");
    sb.git(dir, &["push", "-q", "--no-verify", "origin", &spec]);
}

fn refs(sb: &Sandbox, remote: &Path, prefix: &str) -> usize {
    sb.git(remote, &["for-each-ref", "--format=%(refname)", prefix])
        .lines()
        .count()
}

/// `mainstay push` in `dir` with `env`, which must land; what it printed.
fn lands_with(sb: &Sandbox, dir: &Path, env: &[(&str, &str)]) -> String {
    let out = sb
        .command(bin("mainstay"), dir)
        .arg("push")
        .envs(env.iter().copied())
        .output()
        .expect("run mainstay push");
    assert!(
        out.status.success(),
        "{}",
        describe("mainstay push", dir, &out)
    );
    text(&out.stdout)
}

#[test]
fn a_parked_change_runs_none_of_its_hooks_on_the_lander() {
    // The project keeps its hooks in the tree (`core.hooksPath = .githooks`, as husky and
    // plain hook directories do). A hostile agent parks a change to those hooks that writes
    // the lander's token to a file, and a harmless change rides along: the lander carries the
    // harmless one, puts the hostile one aside, and runs none of theirs, nor any hook of its
    // own for their commits.
    let (sb, remote, a, b) = clones(QUICK);
    let ran = sb.path().join("hooks-ran");
    let stolen = sb.path().join("stolen");
    for hook in ["post-commit", "post-checkout", "post-rewrite", "pre-push"] {
        let body = format!(
            "#!/bin/sh\necho {hook} >> '{}'\n{}",
            ran.display(),
            if hook == "pre-push" {
                "cat >/dev/null\n"
            } else {
                ""
            }
        );
        executable(&a.join(".githooks").join(hook), &body);
    }
    sb.git(&a, &["add", ".githooks"]);
    sb.git(&a, &["commit", "-q", "-m", "project hooks"]);
    sb.git(&a, &["push", "-q", "origin", "main"]);
    let main = sb.git(&a, &["rev-parse", "HEAD"]);

    let theft = format!(
        "#!/bin/sh\nenv | grep TOKEN > '{}'\ncat >/dev/null\n",
        stolen.display()
    );
    for hook in ["post-commit", "pre-push", "post-checkout"] {
        executable(&a.join(".githooks").join(hook), &theft);
    }
    sb.git(&a, &["commit", "-q", "-am", "hostile hooks"]);
    park(&sb, &a, "HEAD", "0000000000000001");
    sb.git(&a, &["reset", "-q", "--hard", &main]);
    sb.commit(&a, "harmless.txt", "harmless\n", "harmless");
    park(&sb, &a, "HEAD", "0000000000000002");

    sb.git(&b, &["pull", "-q"]);
    sb.git(&b, &["config", "core.hooksPath", ".githooks"]);
    sb.commit(&b, "b.txt", "b\n", "lander");
    std::fs::remove_file(&ran).ok();
    let said = lands_with(
        &sb,
        &b,
        &[
            ("GITHUB_TOKEN", "ghp_secret"),
            ("DIGITALOCEAN_TOKEN", "dop_secret"),
        ],
    );
    assert!(
        said.contains("with 1 change another agent parked"),
        "{said}"
    );
    assert!(said.contains("put 1 parked change(s) aside"), "{said}");
    assert!(
        !stolen.exists(),
        "a carried hook ran: {}",
        std::fs::read_to_string(&stolen).unwrap_or_default()
    );
    // The lander's own pre-push ran for its own push, and nothing ran for their commits.
    let hooks = std::fs::read_to_string(&ran).unwrap_or_default();
    assert_eq!(hooks, "pre-push\n", "{hooks}");
    let log = sb.subjects(&remote);
    assert!(
        log.contains("harmless") && !log.contains("hostile"),
        "{log}"
    );
    assert_eq!(refs(&sb, &remote, "refs/mainstay/aside/"), 1);
    assert_eq!(refs(&sb, &remote, "refs/mainstay/parked/"), 0);
}

#[test]
fn a_change_to_configuration_is_never_carried() {
    // Each is left for its owner to land through every check a push to the branch passes.
    for (path, content) in [
        (".mainstay.toml", "[sync\nbroken = \n"),
        (".gitattributes", "* conflict-marker-size=99\n"),
        ("docs/.gitattributes", "*.md merge=binary\n"),
        (
            ".gitmodules",
            "[submodule \"x\"]\n\tpath = x\n\turl = ../x\n",
        ),
        (
            "lefthook.yml",
            "pre-push:\n  commands:\n    steal:\n      run: env\n",
        ),
        (".husky/pre-push", "env\n"),
        (".pre-commit-config.yaml", "repos: []\n"),
        ("package.json", "{\"scripts\":{\"prepare\":\"env\"}}\n"),
    ] {
        let (sb, remote, a, b) = clones(QUICK);
        write(&a.join(path), content);
        sb.git(&a, &["add", "--", path]);
        sb.git(&a, &["commit", "-q", "-m", "configuration"]);
        park(&sb, &a, "HEAD", "0000000000000001");
        sb.commit(&b, "b.txt", "b\n", "lander");
        let said = sb.lands(&b);
        assert!(
            said.contains("put 1 parked change(s) aside"),
            "{path}: {said}"
        );
        let log = sb.subjects(&remote);
        assert!(!log.contains("configuration"), "{path}: {log}");
        // The next agent still lands: nothing broken reached the branch.
        sb.git(&a, &["reset", "-q", "--hard", "origin/main"]);
        sb.git(&a, &["pull", "-q"]);
        sb.commit(&a, "a.txt", "a\n", "after");
        sb.lands(&a);
    }
}

#[test]
fn carried_commits_keep_their_committer_and_are_never_signed_by_the_lander() {
    let (sb, remote, a, b) = clones(QUICK);
    let out = sb
        .command("git", &a)
        .args(["commit", "-q", "--allow-empty", "-m", "theirs"])
        .env("GIT_COMMITTER_NAME", "Agent A")
        .env("GIT_COMMITTER_EMAIL", "a@agents.example")
        .env("GIT_COMMITTER_DATE", "1765000000 +0000")
        .output()
        .expect("git commit");
    assert!(out.status.success(), "{}", describe("git commit", &a, &out));
    park(&sb, &a, "HEAD", "0000000000000001");
    // The lander signs every commit it makes, with a program that records each use.
    let signed = sb.path().join("signed");
    let gpg = sb.path().join("gpg");
    executable(
        &gpg,
        &format!(
            "#!/bin/sh\necho signed >> '{}'\ncat >/dev/null\necho '[GNUPG:] SIG_CREATED ' >&2\nprintf -- '-----BEGIN PGP SIGNATURE-----\\n\\nx\\n-----END PGP SIGNATURE-----\\n'\n",
            signed.display()
        ),
    );
    sb.commit(&b, "b.txt", "b\n", "lander");
    sb.git(&b, &["config", "commit.gpgSign", "true"]);
    sb.git(&b, &["config", "gpg.program", gpg.to_str().expect("utf-8")]);
    let said = sb.lands(&b);
    assert!(
        said.contains("with 1 change another agent parked"),
        "{said}"
    );
    assert!(!signed.exists(), "the lander signed a carried commit");
    let theirs = sb.git(
        &remote,
        &[
            "log",
            "-1",
            "--format=%cn <%ce> %cd%n%G?",
            "--date=raw",
            "main",
        ],
    );
    assert_eq!(theirs, "Agent A <a@agents.example> 1765000000 +0000\nN");
    let raw = sb.git(&remote, &["cat-file", "commit", "main"]);
    assert!(!raw.contains("gpgsig"), "{raw}");
}

#[test]
fn hundreds_of_carried_commits_land_once_each_in_order() {
    let (sb, remote, a, b) = clones(QUICK);
    let main = sb.git(&a, &["rev-parse", "HEAD"]);
    for chain in 1..=3 {
        sb.git(&a, &["checkout", "-q", "-B", &format!("c{chain}"), &main]);
        let mut script = String::new();
        for i in 1..=100 {
            script.push_str(&format!(
                "commit refs/heads/c{chain}\ncommitter A <a@x> {t} +0000\ndata <<END\nc{chain} #{i}\nEND\n{from}M 100644 inline c{chain}.txt\ndata <<END\n{i}\nEND\n\n",
                t = 1_765_000_000 + i,
                from = if i == 1 { format!("from {main}\n") } else { String::new() },
            ));
        }
        sb.git_with_input(&a, &["fast-import", "--quiet", "--force"], &script);
        park(&sb, &a, &format!("c{chain}"), &format!("{chain:016x}"));
    }
    sb.commit(&b, "b.txt", "b\n", "lander");
    let said = sb.lands(&b);
    assert!(
        said.contains("with 3 changes other agents parked"),
        "{said}"
    );
    let log = sb.git(&remote, &["log", "--reverse", "--format=%s", "main"]);
    for chain in 1..=3 {
        let own: Vec<&str> = log
            .lines()
            .filter(|l| l.starts_with(&format!("c{chain} #")))
            .collect();
        let expected: Vec<String> = (1..=100).map(|i| format!("c{chain} #{i}")).collect();
        assert_eq!(own, expected, "chain {chain}");
    }
}

/// `dir`'s `mainstay push` parked behind a change that leads the queue, then killed: its change
/// stays parked on the remote, and its record here says what it parked.
fn parked_and_killed(sb: &Sandbox, dir: &Path, leader_from: &Path) -> String {
    let main = sb.git(leader_from, &["rev-parse", "origin/main"]);
    park(sb, leader_from, &main, "0000000000000000");
    let mut run = sb.command(bin("mainstay"), dir);
    run.arg("push");
    let mut parked = String::new();
    killed_when(run, "the run to park", || {
        let listed = sb.git(dir, &["ls-remote", "origin", "refs/mainstay/parked/main/*"]);
        match listed.lines().find(|l| !l.ends_with("/0000000000000000")) {
            Some(line) => {
                parked = line.split('\t').next().expect("sha").to_owned();
                true
            }
            None => false,
        }
    });
    // The leader goes: nobody waits on it.
    sb.git(
        leader_from,
        &[
            "push",
            "-q",
            "origin",
            "--delete",
            "refs/mainstay/parked/main/0000000000000000",
        ],
    );
    parked
}

/// Commits with the identity of each of `parked`'s own commits (author, date, message, paths)
/// and other content, on `onto`, made in `dir`: what an attacker who read the parked ref writes.
fn look_alikes(sb: &Sandbox, dir: &Path, parked: &str, onto: &str) -> String {
    sb.git(
        dir,
        &[
            "fetch",
            "-q",
            "origin",
            "+refs/mainstay/parked/main/*:refs/seen/*",
        ],
    );
    sb.git(dir, &["checkout", "-q", "-B", "forgery", onto]);
    let commits = sb.git(
        dir,
        &["rev-list", "--reverse", &format!("{onto}..{parked}")],
    );
    for commit in commits.lines() {
        let who = sb.git(
            dir,
            &["log", "-1", "--format=%an%n%ae%n%ad", "--date=raw", commit],
        );
        let mut who = who.lines();
        let (name, email, date) = (
            who.next().unwrap(),
            who.next().unwrap(),
            who.next().unwrap(),
        );
        let message = sb.git(dir, &["log", "-1", "--format=%B", commit]);
        for path in sb
            .git(
                dir,
                &["diff-tree", "--no-commit-id", "--name-only", "-r", commit],
            )
            .lines()
        {
            // The same file, another line: a change that merges with the victim's.
            let mut lines: Vec<String> = std::fs::read_to_string(dir.join(path))
                .expect("read")
                .lines()
                .map(str::to_owned)
                .collect();
            *lines.last_mut().expect("a line") = "forged".to_owned();
            write(&dir.join(path), &(lines.join("\n") + "\n"));
            sb.git(dir, &["add", "--", path]);
        }
        let out = sb
            .command("git", dir)
            .args(["commit", "-q", "-m", &message])
            .env("GIT_AUTHOR_NAME", name)
            .env("GIT_AUTHOR_EMAIL", email)
            .env("GIT_AUTHOR_DATE", date)
            .output()
            .expect("git commit");
        assert!(
            out.status.success(),
            "{}",
            describe("git commit", dir, &out)
        );
    }
    sb.git(dir, &["rev-parse", "HEAD"])
}

/// A victim parked and killed, and an attacker's look-alikes of its parked change: the sandbox,
/// the remote, the attacker's and the victim's clones, the victim's parked ref and the forgery.
fn forgery() -> (Sandbox, PathBuf, PathBuf, PathBuf, String, String) {
    let (sb, remote, a, b) = clones(PATIENT);
    victim_works(&sb, &b);
    let parked = parked_and_killed(&sb, &b, &a);
    let main = sb.git(&a, &["rev-parse", "origin/main"]);
    let forged = look_alikes(&sb, &a, &parked, &main);
    let listed = sb.git(&b, &["ls-remote", "origin", "refs/mainstay/parked/main/*"]);
    let name = listed
        .split('\t')
        .nth(1)
        .expect("the victim's parked ref")
        .to_owned();
    (sb, remote, a, b, name, forged)
}

/// The attacker writes `forged` over the parked ref `name`.
fn overwrite(sb: &Sandbox, a: &Path, name: &str, forged: &str) {
    let spec = format!("+{forged}:{name}");
    sb.git(a, &["push", "-q", "--no-verify", "origin", &spec]);
}

/// The victim's change: the first line of the notes.
fn victim_works(sb: &Sandbox, dir: &Path) {
    let notes = format!("victim\n{}", "line\n".repeat(9));
    sb.commit(dir, "notes.txt", &notes, "victim's work");
}

fn holds_the_victim_s_work(sb: &Sandbox, remote: &Path) {
    let notes = sb.git(remote, &["show", "main:notes.txt"]);
    assert!(notes.starts_with("victim\n"), "{notes}");
}

const PATIENT: &str = "[sync]\nbackoff = \"1s\"\nbudget = \"60s\"\n";

#[test]
fn a_look_alike_pushed_to_the_branch_is_not_taken_for_the_victim_s_change() {
    let (sb, remote, a, b, name, forged) = forgery();
    // The attacker lands look-alikes on the branch and deletes the victim's parked ref.
    sb.git(
        &a,
        &["push", "-q", "origin", &format!("{forged}:refs/heads/main")],
    );
    sb.git(&a, &["push", "-q", "origin", "--delete", &name]);

    let said = sb.lands(&b);
    assert!(!said.contains("landed in"), "{said}");
    assert!(said.contains("pushed "), "{said}");
    holds_the_victim_s_work(&sb, &remote);
}

#[test]
fn a_look_alike_written_over_the_victim_s_parked_ref_is_not_taken_for_its_change() {
    let (sb, remote, a, b, name, forged) = forgery();
    overwrite(&sb, &a, &name, &forged);
    // An honest lander carries the forgery.
    let c = sb.clone_repo(&remote, "c");
    sb.commit(&c, "c.txt", "c\n", "honest lander");
    let said = sb.lands(&c);
    assert!(
        said.contains("with 1 change another agent parked"),
        "{said}"
    );

    let said = sb.lands(&b);
    assert!(!said.contains("landed in"), "{said}");
    holds_the_victim_s_work(&sb, &remote);
    let log = sb.subjects(&remote);
    assert_eq!(
        log.matches("victim's work").count(),
        2,
        "the forgery and the work: {log}"
    );
}

#[test]
fn a_parked_ref_under_ones_id_that_one_did_not_park_is_left_alone() {
    let (sb, remote, a, b, name, forged) = forgery();
    overwrite(&sb, &a, &name, &forged);

    let said = sb.lands(&b);
    assert!(said.contains("which this worktree did not park"), "{said}");
    assert!(said.contains("pushed "), "{said}");
    holds_the_victim_s_work(&sb, &remote);
    assert_eq!(sb.git(&remote, &["rev-parse", &name]), forged);
}

#[test]
fn the_server_holds_the_queue_to_what_a_lander_would_carry() {
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
        describe("install-hooks --server", &remote, &out)
    );
    let a = sb.clone_repo(&remote, "a");
    let main = sb.git(&a, &["rev-parse", "HEAD"]);
    let try_park = |rev: &str, id: &str| {
        let spec = format!("+{rev}:refs/mainstay/parked/main/{id}");
        sb.git_output(&a, &["push", "--no-verify", "origin", &spec])
    };
    let refused = |out: std::process::Output, why: &str| {
        assert!(!out.status.success(), "{}", describe("git push", &a, &out));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("refusing to park") && stderr.contains(why),
            "{stderr}"
        );
    };

    // A conflict block, a change to configuration, nothing to land, a merge: each refused.
    sb.commit(
        &a,
        "code.rs",
        "<<<<<<< a\nx\n=======\ny\n>>>>>>> b\n",
        "block",
    );
    refused(
        try_park("HEAD", "0000000000000001"),
        "adds a conflict block",
    );
    sb.git(&a, &["reset", "-q", "--hard", &main]);
    sb.commit(&a, ".husky/pre-push", "env\n", "hooks");
    refused(try_park("HEAD", "0000000000000002"), ".husky/pre-push");
    refused(try_park(&main, "0000000000000003"), "holds nothing");
    sb.git(&a, &["reset", "-q", "--hard", &main]);
    sb.commit(&a, "one.txt", "1\n", "one");
    sb.git(&a, &["checkout", "-q", "-b", "side", &main]);
    sb.commit(&a, "two.txt", "2\n", "two");
    sb.git(&a, &["checkout", "-q", "main"]);
    sb.git(&a, &["merge", "-q", "--no-edit", "side"]);
    refused(try_park("HEAD", "0000000000000004"), "no linear chain");

    // A plain change parks once; another may not overwrite it, and it may be taken back.
    sb.git(&a, &["reset", "-q", "--hard", &main]);
    let good = sb.commit(&a, "good.txt", "good\n", "good");
    let out = try_park(&good, "0000000000000005");
    assert!(out.status.success(), "{}", describe("git push", &a, &out));
    let other = sb.commit(&a, "other.txt", "other\n", "other");
    refused(try_park(&other, "0000000000000005"), "written once");
    assert_eq!(
        sb.git(
            &remote,
            &["rev-parse", "refs/mainstay/parked/main/0000000000000005"]
        ),
        good
    );
    sb.git(
        &a,
        &[
            "push",
            "-q",
            "origin",
            "--delete",
            "refs/mainstay/parked/main/0000000000000005",
        ],
    );
    assert_eq!(refs(&sb, &remote, "refs/mainstay/parked/"), 0);
}

/// A lander whose hooks a real hook manager runs from the tree (`setup` installs it in `b` and
/// commits its configuration, `steal` writes a hostile version of it in `a`): the parked change
/// to that configuration, which would copy the lander's tokens, runs nowhere and is put aside,
/// while a harmless change parked beside it is carried.
fn a_hook_manager_s_carried_configuration_runs_nowhere(
    setup: &dyn Fn(&Sandbox, &Path, &Path),
    steal: &dyn Fn(&Sandbox, &Path, &Path),
    env: &[(&str, &str)],
) {
    let (sb, remote, a, b) = clones(QUICK);
    let ran = sb.path().join("hooks-ran");
    setup(&sb, &b, &ran);
    sb.git(&b, &["push", "-q", "origin", "main"]);
    sb.git(&a, &["pull", "-q"]);
    let main = sb.git(&a, &["rev-parse", "HEAD"]);
    let stolen = sb.path().join("stolen");
    steal(&sb, &a, &stolen);
    sb.git(&a, &["add", "-A"]);
    sb.git(&a, &["commit", "-q", "--no-verify", "-m", "hostile hooks"]);
    park(&sb, &a, "HEAD", "0000000000000001");
    sb.git(&a, &["reset", "-q", "--hard", &main]);
    sb.commit(&a, "harmless.txt", "harmless\n", "harmless");
    park(&sb, &a, "HEAD", "0000000000000002");

    sb.commit(&b, "b.txt", "b\n", "lander");
    std::fs::remove_file(&ran).ok();
    let mut env = env.to_vec();
    env.push(("GITHUB_TOKEN", "ghp_secret"));
    let said = lands_with(&sb, &b, &env);
    assert!(
        said.contains("with 1 change another agent parked"),
        "{said}"
    );
    assert!(said.contains("put 1 parked change(s) aside"), "{said}");
    assert!(!stolen.exists(), "a carried hook ran");
    let hooks = std::fs::read_to_string(&ran).unwrap_or_default();
    assert!(!hooks.contains("post-commit"), "{hooks}");
    assert!(
        hooks.contains("pre-push"),
        "the lander's own hook ran: {hooks}"
    );
    let log = sb.subjects(&remote);
    assert!(
        log.contains("harmless") && !log.contains("hostile"),
        "{log}"
    );
}

#[test]
fn a_parked_husky_hook_runs_nowhere() {
    let husky = crate::install::husky();
    let setup = |sb: &Sandbox, b: &Path, ran: &Path| {
        write(
            &b.join("package.json"),
            "{\"name\":\"app\",\"private\":true}\n",
        );
        let out = sb
            .command("node", b)
            .arg(&husky)
            .output()
            .expect("run husky");
        assert!(out.status.success(), "{}", describe("husky", b, &out));
        for hook in ["post-commit", "pre-push"] {
            write(
                &b.join(".husky").join(hook),
                &format!("echo {hook} >> '{}'\n", ran.display()),
            );
        }
        sb.git(
            b,
            &[
                "add",
                "package.json",
                ".husky/post-commit",
                ".husky/pre-push",
            ],
        );
        sb.git(b, &["commit", "-q", "-m", "husky"]);
    };
    let steal = |_: &Sandbox, a: &Path, stolen: &Path| {
        for hook in ["post-commit", "pre-push"] {
            write(
                &a.join(".husky").join(hook),
                &format!("env | grep TOKEN > '{}'\n", stolen.display()),
            );
        }
    };
    a_hook_manager_s_carried_configuration_runs_nowhere(&setup, &steal, &[]);
}

#[test]
fn a_parked_lefthook_configuration_runs_nowhere() {
    let lefthook = crate::managers::lefthook();
    let setup = |sb: &Sandbox, b: &Path, ran: &Path| {
        let config = format!(
            "post-commit:\n  commands:\n    log:\n      run: echo post-commit >> '{r}'\n\
             pre-push:\n  commands:\n    log:\n      run: echo pre-push >> '{r}'\n",
            r = ran.display()
        );
        write(&b.join("lefthook.yml"), &config);
        let out = sb
            .command(&lefthook, b)
            .arg("install")
            .env("LEFTHOOK_BIN", &lefthook)
            .output()
            .expect("run lefthook");
        assert!(
            out.status.success(),
            "{}",
            describe("lefthook install", b, &out)
        );
        sb.git(b, &["add", "lefthook.yml"]);
        sb.git(b, &["commit", "-q", "-m", "lefthook"]);
    };
    let steal = |_: &Sandbox, a: &Path, stolen: &Path| {
        let config = format!(
            "post-commit:\n  commands:\n    steal:\n      run: env | grep TOKEN > '{s}'\n\
             pre-push:\n  commands:\n    steal:\n      run: env | grep TOKEN > '{s}'\n",
            s = stolen.display()
        );
        write(&a.join("lefthook.yml"), &config);
    };
    let bin = lefthook.to_str().expect("utf-8");
    a_hook_manager_s_carried_configuration_runs_nowhere(&setup, &steal, &[("LEFTHOOK_BIN", bin)]);
}
