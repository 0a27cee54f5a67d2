//! Introspection: process-wide counters and the [`SlabStats`] snapshot.
//!
//! Slow-path events (mapping, purging, large objects, thread hand-over) update global
//! relaxed atomics here. The per-heap numbers (bytes in use, remote frees received) live
//! in each heap as single-writer counters (owner does `load` + `store`, never an atomic
//! read-modify-write) and are summed over all heaps by [`crate::stats()`]; bytes in use
//! are recounted from the pages on the heap's slow path rather than kept per operation
//! (see [`crate::heap::count_in_use`]).

use core::sync::atomic::{AtomicUsize, Ordering};

/// A snapshot of the slab allocator's state, for fragmentation reports.
///
/// Counters are read without stopping other threads, so a snapshot taken while threads
/// allocate is approximate; after threads quiesce it is exact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlabStats {
    /// Bytes currently mapped from the OS: segments (including cached empty ones), large
    /// objects (including their alignment padding, header page and cached freed
    /// mappings) and heap metadata.
    pub mapped_bytes: usize,
    /// Bytes currently handed out to callers, counted by block (size-class) size for slab
    /// objects and by usable size for large objects. Blocks freed by another thread count
    /// until their owner (or a scavenger) processes the remote free. Exact for the calling
    /// thread's heap and for heaps whose threads exited or called [`crate::collect`]; a
    /// running thread's share is its last recount (every few hundred slow-path calls).
    pub in_use_bytes: usize,
    /// Number of 4 MiB segments currently mapped (owned by heaps or cached).
    pub segments: usize,
    /// 64 KiB pages currently carrying a span of some size class.
    pub pages_live: usize,
    /// 64 KiB pages that are free but still hold physical memory (awaiting the purge delay).
    pub pages_empty: usize,
    /// Total bytes given back to the OS with `madvise(MADV_DONTNEED)` so far.
    pub purged_bytes_total: usize,
    /// Cross-thread frees processed so far (blocks freed by a thread other than the owner).
    pub remote_frees: usize,
    /// Large objects (mapped directly from the OS) currently live.
    pub large_count: usize,
    /// Usable bytes of the live large objects.
    pub large_bytes: usize,
    /// Thread heaps created so far (each is reused after its thread exits).
    pub heaps_created: usize,
    /// Times a thread exited and handed its heap over (abandoned it).
    pub threads_abandoned: usize,
    /// Times a thread adopted (reclaimed) an abandoned heap instead of creating one.
    pub threads_reclaimed: usize,
    /// Times a thread scavenged an abandoned heap (processed its remote frees and released
    /// its empty pages) without adopting it.
    pub abandoned_scavenged: usize,
    /// Full pages a heap gave up so far, to collect their frees themselves
    /// ([`crate::handoff`]).
    pub pages_abandoned: usize,
    /// Abandoned pages a heap other than their segment's owner took over so far.
    pub pages_claimed: usize,
}

/// A relaxed global counter.
pub struct Counter(AtomicUsize);

impl Counter {
    /// A zero counter.
    pub const fn new() -> Self {
        Self(AtomicUsize::new(0))
    }
    /// Adds `n`.
    #[inline]
    pub fn add(&self, n: usize) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    /// Subtracts `n`.
    #[inline]
    pub fn sub(&self, n: usize) {
        self.0.fetch_sub(n, Ordering::Relaxed);
    }
    /// Current value.
    #[inline]
    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// A counter written by exactly one thread at a time (load + store, no RMW) and read by
/// any thread.
#[derive(Default)]
pub struct OwnedCounter(AtomicUsize);

impl OwnedCounter {
    /// Adds `n`; only the current owner may call this.
    #[inline(always)]
    pub fn add(&self, n: usize) {
        self.0.store(
            self.0.load(Ordering::Relaxed).wrapping_add(n),
            Ordering::Relaxed,
        );
    }
    /// Replaces the value with `n`; only the current owner may call this.
    #[inline]
    pub fn set(&self, n: usize) {
        self.0.store(n, Ordering::Relaxed);
    }
    /// Current value.
    #[inline]
    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

impl Default for Counter {
    fn default() -> Self {
        Self::new()
    }
}

/// Bytes mapped from the OS.
pub static MAPPED: Counter = Counter::new();
/// Segments mapped.
pub static SEGMENTS: Counter = Counter::new();
/// Pages carrying a span.
pub static PAGES_LIVE: Counter = Counter::new();
/// Free pages still resident.
pub static PAGES_EMPTY: Counter = Counter::new();
/// Bytes purged so far.
pub static PURGED: Counter = Counter::new();
/// Live large objects.
pub static LARGE_COUNT: Counter = Counter::new();
/// Usable bytes of live large objects.
pub static LARGE_BYTES: Counter = Counter::new();
/// Heaps created.
pub static HEAPS_CREATED: Counter = Counter::new();
/// Heaps abandoned.
pub static ABANDONED: Counter = Counter::new();
/// Heaps adopted.
pub static RECLAIMED: Counter = Counter::new();
/// Abandoned heaps scavenged.
pub static SCAVENGED: Counter = Counter::new();
/// Pages abandoned.
pub static PAGES_ABANDONED: Counter = Counter::new();
/// Abandoned pages claimed by another heap.
pub static PAGES_CLAIMED: Counter = Counter::new();
