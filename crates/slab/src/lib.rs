//! allocmux's own general-purpose allocator: thread-caching size classes in the style of
//! mimalloc, written from scratch.
//!
//! # Design
//!
//! * **Size classes** ([`size_class`]): 112 classes, all multiples of 8:
//!   8, 16, …, 64, then 8 classes per doubling (`2^k + j·2^(k-3)`, j = 1..=8) up to
//!   512 KiB. A request `r > 64` gets a block `< r · 1.125` (internal waste < 12.5 %).
//!   Blocks up to 64 KiB live in 64 KiB single-page spans (at least 8 blocks each up to
//!   8 KiB); bigger (medium) blocks get a span of the fewest pages that hold one block, so
//!   a freed medium block's pages return to the segment at once for any class to reuse.
//!   Requests above 512 KiB, or aligned above 64 KiB, are **large objects**
//!   ([`large`]): one `mmap` each (aligned as asked — 2 MiB and beyond work), returned
//!   on free through a cache (≤ 16 mappings, ≤ 128 MiB, purged after the delay,
//!   unmapped beyond the limits); `realloc` growth moves their pages with `mremap`.
//! * **Segments and pages** ([`segment`], [`page`]):
//!   4 MiB-aligned segments (mapped 2× and trimmed) split into 64 slots of 64 KiB; slot 0
//!   holds the segment header and the 64 page headers. `dealloc` finds the segment by
//!   masking the pointer (`(p - 1) & !(4 MiB - 1)`) and the page by indexing the header
//!   array (one back-offset hop for multi-page spans): constant time, no search. Large
//!   objects carry the same header at that address, so the same mask finds them.
//! * **Per-thread heaps** ([`heap`], [`thread`]): each
//!   thread owns a heap (in its own OS mapping, never from the global allocator) with a
//!   current page per class. Same-thread malloc = TLS heap → class via a 129-entry table →
//!   pop the page's `free` list; same-thread free = mask → compare the segment's owner
//!   heap with the TLS heap → push on the page's `local_free`. No lock and no atomic
//!   read-modify-write on either path (the bytes-in-use counter is a single-writer
//!   relaxed load + store); everything else is `#[cold]`.
//! * **Remote frees: message passing (snmalloc-style), not per-page sharding.** A free
//!   from another thread is pushed with one CAS onto the *owner heap's* remote queue
//!   ([`list::AtomicStack`]); the owner takes the whole queue
//!   with one swap on its slow path and frees the blocks locally. Chosen because the
//!   owner then sees every remote free itself, so a full page that receives remote frees
//!   is moved back to its class list without mimalloc's "delayed free" handshake, and the
//!   hand-over at thread exit reduces to handing over one heap — no per-page atomic
//!   state can race with abandonment. A segment changes owner only while it is empty
//!   (no live block, so no remote free can be heading for it), and heaps are never
//!   unmapped, so a remote pusher can never write into freed or reassigned memory.
//! * **Thread exit** ([`thread`]): a `pthread_key_create` destructor
//!   (registered once through an atomic state machine, and eagerly from `.init_array`)
//!   releases the heap's idle memory (remote frees, empty pages, empty segments) and
//!   pushes the heap on a global lock-free abandoned stack. New threads **adopt**
//!   abandoned heaps before creating new ones, so thousands of short-lived threads reuse
//!   a bounded set of heaps (at most the peak number of live threads, plus a few from
//!   races); threads that need a new segment (and every 4096 slow-path calls)
//!   **scavenge** the abandoned heaps that have pending remote frees or unpurged pages.
//!   Frees that arrive after a heap was abandoned (from any thread, including the exiting
//!   thread's later TLS destructors) take the remote path.
//! * **Returning memory**: a page whose last block is freed gives its span back to the
//!   segment at once (except the one current page of its class); free slots are purged
//!   with `madvise(MADV_DONTNEED)` once they stayed free for 500 ms (checked on the
//!   owner's slow path, so an idle thread keeps its memory until it next allocates or
//!   calls [`collect`]); a heap keeps at most one empty segment; further empty segments
//!   go to a process-wide cache of at most 16 (their pages purged after the delay) and
//!   are unmapped beyond that. Purged and freshly mapped memory is known to be zero,
//!   which `alloc_zeroed` uses to skip the memset (small blocks carved from such pages,
//!   and large objects from a fresh or purged mapping).
//! * **No allocation, no panic inside the allocator**: the thread-local is a
//!   `const`-initialised `Cell<*mut Heap>` (no `Drop`, so no TLS destructor is
//!   registered); metadata comes from `mmap`; errors return null; indexing is either
//!   checked (`get`) or proven in range.
//! * **Fork safety without `pthread_atfork`**: the allocator has no lock. Shared state is
//!   changed only by single atomic instructions (CAS/swap), so a fork can never observe a
//!   lock held by a thread that does not exist in the child. The only spin (thread-exit
//!   key creation) completes in an `.init_array` constructor before `main`. In the child,
//!   heaps of threads that did not survive the fork are simply never reused (their memory
//!   stays mapped, as in mimalloc).
//! * **OS layer** ([`os`]): the only module that calls `mmap`/`mremap`/`madvise`/
//!   `munmap`; under Miri it switches to a test arena on `std::alloc::System`.
//! * **Hardened mode** (feature `hardened`, `hardened` module): free-list links encoded
//!   with a random key per page (`getrandom`, no allocation) and checked on every pop;
//!   a keyed cookie in each freed block catches double frees, a per-page multiply
//!   catches pointers that do not start a block, a process-wide registry of our 4 MiB
//!   regions catches frees of pointers we do not own; `PROT_NONE` guard pages separate
//!   segment metadata from spans, end every segment and surround every heap; large-object
//!   headers carry a keyed check value. Misuse aborts with one line on stderr (written
//!   with `write(2)`). The default build's fast paths are unchanged (all of it is `cfg`'d).
//! * **Statistics** ([`stats()`]): mapped bytes, bytes in use, live/empty pages, remote
//!   frees, large objects, heap hand-overs.
//!
//! # Testing
//!
//! * `cargo test -p allocmux-slab` — unit tests, the size-class × alignment × `realloc`
//!   grid (`tests/grid.rs`), the mimalloc-style and cross-thread stress tests with the
//!   slab as `#[global_allocator]` (`tests/stress.rs`), 2,000-thread churn
//!   (`tests/churn.rs`), peak-then-idle (`tests/peak_idle.rs`), fork
//!   (`tests/fork.rs`), frees and allocations after the hand-over from late thread-exit
//!   destructors (`tests/thread_exit.rs`) and OS failure under `RLIMIT_AS`
//!   (`tests/oom.rs`); with `--features hardened` the same suite plus the misuse tests
//!   (`tests/hardened.rs`: double frees, wild/foreign/interior pointers, an overwritten
//!   free-list link or large-object header — each must abort a child process with its
//!   message — and a write into a segment's metadata guard page, which must fault).
//! * Loom: the lock-free stack behind remote frees and heap hand-over
//!   ([`list`]) is generic over a small atomic shim
//!   ([`sync`]) and model-checked with
//!   `RUSTFLAGS="--cfg loom" cargo test -p allocmux-slab --lib loom_tests`.
//! * Miri: `cargo +nightly miri test -p allocmux-slab --lib` runs the size-class math,
//!   the free-list structures and a whole-allocator round trip (threads, remote frees,
//!   thread exit) on the [`os`] test arena.

