//! cache-scratch: passive false sharing, mimalloc-bench's `cache-scratch 2 1000 1 2000000 2`.
//!
//! The original, our changes and what `iterations` counts are described in
//! `false_sharing.rs`, the core it shares with cache-thrash; this variant adds
//! the 1-byte objects the main thread allocates and each worker frees first.

use crate::{Outcome, Params};

/// Runs cache-scratch: workers first free a tiny object the main thread allocated.
pub fn run(p: &Params) -> Outcome {
    super::false_sharing::run(p, true)
}
