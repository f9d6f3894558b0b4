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
//!   chain's commits stay in their order. A parked change a lander cannot land (it does not
//!   apply there, a hook refuses it, or it is no chain others may carry) is moved to
//!   `refs/mainstay/aside/<branch>/<id>` in the landing push: out of the queue, never lost; its
//!   owner, seeing it gone without landing, lands it itself.
//! - The owner learns that its change landed when its parked ref is gone and its commits are on
//!   the branch, recognised by author, author date, message and the paths each changes (a
//!   rebase keeps those; a patch id would not survive, as the ledger merge changes the context
//!   of the diff). Only a change this worktree parked is looked for (`refs/worktree/mainstay/
//!   own/<branch>` records it until the run that parked it, or the next, knows its fate).
//! - The branch holds other agents' commits only while a push carrying them is under way
//!   (`refs/worktree/mainstay/carrying/<branch>` records where it was): a run killed then is
//!   undone by the next one.
//! - Nothing compares clocks across machines: chains are landed oldest first, by how far behind
//!   the branch their base is, then by id.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};

use crate::git::{self, Git};
use crate::policy;
use crate::text::sha7;

/// Where parked changes live on the remote.
pub(super) const REMOTE: &str = "refs/mainstay/parked/";
/// Where a lander moves a parked change it could not land (it does not apply, or is no chain
/// others may carry): out of the queue, kept for its owner and for people. Nothing reads it.
pub(super) const ASIDE: &str = "refs/mainstay/aside/";
/// Where a fetch puts what it saw: per worktree (`refs/worktree/`), so that agents in linked
/// worktrees of one clone never wait on each other's ref locks.
const LOCAL: &str = "refs/worktree/mainstay/";

/// A chain longer than this is not landed by others (its owner still lands it itself).
const MAX_CHAIN: usize = 100;
/// A chain based further back than this many commits of the branch is not landed by others: its
/// owner is gone, or it would long since have been landed.
const MAX_BEHIND: usize = 1000;
/// At most this many parked changes are put aside by one push.
pub(super) const MAX_ASIDE: usize = 100;

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

    /// Where a lander puts parked change `id`, at `sha`, aside: a name of its own for each
    /// change, so no earlier one put aside is overwritten.
    pub fn aside(&self, id: &str, sha: &str) -> String {
        format!("{ASIDE}{}/{id}-{}", self.key, &sha[..sha.len().min(12)])
    }

    /// This worktree's record of what it parked: set while a change of its own may be on the
    /// remote (parked, or landed by another push without this worktree knowing yet).
    pub fn own(&self) -> String {
        format!("{LOCAL}own/{}", self.key)
    }

    /// This worktree's record of where the branch was before other agents' changes were picked
    /// onto it: set only while a push carrying them is under way.
    pub fn carrying(&self) -> String {
        format!("{LOCAL}carrying/{}", self.key)
    }

    /// Beside [`Refs::carrying`], once the picking is done: the branch with their commits on it.
    pub fn picked(&self) -> String {
        format!("{LOCAL}picked/{}", self.key)
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
            } else if let Some(id) = name.strip_prefix(&parked_prefix)
                && !id.contains('/')
            {
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
    /// The commit of the branch it stands on: the parent of its first commit.
    pub base: String,
    /// Oldest first.
    pub commits: Vec<String>,
    /// How many commits of the branch its base is behind the branch's tip.
    pub behind: usize,
}

/// The parked changes of others, as a lander sorts them.
#[derive(Debug, Default)]
pub(super) struct Chains {
    /// Those that may land on the branch, in landing order (oldest base first, then by id).
    pub carriable: Vec<Chain>,
    /// `(id, sha)` of those no push of others will land: not a linear chain of at most
    /// [`MAX_CHAIN`] commits on a commit of the branch at most [`MAX_BEHIND`] back, nothing to
    /// land, or sharing a commit with an earlier chain.
    pub not_chains: Vec<(String, String)>,
    /// `(id, sha)` of those that change configuration or code that runs
    /// ([`policy::configuration::is`]): their owners land them themselves.
    pub configuration: Vec<(String, String)>,
}

