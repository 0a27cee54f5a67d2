//! A heap's spans and segments: carving a span for a size class out of the heap's
//! segments (a new page), giving an empty page's span back, getting and releasing the
//! heap's segments, and purging free slots once they stayed free for the purge delay.
//!
//! ```text
//! heap.segments --> segment <--> segment --> null
//!                   | hdr | span | free | span (2 slots) | free ... |
//!                           ^ carved with find_run (resident slots first), returned with run_mask
//! ```
//!
//! Only the heap's owner calls these (see [`crate::heap`]).

use core::ptr;
use core::sync::atomic::AtomicPtr;

use crate::checks::PageGuard;
use crate::dlist::{self, ListNode};
use crate::heap::Heap;
use crate::layout::PAGE_SIZE;
use crate::lifecycle::scavenge;
use crate::os;
use crate::page::Page;
use crate::page_queue;
use crate::segment::{
    self, find_run, page_index, pages_of, run_mask, segment_of_page, Segment, SLOTS,
};
use crate::size_class::{class_size, span_pages};
use crate::stats;

/// Free pages are purged once they stayed free this long (milliseconds). 50 ms made
/// mstress with 8 threads on 2 cores purge and re-fault 3 GB per run (see
/// docs/perf-log.md); half a second still returns an idle program's memory promptly.
pub const PURGE_DELAY_MS: u64 = 500;
/// Fully empty segments a heap keeps mapped (purged after the delay) before unmapping.
pub const MAX_EMPTY_SEGMENTS: usize = 1;
/// Segments searched for resident free slots before any free slot will do (a bound, so
/// carving a page in a heap of thousands of segments stays cheap).
pub const RESIDENT_SEARCH_SEGMENTS: usize = 16;

/// Carves a span for `class` and makes its page the class's current page. Null if the OS
/// refuses memory.
///
/// # Safety
/// The caller must own `heap`; `class < CLASS_COUNT`.
pub unsafe fn new_page(heap: *mut Heap, class: usize) -> *mut Page {
    let n = span_pages(class);
    // SAFETY: the heap and its segments are owned by the caller.
    unsafe {
        if n == 1 {
            let page = crate::handoff::take_pooled(heap, class);
            if !page.is_null() {
                return page;
            }
        }
        let (seg, idx) = match find_slots(heap, n) {
            Some(found) => found,
            None => {
                let seg = new_segment(heap);
                if seg.is_null() {
                    return ptr::null_mut();
                }
                (seg, segment::FIRST_SLOT)
            }
        };
        let mask = run_mask(idx, n);
        if (*seg).used_slots == 0 {
            (*heap).empty_segments -= 1;
        }
        let dirty = ((*seg).dirty_mask & mask).count_ones() as usize;
        let fresh = (*seg).fresh_mask & mask == mask;
        (*seg).free_mask &= !mask;
        (*seg).dirty_mask &= !mask;
        (*seg).fresh_mask &= !mask;
        (*seg).used_slots += n as u32;
        stats::PAGES_EMPTY.sub(dirty);
        stats::PAGES_LIVE.add(n);

        let pages = pages_of(seg);
        for j in 1..n {
            let p = pages.add(idx + j);
            ptr::write(p, Page::EMPTY);
            (*p).span_offset_bytes = (j * size_of::<Page>()) as u32;
        }
        let page = pages.add(idx);
        carve(heap, page, class, n, fresh);
        page
    }
}

/// Writes the header of span `page` (`slots` slots, its memory zero if `fresh`) for
/// `class`, owned by `heap`, and makes it the class's current page.
///
/// # Safety
/// The caller must own `heap`; `page` must be the first slot of a span of one of the
/// heap's segments (or of a pooled empty page), on no queue and holding no block.
pub unsafe fn carve(heap: *mut Heap, page: *mut Page, class: usize, slots: usize, fresh: bool) {
    // SAFETY: per the contract.
    unsafe {
        let seg = segment::segment_of_page(page);
        let idx = page_index(seg, page);
        let bsize = class_size(class);
        let capacity = (slots * PAGE_SIZE) / bsize;
        ptr::write(
            page,
            Page {
                class: class as u8,
                fresh,
                block_size: bsize,
                start: (seg as *mut u8).add(idx * PAGE_SIZE),
                capacity: capacity as u32,
                span_slots: slots as u32,
                guard: PageGuard::new(&mut (*heap).keys, bsize, capacity),
                owner: AtomicPtr::new(heap),
                ..Page::EMPTY
            },
        );
        crate::page::update_flags(page);
        page_queue::push_current(heap, page);
    }
}

