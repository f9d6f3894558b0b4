//! Push safety at git's edges, through real git: tags, sha256 repositories, partial clones, a
//! repository named by `--git-dir`, renames, marker data, worktrees under husky's layout, aliases,
//! forks and mirrors, git's push grammar, leases, one section per executable.
//!
//! See: the push-safety-at-git's-edges issue.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::pre_push::Setup;
use crate::util::{Sandbox, bin, describe, read, wait_until, write};

const MARKERS: &str = "a\n<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> topic\nb\n";

fn ok(out: &Output, what: &str, dir: &Path) -> String {
    assert!(out.status.success(), "{}", describe(what, dir, out));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn refused(out: &Output, what: &str, dir: &Path) -> String {
    assert!(!out.status.success(), "{}", describe(what, dir, out));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn annotated_tags_of_anything_push_and_follow_main() {
    let s = Setup::new();
    s.commit("a.txt", "1\n");
    let git = |args: &[&str]| s.sb.git(&s.work, args);
    git(&["tag", "-a", "v1", "-m", "v1"]);
    git(&["tag", "-a", "tree-tag", "-m", "a tree", "HEAD^{tree}"]);
    let blob = git(&["rev-parse", "HEAD:a.txt"]);
    git(&["tag", "-a", "blob-tag", "-m", "a blob", &blob]);
    git(&["tag", "-a", "tag-of-tag", "-m", "nested", "v1"]);
    s.push_ok(&["origin", "v1", "tree-tag", "blob-tag", "tag-of-tag"]);
    // push.followTags and --follow-tags send a tag beside every push to main.
    s.commit("a.txt", "2\n");
    git(&["tag", "-a", "v2", "-m", "v2"]);
    git(&["config", "push.followTags", "true"]);
    s.push_ok(&["origin", "main"]);
    s.commit("a.txt", "3\n");
    git(&["tag", "-a", "v3", "-m", "v3"]);
    git(&["config", "push.followTags", "false"]);
    s.push_ok(&["--follow-tags", "origin", "main"]);
    assert_eq!(
        s.sb.git(&s.remote, &["rev-parse", "v3^{commit}"]),
        s.remote_head("main")
    );
    // Still refused: a force push to main, whatever tags travel with it.
    git(&["reset", "-q", "--hard", "HEAD~1"]);
    let said = refused(
        &s.push(&["--force", "--follow-tags", "origin", "main"]),
        "force",
        &s.work,
    );
    assert!(
        said.contains("refusing to force-push protected branch `main`"),
        "{said}"
    );
}

/// A bare SHA-256 remote with one commit, and a clone of it with mainstay installed.
fn sha256_setup(sb: &Sandbox) -> (PathBuf, PathBuf) {
    let seed = sb.path().join("seed256");
    std::fs::create_dir_all(&seed).expect("mkdir");
    sb.git(
        &seed,
        &["init", "-q", "--object-format=sha256", "-b", "main"],
    );
    write(&seed.join("README.md"), "# project\n");
    sb.git(&seed, &["add", "-A"]);
    sb.git(&seed, &["commit", "-q", "-m", "initial"]);
    let bare = sb.path().join("remote256.git");
    let (s, b) = (seed.to_str().expect("utf-8"), bare.to_str().expect("utf-8"));
    sb.git(sb.path(), &["clone", "-q", "--bare", s, b]);
    let work = sb.clone_repo(&bare, "work256");
    sb.install(&work);
    (bare, work)
}

#[test]
fn every_rule_holds_in_a_sha256_repository() {
    let sb = Sandbox::new();
    let (bare, work) = sha256_setup(&sb);
    assert_eq!(sb.git(&work, &["rev-parse", "HEAD"]).len(), 64);
    let check = sb.run("install-hooks", &work, &["--check"]);
    ok(&check, "install-hooks --check", &work);
    let sha = sb.commit(&work, "a.txt", "1\n", "one");
    ok(
        &sb.git_output(&work, &["push", "-q", "origin", "main"]),
        "push",
        &work,
    );
    assert_eq!(sb.git(&bare, &["rev-parse", "main"]), sha);
    // post-push follows it: the 64-digit sha lands and a monitor starts.
    let log = sb.common_dir(&work).join("mainstay/post-push.log");
    wait_until("post-push to decide", || read(&log).contains(&sha));
    assert!(read(&log).contains("landed"), "{}", read(&log));
    sb.commit(&work, "conflict.txt", MARKERS, "markers");
    let said = refused(
        &sb.git_output(&work, &["push", "-q", "origin", "main"]),
        "push",
        &work,
    );
    assert!(
        said.contains("conflict.txt:2 adds a conflict block"),
        "{said}"
    );
    sb.git(&work, &["reset", "-q", "--hard", "HEAD~2"]);
    let said = refused(
        &sb.git_output(&work, &["push", "-q", "--force", "origin", "main"]),
        "force push",
        &work,
    );
    assert!(said.contains("refusing to force-push"), "{said}");
    let said = refused(
        &sb.git_output(&work, &["push", "-q", "origin", ":main"]),
        "delete",
        &work,
    );
    assert!(
        said.contains("refusing to delete protected branch `main`"),
        "{said}"
    );
}

/// The ledger driver in a SHA-256 repository, on an agent's whole path: a local merge, then
/// `mainstay push` rebasing over another clone's line (the driver merges it) and landing through
/// pre-push, which refused every SHA-256 push before it read such ids. The driver itself reads
/// no object id (git hands it files), so the merge alone would pass on any build.
#[test]
fn the_ledger_driver_merges_in_a_sha256_repository() {
    let sb = Sandbox::new();
    let (bare, work) = sha256_setup(&sb);
    let ledger = "docs/ACTIVE_SESSIONS.md";
    let base = "# Sessions\n\n- Session-20260101-A-000001-aaaaaa: one\n";
    sb.commit(&work, ledger, base, "base");
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
    ok(
        &sb.git_output(&work, &["merge", "-q", "--no-edit", "other"]),
        "merge",
        &work,
    );
    let merged = read(&work.join(ledger));
    assert!(
        merged.contains(": two") && merged.contains(": three"),
        "{merged}"
    );
    ok(&mainstay_push(&sb, &work, &[]), "mainstay push", &work);
    let other = sb.clone_repo(&bare, "other256");
    sb.install(&other);
    let four = format!("{merged}- Session-20261202-D-000001-dddddd: four\n");
    sb.commit(&other, ledger, &four, "d");
    ok(
        &sb.git_output(&other, &["push", "-q", "origin", "main"]),
        "push",
        &other,
    );
    let five = format!("{merged}- Session-20261202-E-000001-eeeeee: five\n");
    sb.commit(&work, ledger, &five, "e");
    ok(&mainstay_push(&sb, &work, &[]), "mainstay push", &work);
    let landed = sb.git(&bare, &["show", &format!("main:{ledger}")]);
    assert!(
        landed.contains(": four") && landed.contains(": five"),
        "{landed}"
    );
}

#[test]
fn a_partial_clone_pushes_a_fast_forward_and_still_refuses_markers() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    sb.git(&remote, &["config", "uploadpack.allowFilter", "true"]);
    // History with old blobs the partial clone will not have.
    let seed = sb.clone_repo(&remote, "seed");
    for i in 0..3 {
        sb.commit(&seed, "big.txt", &format!("version {i}\n"), "grow");
    }
    sb.git(&seed, &["push", "-q", "origin", "main"]);
    let url = format!("file://{}", remote.display());
    let work = sb.path().join("partial");
    let (u, w) = (url.as_str(), work.to_str().expect("utf-8"));
    sb.git(
        sb.path(),
        &["clone", "-q", "--filter=blob:none", "--no-checkout", u, w],
    );
    sb.git(&work, &["checkout", "-q", "main"]);
    sb.install(&work);
    // The remote moves on; this clone fetches its commits and trees, not its blobs.
    sb.commit(&seed, "big.txt", "version 3\n", "grow");
    sb.git(&seed, &["push", "-q", "origin", "main"]);
    sb.git(&work, &["fetch", "-q", "origin"]);
    let old_blob = sb.git(&seed, &["rev-parse", "HEAD:big.txt"]);
    let lacks = |blob: &str| {
        let out = sb
            .command("git", &work)
            .env("GIT_NO_LAZY_FETCH", "1")
            .args(["cat-file", "-e", blob])
            .output()
            .expect("cat-file");
        !out.status.success()
    };
    assert!(
        lacks(&old_blob),
        "the old side's blob is not in the partial clone"
    );
    // A commit on top of the remote's, made without touching its blobs.
    let on_top = |content: &str, message: &str| {
        let blob = sb.git_with_input(&work, &["hash-object", "-w", "--stdin"], content);
        let listing = sb.git(&work, &["ls-tree", "origin/main"]);
        let mut entries: Vec<String> = listing
            .lines()
            .filter(|l| !l.ends_with("\tbig.txt"))
            .map(str::to_owned)
            .collect();
        entries.push(format!("100644 blob {blob}\tbig.txt"));
        let tree = sb.git_with_input(&work, &["mktree"], &(entries.join("\n") + "\n"));
        sb.git(
            &work,
            &["commit-tree", &tree, "-p", "origin/main", "-m", message],
        )
    };
    let ff = on_top("version 3\nmore <<<<<<< not a marker line\n", "ff");
    ok(
        &sb.git_output(
            &work,
            &["push", "-q", "origin", &format!("{ff}:refs/heads/main")],
        ),
        "push",
        &work,
    );
    assert_eq!(sb.git(&remote, &["rev-parse", "main"]), ff);
    sb.git(&work, &["fetch", "-q", "origin"]);
    let bad = on_top(MARKERS, "markers");
    let out = sb.git_output(
        &work,
        &["push", "-q", "origin", &format!("{bad}:refs/heads/main")],
    );
    let said = refused(&out, "push", &work);
    assert!(said.contains("big.txt:2 adds a conflict block"), "{said}");
}

#[test]
fn a_push_naming_the_repository_by_git_dir_is_checked_there() {
    let s = Setup::new();
    s.commit("a.txt", "1\n");
    let git_dir = s.work.join(".git");
    let outside = s.sb.path().join("elsewhere");
    std::fs::create_dir_all(&outside).expect("mkdir");
    let (gd, wt) = (
        git_dir.to_str().expect("utf-8"),
        s.work.to_str().expect("utf-8"),
    );
    let out = s.sb.git_output(
        &outside,
        &[
            "--git-dir",
            gd,
            "--work-tree",
            wt,
            "push",
            "-q",
            "origin",
            "main",
        ],
    );
    ok(&out, "git --git-dir push", &outside);
    s.commit("a.txt", "2\n");
    let out =
        s.sb.command("git", &outside)
            .env("GIT_DIR", gd)
            .args(["push", "-q", "origin", "main"])
            .output()
            .expect("run git push");
    ok(&out, "GIT_DIR=… git push", &outside);
    s.sb.git(&s.work, &["reset", "-q", "--hard", "HEAD~2"]);
    let out = s.sb.git_output(
        &outside,
        &["--git-dir", gd, "push", "-q", "--force", "origin", "main"],
    );
    let said = refused(&out, "force push from outside", &outside);
    assert!(said.contains("refusing to force-push"), "{said}");
}

/// A relative `GIT_DIR` is relative to where git was started: post-push and the monitor run in
/// the work tree, so they must not inherit it as it is.
#[test]
fn a_push_naming_the_repository_by_a_relative_git_dir_is_followed() {
    let s = Setup::new();
    let sha = s.commit("a.txt", "1\n");
    let outside = s.sb.path().join("elsewhere/deeper");
    std::fs::create_dir_all(&outside).expect("mkdir");
    let out =
        s.sb.command("git", &outside)
            .env("GIT_DIR", "../../work/.git")
            .args(["push", "-q", "origin", "main"])
            .output()
            .expect("run git push");
    let said = ok(&out, "GIT_DIR=../../work/.git git push", &outside);
    assert!(said.contains("followed in"), "{said}");
    assert_eq!(s.remote_head("main"), sha);
    assert!(s.wait_for_decision(&sha).contains(&format!("{sha} landed")));
    let log = s.status_log(&sha);
    wait_until("the monitor's first log line", || {
        read(&log).contains(&format!("monitoring deployment of {sha}"))
    });
    // And with both named relatively, the work tree elsewhere than the git dir's parent.
    let two = s.commit("a.txt", "2\n");
    let out = s.sb.git_output(
        &outside,
        &[
            "--git-dir=../../work/.git",
            "--work-tree=../../work",
            "push",
            "-q",
            "origin",
            "main",
        ],
    );
    ok(&out, "git --git-dir=../.. --work-tree=../.. push", &outside);
    assert!(s.wait_for_decision(&two).contains(&format!("{two} landed")));
}

#[test]
fn a_renamed_file_keeps_the_markers_it_already_held() {
    let s = Setup::new();
    s.commit("legacy.txt", MARKERS);
    let out =
        s.sb.command("git", &s.work)
            .env("MAINSTAY_OVERRIDE", "legacy file holds markers")
            .args(["push", "-q", "origin", "main"])
            .output()
            .expect("push");
    ok(&out, "override push", &s.work);
    s.sb.git(&s.work, &["mv", "legacy.txt", "old.txt"]);
    s.sb.git(&s.work, &["commit", "-q", "-m", "rename"]);
    s.push_ok(&["origin", "main"]);
    // A rename whose old name now holds a new file: git sees the old name modified and the new
    // one added, and the block still comes from the old side.
    s.sb.git(&s.work, &["mv", "old.txt", "older.txt"]);
    write(&s.work.join("old.txt"), "fresh\n");
    s.sb.git(&s.work, &["add", "old.txt"]);
    s.sb.git(
        &s.work,
        &[
            "commit",
            "-q",
            "-m",
            "rename, and a new file at the old name",
        ],
    );
    s.push_ok(&["origin", "main"]);
    // A copy is no rename: its block is new here.
    write(&s.work.join("copy.txt"), MARKERS);
    s.sb.git(&s.work, &["add", "copy.txt"]);
    s.sb.git(&s.work, &["commit", "-q", "-m", "copy"]);
    let said = s.push_refused(&["origin", "main"]);
    assert!(said.contains("copy.txt:2 adds a conflict block"), "{said}");
}

#[test]
fn marker_data_and_marker_size_are_the_projects_to_set() {
    let s = Setup::new();
    write(
        &s.work.join(".mainstay.toml"),
        "[push]\nmarkers_allowed = [\"tests/fixtures/**\"]\n",
    );
    write(
        &s.work.join(".gitattributes"),
        "*.long conflict-marker-size=10\n",
    );
    s.sb.git(&s.work, &["add", "-A"]);
    s.sb.git(&s.work, &["commit", "-q", "-m", "settings"]);
    // The settings judge the pushes after the one that lands them, never their own.
    s.push_ok(&["origin", "main"]);
    s.commit("tests/fixtures/case/expected.md", MARKERS);
    // Seven-character runs are not markers in a file whose markers are ten long.
    s.commit("notes.long", MARKERS);
    s.push_ok(&["origin", "main"]);
    let ten = "<<<<<<<<<< ours\na\n==========\nb\n>>>>>>>>>> theirs\n";
    s.commit("other.long", ten);
    let said = s.push_refused(&["origin", "main"]);
    assert!(
        said.contains("other.long:1 adds a conflict block"),
        "{said}"
    );
    s.sb.git(&s.work, &["reset", "-q", "--hard", "HEAD~1"]);
    s.commit("src/expected.md", MARKERS);
    let said = s.push_refused(&["origin", "main"]);
    assert!(said.contains("src/expected.md:2"), "{said}");
    s.sb.git(&s.work, &["reset", "-q", "--hard", "HEAD~1"]);
    // Shorter than seven: git accepts any size from 1.
    for (n, ext) in [(5, "short"), (1, "one")] {
        let attributes = read(&s.work.join(".gitattributes"));
        write(
            &s.work.join(".gitattributes"),
            &format!("{attributes}*.{ext} conflict-marker-size={n}\n"),
        );
        s.sb.git(&s.work, &["add", ".gitattributes"]);
        s.sb.git(&s.work, &["commit", "-q", "-m", "attributes"]);
        s.push_ok(&["origin", "main"]);
        let (open, close) = ("<".repeat(n), ">".repeat(n));
        let file = format!("notes.{ext}");
        s.commit(
            &file,
            &format!("x\n{open} ours\na\n{}\nb\n{close} theirs\n", "=".repeat(n)),
        );
        let said = s.push_refused(&["origin", "main"]);
        assert!(
            said.contains(&format!("{file}:2 adds a conflict block")),
            "{said}"
        );
        s.sb.git(&s.work, &["reset", "-q", "--hard", "HEAD~1"]);
    }
}

/// git calls a file binary by a NUL in its first 8,000 bytes only: a NUL after them hides no
/// conflict block, as `git diff --check` shows. See: issue 22, item 3.
#[test]
fn a_nul_after_the_first_8000_bytes_hides_no_markers() {
    let s = Setup::new();
    let mut content = "text\n".repeat(1700);
    content.push('\0');
    content.push_str(MARKERS);
    s.commit("late.txt", &content);
    let check =
        s.sb.git_output(&s.work, &["diff", "--check", "HEAD~1", "HEAD"]);
    let flagged = String::from_utf8_lossy(&check.stdout);
    assert!(
        !check.status.success() && flagged.contains("leftover conflict marker"),
        "git's oracle: {flagged}"
    );
    let said = s.push_refused(&["origin", "main"]);
    assert!(
        said.contains("late.txt:1702 adds a conflict block"),
        "{said}"
    );
    // A NUL early on is binary to git and to the check alike.
    s.sb.git(&s.work, &["reset", "-q", "--hard", "HEAD~1"]);
    s.commit("early.bin", &format!("\0{MARKERS}"));
    let check =
        s.sb.git_output(&s.work, &["diff", "--check", "HEAD~1", "HEAD"]);
    assert!(check.status.success(), "binary to git");
    s.push_ok(&["origin", "main"]);
    // The remote's attributes may say otherwise, as git's do.
    write(&s.work.join(".gitattributes"), "*.bin diff\n*.txt -diff\n");
    s.sb.git(&s.work, &["add", ".gitattributes"]);
    s.sb.git(&s.work, &["commit", "-q", "-m", "attributes"]);
    s.push_ok(&["origin", "main"]);
    s.commit("more.bin", &format!("\0{MARKERS}"));
    let said = s.push_refused(&["origin", "main"]);
    assert!(said.contains("more.bin:2 adds a conflict block"), "{said}");
    s.sb.git(&s.work, &["reset", "-q", "--hard", "HEAD~1"]);
    s.commit("data.txt", MARKERS);
    s.push_ok(&["origin", "main"]);
}

/// git's attributes for every file that may hold a block come from one `git check-attr` per
/// push, not one per file; none when no file may. See: issue 22, item 3.
#[test]
fn one_attribute_lookup_serves_the_whole_push() {
    let s = Setup::new();
    for i in 0..40 {
        write(
            &s.work.join(format!("docs/quote{i}.md")),
            "< a quoted line\ntext\n> and its answer\n",
        );
    }
    s.sb.git(&s.work, &["add", "-A"]);
    s.sb.git(&s.work, &["commit", "-q", "-m", "quotes"]);
    let trace = s.sb.path().join("trace.log");
    let push = |trace: &Path| {
        s.sb.command("git", &s.work)
            .args(["push", "-q", "origin", "main"])
            .env("GIT_TRACE", trace)
            .output()
            .expect("run git push")
    };
    let out = push(&trace);
    ok(&out, "git push", &s.work);
    let lookups = read(&trace).matches("check-attr").count();
    assert_eq!(lookups, 1, "{}", read(&trace));
    s.commit("plain.txt", "nothing to look at\n");
    let quiet = s.sb.path().join("quiet.log");
    ok(&push(&quiet), "git push", &s.work);
    assert_eq!(read(&quiet).matches("check-attr").count(), 0);
}

/// Copies `from` into `to`, directories and files.
fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::create_dir_all(to).expect("mkdir");
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// This repository's own fixtures hold conflict blocks on purpose; its own `.mainstay.toml`
/// names them, so it pushes itself without an override.
#[test]
fn this_projects_fixtures_push_under_its_own_settings() {
    let s = Setup::new();
    let project = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_tree(
        &project.join("tests/fixtures"),
        &s.work.join("tests/fixtures"),
    );
    s.sb.git(&s.work, &["add", "-A"]);
    s.sb.git(&s.work, &["commit", "-q", "-m", "fixtures"]);
    let said = s.push_refused(&["origin", "main"]);
    assert!(said.contains("adds a conflict block"), "{said}");
    std::fs::copy(
        project.join(".mainstay.toml"),
        s.work.join(".mainstay.toml"),
    )
    .expect("copy");
    s.sb.git(&s.work, &["add", "-A"]);
    s.sb.git(&s.work, &["commit", "-q", "-m", "settings"]);
    // Its settings come with the fixtures: the push is judged by what the remote had.
    s.push_refused(&["origin", "main"]);
    s.sb.git(&s.work, &["reset", "-q", "HEAD~2"]);
    s.sb.git(&s.work, &["add", ".mainstay.toml"]);
    s.sb.git(&s.work, &["commit", "-q", "-m", "settings"]);
    s.push_ok(&["origin", "main"]);
    s.sb.git(&s.work, &["add", "-A"]);
    s.sb.git(&s.work, &["commit", "-q", "-m", "fixtures"]);
    s.push_ok(&["origin", "main"]);
}

fn mainstay_push(sb: &Sandbox, dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["push"];
    all.extend_from_slice(args);
    sb.run("mainstay", dir, &all)
}

/// Exit 4 and one line saying why, with nothing pushed.
fn bad_argument(sb: &Sandbox, dir: &Path, args: &[&str]) -> String {
    let out = mainstay_push(sb, dir, args);
    let what = format!("mainstay push {}", args.join(" "));
    assert_eq!(out.status.code(), Some(4), "{}", describe(&what, dir, &out));
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(said.lines().count(), 1, "{said}");
    said
}

#[test]
fn mainstay_push_never_lands_another_branchs_commits() {
    let s = Setup::new();
    let before = s.remote_head("main");
    // An upstream set by `git checkout -b feature origin/main` changes nothing: `main` is local
    // `main`, as for `git push origin main`.
    s.sb.git(&s.work, &["checkout", "-q", "-b", "feature", "origin/main"]);
    let feature = s.commit("feature.txt", "work in progress\n");
    let said = bad_argument(&s.sb, &s.work, &["origin", "main"]);
    assert!(
        said.contains("`main` is not the branch checked out here (`feature`)")
            && said.contains("`git switch main`")
            && said.contains("`mainstay push origin HEAD:main`"),
        "{said}"
    );
    s.sb.git(&s.work, &["branch", "-q", "other", "main"]);
    let said = bad_argument(&s.sb, &s.work, &["origin", "other:main"]);
    assert!(
        said.contains("`other` is not the branch checked out here"),
        "{said}"
    );
    // Refspecs are read as git reads them, never as a branch's name.
    let said = bad_argument(&s.sb, &s.work, &["origin", "+main"]);
    assert!(said.contains("`--force`"), "{said}");
    let said = bad_argument(&s.sb, &s.work, &["origin", ":main"]);
    assert!(said.contains("delete"), "{said}");
    for name in [
        "main..x",
        "HEAD:a b",
        "refs/tags/v1",
        "HEAD:@{-1}",
        "feature:",
    ] {
        let said = bad_argument(&s.sb, &s.work, &["origin", name]);
        assert!(said.contains("is not a branch name"), "{name}: {said}");
    }
    assert_eq!(s.remote_head("main"), before);
    // git's own form lands this branch's commits on another remote branch.
    ok(
        &mainstay_push(&s.sb, &s.work, &["origin", "HEAD:main"]),
        "mainstay push origin HEAD:main",
        &s.work,
    );
    assert_eq!(s.remote_head("main"), feature);
    let again = s.commit("feature.txt", "more\n");
    ok(
        &mainstay_push(
            &s.sb,
            &s.work,
            &["origin", "refs/heads/feature:refs/heads/main"],
        ),
        "mainstay push origin refs/heads/feature:refs/heads/main",
        &s.work,
    );
    assert_eq!(s.remote_head("main"), again);
    ok(
        &mainstay_push(&s.sb, &s.work, &["origin", "refs/heads/feature"]),
        "mainstay push origin refs/heads/feature",
        &s.work,
    );
    assert_eq!(s.remote_head("feature"), again);
}

#[test]
fn a_force_push_after_a_plain_fetch_keeps_the_other_agents_work() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let a = sb.clone_repo(&remote, "a");
    let b = sb.clone_repo(&remote, "b");
    sb.install(&a);
    sb.install(&b);
    sb.git(&a, &["checkout", "-q", "-b", "agent/x"]);
    sb.commit(&a, "a.txt", "a\n", "a's start");
    ok(&mainstay_push(&sb, &a, &[]), "a pushes", &a);
    sb.git(&b, &["fetch", "-q"]);
    sb.git(&b, &["checkout", "-q", "-b", "agent/x", "origin/agent/x"]);
    sb.commit(&b, "b.txt", "b\n", "b's turn");
    ok(&mainstay_push(&sb, &b, &[]), "b pushes", &b);
    let theirs = sb.git(&remote, &["rev-parse", "agent/x"]);
    // A's clone fetches (so its tracking ref holds B's commit), then rewrites and forces.
    sb.git(&a, &["fetch", "-q"]);
    sb.git(
        &a,
        &["commit", "-q", "--amend", "-m", "a's start, reworded"],
    );
    let out = mainstay_push(&sb, &a, &["--force"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("force", &a, &out)
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("was never on this branch here"), "{said}");
    assert_eq!(sb.git(&remote, &["rev-parse", "agent/x"]), theirs);
    // What it advises is not refused again (forcing again was). See: issue 22, item 8.
    assert!(
        !said.contains("force again") && said.contains("`git rebase origin/agent/x`"),
        "{said}"
    );
    sb.git(&a, &["rebase", "-q", "origin/agent/x"]);
    ok(&mainstay_push(&sb, &a, &[]), "push as advised", &a);
    // Once integrated (B's commit in A's branch), the force push goes through.
    sb.git(&a, &["reset", "-q", "--hard", "origin/agent/x"]);
    sb.git(&a, &["commit", "-q", "--amend", "-m", "b's turn, reworded"]);
    ok(
        &mainstay_push(&sb, &a, &["--force"]),
        "force after integrating",
        &a,
    );
}

#[test]
fn every_worktree_under_a_relative_hooks_path_is_protected() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let first = sb.clone_repo(&remote, "first");
    // The project has committed the lines that route its ledgers, as the docs say to.
    let routes = [
        "docs/roadmaps/*ROADMAP*.md merge=mainstay-roadmap",
        "**/ROADMAP.md merge=mainstay-roadmap",
        "docs/ACTIVE_SESSIONS.md merge=mainstay-sessions",
        "docs/sessions/**/*.md merge=mainstay-sessions",
        "CHANGELOG.md merge=mainstay-markdown",
    ];
    sb.commit(
        &first,
        ".gitattributes",
        &(routes.join("\n") + "\n"),
        "route ledgers",
    );
    sb.git(&first, &["config", "core.hooksPath", ".husky/_"]);
    let second = sb.path().join("second");
    sb.git(
        &first,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "agent/second",
            second.to_str().expect("utf-8"),
        ],
    );
    // Installed from the second worktree: the first is protected too.
    sb.install(&second);
    for dir in [&first, &second] {
        ok(&sb.run("install-hooks", dir, &["--check"]), "--check", dir);
        assert!(dir.join(".husky/_/pre-push").is_file(), "{}", dir.display());
    }
    sb.commit(&first, "a.txt", "1\n", "one");
    sb.git(&first, &["push", "-q", "origin", "main"]);
    sb.git(&first, &["reset", "-q", "--hard", "HEAD~1"]);
    let said = refused(
        &sb.git_output(&first, &["push", "-q", "--force", "origin", "main"]),
        "force",
        &first,
    );
    assert!(said.contains("refusing to force-push"), "{said}");
    // The merge drivers run from the common dir, which every worktree shares.
    let driver = sb.git(&first, &["config", "merge.mainstay-sessions.driver"]);
    assert!(driver.contains("/mainstay/bin/merge-driver"), "{driver}");
    // A worktree added later is named, with the fix.
    let third = sb.path().join("third");
    sb.git(
        &first,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "agent/third",
            third.to_str().expect("utf-8"),
        ],
    );
    let out = sb.run("install-hooks", &first, &["--check"]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!("worktree {}", third.display()))
            && said.contains("run install-hooks"),
        "{said}"
    );
}

