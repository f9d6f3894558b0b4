//! The `git` executable, for what gix does not do (push, ls-remote, config writes), and the paths
//! of a repository as git itself resolves them.
//!
//! A failed call explains itself: the error carries the command line, the exit status and the
//! trimmed stderr, each without credentials. A remote given as a URL (which may hold a password)
//! never goes on a command line: [`Git::remote`] names it to git through the environment.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot run `{command}` in {}: {source}", dir.display())]
    Spawn {
        command: CommandLine,
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}): {stderr}")]
    Failed {
        command: CommandLine,
        status: std::process::ExitStatus,
        stderr: String,
    },
    #[error("{} is not inside a git repository (run this in a clone, or give its path)", dir.display())]
    NotARepository { dir: PathBuf },
    #[error("`{command}` printed something that is not UTF-8")]
    NotUtf8 { command: CommandLine },
}

/// A git command line as the user would type it, for error messages.
#[derive(Debug, Clone)]
pub struct CommandLine(String);

impl fmt::Display for CommandLine {
    /// At most 300 characters: a push of many refs makes a line of megabytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 300;
        match self.0.char_indices().nth(SHOWN) {
            Some((cut, _)) => write!(
                f,
                "{} … ({} more characters)",
                &self.0[..cut],
                self.0.len() - cut
            ),
            None => f.write_str(&self.0),
        }
    }
}

/// A repository as git resolves it: where hooks are read from, the common git dir, the work tree.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The directory git reads hooks from (honours `core.hooksPath` and linked worktrees).
    pub hooks: PathBuf,
    /// The git dir shared by all worktrees (`.git` of the main worktree).
    pub common_dir: PathBuf,
    /// The top of this work tree, if there is one.
    pub worktree: Option<PathBuf>,
}

/// Runs `git` in one directory, with a clean, prompt-free environment for network calls.
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
    /// Configuration given to git through `GIT_CONFIG_COUNT` rather than argv.
    config: Vec<(String, String)>,
}

/// The name under which [`Git::remote`] hands git a remote given by URL.
const URL_REMOTE: &str = "mainstay-url";

impl Git {
    pub fn new(dir: impl Into<PathBuf>) -> Git {
        Git {
            dir: dir.into(),
            config: Vec::new(),
        }
    }

    /// The remote to name on git's command line for `remote`, a remote's name or a URL, and the
    /// `Git` to run it with. A URL (it may carry a password) is defined as a remote through the
    /// environment, so it never appears in any process's argv.
    pub fn remote(&self, remote: &str) -> (Git, String) {
        if !remote.contains("://") {
            return (self.clone(), remote.to_owned());
        }
        let mut git = self.clone();
        git.config
            .push((format!("remote.{URL_REMOTE}.url"), remote.to_owned()));
        (git, URL_REMOTE.to_owned())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A `git` command in this directory, never prompting: hooks and monitors have no terminal.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new("git");
        cmd.current_dir(&self.dir)
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_SSH_COMMAND", ssh_batch_command())
            .stdin(Stdio::null());
        if !self.config.is_empty() {
            // Added after any the caller's environment already gives git.
            let given: usize = std::env::var("GIT_CONFIG_COUNT")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            for (i, (key, value)) in self.config.iter().enumerate() {
                cmd.env(format!("GIT_CONFIG_KEY_{}", given + i), key)
                    .env(format!("GIT_CONFIG_VALUE_{}", given + i), value);
            }
            cmd.env("GIT_CONFIG_COUNT", (given + self.config.len()).to_string());
        }
        cmd
    }

