//! hashmap-churn: `HashMap<String, u64>` inserts and removes (shared core: `map_churn.rs`).
//!
//! The map uses SipHash with fixed keys (`DefaultHasher::new()`), not the
//! per-process random `RandomState`, so the table layout, and hence the
//! allocation sequence, is the same in every run.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use super::map_churn::{self, ChurnMap};
use crate::{Outcome, Params};

/// The map under test.
type Map = HashMap<String, u64, BuildHasherDefault<DefaultHasher>>;

impl ChurnMap for Map {
    fn insert(&mut self, key: String, value: u64) -> Option<u64> {
        HashMap::insert(self, key, value)
    }
    fn remove(&mut self, key: &str) -> Option<u64> {
        HashMap::remove(self, key)
    }
    fn len(&self) -> usize {
        HashMap::len(self)
    }
}

/// Runs hashmap-churn; `iterations` = map operations.
pub fn run(p: &Params) -> Outcome {
    map_churn::run::<Map>(p)
}
