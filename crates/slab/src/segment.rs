//! Segments: 4 MiB-aligned regions from the OS, split into 64 slots of 64 KiB. Owns the
//! segment header, pointer → segment/page lookup, and the slot bitmaps (free, dirty,
//! fresh) used to carve spans and to purge.
//!
//! ```text
//! segment (4 MiB aligned)
//! | slot 0: Segment header + [Page; 64] | slot 1 | slot 2 | ... | slot 63 |
//!                                         `-- spans of 1..=8 slots --'
//! ```
//!
//! With guard pages ([`crate::checks::GUARD_PAGES`], the hardened build) slot 0 ends in a
//! `PROT_NONE` page, so an underflow out of the first span cannot reach the headers, and
//! slot 63 is a guard slot, so an overflow out of the last span cannot reach the next
//! mapping (perhaps another segment's header):
//!
//! ```text
//! | hdr+pages ... |guard| slot 1 | ... | slot 62 | guard slot 63 |
//! 0               60K   64K                       4M-64K
//! ```
//!
//! Large objects reuse the same header shape: the header sits at the 4 MiB boundary below
//! the object (see [`crate::large`]). Every pointer we hand out lies strictly above its
//! header, so `segment_of(p) = (p - 1) & !(SEGMENT_SIZE - 1)` finds it for both kinds,
//! even for an object aligned to 4 MiB or more.

use core::mem::size_of;
use core::ptr;

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::checks::{self, Seal, GUARD_PAGES, GUARD_SIZE};
use crate::dlist::impl_list_node;
use crate::heap::Heap;
use crate::layout::{PAGE_SHIFT, PAGE_SIZE, SEGMENT_SIZE};
use crate::os;
use crate::page::Page;
use crate::pool::Pool;
use crate::stats;

/// Slots (64 KiB pages) per segment; slot 0 holds the metadata.
pub const SLOTS: usize = SEGMENT_SIZE / PAGE_SIZE;
/// Bitmap of the slots usable for spans: 1..=63, or 1..=62 with guard pages (slot 63 is
/// then the guard slot).
pub const USABLE_SLOTS: u64 = if GUARD_PAGES {
    !1u64 & !(1u64 << 63)
} else {
    !1u64
};
/// The first slot a span can start at.
pub const FIRST_SLOT: usize = USABLE_SLOTS.trailing_zeros() as usize;

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
    /// Some page of this segment was abandoned since the owner acquired it
    /// ([`crate::handoff`]); until then every page's lists are the owner's, so another
    /// thread's free goes to the owner without reading the page's header.
    pub handed_off: AtomicBool,
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
    /// When the segment entered the global cache (ms), for the purge delay.
    pub cached_at: u64,
    /// Large objects, hardened build: the keyed seal of the header fields (zero-sized
    /// otherwise; see [`crate::large`]).
    pub seal: Seal,
}

// The `next` field links a segment into its heap's list and into the cache stack (never
// both at once).
crate::list::impl_link!(Segment, next);
impl_list_node!(Segment, next, prev, ptr::null_mut());

/// Offset of the page-header array inside slot 0 (aligned for [`Page`], whose first
/// line other threads read and whose second its owner writes).
pub const PAGES_OFFSET: usize = size_of::<Segment>().next_multiple_of(align_of::<Page>());

const _: () = assert!(PAGES_OFFSET + SLOTS * size_of::<Page>() <= PAGE_SIZE - GUARD_SIZE);
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
    // `span_offset_bytes` points back inside the same span.
    unsafe {
        let page = pages_of(seg).add(idx);
        (page as *mut u8).sub((*page).span_offset_bytes as usize) as *mut Page
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
                handed_off: AtomicBool::new(false),
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
                cached_at: 0,
                seal: Seal::NONE,
            },
        );
    }
}

// ---------------------------------------------------------------------------------------
// Segment supply: a small global cache of empty segments in front of mmap/munmap
// ---------------------------------------------------------------------------------------

/// Empty segments kept mapped process-wide for reuse; beyond this they are unmapped at
/// once. Large enough for every segment of a set of threads that exits and is replaced
/// (rptest at 8 threads empties about 40 segments at a time: 16 made it map and fault
/// in about 700 segments a run, see docs/perf-log.md).
pub const CACHE_MAX: usize = 64;
/// Cached segments kept past the purge delay (purged, so they hold address space, not
/// memory); older ones beyond these are unmapped.
pub const CACHE_KEEP: usize = 16;

