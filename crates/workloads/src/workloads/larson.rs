//! larson: a server simulation (Larson & Krishnan, ISMM 1998).
//!
//! Each worker owns an array of blocks and replaces random ones with new
//! blocks of random size. After each round the workers exit and every array is
//! handed to a new thread for the next round (array `t` goes to worker `t - 1`),
//! so most frees are of blocks another thread allocated.
//!
//! `iterations` = rounds; `threads` workers per round; sizes in `min_size..=max_size`.

use std::thread;

use super::join;
use crate::{Block, Checksum, Outcome, Params, Rng};

/// Blocks each worker's array holds.
const BLOCKS_PER_THREAD: usize = 1000;
/// Blocks each worker replaces per round.
const REPLACEMENTS_PER_ROUND: usize = 10_000;

/// Runs larson.
pub fn run(p: &Params) -> Outcome {
    let threads = p.threads.max(1);
    let mut sum = Checksum::new();
    let mut allocs = 0u64;
    let mut arrays: Vec<Vec<Block>> = (0..threads)
        .map(|t| {
            let mut rng = Rng::stream(p.seed, t as u64);
            (0..BLOCKS_PER_THREAD)
                .map(|_| {
                    let b = Block::new(rng.range(p.min_size, p.max_size), rng.next_u64() as u8);
                    sum.add(b.digest());
                    b
                })
                .collect()
        })
        .collect();
    allocs += (threads * BLOCKS_PER_THREAD) as u64;

    for round in 0..p.iterations {
        arrays.rotate_left(1);
        let results: Vec<(Vec<Block>, Checksum)> = thread::scope(|s| {
            let handles: Vec<_> = arrays
                .drain(..)
                .enumerate()
                .map(|(t, mut array)| {
                    let stream = ((round + 1) << 16) | t as u64;
                    s.spawn(move || {
                        let mut rng = Rng::stream(p.seed, stream);
                        let mut sum = Checksum::new();
                        for _ in 0..REPLACEMENTS_PER_ROUND {
                            let i = rng.index(array.len());
                            let b =
                                Block::new(rng.range(p.min_size, p.max_size), rng.next_u64() as u8);
                            sum.add(b.digest());
                            array[i] = b; // frees the old block, often allocated by another thread
                        }
                        (array, sum)
                    })
                })
                .collect();
            handles.into_iter().map(join).collect()
        });
        for (array, s) in results {
            arrays.push(array);
            sum.merge(s);
        }
        allocs += (threads * REPLACEMENTS_PER_ROUND) as u64;
    }
    drop(arrays);
    Outcome {
        operations: 2 * allocs,
        checksum: sum.value(),
    }
}