#[test]
fn a_force_push_to_an_alias_of_main_is_judged_as_main() {
    let s = Setup::new();
    s.commit("a.txt", "1\n");
    s.push_ok(&["origin", "main"]);
    // The remote serves `master` as a symbolic ref to `main`, and this clone knows it.
    s.sb.git(
        &s.remote,
        &["symbolic-ref", "refs/heads/master", "refs/heads/main"],
    );
    s.sb.git(&s.work, &["fetch", "-q"]);
    s.sb.git(
        &s.work,
        &[
            "symbolic-ref",
            "refs/remotes/origin/master",
            "refs/remotes/origin/main",
        ],
    );
    s.sb.git(&s.work, &["reset", "-q", "--hard", "HEAD~1"]);
    let said = s.push_refused(&["--force", "origin", "HEAD:master"]);
    assert!(said.contains("protected branch `main`"), "{said}");
}

#[test]
fn pushes_to_forks_mirrors_and_the_repository_itself_are_not_followed() {
    let s = Setup::new();
    let fork = s.sb.path().join("fork.git");
    let (r, f) = (
        s.remote.to_str().expect("utf-8"),
        fork.to_str().expect("utf-8"),
    );
    s.sb.git(s.sb.path(), &["clone", "-q", "--bare", r, f]);
    s.sb.git(&s.work, &["remote", "add", "fork", f]);
    let lines = || read(&s.sb.common_dir(&s.work).join("mainstay/post-push.log"));
    let one = s.commit("a.txt", "fork only\n");
    s.push_ok(&["fork", "main"]);
    wait_until("the log line", || {
        lines().contains(&format!("{one} pushed to `fork`"))
    });
    let two = s.commit("a.txt", "mirror by URL\n");
    s.push_ok(&[f, "main"]);
    wait_until("the log line", || {
        lines().contains(&format!("{two} pushed to"))
    });
    // Into this repository itself: `git push . feature:main`.
    s.sb.git(&s.work, &["checkout", "-q", "-b", "feature"]);
    let three = s.commit("a.txt", "local\n");
    s.push_ok(&[".", "feature:main"]);
    wait_until("the log line", || {
        lines().contains(&format!("{three} pushed to `.`"))
    });
    assert!(!lines().contains("landed"), "{}", lines());
    // By URL, the deploy remote is the deploy remote.
    s.sb.git(&s.work, &["checkout", "-q", "main"]);
    let four = s.commit("a.txt", "deploy\n");
    s.push_ok(&[r, "main"]);
    assert!(s.wait_for_decision(&four).contains("landed"));
}

