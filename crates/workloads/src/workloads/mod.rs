//! One module per workload, each a plain `run(&Params) -> Outcome` function.
//!
//! Conventions shared by all of them: fixed work (iteration counts, never a
//! duration), random choices from [`crate::Rng`] streams derived from
//! `params.seed`, and a checksum built only from deterministic values with
//! [`crate::Checksum`], so it is identical across allocators and schedules.

pub mod alloc_test;
pub mod arc_channel;
pub mod btreemap_churn;
pub mod cache_scratch;
pub mod cache_thrash;
mod false_sharing;
pub mod glibc_simple;
pub mod glibc_thread;
pub mod hashmap_churn;
pub mod json_roundtrip;
pub mod larson;
pub mod latency;
pub mod malloc_large;
mod map_churn;
pub mod mstress;
pub mod rptest;
pub mod server_churn;
pub mod string_build;
pub mod test_helpers;
pub mod vec_grow;
pub mod xmalloc;

/// The share of `total` work items that worker `t` of `threads` does
/// (items `t`, `t + threads`, … of a global numbering).
pub(crate) fn share(total: u64, threads: usize, t: usize) -> u64 {
    let threads = threads as u64;
    let t = t as u64;
    total / threads + u64::from(t < total % threads)
}

/// Joins a scoped thread, re-raising its panic in the caller.
pub(crate) fn join<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    match h.join() {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e),
    }
}

/// Joins every thread and merges the checksums they return (order-independent).
pub(crate) fn join_sums(
    handles: Vec<std::thread::ScopedJoinHandle<'_, crate::Checksum>>,
) -> crate::Checksum {
    let mut sum = crate::Checksum::new();
    for h in handles {
        sum.merge(join(h));
    }
    sum
}