/// The ids of `chains` any commit of which changes configuration
/// ([`policy::configuration::is`]), asked of git in one process.
pub(super) fn configuration_changes(
    git: &Git,
    chains: &[Chain],
    hooks_path: Option<&str>,
) -> Result<HashSet<String>, git::Error> {
    let owner: HashMap<&str, &str> = chains
        .iter()
        .flat_map(|c| {
            c.commits
                .iter()
                .map(|commit| (commit.as_str(), c.id.as_str()))
        })
        .collect();
    let commits: Vec<&str> = owner.keys().copied().collect();
    let touched = policy::configuration::touched(git, &commits, hooks_path)?;
    Ok(touched
        .into_iter()
        .filter_map(|(commit, _)| owner.get(commit.as_str()).map(|id| (*id).to_owned()))
        .collect())
}

/// Sorts the parked changes `parked` by whether they can land on `upstream`; `hooks_path` is the
/// clone's `core.hooksPath`, whose files are configuration too.
pub(super) fn chains(
    git: &Git,
    parked: &[(String, String)],
    upstream: &str,
    hooks_path: Option<&str>,
) -> Result<Chains, git::Error> {
    let mut sorted = Chains::default();
    if parked.is_empty() {
        return Ok(sorted);
    }
    let window = git.run([
        "rev-list",
        "--first-parent",
        &format!("--max-count={MAX_BEHIND}"),
        upstream,
    ])?;
    let behind: HashMap<&str, usize> = window.lines().enumerate().map(|(i, s)| (s, i)).collect();
    let tips: Vec<&str> = parked.iter().map(|(_, sha)| sha.as_str()).collect();
    let listed = parents_of(git, upstream, &tips, parked.len() * MAX_CHAIN + 1)?;
    let parents = parse_parents(&listed);
    let mut taken: HashSet<String> = HashSet::new();
    for (id, tip) in parked {
        let mut walked = walk(&parents, tip, &behind, &taken);
        if let Walk::Cut = walked {
            // One listing serves every chain, up to a shared limit: a long history under one
            // ref must not hide the others. This one is walked on its own.
            let own = parents_of(git, upstream, &[tip], MAX_CHAIN + 1)?;
            walked = walk(&parse_parents(&own), tip, &behind, &taken);
        }
        match walked {
            Walk::Chain {
                base,
                commits,
                behind,
            } => {
                taken.extend(commits.iter().cloned());
                sorted.carriable.push(Chain {
                    id: id.clone(),
                    tip: tip.clone(),
                    base,
                    commits,
                    behind,
                });
            }
            Walk::Cut | Walk::NotAChain => sorted.not_chains.push((id.clone(), tip.clone())),
        }
    }
    let configuration = configuration_changes(git, &sorted.carriable, hooks_path)?;
    let (changes, carriable) = std::mem::take(&mut sorted.carriable)
        .into_iter()
        .partition(|c| configuration.contains(&c.id));
    sorted.carriable = carriable;
    sorted.configuration = changes.into_iter().map(|c: Chain| (c.id, c.tip)).collect();
    sorted
        .carriable
        .sort_by(|a, b| b.behind.cmp(&a.behind).then_with(|| a.id.cmp(&b.id)));
    Ok(sorted)
}

/// `git rev-list --parents` of `tips` down to `upstream`, at most `limit` commits.
fn parents_of(
    git: &Git,
    upstream: &str,
    tips: &[&str],
    limit: usize,
) -> Result<String, git::Error> {
    let mut input = format!("^{upstream}\n");
    for tip in tips {
        input.push_str(tip);
        input.push('\n');
    }
    let limit = format!("--max-count={limit}");
    git.run_with_input(
        ["rev-list", "--parents", &limit, "--stdin"],
        input.as_bytes(),
    )
}

fn parse_parents(listed: &str) -> HashMap<&str, Vec<&str>> {
    listed
        .lines()
        .filter_map(|l| {
            let mut words = l.split(' ');
            Some((words.next()?, words.collect()))
        })
        .collect()
}

enum Walk {
    /// Oldest first, and how far behind the branch's tip its base is.
    Chain {
        base: String,
        commits: Vec<String>,
        behind: usize,
    },
    /// The walk ended off the branch: the listing may have left the rest out.
    Cut,
    NotAChain,
}

