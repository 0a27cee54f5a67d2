//! Hardened mode (feature `hardened`): owns the random keys, free-list link encoding,
//! the double-free cookies, the start-of-block test, the process-wide registry of the
//! allocator's 4 MiB regions (foreign-pointer detection), the large-object header check
//! and the fatal-error path.
//!
//! * **Encoded links**: a free block's link word holds `next ^ key`, with a random key
//!   per page (remote-queue links use a process-wide key). On pop the decoded link must
//!   be null or a block inside the same span; anything else means a freed block was
//!   overwritten → abort.
//! * **Double-free cookie**: a freed block's second word holds its address under a
//!   secret process-wide key; allocation clears it. A free that finds the cookie already
//!   there is a double free → abort. Remote frees set it with an atomic swap, so two
//!   threads freeing one block cannot both pass. Blocks are therefore at least 16 bytes
//!   in this build ([`crate::size_class::MIN_BLOCK`]).
//! * **Start of block**: a freed small pointer must lie in its span's carved blocks and a
//!   whole number of blocks from the span start (a multiply by a per-page constant, no
//!   division). The owner checks local frees at once and remote frees when it drains
//!   them, so the freeing thread never reads the owner's page headers.
//! * **Registry**: one byte per 4 MiB of the 47-bit address space (a 32 MiB
//!   zero-initialised static in `.bss`, touched sparsely): live, cached (free but still
//!   mapped: a free there is a double free) or not ours. A free whose header region is
//!   not live aborts before anything dereferences the pointer.
//! * **Guard pages**: a small segment's metadata slot ends in a `PROT_NONE` page and its
//!   last slot is `PROT_NONE` (see [`crate::segment`]); each heap's mapping has a guard
//!   page on both sides. Large-object headers are sealed with a keyed check value instead
//!   ([`check_large_header`], see there for why).
//!
//! Fatal errors write one line to stderr with `write(2)` (no allocation) and `abort()`.
//!
//! **Cost** (2026-11-27, 2-vCPU VM, otherwise idle; the matrix's default parameters; the
//! `slab` and `slab-hardened` runners interleaved, 5 rounds, median per workload; three
//! such comparisons of the build with one-block medium spans): geometric mean of
//! hardened/plain throughput **0.935–0.965, mean 0.950 (5.0 % slower)**; the build before
//! that change measured 0.945–0.957 (its plain mstress was slower, so the same checks
//! weighed less). Allocation-bound micro workloads pay most (larson 0.74–0.90, alloc-test
//! 0.82–0.87, glibc-simple 0.85–0.87, mstress 0.78–0.94, rptest 0.92–1.04);
//! Rust-idiom, producer/consumer and large-object workloads 0.91–1.04 (one arc-channel
//! reading of 1.45, noise, aside). The first
//! version (a per-segment block bitmap set on every allocation, two-key rotate-and-add
//! link encoding, a bit-per-region registry) cost 8.7 % on the same comparison.
//! Instruction counts (callgrind, glibc-simple): about 18 more per malloc+free pair.
//! The default build's paths are unchanged (everything here is behind
//! `cfg(feature = "hardened")`).

use core::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

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

/// The link-encoding key of a new page, drawn from the heap's generator.
#[inline]
pub fn page_key(rng: &mut u64) -> usize {
    splitmix(rng) as usize
}

// ---------------------------------------------------------------------------------------
// Link encoding
// ---------------------------------------------------------------------------------------

/// Encodes (and decodes: XOR is its own inverse) a free-list link under key `k`.
#[inline(always)]
fn code(p: *mut Block, k: usize) -> *mut Block {
    (p as usize ^ k) as *mut Block
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
        let n = code((*b).next, (*page).key);
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
    unsafe { (*b).next = code(next, (*page).key) }
}

/// Process-wide key for remote-queue links (set with the first heap).
static REMOTE_KEY: AtomicUsize = AtomicUsize::new(0);

/// Sets the remote-queue and cookie keys once (before any block exists).
pub fn init_keys() {
    // FREE_KEY is set last (release) and tested first (acquire): whoever sees it set
    // also sees the remote key.
    if FREE_KEY.load(Ordering::Acquire) == 0 {
        let mut s = random_seed();
        let kr = splitmix(&mut s) as usize;
        let kf = splitmix(&mut s) as usize | 1;
        let _ = REMOTE_KEY.compare_exchange(0, kr, Ordering::Relaxed, Ordering::Relaxed);
        let _ = FREE_KEY.compare_exchange(0, kf, Ordering::Release, Ordering::Relaxed);
    }
}

