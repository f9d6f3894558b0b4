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

/// A force push of main in a fresh clone: refused when mainstay's hooks run.
fn force_push_refused(sb: &Sandbox, name: &str) -> bool {
    let remote = sb.remote(&format!("{name}-remote"));
    let work = sb.clone_repo(&remote, name);
    let first = sb.git(&work, &["rev-parse", "HEAD"]);
    write(&work.join("a.txt"), "1\n");
    sb.git(&work, &["add", "a.txt"]);
    // Past any pre-commit that blocks: the push is what is tried.
    sb.git(&work, &["commit", "-q", "--no-verify", "-m", "one"]);
    sb.git(&work, &["push", "-q", "origin", "main"]);
    sb.git(&work, &["reset", "-q", "--hard", &first]);
    let out = sb.git_output(&work, &["push", "-q", "--force", "origin", "main"]);
    !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("refusing to force-push")
}

/// An earlier global hooks directory whose `pre-commit` blocks every commit.
fn blocking_hooks(sb: &Sandbox, name: &str) -> PathBuf {
    let dir = sb.path().join(name);
    executable(
        &dir.join("pre-commit"),
        "#!/bin/sh\ncase \"$PWD\" in *-seed) exit 0 ;; esac\necho blocked-by-earlier >&2\nexit 3\n",
    );
    dir
}

/// Whether a commit in a fresh clone under `parent` is blocked by that `pre-commit`.
fn commit_blocked(sb: &Sandbox, parent: &str) -> bool {
    let remote = sb.remote(&format!("{}-r", parent.replace('/', "-")));
    let dir = sb.path().join(parent);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let work = sb.clone_repo(&remote, &format!("{parent}/clone"));
    write(&work.join("b.txt"), "b\n");
    sb.git(&work, &["add", "b.txt"]);
    let out = sb.git_output(&work, &["commit", "-q", "-m", "b"]);
    !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("blocked-by-earlier")
}

#[test]
fn a_hooks_path_included_after_core_is_installed_over_and_handed_on_to() {
    // See: issue 22, settings read as git reads them.
    let sb = Sandbox::new();
    let earlier = blocking_hooks(&sb, "org-hooks");
    let gitconfig = sb.path().join("home/.gitconfig");
    let inc = sb.path().join("home/org.inc");
    write(
        &inc,
        &format!("[core]\n\thooksPath = {}\n", earlier.display()),
    );
    let before = format!(
        "{}[core]\n\tautocrlf = false\n[include]\n\tpath = org.inc\n",
        read(&gitconfig)
    );
    std::fs::write(&gitconfig, &before).expect("write");
    let said = global_ok(&sb, &[]);
    assert!(
        said.contains("set core.hooksPath again at the end"),
        "{said}"
    );
    assert!(
        global(&sb, &["--check"]).status.success(),
        "{}",
        describe("--check", sb.path(), &global(&sb, &["--check"]))
    );
    assert!(force_push_refused(&sb, "after"), "mainstay runs");
    assert!(
        commit_blocked(&sb, "c1"),
        "the organisation's pre-commit still runs"
    );
    global_ok(&sb, &["--uninstall"]);
    assert_eq!(read(&gitconfig), before);
}

#[test]
fn a_hooks_path_included_before_core_or_in_xdg_or_system_config_is_handed_on_to() {
    for place in ["include-before", "xdg", "system"] {
        let sb = Sandbox::new();
        let earlier = blocking_hooks(&sb, "org-hooks");
        let value = format!("[core]\n\thooksPath = {}\n", earlier.display());
        let gitconfig = sb.path().join("home/.gitconfig");
        let system = sb.path().join("system-gitconfig");
        match place {
            "include-before" => {
                write(&sb.path().join("home/org.inc"), &value);
                let text = format!("[include]\n\tpath = org.inc\n{}", read(&gitconfig));
                std::fs::write(&gitconfig, text).expect("write");
            }
            "xdg" => write(&sb.path().join("home/.config/git/config"), &value),
            _ => write(&system, &value),
        }
        let run = |args: &[&str]| {
            let mut cmd = sb.command(crate::util::bin("install-hooks"), sb.path());
            if place == "system" {
                cmd.env_remove("GIT_CONFIG_NOSYSTEM")
                    .env("GIT_CONFIG_SYSTEM", &system);
            }
            cmd.arg("--global").args(args).output().expect("run")
        };
        let out = run(&[]);
        assert!(
            out.status.success(),
            "{place}: {}",
            describe("--global", sb.path(), &out)
        );
        let out = run(&["--check"]);
        assert!(
            out.status.success(),
            "{place}: {}",
            describe("--check", sb.path(), &out)
        );
        let dispatcher = read(&hooks_dir(&sb).join("pre-commit"));
        assert!(
            dispatcher.contains(&earlier.join("pre-commit").display().to_string()),
            "{place}: hands on to the hooks git ran before: {dispatcher}"
        );
        if place != "system" {
            assert!(
                commit_blocked(&sb, "c"),
                "{place}: the earlier pre-commit still runs"
            );
            assert!(force_push_refused(&sb, "w"), "{place}: mainstay runs");
        }
    }
}

