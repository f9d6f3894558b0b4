//! The `pre-push` rules.
//!
//! - Protected branches (default `main`, `staging`, `production`) refuse non-fast-forward updates
//!   and deletions.
//! - Agent branches (default `agent/*`, `claude/*`, ...) accept force pushes, each one recorded in
//!   the audit log.
//! - No push may add a conflict block to a text file.
//!
//! `MAINSTAY_OVERRIDE="<reason>"` lets a refused push through in an emergency; every use is
//! recorded in the audit log with its reason. A rule that cannot be decided (an object missing, an
//! unreadable repository) refuses: this is a safety hook.

pub mod attributes;
pub mod audit;
pub mod configuration;
pub mod markers;
pub mod parked;

use std::collections::HashMap;
use std::fmt;

use gix::ObjectId;
use serde::Deserialize;

use crate::repo::{self, Repo};

/// Part of the refusal for a protected branch whose remote commit this clone has not fetched:
/// `mainstay push` reads it as "the remote moved since the fetch" and tries again.
pub const REMOTE_UNKNOWN: &str = "is not in this clone";

/// The environment variable that lets a refused push through, naming why.
pub const OVERRIDE_VAR: &str = "MAINSTAY_OVERRIDE";

/// Set by `mainstay push` for the push that carries other agents' parked changes: the commit
/// whose `.mainstay.toml` and `.gitattributes` judge that push in `pre-push`, instead of the
/// remote's side (see [`PushContext::policy_from`]). Here, below both `config` and `push`, so
/// that each reads it without the other.
pub const CONFIG_FROM_VAR: &str = "MAINSTAY_CONFIG_FROM";

/// `[push]` in `.mainstay.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Branch names or globs that never take a force push or a deletion.
    pub protected: Vec<String>,
    /// Branch globs where agents may force-push; each force push is logged.
    pub agent: Vec<String>,
    /// Path globs (as in `.gitattributes`) whose files hold conflict markers as data, such as
    /// test fixtures: no block in them is refused.
    pub markers_allowed: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            protected: ["main", "staging", "production"].map(String::from).into(),
            agent: ["agent/*", "claude/*", "codex/*", "cursor/*", "manus/*"]
                .map(String::from)
                .into(),
            markers_allowed: Vec::new(),
        }
    }
}

impl Settings {
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        for (key, globs) in [
            ("push.protected", &self.protected),
            ("push.agent", &self.agent),
            ("push.markers_allowed", &self.markers_allowed),
        ] {
            if let Some(bad) = globs
                .iter()
                .find(|g| g.is_empty() || g.contains(char::is_whitespace))
            {
                return Err((key.to_owned(), format!("{bad:?} is not a name or glob")));
            }
        }
        Ok(())
    }

    pub fn is_protected(&self, branch: &str) -> bool {
        self.protected.iter().any(|g| glob_match(g, branch))
    }

    pub fn is_agent(&self, branch: &str) -> bool {
        self.agent.iter().any(|g| glob_match(g, branch))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{hook} input line {line}: {reason}: {text:?}")]
    Input {
        /// `pre-push` or `pre-receive`.
        hook: &'static str,
        line: usize,
        reason: &'static str,
        text: String,
    },
    #[error(transparent)]
    Repo(#[from] repo::Error),
}

/// One line of git's pre-push input: `<local ref> <local sha> <remote ref> <remote sha>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub local_ref: String,
    /// `None` for a deletion (git sends the all-zero id).
    pub local: Option<ObjectId>,
    pub remote_ref: String,
    /// `None` when the remote does not have the ref yet.
    pub remote: Option<ObjectId>,
}

impl Update {
    /// The branch name on the remote, when the remote ref is a branch.
    pub fn branch(&self) -> Option<&str> {
        self.remote_ref.strip_prefix("refs/heads/")
    }
}

