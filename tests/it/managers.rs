//! Other hook managers, for real: lefthook from the npm registry and the pre-commit framework
//! from PyPI (tests/run.sh installs it), each writing its own `pre-push`. Ours chains theirs,
//! theirs still blocks, `--uninstall` gives theirs back, `--check` notices when they overwrite
//! ours.
//!
//! See: the newcomer's-first-hour issue.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Sandbox, describe, read, write};

/// lefthook 1 from the npm registry, installed once into the build directory.
fn lefthook() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-deps/lefthook");
    let bin = dir.join("node_modules/lefthook-linux-x64/bin/lefthook");
    if !bin.is_file() {
        // No install scripts: lefthook's would set up hooks in whatever repository holds `dir`.
        let out = Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                "--prefix",
            ])
            .arg(&dir)
            .arg("lefthook@1")
            .output()
            .expect("npm must be installed to test lefthook");
        assert!(
            out.status.success(),
            "{}",
            describe("npm install lefthook@1", &dir, &out)
        );
    }
    assert!(bin.is_file(), "lefthook's binary is at {}", bin.display());
    bin
}

/// The pre-commit framework, which tests/run.sh installs from PyPI.
fn pre_commit() -> PathBuf {
    let out = Command::new("sh")
        .args(["-c", "command -v pre-commit"])
        .output()
        .expect("sh");
    let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        !path.is_empty(),
        "pre-commit is not installed: run tests/run.sh (pip install pre-commit)"
    );
    PathBuf::from(path)
}

/// A clone whose hook manager has written its `pre-push`, gating on a `block-push` file.
struct Managed {
    sb: Sandbox,
    work: PathBuf,
    env: Vec<(&'static str, String)>,
}

impl Managed {
    fn git(&self, args: &[&str]) -> std::process::Output {
        self.sb
            .command("git", &self.work)
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .args(args)
            .output()
            .expect("run git")
    }

    fn run(&self, program: &Path, args: &[&str]) -> std::process::Output {
        self.sb
            .command(program, &self.work)
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .args(args)
            .output()
            .expect("run the manager")
    }

    /// Chains, blocks, notices an overwrite, gives theirs back: the same for every manager.
    fn holds(&self, reinstall: &dyn Fn()) {
        let theirs = read(&self.work.join(".git/hooks/pre-push"));
        assert!(!theirs.is_empty());
        let said = self.sb.install(&self.work);
        assert!(
            said.contains("pre-push.local") && said.contains("installed"),
            "{said}"
        );
        assert_eq!(read(&self.work.join(".git/hooks/pre-push.local")), theirs);
        self.sb.commit(&self.work, "a.txt", "1\n", "one");
        let out = self.git(&["push", "-q", "origin", "main"]);
        assert!(
            out.status.success(),
            "{}",
            describe("push", &self.work, &out)
        );
        // Their hook still blocks.
        write(&self.work.join("block-push"), "");
        self.sb.commit(&self.work, "a.txt", "2\n", "two");
        let out = self.git(&["push", "-q", "origin", "main"]);
        assert!(
            !out.status.success(),
            "{}",
            describe("blocked push", &self.work, &out)
        );
        std::fs::remove_file(self.work.join("block-push")).expect("remove");
        // Ours still refuses what it refuses.
        self.sb
            .git(&self.work, &["reset", "-q", "--hard", "HEAD~2"]);
        let out = self.git(&["push", "-q", "--force", "origin", "main"]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to force-push"));
        self.sb.git(&self.work, &["pull", "-q", "--ff-only"]);
        // They overwrite ours: --check says so.
        reinstall();
        let out = self.sb.run("install-hooks", &self.work, &["--check"]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            describe("--check", &self.work, &out)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("pre-push"),
            "{}",
            describe("--check", &self.work, &out)
        );
        // Installing again puts ours back in front; uninstalling gives theirs back.
        self.sb.install(&self.work);
        let out = self.sb.run("install-hooks", &self.work, &["--uninstall"]);
        assert!(
            out.status.success(),
            "{}",
            describe("--uninstall", &self.work, &out)
        );
        let back = read(&self.work.join(".git/hooks/pre-push"));
        assert!(
            !back.is_empty() && !back.starts_with("\x7fELF"),
            "theirs is back"
        );
    }
}

fn managed(files: &[(&str, &str)]) -> Managed {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let work = sb.clone_repo(&remote, "work");
    for (name, text) in files {
        write(&work.join(name), text);
    }
    sb.git(&work, &["add", "-A"]);
    sb.git(&work, &["commit", "-q", "-m", "hook manager config"]);
    sb.git(&work, &["push", "-q", "origin", "main"]);
    Managed {
        sb,
        work,
        env: Vec::new(),
    }
}

#[test]
fn lefthook_and_mainstay_both_run_and_lefthook_still_blocks() {
    let bin = lefthook();
    let mut m = managed(&[(
        "lefthook.yml",
        "pre-push:\n  commands:\n    gate:\n      run: test ! -e block-push\n",
    )]);
    m.env.push(("LEFTHOOK_BIN", bin.display().to_string()));
    let out = m.run(&bin, &["install"]);
    assert!(
        out.status.success(),
        "{}",
        describe("lefthook install", &m.work, &out)
    );
    m.holds(&|| {
        let out = m.run(&bin, &["install", "--force"]);
        assert!(
            out.status.success(),
            "{}",
            describe("lefthook install --force", &m.work, &out)
        );
    });
}

#[test]
fn pre_commit_and_mainstay_both_run_and_pre_commit_still_blocks() {
    let bin = pre_commit();
    let m = managed(&[(
        ".pre-commit-config.yaml",
        "repos:\n- repo: local\n  hooks:\n  - id: gate\n    name: gate\n    entry: sh -c 'test ! -e block-push'\n    language: system\n    stages: [pre-push]\n    always_run: true\n    pass_filenames: false\n",
    )]);
    let out = m.run(&bin, &["install", "--hook-type", "pre-push"]);
    assert!(
        out.status.success(),
        "{}",
        describe("pre-commit install", &m.work, &out)
    );
    m.holds(&|| {
        let out = m.run(&bin, &["install", "--hook-type", "pre-push", "--overwrite"]);
        assert!(
            out.status.success(),
            "{}",
            describe("pre-commit install --overwrite", &m.work, &out)
        );
    });
}
