//! The hasher for the merge's own maps, keyed by entry keys and IDs.
//!
//! The keys come from committed files, so an attacker chooses them: an unseeded hash lets a
//! crafted ledger collide every key and make each merge quadratic, in every clone. foldhash with
//! a random seed per map costs about what the earlier multiply-rotate hash did, and collisions
//! cannot be prepared without seeing the seed. The driver also bounds the time a merge may take
//! (see [`crate::merge_driver`]), for whatever else a crafted file could find.

use std::collections::{HashMap, HashSet};

/// Seeded afresh for every map, from a seed random for each process.
pub(crate) type Build = foldhash::fast::RandomState;
pub(crate) type Map<K, V> = HashMap<K, V, Build>;
pub(crate) type Set<K> = HashSet<K, Build>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn ids_that_differ_in_their_last_digits_spread_over_the_low_bits() {
        let build = Build::default();
        let buckets: Set<u64> = (0..1024)
            .map(|n| build.hash_one(format!("ST-{n:07}")) & 1023)
            .collect();
        assert!(buckets.len() > 550, "{} of 1024 buckets", buckets.len());
    }

    /// The earlier hash, `h = (rotl(h, 5) ^ word) * K`, collided for every seed on pairs like
    /// these: a flip of the top bit of one word, cancelled by bit 4 of the next.
    #[test]
    fn keys_built_to_collide_without_the_seed_do_not() {
        let build = Build::default();
        for word in [0u64, 0x4142_4344_4546_4748, u64::MAX / 3] {
            let a = build.hash_one((word, 7u64));
            let b = build.hash_one((word ^ (1 << 63), 7u64 ^ 16));
            assert_ne!(a, b);
        }
        let (one, two) = (Build::default(), Build::default());
        assert_ne!(
            one.hash_one("ST-001"),
            two.hash_one("ST-001"),
            "seeded per map"
        );
    }
}
