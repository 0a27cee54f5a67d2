//! mimalloc's native functions (`libmimalloc-sys`).

use core::ffi::c_void;

use libmimalloc_sys as mi;

/// A block of `size ≥ 1` bytes.
#[inline(always)]
pub fn malloc(size: usize) -> *mut c_void {
    // SAFETY: `mi_malloc` accepts any size.
    unsafe { mi::mi_malloc(size) }
}

/// A zeroed block of `size ≥ 1` bytes.
#[inline(always)]
pub fn calloc(size: usize) -> *mut c_void {
    // SAFETY: `mi_calloc` accepts any count and size.
    unsafe { mi::mi_calloc(1, size) }
}

/// A block aligned to `align` (a power of two above 16).
pub fn aligned(align: usize, size: usize) -> *mut c_void {
    // SAFETY: `align` is a power of two.
    unsafe { mi::mi_malloc_aligned(size, align) }
}

/// Resizes a live block.
///
/// # Safety
/// `p` must be a live block of this allocator; `size ≥ 1`.
#[inline(always)]
pub unsafe fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: caller contract.
    unsafe { mi::mi_realloc(p, size) }
}

/// Frees a live block.
///
/// # Safety
/// `p` must be a live, non-null block of this allocator.
#[inline(always)]
pub unsafe fn free(p: *mut c_void) {
    // SAFETY: caller contract.
    unsafe { mi::mi_free(p) }
}

/// The usable bytes of a live block.
///
/// # Safety
/// `p` must be a live, non-null block of this allocator.
pub unsafe fn usable_size(p: *mut c_void) -> usize {
    // SAFETY: caller contract.
    unsafe { mi::mi_usable_size(p) }
}
