//! The order of a merged container: every key of either side, placed deterministically.
//!
//! The receiving side's order is the skeleton and the other side's entries go in after the entry
//! they follow on their side, after any receiving-side additions there. So concurrent additions
//! at one place come out receiving side first, whichever of `%A`/`%B` that is, and `git pull`
//! and `git pull --rebase` agree. A side that only edited in place (its keys in base order) does
//! not impose its order, so the other side's reordering survives.

use std::hash::Hash;

use super::Side;
use super::hash::Map;

/// Where one key is in each version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Triple {
    pub(crate) base: Option<usize>,
    pub(crate) ours: Option<usize>,
    pub(crate) theirs: Option<usize>,
}

/// With `newest_on_top`, keys the other side put above every entry both sides have go first: a
/// file that takes new entries at the top has the later (incoming) ones above the earlier.
pub(crate) fn align<K: Hash + Eq>(
    base: &[K],
    ours: &[K],
    theirs: &[K],
    receiving: Side,
    newest_on_top: bool,
) -> Vec<Triple> {
    let (base_at, ours_at, theirs_at) = (by_key(base), by_key(ours), by_key(theirs));
    let (first, second) = match receiving {
        Side::Ours => (ours, theirs),
        Side::Theirs => (theirs, ours),
    };
    let (skeleton, other) = if first == base {
        (second, first)
    } else {
        (first, second)
    };
    let (skeleton_at, other_at) = if std::ptr::eq(skeleton, ours) {
        (&ours_at, &theirs_at)
    } else {
        (&theirs_at, &ours_at)
    };
    // slots[s]: the other side's keys that go just before skeleton[s] (the last: at the end).
    let mut slots: Vec<Vec<&K>> = vec![Vec::new(); skeleton.len() + 1];
    let past_skeleton_only = |mut s: usize| {
        while s < skeleton.len() && !other_at.contains_key(&skeleton[s]) {
            s += 1;
        }
        s
    };
    let mut slot = past_skeleton_only(0);
    if newest_on_top && slot < skeleton.len() {
        slot = 0;
    }
    for key in other {
        match skeleton_at.get(key) {
            Some(&i) => slot = past_skeleton_only(i + 1),
            None => slots[slot].push(key),
        }
    }
    let triple = |key: &K| Triple {
        base: base_at.get(key).copied(),
        ours: ours_at.get(key).copied(),
        theirs: theirs_at.get(key).copied(),
    };
    let mut order = Vec::with_capacity(skeleton.len() + slots.iter().map(Vec::len).sum::<usize>());
    for (s, inserted) in slots.iter().enumerate() {
        order.extend(inserted.iter().map(|k| triple(k)));
        if let Some(key) = skeleton.get(s) {
            order.push(triple(key));
        }
    }
    order
}

fn by_key<K: Hash + Eq>(keys: &[K]) -> Map<&K, usize> {
    keys.iter().enumerate().map(|(i, k)| (k, i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(base: &str, ours: &str, theirs: &str, receiving: Side) -> String {
        let split = |s: &str| s.chars().collect::<Vec<_>>();
        let (b, o, t) = (split(base), split(ours), split(theirs));
        align(&b, &o, &t, receiving, false)
            .iter()
            .map(|tr| match (tr.ours, tr.theirs, tr.base) {
                (Some(i), _, _) => o[i],
                (None, Some(i), _) => t[i],
                (None, None, Some(i)) => b[i],
                (None, None, None) => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn concurrent_additions_put_the_receiving_side_first() {
        assert_eq!(keys("ac", "axc", "ayc", Side::Ours), "axyc");
        assert_eq!(keys("ac", "axc", "ayc", Side::Theirs), "ayxc");
        assert_eq!(keys("a", "axz", "ay", Side::Ours), "axzy");
    }

    #[test]
    fn newest_on_top_puts_the_incoming_additions_above() {
        let split = |s: &str| s.chars().collect::<Vec<_>>();
        let (b, o, t) = (split("ac"), split("xac"), split("yac"));
        let order: String = align(&b, &o, &t, Side::Ours, true)
            .iter()
            .map(|tr| tr.ours.map_or_else(|| t[tr.theirs.unwrap()], |i| o[i]))
            .collect();
        assert_eq!(order, "yxac");
    }

    #[test]
    fn a_reorder_on_one_side_survives_when_the_other_only_edited() {
        assert_eq!(keys("abc", "abc", "cab", Side::Ours), "cab");
        assert_eq!(keys("abc", "cab", "abc", Side::Theirs), "cab");
    }

    #[test]
    fn deleted_keys_keep_their_place_for_conflicts() {
        assert_eq!(keys("abc", "ac", "abc", Side::Ours), "abc");
        assert_eq!(keys("abc", "abc", "ac", Side::Ours), "abc");
    }
}
