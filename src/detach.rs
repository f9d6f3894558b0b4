//! Processes that outlive the push: starting one fully detached, and waiting on one we did not
//! start. The only unsafe code in the crate lives here (`fork`, `setsid` and `execve` for
//! starting, `pidfd_open` and `poll` for waiting).
#![allow(unsafe_code)]

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How [`spawn`] starts a process.
#[derive(Debug, Default, Clone, Copy)]
pub struct Detach<'a> {
    /// Where stdout and stderr go; /dev/null when `None`.
    pub output: Option<&'a File>,
    /// A lock handed to the program.
    pub lock: Option<LockHandoff<'a>>,
    /// Exec the program only once this process has exited. Until then the child is an idle copy
    /// of the caller, so nothing starts up beside the process it waits for (a `git push`, whose
    /// every millisecond counts).
    pub after_exit_of: Option<u32>,
}

/// A lock the program inherits as an open descriptor, whose number it finds in the environment
/// variable `var`. Only the handoff sets `var`: never a value from the caller's own environment.
#[derive(Debug, Clone, Copy)]
pub struct LockHandoff<'a> {
    pub var: &'a str,
    pub from: LockFrom<'a>,
}

/// Where a [`LockHandoff`]'s lock comes from.
#[derive(Debug, Clone, Copy)]
pub enum LockFrom<'a> {
    /// A lock the caller holds: the program inherits it under the same number.
    Held(BorrowedFd<'a>),
    /// A lock file the child locks exclusively, without waiting: at once if the file exists,
    /// else (creating it) once the process it waits for has exited, because creating a file while
    /// a `git push` writes its own slows the push down by more than all the hook's work. When
    /// another process holds it, the program starts without it (and without `var`).
    File(&'a Path),
}

/// Starts `cmd`'s program with its arguments, environment changes and working directory, in its
/// own session, with stdin from /dev/null, stdout and stderr to `how.output`, and no other
/// descriptor but `how.lock`'s, so it holds no pipe of the push and no controlling terminal.
/// SIGHUP is ignored (as `nohup` does: the setting survives exec), so nothing that hangs up on
/// the pusher ends it.
///
/// Returns the child's pid at once, without waiting even for the exec: the caller (a hook that
/// git is waiting on) goes on while the child starts. So that a missing program is still an
/// error here, it is checked before the fork; the child exits with 127 if exec fails after all.
/// The caller never waits on the child: it outlives the caller.
pub fn spawn(cmd: &Command, how: Detach<'_>) -> io::Result<u32> {
    PORTABLE.store(
        crate::process::portable(),
        std::sync::atomic::Ordering::Relaxed,
    );
    let exec = Exec::new(cmd, how.lock)?;
    let dev_null = File::options().read(true).write(true).open("/dev/null")?;
    let null = dev_null.as_raw_fd();
    let out = how.output.map_or(null, |file| file.as_raw_fd());
    // SAFETY: the child makes only async-signal-safe calls (see `Exec::run`) on memory prepared
    // before the fork, and never returns.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => unsafe { exec.run(null, out, how.after_exit_of) },
        pid => Ok(pid as u32),
    }
}

/// Everything `execve` needs, built before the fork: the child must not allocate.
struct Exec {
    program: CString,
    cwd: Option<CString>,
    /// Null-terminated pointers into `strings`, which owns what they point at.
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
    /// A held lock's descriptor, kept open across exec.
    keep: Option<RawFd>,
    /// A lock file for the child to take.
    lock: Option<ExecLock>,
    _strings: Vec<CString>,
}

/// A [`LockFrom::File`] made ready for the child: the path, the descriptor number it gets, and
/// the environment with its variable added.
struct ExecLock {
    path: CString,
    fd: RawFd,
    envp: Vec<*const libc::c_char>,
}

impl Exec {
    fn new(cmd: &Command, handoff: Option<LockHandoff<'_>>) -> io::Result<Exec> {
        let cwd = cmd.get_current_dir();
        let program = resolve(cmd.get_program(), cwd)?;
        let args: Vec<CString> = std::iter::once(cmd.get_program())
            .chain(cmd.get_args())
            .map(c_string)
            .collect::<io::Result<_>>()?;
        let keep = match handoff.map(|h| h.from) {
            Some(LockFrom::Held(fd)) => Some(fd.as_raw_fd()),
            _ => None,
        };
        let keep_number = keep.map(|fd| fd.to_string());
        let mut changes: Vec<(&OsStr, Option<&OsStr>)> = cmd.get_envs().collect();
        if let Some(handoff) = &handoff {
            let value = keep_number.as_deref().map(OsStr::new);
            changes.push((OsStr::new(handoff.var), value));
        }
        let mut vars = Vec::new();
        for (key, value) in std::env::vars_os() {
            if !changes.iter().any(|(changed, _)| *changed == key) {
                vars.push(env_pair(&key, &value)?);
            }
        }
        for (key, value) in &changes {
            if let Some(value) = value {
                vars.push(env_pair(key, value)?);
            }
        }
        let pointers = |strings: &[CString]| {
            let mut list: Vec<*const libc::c_char> = strings.iter().map(|s| s.as_ptr()).collect();
            list.push(std::ptr::null());
            list
        };
        let envp = pointers(&vars);
        let mut extra = Vec::new();
        let lock = match handoff {
            Some(LockHandoff {
                var,
                from: LockFrom::File(path),
            }) => {
                // The lowest number free once the child has closed the rest.
                let fd = 3;
                let var = env_pair(OsStr::new(var), OsStr::new(&fd.to_string()))?;
                let mut envp = envp.clone();
                envp.insert(envp.len() - 1, var.as_ptr());
                extra.push(var);
                Some(ExecLock {
                    path: c_string(path.as_os_str())?,
                    fd,
                    envp,
                })
            }
            _ => None,
        };
        Ok(Exec {
            program: c_string(program.as_os_str())?,
            cwd: cwd.map(|dir| c_string(dir.as_os_str())).transpose()?,
            argv: pointers(&args),
            envp,
            keep,
            lock,
            _strings: args.into_iter().chain(vars).chain(extra).collect(),
        })
    }

