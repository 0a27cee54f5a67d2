//! A thread that exits gives its empty segments back with the most resident one on top
//! of the segment cache, so the next thread's first span lands in memory that is already
//! faulted in. (Released in the order their last pages retired, a thread set replaced by
//! the next one swapped its segments' roles: the new set carved fresh slots while the
//! resident ones waited in its second segment.)

use std::alloc::{alloc, dealloc, Layout};

use allocmux_slab::segment::segment_of;

#[global_allocator]
static GLOBAL: allocmux_slab::SlabAlloc = allocmux_slab::SlabAlloc;

/// One block per 64 KiB page: each allocation of this size carves its own span.
const BIG: usize = 40 * 1024;
/// A small class whose page is the first span of the first segment.
const SMALL: usize = 1024;

/// The address of the segment holding `p`.
fn segment(p: *mut u8) -> usize {
    segment_of(p) as usize
}

#[test]
fn next_thread_starts_in_the_most_resident_segment() {
    let big = Layout::from_size_align(BIG, 8).unwrap();
    let small = Layout::from_size_align(SMALL, 8).unwrap();
    // A fresh thread has a fresh heap, so no other test's pages are in the way.
    let (full, partial) = std::thread::spawn(move || {
        // SAFETY: non-zero sizes; every block is freed once with its own layout.
        unsafe {
            // The small block's page opens the first segment; big blocks fill that
            // segment and spill a few spans into a second one.
            let s = alloc(small);
            assert!(!s.is_null());
            let first = segment(s);
            let mut blocks = vec![];
            let mut in_second = 0;
            while in_second < 4 {
                let p = alloc(big);
                assert!(!p.is_null());
                if segment(p) != first {
                    in_second += 1;
                }
                blocks.push(p);
            }
            let second = segment(*blocks.last().unwrap());
            let in_first = blocks.iter().filter(|&&p| segment(p) == first).count();
            assert!(
                in_first > 4 * in_second,
                "{in_first} spans in the first segment"
            );
            // Everything is freed; each class keeps its last page (the small one in
            // the first segment, the last big one in the second) until the thread exits,
            // and the small class's page is retired first then.
            for &p in &blocks {
                dealloc(p, big);
            }
            dealloc(s, small);
            (first, second)
        }
    })
    .join()
    .unwrap();
    assert_ne!(full, partial);

    let p = std::thread::spawn(move || {
        // SAFETY: non-zero size, freed once with its layout.
        unsafe {
            let p = alloc(big);
            assert!(!p.is_null());
            let at = segment(p);
            dealloc(p, big);
            at
        }
    })
    .join()
    .unwrap();
    assert_eq!(
        p, full,
        "the next thread's span should land in the segment with the most resident slots \
         ({full:#x}), not in the one with a few ({partial:#x})"
    );
}
