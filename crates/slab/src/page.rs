//! Pages: the per-span header (one size class, its free lists and counters), free blocks,
//! and the page-local operations — pop, local push, lazy free-list extension, collecting
//! the local frees.
//!
//! A span is 1..=[`MAX_SPAN_PAGES`](crate::size_class::MAX_SPAN_PAGES) (8) contiguous 64 KiB slots of a segment. Its first
//! slot's [`Page`] describes it; the other slots' headers only carry `span_offset_bytes` (the
//! distance back to the first slot), so a pointer finds its page in constant time.
//!
//! ```text
//! span start (64 KiB aligned)
//! | block 0 | block 1 | ... | block extended-1 | never touched ... | tail waste |
//!   free list: blocks handed back and blocks carved lazily (`extend`)
//! ```
//!
//! Three free lists, as in mimalloc: `free` (allocation pops here), `local_free` (the
//! owner's frees; swapped into `free` on the slow path so that path runs regularly) and
//! the heap-wide remote queue (see [`crate::heap`]) for frees from other threads. A page
//! its heap gave up collects its frees on a fourth, `thread_free` ([`crate::handoff`]).
//! Links go through [`crate::checks`] (encoded and checked in the hardened build).

use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU8, Ordering};

use crate::checks::{self, PageGuard};
use crate::dlist::impl_list_node;
use crate::heap::Heap;
use crate::list::Link;
use crate::thread_free::ThreadFree;

/// A free block: its first word links to the next free block.
#[repr(C)]
pub struct Block {
    /// Next free block (null ends the list), as stored by [`crate::checks`].
    pub next: *mut Block,
}

// SAFETY: reads/writes only the `next` word of a block (encoded with the process-wide
// remote key in the hardened build).
unsafe impl Link for Block {
    #[inline]
    unsafe fn next(this: *mut Self) -> *mut Self {
        // SAFETY: caller guarantees `this` is a live block.
        checks::decode_remote_link(unsafe { (*this).next })
    }
    #[inline]
    unsafe fn set_next(this: *mut Self, next: *mut Self) {
        // SAFETY: caller guarantees `this` is a live block it owns.
        unsafe { (*this).next = checks::encode_remote_link(next) }
    }
}

/// The link of free block `b` in `page`'s `free`/`local_free` lists (decoded and checked
/// in the hardened build; a plain load otherwise).
///
/// # Safety
/// `page` must be a live page owned by the caller and `b` a free block on its lists.
#[inline(always)]
pub unsafe fn link_next(page: *mut Page, b: *mut Block) -> *mut Block {
    // SAFETY: per the contract the page header and the block are readable.
    unsafe { checks::decode_link(&(*page).guard, (*page).start, (*b).next, b) }
}

/// Sets the link of free block `b` in `page`'s lists (encoded in the hardened build).
///
/// # Safety
/// `page` must be a live page owned by the caller and `b` a free block of it.
#[inline(always)]
pub unsafe fn link_set(page: *mut Page, b: *mut Block, next: *mut Block) {
    // SAFETY: per the contract.
    unsafe { (*b).next = checks::encode_link(&(*page).guard, next) }
}

/// Bytes of blocks carved per free-list extension (but at least [`EXTEND_MIN_BLOCKS`]).
pub const EXTEND_BYTES: usize = 16 * 1024;
/// Fewest blocks carved per extension (so big blocks do not hit the slow path on
/// every other allocation; only each block's first word is touched).
pub const EXTEND_MIN_BLOCKS: usize = 8;

/// Header of a span of one size class (lives in the segment's metadata slot).
///
/// Two cache lines: the first holds what other threads' frees read (`owner`, the
/// abandoned-page list, the span offset) and fields written only when the span is set
/// up; the second what the owner writes on every allocation and free (`free`, `used`,
/// `local_free`). A remote free then never pulls in the line the owner is writing
/// (xmalloc, whose consumers free into pages their producers are allocating from: +16 to
/// +21 % with the split, docs/perf-log.md).
#[repr(C, align(128))]
pub struct Page {
    // --- Line 1: read by any thread, written rarely. ---
    /// The heap that owns this page's lists: its segment's owner, another heap that
    /// claimed it, or [`ABANDONED`] ([`crate::handoff`]).
    pub owner: AtomicPtr<Heap>,
    /// An abandoned page's frees and its tags; zero while a heap owns the page.
    pub thread_free: ThreadFree<Block>,
    /// First byte of the span.
    pub start: *mut u8,
    /// Block size in bytes.
    pub block_size: usize,
    /// Frees pushed on `thread_free` since the page was abandoned.
    pub tf_count: AtomicU32,
    /// For a non-first slot of a span: how many bytes back the first slot's header is
    /// (slots back × the header size, so finding it is one subtraction).
    pub span_offset_bytes: u32,
    /// Slots covered by the span (0: this slot is not the first slot of a live span).
    pub span_slots: u32,
    /// Blocks that fit in the span.
    pub capacity: u32,
    /// What the owner's free fast path must not handle itself: [`FLAG_FULL`] mirrors
    /// `full`, [`FLAG_FOREIGN`] is set while `owner` is not the segment's owner.
    pub flags: AtomicU8,
    /// Size class index.
    pub class: u8,
    /// Fills the first line, so `free` starts the second (checked below).
    pub(crate) line_pad: [u8; 14],
    // --- Line 2: the owner's, written on every allocation and free. ---
    /// Free blocks ready for allocation (owner only).
    pub free: *mut Block,
    /// Blocks freed by the owner since the last slow path.
    pub local_free: *mut Block,
    /// Next page in the heap queue this page is on ([`crate::dlist`]).
    pub next: *mut Page,
    /// Previous page in the heap queue this page is on.
    pub prev: *mut Page,
    /// When this (free) slot was freed, for the purge delay (ms, [`crate::os::now_ms`]).
    pub freed_at: u64,
    /// Blocks handed out and not yet freed back (to this page's lists).
    pub used: u32,
    /// Blocks carved so far (blocks at or beyond this index were never touched).
    pub extended: u32,
    /// In the heap's full list instead of its class list.
    pub full: bool,
    /// Every block on `free` is zero apart from its link word.
    pub free_is_zero: bool,
    /// The span's memory was zero (fresh from the OS or purged) when it was carved.
    pub fresh: bool,
    /// The checks' state: link key, span limit, start-of-block divisor (hardened build,
    /// where it makes the header 256 bytes; zero-sized otherwise).
    pub guard: PageGuard,
}

