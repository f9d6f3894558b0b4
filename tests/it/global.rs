//! `install-hooks --global`: one step for every clone on the machine, in a sandboxed `HOME` and
//! `XDG_CONFIG_HOME`, with clones made after it and their own hooks.
//!
//! See: the every-clone-protected issue.

use std::path::{Path, PathBuf};

use crate::util::{Sandbox, describe, read, wait_until, write};

fn global(sb: &Sandbox, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--global"];
    all.extend_from_slice(args);
    sb.run("install-hooks", sb.path(), &all)
}

fn global_ok(sb: &Sandbox, args: &[&str]) -> String {
    let out = global(sb, args);
    assert!(
        out.status.success(),
        "{}",
        describe("install-hooks --global", sb.path(), &out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn hooks_dir(sb: &Sandbox) -> PathBuf {
    sb.path().join("home/.config/mainstay/hooks")
}

fn executable(path: &Path, text: &str) {
    write(path, text);
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
}

#[test]
fn a_clone_made_after_the_global_install_is_protected_and_followed() {
    let sb = Sandbox::new();
    let said = global_ok(&sb, &[]);
    assert!(
        said.contains("set global git config core.hooksPath"),
        "{said}"
    );
    assert_eq!(
        sb.git(sb.path(), &["config", "--global", "core.hooksPath"]),
        hooks_dir(&sb).display().to_string()
    );
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "fresh");
    assert!(
        !work.join(".git/mainstay/install.json").exists(),
        "no per-clone step"
    );
    let first = sb.git(&work, &["rev-parse", "HEAD"]);
    let sha = sb.commit(&work, "a.txt", "1\n", "one");
    let out = sb.git_output(&work, &["push", "-q", "origin", "main"]);
    assert!(out.status.success(), "{}", describe("push", &work, &out));
    let log = sb.common_dir(&work).join("mainstay/post-push.log");
    wait_until("post-push to decide", || read(&log).contains(&sha));
    assert!(read(&log).contains("landed"), "{}", read(&log));
    sb.git(&work, &["reset", "-q", "--hard", &first]);
    let out = sb.git_output(&work, &["push", "-q", "--force", "origin", "main"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to force-push"));
    let check = sb.run("install-hooks", &work, &["--check"]);
    assert!(
        check.status.success(),
        "{}",
        describe("--check in the clone", &work, &check)
    );
    assert!(global(&sb, &["--check"]).status.success());
    assert!(
        global_ok(&sb, &[]).contains("nothing changed"),
        "idempotent"
    );
}

#[test]
fn the_ledger_drivers_work_in_a_fresh_clone_whose_attributes_route_the_ledgers() {
    let sb = Sandbox::new();
    global_ok(&sb, &[]);
    let remote = sb.remote("remote");
    let seed = sb.clone_repo(&remote, "seed");
    let ledger = "docs/ACTIVE_SESSIONS.md";
    write(
        &seed.join(".gitattributes"),
        &format!("{ledger} merge=mainstay-sessions\n"),
    );
    let base = "# Sessions\n\n- Session-20260101-A-000001-aaaaaa: one\n";
    write(&seed.join(ledger), base);
    sb.git(&seed, &["add", "-A"]);
    sb.git(&seed, &["commit", "-q", "-m", "base"]);
    sb.git(&seed, &["push", "-q", "origin", "main"]);
    let work = sb.clone_repo(&remote, "fresh");
    sb.git(&work, &["checkout", "-q", "-b", "other"]);
    sb.commit(
        &work,
        ledger,
        &format!("{base}- Session-20261201-B-000001-bbbbbb: two\n"),
        "b",
    );
    sb.git(&work, &["checkout", "-q", "main"]);
    sb.commit(
        &work,
        ledger,
        &format!("{base}- Session-20261201-C-000001-cccccc: three\n"),
        "c",
    );
    let out = sb.git_output(&work, &["merge", "-q", "--no-edit", "other"]);
    assert!(out.status.success(), "{}", describe("merge", &work, &out));
    let merged = read(&work.join(ledger));
    assert!(
        merged.contains(": two") && merged.contains(": three") && !merged.contains("<<<<<<<"),
        "{merged}"
    );
}

#[test]
fn a_clones_own_hooks_still_run_and_still_block() {
    let sb = Sandbox::new();
    global_ok(&sb, &[]);
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "fresh");
    let seen = sb.path().join("seen");
    executable(
        &work.join(".git/hooks/commit-msg"),
        &format!(
            "#!/bin/sh\necho \"commit-msg $(head -n1 \"$1\")\" >> '{}'\n",
            seen.display()
        ),
    );
    executable(
        &work.join(".git/hooks/pre-commit"),
        "#!/bin/sh\n[ ! -e block-commit ] || exit 7\n",
    );
    sb.commit(&work, "a.txt", "1\n", "first message");
    assert_eq!(read(&seen), "commit-msg first message\n");
    write(&work.join("block-commit"), "");
    write(&work.join("b.txt"), "2\n");
    sb.git(&work, &["add", "b.txt"]);
    let out = sb.git_output(&work, &["commit", "-q", "-m", "blocked"]);
    assert!(!out.status.success(), "the clone's pre-commit still blocks");
    // A linked worktree, whose `.git` is a file, runs the clone's hooks too.
    let linked = sb.path().join("linked");
    sb.git(
        &work,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "side",
            linked.to_str().expect("utf-8"),
        ],
    );
    write(&linked.join("block-commit"), "");
    write(&linked.join("c.txt"), "3\n");
    sb.git(&linked, &["add", "c.txt"]);
    let out = sb.git_output(&linked, &["commit", "-q", "-m", "blocked too"]);
    assert!(
        !out.status.success(),
        "the linked worktree's commit is blocked"
    );
    std::fs::remove_file(work.join("block-commit")).expect("remove");
    sb.git(&work, &["commit", "-q", "-m", "allowed"]);
    // Its own pre-push gets git's arguments and stdin, and blocks too.
    executable(
        &work.join(".git/hooks/pre-push"),
        &format!(
            "#!/bin/sh\ncat > '{}.stdin'\necho \"$1 $2\" > '{}.args'\nexit 9\n",
            seen.display(),
            seen.display()
        ),
    );
    let out = sb.git_output(&work, &["push", "-q", "origin", "main"]);
    assert!(!out.status.success(), "{}", describe("push", &work, &out));
    assert!(read(&seen.with_extension("args")).starts_with("origin "));
    assert!(read(&seen.with_extension("stdin")).starts_with("refs/heads/main "));
}

#[test]
fn a_clone_with_its_own_hooks_path_is_named_with_the_fix() {
    let sb = Sandbox::new();
    global_ok(&sb, &[]);
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "husky-style");
    sb.git(&work, &["config", "core.hooksPath", ".husky/_"]);
    let out = sb.run("install-hooks", &work, &["--check"]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("overrides mainstay's global hooks")
            && said.contains("run install-hooks in this clone"),
        "{said}"
    );
    let out = sb.run("mainstay", &work, &["doctor"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("overrides mainstay's global hooks"));
    // The fix, as said: a per-clone install where this clone reads its hooks.
    sb.install(&work);
    assert!(
        sb.run("install-hooks", &work, &["--check"])
            .status
            .success()
    );
}

#[test]
fn uninstall_puts_back_the_global_config_byte_for_byte_and_an_earlier_hooks_path() {
    let sb = Sandbox::new();
    let earlier = sb.path().join("earlier-hooks");
    let ran = sb.path().join("earlier-ran");
    executable(
        &earlier.join("post-commit"),
        &format!("#!/bin/sh\necho ran >> '{}'\n", ran.display()),
    );
    let gitconfig = sb.path().join("home/.gitconfig");
    let before = format!(
        "{}[core]\n\thooksPath = {}\n",
        read(&gitconfig),
        earlier.display()
    );
    std::fs::write(&gitconfig, &before).expect("write gitconfig");
    global_ok(&sb, &[]);
    // The earlier global hooks keep running, handed on to.
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    let runs = read(&ran).lines().count();
    sb.commit(&work, "a.txt", "1\n", "one");
    assert_eq!(read(&ran).lines().count(), runs + 1);
    // Upgrading is running it again: a changed executable is replaced.
    std::fs::write(hooks_dir(&sb).join("mainstay"), "stale").expect("write");
    assert!(global(&sb, &["--check"]).status.code() == Some(1));
    assert!(global_ok(&sb, &[]).contains("updated"));
    global_ok(&sb, &["--uninstall"]);
    assert_eq!(read(&gitconfig), before);
    assert!(!hooks_dir(&sb).exists());
    assert!(global_ok(&sb, &["--uninstall"]).contains("nothing changed"));
}

#[test]
fn uninstall_removes_a_global_config_it_created() {
    let sb = Sandbox::new();
    let gitconfig = sb.path().join("home/.gitconfig");
    let xdg = sb.path().join("home/.config/git/config");
    // This machine's identity lives in the XDG file; there is no ~/.gitconfig.
    let identity = read(&gitconfig);
    std::fs::remove_file(&gitconfig).expect("remove");
    write(&xdg, &identity);
    global_ok(&sb, &[]);
    assert!(read(&xdg).contains("hooksPath"));
    global_ok(&sb, &["--uninstall"]);
    assert_eq!(read(&xdg), identity);
    assert!(!gitconfig.exists());
}

#[test]
fn install_hooks_in_a_covered_clone_says_so_routes_the_ledgers_and_installs_nothing_else() {
    let sb = Sandbox::new();
    global_ok(&sb, &[]);
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "fresh");
    // As the README's quick start runs it, in the clone, with no arguments.
    let out = sb.run("install-hooks", &work, &[]);
    assert!(
        out.status.success(),
        "{}",
        describe("install-hooks in a covered clone", &work, &out)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!(
            "this clone is already covered by the machine-wide install in {}",
            hooks_dir(&sb).display()
        )),
        "{said}"
    );
    assert!(
        read(&work.join(".gitattributes"))
            .contains("docs/ACTIVE_SESSIONS.md merge=mainstay-sessions"),
        "{said}"
    );
    assert!(said.contains("added "), "{said}");
    assert!(!work.join(".git/mainstay/install.json").exists());
    assert!(!work.join(".git/hooks/pre-push").exists());
    let again = sb.run("install-hooks", &work, &[]);
    assert!(again.status.success());
    assert!(!String::from_utf8_lossy(&again.stdout).contains("added"));
    assert!(
        sb.run("install-hooks", &work, &["--check"])
            .status
            .success()
    );
    let out = sb.run("install-hooks", &work, &["--uninstall"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("install-hooks --global --uninstall"));
    assert!(global(&sb, &["--check"]).status.success());
}

#[test]
fn an_earlier_hooks_path_written_with_a_tilde_still_runs_and_still_blocks() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    executable(
        &sb.path().join("home/.githooks/pre-commit"),
        "#!/bin/sh\nexit 5\n",
    );
    let gitconfig = sb.path().join("home/.gitconfig");
    let before = format!("{}[core]\n\thooksPath = ~/.githooks\n", read(&gitconfig));
    std::fs::write(&gitconfig, &before).expect("write gitconfig");
    global_ok(&sb, &[]);
    let work = sb.clone_repo(&remote, "work");
    write(&work.join("a.txt"), "1\n");
    sb.git(&work, &["add", "a.txt"]);
    let out = sb.git_output(&work, &["commit", "-q", "-m", "blocked"]);
    assert!(
        !out.status.success(),
        "the earlier global pre-commit still blocks: {}",
        describe("commit", &work, &out)
    );
    global_ok(&sb, &["--uninstall"]);
    assert_eq!(read(&gitconfig), before);
}

