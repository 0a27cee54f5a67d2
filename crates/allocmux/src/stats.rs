//! The opt-in counting layer (`stats` feature): how many allocations,
//! deallocations and reallocations the program made and how many bytes it had
//! requested, now and at peak.
//!
//! Cost model: no lock. Call counts go to one of [`SHARDS`] cache-line-sized
//! shards picked per thread, so threads rarely share a counter line; the byte
//! gauge is one global relaxed atomic (it must be global to give an exact
//! peak), and the peak is only written when it grows.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

/// A snapshot of the counting layer (see [`stats`](crate::stats)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Successful calls to `alloc` and `alloc_zeroed`.
    pub allocations: u64,
    /// Calls to `dealloc`.
    pub deallocations: u64,
    /// Successful calls to `realloc`.
    pub reallocations: u64,
    /// Bytes requested (by `Layout::size`) and not yet freed.
    pub bytes_current: u64,
    /// The highest `bytes_current` since start or the last [`reset_stats`](crate::reset_stats).
    pub bytes_peak: u64,
}

/// Number of counter shards; threads are spread over them round-robin.
pub const SHARDS: usize = 32;

/// One shard of call counters, alone on its cache line.
#[repr(align(128))]
struct Shard {
    allocations: AtomicU64,
    deallocations: AtomicU64,
    reallocations: AtomicU64,
}

#[allow(clippy::declare_interior_mutable_const)] // used only as an array initialiser
const EMPTY_SHARD: Shard = Shard {
    allocations: AtomicU64::new(0),
    deallocations: AtomicU64::new(0),
    reallocations: AtomicU64::new(0),
};

static SHARD_TABLE: [Shard; SHARDS] = [EMPTY_SHARD; SHARDS];
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);
static BYTES_CURRENT: AtomicU64 = AtomicU64::new(0);
static BYTES_PEAK: AtomicU64 = AtomicU64::new(0);

thread_local! {
    // Const-initialised and without `Drop`: using it inside the global
    // allocator never allocates and registers no destructor.
    static MY_SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

#[inline]
fn shard() -> &'static Shard {
    let index = MY_SHARD
        .try_with(|slot| {
            let mut i = slot.get();
            if i == usize::MAX {
                i = NEXT_SHARD.fetch_add(1, Relaxed) % SHARDS;
                slot.set(i);
            }
            i
        })
        .unwrap_or(0);
    &SHARD_TABLE[index % SHARDS]
}

#[inline]
fn add_bytes(n: usize) {
    let now = BYTES_CURRENT.fetch_add(n as u64, Relaxed) + n as u64;
    if now > BYTES_PEAK.load(Relaxed) {
        BYTES_PEAK.fetch_max(now, Relaxed);
    }
}

#[inline]
fn sub_bytes(n: usize) {
    BYTES_CURRENT.fetch_sub(n as u64, Relaxed);
}

/// Records a successful allocation of `size` bytes.
#[inline]
pub(crate) fn on_alloc(size: usize) {
    shard().allocations.fetch_add(1, Relaxed);
    add_bytes(size);
}

/// Records the release of a block of `size` bytes.
#[inline]
pub(crate) fn on_dealloc(size: usize) {
    shard().deallocations.fetch_add(1, Relaxed);
    sub_bytes(size);
}

/// Records a successful reallocation from `old` to `new` bytes.
#[inline]
pub(crate) fn on_realloc(old: usize, new: usize) {
    shard().reallocations.fetch_add(1, Relaxed);
    if new >= old {
        add_bytes(new - old);
    } else {
        sub_bytes(old - new);
    }
}

/// Reads the counters. Counts are exact once the threads that allocate have
/// stopped; during concurrent use each field is a recent value.
pub fn stats() -> Stats {
    let mut s = Stats {
        bytes_current: BYTES_CURRENT.load(Relaxed),
        bytes_peak: BYTES_PEAK.load(Relaxed),
        ..Stats::default()
    };
    for shard in &SHARD_TABLE {
        s.allocations += shard.allocations.load(Relaxed);
        s.deallocations += shard.deallocations.load(Relaxed);
        s.reallocations += shard.reallocations.load(Relaxed);
    }
    s
}

/// Sets the call counts to zero and the peak to the bytes currently in use
/// (blocks still live stay counted in `bytes_current`, so later frees balance).
pub fn reset_stats() {
    for shard in &SHARD_TABLE {
        shard.allocations.store(0, Relaxed);
        shard.deallocations.store(0, Relaxed);
        shard.reallocations.store(0, Relaxed);
    }
    BYTES_PEAK.store(BYTES_CURRENT.load(Relaxed), Relaxed);
}
