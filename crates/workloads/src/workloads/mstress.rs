//! mstress: the stress test in the style of mimalloc's `test-stress`.
//!
//! Workers are re-created every phase. Each keeps a set of long-lived blocks
//! (inherited from a worker of the previous phase, so they migrate between
//! threads), allocates short-lived blocks of power-of-two sizes with rare huge
//! ones, grows and shrinks a buffer (reallocs), and swaps blocks with a shared
//! transfer array, freeing whatever it takes out: those frees are remote.
//!
//! `iterations` = phases; `threads` workers per phase; sizes are powers of two
//! in `min_size..=max_size`, and one allocation in 2000 is 256 × `max_size`.
//! Which block a swap takes out depends on the schedule, so the checksum only
//! counts blocks a worker creates (deterministic per worker and phase).

use std::sync::Mutex;
use std::thread;

use super::join;
use crate::{Block, Checksum, Outcome, Params, Rng};

/// Steps each worker takes per phase.
const STEPS: usize = 20_000;
/// Long-lived blocks each worker holds.
const RETAINED: usize = 500;
/// Slots of the shared transfer array.
const TRANSFER: usize = 1000;
/// Size of the growing buffer at which it is shrunk back.
const BUFFER_LIMIT: usize = 1 << 18;

/// A power-of-two size in `min..=max`, rarely a huge one.
fn size(rng: &mut Rng, min: usize, max: usize) -> usize {
    if rng.chance(1, 2000) {
        return max.saturating_mul(256);
    }
    let lo = min.max(1).next_power_of_two().trailing_zeros() as usize;
    let hi = (max.max(1).next_power_of_two().trailing_zeros() as usize).max(lo);
    1 << rng.range(lo, hi)
}

/// What one worker did in one phase.
struct Work {
    retained: Vec<Block>,
    sum: Checksum,
    allocs: u64,
    reallocs: u64,
}

/// Runs mstress.
pub fn run(p: &Params) -> Outcome {
    let threads = p.threads.max(1);
    let mut sum = Checksum::new();
    let mut allocs = 0u64;
    let mut reallocs = 0u64;
    let mut init = Rng::stream(p.seed, u64::MAX);
    let new_block = |rng: &mut Rng, sum: &mut Checksum| {
        let b = Block::new(size(rng, p.min_size, p.max_size), rng.next_u64() as u8);
        sum.add(b.digest());
        b
    };
    let transfer: Vec<Mutex<Block>> = (0..TRANSFER)
        .map(|_| Mutex::new(new_block(&mut init, &mut sum)))
        .collect();
    let mut retained: Vec<Vec<Block>> = (0..threads)
        .map(|_| {
            (0..RETAINED)
                .map(|_| new_block(&mut init, &mut sum))
                .collect()
        })
        .collect();
    allocs += (TRANSFER + threads * RETAINED) as u64;

    for phase in 0..p.iterations {
        retained.rotate_left(1);
        let transfer = &transfer;
        let works: Vec<Work> = thread::scope(|s| {
            let handles: Vec<_> = retained
                .drain(..)
                .enumerate()
                .map(|(t, mut kept)| {
                    let stream = ((phase + 1) << 16) | t as u64;
                    s.spawn(move || {
                        let mut rng = Rng::stream(p.seed, stream);
                        let mut w = Work {
                            retained: Vec::new(),
                            sum: Checksum::new(),
                            allocs: 0,
                            reallocs: 0,
                        };
                        let mut buffer: Vec<u8> = Vec::new();
                        for _ in 0..STEPS {
                            let r = rng.below(100);
                            if r < 60 {
                                // Short-lived: allocate, touch, free.
                                let b = Block::new(
                                    size(&mut rng, p.min_size, p.max_size),
                                    rng.next_u64() as u8,
                                );
                                w.sum.add(b.digest());
                                w.allocs += 1;
                            } else if r < 80 {
                                // Long-lived: replace one of the retained blocks.
                                let i = rng.index(kept.len());
                                let b = Block::new(
                                    size(&mut rng, p.min_size, p.max_size),
                                    rng.next_u64() as u8,
                                );
                                w.sum.add(b.digest());
                                w.allocs += 1;
                                kept[i] = b;
                            } else if r < 90 {
                                // Migrate: swap a new block into the shared array, free what was there.
                                let i = rng.index(transfer.len());
                                let b = Block::new(
                                    size(&mut rng, p.min_size, p.max_size),
                                    rng.next_u64() as u8,
                                );
                                w.sum.add(b.digest());
                                w.allocs += 1;
                                let old = {
                                    let mut slot =
                                        transfer[i].lock().unwrap_or_else(|e| e.into_inner());
                                    std::mem::replace(&mut *slot, b)
                                };
                                drop(old);
                            } else {
                                // Realloc: grow the buffer, shrink it when large.
                                let n = rng.range(1, p.max_size.max(1));
                                let cap = buffer.capacity();
                                if cap == 0 {
                                    w.allocs += 1;
                                }
                                buffer.resize(buffer.len() + n, r as u8);
                                if buffer.len() > BUFFER_LIMIT {
                                    buffer.truncate(n);
                                    buffer.shrink_to_fit();
                                }
                                if cap != 0 && buffer.capacity() != cap {
                                    w.reallocs += 1;
                                }
                                w.sum.add(buffer.len() as u64);
                            }
                        }
                        w.retained = kept;
                        w
                    })
                })
                .collect();
            handles.into_iter().map(join).collect()
        });
        for w in works {
            retained.push(w.retained);
            sum.merge(w.sum);
            allocs += w.allocs;
            reallocs += w.reallocs;
        }
    }
    drop(retained);
    drop(transfer);
    Outcome {
        operations: 2 * allocs + reallocs,
        checksum: sum.value(),
    }
}
