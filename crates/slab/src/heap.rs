//! Heaps: one per thread. Owns the allocation fast path (pop from the class's current
//! page), the local free fast path, the out-of-line slow path (collect, extend, new page,
//! new segment), remote-free processing, page retirement, delayed purging, and the
//! heap life cycle (create, abandon at thread exit, adopt or scavenge by other threads).
//!
//! Nothing here takes a lock. The only shared mutable state is each heap's remote queue
//! and the global stacks of abandoned and of all heaps (see [`crate::list`]); everything
//! else belongs to exactly one thread at a time: the heap's owner, or the thread that took
//! the heap from the abandoned stack.

use core::mem::size_of;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::checks::{self, KeySource, PageGuard, GUARD_SIZE};
use crate::layout::PAGE_SIZE;
use crate::list::AtomicStack;
use crate::os;
use crate::page::{self, Block, Page};
use crate::segment::{
    self, find_run, page_index, pages_of, run_mask, segment_of, segment_of_page, Segment, SLOTS,
};
use crate::size_class::{class_size, span_pages, CLASS_COUNT};
use crate::stats::{self, OwnedCounter};

/// Free pages are purged once they stayed free this long (milliseconds). 50 ms made
/// mstress with 8 threads on 2 cores purge and re-fault 3 GB per run (see
/// docs/perf-log.md); half a second still returns an idle program's memory promptly.
pub const PURGE_DELAY_MS: u64 = 500;
/// Fully empty segments a heap keeps mapped (purged after the delay) before unmapping.
pub const MAX_EMPTY_SEGMENTS: usize = 1;
/// Every this many slow-path calls a heap checks for abandoned heaps to scavenge.
const SCAVENGE_INTERVAL: usize = 4096;

/// A thread's heap. Lives in its own OS mapping and is never unmapped (heaps are reused).
#[repr(C)]
pub struct Heap {
    /// Current page per size class, head of that class's list ([`page::sentinel`] if none).
    pub pages: [*mut Page; CLASS_COUNT],
    /// Bytes in use by callers (single writer: the owner).
    pub in_use: OwnedCounter,
    /// Blocks freed by other threads, waiting for the owner.
    pub remote: AtomicStack<Block>,
    /// Remote frees processed (single writer: the owner).
    pub remote_frees: OwnedCounter,
    /// Pages with no free block left (not on a class list).
    pub full: *mut Page,
    /// All small segments of this heap.
    pub segments: *mut Segment,
    /// Segments with no live slot.
    pub empty_segments: usize,
    /// Some free slot may still await purging.
    pub purge_pending: bool,
    /// Release every empty page (during abandon/scavenge), keeping no class head.
    pub releasing: bool,
    /// Slow-path calls so far.
    pub slow_calls: usize,
    /// Last time purging ran.
    pub last_purge: u64,
    /// Generator of the pages' free-list keys (hardened build; zero-sized otherwise).
    pub keys: KeySource,
    /// Link in the abandoned stack.
    abandoned_next: *mut Heap,
    /// Link in the list of all heaps (set once).
    all_next: *mut Heap,
}

crate::list::impl_link!(Heap, abandoned_next);

/// Heaps whose thread exited, waiting to be adopted or scavenged.
static ABANDONED: AtomicStack<Heap> = AtomicStack::new();
/// Every heap ever created (push-only; heaps are never freed), for [`crate::stats()`].
static ALL_HEAPS: AtomicPtr<Heap> = AtomicPtr::new(ptr::null_mut());

const HEAP_MAP_SIZE: usize = (size_of::<Heap>() + 4095) & !4095;

// ---------------------------------------------------------------------------------------
// Fast paths
// ---------------------------------------------------------------------------------------