/// The deploy remote spelt another way is the deploy remote: `file://`, a trailing `/` or
/// `.git`, a path relative to the work tree, the remote's `pushurl`.
#[test]
fn the_deploy_remote_is_known_however_its_url_is_spelt() {
    let s = Setup::new();
    let abs = s.remote.to_str().expect("utf-8").to_owned();
    let bare = abs.trim_end_matches(".git").to_owned();
    let spellings = [
        format!("file://{abs}"),
        format!("{abs}/"),
        "../remote.git".to_owned(),
        "../remote".to_owned(),
        format!("{bare}/"),
        format!("{}/../remote.git", s.sb.path().join("work").display()),
    ];
    for (i, url) in spellings.iter().enumerate() {
        let sha = s.commit("a.txt", &format!("{i}\n"));
        s.push_ok(&[url, "main"]);
        assert_eq!(s.remote_head("main"), sha, "{url}");
        let line = s.wait_for_decision(&sha);
        assert!(line.contains(&format!("{sha} landed")), "{url}: {line}");
    }
    // origin fetches from one place and pushes to another: a push to its pushurl is followed.
    let mirror = s.sb.path().join("mirror.git");
    let m = mirror.to_str().expect("utf-8");
    s.sb.git(s.sb.path(), &["clone", "-q", "--bare", &abs, m]);
    s.sb.git(&s.work, &["remote", "set-url", "origin", m]);
    s.sb.git(
        &s.work,
        &[
            "remote",
            "set-url",
            "--push",
            "origin",
            &format!("file://{abs}/"),
        ],
    );
    let sha = s.commit("a.txt", "by pushurl\n");
    s.push_ok(&[&abs, "main"]);
    assert!(s.wait_for_decision(&sha).contains(&format!("{sha} landed")));
}

