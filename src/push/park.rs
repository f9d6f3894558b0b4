//! Parking: a change that lost the race to its branch waits on the remote, and the next push to
//! win lands it with its own, so one landing carries many agents' commits.
//!
//! The contract every `mainstay push` keeps (only the remote is shared, no server, no lock):
//! - A parked change is the ref `refs/mainstay/parked/<branch>/<id>` on the remote: a linear
//!   chain of one agent's commits on top of a commit of the branch. `<id>` is the same for every
//!   run from one worktree and branch, and differs between clones (a random salt kept in the
//!   clone), so a run that ended with its change still parked is picked up by the next one.
//! - A chain lands only in an atomic push that also deletes its parked ref, with a lease on the
//!   very sha that was landed. So it lands whole and once, or not at all; an owner that took it
//!   back, or another push that landed it first, makes that push fail instead.
//! - Landers cherry-pick chains onto their own commits: authors and messages are kept, each
//!   chain's commits stay in their order, a chain that does not apply cleanly is left parked.
//! - The owner learns that its change landed when its parked ref is gone and its commits are on
//!   the branch, recognised by author, author date and message (a rebase keeps those; a patch id
//!   would not survive, as the ledger merge changes the context of the diff).
//! - Nothing compares clocks across machines: chains are landed oldest first, by how far behind
//!   the branch their base is, then by id.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};

use crate::git::{self, Git};

/// Where parked changes live on the remote.
pub(super) const REMOTE: &str = "refs/mainstay/parked/";
/// Where a fetch puts what it saw: per worktree (`refs/worktree/`), so that agents in linked
/// worktrees of one clone never wait on each other's ref locks.
const LOCAL: &str = "refs/worktree/mainstay/";

/// A chain longer than this is not landed by others (its owner still lands it itself).
const MAX_CHAIN: usize = 100;
/// A chain based further back than this many commits of the branch is not landed by others: its
/// owner is gone, or it would long since have been landed.
const MAX_BEHIND: usize = 1000;
/// At most this many commits of others are carried by one push.
const MAX_CARRIED: usize = 400;
/// Chains left out for not applying, before a push carries no more of them.
const MAX_FAILED: usize = 3;

/// The refs of one branch's parking.
#[derive(Debug, Clone)]
pub(super) struct Refs {
    /// `<branch>` with `/` and `%` escaped, so that one branch's refs are never a prefix match of
    /// another's (`agent` and `agent/x`).
    key: String,
    branch: String,
}

/// What a fetch saw: the branch, and the changes parked on it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Seen {
    pub upstream: Option<String>,
    /// `(id, sha)` of each parked change.
    pub parked: Vec<(String, String)>,
}

impl Refs {
    pub fn new(branch: &str) -> Refs {
        Refs {
            key: branch.replace('%', "%25").replace('/', "%2F"),
            branch: branch.to_owned(),
        }
    }

    /// The remote ref of parked change `id`.
    pub fn remote(&self, id: &str) -> String {
        format!("{REMOTE}{}/{id}", self.key)
    }

    /// What to fetch: the branch first, then (when `parked`) every change parked on it.
    pub fn refspecs(&self, parked: bool) -> Vec<String> {
        let mut specs = vec![format!(
            "+refs/heads/{}:{LOCAL}upstream/{}",
            self.branch, self.key
        )];
        if parked {
            specs.push(format!(
                "+{REMOTE}{key}/*:{LOCAL}parked/{key}/*",
                key = self.key
            ));
        }
        specs
    }

    /// What to list on the remote: the branch, and every change parked on it.
    pub fn patterns(&self) -> [String; 2] {
        [
            format!("refs/heads/{}", self.branch),
            format!("{REMOTE}{}/*", self.key),
        ]
    }

