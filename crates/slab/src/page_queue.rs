//! A heap's page queues: one [`List`] of pages per size class, whose first page is the
//! class's current page (the one the allocation fast path pops from), and one queue of
//! full pages, which have no free block and so stay out of the allocation path until a
//! block of theirs is freed. Owns moving pages between them and retiring empty pages.
//!
//! ```text
//! heap.pages[class] --> current page <--> page <--> page --> sentinel
//! heap.full         --> full page    <--> full page      --> sentinel
//! ```
//!
//! Every queue is owned by the heap's owner; nothing here is shared between threads.

use crate::dlist::{self, List, ListNode};
use crate::heap::Heap;
use crate::page::Page;
use crate::span;

/// The class queue `page` belongs on.
///
/// # Safety
/// `heap` must be live and `page` a live page of one of its spans.
#[inline]
unsafe fn class_queue(heap: *mut Heap, page: *mut Page) -> *mut List<Page> {
    // SAFETY: `class < CLASS_COUNT` for every carved page, so the queue is in the array.
    unsafe {
        (&raw mut (*heap).pages)
            .cast::<List<Page>>()
            .add((*page).class as usize)
    }
}

/// Makes a new page the current page of its class.
///
/// # Safety
/// The caller must own `heap`; `page` must be a live page of it on no queue.
pub unsafe fn push_current(heap: *mut Heap, page: *mut Page) {
    // SAFETY: per the contract.
    unsafe { (*class_queue(heap, page)).push_front(page) }
}

/// Takes a page off its class queue (to abandon it, see [`crate::handoff`]).
///
/// # Safety
/// The caller must own `heap`; `page` must be on its class queue.
pub unsafe fn remove(heap: *mut Heap, page: *mut Page) {
    // SAFETY: per the contract.
    unsafe { (*class_queue(heap, page)).remove(page) }
}

/// Puts a page with free blocks at the front of its class queue (a claimed page).
///
/// # Safety
/// The caller must own `heap`; `page` must be a page it owns, on no queue.
pub unsafe fn push_front(heap: *mut Heap, page: *mut Page) {
    // SAFETY: per the contract.
    unsafe { (*class_queue(heap, page)).push_front(page) }
}

/// Puts a page with no free block, on no queue, on the full queue.
///
/// # Safety
/// The caller must own `heap`; `page` must be a page it owns, on no queue.
pub unsafe fn push_full(heap: *mut Heap, page: *mut Page) {
    // SAFETY: per the contract.
    unsafe {
        (*page).full = true;
        crate::page::update_flags(page);
        (*heap).full.push_front(page);
        (*heap).full_count[(*page).class as usize] += 1;
    }
}

/// Parks a page with no free block on the full queue.
///
/// # Safety
/// The caller must own `heap`; `page` must be on its class queue.
pub unsafe fn move_to_full(heap: *mut Heap, page: *mut Page) {
    // SAFETY: per the contract.
    unsafe {
        (*class_queue(heap, page)).remove(page);
        push_full(heap, page);
    }
}

/// Brings a full page that got a block back, at the back of its class queue: it holds
/// one free block now and gathers more while the pages ahead of it serve allocations.
/// (At the front it would become the current page with a single block, and the next
/// allocation would take the slow path and send it back to the full queue.)
///
/// # Safety
/// The caller must own `heap`; `page` must be on its full queue.
pub unsafe fn move_from_full(heap: *mut Heap, page: *mut Page) {
    // SAFETY: per the contract.
    unsafe {
        (*heap).full.remove(page);
        (*heap).full_count[(*page).class as usize] -= 1;
        (*page).full = false;
        crate::page::update_flags(page);
        (*class_queue(heap, page)).push_back(page);
    }
}

/// Gives an empty page's span back to its segment, unless it is a single-page span and
/// the only page of its class (kept so a block freed and allocated again in a loop does
/// not carve a span each time) and the heap is not releasing everything. Multi-page spans
/// (blocks above 64 KiB) always go back: kept empty they would pin their pages for one
/// class, and the work of touching such a block dwarfs carving its span.
///
/// # Safety
/// The caller must own `heap`; `page` must be on its class queue with `used == 0`.
pub unsafe fn retire(heap: *mut Heap, page: *mut Page) {
    // SAFETY: per the contract.
    unsafe {
        debug_assert_eq!((*page).used, 0);
        debug_assert!(!(*page).full);
        let queue = class_queue(heap, page);
        let seg = crate::segment::segment_of_page(page);
        if (*seg).owner != heap {
            // A claimed page of another heap's segment: its slots are that heap's.
            (*queue).remove(page);
            crate::handoff::give_back(seg, page);
            return;
        }
        if !(*heap).releasing
            && (*page).span_slots == 1
            && (*queue).first() == page
            && dlist::next(page) == Page::NIL
        {
            return;
        }
        (*queue).remove(page);
        span::free_span(heap, page);
    }
}

/// Retires every empty page of every class queue (with `releasing` set, class heads
/// included).
///
/// # Safety
/// The caller must own `heap`.
pub unsafe fn retire_empty_pages(heap: *mut Heap) {
    // SAFETY: owned heap; `next` is read before a page is retired.
    unsafe {
        for class in 0..(*heap).pages.len() {
            let mut p = (*heap).pages.get_unchecked(class).first();
            while p != Page::NIL {
                let next = dlist::next(p);
                if (*p).used == 0 {
                    retire(heap, p);
                }
                p = next;
            }
        }
    }
}
