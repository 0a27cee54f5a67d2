//! glibc-thread: glibc's `bench-malloc-thread` (mimalloc-bench's `glibc-thread 2`).
//!
//! What the original does: 8,000 block sizes drawn once from an inverse-square
//! distribution on 4..32768 B (median 8 B, mean ≈ 39 B, 94 % ≤ 64 B) and 4,096
//! slot indices in 0..1024. Each thread has its own 1,024-slot working set,
//! empty at the start; one iteration frees the slot at the next index and
//! allocates a block of the next size into it, writing every byte. All threads
//! walk the same two cyclic sequences. It runs for 2 s and counts iterations;
//! threads never free each other's blocks.
//!
//! Here: the same tables (drawn from the seed), working sets and writes.
//! `iterations` = replacements in total, split evenly over `threads` threads
//! (each starting the sequences at the beginning); sizes in
//! `min_size..=max_size` (4..=32768).
//!
//! Changed from our previous version: sizes had each doubling half as frequent
//! (mean ≈ 260 B; the original's inverse square gives ≈ 39 B), the working set
//! started full, slots were picked by a fresh random number instead of fixed
//! cyclic tables shared by all threads, and only one byte per page was written.
//!
//! Operations counted: every allocation and free (the original counts
//! iterations, one free and one allocation each, but the first 1,024 frees of
//! empty slots are no-ops here and not counted).

use std::thread;

use super::{counted, join, share};
use crate::{Checksum, Outcome, Params, Rng};

/// Blocks in each thread's working set.
const WORKING_SET: usize = 1024;
/// Entries of the size table.
const SIZES: usize = 8000;
/// Entries of the slot-index table.
const OFFSETS: usize = 4 * WORKING_SET;

/// A size with density proportional to 1/size² on `min..=max`.
fn inverse_square(rng: &mut Rng, min: usize, max: usize) -> usize {
    let r = rng.next_u64() as f64 / u64::MAX as f64;
    let (a, b) = (1.0 / min as f64, 1.0 / max as f64);
    let size = 1.0 / (a - r * (a - b));
    (size as usize).clamp(min, max)
}

/// Runs glibc-thread.
pub fn run(p: &Params) -> Outcome {
    let threads = p.threads.max(1);
    let mut rng = Rng::new(p.seed);
    let (min, max) = (p.min_size.max(1), p.max_size.max(p.min_size.max(1)));
    let sizes: Vec<usize> = (0..SIZES)
        .map(|_| inverse_square(&mut rng, min, max))
        .collect();
    let offsets: Vec<usize> = (0..OFFSETS).map(|_| rng.index(WORKING_SET)).collect();
    let (sizes, offsets) = (&sizes, &offsets);
    let (sum, allocs, frees) = thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut set: Vec<Option<Box<[u8]>>> = Vec::with_capacity(WORKING_SET);
                    set.resize_with(WORKING_SET, || None);
                    let mut sum = Checksum::new();
                    let (mut size_at, mut slot_at, mut frees) = (0, 0, 0u64);
                    let n = share(p.iterations, threads, t);
                    for _ in 0..n {
                        let slot = &mut set[offsets[slot_at]];
                        let size = sizes[size_at];
                        frees += u64::from(slot.take().is_some());
                        *slot = Some(counted(size));
                        sum.add(size as u64);
                        slot_at = (slot_at + 1) % OFFSETS;
                        size_at = (size_at + 1) % SIZES;
                    }
                    frees += set.iter().filter(|b| b.is_some()).count() as u64;
                    (sum, n, frees)
                })
            })
            .collect();
        let mut total = (Checksum::new(), 0, 0);
        for w in workers {
            let (s, a, f) = join(w);
            total.0.merge(s);
            total.1 += a;
            total.2 += f;
        }
        total
    });
    Outcome {
        operations: allocs + frees,
        checksum: sum.value(),
    }
}
