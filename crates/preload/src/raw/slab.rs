//! The slab's entry points (`allocmux-slab`). The slab frees and sizes a block
//! from its pointer alone (it masks the pointer to find the block's page), so
//! the layouts passed to `dealloc` are placeholders.

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;
use core::ptr;

use slab::SlabAlloc;

/// The request actually allocated for `malloc(size)`: sizes above 8 are rounded to a
/// multiple of 16, which makes the slab pick a class whose block size is a multiple of
/// 16 (every class above 64 bytes that is a multiple of 16 exists, and spans are 64 KiB
/// aligned), so the block is 16-byte aligned without taking the aligned path.
#[inline(always)]
fn malloc_size(size: usize) -> usize {
    if size <= 8 {
        8
    } else {
        (size.wrapping_add(15)) & !15
    }
}

/// The layout of a plain block of `size ≥ 1` bytes, or `None` when rounding overflows.
#[inline(always)]
fn malloc_layout(size: usize) -> Option<Layout> {
    let s = malloc_size(size);
    if s < size || s > isize::MAX as usize {
        return None;
    }
    // SAFETY: `s` is non-zero, at most `isize::MAX`, and 8 is a power of two.
    Some(unsafe { Layout::from_size_align_unchecked(s, 8) })
}

/// Largest C `malloc` request [`malloc_small`] takes (see [`crate::raw`]).
pub const SMALL_MAX: usize = slab::size_class::SMALL_TABLE_MAX;

/// C `malloc` of `size <= SMALL_MAX` bytes, 0 included: the slab's table lookup and pop.
#[inline(always)]
pub fn malloc_small(size: usize) -> *mut c_void {
    slab::malloc_small(size) as *mut c_void
}

/// [`malloc_small`]'s fast path alone (`size <= SMALL_MAX`): null when it would need
/// the slow path, which the caller then takes through [`malloc_small`].
#[inline(always)]
pub fn malloc_small_fast(size: usize) -> *mut c_void {
    slab::malloc_small_fast(size) as *mut c_void
}

/// Whether the slab served this process: every thread's first allocation creates its
/// heap.
pub fn served() -> bool {
    slab::stats::HEAPS_CREATED.get() > 0
}

/// A block of `size ≥ 1` bytes.
#[inline(always)]
pub fn malloc(size: usize) -> *mut c_void {
    match malloc_layout(size) {
        // SAFETY: the layout is valid and non-zero-sized.
        Some(l) => unsafe { SlabAlloc.alloc(l) as *mut c_void },
        None => ptr::null_mut(),
    }
}

/// A zeroed block of `size ≥ 1` bytes.
pub fn calloc(size: usize) -> *mut c_void {
    if size <= SMALL_MAX {
        let p = slab::malloc_small(size);
        if !p.is_null() {
            // SAFETY: `p` is a block just allocated, of at least `size` bytes.
            unsafe { slab::zero_fresh(p, size) };
        }
        return p as *mut c_void;
    }
    match malloc_layout(size) {
        // SAFETY: the layout is valid and non-zero-sized.
        Some(l) => unsafe { SlabAlloc.alloc_zeroed(l) as *mut c_void },
        None => ptr::null_mut(),
    }
}

/// A block aligned to `align` (a power of two above 16).
pub fn aligned(align: usize, size: usize) -> *mut c_void {
    match Layout::from_size_align(size, align) {
        // SAFETY: the layout is valid and non-zero-sized.
        Ok(l) => unsafe { SlabAlloc.alloc(l) as *mut c_void },
        Err(_) => ptr::null_mut(),
    }
}

/// Resizes a live block: kept in place while it fits and is not too wasteful; a
/// large object grows by moving its pages (keeping its alignment); anything else
/// moves to a fresh malloc-aligned block (C's `realloc` only promises that).
///
/// # Safety
/// `p` must be a live block of this allocator; `size ≥ 1`.
pub unsafe fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: `p` is live (caller contract).
    let usable = unsafe { slab::usable_size(p as *const u8) };
    if size <= usable && size >= usable / 2 {
        return p;
    }
    let seg = slab::segment::segment_of(p as *const u8);
    // SAFETY: `p` is live, so its header is valid; `grow` leaves the object untouched
    // when it returns null.
    unsafe {
        if size > usable && (*seg).kind == slab::segment::KIND_LARGE {
            let q = slab::large::grow(seg, p as *mut u8, size);
            if !q.is_null() {
                return q as *mut c_void;
            }
        }
    }
    let q = malloc(size);
    if q.is_null() {
        return q;
    }
    // SAFETY: both blocks are live and distinct; `p` has `usable` readable bytes and
    // `q` at least `size`.
    unsafe {
        ptr::copy_nonoverlapping(p as *const u8, q as *mut u8, usable.min(size));
        free(p);
    }
    q
}

/// Frees a live block.
///
/// # Safety
/// `p` must be a live, non-null block of this allocator.
#[inline(always)]
pub unsafe fn free(p: *mut c_void) {
    // SAFETY: `p` is live (caller contract); the slab's `dealloc` ignores the layout.
    unsafe { SlabAlloc.dealloc(p as *mut u8, Layout::from_size_align_unchecked(1, 1)) }
}

/// The usable bytes of a live block.
///
/// # Safety
/// `p` must be a live, non-null block of this allocator.
pub unsafe fn usable_size(p: *mut c_void) -> usize {
    // SAFETY: caller contract.
    unsafe { slab::usable_size(p as *const u8) }
}