/// Walks from `tip` down its only parents to a commit of the branch's window `behind`.
fn walk(
    parents: &HashMap<&str, Vec<&str>>,
    tip: &str,
    behind: &HashMap<&str, usize>,
    taken: &HashSet<String>,
) -> Walk {
    let mut commits = Vec::new();
    let mut at = tip;
    while let Some(up) = parents.get(at) {
        let [parent] = up.as_slice() else {
            return Walk::NotAChain;
        };
        if commits.len() == MAX_CHAIN || taken.contains(at) {
            return Walk::NotAChain;
        }
        commits.push(at.to_owned());
        at = parent;
    }
    match behind.get(at) {
        Some(_) if commits.is_empty() => Walk::NotAChain,
        Some(&behind) => {
            commits.reverse();
            Walk::Chain {
                base: at.to_owned(),
                commits,
                behind,
            }
        }
        // A commit the listing left out, or a base off the branch's window.
        None => Walk::Cut,
    }
}

/// The push that carried other agents' changes has its outcome: the records go.
pub(super) fn carried_done(git: &Git, refs: &Refs) -> Result<(), git::Error> {
    for record in [refs.picked(), refs.carrying()] {
        git.output(["update-ref", "-d", &record])?;
    }
    Ok(())
}

/// Takes other agents' picked commits back off the branch when a run that was carrying them
/// ended before its push's outcome was known (killed: see [`Refs::carrying`]), so that none of
/// them is ever pushed as this clone's own; commits made on top since are kept (rebased off
/// them). Only what the records name is touched: a state they do not explain (a cherry-pick
/// in progress, the branch elsewhere) is an error saying what to do, and the records stay until
/// it is done. A line for the user when something was put back.
pub(super) fn recover(git: &Git, refs: &Refs) -> Result<Option<String>, Recover> {
    let Some(before) = git.resolve(&refs.carrying()) else {
        return Ok(None);
    };
    let picked = git.resolve(&refs.picked());
    let head = git.run(["rev-parse", "HEAD"])?;
    let contains = |ancestor: &str| git.is_ancestor(ancestor, "HEAD");
    let in_progress = git.resolve("CHERRY_PICK_HEAD").is_some();
    let note = match picked {
        // Killed while picking: nothing to take off, or a cherry-pick for a person to end.
        None if head == before && !in_progress => None,
        None if !in_progress && !contains(&before)? => return Ok(Some(elsewhere(&before))),
        None => {
            return Err(Recover::Unclear(format!(
                "an interrupted `mainstay push` was picking other agents' parked commits onto \
                 this branch from {b}; end that (`git cherry-pick --abort`, or take their commits \
                 off with `git rebase -i {b}`), then `git update-ref -d {r}` and run it again",
                b = sha7(&before),
                r = refs.carrying()
            )));
        }
        Some(_) if in_progress => {
            return Err(Recover::Unclear(format!(
                "a cherry-pick is in progress on a branch an interrupted `mainstay push` had \
                 carried other agents' commits onto ({}); finish or abort it, then run \
                 `mainstay push` again",
                sha7(&before)
            )));
        }
        Some(picked) if head == picked => {
            git.run(["reset", "--quiet", "--keep", &before])?;
            Some(format!(
                "an interrupted run had picked other agents' parked commits onto this branch; \
                 it is back at {}",
                sha7(&before)
            ))
        }
        Some(picked) if contains(&picked)? => {
            // Commits made on top since: kept, moved off the picked ones.
            let moved = git.output([
                "-c",
                "core.editor=true",
                "rebase",
                "--quiet",
                "--onto",
                &before,
                &picked,
            ])?;
            if !moved.status.success() {
                let _ = git.output(["rebase", "--abort"])?;
                return Err(Recover::Unclear(format!(
                    "an interrupted run had picked other agents' parked commits onto this \
                     branch ({}..{}), and the commits made on top since do not apply without \
                     them; take them off by hand (`git rebase --onto {} {}`), then `git \
                     update-ref -d {}` and run `mainstay push` again",
                    sha7(&before),
                    sha7(&picked),
                    sha7(&before),
                    sha7(&picked),
                    refs.carrying()
                )));
            }
            Some(format!(
                "an interrupted run had picked other agents' parked commits onto this branch; \
                 they are off it again, and the commits made since are kept on top of {}",
                sha7(&before)
            ))
        }
        Some(picked) => {
            // Not on this branch: another local branch may hold them still, for a run from
            // there to take off; until then the records stay (and nothing is carried here).
            let holders = git.run([
                "for-each-ref",
                "--contains",
                &picked,
                "--format=%(refname:short)",
                "refs/heads/",
            ])?;
            if !holders.is_empty() {
                return Ok(Some(elsewhere(&before)));
            }
            None
        }
    };
    carried_done(git, refs)?;
    Ok(note)
}