/// Parses git's pre-push stdin. Ids are 40 (SHA-1) or 64 (SHA-256) hex digits.
pub fn parse_updates(input: &str) -> Result<Vec<Update>, Error> {
    const HOOK: &str = "pre-push";
    let mut updates = Vec::new();
    for (index, text) in input.lines().enumerate() {
        if text.trim().is_empty() {
            continue;
        }
        let bad = |reason| Error::Input {
            hook: HOOK,
            line: index + 1,
            reason,
            text: text.to_owned(),
        };
        let fields: Vec<&str> = text.split(' ').collect();
        let [local_ref, local, remote_ref, remote] = fields[..] else {
            return Err(bad(
                "expected `<local ref> <local sha> <remote ref> <remote sha>`",
            ));
        };
        if !remote_ref.starts_with("refs/") {
            return Err(bad("the remote ref is not a full ref name"));
        }
        updates.push(Update {
            local_ref: local_ref.to_owned(),
            local: parse_id(local).ok_or_else(|| bad("the local id is not 40 or 64 hex digits"))?,
            remote_ref: remote_ref.to_owned(),
            remote: parse_id(remote)
                .ok_or_else(|| bad("the remote id is not 40 or 64 hex digits"))?,
        });
    }
    Ok(updates)
}

/// Parses git's pre-receive stdin, `<old> <new> <ref>` per line, as the updates pre-push would
/// see: the remote's side is the repository's own (`old`), the pushed side `new`.
pub fn parse_received(input: &str) -> Result<Vec<Update>, Error> {
    const HOOK: &str = "pre-receive";
    let mut updates = Vec::new();
    for (index, text) in input.lines().enumerate() {
        if text.trim().is_empty() {
            continue;
        }
        let bad = |reason| Error::Input {
            hook: HOOK,
            line: index + 1,
            reason,
            text: text.to_owned(),
        };
        let fields: Vec<&str> = text.split(' ').collect();
        let [old, new, reference] = fields[..] else {
            return Err(bad("expected `<old sha> <new sha> <ref>`"));
        };
        if !reference.starts_with("refs/") {
            return Err(bad("the ref is not a full ref name"));
        }
        updates.push(Update {
            local_ref: reference.to_owned(),
            local: parse_id(new).ok_or_else(|| bad("the new id is not 40 or 64 hex digits"))?,
            remote_ref: reference.to_owned(),
            remote: parse_id(old).ok_or_else(|| bad("the old id is not 40 or 64 hex digits"))?,
        });
    }
    Ok(updates)
}

/// `Some(None)` for the all-zero id, `Some(Some(id))` for a valid id, `None` when malformed.
fn parse_id(hex: &str) -> Option<Option<ObjectId>> {
    if !matches!(hex.len(), 40 | 64) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    if hex.bytes().all(|b| b == b'0') {
        return Some(None);
    }
    // A SHA-256 id in a SHA-1 build cannot be read: treated as malformed, so the push is refused.
    ObjectId::from_hex(hex.as_bytes()).ok().map(Some)
}

/// What the push is, beyond its refs.
#[derive(Clone)]
pub struct PushContext<'a> {
    /// The remote's name, or its URL when the push named no configured remote.
    pub remote: &'a str,
    /// `[deploy] branch`: a new branch's changes are measured from its fork point off this one.
    pub deploy_branch: &'a str,
    /// Where this repository keeps the remote's copy of its branches: `refs/remotes/<remote>/`
    /// in a clone (`pre-push`), `refs/heads/` on the remote itself (`pre-receive`).
    pub remote_refs: String,
    pub updates: &'a [Update],
    /// The reason given in `MAINSTAY_OVERRIDE`, if any.
    pub override_reason: Option<&'a str>,
    /// The commit whose settings and `.gitattributes` judge every update: the commit before
    /// other agents' carried changes (see [`CONFIG_FROM_VAR`]). Without one, each
    /// update is judged by its remote side ([`remote_side`]): never by what is pushed.
    pub policy_from: Option<ObjectId>,
    /// The `[push]` settings of a commit of the remote's side (`None`: the remote has none):
    /// `.mainstay.toml` as committed there in a clone, the server's own file on the server.
    pub settings: &'a dyn Fn(Option<ObjectId>) -> Result<Settings, String>,
}