/// Empty segments waiting for reuse (linked through `next`). A thread needing a segment
/// waits for segments another thread holds for a moment (see [`crate::pool`]): without
/// that, threads that looked while [`cache_maintain`] held the cache mapped new segments
/// and faulted them in (test-stress: 118 of 208 segments mapped while some were cached).
static CACHE: Pool<Segment> = Pool::new();
/// When [`cache_maintain`] next looks at the cache (ms, [`os::now_ms`]): each heap's purge
/// calls it, and a pass holds the whole cache, so passes are spaced a quarter of the purge
/// delay apart (ripe segments are handled that much late at most).
static NEXT_MAINTAIN_MS: AtomicU64 = AtomicU64::new(0);
/// Approximate number of cached segments.
static CACHE_COUNT: AtomicUsize = AtomicUsize::new(0);

/// A small segment for `owner`: from the cache (pages possibly still resident) or newly
/// mapped. Null if the OS refuses.
///
/// # Safety
/// `owner` must be the caller's live heap (it is stored as the segment's owner).
pub unsafe fn acquire(owner: *mut Heap) -> *mut Segment {
    // SAFETY: cached segments are mapped and unowned; `take_one` makes us their owner
    // (waiting for segments a maintenance pass holds).
    let seg = unsafe { CACHE.take_one() };
    if !seg.is_null() {
        CACHE_COUNT.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: an empty segment we now own: its page headers are all free slots and
        // its masks describe which of them are resident/zero.
        unsafe {
            debug_assert_eq!((*seg).used_slots, 0);
            debug_assert_eq!((*seg).free_mask, USABLE_SLOTS);
            (*seg).owner = owner;
            (*seg).handed_off.store(false, Ordering::Relaxed);
            checks::register(seg);
            (*seg).next = ptr::null_mut();
            (*seg).prev = ptr::null_mut();
        }
        return seg;
    }
    let seg = os::map_aligned(SEGMENT_SIZE, SEGMENT_SIZE) as *mut Segment;
    if seg.is_null() {
        return seg;
    }
    // SAFETY: the whole fresh segment is our mapping. (With guard pages, each half holds
    // a `PROT_NONE` range, so neither can become a huge page.)
    unsafe { os::advise_huge_pages(seg as *mut u8, SEGMENT_SIZE) };
    // SAFETY: a fresh zeroed aligned mapping of one segment; the guard ranges (the end of
    // slot 0 and slot 63, with guard pages on) lie inside it and never carry spans.
    unsafe {
        init_small(seg, owner);
        let base = seg as *mut u8;
        checks::guard_range(base.add(PAGE_SIZE - GUARD_SIZE), GUARD_SIZE);
        checks::guard_range(base.add(SEGMENT_SIZE - PAGE_SIZE), PAGE_SIZE);
    }
    checks::register(seg);
    stats::MAPPED.add(SEGMENT_SIZE);
    stats::SEGMENTS.add(1);
    seg
}

/// Gives back an empty, unlinked segment: into the cache, or unmapped if it is full.
///
/// # Safety
/// `seg` must be a small segment with no live slot, on no list, referred to by nobody
/// (no block of it is live, so no remote free can target it).
pub unsafe fn release(seg: *mut Segment) {
    // SAFETY: per the contract we own the segment exclusively.
    unsafe {
        debug_assert_eq!((*seg).used_slots, 0);
        if CACHE_COUNT.fetch_add(1, Ordering::Relaxed) < CACHE_MAX {
            (*seg).owner = ptr::null_mut();
            checks::mark_cached(seg);
            (*seg).cached_at = os::now_ms();
            CACHE.push(seg);
        } else {
            CACHE_COUNT.fetch_sub(1, Ordering::Relaxed);
            unmap(seg);
        }
    }
}

