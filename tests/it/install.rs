//! `install-hooks`: install, check, uninstall, in plain clones, worktrees, custom hook paths and
//! a real husky 9 setup.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::util::{Sandbox, bin, describe, read, wait_until, write};

/// Every file in a directory tree with its mode and content, for before/after comparisons.
type Snapshot = BTreeMap<PathBuf, (u32, Vec<u8>)>;

fn snapshot(dir: &Path) -> Snapshot {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("dir entry").path();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            if meta.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("inside").to_owned();
                files.insert(
                    rel,
                    (
                        meta.permissions().mode(),
                        std::fs::read(&path).unwrap_or_default(),
                    ),
                );
            }
        }
    }
    files
}

/// Asserts two snapshots are equal, naming the files that differ.
fn assert_same(actual: &Snapshot, expected: &Snapshot) {
    let differ: Vec<_> = actual
        .keys()
        .chain(expected.keys())
        .filter(|k| actual.get(*k) != expected.get(*k))
        .map(|k| k.display().to_string())
        .collect();
    assert!(differ.is_empty(), "files differ: {differ:?}");
}

fn hooks_dir(sb: &Sandbox, dir: &Path) -> PathBuf {
    PathBuf::from(sb.git(
        dir,
        &["rev-parse", "--path-format=absolute", "--git-path", "hooks"],
    ))
}

fn check(sb: &Sandbox, dir: &Path) -> std::process::Output {
    sb.run("install-hooks", dir, &["--check"])
}

fn wait_for_landing(sb: &Sandbox, dir: &Path, sha: &str) {
    let log = sb.common_dir(dir).join("mainstay/post-push.log");
    wait_until("post-push to see the push land", || {
        read(&log).contains(&format!("{sha} landed"))
    });
}

#[test]
fn install_puts_everything_in_place() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    let said = sb.install(&work);
    assert!(said.contains("installed"), "{said}");
    let hooks = hooks_dir(&sb, &work);
    for name in ["pre-push", "post-push", "merge-driver", "mainstay"] {
        let installed = std::fs::read(hooks.join(name)).expect("installed");
        assert_eq!(
            installed,
            std::fs::read(bin(name)).expect("built"),
            "{name}"
        );
    }
    let driver = sb.git(&work, &["config", "merge.mainstay-roadmap.driver"]);
    assert_eq!(
        driver,
        format!(
            "'{}' roadmap -- %O %A %B %L %P",
            sb.common_dir(&work)
                .join("mainstay/bin/merge-driver")
                .display()
        )
    );
    assert!(
        !sb.git(&work, &["config", "merge.mainstay-sessions.name"])
            .is_empty()
    );
    let attributes = read(&work.join(".gitattributes"));
    assert!(
        attributes.contains("docs/ACTIVE_SESSIONS.md merge=mainstay-sessions"),
        "{attributes}"
    );
    assert!(
        attributes.contains("merge=mainstay-roadmap"),
        "{attributes}"
    );
    let exclude = read(&work.join(".git/info/exclude"));
    assert!(exclude.contains(".deployment-status-*") && exclude.contains(".deployment-monitor-*"));
    write(&work.join(".deployment-status-abc1234.log"), "x\n");
    assert_eq!(
        sb.git(
            &work,
            &[
                "status",
                "--porcelain",
                "--",
                ".deployment-status-abc1234.log"
            ]
        ),
        ""
    );
    let out = check(&sb, &work);
    assert!(
        out.status.success(),
        "{}",
        describe("install-hooks --check", &work, &out)
    );
}

#[test]
fn installing_twice_changes_nothing() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    sb.install(&work);
    let before = snapshot(&work);
    let said = sb.install(&work);
    assert_eq!(
        said.trim(),
        "mainstay is already installed; nothing changed"
    );
    assert_same(&snapshot(&work), &before);
}

