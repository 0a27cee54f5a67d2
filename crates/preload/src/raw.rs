//! The backend's native allocation functions, one module per backend, chosen by
//! the crate's feature; each offers the same six functions with the contract
//! below, and [`crate`] builds the C API on them.
//!
//! * `malloc(size)`, `calloc(size)` (zeroed): `size ≥ 1`; blocks above 8 bytes are
//!   16-byte aligned; null on failure.
//! * `aligned(align, size)`: `align` a power of two above 16, `size ≥ 1`.
//! * `realloc(p, size)`: `p` live, `size ≥ 1`; on failure null and `p` untouched.
//! * `free(p)`, `usable_size(p)`: `p` live and non-null, from any of the above.
//! * `SMALL_MAX`, `malloc_small(size)`, `malloc_small_fast(size)`, `served()`: a
//!   backend that can tell by itself whether it served this process (`served()`)
//!   takes C `malloc` of sizes `0..=SMALL_MAX` straight into `malloc_small`, past the
//!   C layer's checks and [`crate::banner`]'s flag (the slab: one table lookup and a
//!   pop); `malloc_small_fast` is its fast path alone (null on a miss, then the C
//!   layer's cold path runs `malloc_small`), so C `malloc` stays a leaf function on a
//!   hit. The others set `SMALL_MAX = 0` and see only `malloc(0)` there.

cfg_if::cfg_if! {
    if #[cfg(feature = "jemalloc")] {
        mod jemalloc;
        pub use self::jemalloc::*;
    } else if #[cfg(feature = "mimalloc")] {
        mod mimalloc;
        pub use self::mimalloc::*;
    } else if #[cfg(feature = "snmalloc")] {
        mod snmalloc;
        pub use self::snmalloc::*;
    } else if #[cfg(feature = "slab")] {
        mod slab;
        pub use self::slab::*;
    } else {
        compile_error!(
            "allocmux-preload needs a backend feature: slab (the default), jemalloc, mimalloc or snmalloc \
             (the system allocator needs no library: run the program without LD_PRELOAD)"
        );
    }
}

cfg_if::cfg_if! {
    if #[cfg(any(feature = "jemalloc", feature = "mimalloc", feature = "snmalloc"))] {
        /// No small-request shortcut (see the module docs).
        pub const SMALL_MAX: usize = 0;

        /// Only `malloc(0)` comes here (`SMALL_MAX` is 0): `malloc(1)`.
        #[inline(always)]
        pub fn malloc_small(size: usize) -> *mut core::ffi::c_void {
            malloc(size.max(1))
        }

        /// The same as `malloc_small` (no separate fast path).
        #[inline(always)]
        pub fn malloc_small_fast(size: usize) -> *mut core::ffi::c_void {
            malloc_small(size)
        }

        /// The backend cannot tell: the C layer's flag decides.
        pub fn served() -> bool {
            false
        }
    }
}