/// Why one ref update is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotFastForward {
        branch: String,
        remote: ObjectId,
    },
    RemoteUnknown {
        branch: String,
        remote: ObjectId,
    },
    Deletion {
        branch: String,
    },
    ConflictMarkers {
        reference: String,
        path: String,
        line: usize,
    },
    Unreadable {
        reference: String,
        reason: String,
    },
    /// A parked change the server's queue does not take ([`parked`]).
    Parked(parked::Refused),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const REBASE: &str = "fetch and rebase (`git pull --rebase`), or run `mainstay push`";
        match self {
            Refusal::NotFastForward { branch, remote } => write!(
                f,
                "refusing to force-push protected branch `{branch}`: the remote's {} is not in \
                 what you push; {REBASE}",
                short(remote)
            ),
            Refusal::RemoteUnknown { branch, remote } => write!(
                f,
                "refusing to push protected branch `{branch}`: the remote's {} {REMOTE_UNKNOWN}, \
                 so this may overwrite work; {REBASE}",
                short(remote)
            ),
            Refusal::Deletion { branch } => write!(
                f,
                "refusing to delete protected branch `{branch}`; protected branches are never \
                 deleted by a push"
            ),
            Refusal::ConflictMarkers {
                reference,
                path,
                line,
            } => write!(
                f,
                "refusing to push `{reference}`: {path}:{line} adds a conflict block \
                 (`<<<<<<<` ... `>>>>>>>`); resolve it and amend the commit"
            ),
            Refusal::Parked(refused) => write!(f, "{refused}"),
            Refusal::Unreadable { reference, reason } => {
                write!(
                    f,
                    "refusing to push `{reference}`: cannot check it: {reason}"
                )
            }
        }
    }
}

/// The decision on a whole push.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Reasons to refuse; empty means the push may go on.
    pub refusals: Vec<Refusal>,
    /// Records for the audit log: force pushes on agent branches, overrides.
    pub audit: Vec<audit::Record>,
}

impl Verdict {
    pub fn allowed(&self) -> bool {
        self.refusals.is_empty()
    }
}

/// Applies the rules to every update of a push.
pub fn check(repo: &Repo, push: &PushContext<'_>) -> Verdict {
    let mut verdict = Verdict::default();
    let mut refused: Vec<(Refusal, &Update)> = Vec::new();
    let mut pending = Vec::new();
    // Only branches have rules: a tag, a note or any other ref outside `refs/heads/` goes
    // through (git itself refuses to move an existing tag without `--force`).
    for update in push.updates.iter().filter(|u| u.branch().is_some()) {
        let mut refusals = Vec::new();
        let base = remote_side(repo, push, update);
        let source = push.policy_from.or(base);
        match (push.settings)(source) {
            Ok(settings) => {
                let judge = Judge {
                    settings,
                    source,
                    base,
                };
                let local = check_update(
                    repo,
                    push,
                    update,
                    &judge,
                    &mut refusals,
                    &mut verdict.audit,
                );
                if let Some(local) = local {
                    match marker_candidates(repo, update, local, judge) {
                        Ok(found) => pending.push(found),
                        Err(reason) => refusals.push(Refusal::Unreadable {
                            reference: update.remote_ref.clone(),
                            reason,
                        }),
                    }
                }
            }
            Err(reason) => refusals.push(Refusal::Unreadable {
                reference: update.remote_ref.clone(),
                reason,
            }),
        }
        refused.extend(refusals.into_iter().map(|r| (r, update)));
    }
    refused.extend(check_markers(repo, &pending));
    match push.override_reason {
        Some(reason) => {
            for (refusal, update) in refused {
                let record = audit::Record::overridden(push.remote, update, &refusal, reason);
                verdict.audit.push(record);
            }
        }
        None => verdict.refusals = refused.into_iter().map(|(r, _)| r).collect(),
    }
    verdict
}

/// What one update is judged by: settings, the commit whose attributes apply (`None`: no
/// commit's, only the repository's own `info/attributes` and git's configured files), and the
/// remote's side its net change is measured from.
struct Judge {
    settings: Settings,
    source: Option<ObjectId>,
    base: Option<ObjectId>,
}

