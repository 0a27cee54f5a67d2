//! cache-scratch: passive false sharing (shared core: `false_sharing.rs`).

use crate::{Outcome, Params};

/// Runs cache-scratch: workers first free a tiny object the main thread allocated.
pub fn run(p: &Params) -> Outcome {
    super::false_sharing::run(p, true)
}
