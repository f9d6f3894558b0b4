//! End to end: real `git merge`, `git rebase` and `git pull` in clones set up by `install-hooks`,
//! and the driver's command line.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::{Sandbox, bin, describe, read, write};

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ledger");

fn fixture(case: &str, file: &str) -> String {
    let path = Path::new(CASES).join(case).join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn case_files(case: &str) -> [String; 3] {
    ["base.md", "ours.md", "theirs.md"].map(|f| fixture(case, f))
}

/// Every fixture case, as `kind/name`.
fn all_cases() -> Vec<String> {
    let mut cases = Vec::new();
    for kind in mainstay::ledger::Kind::all().map(|k| k.name()) {
        for entry in std::fs::read_dir(Path::new(CASES).join(kind)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            cases.push(format!("{kind}/{name}"));
        }
    }
    cases.sort();
    cases
}

/// Where a case's ledger lives in the repository: a path the default `[ledgers]` patterns,
/// which `install-hooks` writes to `.gitattributes`, route to the case's kind.
fn ledger_path(case: &str) -> String {
    match case.split_once('/').unwrap() {
        ("roadmap", name) => format!("docs/roadmaps/{name}-ROADMAP.md"),
        ("markdown", name) => format!("docs/{name}/CHANGELOG.md"),
        (_, name) => format!("docs/sessions/{name}.md"),
    }
}

/// The result a case expects today: `expected.md`, or for a known gap `expected-currently.md`.
fn expected(case: &str) -> String {
    let gap = Path::new(CASES).join(case).join("expected-currently.md");
    if gap.exists() {
        fixture(case, "expected-currently.md")
    } else {
        fixture(case, "expected.md")
    }
}

/// A repository set up by `install-hooks`, its `.gitattributes` committed with the base as the
/// README says to; `main` then commits each case's `ours`, a `feature` branch from the base each
/// case's `theirs`.
fn ledger_repo(sandbox: &Sandbox, cases: &[(String, [String; 3])]) -> PathBuf {
    let repo = sandbox.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    sandbox.git(&repo, &["init", "-q", "-b", "main"]);
    sandbox.install(&repo);
    let commit_all = |side: usize, message: &str| {
        for (path, files) in cases {
            write(&repo.join(path), &files[side]);
        }
        sandbox.git(&repo, &["add", "-A"]);
        sandbox.git(&repo, &["commit", "-q", "-m", message]);
    };
    commit_all(0, "base");
    sandbox.git(&repo, &["branch", "feature"]);
    commit_all(1, "ours");
    sandbox.git(&repo, &["checkout", "-q", "feature"]);
    commit_all(2, "theirs");
    sandbox.git(&repo, &["checkout", "-q", "main"]);
    repo
}

/// The files git left in conflict, sorted.
fn unmerged(sandbox: &Sandbox, repo: &Path) -> Vec<String> {
    let out = sandbox.git(repo, &["diff", "--name-only", "--diff-filter=U"]);
    out.lines().map(str::to_owned).collect()
}

#[test]
fn git_merge_and_git_rebase_give_every_case_its_expected_ledger() {
    let sandbox = Sandbox::new();
    let cases: Vec<_> = all_cases()
        .into_iter()
        .map(|c| (ledger_path(&c), case_files(&c), c))
        .collect();
    let files: Vec<_> = cases
        .iter()
        .map(|(p, f, _)| (p.clone(), f.clone()))
        .collect();
    let repo = ledger_repo(&sandbox, &files);
    let mut conflicted: Vec<String> = cases
        .iter()
        .filter(|(_, _, c)| expected(c).contains("<<<<<<<"))
        .map(|(p, _, _)| p.clone())
        .collect();
    conflicted.sort();
    assert!(!conflicted.is_empty() && conflicted.len() < cases.len());

    let merge = sandbox.git_output(&repo, &["merge", "-q", "--no-edit", "feature"]);
    assert!(!merge.status.success(), "some cases conflict");
    assert_eq!(
        unmerged(&sandbox, &repo),
        conflicted,
        "git's conflicted files"
    );
    let merged: Vec<String> = cases.iter().map(|(p, _, _)| read(&repo.join(p))).collect();
    for ((_, _, case), text) in cases.iter().zip(&merged) {
        assert!(
            *text == expected(case),
            "{case}: `git merge` differs from expected.md:\n{text}"
        );
    }
    sandbox.git(&repo, &["merge", "--abort"]);

    sandbox.git(&repo, &["checkout", "-q", "feature"]);
    let rebase = sandbox.git_output(&repo, &["rebase", "main"]);
    assert!(!rebase.status.success(), "some cases conflict");
    assert_eq!(
        unmerged(&sandbox, &repo),
        conflicted,
        "git's conflicted files"
    );
    for ((path, _, case), text) in cases.iter().zip(&merged) {
        assert!(
            read(&repo.join(path)) == *text,
            "{case}: `git rebase` differs from `git merge`"
        );
    }
    sandbox.git(&repo, &["rebase", "--abort"]);
}

#[test]
fn clean_merge_and_rebase_commit_the_same_ledger() {
    let sandbox = Sandbox::new();
    let case = "roadmap/both-bump-version-date-and-totals";
    let path = ledger_path(case);
    let repo = ledger_repo(&sandbox, &[(path.clone(), case_files(case))]);
    let driver = sandbox.git(&repo, &["config", "merge.mainstay-roadmap.driver"]);
    let hooks = sandbox.common_dir(&repo).join("mainstay/bin/merge-driver");
    assert_eq!(
        driver,
        format!("'{}' roadmap -- %O %A %B %L %P", hooks.display())
    );

    sandbox.git(&repo, &["merge", "-q", "--no-edit", "feature"]);
    let merged = sandbox.git(&repo, &["rev-parse", &format!("HEAD:{path}")]);
    sandbox.git(&repo, &["checkout", "-q", "feature"]);
    sandbox.git(&repo, &["rebase", "-q", "main~0"]);
    let rebased = sandbox.git(&repo, &["rev-parse", &format!("HEAD:{path}")]);
    assert_eq!(merged, rebased, "the same blob");
    assert_eq!(read(&repo.join(&path)), fixture(case, "expected.md"));
}

#[test]
fn git_pull_and_git_pull_rebase_give_the_same_ledger() {
    let sandbox = Sandbox::new();
    // ours.md is what another agent pushed first; theirs.md the puller's own commit.
    let case = "sessions/pull-and-pull-rebase";
    let [base, pushed, local] = case_files(case);
    let file = "docs/ACTIVE_SESSIONS.md";
    let origin = sandbox.remote("origin");
    let pusher = sandbox.clone_repo(&origin, "pusher");
    // The line `install-hooks` adds, committed once for every clone.
    write(
        &pusher.join(".gitattributes"),
        &format!("{file} merge=mainstay-sessions\n"),
    );
    sandbox.git(&pusher, &["add", ".gitattributes"]);
    sandbox.commit(&pusher, file, &base, "base");
    sandbox.git(&pusher, &["push", "-q", "origin", "main"]);
    let puller = sandbox.clone_repo(&origin, "puller");
    sandbox.install(&puller);
    assert_eq!(read(&puller.join(".gitattributes")).lines().count(), 5);
    sandbox.commit(&pusher, file, &pushed, "pushed session");
    sandbox.git(&pusher, &["push", "-q", "origin", "main"]);
    sandbox.commit(&puller, file, &local, "local session");
    sandbox.git(&puller, &["branch", "local"]);

    let expected = fixture(case, "expected.md");
    for pull in [
        &["pull", "-q", "--no-rebase", "--no-edit"][..],
        &["pull", "-q", "--rebase"],
        &["-c", "pull.rebase=true", "pull", "-q"],
        &["-c", "pull.rebase=false", "pull", "-q", "--no-edit"],
    ] {
        sandbox.git(&puller, pull);
        let text = read(&puller.join(file));
        assert!(
            text == expected,
            "`git {}` differs:\n{text}",
            pull.join(" ")
        );
        sandbox.git(&puller, &["reset", "-q", "--hard", "local"]);
    }
    // The pushed session, already on the remote, comes first.
    let at = |id: &str| expected.find(id).unwrap();
    assert!(at("Session-20260206-UX-012-cc22dd") < at("Session-20260206-BUG-140-aa11bb"));
}

#[test]
fn a_clash_is_left_marked_on_that_row_and_logged() {
    let sandbox = Sandbox::new();
    let case = "roadmap/both-change-same-status";
    let path = ledger_path(case);
    let repo = ledger_repo(&sandbox, &[(path.clone(), case_files(case))]);

    let out = sandbox.git_output(&repo, &["merge", "-q", "--no-edit", "feature"]);
    assert!(!out.status.success(), "the merge must stop on the clash");
    assert_eq!(read(&repo.join(&path)), fixture(case, "expected.md"));

    let log = read(&sandbox.common_dir(&repo).join("mainstay/conflicts.jsonl"));
    assert_eq!(log.lines().count(), 1, "{log}");
    let record: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(record["file"], path.as_str());
    assert_eq!(
        record["keys"].as_array().unwrap().last().unwrap(),
        "SEC-003"
    );
    assert!(record["time"].as_str().unwrap().ends_with('Z'));
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
    let path = "ROADMAP.md";
    let sides = [with(&[]), with(&["ST-002"]), with(&["ST-003"])];
    let repo = ledger_repo(&sandbox, &[(path.to_owned(), sides)]);
    // Both branches merge each other's first commit: two merge bases from now on.
    sandbox.git(&repo, &["branch", "main-1"]);
    sandbox.git(&repo, &["branch", "feature-1", "feature"]);
    sandbox.git(&repo, &["merge", "-q", "--no-edit", "feature-1"]);
    sandbox.git(&repo, &["checkout", "-q", "feature"]);
    sandbox.git(&repo, &["merge", "-q", "--no-edit", "main-1"]);
    let feature = read(&repo.join(path)) + "| ST-005 | open |\n";
    sandbox.commit(&repo, path, &feature, "feature again");
    sandbox.git(&repo, &["checkout", "-q", "main"]);
    let main = read(&repo.join(path)) + "| ST-004 | open |\n";
    sandbox.commit(&repo, path, &main, "main again");
    let bases = sandbox.git(&repo, &["merge-base", "--all", "main", "feature"]);
    assert_eq!(bases.lines().count(), 2, "a criss-cross history");

    sandbox.git(&repo, &["merge", "-q", "--no-edit", "feature"]);
    let merged = read(&repo.join(path));
    for id in ["ST-001", "ST-002", "ST-003", "ST-004", "ST-005"] {
        assert_eq!(merged.matches(id).count(), 1, "{id} in:\n{merged}");
    }
}

/// The counter rule through the real driver in a real `git merge`: each side added a row and set
/// the total from 3 to 4, independent changes, so the merge says 5; two sides that made the very
/// same change count it once. See: the newcomer's-first-hour issue.
#[test]
fn a_shared_counter_bump_counts_twice_unless_both_sides_are_the_same_change() {
    let sandbox = Sandbox::new();
    let cases = [
        "roadmap/both-add-a-row-and-bump-the-total",
        "roadmap/both-make-the-same-change",
    ];
    let files: Vec<_> = cases
        .iter()
        .map(|c| (ledger_path(c), case_files(c)))
        .collect();
    let repo = ledger_repo(&sandbox, &files);
    let merge = sandbox.git_output(&repo, &["merge", "-q", "--no-edit", "feature"]);
    assert!(
        merge.status.success(),
        "{}",
        describe("git merge", &repo, &merge)
    );
    let both = read(&repo.join(&files[0].0));
    assert_eq!(both, expected(cases[0]));
    assert!(both.contains("| **Total** | **5** |"), "{both}");
    let same = read(&repo.join(&files[1].0));
    assert_eq!(same, expected(cases[1]));
    assert!(same.contains("| **Total** | **4** |"), "{same}");
    // git hands identical sides to no driver; the driver itself also counts them once.
    hand_files(&sandbox, cases[1]);
    let out = driver(&sandbox, &BY_HAND);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        describe("merge-driver", sandbox.path(), &out)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected(cases[1]));
}