    /// The child's side of the fork: detach, set up descriptors, wait if asked to, exec.
    ///
    /// # Safety
    /// Only in the child of `fork`: it calls nothing but async-signal-safe functions and does not
    /// allocate.
    unsafe fn run(&self, null: RawFd, out: RawFd, after: Option<u32>) -> ! {
        let keep = self.keep;
        // SAFETY: plain syscalls on descriptor numbers and on strings prepared before the fork.
        unsafe {
            let empty: libc::sigset_t = std::mem::zeroed();
            libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
            let ready = libc::setsid() != -1
                && libc::dup2(null, 0) != -1
                && libc::dup2(out, 1) != -1
                && libc::dup2(out, 2) != -1
                && self
                    .cwd
                    .as_ref()
                    .is_none_or(|dir| libc::chdir(dir.as_ptr()) == 0);
            if ready {
                close_descriptors_except(keep);
                let mut taken = self.lock.as_ref().map(|lock| take_lock(lock, false));
                if let Some(pid) = after {
                    wait_with_pidfd(pid);
                }
                if let (Some(lock), Some(Lock::Missing)) = (&self.lock, taken) {
                    taken = Some(take_lock(lock, true));
                }
                let envp = match (&self.lock, taken) {
                    (Some(lock), Some(Lock::Taken)) => &lock.envp,
                    _ => &self.envp,
                };
                if keep.is_none_or(|fd| libc::fcntl(fd, libc::F_SETFD, 0) != -1) {
                    libc::execve(self.program.as_ptr(), self.argv.as_ptr(), envp.as_ptr());
                }
            }
            libc::_exit(127)
        }
    }
}

/// What [`take_lock`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lock {
    Taken,
    /// The file does not exist yet (and was not to be created).
    Missing,
    /// Another process holds it, or it cannot be opened.
    Unavailable,
}

/// Opens and locks `lock.path` as descriptor `lock.fd`, inherited across exec, creating the file
/// only if `create`. Never through a symlink, and only a regular file (a commit may have put
/// anything at the name). Async-signal-safe.
fn take_lock(lock: &ExecLock, create: bool) -> Lock {
    let flags = libc::O_WRONLY
        | libc::O_NOFOLLOW
        | libc::O_NONBLOCK
        | if create { libc::O_CREAT } else { 0 };
    // SAFETY: plain syscalls on a string prepared before the fork and on descriptor numbers.
    unsafe {
        let fd = libc::open(lock.path.as_ptr(), flags, 0o666);
        if fd < 0 {
            let missing = io::Error::last_os_error().raw_os_error() == Some(libc::ENOENT);
            return if missing {
                Lock::Missing
            } else {
                Lock::Unavailable
            };
        }
        let mut stat: libc::stat = std::mem::zeroed();
        if libc::fstat(fd, &mut stat) != 0 || stat.st_mode & libc::S_IFMT != libc::S_IFREG {
            libc::close(fd);
            return Lock::Unavailable;
        }
        if fd != lock.fd {
            let moved = libc::dup2(fd, lock.fd) == lock.fd;
            libc::close(fd);
            if !moved {
                return Lock::Unavailable;
            }
        }
        if libc::flock(lock.fd, libc::LOCK_EX | libc::LOCK_NB) == 0 {
            return Lock::Taken;
        }
        libc::close(lock.fd);
        Lock::Unavailable
    }
}

/// The file `program` runs, as `Command` would find it: a path as given (relative to `cwd` if
/// set), a bare name on `PATH`. An error when it is not an executable file.
fn resolve(program: &OsStr, cwd: Option<&Path>) -> io::Result<PathBuf> {
    let executable = |path: &Path| {
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    let found = if program.as_bytes().contains(&b'/') {
        let path = cwd.map_or_else(|| PathBuf::from(program), |dir| dir.join(program));
        executable(&path).then_some(path)
    } else {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(program))
                .find(|path| executable(path))
        })
    };
    found.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} is not an executable file", Path::new(program).display()),
        )
    })
}

