//! cache-thrash: active false sharing, mimalloc-bench's `cache-thrash 2 1000 1 2000000 2`.
//!
//! The original, our changes and what `iterations` counts are described in
//! `false_sharing.rs`, the core it shares with cache-scratch.

use crate::{Outcome, Params};

/// Runs cache-thrash: workers allocate and write their own tiny objects.
pub fn run(p: &Params) -> Outcome {
    super::false_sharing::run(p, false)
}
