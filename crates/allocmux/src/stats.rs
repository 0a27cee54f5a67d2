//! The opt-in counting layer (`stats` feature): how many allocations,
//! deallocations and reallocations the program made and how many bytes it had
//! requested, now and at peak.
//!
//! Cost model: no lock and, on the common path, no atomic read-modify-write.
//! Each thread gets its own cache-line-sized [`Shard`] of counters the first
//! time it allocates; as the only writer it updates them with a plain load and
//! store. Readers sum the shards. Threads beyond [`SHARDS`] share one overflow
//! shard updated with `fetch_add`. The byte gauge is per shard too (a block
//! freed by another thread makes that shard go negative; the sum is exact).
//! The peak is folded into one global maximum whenever a thread's bytes grew
//! by [`PEAK_STEP`] since its last fold, so it may miss at most that much per
//! thread.

use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};

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
    /// The highest `bytes_current` since start or the last [`reset_stats`](crate::reset_stats),
    /// to within [`PEAK_STEP`] bytes per thread.
    pub bytes_peak: u64,
    /// Bytes requested in total: every allocation's size and every
    /// reallocation's new size.
    pub bytes_allocated: u64,
}

/// Threads that get a shard of their own; later threads share the overflow shard.
pub const SHARDS: usize = 64;

/// Net growth of a thread's bytes between two updates of the global peak.
pub const PEAK_STEP: i64 = 256 * 1024;

/// One thread's counters, alone on its cache line(s).
#[repr(align(128))]
struct Shard {
    allocations: AtomicU64,
    deallocations: AtomicU64,
    reallocations: AtomicU64,
    allocated: AtomicU64,
    bytes: AtomicI64,
}

#[allow(clippy::declare_interior_mutable_const)] // used only as an array initialiser
const EMPTY_SHARD: Shard = Shard {
    allocations: AtomicU64::new(0),
    deallocations: AtomicU64::new(0),
    reallocations: AtomicU64::new(0),
    allocated: AtomicU64::new(0),
    bytes: AtomicI64::new(0),
};

/// `SHARDS` owned shards, then the shared overflow shard.
static SHARD_TABLE: [Shard; SHARDS + 1] = [EMPTY_SHARD; SHARDS + 1];
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);
static BYTES_PEAK: AtomicU64 = AtomicU64::new(0);
/// Counts at the last reset, subtracted by [`stats`].
static BASE: [AtomicU64; 4] = [
    AtomicU64::new(0),
    AtomicU64::new(0),
    AtomicU64::new(0),
    AtomicU64::new(0),
];

const UNASSIGNED: usize = usize::MAX;

/// This thread's shard and its byte growth since it last updated the peak.
struct Local {
    shard: Cell<usize>,
    growth: Cell<i64>,
}

thread_local! {
    // Const-initialised and without `Drop`: using it inside the global
    // allocator never allocates and registers no destructor.
    static LOCAL: Local = const { Local { shard: Cell::new(UNASSIGNED), growth: Cell::new(0) } };
}

/// This thread's shard index (`SHARDS` = the shared overflow shard).
#[inline]
fn shard_index(local: &Local) -> usize {
    let mut i = local.shard.get();
    if i == UNASSIGNED {
        i = NEXT_SHARD.fetch_add(1, Relaxed).min(SHARDS);
        local.shard.set(i);
    }
    i
}

/// Adds `n` to a counter: load and store when this thread owns the shard,
/// `fetch_add` on the shared overflow shard.
#[inline]
fn add_u64(counter: &AtomicU64, owned: bool, n: u64) {
    if owned {
        counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
    } else {
        counter.fetch_add(n, Relaxed);
    }
}

