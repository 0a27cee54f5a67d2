//! The heap life cycle, beside [`crate::thread`] which drives it: a thread gets a heap
//! (an abandoned one, adopted, or a new one), releases its idle memory on request, and
//! hands the heap over at exit (abandons it); threads that need memory scavenge the
//! abandoned heaps' remote frees and idle pages. Owns the global stacks of abandoned heaps
//! and of all heaps.
//!
//! ```text
//!  create --> owned by a thread --(thread exit: abandon)--> ABANDONED stack
//!                    ^                                          |     ^
//!                    +-------------(adopt: acquire)-------------+     |
//!                                    scavenge: take all, release idle, push back
//!                                    (adopters wait for held heaps: crate::pool)
//! ```
//!
//! Heaps are never unmapped, so a remote free can always push onto its owner's queue,
//! whoever holds the heap at that moment.

use core::mem::size_of;
use core::ptr;

use crate::checks::{self, KeySource, GUARD_SIZE};
use crate::dlist::List;
use crate::handoff;
use crate::heap::{drain_remote, flush_outbox, Heap};
use crate::list::{impl_link, AtomicStack};
use crate::os;
use crate::page_queue;
use crate::pool::Pool;
use crate::size_class::CLASS_COUNT;
use crate::span;
use crate::stats;

impl_link!(Heap, abandoned_next);

/// Names the link of the list of all heaps (`Heap::all_next`).
pub struct EveryHeap;
impl_link!(Heap, all_next, EveryHeap);

/// Heaps whose thread exited, waiting to be adopted or scavenged.
static ABANDONED: Pool<Heap> = Pool::new();
/// Every heap ever created (push-only; heaps are never freed), for [`crate::stats()`].
static ALL_HEAPS: AtomicStack<Heap, core::sync::atomic::AtomicPtr<Heap>, EveryHeap> =
    AtomicStack::new();

const HEAP_MAP_SIZE: usize = (size_of::<Heap>() + 4095) & !4095;

/// A heap for a new thread: an abandoned one if available (adopted; waiting for heaps a
/// scavenger or another adopter holds for a moment, see [`crate::pool`]), else a new one.
/// Null if the OS refuses memory.
pub fn acquire() -> *mut Heap {
    // SAFETY: heaps in the abandoned pool are live forever.
    let h = unsafe { ABANDONED.take_one() };
    if !h.is_null() {
        stats::RECLAIMED.add(1);
        return h;
    }
    create()
}

/// Maps and initialises a new heap (between guard pages in the hardened build) and
/// publishes it on the list of all heaps.
fn create() -> *mut Heap {
    let base = os::map_aligned(HEAP_MAP_SIZE + 2 * GUARD_SIZE, 4096);
    if base.is_null() {
        return base as *mut Heap;
    }
    let h = base.wrapping_add(GUARD_SIZE) as *mut Heap;
    // SAFETY: the guard ranges lie in the fresh mapping, outside the heap. The heap's
    // memory is fresh and zeroed: every field is valid as zero except the page queues
    // (whose empty head is the sentinel) and the key source, which we write before
    // publishing the heap.
    unsafe {
        checks::guard_range(base, GUARD_SIZE);
        checks::guard_range(base.add(GUARD_SIZE + HEAP_MAP_SIZE), GUARD_SIZE);
        (&raw mut (*h).keys).write(KeySource::seeded());
        (&raw mut (*h).pages).write([const { List::EMPTY }; CLASS_COUNT]);
        (&raw mut (*h).full).write(List::EMPTY);
        (&raw mut (*h).segments).write(List::EMPTY);
        ALL_HEAPS.push(h);
    }
    stats::MAPPED.add(HEAP_MAP_SIZE + 2 * GUARD_SIZE);
    stats::HEAPS_CREATED.add(1);
    h
}

/// Releases everything idle: the outbox, remote frees, empty pages (class heads included) and empty
/// segments; purges free slots now if `force`, else those past the purge delay. Recounts
/// the heap's bytes in use, so a heap at rest reports them exactly.
///
/// # Safety
/// The caller must own `heap`.
pub unsafe fn release_idle(heap: *mut Heap, force: bool) {
    // SAFETY: owned heap.
    unsafe {
        handoff::flush_page_out(heap); // its re-frees can fill the outbox
        flush_outbox(heap);
        drain_remote(heap);
        handoff::drain_returned(heap);
        handoff::take_back_own(heap);
        (*heap).releasing = true;
        page_queue::retire_empty_pages(heap);
        span::release_empty_segments(heap);
        (*heap).releasing = false;
        span::purge(heap, force);
        crate::heap::count_in_use(heap);
    }
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
/// puts them all back. Heaps with nothing to do go back at once, the others one by one
/// as each is done, so adopters racing with this wait only for a heap being processed.
pub fn scavenge(force: bool) {
    if ABANDONED.is_empty() {
        return;
    }
    let held = ABANDONED.hold_all();
    let first = held.first;
    // SAFETY: `hold_all` made us the sole owner of the whole chain of (live) heaps; each
    // heap goes back to the stack exactly once.
    unsafe {
        let mut work: *mut Heap = ptr::null_mut();
        let mut idle: *mut Heap = ptr::null_mut();
        let mut idle_last: *mut Heap = ptr::null_mut();
        let mut h = first;
        while !h.is_null() {
            let next = (*h).abandoned_next;
            if force || !(*h).remote.is_empty() || !(*h).returned.is_empty() || (*h).purge_pending {
                (*h).abandoned_next = work;
                work = h;
            } else {
                if idle.is_null() {
                    idle_last = h;
                }
                (*h).abandoned_next = idle;
                idle = h;
            }
            h = next;
        }
        if !idle.is_null() {
            ABANDONED.push_chain(idle, idle_last);
        }
        while !work.is_null() {
            let next = (*work).abandoned_next;
            release_idle(work, force);
            stats::SCAVENGED.add(1);
            ABANDONED.push(work);
            work = next;
        }
    }
    drop(held);
}

/// Sums the per-heap counters: (bytes in use, remote frees processed).
pub fn heap_totals() -> (usize, usize) {
    let mut in_use = 0usize;
    let mut remote = 0usize;
    let mut h = ALL_HEAPS.peek();
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
