//! Reading the repository with gix: ancestry and the files a push changes.

use gix::bstr::{BString, ByteSlice, ByteVec};
use gix::{ObjectId, Repository};

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

/// Opens the repository git is working in (the hook's current directory, or `GIT_DIR`).
pub fn open(dir: &std::path::Path) -> Result<Repository, Error> {
    gix::discover(dir).map_err(|e| Error::Open {
        path: dir.display().to_string(),
        message: e.to_string(),
    })
}

pub fn has_object(repo: &Repository, id: ObjectId) -> bool {
    repo.has_object(id)
}

/// True when `ancestor` is reachable from `descendant` (a fast-forward from one to the other).
pub fn is_ancestor(repo: &Repository, ancestor: ObjectId, descendant: ObjectId) -> bool {
    if ancestor == descendant {
        return true;
    }
    repo.merge_base(ancestor, descendant)
        .is_ok_and(|base| base.is_some_and(|b| b.detach() == ancestor))
}

/// The best common ancestor of two commits, if they share history.
pub fn merge_base(repo: &Repository, one: ObjectId, two: ObjectId) -> Option<ObjectId> {
    repo.merge_base(one, two)
        .ok()
        .flatten()
        .map(|id| id.detach())
}

/// The id a reference points at, peeled to an object, if the reference exists.
pub fn resolve_ref(repo: &Repository, name: &str) -> Option<ObjectId> {
    let mut reference = repo.try_find_reference(name).ok()??;
    reference.peel_to_id().ok().map(|id| id.detach())
}

/// Blobs added or changed from commit `old` (or nothing, for `None`) to commit `new`.
/// Symlinks and submodules carry no text of ours and are skipped.
pub fn changed_files(
    repo: &Repository,
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
pub fn blob(repo: &Repository, id: ObjectId) -> Result<Vec<u8>, Error> {
    let mut blob = repo.find_blob(id).map_err(|e| object_error(id, e))?;
    Ok(blob.take_data())
}

fn tree_of(repo: &Repository, commit: ObjectId) -> Result<ObjectId, Error> {
    let commit = repo
        .find_commit(commit)
        .map_err(|e| object_error(commit, e))?;
    commit
        .tree_id()
        .map(|id| id.detach())
        .map_err(|e| object_error(commit.id, e))
}

/// One tree entry we care about: its kind and id.
enum Entry {
    Tree(ObjectId),
    Blob(ObjectId),
    Other,
}

fn entries(repo: &Repository, tree: ObjectId) -> Result<Vec<(BString, Entry)>, Error> {
    let tree = repo.find_tree(tree).map_err(|e| object_error(tree, e))?;
    let decoded = tree.decode().map_err(|e| object_error(tree.id, e))?;
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
    repo: &Repository,
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
