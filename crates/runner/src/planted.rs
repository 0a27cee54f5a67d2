//! The planted regression for testing the CI gate (`planted-slowdown`
//! feature only): a global allocator that does a fixed amount of extra work
//! per allocation before forwarding to the façade, so `cargo xtask bench-gate
//! --plant-slowdown N` can show that a known slowdown is caught.

use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// Extra loop iterations per allocation (from `ALLOCMUX_PLANTED_SPINS`).
static SPINS: AtomicU32 = AtomicU32::new(0);

/// Reads `ALLOCMUX_PLANTED_SPINS`; call once at start-up, before measuring.
pub fn init() {
    let spins = std::env::var("ALLOCMUX_PLANTED_SPINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    SPINS.store(spins, Relaxed);
}

#[inline]
fn extra_work() {
    for i in 0..SPINS.load(Relaxed) {
        black_box(i);
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
