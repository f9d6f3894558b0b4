//! `install-hooks --upgrade`: every install this machine recorded, brought up to date with the
//! executables beside `install-hooks`.

use super::{Error, Options, Report, clone, global, registry, server};
use crate::git::Git;

/// `install-hooks --upgrade`: brings every clone, remote and machine-wide install made from these
/// executables up to date with them; one line per install that changed or is gone.
pub fn upgrade(options: &Options) -> Result<Report, Error> {
    let mut report = Report::default();
    let Some(place) = &options.global else {
        return Ok(report);
    };
    for (kind, path) in registry::all(place)? {
        let at = Options {
            repo: path.clone(),
            ..options.clone()
        };
        let done = match kind {
            registry::Kind::Clone
                if Git::new(&path)
                    .paths()
                    .is_ok_and(|p| crate::state::install_manifest(&p.common_dir).exists()) =>
            {
                // One the machine-wide install covers is retired by `install-hooks` there, by
                // choice, not by an upgrade.
                if clone::covered(&at)? {
                    continue;
                }
                clone::install(&at)
            }
            registry::Kind::Server if crate::state::install_manifest(&path).exists() => {
                server::install(&at)
            }
            _ => {
                report
                    .changes
                    .push(format!("{} is no longer set up; forgotten", path.display()));
                registry::remove(place, kind, &path)?;
                continue;
            }
        };
        match done {
            Ok(changed) if changed.changes.is_empty() => {}
            Ok(changed) => report.changes.push(format!(
                "upgraded {} ({} change(s))",
                path.display(),
                changed.changes.len()
            )),
            // One install that cannot be upgraded must not stop the others.
            Err(e) => report
                .changes
                .push(format!("could not upgrade {}: {e}", path.display())),
        }
    }
    // An uninstall that kept the exclude lines left a record, not an install: it stays undone.
    if global::installed(place) {
        let changed = global::install(options, place)?;
        if !changed.changes.is_empty() {
            report.changes.push(format!(
                "upgraded the global install in {} ({} change(s))",
                place.hooks.display(),
                changed.changes.len()
            ));
        }
    }
    Ok(report)
}
