//! The hardened build's checks (feature `hardened`): random keys, free-list link
//! encoding, double-free cookies, the start-of-block test, the registry of the allocator's
//! 4 MiB regions, guard pages, large-header seals and the fatal-error path.
//!
//! * **Encoded links**: a free block's link word holds `next ^ key`, with a random key
//!   per page (remote-queue links use a process-wide key). On pop the decoded link must
//!   be null or a block inside the same span; anything else means a freed block was
//!   overwritten → abort.
//! * **Double-free cookie**: a freed block's second word holds its address under a
//!   secret process-wide key; allocation clears it. A free that finds a cookie already
//!   there is a double free → abort. A remote free sets a second form of the cookie (the
//!   remote one) with a plain load and store, not an atomic swap (the swap cost xmalloc
//!   13–17 %); the owner checks for that form when it drains the block and turns it into
//!   the local one. So two threads freeing one block at the same time both pass their own
//!   check, but the second copy fails at the drain; only a freer that stalls between its
//!   check and its store while the other's copy is drained escapes (see
//!   [`check_drained`]).
//! * **Start of block**: a freed small pointer must lie in its span's carved blocks and a
//!   whole number of blocks from the span start (a multiply by a per-page constant, no
//!   division). The owner checks local frees at once and remote frees when it drains
//!   them, so the freeing thread never reads the owner's page headers.
//! * **Registry**: one byte per 4 MiB of the 47-bit address space (a 32 MiB
//!   zero-initialised static in `.bss`, touched sparsely): live, cached (free but still
//!   mapped: a free there is a double free) or not ours. A free whose header region is
//!   not live aborts before anything dereferences the pointer.
//! * **Guard pages**: a small segment's metadata slot ends in a `PROT_NONE` page and its
//!   last slot is `PROT_NONE` (see the segment module); each heap's mapping has a guard
//!   page on both sides. Large-object headers are sealed with a keyed check value instead
//!   ([`Seal`], see there for why).
//!
//! Fatal errors write one line to stderr with `write(2)` (no allocation) and `abort()`.

use core::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use crate::layout::{PAGE_SIZE, SEGMENT_SHIFT, SEGMENT_SIZE};

// ---------------------------------------------------------------------------------------
// Fatal errors
// ---------------------------------------------------------------------------------------

