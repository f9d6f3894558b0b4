//! End to end: real `git merge`, `git rebase` and `git pull` with the driver registered, and the
//! driver's command line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

const DRIVER: &str = env!("CARGO_BIN_EXE_merge-driver");

fn fixture(case: &str, file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ledger")
        .join(case)
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A temporary home for repositories, hermetic: no system or user git config, no `GIT_*`.
struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let sandbox = Sandbox {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir(sandbox.home()).unwrap();
        for (key, value) in [
            ("user.name", "Test"),
            ("user.email", "test@example.com"),
            ("init.defaultBranch", "main"),
            ("commit.gpgSign", "false"),
            ("advice.detachedHead", "false"),
        ] {
            sandbox.git(&sandbox.home(), &["config", "--global", key, value]);
        }
        for kind in ["roadmap", "sessions"] {
            let name = format!("merge.mainstay-{kind}");
            let driver = format!("{DRIVER} {kind} %O %A %B %L %P");
            let global = |key: &str, value: &str| {
                sandbox.git(
                    &sandbox.home(),
                    &["config", "--global", &format!("{name}.{key}"), value],
                );
            };
            global("name", &format!("mainstay {kind} ledger merge"));
            global("driver", &driver);
            global("recursive", &format!("mainstay-{kind}"));
        }
        sandbox
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, program: &str, cwd: &Path, args: &[&str]) -> (Command, String) {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(cwd)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("GIT_CONFIG_NOSYSTEM", "1");
        let shown = format!("{program} {} (in {})", args.join(" "), cwd.display());
        (cmd, shown)
    }

    fn run(&self, cwd: &Path, args: &[&str]) -> Output {
        let (mut cmd, _) = self.command("git", cwd, args);
        cmd.output().unwrap()
    }

    /// Runs git and panics with everything needed to see why if it fails.
    fn git(&self, cwd: &Path, args: &[&str]) -> String {
        let (mut cmd, shown) = self.command("git", cwd, args);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{shown}: {}\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A repository with `file` (registered for `kind`) at `base`, `main` then committing
    /// `ours` and a `feature` branch from the base committing `theirs`.
    fn repo(&self, name: &str, kind: &str, file: &str, [base, ours, theirs]: [&str; 3]) -> PathBuf {
        let repo = self.path(name);
        self.git(self.dir.path(), &["init", "-q", name]);
        let attributes = format!("{file} merge=mainstay-{kind}\n");
        std::fs::write(repo.join(".gitattributes"), attributes).unwrap();
        self.commit(&repo, file, base, "base");
        self.git(&repo, &["branch", "feature"]);
        self.commit(&repo, file, ours, "ours");
        self.git(&repo, &["checkout", "-q", "feature"]);
        self.commit(&repo, file, theirs, "theirs");
        self.git(&repo, &["checkout", "-q", "main"]);
        repo
    }

    fn commit(&self, repo: &Path, file: &str, text: &str, message: &str) {
        std::fs::write(repo.join(file), text).unwrap();
        self.git(repo, &["add", "-A"]);
        self.git(repo, &["commit", "-q", "-m", message]);
    }
}

fn case_files(case: &str) -> [String; 3] {
    ["base.md", "ours.md", "theirs.md"].map(|f| fixture(case, f))
}

#[test]
fn git_merge_and_git_rebase_give_the_same_ledger() {
    let sandbox = Sandbox::new();
    let files = case_files("roadmap/both-bump-version-date-and-totals");
    let files = [&*files[0], &*files[1], &*files[2]];
    let repo = sandbox.repo("repo", "roadmap", "ROADMAP.md", files);

    sandbox.git(&repo, &["merge", "-q", "--no-edit", "feature"]);
    let merged = std::fs::read_to_string(repo.join("ROADMAP.md")).unwrap();
    sandbox.git(&repo, &["reset", "-q", "--hard", "HEAD~1"]);

    sandbox.git(&repo, &["checkout", "-q", "feature"]);
    sandbox.git(&repo, &["rebase", "-q", "main"]);
    let rebased = std::fs::read_to_string(repo.join("ROADMAP.md")).unwrap();

    assert_eq!(merged, rebased);
    assert_eq!(
        merged,
        fixture("roadmap/both-bump-version-date-and-totals", "expected.md")
    );
}

#[test]
fn git_pull_and_git_pull_rebase_give_the_same_ledger() {
    let sandbox = Sandbox::new();
    let case = "sessions/two-agents-register-sessions";
    let [base, local, remote] = case_files(case);
    let origin = sandbox.path("origin.git");
    sandbox.git(sandbox.dir.path(), &["init", "-q", "--bare", "origin.git"]);
    let origin = origin.to_str().unwrap();

    // One agent pushes its session; another registered its own meanwhile.
    sandbox.git(sandbox.dir.path(), &["clone", "-q", origin, "pusher"]);
    let pusher = sandbox.path("pusher");
    std::fs::write(
        pusher.join(".gitattributes"),
        "ACTIVE_SESSIONS.md merge=mainstay-sessions\n",
    )
    .unwrap();
    sandbox.commit(&pusher, "ACTIVE_SESSIONS.md", &base, "base");
    sandbox.git(&pusher, &["push", "-q", "origin", "main"]);
    sandbox.git(sandbox.dir.path(), &["clone", "-q", origin, "puller"]);
    let puller = sandbox.path("puller");
    sandbox.commit(&pusher, "ACTIVE_SESSIONS.md", &remote, "remote session");
    sandbox.git(&pusher, &["push", "-q", "origin", "main"]);
    sandbox.commit(&puller, "ACTIVE_SESSIONS.md", &local, "local session");
    sandbox.git(&puller, &["branch", "local"]);

    let mut results = Vec::new();
    for pull in [
        &["pull", "-q", "--no-rebase", "--no-edit"][..],
        &["pull", "-q", "--rebase"],
        &["-c", "pull.rebase=true", "pull", "-q"],
        &["-c", "pull.rebase=false", "pull", "-q", "--no-edit"],
    ] {
        sandbox.git(&puller, pull);
        let text = std::fs::read_to_string(puller.join("ACTIVE_SESSIONS.md")).unwrap();
        results.push((pull.join(" "), text));
        sandbox.git(&puller, &["reset", "-q", "--hard", "local"]);
    }
    let (_, first) = &results[0];
    for (pull, text) in &results {
        assert!(text == first, "`git {pull}` differs:\n{text}");
    }
    // The remote's row, already pushed, comes first.
    let at = |id: &str| first.find(id).unwrap();
    assert!(at("Session-20260206-UX-012-cc22dd") < at("Session-20260206-BUG-140-aa11bb"));
}

#[test]
fn a_clash_is_left_marked_on_that_row_and_logged() {
    let sandbox = Sandbox::new();
    let case = "roadmap/both-change-same-status";
    let files = case_files(case);
    let files = [&*files[0], &*files[1], &*files[2]];
    let repo = sandbox.repo("repo", "roadmap", "ROADMAP.md", files);

    let out = sandbox.run(&repo, &["merge", "-q", "--no-edit", "feature"]);
    assert!(!out.status.success(), "the merge must stop on the clash");
    let text = std::fs::read_to_string(repo.join("ROADMAP.md")).unwrap();
    assert_eq!(text, fixture(case, "expected.md"));

    let log = std::fs::read_to_string(repo.join(".git/mainstay/conflicts.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 1, "{log}");
    let record: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(record["file"], "ROADMAP.md");
    assert_eq!(
        record["keys"].as_array().unwrap().last().unwrap(),
        "SEC-003"
    );
    assert!(record["time"].as_str().unwrap().ends_with('Z'));
}

fn driver(sandbox: &Sandbox, args: &[&str]) -> Output {
    let (mut cmd, _) = sandbox.command(DRIVER, sandbox.dir.path(), args);
    cmd.output().unwrap()
}

#[test]
fn stdout_mode_prints_the_merge_and_leaves_files_alone() {
    let sandbox = Sandbox::new();
    let case = "roadmap/two-agents-append-rows";
    let names = ["base.md", "ours.md", "theirs.md"];
    for (name, text) in names.iter().zip(case_files(case)) {
        std::fs::write(sandbox.path(name), text).unwrap();
    }
    let out = driver(
        &sandbox,
        &["roadmap", "--stdout", "base.md", "ours.md", "theirs.md"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        fixture(case, "expected.md")
    );
    assert_eq!(
        std::fs::read_to_string(sandbox.path("ours.md")).unwrap(),
        fixture(case, "ours.md")
    );
}

#[test]
fn bad_input_gets_one_line_naming_it_and_a_small_nonzero_exit() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.path("a.md"), "# A\n").unwrap();
    let cases: [(&[&str], &str); 2] = [
        (&["roadmap", "missing.md", "a.md", "a.md"], "missing.md"),
        (&["wiki", "a.md", "a.md", "a.md"], "wiki"),
    ];
    for (args, named) in cases {
        let out = driver(&sandbox, args);
        let stderr = String::from_utf8(out.stderr).unwrap();
        let code = out.status.code().unwrap();
        assert!((2..128).contains(&code), "{args:?}: exit {code}");
        assert!(stderr.contains(named), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}

#[test]
fn markers_already_in_a_file_fall_back_to_a_marked_line_merge() {
    let sandbox = Sandbox::new();
    let base = "# R\n\n| Task | S |\n|---|---|\n| ST-001 | a |\n";
    let ours = "# R\n\n<<<<<<< HEAD\n=======\n>>>>>>> x\n| Task | S |\n|---|---|\n| ST-001 | b |\n";
    let theirs = "# R\n\n| Task | S |\n|---|---|\n| ST-001 | a |\n| ST-002 | c |\n";
    for (name, text) in [("o", base), ("a", ours), ("b", theirs)] {
        std::fs::write(sandbox.path(name), text).unwrap();
    }
    let out = driver(&sandbox, &["roadmap", "--stdout", "o", "a", "b"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn the_kill_switch_leaves_it_to_a_plain_line_merge() {
    let sandbox = Sandbox::new();
    let case = "roadmap/two-agents-append-rows";
    let names = ["base.md", "ours.md", "theirs.md"];
    for (name, text) in names.iter().zip(case_files(case)) {
        std::fs::write(sandbox.path(name), text).unwrap();
    }
    let (mut cmd, _) = sandbox.command(
        DRIVER,
        sandbox.dir.path(),
        &["roadmap", "--stdout", "base.md", "ours.md", "theirs.md"],
    );
    let out = cmd.env("MAINSTAY", "0").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "git merge-file conflicts on two appended rows"
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        fixture(case, "git-merge-file.md")
            .replace("ours.md", "ours")
            .replace("theirs.md", "theirs")
    );
}

#[test]
fn criss_cross_histories_merge_their_ancestors_record_wise_too() {
    let sandbox = Sandbox::new();
    let head = "# Roadmap\n\n| Task | Status |\n| ---- | ------ |\n| ST-001 | open |\n";
    let with = |rows: &[&str]| {
        let mut text = head.to_owned();
        for id in rows {
            text.push_str(&format!("| {id} | open |\n"));
        }
        text
    };
    let repo = sandbox.repo(
        "repo",
        "roadmap",
        "ROADMAP.md",
        [&with(&[]), &with(&["ST-002"]), &with(&["ST-003"])],
    );
    // Both branches merge each other's first commit: two merge bases from now on.
    sandbox.git(&repo, &["branch", "main-1"]);
    sandbox.git(&repo, &["branch", "feature-1", "feature"]);
    sandbox.git(&repo, &["merge", "-q", "--no-edit", "feature-1"]);
    sandbox.git(&repo, &["checkout", "-q", "feature"]);
    sandbox.git(&repo, &["merge", "-q", "--no-edit", "main-1"]);
    let mut feature = std::fs::read_to_string(repo.join("ROADMAP.md")).unwrap();
    feature.push_str("| ST-005 | open |\n");
    sandbox.commit(&repo, "ROADMAP.md", &feature, "feature again");
    sandbox.git(&repo, &["checkout", "-q", "main"]);
    let mut main = std::fs::read_to_string(repo.join("ROADMAP.md")).unwrap();
    main.push_str("| ST-004 | open |\n");
    sandbox.commit(&repo, "ROADMAP.md", &main, "main again");
    let bases = sandbox.git(&repo, &["merge-base", "--all", "main", "feature"]);
    assert_eq!(bases.lines().count(), 2, "a criss-cross history");

    sandbox.git(&repo, &["merge", "-q", "--no-edit", "feature"]);
    let merged = std::fs::read_to_string(repo.join("ROADMAP.md")).unwrap();
    for id in ["ST-001", "ST-002", "ST-003", "ST-004", "ST-005"] {
        assert_eq!(merged.matches(id).count(), 1, "{id} in:\n{merged}");
    }
}
