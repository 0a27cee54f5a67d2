//! Hardened mode (feature `hardened`): owns the random keys, free-list link encoding,
//! the per-segment block bitmap (double-free detection), the process-wide registry of
//! the allocator's 4 MiB regions (foreign-pointer detection) and the fatal-error path.
//!
//! * **Encoded links**: a free block's link word holds
//!   `rotl(next ^ k0, k1 & 63) + k1` with two random keys per page (remote-queue links
//!   use a process-wide pair). On pop the decoded link must be null or a block inside the
//!   same span; anything else means a freed block was overwritten → abort.
//! * **Block bitmap**: one bit per 8-byte granule of a small segment, set while the block
//!   starting there is allocated. Only the segment's owner touches it (allocation, and
//!   every free — remote frees are checked when the owner drains them), so it needs no
//!   atomics. A free whose bit is clear is a double free (or an interior pointer) → abort.
//! * **Registry**: a bitmap with one bit per 4 MiB of the 47-bit address space (a 4 MiB
//!   zero-initialised static in `.bss`, touched sparsely), set while a segment or a
//!   large-object header lives there. A free whose header region is not registered is
//!   not ours → abort, before anything dereferences the pointer.
//! * **Guard pages** (see [`crate::segment`]): in a hardened small segment, slot 0 holds
//!   the header, page headers and block bitmap followed by a `PROT_NONE` guard page before
//!   the first span (slot 2), and the last slot is entirely `PROT_NONE`, so a linear
//!   overflow out of the last span cannot reach the next segment's metadata.
//!
//! Fatal errors write one line to stderr with `write(2)` (no allocation) and `abort()`.
//!
//! **Cost** (2026-11-27, 2-vCPU Firecracker VM shared with other jobs, `--quick`
//! workloads, the `slab` and `slab-hardened` runners interleaved, 9 rounds, median ratio
//! per workload): geometric mean of hardened/plain throughput **0.91 (≈ 9.7 % slower)**,
//! above the 5 % target. Allocation-bound micro workloads pay most (glibc-simple,
//! glibc-thread, alloc-test, larson: 0.78–0.81), Rust-idiom and large-object workloads
//! little (0.95–1.00). Instruction counts (callgrind) put the added work at roughly 20
//! instructions per allocation (decode, range check, bitmap set) and 25 per free
//! (registry, owner check, bitmap test-and-clear, encode); the default build's paths
//! are unchanged (everything here is behind `cfg(feature = "hardened")`).

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::page::{Block, Page};
use crate::segment::{Segment, SEGMENT_SHIFT, SEGMENT_SIZE};

// ---------------------------------------------------------------------------------------
// Fatal errors
// ---------------------------------------------------------------------------------------

/// Writes `allocmux-slab: <what> <ptr>` to stderr and aborts. Never allocates.
#[cold]
#[inline(never)]
pub fn fatal(what: &str, p: *const u8) -> ! {
    crate::diag::StderrLine::new()
        .push(b"allocmux-slab: ")
        .push(what.as_bytes())
        .push(b" (pointer 0x")
        .push_hex(p as usize)
        .push(b"); aborting\n")
        .write();
    // SAFETY: `abort` has no preconditions and does not return.
    unsafe { libc::abort() }
}

// ---------------------------------------------------------------------------------------
// Randomness (no allocation): getrandom, else the time stamp counter and addresses
// ---------------------------------------------------------------------------------------

/// SplitMix64 step: a well-mixed 64-bit output from a counter state.
#[inline]
pub fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A random 64-bit seed: `getrandom(GRND_NONBLOCK)`, mixed with the clock and an
/// address in case the kernel has no entropy ready (never blocks, never allocates).
pub fn random_seed() -> u64 {
    let mut buf = [0u8; 8];
    // SAFETY: `buf` is writable for 8 bytes.
    let n = unsafe {
        libc::getrandom(
            buf.as_mut_ptr() as *mut libc::c_void,
            8,
            libc::GRND_NONBLOCK,
        )
    };
    let mut s = u64::from_ne_bytes(buf);
    if n != 8 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        s ^= (ts.tv_nsec as u64) << 20 ^ ts.tv_sec as u64;
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: `rdtsc` is available on every x86-64 CPU and has no side effects.
            s ^= unsafe { core::arch::x86_64::_rdtsc() };
        }
    }
    s ^= &buf as *const _ as u64;
    let mut st = s;
    splitmix(&mut st) | 1
}

/// Two link-encoding keys for a new page, drawn from the heap's generator.
#[inline]
pub fn page_keys(rng: &mut u64) -> [usize; 2] {
    [splitmix(rng) as usize, splitmix(rng) as usize]
}

