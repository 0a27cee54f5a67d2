//! rptest: rpmalloc's benchmark (mimalloc-bench's `rptest 2 0 1 2 500 1000 100 8 16000`).
//!
//! What the original does: each thread owns 1,000 slots. A loop frees 24–79
//! slots (walking with stride 11), frees every batch other threads sent it,
//! then allocates 30–99 objects into slots (stride 7, freeing a slot's old
//! object first); every 2nd loop it also allocates a batch of as many objects
//! (plus a 32 B record and a pointer array) and pushes it onto another
//! thread's lock-free stack, which frees it. Sizes walk a fixed 2,000-entry
//! table of a "linear" distribution on 8..16000 B (mean ≈ 2.7 KB, a third
//! ≤ 1 KiB); every object is written in full (`memalign` + `memset` for two
//! thirds of those under 4 KiB, `calloc` for the rest), then its first word,
//! one byte per page and its last byte. After 500 loops a thread frees
//! everything; it does this twice, and the whole thread set runs twice
//! (threads are created anew): 4 × 500 loops per thread.
//!
//! Here: the same slots, strides, operation counts (drawn into fixed tables
//! from the seed), size table, writes and cross-thread batches. `iterations`
//! = loops per thread in total, in passes of [`LOOPS_PER_PASS`], two passes
//! per thread set; sizes in `min_size..=max_size`. Differences: objects are
//! allocated with 16-byte alignment throughout (the original's 8/16/`calloc`
//! choice keeps its write pattern: zeroed or filled with 0xCD), and a pass ends
//! at a barrier instead of the original's 1 s sleeps; batches are sent every
//! 2nd loop until the end of the pass (the original stops sending once any
//! thread finished, which depends on the schedule).
//!
//! Changed from our previous version: each iteration allocated a fresh batch
//! of 1,000 blocks with 2,000 replacements and handed the whole batch to a
//! neighbour every 2nd iteration (the original keeps a persistent 1,000-slot
//! set and sends 30–99 objects), sizes were the minimum of two uniform draws,
//! and only one byte per page was written.
//!
//! Operations counted: every allocation and free.

use std::sync::Barrier;
use std::thread;

use super::join;
use crate::{Checksum, Outcome, Params, Rng};

mod objects;
use objects::{Foreign, Mailbox, Obj};

/// Slots per thread (the original's `allocs`).
const SLOTS: usize = 1000;
/// Loops per pass (the original's `loops`).
pub const LOOPS_PER_PASS: u64 = 500;
/// Passes per thread set.
const PASSES_PER_SET: u64 = 2;
/// Strides of the allocation and free walks over the slots (the smallest
/// primes not dividing 1,000).
const ALLOC_STRIDE: usize = 7;
const FREE_STRIDE: usize = 11;
/// Entries of the size table and of the two operation-count tables.
const SIZE_TABLE: usize = 2000;
const ALLOC_TABLE: usize = 311;
const FREE_TABLE: usize = 257;
/// The original's `op count`: operation counts are percentages of it.
const OP_COUNT: usize = 100;
/// A batch is sent every `CROSS_RATE` loops.
const CROSS_RATE: u64 = 2;

/// The fixed tables every thread walks.
struct Tables {
    sizes: Vec<usize>,
    alloc_ops: Vec<usize>,
    free_ops: Vec<usize>,
}

impl Tables {
    fn new(p: &Params) -> Tables {
        let mut rng = Rng::stream(p.seed, u64::MAX);
        let (min, max) = (p.min_size.max(8), p.max_size.max(p.min_size.max(8)));
        let range = max - min;
        // "Linear" sizes: a uniform fraction of the range, scaled by |1 - u0 - u1|
        // (density 2(1 - x)), so frequency falls linearly towards `max`.
        let sizes = (0..SIZE_TABLE)
            .map(|_| {
                let (a, b, c) = (
                    rng.range(0, range),
                    rng.range(0, range),
                    rng.range(0, range),
                );
                let scale = (a + b).abs_diff(range) as u64;
                min + (c as u64 * scale / range.max(1) as u64) as usize
            })
            .collect();
        let alloc_ops = (0..ALLOC_TABLE)
            .map(|_| OP_COUNT * rng.range(30, 99) / 100)
            .collect();
        let free_ops = (0..FREE_TABLE)
            .map(|_| 8 * OP_COUNT * rng.range(30, 99) / 1000)
            .collect();
        Tables {
            sizes,
            alloc_ops,
            free_ops,
        }
    }
}

