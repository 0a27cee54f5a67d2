//! Runs a workload once and measures it: the one place that turns a
//! [`Workload`] and its [`Params`] into a [`RunRecord`], used by the runner
//! and by teams' own benchmark binaries.

use std::time::Instant;

use crate::record::{Params, RunRecord};
use crate::registry::{Outcome, Workload};
use crate::rss::peak_rss_bytes;

/// Runs `workload` once with `params` and returns its record. Only the
/// workload itself is timed; peak RSS is the whole process's. `backend` names
/// the allocator in the record (pass `allocmux::BACKEND`); `stats` is left
/// empty for the caller to fill.
pub fn measure(workload: &Workload, params: Params, backend: &str) -> RunRecord {
    let start = Instant::now();
    let outcome = run_workload(workload, &params);
    let seconds = start.elapsed().as_secs_f64();
    RunRecord {
        workload: workload.name.to_owned(),
        backend: backend.to_owned(),
        params,
        operations: outcome.operations,
        seconds,
        ops_per_sec: if seconds > 0.0 {
            outcome.operations as f64 / seconds
        } else {
            0.0
        },
        checksum: outcome.checksum,
        peak_rss_bytes: peak_rss_bytes(),
        stats: None,
        rss_after_idle: Vec::new(),
        end_of_work: crate::extras::take_end_of_work(),
        latency_ns: crate::extras::take_latency(),
    }
}

/// Runs the workload itself: nothing else happens inside this function, so
/// `cargo xtask bench-gate` counts only its instructions (callgrind's
/// `--toggle-collect=*run_workload*`), leaving out start-up, clock reads and
/// printing, which vary from run to run. Never inlined, to keep the symbol.
#[inline(never)]
pub fn run_workload(workload: &Workload, params: &Params) -> Outcome {
    (workload.run)(params)
}
