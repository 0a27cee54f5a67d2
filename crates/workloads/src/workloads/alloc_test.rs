//! alloc-test: scalability with a retained working set (the alloc-test benchmark).
//!
//! Each worker keeps a working set that grows towards 8192 blocks and shrinks
//! towards 512, alternating every 65536 operations; an operation allocates a
//! block with a Pareto-like size (each doubling half as frequent, up to
//! `max_size`) or frees a random block of the set.
//!
//! `iterations` = operations in total, split evenly over `threads` workers
//! (each with its own working set, so the checksum depends on `threads`).

use std::thread;

use super::{join, share};
use crate::{Block, Checksum, Outcome, Params, Rng};

/// Target sizes of the working set while growing and while shrinking.
const TARGETS: [usize; 2] = [8192, 512];
/// Operations between two changes of the target.
const PHASE: u64 = 1 << 16;

/// Runs alloc-test.
pub fn run(p: &Params) -> Outcome {
    let threads = p.threads.max(1);
    let (sum, allocs) = thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut rng = Rng::stream(p.seed, t as u64);
                    let mut sum = Checksum::new();
                    let mut allocs = 0u64;
                    let mut set: Vec<Block> = Vec::with_capacity(TARGETS[0] * 2);
                    for op in 0..share(p.iterations, threads, t) {
                        let target = TARGETS[((op / PHASE) % 2) as usize];
                        let grow = if set.len() < target {
                            rng.chance(3, 4)
                        } else {
                            rng.chance(1, 4)
                        };
                        if grow || set.is_empty() {
                            let b = Block::new(
                                rng.pareto_size(p.min_size, p.max_size),
                                rng.next_u64() as u8,
                            );
                            sum.add(b.digest());
                            allocs += 1;
                            set.push(b);
                        } else {
                            let i = rng.index(set.len());
                            drop(set.swap_remove(i));
                        }
                    }
                    sum.add(set.len() as u64);
                    (sum, allocs)
                })
            })
            .collect();
        let mut sum = Checksum::new();
        let mut allocs = 0;
        for w in workers {
            let (s, a) = join(w);
            sum.merge(s);
            allocs += a;
        }
        (sum, allocs)
    });
    Outcome {
        operations: 2 * allocs,
        checksum: sum.value(),
    }
}