#[test]
fn an_include_if_gitdir_hooks_path_in_either_order_is_installed_over_and_handed_on_to() {
    for order in ["before", "after"] {
        let sb = Sandbox::new();
        let earlier = blocking_hooks(&sb, "org-hooks");
        let gitconfig = sb.path().join("home/.gitconfig");
        write(
            &sb.path().join("home/org.inc"),
            &format!("[core]\n\thooksPath = {}\n", earlier.display()),
        );
        let include = format!(
            "[includeIf \"gitdir:{}/org/\"]\n\tpath = org.inc\n",
            sb.path().display()
        );
        let text = match order {
            "before" => format!("{include}{}", read(&gitconfig)),
            _ => format!("{}[core]\n\tautocrlf = false\n{include}", read(&gitconfig)),
        };
        std::fs::write(&gitconfig, &text).expect("write");
        global_ok(&sb, &[]);
        assert!(global(&sb, &["--check"]).status.success(), "{order}");
        // Under org/, the organisation's pre-commit still runs; elsewhere, the clone's own.
        assert!(
            commit_blocked(&sb, "org/x"),
            "{order}: org's pre-commit runs under org/"
        );
        assert!(
            !commit_blocked(&sb, "elsewhere/x"),
            "{order}: not elsewhere"
        );
        let remote = sb.remote("org-push");
        let work = sb.clone_repo(&remote, "org/pushing");
        let first = sb.git(&work, &["rev-parse", "HEAD"]);
        write(&work.join("a.txt"), "1\n");
        sb.git(&work, &["add", "a.txt"]);
        sb.git(&work, &["commit", "-q", "--no-verify", "-m", "one"]);
        sb.git(&work, &["push", "-q", "origin", "main"]);
        sb.git(&work, &["reset", "-q", "--hard", &first]);
        let out = sb.git_output(&work, &["push", "-q", "--force", "origin", "main"]);
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("refusing to force-push"),
            "{order}: mainstay runs under org/: {}",
            describe("push", &work, &out)
        );
        let check = sb.run("install-hooks", &work, &["--check"]);
        assert!(
            check.status.success(),
            "{order}: {}",
            describe("--check in org/", &work, &check)
        );
        global_ok(&sb, &["--uninstall"]);
        assert_eq!(read(&gitconfig), text, "{order}");
    }
}

#[test]
fn the_dispatchers_find_the_repository_git_names_and_hand_on_push_to_checkout() {
    // See: issue 22, the dispatcher follows GIT_DIR and hands on every hook name.
    let sb = Sandbox::new();
    global_ok(&sb, &[]);
    let remote = sb.remote("remote");
    let a = sb.clone_repo(&remote, "a");
    let b = sb.clone_repo(&remote, "b");
    executable(
        &a.join(".git/hooks/pre-commit"),
        "#!/bin/sh\necho a-blocks >&2\nexit 4\n",
    );
    executable(&b.join(".git/hooks/pre-commit"), "#!/bin/sh\nexit 0\n");
    write(&b.join("x.txt"), "x\n");
    let git_dir = format!("--git-dir={}", a.join(".git").display());
    let work_tree = format!("--work-tree={}", b.display());
    sb.git(&b, &[&git_dir, &work_tree, "add", "x.txt"]);
    let out = sb.git_output(&b, &[&git_dir, &work_tree, "commit", "-q", "-m", "x"]);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("a-blocks"),
        "A's own pre-commit runs, not B's: {}",
        describe("commit", &b, &out)
    );
    // A checked-out repository pushed to keeps its own push-to-checkout.
    let target = sb.clone_repo(&remote, "target");
    sb.git(
        &target,
        &["config", "receive.denyCurrentBranch", "updateInstead"],
    );
    let seen = sb.path().join("push-to-checkout-ran");
    executable(
        &target.join(".git/hooks/push-to-checkout"),
        &format!("#!/bin/sh\necho \"$1\" > '{}'\nexit 1\n", seen.display()),
    );
    let pusher = sb.clone_repo(&target, "pusher");
    sb.commit(&pusher, "p.txt", "p\n", "p");
    let out = sb.git_output(&pusher, &["push", "-q", "origin", "main"]);
    assert!(!out.status.success(), "{}", describe("push", &pusher, &out));
    assert!(
        !read(&seen).is_empty(),
        "the repository's push-to-checkout ran"
    );
    // With none of its own, git's own update of the work tree happens, as without mainstay.
    std::fs::remove_file(target.join(".git/hooks/push-to-checkout")).expect("remove");
    let out = sb.git_output(&pusher, &["push", "-q", "origin", "main"]);
    assert!(out.status.success(), "{}", describe("push", &pusher, &out));
    assert_eq!(read(&target.join("p.txt")), "p\n");
}