/// `git push --mirror` deletes the remote's branches this clone lacks without a line on
/// pre-push's stdin: the hook finds them in `refs/remotes/<remote>/`.
#[test]
fn a_mirror_push_never_deletes_a_protected_branch_this_clone_lacks() {
    let s = Setup::new();
    s.push_ok(&["origin", "main:staging"]);
    s.sb.git(&s.work, &["fetch", "-q"]);
    let staging = s.remote_head("staging");
    for args in [&["--mirror", "origin"][..], &["--mir", "origin"]] {
        let said = s.push_refused(args);
        assert!(
            said.contains("refusing to delete protected branch `staging`")
                && said.contains("`git push --mirror` deletes")
                && said.contains("`git branch staging origin/staging`"),
            "{args:?}: {said}"
        );
        assert_eq!(s.remote_head("staging"), staging);
    }
    // A remote configured as a mirror mirrors with a plain `git push`.
    s.sb.git(&s.work, &["config", "remote.origin.mirror", "true"]);
    let said = s.push_refused(&["origin"]);
    assert!(said.contains("protected branch `staging`"), "{said}");
    s.sb.git(&s.work, &["config", "--unset", "remote.origin.mirror"]);
    assert_eq!(s.remote_head("staging"), staging);
    // With the branch here, a mirror push loses nothing protected.
    s.sb.git(&s.work, &["branch", "-q", "staging", "origin/staging"]);
    s.push_ok(&["--mirror", "origin"]);
    assert_eq!(s.remote_head("staging"), staging);
    // Protected by a glob.
    write(
        &s.work.join(".mainstay.toml"),
        "[push]\nprotected = [\"main\", \"release/*\"]\n",
    );
    s.sb.git(&s.work, &["add", ".mainstay.toml"]);
    s.sb.git(&s.work, &["commit", "-q", "-m", "protect releases"]);
    s.push_ok(&["origin", "main", "main:release/1"]);
    s.sb.git(&s.work, &["fetch", "-q"]);
    let said = s.push_refused(&["--mirror", "origin"]);
    assert!(
        said.contains("refusing to delete protected branch `release/1`"),
        "{said}"
    );
}

