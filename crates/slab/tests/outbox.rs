//! Remote frees wait in the freeing heap's outbox until it is flushed: at 64 blocks, on
//! a change of destination, on the freeing thread's allocation slow path, on `collect`
//! and at thread exit. A thread that frees another thread's blocks and then stays alive
//! must not hold them past its own `collect`, and a long run of remote frees reaches the
//! owner without any help from the freeing thread.

use std::alloc::{alloc, dealloc, Layout};
use std::sync::atomic::{AtomicU32, Ordering};

#[global_allocator]
static GLOBAL: allocmux_slab::SlabAlloc = allocmux_slab::SlabAlloc;

const SIZE: usize = 4096;

/// Bytes in use after the calling thread processed its remote frees.
fn in_use_after_collect() -> usize {
    allocmux_slab::collect();
    allocmux_slab::stats().in_use_bytes
}

/// Waits (without allocating, which could flush the outbox) until `stage` reads `want`.
fn wait_for(stage: &AtomicU32, want: u32) {
    while stage.load(Ordering::Acquire) != want {
        std::thread::yield_now();
    }
}

/// Allocates `n` blocks here and has a long-lived thread free them; returns the bytes
/// in use (seen from here) before the freeing thread flushes, and after it does.
fn freed_remotely(n: usize) -> (usize, usize) {
    let layout = Layout::from_size_align(SIZE, 8).unwrap();
    let blocks: Vec<usize> = (0..n)
        // SAFETY: non-zero size.
        .map(|_| unsafe { alloc(layout) } as usize)
        .collect();
    assert!(blocks.iter().all(|&p| p != 0));
    let stage = AtomicU32::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            for p in blocks {
                // SAFETY: live blocks of `layout`, handed over by their owner.
                unsafe { dealloc(p as *mut u8, layout) };
            }
            stage.store(1, Ordering::Release);
            wait_for(&stage, 2);
            allocmux_slab::collect();
            stage.store(3, Ordering::Release);
            wait_for(&stage, 4);
        });
        wait_for(&stage, 1);
        let before_flush = in_use_after_collect();
        stage.store(2, Ordering::Release);
        wait_for(&stage, 3);
        let after_flush = in_use_after_collect();
        stage.store(4, Ordering::Release);
        (before_flush, after_flush)
    })
}

#[test]
fn remote_frees_reach_their_owner() {
    let base = in_use_after_collect();
    // A few blocks: they wait in the outbox until the freeing thread collects.
    let (waiting, flushed) = freed_remotely(10);
    assert!(
        waiting >= base + 8 * SIZE,
        "10 remote frees should still be in the outbox: base {base}, now {waiting}"
    );
    assert!(
        flushed <= base + 16 * 1024,
        "after the freeing thread's collect: base {base}, now {flushed}"
    );
    // Many blocks: every full outbox goes to the owner on its own; at most one partial
    // outbox (63 blocks) waits for the flush.
    let base = in_use_after_collect();
    let (waiting, flushed) = freed_remotely(1000);
    assert!(
        waiting <= base + 64 * SIZE + 16 * 1024,
        "1000 remote frees: at most 63 may wait: base {base}, now {waiting}"
    );
    assert!(flushed <= base + 16 * 1024, "base {base}, now {flushed}");
}
