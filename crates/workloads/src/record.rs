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
    /// Bytes requested in total (allocation sizes and reallocations' new sizes).
    #[serde(default)]
    pub bytes_allocated: u64,
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
    /// Resident memory after the workload freed everything, at each idle time
    /// (the drain phase; see the runner).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rss_after_idle: Vec<IdleRss>,
    /// Resident memory and live requested bytes when the work ended, before
    /// anything was freed (workloads that mark their end: `server-churn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_of_work: Option<EndOfWork>,
    /// Latency of single allocation calls (the `latency` workload).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ns: Option<LatencyReport>,
}

/// Resident memory after `idle_ms` of idling with nothing allocated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdleRss {
    /// Milliseconds since the workload returned.
    pub idle_ms: u64,
    /// Resident bytes (`/proc/self/statm`).
    pub rss_bytes: u64,
    /// Bytes freed with `MADV_FREE` but still counted as resident
    /// (`LazyFree` of `/proc/self/smaps_rollup`): given back, reclaimed by the
    /// kernel only under memory pressure.
    pub lazy_free_bytes: u64,
    /// What the backend itself reports at that moment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<BackendMemory>,
}

/// What the allocator says about its own memory (`allocmux::memory_info`);
/// `None` for what a backend does not expose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BackendMemory {
    /// Bytes handed out to the program.
    pub allocated: Option<u64>,
    /// Bytes in pages the allocator uses (jemalloc `stats.active`).
    pub active: Option<u64>,
    /// Bytes resident in the allocator's own view (jemalloc `stats.resident`, mimalloc's RSS).
    pub resident: Option<u64>,
    /// Bytes mapped from the OS.
    pub mapped: Option<u64>,
    /// Bytes unmapped from use but kept reserved (jemalloc `stats.retained`).
    pub retained: Option<u64>,
    /// Bytes committed (mimalloc).
    pub committed: Option<u64>,
}

/// Resident memory against what the program holds when the work ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndOfWork {
    /// Resident bytes then.
    pub rss_bytes: u64,
    /// Live requested bytes then (the façade's `stats` layer; `None` without it).
    pub live_bytes: Option<u64>,
}

/// Percentiles of single calls, in nanoseconds (timer overhead subtracted).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Calls timed.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Slowest call.
    pub max: f64,
    /// Calls that took longer than 10 µs (page faults, purges, refills).
    pub over_10us: u64,
}

/// Latency of allocation calls, per kind of call.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencyReport {
    /// `alloc`, single thread.
    pub alloc: Percentiles,
    /// `dealloc` of a block the same thread allocated.
    pub free: Percentiles,
    /// `dealloc` of a block another thread allocated (when run with 2+ threads).
    pub remote_free: Option<Percentiles>,
    /// The least an empty timed region costs, subtracted from every call.
    pub timer_overhead_ns: f64,
}
