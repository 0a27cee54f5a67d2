//! Page hand-off: full pages a heap gives up, and the heaps that take them over.
//!
//! A thread that only allocates (xmalloc's producers) used to keep every page it
//! filled until its consumers' frees came back to it through its remote queue; at 8
//! threads the slab's peak was twice mimalloc's. Now a heap keeps at most
//! [`FULL_RETAIN`] full one-slot pages per class. A page that fills up beyond them is
//! **abandoned** ([`abandon`]): it leaves the heap's queues and collects its frees on its
//! own tagged list ([`crate::thread_free`]), one compare-and-swap per free, or per
//! [`OUTBOX_MAX`](heap::OUTBOX_MAX) frees batched in the freeing heap's page outbox ([`free_abandoned`],
//! [`flush_page_out`]). Once an eighth of it is free (mimalloc 3's threshold, so claims do
//! not chase single blocks) the freer that crossed the threshold **publishes** it on its
//! class's stack ([`ABANDONED_PAGES`]), where a heap that needs a page of that class
//! **claims** it ([`claim_abandoned`]): the frees become its free list, and the page is
//! that heap's until it is empty, when it goes to a shared pool of empty pages
//! ([`EMPTY_PAGES`], any heap carves from it) or, beyond [`EMPTY_POOL_MAX`], is purged
//! and handed back to its segment's owner ([`give_back`], [`drain_returned`]). The
//! segment's owner freeing into its own unpublished abandoned page takes it straight
//! back ([`reclaim`]); a heap at rest takes back its published pages and its pooled
//! empty ones ([`take_back_own`]), so its segments can be purged and released as before.
//!
//! A page's `owner` says whose lists it is on; `flags` tells the owner's free fast path
//! (one byte test) that a page is full or not its own. Frees of blocks of claimed pages
//! go to the claimant's remote queue. Written from mimalloc 3's description of its
//! abandoned pages; see docs/perf-log.md (2026-12-04, session 22) for what was tried.

use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::checks;
use crate::heap::{self, Heap};
use crate::list::{AtomicStack, Link};
use crate::page::{self, Block, Page, ABANDONED};
use crate::page_queue;
use crate::pool::Pool;
use crate::segment::{self, Segment};
use crate::size_class::CLASS_COUNT;
use crate::span;

/// Full pages a heap keeps per class; a one-slot page that fills up beyond them is
/// abandoned. None under cargo-fuzz (`cfg(fuzzing)`), whose inputs rarely fill three
/// pages of one class: there every page that fills up is abandoned, so the fuzz target
/// exercises the hand-off.
pub const FULL_RETAIN: usize = if cfg!(fuzzing) { 0 } else { 2 };
/// Most emptied claimed pages kept resident in [`EMPTY_PAGES`].
pub const EMPTY_POOL_MAX: usize = 256;

/// Published abandoned pages, per class, for heaps allocating that class.
pub static ABANDONED_PAGES: [AtomicStack<Page>; CLASS_COUNT] =
    [const { AtomicStack::new() }; CLASS_COUNT];
/// One popper at a time per class stack, which rules out ABA on its pops. Never waited
/// for: a heap that finds it taken carves a new page instead (so a child forked while
/// another thread held it, or a descheduled holder, costs a page, never a hang).
static POP_LOCKS: [AtomicBool; CLASS_COUNT] = [const { AtomicBool::new(false) }; CLASS_COUNT];
/// Emptied one-slot pages of any heap's segments, for any heap to carve again.
pub static EMPTY_PAGES: Pool<Page> = Pool::new();
/// Pages in [`EMPTY_PAGES`] (approximately).
static EMPTY_COUNT: AtomicUsize = AtomicUsize::new(0);

/// Holds class `class`'s pop lock while alive.
struct PopGuard(usize);

impl PopGuard {
    /// Takes the class's pop lock, unless another thread holds it.
    fn try_lock(class: usize) -> Option<Self> {
        if POP_LOCKS[class].swap(true, Ordering::Acquire) {
            None
        } else {
            Some(Self(class))
        }
    }
}

