//! Heaps: one per thread. Owns the [`Heap`] type, the allocation and free fast paths
//! (pop from the class's current page, push on the page's local free list) and, behind
//! them out of line, the slow paths (housekeeping, refilling or replacing the current
//! page, remote-free processing, pages that become empty or stop being full).
//!
//! The rest of a heap's machinery has its own module: its page queues
//! ([`crate::page_queue`]), the spans it carves from its segments and the purging of free
//! slots ([`crate::span`]), and its life cycle — create, abandon at thread exit, adopt,
//! scavenge ([`crate::lifecycle`]) — and the pages it gives up or claims from other
//! heaps ([`crate::handoff`]).
//!
//! The fast paths keep no byte count: a page counts its blocks in use (`used`, which it
//! needs to notice becoming empty), and [`count_in_use`] sums those on the slow path
//! from time to time for the statistics.
//!
//! A heap's frees of other heaps' blocks wait in its outbox (up to [`OUTBOX_MAX`], one
//! destination at a time) and reach their owner's remote queue as one chain: at the
//! limit, on a change of destination, on the allocation slow path and when the heap
//! releases its idle memory (thread exit, [`crate::collect`]).
//!
//! Nothing here takes a lock. The only shared mutable state is each heap's remote queue,
//! the global stacks of abandoned and of all heaps (see [`crate::list`]) and an
//! abandoned page's free list; everything else belongs to exactly one thread at a time:
//! the heap's owner, or the thread that took the heap from the abandoned stack. A page
//! belongs to the heap its `owner` names: normally its segment's owner, but a heap can
//! give a full page up and another heap claim it ([`crate::handoff`]).

use core::ptr;
use core::sync::atomic::Ordering;

use crate::checks::{self, KeySource};
use crate::dlist::List;
use crate::handoff;
use crate::lifecycle::scavenge;
use crate::list::{AtomicStack, Link};
use crate::page::{self, Block, Page};
use crate::page_queue;
use crate::segment::{self, segment_of, Segment};
use crate::size_class::CLASS_COUNT;
use crate::span;
use crate::stats::OwnedCounter;

/// Every this many slow-path calls a heap checks for abandoned heaps to scavenge.
const SCAVENGE_INTERVAL: usize = 4096;
/// Fewest slow-path calls between two recounts of a heap's bytes in use (more in a heap
/// of many spans: one recount reads one header per live span, so at most one header per
/// slow-path call on average).
const IN_USE_RECOUNT_INTERVAL: usize = 256;
/// Most remote frees a heap's outbox gathers before pushing them to their owner.
pub const OUTBOX_MAX: usize = 64;

/// A thread's heap. Lives in its own OS mapping and is never unmapped (heaps are reused).
#[repr(C)]
pub struct Heap {
    /// Page queue per size class; its first page is the class's current page (the
    /// sentinel page if the class has none).
    pub pages: [List<Page>; CLASS_COUNT],
    /// Bytes in use by callers as last counted (single writer: the owner). Not kept per
    /// operation (that cost the fast paths two instructions each); [`count_in_use`]
    /// recounts it from the pages' block counts.
    pub in_use: OwnedCounter,
    /// Slow-path calls left before [`housekeeping`] recounts `in_use`.
    pub in_use_recount_in: usize,
    /// Blocks freed by other threads, waiting for the owner; alone on its cache lines,
    /// since other threads write it while the owner writes the fields around it on
    /// every operation.
    pub remote: CacheLines<AtomicStack<Block>>,
    /// Emptied pages of this heap's segments that other heaps had claimed, handed back
    /// (already purged) for the owner to free their spans ([`crate::handoff`]).
    pub returned:
        CacheLines<AtomicStack<Page, core::sync::atomic::AtomicPtr<Page>, page::Returned>>,
    /// Pages on the full queue, per class.
    pub full_count: [u16; CLASS_COUNT],
    /// Remote frees processed (single writer: the owner).
    pub remote_frees: OwnedCounter,
    /// Outbox: this heap's frees of blocks another heap owns, chained and pushed onto
    /// that heap's remote queue with one atomic operation (see [`free_other`]).
    pub outbox: Outbox,
    /// Frees into one abandoned page, pushed onto its list together
    /// ([`crate::handoff::flush_page_out`]); `to` is the page, cast.
    pub page_out: Outbox,
    /// Pages with no free block left (not on a class queue).
    pub full: List<Page>,
    /// All small segments of this heap.
    pub segments: List<Segment>,
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
    /// Link in the abandoned stack ([`crate::lifecycle`]).
    pub(crate) abandoned_next: *mut Heap,
    /// Link in the list of all heaps (set once, [`crate::lifecycle`]).
    pub(crate) all_next: *mut Heap,
}

