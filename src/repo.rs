//! Reading the repository with gix: ancestry and the files a push changes.
//!
//! `pre-push` runs on every push, so the repository is opened light: its object database and
//! references, found the way git finds them (the `GIT_DIR` git hands its hooks, else the `.git`
//! dir or file above the hook's directory; `commondir` for a linked worktree), in the object
//! format the repository declares (SHA-1 or SHA-256). A full gix open also loads and merges every
//! configuration source, which the hook does not need; the configuration is read only in the rare
//! case that needs it ([`identity`]).
//!
//! An object missing from a partial clone (`--filter=blob:none`) is read through `git cat-file`,
//! which fetches it from the promisor remote, as git itself would.

use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::bstr::{BString, ByteSlice, ByteVec};
use gix::refs::file::ReferenceExt;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot open the repository at {path}: {message}")]
    Open { path: String, message: String },
    #[error("cannot read object {id}: {message}")]
    Object { id: ObjectId, message: String },
}

/// A file whose content differs between two trees.
#[derive(Debug, Clone)]
pub struct Change {
    pub path: BString,
    pub old: Option<ObjectId>,
    pub new: ObjectId,
}

/// A repository opened for reading objects and references.
pub struct Repo {
    objects: Objects,
    refs: gix::refs::file::Store,
    git_dir: PathBuf,
    common_dir: PathBuf,
    workdir: Option<PathBuf>,
    hash: gix::hash::Kind,
    /// Blobs larger than this are not read for their text (see [`blob_within`]):
    /// [`BLOB_LIMIT_VAR`], else git's `core.bigFileThreshold` in the repository's own config,
    /// else [`BLOB_LIMIT`].
    blob_limit: u64,
    /// The repository's own config file, as [`open`] read it.
    local: LocalConfig,
}

impl Repo {
    /// The work tree's top, if the repository has one.
    pub fn workdir(&self) -> Option<&Path> {
        self.workdir.as_deref()
    }

    /// Where objects, shared refs and our logs live (the git dir, or a linked worktree's main one).
    pub fn common_dir(&self) -> &Path {
        &self.common_dir
    }

    /// This worktree's own git dir.
    pub fn git_dir(&self) -> &Path {
        &self.git_dir
    }

    /// SHA-1 or SHA-256.
    pub fn object_format(&self) -> gix::hash::Kind {
        self.hash
    }

    /// Parses a full hex id in this repository's format.
    pub fn parse_id(&self, hex: &str) -> Option<ObjectId> {
        (hex.len() == self.hash.len_in_hex())
            .then(|| ObjectId::from_hex(hex.as_bytes()).ok())
            .flatten()
    }
}

/// What git tells a hook about the repository, through its environment.
#[derive(Debug, Clone, Default)]
pub struct Location {
    /// `GIT_DIR`, which git sets for a hook when the repository is not found from the working
    /// directory alone (`git --git-dir=… push`, `GIT_DIR=… git push`, a linked worktree, and
    /// always on the remote).
    pub git_dir: Option<PathBuf>,
    /// `GIT_WORK_TREE`.
    pub work_tree: Option<PathBuf>,
    /// `GIT_QUARANTINE_PATH`: while `pre-receive` runs, the pushed objects wait here, in front
    /// of the repository's own.
    pub quarantine: Option<PathBuf>,
}

impl Location {
    /// From the process environment.
    pub fn from_env() -> Location {
        let var = |name| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Location {
            git_dir: var("GIT_DIR"),
            work_tree: var("GIT_WORK_TREE"),
            quarantine: var("GIT_QUARANTINE_PATH"),
        }
    }
}

/// The object database, with a quarantine in front of it while `pre-receive` runs.
pub(crate) struct Objects {
    main: gix::odb::Handle,
    quarantine: Option<gix::odb::Handle>,
}

impl gix::objs::Exists for Objects {
    fn exists(&self, id: &gix::hash::oid) -> bool {
        self.quarantine.as_ref().is_some_and(|q| q.exists(id)) || self.main.exists(id)
    }
}

impl gix::objs::Find for Objects {
    fn try_find<'a>(
        &self,
        id: &gix::hash::oid,
        buffer: &'a mut Vec<u8>,
    ) -> gix::Result<Option<gix::objs::Data<'a>>> {
        use gix::objs::Exists;
        if let Some(q) = &self.quarantine
            && q.exists(id)
        {
            return q.try_find(id, buffer);
        }
        self.main.try_find(id, buffer)
    }
}

