//! snmalloc's native functions (`snmalloc-sys` with its C API, `libc-api`).

use core::ffi::c_void;

use snmalloc_sys as sn;

/// A block of `size ≥ 1` bytes.
#[inline(always)]
pub fn malloc(size: usize) -> *mut c_void {
    // SAFETY: `sn_malloc` accepts any size.
    unsafe { sn::sn_malloc(size) }
}

/// A zeroed block of `size ≥ 1` bytes.
#[inline(always)]
pub fn calloc(size: usize) -> *mut c_void {
    // SAFETY: `sn_calloc` accepts any count and size.
    unsafe { sn::sn_calloc(1, size) }
}

/// A block aligned to `align` (a power of two above 16). snmalloc's blocks are
/// naturally aligned to their size class, so any of its blocks is freed by `free`.
pub fn aligned(align: usize, size: usize) -> *mut c_void {
    // SAFETY: `align` is a power of two and `size` non-zero.
    unsafe { sn::sn_rust_alloc(align, size) }
}

/// Resizes a live block.
///
/// # Safety
/// `p` must be a live block of this allocator; `size ≥ 1`.
#[inline(always)]
pub unsafe fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: caller contract.
    unsafe { sn::sn_realloc(p, size) }
}

/// Frees a live block.
///
/// # Safety
/// `p` must be a live, non-null block of this allocator.
#[inline(always)]
pub unsafe fn free(p: *mut c_void) {
    // SAFETY: caller contract.
    unsafe { sn::sn_free(p) }
}

/// The usable bytes of a live block.
///
/// # Safety
/// `p` must be a live, non-null block of this allocator.
pub unsafe fn usable_size(p: *mut c_void) -> usize {
    // SAFETY: caller contract.
    unsafe { sn::sn_malloc_usable_size(p) }
}