    /// [`Seen`] from a listing of the remote's refs, `(sha, name)`.
    pub fn listed(&self, refs: &[(String, String)]) -> Seen {
        let branch = format!("refs/heads/{}", self.branch);
        let prefix = format!("{REMOTE}{}/", self.key);
        let mut seen = Seen::default();
        for (sha, name) in refs {
            if *name == branch {
                seen.upstream = Some(sha.clone());
            } else if let Some(id) = name.strip_prefix(&prefix)
                && !id.contains('/')
            {
                seen.parked.push((id.to_owned(), sha.clone()));
            }
        }
        seen
    }

    /// What the last fetch brought; `found` is whether the remote had the branch at all.
    pub fn seen(&self, git: &Git, found: bool) -> Result<Seen, git::Error> {
        let listed = git.run(["for-each-ref", "--format=%(objectname) %(refname)", LOCAL])?;
        let upstream_ref = format!("{LOCAL}upstream/{}", self.key);
        let parked_prefix = format!("{LOCAL}parked/{}/", self.key);
        let mut seen = Seen::default();
        for line in listed.lines() {
            let Some((sha, name)) = line.split_once(' ') else {
                continue;
            };
            if name == upstream_ref && found {
                seen.upstream = Some(sha.to_owned());
            } else if let Some(id) = name.strip_prefix(&parked_prefix) {
                seen.parked.push((id.to_owned(), sha.to_owned()));
            }
        }
        Ok(seen)
    }
}

/// The id of this worktree's parked change for `branch`: stable across runs, distinct across
/// clones (from a random salt made once per clone) and worktrees.
pub(super) fn own_id(
    common_dir: &std::path::Path,
    git_dir: &std::path::Path,
    branch: &str,
) -> String {
    let salt = salt(common_dir).unwrap_or_else(|_| random());
    let git_dir = git_dir.to_string_lossy();
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    // FNV-1a: stable across builds, so an upgrade in between still finds the change.
    for byte in [salt.as_str(), &git_dir, branch].join("\0").bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The clone's salt, made on first use; two worktrees making it at once agree on one.
fn salt(common: &std::path::Path) -> std::io::Result<String> {
    let path = crate::state::park_salt(common);
    if let Some(salt) = crate::file::read_text(&path, 64)? {
        return Ok(salt.trim().to_owned());
    }
    std::fs::create_dir_all(crate::state::dir(common))?;
    let temp = path.with_file_name(format!(".park-salt.{}", random()));
    crate::file::write_atomic(&temp, random().as_bytes(), 0o644)?;
    // A hard link never replaces an existing file: the first one made wins.
    let linked = std::fs::hard_link(&temp, &path);
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    crate::file::read_text(&path, 64)?
        .map(|s| s.trim().to_owned())
        .ok_or_else(|| std::io::Error::other("the salt vanished"))
}

/// 64 random bits, as hex.
fn random() -> String {
    let a = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{a:016x}")
}

/// One parked change, as a lander sees it.
#[derive(Debug, Clone)]
pub(super) struct Chain {
    pub id: String,
    pub tip: String,
    /// Oldest first.
    pub commits: Vec<String>,
    /// How many commits of the branch its base is behind the branch's tip.
    pub behind: usize,
}

/// The parked changes `parked` that can land on `upstream`, in landing order (oldest base
/// first, then by id): linear chains of at most [`MAX_CHAIN`] commits on a commit of the branch
/// at most [`MAX_BEHIND`] back, sharing no commit with an earlier chain.
pub(super) fn chains(
    git: &Git,
    parked: &[(String, String)],
    upstream: &str,
) -> Result<Vec<Chain>, git::Error> {
    if parked.is_empty() {
        return Ok(Vec::new());
    }
    let window = git.run([
        "rev-list",
        "--first-parent",
        &format!("--max-count={MAX_BEHIND}"),
        upstream,
    ])?;
    let behind: HashMap<&str, usize> = window.lines().enumerate().map(|(i, s)| (s, i)).collect();
    let mut input = format!("^{upstream}\n");
    for (_, sha) in parked {
        input.push_str(sha);
        input.push('\n');
    }
    let limit = format!("--max-count={}", parked.len() * MAX_CHAIN + 1);
    let listed = git.run_with_input(
        ["rev-list", "--parents", &limit, "--stdin"],
        input.as_bytes(),
    )?;
    let parents: HashMap<&str, Vec<&str>> = listed
        .lines()
        .filter_map(|l| {
            let mut words = l.split(' ');
            Some((words.next()?, words.collect()))
        })
        .collect();
    let mut taken: HashSet<&str> = HashSet::new();
    let mut chains = Vec::new();
    'chains: for (id, tip) in parked {
        let mut commits = Vec::new();
        let mut at = tip.as_str();
        while let Some(up) = parents.get(at) {
            let [parent] = up.as_slice() else {
                continue 'chains;
            };
            if commits.len() == MAX_CHAIN || taken.contains(at) {
                continue 'chains;
            }
            commits.push(at);
            at = parent;
        }
        let Some(&behind) = behind.get(at) else {
            continue;
        };
        if commits.is_empty() {
            continue;
        }
        taken.extend(commits.iter().copied());
        commits.reverse();
        chains.push(Chain {
            id: id.clone(),
            tip: tip.clone(),
            commits: commits.into_iter().map(str::to_owned).collect(),
            behind,
        });
    }
    chains.sort_by(|a, b| b.behind.cmp(&a.behind).then_with(|| a.id.cmp(&b.id)));
    Ok(chains)
}

