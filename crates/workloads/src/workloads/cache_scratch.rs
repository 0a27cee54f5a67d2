//! cache-scratch: passive false sharing (see [`super::false_sharing`]).

use crate::{Outcome, Params};

/// Runs cache-scratch: workers first free a tiny object the main thread allocated.
pub fn run(p: &Params) -> Outcome {
    super::false_sharing::run(p, true)
}
