//! cache-thrash: active false sharing (shared core: `false_sharing.rs`).

use crate::{Outcome, Params};

/// Runs cache-thrash: workers allocate and write their own tiny objects.
pub fn run(p: &Params) -> Outcome {
    super::false_sharing::run(p, false)
}
