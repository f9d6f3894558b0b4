//! The record of what an install changed, `install.json`, and the edits it records: git config
//! values (with what each was before) and lines added to text files (`.gitattributes`,
//! `info/exclude`, the global excludes file). Undoing is reading this record backwards.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Error, Report, read_text, write_atomic};
use crate::git::{self, Git};

/// The record of what install changed.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(super) struct Manifest {
    pub(super) hooks_dir: PathBuf,
    /// Installed executables, with the name of the hook moved aside for each, if any.
    pub(super) files: Vec<InstalledFile>,
    /// Git config keys set, with the value each had before.
    pub(super) config: Vec<ConfigEntry>,
    /// Lines added to `.gitattributes`, and whether the file was created.
    pub(super) attributes: AddedLines,
    /// Lines added to `info/exclude`.
    pub(super) exclude: AddedLines,
    /// The line added to husky's `.husky/pre-push`.
    #[serde(default)]
    pub(super) husky: AddedLines,
    /// `--global`: the global config file, and whether it existed before the first install.
    #[serde(default)]
    pub(super) global_config: Option<PathBuf>,
    #[serde(default)]
    pub(super) global_config_existed: bool,
    /// `--global`: the global hooks directory git ran hooks from before, as git read it (`~/`
    /// expanded); the dispatchers hand on to it.
    #[serde(default)]
    pub(super) earlier_hooks: Option<PathBuf>,
    /// `--global`: an `[includeIf]` sets `core.hooksPath` for some repositories, so the
    /// dispatchers ask git which one each repository ran before.
    #[serde(default)]
    pub(super) ask_git: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct InstalledFile {
    pub(super) name: String,
    pub(super) backup: Option<String>,
    /// The directory it is in; absent in manifests from before worktrees had their own, where
    /// it is `hooks_dir`.
    #[serde(default)]
    pub(super) dir: Option<PathBuf>,
}

impl InstalledFile {
    pub(super) fn dir<'m>(&'m self, manifest: &'m Manifest) -> &'m Path {
        self.dir.as_deref().unwrap_or(&manifest.hooks_dir)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct ConfigEntry {
    pub(super) key: String,
    pub(super) previous: Option<String>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(super) struct AddedLines {
    pub(super) path: Option<PathBuf>,
    pub(super) lines: Vec<String>,
    pub(super) created: bool,
    /// A final newline was added to a file that lacked one.
    #[serde(default)]
    pub(super) newline_added: bool,
}

/// The manifest at `path`, if there is one.
pub(super) fn load_manifest(path: &Path) -> Result<Option<Manifest>, Error> {
    match fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| Error::Manifest {
                path: path.to_owned(),
                message: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

pub(super) fn save_manifest(path: &Path, manifest: &Manifest) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(manifest).expect("a manifest always serializes");
    write_atomic(path, text.as_bytes(), 0o644)
}

/// Sets git config `key` to `value` in `scope` (`--local`, `--global`), remembering in
/// `manifest` what it was before the first time; `true` when it changed.
pub(super) fn set_config(
    git: &Git,
    scope: &str,
    key: &str,
    value: &str,
    manifest: &mut Manifest,
) -> Result<bool, Error> {
    let current = git.config_get_in(scope, key)?;
    if current.as_deref() == Some(value) {
        return Ok(false);
    }
    if !manifest.config.iter().any(|c| c.key == key) {
        manifest.config.push(ConfigEntry {
            key: key.to_owned(),
            previous: current,
        });
    }
    git.run(["config", scope, key, value])?;
    Ok(true)
}

/// Puts back every config value `manifest` recorded, in `scope`, newest first.
pub(super) fn restore_config(
    git: &Git,
    scope: &str,
    manifest: &Manifest,
    report: &mut Report,
) -> Result<(), Error> {
    for entry in manifest.config.iter().rev() {
        match &entry.previous {
            Some(value) => git.run(["config", scope, &entry.key, value])?,
            None => git
                .run(["config", scope, "--unset-all", &entry.key])
                .or_else(|e| {
                    // Exit 5: the key is already gone, which is what we want.
                    match &e {
                        git::Error::Failed { status, .. } if status.code() == Some(5) => {
                            Ok(String::new())
                        }
                        _ => Err(e),
                    }
                })?,
        };
        report
            .changes
            .push(format!("restored git config {}", entry.key));
    }
    Ok(())
}

pub(super) fn add_lines(
    path: &Path,
    wanted: &[String],
    added: &mut AddedLines,
    report: &mut Report,
) -> Result<(), Error> {
    let existing = read_text(path)?;
    let text = existing.clone().unwrap_or_default();
    let have: Vec<&str> = text.lines().map(str::trim).collect();
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|w| !have.contains(&w.as_str()))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut out = text.clone();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
        added.newline_added = true;
    }
    for line in &missing {
        out.push_str(line);
        out.push('\n');
        added.lines.push((*line).clone());
    }
    if existing.is_none() {
        added.created = true;
    }
    added.path = Some(path.to_owned());
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|source| Error::Io {
            path: parent.to_owned(),
            source,
        })?;
    }
    write_atomic(path, out.as_bytes(), 0o644)?;
    report.changes.push(format!(
        "added {} line(s) to {}",
        missing.len(),
        path.display()
    ));
    Ok(())
}

pub(super) fn remove_lines(added: &AddedLines, report: &mut Report) -> Result<(), Error> {
    let Some(path) = &added.path else {
        return Ok(());
    };
    let Some(text) = read_text(path)? else {
        return Ok(());
    };
    let mut remaining = added.lines.clone();
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if let Some(i) = remaining.iter().position(|l| l == trimmed) {
            remaining.remove(i);
            continue;
        }
        out.push_str(line);
    }
    if added.newline_added && remaining.is_empty() && out.ends_with('\n') {
        out.pop();
    }
    if out.is_empty() && added.created {
        fs::remove_file(path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
    } else {
        write_atomic(path, out.as_bytes(), 0o644)?;
    }
    report.changes.push(format!(
        "removed the lines mainstay added to {}",
        path.display()
    ));
    Ok(())
}