/// The rules for one branch but its content; the pushed commit, when there is one to read.
fn check_update(
    repo: &Repo,
    push: &PushContext<'_>,
    update: &Update,
    judge: &Judge,
    refusals: &mut Vec<Refusal>,
    audit: &mut Vec<audit::Record>,
) -> Option<ObjectId> {
    let settings = &judge.settings;
    let pushed = update.branch()?;
    // A branch the clone knows as an alias of another (`refs/remotes/origin/HEAD` -> main) is
    // judged as the branch it stands for.
    let branch = alias_of(repo, &push.remote_refs, pushed).unwrap_or_else(|| pushed.to_owned());
    let protected = settings.is_protected(&branch);
    let Some(local) = update.local else {
        if protected {
            refusals.push(Refusal::Deletion { branch });
        }
        return None;
    };
    // What is pushed to a branch is a commit, or a tag of one (`git push origin v1^{}:main`
    // aside, git peels nothing itself).
    let local = match repo::peel_to_commit(repo, local) {
        Ok(Some(commit)) => commit,
        Ok(None) => {
            let reason = format!("{} is not a commit", short(&local));
            let reference = update.remote_ref.clone();
            refusals.push(Refusal::Unreadable { reference, reason });
            return None;
        }
        Err(e) => {
            let reference = update.remote_ref.clone();
            let reason = e.to_string();
            refusals.push(Refusal::Unreadable { reference, reason });
            return None;
        }
    };
    if let Some(remote) = update.remote {
        let known = repo::has_object(repo, remote);
        let remote_commit = known
            .then(|| repo::peel_to_commit(repo, remote).ok().flatten())
            .flatten();
        let fast_forward = remote_commit.is_some_and(|r| repo::is_ancestor(repo, r, local));
        if protected && !known {
            refusals.push(Refusal::RemoteUnknown {
                branch: branch.clone(),
                remote,
            });
        } else if protected && !fast_forward {
            refusals.push(Refusal::NotFastForward {
                branch: branch.clone(),
                remote,
            });
        } else if !fast_forward && settings.is_agent(&branch) {
            audit.push(audit::Record::force_push(push.remote, update));
        }
    }
    Some(local)
}

/// The branch the remote's copy of `branch` is a symbolic alias of, if it is one: on the remote
/// itself, every alias; in a clone, those it knows (`refs/remotes/origin/HEAD`).
fn alias_of(repo: &Repo, remote_refs: &str, branch: &str) -> Option<String> {
    let target = repo::symbolic_target(repo, &format!("{remote_refs}{branch}"))?;
    target.strip_prefix(remote_refs).map(str::to_owned)
}

/// One update's files that may gain a conflict block, before git's attributes are known.
struct Candidates<'u> {
    update: &'u Update,
    source: Option<ObjectId>,
    diff: repo::Diff,
    /// Indexes into `diff.changes`, with each path as text.
    files: Vec<(usize, String)>,
}

/// The files of the update's net change that may hold a block of markers of any length: read
/// once, quickly (most files hold no line starting with `<`), outside `[push] markers_allowed`.
fn marker_candidates<'u>(
    repo: &Repo,
    update: &'u Update,
    local: ObjectId,
    judge: Judge,
) -> Result<Candidates<'u>, String> {
    let diff = repo::diff(repo, judge.base, local).map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let mut files = Vec::new();
    for (index, change) in diff.changes.iter().enumerate() {
        // A blob past the limit is binary here, as it is to git's diff: never read whole.
        let Some(new) = repo::blob_within(repo, change.new, &mut buf).map_err(|e| e.to_string())?
        else {
            continue;
        };
        if !markers::may_hold_blocks(new) {
            continue;
        }
        let path = repo::path_text(&change.path);
        if judge
            .settings
            .markers_allowed
            .iter()
            .any(|g| path_glob_match(g, &path))
        {
            continue;
        }
        files.push((index, path));
    }
    Ok(Candidates {
        update,
        source: judge.source,
        diff,
        files,
    })
}

