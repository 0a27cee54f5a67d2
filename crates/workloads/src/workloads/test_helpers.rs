//! Hidden workloads for testing the matrix driver: one that crashes and one that hangs.

use crate::{Outcome, Params};

/// Aborts the process (as an allocator bug would), to test crash handling.
pub fn crash(_: &Params) -> Outcome {
    std::process::abort()
}

/// Sleeps forever, to test the driver's timeout.
pub fn hang(_: &Params) -> Outcome {
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
