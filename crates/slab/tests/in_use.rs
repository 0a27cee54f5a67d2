//! `stats().in_use_bytes`: the fast paths keep no byte count, so a heap's bytes in use
//! are recounted from its pages. The calling thread's own figure is exact at once, a
//! running thread's is counted within a few hundred of its slow-path calls, and an
//! exited thread's blocks still count until freed.

use std::alloc::{alloc, dealloc, Layout};
use std::sync::mpsc;

use allocmux_slab::size_class::{class_of_computed, class_size};

#[global_allocator]
static GLOBAL: allocmux_slab::SlabAlloc = allocmux_slab::SlabAlloc;

/// Request sizes of the blocks the tests hold: every small class range, one medium.
const SIZES: [usize; 8] = [8, 24, 100, 700, 1500, 5000, 20_000, 200_000];

/// The block (size-class) size a request of `size` bytes gets.
fn block_size(size: usize) -> usize {
    class_size(class_of_computed(size))
}

/// Allocates `n` blocks of each of [`SIZES`]; returns them and their total block size.
fn hold(n: usize) -> (Vec<(usize, Layout)>, usize) {
    let mut blocks = Vec::with_capacity(n * SIZES.len());
    let mut bytes = 0;
    for _ in 0..n {
        for size in SIZES {
            let l = Layout::from_size_align(size, 8).unwrap();
            // SAFETY: non-zero size.
            let p = unsafe { alloc(l) };
            assert!(!p.is_null());
            blocks.push((p as usize, l));
            bytes += block_size(size);
        }
    }
    (blocks, bytes)
}

/// Frees what [`hold`] returned.
fn release(blocks: Vec<(usize, Layout)>) {
    for (p, l) in blocks {
        // SAFETY: live blocks of layout `l` from `hold`.
        unsafe { dealloc(p as *mut u8, l) };
    }
}

#[test]
fn own_thread_exact_live_thread_counted_exited_thread_kept() {
    // The calling thread: exact, without any collect.
    let base = allocmux_slab::stats().in_use_bytes;
    let (blocks, bytes) = hold(100);
    let held = allocmux_slab::stats().in_use_bytes;
    // The test harness's own threads may allocate meanwhile; allow a little.
    assert!(
        held >= base + bytes && held <= base + bytes + 64 * 1024,
        "base {base}, held {held}, blocks {bytes}"
    );
    release(blocks);
    let after = allocmux_slab::stats().in_use_bytes;
    assert!(after <= base + 64 * 1024, "base {base}, after free {after}");

    // A thread that keeps running: its blocks show up once it has taken enough slow
    // paths (4 KiB blocks: one slow path per four blocks, a few thousand here).
    let (tx, rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        let l = Layout::from_size_align(4096, 8).unwrap();
        let blocks: Vec<usize> = (0..20_000)
            // SAFETY: non-zero size.
            .map(|_| unsafe { alloc(l) } as usize)
            .collect();
        assert!(blocks.iter().all(|&p| p != 0));
        tx.send(()).unwrap();
        done_rx.recv().unwrap();
        blocks
    });
    rx.recv().unwrap();
    let live = allocmux_slab::stats().in_use_bytes;
    let wanted = 20_000 * 4096;
    assert!(
        live >= base + wanted / 2,
        "a running thread's 80 MB should be mostly counted: base {base}, now {live}"
    );
    done_tx.send(()).unwrap();
    let blocks = worker.join().unwrap();

    // The thread exited (its heap recounted at hand-over): every block counts.
    let exited = allocmux_slab::stats().in_use_bytes;
    assert!(
        exited >= base + wanted,
        "an exited thread's blocks: base {base}, now {exited}"
    );
    let l = Layout::from_size_align(4096, 8).unwrap();
    for p in blocks {
        // SAFETY: live blocks of `l`, handed over by the exited thread.
        unsafe { dealloc(p as *mut u8, l) };
    }
    allocmux_slab::collect();
    let freed = allocmux_slab::stats().in_use_bytes;
    assert!(
        freed <= base + 64 * 1024,
        "base {base}, after all frees {freed}"
    );
}
