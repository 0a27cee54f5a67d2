//! Large objects (above 512 KiB, or aligned above 64 KiB): each is its own OS mapping,
//! returned to the OS on free — through a small process-wide cache of recently freed
//! mappings, so programs that repeatedly allocate and free a large buffer do not pay
//! `mmap` + `munmap` + page faults every time. Growth by `realloc` moves the pages with
//! `mremap` instead of copying.
//!
//! ```text
//! map_base (aligned to max(align, 4 MiB))
//! | header (Segment, KIND_LARGE) ... | object (at map_base + max(align, 4 KiB)) ... |
//!   ^ segment_of(object) = (object - 1) rounded down to 4 MiB
//! ```
//!
//! For alignments above 4 MiB the header sits at `object - 4 MiB` inside the mapping;
//! the untouched padding below costs address space only.

use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::checks::{self, Seal};
use crate::layout::SEGMENT_SIZE;
use crate::list::AtomicStack;
use crate::os;
use crate::segment::{segment_of, Segment, KIND_LARGE, LARGE_OWNER};
use crate::stats;

/// Bytes reserved below a large object for its header (when alignment is smaller).
pub const LARGE_HEADER: usize = 4096;
/// Freed large mappings kept for reuse, at most.
pub const CACHE_MAX: usize = 16;
/// Bytes of freed large mappings kept for reuse, at most.
pub const CACHE_MAX_BYTES: usize = 128 << 20;

/// Freed large mappings (header-linked through `next`; header at the mapping start).
static CACHE: AtomicStack<Segment> = AtomicStack::new();
static CACHE_COUNT: AtomicUsize = AtomicUsize::new(0);
static CACHE_BYTES: AtomicUsize = AtomicUsize::new(0);

/// `(offset of the object in the mapping, mapping alignment, mapping size)`, or `None`
/// for impossible requests.
fn geometry(size: usize, align: usize) -> Option<(usize, usize, usize)> {
    let off = align.max(LARGE_HEADER);
    let map_align = align.max(SEGMENT_SIZE);
    let total = off.checked_add(size)?.checked_add(LARGE_HEADER - 1)? & !(LARGE_HEADER - 1);
    if total > isize::MAX as usize - map_align {
        return None;
    }
    Some((off, map_align, total))
}

/// Writes the header for an object at `base + off` in a mapping of `total` bytes.
unsafe fn set_header(base: *mut u8, off: usize, total: usize, map_align: usize, zero: bool) {
    // SAFETY: `off < total`; the header lies in `[base, base + off)` inside the mapping.
    unsafe {
        let obj = base.add(off);
        let seg = segment_of(obj);
        debug_assert!(seg as usize >= base as usize && (seg as usize) < obj as usize);
        ptr::write(
            seg,
            Segment {
                owner: LARGE_OWNER,
                kind: KIND_LARGE,
                handed_off: AtomicBool::new(false),
                used_slots: 0,
                free_mask: 0,
                dirty_mask: 0,
                fresh_mask: zero as u64,
                next: ptr::null_mut(),
                prev: ptr::null_mut(),
                map_base: base,
                map_size: total,
                map_align,
                large_usable: total - off,
                cached_at: 0,
                seal: Seal::NONE,
            },
        );
        (*seg).seal = Seal::new(sealed_fields(seg));
    }
}

/// The header fields a [`Seal`] protects: where the mapping is, how big, how aligned, and
/// where the object starts.
///
/// # Safety
/// `seg` must be a readable large-object header.
#[inline]
unsafe fn sealed_fields(seg: *const Segment) -> [usize; 4] {
    // SAFETY: per the contract.
    unsafe {
        [
            (*seg).map_base as usize,
            (*seg).map_size,
            (*seg).map_align,
            (*seg).large_usable,
        ]
    }
}

/// The first byte of the large object with header `seg`.
///
/// # Safety
/// `seg` must be a readable large-object header.
#[inline]
unsafe fn object_start(seg: *const Segment) -> *const u8 {
    // SAFETY: per the contract; the object ends where the mapping ends.
    unsafe {
        (*seg)
            .map_base
            .wrapping_add((*seg).map_size - (*seg).large_usable)
    }
}

/// The checks of a large object's free (hardened build: the header is still sealed and
/// `p` is the object's start; nothing otherwise).
///
/// # Safety
/// `seg` must be the header of `p`, registered live ([`checks::check_free`]).
#[inline]
pub unsafe fn check_free(seg: *mut Segment, p: *const u8) {
    // SAFETY: a registered header is mapped and readable.
    unsafe {
        (*seg).seal.verify(sealed_fields(seg), seg as *const u8);
        checks::check_large_start(p, object_start(seg));
    }
}