/// `T` alone on its cache lines: 128 bytes, as x86 prefetches lines in pairs (false
/// sharing with a neighbour would make every write of either side a coherence miss).
#[repr(C, align(128))]
pub struct CacheLines<T>(pub T);

impl<T> core::ops::Deref for CacheLines<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Remote frees to one destination heap, gathered by the freeing heap's owner.
#[repr(C)]
pub struct Outbox {
    /// The heap the chain goes to (null: empty).
    pub(crate) to: *mut Heap,
    /// Most recently added block (the chain's head).
    pub(crate) first: *mut Block,
    /// First block added (the chain's tail).
    pub(crate) last: *mut Block,
    /// Blocks in the chain.
    pub(crate) len: usize,
}

impl Outbox {
    /// An empty outbox (also all-zero memory).
    pub const EMPTY: Outbox = Outbox {
        to: ptr::null_mut(),
        first: ptr::null_mut(),
        last: ptr::null_mut(),
        len: 0,
    };

    /// Adds block `b` bound for `to` (a heap, or a page cast); returns whether the
    /// outbox is now full ([`OUTBOX_MAX`]) and must be flushed. The outbox must be
    /// empty or already bound for `to`.
    ///
    /// # Safety
    /// `b` must be a freed block the caller owns.
    #[inline]
    pub(crate) unsafe fn add(&mut self, to: *mut Heap, b: *mut Block) -> bool {
        debug_assert!(self.len == 0 || self.to == to);
        if self.len == 0 {
            self.to = to;
            self.last = b;
        }
        // SAFETY: per the contract the block is ours until the outbox is flushed.
        unsafe { Block::set_next(b, self.first) };
        self.first = b;
        self.len += 1;
        self.len >= OUTBOX_MAX
    }
}

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
    // SAFETY: per the contract, passed on.
    unsafe {
        let b = alloc_class_fast(heap, class);
        if !b.is_null() {
            return b;
        }
        alloc_slow(heap, class)
    }
}

/// [`alloc_class`]'s fast path alone: a block from `class`'s current page, or null when
/// that page has none (the caller then takes [`alloc_slow`]).
///
/// # Safety
/// As for [`alloc_class`].
#[inline(always)]
pub unsafe fn alloc_class_fast(heap: *mut Heap, class: usize) -> *mut u8 {
    // SAFETY: `class < CLASS_COUNT` (caller); the heap and its current page are owned by
    // this thread (or the page is the sentinel, whose `free` is null).
    unsafe {
        let page = (*heap).pages.get_unchecked(class).first();
        page::pop(page)
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
        if (*page).used == 0 || (*page).full {
            free_local_slow(heap, page);
        }
    }
}

/// The segment owner's free fast path: a page flagged full or foreign takes the slow
/// path before anything is written.
///
/// # Safety
/// `heap` must own `page`'s segment and be the caller's heap; `p` a live block of `page`.
#[inline(always)]
pub unsafe fn free_local_fast(heap: *mut Heap, page: *mut Page, p: *mut u8) {
    // SAFETY: per the contract; a zero `flags` means the page is this heap's and not full.
    unsafe {
        if (*page).flags.load(Ordering::Relaxed) != 0 {
            free_flagged(heap, page, p);
            return;
        }
        page::push_local(page, p);
        if (*page).used == 0 {
            free_local_slow(heap, page);
        }
    }
}

/// [`free_local_fast`] of a page that is full or not this heap's.
#[cold]
#[inline(never)]
unsafe fn free_flagged(heap: *mut Heap, page: *mut Page, p: *mut u8) {
    // SAFETY: per `free_local_fast`'s contract.
    unsafe {
        if (*page).owner.load(Ordering::Acquire) == heap {
            free_local(heap, page, p);
        } else {
            // The local free's check ran already; the remote route checks again.
            checks::mark_allocated(p);
            free_other(heap, segment_of(p), p);
        }
    }
}

