//! Segments: 4 MiB-aligned regions from the OS, split into 64 slots of 64 KiB. Owns the
//! segment header, pointer → segment/page lookup, and the slot bitmaps (free, dirty,
//! fresh) used to carve spans and to purge.
//!
//! ```text
//! segment (4 MiB aligned)
//! | slot 0: Segment header + [Page; 64] | slot 1 | slot 2 | ... | slot 63 |
//!                                         `-- spans of 1..=16 slots --'
//! ```
//!
//! Large objects reuse the same header shape: the header sits at the 4 MiB boundary below
//! the object (see [`crate::large`]). Every pointer we hand out lies strictly above its
//! header, so `segment_of(p) = (p - 1) & !(SEGMENT_SIZE - 1)` finds it for both kinds,
//! even for an object aligned to 4 MiB or more.

use core::mem::size_of;
use core::ptr;

use crate::heap::Heap;
use crate::page::Page;
use crate::size_class::{PAGE_SHIFT, PAGE_SIZE};

/// log2 of the segment size.
pub const SEGMENT_SHIFT: usize = 22;
/// Segment size and alignment (4 MiB).
pub const SEGMENT_SIZE: usize = 1 << SEGMENT_SHIFT;
/// Slots (64 KiB pages) per segment; slot 0 holds the metadata.
pub const SLOTS: usize = SEGMENT_SIZE / PAGE_SIZE;
/// Bitmap of the slots usable for spans (1..=63).
pub const USABLE_SLOTS: u64 = !1u64;

/// Kind tag: a segment of size-class spans owned by a heap.
pub const KIND_SMALL: u8 = 1;
/// Kind tag: the header of one large object.
pub const KIND_LARGE: u8 = 2;

/// Owner value of large-object headers: never equal to a heap pointer (nor null), so the
/// free fast path's owner comparison fails for them.
pub const LARGE_OWNER: *mut Heap = ptr::NonNull::<Heap>::dangling().as_ptr();

/// Segment header (slot 0 of a small segment, or the header page of a large object).
#[repr(C)]
pub struct Segment {
    /// Owning heap (constant for the segment's life; [`LARGE_OWNER`] for large objects).
    pub owner: *mut Heap,
    /// [`KIND_SMALL`] or [`KIND_LARGE`].
    pub kind: u8,
    /// Live slots (carrying spans).
    pub used_slots: u32,
    /// Slots not carrying a span.
    pub free_mask: u64,
    /// Free slots that still hold physical memory (not purged yet).
    pub dirty_mask: u64,
    /// Free slots known to read as zero (fresh mapping or purged).
    pub fresh_mask: u64,
    /// Next segment in the owner heap's list.
    pub next: *mut Segment,
    /// Previous segment in the owner heap's list.
    pub prev: *mut Segment,
    /// Large objects: start of the whole mapping.
    pub map_base: *mut u8,
    /// Large objects: length of the whole mapping.
    pub map_size: usize,
    /// Large objects: alignment the mapping was made with.
    pub map_align: usize,
    /// Large objects: usable bytes from the object pointer to the end of the mapping.
    pub large_usable: usize,
}

/// Offset of the page-header array inside slot 0.
pub const PAGES_OFFSET: usize = (size_of::<Segment>() + 63) & !63;

const _: () = assert!(PAGES_OFFSET + SLOTS * size_of::<Page>() <= PAGE_SIZE);
const _: () = assert!(size_of::<Segment>() <= 4096);
const _: () = assert!(SLOTS == 64);

/// The segment (or large-object header) containing the allocator pointer `p`.
#[inline(always)]
pub fn segment_of(p: *const u8) -> *mut Segment {
    // Pointer arithmetic (not an integer cast) keeps the mapping's provenance for Miri.
    let back = ((p as usize).wrapping_sub(1) & (SEGMENT_SIZE - 1)) + 1;
    p.wrapping_sub(back) as *mut Segment
}

