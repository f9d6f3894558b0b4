//! The git objects `mainstay push` makes and compares without touching the work tree: a change
//! merged onto another commit (git's own three-way merge, no hook, attributes from a commit of
//! the caller's choosing), and a commit made again on a new parent, as it was but for its
//! signature.

use std::time::Duration;

use crate::git::{self, Git};

/// The tree of `theirs`'s change (from `base`) merged onto `ours`, when it merges cleanly: git's
/// own three-way merge, with the merge drivers the lander's attributes name, and no hook.
pub(super) fn merge(
    git: &Git,
    base: &str,
    ours: &str,
    theirs: &str,
    attributes_from: &str,
    left: Duration,
) -> Result<Option<String>, git::Error> {
    let budget = left.min(crate::ledger::BUDGET);
    let budget = format!("{}ms", budget.as_millis().max(1));
    let attr = format!("--attr-source={attributes_from}");
    let merge_base = format!("--merge-base={base}");
    let output = git.output_with(
        [
            attr.as_str(),
            "-c",
            // No hook of the repository's runs while the carry is made.
            "core.hooksPath=/dev/null",
            "merge-tree",
            "--write-tree",
            "--no-messages",
            &merge_base,
            ours,
            theirs,
        ],
        &[(crate::ledger::BUDGET_VAR, &budget)],
    )?;
    if !output.status.success() {
        return Ok(None);
    }
    let said = String::from_utf8_lossy(&output.stdout);
    Ok(said.lines().next().map(str::to_owned))
}

/// `commit` as it was (author, committer, encoding, message), on `tree` with `parent`; with no
/// signature, as the original's does not hold for a new parent.
pub(super) fn recommit(
    git: &Git,
    commit: &str,
    tree: &str,
    parent: &str,
) -> Result<String, git::Error> {
    let raw = git.bytes(["cat-file", "commit", commit])?;
    let object = rewritten(&raw, tree, parent);
    git.run_with_input(["hash-object", "-t", "commit", "-w", "--stdin"], &object)
}

/// A raw commit object with its tree and parents replaced and any signature left out.
fn rewritten(raw: &[u8], tree: &str, parent: &str) -> Vec<u8> {
    let split = raw
        .windows(2)
        .position(|w| w == b"\n\n")
        .map_or(raw.len(), |at| at + 1);
    let (headers, message) = raw.split_at(split);
    let mut out = Vec::with_capacity(raw.len());
    out.extend_from_slice(format!("tree {tree}\nparent {parent}\n").as_bytes());
    let mut skipping = false;
    for line in headers.split_inclusive(|b| *b == b'\n') {
        // A header's continuation lines start with a space.
        if line.starts_with(b" ") {
            if !skipping {
                out.extend_from_slice(line);
            }
            continue;
        }
        let key = line.split(|b| *b == b' ').next().unwrap_or_default();
        skipping = matches!(key, b"tree" | b"parent" | b"gpgsig" | b"gpgsig-sha256");
        if !skipping {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(message);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewritten_commit_keeps_who_and_what_and_drops_the_signature() {
        let raw = b"tree aaaa\nparent bbbb\nauthor A <a@x> 1 +0000\ncommitter C <c@x> 2 +0000\n\
gpgsig -----BEGIN PGP SIGNATURE-----\n \n line\n -----END PGP SIGNATURE-----\nencoding latin1\n\
\nsubject\n\nbody\n";
        let out = rewritten(raw, "tttt", "pppp");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "tree tttt\nparent pppp\nauthor A <a@x> 1 +0000\ncommitter C <c@x> 2 +0000\n\
encoding latin1\n\nsubject\n\nbody\n"
        );
    }
}
