//! jemalloc's native functions (`tikv-jemalloc-sys`, built with the `_rjem_`
//! prefix, so the library's own `malloc` is the only unprefixed one).

use core::ffi::c_void;
use core::ptr;

use tikv_jemalloc_sys as je;

/// A block of `size ≥ 1` bytes.
#[inline(always)]
pub fn malloc(size: usize) -> *mut c_void {
    // SAFETY: jemalloc's `malloc` accepts any size.
    unsafe { je::malloc(size) }
}

/// A zeroed block of `size ≥ 1` bytes.
#[inline(always)]
pub fn calloc(size: usize) -> *mut c_void {
    // SAFETY: jemalloc's `calloc` accepts any count and size.
    unsafe { je::calloc(1, size) }
}

/// A block aligned to `align` (a power of two above 16).
pub fn aligned(align: usize, size: usize) -> *mut c_void {
    let mut p = ptr::null_mut();
    // SAFETY: `p` is a valid out-pointer; `align` is a power of two multiple of
    // `sizeof(void *)`.
    match unsafe { je::posix_memalign(&mut p, align, size) } {
        0 => p,
        _ => ptr::null_mut(),
    }
}

/// Resizes a live block.
///
/// # Safety
/// `p` must be a live block of this allocator; `size ≥ 1`.
#[inline(always)]
pub unsafe fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: caller contract.
    unsafe { je::realloc(p, size) }
}

/// Frees a live block.
///
/// # Safety
/// `p` must be a live, non-null block of this allocator.
#[inline(always)]
pub unsafe fn free(p: *mut c_void) {
    // SAFETY: caller contract.
    unsafe { je::free(p) }
}

/// The usable bytes of a live block.
///
/// # Safety
/// `p` must be a live, non-null block of this allocator.
pub unsafe fn usable_size(p: *mut c_void) -> usize {
    // SAFETY: caller contract.
    unsafe { je::malloc_usable_size(p) }
}