pub mod checks;
pub mod diag;
pub mod dlist;
pub mod heap;
pub mod large;
pub mod layout;
pub mod lifecycle;
pub mod list;
pub mod os;
pub mod page;
pub mod page_queue;
pub mod segment;
pub mod size_class;
pub mod span;
pub mod stats;
pub mod sync;
pub mod thread;

use core::alloc::{GlobalAlloc, Layout};
use core::ptr;

pub use span::PURGE_DELAY_MS;
pub use stats::SlabStats;

/// Whether this crate holds the real slab allocator (`true`: it does).
pub const IMPLEMENTED: bool = true;

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
                heap::free_local(heap, page, ptr);
            } else {
                heap::free_other(seg, ptr);
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as `alloc`.
        let p = unsafe { self.alloc(layout) };
        if p.is_null() {
            return p;
        }
        // SAFETY: `p` is a fresh block of at least `layout.size()` bytes.
        unsafe {
            let seg = segment::segment_of(p);
            if (*seg).kind == segment::KIND_LARGE {
                if !large::is_zero(seg) {
                    ptr::write_bytes(p, 0, layout.size()); // a reused mapping
                }
                return p;
            }
            let page = segment::page_of(seg, p);
            if (*page).free_is_zero {
                // Only the free-list link was ever written into this block.
                (p as *mut usize).write(0);
            } else {
                ptr::write_bytes(p, 0, layout.size());
            }
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
}
