//! The shared core of cache-scratch and cache-thrash (Berger et al., Hoard,
//! ASPLOS 2000; mimalloc-bench's `cache-scratch|cache-thrash 2 1000 1 2000000 2`).
//!
//! What the originals do: each of T threads 1,000 times allocates a 1-byte
//! object, writes every byte of it and reads it back into a `volatile` local
//! 2,000,000 / T times, and frees it. An allocator that places objects of
//! different threads in one cache line makes the writes bounce that line
//! between cores (active false sharing, cache-thrash). In cache-scratch the
//! main thread first allocates one object per thread back to back and each
//! thread frees its own before starting, so an allocator that reuses a freed
//! block for the freeing thread inherits the shared line (passive false sharing).
//!
//! Here: the same. `iterations` = objects per thread (the original's 1,000);
//! each is written [`WRITES`] / `threads` times; object size `min_size`
//! (1 B by default).
//!
//! Changed from our previous version: `iterations` counted objects over all
//! threads and each object of 8 B was written 1,000 times (the original writes
//! a 1-byte object 1,000,000 times at 2 threads and allocates only 1,000
//! objects per thread: the time is the writes, not the allocator calls).
//!
//! The compiled originals do less than their source says: the object is written
//! through a plain pointer and read back into a `volatile` local, so gcc (`-O2`)
//! keeps only the stores and loads of that stack byte and elides the allocation
//! itself; under every allocator they take the same time (docs/results/originals.md).
//! Ours keeps what the programs were written to measure: the object is written and
//! read with volatile accesses.
//!
//! Changed in this round: the write loop is padded to a 64-byte boundary in every
//! runner (see [`hammer`]); before, its placement in each backend's binary decided
//! the row's ranking.
//!
//! Operations counted: every allocation and free.

use std::ptr;
use std::thread;

use super::{filled, join_sums};
use crate::{Checksum, Outcome, Params};

/// Writes per object summed over all threads (the original's `repetitions`).
pub const WRITES: u64 = 2_000_000;

/// Writes and reads back every byte of `obj`, `times` times.
///
/// The loop is the whole time of the workload and the same code in every
/// backend's runner, so it must also sit at the same place relative to the
/// CPU's 64-byte fetch blocks in each binary: where the linker happened to put
/// it made mimalloc's runner 1.6–1.8× the system allocator's on this row with
/// one thread, and both tie once the loop is aligned (docs/results/originals.md).
/// The function pads itself to a 64-byte boundary before its loop.
#[inline(never)]
fn hammer(obj: &mut [u8], times: u64) -> u64 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the directive only emits no-op padding up to a 64-byte boundary; it
    // reads and writes no register, memory, flag or stack slot.
    unsafe {
        std::arch::asm!(".p2align 6", options(nomem, nostack, preserves_flags));
    }
    let base = obj.as_mut_ptr();
    let mut seen = 0u64;
    for _ in 0..times {
        for k in 0..obj.len() {
            // SAFETY: `k < obj.len()`, so `base + k` is in bounds of `obj`.
            unsafe {
                ptr::write_volatile(base.add(k), k as u8);
                seen = seen.wrapping_add(u64::from(ptr::read_volatile(base.add(k))));
            }
        }
    }
    seen
}

/// Runs the false-sharing pattern; `scratch` selects the passive variant.
pub(crate) fn run(p: &Params, scratch: bool) -> Outcome {
    let threads = p.threads.max(1);
    let size = p.min_size.max(1);
    let times = (WRITES / threads as u64).max(1);
    // Allocated back to back by this thread: neighbours in memory.
    let mut handed: Vec<Option<Box<[u8]>>> = (0..threads)
        .map(|_| scratch.then(|| filled(size, 0)))
        .collect();
    let sum = thread::scope(|s| {
        let workers: Vec<_> = handed
            .iter_mut()
            .map(|slot| {
                let first = slot.take();
                s.spawn(move || {
                    drop(first); // a free of the main thread's object (scratch only)
                    let mut sum = Checksum::new();
                    for _ in 0..p.iterations {
                        let mut obj = filled(size, 0);
                        let seen = hammer(&mut obj, times);
                        sum.add(((size as u64) << 40) ^ seen);
                    }
                    sum
                })
            })
            .collect();
        join_sums(workers)
    });
    let objects = threads as u64 * p.iterations + if scratch { threads as u64 } else { 0 };
    Outcome {
        operations: 2 * objects,
        checksum: sum.value(),
    }
}
