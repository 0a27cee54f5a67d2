//! The OS layer: the only place that maps, trims, protects, purges and unmaps memory, and
//! reads the clock used for purge delays.
//!
//! Normal builds call `mmap`/`munmap`/`mremap`/`mprotect`/`madvise` through `libc`.
//! Under Miri (`cfg(miri)`) the same functions are served by a test arena built on
//! [`std::alloc::System`], so unit tests can run the allocator's data structures there.
//! All functions return null instead of panicking on failure.

pub use imp::{
    advise_huge_pages, map_aligned, now_ms, protect_none, purge, remap, unmap, yield_now,
};

/// Whether fresh mappings ask for transparent huge pages (feature `huge-pages`, off by
/// default): faster on programs whose working set outgrows the TLB's reach, at the cost of
/// memory, since every 2 MiB that is touched at all becomes resident whole (measured in
/// docs/perf-log.md, 2026-12-07). Like mimalloc's `allow_thp`; the kernel's mode in
/// `/sys/kernel/mm/transparent_hugepage/enabled` must be `madvise` or `always`.
pub const HUGE_PAGES: bool = cfg!(feature = "huge-pages");

#[cfg(not(miri))]
mod imp {
    use core::ptr;

    /// Maps `size` bytes of zeroed, read-write memory whose start is `align`-aligned
    /// (`align` a power of two, at least the OS page size). Null on failure.
    pub fn map_aligned(size: usize, align: usize) -> *mut u8 {
        let Some(total) = size.checked_add(align) else {
            return ptr::null_mut();
        };
        // SAFETY: an anonymous private mapping with a null hint touches no existing memory.
        let raw = unsafe {
            libc::mmap(
                ptr::null_mut(),
                total,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if raw == libc::MAP_FAILED {
            return ptr::null_mut();
        }
        let raw = raw as usize;
        let start = (raw + align - 1) & !(align - 1);
        let front = start - raw;
        let back = total - front - size;
        if front > 0 {
            // SAFETY: `[raw, start)` is part of the mapping just created and unused.
            unsafe { libc::munmap(raw as *mut libc::c_void, front) };
        }
        if back > 0 {
            // SAFETY: `[start + size, raw + total)` is the unused tail of the same mapping.
            unsafe { libc::munmap((start + size) as *mut libc::c_void, back) };
        }
        start as *mut u8
    }

    /// Returns a region obtained from [`map_aligned`] to the OS.
    ///
    /// # Safety
    /// `p`/`size`/`align` must describe exactly one live mapping from [`map_aligned`] that
    /// nobody uses any more.
    pub unsafe fn unmap(p: *mut u8, size: usize, _align: usize) {
        // SAFETY: the caller guarantees the range is one of our mappings and unused.
        unsafe { libc::munmap(p as *mut libc::c_void, size) };
    }

    /// Gives the physical pages of `[p, p + size)` back to the OS; the range stays mapped
    /// and reads as zero afterwards.
    ///
    /// # Safety
    /// The range must lie inside a live mapping and hold no live data.
    pub unsafe fn purge(p: *mut u8, size: usize) {
        // SAFETY: the caller guarantees the range is mapped and unused; DONTNEED on a
        // private anonymous mapping only drops its pages (they refault as zero).
        unsafe { libc::madvise(p as *mut libc::c_void, size, libc::MADV_DONTNEED) };
    }

    /// Moves the mapping `[p, p + old)` to a new `align`-aligned mapping of `new` bytes
    /// (`new > old`) without copying (the kernel moves the page tables). Returns the new
    /// start, or null (the old mapping is then untouched).
    ///
    /// # Safety
    /// `p`/`old` must describe exactly one live mapping from [`map_aligned`].
    pub unsafe fn remap(p: *mut u8, old: usize, new: usize, align: usize) -> *mut u8 {
        let target = map_aligned(new, align);
        if target.is_null() {
            return target;
        }
        // SAFETY: `target` is our fresh mapping of `new` bytes, which MREMAP_FIXED
        // replaces atomically; `p`/`old` is a live mapping per the contract.
        let r = unsafe {
            libc::mremap(
                p as *mut libc::c_void,
                old,
                new,
                libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
                target as *mut libc::c_void,
            )
        };
        if r == libc::MAP_FAILED {
            // SAFETY: `target` is still our unused mapping.
            unsafe { libc::munmap(target as *mut libc::c_void, new) };
            return ptr::null_mut();
        }
        target
    }

    /// Makes `[p, p + size)` inaccessible (`PROT_NONE`): a guard range (used by the
    /// hardened build's [`crate::checks::guard_range`]).
    ///
    /// # Safety
    /// The range must be page-aligned, inside a live mapping, and hold no live data.
    pub unsafe fn protect_none(p: *mut u8, size: usize) {
        // SAFETY: the caller guarantees the range is ours and unused.
        unsafe { libc::mprotect(p as *mut libc::c_void, size, libc::PROT_NONE) };
    }

    /// With [`HUGE_PAGES`](super::HUGE_PAGES), asks the kernel to back `[p, p + size)`
    /// with transparent huge pages (`MADV_HUGEPAGE`; a hint, so failure is ignored);
    /// otherwise does nothing, so callers need no check of their own.
    ///
    /// # Safety
    /// The range must lie inside a live mapping of ours.
    pub unsafe fn advise_huge_pages(p: *mut u8, size: usize) {
        if super::HUGE_PAGES {
            // SAFETY: the caller guarantees the range is ours; the advice changes how
            // the kernel backs it, never its contents.
            unsafe { libc::madvise(p as *mut libc::c_void, size, libc::MADV_HUGEPAGE) };
        }
    }

    /// Lets another runnable thread have the CPU (`sched_yield`).
    pub fn yield_now() {
        // SAFETY: `sched_yield` takes no arguments and touches no memory of ours.
        unsafe { libc::sched_yield() };
    }

    /// A coarse monotonic clock in milliseconds (vDSO, no allocation, no lock).
    #[cfg(not(feature = "logical-clock"))]
    pub fn now_ms() -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
        (ts.tv_sec as u64) * 1000 + (ts.tv_nsec as u64) / 1_000_000
    }

    /// The `logical-clock` build: every reading advances the clock by one
    /// "millisecond", so delays depend only on what the program did, never on
    /// elapsed time, and instruction counts are the same on every run.
    #[cfg(feature = "logical-clock")]
    pub fn now_ms() -> u64 {
        use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
        static TICKS: AtomicU64 = AtomicU64::new(0);
        TICKS.fetch_add(1, Relaxed)
    }
}

#[cfg(miri)]
mod imp {
    use core::ptr;
    use std::alloc::{GlobalAlloc, Layout, System};

