//! The planted regressions for testing the CI gate (`planted-slowdown`
//! feature only): a global allocator that, before forwarding to the façade,
//! does a fixed amount of extra work per allocation
//! (`ALLOCMUX_PLANTED_SPINS`, `bench-gate --plant-slowdown N`) and makes extra
//! small allocations through the façade, counted by its `stats` layer
//! (`ALLOCMUX_PLANTED_ALLOCS`, `bench-gate --plant-allocations N`), so the
//! gate can show that a known slowdown or a known extra allocation is caught.

use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// Extra loop iterations per allocation (from `ALLOCMUX_PLANTED_SPINS`).
static SPINS: AtomicU32 = AtomicU32::new(0);
/// Extra 16-byte allocations (each freed at once) per allocation (from
/// `ALLOCMUX_PLANTED_ALLOCS`).
static ALLOCS: AtomicU32 = AtomicU32::new(0);

/// Reads the knobs; call once at start-up, before measuring.
pub fn init() {
    let read = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    SPINS.store(read("ALLOCMUX_PLANTED_SPINS"), Relaxed);
    ALLOCS.store(read("ALLOCMUX_PLANTED_ALLOCS"), Relaxed);
}

#[inline]
fn extra_work() {
    for i in 0..SPINS.load(Relaxed) {
        black_box(i);
    }
    let tiny = Layout::new::<[u64; 2]>();
    for _ in 0..ALLOCS.load(Relaxed) {
        // SAFETY: a non-zero layout; the block is freed with it at once.
        unsafe {
            let p = allocmux::Allocator.alloc(tiny);
            if !p.is_null() {
                allocmux::Allocator.dealloc(black_box(p), tiny);
            }
        }
    }
}

/// The façade's allocator plus the planted extra work on every allocation.
pub struct Planted;

// SAFETY: every method forwards unchanged to `allocmux::Allocator`, which
// upholds the contract; the extra work touches no memory of the caller.
unsafe impl GlobalAlloc for Planted {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        extra_work();
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { allocmux::Allocator.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `allocmux::Allocator` with `layout`.
        unsafe { allocmux::Allocator.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        extra_work();
        // SAFETY: as for `alloc`.
        unsafe { allocmux::Allocator.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        extra_work();
        // SAFETY: `ptr` was allocated by `allocmux::Allocator` with `layout`.
        unsafe { allocmux::Allocator.realloc(ptr, layout, new_size) }
    }
}