/// One thread's counters.
struct Work {
    sum: Checksum,
    allocs: u64,
}

impl Work {
    /// Allocates an object of the size at `size_index` (+2, as the original
    /// reads it), zeroed or filled depending on `variant`.
    fn object(&mut self, t: &Tables, size_index: usize, variant: usize) -> Obj {
        let size = t.sizes[(size_index + 2) % SIZE_TABLE];
        self.sum.add(size as u64);
        self.allocs += 1;
        Obj::new(size, size >= 4096 || variant % 3 == 0)
    }
}

/// Which thread runs which pass, and how many loops it has.
struct Place {
    me: usize,
    pass_no: u64,
    loops: u64,
}

/// Runs one pass of one thread.
fn pass(
    t: &Tables,
    w: &mut Work,
    slots: &mut [Option<Obj>],
    mailboxes: &[Mailbox],
    barrier: &Barrier,
    at: Place,
) {
    let Place { me, pass_no, loops } = at;
    let threads = mailboxes.len();
    let mut size_index = ((me + 1) * ((pass_no as usize % 2 + 1) * 37)) % SIZE_TABLE;
    let (mut alloc_idx, mut free_idx, mut cross) = (0usize, 0usize, 0usize);
    barrier.wait(); // start together, as the original's start flag does
    for l in 0..loops {
        let inbox = mailboxes[me].take();
        let turn = (pass_no % 2 + l) as usize;
        for _ in 0..t.free_ops[turn % FREE_TABLE] {
            slots[free_idx] = None;
            free_idx = (free_idx + FREE_STRIDE) % SLOTS;
        }
        drop(inbox); // frees other threads' objects, arrays and records
        let count = t.alloc_ops[turn % ALLOC_TABLE];
        for op in 0..count {
            slots[alloc_idx] = None;
            slots[alloc_idx] = Some(w.object(t, size_index, size_index + op));
            alloc_idx = (alloc_idx + ALLOC_STRIDE) % SLOTS;
            size_index = (size_index + 1) % SIZE_TABLE;
        }
        if threads > 1 && l % CROSS_RATE == 0 {
            let mut objs = Vec::with_capacity(count);
            for op in 0..count {
                objs.push(w.object(t, size_index, size_index + op));
                size_index = (size_index + 1) % SIZE_TABLE;
            }
            w.allocs += 2; // the record and the pointer array
            cross = (cross + 1) % threads;
            if cross == me {
                cross = (cross + 1) % threads;
            }
            mailboxes[cross].push(Foreign::new(objs));
        }
    }
    barrier.wait(); // nobody sends any more in this pass
    drop(mailboxes[me].take());
    for slot in slots.iter_mut() {
        *slot = None;
    }
}

/// Runs rptest.
pub fn run(p: &Params) -> Outcome {
    let threads = p.threads.max(1);
    let tables = Tables::new(p);
    let passes = p.iterations.div_ceil(LOOPS_PER_PASS);
    let mut sum = Checksum::new();
    let mut allocs = 0u64;
    let mut first = 0;
    while first < passes {
        // One thread set: fresh threads for up to two passes.
        let last = (first + PASSES_PER_SET).min(passes);
        let mailboxes: Vec<Mailbox> = (0..threads).map(|_| Mailbox::default()).collect();
        let barrier = Barrier::new(threads);
        let (t, mailboxes, barrier) = (&tables, &mailboxes, &barrier);
        let works: Vec<Work> = thread::scope(|s| {
            let workers: Vec<_> = (0..threads)
                .map(|me| {
                    s.spawn(move || {
                        let mut w = Work {
                            sum: Checksum::new(),
                            allocs: 1, // the slot array
                        };
                        let mut slots: Vec<Option<Obj>> = Vec::with_capacity(SLOTS);
                        slots.resize_with(SLOTS, || None);
                        for pass_no in first..last {
                            let loops =
                                (p.iterations - pass_no * LOOPS_PER_PASS).min(LOOPS_PER_PASS);
                            let at = Place { me, pass_no, loops };
                            pass(t, &mut w, &mut slots, mailboxes, barrier, at);
                        }
                        w
                    })
                })
                .collect();
            workers.into_iter().map(join).collect()
        });
        for w in works {
            sum.merge(w.sum);
            allocs += w.allocs;
        }
        first = last;
    }
    Outcome {
        operations: 2 * allocs,
        checksum: sum.value(),
    }
}