#[test]
fn uninstall_puts_back_exactly_what_was_there() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    let hook = work.join(".git/hooks/pre-push");
    write(&hook, "#!/bin/sh\nexit 0\n");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o750)).expect("chmod");
    write(&work.join(".gitattributes"), "*.png binary");
    write(&work.join(".git/info/exclude"), "# mine\n/tmp\n");
    sb.git(
        &work,
        &["config", "merge.mainstay-roadmap.name", "a name of my own"],
    );
    let before = snapshot(&work);
    let config_before = sb.git(&work, &["config", "--local", "--list"]);
    sb.install(&work);
    assert_ne!(snapshot(&work), before);
    assert_eq!(
        read(&work.join(".git/hooks/pre-push.local")),
        "#!/bin/sh\nexit 0\n"
    );
    let out = sb.run("install-hooks", &work, &["--uninstall"]);
    assert!(
        out.status.success(),
        "{}",
        describe("install-hooks --uninstall", &work, &out)
    );
    let mut after = snapshot(&work);
    after.retain(|path, _| !path.starts_with(".git/mainstay"));
    let mut expected = before;
    expected.remove(Path::new(".git/config"));
    after.remove(Path::new(".git/config"));
    assert_same(&after, &expected);
    assert_eq!(
        sb.git(&work, &["config", "--local", "--list"]),
        config_before
    );
    let again = sb.run("install-hooks", &work, &["--uninstall"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing changed"));
}

/// Status files still in the work tree keep their exclude lines, until they are gone.
#[test]
fn uninstall_keeps_the_exclude_lines_while_status_files_remain() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    sb.install(&work);
    write(&work.join(".deployment-status-abcdef0.log"), "a run\n");
    let out = sb.run("install-hooks", &work, &["--uninstall"]);
    assert!(
        out.status.success(),
        "{}",
        describe("uninstall", &work, &out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("kept the status-file lines"));
    assert!(
        sb.git(&work, &["status", "--porcelain"]).is_empty(),
        "no untracked status file"
    );
    std::fs::remove_file(work.join(".deployment-status-abcdef0.log")).expect("remove");
    let out = sb.run("install-hooks", &work, &["--uninstall"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("removed the lines mainstay added"));
    assert!(!read(&work.join(".git/info/exclude")).contains(".deployment-status-*"));
}

#[test]
fn check_names_each_problem() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    write(
        &work.join(".gitattributes"),
        "docs/ACTIVE_SESSIONS.md merge=mainstay-sessions\n",
    );
    let out = check(&sb, &work);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("pre-push is missing"), "{said}");
    assert!(
        said.contains("merge driver `mainstay-sessions`, which this clone does not register"),
        "{said}"
    );
    sb.install(&work);
    assert!(check(&sb, &work).status.success());
    let hooks = hooks_dir(&sb, &work);
    write(&hooks.join("post-push"), "#!/bin/sh\n");
    std::fs::remove_file(hooks.join("merge-driver")).expect("remove");
    let out = check(&sb, &work);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        said.contains("post-push is not the version beside install-hooks"),
        "{said}"
    );
    assert!(said.contains("merge-driver is missing"), "{said}");
    sb.git(&work, &["config", "core.hooksPath", ".elsewhere"]);
    let said = String::from_utf8_lossy(&check(&sb, &work).stdout).into_owned();
    assert!(said.contains("but git reads hooks from"), "{said}");
}

#[test]
fn a_linked_worktree_shares_the_install_and_fires() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
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
    sb.install(&linked);
    assert!(work.join(".git/hooks/pre-push").is_file());
    let sha = sb.commit(&linked, "w.txt", "w\n", "from the worktree");
    sb.git(&linked, &["push", "-q", "origin", "HEAD:main"]);
    wait_for_landing(&sb, &linked, &sha);
    let log = linked.join(format!(".deployment-status-{}.log", &sha[..7]));
    wait_until("the status log in the linked worktree", || {
        read(&log).contains("monitoring deployment")
    });
}

#[test]
fn core_hooks_path_is_where_hooks_go() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    sb.git(&work, &["config", "core.hooksPath", ".githooks"]);
    sb.install(&work);
    assert!(work.join(".githooks/pre-push").is_file());
    assert!(!work.join(".git/hooks/pre-push").exists());
    let sha = sb.commit(&work, "a.txt", "a\n", "a");
    sb.git(&work, &["push", "-q", "origin", "main"]);
    wait_for_landing(&sb, &work, &sha);
}

/// Husky 9 from the npm registry, installed once into the build directory.
pub fn husky() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-deps/husky");
    let package = dir.join("node_modules/husky/bin.js");
    if !package.is_file() {
        let out = std::process::Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg("husky@9")
            .output()
            .expect("npm must be installed to test husky");
        assert!(
            out.status.success(),
            "{}",
            describe("npm install husky@9", &dir, &out)
        );
    }
    package
}