/// Frees a block that is not in the caller's heap: a large object, or a remote free.
/// A remote free goes into `heap`'s outbox while it keeps going to the same owner
/// (up to [`OUTBOX_MAX`] blocks, then one atomic push of the chain). A thread with no
/// heap yet (`heap` null) gets one; only if it cannot does it push the block at once. Without the outbox, threads freeing another
/// thread's blocks contend on its queue's head once per block (xmalloc's consumers).
///
/// # Safety
/// `p` must be a live allocation of this allocator and `seg == segment_of(p)`; `heap`
/// null or the caller's own heap.
#[cold]
#[inline(never)]
pub unsafe fn free_other(heap: *mut Heap, seg: *mut Segment, p: *mut u8) {
    // SAFETY: `p` is live; its header is valid; the owner heap is never unmapped.
    unsafe {
        checks::check_has_owner(p, !(*seg).owner.is_null());
        if (*seg).kind == segment::KIND_LARGE {
            crate::large::check_free(seg, p);
            crate::large::free(seg);
        } else {
            checks::check_remote_free(p, (*seg).kind == segment::KIND_SMALL);
            debug_assert_eq!((*seg).kind, segment::KIND_SMALL);
            let b = p as *mut Block;
            // A thread that only frees (a consumer) gets a heap for its outbox too; not
            // one whose heap was handed over at exit (a late destructor), which would
            // hold a heap other threads could adopt, perhaps past the last destructor.
            let heap = if heap.is_null() && !crate::thread::exited() {
                crate::thread::init_current()
            } else {
                heap
            };
            let owner = (*seg).owner;
            if !(*seg).handed_off.load(Ordering::Relaxed) && owner != heap {
                // No page of the segment changed hands: the block is its owner's, and
                // the page's header (which the owner writes on every allocation) stays
                // off this core. A free racing the first hand-off still lands here; the
                // owner re-routes it when it drains its queue (`drain_remote`).
                return push_to(heap, owner, b);
            }
            let page = segment::page_of(seg, p);
            let owner = loop {
                if (*page).thread_free.is_abandoned() && handoff::free_abandoned(heap, seg, page, b)
                {
                    return;
                }
                let o = (*page).owner.load(Ordering::Acquire);
                if o == page::ABANDONED {
                    core::hint::spin_loop(); // between `owner` and the tag being set
                    continue;
                }
                if o == heap && !heap.is_null() {
                    // A page this heap claimed from another heap's segment.
                    checks::check_drained(p);
                    free_local(heap, page, p);
                    return;
                }
                break o;
            };
            push_to(heap, owner, b);
        }
    }
}

/// Sends remote free `b` to heap `owner`: through `heap`'s outbox, or at once if the
/// caller has no heap.
///
/// # Safety
/// `heap` null or the caller's own heap; `b` a block the caller freed whose page's
/// lists are (or were until it changed hands) `owner`'s.
#[inline]
unsafe fn push_to(heap: *mut Heap, owner: *mut Heap, b: *mut Block) {
    // SAFETY: per the contract.
    unsafe {
        if heap.is_null() {
            (*owner).remote.push(b);
            return;
        }
        let out = &raw mut (*heap).outbox;
        if (*out).len != 0 && (*out).to != owner {
            flush_outbox(heap);
        }
        if (*out).add(owner, b) {
            flush_outbox(heap);
        }
    }
}

/// Pushes `heap`'s outbox to its destination heap's remote queue (one atomic push).
///
/// # Safety
/// The caller must own `heap`.
pub unsafe fn flush_outbox(heap: *mut Heap) {
    // SAFETY: the chain's blocks are dead to their users and owned by this heap's owner
    // until the push publishes them; the destination heap is never unmapped.
    unsafe {
        let out = &raw mut (*heap).outbox;
        if (*out).len == 0 {
            return;
        }
        (*(*out).to).remote.push_chain((*out).first, (*out).last);
        *out = Outbox::EMPTY;
    }
}

// ---------------------------------------------------------------------------------------
// Slow paths
// ---------------------------------------------------------------------------------------

/// The allocation slow path: housekeeping, then a block from a page that has one.
///
/// # Safety
/// As for [`alloc_class`].
#[cold]
#[inline(never)]
pub unsafe fn alloc_slow(heap: *mut Heap, class: usize) -> *mut u8 {
    // SAFETY: the heap is owned by the caller; the page has a free block.
    unsafe {
        housekeeping(heap);
        let page = page_with_free_block(heap, class);
        if page.is_null() {
            return ptr::null_mut();
        }
        page::pop(page)
    }
}