#[inline]
fn add_bytes(local: Option<&Local>, shard: &Shard, owned: bool, delta: i64) {
    if owned {
        shard
            .bytes
            .store(shard.bytes.load(Relaxed).wrapping_add(delta), Relaxed);
    } else {
        shard.bytes.fetch_add(delta, Relaxed);
    }
    // Net growth since the last peak update, never below zero: a thread that
    // allocates and frees in turn never pays for a peak update.
    let fold = match local {
        Some(l) => {
            let grown = (l.growth.get() + delta).max(0);
            let fold = grown >= PEAK_STEP;
            l.growth.set(if fold { 0 } else { grown });
            fold
        }
        None => delta > 0,
    };
    if fold {
        BYTES_PEAK.fetch_max(current_bytes(), Relaxed);
    }
}

/// The exact bytes in use: the sum over the shards handed out so far and the
/// overflow shard (so the cost grows with the number of threads, not `SHARDS`).
fn current_bytes() -> u64 {
    let used = NEXT_SHARD.load(Relaxed).min(SHARDS);
    let owned: i64 = SHARD_TABLE[..used]
        .iter()
        .map(|s| s.bytes.load(Relaxed))
        .sum();
    let sum = owned + SHARD_TABLE[SHARDS].bytes.load(Relaxed);
    sum.max(0) as u64
}

/// Runs `f` with this thread's locals (if still reachable), its shard and
/// whether the thread owns that shard alone.
#[inline]
fn with_shard(f: impl Fn(Option<&Local>, &'static Shard, bool)) {
    let done = LOCAL.try_with(|local| {
        let i = shard_index(local);
        f(Some(local), &SHARD_TABLE[i.min(SHARDS)], i < SHARDS);
    });
    if done.is_err() {
        f(None, &SHARD_TABLE[SHARDS], false);
    }
}

/// Records a successful allocation of `size` bytes.
#[inline]
pub(crate) fn on_alloc(size: usize) {
    with_shard(|l, s, owned| {
        add_u64(&s.allocations, owned, 1);
        add_u64(&s.allocated, owned, size as u64);
        add_bytes(l, s, owned, size as i64);
    });
}

/// Records the release of a block of `size` bytes.
#[inline]
pub(crate) fn on_dealloc(size: usize) {
    with_shard(|l, s, owned| {
        add_u64(&s.deallocations, owned, 1);
        add_bytes(l, s, owned, -(size as i64));
    });
}

/// Records a successful reallocation from `old` to `new` bytes.
#[inline]
pub(crate) fn on_realloc(old: usize, new: usize) {
    with_shard(|l, s, owned| {
        add_u64(&s.reallocations, owned, 1);
        add_u64(&s.allocated, owned, new as u64);
        add_bytes(l, s, owned, new as i64 - old as i64);
    });
}

fn counts() -> [u64; 4] {
    let mut c = [0u64; 4];
    for s in &SHARD_TABLE {
        c[0] = c[0].wrapping_add(s.allocations.load(Relaxed));
        c[1] = c[1].wrapping_add(s.deallocations.load(Relaxed));
        c[2] = c[2].wrapping_add(s.reallocations.load(Relaxed));
        c[3] = c[3].wrapping_add(s.allocated.load(Relaxed));
    }
    c
}

/// Reads the counters. They are exact once the threads that allocate have
/// stopped; during concurrent use each field is a recent value.
pub fn stats() -> Stats {
    let c = counts();
    let current = current_bytes();
    Stats {
        allocations: c[0].wrapping_sub(BASE[0].load(Relaxed)),
        deallocations: c[1].wrapping_sub(BASE[1].load(Relaxed)),
        reallocations: c[2].wrapping_sub(BASE[2].load(Relaxed)),
        bytes_current: current,
        bytes_peak: BYTES_PEAK.load(Relaxed).max(current),
        bytes_allocated: c[3].wrapping_sub(BASE[3].load(Relaxed)),
    }
}

/// Starts counting calls from zero and sets the peak to the bytes currently in
/// use (blocks still live stay counted in `bytes_current`, so later frees
/// balance). Only reads the threads' shards, so it is safe at any time.
pub fn reset_stats() {
    for (base, now) in BASE.iter().zip(counts()) {
        base.store(now, Relaxed);
    }
    BYTES_PEAK.store(current_bytes(), Relaxed);
}