#[test]
fn husky_hooks_and_ours_both_run() {
    let husky = husky();
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    write(
        &work.join("package.json"),
        "{\"name\":\"app\",\"private\":true}\n",
    );
    let out = sb
        .command("node", &work)
        .arg(&husky)
        .output()
        .expect("run husky");
    assert!(out.status.success(), "{}", describe("husky", &work, &out));
    assert_eq!(sb.git(&work, &["config", "core.hooksPath"]), ".husky/_");
    let marker = sb.path().join("husky-ran");
    write(
        &work.join(".husky/pre-push"),
        &format!("echo \"husky pre-push $1\" >> '{}'\n", marker.display()),
    );
    let said = sb.install(&work);
    let hook = work.join(".husky/_/pre-push");
    let lines: Vec<&str> = said.lines().collect();
    assert!(
        lines.contains(&format!("installed {}", hook.display()).as_str()),
        "{said}"
    );
    assert!(
        lines.contains(
            &format!(
                "moved the existing {} to {}.local (it still runs, first)",
                hook.display(),
                hook.display()
            )
            .as_str()
        ),
        "{said}"
    );
    assert!(work.join(".husky/_/pre-push.local").is_file());
    let sha = sb.commit(&work, "a.txt", "a\n", "a");
    sb.git(&work, &["push", "-q", "origin", "main"]);
    assert_eq!(read(&marker), "husky pre-push origin\n");
    wait_for_landing(&sb, &work, &sha);
    // A failing husky hook still blocks the push.
    write(&work.join(".husky/pre-push"), "exit 3\n");
    sb.commit(&work, "b.txt", "b\n", "b");
    let out = sb.git_output(&work, &["push", "-q", "origin", "main"]);
    assert!(
        !out.status.success(),
        "{}",
        describe("git push", &work, &out)
    );
    // And our policy runs under husky too.
    write(&work.join(".husky/pre-push"), "exit 0\n");
    let out = sb.git_output(&work, &["push", "-q", "origin", ":main"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to delete protected branch"));
}

#[test]
fn executables_are_statically_linked() {
    for name in [
        "pre-push",
        "post-push",
        "merge-driver",
        "install-hooks",
        "mainstay",
    ] {
        let out = std::process::Command::new("ldd")
            .arg(bin(name))
            .output()
            .expect("run ldd");
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            said.contains("statically linked") || said.contains("not a dynamic executable"),
            "{name}: {said}"
        );
    }
}

#[test]
fn husky_rewriting_its_hooks_on_npm_install_leaves_mainstay_running() {
    // See: issue 24, husky's `prepare` after install-hooks.
    let husky = husky();
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    write(
        &work.join("package.json"),
        "{\"name\":\"app\",\"private\":true,\"scripts\":{\"prepare\":\"husky\"}}\n",
    );
    let run_husky = || {
        let out = sb
            .command("node", &work)
            .arg(&husky)
            .output()
            .expect("run husky");
        assert!(out.status.success(), "{}", describe("husky", &work, &out));
    };
    run_husky();
    let marker = sb.path().join("husky-ran");
    write(
        &work.join(".husky/pre-push"),
        &format!("echo \"husky pre-push $1\" >> '{}'\n", marker.display()),
    );
    let said = sb.install(&work);
    assert!(
        said.contains(".husky/pre-push that runs mainstay's pre-push first"),
        "{said}"
    );
    // What `npm install` does through `prepare`: husky writes `.husky/_` again.
    run_husky();
    let out = check(&sb, &work);
    assert!(out.status.success(), "{}", describe("--check", &work, &out));
    let sha = sb.commit(&work, "a.txt", "a\n", "a");
    sb.git(&work, &["push", "-q", "origin", "main"]);
    assert_eq!(
        read(&marker),
        "husky pre-push origin\n",
        "husky's hook ran once"
    );
    wait_for_landing(&sb, &work, &sha);
    let out = sb.git_output(&work, &["push", "-q", "origin", ":main"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refusing to delete protected branch"),
        "{}",
        describe("delete main", &work, &out)
    );
    // A teammate's clone without mainstay: the committed line does nothing, husky runs.
    sb.git(
        &work,
        &["add", ".husky/pre-push", "package.json", ".gitattributes"],
    );
    sb.git(&work, &["commit", "-q", "-m", "husky and mainstay"]);
    sb.git(&work, &["push", "-q", "origin", "main"]);
    let mate = sb.clone_repo(&remote, "mate");
    let out = sb
        .command("node", &mate)
        .arg(&husky)
        .output()
        .expect("husky");
    assert!(out.status.success());
    sb.commit(&mate, "m.txt", "m\n", "m");
    let out = sb.git_output(&mate, &["push", "-q", "origin", "main"]);
    assert!(
        out.status.success(),
        "{}",
        describe("push without mainstay", &mate, &out)
    );
    // Uninstalling leaves the committed line (the project's) and nothing else of ours.
    let out = sb.run("install-hooks", &work, &["--uninstall"]);
    assert!(
        out.status.success(),
        "{}",
        describe("--uninstall", &work, &out)
    );
    assert!(!work.join(".git/mainstay/bin/pre-push").exists());
    assert!(!work.join(".husky/_/pre-push.local").exists());
}

#[test]
fn install_hooks_finds_the_hook_executables_in_the_packages_libexec() {
    // See: issue 24, only `mainstay` and `install-hooks` on PATH.
    let sb = Sandbox::new();
    let prefix = sb.path().join("prefix");
    let bin = prefix.join("bin");
    let libexec = prefix.join("libexec/mainstay");
    for (dir, names) in [
        (&bin, &["install-hooks", "mainstay"][..]),
        (
            &libexec,
            &["pre-push", "post-push", "merge-driver", "pre-receive"],
        ),
    ] {
        std::fs::create_dir_all(dir).expect("mkdir");
        for name in names {
            std::fs::copy(crate::util::bin(name), dir.join(name)).expect("copy");
        }
    }
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    let out = sb
        .command(bin.join("install-hooks"), &work)
        .output()
        .expect("run install-hooks");
    assert!(
        out.status.success(),
        "{}",
        describe("install-hooks", &work, &out)
    );
    let out = sb
        .command(bin.join("install-hooks"), &work)
        .arg("--check")
        .output()
        .expect("run install-hooks");
    assert!(out.status.success(), "{}", describe("--check", &work, &out));
    let sha = sb.commit(&work, "a.txt", "a\n", "a");
    sb.git(&work, &["push", "-q", "origin", "main"]);
    wait_for_landing(&sb, &work, &sha);
    let out = sb.git_output(&work, &["push", "-q", "origin", ":main"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to delete protected branch"));
}

#[test]
fn an_install_killed_midway_is_named_and_finished_by_the_next_one() {
    // See: issue 24, a half-finished install leaves the clone protected or names the one fix.
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    let ran = sb.path().join("own-ran");
    let own = work.join(".git/hooks/pre-push");
    write(
        &own,
        &format!("#!/bin/sh\necho ran >> '{}'\n", ran.display()),
    );
    std::fs::set_permissions(&own, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    sb.install(&work);
    // Killed after pre-push went in, before the rest and the manifest.
    let hooks = work.join(".git/hooks");
    for name in ["post-push", "mainstay"] {
        std::fs::remove_file(hooks.join(name)).expect("remove");
    }
    std::fs::remove_file(work.join(".git/mainstay/install.json")).expect("remove");
    let out = check(&sb, &work);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("post-push is missing: run install-hooks"),
        "{said}"
    );
    sb.install(&work);
    let out = check(&sb, &work);
    assert!(out.status.success(), "{}", describe("--check", &work, &out));
    let sha = sb.commit(&work, "a.txt", "a\n", "a");
    sb.git(&work, &["push", "-q", "origin", "main"]);
    assert_eq!(read(&ran), "ran\n", "the clone's own hook ran once");
    wait_for_landing(&sb, &work, &sha);
    let out = sb.run("install-hooks", &work, &["--uninstall"]);
    assert!(
        out.status.success(),
        "{}",
        describe("--uninstall", &work, &out)
    );
    assert!(
        read(&own).contains("own-ran"),
        "the clone's own hook is back"
    );
    assert!(!hooks.join("pre-push.local").exists());
}
