//! Other hook managers, for real: lefthook from the npm registry and the pre-commit framework
//! from PyPI, each writing its own `pre-push`. Ours chains theirs, theirs still blocks,
//! `--uninstall` gives theirs back, `--check` notices when they overwrite ours.
//!
//! See: the newcomer's-first-hour issue.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Sandbox, describe, read, write};

/// The npm package holding lefthook's executable for this host: `lefthook-<os>-<arch>`, as
/// lefthook names its per-platform packages.
fn lefthook_package() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("lefthook-{os}-{arch}")
}

/// lefthook 1 from the npm registry, installed once into the build directory.
pub fn lefthook() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-deps/lefthook");
    let bin = dir
        .join("node_modules")
        .join(lefthook_package())
        .join("bin/lefthook");
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

/// The pre-commit framework from PyPI, installed once into a virtual environment in the build
/// directory (never into the user's own Python).
pub fn pre_commit() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-deps/pre-commit");
    let bin = dir.join("bin/pre-commit");
    if !bin.is_file() {
        let out = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&dir)
            .output()
            .expect("python3 must be installed to test pre-commit");
        assert!(
            out.status.success(),
            "{}",
            describe("python3 -m venv", &dir, &out)
        );
        let out = Command::new(dir.join("bin/pip"))
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "pre-commit",
            ])
            .output()
            .expect("run pip");
        assert!(
            out.status.success(),
            "{}",
            describe("pip install pre-commit", &dir, &out)
        );
    }
    assert!(bin.is_file(), "pre-commit is at {}", bin.display());
    bin
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
    /// `ours_at` is where ours lives: the hook's name, or where the manager runs the hook it
    /// parked (pre-commit's `pre-push.legacy`), its script keeping the name.
    fn holds(&self, ours_at: &str, reinstall: &dyn Fn()) {
        let hooks = self.work.join(".git/hooks");
        let theirs = read(&hooks.join("pre-push"));
        assert!(!theirs.is_empty());
        let said = self.sb.install(&self.work);
        assert!(native(&hooks.join(ours_at)), "{said}");
        if ours_at == "pre-push" {
            assert_eq!(read(&hooks.join("pre-push.local")), theirs, "{said}");
        } else {
            assert_eq!(read(&hooks.join("pre-push")), theirs, "{said}");
        }
        self.pushes_and_blocks();
        // They overwrite ours: --check says so, and its fix fixes it.
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
        self.sb.install(&self.work);
        self.checks_ok();
        self.pushes_and_blocks();
        self.uninstalls_cleanly();
    }

    /// A push goes through, their hook still blocks, ours still refuses a force push of main.
    fn pushes_and_blocks(&self) {
        let n = self.sb.git(&self.work, &["rev-list", "--count", "HEAD"]);
        self.sb
            .commit(&self.work, "a.txt", &format!("{n}\n"), "one");
        let out = self.git(&["push", "-q", "origin", "main"]);
        assert!(
            out.status.success(),
            "{}",
            describe("push", &self.work, &out)
        );
        write(&self.work.join("block-push"), "");
        self.sb
            .commit(&self.work, "a.txt", &format!("{n}.\n"), "two");
        let out = self.git(&["push", "-q", "origin", "main"]);
        assert!(
            !out.status.success(),
            "{}",
            describe("blocked push", &self.work, &out)
        );
        std::fs::remove_file(self.work.join("block-push")).expect("remove");
        self.sb
            .git(&self.work, &["reset", "-q", "--hard", "HEAD~2"]);
        let out = self.git(&["push", "-q", "--force", "origin", "main"]);
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("refusing to force-push"),
            "{}",
            describe("force push", &self.work, &out)
        );
        self.sb.git(&self.work, &["pull", "-q", "--ff-only"]);
    }

    fn checks_ok(&self) {
        let out = self.sb.run("install-hooks", &self.work, &["--check"]);
        assert!(
            out.status.success(),
            "{}",
            describe("--check", &self.work, &out)
        );
    }

    /// `--uninstall` leaves their hook in place and running, and nothing of ours anywhere.
    fn uninstalls_cleanly(&self) {
        let out = self.sb.run("install-hooks", &self.work, &["--uninstall"]);
        assert!(
            out.status.success(),
            "{}",
            describe("--uninstall", &self.work, &out)
        );
        let hooks = self.work.join(".git/hooks");
        let back = read(&hooks.join("pre-push"));
        assert!(
            !back.is_empty() && !native(&hooks.join("pre-push")),
            "theirs is there"
        );
        for entry in std::fs::read_dir(&hooks).expect("list hooks") {
            let path = entry.expect("entry").path();
            assert!(!native(&path), "{} is ours and stayed", path.display());
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            assert!(!name.ends_with(".local"), "{name} stayed");
        }
        self.sb
            .commit(&self.work, "z.txt", "z\n", "after uninstall");
        let out = self.git(&["push", "-q", "origin", "main"]);
        assert!(
            out.status.success(),
            "{}",
            describe("push after uninstall", &self.work, &out)
        );
    }
}