/// Unmaps an empty small segment.
unsafe fn unmap(seg: *mut Segment) {
    // SAFETY: the caller owns the empty segment exclusively.
    unsafe {
        stats::PAGES_EMPTY.sub((*seg).dirty_mask.count_ones() as usize);
        stats::MAPPED.sub(SEGMENT_SIZE);
        stats::SEGMENTS.sub(1);
        checks::unregister(seg);
        os::unmap(seg as *mut u8, SEGMENT_SIZE, SEGMENT_SIZE);
    }
}

/// Purges the free slots of `seg` that were freed at least `delay` ms before `now` (all
/// with `delay == 0`). Returns whether some dirty slot is left.
///
/// # Safety
/// The caller must own `seg` (through its heap or the cache).
pub unsafe fn purge(seg: *mut Segment, now: u64, delay: u64) -> bool {
    // SAFETY: owned segment; dirty slots hold no live data.
    unsafe {
        let dirty = (*seg).dirty_mask;
        if dirty == 0 {
            return false;
        }
        let pages = pages_of(seg);
        let mut ripe = 0u64;
        let mut left = false;
        let mut m = dirty;
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            if delay == 0 || now.wrapping_sub((*pages.add(i)).freed_at) >= delay {
                ripe |= 1u64 << i;
            } else {
                left = true;
            }
        }
        // One madvise per contiguous run.
        let mut r = ripe;
        while r != 0 {
            let i = r.trailing_zeros() as usize;
            let len = (!(r >> i)).trailing_zeros() as usize;
            os::purge((seg as *mut u8).add(i * PAGE_SIZE), len * PAGE_SIZE);
            r &= !run_mask(i, len);
        }
        (*seg).dirty_mask &= !ripe;
        (*seg).fresh_mask |= ripe;
        let k = ripe.count_ones() as usize;
        stats::PAGES_EMPTY.sub(k);
        stats::PURGED.add(k * PAGE_SIZE);
        left
    }
}

/// Purges cached segments that stayed cached for `delay` ms (all with `delay == 0`),
/// unmapping those beyond the [`CACHE_KEEP`] most recent; with `flush`, unmaps every
/// cached segment instead.
pub fn cache_maintain(delay: u64, flush: bool) {
    if CACHE.is_empty() {
        return;
    }
    let now = os::now_ms();
    if !flush && delay != 0 {
        if now < NEXT_MAINTAIN_MS.load(Ordering::Relaxed) {
            return;
        }
        NEXT_MAINTAIN_MS.store(now + delay / 4, Ordering::Relaxed);
    }
    let held = CACHE.hold_all();
    let first = held.first;
    let mut keep_first: *mut Segment = ptr::null_mut();
    let mut keep_last: *mut Segment = ptr::null_mut();
    let mut kept = 0;
    let mut seg = first;
    // SAFETY: `hold_all` made us the owner of the chain of cached (empty) segments; the
    // kept ones are relinked in their order (most recently cached first).
    unsafe {
        while !seg.is_null() {
            let next = (*seg).next;
            let ripe = delay == 0 || now.wrapping_sub((*seg).cached_at) >= delay;
            if flush || (ripe && kept >= CACHE_KEEP) {
                CACHE_COUNT.fetch_sub(1, Ordering::Relaxed);
                unmap(seg);
            } else {
                if ripe {
                    purge(seg, now, 0);
                }
                kept += 1;
                (*seg).next = ptr::null_mut();
                if keep_last.is_null() {
                    keep_first = seg;
                } else {
                    (*keep_last).next = seg;
                }
                keep_last = seg;
            }
            seg = next;
        }
        if !keep_first.is_null() {
            CACHE.push_chain(keep_first, keep_last);
        }
    }
    drop(held);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_finding() {
        let all = !1u64; // slots 1..=63
        assert_eq!(find_run(all, 1), Some(1));
        assert_eq!(find_run(all, 16), Some(1));
        assert_eq!(find_run(all, 63), Some(1));
        assert_eq!(find_run(USABLE_SLOTS, 1), Some(FIRST_SLOT));
        assert_eq!(find_run(0, 1), None);
        let m = run_mask(5, 3) | run_mask(20, 8);
        assert_eq!(find_run(m, 3), Some(5));
        assert_eq!(find_run(m, 4), Some(20));
        assert_eq!(find_run(m, 9), None);
        assert_eq!(run_mask(1, 63), all);
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