/// Refuses each update whose net change adds a conflict block to a text file: a block that no
/// old side of a file the change modified or removed held (so a rename, even one whose old name
/// now holds a new file, keeps its blocks). A file's marker length and whether it is binary are
/// git's (`conflict-marker-size`, `diff`, else a NUL in its first 8,000 bytes), asked of one
/// `git check-attr` per source commit for every candidate of the push.
fn check_markers<'u>(repo: &Repo, pending: &[Candidates<'u>]) -> Vec<(Refusal, &'u Update)> {
    let mut refused = Vec::new();
    let mut by_source: HashMap<
        Option<ObjectId>,
        Result<HashMap<String, attributes::Attributes>, String>,
    > = HashMap::new();
    for source in pending
        .iter()
        .filter(|c| !c.files.is_empty())
        .map(|c| c.source)
    {
        if by_source.contains_key(&source) {
            continue;
        }
        let mut paths: Vec<&str> = pending
            .iter()
            .filter(|c| c.source == source)
            .flat_map(|c| c.files.iter().map(|(_, p)| p.as_str()))
            .collect();
        paths.sort_unstable();
        paths.dedup();
        by_source.insert(source, attributes::read(repo, source, &paths));
    }
    for candidates in pending.iter().filter(|c| !c.files.is_empty()) {
        let update = candidates.update;
        let found = match &by_source[&candidates.source] {
            Ok(found) => found,
            Err(reason) => {
                let reference = update.remote_ref.clone();
                let reason = reason.clone();
                refused.push((Refusal::Unreadable { reference, reason }, update));
                continue;
            }
        };
        if let Err(reason) = judge_markers(repo, candidates, found, &mut refused) {
            let reference = update.remote_ref.clone();
            refused.push((Refusal::Unreadable { reference, reason }, update));
        }
    }
    refused
}

/// [`check_markers`] for one update, its files' attributes known.
fn judge_markers<'u>(
    repo: &Repo,
    candidates: &Candidates<'u>,
    found: &HashMap<String, attributes::Attributes>,
    refused: &mut Vec<(Refusal, &'u Update)>,
) -> Result<(), String> {
    let mut buf = Vec::new();
    // Read once, and only when some new file holds a block.
    let mut old_side: Option<Vec<Vec<u8>>> = None;
    for (index, path) in &candidates.files {
        let change = &candidates.diff.changes[*index];
        let attributes = found.get(path).copied().unwrap_or_default();
        let Some(new) = repo::blob_within(repo, change.new, &mut buf).map_err(|e| e.to_string())?
        else {
            continue;
        };
        if attributes.binary.unwrap_or_else(|| markers::is_binary(new)) {
            continue;
        }
        let size = attributes.marker_size;
        if markers::blocks(new, size).is_empty() {
            continue;
        }
        let old = match &old_side {
            Some(old) => old,
            None => old_side.insert(old_blobs_with_blocks(repo, &candidates.diff)?),
        };
        let old: Vec<&[u8]> = old.iter().map(Vec::as_slice).collect();
        if let Some(line) = markers::first_added(&old, new, size) {
            let refusal = Refusal::ConflictMarkers {
                reference: candidates.update.remote_ref.clone(),
                path: repo::display_path(&change.path),
                line,
            };
            refused.push((refusal, candidates.update));
        }
    }
    Ok(())
}

/// The old side of every file the change modified or removed, where it may hold a block.
fn old_blobs_with_blocks(repo: &Repo, diff: &repo::Diff) -> Result<Vec<Vec<u8>>, String> {
    let olds = diff.changes.iter().filter_map(|c| c.old);
    let removed = diff.removed.iter().map(|(_, id)| *id);
    let mut found = Vec::new();
    let mut buf = Vec::new();
    for id in olds.chain(removed) {
        let blob = repo::blob_within(repo, id, &mut buf).map_err(|e| e.to_string())?;
        if let Some(blob) = blob
            && markers::may_hold_blocks(blob)
        {
            found.push(blob.to_vec());
        }
    }
    Ok(found)
}

/// What the remote already has, to measure the push's net change from: the remote's commit, or
/// for a new branch its fork point from the remote's copy of the same (or the deploy) branch;
/// for a deletion (`local` is `None`), the tip of that copy.
fn net_base(
    repo: &Repo,
    push: &PushContext<'_>,
    update: &Update,
    local: Option<ObjectId>,
) -> Option<ObjectId> {
    if let Some(remote) = update
        .remote
        .filter(|id| repo::has_object(repo, *id))
        .and_then(|id| repo::peel_to_commit(repo, id).ok().flatten())
    {
        return Some(remote);
    }
    let branch = update.branch()?;
    [push.deploy_branch, branch]
        .iter()
        .rev()
        .filter_map(|b| repo::resolve_ref(repo, &format!("{}{b}", push.remote_refs)))
        .filter_map(|tip| repo::peel_to_commit(repo, tip).ok().flatten())
        .find_map(|tip| match local {
            Some(local) => repo::merge_base(repo, tip, local),
            None => Some(tip),
        })
}