#[test]
fn uninstall_restores_a_hand_written_line_byte_for_byte_and_keeps_later_edits() {
    let sb = Sandbox::new();
    let gitconfig = sb.path().join("home/.gitconfig");
    let before = format!(
        "{}[core]\n\thookspath=/x   ; set by ops\n",
        read(&gitconfig)
    );
    std::fs::write(&gitconfig, &before).expect("write gitconfig");
    global_ok(&sb, &[]);
    global_ok(&sb, &["--uninstall"]);
    assert_eq!(read(&gitconfig), before);
    // Someone adds a setting after the install: it stays, and mainstay's lines go.
    global_ok(&sb, &[]);
    sb.git(sb.path(), &["config", "--global", "alias.st", "status"]);
    let said = global_ok(&sb, &["--uninstall"]);
    assert!(
        said.contains("keeping the edits made to it since"),
        "{said}"
    );
    assert_eq!(
        read(&gitconfig),
        format!("{before}[alias]\n\tst = status\n")
    );
    // Someone changes the very line mainstay wrote: that key is left as they set it.
    global_ok(&sb, &[]);
    sb.git(
        sb.path(),
        &["config", "--global", "core.hooksPath", "/elsewhere"],
    );
    let said = global_ok(&sb, &["--uninstall"]);
    assert!(
        said.contains("left global git config core.hooksPath"),
        "{said}"
    );
    assert_eq!(
        sb.git(sb.path(), &["config", "--global", "core.hooksPath"]),
        "/elsewhere"
    );
    assert!(
        !read(&gitconfig).contains("mainstay-"),
        "{}",
        read(&gitconfig)
    );
}

