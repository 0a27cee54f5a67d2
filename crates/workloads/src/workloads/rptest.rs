//! rptest: a realistic mixed distribution with cross-thread frees (rpmalloc's benchmark).
//!
//! Each iteration every worker allocates a batch of blocks whose sizes fall
//! linearly in frequency from `min_size` to `max_size`, touches them, replaces
//! random blocks of the batch, and frees the batch. Every second iteration the
//! batch is handed to the neighbour worker, which frees it (remote frees).
//!
//! `iterations` = iterations per worker; `threads` workers.

use std::sync::{Barrier, Mutex};
use std::thread;

use super::join_sums;
use crate::{Block, Checksum, Outcome, Params, Rng};

/// Blocks allocated per batch.
const BATCH: usize = 1000;
/// Random replacements within a batch per iteration.
const REPLACEMENTS: usize = 2000;

/// Runs rptest.
pub fn run(p: &Params) -> Outcome {
    let threads = p.threads.max(1);
    let handoff: Vec<Mutex<Vec<Block>>> = (0..threads).map(|_| Mutex::new(Vec::new())).collect();
    let barrier = Barrier::new(threads);
    let sum = thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (handoff, barrier) = (&handoff, &barrier);
                s.spawn(move || {
                    let mut rng = Rng::stream(p.seed, t as u64);
                    let mut sum = Checksum::new();
                    let mut new_block = |rng: &mut Rng| {
                        let b = Block::new(
                            rng.falling_size(p.min_size, p.max_size),
                            rng.next_u64() as u8,
                        );
                        sum.add(b.digest());
                        b
                    };
                    for iteration in 0..p.iterations {
                        let mut batch: Vec<Block> =
                            (0..BATCH).map(|_| new_block(&mut rng)).collect();
                        for _ in 0..REPLACEMENTS {
                            let i = rng.index(BATCH);
                            batch[i] = new_block(&mut rng);
                        }
                        if iteration % 2 == 1 {
                            let next = (t + 1) % threads;
                            *handoff[next].lock().unwrap_or_else(|e| e.into_inner()) = batch;
                            barrier.wait();
                            let theirs = std::mem::take(
                                &mut *handoff[t].lock().unwrap_or_else(|e| e.into_inner()),
                            );
                            drop(theirs); // frees the neighbour's blocks
                            barrier.wait();
                        } else {
                            drop(batch);
                        }
                    }
                    sum
                })
            })
            .collect();
        join_sums(workers)
    });
    let allocs = threads as u64 * p.iterations * (BATCH + REPLACEMENTS) as u64;
    Outcome {
        operations: 2 * allocs,
        checksum: sum.value(),
    }
}