/// Maps (or reuses) a large object; null for impossible sizes or when the OS refuses.
pub fn alloc(size: usize, align: usize) -> *mut u8 {
    let Some((off, map_align, total)) = geometry(size, align) else {
        return ptr::null_mut();
    };
    let mut base = ptr::null_mut();
    let mut map_size = total;
    let mut zero = true;
    if map_align == SEGMENT_SIZE {
        if let Some((b, sz, z)) = cache_take(total) {
            (base, map_size, zero) = (b, sz, z);
        }
    }
    if base.is_null() {
        base = os::map_aligned(total, map_align);
        if base.is_null() {
            return base;
        }
        // SAFETY: `[base, base + total)` is the mapping just made.
        unsafe { os::advise_huge_pages(base, total) };
        stats::MAPPED.add(total);
    }
    // SAFETY: `base` is a mapping of `map_size >= total > off` bytes that we own.
    unsafe { set_header(base, off, map_size, map_align, zero) };
    checks::register(segment_of(base.wrapping_add(off)));
    stats::LARGE_COUNT.add(1);
    stats::LARGE_BYTES.add(map_size - off);
    base.wrapping_add(off)
}

/// Whether the large object with header `seg` is known to be all zero (fresh).
///
/// # Safety
/// `seg` must be the header of a live large object.
pub unsafe fn is_zero(seg: *mut Segment) -> bool {
    // SAFETY: per the contract.
    unsafe { (*seg).fresh_mask != 0 }
}

/// Grows the large object `p` (header `seg`) to at least `new_size` bytes by moving its
/// pages; returns the new pointer, or null if that is not possible (the object is then
/// unchanged and the caller copies).
///
/// # Safety
/// `seg` must be the header of the live large object `p`.
pub unsafe fn grow(seg: *mut Segment, p: *mut u8, new_size: usize) -> *mut u8 {
    // SAFETY: the header describes the live mapping holding `p`.
    unsafe {
        (*seg).seal.verify(sealed_fields(seg), seg as *const u8);
        let (base, size, align, usable) = (
            (*seg).map_base,
            (*seg).map_size,
            (*seg).map_align,
            (*seg).large_usable,
        );
        let off = p as usize - base as usize;
        let Some(total) = off
            .checked_add(new_size)
            .and_then(|t| t.checked_add(LARGE_HEADER - 1))
            .map(|t| t & !(LARGE_HEADER - 1))
        else {
            return ptr::null_mut();
        };
        if total <= size || total > isize::MAX as usize - align {
            return ptr::null_mut();
        }
        // Forget the old region before `mremap` gives it back: once the kernel has it,
        // another thread may map a segment there and register it, and a late
        // unregister would erase that entry (its frees would then abort as foreign).
        checks::unregister(seg);
        let nb = os::remap(base, size, total, align);
        if nb.is_null() {
            checks::register(seg);
            return nb;
        }
        let nseg = segment_of(nb.add(off));
        checks::register(nseg);
        (*nseg).map_base = nb;
        (*nseg).map_size = total;
        (*nseg).large_usable = total - off;
        (*nseg).seal = Seal::new(sealed_fields(nseg));
        stats::MAPPED.add(total - size);
        stats::LARGE_BYTES.add(total - off - usable);
        nb.add(off)
    }
}

/// Frees the large object whose header is `seg`: caches the mapping or unmaps it.
///
/// # Safety
/// `seg` must be the header of a live large object that nobody uses any more.
pub unsafe fn free(seg: *mut Segment) {
    // SAFETY: the header is valid until we unmap the whole mapping it describes.
    unsafe {
        let (base, size, align, usable) = (
            (*seg).map_base,
            (*seg).map_size,
            (*seg).map_align,
            (*seg).large_usable,
        );
        stats::LARGE_COUNT.sub(1);
        stats::LARGE_BYTES.sub(usable);
        if align == SEGMENT_SIZE && cache_put(base, size) {
            return;
        }
        stats::MAPPED.sub(size);
        checks::unregister(seg);
        os::unmap(base, size, align);
    }
}

/// Caches a freed mapping (header rewritten at `base`); false if the cache is full.
unsafe fn cache_put(base: *mut u8, size: usize) -> bool {
    if size > CACHE_MAX_BYTES / 2 {
        return false;
    }
    if CACHE_COUNT.fetch_add(1, Ordering::Relaxed) >= CACHE_MAX {
        CACHE_COUNT.fetch_sub(1, Ordering::Relaxed);
        return false;
    }
    if CACHE_BYTES.fetch_add(size, Ordering::Relaxed) + size > CACHE_MAX_BYTES {
        CACHE_BYTES.fetch_sub(size, Ordering::Relaxed);
        CACHE_COUNT.fetch_sub(1, Ordering::Relaxed);
        return false;
    }
    let seg = base as *mut Segment;
    checks::mark_cached(seg);
    // SAFETY: the mapping is ours and unused; its first page can hold a header.
    unsafe {
        ptr::write(
            seg,
            Segment {
                owner: ptr::null_mut(),
                kind: KIND_LARGE,
                handed_off: AtomicBool::new(false),
                used_slots: 0,
                free_mask: 0,
                dirty_mask: 0,
                // The freed object was used: not zero until purged.
                fresh_mask: 0,
                next: ptr::null_mut(),
                prev: ptr::null_mut(),
                map_base: base,
                map_size: size,
                map_align: SEGMENT_SIZE,
                large_usable: 0,
                cached_at: os::now_ms(),
                seal: Seal::NONE,
            },
        );
        CACHE.push(seg);
    }
    true
}