/// The three files of a case in the sandbox, as `base.md`, `ours.md`, `theirs.md`.
fn hand_files(sandbox: &Sandbox, case: &str) {
    let names = ["base.md", "ours.md", "theirs.md"];
    for (name, text) in names.iter().zip(case_files(case)) {
        write(&sandbox.path().join(name), &text);
    }
}

fn driver(sandbox: &Sandbox, args: &[&str]) -> Output {
    sandbox.run("merge-driver", sandbox.path(), args)
}

const BY_HAND: [&str; 5] = ["roadmap", "--stdout", "base.md", "ours.md", "theirs.md"];

#[test]
fn stdout_mode_prints_the_merge_and_leaves_files_alone() {
    let sandbox = Sandbox::new();
    let case = "roadmap/two-agents-append-rows";
    hand_files(&sandbox, case);
    let out = driver(&sandbox, &BY_HAND);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        describe("merge-driver", sandbox.path(), &out)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        fixture(case, "expected.md")
    );
    assert_eq!(
        read(&sandbox.path().join("ours.md")),
        fixture(case, "ours.md")
    );
}

#[test]
fn bad_input_gets_one_line_naming_it_and_a_small_nonzero_exit() {
    let sandbox = Sandbox::new();
    write(&sandbox.path().join("a.md"), "# A\n");
    let cases: [(&[&str], &str); 3] = [
        (&["roadmap", "missing.md", "a.md", "a.md"], "missing.md"),
        (&["wiki", "a.md", "a.md", "a.md"], "wiki"),
        (&["roadmap", "a.md", "a.md", "a.md", "many"], "many"),
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
        write(&sandbox.path().join(name), text);
    }
    let out = driver(&sandbox, &["roadmap", "--stdout", "o", "a", "b"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("| ST-001 | b |") && text.contains("| ST-002 | c |"),
        "{text}"
    );
}

/// What `git merge-file` makes of a case (the fixture has the driver's labels).
fn line_merged(case: &str) -> String {
    fixture(case, "git-merge-file.md")
}

#[test]
fn the_kill_switch_leaves_it_to_a_plain_line_merge() {
    let sandbox = Sandbox::new();
    let case = "roadmap/two-agents-append-rows";
    hand_files(&sandbox, case);
    let out = sandbox
        .command(bin("merge-driver"), sandbox.path())
        .args(BY_HAND)
        .env("MAINSTAY", "0")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "git merge-file conflicts on two appended rows"
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), line_merged(case));
}