/// The commit of the remote's side of an update, whose settings and attributes judge it: the
/// ref's old tip, else (a new branch) where it forks from what the remote has, peeled from what
/// is pushed. `None` when the repository holds nothing of the remote's for it.
pub fn remote_side(repo: &Repo, push: &PushContext<'_>, update: &Update) -> Option<ObjectId> {
    let local = update
        .local
        .and_then(|id| repo::peel_to_commit(repo, id).ok().flatten());
    net_base(repo, push, update, local)
}

/// Matches a repository path against a glob as `.gitattributes` would: `**` spans directories,
/// `*` and `?` stay within one; a glob without a `/` matches the file name at any depth.
pub fn path_glob_match(glob: &str, path: &str) -> bool {
    fn go(g: &[u8], p: &[u8]) -> bool {
        match g {
            [] => p.is_empty(),
            [b'*', b'*', b'/', rest @ ..] => {
                go(rest, p) || (0..p.len()).any(|i| p[i] == b'/' && go(rest, &p[i + 1..]))
            }
            [b'*', b'*', rest @ ..] => (0..=p.len()).any(|i| go(rest, &p[i..])),
            [b'*', rest @ ..] => (0..=p.len())
                .take_while(|&i| i == 0 || p[i - 1] != b'/')
                .any(|i| go(rest, &p[i..])),
            [b'?', rest @ ..] => p.first().is_some_and(|&c| c != b'/') && go(rest, &p[1..]),
            [c, rest @ ..] => p.first() == Some(c) && go(rest, &p[1..]),
        }
    }
    let glob = glob.trim_start_matches('/');
    if glob.contains('/') {
        go(glob.as_bytes(), path.as_bytes())
    } else {
        let name = path.rsplit('/').next().unwrap_or(path);
        go(glob.as_bytes(), name.as_bytes())
    }
}

fn short(id: &ObjectId) -> String {
    id.to_hex_with_len(7).to_string()
}

/// Matches a branch name against a glob where `*` matches any run of characters (slashes too)
/// and `?` one character, as in git's refspecs.
pub fn glob_match(glob: &str, name: &str) -> bool {
    fn go(g: &[u8], n: &[u8]) -> bool {
        match g.split_first() {
            None => n.is_empty(),
            Some((b'*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some((b'?', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    go(glob.as_bytes(), name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const ZERO: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn parses_updates_and_zero_ids() {
        let input = format!(
            "refs/heads/main {A} refs/heads/main {ZERO}\n(delete) {ZERO} refs/heads/x {A}\n"
        );
        let updates = parse_updates(&input).expect("valid input");
        assert_eq!(updates.len(), 2);
        assert_eq!(updates[0].remote, None);
        assert_eq!(updates[1].local, None);
        assert_eq!(updates[1].branch(), Some("x"));
    }

    #[test]
    fn malformed_input_names_the_line() {
        let err = parse_updates(&format!("refs/heads/main {A} refs/heads/main\n")).unwrap_err();
        assert!(
            err.to_string().starts_with("pre-push input line 1:"),
            "{err}"
        );
        let err = parse_updates(&format!("a {A} refs/heads/main xyz\n")).unwrap_err();
        assert!(err.to_string().contains("remote id"), "{err}");
    }

    #[test]
    fn path_globs_work_like_gitattributes() {
        assert!(path_glob_match(
            "tests/fixtures/**",
            "tests/fixtures/ledger/a/base.md"
        ));
        assert!(path_glob_match("**/expected.md", "tests/x/expected.md"));
        assert!(path_glob_match("expected.md", "tests/x/expected.md"));
        assert!(path_glob_match("*.orig", "a/b/c.orig"));
        assert!(!path_glob_match("tests/*.md", "tests/x/a.md"));
        assert!(path_glob_match("tests/*.md", "tests/a.md"));
        assert!(!path_glob_match(
            "tests/fixtures/**",
            "src/tests/fixtures/a"
        ));
    }

    #[test]
    fn globs() {
        assert!(glob_match("claude/*", "claude/fix/deep"));
        assert!(!glob_match("claude/*", "claudex/y"));
        assert!(glob_match("main", "main"));
        assert!(!glob_match("main", "main2"));
        assert!(glob_match("rel-?", "rel-1"));
    }
}
