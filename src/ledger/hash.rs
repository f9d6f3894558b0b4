//! A fast hasher for the merge's own maps, keyed by entry keys and IDs.
//!
//! std's SipHash resists flooding by chosen keys, which costs a fifth of a large merge. The keys
//! here come from the three files being merged, so the worst a crafted file can do is slow down
//! its own merge; a multiply-rotate hash is enough.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

pub(crate) type Map<K, V> = HashMap<K, V, BuildHasherDefault<Fast>>;
pub(crate) type Set<K> = HashSet<K, BuildHasherDefault<Fast>>;

/// An odd constant with well-spread bits (2^64 divided by the golden ratio).
const K: u64 = 0x9e37_79b9_7f4a_7c15;

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Fast(u64);

impl Fast {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for Fast {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(
                chunk.try_into().expect("chunks of 8 bytes"),
            ));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        // A product's low bits depend only on the input's low bits; hash tables index by them.
        self.0.rotate_left(26)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn ids_that_differ_in_their_last_digits_spread_over_the_low_bits() {
        let build = BuildHasherDefault::<Fast>::default();
        let buckets: Set<u64> = (0..1024)
            .map(|n| build.hash_one(format!("ST-{n:07}")) & 1023)
            .collect();
        assert!(buckets.len() > 550, "{} of 1024 buckets", buckets.len());
    }
}
