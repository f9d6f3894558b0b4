//! `mainstay init`: a commented starter `.mainstay.toml` written from what the clone shows (the
//! deploy remote's URL, a DigitalOcean `.do/app.yaml`, a `package.json`), and the next steps.
//!
//! Everything it writes is a default made visible or a commented suggestion: the file parses as
//! written, and changes nothing until a line is uncommented.

use std::path::{Path, PathBuf};

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
    let github = url.as_deref().and_then(github_repo);
    if let Some(repo) = &github {
        found.push(format!("the deploy remote is on GitHub: {repo}"));
        text.push_str(&format!(
            "\n# Deployments GitHub hears of (Vercel, Netlify, Render, GitHub Actions...); the token is\n\
             # GITHUB_TOKEN in the environment, never here.\n\
             # [deploy.github]\n\
             # repo = \"{repo}\"\n\
             # environment = \"Production\"\n"
        ));
    }
    if worktree.join(".do/app.yaml").is_file()
        || worktree.join(".do/deploy.template.yaml").is_file()
    {
        found.push("a DigitalOcean App Platform spec (.do/)".to_owned());
        text.push_str(
            "\n# DigitalOcean App Platform; the token is DIGITALOCEAN_TOKEN in the environment.\n\
             # [deploy.digitalocean]\n\
             # app_id = \"\"   # `doctl apps list` shows it\n",
        );
    }
    if worktree.join("package.json").is_file() {
        found.push("a package.json: an app that can report its commit".to_owned());
    }
    text.push_str(
        "\n# The app itself: a URL whose JSON answer names the commit it runs.\n\
         # [deploy.app]\n\
         # version_url = \"https://app.example/health\"\n\
         # commit_pointer = \"/commit\"\n\
         # ready_url = \"https://app.example/health/ready\"\n",
    );
    crate::file::write_atomic(&path, text.as_bytes(), 0o644).map_err(|source| Error::Write {
        path: path.clone(),
        source,
    })?;
    let mut next = vec![
        "uncomment the source your deploys report to, in .mainstay.toml".to_owned(),
        "install-hooks (this clone) or install-hooks --global (every clone on this machine)"
            .to_owned(),
        "git add .mainstay.toml .gitattributes && git commit -m 'mainstay'".to_owned(),
        "mainstay doctor".to_owned(),
    ];
    if github.is_some() {
        next.insert(
            1,
            "export GITHUB_TOKEN (read access to deployments)".to_owned(),
        );
    }
    Ok(Outcome { path, found, next })
}

/// `owner/name` of a GitHub remote URL (https or ssh), credentials aside.
fn github_repo(url: &str) -> Option<String> {
    let url = crate::text::without_credentials(url);
    let rest = url
        .strip_prefix("https://github.com/")
        .or_else(|| url.strip_prefix("http://github.com/"))
        .or_else(|| url.strip_prefix("ssh://git@github.com/"))
        .or_else(|| url.strip_prefix("git@github.com:"))?;
    let rest = rest.trim_end_matches('/').trim_end_matches(".git");
    let (owner, name) = rest.split_once('/')?;
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    (plain(owner) && plain(name)).then(|| format!("{owner}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_github_remotes() {
        for url in [
            "https://github.com/acme/web.git",
            "git@github.com:acme/web.git",
            "https://x:tok@github.com/acme/web",
        ] {
            assert_eq!(github_repo(url).as_deref(), Some("acme/web"), "{url}");
        }
        assert_eq!(github_repo("https://gitlab.com/acme/web.git"), None);
        assert_eq!(github_repo("https://github.com/acme/we\"b"), None);
    }
}