// The owner's fields start the second line, and no header shares a line with another.
const _: () = assert!(core::mem::offset_of!(Page, free) == 64);
const _: () = assert!(size_of::<Page>() % 128 == 0);

/// `owner` of a page its heap gave up ([`crate::handoff`]).
pub const ABANDONED: *mut Heap = ptr::without_provenance_mut(1);

/// `flags` bit: the page is on its heap's full queue.
pub const FLAG_FULL: u8 = 1;
/// `flags` bit: the page's lists are not its segment owner's.
pub const FLAG_FOREIGN: u8 = 2;

/// Recomputes `page.flags` from `full` and `owner` (the page's owner only).
///
/// # Safety
/// `page` must be a live page header the caller owns.
pub unsafe fn update_flags(page: *mut Page) {
    // SAFETY: per the contract.
    unsafe {
        let seg = crate::segment::segment_of_page(page);
        let foreign = (*page).owner.load(Ordering::Relaxed) != (*seg).owner;
        let f = (*page).full as u8 | (foreign as u8) << 1;
        (*page).flags.store(f, Ordering::Relaxed);
    }
}

/// Link of a heap's stack of pages handed back to it (via `next`).
pub struct Returned;
crate::list::impl_link!(Page, next, Returned);
crate::list::impl_link!(Page, next);

impl_list_node!(Page, next, prev, &SENTINEL.0 as *const Page as *mut Page);

impl Page {
    /// An all-zero page header (also the shape of a never-used slot in fresh memory).
    #[allow(clippy::declare_interior_mutable_const)] // a template: each use is a fresh copy
    pub const EMPTY: Page = Page {
        free: ptr::null_mut(),
        used: 0,
        full: false,
        free_is_zero: false,
        class: 0,
        fresh: false,
        block_size: 0,
        local_free: ptr::null_mut(),
        start: ptr::null_mut(),
        capacity: 0,
        extended: 0,
        span_slots: 0,
        span_offset_bytes: 0,
        next: ptr::null_mut(),
        prev: ptr::null_mut(),
        freed_at: 0,
        guard: PageGuard::NONE,
        owner: AtomicPtr::new(ptr::null_mut()),
        flags: AtomicU8::new(0),
        thread_free: ThreadFree::new(),
        tf_count: AtomicU32::new(0),
        line_pad: [0; 14],
    };
}

/// Wrapper making the read-only sentinel page shareable.
struct SentinelPage(Page);
// SAFETY: the sentinel is never written (the allocation fast path only writes a page
// after seeing a non-null `free`, which the sentinel never has; list code never writes
// through `NIL`).
unsafe impl Sync for SentinelPage {}

/// The page a heap's empty page queue points to (`<Page as ListNode>::NIL`): its `free`
/// is null, so the fast path falls through to the slow path without a null check.
static SENTINEL: SentinelPage = SentinelPage(Page::EMPTY);

/// Pops a block from `page`'s `free` list; null if the list is empty. The one pop of both
/// the fast and the slow path.
///
/// # Safety
/// `page` must be a live page owned by the caller, or the sentinel.
#[inline(always)]
pub unsafe fn pop(page: *mut Page) -> *mut u8 {
    // SAFETY: per the contract; a non-null `free` is a free block of this page (the
    // sentinel's is null, so it is never written).
    unsafe {
        let b = (*page).free;
        if !b.is_null() {
            let next = link_next(page, b);
            (*page).free = next;
            // The next allocation hands out `next`: fetch its line now, for writing (a
            // block another thread freed is still in that thread's cache). arc-channel
            // 1–2 threads +15 %, +31–39 % with the drain's prefetch (docs/perf-log.md).
            crate::cpu::prefetch_write(next);
            (*page).used += 1;
            checks::mark_allocated(b as *mut u8);
        }
        b as *mut u8
    }
}