/// Allocates one block of `class` from `heap`.
///
/// # Safety
/// `heap` must be the caller's own live heap and `class < CLASS_COUNT`.
#[inline(always)]
pub unsafe fn alloc_class(heap: *mut Heap, class: usize) -> *mut u8 {
    debug_assert!(class < CLASS_COUNT);
    // SAFETY: `class < CLASS_COUNT` (caller); the heap and its current page are owned by
    // this thread; a non-null `free` is a block of that page.
    unsafe {
        let page = *(*heap).pages.get_unchecked(class);
        let b = (*page).free;
        if !b.is_null() {
            (*page).free = page::link_next(page, b);
            (*page).used += 1;
            checks::mark_allocated(b as *mut u8);
            (*heap).in_use.add((*page).block_size);
            return b as *mut u8;
        }
        alloc_slow(heap, class)
    }
}

/// Frees a block of `page` into its local free list (owner only).
///
/// # Safety
/// `heap` must own `page`'s segment and be the caller's heap; `p` a live block of `page`.
#[inline(always)]
pub unsafe fn free_local(heap: *mut Heap, page: *mut Page, p: *mut u8) {
    // SAFETY: the caller guarantees ownership; the block is dead to the user from now on.
    unsafe {
        page::push_local(page, p);
        (*heap).in_use.sub((*page).block_size);
        if (*page).used == 0 || (*page).full {
            free_local_slow(heap, page);
        }
    }
}

