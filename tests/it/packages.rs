//! The package route, for real: the npm packages and the Python wheel that `packaging/pack.sh`
//! makes from this build's executables, installed from the local files by real npm and pip into
//! a fresh project and a fresh virtual environment, with no Rust toolchain on `PATH`; then a
//! protected push. Offline, so npm is handed the platform package that the registry would give it.
//!
//! See: the adoption issue (a package install in seconds).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::util::{Sandbox, bin, describe, write};

/// The Rust target of this machine, as `packaging/targets` names it.
fn target() -> String {
    match std::env::consts::OS {
        "macos" => format!("{}-apple-darwin", std::env::consts::ARCH),
        _ => format!("{}-unknown-linux-gnu", std::env::consts::ARCH),
    }
}

/// The packages, built once per test run into the build directory.
pub struct Packages {
    dir: PathBuf,
}

impl Packages {
    fn one(&self, prefix: &str, suffix: &str) -> PathBuf {
        let found: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .expect("read the packages")
            .map(|e| e.expect("entry").path())
            .filter(|p| {
                let name = p.file_name().expect("name").to_string_lossy();
                name.starts_with(prefix) && name.ends_with(suffix)
            })
            .collect();
        assert_eq!(found.len(), 1, "one {prefix}*{suffix} in {found:?}");
        found.into_iter().next().expect("one")
    }

    /// The npm package users install: the launcher.
    pub fn npm_main(&self) -> PathBuf {
        self.one(
            &format!("mainstay-hooks-{}.", env!("CARGO_PKG_VERSION")),
            ".tgz",
        )
    }

    /// This platform's npm package: the executables.
    pub fn npm_platform(&self) -> PathBuf {
        self.one("mainstay-hooks-linux-", ".tgz")
    }

    pub fn wheel(&self) -> PathBuf {
        self.one("mainstay_hooks-", ".whl")
    }
}

/// `packaging/pack.sh` over stripped copies of the debug executables (a release build takes
/// minutes; their debug information would make each package 800 MB).
pub fn packages() -> &'static Packages {
    static PACKAGES: OnceLock<Packages> = OnceLock::new();
    PACKAGES.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("packages");
        let _ = std::fs::remove_dir_all(&root);
        let built = root.join("built");
        std::fs::create_dir_all(&built).expect("mkdir");
        for exe in [
            "mainstay",
            "install-hooks",
            "pre-push",
            "post-push",
            "merge-driver",
            "pre-receive",
        ] {
            let to = built.join(exe);
            let stripped = Command::new("strip")
                .arg("-o")
                .arg(&to)
                .arg(bin(exe))
                .status()
                .is_ok_and(|s| s.success());
            if !stripped {
                std::fs::copy(bin(exe), &to).expect("copy the executable");
            }
        }
        let dir = root.join("out");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/pack.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg("--out")
            .arg(&dir)
            .arg(format!("{}={}", target(), built.display()))
            .env("npm_config_cache", root.join("npm-cache"))
            .output()
            .expect("run pack.sh");
        assert!(out.status.success(), "{}", describe("pack.sh", &root, &out));
        Packages { dir }
    })
}

/// A directory of links to the few programs a project without Rust uses, to be all of `PATH`.
fn tools(sb: &Sandbox) -> PathBuf {
    let dir = sb.path().join("tools");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for name in ["git", "node", "npm", "python3", "sh", "env"] {
        let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join(name))
            .find(|p| p.is_file())
            .unwrap_or_else(|| panic!("{name} must be installed (tests/run.sh)"));
        // Resolved: npm finds its own files from where its script really is, and a version
        // manager's `python3` is a shim that needs the rest of PATH.
        let real = if name == "python3" {
            let out = Command::new(&found)
                .args(["-c", "import sys; print(sys.executable)"])
                .output()
                .expect("run python3");
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        } else {
            std::fs::canonicalize(&found).expect("resolve")
        };
        std::os::unix::fs::symlink(real, dir.join(name)).expect("link");
    }
    dir
}

