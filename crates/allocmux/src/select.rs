//! Chooses the backend at compile time from the Cargo features (static
//! dispatch: `Inner` is a concrete type, so every call inlines). One branch
//! per backend: its allocator type, its version, and how to tell whether a
//! block from the process's global allocator is its own (for the start-up
//! banner, see `banner.rs`).

use crate::Backend;

cfg_if::cfg_if! {
    if #[cfg(feature = "jemalloc")] {
        /// The selected backend's allocator type.
        pub(crate) type Inner = tikv_jemallocator::Jemalloc;
        pub(crate) const INNER: Inner = tikv_jemallocator::Jemalloc;
        pub(crate) const ACTIVE: Backend = Backend::Jemalloc;

        pub(crate) fn version() -> Option<String> {
            let v = tikv_jemalloc_ctl::version::read().ok()?;
            Some(v.trim_matches(|c: char| c == '\0' || c.is_whitespace()).to_owned())
        }

        /// jemalloc's statistics (only with `jemalloc-stats`; `None` otherwise).
        #[cfg(not(feature = "jemalloc-stats"))]
        pub(crate) fn memory_info() -> crate::MemoryInfo {
            crate::MemoryInfo::default()
        }

        /// jemalloc's statistics (`jemalloc-stats`).
        #[cfg(feature = "jemalloc-stats")]
        pub(crate) fn memory_info() -> crate::MemoryInfo {
            use tikv_jemalloc_ctl::{epoch, stats};
            let fresh = epoch::advance().is_ok();
            let get = |r: tikv_jemalloc_ctl::Result<usize>| r.ok().filter(|_| fresh).map(|v| v as u64);
            crate::MemoryInfo {
                allocated: get(stats::allocated::read()),
                active: get(stats::active::read()),
                resident: get(stats::resident::read()),
                mapped: get(stats::mapped::read()),
                retained: get(stats::retained::read()),
                committed: None,
            }
        }

        /// jemalloc counts the bytes each thread allocates (when its
        /// statistics are compiled in; `None` otherwise).
        pub(crate) fn owns_global_block() -> Option<bool> {
            let counter = tikv_jemalloc_ctl::thread::allocatedp::read().ok()?;
            let before = counter.get();
            crate::banner::with_global_block(|_| Some(counter.get() >= before + crate::banner::PROBE_SIZE as u64))
        }
    } else if #[cfg(feature = "mimalloc")] {
        pub(crate) type Inner = mimalloc::MiMalloc;
        pub(crate) const INNER: Inner = mimalloc::MiMalloc;
        pub(crate) const ACTIVE: Backend = Backend::Mimalloc;

        /// mimalloc's version, with ` secure` for its secure mode (`mimalloc-secure`),
        /// so a runner's `--backend-info` tells the builds apart.
        pub(crate) fn version() -> Option<String> {
            // SAFETY: `mi_version` takes no arguments and only returns a constant.
            let v = unsafe { libmimalloc_sys::mi_version() };
            let mode = if cfg!(feature = "mimalloc-secure") { " secure" } else { "" };
            // MI_MALLOC_VERSION is major·10000 + minor·100 + patch (30302 = 3.3.2).
            Some(format!("{}.{}.{}{mode}", v / 10000, (v / 100) % 100, v % 100))
        }

        /// mimalloc's process information: resident and committed bytes.
        pub(crate) fn memory_info() -> crate::MemoryInfo {
            let mut v = [0usize; 8];
            let [a, b, c, rss, e, commit, g, h] = &mut v;
            // SAFETY: `mi_process_info` writes one `usize` through each pointer,
            // all of which point into `v`.
            unsafe { libmimalloc_sys::mi_process_info(a, b, c, rss, e, commit, g, h) };
            crate::MemoryInfo {
                resident: Some(v[3] as u64),
                committed: Some(v[5] as u64),
                ..Default::default()
            }
        }

        /// mimalloc answers for any pointer whether it lies in its heap.
        pub(crate) fn owns_global_block() -> Option<bool> {
            // SAFETY: `mi_is_in_heap_region` only compares the address with
            // mimalloc's own regions; any pointer value is allowed.
            crate::banner::with_global_block(|p| Some(unsafe { libmimalloc_sys::mi_is_in_heap_region(p.cast()) }))
        }
    } else if #[cfg(feature = "snmalloc")] {
        pub(crate) type Inner = snmalloc_rs::SnMalloc;
        pub(crate) const INNER: Inner = snmalloc_rs::SnMalloc::new();
        pub(crate) const ACTIVE: Backend = Backend::Snmalloc;

        pub(crate) fn version() -> Option<String> {
            // snmalloc exposes no version at run time.
            None
        }

        /// snmalloc's OS-level reservation.
        pub(crate) fn memory_info() -> crate::MemoryInfo {
            let s = snmalloc_rs::SnMalloc::memory_stats();
            crate::MemoryInfo {
                mapped: Some(s.current_memory_usage as u64),
                ..Default::default()
            }
        }

        /// snmalloc's size lookup goes through its page map, which covers every
        /// address and answers 0 for memory it does not manage — once the page
        /// map exists, so snmalloc allocates one block of its own first.
        pub(crate) fn owns_global_block() -> Option<bool> {
            use std::alloc::GlobalAlloc;
            let layout = std::alloc::Layout::from_size_align(16, 16).ok()?;
            // SAFETY: non-zero size; freed below with the same layout.
            let own = unsafe { INNER.alloc(layout) };
            let answer = crate::banner::with_global_block(|p| {
                Some(INNER.usable_size(p).is_some_and(|n| n >= crate::banner::PROBE_SIZE))
            });
            if !own.is_null() {
                // SAFETY: `own` came from `INNER` with `layout`.
                unsafe { INNER.dealloc(own, layout) };
            }
            answer
        }
    } else if #[cfg(feature = "slab")] {
        pub(crate) type Inner = allocmux_slab::SlabAlloc;
        pub(crate) const INNER: Inner = allocmux_slab::SlabAlloc;
        pub(crate) const ACTIVE: Backend = Backend::Slab;

        /// The slab's version, with ` hardened` for its hardened build
        /// (`slab-hardened`) and ` huge-pages` for `slab-huge-pages`, so a runner's
        /// `--backend-info` tells the builds apart.
        pub(crate) fn version() -> Option<String> {
            let hardened = if allocmux_slab::HARDENED { " hardened" } else { "" };
            let huge = if allocmux_slab::os::HUGE_PAGES { " huge-pages" } else { "" };
            Some(format!("{}{hardened}{huge}", env!("CARGO_PKG_VERSION")))
        }

        /// The slab's counters: bytes in use and mapped.
        pub(crate) fn memory_info() -> crate::MemoryInfo {
            let s = allocmux_slab::stats();
            crate::MemoryInfo {
                allocated: Some(s.in_use_bytes as u64),
                mapped: Some(s.mapped_bytes as u64),
                ..Default::default()
            }
        }

        /// The slab counts the bytes its heaps hand out.
        pub(crate) fn owns_global_block() -> Option<bool> {
            let before = allocmux_slab::stats().in_use_bytes;
            crate::banner::with_global_block(|_| {
                Some(allocmux_slab::stats().in_use_bytes >= before + crate::banner::PROBE_SIZE)
            })
        }
    } else {
        pub(crate) type Inner = std::alloc::System;
        pub(crate) const INNER: Inner = std::alloc::System;
        pub(crate) const ACTIVE: Backend = Backend::System;

        /// The C library's version, e.g. `glibc 2.36`.
        pub(crate) fn version() -> Option<String> {
            #[cfg(all(target_os = "linux", target_env = "gnu"))]
            {
                // SAFETY: `gnu_get_libc_version` returns a pointer to a static NUL-terminated string.
                let v = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) };
                Some(format!("glibc {}", v.to_string_lossy()))
            }
            #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
            {
                // No portable way to name the platform allocator's version elsewhere.
                None
            }
        }

        /// glibc's arena counters: in use (small and mmap-ed blocks) and mapped.
        pub(crate) fn memory_info() -> crate::MemoryInfo {
            #[cfg(all(target_os = "linux", target_env = "gnu"))]
            {
                // SAFETY: `mallinfo2` only reads glibc's arena statistics.
                let m = unsafe { libc::mallinfo2() };
                crate::MemoryInfo {
                    allocated: Some((m.uordblks + m.hblkhd) as u64),
                    mapped: Some((m.arena + m.hblkhd) as u64),
                    ..Default::default()
                }
            }
            #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
            {
                crate::MemoryInfo::default()
            }
        }

        /// glibc's `mallinfo2` counts the bytes its arenas hand out.
        pub(crate) fn owns_global_block() -> Option<bool> {
            #[cfg(all(target_os = "linux", target_env = "gnu"))]
            {
                // SAFETY: `mallinfo2` only reads glibc's arena statistics.
                let before = unsafe { libc::mallinfo2() }.uordblks;
                crate::banner::with_global_block(|_| {
                    // SAFETY: as above.
                    let after = unsafe { libc::mallinfo2() }.uordblks;
                    Some(after >= before + crate::banner::PROBE_SIZE)
                })
            }
            #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
            {
                None
            }
        }
    }
}

// A backend feature enabled without a branch above would silently build the
// system allocator: refuse, naming the feature.
const _: () = assert!(
    ACTIVE as u8 == Backend::selected_by_features() as u8,
    "allocmux: a backend feature is enabled but select.rs has no branch for it"
);
