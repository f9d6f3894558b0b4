//! The installs made on this machine, so one command upgrades them all:
//! `$XDG_CONFIG_HOME/mainstay/installs`, one `clone <work tree>` or `server <bare repository>`
//! line each, appended by `install-hooks` and removed by `--uninstall`. A line whose install is
//! gone is forgotten by the next `--upgrade`.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::Error;
use super::place::Place;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Clone,
    Server,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Clone => "clone",
            Kind::Server => "server",
        }
    }
}

fn path(place: &Place) -> PathBuf {
    place.hooks.with_file_name("installs")
}

/// Every install recorded, once each.
pub fn all(place: &Place) -> Result<Vec<(Kind, PathBuf)>, Error> {
    let file = path(place);
    let text = super::read_text(&file)?.unwrap_or_default();
    let mut found: Vec<(Kind, PathBuf)> = Vec::new();
    for line in text.lines() {
        let entry = match line.split_once(' ') {
            Some(("clone", p)) => (Kind::Clone, PathBuf::from(p)),
            Some(("server", p)) => (Kind::Server, PathBuf::from(p)),
            _ => continue,
        };
        if !found.contains(&entry) {
            found.push(entry);
        }
    }
    Ok(found)
}

/// Records an install, if it is not recorded yet; one append, so installs at once do not mix.
pub fn add(place: &Place, kind: Kind, at: &Path) -> Result<(), Error> {
    if all(place)?.iter().any(|(k, p)| *k == kind && p == at) {
        return Ok(());
    }
    let file = path(place);
    let io = |source| Error::Io {
        path: file.clone(),
        source,
    };
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let line = format!("{} {}\n", kind.word(), at.display());
    crate::file::open_append(&file)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .map_err(io)
}

/// Forgets an install.
pub fn remove(place: &Place, kind: Kind, at: &Path) -> Result<(), Error> {
    let entries = all(place)?;
    if !entries.iter().any(|(k, p)| *k == kind && p == at) {
        return Ok(());
    }
    let text: String = entries
        .iter()
        .filter(|(k, p)| !(*k == kind && p == at))
        .map(|(k, p)| format!("{} {}\n", k.word(), p.display()))
        .collect();
    super::write_atomic(&path(place), text.as_bytes(), 0o644)
}