/// `git push --mirror` to the URL of a remote this clone tracks, however spelt, is judged as
/// `--mirror origin`: it deleted `staging` and `production` before. See: issue 22, item 5.
#[test]
fn a_mirror_push_to_a_tracked_remotes_url_is_judged_by_what_the_clone_knows() {
    let s = Setup::new();
    s.push_ok(&["origin", "main:staging", "main:production"]);
    s.sb.git(&s.work, &["fetch", "-q"]);
    let path = s.remote.to_str().expect("utf-8").to_owned();
    let spellings = [
        path.clone(),
        format!("file://{path}"),
        format!("{path}/"),
        "../remote".to_owned(),
    ];
    for url in &spellings {
        let said = s.push_refused(&["--mirror", url]);
        assert!(
            said.contains("refusing to delete protected branch `staging`")
                && said.contains("refusing to delete protected branch `production`")
                && said.contains("`git branch staging origin/staging`"),
            "{url}: {said}"
        );
    }
    assert_eq!(s.remote_head("staging"), s.remote_head("main"));
    assert_eq!(s.remote_head("production"), s.remote_head("main"));
    // A push to that URL by name of a branch is as it was.
    s.commit("a.txt", "a\n");
    s.push_ok(&[&path, "main"]);
}

#[test]
fn git_push_options_are_read_by_gits_grammar() {
    let s = Setup::new();
    s.sb.git(
        &s.remote,
        &["config", "receive.advertisePushOptions", "true"],
    );
    let one = s.commit("a.txt", "1\n");
    s.push_ok(&["-o", "-n", "origin", "main"]);
    assert_eq!(s.remote_head("main"), one);
    assert!(s.wait_for_decision(&one).contains("landed"));
    let two = s.commit("a.txt", "2\n");
    s.push_ok(&["-n", "--no-dry-run", "origin", "main"]);
    assert_eq!(s.remote_head("main"), two);
    assert!(s.wait_for_decision(&two).contains("landed"));
    // git takes a long option by any unique abbreviation, and so does the hook.
    for (i, args) in [
        ["--push-opt", "-n", "origin", "main"],
        ["-n", "--no-dry", "origin", "main"],
        ["--dry-run", "--no-dry", "origin", "main"],
    ]
    .iter()
    .enumerate()
    {
        let sha = s.commit("a.txt", &format!("abbreviated {i}\n"));
        s.push_ok(args);
        assert_eq!(s.remote_head("main"), sha, "{args:?}");
        assert!(s.wait_for_decision(&sha).contains("landed"), "{args:?}");
    }
    let dry = s.commit("a.txt", "dry\n");
    s.push_ok(&["--dry", "origin", "main"]);
    assert_ne!(s.remote_head("main"), dry);
    s.sb.git(&s.work, &["reset", "-q", "--hard", "HEAD~1"]);
    // An alias of push with -n in it is a dry run: nothing lands, nothing is followed.
    s.sb.git(&s.work, &["config", "alias.pn", "push -n"]);
    let three = s.commit("a.txt", "3\n");
    let out = s.sb.git_output(&s.work, &["pn", "-q", "origin", "main"]);
    ok(&out, "git pn", &s.work);
    s.sentinel_push();
    assert!(
        !s.post_push_lines()
            .iter()
            .any(|l| l.contains(&three) || l.contains(&dry)),
        "{:?}",
        s.post_push_lines()
    );
}