/// Reads a remote-queue link.
///
/// # Safety
/// `b` must be a live block in a remote queue chain the caller may read.
#[inline]
pub unsafe fn remote_next(b: *mut Block) -> *mut Block {
    // SAFETY: per the contract.
    unsafe { code((*b).next, REMOTE_KEY.load(Ordering::Relaxed)) }
}

/// Writes a remote-queue link.
///
/// # Safety
/// `b` must be a live block the caller owns.
#[inline]
pub unsafe fn remote_set_next(b: *mut Block, next: *mut Block) {
    // SAFETY: per the contract.
    unsafe { (*b).next = code(next, REMOTE_KEY.load(Ordering::Relaxed)) }
}

// ---------------------------------------------------------------------------------------
// Block checks: start-of-block test and the double-free cookie
// ---------------------------------------------------------------------------------------

/// Process-wide key of the double-free cookies (set with the remote-queue keys).
static FREE_KEY: AtomicUsize = AtomicUsize::new(0);

/// The cookie a free block carries in its second word: its address under the secret key.
#[inline(always)]
fn cookie(p: *const u8) -> usize {
    p as usize ^ FREE_KEY.load(Ordering::Relaxed)
}

/// The second word of block `p` (blocks are at least 16 bytes in the hardened build).
#[inline(always)]
fn cookie_word(p: *const u8) -> *mut usize {
    (p as *mut usize).wrapping_add(1)
}

/// The constant [`check_block_start`] multiplies by for blocks of `block_size` bytes:
/// `ceil(2^64 / block_size)` (Lemire, Kaser & Kurz, "Faster remainder by direct
/// computation", 2019: for 32-bit `n` and `d`, `d` divides `n` iff `n * c < c` mod 2^64).
pub const fn div_magic(block_size: usize) -> u64 {
    u64::MAX / block_size as u64 + 1
}

/// Aborts unless `p` is the start of one of `page`'s blocks: inside the carved span and
/// a whole number of blocks from its start (one multiply, no division). A freed span's
/// header is all zero, so nothing passes for it.
///
/// # Safety
/// `page` must be a readable page header.
#[inline(always)]
pub unsafe fn check_block_start(page: *mut Page, p: *const u8) {
    // SAFETY: per the contract.
    let (start, limit, magic) = unsafe { ((*page).start, (*page).span_limit, (*page).div_magic) };
    let off = (p as usize).wrapping_sub(start as usize);
    // `off < limit <= 1 MiB`, so the divisibility test's 32-bit bound holds.
    if off >= limit || (off as u64).wrapping_mul(magic) >= magic {
        fatal("free of an invalid pointer (not the start of a block)", p);
    }
}

/// Clears the cookie of a block being handed out, so only freed blocks carry one.
///
/// # Safety
/// `b` must be a block (of at least 16 bytes) the caller owns.
#[inline(always)]
pub unsafe fn mark_allocated(b: *const u8) {
    // SAFETY: the block is ours and at least two words long.
    unsafe { *cookie_word(b) = 0 };
}

/// The owner's check of a local free: `p` must start a block of `page` and must not
/// carry the free cookie already (a double free); then the cookie is set.
///
/// # Safety
/// `page` must be the caller's own live page that `p` points into.
#[inline(always)]
pub unsafe fn check_local_free(page: *mut Page, p: *const u8) {
    // SAFETY: `page` is live and owned; after the start check, `p` is a block of it.
    unsafe {
        check_block_start(page, p);
        let w = cookie_word(p);
        let c = cookie(p);
        if *w == c {
            fatal("double free detected", p);
        }
        *w = c;
    }
}

// ---------------------------------------------------------------------------------------
// Registry of our 4 MiB regions
// ---------------------------------------------------------------------------------------

/// Address bits covered by the registry (x86-64 and aarch64 user space).
const ADDRESS_BITS: usize = 47;
const REGISTRY_LEN: usize = 1 << (ADDRESS_BITS - SEGMENT_SHIFT);

/// One byte per 4 MiB region (32 MiB of address space): a zero-initialised static, so it
/// lives in `.bss` (the kernel maps its pages lazily, zero-filled; only regions we use get
/// touched) and every check is one byte load from a fixed address — no pointer to load,
/// no lazy initialisation, no bit arithmetic.
static REGISTRY: [AtomicU8; REGISTRY_LEN] = [const { AtomicU8::new(0) }; REGISTRY_LEN];

#[inline(always)]
fn slot(hdr: *const Segment) -> Option<&'static AtomicU8> {
    REGISTRY.get(hdr as usize >> SEGMENT_SHIFT)
}

/// Registry value: not a region of ours.
const NOT_OURS: u8 = 0;
/// Registry value: a segment or large object in use.
const LIVE: u8 = 1;
/// Registry value: ours but free (a cached segment or large mapping): a free there is a
/// double free.
const CACHED: u8 = 2;

