//! Heap adoption under thread churn, in the shape of mimalloc-bench's mleak: waves of
//! short threads start together, each allocates one small block, swaps it into a shared
//! table and frees the block it took out (usually another, exited thread's). Every heap
//! is handed over at exit, so the next wave should adopt those heaps rather than create
//! new ones: the number of heaps created stays near the number of threads alive at once,
//! and so does the memory they hold. (Before adopters waited for heaps another thread
//! held off the stack, this created hundreds of heaps and a segment for most of them.)

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicPtr, Ordering};

#[global_allocator]
static GLOBAL: allocmux_slab::SlabAlloc = allocmux_slab::SlabAlloc;

const WAVES: usize = 500;
const THREADS_PER_WAVE: usize = 10;
const SLOTS: usize = 1000;
const BLOCK: usize = 128;

static TABLE: [AtomicPtr<u8>; SLOTS] = [const { AtomicPtr::new(std::ptr::null_mut()) }; SLOTS];

fn layout() -> Layout {
    Layout::from_size_align(BLOCK, 8).unwrap()
}

#[test]
fn short_threads_adopt_heaps_instead_of_creating_them() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..WAVES {
        let wave: Vec<_> = (0..THREADS_PER_WAVE)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let slot = (seed % SLOTS as u64) as usize;
                std::thread::spawn(move || {
                    // SAFETY: a valid non-zero layout; the block is written before it is
                    // published and freed with the same layout by whoever takes it out.
                    unsafe {
                        let p = GLOBAL.alloc_zeroed(layout());
                        assert!(!p.is_null());
                        p.write(slot as u8);
                        let old = TABLE[slot].swap(p, Ordering::AcqRel);
                        if !old.is_null() {
                            assert_eq!(*old, slot as u8);
                            GLOBAL.dealloc(old, layout());
                        }
                    }
                })
            })
            .collect();
        for t in wave {
            t.join().unwrap();
        }
    }
    let s = allocmux_slab::stats();
    let threads = WAVES * THREADS_PER_WAVE;
    assert!(s.threads_abandoned >= threads, "{s:?}");
    // Ten threads at a time plus the test harness's; a few spare heaps are allowed for
    // adopters that gave up waiting on a busy machine.
    assert!(s.heaps_created <= 4 * THREADS_PER_WAVE, "{s:?}");
    assert!(s.segments <= 4 * THREADS_PER_WAVE, "{s:?}");
    for slot in &TABLE {
        let p = slot.swap(std::ptr::null_mut(), Ordering::AcqRel);
        if !p.is_null() {
            // SAFETY: every block in the table came from `alloc_zeroed(layout())`.
            unsafe { GLOBAL.dealloc(p, layout()) };
        }
    }
}