#[test]
fn uninstall_keeps_the_global_exclude_lines_while_a_clone_holds_status_files() {
    let sb = Sandbox::new();
    global_ok(&sb, &[]);
    let ignore = sb.path().join("home/.config/git/ignore");
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "fresh");
    let sha = sb.commit(&work, "a.txt", "1\n", "one");
    sb.git(&work, &["push", "-q", "origin", "main"]);
    let log = sb.common_dir(&work).join("mainstay/post-push.log");
    wait_until("post-push to start the monitor", || {
        read(&log).contains(&format!("{sha} landed"))
    });
    wait_until("the monitor to end", || {
        sb.run("mainstay", &work, &["status", &sha]).status.code() != Some(2)
    });
    let said = global_ok(&sb, &["--uninstall"]);
    assert!(
        said.contains("kept the status-file lines") && said.contains(&work.display().to_string()),
        "{said}"
    );
    assert!(read(&ignore).contains(".deployment-status-*"));
    let untracked = sb.git(&work, &["status", "--porcelain"]);
    assert_eq!(untracked, "", "status files stay ignored");
    for entry in std::fs::read_dir(&work).expect("list") {
        let path = entry.expect("entry").path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(".deployment-"))
        {
            std::fs::remove_file(path).expect("remove a status file");
        }
    }
    let said = global_ok(&sb, &["--uninstall"]);
    assert!(said.contains("removed the lines"), "{said}");
    assert!(!ignore.exists());
    assert!(!sb.path().join("home/.config/mainstay").exists());
}