/// The line for a run on another branch than the one an interrupted run was carrying onto.
fn elsewhere(before: &str) -> String {
    format!(
        "an interrupted `mainstay push` had picked other agents' parked commits onto another \
         branch here (from {}); `mainstay push` from that branch takes them off, and until then \
         no run here carries any",
        sha7(before)
    )
}

/// Why [`recover`] did not put the branch back.
#[derive(Debug)]
pub(super) enum Recover {
    Git(git::Error),
    /// What to do, for a person.
    Unclear(String),
}

impl From<git::Error> for Recover {
    fn from(e: git::Error) -> Recover {
        Recover::Git(e)
    }
}

/// This run's own parked change.
#[derive(Debug, Clone)]
pub(super) struct Parked {
    pub id: String,
    /// What the parked ref holds.
    pub sha: String,
    /// The branch commit it was parked on.
    pub base: String,
    /// Its commits, `(sha, identity)`, oldest first.
    own: Vec<(String, String)>,
}

impl Parked {
    pub fn new(git: &Git, id: String, sha: String, base: String) -> Result<Parked, git::Error> {
        let own = identities(git, &format!("{base}..{sha}"))?;
        Ok(Parked { id, sha, base, own })
    }

    /// Whether other landers would carry it (not too long a chain).
    pub fn carriable(&self) -> bool {
        self.own.len() <= MAX_CHAIN
    }

    /// The commit of `upstream` that holds this change's last commit, once every one of its
    /// commits is there, in order, with its content: a commit that only looks like one of
    /// them (same author, date, message and paths) is never taken for it.
    pub fn landed_in(&self, git: &Git, upstream: &str) -> Result<Option<String>, git::Error> {
        if self.own.is_empty() {
            return Ok(None);
        }
        let on_branch = identities(git, &format!("{}..{upstream}", self.base))?;
        let (mut count, mut last) = (0, None);
        for (sha, identity) in on_branch {
            let Some((own, own_identity)) = self.own.get(count) else {
                break;
            };
            if *own_identity == identity && holds(git, own, &sha)? {
                count += 1;
                last = Some(sha);
            }
        }
        Ok(last.filter(|_| count == self.own.len()))
    }
}

/// Whether `landed` is `own`'s change made again on another parent, with nothing else: `own`'s
/// change merged onto `landed`'s parent (git's three-way merge, the ledger driver as `own`'s
/// attributes name it) gives `landed`'s very tree. A ledger row merged among others' rows
/// counts; other content does not.
fn holds(git: &Git, own: &str, landed: &str) -> Result<bool, git::Error> {
    let parents = git.run(["rev-parse", &format!("{own}^"), &format!("{landed}^")])?;
    let mut parents = parents.lines();
    let (Some(own_parent), Some(landed_parent)) = (parents.next(), parents.next()) else {
        return Ok(false);
    };
    let Some(tree) = super::objects::merge(
        git,
        own_parent,
        landed_parent,
        own,
        own,
        crate::ledger::BUDGET,
    )?
    else {
        return Ok(false);
    };
    Ok(git.resolve(&format!("{landed}^{{tree}}")).as_deref() == Some(tree.as_str()))
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

/// `(sha, identity)` of each commit of `range`, oldest first: its author, author date, message
/// and the paths it changes, which a rebase or a cherry-pick keeps.
fn identities(git: &Git, range: &str) -> Result<Vec<(String, String)>, git::Error> {
    let listed = git.run([
        "log",
        "--reverse",
        "--date=raw",
        "--name-only",
        "--format=%x1e%H%x00%an <%ae> %ad%x00%B%x00",
        range,
    ])?;
    Ok(listed
        .split('\x1e')
        .filter_map(|record| {
            let (sha, identity) = record.split_once('\0')?;
            Some((sha.to_owned(), identity.trim_end().to_owned()))
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