/// Opens the repository git is working in: the one `at` names, else the hook's current
/// directory or the nearest one above it.
pub fn open(dir: &Path, at: &Location) -> Result<Repo, Error> {
    let fail = |message: String| Error::Open {
        path: dir.display().to_string(),
        message,
    };
    let (git_dir, workdir) = match &at.git_dir {
        Some(git_dir) => {
            let git_dir = absolute(dir, git_dir.clone());
            let workdir = match &at.work_tree {
                Some(tree) => Some(absolute(dir, tree.clone())),
                None => work_tree_of(&git_dir).or_else(|| Some(dir.to_owned())),
            };
            (git_dir, workdir)
        }
        // Where git runs a hook in a work tree, its top: the `.git` dir there is the repository,
        // as discovery would find first (a `.git` file, a bare or a nested one go the long way).
        None if at.work_tree.is_none() && dir.join(".git/HEAD").is_file() => {
            (absolute(dir, dir.join(".git")), Some(dir.to_owned()))
        }
        None => {
            let (path, _trust) = gix::discover::upwards(dir).map_err(|e| fail(e.to_string()))?;
            let (git_dir, workdir) = path.into_repository_and_work_tree_directories();
            let workdir = at.work_tree.clone().or(workdir);
            (absolute(dir, git_dir), workdir.map(|w| absolute(dir, w)))
        }
    };
    let linked = gix::discover::path::from_plain_file(&git_dir.join("commondir"))
        .transpose()
        .map_err(|e| fail(e.to_string()))?;
    let common_dir = linked.map(|common| absolute(&git_dir, common));
    let local = LocalConfig::read(common_dir.as_deref().unwrap_or(&git_dir));
    let hash = local.object_format().map_err(fail)?;
    let blob_limit = blob_limit(
        std::env::var(BLOB_LIMIT_VAR).ok().as_deref(),
        local.get("core", "bigfilethreshold"),
    )
    .map_err(fail)?;
    let refs = match &common_dir {
        Some(common) => {
            gix::refs::file::Store::for_linked_worktree(git_dir.clone(), common.clone(), hash)
        }
        None => gix::refs::file::Store::at(git_dir.clone(), hash),
    };
    let common_dir = common_dir.unwrap_or_else(|| git_dir.clone());
    let mut objects =
        gix::odb::at(common_dir.join("objects"), hash).map_err(|e| fail(e.to_string()))?;
    let mut quarantine = at
        .quarantine
        .as_ref()
        .map(|q| gix::odb::at(absolute(dir, q.clone()), hash))
        .transpose()
        .map_err(|e| fail(e.to_string()))?;
    // Nothing is added to either store while a hook runs, and every miss (each object that is
    // in the other store) would otherwise look on disk for new packs again.
    objects.refresh_never();
    if let Some(q) = &mut quarantine {
        q.refresh_never();
    }
    // The checks read the pushed commits more than once (ancestry, then their trees): decode each
    // once.
    objects.set_object_cache(|| {
        Box::new(gix::odb::pack::cache::object::MemoryCappedHashmap::new(
            OBJECT_CACHE_BYTES,
        ))
    });
    Ok(Repo {
        objects: Objects {
            main: objects,
            quarantine,
        },
        refs,
        git_dir,
        common_dir,
        workdir,
        hash,
        blob_limit,
        local,
    })
}

/// The work tree of a git dir named without one: a linked worktree's (its `gitdir` file names
/// the worktree's `.git`), or the directory holding a `.git`.
fn work_tree_of(git_dir: &Path) -> Option<PathBuf> {
    if let Ok(Some(dot_git)) =
        gix::discover::path::from_plain_file(&git_dir.join("gitdir")).transpose()
    {
        return dot_git.parent().map(Path::to_owned);
    }
    (git_dir.file_name()? == ".git").then(|| git_dir.parent().map(Path::to_owned))?
}

/// The repository's own config file (`config` in the common dir), read directly: a full
/// configuration load costs more than the rest of the hook. Trusted: no commit writes it.
struct LocalConfig {
    text: String,
}

