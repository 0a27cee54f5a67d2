//! glibc-simple: glibc's `bench-malloc-simple`, a tcache-style microbenchmark.
//!
//! One thread allocates N blocks of one size and then frees them in order, for
//! N in 4, 25, 100, 400 and 1600 and every power-of-two size in
//! `min_size..=max_size` (16, 32 and 64 B by default).
//!
//! `iterations` = passes over all (N, size) pairs.

use std::hint::black_box;

use crate::{Block, Checksum, Outcome, Params};

/// Blocks live at once in each sub-run.
const COUNTS: [usize; 5] = [4, 25, 100, 400, 1600];

/// Runs glibc-simple.
pub fn run(p: &Params) -> Outcome {
    let mut sizes = Vec::new();
    let mut size = p.min_size.max(1).next_power_of_two();
    while size <= p.max_size.max(1) {
        sizes.push(size);
        size *= 2;
    }
    let mut live: Vec<Block> = Vec::with_capacity(COUNTS[COUNTS.len() - 1]);
    let mut sum = Checksum::new();
    let mut allocs = 0u64;
    for pass in 0..p.iterations {
        let tag = (pass ^ p.seed) as u8;
        for &n in &COUNTS {
            for &size in &sizes {
                for i in 0..n {
                    live.push(Block::new(size, tag.wrapping_add(i as u8)));
                }
                let mut bytes = 0u64;
                for b in &live {
                    bytes = bytes.wrapping_add(b.digest());
                }
                sum.add(black_box(bytes));
                live.clear();
                allocs += n as u64;
            }
        }
    }
    Outcome {
        operations: 2 * allocs,
        checksum: sum.value(),
    }
}