// ---------------------------------------------------------------------------------------
// Link encoding
// ---------------------------------------------------------------------------------------

#[inline(always)]
fn encode(p: *mut Block, k: [usize; 2]) -> *mut Block {
    ((p as usize ^ k[0])
        .rotate_left((k[1] & 63) as u32)
        .wrapping_add(k[1])) as *mut Block
}

#[inline(always)]
fn decode(v: *mut Block, k: [usize; 2]) -> *mut Block {
    ((v as usize)
        .wrapping_sub(k[1])
        .rotate_right((k[1] & 63) as u32)
        ^ k[0]) as *mut Block
}

/// Reads block `b`'s link in `page`'s free lists, aborting if it does not decode to null
/// or a block of the same span.
///
/// # Safety
/// `page` must be a live page owned by the caller and `b` a free block of it.
#[inline(always)]
pub unsafe fn page_next(page: *mut Page, b: *mut Block) -> *mut Block {
    // SAFETY: per the contract the page header and the block are readable.
    unsafe {
        let n = decode((*b).next, (*page).keys);
        // Null ends the list; anything else must lie in `[start, start + span_limit)`.
        if (n as usize).wrapping_sub((*page).start as usize) >= (*page).span_limit && !n.is_null() {
            fatal(
                "corrupted free list (a freed block was overwritten)",
                b as *const u8,
            );
        }
        n
    }
}

/// Writes block `b`'s link in `page`'s free lists.
///
/// # Safety
/// `page` must be a live page owned by the caller and `b` a free block of it.
#[inline(always)]
pub unsafe fn page_set_next(page: *mut Page, b: *mut Block, next: *mut Block) {
    // SAFETY: per the contract.
    unsafe { (*b).next = encode(next, (*page).keys) }
}

/// Process-wide keys for remote-queue links (initialised with the first heap).
static REMOTE_KEYS: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

/// Sets the remote-queue keys once (before any block exists).
pub fn init_remote_keys() {
    if REMOTE_KEYS[1].load(Ordering::Relaxed) == 0 {
        let mut s = random_seed();
        let k0 = splitmix(&mut s) as usize;
        let k1 = splitmix(&mut s) as usize | 1;
        let _ = REMOTE_KEYS[0].compare_exchange(0, k0, Ordering::Relaxed, Ordering::Relaxed);
        let _ = REMOTE_KEYS[1].compare_exchange(0, k1, Ordering::Relaxed, Ordering::Relaxed);
    }
}

#[inline]
fn remote_keys() -> [usize; 2] {
    [
        REMOTE_KEYS[0].load(Ordering::Relaxed),
        REMOTE_KEYS[1].load(Ordering::Relaxed),
    ]
}

/// Reads a remote-queue link.
///
/// # Safety
/// `b` must be a live block in a remote queue chain the caller may read.
#[inline]
pub unsafe fn remote_next(b: *mut Block) -> *mut Block {
    // SAFETY: per the contract.
    unsafe { decode((*b).next, remote_keys()) }
}

/// Writes a remote-queue link.
///
/// # Safety
/// `b` must be a live block the caller owns.
#[inline]
pub unsafe fn remote_set_next(b: *mut Block, next: *mut Block) {
    // SAFETY: per the contract.
    unsafe { (*b).next = encode(next, remote_keys()) }
}

// ---------------------------------------------------------------------------------------
// Block bitmap (owner only)
// ---------------------------------------------------------------------------------------

/// Offset of the block bitmap from the segment start (see [`crate::segment`]): the bits of
/// slot `i` live at `BITMAP_OFFSET + i * 1 KiB`, so the bits of the (never used) slots 0
/// and 1 overlap nothing that matters and those of slot 2 onwards end before the guard.
pub const BITMAP_OFFSET: usize = 60 * 1024;

#[inline(always)]
fn bit_of(p: *const u8) -> (*mut u64, u64) {
    let off = p as usize & (SEGMENT_SIZE - 1);
    let granule = off >> 3;
    let seg = (p as usize - off) as *mut u8;
    let word = seg.wrapping_add(BITMAP_OFFSET + (granule >> 6) * 8) as *mut u64;
    (word, 1u64 << (granule & 63))
}

/// Marks the block at `p` allocated.
///
/// # Safety
/// `p` must be a block of a small segment owned by the caller.
#[inline(always)]
pub unsafe fn mark_allocated(p: *const u8) {
    let (w, m) = bit_of(p);
    // SAFETY: the bitmap word lies in the segment's metadata slot (owner only).
    unsafe { *w |= m };
}

