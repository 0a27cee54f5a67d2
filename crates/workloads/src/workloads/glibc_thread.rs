//! glibc-thread: glibc's `bench-malloc-thread`, per-thread throughput.
//!
//! Each worker keeps a working set of 1024 blocks and replaces random ones
//! with blocks of random size between `min_size` and `max_size` (4–32768 B),
//! each doubling of size half as frequent as the one below.
//!
//! `iterations` = replacements in total, split evenly over `threads` workers
//! (each with its own working set, so the checksum depends on `threads`).

use std::thread;

use super::{join_sums, share};
use crate::{Block, Checksum, Outcome, Params, Rng};

/// Blocks in each worker's working set.
const WORKING_SET: usize = 1024;

/// Runs glibc-thread.
pub fn run(p: &Params) -> Outcome {
    let threads = p.threads.max(1);
    let sum = thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut rng = Rng::stream(p.seed, t as u64);
                    let mut sum = Checksum::new();
                    let mut new_block = |rng: &mut Rng| {
                        let b = Block::new(
                            rng.pareto_size(p.min_size, p.max_size),
                            rng.next_u64() as u8,
                        );
                        sum.add(b.digest());
                        b
                    };
                    let mut set: Vec<Block> =
                        (0..WORKING_SET).map(|_| new_block(&mut rng)).collect();
                    for _ in 0..share(p.iterations, threads, t) {
                        let i = rng.index(WORKING_SET);
                        set[i] = new_block(&mut rng);
                    }
                    drop(set);
                    sum
                })
            })
            .collect();
        join_sums(workers)
    });
    let allocs = p.iterations + (threads * WORKING_SET) as u64;
    Outcome {
        operations: 2 * allocs,
        checksum: sum.value(),
    }
}