/// Pushes block `p` of `page` onto its `local_free` list (the owner's free).
///
/// # Safety
/// `page` must be a live page owned by the caller and `p` a live block of it.
#[inline(always)]
pub unsafe fn push_local(page: *mut Page, p: *mut u8) {
    // SAFETY: per the contract; the block is dead to the user from now on.
    unsafe {
        let b = p as *mut Block;
        link_set(page, b, (*page).local_free);
        (*page).local_free = b;
        (*page).used -= 1;
    }
}

/// The checks of the owner's free of `p` into `page` (hardened build: `p` starts a block
/// and is not free already; nothing otherwise).
///
/// # Safety
/// `page` must be the caller's own live page and `p` point into its span.
#[inline(always)]
pub unsafe fn check_local_free(page: *mut Page, p: *const u8) {
    // SAFETY: per the contract.
    unsafe { checks::check_local_free(&(*page).guard, (*page).start, p) }
}

/// The owner's check of a drained remote free `p` of `page` (hardened build: `p` starts
/// a block; nothing otherwise).
///
/// # Safety
/// `page` must be the caller's own live page.
#[inline(always)]
pub unsafe fn check_block_start(page: *mut Page, p: *const u8) {
    // SAFETY: per the contract the header is readable.
    unsafe { checks::check_block_start(&(*page).guard, (*page).start, p) }
}

/// Carves about [`EXTEND_BYTES`] of never-used blocks onto the (empty) `free` list.
/// Returns false when the span is fully carved.
///
/// # Safety
/// `page` must be a live page owned by the caller whose `free` list is empty.
pub unsafe fn extend(page: *mut Page) -> bool {
    // SAFETY: the page is live and owned; blocks below `capacity` lie inside its span.
    unsafe {
        debug_assert!((*page).free.is_null());
        let remaining = ((*page).capacity - (*page).extended) as usize;
        if remaining == 0 {
            return false;
        }
        let bsize = (*page).block_size;
        let n = (EXTEND_BYTES / bsize).max(EXTEND_MIN_BLOCKS).min(remaining);
        let first = (*page).start.add((*page).extended as usize * bsize);
        let mut p = first;
        for _ in 1..n {
            let next = p.add(bsize);
            link_set(page, p as *mut Block, next as *mut Block);
            p = next;
        }
        link_set(page, p as *mut Block, ptr::null_mut());
        (*page).free = first as *mut Block;
        (*page).extended += n as u32;
        (*page).free_is_zero = (*page).fresh;
        true
    }
}

/// Moves `local_free` onto the (empty) `free` list. Returns false if it was empty.
///
/// # Safety
/// `page` must be a live page owned by the caller whose `free` list is empty.
#[inline]
pub unsafe fn collect_local(page: *mut Page) -> bool {
    // SAFETY: the page is live and owned by the caller.
    unsafe {
        if (*page).local_free.is_null() {
            return false;
        }
        (*page).free = (*page).local_free;
        (*page).local_free = ptr::null_mut();
        (*page).free_is_zero = false;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::{alloc_zeroed, dealloc, Layout};

    /// Carve a page over heap memory and check pop/extend/collect (runs under Miri).
    #[test]
    fn free_list_extend_pop_and_local() {
        let bsize = 48;
        let span = if cfg!(miri) { 4096 } else { 64 * 1024 };
        let layout = Layout::from_size_align(span, 4096).unwrap();
        // SAFETY: non-zero size.
        let mem = unsafe { alloc_zeroed(layout) };
        let mut page = Page::EMPTY;
        page.start = mem;
        page.block_size = bsize;
        page.capacity = (span / bsize) as u32;
        page.fresh = true;
        page.guard = PageGuard::new(&mut checks::KeySource::seeded(), bsize, span / bsize);
        let p = &mut page as *mut Page;
        let mut got = std::collections::BTreeSet::new();
        let mut blocks = vec![];
        // SAFETY: the page describes `mem`, which we own.
        unsafe {
            while (*p).free.is_null() && extend(p) {
                assert!((*p).free_is_zero);
                while !(*p).free.is_null() {
                    let b = pop(p);
                    assert!(b >= mem && b.add(bsize) <= mem.add(span));
                    assert_eq!((b as usize - mem as usize) % bsize, 0);
                    assert!(got.insert(b as usize));
                    blocks.push(b);
                }
            }
            assert_eq!(got.len(), span / bsize);
            assert_eq!((*p).used as usize, span / bsize);
            // Free everything locally, then collect and pop again.
            for &b in &blocks {
                check_local_free(p, b);
                push_local(p, b);
            }
            assert!(collect_local(p));
            assert!(!(*p).free_is_zero);
            let mut again = 0;
            while !(*p).free.is_null() {
                pop(p);
                again += 1;
            }
            assert_eq!(again, got.len());
            assert!(!extend(p));
            dealloc(mem, layout);
        }
    }
}
