//! One `#[global_allocator]` type whose backend is chosen by a Cargo feature.
//!
//! ```toml
//! [dependencies]
//! allocmux = { version = "0.1", features = ["mimalloc"] } # or jemalloc, snmalloc, slab; none = system
//! ```
//!
//! ```
//! #[global_allocator]
//! static GLOBAL: allocmux::Allocator = allocmux::Allocator;
//!
//! fn main() {
//!     println!("allocating with {}", allocmux::BACKEND);
//! }
//! ```
//!
//! The selection is static: [`Allocator`] forwards every `GlobalAlloc` call
//! straight to the backend's own type through `#[inline]` methods, so the
//! façade adds no branch and no indirection. Enabling two backend features at
//! once is a compile error that names them.
//!
//! With the `stats` feature a counting layer wraps the backend; read it with
//! [`stats()`] and clear it with [`reset_stats()`].
//!
//! With `ALLOCMUX_BANNER=1` in the environment, a program using [`Allocator`]
//! says at start-up which backend serves it ([`banner_line`]); `cargo allocmux
//! compare` checks that line in every run.

mod backend;
mod banner;
mod memory;
mod select;
#[cfg_attr(not(feature = "stats"), allow(dead_code))]
mod stats;

use std::alloc::{GlobalAlloc, Layout};

pub use backend::Backend;
pub use banner::{banner_line, global_allocator_is_backend, BANNER_ENV};
pub use memory::{memory_info, MemoryInfo};
pub use stats::Stats;
#[cfg(feature = "stats")]
pub use stats::{reset_stats, stats, PEAK_STEP};

/// The counting layer's snapshot when the `stats` feature is compiled in,
/// `None` otherwise: for code that reports counts when it has them (a
/// benchmark binary gated by `cargo xtask bench-gate --method allocations`).
pub fn stats_if_enabled() -> Option<Stats> {
    if STATS_ENABLED {
        Some(stats::stats())
    } else {
        None
    }
}

/// [`reset_stats`](crate::reset_stats) when the counting layer is compiled in; nothing otherwise.
pub fn reset_stats_if_enabled() {
    if STATS_ENABLED {
        stats::reset_stats();
    }
}

/// The backend this build allocates with, as a short name (`"mimalloc"`).
pub const BACKEND: &str = select::ACTIVE.name();

/// The backend this build allocates with.
pub const ACTIVE: Backend = select::ACTIVE;

/// Whether the `stats` counting layer is compiled in.
pub const STATS_ENABLED: bool = cfg!(feature = "stats");

/// The backend's own version where it exposes one at run time (jemalloc's and
/// mimalloc's C libraries, glibc for the system allocator); `None` otherwise.
pub fn backend_version() -> Option<String> {
    select::version()
}

/// `allocmux-built-from:PACKAGE=DIRECTORY;`: this crate's package name and the
/// directory Cargo compiled it from, kept in the binary so a build can be
/// checked against the checkout it is meant to come from.
pub const BUILT_FROM: &str = concat!(
    "allocmux-built-from:",
    env!("CARGO_PKG_NAME"),
    "=",
    env!("CARGO_MANIFEST_DIR"),
    ";"
);

/// [`BUILT_FROM`] of this crate and, when it is the backend, of allocmux's own
/// slab.
pub fn built_from() -> Vec<&'static str> {
    #[allow(unused_mut)] // without the slab there is nothing to add
    let mut crates = vec![BUILT_FROM];
    #[cfg(feature = "slab")]
    crates.push(allocmux_slab::BUILT_FROM);
    crates
}

/// The global allocator: forwards to the backend chosen by Cargo features.
///
/// ```
/// #[global_allocator]
/// static GLOBAL: allocmux::Allocator = allocmux::Allocator;
/// # fn main() {}
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Allocator;

// SAFETY: every method forwards its arguments unchanged to the selected
// backend's `GlobalAlloc` implementation, which upholds the contract; the
// counting layer only reads sizes and never touches the memory.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract (non-zero size).
        let ptr = unsafe { select::INNER.alloc(layout) };
        #[cfg(feature = "stats")]
        if !ptr.is_null() {
            stats::on_alloc(layout.size());
        }
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        #[cfg(feature = "stats")]
        stats::on_dealloc(layout.size());
        // SAFETY: `ptr` came from this allocator, i.e. from the same backend, with `layout`.
        unsafe { select::INNER.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { select::INNER.alloc_zeroed(layout) };
        #[cfg(feature = "stats")]
        if !ptr.is_null() {
            stats::on_alloc(layout.size());
        }
        ptr
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from the same backend with `layout`; the caller
        // guarantees `new_size` is non-zero and does not overflow when rounded.
        let new = unsafe { select::INNER.realloc(ptr, layout, new_size) };
        #[cfg(feature = "stats")]
        if !new.is_null() {
            stats::on_realloc(layout.size(), new_size);
        }
        new
    }
}
