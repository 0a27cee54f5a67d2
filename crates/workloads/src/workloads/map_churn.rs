//! The shared core of hashmap-churn and btreemap-churn: inserts and removes
//! with owned `String` keys in a map that stays around half full.
//!
//! Keys are drawn from a fixed key space; key `k` is always the same string
//! (hex of `k` padded to a length in `min_size..=max_size` derived from `k`),
//! so each operation builds a fresh owned `String`, and an insert of a present
//! key or a remove drops one. The checksum adds the values replaced or removed,
//! which only depend on the sequence of operations.

use std::fmt::Write as _;

use crate::{mix64, Checksum, Outcome, Params, Rng};

/// Distinct keys.
const KEY_SPACE: u64 = 50_000;

/// The map operations the churn needs.
pub(crate) trait ChurnMap: Default {
    /// Inserts, returning the value replaced.
    fn insert(&mut self, key: String, value: u64) -> Option<u64>;
    /// Removes, returning the value removed.
    fn remove(&mut self, key: &str) -> Option<u64>;
    /// Entries held.
    fn len(&self) -> usize;
}

/// The owned key string for key number `k`.
fn key(k: u64, p: &Params) -> String {
    let len = p.min_size
        + (mix64(k ^ p.seed) % (p.max_size.saturating_sub(p.min_size) as u64 + 1)) as usize;
    let mut s = String::with_capacity(len.max(16));
    let _ = write!(s, "{k:x}-");
    while s.len() < len {
        s.push(char::from(b'a' + (s.len() % 26) as u8));
    }
    s
}

/// Runs `iterations` random inserts and removes on a map of type `M`.
pub(crate) fn run<M: ChurnMap>(p: &Params) -> Outcome {
    let mut rng = Rng::new(p.seed);
    let mut map = M::default();
    let mut sum = Checksum::new();
    for op in 0..p.iterations {
        let k = rng.below(KEY_SPACE);
        if rng.chance(1, 2) {
            if let Some(old) = map.insert(key(k, p), op) {
                sum.add(old ^ k);
            }
        } else if let Some(old) = map.remove(&key(k, p)) {
            sum.add(old.wrapping_add(k));
        }
    }
    sum.add(map.len() as u64);
    Outcome {
        operations: p.iterations,
        checksum: sum.value(),
    }
}