impl Drop for PopGuard {
    fn drop(&mut self) {
        POP_LOCKS[self.0].store(false, Ordering::Release);
    }
}

/// Whether a page that just filled up should be abandoned rather than kept full.
///
/// # Safety
/// The caller must own `heap`; `page` must be its page of class `class`.
#[inline]
pub unsafe fn should_abandon(heap: *mut Heap, page: *mut Page, class: usize) -> bool {
    // SAFETY: per the contract.
    unsafe { (*page).span_slots == 1 && (*heap).full_count[class] as usize >= FULL_RETAIN }
}

/// Gives up a full page of `heap`'s class queue: it leaves the heap's queues and
/// collects its frees itself.
///
/// # Safety
/// The caller must own `heap`; `page` must be on its class queue with no free block.
pub unsafe fn abandon(heap: *mut Heap, page: *mut Page) {
    // SAFETY: per the contract; `abandon`'s release store publishes the fields.
    unsafe {
        // Written once per segment: every remote free reads this header line.
        let seg = segment::segment_of_page(page);
        if !(*seg).handed_off.load(Ordering::Relaxed) {
            (*seg).handed_off.store(true, Ordering::Relaxed);
        }
        page_queue::remove(heap, page);
        (*page).full = false;
        (*page).flags.store(page::FLAG_FOREIGN, Ordering::Relaxed);
        (*page).owner.store(ABANDONED, Ordering::Relaxed);
        (*page).tf_count.store(0, Ordering::Relaxed);
        (*page).thread_free.abandon();
        crate::stats::PAGES_ABANDONED.add(1);
    }
}

/// The blocks of an abandoned page still in use: those not freed onto its list. Exact
/// when no thread is freeing into the page.
///
/// # Safety
/// `page` must be a live page header.
pub unsafe fn blocks_in_use(page: *mut Page) -> usize {
    // SAFETY: per the contract; racing reads give an approximate count.
    unsafe {
        let used = (*page).used as usize;
        if (*page).thread_free.is_abandoned() {
            used.saturating_sub((*page).tf_count.load(Ordering::Relaxed) as usize)
        } else {
            used
        }
    }
}

/// The free of block `b` of page `page` (of segment `seg`) when the page is abandoned:
/// the segment's owner takes the page back, another heap batches the block in its page
/// outbox, a thread without a heap pushes it at once. False if the page is not (or no
/// longer) abandoned and the caller must route the block to the page's owner.
///
/// # Safety
/// `heap` null or the caller's own heap; `b` a block of `page` freed by the caller.
pub unsafe fn free_abandoned(
    heap: *mut Heap,
    seg: *mut Segment,
    page: *mut Page,
    b: *mut Block,
) -> bool {
    // SAFETY: per the contract; the page header outlives the segment's slot use.
    unsafe {
        if heap.is_null() {
            if !(*page).thread_free.push_chain(b, b) {
                return false;
            }
            count_frees(page, 1);
            return true;
        }
        if (*seg).owner == heap && reclaim(heap, page) {
            // The page's own heap takes it back (mimalloc 3 reclaims on free too).
            checks::mark_allocated(b as *mut u8);
            page::check_local_free(page, b as *const u8);
            heap::free_local(heap, page, b as *mut u8);
            return true;
        }
        let out = &raw mut (*heap).page_out;
        let to = page as *mut Heap;
        // A flush that finds its page claimed re-frees the blocks, and one of them can
        // land in the outbox again (its page was given up once more): flush until the
        // outbox is empty or bound for this page.
        // (`flush_page_out` writes the outbox through `heap`.)
        loop {
            if (*out).len == 0 || (*out).to == to {
                break;
            }
            flush_page_out(heap);
        }
        if (*out).add(to, b) {
            flush_page_out(heap);
        }
        true
    }
}

/// Adds `n` frees to an abandoned page's count; the freer that crosses an eighth of
/// the page publishes it.
///
/// # Safety
/// `page` must be a live page header.
unsafe fn count_frees(page: *mut Page, n: u32) {
    // SAFETY: per the contract.
    unsafe {
        let threshold = ((*page).capacity / 8).max(1);
        let before = (*page).tf_count.fetch_add(n, Ordering::Relaxed);
        if before < threshold && before + n >= threshold && (*page).thread_free.mark_published() {
            ABANDONED_PAGES[(*page).class as usize].push(page);
        }
    }
}