    /// Runs git and returns its output, whatever the exit status.
    pub fn output<I, S>(&self, args: I) -> Result<Output, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.output_with(args, &[])
    }

    /// [`Git::output`] with `env` added to git's environment (and its hooks').
    pub fn output_with<I, S>(&self, args: I, env: &[(&str, &str)]) -> Result<Output, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args.into_iter().collect();
        let mut cmd = self.command(&args);
        cmd.envs(env.iter().copied());
        cmd.output().map_err(|source| Error::Spawn {
            command: command_line(&args),
            dir: self.dir.clone(),
            source,
        })
    }

    /// Like [`Git::run`], with `input` on git's stdin.
    pub fn run_with_input<I, S>(&self, args: I, input: &[u8]) -> Result<String, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        use std::io::Write;
        let args: Vec<_> = args.into_iter().collect();
        let spawn_error = |source| Error::Spawn {
            command: command_line(&args),
            dir: self.dir.clone(),
            source,
        };
        let mut child = self
            .command(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error)?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let input = input.to_vec();
        // Fed from a thread: git may fill its stdout before it has read all of its stdin.
        let feeder = std::thread::spawn(move || stdin.write_all(&input));
        let output = child.wait_with_output().map_err(spawn_error)?;
        let _ = feeder.join();
        if !output.status.success() {
            return Err(Error::Failed {
                command: command_line(&args),
                status: output.status,
                stderr: trimmed(&output.stderr),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout)
            .trim_end()
            .to_owned())
    }

    /// Runs git, requires success, and returns stdout as it is (an object's raw bytes).
    pub fn bytes<I, S>(&self, args: I) -> Result<Vec<u8>, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args.into_iter().collect();
        Ok(self.succeeded(&args)?.stdout)
    }

    /// Runs git and requires success: its output, or an error that explains itself.
    fn succeeded<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<Output, Error> {
        let output = self.output(args)?;
        if !output.status.success() {
            return Err(Error::Failed {
                command: command_line(args),
                status: output.status,
                stderr: trimmed(&output.stderr),
            });
        }
        Ok(output)
    }

    /// Runs git, requires success, and returns stdout without its trailing newline.
    pub fn run<I, S>(&self, args: I) -> Result<String, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args.into_iter().collect();
        let output = self.succeeded(&args)?;
        let mut stdout = String::from_utf8(output.stdout).map_err(|_| Error::NotUtf8 {
            command: command_line(&args),
        })?;
        let len = stdout.trim_end_matches(['\n', '\r']).len();
        stdout.truncate(len);
        Ok(stdout)
    }

    /// Resolves hooks dir, common dir and work tree in one call, as absolute paths.
    pub fn paths(&self) -> Result<Paths, Error> {
        let out = self
            .run([
                "rev-parse",
                "--path-format=absolute",
                "--git-path",
                "hooks",
                "--git-common-dir",
                "--is-bare-repository",
            ])
            .map_err(|e| match e {
                Error::Failed { ref stderr, .. } if stderr.contains("not a git repository") => {
                    Error::NotARepository {
                        dir: std::path::absolute(&self.dir).unwrap_or_else(|_| self.dir.clone()),
                    }
                }
                Error::Spawn { ref source, .. }
                    if source.kind() == std::io::ErrorKind::NotFound && !self.dir.exists() =>
                {
                    Error::NotARepository {
                        dir: std::path::absolute(&self.dir).unwrap_or_else(|_| self.dir.clone()),
                    }
                }
                e => e,
            })?;
        let mut lines = out.lines();
        let hooks = PathBuf::from(lines.next().unwrap_or_default());
        let common_dir = PathBuf::from(lines.next().unwrap_or_default());
        let bare = lines.next() == Some("true");
        let worktree = if bare {
            None
        } else {
            Some(PathBuf::from(self.run([
                "rev-parse",
                "--path-format=absolute",
                "--show-toplevel",
            ])?))
        };
        Ok(Paths {
            hooks,
            common_dir,
            worktree,
        })
    }

    /// The commit id `rev` names, `None` when it names none (`rev-parse --verify --quiet`).
    pub fn resolve(&self, rev: &str) -> Option<String> {
        self.run(["rev-parse", "--verify", "--quiet", rev]).ok()
    }

    /// Whether commit `ancestor` is `descendant` or one of its ancestors.
    pub fn is_ancestor(&self, ancestor: &str, descendant: &str) -> Result<bool, Error> {
        let out = self.output(["merge-base", "--is-ancestor", ancestor, descendant])?;
        Ok(out.status.success())
    }

    /// `git config --get KEY`, `None` when unset.
    pub fn config_get(&self, key: &str) -> Result<Option<String>, Error> {
        self.config_get_in("--get", key)
    }

    /// `git config <scope> --get KEY` (`--local`, `--global`), `None` when unset.
    pub fn config_get_in(&self, scope: &str, key: &str) -> Result<Option<String>, Error> {
        let args: Vec<&str> = if scope == "--get" {
            vec!["config", "--get", key]
        } else {
            vec!["config", scope, "--get", key]
        };
        self.config_query(&args)
    }

    /// `git config <scope> --type=path --get KEY`: a path as git uses it (`~/` expanded).
    pub fn config_get_path_in(&self, scope: &str, key: &str) -> Result<Option<String>, Error> {
        self.config_query(&["config", scope, "--type=path", "--get", key])
    }

    fn config_query(&self, args: &[&str]) -> Result<Option<String>, Error> {
        let output = self.output(args)?;
        match output.status.code() {
            Some(0) => Ok(Some(trimmed(&output.stdout))),
            Some(1) => Ok(None),
            _ => Err(Error::Failed {
                command: command_line(args),
                status: output.status,
                stderr: trimmed(&output.stderr),
            }),
        }
    }
}

/// ssh in batch mode, keeping a user's own `GIT_SSH_COMMAND` if there is one.
fn ssh_batch_command() -> String {
    let base = std::env::var("GIT_SSH_COMMAND").unwrap_or_else(|_| "ssh".to_owned());
    format!("{base} -o BatchMode=yes")
}

fn command_line<S: AsRef<OsStr>>(args: &[S]) -> CommandLine {
    let mut line = String::from("git");
    for arg in args {
        line.push(' ');
        line.push_str(&arg.as_ref().to_string_lossy());
    }
    CommandLine(crate::text::without_credentials(&line).into_owned())
}

/// Output bytes as one trimmed line (git's stderr often spans several), without credentials
/// and control characters.
pub(crate) fn trimmed(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let line = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    crate::text::printable(&crate::text::without_credentials(&line)).into_owned()
}