/// Frees a block that is not in the caller's heap: a large object, or a remote free.
///
/// # Safety
/// `p` must be a live allocation of this allocator and `seg == segment_of(p)`.
#[cold]
#[inline(never)]
pub unsafe fn free_other(seg: *mut Segment, p: *mut u8) {
    // SAFETY: `p` is live; its header is valid; the owner heap is never unmapped.
    unsafe {
        checks::check_has_owner(p, !(*seg).owner.is_null());
        if (*seg).kind == segment::KIND_LARGE {
            crate::large::check_free(seg, p);
            crate::large::free(seg);
        } else {
            checks::check_remote_free(p, (*seg).kind == segment::KIND_SMALL);
            debug_assert_eq!((*seg).kind, segment::KIND_SMALL);
            (*(*seg).owner).remote.push(p as *mut Block);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Slow paths
// ---------------------------------------------------------------------------------------

/// The allocation slow path: housekeeping, then find or make a page with a free block.
///
/// # Safety
/// As for [`alloc_class`].
#[cold]
#[inline(never)]
pub unsafe fn alloc_slow(heap: *mut Heap, class: usize) -> *mut u8 {
    // SAFETY: the heap is owned by the caller; every page reached is live and owned.
    unsafe {
        housekeeping(heap);
        loop {
            let page = *(*heap).pages.get_unchecked(class);
            if page == page::sentinel() {
                break;
            }
            if (*page).free.is_null() && !page::collect_local(page) && !page::extend(page) {
                // Nothing left: park it on the full list and try the next page.
                class_remove(heap, page);
                full_push(heap, page);
                continue;
            }
            (*heap).in_use.add((*page).block_size);
            return page::pop(page);
        }
        let page = new_page(heap, class);
        if page.is_null() {
            return ptr::null_mut();
        }
        let ok = page::extend(page);
        debug_assert!(ok);
        (*heap).in_use.add((*page).block_size);
        page::pop(page)
    }
}

/// Remote frees, delayed purging and occasional scavenging.
unsafe fn housekeeping(heap: *mut Heap) {
    // SAFETY: the heap is owned by the caller.
    unsafe {
        (*heap).slow_calls = (*heap).slow_calls.wrapping_add(1);
        if !(*heap).remote.is_empty() {
            drain_remote(heap);
        }
        if (*heap).purge_pending && (*heap).slow_calls % 8 == 0 {
            purge(heap, false);
        }
        if (*heap).slow_calls % SCAVENGE_INTERVAL == 0 {
            scavenge(false);
        }
    }
}

/// A local free made a page empty or un-full.
#[cold]
#[inline(never)]
unsafe fn free_local_slow(heap: *mut Heap, page: *mut Page) {
    // SAFETY: the heap owns the page.
    unsafe {
        if (*page).full {
            full_remove(heap, page);
            class_push(heap, page);
        }
        if (*page).used == 0 {
            retire(heap, page);
        }
    }
}

/// Gives an empty page's span back to its segment, unless it is a single-page span and
/// the only page of its class (kept so a block freed and allocated again in a loop does
/// not carve a span each time). Multi-page spans (blocks above 64 KiB) always go back:
/// kept empty they would pin their pages for one class, and the work of touching such a
/// block dwarfs carving its span.
unsafe fn retire(heap: *mut Heap, page: *mut Page) {
    // SAFETY: the heap owns the page, which is on its class list with `used == 0`.
    unsafe {
        debug_assert_eq!((*page).used, 0);
        debug_assert!(!(*page).full);
        let class = (*page).class as usize;
        if !(*heap).releasing
            && (*page).span_slots == 1
            && *(*heap).pages.get_unchecked(class) == page
            && (*page).next.is_null()
        {
            return;
        }
        class_remove(heap, page);
        free_span(heap, page);
    }
}

/// Processes every block other threads freed into this heap.
///
/// # Safety
/// The caller must own `heap` (be its thread or have taken it from the abandoned stack).
pub unsafe fn drain_remote(heap: *mut Heap) {
    // SAFETY: `take_all` hands us the chain; each block is live and belongs to a live
    // span of one of this heap's segments (it counts as used until freed here).
    unsafe {
        let mut b = (*heap).remote.take_all();
        let mut n = 0;
        while !b.is_null() {
            let next = <Block as crate::list::Link>::next(b);
            let seg = segment_of(b as *const u8);
            debug_assert_eq!((*seg).owner, heap);
            let page = segment::page_of(seg, b as *const u8);
            page::check_block_start(page, b as *const u8);
            free_local(heap, page, b as *mut u8);
            n += 1;
            b = next;
        }
        (*heap).remote_frees.add(n);
    }
}

// ---------------------------------------------------------------------------------------
// Page lists
// ---------------------------------------------------------------------------------------

unsafe fn class_push(heap: *mut Heap, page: *mut Page) {
    // SAFETY: owned heap and page; `class < CLASS_COUNT` by construction.
    unsafe {
        let slot = (*heap).pages.as_mut_ptr().add((*page).class as usize);
        let head = *slot;
        (*page).prev = ptr::null_mut();
        if head == page::sentinel() {
            (*page).next = ptr::null_mut();
        } else {
            (*page).next = head;
            (*head).prev = page;
        }
        *slot = page;
    }
}

unsafe fn class_remove(heap: *mut Heap, page: *mut Page) {
    // SAFETY: owned heap and page, which is on its class list.
    unsafe {
        let slot = (*heap).pages.as_mut_ptr().add((*page).class as usize);
        let (prev, next) = ((*page).prev, (*page).next);
        if prev.is_null() {
            debug_assert_eq!(*slot, page);
            *slot = if next.is_null() {
                page::sentinel()
            } else {
                next
            };
        } else {
            (*prev).next = next;
        }
        if !next.is_null() {
            (*next).prev = prev;
        }
        (*page).next = ptr::null_mut();
        (*page).prev = ptr::null_mut();
    }
}

unsafe fn full_push(heap: *mut Heap, page: *mut Page) {
    // SAFETY: owned heap and page, on no list.
    unsafe {
        (*page).full = true;
        (*page).prev = ptr::null_mut();
        (*page).next = (*heap).full;
        if !(*heap).full.is_null() {
            (*(*heap).full).prev = page;
        }
        (*heap).full = page;
    }
}

unsafe fn full_remove(heap: *mut Heap, page: *mut Page) {
    // SAFETY: owned heap and page, which is on the full list.
    unsafe {
        let (prev, next) = ((*page).prev, (*page).next);
        if prev.is_null() {
            (*heap).full = next;
        } else {
            (*prev).next = next;
        }
        if !next.is_null() {
            (*next).prev = prev;
        }
        (*page).next = ptr::null_mut();
        (*page).prev = ptr::null_mut();
        (*page).full = false;
    }
}

// ---------------------------------------------------------------------------------------
// Spans and segments
// ---------------------------------------------------------------------------------------

/// Carves a span for `class` and puts its page at the head of the class list.
unsafe fn new_page(heap: *mut Heap, class: usize) -> *mut Page {
    let n = span_pages(class);
    // SAFETY: the heap and its segments are owned by the caller.
    unsafe {
        let mut seg = (*heap).segments;
        let mut at = None;
        while !seg.is_null() {
            if let Some(i) = find_run((*seg).free_mask, n) {
                at = Some(i);
                break;
            }
            seg = (*seg).next;
        }
        let idx = match at {
            Some(i) => i,
            None => {
                seg = new_segment(heap);
                if seg.is_null() {
                    return ptr::null_mut();
                }
                segment::FIRST_SLOT
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
            (*p).span_offset = j as u32;
        }
        let page = pages.add(idx);
        let bsize = class_size(class);
        let capacity = (n * PAGE_SIZE) / bsize;
        ptr::write(
            page,
            Page {
                class: class as u8,
                fresh,
                block_size: bsize,
                start: (seg as *mut u8).add(idx * PAGE_SIZE),
                capacity: capacity as u32,
                span_slots: n as u32,
                guard: PageGuard::new(&mut (*heap).keys, bsize, capacity),
                ..Page::EMPTY
            },
        );
        class_push(heap, page);
        page
    }
}

/// Returns a retired page's span to its segment; may release the segment.
unsafe fn free_span(heap: *mut Heap, page: *mut Page) {
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
            if (*heap).releasing || (*heap).empty_segments >= MAX_EMPTY_SEGMENTS {
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
        (*seg).next = (*heap).segments;
        if !(*heap).segments.is_null() {
            (*(*heap).segments).prev = seg;
        }
        (*heap).segments = seg;
        (*heap).empty_segments += 1;
        if (*seg).dirty_mask != 0 {
            (*heap).purge_pending = true;
        }
    }
    seg
}

/// Unlinks an empty segment (not counted in `empty_segments`) and gives it back.
unsafe fn release_segment(heap: *mut Heap, seg: *mut Segment) {
    // SAFETY: the segment is empty, owned by the heap, and nothing refers into it.
    unsafe {
        debug_assert_eq!((*seg).used_slots, 0);
        let (prev, next) = ((*seg).prev, (*seg).next);
        if prev.is_null() {
            (*heap).segments = next;
        } else {
            (*prev).next = next;
        }
        if !next.is_null() {
            (*next).prev = prev;
        }
        segment::release(seg);
    }
}

/// Purges free slots that stayed free for [`PURGE_DELAY_MS`] (all of them if `force`),
/// and cached segments that stayed cached that long.
unsafe fn purge(heap: *mut Heap, force: bool) {
    let now = os::now_ms();
    // SAFETY: the heap and its segments are owned by the caller.
    unsafe {
        if !force && now.wrapping_sub((*heap).last_purge) < PURGE_DELAY_MS / 4 {
            return;
        }
        (*heap).last_purge = now;
        let delay = if force { 0 } else { PURGE_DELAY_MS };
        let mut pending = false;
        let mut seg = (*heap).segments;
        while !seg.is_null() {
            pending |= segment::purge(seg, now, delay);
            seg = (*seg).next;
        }
        (*heap).purge_pending = pending;
    }
    segment::cache_maintain(PURGE_DELAY_MS, false);
    crate::large::cache_maintain(PURGE_DELAY_MS, false);
}

/// Releases everything idle: remote frees, empty pages (class heads included) and empty
/// segments; purges free slots now if `force`, else those past the purge delay.
///
/// # Safety
/// The caller must own `heap`.
pub unsafe fn release_idle(heap: *mut Heap, force: bool) {
    // SAFETY: owned heap; `next` is read before a page is retired.
    unsafe {
        drain_remote(heap);
        (*heap).releasing = true;
        for class in 0..CLASS_COUNT {
            let mut p = *(*heap).pages.get_unchecked(class);
            while p != page::sentinel() && !p.is_null() {
                let next = (*p).next;
                if (*p).used == 0 {
                    retire(heap, p);
                }
                p = next;
            }
        }
        let mut seg = (*heap).segments;
        while !seg.is_null() {
            let next = (*seg).next;
            if (*seg).used_slots == 0 {
                release_segment(heap, seg);
            }
            seg = next;
        }
        (*heap).empty_segments = 0;
        (*heap).releasing = false;
        purge(heap, force);
    }
}

// ---------------------------------------------------------------------------------------
// Life cycle
// ---------------------------------------------------------------------------------------

/// A heap for a new thread: an abandoned one if available (adopted), else a new one.
/// Null if the OS refuses memory.
pub fn acquire() -> *mut Heap {
    // SAFETY: heaps in the abandoned stack are live forever.
    let h = unsafe { ABANDONED.take_one() };
    if !h.is_null() {
        stats::RECLAIMED.add(1);
        return h;
    }
    create()
}

fn create() -> *mut Heap {
    let base = os::map_aligned(HEAP_MAP_SIZE + 2 * GUARD_SIZE, 4096);
    if base.is_null() {
        return base as *mut Heap;
    }
    let h = base.wrapping_add(GUARD_SIZE) as *mut Heap;
    // SAFETY: the guard ranges lie in the fresh mapping, outside the heap. The heap's
    // memory is fresh and zeroed: every field is valid as zero except the class heads,
    // which we point at the sentinel, and the key source, which we write before
    // publishing the heap.
    unsafe {
        checks::guard_range(base, GUARD_SIZE);
        checks::guard_range(base.add(GUARD_SIZE + HEAP_MAP_SIZE), GUARD_SIZE);
        (&raw mut (*h).keys).write(KeySource::seeded());
        for c in 0..CLASS_COUNT {
            *(*h).pages.as_mut_ptr().add(c) = page::sentinel();
        }
        let mut head = ALL_HEAPS.load(Ordering::Relaxed);
        loop {
            (*h).all_next = head;
            match ALL_HEAPS.compare_exchange_weak(head, h, Ordering::Release, Ordering::Relaxed) {
                Ok(_) => break,
                Err(x) => head = x,
            }
        }
    }
    stats::MAPPED.add(HEAP_MAP_SIZE + 2 * GUARD_SIZE);
    stats::HEAPS_CREATED.add(1);
    h
}

/// Hands a heap over at thread exit: releases what is idle (free pages not yet past the
/// purge delay stay resident for a quick re-adoption; scavengers purge them later), then
/// pushes it onto the abandoned stack where a new thread adopts it or a scavenger
/// processes its remote frees.
///
/// # Safety
/// The caller must own `heap` and never use it again (frees from the exiting thread go
/// through the remote path from now on).
pub unsafe fn abandon(heap: *mut Heap) {
    // SAFETY: owned heap; pushing transfers ownership to the stack.
    unsafe {
        release_idle(heap, false);
        stats::ABANDONED.add(1);
        ABANDONED.push(heap);
    }
}

/// Takes every abandoned heap, processes its pending remote frees and releases its
/// idle memory (purging everything if `force`, else what is past the purge delay), and
/// puts them all back. Adopters racing with this briefly see no abandoned heap.
pub fn scavenge(force: bool) {
    if ABANDONED.is_empty() {
        return;
    }
    let first = ABANDONED.take_all();
    if first.is_null() {
        return;
    }
    // SAFETY: `take_all` made us the sole owner of the whole chain of (live) heaps.
    unsafe {
        let mut h = first;
        let mut last = first;
        while !h.is_null() {
            if force || !(*h).remote.is_empty() || (*h).purge_pending {
                release_idle(h, force);
                stats::SCAVENGED.add(1);
            }
            last = h;
            h = (*h).abandoned_next;
        }
        ABANDONED.push_chain(first, last);
    }
}

/// Sums the per-heap counters: (bytes in use, remote frees processed).
pub fn heap_totals() -> (usize, usize) {
    let mut in_use = 0usize;
    let mut remote = 0usize;
    let mut h = ALL_HEAPS.load(Ordering::Acquire);
    while !h.is_null() {
        // SAFETY: heaps are never freed; the counters are atomics and `all_next` was
        // written before the heap was published with release ordering.
        unsafe {
            in_use = in_use.wrapping_add((*h).in_use.get());
            remote = remote.wrapping_add((*h).remote_frees.get());
            h = (*h).all_next;
        }
    }
    (in_use, remote)
}
