//! Processes that outlive the push: starting one fully detached, and waiting on one we did not
//! start. The only unsafe code in the crate lives here (`setsid` and descriptor flags between fork
//! and exec, `pidfd_open` and `poll` for waiting).
#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Starts `cmd` in its own session with stdin from /dev/null and no descriptor but 0, 1 and 2, so
/// it holds no pipe of the push and no controlling terminal, and with SIGHUP ignored (as `nohup`
/// does: the setting survives exec), so nothing that hangs up on the pusher ends it; returns its
/// pid without waiting.
/// The caller sets stdout and stderr (a log file, or null by default).
pub fn spawn(cmd: &mut Command) -> io::Result<u32> {
    spawn_keeping(cmd, None)
}

/// [`spawn`], but the child also inherits `keep`, under the same descriptor number.
pub fn spawn_keeping(cmd: &mut Command, keep: Option<BorrowedFd<'_>>) -> io::Result<u32> {
    cmd.stdin(Stdio::null());
    let keep = keep.map(|fd| fd.as_raw_fd());
    // SAFETY: between fork and exec only async-signal-safe calls are made (setsid, signal,
    // syscall, fcntl), and no memory is allocated.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setsid() == -1 {
                return Err(io::Error::last_os_error());
            }
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
            mark_descriptors_cloexec();
            if let Some(fd) = keep
                && libc::fcntl(fd, libc::F_SETFD, 0) == -1
            {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn()?;
    Ok(child.id())
}

/// The open file a parent handed over as descriptor number `var` names (see [`spawn_keeping`]),
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

/// Marks every descriptor above 2 close-on-exec, so whatever git or a wrapper leaked to the hook
/// is not inherited. Close-on-exec rather than close: std's own error pipe must survive until exec.
fn mark_descriptors_cloexec() {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: plain syscalls on descriptor numbers; no memory is touched.
    unsafe {
        if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, CLOSE_RANGE_CLOEXEC) == 0 {
            return;
        }
        for fd in 3..1024 {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }
}

/// Blocks until process `pid` (not our child) has exited. Uses a pidfd where the kernel has one,
/// which wakes the moment the process ends; otherwise polls `/proc`.
pub fn wait_for_exit(pid: u32) {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd >= 0 {
        let mut poll = libc::pollfd {
            fd: fd as libc::c_int,
            events: libc::POLLIN,
            revents: 0,
        };
        loop {
            // SAFETY: one valid pollfd, owned by this frame.
            let ready = unsafe { libc::poll(&mut poll, 1, -1) };
            if ready >= 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                break;
            }
        }
        // SAFETY: closing the descriptor opened above, exactly once.
        unsafe { libc::close(fd as libc::c_int) };
        return;
    }
    while is_running(pid) {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// True while `pid` exists and is not a zombie.
pub fn is_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat_field(&stat, 0).is_some_and(|state| state != "Z"),
        Err(_) => false,
    }
}

/// The parent of `pid`, from `/proc/<pid>/stat`.
pub fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_field(&stat, 1)?.parse().ok()
}

/// Fields after the command name, which is in parentheses and may hold spaces: 0 is the state.
fn stat_field(stat: &str, index: usize) -> Option<&str> {
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(index)
}

/// The command line of `pid`, one entry per argument.
pub fn command_line(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            raw.split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default()
}