impl LocalConfig {
    fn read(common_dir: &Path) -> LocalConfig {
        let text = std::fs::read_to_string(common_dir.join("config")).unwrap_or_default();
        LocalConfig { text }
    }

    /// The last value of `key` in `[section]` (both lowercase), quotes and comments aside.
    fn get(&self, section: &str, key: &str) -> Option<&str> {
        let mut in_section = false;
        let mut found = None;
        for line in self.text.lines().map(str::trim) {
            if line.starts_with('[') {
                in_section = line
                    .trim_matches(['[', ']'])
                    .trim()
                    .eq_ignore_ascii_case(section);
                continue;
            }
            let Some((name, value)) = line.split_once('=') else {
                continue;
            };
            if in_section && name.trim().eq_ignore_ascii_case(key) {
                let value = value.split(['#', ';']).next().unwrap_or_default();
                found = Some(value.trim().trim_matches('"'));
            }
        }
        found
    }

    /// `extensions.objectFormat`, SHA-1 without it.
    fn object_format(&self) -> Result<gix::hash::Kind, String> {
        match self.get("extensions", "objectformat") {
            None => Ok(gix::hash::Kind::Sha1),
            Some(value) => match value.to_ascii_lowercase().as_str() {
                "sha1" => Ok(gix::hash::Kind::Sha1),
                "sha256" => Ok(gix::hash::Kind::Sha256),
                other => Err(format!("unknown object format {other:?}")),
            },
        }
    }
}

/// The largest blob the conflict-marker check reads by default. git's own diff treats a file
/// above `core.bigFileThreshold` as binary; ours does the same from 64 MiB, so a blob of zeros
/// that packs to a thousandth of its size cannot take the machine's memory.
pub const BLOB_LIMIT: u64 = 64 << 20;

/// The environment variable that sets the blob limit (bytes, or with git's `k`, `m`, `g`).
pub const BLOB_LIMIT_VAR: &str = "MAINSTAY_BLOB_LIMIT";

/// The blob limit from the environment's value, else git's `core.bigFileThreshold`, else
/// [`BLOB_LIMIT`].
fn blob_limit(env: Option<&str>, threshold: Option<&str>) -> Result<u64, String> {
    if let Some(value) = env.filter(|v| !v.trim().is_empty()) {
        return git_size(value).ok_or_else(|| {
            format!("{BLOB_LIMIT_VAR}={value:?} is not a size (bytes, or with k, m or g)")
        });
    }
    match threshold {
        Some(value) => git_size(value).ok_or_else(|| {
            format!("core.bigFileThreshold = {value:?} is not a size (bytes, or with k, m or g)")
        }),
        None => Ok(BLOB_LIMIT),
    }
}

/// A size as git writes one: a number, with `k`, `m` or `g` (1024-based, either case).
fn git_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&text[..i], c.to_ascii_lowercase()),
        _ => (text, ' '),
    };
    let shift = match unit {
        ' ' => 0,
        'k' => 10,
        'm' => 20,
        'g' => 30,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// Room for the commits and trees of a typical push.
const OBJECT_CACHE_BYTES: usize = 256 * 1024;

fn absolute(base: &Path, path: PathBuf) -> PathBuf {
    if path.is_absolute() {
        path
    } else {
        base.join(path)
    }
}

/// git's `user.name` and `user.email` for this repository, from every configuration source.
pub fn identity(repo: &Repo) -> (Option<String>, Option<String>) {
    let Ok(full) = gix::open(&repo.git_dir) else {
        return (None, None);
    };
    let config = full.config_snapshot();
    let get = |key: &str| config.string(key).map(|v| v.to_string());
    (get("user.name"), get("user.email"))
}

/// Every URL configured for remote `name`: each `remote.<name>.url` and `remote.<name>.pushurl`.
pub fn remote_urls(repo: &Repo, name: &str) -> Vec<String> {
    let Ok(full) = gix::open(&repo.git_dir) else {
        return Vec::new();
    };
    let config = full.config_snapshot();
    ["url", "pushurl"]
        .iter()
        .flat_map(|key| {
            config
                .strings(format!("remote.{name}.{key}").as_str())
                .unwrap_or_default()
        })
        .map(|v| v.to_string())
        .collect()
}

/// Every remote configured, by name, with its URLs (each `url` and `pushurl`).
pub fn remotes(repo: &Repo) -> Vec<(String, Vec<String>)> {
    let Ok(full) = gix::open(&repo.git_dir) else {
        return Vec::new();
    };
    let config = full.config_snapshot();
    let mut names: Vec<String> = config
        .plumbing()
        .sections_by_name("remote")
        .into_iter()
        .flatten()
        .filter_map(|section| section.header().subsection_name().map(|n| n.to_string()))
        .collect();
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            let urls = ["url", "pushurl"]
                .iter()
                .flat_map(|key| {
                    config
                        .strings(format!("remote.{name}.{key}").as_str())
                        .unwrap_or_default()
                })
                .map(|v| v.to_string())
                .collect();
            (name, urls)
        })
        .collect()
}