/// Free slots of the heap's segments for an `n`-slot span: a run of resident (dirty)
/// slots if one of the first [`RESIDENT_SEARCH_SEGMENTS`] segments has one, else the
/// first free run. Reusing memory that is still resident saves faulting in purged or
/// fresh pages (and keeps the resident set small) when a heap's pages come and go;
/// fresh slots are zero, which saves only a calloc's memset.
///
/// # Safety
/// The caller must own `heap`.
unsafe fn find_slots(heap: *mut Heap, n: usize) -> Option<(*mut Segment, usize)> {
    // SAFETY: the heap is owned by the caller.
    unsafe {
        // `purge_pending` is set whenever a slot turns dirty and cleared only by a purge
        // that left none, so without it there is nothing resident to find.
        let resident = if (*heap).purge_pending {
            first_run(heap, n, RESIDENT_SEARCH_SEGMENTS, true)
        } else {
            None
        };
        resident.or_else(|| first_run(heap, n, usize::MAX, false))
    }
}

/// The first run of `n` free slots (with `resident_only`, of free slots still resident)
/// in the first `max_segments` of the heap's segments, in list order.
///
/// # Safety
/// The caller must own `heap`.
unsafe fn first_run(
    heap: *mut Heap,
    n: usize,
    max_segments: usize,
    resident_only: bool,
) -> Option<(*mut Segment, usize)> {
    // SAFETY: the heap and its segments are owned by the caller.
    unsafe {
        let mut seg = (*heap).segments.first();
        let mut left = max_segments;
        while seg != Segment::NIL && left > 0 {
            let mut mask = (*seg).free_mask;
            if resident_only {
                mask &= (*seg).dirty_mask;
            }
            if let Some(i) = find_run(mask, n) {
                return Some((seg, i));
            }
            seg = dlist::next(seg);
            left -= 1;
        }
        None
    }
}

/// Bytes of `heap`'s blocks in use (each live span's block count × block size) and the
/// number of live spans read to find them: one header per span, found through the
/// segments' free-slot masks.
///
/// # Safety
/// The caller must own `heap`.
pub unsafe fn bytes_in_use(heap: *mut Heap) -> (usize, usize) {
    let mut bytes = 0usize;
    let mut spans = 0usize;
    // SAFETY: owned heap; its segments are live and every slot outside `free_mask` is
    // part of a live span whose first slot's header has `span_slots >= 1`.
    unsafe {
        let mut seg = (*heap).segments.first();
        while !seg.is_null() {
            let pages = pages_of(seg);
            let mut live = !(*seg).free_mask & segment::USABLE_SLOTS;
            while live != 0 {
                let idx = live.trailing_zeros() as usize;
                let page = pages.add(idx);
                // A page another heap claimed is written by that heap meanwhile: the
                // figures are approximate, and a span counts at least one slot.
                let n = ((*page).span_slots as usize).max(1);
                debug_assert!(idx + n <= SLOTS);
                bytes += crate::handoff::blocks_in_use(page) * (*page).block_size;
                spans += 1;
                live &= !run_mask(idx, n);
            }
            seg = dlist::next(seg);
        }
    }
    (bytes, spans)
}