/// Cherry-picks `chains` onto `HEAD` in order, leaving out a chain that does not apply cleanly
/// (the ledger driver resolves what it can); returns the chains now on `HEAD`. On any trouble
/// `HEAD` is back where it was, carrying none.
pub(super) fn pick(git: &Git, chains: Vec<Chain>) -> Result<Vec<Chain>, git::Error> {
    if chains.is_empty() {
        return Ok(chains);
    }
    let start = git.run(["rev-parse", "HEAD"])?;
    let mut total = 0;
    let mut chains: Vec<Chain> = chains
        .into_iter()
        .take_while(|c| {
            total += c.commits.len();
            total <= MAX_CARRIED
        })
        .collect();
    for _ in 0..MAX_FAILED {
        if chains.is_empty() {
            break;
        }
        let mut args: Vec<&str> = vec![
            "-c",
            "core.editor=true",
            "cherry-pick",
            "--allow-empty",
            "--no-rerere-autoupdate",
        ];
        args.extend(
            chains
                .iter()
                .flat_map(|c| c.commits.iter().map(String::as_str)),
        );
        if git.output(&args)?.status.success() {
            return Ok(chains);
        }
        let failed = git.run(["rev-parse", "--verify", "--quiet", "CHERRY_PICK_HEAD"]);
        restore(git, &start)?;
        match failed {
            Ok(failed) => chains.retain(|c| !c.commits.contains(&failed)),
            Err(_) => break,
        }
    }
    restore(git, &start)?;
    Ok(Vec::new())
}

/// Ends any cherry-pick in progress and puts `HEAD` back at `start`.
fn restore(git: &Git, start: &str) -> Result<(), git::Error> {
    // Fails harmlessly when no cherry-pick is in progress.
    let _ = git.output(["cherry-pick", "--abort"])?;
    if git.run(["rev-parse", "HEAD"])? != start {
        git.run(["reset", "--quiet", "--merge", start])?;
    }
    Ok(())
}

/// This run's own parked change.
#[derive(Debug, Clone)]
pub(super) struct Parked {
    pub id: String,
    /// What the parked ref holds.
    pub sha: String,
    /// The branch commit it was parked on.
    pub base: String,
    /// Its commits' identities, oldest first.
    own: Vec<String>,
}

impl Parked {
    pub fn new(git: &Git, id: String, sha: String, base: String) -> Result<Parked, git::Error> {
        let own = identities(git, &format!("{base}..{sha}"))?
            .into_iter()
            .map(|(_, identity)| identity)
            .collect();
        Ok(Parked { id, sha, base, own })
    }