/// One value of git's configuration, from every source; for the rare paths that need one.
pub fn config_string(repo: &Repo, key: &str) -> Option<String> {
    let full = gix::open(&repo.git_dir).ok()?;
    let config = full.config_snapshot();
    config.string(key).map(|v| v.to_string())
}

pub fn has_object(repo: &Repo, id: ObjectId) -> bool {
    use gix::objs::Exists;
    repo.objects.exists(&id)
}

/// An object's kind and content, in `buf`: from the object database, or, when a partial clone
/// lacks it, from `git cat-file`, which fetches it from the promisor remote.
fn read<'b>(
    repo: &Repo,
    id: ObjectId,
    buf: &'b mut Vec<u8>,
) -> Result<(gix::objs::Kind, &'b [u8]), Error> {
    use gix::objs::{Exists, Find};
    if !repo.objects.exists(&id) {
        let (kind, data) = fetch_missing(repo, id)?;
        *buf = data;
        return Ok((kind, buf));
    }
    let data = repo
        .objects
        .try_find(&id, buf)
        .map_err(|e| object_error(id, e))?
        .ok_or_else(|| object_error(id, "not found"))?;
    Ok((data.kind, data.data))
}

/// `git cat-file` for an object this clone lacks: only partial clones get here.
fn fetch_missing(repo: &Repo, id: ObjectId) -> Result<(gix::objs::Kind, Vec<u8>), Error> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("--git-dir")
            .arg(&repo.git_dir)
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| object_error(id, e))
    };
    let hex = id.to_string();
    let kind = git(&["cat-file", "-t", &hex])?;
    if !kind.status.success() {
        return Err(object_error(id, crate::git::trimmed(&kind.stderr)));
    }
    let kind = String::from_utf8_lossy(&kind.stdout).trim().to_owned();
    let kind = gix::objs::Kind::from_bytes(kind.as_bytes()).map_err(|e| object_error(id, e))?;
    let content = git(&["cat-file", kind.as_bytes().to_str_lossy().as_ref(), &hex])?;
    if !content.status.success() {
        return Err(object_error(id, crate::git::trimmed(&content.stderr)));
    }
    Ok((kind, content.stdout))
}

/// The commit `id` names, through annotated tags; `None` when it names a tree or a blob.
pub fn peel_to_commit(repo: &Repo, mut id: ObjectId) -> Result<Option<ObjectId>, Error> {
    let mut buf = Vec::new();
    for _ in 0..32 {
        let (kind, data) = read(repo, id, &mut buf)?;
        match kind {
            gix::objs::Kind::Commit => return Ok(Some(id)),
            gix::objs::Kind::Tag => {
                id = gix::objs::TagRefIter::from_bytes(data, repo.hash)
                    .target_id()
                    .map_err(|e| object_error(id, e))?;
            }
            _ => return Ok(None),
        }
    }
    Err(object_error(id, "a chain of more than 32 tags"))
}