/// Takes a cached mapping for an object needing `total` bytes: the smallest one that
/// fits without wasting more than three quarters of it, else the largest smaller one,
/// grown with `mremap` (its resident pages move along, so only the missing tail faults
/// in). Returns `(base, size, zero)`, or `None` when the cache has nothing usable.
fn cache_take(total: usize) -> Option<(*mut u8, usize, bool)> {
    if CACHE.is_empty() {
        return None;
    }
    let mut head = CACHE.take_all();
    if head.is_null() {
        return None; // another thread emptied it meanwhile
    }
    let mut best: *mut Segment = ptr::null_mut();
    let mut largest: *mut Segment = ptr::null_mut();
    // SAFETY: `take_all` made us the owner of the chain of cached mappings.
    unsafe {
        let mut cur = head;
        while !cur.is_null() {
            let sz = (*cur).map_size;
            if sz >= total {
                if sz / 4 <= total && (best.is_null() || sz < (*best).map_size) {
                    best = cur;
                }
            } else if largest.is_null() || sz > (*largest).map_size {
                largest = cur;
            }
            cur = (*cur).next;
        }
        let pick = if best.is_null() { largest } else { best };
        if pick.is_null() {
            CACHE.push_chain(head, chain_last(head));
            return None;
        }
        head = chain_remove(head, pick);
        if !head.is_null() {
            CACHE.push_chain(head, chain_last(head));
        }
        let (base, size, zero) = ((*pick).map_base, (*pick).map_size, (*pick).fresh_mask);
        CACHE_COUNT.fetch_sub(1, Ordering::Relaxed);
        CACHE_BYTES.fetch_sub(size, Ordering::Relaxed);
        if size >= total {
            return Some((base, size, zero != 0));
        }
        checks::unregister(pick);
        let nb = os::remap(base, size, total, SEGMENT_SIZE);
        if nb.is_null() {
            stats::MAPPED.sub(size);
            os::unmap(base, size, SEGMENT_SIZE);
            return None;
        }
        stats::MAPPED.add(total - size);
        Some((nb, total, false))
    }
}

/// The last mapping of a non-empty cache chain.
///
/// # Safety
/// `head` must start a chain the caller owns.
unsafe fn chain_last(mut head: *mut Segment) -> *mut Segment {
    // SAFETY: per the contract every link is a live cached header.
    unsafe {
        while !(*head).next.is_null() {
            head = (*head).next;
        }
    }
    head
}

/// Unlinks `x` from the chain starting at `head`; returns the new head.
///
/// # Safety
/// `head` must start a chain the caller owns that contains `x`.
unsafe fn chain_remove(head: *mut Segment, x: *mut Segment) -> *mut Segment {
    // SAFETY: per the contract every link is a live cached header.
    unsafe {
        if head == x {
            return (*x).next;
        }
        let mut cur = head;
        while (*cur).next != x {
            cur = (*cur).next;
        }
        (*cur).next = (*x).next;
    }
    head
}

/// Purges cached mappings older than `delay` ms (so they are zero and not resident);
/// with `flush`, unmaps all of them.
pub fn cache_maintain(delay: u64, flush: bool) {
    if CACHE.is_empty() {
        return;
    }
    let now = os::now_ms();
    let mut cur = CACHE.take_all();
    let mut keep: *mut Segment = ptr::null_mut();
    let mut keep_last: *mut Segment = ptr::null_mut();
    // SAFETY: `take_all` made us the owner of the chain of cached mappings.
    unsafe {
        while !cur.is_null() {
            let next = (*cur).next;
            let (base, size) = ((*cur).map_base, (*cur).map_size);
            if flush {
                CACHE_COUNT.fetch_sub(1, Ordering::Relaxed);
                CACHE_BYTES.fetch_sub(size, Ordering::Relaxed);
                stats::MAPPED.sub(size);
                checks::unregister(cur);
                os::unmap(base, size, SEGMENT_SIZE);
            } else {
                if (*cur).fresh_mask == 0 && now.wrapping_sub((*cur).cached_at) >= delay {
                    // Keep the header page; give the rest back (it reads as zero after).
                    os::purge(base.add(LARGE_HEADER), size - LARGE_HEADER);
                    stats::PURGED.add(size - LARGE_HEADER);
                    (*cur).fresh_mask = 2; // purged: zero apart from the header page
                }
                (*cur).next = keep;
                if keep.is_null() {
                    keep_last = cur;
                }
                keep = cur;
            }
            cur = next;
        }
        if !keep.is_null() {
            CACHE.push_chain(keep, keep_last);
        }
    }
}
