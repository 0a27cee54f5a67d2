//! glibc-simple: glibc's `bench-malloc-simple` (as modified in mimalloc-bench).
//!
//! What the original does: for block sizes 16, 32 and 64 B in turn, and for
//! n in 25, 100, 400 and 1600: 2,000,000 / n rounds of allocating n blocks
//! (writing every byte), freeing the first half in allocation order (FIFO)
//! and the second half in reverse order (LIFO). Each (size, n) is run as a
//! warm-up, then in the main thread, then in one freshly created helper thread,
//! then in the main thread again. At most 1,600 blocks (≤ 100 KB) are live.
//!
//! Here: the same, with the helper thread. `iterations` = blocks allocated per
//! (phase, size, n) (the original's 2,000,000; each n does `iterations / n`
//! rounds); sizes `min_size`, 2 × and 4 × `min_size` up to `max_size`
//! (16, 32, 64 B). There is no randomness: the seed does not matter.
//!
//! Changed from our previous version: it used n ∈ {4, …, 1600} with the same
//! number of rounds for every n, freed all blocks in order, wrote only the
//! first and last byte, and had no helper-thread phase.
//!
//! Operations counted: every allocation and free (the pointer array included).

use std::thread;

use super::{counted, join};
use crate::{Checksum, Outcome, Params};

/// Blocks live at once in each sub-run.
const COUNTS: [usize; 4] = [25, 100, 400, 1600];
/// Phases per size: warm-up, main thread, helper thread, main thread.
const PHASES: usize = 4;
/// The phase that runs in a helper thread.
const HELPER_PHASE: usize = 2;

/// One phase: every n of `COUNTS` with blocks of `size` bytes.
fn phase(arr: &mut Vec<Box<[u8]>>, size: usize, per_count: u64) -> (Checksum, u64) {
    let mut sum = Checksum::new();
    let mut allocs = 0;
    for &n in &COUNTS {
        let rounds = per_count / n as u64;
        let mut seen = 0u64;
        for _ in 0..rounds {
            for _ in 0..n {
                arr.push(counted(size));
            }
            seen = seen.wrapping_add(u64::from(arr[n - 1][size - 1]));
            // FIFO half: free in allocation order (an empty box is no allocation).
            for b in &mut arr[..n / 2] {
                drop(std::mem::take(b));
            }
            // LIFO half: free from the last allocated down.
            while arr.len() > n / 2 {
                arr.pop();
            }
            arr.clear();
        }
        allocs += rounds * n as u64;
        sum.add(((size as u64) << 48) ^ ((n as u64) << 32) ^ rounds ^ (seen << 8));
    }
    (sum, allocs)
}

/// Runs glibc-simple.
pub fn run(p: &Params) -> Outcome {
    let mut sum = Checksum::new();
    let mut allocs = 0u64;
    let mut size = p.min_size.max(1);
    while size <= p.max_size.max(1) {
        let mut arr: Vec<Box<[u8]>> = Vec::with_capacity(COUNTS[COUNTS.len() - 1]);
        allocs += 1;
        for ph in 0..PHASES {
            let (s, a) = if ph == HELPER_PHASE {
                let arr = &mut arr;
                thread::scope(|s| join(s.spawn(move || phase(arr, size, p.iterations))))
            } else {
                phase(&mut arr, size, p.iterations)
            };
            sum.merge(s);
            allocs += a;
        }
        size *= 2;
    }
    Outcome {
        operations: 2 * allocs,
        checksum: sum.value(),
    }
}