/// True when `ancestor` is reachable from `descendant` (a fast-forward from one to the other).
pub fn is_ancestor(repo: &Repo, ancestor: ObjectId, descendant: ObjectId) -> bool {
    if ancestor == descendant {
        return true;
    }
    // The common push puts commits straight on top of the remote's: no walk needed.
    let mut buf = Vec::new();
    let parents = read(repo, descendant, &mut buf).map(|(_, data)| {
        gix::objs::CommitRefIter::from_bytes(data, repo.hash)
            .parent_ids()
            .any(|p| p == ancestor)
    });
    if parents.unwrap_or(false) {
        return true;
    }
    // A fast-forward of many commits: walk back from the pushed tip, which reaches the old one
    // after the pushed commits alone. A merge-base search would also walk the old tip's history,
    // which grows with the repository.
    let mut seen = std::collections::HashSet::new();
    let mut queue = std::collections::VecDeque::from([descendant]);
    while let Some(id) = queue.pop_front() {
        if seen.len() >= WALK_LIMIT {
            return merge_base(repo, ancestor, descendant) == Some(ancestor);
        }
        let Ok((_, data)) = read(repo, id, &mut buf) else {
            return merge_base(repo, ancestor, descendant) == Some(ancestor);
        };
        for parent in gix::objs::CommitRefIter::from_bytes(data, repo.hash).parent_ids() {
            if parent == ancestor {
                return true;
            }
            if seen.insert(parent) {
                queue.push_back(parent);
            }
        }
    }
    false
}

/// How many commits the walk back from a pushed tip visits before the exact search takes over.
const WALK_LIMIT: usize = 100_000;

/// The best common ancestor of two commits, if they share history.
pub fn merge_base(repo: &Repo, one: ObjectId, two: ObjectId) -> Option<ObjectId> {
    let mut graph = gix::revwalk::Graph::new(&repo.objects, None);
    gix::revision::plumbing::merge_base(one, &[two], &mut graph)
        .ok()
        .flatten()
        .map(|bases| *bases.first())
}

/// The id a reference points at, through symbolic refs, if the reference exists. Annotated tags
/// are not peeled: this is the id `git rev-parse <name>` prints, and reading no object for it
/// keeps the hook quick.
pub fn resolve_ref(repo: &Repo, name: &str) -> Option<ObjectId> {
    let mut reference = repo.refs.try_find(name).ok()??;
    let packed = repo.refs.cached_packed_buffer().ok()?;
    reference
        .follow_to_object_packed(&repo.refs, packed.as_ref().map(|b| &***b))
        .ok()
}

/// The reference a symbolic reference points at (`refs/remotes/origin/HEAD` ->
/// `refs/remotes/origin/main`); `None` for a plain reference or none.
pub fn symbolic_target(repo: &Repo, name: &str) -> Option<String> {
    let reference = repo.refs.try_find(name).ok()??;
    match reference.target {
        gix::refs::Target::Symbolic(target) => Some(target.as_bstr().to_string()),
        gix::refs::Target::Object(_) => None,
    }
}

/// The plain references under `prefix` (`refs/remotes/origin/`): each name after the prefix,
/// and its id. Symbolic ones (`refs/remotes/origin/HEAD`) are left out.
pub fn refs_under(repo: &Repo, prefix: &str) -> Vec<(String, ObjectId)> {
    let Ok(relative) = <&gix::path::RelativePath>::try_from(prefix) else {
        return Vec::new();
    };
    let Ok(platform) = repo.refs.iter() else {
        return Vec::new();
    };
    let Ok(found) = platform.prefixed(relative) else {
        return Vec::new();
    };
    found
        .filter_map(Result::ok)
        .filter_map(|r| {
            let id = r.target.try_id()?.to_owned();
            let name = r.name.as_bstr().to_str().ok()?.strip_prefix(prefix)?;
            Some((name.to_owned(), id))
        })
        .collect()
}

/// A boolean of this clone's own configuration file (`<common dir>/config`, includes not
/// followed), as [`open`] read it: a full configuration load costs more than the hook.
pub fn local_config_bool(repo: &Repo, key: &str) -> Option<bool> {
    // Most files never name the key: no parse for them.
    let name = key.rsplit('.').next().unwrap_or(key).to_ascii_lowercase();
    if !repo.local.text.to_ascii_lowercase().contains(&name) {
        return None;
    }
    let file = gix::config::File::from_bytes_no_includes(
        repo.local.text.as_bytes(),
        gix::config::file::Metadata::from(gix::config::Source::Local),
        Default::default(),
    )
    .ok()?;
    file.boolean(key).ok().flatten()
}

/// What a push changes between two commits: blobs added or changed, and blobs removed (where a
/// renamed file came from). Symlinks and submodules carry no text of ours and are skipped.
#[derive(Debug, Default)]
pub struct Diff {
    pub changes: Vec<Change>,
    pub removed: Vec<(BString, ObjectId)>,
}