/// The page-header array of a small segment.
#[inline(always)]
pub fn pages_of(seg: *mut Segment) -> *mut Page {
    (seg as *mut u8).wrapping_add(PAGES_OFFSET) as *mut Page
}

/// The header of the span containing `p` (inside small segment `seg`).
///
/// # Safety
/// `seg` must be a live small segment and `p` a pointer into one of its live spans.
#[inline(always)]
pub unsafe fn page_of(seg: *mut Segment, p: *const u8) -> *mut Page {
    let idx = (p as usize - seg as usize) >> PAGE_SHIFT;
    debug_assert!(idx > 0 && idx < SLOTS);
    // SAFETY: `idx < SLOTS`, so the header is inside the page array; a non-first slot's
    // `span_offset` points back inside the same span.
    unsafe {
        let page = pages_of(seg).add(idx);
        page.sub((*page).span_offset as usize)
    }
}

/// Index of a page header within its segment.
#[inline]
pub fn page_index(seg: *mut Segment, page: *mut Page) -> usize {
    (page as usize - pages_of(seg) as usize) / size_of::<Page>()
}

/// The segment holding a page header.
#[inline]
pub fn segment_of_page(page: *mut Page) -> *mut Segment {
    (page as *mut u8).wrapping_sub(page as usize & (SEGMENT_SIZE - 1)) as *mut Segment
}

/// Mask of `n` slots starting at `i`.
#[inline]
pub fn run_mask(i: usize, n: usize) -> u64 {
    debug_assert!(n >= 1 && i + n <= SLOTS);
    (if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }) << i
}

/// First index of a run of `n` set bits in `mask` (slots 1..=63), if any.
#[inline]
pub fn find_run(mask: u64, n: usize) -> Option<usize> {
    if mask == 0 || n == 0 || n >= SLOTS {
        return None;
    }
    let want = (1u64 << n) - 1;
    let mut i = mask.trailing_zeros() as usize;
    while i + n <= SLOTS {
        if (mask >> i) & want == want {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Initialises a freshly mapped (zeroed) small segment for `owner`.
///
/// # Safety
/// `seg` must point to a fresh, zeroed, `SEGMENT_SIZE`-aligned mapping of
/// `SEGMENT_SIZE` bytes.
pub unsafe fn init_small(seg: *mut Segment, owner: *mut Heap) {
    // SAFETY: the caller hands us fresh memory; zero is a valid `Page` for every slot.
    unsafe {
        ptr::write(
            seg,
            Segment {
                owner,
                kind: KIND_SMALL,
                used_slots: 0,
                free_mask: USABLE_SLOTS,
                dirty_mask: 0,
                fresh_mask: USABLE_SLOTS,
                next: ptr::null_mut(),
                prev: ptr::null_mut(),
                map_base: seg as *mut u8,
                map_size: SEGMENT_SIZE,
                map_align: SEGMENT_SIZE,
                large_usable: 0,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_finding() {
        assert_eq!(find_run(USABLE_SLOTS, 1), Some(1));
        assert_eq!(find_run(USABLE_SLOTS, 16), Some(1));
        assert_eq!(find_run(USABLE_SLOTS, 63), Some(1));
        assert_eq!(find_run(0, 1), None);
        let m = run_mask(5, 3) | run_mask(20, 8);
        assert_eq!(find_run(m, 3), Some(5));
        assert_eq!(find_run(m, 4), Some(20));
        assert_eq!(find_run(m, 9), None);
        assert_eq!(run_mask(1, 63), USABLE_SLOTS);
    }

    #[test]
    fn pointer_to_segment() {
        let seg = 16 * SEGMENT_SIZE;
        let at = |a: usize| ptr::null::<u8>().wrapping_add(a);
        assert_eq!(segment_of(at(seg + PAGE_SIZE)) as usize, seg);
        assert_eq!(segment_of(at(seg + SEGMENT_SIZE - 1)) as usize, seg);
        // An object exactly on the next boundary belongs to the header below it.
        assert_eq!(segment_of(at(seg + SEGMENT_SIZE)) as usize, seg);
    }
}
