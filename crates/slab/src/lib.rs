//! allocmux's own general-purpose allocator: thread-caching size classes in the style of
//! mimalloc, written from scratch.
//!
//! ```text
//!  segment: 4 MiB, 4 MiB-aligned, 64 slots of 64 KiB; any pointer p finds its segment
//!  as (p - 1) & !(4 MiB - 1), and its page by indexing the header array with p's slot
//! +--------------------+------------------+------------------------+----------+-----
//! | slot 0             | slot 1           | slots 2..=3            | slot 4   | ...
//! | Segment header     | span of 1 page,  | span of 2 pages,       | free     |
//! | Page header x 64 --+-> class 48 B:    |  one 80 KiB block      | (purged  |
//! |  (one per slot)    | [blk][blk][blk]..| [block              ]  |  later)  |
//! +--------------------+------------------+------------------------+----------+-----
//!  Page (span header): free -> blk -> blk -> null    allocation pops here
//!                      local_free -> blk -> null     the owner's frees
//!  Heap (one per thread): a page queue per class (first = current page), a full
//!                      queue, its segments, and a remote queue <- other threads' frees
//! ```
//!
//! **Sizes.** 60 classes ([`size_class`]), 8-byte steps to 64 B, then 4 per doubling up
//! to 512 KiB (internal waste < 25 %). A class's span is one 64 KiB page, or for blocks
//! above 64 KiB the fewest pages that hold one block, so a freed medium block gives its
//! pages back at once. Bigger or more strictly aligned requests are large objects
//! ([`large`]): one mapping each, behind a header at the same mask position, cached after
//! free and grown with `mremap`.
//!
//! **Fast paths** ([`heap`]). Allocation: TLS heap → class from a table → pop the current
//! page's `free` list. Free: mask → compare the segment's owner with the TLS heap → push
//! on the page's `local_free`. No lock, no atomic read-modify-write and no byte count on
//! either (a heap recounts its bytes in use from its pages' block counts on the slow
//! path, [`heap::count_in_use`]); everything else is `#[cold]`.
//! The slow path refills the current page from its local frees or by carving more
//! blocks, moves exhausted pages to the full queue ([`page_queue`]) and carves new spans
//! from the heap's segments ([`span`]).
//!
//! **Remote frees** are messages (snmalloc-style): one CAS pushes the block onto the
//! owner heap's queue ([`list::AtomicStack`]); the owner takes the whole queue with one
//! swap on its slow path and frees the blocks locally.
//!
//! **Page hand-off** ([`handoff`]): a heap keeps two full pages per class; one that fills
//! up beyond them is abandoned and collects its frees on its own tagged list
//! ([`thread_free`]); once an eighth of it is free it is published for any heap
//! allocating its class to claim. A thread that only allocates (a producer) thus stops
//! pinning every page its consumers have not yet freed back to it.
//!
//! **Thread exit** ([`thread`], [`lifecycle`]): a `pthread_key_create` destructor releases
//! the heap's idle memory and pushes the heap on a lock-free abandoned stack; new threads
//! adopt abandoned heaps before creating new ones, and threads that need a segment (and
//! every 4096 slow-path calls) scavenge their remote frees and idle pages. A segment
//! changes owner only while empty and heaps are never unmapped, so a remote free never
//! writes into freed or reassigned memory.
//!
//! **Returning memory.** An empty page's span goes back to its segment at once (except a
//! class's one current page); free slots are purged with `madvise(MADV_DONTNEED)` after
//! [`PURGE_DELAY_MS`], checked on the owner's slow path or by [`collect`]; a heap keeps
//! one empty segment, a process-wide cache 16 more. Purged and fresh memory is known to
//! be zero, so `alloc_zeroed` skips the memset there.
//!
//! **Never allocates, panics or locks inside.** The thread-local is a `const`-initialised,
//! `Drop`-free `Cell<*mut Heap>`; metadata comes from `mmap` ([`os`], the only module that
//! talks to the kernel, a test arena under Miri); errors return null. Shared state changes
//! only by single CAS/swap instructions (the one per-class pop flag is only ever tried,
//! never waited for), so `fork` needs no `pthread_atfork` handler.
//!
//! **Hardened mode** (feature `hardened`, [`checks`]): encoded and checked free-list
//! links, double-free, interior- and foreign-pointer detection, guard pages and sealed
//! large headers; misuse aborts with one line on stderr. The plain build compiles the
//! same calls to no-ops. **Huge pages** (feature `huge-pages`, off by default,
//! [`os::HUGE_PAGES`]): fresh segments and large mappings are advised `MADV_HUGEPAGE`,
//! which buys TLB reach with memory. **Statistics**: [`stats()`].
//!
//! **Tests**: `cargo test -p allocmux-slab [--features hardened]` (unit tests, the size ×
//! alignment × `realloc` grid, stress with the slab as `#[global_allocator]`, thread churn,
//! fork, late thread-exit frees, OOM, and in the hardened build the misuse tests); the loom
//! model of [`list`] (`RUSTFLAGS="--cfg loom" cargo test --release -p allocmux-slab --lib
//! --target-dir target/loom loom_tests`); Miri with strict provenance
//! (`MIRIFLAGS=-Zmiri-strict-provenance cargo +nightly miri test -p allocmux-slab --lib`).
//! `cargo test -p allocmux-slab --features huge-pages --test huge_pages` checks the
//! huge-page advice. `cargo xtask test` runs them all.

