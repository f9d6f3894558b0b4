//! `mainstay init`: a commented starter `.mainstay.toml` written from what the clone shows, and
//! the next steps. Each kind of deployment source writes its own part
//! ([`Kind::starter`](crate::deploy::sources::Kind::starter)) from the signs it knows (the deploy
//! remote's URL, a DigitalOcean `.do/app.yaml`, a `package.json`); this module iterates them.
//!
//! Everything it writes is a default made visible or a commented suggestion: the file parses as
//! written, and changes nothing until a line is uncommented.

use std::path::{Path, PathBuf};

use crate::deploy::sources::{KINDS, Starter, StarterContext};
use crate::git::Git;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{} already exists; mainstay init never overwrites it (`mainstay doctor` checks it)", path.display())]
    Exists { path: PathBuf },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Git(#[from] crate::git::Error),
}

/// What `init` wrote, and what to do next.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub path: PathBuf,
    /// What it found, a line each (`the deploy remote is GitHub: acme/web`).
    pub found: Vec<String>,
    pub next: Vec<String>,
}

/// Writes `.mainstay.toml` at the top of `worktree`.
pub fn run(worktree: &Path) -> Result<Outcome, Error> {
    let path = worktree.join(crate::config::FILE_NAME);
    if std::fs::symlink_metadata(&path).is_ok() {
        return Err(Error::Exists { path });
    }
    let git = Git::new(worktree);
    let url = git.config_get("remote.origin.url")?;
    let branch = git
        .output([
            "symbolic-ref",
            "--quiet",
            "--short",
            "refs/remotes/origin/HEAD",
        ])
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .trim_start_matches("origin/")
                .to_owned()
        })
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "main".to_owned());
    let mut found = Vec::new();
    let mut text = format!(
        "# mainstay's settings; every key shown has its default. See docs/configuration.md.\n\n\
         [push]\n\
         protected = [\"main\", \"staging\", \"production\"]\n\
         agent = [\"agent/*\", \"claude/*\", \"codex/*\", \"cursor/*\", \"manus/*\"]\n\
         # markers_allowed = [\"tests/fixtures/**\"]   # paths whose conflict markers are data\n\n\
         [deploy]\n\
         branch = \"{branch}\"   # pushes of this branch to `remote` are followed\n\
         remote = \"origin\"\n"
    );
    let clone = StarterContext {
        worktree,
        remote_url: url.as_deref(),
    };
    let starters: Vec<Starter> = KINDS.iter().map(|kind| kind.starter(&clone)).collect();
    // The kinds this clone shows signs of first, then those offered to any clone.
    let (signs, others): (Vec<&Starter>, Vec<&Starter>) =
        starters.iter().partition(|s| !s.found.is_empty());
    for starter in signs.iter().chain(&others) {
        found.extend(starter.found.iter().cloned());
        if let Some(snippet) = &starter.snippet {
            text.push('\n');
            text.push_str(snippet);
        }
    }
    crate::file::write_atomic(&path, text.as_bytes(), 0o644).map_err(|source| Error::Write {
        path: path.clone(),
        source,
    })?;
    let mut next =
        vec!["uncomment the source your deploys report to, in .mainstay.toml".to_owned()];
    next.extend(starters.iter().filter_map(|s| s.next.clone()));
    next.extend([
        "install-hooks (this clone) or install-hooks --global (every clone on this machine)"
            .to_owned(),
        "git add .mainstay.toml .gitattributes && git commit -m 'mainstay'".to_owned(),
        "mainstay doctor".to_owned(),
    ]);
    Ok(Outcome { path, found, next })
}
