//! btreemap-churn: `BTreeMap<String, u64>` inserts and removes (shared core: `map_churn.rs`).

use std::collections::BTreeMap;

use super::map_churn::{self, ChurnMap};
use crate::{Outcome, Params};

/// The map under test.
type Map = BTreeMap<String, u64>;

impl ChurnMap for Map {
    fn insert(&mut self, key: String, value: u64) -> Option<u64> {
        BTreeMap::insert(self, key, value)
    }
    fn remove(&mut self, key: &str) -> Option<u64> {
        BTreeMap::remove(self, key)
    }
    fn len(&self) -> usize {
        BTreeMap::len(self)
    }
}

/// Runs btreemap-churn; `iterations` = map operations.
pub fn run(p: &Params) -> Outcome {
    map_churn::run::<Map>(p)
}
