//! The record a runner prints for one workload run: the contract between the
//! runner binary and `cargo xtask bench-matrix` (one JSON object per line).

use serde::{Deserialize, Serialize};

/// Counters of the façade's `stats` layer, copied into a [`RunRecord`] when the
/// runner was built with the `stats` feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AllocCounters {
    /// Calls to `alloc` and `alloc_zeroed`.
    pub allocations: u64,
    /// Calls to `dealloc`.
    pub deallocations: u64,
    /// Calls to `realloc`.
    pub reallocations: u64,
    /// Bytes requested and not yet freed when the run ended.
    pub bytes_current: u64,
    /// Highest value `bytes_current` reached during the run.
    pub bytes_peak: u64,
}

/// The parameters one workload run used (after defaults and overrides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    /// Worker threads (1 for single-threaded workloads).
    pub threads: usize,
    /// The workload's unit of repetition (rounds, iterations, documents …).
    pub iterations: u64,
    /// Smallest allocation size in bytes.
    pub min_size: usize,
    /// Largest allocation size in bytes.
    pub max_size: usize,
    /// Seed of the workload's deterministic random numbers.
    pub seed: u64,
}

/// What the runner prints after running one workload once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Workload name, as in the registry.
    pub workload: String,
    /// Backend name, as `allocmux::BACKEND` reports it.
    pub backend: String,
    /// Parameters of the run.
    pub params: Params,
    /// Allocator operations the workload performed (allocations + frees + reallocs it counts).
    pub operations: u64,
    /// Wall time of the measured part, in seconds.
    pub seconds: f64,
    /// `operations / seconds`.
    pub ops_per_sec: f64,
    /// Checksum of the work done; equal across backends for the same parameters.
    pub checksum: u64,
    /// Peak resident set size of the runner process, in bytes.
    pub peak_rss_bytes: u64,
    /// The façade's counting layer, when the runner was built with `stats`.
    pub stats: Option<AllocCounters>,
}