pub mod checks;
pub mod cpu;
pub mod diag;
pub mod dlist;
pub mod handoff;
pub mod heap;
pub mod large;
pub mod layout;
pub mod lifecycle;
pub mod list;
pub mod os;
pub mod page;
pub mod page_queue;
pub mod pool;
pub mod segment;
pub mod size_class;
pub mod span;
pub mod stats;
pub mod sync;
pub mod thread;
pub mod thread_free;

use core::alloc::{GlobalAlloc, Layout};
use core::ptr;

pub use span::PURGE_DELAY_MS;
pub use stats::SlabStats;

/// Whether this build has the hardened mode's checks (feature `hardened`).
pub const HARDENED: bool = checks::ENABLED;

/// `allocmux-built-from:PACKAGE=DIRECTORY;`: this crate's package name and the
/// directory Cargo compiled it from, kept in the binary so a build can be
/// checked against the checkout it is meant to come from.
pub const BUILT_FROM: &str = concat!(
    "allocmux-built-from:",
    env!("CARGO_PKG_NAME"),
    "=",
    env!("CARGO_MANIFEST_DIR"),
    ";"
);

/// The slab allocator as a `GlobalAlloc` value.
#[derive(Debug, Clone, Copy, Default)]
pub struct SlabAlloc;

/// Allocation for everything but the small, word-aligned fast path.
#[inline(never)]
fn alloc_generic(size: usize, align: usize) -> *mut u8 {
    match size_class::class_for_layout(size, align) {
        Some(class) => {
            let mut heap = thread::current();
            if heap.is_null() {
                heap = thread::init_current();
                if heap.is_null() {
                    return ptr::null_mut();
                }
            }
            // SAFETY: `heap` is this thread's heap and `class < CLASS_COUNT`.
            unsafe { heap::alloc_class(heap, class) }
        }
        None => large::alloc(size, align),
    }
}

/// C `malloc` of `size <= SMALL_TABLE_MAX` bytes (null when memory is exhausted): a
/// block of the class [`size_class::malloc_class`] picks, 16-byte aligned above 8 bytes.
/// The drop-in library's fast path: one table lookup, no layout arithmetic.
#[inline(always)]
pub fn malloc_small(size: usize) -> *mut u8 {
    let class = size_class::malloc_class(size);
    let heap = thread::current();
    if !heap.is_null() {
        // SAFETY: `heap` is this thread's heap; table classes are < CLASS_COUNT.
        return unsafe { heap::alloc_class(heap, class) };
    }
    alloc_generic(size_class::class_size(class), 8)
}

/// [`malloc_small`]'s fast path alone: null when this thread has no heap yet or the
/// class's current page has no free block (the caller then takes [`malloc_small`]). Lets
/// the drop-in library keep its `malloc` a leaf function whose misses tail-call a cold
/// path.
#[inline(always)]
pub fn malloc_small_fast(size: usize) -> *mut u8 {
    let class = size_class::malloc_class(size);
    let heap = thread::current();
    if heap.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: `heap` is this thread's heap; table classes are < CLASS_COUNT.
    unsafe { heap::alloc_class_fast(heap, class) }
}

/// Zeroes the first `size` bytes of a block just allocated, skipping what is known to
/// be zero already (a block carved from fresh or purged memory carries only its old
/// free-list link; a fresh large mapping is all zero).
///
/// # Safety
/// `p` must be a block just returned by this allocator, at least `size` bytes long.
#[inline]
pub unsafe fn zero_fresh(p: *mut u8, size: usize) {
    // SAFETY: per the contract `p` is live, so its segment header is mapped.
    unsafe {
        let seg = segment::segment_of(p);
        if (*seg).kind == segment::KIND_LARGE {
            if !large::is_zero(seg) {
                ptr::write_bytes(p, 0, size); // a reused mapping
            }
            return;
        }
        let page = segment::page_of(seg, p);
        if (*page).free_is_zero {
            // Only the free-list link was ever written into this block.
            (p as *mut usize).write(0);
        } else {
            ptr::write_bytes(p, 0, size);
        }
    }
}