/// The blobs added, changed and removed from commit `old` (or nothing, for `None`) to commit
/// `new`.
pub fn diff(repo: &Repo, old: Option<ObjectId>, new: ObjectId) -> Result<Diff, Error> {
    let old_tree = old.map(|id| tree_of(repo, id)).transpose()?;
    let new_tree = tree_of(repo, new)?;
    let mut diff = Diff::default();
    diff_trees(
        repo,
        old_tree,
        Some(new_tree),
        &mut BString::default(),
        &mut diff,
    )?;
    Ok(diff)
}

/// The raw content of a blob, read into `buf`.
pub fn blob<'b>(repo: &Repo, id: ObjectId, buf: &'b mut Vec<u8>) -> Result<&'b [u8], Error> {
    match read(repo, id, buf)? {
        (gix::objs::Kind::Blob, data) => Ok(data),
        (kind, _) => Err(object_error(id, format!("a {kind}, not a blob"))),
    }
}

/// The content of a blob of at most [`Repo::blob_limit`] bytes, read into `buf`; `None` for a
/// larger one, whose size comes from the object's header: it is never inflated.
pub fn blob_within<'b>(
    repo: &Repo,
    id: ObjectId,
    buf: &'b mut Vec<u8>,
) -> Result<Option<&'b [u8]>, Error> {
    if size(repo, id)? > repo.blob_limit {
        return Ok(None);
    }
    blob(repo, id, buf).map(Some)
}

/// An object's size from its header (a pack entry's, a loose object's first bytes), or from
/// `git cat-file -s` for one a partial clone lacks.
fn size(repo: &Repo, id: ObjectId) -> Result<u64, Error> {
    use gix::objs::{Exists, FindHeader};
    let header = match &repo.objects.quarantine {
        Some(q) if q.exists(&id) => q.try_header(&id),
        _ => repo.objects.main.try_header(&id),
    }
    .map_err(|e| object_error(id, e))?;
    if let Some(header) = header {
        return Ok(header.size);
    }
    let output = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(&repo.git_dir)
        .args(["cat-file", "-s", &id.to_string()])
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| object_error(id, e))?;
    if !output.status.success() {
        return Err(object_error(id, crate::git::trimmed(&output.stderr)));
    }
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|e| object_error(id, e))
}

/// The content of the file `name` at the top of `commit`'s tree, `None` when there is none. It
/// is committed, so untrusted: only a regular file of at most `limit` bytes is read, never a
/// link (whose target would be read by name) nor anything larger.
pub fn top_file(
    repo: &Repo,
    commit: ObjectId,
    name: &str,
    limit: u64,
) -> Result<Option<Vec<u8>>, Error> {
    let tree = tree_of(repo, commit)?;
    let mut buf = Vec::new();
    let (_, data) = read(repo, tree, &mut buf)?;
    let decoded =
        gix::objs::TreeRef::from_bytes(data, repo.hash).map_err(|e| object_error(tree, e))?;
    let Some(entry) = decoded.entries.iter().find(|e| e.filename == name) else {
        return Ok(None);
    };
    let id = entry.oid.to_owned();
    if !entry.mode.is_blob() {
        return Err(object_error(
            id,
            format!("{name} is not a regular file (a link?)"),
        ));
    }
    if size(repo, id)? > limit {
        return Err(object_error(
            id,
            format!("{name} is larger than {limit} bytes"),
        ));
    }
    let mut buf = Vec::new();
    Ok(Some(blob(repo, id, &mut buf)?.to_vec()))
}

fn tree_of(repo: &Repo, commit: ObjectId) -> Result<ObjectId, Error> {
    let mut buf = Vec::new();
    let (_, data) = read(repo, commit, &mut buf)?;
    gix::objs::CommitRefIter::from_bytes(data, repo.hash)
        .tree_id()
        .map_err(|e| object_error(commit, e))
}

/// One tree entry we care about: its kind and id.
enum Entry {
    Tree(ObjectId),
    Blob(ObjectId),
    Other,
}