#[test]
fn ledgers_merge_settings_come_from_mainstay_toml() {
    let sandbox = Sandbox::new();
    // Rows keyed by their second column: the two sides' edits of one row meet cell by cell.
    let base = "| # | Task | S | Note |\n|---|---|---|---|\n| 1 | ST-001 | open | - |\n";
    let ours = "| # | Task | S | Note |\n|---|---|---|---|\n| 1 | ST-001 | done | - |\n";
    let theirs = "| # | Task | S | Note |\n|---|---|---|---|\n| 2 | ST-001 | open | x |\n";
    for (name, text) in [("base.md", base), ("ours.md", ours), ("theirs.md", theirs)] {
        write(&sandbox.path().join(name), text);
    }
    let merged = |sandbox: &Sandbox| {
        let out = driver(sandbox, &BY_HAND);
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let (code, _) = merged(&sandbox);
    assert_eq!(
        code,
        Some(1),
        "keyed by `#`, the row was deleted and edited"
    );

    write(
        &sandbox.path().join(".mainstay.toml"),
        "[ledgers.merge]\nid_column = \"Task\"\n",
    );
    let (code, text) = merged(&sandbox);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(
        text,
        "| # | Task | S | Note |\n|---|---|---|---|\n| 2 | ST-001 | done | x |\n"
    );
}

#[test]
fn bad_ledgers_merge_settings_say_so_and_merge_line_by_line() {
    let sandbox = Sandbox::new();
    let case = "roadmap/two-agents-append-rows";
    hand_files(&sandbox, case);
    write(
        &sandbox.path().join(".mainstay.toml"),
        "[ledgers.merge]\ntask_id = \"(\"\n",
    );
    let out = driver(&sandbox, &BY_HAND);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(".mainstay.toml") && stderr.contains("ledgers.merge.task_id"),
        "{stderr}"
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), line_merged(case));
}

#[test]
fn conflict_markers_have_the_length_git_asks_for() {
    let sandbox = Sandbox::new();
    let case = "roadmap/both-change-same-status";
    hand_files(&sandbox, case);
    let out = driver(
        &sandbox,
        &[
            "roadmap",
            "base.md",
            "ours.md",
            "theirs.md",
            "9",
            "ROADMAP.md",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = read(&sandbox.path().join("ours.md"));
    let expected = fixture(case, "expected.md");
    assert_eq!(
        text,
        expected
            .replace("<<<<<<< ", "<<<<<<<<< ")
            .replace("=======\n", "=========\n")
            .replace(">>>>>>> ", ">>>>>>>>> ")
    );
}
