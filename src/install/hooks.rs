//! Placing our executables at hook names: a hook already there is moved to `<name>.local` (and
//! still run by ours, first), a hook manager's script that replaced ours is kept the same way,
//! and undoing puts each moved hook back.

use std::fs;
use std::path::Path;

use super::manifest::{InstalledFile, Manifest};
use super::{Error, Problem, Report, managers, write_atomic};
use crate::file;
use crate::pre_push::LOCAL_SUFFIX;

pub(super) fn install_file(
    options: &super::Options,
    hooks: &Path,
    name: &str,
    manifest: &mut Manifest,
    report: &mut Report,
) -> Result<(), Error> {
    let source = options.source(name);
    let bytes = fs::read(&source).map_err(|_| Error::MissingExecutable {
        path: source.clone(),
    })?;
    let dest = hooks.join(name);
    let slot = managers::slot(&dest);
    if slot != dest {
        return install_parked(&bytes, hooks, name, &slot, manifest, report);
    }
    let mut ours = manifest
        .files
        .iter()
        .any(|f| f.name == name && f.dir(manifest) == hooks);
    // Ours are executables; a script in our place is a hook manager's (lefthook, pre-commit,
    // husky) that overwrote ours: it is theirs, to keep running, not to replace.
    if ours && is_script(&dest) {
        // The manager parked our copy (pre-commit's `.legacy`, lefthook's `.old`) and runs or
        // keeps it: it is ours, and would run ours twice, or in a loop.
        for parked in managers::parked(&dest) {
            if managers::is_native(&parked) {
                fs::remove_file(&parked).map_err(|source| Error::Io {
                    path: parked.clone(),
                    source,
                })?;
                report.changes.push(format!(
                    "removed {}, mainstay's own copy, which {} had moved there",
                    parked.display(),
                    managers::whose(&dest).map_or("a hook manager", |m| m.name)
                ));
            }
        }
        // Not executable, git would not run it: it stays off, as a shim git skips does.
        let suffix = if runnable(&dest) {
            LOCAL_SUFFIX
        } else {
            OFF_SUFFIX
        };
        let local = hooks.join(format!("{name}{suffix}"));
        if !same_script(&dest, &local)? {
            if present(&local) {
                return Err(Error::BackupTaken { hook: dest, local });
            }
            fs::rename(&dest, &local).map_err(|source| Error::Io {
                path: dest.clone(),
                source,
            })?;
            report.changes.push(if suffix == LOCAL_SUFFIX {
                format!(
                    "moved {}, which replaced ours, to {} (it still runs, first)",
                    dest.display(),
                    local.display()
                )
            } else {
                format!(
                    "moved {}, which replaced ours but is not executable (git skipped it, and \
                     every hook with it), to {}: it stays off",
                    dest.display(),
                    local.display()
                )
            });
            if let Some(file) = manifest.files.iter_mut().find(|f| f.name == name) {
                file.backup = Some(format!("{name}{suffix}"));
            }
        }
        ours = true;
    }
    match installed(&dest, &bytes)? {
        Some(true) if ours => return Ok(()),
        Some(_) if ours => report.changes.push(format!("updated {}", dest.display())),
        // Ours, unrecorded: an install stopped before writing its manifest. Moving it aside
        // would make ours run itself as the project's hook.
        Some(true) => {
            let local = format!("{name}{LOCAL_SUFFIX}");
            manifest.files.push(InstalledFile {
                name: name.to_owned(),
                backup: present(&hooks.join(&local)).then_some(local),
                dir: Some(hooks.to_owned()),
            });
            report.changes.push(format!(
                "recorded {}, installed by an install-hooks that stopped midway",
                dest.display()
            ));
            return Ok(());
        }
        Some(_) => {
            // git runs a hook only when it is executable: one that is not stays off, beside ours.
            let suffix = if runnable(&dest) {
                LOCAL_SUFFIX
            } else {
                OFF_SUFFIX
            };
            let local = hooks.join(format!("{name}{suffix}"));
            if present(&local) {
                return Err(Error::BackupTaken { hook: dest, local });
            }
            // A link is moved as the link it is: it is the project's hook, not ours to follow.
            fs::rename(&dest, &local).map_err(|source| Error::Io {
                path: dest.clone(),
                source,
            })?;
            report.changes.push(if suffix == LOCAL_SUFFIX {
                format!(
                    "moved the existing {} to {} (it still runs, first)",
                    dest.display(),
                    local.display()
                )
            } else {
                format!(
                    "moved the existing {} to {}: it is not executable, so git never ran it, and \
                     it stays off",
                    dest.display(),
                    local.display()
                )
            });
            report.changes.push(format!("installed {}", dest.display()));
            manifest.files.push(InstalledFile {
                name: name.to_owned(),
                backup: Some(format!("{name}{suffix}")),
                dir: Some(hooks.to_owned()),
            });
        }
        None => {
            if !ours {
                manifest.files.push(InstalledFile {
                    name: name.to_owned(),
                    backup: None,
                    dir: Some(hooks.to_owned()),
                });
            }
            report.changes.push(format!("installed {}", dest.display()));
        }
    }
    write_atomic(&dest, &bytes, 0o755)
}