fn entries(repo: &Repo, tree: ObjectId) -> Result<Vec<(BString, Entry)>, Error> {
    let mut buf = Vec::new();
    let (_, data) = read(repo, tree, &mut buf)?;
    let decoded =
        gix::objs::TreeRef::from_bytes(data, repo.hash).map_err(|e| object_error(tree, e))?;
    Ok(decoded
        .entries
        .iter()
        .map(|e| {
            let kind = if e.mode.is_tree() {
                Entry::Tree(e.oid.to_owned())
            } else if e.mode.is_blob() {
                Entry::Blob(e.oid.to_owned())
            } else {
                Entry::Other
            };
            (e.filename.to_owned(), kind)
        })
        .collect())
}

fn diff_trees(
    repo: &Repo,
    old: Option<ObjectId>,
    new: Option<ObjectId>,
    prefix: &mut BString,
    out: &mut Diff,
) -> Result<(), Error> {
    if old == new {
        return Ok(());
    }
    let before = match old {
        Some(id) => entries(repo, id)?,
        None => Vec::new(),
    };
    let after = match new {
        Some(id) => entries(repo, id)?,
        None => Vec::new(),
    };
    for (name, entry) in &after {
        let previous = before.iter().find(|(n, _)| n == name).map(|(_, e)| e);
        let len = push_name(prefix, name);
        match entry {
            Entry::Tree(id) => {
                let old_tree = match previous {
                    Some(Entry::Tree(old)) => Some(*old),
                    _ => None,
                };
                diff_trees(repo, old_tree, Some(*id), prefix, out)?;
            }
            Entry::Blob(id) => {
                let old_blob = match previous {
                    Some(Entry::Blob(old)) => Some(*old),
                    _ => None,
                };
                if old_blob != Some(*id) {
                    out.changes.push(Change {
                        path: prefix.clone(),
                        old: old_blob,
                        new: *id,
                    });
                }
            }
            Entry::Other => {}
        }
        prefix.truncate(len);
    }
    // What went away: where a renamed file came from.
    for (name, entry) in &before {
        let now = after.iter().find(|(n, _)| n == name).map(|(_, e)| e);
        let len = push_name(prefix, name);
        match (entry, now) {
            (Entry::Blob(id), None | Some(Entry::Tree(_) | Entry::Other)) => {
                out.removed.push((prefix.clone(), *id));
            }
            (Entry::Tree(id), None | Some(Entry::Blob(_) | Entry::Other)) => {
                diff_trees(repo, Some(*id), None, prefix, out)?;
            }
            _ => {}
        }
        prefix.truncate(len);
    }
    Ok(())
}

/// Appends `/name` (or `name`) to `prefix`; returns the length to truncate back to.
fn push_name(prefix: &mut BString, name: &BString) -> usize {
    let len = prefix.len();
    if !prefix.is_empty() {
        prefix.push_byte(b'/');
    }
    prefix.push_str(name);
    len
}

fn object_error(id: ObjectId, e: impl std::fmt::Display) -> Error {
    Error::Object {
        id,
        message: e.to_string(),
    }
}

/// A repository path as text (lossily), for matching globs and asking git about it.
pub fn path_text(path: &BString) -> String {
    path.to_str_lossy().into_owned()
}

/// A repository path for messages: lossily, and without control characters, since a commit
/// names its files (`\x1b[2J.md`).
pub fn display_path(path: &BString) -> String {
    crate::text::printable(&path.to_str_lossy()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_git_reads_them() {
        assert_eq!(git_size("512m"), Some(512 << 20));
        assert_eq!(git_size("1G"), Some(1 << 30));
        assert_eq!(git_size("4096"), Some(4096));
        assert_eq!(git_size("12x"), None);
        assert_eq!(git_size(""), None);
        assert_eq!(blob_limit(None, None), Ok(BLOB_LIMIT));
        assert_eq!(blob_limit(None, Some("1k")), Ok(1024));
        assert_eq!(blob_limit(Some("2k"), Some("1k")), Ok(2048));
        assert!(blob_limit(Some("lots"), None).is_err());
    }

    #[test]
    fn the_local_config_is_read_for_what_the_hook_needs() {
        let local = LocalConfig {
            text: "[core]\n\tbare = false\n\tbigFileThreshold = 1m # small\n\
                   [extensions]\n\tobjectformat = sha256\n"
                .to_owned(),
        };
        assert_eq!(local.get("core", "bigfilethreshold"), Some("1m"));
        assert_eq!(local.object_format(), Ok(gix::hash::Kind::Sha256));
        assert_eq!(local.get("core", "missing"), None);
    }
}