/// `PATH` made of `dirs`, checked to hold no Rust toolchain.
fn path_of(dirs: &[&Path]) -> String {
    let path = std::env::join_paths(dirs).expect("join PATH");
    for tool in ["cargo", "rustc", "rustup"] {
        assert!(
            !dirs.iter().any(|d| d.join(tool).exists()),
            "{tool} is not on the test's PATH"
        );
    }
    path.into_string().expect("utf-8")
}

fn run(sb: &Sandbox, dir: &Path, path: &str, program: &str, args: &[&str]) -> Output {
    sb.command(program, dir)
        .args(args)
        .env("PATH", path)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"))
}

fn ok(sb: &Sandbox, dir: &Path, path: &str, program: &str, args: &[&str]) -> String {
    let out = run(sb, dir, path, program, args);
    let what = format!("{program} {}", args.join(" "));
    assert!(out.status.success(), "{}", describe(&what, dir, &out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Sets `repo` up with the installed `install-hooks` alone on `path`, then checks that a force
/// push of `main` is refused and an ordinary push goes through.
fn protects(sb: &Sandbox, repo: &Path, remote: &Path, path: &str) {
    let said = ok(sb, repo, path, "install-hooks", &[]);
    assert!(said.contains("pre-push"), "{said}");
    let before = sb.git(remote, &["rev-parse", "main"]);
    sb.git(repo, &["commit", "-q", "--amend", "-m", "rewritten"]);
    let out = run(
        sb,
        repo,
        path,
        "git",
        &["push", "--force", "origin", "main"],
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && said.contains("refusing to force-push protected branch `main`"),
        "{}",
        describe("git push --force origin main", repo, &out)
    );
    assert_eq!(sb.git(remote, &["rev-parse", "main"]), before, "main kept");
    ok(
        sb,
        repo,
        path,
        "git",
        &["push", "-q", "origin", "HEAD:refs/heads/agent/one"],
    );
}

#[test]
fn the_npm_package_installs_offline_without_rust_and_protects_main() {
    let packages = packages();
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let repo = sb.clone_repo(&remote, "app");
    write(
        &repo.join("package.json"),
        r#"{"name": "app", "version": "1.0.0", "private": true}"#,
    );
    let tools = tools(&sb);
    let path = path_of(&[&repo.join("node_modules/.bin"), &tools]);
    let cache = sb.path().join("npm-cache");
    let (platform, main) = (packages.npm_platform(), packages.npm_main());
    ok(
        &sb,
        &repo,
        &path,
        "npm",
        &[
            "install",
            "--offline",
            "--no-audit",
            "--no-fund",
            "--cache",
            cache.to_str().expect("utf-8"),
            platform.to_str().expect("utf-8"),
            main.to_str().expect("utf-8"),
        ],
    );
    let mut on_path: Vec<String> = std::fs::read_dir(repo.join("node_modules/.bin"))
        .expect("read .bin")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    on_path.sort();
    assert_eq!(on_path, ["install-hooks", "mainstay"], "only these on PATH");
    let version = ok(&sb, &repo, &path, "mainstay", &["--version"]);
    assert!(
        version.contains(env!("CARGO_PKG_VERSION"))
            && version.contains("node_modules/mainstay-hooks-linux-x64/bin/mainstay"),
        "the launcher runs the platform package's executable, and says so: {version}"
    );
    let main_dir = repo.join("node_modules/mainstay-hooks");
    let manifest: serde_json::Value =
        serde_json::from_str(&crate::util::read(&main_dir.join("package.json"))).expect("json");
    let pages = manifest["man"].as_array().expect("a man field").clone();
    assert!(
        pages.iter().any(|p| p == "share/man/man1/mainstay.1"),
        "{pages:?}"
    );
    for page in &pages {
        assert!(
            main_dir.join(page.as_str().expect("a path")).is_file(),
            "{page}"
        );
    }
    protects(&sb, &repo, &remote, &path);
}

#[test]
fn the_npm_launcher_without_its_platform_package_says_what_is_missing() {
    let packages = packages();
    let sb = Sandbox::new();
    let project = sb.path().join("app");
    write(
        &project.join("package.json"),
        r#"{"name": "app", "private": true}"#,
    );
    let tools = tools(&sb);
    let path = path_of(&[&project.join("node_modules/.bin"), &tools]);
    let cache = sb.path().join("npm-cache");
    let main = packages.npm_main();
    // Offline, the optional platform package cannot be fetched: npm goes on without it.
    ok(
        &sb,
        &project,
        &path,
        "npm",
        &[
            "install",
            "--offline",
            "--no-audit",
            "--no-fund",
            "--cache",
            cache.to_str().expect("utf-8"),
            main.to_str().expect("utf-8"),
        ],
    );
    let out = run(&sb, &project, &path, "mainstay", &["--version"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        describe("mainstay", &project, &out)
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("mainstay-hooks-linux-x64 is not installed") && said.lines().count() == 1,
        "{said}"
    );
}

#[test]
fn the_wheel_installs_into_a_fresh_venv_without_rust_and_protects_main() {
    let packages = packages();
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let repo = sb.clone_repo(&remote, "app");
    let tools = tools(&sb);
    let venv = sb.path().join("venv");
    let tools_path = path_of(&[&tools]);
    ok(
        &sb,
        sb.path(),
        &tools_path,
        "python3",
        &["-m", "venv", venv.to_str().expect("utf-8")],
    );
    let wheel = packages.wheel();
    ok(
        &sb,
        sb.path(),
        &tools_path,
        venv.join("bin/python").to_str().expect("utf-8"),
        &[
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "--no-deps",
            "--disable-pip-version-check",
            wheel.to_str().expect("utf-8"),
        ],
    );
    let bin_dir = venv.join("bin");
    for hook in ["pre-push", "post-push", "merge-driver", "pre-receive"] {
        assert!(!bin_dir.join(hook).exists(), "{hook} is not on PATH");
        assert!(venv.join("libexec/mainstay").join(hook).is_file(), "{hook}");
    }
    let share = venv.join("share");
    assert!(
        share.join("man/man1/mainstay-status.1").is_file(),
        "man pages"
    );
    assert!(
        share.join("bash-completion/completions/mainstay").is_file(),
        "completions"
    );
    let path = path_of(&[&bin_dir, &tools]);
    let version = ok(&sb, &repo, &path, "mainstay", &["--version"]);
    assert!(version.contains(env!("CARGO_PKG_VERSION")), "{version}");
    protects(&sb, &repo, &remote, &path);
}

/// The `prepare` script docs/packages.md tells a project to commit, read from there.
fn prepare_script() -> String {
    let docs = include_str!("../../docs/packages.md");
    let line = docs
        .lines()
        .find(|l| l.trim_start().starts_with("\"prepare\":"))
        .expect("docs/packages.md shows the prepare script");
    let value = line.trim().trim_start_matches("\"prepare\":").trim();
    serde_json::from_str::<String>(value).expect("a JSON string")
}

/// `npm install` (no arguments, as a teammate runs it) in `dir`, offline.
fn npm_install(sb: &Sandbox, dir: &Path, path: &str, extra: &[&str]) -> Output {
    let cache = sb.path().join("npm-cache");
    let mut args = vec![
        "install",
        "--offline",
        "--no-audit",
        "--no-fund",
        "--cache",
        cache.to_str().expect("utf-8"),
    ];
    args.extend(extra);
    run(sb, dir, path, "npm", &args)
}

#[test]
fn the_prepare_script_sets_a_clone_up_where_mainstay_is_installed_and_is_silent_elsewhere() {
    let packages = packages();
    let sb = Sandbox::new();
    let tools = tools(&sb);
    let remote = sb.remote("remote");
    let prepare = prepare_script();
    let package_json = |deps: &str| {
        serde_json::json!({
            "name": "app",
            "private": true,
            "scripts": { "prepare": prepare },
            "devDependencies": serde_json::from_str::<serde_json::Value>(deps).expect("json"),
        })
        .to_string()
    };

    // A teammate without mainstay: the install succeeds and sets nothing up.
    let without = sb.clone_repo(&remote, "without");
    write(&without.join("package.json"), &package_json("{}"));
    let path = path_of(&[&without.join("node_modules/.bin"), &tools]);
    let out = npm_install(&sb, &without, &path, &[]);
    assert!(
        out.status.success(),
        "{}",
        describe("npm install", &without, &out)
    );
    assert!(
        !without.join(".git/hooks/pre-push").exists(),
        "nothing installed"
    );

    // A teammate whose `npm install` brings mainstay: the clone is set up.
    let with = sb.clone_repo(&remote, "with");
    let deps = serde_json::json!({
        "mainstay-hooks": format!("file:{}", packages.npm_main().display()),
        "mainstay-hooks-linux-x64": format!("file:{}", packages.npm_platform().display()),
    });
    write(&with.join("package.json"), &package_json(&deps.to_string()));
    let path = path_of(&[&with.join("node_modules/.bin"), &tools]);
    let out = npm_install(&sb, &with, &path, &[]);
    assert!(
        out.status.success(),
        "{}",
        describe("npm install", &with, &out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("pre-push"),
        "install-hooks ran: {}",
        describe("npm install", &with, &out)
    );
    let check = run(&sb, &with, &path, "install-hooks", &["--check"]);
    assert!(
        check.status.success(),
        "{}",
        describe("--check", &with, &check)
    );

    // The same project where there is no clone (a container build): nothing, and no failure.
    let image = sb.path().join("image");
    std::fs::create_dir_all(&image).expect("mkdir");
    std::fs::copy(with.join("package.json"), image.join("package.json")).expect("copy");
    let path = path_of(&[&image.join("node_modules/.bin"), &tools]);
    let out = npm_install(&sb, &image, &path, &[]);
    assert!(
        out.status.success(),
        "{}",
        describe("npm install", &image, &out)
    );
}

#[test]
fn install_sh_puts_only_mainstay_and_install_hooks_on_path_and_says_which_install_wins() {
    let sb = Sandbox::new();
    let prefix = sb.path().join("home/.local/bin");
    std::fs::create_dir_all(&prefix).expect("mkdir");
    // An earlier version's hook on PATH, and someone else's file with a hook's name.
    std::fs::copy(bin("pre-push"), prefix.join("pre-push")).expect("copy");
    write(&prefix.join("post-push"), "#!/bin/sh\necho theirs\n");
    // Another install of mainstay earlier on PATH.
    let other = sb.path().join("other");
    write(&other.join("mainstay"), "#!/bin/sh\n");
    std::fs::set_permissions(
        other.join("mainstay"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("install/install.sh");
    let mut path = vec![other.clone(), prefix.clone()];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let mut cmd = sb.command("bash", sb.path());
    for (key, _) in std::env::vars_os() {
        // Nothing of this test run's own cargo may steer the script's build.
        if key.to_string_lossy().starts_with("CARGO_") && key != "CARGO_HOME" {
            cmd.env_remove(&key);
        }
    }
    let out = cmd
        .arg(&script)
        .args(["--prefix", prefix.to_str().expect("utf-8")])
        .env("MAINSTAY_BUILD_PROFILE", "dev")
        .env("PATH", std::env::join_paths(path).expect("PATH"))
        .output()
        .expect("run install.sh");
    assert!(
        out.status.success(),
        "{}",
        describe("install.sh", sb.path(), &out)
    );
    let said = String::from_utf8_lossy(&out.stderr);
    let mut on_path: Vec<String> = std::fs::read_dir(&prefix)
        .expect("read prefix")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    on_path.sort();
    assert_eq!(
        on_path,
        ["install-hooks", "mainstay", "post-push"],
        "ours on PATH, theirs kept: {said}"
    );
    let libexec = sb.path().join("home/.local/libexec/mainstay");
    for hook in ["pre-push", "post-push", "merge-driver", "pre-receive"] {
        assert!(libexec.join(hook).is_file(), "{hook} in libexec: {said}");
    }
    let share = sb.path().join("home/.local/share");
    for file in [
        "man/man1/mainstay.1",
        "man/man1/mainstay-push.1",
        "bash-completion/completions/mainstay",
        "zsh/site-functions/_mainstay",
        "fish/vendor_completions.d/mainstay.fish",
    ] {
        assert!(share.join(file).is_file(), "{file}: {said}");
    }
    assert!(
        said.contains(&format!("removed {}", prefix.join("pre-push").display())),
        "{said}"
    );
    assert!(
        said.contains(&format!(
            "PATH finds mainstay at {} first",
            other.join("mainstay").display()
        )),
        "{said}"
    );
    let version = sb
        .command(prefix.join("mainstay"), sb.path())
        .arg("--version")
        .output()
        .expect("run mainstay --version");
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(
        version.contains(&prefix.join("mainstay").display().to_string()),
        "--version names the executable that runs: {version}"
    );

    let help = Command::new("bash")
        .arg(&script)
        .arg("--help")
        .output()
        .expect("run install.sh --help");
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.status.success() && text.starts_with("Builds mainstay's"),
        "{text}"
    );
    assert!(
        !text.contains("set -e") && text.contains("Usage:"),
        "usage only: {text}"
    );
}

/// An executable script at `path`.
fn script(path: &Path, text: &str) {
    write(path, text);
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
}

#[test]
fn tests_run_sh_installs_pre_commit_into_a_virtual_environment_not_the_users_python() {
    let sb = Sandbox::new();
    let stubs = sb.path().join("stubs");
    let log = sb.path().join("cargo.log");
    // The tools the script looks for, present; cargo says what it was started with.
    for tool in ["git", "npm", "mariadbd", "chromium", "apt-get"] {
        script(
            &stubs.join(tool),
            "#!/bin/sh\necho \"$0 $*\" >> \"$STUB_LOG\"\n",
        );
    }
    script(
        &stubs.join("cargo"),
        "#!/bin/sh\n{ echo \"VIRTUAL_ENV=$VIRTUAL_ENV\"; command -v pre-commit; echo \"cargo $*\"; } >> \"$STUB_LOG\"\n",
    );
    let tools = tools(&sb);
    for tool in ["bash", "dirname"] {
        let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
            .expect("bash and dirname");
        std::os::unix::fs::symlink(found, stubs.join(tool)).expect("link");
    }
    let venv = sb.path().join("test-venv");
    let run_sh = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/run.sh");
    let out = sb
        .command(stubs.join("bash"), sb.path())
        .arg(&run_sh)
        .arg("packages::")
        .env(
            "PATH",
            std::env::join_paths([&stubs, &tools]).expect("PATH"),
        )
        .env("STUB_LOG", &log)
        .env("MAINSTAY_TEST_VENV", &venv)
        .env_remove("VIRTUAL_ENV")
        .output()
        .expect("run tests/run.sh");
    let said = crate::util::read(&log);
    assert!(
        out.status.success(),
        "{}\n{said}",
        describe("tests/run.sh", sb.path(), &out)
    );
    assert!(!said.contains("apt-get"), "nothing was missing: {said}");
    assert!(
        said.contains(&format!("VIRTUAL_ENV={}", venv.display())),
        "{said}"
    );
    assert!(
        said.contains(&venv.join("bin/pre-commit").display().to_string()),
        "pre-commit from the environment: {said}"
    );
    assert!(said.contains("cargo test --locked packages::"), "{said}");
}

#[test]
fn completions_and_man_pages_come_from_the_clap_definitions() {
    let sb = Sandbox::new();
    for (shell, marker) in [
        ("bash", "_mainstay()"),
        ("zsh", "#compdef mainstay"),
        ("fish", "complete -c mainstay"),
    ] {
        let out = sb.run("mainstay", sb.path(), &["completions", shell]);
        assert!(out.status.success(), "{}", describe(shell, sb.path(), &out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(marker), "{shell}: {text}");
        assert!(
            text.contains("status") && text.contains("--wait"),
            "{shell}: every subcommand"
        );
    }
    let bash = sb.run("mainstay", sb.path(), &["completions", "bash"]);
    let file = sb.path().join("mainstay.bash");
    std::fs::write(&file, &bash.stdout).expect("write");
    let check = Command::new("bash")
        .arg("-n")
        .arg(&file)
        .output()
        .expect("bash -n");
    assert!(
        check.status.success(),
        "{}",
        describe("bash -n", sb.path(), &check)
    );

    let man = sb.path().join("share/man/man1");
    let out = sb.run(
        "mainstay",
        sb.path(),
        &["man", man.to_str().expect("utf-8")],
    );
    assert!(
        out.status.success(),
        "{}",
        describe("mainstay man", sb.path(), &out)
    );
    let page = std::fs::read_to_string(man.join("mainstay-status.1")).expect("a page per command");
    assert!(
        page.contains(".TH mainstay-status 1") && page.contains("wait"),
        "{page}"
    );
    assert!(man.join("mainstay.1").is_file());
}

#[test]
fn dash_c_runs_mainstay_as_if_started_in_that_directory() {
    let sb = Sandbox::new();
    let remote = sb.remote("remote");
    let repo = sb.clone_repo(&remote, "app");
    let outside = sb.path().join("elsewhere");
    std::fs::create_dir_all(&outside).expect("mkdir");
    let out = sb.run("mainstay", &outside, &["status"]);
    assert_eq!(out.status.code(), Some(4), "outside a clone");
    // Relative, and taken in turn, as git takes them.
    let out = sb.run("mainstay", &outside, &["-C", "..", "-C", "app", "status"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        describe("-C", &outside, &out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("not found"));
    let out = sb.run("mainstay", &repo, &["-C", "nowhere", "status"]);
    assert_eq!(out.status.code(), Some(4));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("-C nowhere: cannot change into it") && said.trim().lines().count() == 1,
        "{said}"
    );
}

#[test]
fn merge_driver_help_lists_the_kinds_and_names_no_rust_path() {
    let sb = Sandbox::new();
    let out = sb.run("merge-driver", sb.path(), &["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(!help.contains("::"), "{help}");
    let kinds: Vec<&str> = mainstay::ledger::Kind::all().map(|k| k.name()).collect();
    assert!(
        help.contains(&format!("[possible values: {}]", kinds.join(", "))),
        "{help}"
    );
    let out = sb.run("merge-driver", sb.path(), &["roadmaps", "a", "b", "c"]);
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("invalid value 'roadmaps'") && said.lines().count() == 1,
        "{said}"
    );
}

#[test]
fn the_release_script_names_each_target_it_cannot_build_here_and_why() {
    let sb = Sandbox::new();
    let release = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/release.sh");
    let dist = sb.path().join("dist");
    let release_run = |targets: &[&str]| {
        Command::new("bash")
            .arg(&release)
            .arg("--out")
            .arg(&dist)
            .args(targets)
            .output()
            .expect("run release.sh")
    };
    // Targets this machine has no standard library for (a test never starts a release build).
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let foreign = ["aarch64-unknown-linux-gnu", "x86_64-apple-darwin"]
        .into_iter()
        .filter(|t| *t != target() && !installed.lines().any(|l| l == *t))
        .collect::<Vec<_>>();
    assert!(!foreign.is_empty(), "no foreign target to try: {installed}");
    let out = release_run(&foreign);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    for t in &foreign {
        assert!(
            said.contains(&format!("release.sh: skipped {t}: ")),
            "{said}"
        );
    }
    assert!(said.contains("no target could be built here"), "{said}");
    let out = release_run(&["riscv64-unknown-linux-gnu"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not in packaging/targets"));
}
