//! xmalloc: pure producers and pure consumers (Lever & Boreham's xmalloc-test,
//! mimalloc-bench's `xmalloc-test -w 2 -t 5 -s 64`).
//!
//! What the original does: `-w` producer threads and as many consumer threads.
//! A producer allocates a batch record (a link and 4,096 object pointers,
//! 32,776 B), fills it with 4,096 objects of 64 B, writes the first
//! min(size, 128) bytes of each, and pushes the batch onto one global LIFO
//! stack (mutex and condition variables), waiting while 100 batches are
//! queued. A consumer pops any batch and frees its objects and the record, so
//! every object free is a remote one. It runs for 5 s and reports frees per second.
//!
//! Here: the same roles, batch layout, stack and bound. `threads` = producers
//! = consumers (the original's `-w`, so 2 × `threads` threads run);
//! `iterations` = batches in total, producer `k` making batches `k`,
//! `k + threads`, …; object sizes in `min_size..=max_size` (64 B by default;
//! unequal bounds draw a size per object). A batch's contents depend only on
//! its number, so the checksum does not depend on `threads` or on which
//! consumer frees it.
//!
//! Changed from our previous version: batches held 256 objects (the original:
//! 4,096), each producer fed one consumer through a channel of 8 batches (the
//! original: one stack shared by all, bounded at 100 batches), and the threads
//! were split into producer/consumer pairs (the original runs `-w` of each).
//! Until 2026-12-06 the consumer also read the first byte of every object before
//! freeing it, for the checksum; the original's consumer touches no object. That
//! read ranked mimalloc ahead of jemalloc at 2 threads: over 30 rounds
//! interleaved with the original, jemalloc ÷ mimalloc read 0.93 with it, 1.12
//! without it and 1.09 in the original. The checksum now reads one object per
//! batch.
//!
//! Operations counted: every allocation and free, batch records included
//! (the original counts object frees only).

use std::ptr::{self, NonNull};
use std::sync::{Condvar, Mutex};
use std::thread;

use super::join_sums;
use crate::{mix64, Checksum, Outcome, Params};

/// Objects per batch.
const BATCH: usize = 4096;
/// Batches queued at most; producers wait above it.
const QUEUE_LIMIT: usize = 100;
/// Bytes written at the start of each object at most.
const WRITTEN: usize = 128;

/// A batch record: the stack link, its number and the objects, allocated
/// as one block like the original's.
struct Batch {
    next: Option<Box<Batch>>,
    number: u64,
    objects: [*mut u8; BATCH],
}

// SAFETY: a batch exclusively owns the objects its pointers refer to; moving
// it to another thread moves that ownership (freeing there is the point).
unsafe impl Send for Batch {}

/// The size of object `i` of batch `number` (a pure function, so the
/// consumer recomputes it to free the object).
#[inline]
fn object_size(p: &Params, number: u64, i: usize) -> usize {
    if p.min_size >= p.max_size {
        return p.min_size.max(1);
    }
    let span = (p.max_size - p.min_size) as u64 + 1;
    p.min_size + (mix64(p.seed ^ (number << 12) ^ i as u64) % span) as usize
}

/// The layout of an object of `size` bytes.
fn layout(size: usize) -> std::alloc::Layout {
    std::alloc::Layout::from_size_align(size, 1).expect("object sizes are small")
}

impl Batch {
    /// Allocates batch `number` and its objects, writing each one's first bytes.
    fn new(p: &Params, number: u64) -> Box<Batch> {
        let mut b = Box::new(Batch {
            next: None,
            number,
            objects: [ptr::null_mut(); BATCH],
        });
        for (i, slot) in b.objects.iter_mut().enumerate() {
            let size = object_size(p, number, i);
            // SAFETY: the layout has a non-zero size.
            let obj = unsafe { std::alloc::alloc(layout(size)) };
            let obj =
                NonNull::new(obj).unwrap_or_else(|| std::alloc::handle_alloc_error(layout(size)));
            // SAFETY: `obj` points to `size` writable bytes.
            unsafe { ptr::write_bytes(obj.as_ptr(), i as u8, size.min(WRITTEN)) };
            *slot = obj.as_ptr();
        }
        b
    }

    /// Frees the objects, then the record, and returns a digest of the batch:
    /// its number, its object sizes and the first byte of its last object.
    /// Like the original's consumer it touches no other object: reading each one
    /// before freeing it would add a cache miss per object that an allocator
    /// whose free does not touch the block (jemalloc's) otherwise avoids.
    fn free(self: Box<Batch>, p: &Params) -> u64 {
        let last = self.objects[BATCH - 1];
        // SAFETY: the producer wrote at least one byte at the start of every
        // object of the batch, and none is freed yet.
        let mut digest = self.number.wrapping_add(u64::from(unsafe { *last }));
        for (i, &obj) in self.objects.iter().enumerate() {
            let size = object_size(p, self.number, i);
            digest = digest.wrapping_add(size as u64);
            // SAFETY: `obj` came from `alloc(layout(size))` in `Batch::new` (the
            // size is recomputed from the same inputs); `self` is consumed, so
            // each object is freed exactly once.
            unsafe { std::alloc::dealloc(obj, layout(size)) };
        }
        digest
    }
}

/// The global LIFO stack of batches.
struct Stack {
    top: Option<Box<Batch>>,
    queued: usize,
    /// Batches popped so far; consumers stop when it reaches the total.
    taken: u64,
}

/// Runs xmalloc.
pub fn run(p: &Params) -> Outcome {
    let workers = p.threads.max(1);
    let total = p.iterations;
    let stack = Mutex::new(Stack {
        top: None,
        queued: 0,
        taken: 0,
    });
    let (not_empty, not_full) = (Condvar::new(), Condvar::new());
    let lock = || stack.lock().unwrap_or_else(|e| e.into_inner());
    let sum = thread::scope(|s| {
        for k in 0..workers {
            let (lock, not_empty, not_full) = (&lock, &not_empty, &not_full);
            s.spawn(move || {
                for number in (k as u64..total).step_by(workers) {
                    let mut b = Batch::new(p, number);
                    let mut st = lock();
                    while st.queued >= QUEUE_LIMIT {
                        st = not_full.wait(st).unwrap_or_else(|e| e.into_inner());
                    }
                    b.next = st.top.take();
                    st.top = Some(b);
                    st.queued += 1;
                    not_empty.notify_one();
                }
            });
        }
        let consumers: Vec<_> = (0..workers)
            .map(|_| {
                let (lock, not_empty, not_full) = (&lock, &not_empty, &not_full);
                s.spawn(move || {
                    let mut sum = Checksum::new();
                    loop {
                        let mut st = lock();
                        let b = loop {
                            if let Some(mut b) = st.top.take() {
                                st.top = b.next.take();
                                st.queued -= 1;
                                st.taken += 1;
                                if st.taken == total {
                                    not_empty.notify_all(); // let the others see the end
                                }
                                not_full.notify_one();
                                break b;
                            }
                            if st.taken == total {
                                return sum;
                            }
                            st = not_empty.wait(st).unwrap_or_else(|e| e.into_inner());
                        };
                        drop(st);
                        sum.add(b.free(p)); // the objects, then the record
                    }
                })
            })
            .collect();
        join_sums(consumers)
    });
    Outcome {
        operations: 2 * total * (BATCH as u64 + 1),
        checksum: sum.value(),
    }
}
