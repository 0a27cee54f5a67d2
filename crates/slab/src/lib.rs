//! allocmux's own slab allocator (placeholder until the real allocator lands).
//!
//! Until then [`SlabAlloc`] forwards to the system allocator and [`IMPLEMENTED`]
//! is `false`, so the façade reports the backend honestly.

use std::alloc::{GlobalAlloc, Layout, System};

/// Whether this crate holds the real slab allocator (`false`: forwards to the system allocator).
pub const IMPLEMENTED: bool = false;

/// The slab allocator as a `GlobalAlloc` value.
#[derive(Debug, Clone, Copy, Default)]
pub struct SlabAlloc;

// SAFETY: every method forwards to `System`, which upholds the `GlobalAlloc` contract.
unsafe impl GlobalAlloc for SlabAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }
    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was returned by `alloc` above, i.e. by `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}
