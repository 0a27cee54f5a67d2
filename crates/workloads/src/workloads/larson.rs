//! larson: a server simulation (Larson & Krishnan, ISMM 1998; mimalloc-bench's
//! `larson 5 8 1000 5000 100 4141 2`).
//!
//! What the original does: the main thread allocates 5,000 blocks per worker
//! (sizes uniform in 8..1000 B), shuffles them and replaces random ones 4 × as
//! many times more (the warm-up), then hands worker `i` the slots
//! `[i·5000, (i+1)·5000)`. One operation of a worker frees a random slot of its
//! own, allocates a block of random size into it and writes two bytes. After
//! 100 × 5,000 = 500,000 operations a worker starts a fresh thread on the same
//! slots and exits, so the successor frees its predecessor's blocks (and the
//! first frees of all are of the main thread's blocks). It stops after 5 s.
//!
//! Here: the same warm-up, slot ownership, operation and thread churn (a
//! worker thread spawns its successor after [`OPS_PER_THREAD`] operations).
//! Instead of 5 s, a fixed budget: `iterations` = worker operations in total
//! (one free + one allocation each), split evenly over `threads` workers.
//! Sizes are uniform in `min_size..=max_size` (8..=999 B by default, the
//! original's half-open range).
//!
//! Changed from our previous version: it kept 1,000 blocks per thread (the
//! original keeps 5,000), had no warm-up by the main thread, and moved whole
//! arrays between threads every 10,000 operations instead of replacing a
//! worker thread every 500,000 operations on the same slots.
//!
//! Operations counted: every allocation and free, warm-up and final frees
//! included (the original counts worker allocations only).

use std::sync::Mutex;
use std::thread::{self, Scope};

use super::share;
use crate::{Block, Checksum, Outcome, Params, Rng};

/// Blocks each worker owns (the original's `chunks` per thread).
const BLOCKS_PER_THREAD: usize = 5000;
/// Operations one worker thread does before a fresh thread takes over its
/// slots (the original's rounds × chunks = 100 × 5,000).
pub const OPS_PER_THREAD: u64 = 100 * BLOCKS_PER_THREAD as u64;
/// Random replacements of the warm-up, per block.
const WARMUP_PASSES: usize = 4;

/// One worker's slots and state, passed from each thread to its successor.
struct Worker {
    /// Always `Some` between operations.
    slots: Vec<Option<Block>>,
    rng: Rng,
    left: u64,
    sum: Checksum,
}

/// A new block of random size, added to `sum`.
fn new_block(rng: &mut Rng, p: &Params, sum: &mut Checksum) -> Block {
    let b = Block::new(rng.range(p.min_size, p.max_size), rng.next_u64() as u8);
    sum.add(b.digest());
    b
}

/// Runs one thread of a worker; when its share of operations is done and some
/// are left, it starts the successor thread on the same slots and exits.
fn generation<'scope>(
    s: &'scope Scope<'scope, '_>,
    p: &'scope Params,
    done: &'scope Mutex<Vec<Worker>>,
    mut w: Worker,
) {
    let n = w.left.min(OPS_PER_THREAD);
    for _ in 0..n {
        let i = w.rng.index(w.slots.len());
        // Free first (often a block another thread allocated), then allocate.
        w.slots[i] = None;
        w.slots[i] = Some(new_block(&mut w.rng, p, &mut w.sum));
    }
    w.left -= n;
    if w.left > 0 {
        s.spawn(move || generation(s, p, done, w));
    } else {
        done.lock().unwrap_or_else(|e| e.into_inner()).push(w);
    }
}

/// Runs larson.
pub fn run(p: &Params) -> Outcome {
    let threads = p.threads.max(1);
    let mut sum = Checksum::new();
    let total = threads * BLOCKS_PER_THREAD;

    // Warm-up in the calling thread: allocate, shuffle, replace at random.
    let mut rng = Rng::stream(p.seed, u64::MAX);
    let mut blocks: Vec<Option<Block>> = (0..total)
        .map(|_| Some(new_block(&mut rng, p, &mut sum)))
        .collect();
    for i in (1..total).rev() {
        blocks.swap(i, rng.index(i + 1));
    }
    for _ in 0..WARMUP_PASSES * total {
        let i = rng.index(total);
        blocks[i] = None;
        blocks[i] = Some(new_block(&mut rng, p, &mut sum));
    }

    let done = Mutex::new(Vec::with_capacity(threads));
    thread::scope(|s| {
        let mut rest = blocks;
        for t in 0..threads {
            let tail = rest.split_off(BLOCKS_PER_THREAD);
            let w = Worker {
                slots: rest,
                rng: Rng::stream(p.seed, t as u64),
                left: share(p.iterations, threads, t),
                sum: Checksum::new(),
            };
            rest = tail;
            let done = &done;
            s.spawn(move || generation(s, p, done, w));
        }
    });
    for w in done.into_inner().unwrap_or_else(|e| e.into_inner()) {
        sum.merge(w.sum);
        drop(w.slots);
    }
    let warmup = (total * (1 + WARMUP_PASSES)) as u64;
    Outcome {
        operations: 2 * (warmup + p.iterations),
        checksum: sum.value(),
    }
}
