//! Large objects (above 512 KiB, or aligned above 64 KiB): each is its own OS mapping,
//! returned to the OS on free.
//!
//! ```text
//! map_base (aligned to max(align, 4 MiB))
//! | header (Segment, KIND_LARGE) ... | object (at map_base + max(align, 4 KiB)) ... |
//!   ^ segment_of(object) = (object - 1) rounded down to 4 MiB
//! ```
//!
//! For alignments above 4 MiB the header sits at `object - 4 MiB` inside the mapping;
//! the untouched padding below costs address space only.

use core::ptr;

use crate::os;
use crate::segment::{Segment, KIND_LARGE, LARGE_OWNER, SEGMENT_SIZE};
use crate::stats;

/// Bytes reserved below a large object for its header (when alignment is smaller).
pub const LARGE_HEADER: usize = 4096;

/// Maps a large object; null for impossible sizes or when the OS refuses.
pub fn alloc(size: usize, align: usize) -> *mut u8 {
    let off = align.max(LARGE_HEADER);
    let map_align = align.max(SEGMENT_SIZE);
    let Some(total) = off
        .checked_add(size)
        .and_then(|t| t.checked_add(LARGE_HEADER - 1))
        .map(|t| t & !(LARGE_HEADER - 1))
    else {
        return ptr::null_mut();
    };
    if total > isize::MAX as usize - map_align {
        return ptr::null_mut();
    }
    let base = os::map_aligned(total, map_align);
    if base.is_null() {
        return base;
    }
    // SAFETY: `off < total`, so the object and its header lie inside the new mapping.
    unsafe {
        let obj = base.add(off);
        let seg = crate::segment::segment_of(obj);
        debug_assert!(seg as usize >= base as usize && (seg as usize) < obj as usize);
        ptr::write(
            seg,
            Segment {
                owner: LARGE_OWNER,
                kind: KIND_LARGE,
                used_slots: 0,
                free_mask: 0,
                dirty_mask: 0,
                fresh_mask: 0,
                next: ptr::null_mut(),
                prev: ptr::null_mut(),
                map_base: base,
                map_size: total,
                map_align,
                large_usable: total - off,
            },
        );
        stats::MAPPED.add(total);
        stats::LARGE_COUNT.add(1);
        stats::LARGE_BYTES.add(total - off);
        obj
    }
}

/// Unmaps the large object whose header is `seg`.
///
/// # Safety
/// `seg` must be the header of a live large object that nobody uses any more.
pub unsafe fn free(seg: *mut Segment) {
    // SAFETY: the header is valid until we unmap the whole mapping it describes.
    unsafe {
        let (base, size, align, usable) = (
            (*seg).map_base,
            (*seg).map_size,
            (*seg).map_align,
            (*seg).large_usable,
        );
        stats::MAPPED.sub(size);
        stats::LARGE_COUNT.sub(1);
        stats::LARGE_BYTES.sub(usable);
        os::unmap(base, size, align);
    }
}