#[test]
fn concurrent_pushes_from_linked_worktrees_retry_local_lock_races() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let main = sb.clone_repo(&remote, "main");
    sb.install(&main);
    // Agents as worktrees of one clone, each on its own branch, landing on main.
    let mut trees = Vec::new();
    for i in 0..4 {
        let dir = sb.path().join(format!("wt{i}"));
        let d = dir.to_str().expect("utf-8");
        sb.git(
            &main,
            &[
                "worktree",
                "add",
                "-q",
                "-b",
                &format!("wt{i}"),
                d,
                "origin/main",
            ],
        );
        for round in 0..3 {
            sb.commit(
                &dir,
                &format!("file{i}.txt"),
                &format!("{round}\n"),
                &format!("{i}.{round}"),
            );
        }
        trees.push(dir);
    }
    let runs: Vec<_> = trees
        .iter()
        .map(|dir| {
            let mut cmd = sb.command(bin("mainstay"), dir);
            cmd.args(["push", "origin", "HEAD:main"]);
            std::thread::spawn(move || cmd.output().expect("run mainstay push"))
        })
        .collect();
    for run in runs {
        let out = run.join().expect("a pushing thread");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            !said.contains("unreachable") && !said.contains("cannot lock"),
            "{said}"
        );
        assert!(out.status.success(), "{said}");
    }
}

