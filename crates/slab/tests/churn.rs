//! Thread churn: 2,000 short-lived threads (1,000 one after another, 1,000 in parallel
//! batches), each allocating and freeing. Afterwards the slab's own stats must show the
//! mapped memory back within a small bound, because exiting threads release their idle
//! memory and hand their heaps over for reuse instead of leaking them.

use std::alloc::{alloc, dealloc, Layout};
use std::sync::{Arc, Barrier};

#[global_allocator]
static GLOBAL: allocmux_slab::SlabAlloc = allocmux_slab::SlabAlloc;

const SEGMENT: usize = 4 << 20;
const HEAP_META: usize = 4096;
const BATCH: usize = 50;

fn work(seed: usize) {
    let mut ptrs = Vec::with_capacity(300);
    for i in 0..300 {
        let size = match (i + seed) % 50 {
            0 => 700 * 1024, // large
            1..=4 => 20 * 1024,
            _ => 8 + (i * 37 + seed) % 900,
        };
        let l = Layout::from_size_align(size, 8).unwrap();
        // SAFETY: non-zero size.
        let p = unsafe { alloc(l) };
        assert!(!p.is_null());
        // SAFETY: `p` holds `size` bytes.
        unsafe { p.write_bytes(seed as u8, size) };
        ptrs.push((p, l));
    }
    for (p, l) in ptrs {
        // SAFETY: `p` is live with layout `l`.
        unsafe {
            assert_eq!(*p, seed as u8);
            dealloc(p, l);
        }
    }
}

#[test]
fn two_thousand_threads_do_not_grow_memory() {
    work(1);
    allocmux_slab::collect();
    let before = allocmux_slab::stats();

    for i in 0..1000 {
        std::thread::spawn(move || work(i)).join().unwrap();
    }
    let mid = allocmux_slab::stats();
    for b in 0..1000 / BATCH {
        let barrier = Arc::new(Barrier::new(BATCH));
        let hs: Vec<_> = (0..BATCH)
            .map(|i| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    work(b * BATCH + i)
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
    }
    allocmux_slab::collect();
    let after = allocmux_slab::stats();
    println!("before: {before:#?}\nafter sequential: {mid:#?}\nafter: {after:#?}");

    // Every thread handed its heap over at exit.
    assert!(after.threads_abandoned - before.threads_abandoned >= 2000);
    // Heaps are reused: the number created is bounded by the concurrency (plus the brief
    // window in which an adopter or a scavenger holds the abandoned list), not by the
    // thread count. A thread whose first call is a free also takes a heap (for its
    // outbox), which widens that window: 116–123 heaps measured for batches of 50.
    let new_heaps = after.heaps_created - before.heaps_created;
    assert!(new_heaps <= 3 * BATCH, "{new_heaps} heaps for 2000 threads");
    assert!(
        mid.heaps_created - before.heaps_created <= 2,
        "sequential threads reuse heaps"
    );
    // Memory: an abandoned heap with no live blocks keeps no segment; what remains is the
    // heap metadata (one 4 KiB mapping per heap) and at most the main thread's one cached
    // empty segment.
    let bound = before.mapped_bytes + new_heaps * HEAP_META + SEGMENT;
    assert!(
        after.mapped_bytes <= bound,
        "mapped {} > bound {}",
        after.mapped_bytes,
        bound
    );
    assert_eq!(after.large_count, before.large_count);
    // The harness's main thread may allocate concurrently (output buffers): a few KiB.
    assert!(after.in_use_bytes <= before.in_use_bytes + 16 * 1024);
}