    /// Test arena: zeroed memory from `System` with the requested alignment.
    pub fn map_aligned(size: usize, align: usize) -> *mut u8 {
        match Layout::from_size_align(size, align) {
            // SAFETY: the layout has a non-zero size (callers never map 0 bytes).
            Ok(l) if size > 0 => unsafe { System.alloc_zeroed(l) },
            _ => ptr::null_mut(),
        }
    }

    /// Test arena: frees a region from [`map_aligned`].
    ///
    /// # Safety
    /// `p`/`size`/`align` must describe exactly one region from [`map_aligned`].
    pub unsafe fn unmap(p: *mut u8, size: usize, align: usize) {
        // SAFETY: the caller guarantees this is one of our regions with this layout.
        unsafe { System.dealloc(p, Layout::from_size_align_unchecked(size, align)) };
    }

    /// Test arena: "purging" zeroes the range, as DONTNEED would.
    ///
    /// # Safety
    /// The range must lie inside a live region and hold no live data.
    pub unsafe fn purge(p: *mut u8, size: usize) {
        // SAFETY: the caller guarantees the range is inside one of our regions.
        unsafe { ptr::write_bytes(p, 0, size) };
    }

    /// Test arena: no remapping (callers fall back to copying).
    ///
    /// # Safety
    /// Same contract as the real `remap`.
    pub unsafe fn remap(_p: *mut u8, _old: usize, _new: usize, _align: usize) -> *mut u8 {
        ptr::null_mut()
    }

    /// Test arena: no page protection (guards are not checked under Miri).
    ///
    /// # Safety
    /// Same contract as the real `protect_none`.
    pub unsafe fn protect_none(_p: *mut u8, _size: usize) {}

    /// Test arena: no page-size advice.
    ///
    /// # Safety
    /// Same contract as the real `advise_huge_pages`.
    pub unsafe fn advise_huge_pages(_p: *mut u8, _size: usize) {}

    /// Test arena: the standard library's yield.
    pub fn yield_now() {
        std::thread::yield_now();
    }

    /// Test arena clock.
    pub fn now_ms() -> u64 {
        use std::sync::atomic::{AtomicU64, Ordering};
        static T: AtomicU64 = AtomicU64::new(0);
        T.fetch_add(1, Ordering::Relaxed)
    }
}
