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

/// A heap buffer of exactly `size` bytes, allocated uninitialised (as `malloc`
/// would) and then filled with `byte`, as a program's `memset` after `malloc`.
pub(crate) fn filled(size: usize, byte: u8) -> Box<[u8]> {
    let mut v: Vec<u8> = Vec::with_capacity(size);
    // Keep allocation and fill apart: the optimiser must not merge an
    // allocation followed by a zero fill into one zeroed allocation.
    std::hint::black_box(&mut v);
    // SAFETY: `with_capacity(size)` allocated at least `size` bytes, all of
    // which are written before the length is set.
    unsafe {
        std::ptr::write_bytes(v.as_mut_ptr(), byte, size);
        v.set_len(size);
    }
    v.into_boxed_slice() // capacity == length: no reallocation
}

/// A heap buffer of exactly `size` bytes in which byte `i` is written as `i as u8`
/// (the "write every byte" loop of the glibc benchmarks).
pub(crate) fn counted(size: usize) -> Box<[u8]> {
    let mut v: Vec<u8> = Vec::with_capacity(size);
    v.extend((0..size).map(|i| i as u8));
    v.into_boxed_slice() // capacity == length: no reallocation
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