/// Installs ours where the manager whose script holds the hook's name runs the hook it parked
/// (pre-commit's migration mode runs `<hook>.legacy` first, with git's arguments and stdin): its
/// script stays, so its own `install` finds itself and leaves ours be. A hook of someone else's
/// parked there moves to `<hook>.local`, which ours runs first, as anywhere.
fn install_parked(
    bytes: &[u8],
    hooks: &Path,
    name: &str,
    slot: &Path,
    manifest: &mut Manifest,
    report: &mut Report,
) -> Result<(), Error> {
    let local = hooks.join(format!("{name}{LOCAL_SUFFIX}"));
    let mut backup = None;
    if present(slot) && !managers::is_native(slot) {
        if present(&local) {
            return Err(Error::BackupTaken {
                hook: slot.to_owned(),
                local,
            });
        }
        fs::rename(slot, &local).map_err(|source| Error::Io {
            path: slot.to_owned(),
            source,
        })?;
        report.changes.push(format!(
            "moved the existing {} to {} (it still runs, first)",
            slot.display(),
            local.display()
        ));
        backup = Some(format!("{name}{LOCAL_SUFFIX}"));
    }
    if installed(slot, bytes)? == Some(true) && backup.is_none() {
        if !manifest
            .files
            .iter()
            .any(|f| f.name == name && f.dir(manifest) == hooks)
        {
            manifest.files.push(InstalledFile {
                name: name.to_owned(),
                backup: present(&local).then(|| format!("{name}{LOCAL_SUFFIX}")),
                dir: Some(hooks.to_owned()),
            });
            report.changes.push(format!("recorded {}", slot.display()));
        }
        return Ok(());
    }
    match manifest
        .files
        .iter_mut()
        .find(|f| f.name == name && f.dir.as_deref().is_none_or(|d| d == hooks))
    {
        Some(file) => {
            if backup.is_some() {
                file.backup = backup;
            }
        }
        None => manifest.files.push(InstalledFile {
            name: name.to_owned(),
            backup: backup.or_else(|| present(&local).then(|| format!("{name}{LOCAL_SUFFIX}"))),
            dir: Some(hooks.to_owned()),
        }),
    }
    report.changes.push(format!(
        "installed {}, which {}'s {} runs first",
        slot.display(),
        managers::whose(&hooks.join(name)).map_or("the manager", |m| m.name),
        hooks.join(name).display()
    ));
    write_atomic(slot, bytes, 0o755)
}

/// Where a hook that was there but not executable goes: off, as git left it, until uninstall.
pub(super) const OFF_SUFFIX: &str = ".off";

/// Whether git would run what is at `path`: executable, through a link as git follows it.
pub(super) fn runnable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether anything is at `path`, a link (even a dangling one) included: never followed.
pub(super) fn present(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// Whether the script at `hook` and what is at `local` are the same small regular file content.
/// Neither is read through a link or past [`file::SMALL`]: a commit can put either there.
pub(super) fn same_script(hook: &Path, local: &Path) -> Result<bool, Error> {
    let regular = |path: &Path| {
        fs::symlink_metadata(path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len())
    };
    let (Some(len), Some(local_len)) = (regular(hook), regular(local)) else {
        return Ok(false);
    };
    if len != local_len || len > file::SMALL {
        return Ok(false);
    }
    let read = |path: &Path| {
        file::read(path, file::SMALL).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })
    };
    Ok(read(hook)? == read(local)?)
}

/// The largest hook file compared byte for byte with ours (our executables are a few MB).
pub(super) const HOOK_LIMIT: u64 = 1 << 30;

