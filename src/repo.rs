//! Reading the repository with gix: ancestry and the files a push changes.
//!
//! `pre-push` runs on every push, so the repository is opened light: its object database and
//! references, found the way git finds them (the `.git` dir or file above the hook's directory,
//! `commondir` for a linked worktree). A full gix open also loads and merges every configuration
//! source, which the hook does not need; the configuration is read only in the rare case that
//! needs it ([`identity`]).

use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::bstr::{BString, ByteSlice, ByteVec};
use gix::objs::FindExt;
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
    objects: gix::odb::Handle,
    refs: gix::refs::file::Store,
    git_dir: PathBuf,
    common_dir: PathBuf,
    workdir: Option<PathBuf>,
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
}

/// Opens the repository git is working in: the hook's current directory or the nearest one above.
pub fn open(dir: &Path) -> Result<Repo, Error> {
    let fail = |message: String| Error::Open {
        path: dir.display().to_string(),
        message,
    };
    let (path, _trust) = gix::discover::upwards(dir).map_err(|e| fail(e.to_string()))?;
    let (git_dir, workdir) = path.into_repository_and_work_tree_directories();
    let git_dir = absolute(dir, git_dir);
    let linked = gix::discover::path::from_plain_file(&git_dir.join("commondir"))
        .transpose()
        .map_err(|e| fail(e.to_string()))?;
    let common_dir = linked.map(|common| absolute(&git_dir, common));
    let refs = match &common_dir {
        Some(common) => gix::refs::file::Store::for_linked_worktree(
            git_dir.clone(),
            common.clone(),
            gix::hash::Kind::Sha1,
        ),
        None => gix::refs::file::Store::at(git_dir.clone(), gix::hash::Kind::Sha1),
    };
    let common_dir = common_dir.unwrap_or_else(|| git_dir.clone());
    let mut objects = gix::odb::at(common_dir.join("objects"), gix::hash::Kind::Sha1)
        .map_err(|e| fail(e.to_string()))?;
    // The checks read the pushed commits more than once (ancestry, then their trees): decode each
    // once.
    objects.set_object_cache(|| {
        Box::new(gix::odb::pack::cache::object::MemoryCappedHashmap::new(
            OBJECT_CACHE_BYTES,
        ))
    });
    Ok(Repo {
        objects,
        refs,
        git_dir,
        common_dir,
        workdir: workdir.map(|w| absolute(dir, w)),
    })
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

pub fn has_object(repo: &Repo, id: ObjectId) -> bool {
    use gix::objs::Exists;
    repo.objects.exists(&id)
}

/// True when `ancestor` is reachable from `descendant` (a fast-forward from one to the other).
pub fn is_ancestor(repo: &Repo, ancestor: ObjectId, descendant: ObjectId) -> bool {
    if ancestor == descendant {
        return true;
    }
    // The common push puts commits straight on top of the remote's: no walk needed.
    let mut buf = Vec::new();
    let parents = repo
        .objects
        .find_commit_iter(&descendant, &mut buf)
        .map(|commit| commit.parent_ids().any(|p| p == ancestor));
    if parents.unwrap_or(false) {
        return true;
    }
    merge_base(repo, ancestor, descendant) == Some(ancestor)
}

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

/// Blobs added or changed from commit `old` (or nothing, for `None`) to commit `new`.
/// Symlinks and submodules carry no text of ours and are skipped.
pub fn changed_files(
    repo: &Repo,
    old: Option<ObjectId>,
    new: ObjectId,
) -> Result<Vec<Change>, Error> {
    let old_tree = old.map(|id| tree_of(repo, id)).transpose()?;
    let new_tree = tree_of(repo, new)?;
    let mut changes = Vec::new();
    diff_trees(
        repo,
        old_tree,
        new_tree,
        &mut BString::default(),
        &mut changes,
    )?;
    Ok(changes)
}

/// The raw content of a blob.
pub fn blob(repo: &Repo, id: ObjectId) -> Result<Vec<u8>, Error> {
    let mut buf = Vec::new();
    repo.objects
        .find_blob(&id, &mut buf)
        .map_err(|e| object_error(id, e))?;
    Ok(buf)
}

fn tree_of(repo: &Repo, commit: ObjectId) -> Result<ObjectId, Error> {
    let mut buf = Vec::new();
    let mut iter = repo
        .objects
        .find_commit_iter(&commit, &mut buf)
        .map_err(|e| object_error(commit, e))?;
    iter.tree_id().map_err(|e| object_error(commit, e))
}

/// One tree entry we care about: its kind and id.
enum Entry {
    Tree(ObjectId),
    Blob(ObjectId),
    Other,
}

fn entries(repo: &Repo, tree: ObjectId) -> Result<Vec<(BString, Entry)>, Error> {
    let mut buf = Vec::new();
    let decoded = repo
        .objects
        .find_tree(&tree, &mut buf)
        .map_err(|e| object_error(tree, e))?;
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
    new: ObjectId,
    prefix: &mut BString,
    out: &mut Vec<Change>,
) -> Result<(), Error> {
    if old == Some(new) {
        return Ok(());
    }
    let before = match old {
        Some(id) => entries(repo, id)?,
        None => Vec::new(),
    };
    for (name, entry) in entries(repo, new)? {
        let previous = before.iter().find(|(n, _)| *n == name).map(|(_, e)| e);
        let len = prefix.len();
        if !prefix.is_empty() {
            prefix.push_byte(b'/');
        }
        prefix.push_str(&name);
        match entry {
            Entry::Tree(id) => {
                let old_tree = match previous {
                    Some(Entry::Tree(old)) => Some(*old),
                    _ => None,
                };
                diff_trees(repo, old_tree, id, prefix, out)?;
            }
            Entry::Blob(id) => {
                let old_blob = match previous {
                    Some(Entry::Blob(old)) => Some(*old),
                    _ => None,
                };
                if old_blob != Some(id) {
                    out.push(Change {
                        path: prefix.clone(),
                        old: old_blob,
                        new: id,
                    });
                }
            }
            Entry::Other => {}
        }
        prefix.truncate(len);
    }
    Ok(())
}

fn object_error(id: ObjectId, e: impl std::fmt::Display) -> Error {
    Error::Object {
        id,
        message: e.to_string(),
    }
}

/// Displays a repository path lossily, for messages.
pub fn display_path(path: &BString) -> String {
    path.to_str_lossy().into_owned()
}
