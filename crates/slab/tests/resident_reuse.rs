//! A new span goes to free slots that are still resident before purged ones: a heap
//! whose pages come and go reuses memory it already faulted in instead of faulting
//! in the purged slots again (rptest's original spent its time in those faults).

use std::alloc::{alloc, dealloc, Layout};

#[global_allocator]
static GLOBAL: allocmux_slab::SlabAlloc = allocmux_slab::SlabAlloc;

/// One block per 64 KiB page: each allocation of these sizes carves its own span.
const BIG: usize = 40 * 1024;
/// A second class of the same kind, so its span must come from the segment's free slots.
const OTHER: usize = 48 * 1024;

#[test]
fn new_span_prefers_resident_free_slots() {
    // A fresh thread has a fresh heap, so no other test's pages are in the way.
    std::thread::spawn(|| {
        let big = Layout::from_size_align(BIG, 8).unwrap();
        // SAFETY: non-zero sizes; every block is freed once with its own layout.
        unsafe {
            let blocks: Vec<*mut u8> = (0..5).map(|_| alloc(big)).collect();
            assert!(blocks.iter().all(|p| !p.is_null()));
            // Three spans go back to their segment and are purged at once: free and
            // clean slots, below the ones still in use.
            for &p in &blocks[..3] {
                dealloc(p, big);
            }
            allocmux_slab::collect();
            let purged = allocmux_slab::stats();
            assert_eq!(purged.pages_empty, 0, "{purged:?}");
            // The fourth span goes back too and stays resident (within the purge delay).
            dealloc(blocks[3], big);
            let dirty = allocmux_slab::stats();
            assert_eq!(dirty.pages_empty, 1, "{dirty:?}");

            let other = Layout::from_size_align(OTHER, 8).unwrap();
            let q = alloc(other);
            assert_eq!(
                q, blocks[3],
                "the new span should take the resident slot, not a purged one ({:?})",
                blocks
            );
            assert_eq!(allocmux_slab::stats().pages_empty, 0);
            dealloc(q, other);
            dealloc(blocks[4], big);
        }
    })
    .join()
    .unwrap();
}