/// Writes `allocmux-slab: <what> <ptr>` to stderr and aborts. Never allocates.
#[cold]
#[inline(never)]
fn fatal(what: &str, p: *const u8) -> ! {
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

/// The hot paths' failures, one cold function each taking only the pointer: a call with
/// one argument keeps the inlined allocation and free paths short.
#[cold]
#[inline(never)]
fn corrupted_list(at: *const u8) -> ! {
    fatal("corrupted free list (a freed block was overwritten)", at)
}

/// See [`corrupted_list`].
#[cold]
#[inline(never)]
fn not_block_start(p: *const u8) -> ! {
    fatal("free of an invalid pointer (not the start of a block)", p)
}

/// See [`corrupted_list`].
#[cold]
#[inline(never)]
fn double_free(p: *const u8) -> ! {
    fatal("double free detected", p)
}

// ---------------------------------------------------------------------------------------
// Randomness (no allocation): getrandom, else the time stamp counter and addresses
// ---------------------------------------------------------------------------------------

/// SplitMix64 step: a well-mixed 64-bit output from a counter state.
#[inline]
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A random 64-bit seed: `getrandom(GRND_NONBLOCK)`, mixed with the clock and an
/// address in case the kernel has no entropy ready (never blocks, never allocates).
fn random_seed() -> u64 {
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

// ---------------------------------------------------------------------------------------
// Keys and link encoding
// ---------------------------------------------------------------------------------------

/// Process-wide key for remote-queue links (set with the first heap).
static REMOTE_KEY: AtomicUsize = AtomicUsize::new(0);
/// Process-wide key of the double-free cookies and large-header seals (set with the
/// remote-queue key).
static FREE_KEY: AtomicUsize = AtomicUsize::new(0);

/// Sets the remote-queue and cookie keys once (before any block exists).
fn init_keys() {
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

/// A heap's generator of page keys.
pub struct KeySource {
    state: u64,
}

impl KeySource {
    /// A generator seeded from the OS; the first one also sets the process-wide keys.
    pub fn seeded() -> KeySource {
        init_keys();
        KeySource {
            state: random_seed(),
        }
    }
}

/// A page's check state: the key encoding its free-list links, the bytes of its span that
/// hold blocks, and the divisor constant of the start-of-block test.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct PageGuard {
    key: usize,
    span_limit: usize,
    div_magic: u64,
}

impl PageGuard {
    /// The state of a free slot: no block passes the start test.
    pub const NONE: PageGuard = PageGuard {
        key: 0,
        span_limit: 0,
        div_magic: 0,
    };

    /// The state of a new span of `capacity` blocks of `block_size` bytes, keyed from
    /// `keys`.
    pub fn new(keys: &mut KeySource, block_size: usize, capacity: usize) -> PageGuard {
        PageGuard {
            key: splitmix(&mut keys.state) as usize,
            span_limit: capacity * block_size,
            // `ceil(2^64 / block_size)` (Lemire, Kaser & Kurz, "Faster remainder by direct
            // computation", 2019: for 32-bit `n` and `d`, `d` divides `n` iff
            // `n * c < c` mod 2^64).
            div_magic: u64::MAX / block_size as u64 + 1,
        }
    }
}

/// The stored form of a link in a page's free lists: `next ^ key`.
#[inline(always)]
pub fn encode_link<T>(guard: &PageGuard, next: *mut T) -> *mut T {
    next.map_addr(|a| a ^ guard.key)
}

/// Decodes the link `stored` read from free block `at` of the span starting at
/// `span_start`, aborting unless it is null or inside the span's blocks.
#[inline(always)]
pub fn decode_link<T>(
    guard: &PageGuard,
    span_start: *const u8,
    stored: *mut T,
    at: *const T,
) -> *mut T {
    let n = stored.map_addr(|a| a ^ guard.key);
    // Null ends the list; anything else must lie in `[start, start + span_limit)`.
    if n.addr().wrapping_sub(span_start.addr()) >= guard.span_limit && !n.is_null() {
        corrupted_list(at as *const u8);
    }
    n
}

/// The stored form of a remote-queue link (process-wide key).
#[inline]
pub fn encode_remote_link<T>(next: *mut T) -> *mut T {
    next.map_addr(|a| a ^ REMOTE_KEY.load(Ordering::Relaxed))
}

/// Decodes a remote-queue link.
#[inline]
pub fn decode_remote_link<T>(stored: *mut T) -> *mut T {
    encode_remote_link(stored) // XOR is its own inverse
}

// ---------------------------------------------------------------------------------------
// Block checks: start-of-block test and the double-free cookie
// ---------------------------------------------------------------------------------------

/// The cookie a free block carries in its second word: its address under the secret key.
#[inline(always)]
fn cookie(p: *const u8) -> usize {
    p as usize ^ FREE_KEY.load(Ordering::Relaxed)
}

/// The cookie of a block freed by a thread other than its owner and not yet drained,
/// from its local cookie `local`: the lowest bit flipped, so one test finds either form.
#[inline(always)]
fn remote_cookie(local: usize) -> usize {
    local ^ 1
}

/// Whether `word`, the second word of a block whose local cookie is `local`, is either
/// form of the free cookie (the caller passes the cookie it computed already: the key
/// is an atomic, and two relaxed loads of it are not merged into one).
#[inline(always)]
fn is_freed(word: usize, local: usize) -> bool {
    word ^ local < 2
}

/// The second word of block `p` (blocks are at least 16 bytes in this build).
#[inline(always)]
fn cookie_word(p: *const u8) -> *mut usize {
    (p as *mut usize).wrapping_add(1)
}

/// Aborts unless `p` is the start of one of the blocks of the span at `span_start`:
/// inside the carved span and a whole number of blocks from its start (one multiply, no
/// division). A free slot's guard is [`PageGuard::NONE`], so nothing passes for it.
#[inline(always)]
pub fn check_block_start(guard: &PageGuard, span_start: *const u8, p: *const u8) {
    let off = p.addr().wrapping_sub(span_start.addr());
    // `off < span_limit <= 1 MiB`, so the divisibility test's 32-bit bound holds.
    if off >= guard.span_limit || (off as u64).wrapping_mul(guard.div_magic) >= guard.div_magic {
        not_block_start(p);
    }
}

/// Clears the cookie of a block being handed out, so only freed blocks carry one.
///
/// # Safety
/// `block` must be a block (of at least 16 bytes) the caller owns.
#[inline(always)]
pub unsafe fn mark_allocated(block: *mut u8) {
    // SAFETY: the block is ours and at least two words long.
    unsafe { *cookie_word(block) = 0 };
}

/// The owner's check of a local free: `p` must start a block of its span and must not
/// carry either form of the free cookie already (a double free, or a free of a block
/// another thread freed and the owner has not drained yet); then the cookie is set.
///
/// # Safety
/// `guard` and `span_start` must describe the caller's own live span that `p` points into.
#[inline(always)]
pub unsafe fn check_local_free(guard: &PageGuard, span_start: *const u8, p: *const u8) {
    check_block_start(guard, span_start, p);
    let w = cookie_word(p);
    let c = cookie(p);
    // SAFETY: after the start check, `p` is a block (of two words at least) of the span.
    unsafe {
        if is_freed(*w, c) {
            double_free(p);
        }
        *w = c;
    }
}

/// The check of a free that is not local (a large object, a remote free, or a free
/// racing with the release of its segment, whose owner is already null while the
/// registry still says live): its header must have an owner.
#[inline]
pub fn check_has_owner(p: *const u8, has_owner: bool) {
    if !has_owner {
        fatal(
            "double free detected (the block's segment is already free)",
            p,
        );
    }
}

/// The checks of a remote free of small block `p` (`small`: its header is a small
/// segment's): it must lie outside the metadata slot and carry no free cookie; then it
/// gets the remote cookie, which the owner checks in [`check_drained`]. Whether it
/// starts a block is checked by the owner when it drains its remote frees: reading the
/// page header here would pull a cache line the owner writes all the time.
///
/// # Safety
/// `p` must have passed [`check_free`] and [`check_has_owner`].
#[inline]
pub unsafe fn check_remote_free(p: *const u8, small: bool) {
    if !small {
        fatal("free of a pointer this allocator does not own", p);
    }
    if (p as usize & (SEGMENT_SIZE - 1)) < PAGE_SIZE {
        fatal("free of an invalid pointer (segment metadata)", p);
    }
    // SAFETY: `p` lies in a span of a registered, owned small segment, so its first two
    // words are mapped; a racing double free may touch the word from another thread, so
    // it is accessed atomically here and in `check_drained`.
    let w = unsafe { AtomicUsize::from_ptr(cookie_word(p)) };
    let c = cookie(p);
    if is_freed(w.load(Ordering::Relaxed), c) {
        double_free(p);
    }
    w.store(remote_cookie(c), Ordering::Relaxed);
}

/// The owner's check of a block another thread freed, as it drains it: the block must
/// carry the remote cookie, which becomes the local one. A block two threads freed at
/// the same time reaches the owner twice; the second copy finds the local cookie (or
/// none, if the first was allocated again meanwhile) and aborts. What escapes: a freer
/// that stalls between its check and its store in [`check_remote_free`] while the
/// other freer's copy is pushed and drained — a window of two instructions, where the
/// atomic swap this replaced had none.
///
/// # Safety
/// `p` must be a block of a span of the caller's heap, taken from its remote queue.
#[inline(always)]
pub unsafe fn check_drained(p: *const u8) {
    // SAFETY: per the contract the block's first two words are mapped.
    let w = unsafe { AtomicUsize::from_ptr(cookie_word(p)) };
    let c = cookie(p);
    if w.load(Ordering::Relaxed) != remote_cookie(c) {
        double_free(p);
    }
    w.store(c, Ordering::Relaxed);
}

/// The check of a large object's free: `p` must be the object's start `object`.
#[inline]
pub fn check_large_start(p: *const u8, object: *const u8) {
    if p != object {
        fatal("free of an invalid pointer (inside a large object)", p);
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

/// The registry byte of the 4 MiB region holding `addr`. The index is masked rather than
/// bounds-checked (two instructions fewer on every free): user-space addresses are below
/// 2^47, and a pointer above it that aliases a live region of ours fails anyway, on the
/// first read of its header (no mapping can be there).
#[inline(always)]
fn slot(addr: usize) -> &'static AtomicU8 {
    &REGISTRY[(addr >> SEGMENT_SHIFT) & (REGISTRY_LEN - 1)]
}

/// Registry value: not a region of ours.
const NOT_OURS: u8 = 0;
/// Registry value: a segment or large object in use.
const LIVE: u8 = 1;
/// Registry value: ours but free (a cached segment or large mapping): a free there is a
/// double free.
const CACHED: u8 = 2;

fn set<H>(header: *const H, v: u8) {
    slot(header as usize).store(v, Ordering::Release);
}

/// Records that the 4 MiB region holding `header` (a segment or large-object header) is
/// ours and in use.
pub fn register<H>(header: *const H) {
    set(header, LIVE);
}

/// Records that the region holding `header` is ours but free (cached for reuse).
pub fn mark_cached<H>(header: *const H) {
    set(header, CACHED);
}

/// Forgets the region holding `header` (before it is unmapped or moved).
pub fn unregister<H>(header: *const H) {
    set(header, NOT_OURS);
}

/// The failure of [`check_free`]; `p`'s header starts at `p - 1` rounded down to 4 MiB
/// (see `segment::segment_of`), so the region is found again from `p` alone.
#[cold]
#[inline(never)]
fn unregistered_free(p: *const u8) -> ! {
    if slot((p as usize).wrapping_sub(1)).load(Ordering::Acquire) == CACHED {
        fatal(
            "double free detected (the block's memory is already free)",
            p,
        )
    } else {
        fatal("free of a pointer this allocator does not own", p)
    }
}

/// The check every `free`/`dealloc` runs first: the region of `p`'s header (`header`,
/// computed by masking, not read) must be ours and in use. Nothing is dereferenced.
#[inline(always)]
pub fn check_free<H>(p: *const u8, header: *const H) {
    if slot(header as usize).load(Ordering::Acquire) != LIVE {
        unregistered_free(p);
    }
}

// ---------------------------------------------------------------------------------------
// Guard pages and large-object header seals
// ---------------------------------------------------------------------------------------

/// Makes `[p, p + size)` a guard range (`PROT_NONE`).
///
/// # Safety
/// The range must be page-aligned, inside a live mapping, and hold no live data.
#[inline]
pub unsafe fn guard_range(p: *mut u8, size: usize) {
    // SAFETY: per the contract.
    unsafe { crate::os::protect_none(p, size) }
}

/// The keyed check value of a large object's header fields. Large headers are sealed
/// rather than guarded: a `PROT_NONE` page inside the mapping would split it into two
/// kernel mappings, and `mremap` (which grows large objects in place of a copy) moves
/// only single mappings.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct Seal(usize);

impl Seal {
    /// No seal (headers that are never checked: small segments, cached mappings).
    pub const NONE: Seal = Seal(0);

    /// The seal of a header whose checked fields are `fields`.
    pub fn new(fields: [usize; 4]) -> Seal {
        let [base, size, align, usable] = fields;
        let mut st = (base ^ size.rotate_left(17) ^ align.rotate_left(34) ^ usable.rotate_left(51))
            as u64
            ^ FREE_KEY.load(Ordering::Relaxed) as u64;
        Seal(splitmix(&mut st) as usize)
    }

    /// Aborts unless the header at `header`, whose checked fields are now `fields`, is
    /// still sealed by `self` (it was not overwritten).
    pub fn verify(&self, fields: [usize; 4], header: *const u8) {
        if self.0 != Seal::new(fields).0 {
            fatal("corrupted large-object header (overwritten)", header);
        }
    }
}