/// Usable size of a live allocation's block (class size, or the large mapping's tail).
///
/// # Safety
/// `ptr` must be a live pointer returned by [`SlabAlloc`].
#[inline]
pub unsafe fn usable_size(ptr: *const u8) -> usize {
    let seg = segment::segment_of(ptr);
    // SAFETY: `ptr` is live, so its segment (or large header) is mapped and valid.
    unsafe {
        if (*seg).kind == segment::KIND_LARGE {
            (*seg).large_usable
        } else {
            (*segment::page_of(seg, ptr)).block_size
        }
    }
}

/// A snapshot of the allocator's statistics (see [`SlabStats`]).
pub fn stats() -> SlabStats {
    let own = thread::current();
    if !own.is_null() {
        // SAFETY: the calling thread owns its heap.
        unsafe { heap::count_in_use(own) };
    }
    let (in_use, remote) = lifecycle::heap_totals();
    SlabStats {
        mapped_bytes: stats::MAPPED.get(),
        in_use_bytes: in_use.wrapping_add(stats::LARGE_BYTES.get()),
        segments: stats::SEGMENTS.get(),
        pages_live: stats::PAGES_LIVE.get(),
        pages_empty: stats::PAGES_EMPTY.get(),
        purged_bytes_total: stats::PURGED.get(),
        remote_frees: remote,
        large_count: stats::LARGE_COUNT.get(),
        large_bytes: stats::LARGE_BYTES.get(),
        heaps_created: stats::HEAPS_CREATED.get(),
        threads_abandoned: stats::ABANDONED.get(),
        threads_reclaimed: stats::RECLAIMED.get(),
        abandoned_scavenged: stats::SCAVENGED.get(),
        pages_abandoned: stats::PAGES_ABANDONED.get(),
        pages_claimed: stats::PAGES_CLAIMED.get(),
    }
}

/// Releases idle memory now: the calling thread's heap and every abandoned heap process
/// their remote frees, give empty pages back, unmap empty segments and purge free pages
/// without waiting for the purge delay (like `mi_collect(true)`).
pub fn collect() {
    thread::collect();
}