/// Whether `path` is one of our native executables.
fn native(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.starts_with(b"\x7fELF"))
}

const PRE_COMMIT_GATE: &str = "repos:\n- repo: local\n  hooks:\n  - id: gate\n    name: gate\n    entry: sh -c 'test ! -e block-push'\n    language: system\n    stages: [pre-push]\n    always_run: true\n    pass_filenames: false\n";

const LEFTHOOK_GATE: &str = "pre-push:\n  commands:\n    gate:\n      run: test ! -e block-push\n";

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
    m.holds("pre-push", &|| {
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
    m.holds("pre-push.legacy", &|| {
        let out = m.run(&bin, &["install", "--hook-type", "pre-push", "--overwrite"]);
        assert!(
            out.status.success(),
            "{}",
            describe("pre-commit install --overwrite", &m.work, &out)
        );
    });
}

#[test]
fn pre_commit_installed_after_mainstay_and_again_keeps_both_running() {
    // See: issue 24, coexistence that survives the other tools' own commands.
    let bin = pre_commit();
    let m = managed(&[(".pre-commit-config.yaml", PRE_COMMIT_GATE)]);
    m.sb.install(&m.work);
    for args in [
        &["install", "--hook-type", "pre-push"][..],
        &["install", "--hook-type", "pre-push"],
        &["install"],
    ] {
        let out = m.run(&bin, args);
        assert!(
            out.status.success(),
            "{}",
            describe("pre-commit install", &m.work, &out)
        );
        // pre-commit runs ours first as the hook it found: nothing to fix.
        m.checks_ok();
        m.pushes_and_blocks();
    }
    // `-f` drops the hook it found, ours: --check says so, and its fix fixes it.
    let out = m.run(&bin, &["install", "-f", "--hook-type", "pre-push"]);
    assert!(
        out.status.success(),
        "{}",
        describe("pre-commit install -f", &m.work, &out)
    );
    let out = m.sb.run("install-hooks", &m.work, &["--check"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("--check", &m.work, &out)
    );
    m.sb.install(&m.work);
    m.checks_ok();
    m.pushes_and_blocks();
    m.uninstalls_cleanly();
}

#[test]
fn lefthook_installed_after_mainstay_and_again_is_found_fixed_and_leaves_no_old() {
    // See: issue 24, lefthook's `pre-push.old` after mainstay.
    let bin = lefthook();
    let mut m = managed(&[("lefthook.yml", LEFTHOOK_GATE)]);
    m.env.push(("LEFTHOOK_BIN", bin.display().to_string()));
    m.sb.install(&m.work);
    for args in [&["install"][..], &["install"], &["install", "--force"]] {
        let out = m.run(&bin, args);
        assert!(
            out.status.success(),
            "{}",
            describe("lefthook install", &m.work, &out)
        );
        let out = m.sb.run("install-hooks", &m.work, &["--check"]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            describe("--check", &m.work, &out)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("lefthook's script"),
            "{}",
            describe("--check", &m.work, &out)
        );
        m.sb.install(&m.work);
        m.checks_ok();
        assert!(!m.work.join(".git/hooks/pre-push.old").exists());
        m.pushes_and_blocks();
    }
    m.uninstalls_cleanly();
}

#[test]
fn a_managers_shim_that_is_not_executable_is_named_and_fixed() {
    // See: issue 24, a manager's shim git skips takes mainstay out with it.
    let bin = lefthook();
    let mut m = managed(&[("lefthook.yml", LEFTHOOK_GATE)]);
    m.env.push(("LEFTHOOK_BIN", bin.display().to_string()));
    m.sb.install(&m.work);
    let out = m.run(&bin, &["install"]);
    assert!(
        out.status.success(),
        "{}",
        describe("lefthook install", &m.work, &out)
    );
    let shim = m.work.join(".git/hooks/pre-push");
    std::fs::set_permissions(&shim, std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .expect("chmod");
    let out = m.sb.run("install-hooks", &m.work, &["--check"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("--check", &m.work, &out)
    );
    let said = m.sb.install(&m.work);
    assert!(said.contains("it stays off"), "{said}");
    m.checks_ok();
    m.sb.git(&m.work, &["reset", "-q", "--hard", "HEAD~1"]);
    let out = m.git(&["push", "-q", "--force", "origin", "main"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refusing to force-push"),
        "{}",
        describe("force push", &m.work, &out)
    );
    m.sb.git(&m.work, &["pull", "-q", "--ff-only"]);
    m.uninstalls_cleanly();
}

/// tests/deps/pre-commit.sh, run with nothing but `bash` and the given stubs on PATH; returns its
/// exit code, what it said and what `apt-get` was asked, one line per call.
fn install_pre_commit(stubs: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let sb = Sandbox::new();
    let bin = sb.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    for tool in ["bash", "chmod"] {
        std::os::unix::fs::symlink(format!("/bin/{tool}"), bin.join(tool)).expect("link a tool");
    }
    let apt_log = sb.path().join("apt.log");
    let apt = format!(
        "#!/bin/bash\necho \"$*\" >> '{log}'\ncase \"$*\" in *install*pre-commit*) printf '#!/bin/bash\\n' > '{bin}/pre-commit'; chmod +x '{bin}/pre-commit' ;; esac\n",
        log = apt_log.display(),
        bin = bin.display()
    );
    // The stubs given come last: they replace the default `apt-get`.
    for (name, text) in [&("apt-get", apt.as_str())].into_iter().chain(stubs) {
        let path = bin.join(name);
        write(&path, &text.replace("{bin}", &bin.display().to_string()));
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/deps/pre-commit.sh");
    let out = sb
        .command(bin.join("bash"), sb.path())
        .env("PATH", &bin)
        .arg(&script)
        .output()
        .expect("run pre-commit.sh");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        read(&apt_log),
    )
}

#[test]
fn the_test_setup_installs_pre_commit_with_pip_or_else_debians_package() {
    // A Debian python: pip refuses to install.
    let refusing = "#!/bin/bash\necho 'error: externally-managed-environment' >&2\nexit 1\n";
    let (code, said, apt) = install_pre_commit(&[("python3", refusing)]);
    assert_eq!(code, Some(0), "{said}");
    assert_eq!(
        apt.lines().collect::<Vec<_>>(),
        [
            "update -qq",
            "install -y -qq --no-install-recommends pre-commit"
        ],
        "{said}"
    );
    // No python3 at all.
    let (code, said, apt) = install_pre_commit(&[]);
    assert_eq!(code, Some(0), "{said}");
    assert!(apt.contains("install"), "{apt}");
    // A python whose pip installs (pyenv): apt is not asked.
    let pip =
        "#!/bin/bash\nprintf '#!/bin/bash\\n' > '{bin}/pre-commit'\nchmod +x '{bin}/pre-commit'\n";
    let (code, said, apt) = install_pre_commit(&[("python3", pip)]);
    assert_eq!(code, Some(0), "{said}");
    assert_eq!(apt, "", "{said}");
    // Neither works: one line saying so, and a failure.
    let (code, said, _) = install_pre_commit(&[
        ("python3", refusing),
        ("apt-get", "#!/bin/bash\nexit 100\n"),
    ]);
    assert_eq!(code, Some(1));
    assert!(said.contains("could not install pre-commit"), "{said}");
}