/// A ref lock of this clone that goes away (another worktree's fetch) is waited out; one that
/// stays (a crashed process) is named, with what to do, and is not taken for the remote.
#[test]
fn a_local_ref_lock_is_waited_out_or_named() {
    let s = Setup::new();
    let other = s.sb.clone_repo(&s.remote, "other");
    let move_main = |n: &str| {
        s.sb.git(&other, &["pull", "-q", "--rebase"]);
        s.sb.commit(&other, "theirs.txt", &format!("{n}\n"), "theirs");
        s.sb.git(&other, &["push", "-q", "origin", "main"]);
    };
    move_main("1");
    s.commit("ours.txt", "1\n");
    let lock = s.work.join(".git/refs/remotes/origin/main.lock");
    write(&lock, "");
    let remover = {
        let lock = lock.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(400));
            std::fs::remove_file(lock).expect("remove the lock");
        })
    };
    let out = mainstay_push(&s.sb, &s.work, &[]);
    remover.join().expect("the thread removing the lock");
    ok(&out, "mainstay push with a passing lock", &s.work);
    assert_eq!(
        s.remote_head("main"),
        s.sb.git(&s.work, &["rev-parse", "HEAD"])
    );
    // A lock left for good.
    move_main("2");
    s.commit("ours.txt", "2\n");
    write(&lock, "");
    let out = mainstay_push(&s.sb, &s.work, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("mainstay push with a stale lock", &s.work, &out)
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(said.lines().count(), 1, "{said}");
    let shown = std::fs::canonicalize(&lock).expect("the lock");
    assert!(
        said.contains(&*shown.to_string_lossy()) || said.contains(&*lock.to_string_lossy()),
        "{said}"
    );
    assert!(said.contains("remove it"), "{said}");
    assert!(!said.contains("unreachable"), "{said}");
}

