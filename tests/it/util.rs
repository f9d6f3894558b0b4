//! Test support: hermetic sandboxes with real git, and the real executables.
//!
//! Every command runs with `HOME` in the sandbox, the `GIT_*` variables of the outer environment
//! removed, and a fixed identity, so the tests see no user configuration.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A built executable of this package.
pub fn bin(name: &str) -> PathBuf {
    let path = match name {
        "pre-push" => env!("CARGO_BIN_EXE_pre-push"),
        "pre-receive" => env!("CARGO_BIN_EXE_pre-receive"),
        "post-push" => env!("CARGO_BIN_EXE_post-push"),
        "merge-driver" => env!("CARGO_BIN_EXE_merge-driver"),
        "install-hooks" => env!("CARGO_BIN_EXE_install-hooks"),
        "mainstay" => env!("CARGO_BIN_EXE_mainstay"),
        other => panic!("no executable named {other}"),
    };
    PathBuf::from(path)
}

/// `MAINSTAY_POLL_FLOOR` in every test: the tests' schedules poll far more often than a
/// machine's monitors may by default.
pub const POLL_FLOOR: &str = "1ms";

/// A temporary directory with its own `HOME` and git identity.
pub struct Sandbox {
    root: TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let root = tempfile::Builder::new()
            .prefix("mainstay-test-")
            .tempdir()
            .expect("create temp dir");
        let home = root.path().join("home");
        std::fs::create_dir_all(&home).expect("create home");
        std::fs::write(
            home.join(".gitconfig"),
            "[user]\n\tname = Test Agent\n\temail = agent@example.com\n\
             [init]\n\tdefaultBranch = main\n[commit]\n\tgpgSign = false\n\
             [advice]\n\tdetachedHead = false\n",
        )
        .expect("write gitconfig");
        Sandbox { root }
    }

    pub fn path(&self) -> &Path {
        self.root.path()
    }

    /// A command with the sandbox's environment.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        for (key, _) in std::env::vars_os() {
            let key_text = key.to_string_lossy();
            if key_text.starts_with("GIT_") || key_text.starts_with("MAINSTAY") {
                cmd.env_remove(&key);
            }
        }
        cmd.current_dir(dir)
            .env("HOME", self.path().join("home"))
            .env("XDG_CONFIG_HOME", self.path().join("home/.config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            // The tests' monitors poll every 20 ms: below the one-second floor a machine gets.
            .env("MAINSTAY_POLL_FLOOR", POLL_FLOOR)
            .stdin(Stdio::null());
        cmd
    }

    /// The variables [`Sandbox::command`] sets, for processes started another way (a server).
    pub fn env(&self) -> Vec<(String, String)> {
        let home = self.path().join("home");
        vec![
            ("HOME".to_owned(), home.display().to_string()),
            (
                "XDG_CONFIG_HOME".to_owned(),
                home.join(".config").display().to_string(),
            ),
            ("MAINSTAY_POLL_FLOOR".to_owned(), POLL_FLOOR.to_owned()),
        ]
    }

    /// Runs git and panics with everything it said if it fails.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.git_output(dir, args);
        assert!(
            out.status.success(),
            "{}",
            describe(&format!("git {}", args.join(" ")), dir, &out)
        );
        String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
    }

    /// Runs git with `input` on its stdin, panicking as [`Sandbox::git`] does.
    pub fn git_with_input(&self, dir: &Path, args: &[&str], input: &str) -> String {
        use std::io::Write;
        let mut child = self
            .command("git", dir)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run git");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write git's input");
        let out = child.wait_with_output().expect("wait for git");
        assert!(
            out.status.success(),
            "{}",
            describe(&format!("git {}", args.join(" ")), dir, &out)
        );
        String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
    }

    /// Runs git and returns its output whatever the status.
    pub fn git_output(&self, dir: &Path, args: &[&str]) -> Output {
        self.command("git", dir)
            .args(args)
            .output()
            .expect("run git")
    }

    /// Runs one of our executables and returns its output.
    pub fn run(&self, name: &str, dir: &Path, args: &[&str]) -> Output {
        self.command(bin(name), dir)
            .args(args)
            .output()
            .expect("run executable")
    }

    /// A bare repository to push to, with one commit on main.
    pub fn remote(&self, name: &str) -> PathBuf {
        let seed = self.path().join(format!("{name}-seed"));
        std::fs::create_dir_all(&seed).expect("create seed");
        self.git(&seed, &["init", "-q", "-b", "main"]);
        write(&seed.join("README.md"), "# project\n");
        self.git(&seed, &["add", "-A"]);
        self.git(&seed, &["commit", "-q", "-m", "initial"]);
        let bare = self.path().join(format!("{name}.git"));
        self.git(
            self.path(),
            &[
                "clone",
                "-q",
                "--bare",
                seed.to_str().expect("utf-8"),
                bare.to_str().expect("utf-8"),
            ],
        );
        bare
    }

    /// A clone of `remote` named `name`.
    pub fn clone_repo(&self, remote: &Path, name: &str) -> PathBuf {
        let dir = self.path().join(name);
        self.git(
            self.path(),
            &[
                "clone",
                "-q",
                remote.to_str().expect("utf-8"),
                dir.to_str().expect("utf-8"),
            ],
        );
        dir
    }

    /// Writes a file, commits it, returns the new commit id.
    pub fn commit(&self, dir: &Path, file: &str, content: &str, message: &str) -> String {
        write(&dir.join(file), content);
        self.git(dir, &["add", "--", file]);
        self.git(dir, &["commit", "-q", "-m", message]);
        self.git(dir, &["rev-parse", "HEAD"])
    }

    /// `mainstay push` in `dir`, which must land; what it printed.
    pub fn lands(&self, dir: &Path) -> String {
        let out = self.run("mainstay", dir, &["push"]);
        assert!(
            out.status.success(),
            "{}",
            describe("mainstay push", dir, &out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The subjects of `main`'s commits in `repo`, newest first, a line each.
    pub fn subjects(&self, repo: &Path) -> String {
        self.git(repo, &["log", "--format=%s", "main"])
    }

    /// `install-hooks --repo dir`, which must succeed.
    pub fn install(&self, dir: &Path) -> String {
        let out = self.run(
            "install-hooks",
            dir,
            &["--repo", dir.to_str().expect("utf-8")],
        );
        assert!(
            out.status.success(),
            "{}",
            describe("install-hooks", dir, &out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The git common dir of a clone.
    pub fn common_dir(&self, dir: &Path) -> PathBuf {
        PathBuf::from(self.git(
            dir,
            &["rev-parse", "--path-format=absolute", "--git-common-dir"],
        ))
    }
}

/// A one-screen account of a command for assertion messages.
pub fn describe(what: &str, dir: &Path, out: &Output) -> String {
    format!(
        "`{what}` in {}: {}\n--- stdout\n{}\n--- stderr\n{}",
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn write(path: &Path, content: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create parent");
    }
    std::fs::write(path, content).expect("write file");
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Waits until `done` holds, or panics naming `what`. Effects of detached processes are awaited
/// this way; the limit is generous and only reached when the behaviour is wrong.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `cmd` in a process group of its own and kills the whole group (the command, the git it
/// runs, their hooks) once `done` says so.
pub fn killed_when(mut cmd: Command, what: &str, mut done: impl FnMut() -> bool) {
    use std::os::unix::process::CommandExt;
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("spawn the command to kill");
    wait_until(what, &mut done);
    let group = format!("-{}", child.id());
    let killed = Command::new("kill")
        .args(["-9", "--", &group])
        .status()
        .expect("kill");
    assert!(killed.success(), "killed {what}");
    let _ = child.wait();
}