fn set(hdr: *const Segment, v: u8) {
    if let Some(b) = slot(hdr) {
        b.store(v, Ordering::Release);
    }
}

/// Records that the 4 MiB region holding header `hdr` is ours and in use.
pub fn register(hdr: *const Segment) {
    set(hdr, LIVE);
}

/// Records that the region holding header `hdr` is ours but free (cached for reuse).
pub fn mark_cached(hdr: *const Segment) {
    set(hdr, CACHED);
}

/// Forgets the region holding header `hdr` (before it is unmapped).
pub fn unregister(hdr: *const Segment) {
    set(hdr, NOT_OURS);
}

#[inline(always)]
fn registry_value(hdr: *const Segment) -> u8 {
    match slot(hdr) {
        Some(b) => b.load(Ordering::Acquire),
        None => NOT_OURS,
    }
}

#[cold]
#[inline(never)]
fn unregistered_free(p: *const u8, v: u8) -> ! {
    if v == CACHED {
        fatal(
            "double free detected (the block's memory is already free)",
            p,
        )
    } else {
        fatal("free of a pointer this allocator does not own", p)
    }
}

/// The check every `free`/`dealloc` runs first: the pointer's header region must be
/// ours and in use. A small block freed by its owner then passes [`check_local_free`];
/// every other free passes [`check_free_other`].
///
/// # Safety
/// None beyond `p` being the value passed to `dealloc`: nothing is dereferenced.
#[inline(always)]
pub unsafe fn check_free(p: *const u8) {
    let v = registry_value(crate::segment::segment_of(p));
    if v != LIVE {
        unregistered_free(p, v);
    }
}

/// The checks of a free that is not local (a large object, a remote free, or a free
/// racing with the release of its segment, whose owner is already null while the
/// registry still says live): a large object must be freed through its start and keep
/// its sealed header; a small block must lie outside the metadata slot and carry no free
/// cookie, which is set with an atomic swap so two threads freeing the same block cannot
/// both pass. Whether it starts a block is checked by the owner when it drains its remote
/// frees.
///
/// # Safety
/// `p` must have passed [`check_free`].
#[cold]
pub unsafe fn check_free_other(p: *const u8) {
    let seg = crate::segment::segment_of(p);
    // SAFETY: `check_free` found the header registered, hence mapped and valid; a small
    // segment's page headers are readable for as long as it is registered.
    unsafe {
        if (*seg).owner.is_null() {
            fatal(
                "double free detected (the block's segment is already free)",
                p,
            );
        }
        if (*seg).kind == crate::segment::KIND_LARGE {
            check_large_header(seg);
            let obj = (*seg).map_base as usize + (*seg).map_size - (*seg).large_usable;
            if p as usize != obj {
                fatal("free of an invalid pointer (inside a large object)", p);
            }
        } else if (*seg).kind != crate::segment::KIND_SMALL {
            fatal("free of a pointer this allocator does not own", p);
        } else if (p as usize & (SEGMENT_SIZE - 1)) < crate::size_class::PAGE_SIZE {
            fatal("free of an invalid pointer (segment metadata)", p);
        } else {
            // Only the block is touched here: reading its page header would pull a cache
            // line the owner writes all the time. The owner checks the block start when it
            // drains the remote queue (`check_block_start`).
            let c = cookie(p);
            if AtomicUsize::from_ptr(cookie_word(p)).swap(c, Ordering::Relaxed) == c {
                fatal("double free detected", p);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Large-object headers
// ---------------------------------------------------------------------------------------

/// The keyed check value of a large object's header fields. Large headers are checked
/// rather than guarded: a `PROT_NONE` page inside the mapping would split it into two
/// kernel mappings, and `mremap` (which grows large objects in place of a copy) moves
/// only single mappings.
///
/// # Safety
/// `seg` must be a readable header.
pub unsafe fn large_header_check(seg: *const Segment) -> usize {
    // SAFETY: per the contract.
    let (b, s, a, u) = unsafe {
        (
            (*seg).map_base as usize,
            (*seg).map_size,
            (*seg).map_align,
            (*seg).large_usable,
        )
    };
    let mut st = (b ^ s.rotate_left(17) ^ a.rotate_left(34) ^ u.rotate_left(51)) as u64
        ^ FREE_KEY.load(Ordering::Relaxed) as u64;
    splitmix(&mut st) as usize
}

/// Aborts if large header `seg` was overwritten since it was last sealed.
///
/// # Safety
/// `seg` must be a readable large-object header.
pub unsafe fn check_large_header(seg: *const Segment) {
    // SAFETY: per the contract.
    unsafe {
        if (*seg).check != large_header_check(seg) {
            fatal(
                "corrupted large-object header (overwritten)",
                seg as *const u8,
            );
        }
    }
}
