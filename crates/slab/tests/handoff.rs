//! Page hand-off: a thread that only allocates gives up the pages it filled beyond a few
//! per class; the thread that frees their blocks and then allocates the same class
//! claims those pages instead of mapping new memory; and no block freed along the way
//! still counts as in use.

use std::alloc::{alloc, dealloc, Layout};
use std::sync::mpsc;

#[global_allocator]
static GLOBAL: allocmux_slab::SlabAlloc = allocmux_slab::SlabAlloc;

/// 64 blocks per 64 KiB page.
const SIZE: usize = 1024;
/// 200 pages' worth (12.5 MiB).
const BLOCKS: usize = 64 * 200;

/// Allocates [`BLOCKS`] blocks of [`SIZE`] bytes.
fn allocate() -> Vec<usize> {
    let l = Layout::from_size_align(SIZE, 8).unwrap();
    // SAFETY: non-zero size.
    let blocks: Vec<usize> = (0..BLOCKS).map(|_| unsafe { alloc(l) } as usize).collect();
    assert!(blocks.iter().all(|&p| p != 0));
    blocks
}

/// Frees what [`allocate`] returned.
fn free(blocks: Vec<usize>) {
    let l = Layout::from_size_align(SIZE, 8).unwrap();
    for p in blocks {
        // SAFETY: live blocks of `l`.
        unsafe { dealloc(p as *mut u8, l) };
    }
}

#[test]
fn a_consumer_claims_the_pages_a_producer_gave_up() {
    let before = allocmux_slab::stats();
    let (tx, rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    // The producer stays alive (its heap is not handed over) while this thread works.
    let producer = std::thread::spawn(move || {
        tx.send(allocate()).unwrap();
        done_rx.recv().unwrap();
    });
    let blocks = rx.recv().unwrap();
    let produced = allocmux_slab::stats();
    let abandoned = produced.pages_abandoned - before.pages_abandoned;
    assert!(
        abandoned >= 190,
        "200 pages filled, at most a few kept: {abandoned} abandoned"
    );

    free(blocks);
    let again = allocate();
    let reused = allocmux_slab::stats();
    let claimed = reused.pages_claimed - before.pages_claimed;
    assert!(claimed >= 150, "{claimed} of {abandoned} pages claimed");
    let grown = reused.mapped_bytes.saturating_sub(produced.mapped_bytes);
    assert!(
        grown <= 4 << 20,
        "the claimed pages serve the allocations: {grown} bytes mapped since"
    );
    free(again);
    done_tx.send(()).unwrap();
    producer.join().unwrap();
    // The producer's heap, recounted at hand-over, no longer counts the blocks freed
    // into the pages it gave up.
    allocmux_slab::collect();
    let after = allocmux_slab::stats();
    assert!(
        after.in_use_bytes <= before.in_use_bytes + 256 * 1024,
        "before {}, after {}",
        before.in_use_bytes,
        after.in_use_bytes
    );
}