/// `KEY=VALUE`, as `execve` takes it.
fn env_pair(key: &OsStr, value: &OsStr) -> io::Result<CString> {
    let mut pair = Vec::with_capacity(key.len() + value.len() + 2);
    pair.extend_from_slice(key.as_bytes());
    pair.push(b'=');
    pair.extend_from_slice(value.as_bytes());
    CString::new(pair).map_err(|_| nul_error(key))
}

fn nul_error(text: &OsStr) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{text:?} holds a NUL byte"),
    )
}

fn c_string(text: &OsStr) -> io::Result<CString> {
    CString::new(text.as_bytes()).map_err(|_| nul_error(text))
}

/// The open file a parent handed over as descriptor number `var` names (see [`LockHandoff`]),
/// marked close-on-exec again so it goes no further by accident. `None` when `var` is unset or
/// names no open descriptor; the caller checks it is the file it expects.
pub fn inherited(var: &str) -> Option<File> {
    let fd: RawFd = std::env::var(var).ok()?.parse().ok().filter(|fd| *fd > 2)?;
    // SAFETY: fcntl on a descriptor number only reads or sets its flags.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } == -1 {
        return None;
    }
    // SAFETY: the descriptor is open (fcntl succeeded) and was handed to this process to own;
    // nothing else here refers to it.
    Some(unsafe { File::from_raw_fd(fd) })
}

/// Closes every descriptor above 2 but `keep`, so whatever git or a wrapper leaked to the hook
/// is not held (closed now rather than at exec: the child may wait a while before it execs).
fn close_descriptors_except(keep: Option<RawFd>) {
    let close_range = |from: RawFd, to: RawFd| {
        if from > to {
            return;
        }
        // SAFETY: plain syscalls on descriptor numbers; no memory is touched.
        unsafe {
            if !close_range_syscall(from, to) {
                // The portable way: every number up to the usual limit.
                for fd in from..=to.min(1023) {
                    libc::close(fd);
                }
            }
        }
    };
    match keep {
        Some(fd) if fd > 2 => {
            close_range(3, fd - 1);
            close_range(fd + 1, RawFd::MAX);
        }
        _ => close_range(3, RawFd::MAX),
    }
}

/// Linux's `close_range`; false where there is none (other systems, old kernels, or
/// [`crate::process::PORTABLE_VAR`] set). Async-signal-safe.
///
/// # Safety
/// Closes descriptors: the caller owns every one in the range.
#[cfg(target_os = "linux")]
unsafe fn close_range_syscall(from: RawFd, to: RawFd) -> bool {
    // SAFETY: a plain syscall on descriptor numbers.
    !PORTABLE.load(std::sync::atomic::Ordering::Relaxed)
        && unsafe { libc::syscall(libc::SYS_close_range, from as u32, to as u32, 0u32) } == 0
}

#[cfg(not(target_os = "linux"))]
unsafe fn close_range_syscall(_from: RawFd, _to: RawFd) -> bool {
    false
}

/// Set from [`crate::process::PORTABLE_VAR`] before a fork, read in the child (no allocation).
static PORTABLE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Linux's `pidfd_open`; -1 where there is none. Async-signal-safe.
#[cfg(target_os = "linux")]
fn pidfd_open(pid: u32) -> libc::c_long {
    if PORTABLE.load(std::sync::atomic::Ordering::Relaxed) {
        return -1;
    }
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) }
}

#[cfg(not(target_os = "linux"))]
fn pidfd_open(_pid: u32) -> libc::c_long {
    -1
}

/// Waits for `pid` to exit with a pidfd; false, at once, where there is none to have (no kernel
/// support, another system, or the process is gone already). Async-signal-safe.
fn wait_with_pidfd(pid: u32) -> bool {
    let fd = pidfd_open(pid);
    if fd < 0 {
        return false;
    }
    let mut poll = libc::pollfd {
        fd: fd as libc::c_int,
        events: libc::POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: one valid pollfd, owned by this frame.
        let ready = unsafe { libc::poll(&mut poll, 1, -1) };
        // Reading errno allocates nothing.
        if ready >= 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            break;
        }
    }
    // SAFETY: closing the descriptor opened above, exactly once.
    unsafe { libc::close(fd as libc::c_int) };
    true
}

/// Blocks until process `pid` (not our child) has exited. Uses a pidfd where the kernel has one,
/// which wakes the moment the process ends; otherwise polls (see [`crate::process`]).
pub fn wait_for_exit(pid: u32) {
    PORTABLE.store(
        crate::process::portable(),
        std::sync::atomic::Ordering::Relaxed,
    );
    if wait_with_pidfd(pid) {
        return;
    }
    while crate::process::is_running(pid) {
        std::thread::sleep(Duration::from_millis(5));
    }
}