/// Pushes `heap`'s page outbox onto its page's list; if the page was claimed since,
/// each block goes to its new owner instead.
///
/// # Safety
/// The caller must own `heap`.
pub unsafe fn flush_page_out(heap: *mut Heap) {
    // SAFETY: the chain's blocks are dead to their users and ours until pushed.
    unsafe {
        let out = &raw mut (*heap).page_out;
        if (*out).len == 0 {
            return;
        }
        let page = (*out).to as *mut Page;
        let (first, last, len) = ((*out).first, (*out).last, (*out).len);
        *out = heap::Outbox::EMPTY;
        if (*page).thread_free.push_chain(first, last) {
            count_frees(page, len as u32);
            return;
        }
        let mut b = first;
        while !b.is_null() {
            let next = Block::next(b);
            refree(heap, b);
            b = next;
        }
    }
}

/// Frees again a block that passed the remote-free check but must take another route
/// (its page changed hands): its cookie is cleared first, since the route checks it.
///
/// # Safety
/// `heap` must be the caller's own heap (or null); `b` a block the caller freed.
pub unsafe fn refree(heap: *mut Heap, b: *mut Block) {
    // SAFETY: per the contract.
    unsafe {
        checks::mark_allocated(b as *mut u8);
        let p = b as *mut u8;
        heap::free_other(heap, segment::segment_of(p), p);
    }
}

/// Takes over an abandoned page whose claim the caller holds: makes `heap` its owner
/// (before ending the abandoned state, so a free that then fails to push finds the new
/// owner), its collected frees its free list, and puts it on `heap`'s class queue, or
/// its full queue if nothing was collected yet. Returns whether the page has a free
/// block.
///
/// # Safety
/// The caller must own `heap` and hold the claim on `page` (won
/// [`ThreadFree::mark_published`](crate::thread_free::ThreadFree::mark_published), or
/// popped it off a class stack).
unsafe fn adopt(heap: *mut Heap, page: *mut Page) -> bool {
    // SAFETY: per the contract the page is ours, and so is the chain the claim returns.
    unsafe {
        (*page).owner.store(heap, Ordering::Release);
        let mut chain = (*page).thread_free.claim();
        let mut n = 0u32;
        while !chain.is_null() {
            let next = Block::next(chain);
            page::check_block_start(page, chain as *const u8);
            checks::check_drained(chain as *const u8);
            page::link_set(page, chain, (*page).free);
            (*page).free = chain;
            n += 1;
            chain = next;
        }
        (*page).used -= n;
        (*heap).remote_frees.add(n as usize);
        if n != 0 {
            (*page).free_is_zero = false; // the collected blocks were used
        }
        (*page).full = false;
        page::update_flags(page);
        if (*page).free.is_null() && (*page).local_free.is_null() {
            page_queue::push_full(heap, page);
            false
        } else {
            page_queue::push_front(heap, page);
            true
        }
    }
}

/// Claims a published abandoned page of `class` with free blocks and makes it `heap`'s
/// current page. Null if there was none.
///
/// # Safety
/// The caller must own `heap`; `class < CLASS_COUNT`.
pub unsafe fn claim_abandoned(heap: *mut Heap, class: usize) -> *mut Page {
    // SAFETY: a page popped off the stack is published and abandoned: its claim is ours.
    unsafe {
        loop {
            if ABANDONED_PAGES[class].is_empty() {
                return ptr::null_mut();
            }
            let page = match PopGuard::try_lock(class) {
                Some(_lock) => ABANDONED_PAGES[class].pop_exclusive(),
                None => return ptr::null_mut(),
            };
            if page.is_null() {
                return page;
            }
            if (*segment::segment_of_page(page)).owner != heap {
                crate::stats::PAGES_CLAIMED.add(1);
            }
            if adopt(heap, page) {
                return page;
            }
        }
    }
}