#[test]
fn a_typo_in_one_section_stops_only_what_reads_it() {
    let s = Setup::new();
    write(
        &s.work.join(".mainstay.toml"),
        "[stats]\ntarget = \"most\"\n",
    );
    s.sb.git(&s.work, &["add", "-A"]);
    s.sb.git(&s.work, &["commit", "-q", "-m", "config with a typo"]);
    s.push_ok(&["origin", "main"]);
    let out = s.sb.run("mainstay", &s.work, &["stats"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("key `stats.target`"));
    let out = s.sb.run("install-hooks", &s.work, &["--check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("stats.target"));
    let out = s.sb.run("mainstay", &s.work, &["doctor"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("stats.target"));
    // The ledger driver reads `[ledgers]` only: it still merges, where a line merge conflicts.
    let ledger = "docs/ACTIVE_SESSIONS.md";
    let base = "# Sessions\n\n- Session-20260101-A-000001-aaaaaa: one\n";
    s.commit(ledger, base);
    s.sb.git(&s.work, &["checkout", "-q", "-b", "other"]);
    s.commit(
        ledger,
        &format!("{base}- Session-20261201-B-000001-bbbbbb: two\n"),
    );
    s.sb.git(&s.work, &["checkout", "-q", "main"]);
    s.commit(
        ledger,
        &format!("{base}- Session-20261201-C-000001-cccccc: three\n"),
    );
    ok(
        &s.sb
            .git_output(&s.work, &["merge", "-q", "--no-edit", "other"]),
        "merge with a bad [stats]",
        &s.work,
    );
    let merged = read(&s.work.join(ledger));
    assert!(
        merged.contains(": two") && merged.contains(": three") && !merged.contains("<<<<<<<"),
        "{merged}"
    );
    s.push_ok(&["origin", "main"]);
    // A syntax error, wherever it is, leaves no section readable: every push is refused.
    write(&s.work.join(".mainstay.toml"), "[stats]\ntarget = \n");
    s.sb.git(&s.work, &["add", "-A"]);
    s.sb.git(
        &s.work,
        &["commit", "-q", "-m", "config that does not parse"],
    );
    let said = s.push_refused(&["origin", "main"]);
    assert!(
        said.contains("refusing the push, it could not be checked")
            && said.contains(".mainstay.toml"),
        "{said}"
    );
}

#[test]
fn small_edges() {
    let s = Setup::new();
    // --check notices the exclude lines going.
    let exclude = s.sb.common_dir(&s.work).join("info/exclude");
    std::fs::write(&exclude, "").expect("empty the excludes");
    let out = s.sb.run("install-hooks", &s.work, &["--check"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("install-hooks --check", &s.work, &out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(".deployment-status-*"));
    s.sb.install(&s.work);
    ok(
        &s.sb.run("install-hooks", &s.work, &["--check"]),
        "install-hooks --check after the install",
        &s.work,
    );
    // A remote that does not exist is a bad argument: exit 4.
    let out = mainstay_push(&s.sb, &s.work, &["nosuchremote"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        describe("push", &s.work, &out)
    );
    // Nothing to push says so.
    let out = mainstay_push(&s.sb, &s.work, &[]);
    ok(&out, "mainstay push", &s.work);
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to push"));
    // status with a broken configuration says why, not "not found".
    write(&s.work.join(".mainstay.toml"), "[deploy]\nbranch = 3\n");
    let out = s.sb.run("mainstay", &s.work, &["status"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        describe("status", &s.work, &out)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("key `deploy.branch`"));
    std::fs::remove_file(s.work.join(".mainstay.toml")).expect("remove");
    // A bare repository is refused with the way to the server install.
    let out = s.sb.run(
        "install-hooks",
        &s.work,
        &["--repo", s.remote.to_str().expect("utf-8")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--server"));
}

#[test]
fn a_new_branch_is_measured_from_the_deploy_branch() {
    let s = Setup::new();
    write(
        &s.work.join(".mainstay.toml"),
        "[deploy]\nbranch = \"trunk\"\n[push]\nprotected = [\"trunk\"]\n",
    );
    s.sb.git(&s.work, &["add", "-A"]);
    s.sb.git(&s.work, &["commit", "-q", "-m", "trunk"]);
    // trunk's history holds a block someone let through; main's does not.
    s.commit("legacy.txt", MARKERS);
    let out =
        s.sb.command("git", &s.work)
            .env("MAINSTAY_OVERRIDE", "legacy data")
            .args(["push", "-q", "origin", "main:trunk"])
            .output()
            .expect("push");
    ok(&out, "push trunk", &s.work);
    s.sb.git(&s.work, &["fetch", "-q"]);
    s.sb.git(&s.work, &["checkout", "-q", "-b", "topic", "origin/trunk"]);
    s.commit("ok.txt", "fine\n");
    // Only the topic's own commit counts: trunk's history is not blamed on it.
    s.push_ok(&["origin", "topic"]);
}

#[test]
fn the_monitor_writes_its_status_log_in_place() {
    let s = Setup::new();
    let app = crate::monitor::App::start("", vec![200]);
    let sha_placeholder = s.commit("a.txt", "1\n");
    let _ = sha_placeholder;
    write(&s.work.join(".mainstay.toml"), &app.config(None, "1s"));
    s.sb.git(&s.work, &["add", "-A"]);
    s.sb.git(&s.work, &["commit", "-q", "-m", "follow the app"]);
    let sha = s.sb.git(&s.work, &["rev-parse", "HEAD"]);
    *app.commit.lock().expect("commit") = sha.clone();
    s.push_ok(&["origin", "main"]);
    let log = s.status_log(&sha);
    wait_until("the status log", || log.exists());
    use std::os::unix::fs::MetadataExt;
    let first = std::fs::metadata(&log).expect("log").ino();
    let result = s
        .work
        .join(format!(".deployment-status-{}.result", &sha[..7]));
    wait_until("the verdict", || result.exists());
    assert_eq!(
        std::fs::metadata(&log).expect("log").ino(),
        first,
        "one file, appended to"
    );
    let text = read(&log);
    assert!(text.contains("verdict: success"), "{text}");
    assert_eq!(text.matches("verdict: success").count(), 1, "{text}");
}
