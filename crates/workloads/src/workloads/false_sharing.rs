//! The shared core of cache-scratch and cache-thrash (Berger et al., Hoard, ASPLOS 2000).
//!
//! Each worker repeatedly allocates a tiny object, writes every byte of it many
//! times, and frees it. An allocator that places objects of different threads
//! in one cache line makes those writes bounce the line between cores.
//! In the "scratch" variant the main thread first allocates one tiny object per
//! worker (adjacent in memory) and each worker frees its own at start, so an
//! allocator that reuses a freed block locally inherits the shared line.
//!
//! `iterations` = objects in total (object `i` is written by worker
//! `i % threads`, so the checksum does not depend on `threads`); object sizes
//! in `min_size..=max_size`.

use std::hint::black_box;
use std::thread;

use super::join_sums;
use crate::{Checksum, Outcome, Params, Rng};

/// Passes of writes over each object.
const WRITES: usize = 1000;

/// Runs the false-sharing pattern; `scratch` selects the passive variant.
pub(crate) fn run(p: &Params, scratch: bool) -> Outcome {
    let threads = p.threads.max(1);
    let mut handed: Vec<Option<Box<[u8]>>> = (0..threads)
        .map(|_| scratch.then(|| vec![1u8; p.min_size.max(1)].into_boxed_slice()))
        .collect();
    let sum = thread::scope(|s| {
        let workers: Vec<_> = handed
            .iter_mut()
            .enumerate()
            .map(|(t, slot)| {
                let first = slot.take();
                s.spawn(move || {
                    drop(first); // a free of the main thread's object (scratch only)
                    let mut sum = Checksum::new();
                    for i in (t as u64..p.iterations).step_by(threads) {
                        let size =
                            Rng::stream(p.seed, i).range(p.min_size.max(1), p.max_size.max(1));
                        let mut obj = vec![1u8; size].into_boxed_slice();
                        for _ in 0..WRITES {
                            for b in obj.iter_mut() {
                                *b = b.wrapping_add(1);
                            }
                            black_box(&mut obj);
                        }
                        let total: u64 = obj.iter().map(|&b| u64::from(b)).sum();
                        sum.add(((size as u64) << 32) | total);
                    }
                    sum
                })
            })
            .collect();
        join_sums(workers)
    });
    let objects = p.iterations + if scratch { threads as u64 } else { 0 };
    Outcome {
        operations: 2 * objects,
        checksum: sum.value(),
    }
}
