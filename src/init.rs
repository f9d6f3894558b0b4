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
    let platforms = package_platforms(worktree);
    for (script, platform) in &platforms {
        found.push(format!(
            "package.json's `{script}` script deploys with {}: {}",
            platform.name, platform.follow
        ));
    }
    let scripts: Vec<&'static str> = platforms.iter().map(|(_, p)| p.command).collect();
    let remotes = remote_urls(&git);
    let clone = StarterContext {
        worktree,
        remote_url: url.as_deref(),
        remotes: &remotes,
        scripts: &scripts,
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
        "install-hooks in this clone (after install-hooks --global, which covers every clone \
         on this machine, it only writes .gitattributes)"
            .to_owned(),
        "git add .mainstay.toml .gitattributes && git commit -m 'mainstay'".to_owned(),
        "mainstay doctor".to_owned(),
    ]);
    Ok(Outcome { path, found, next })
}

/// Every remote's URL, from this clone's own config.
fn remote_urls(git: &Git) -> Vec<String> {
    git.output(["config", "--get-regexp", r"^remote\..*\.url$"])
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|line| line.split_once(' ').map(|(_, url)| url.trim().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// A deploy platform a `package.json` script may name, and how its deployments are followed.
struct Platform {
    /// The command the script runs.
    command: &'static str,
    name: &'static str,
    /// Which section follows it; a section named here is one its kind's starter writes.
    follow: &'static str,
}

/// A script's deploy bypasses the platforms' Git integrations: no GitHub deployment comes of
/// it, so the platform's own section (or the app) follows it.
const PLATFORMS: [Platform; 4] = [
    Platform {
        command: "vercel",
        name: "Vercel",
        follow: "its own API follows it by project ([deploy.vercel] below)",
    },
    Platform {
        command: "netlify",
        name: "Netlify",
        follow: "its own API follows it by site ([deploy.netlify] below)",
    },
    Platform {
        command: "wrangler",
        name: "Cloudflare (wrangler)",
        follow: "nothing reports a script's deploy; let the app report its commit ([deploy.app])",
    },
    Platform {
        command: "fly",
        name: "Fly.io",
        follow: "Fly reports no deployments; let the app report its commit ([deploy.app])",
    },
];

/// The deploy platforms `package.json`'s deploy and build scripts name, with the script that
/// names each (`deploy` runs `vercel --prod`). The file is committed, so untrusted: read within
/// a size limit, never run, and only a plain script name is ever repeated.
fn package_platforms(worktree: &Path) -> Vec<(String, &'static Platform)> {
    let Ok(Some(text)) = crate::file::read_text(&worktree.join("package.json"), crate::file::SMALL)
    else {
        return Vec::new();
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    let Some(scripts) = json.get("scripts").and_then(|s| s.as_object()) else {
        return Vec::new();
    };
    let plain = |name: &str| {
        (1..=40).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b":_-.".contains(&b))
    };
    let mut found: Vec<(String, &'static Platform)> = Vec::new();
    for (name, command) in scripts {
        let Some(command) = command.as_str() else {
            continue;
        };
        if !plain(name)
            || !["deploy", "build", "release"]
                .iter()
                .any(|w| name.contains(w))
        {
            continue;
        }
        // Words of the command, with `npx` and path prefixes out of the way (`npx vercel`,
        // `./node_modules/.bin/netlify`, `flyctl`).
        let words = command
            .split(|c: char| c.is_whitespace() || "&|;()".contains(c))
            .map(|w| w.rsplit('/').next().unwrap_or(w));
        for word in words {
            let word = word.strip_suffix("ctl").unwrap_or(word);
            if let Some(platform) = PLATFORMS.iter().find(|p| p.command == word)
                && !found.iter().any(|(_, p)| p.command == platform.command)
            {
                found.push((name.clone(), platform));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_platform_a_deploy_script_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"scripts": {"build": "next build", "deploy": "npx vercel --prod",
               "deploy:edge": "wrangler deploy && flyctl deploy", "test": "netlify x",
               "bad name deploy": "netlify deploy"}}"#,
        )
        .unwrap();
        let found: Vec<(String, &str)> = package_platforms(dir.path())
            .into_iter()
            .map(|(script, p)| (script, p.command))
            .collect();
        assert_eq!(
            found,
            [
                ("deploy".to_owned(), "vercel"),
                ("deploy:edge".to_owned(), "wrangler"),
                ("deploy:edge".to_owned(), "fly"),
            ]
        );
    }
}
