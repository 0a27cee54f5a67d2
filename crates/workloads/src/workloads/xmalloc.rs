//! xmalloc: pure producers and pure consumers (Lever & Boreham's xmalloc-test).
//!
//! Producers allocate batches of small objects and pass them through a bounded
//! channel to a consumer thread, which frees them: every free is remote and
//! one-directional, snmalloc's home case.
//!
//! `iterations` = batches in total; `threads` = total threads, split into
//! `max(1, threads / 2)` producer/consumer pairs (batch `i` goes to pair
//! `i % pairs`, so the checksum does not depend on `threads`); object sizes in
//! `min_size..=max_size` (64 B by default).

use std::sync::mpsc;
use std::thread;

use super::join_sums;
use crate::{Block, Checksum, Outcome, Params, Rng};

/// Objects per batch.
const BATCH: usize = 256;
/// Batches in flight per pair.
const IN_FLIGHT: usize = 8;

/// Runs xmalloc.
pub fn run(p: &Params) -> Outcome {
    let pairs = (p.threads / 2).max(1);
    let sum = thread::scope(|s| {
        let consumers: Vec<_> = (0..pairs)
            .map(|k| {
                let (tx, rx) = mpsc::sync_channel::<Vec<Block>>(IN_FLIGHT);
                s.spawn(move || {
                    let mut i = k as u64;
                    while i < p.iterations {
                        let mut rng = Rng::stream(p.seed, i);
                        let batch: Vec<Block> = (0..BATCH)
                            .map(|_| {
                                Block::new(rng.range(p.min_size, p.max_size), rng.next_u64() as u8)
                            })
                            .collect();
                        if tx.send(batch).is_err() {
                            break;
                        }
                        i += pairs as u64;
                    }
                });
                s.spawn(move || {
                    let mut sum = Checksum::new();
                    for batch in rx {
                        for b in &batch {
                            sum.add(b.digest());
                        }
                        drop(batch); // remote frees
                    }
                    sum
                })
            })
            .collect();
        join_sums(consumers)
    });
    Outcome {
        operations: 2 * p.iterations * BATCH as u64,
        checksum: sum.value(),
    }
}