/// What is at a hook's name: `None` when nothing, else whether it is a regular file holding
/// exactly `ours`. A link, or anything else, is never read through.
pub(super) fn installed(dest: &Path, ours: &[u8]) -> Result<Option<bool>, Error> {
    let io = |source| Error::Io {
        path: dest.to_owned(),
        source,
    };
    match fs::symlink_metadata(dest) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(e)),
        // The size first: a file of another size is not ours, and is not read.
        Ok(meta) if meta.is_file() && meta.len() == ours.len() as u64 => {
            let bytes = file::read(dest, HOOK_LIMIT).map_err(io)?;
            Ok(Some(bytes.as_deref() == Some(ours)))
        }
        Ok(_) => Ok(Some(false)),
    }
}

/// Removes installed executables and puts the moved-aside hooks back.
pub(super) fn uninstall_files(
    manifest: &Manifest,
    files: &[InstalledFile],
    report: &mut Report,
) -> Result<(), Error> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { path, source }
    };
    for file in files {
        let hooks = file.dir(manifest);
        let dest = hooks.join(&file.name);
        // Copies of ours a manager parked go in every case: nothing of ours stays.
        for parked in managers::parked(&dest) {
            if managers::is_native(&parked) {
                fs::remove_file(&parked).map_err(io(&parked))?;
                report.changes.push(format!("removed {}", parked.display()));
            }
        }
        let local = file.backup.as_ref().map(|b| hooks.join(b));
        // A manager that took our place since install keeps it: its hook is the user's latest
        // choice. The hook ours had moved aside goes where that manager keeps the one it found.
        if let Some(manager) = managers::whose(&dest) {
            let Some(local) = local.filter(|l| present(l)) else {
                continue;
            };
            match manager.parks_as {
                Some(suffix) => {
                    let parked = hooks.join(format!("{}{suffix}", file.name));
                    if present(&parked) {
                        return Err(Error::BackupTaken {
                            hook: local,
                            local: parked,
                        });
                    }
                    fs::rename(&local, &parked).map_err(io(&local))?;
                    report.changes.push(format!(
                        "kept {}'s {} and moved the hook that was there before mainstay to {}, \
                         where {} runs it",
                        manager.name,
                        dest.display(),
                        parked.display(),
                        manager.name
                    ));
                }
                None if same_script(&dest, &local)? => {
                    fs::remove_file(&local).map_err(io(&local))?;
                    report.changes.push(format!("removed {}", local.display()));
                }
                None => report.changes.push(format!(
                    "kept {}'s {}; {} is the hook that was there before mainstay",
                    manager.name,
                    dest.display(),
                    local.display()
                )),
            }
            continue;
        }
        match fs::remove_file(&dest) {
            Ok(()) => report.changes.push(format!("removed {}", dest.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(Error::Io { path: dest, source }),
        }
        if let Some(local) = local.filter(|l| present(l)) {
            fs::rename(&local, &dest).map_err(io(&local))?;
            report.changes.push(format!("restored {}", dest.display()));
        }
    }
    Ok(())
}

/// Whether `path` is a regular file starting with `#!`.
pub(super) fn is_script(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 2];
    fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
        && fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok()
        && head == *b"#!"
}

/// What is wrong with the installed copy `dest` of `source`, if anything; `whose` goes first
/// (the worktree it belongs to).
pub(super) fn check_file(
    dest: &Path,
    source: &Path,
    whose: &str,
    fix: &str,
) -> Result<Option<Problem>, Error> {
    let built = file::read(source, HOOK_LIMIT).ok().flatten();
    let same = match &built {
        Some(built) => installed(dest, built)?,
        None => fs::symlink_metadata(dest).ok().map(|_| true),
    };
    Ok(match (same, built) {
        (None, _) => Some(Problem::new(
            format!("{whose}{} is missing", dest.display()),
            fix,
        )),
        (Some(false), Some(_)) if let Some(manager) = managers::whose(dest) => {
            let parked = managers::parked(dest)
                .find(|p| managers::is_native(p))
                .map(|p| format!(", which keeps mainstay's at {}", p.display()))
                .unwrap_or_default();
            Some(Problem::new(
                format!(
                    "{whose}{} is {}'s script now (`{}` replaced mainstay's){parked}; git runs \
                     mainstay there only through it, if at all",
                    dest.display(),
                    manager.name,
                    manager.command
                ),
                format!(
                    "{fix} (mainstay goes first again and {}'s hooks still run)",
                    manager.name
                ),
            ))
        }
        (Some(false), Some(_)) => Some(Problem::new(
            format!(
                "{whose}{} is not the version beside install-hooks (older or replaced)",
                dest.display()
            ),
            fix,
        )),
        (Some(_), _) => {
            let executable = runnable(dest);
            (!executable)
                .then(|| Problem::new(format!("{whose}{} is not executable", dest.display()), fix))
        }
    })
}