// SAFETY: blocks come from size classes whose size is >= the request and a multiple of
// its alignment (spans start 64 KiB-aligned), or from aligned OS mappings; a block is
// handed out at most once until freed; nothing here unwinds.
unsafe impl GlobalAlloc for SlabAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let size = layout.size();
        let align = layout.align();
        if size <= size_class::SMALL_TABLE_MAX && align <= 8 {
            let heap = thread::current();
            if !heap.is_null() {
                // SAFETY: `heap` is this thread's heap; table classes are < CLASS_COUNT.
                return unsafe { heap::alloc_class(heap, size_class::small_class(size)) };
            }
        }
        alloc_generic(size, align)
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        let seg = segment::segment_of(ptr);
        // Hardened build: `seg`'s region must be ours and live before anything is read.
        checks::check_free(ptr, seg);
        let heap = thread::current();
        // SAFETY: `ptr` is live (caller contract), so its segment header is mapped. The
        // owner of a small segment is never null and large headers carry LARGE_OWNER,
        // so equality means a small block of this thread's own heap.
        unsafe {
            if (*seg).owner == heap {
                let page = segment::page_of(seg, ptr);
                page::check_local_free(page, ptr);
                heap::free_local_fast(heap, page, ptr);
            } else {
                heap::free_other(heap, seg, ptr);
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as `alloc`.
        let p = unsafe { self.alloc(layout) };
        if !p.is_null() {
            // SAFETY: `p` is a fresh block of at least `layout.size()` bytes.
            unsafe { zero_fresh(p, layout.size()) };
        }
        p
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` is live (caller contract).
        let usable = unsafe { usable_size(ptr) };
        if new_size <= usable && new_size >= usable / 2 {
            return ptr; // same block still fits and is not too wasteful
        }
        let seg = segment::segment_of(ptr);
        // SAFETY: `ptr` is live, so its header is valid; `grow` leaves the object
        // untouched when it fails.
        unsafe {
            if new_size > usable && (*seg).kind == segment::KIND_LARGE {
                let q = large::grow(seg, ptr, new_size);
                if !q.is_null() {
                    return q; // pages moved by the kernel, no copy
                }
            }
        }
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return ptr::null_mut();
        };
        // SAFETY: `new_layout` is valid and non-zero-sized per the caller's contract.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are live, distinct, and at least `min` bytes long.
            unsafe {
                ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    //! Whole-allocator round trips without installing it globally; under Miri these run
    //! on the test arena in [`os`].
    use super::*;
    use core::sync::atomic::Ordering;

    /// Whether live small block `p`'s page is abandoned.
    ///
    /// # Safety
    /// `p` must be a live small block.
    unsafe fn on_abandoned_page(p: *mut u8) -> bool {
        // SAFETY: per the contract.
        unsafe {
            let page = segment::page_of(segment::segment_of(p), p);
            (*page).owner.load(Ordering::Relaxed) == page::ABANDONED
        }
    }

    /// A live block handed between test threads.
    struct Blk(*mut u8, Layout);
    // SAFETY: blocks are plain memory owned by whoever holds the `Blk`.
    unsafe impl Send for Blk {}

    fn roundtrip(sizes: &[usize], aligns: &[usize]) -> Vec<Blk> {
        let mut v = vec![];
        for &size in sizes {
            for &align in aligns {
                let l = Layout::from_size_align(size, align).unwrap();
                // SAFETY: non-zero size.
                let p = unsafe { SlabAlloc.alloc(l) };
                assert!(!p.is_null());
                assert_eq!(p as usize % align, 0);
                // SAFETY: `p` is live and holds `size` bytes.
                unsafe {
                    assert!(usable_size(p) >= size);
                    p.write_bytes(size as u8, size);
                }
                v.push(Blk(p, l));
            }
        }
        v
    }

    fn free_all(v: Vec<Blk>) {
        for Blk(p, l) in v {
            // SAFETY: each block is live with layout `l` and was filled with its size.
            unsafe {
                assert_eq!(*p.add(l.size() - 1), l.size() as u8);
                SlabAlloc.dealloc(p, l);
            }
        }
    }

    #[test]
    fn alloc_free_realloc_zeroed_across_threads() {
        let sizes = [1, 8, 24, 100, 1000, 5000, 70_000, 600_000];
        let aligns = [1, 16, 4096, 1 << 17];
        let mine = roundtrip(&sizes, &aligns);
        // Blocks allocated here are freed by another thread (remote frees) and the other
        // thread's blocks, allocated before it exits, are freed here (abandoned heap).
        let theirs = std::thread::spawn(move || {
            free_all(mine);
            roundtrip(&sizes, &aligns)
        })
        .join()
        .unwrap();
        free_all(theirs);
        // realloc keeps contents across classes and into the large path.
        let l = Layout::from_size_align(10, 8).unwrap();
        // SAFETY: valid layouts; each pointer is live where used.
        unsafe {
            let mut p = SlabAlloc.alloc_zeroed(l);
            assert_eq!(std::slice::from_raw_parts(p, 10), &[0u8; 10]);
            p.write_bytes(7, 10);
            let mut old = l;
            for n in [20, 300, 9000, 700_000, 50] {
                p = SlabAlloc.realloc(p, old, n);
                assert!(!p.is_null());
                assert_eq!(*p, 7);
                p.write_bytes(7, n);
                old = Layout::from_size_align(n, 8).unwrap();
            }
            SlabAlloc.dealloc(p, old);
        }
        collect();
        let s = stats();
        assert!(s.remote_frees > 0, "{s:?}");
        assert!(s.threads_abandoned >= 1, "{s:?}");
    }

    #[test]
    fn a_free_sent_to_the_owner_after_its_page_was_abandoned_reaches_the_page() {
        // Fill more pages of one class than a heap keeps: the last ones are abandoned.
        let pages = handoff::FULL_RETAIN + 3;
        let mut blocks = roundtrip(&vec![1024; 64 * pages], &[8]);
        let heap = thread::current();
        let at = blocks
            .iter()
            // SAFETY: each block is live, so its segment and page headers are mapped.
            .position(|b| unsafe { on_abandoned_page(b.0) })
            .expect("a block of an abandoned page");
        let victim = blocks.swap_remove(at);
        // SAFETY: as above; this thread owns the segment.
        let (seg, page) = unsafe {
            let seg = segment::segment_of(victim.0);
            (seg, segment::page_of(seg, victim.0))
        };
        // A free on another thread that read the segment's hint just before the page
        // was abandoned: it sends the block to the segment's owner.
        // SAFETY: the segment is live.
        unsafe { (*seg).handed_off.store(false, Ordering::Relaxed) };
        std::thread::spawn(move || free_all(vec![victim]))
            .join()
            .unwrap();
        // SAFETY: this thread owns `heap` and the block's segment.
        unsafe {
            (*seg).handed_off.store(true, Ordering::Relaxed);
            assert!(!(*heap).remote.is_empty(), "the block went to the owner");
            heap::drain_remote(heap);
            // The owner re-routed it into its abandoned page, which it took back.
            assert_eq!((*page).owner.load(Ordering::Relaxed), heap);
            assert_eq!((*page).used + 1, (*page).capacity);
        }
        free_all(blocks);
    }
}