    /// Whether other landers would carry it (not too long a chain).
    pub fn carriable(&self) -> bool {
        self.own.len() <= MAX_CHAIN
    }

    /// The commit of `upstream` that holds this change's last commit, once every one of its
    /// commits is there, in order.
    pub fn landed_in(&self, git: &Git, upstream: &str) -> Result<Option<String>, git::Error> {
        found_in(git, &self.own, &self.base, upstream)
    }
}

/// `HEAD`'s own commits (those `upstream` lacks), oldest first, and how many of them, from the
/// oldest, another push already carried onto `upstream`, with the commit holding the last of
/// those.
pub(super) struct Carried {
    pub own: Vec<String>,
    pub count: usize,
    pub landed: Option<String>,
}

pub(super) fn carried(git: &Git, upstream: &str) -> Result<Carried, git::Error> {
    let base = git.run(["merge-base", "HEAD", upstream])?;
    let (own, identities_own): (Vec<String>, Vec<String>) =
        identities(git, &format!("{base}..HEAD"))?
            .into_iter()
            .unzip();
    let (count, landed) = matched(git, &identities_own, &base, upstream)?;
    Ok(Carried { own, count, landed })
}

/// Whether `a` and `b` hold the same commits by identity (one rebased from the other).
pub(super) fn same_change(git: &Git, a: &str, b: &str, upstream: &str) -> Result<bool, git::Error> {
    let list = |tip: &str| -> Result<Vec<String>, git::Error> {
        let base = git.run(["merge-base", tip, upstream])?;
        Ok(identities(git, &format!("{base}..{tip}"))?
            .into_iter()
            .map(|(_, identity)| identity)
            .collect())
    };
    Ok(list(a)? == list(b)?)
}

/// The commit of `base..upstream` matching the last of `own`, once all of `own` match in order.
fn found_in(
    git: &Git,
    own: &[String],
    base: &str,
    upstream: &str,
) -> Result<Option<String>, git::Error> {
    let (count, landed) = matched(git, own, base, upstream)?;
    Ok(landed.filter(|_| count == own.len()))
}

/// How many of `own`, from the first, are on `base..upstream` in order, and where the last is.
fn matched(
    git: &Git,
    own: &[String],
    base: &str,
    upstream: &str,
) -> Result<(usize, Option<String>), git::Error> {
    if own.is_empty() {
        return Ok((0, None));
    }
    let on_branch = identities(git, &format!("{base}..{upstream}"))?;
    let (mut count, mut last) = (0, None);
    for (sha, identity) in on_branch {
        if own.get(count) == Some(&identity) {
            count += 1;
            last = Some(sha);
        }
    }
    Ok((count, last))
}

/// `(sha, author, author date and message)` of each commit of `range`, oldest first.
fn identities(git: &Git, range: &str) -> Result<Vec<(String, String)>, git::Error> {
    let listed = git.run([
        "log",
        "--reverse",
        "--date=raw",
        "--format=%H%x00%an <%ae> %ad%x00%B%x1e",
        range,
    ])?;
    Ok(listed
        .split('\x1e')
        .filter_map(|record| {
            let (sha, identity) = record.trim_start_matches('\n').split_once('\0')?;
            Some((sha.to_owned(), identity.to_owned()))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_are_escaped_so_no_branch_is_a_prefix_of_another() {
        let a = Refs::new("agent");
        let b = Refs::new("agent/x");
        assert_eq!(a.remote("1"), "refs/mainstay/parked/agent/1");
        assert_eq!(b.remote("1"), "refs/mainstay/parked/agent%2Fx/1");
        assert!(!b.refspecs(true)[1].starts_with(&a.refspecs(true)[1].replace('*', "")));
    }

    #[test]
    fn random_ids_differ() {
        assert_ne!(random(), random());
        assert_eq!(random().len(), 16);
    }
}