/// Takes an abandoned, unpublished page of `heap`'s own segments back onto its queues.
/// False if the page is not abandoned or someone else holds its claim.
///
/// # Safety
/// The caller must own `heap`; `page` must be a live page header.
pub unsafe fn reclaim(heap: *mut Heap, page: *mut Page) -> bool {
    // SAFETY: winning `mark_published` gives us the page's claim.
    unsafe {
        if !(*page).thread_free.mark_published() {
            return false;
        }
        adopt(heap, page);
        true
    }
}

/// Retires an emptied page that `heap` claimed from another heap's segment: into the
/// shared pool of empty pages, or purged and handed back to the segment's owner.
///
/// # Safety
/// The caller must own `heap`; `page` must be an empty page of `seg` it owns, on no
/// queue.
pub unsafe fn give_back(seg: *mut Segment, page: *mut Page) {
    // SAFETY: per the contract; the span's memory holds no live block.
    unsafe {
        (*page).owner.store(ptr::null_mut(), Ordering::Relaxed);
        if (*page).span_slots == 1 {
            if EMPTY_COUNT.fetch_add(1, Ordering::Relaxed) < EMPTY_POOL_MAX {
                EMPTY_PAGES.push(page);
                return;
            }
            EMPTY_COUNT.fetch_sub(1, Ordering::Relaxed);
        }
        let bytes = (*page).span_slots as usize * crate::layout::PAGE_SIZE;
        crate::os::purge((*page).start, bytes);
        (*(*seg).owner).returned.push(page);
    }
}

/// An empty one-slot page from the shared pool, carved for `class` as `heap`'s current
/// page. Null if the pool is empty.
///
/// # Safety
/// The caller must own `heap`; `class` must have one-slot spans.
pub unsafe fn take_pooled(heap: *mut Heap, class: usize) -> *mut Page {
    // SAFETY: a page taken off the pool is empty and on no queue; nobody else uses it.
    unsafe {
        let page = EMPTY_PAGES.take_one();
        if page.is_null() {
            return page;
        }
        EMPTY_COUNT.fetch_sub(1, Ordering::Relaxed);
        span::carve(heap, page, class, 1, false);
        page
    }
}

/// Frees the spans of `heap`'s pages that other heaps claimed, emptied and handed back.
///
/// # Safety
/// The caller must own `heap`.
pub unsafe fn drain_returned(heap: *mut Heap) {
    // SAFETY: owned heap; each returned page is an empty span of one of its segments, on
    // no queue, that no other heap touches any more.
    unsafe {
        if (*heap).returned.is_empty() {
            return;
        }
        let mut pg = (*heap).returned.take_all();
        while !pg.is_null() {
            let next = <Page as Link<page::Returned>>::next(pg);
            span::free_span(heap, pg);
            pg = next;
        }
    }
}

/// Takes back `heap`'s own pages from the shared structures, for a heap at rest: its
/// published abandoned pages (claimed by `heap`, so their empty ones retire) and its
/// empty pages in the shared pool (their spans freed, to be purged and released).
///
/// # Safety
/// The caller must own `heap`.
pub unsafe fn take_back_own(heap: *mut Heap) {
    // SAFETY: with the class's pop lock held we own the taken chain; pages of other
    // heaps go back onto the stack unchanged.
    unsafe {
        let owned = |p: *mut Page| (*segment::segment_of_page(p)).owner == heap;
        for (class, stack) in ABANDONED_PAGES.iter().enumerate() {
            if stack.is_empty() {
                continue;
            }
            let Some(_lock) = PopGuard::try_lock(class) else {
                continue;
            };
            let mut p = stack.take_all();
            while !p.is_null() {
                let next = <Page as Link>::next(p);
                if owned(p) {
                    adopt(heap, p);
                } else {
                    stack.push(p);
                }
                p = next;
            }
        }
        let held = EMPTY_PAGES.hold_all();
        let mut p = held.first;
        while !p.is_null() {
            let next = <Page as Link>::next(p);
            if owned(p) {
                EMPTY_COUNT.fetch_sub(1, Ordering::Relaxed);
                span::free_span(heap, p);
            } else {
                EMPTY_PAGES.push(p);
            }
            p = next;
        }
    }
}