/// Returns a retired page's span to its segment; may release the segment.
///
/// # Safety
/// The caller must own `heap`; `page` must be live, empty, on no queue.
pub unsafe fn free_span(heap: *mut Heap, page: *mut Page) {
    // SAFETY: the page is live, empty, on no list and owned via the heap.
    unsafe {
        let seg = segment_of_page(page);
        let idx = page_index(seg, page);
        let n = (*page).span_slots as usize;
        debug_assert!(n >= 1 && idx + n <= SLOTS);
        let now = os::now_ms();
        let pages = pages_of(seg);
        for j in 0..n {
            let p = pages.add(idx + j);
            ptr::write(p, Page::EMPTY);
            (*p).freed_at = now;
        }
        let mask = run_mask(idx, n);
        (*seg).free_mask |= mask;
        (*seg).dirty_mask |= mask;
        (*seg).used_slots -= n as u32;
        stats::PAGES_LIVE.sub(n);
        stats::PAGES_EMPTY.add(n);
        (*heap).purge_pending = true;
        if (*seg).used_slots == 0 {
            // While releasing, `release_empty_segments` gives empty segments back in
            // its own order, after this.
            if !(*heap).releasing && (*heap).empty_segments >= MAX_EMPTY_SEGMENTS {
                release_segment(heap, seg);
            } else {
                (*heap).empty_segments += 1;
            }
        }
    }
}

/// Gets a segment for `heap` (scavenging an abandoned heap first).
unsafe fn new_segment(heap: *mut Heap) -> *mut Segment {
    scavenge(false);
    // SAFETY: `heap` is the caller's own heap.
    let seg = unsafe { segment::acquire(heap) };
    if seg.is_null() {
        return seg;
    }
    // SAFETY: the segment is empty and now ours; the heap is owned.
    unsafe {
        (*heap).segments.push_front(seg);
        (*heap).empty_segments += 1;
        if (*seg).dirty_mask != 0 {
            (*heap).purge_pending = true;
        }
    }
    seg
}

/// Unlinks an empty segment (not counted in `empty_segments`) and gives it back.
///
/// # Safety
/// The caller must own `heap`; `seg` must be one of its segments with no live slot.
unsafe fn release_segment(heap: *mut Heap, seg: *mut Segment) {
    // SAFETY: the segment is empty, owned by the heap, and nothing refers into it.
    unsafe {
        debug_assert_eq!((*seg).used_slots, 0);
        (*heap).segments.remove(seg);
        segment::release(seg);
    }
}

/// Releases every segment of `heap` that has no live slot, the one with the most
/// resident free slots last: the segment cache is a stack, so the next heap to need a
/// segment gets that one first. Released in any other order, a thread set replaced by
/// the next one swaps its segments' roles, and the next set carves fresh slots in its
/// first segment while resident ones wait in its second (rptest at one thread: 1.6× the
/// peak RSS with four classes per doubling, docs/perf-log.md).
///
/// # Safety
/// The caller must own `heap`.
pub unsafe fn release_empty_segments(heap: *mut Heap) {
    // SAFETY: owned heap; `next` is read before a segment is released.
    unsafe {
        let mut most_resident = Segment::NIL;
        let mut most = 0;
        let mut seg = (*heap).segments.first();
        while seg != Segment::NIL {
            let resident = (*seg).dirty_mask.count_ones();
            if (*seg).used_slots == 0 && (most_resident == Segment::NIL || resident > most) {
                most_resident = seg;
                most = resident;
            }
            seg = dlist::next(seg);
        }
        let mut seg = (*heap).segments.first();
        while seg != Segment::NIL {
            let next = dlist::next(seg);
            if (*seg).used_slots == 0 && seg != most_resident {
                release_segment(heap, seg);
            }
            seg = next;
        }
        if most_resident != Segment::NIL {
            release_segment(heap, most_resident);
        }
        (*heap).empty_segments = 0;
    }
}

/// Purges free slots that stayed free for [`PURGE_DELAY_MS`] (all of them if `force`),
/// and cached segments that stayed cached that long.
///
/// # Safety
/// The caller must own `heap`.
pub unsafe fn purge(heap: *mut Heap, force: bool) {
    let now = os::now_ms();
    // SAFETY: the heap and its segments are owned by the caller.
    unsafe {
        if !force && now.wrapping_sub((*heap).last_purge) < PURGE_DELAY_MS / 4 {
            return;
        }
        (*heap).last_purge = now;
        let delay = if force { 0 } else { PURGE_DELAY_MS };
        let mut pending = false;
        let mut seg = (*heap).segments.first();
        while seg != Segment::NIL {
            pending |= segment::purge(seg, now, delay);
            seg = dlist::next(seg);
        }
        (*heap).purge_pending = pending;
    }
    segment::cache_maintain(PURGE_DELAY_MS, false);
    crate::large::cache_maintain(PURGE_DELAY_MS, false);
}
