//! `install-hooks --server`: the push policy in a real bare repository's `pre-receive`, against
//! clients with no hooks, with `--no-verify`, over a local path and over git's smart HTTP.
//!
//! See: the every-clone-protected issue.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::smart_http::{GitHttp, root_of};
use crate::util::{Sandbox, bin, describe, read, write};

const MARKERS: &str = "a\n<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> topic\nb\n";

/// A bare remote with the server hooks, and a clone of it with no hooks at all.
fn served(sb: &Sandbox) -> (PathBuf, PathBuf) {
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
    assert!(String::from_utf8_lossy(&out.stdout).contains("hooks/pre-receive"));
    let work = sb.clone_repo(&remote, "work");
    (remote, work)
}

fn refused(out: &Output, what: &str, dir: &Path) -> String {
    assert!(!out.status.success(), "{}", describe(what, dir, out));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_remote_refuses_what_pre_push_would_whoever_pushes() {
    let sb = Sandbox::new();
    let (remote, work) = served(&sb);
    assert!(
        !work.join(".git/hooks/pre-push").exists(),
        "the client has no hooks"
    );
    let before = sb.git(&remote, &["rev-parse", "main"]);
    sb.commit(&work, "a.txt", "1\n", "one");
    sb.git(&work, &["push", "-q", "origin", "main"]);
    sb.git(&work, &["reset", "-q", "--hard", &before]);
    let said = refused(
        &sb.git_output(&work, &["push", "-q", "--force", "origin", "main"]),
        "force",
        &work,
    );
    assert!(
        said.contains("remote: mainstay: refusing to force-push protected branch `main`"),
        "{said}"
    );
    let said = refused(
        &sb.git_output(&work, &["push", "-q", "origin", ":main"]),
        "delete",
        &work,
    );
    assert!(
        said.contains("refusing to delete protected branch `main`"),
        "{said}"
    );
    sb.git(&work, &["pull", "-q", "--ff-only"]);
    sb.commit(&work, "conflict.txt", MARKERS, "markers");
    let said = refused(
        &sb.git_output(&work, &["push", "-q", "origin", "main"]),
        "markers",
        &work,
    );
    assert!(
        said.contains("conflict.txt:2 adds a conflict block"),
        "{said}"
    );
    sb.git(&work, &["reset", "-q", "--hard", "HEAD~1"]);
    // A client with mainstay's own hooks, skipping them, is refused all the same.
    sb.install(&work);
    sb.git(&work, &["reset", "-q", "--hard", &before]);
    let out = sb.git_output(
        &work,
        &["push", "-q", "--no-verify", "--force", "origin", "main"],
    );
    let said = refused(&out, "push --no-verify", &work);
    assert!(
        said.contains("remote: mainstay: refusing to force-push"),
        "{said}"
    );
    // Agent branches take force pushes, each one in the remote's own audit log.
    sb.git(&work, &["checkout", "-q", "-b", "agent/x"]);
    sb.commit(&work, "b.txt", "1\n", "start");
    sb.git(&work, &["push", "-q", "--no-verify", "origin", "agent/x"]);
    sb.git(&work, &["commit", "-q", "--amend", "-m", "start, reworded"]);
    sb.git(
        &work,
        &["push", "-q", "--no-verify", "--force", "origin", "agent/x"],
    );
    let audit = read(&remote.join("mainstay/audit.jsonl"));
    assert!(
        audit.contains("\"event\":\"force-push\"") && audit.contains("refs/heads/agent/x"),
        "{audit}"
    );
}

/// A mirror push's deletions reach `pre-receive` as deletions, whatever the client's hook saw.
#[test]
fn the_remote_refuses_a_mirror_push_that_deletes_a_protected_branch() {
    let sb = Sandbox::new();
    let (remote, work) = served(&sb);
    sb.git(&work, &["push", "-q", "origin", "main:staging"]);
    sb.git(&work, &["push", "-q", "origin", "main:feature"]);
    sb.git(&work, &["fetch", "-q"]);
    let said = refused(
        &sb.git_output(&work, &["push", "-q", "--mirror", "origin"]),
        "mirror",
        &work,
    );
    assert!(
        said.contains("refusing to delete protected branch `staging`"),
        "{said}"
    );
    assert!(
        sb.git_output(&remote, &["rev-parse", "--verify", "staging"])
            .status
            .success()
    );
}

#[test]
fn over_smart_http_the_same_and_the_pusher_is_named() {
    let sb = Sandbox::new();
    let (remote, _) = served(&sb);
    let server = GitHttp::refusing(&root_of(&remote), sb.env(), |_| None);
    let url = server.url_with_password("agent", "pw", "remote.git");
    let work = sb.path().join("http-clone");
    sb.git(
        sb.path(),
        &["clone", "-q", &url, work.to_str().expect("utf-8")],
    );
    let first = sb.git(&work, &["rev-parse", "HEAD"]);
    sb.commit(&work, "a.txt", "1\n", "one");
    sb.git(&work, &["push", "-q", "origin", "main"]);
    sb.git(&work, &["reset", "-q", "--hard", &first]);
    let said = refused(
        &sb.git_output(&work, &["push", "-q", "--force", "origin", "main"]),
        "force",
        &work,
    );
    assert!(
        said.contains("remote: mainstay: refusing to force-push"),
        "{said}"
    );
    sb.git(&work, &["checkout", "-q", "-b", "agent/web"]);
    sb.git(&work, &["push", "-q", "origin", "agent/web"]);
    sb.commit(&work, "c.txt", "c\n", "more");
    sb.git(&work, &["push", "-q", "origin", "agent/web"]);
    sb.git(
        &work,
        &["push", "-q", "--force", "origin", "agent/web~1:agent/web"],
    );
    let audit = read(&remote.join("mainstay/audit.jsonl"));
    assert!(audit.contains("\"user\":\"agent\""), "{audit}");
    // Conflict markers on a protected branch, from a clone with no hooks.
    sb.git(&work, &["checkout", "-q", "main"]);
    sb.git(&work, &["pull", "-q", "--ff-only"]);
    sb.commit(&work, "conflict.txt", MARKERS, "markers");
    let said = refused(
        &sb.git_output(&work, &["push", "-q", "origin", "main"]),
        "markers over HTTP",
        &work,
    );
    assert!(
        said.contains("remote: mainstay: ")
            && said.contains("conflict.txt:2 adds a conflict block"),
        "{said}"
    );
    // A clone with mainstay's own hooks that skips them is refused all the same.
    sb.install(&work);
    sb.git(&work, &["reset", "-q", "--hard", &first]);
    let said = refused(
        &sb.git_output(
            &work,
            &["push", "-q", "--no-verify", "--force", "origin", "main"],
        ),
        "push --no-verify over HTTP",
        &work,
    );
    assert!(
        said.contains("remote: mainstay: refusing to force-push protected branch `main`"),
        "{said}"
    );
}

#[test]
fn an_alias_the_remote_keeps_is_judged_as_its_target() {
    let sb = Sandbox::new();
    let (remote, work) = served(&sb);
    sb.git(
        &remote,
        &["symbolic-ref", "refs/heads/master", "refs/heads/main"],
    );
    let first = sb.git(&work, &["rev-parse", "HEAD"]);
    sb.commit(&work, "a.txt", "1\n", "one");
    sb.git(&work, &["push", "-q", "origin", "main"]);
    let out = sb.git_output(
        &work,
        &[
            "push",
            "-q",
            "--force",
            "origin",
            &format!("{first}:refs/heads/master"),
        ],
    );
    let said = refused(&out, "force through the alias", &work);
    assert!(said.contains("protected branch `main`"), "{said}");
    assert_ne!(sb.git(&remote, &["rev-parse", "main"]), first);
}

/// An override is a push option, honoured only for a user the transport authenticated and the
/// repository's own config lists; none by default. See: issue 22, item 4.
#[test]
fn an_override_is_honoured_only_for_whom_the_server_allows() {
    let sb = Sandbox::new();
    let (remote, _) = served(&sb);
    sb.git(&remote, &["config", "receive.advertisePushOptions", "true"]);
    let server = GitHttp::refusing(&root_of(&remote), sb.env(), |_| None);
    let work = sb.path().join("http-clone");
    let url = server.url_with_password("alice", "pw", "remote.git");
    sb.git(
        sb.path(),
        &["clone", "-q", &url, work.to_str().expect("utf-8")],
    );
    let first = sb.git(&work, &["rev-parse", "HEAD"]);
    let second = sb.commit(&work, "a.txt", "1\n", "one");
    sb.git(&work, &["push", "-q", "origin", "main"]);
    sb.git(&work, &["reset", "-q", "--hard", &first]);
    let force = [
        "push",
        "-q",
        "--force",
        "-o",
        "mainstay-override=rollback of a bad deploy",
    ];
    let over = |remote: &str| {
        let mut args = force.to_vec();
        args.extend([remote, "main"]);
        sb.git_output(&work, &args)
    };
    let audit = remote.join("mainstay/audit.jsonl");
    // Nobody by default.
    let said = refused(&over("origin"), "override by default", &work);
    assert!(
        said.contains("refusing to force-push protected branch `main`")
            && said.contains("the override is not honoured: `alice` is not in this repository's mainstay.overrideUser"),
        "{said}"
    );
    assert!(!read(&audit).contains("override"));
    sb.git(
        &remote,
        &["config", "--add", "mainstay.overrideUser", "bob"],
    );
    refused(&over("origin"), "override by someone else", &work);
    // Listed, but pushing over a path no server authenticates: nobody is named.
    sb.git(
        &remote,
        &["config", "--add", "mainstay.overrideUser", "alice"],
    );
    let said = refused(
        &over(remote.to_str().expect("utf-8")),
        "override without a user",
        &work,
    );
    assert!(said.contains("named no authenticated user"), "{said}");
    assert_eq!(sb.git(&remote, &["rev-parse", "main"]), second);
    // Listed and authenticated: through, and logged with who it was.
    let out = over("origin");
    assert!(
        out.status.success(),
        "{}",
        describe("override", &work, &out)
    );
    let text = read(&audit);
    let record: serde_json::Value =
        serde_json::from_str(text.lines().last().expect("a line")).expect("JSON");
    assert_eq!(record["event"], "override");
    assert_eq!(record["user"], "alice");
    assert_eq!(record["reason"], "rollback of a bad deploy");
    assert_eq!(record["ref"], "refs/heads/main");
    assert_eq!(record["old"], second.as_str());
    assert_eq!(record["new"], first.as_str());
}

#[test]
fn the_remotes_own_pre_receive_still_runs_and_blocks_and_comes_back() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let own = remote.join("hooks/pre-receive");
    let script = "#!/bin/sh\nwhile read old new ref; do [ \"$ref\" = refs/heads/frozen ] && { echo frozen >&2; exit 3; }; done\nexit 0\n";
    write(&own, script);
    std::fs::set_permissions(&own, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let repo = remote.to_str().expect("utf-8");
    let out = sb.run("install-hooks", sb.path(), &["--server", "--repo", repo]);
    assert!(
        out.status.success(),
        "{}",
        describe("install", &remote, &out)
    );
    assert_eq!(read(&remote.join("hooks/pre-receive.local")), script);
    let work = sb.clone_repo(&remote, "work");
    let said = refused(
        &sb.git_output(&work, &["push", "-q", "origin", "main:frozen"]),
        "frozen",
        &work,
    );
    assert!(said.contains("remote: frozen"), "{said}");
    let check = sb.run(
        "install-hooks",
        sb.path(),
        &["--server", "--check", "--repo", repo],
    );
    assert!(
        check.status.success(),
        "{}",
        describe("--check", &remote, &check)
    );
    let out = sb.run(
        "install-hooks",
        sb.path(),
        &["--server", "--uninstall", "--repo", repo],
    );
    assert!(
        out.status.success(),
        "{}",
        describe("uninstall", &remote, &out)
    );
    assert_eq!(read(&own), script);
    assert!(!remote.join("hooks/pre-receive.local").exists());
}

#[test]
fn bad_input_refuses_the_push_with_one_line() {
    let sb = Sandbox::new();
    let (remote, _) = served(&sb);
    let receive = |input: &str| {
        let mut cmd = sb.command(bin("pre-receive"), &remote);
        cmd.env("GIT_DIR", ".")
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("run pre-receive");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(1));
        let said = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(said.trim().lines().count(), 1, "{said}");
        said
    };
    let said = receive("only-two fields\n");
    assert!(
        said.contains("pre-receive input line 1") && said.contains("<old sha> <new sha> <ref>"),
        "{said}"
    );
    // An object it cannot read (named, but not in the repository or its quarantine).
    let main = sb.git(&remote, &["rev-parse", "main"]);
    let missing = "1234567890abcdef1234567890abcdef12345678";
    let said = receive(&format!("{main} {missing} refs/heads/main\n"));
    assert!(
        said.contains("refusing to push `refs/heads/main`")
            && said.contains(&format!("cannot read object {missing}")),
        "{said}"
    );
    // A work tree is no place for it.
    let clone = sb.clone_repo(&remote, "clone");
    let out = sb.run("install-hooks", &clone, &["--server"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a bare repository"));
}

#[test]
fn beside_the_global_install_the_server_install_stays_in_its_repository() {
    let sb = Sandbox::new();
    let out = sb.run("install-hooks", sb.path(), &["--global"]);
    assert!(
        out.status.success(),
        "{}",
        describe("--global", sb.path(), &out)
    );
    let shared = sb.path().join("home/.config/mainstay/hooks");
    let dispatcher = read(&shared.join("pre-receive"));
    let (remote, work) = served(&sb);
    let repo = remote.to_str().expect("utf-8");
    assert!(remote.join("hooks/pre-receive").is_file());
    assert_eq!(
        read(&shared.join("pre-receive")),
        dispatcher,
        "the directory every repository shares is untouched"
    );
    assert!(!shared.join("pre-receive.local").exists());
    assert_eq!(
        sb.git(&remote, &["config", "--local", "core.hooksPath"]),
        remote.join("hooks").display().to_string()
    );
    // This remote refuses, whatever the client skips.
    let before = sb.git(&remote, &["rev-parse", "main"]);
    sb.commit(&work, "a.txt", "1\n", "one");
    sb.git(&work, &["push", "-q", "origin", "main"]);
    sb.git(&work, &["reset", "-q", "--hard", &before]);
    let said = refused(
        &sb.git_output(
            &work,
            &["push", "-q", "--no-verify", "--force", "origin", "main"],
        ),
        "force",
        &work,
    );
    assert!(
        said.contains("remote: mainstay: refusing to force-push"),
        "{said}"
    );
    // Another repository on the machine got no policy.
    let other = sb.remote("other");
    let elsewhere = sb.clone_repo(&other, "elsewhere");
    let first = sb.git(&elsewhere, &["rev-parse", "HEAD"]);
    sb.commit(&elsewhere, "a.txt", "1\n", "one");
    sb.git(&elsewhere, &["push", "-q", "origin", "main"]);
    sb.git(&elsewhere, &["reset", "-q", "--hard", &first]);
    sb.git(
        &elsewhere,
        &["push", "-q", "--no-verify", "--force", "origin", "main"],
    );
    // Installing the machine-wide install again changes nothing; the server's check is clean.
    let out = sb.run("install-hooks", sb.path(), &["--global"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing changed"));
    let check = sb.run(
        "install-hooks",
        sb.path(),
        &["--server", "--check", "--repo", repo],
    );
    assert!(
        check.status.success(),
        "{}",
        describe("--check", &remote, &check)
    );
    // A stale copy: the fix names the server install.
    std::fs::write(remote.join("hooks/pre-receive"), "stale").expect("write");
    let check = sb.run(
        "install-hooks",
        sb.path(),
        &["--server", "--check", "--repo", repo],
    );
    assert_eq!(check.status.code(), Some(1));
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(
        said.contains(&format!("run install-hooks --server --repo {repo}")),
        "{said}"
    );
    let out = sb.run(
        "install-hooks",
        sb.path(),
        &["--server", "--uninstall", "--repo", repo],
    );
    assert!(
        out.status.success(),
        "{}",
        describe("uninstall", &remote, &out)
    );
    assert!(
        !sb.git_output(&remote, &["config", "--local", "core.hooksPath"])
            .status
            .success(),
        "the repository's own hooks path is gone again"
    );
}

/// The pushed tree sets nothing the remote judges it by: attributes come from the branch's old
/// tip and the repository's own `info/attributes`. See: issue 22, item 2.
#[test]
fn a_pushed_attribute_does_not_loosen_the_remotes_check() {
    let sb = Sandbox::new();
    let (remote, work) = served(&sb);
    let first = sb.git(&work, &["rev-parse", "HEAD"]);
    write(&work.join(".gitattributes"), "* conflict-marker-size=99\n");
    write(&work.join("code.rs"), MARKERS);
    sb.git(&work, &["add", "-A"]);
    sb.git(&work, &["commit", "-q", "-m", "loosen"]);
    let said = refused(
        &sb.git_output(&work, &["push", "-q", "origin", "main"]),
        "markers under a pushed attribute",
        &work,
    );
    assert!(said.contains("code.rs:2 adds a conflict block"), "{said}");
    // A new branch is judged by what it forks from, not by its own tree.
    let said = refused(
        &sb.git_output(&work, &["push", "-q", "origin", "main:feature"]),
        "a new branch",
        &work,
    );
    assert!(said.contains("code.rs:2 adds a conflict block"), "{said}");
    // Once the attribute is the remote's own (here its `info/attributes`), it holds.
    sb.git(&work, &["reset", "-q", "--hard", &first]);
    write(
        &remote.join("info/attributes"),
        "*.long conflict-marker-size=10\n",
    );
    sb.commit(
        &work,
        "notes.long",
        MARKERS,
        "seven-character runs are text here",
    );
    sb.git(&work, &["push", "-q", "origin", "main"]);
}