/// The first page of `class`'s queue that has a free block or can get one (from its local
/// frees or by carving more), moving pages that cannot to the full queue; else a new page.
/// Null if the OS refuses memory.
///
/// # Safety
/// As for [`alloc_class`].
unsafe fn page_with_free_block(heap: *mut Heap, class: usize) -> *mut Page {
    // SAFETY: the heap is owned by the caller; every page reached is live and owned.
    unsafe {
        loop {
            let queue = (*heap).pages.get_unchecked(class);
            if queue.is_empty() {
                break;
            }
            let page = queue.first();
            if !(*page).free.is_null() || page::collect_local(page) || page::extend(page) {
                return page;
            }
            if handoff::should_abandon(heap, page, class) {
                handoff::abandon(heap, page);
            } else {
                page_queue::move_to_full(heap, page);
            }
        }
        let page = handoff::claim_abandoned(heap, class);
        if !page.is_null() {
            return page;
        }
        let page = span::new_page(heap, class);
        if !page.is_null() {
            let ok = page::extend(page);
            debug_assert!(ok);
        }
        page
    }
}

/// Remote frees, delayed purging and occasional scavenging.
unsafe fn housekeeping(heap: *mut Heap) {
    // SAFETY: the heap is owned by the caller.
    unsafe {
        (*heap).slow_calls = (*heap).slow_calls.wrapping_add(1);
        handoff::flush_page_out(heap); // its re-frees can fill the outbox
        flush_outbox(heap);
        if !(*heap).remote.is_empty() {
            drain_remote(heap);
        }
        handoff::drain_returned(heap);
        if (*heap).purge_pending && (*heap).slow_calls % 8 == 0 {
            span::purge(heap, false);
        }
        if (*heap).slow_calls % SCAVENGE_INTERVAL == 0 {
            scavenge(false);
        }
        if (*heap).in_use_recount_in == 0 {
            count_in_use(heap);
        } else {
            (*heap).in_use_recount_in -= 1;
        }
    }
}

/// Recounts the bytes of `heap`'s blocks in use (handed out and not yet freed back to
/// their page, remote frees still queued included) into `in_use`, which statistics
/// read. Runs on the slow path every [`IN_USE_RECOUNT_INTERVAL`] calls or more, when the
/// heap releases its idle memory (thread exit, scavenging, [`crate::collect`]) and when
/// its thread asks for [`crate::stats()`]; between those the figure lags behind.
///
/// # Safety
/// The caller must own `heap`.
pub unsafe fn count_in_use(heap: *mut Heap) {
    // SAFETY: owned heap.
    unsafe {
        let (bytes, spans) = span::bytes_in_use(heap);
        (*heap).in_use.set(bytes);
        (*heap).in_use_recount_in = IN_USE_RECOUNT_INTERVAL.max(spans);
    }
}

/// A local free made a page empty or un-full.
#[cold]
#[inline(never)]
unsafe fn free_local_slow(heap: *mut Heap, page: *mut Page) {
    // SAFETY: the heap owns the page.
    unsafe {
        if (*page).full {
            page_queue::move_from_full(heap, page);
        }
        if (*page).used == 0 {
            page_queue::retire(heap, page);
        }
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
        // Each block's line was last written by the thread that freed it. Fetching it
        // for writing at once (`free_local` writes the link) saves a second transfer,
        // and fetching the next block while this one is processed overlaps the misses
        // of the chain walk (arc-channel 1–2 threads +16 %, docs/perf-log.md).
        crate::cpu::prefetch_write(b);
        while !b.is_null() {
            let next = Block::next(b);
            crate::cpu::prefetch_write(next);
            let seg = segment_of(b as *const u8);
            let page = segment::page_of(seg, b as *const u8);
            if (*page).owner.load(Ordering::Acquire) != heap {
                // The page changed hands after the block was sent here.
                handoff::refree(heap, b);
                b = next;
                continue;
            }
            page::check_block_start(page, b as *const u8);
            checks::check_drained(b as *const u8);
            free_local(heap, page, b as *mut u8);
            n += 1;
            b = next;
        }
        (*heap).remote_frees.add(n);
    }
}