/// Marks the block at `p` free, aborting if it was not allocated (double free, or a
/// pointer that is not the start of a block).
///
/// # Safety
/// `p` must point into a live span of a small segment owned by the caller.
#[inline(always)]
pub unsafe fn mark_free(page: *mut Page, p: *const u8) {
    let (w, m) = bit_of(p);
    // SAFETY: the bitmap word lies in the segment's metadata slot (owner only).
    unsafe {
        if *w & m == 0 {
            bad_free(page, p);
        }
        *w &= !m;
    }
}

#[cold]
#[inline(never)]
unsafe fn bad_free(page: *mut Page, p: *const u8) -> ! {
    // SAFETY: the page header is live (caller of `mark_free`).
    let (start, bsize) = unsafe { ((*page).start as usize, (*page).block_size) };
    let off = (p as usize).wrapping_sub(start);
    if bsize != 0 && off % bsize == 0 {
        fatal("double free detected", p)
    } else {
        fatal("free of an invalid pointer (not the start of a block)", p)
    }
}

// ---------------------------------------------------------------------------------------
// Registry of our 4 MiB regions
// ---------------------------------------------------------------------------------------

/// Address bits covered by the registry (x86-64 and aarch64 user space).
const ADDRESS_BITS: usize = 47;
const REGISTRY_BITS: usize = 1 << (ADDRESS_BITS - SEGMENT_SHIFT);

/// One bit per 4 MiB region: a zero-initialised static, so it lives in `.bss` (the
/// kernel maps its pages lazily, zero-filled; only regions we use get touched) and every
/// check is a single load from a fixed address — no pointer to load, no lazy init.
static REGISTRY: [AtomicU64; REGISTRY_BITS / 64] =
    [const { AtomicU64::new(0) }; REGISTRY_BITS / 64];

#[inline]
fn slot(hdr: *const Segment) -> Option<(&'static AtomicU64, u64)> {
    let i = hdr as usize >> SEGMENT_SHIFT;
    Some((REGISTRY.get(i >> 6)?, 1u64 << (i & 63)))
}

/// Records that the 4 MiB region holding header `hdr` is ours.
pub fn register(hdr: *const Segment) {
    if let Some((w, m)) = slot(hdr) {
        w.fetch_or(m, Ordering::Release);
    }
}

/// Forgets the region holding header `hdr` (before it is unmapped).
pub fn unregister(hdr: *const Segment) {
    if let Some((w, m)) = slot(hdr) {
        w.fetch_and(!m, Ordering::Release);
    }
}

fn registered(hdr: *const Segment) -> bool {
    match slot(hdr) {
        Some((w, m)) => w.load(Ordering::Acquire) & m != 0,
        None => false,
    }
}

/// The check every `free`/`dealloc` runs first: the pointer's header region must be
/// ours and its segment in use. Small blocks are then checked against the block bitmap
/// by their owner ([`mark_free`]); frees that do not take the local path also pass
/// [`check_free_other`].
///
/// # Safety
/// None beyond `p` being the value passed to `dealloc`: nothing is dereferenced until
/// the registry says the header is mapped.
#[inline(always)]
pub unsafe fn check_free(p: *const u8) {
    let seg = crate::segment::segment_of(p);
    if !registered(seg) {
        fatal("free of a pointer this allocator does not own", p);
    }
    // SAFETY: registered regions are mapped and start with a valid header.
    if unsafe { (*seg).owner }.is_null() {
        fatal(
            "double free detected (the block's segment is already free)",
            p,
        );
    }
}

/// The further checks of a free that is not local (a large object or a remote free):
/// a large object must be freed through its start, and a small block must not point
/// into the segment's metadata slots.
///
/// # Safety
/// `p` must have passed [`check_free`].
#[cold]
pub unsafe fn check_free_other(p: *const u8) {
    let seg = crate::segment::segment_of(p);
    // SAFETY: `check_free` found the header registered, hence mapped and valid.
    unsafe {
        if (*seg).kind == crate::segment::KIND_LARGE {
            let obj = (*seg).map_base as usize + (*seg).map_size - (*seg).large_usable;
            if p as usize != obj {
                fatal("free of an invalid pointer (inside a large object)", p);
            }
        } else if (*seg).kind != crate::segment::KIND_SMALL {
            fatal("free of a pointer this allocator does not own", p);
        } else if (p as usize & (SEGMENT_SIZE - 1)) < 2 * crate::size_class::PAGE_SIZE {
            fatal("free of an invalid pointer (segment metadata)", p);
        }
    }
}