#[test]
fn a_hook_that_is_not_executable_stays_off() {
    // See: issue 22, a hook git ignores is not switched on by an install.
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    let hook = work.join(".git/hooks/pre-push");
    write(&hook, "#!/bin/sh\necho off-hook-ran >&2\nexit 1\n");
    sb.install(&work);
    sb.commit(&work, "a.txt", "1\n", "one");
    let out = sb.git_output(&work, &["push", "-q", "origin", "main"]);
    assert!(
        out.status.success() && !String::from_utf8_lossy(&out.stderr).contains("off-hook-ran"),
        "{}",
        describe("push", &work, &out)
    );
    let out = sb.run("install-hooks", &work, &["--uninstall"]);
    assert!(out.status.success());
    assert!(read(&hook).contains("off-hook-ran"), "it is back");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&hook).expect("stat").permissions(),
    );
    assert_eq!(mode & 0o111, 0, "and still off");
    assert!(!work.join(".git/hooks/pre-push.off").exists());
}

/// `install-hooks --upgrade`, which must succeed; what it printed.
fn upgrade(sb: &Sandbox) -> String {
    let out = sb.run("install-hooks", sb.path(), &["--upgrade"]);
    assert!(
        out.status.success(),
        "{}",
        describe("--upgrade", sb.path(), &out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_clone_installed_before_the_global_install_is_retired_by_one_command() {
    // See: issue 24, --global that behaves.
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "early");
    sb.install(&work);
    sb.git(&work, &["add", ".gitattributes"]);
    sb.git(&work, &["commit", "-q", "-m", "route the ledgers"]);
    global_ok(&sb, &[]);
    let said = upgrade(&sb);
    assert!(!said.contains("upgraded"), "no phantom change: {said}");
    let check = sb.run("install-hooks", &work, &["--check"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&check.stdout).contains("it retires this clone's own"),
        "{}",
        describe("--check", &work, &check)
    );
    let said = sb.install(&work);
    assert!(said.contains("retired this clone's own install"), "{said}");
    let check = sb.run("install-hooks", &work, &["--check"]);
    assert!(
        check.status.success(),
        "{}",
        describe("--check", &work, &check)
    );
    assert!(!work.join(".git/hooks/pre-push").exists());
    assert!(force_push_refused(&sb, "after-retire"));
    let out = sb.run("install-hooks", &work, &["--uninstall"]);
    assert!(out.status.success());
    assert!(
        work.join(".gitattributes").is_file(),
        "the committed file stays"
    );
    assert_eq!(sb.git(&work, &["status", "--porcelain"]), "");
}

#[test]
fn an_uninstall_of_a_clone_never_deletes_a_committed_gitattributes() {
    // See: issue 24, nothing of ours deletes a committed file.
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    sb.install(&work);
    sb.git(&work, &["add", ".gitattributes"]);
    sb.git(&work, &["commit", "-q", "-m", "route the ledgers"]);
    let out = sb.run("install-hooks", &work, &["--uninstall"]);
    assert!(
        out.status.success(),
        "{}",
        describe("--uninstall", &work, &out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("it is committed"),
        "{}",
        describe("--uninstall", &work, &out)
    );
    assert_eq!(sb.git(&work, &["status", "--porcelain"]), "");
}

#[test]
fn a_global_uninstall_stays_uninstalled_through_the_next_upgrade() {
    // See: issue 24, an uninstall that kept the exclude lines is not undone by --upgrade.
    let sb = Sandbox::new();
    global_ok(&sb, &[]);
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
    assert!(said.contains("kept the status-file lines"), "{said}");
    let said = upgrade(&sb);
    assert!(!said.contains("upgraded"), "{said}");
    let out = sb.git_output(sb.path(), &["config", "--global", "core.hooksPath"]);
    assert!(!out.status.success(), "core.hooksPath stays unset");
    assert!(!hooks_dir(&sb).join("pre-push").exists());
}

#[test]
fn a_hooks_path_set_in_the_environment_is_named_by_check_and_doctor() {
    // See: issue 22, where mainstay cannot be the one git reads, --check says so with the fix.
    let sb = Sandbox::new();
    global_ok(&sb, &[]);
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    let other = sb.path().join("elsewhere");
    let run = |program: &str, args: &[&str]| {
        sb.command(crate::util::bin(program), &work)
            .env("GIT_CONFIG_COUNT", "1")
            .env("GIT_CONFIG_KEY_0", "core.hooksPath")
            .env("GIT_CONFIG_VALUE_0", &other)
            .args(args)
            .output()
            .expect("run")
    };
    let out = run("install-hooks", &["--check"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("--check", &work, &out)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("GIT_CONFIG_* variable") && said.contains("unset it"),
        "{said}"
    );
    let out = run("mainstay", &["doctor"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("unset it"),
        "{}",
        describe("doctor", &work, &out)
    );
}
