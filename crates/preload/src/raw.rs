//! The backend's native allocation functions, one module per backend, chosen by
//! the crate's feature; each offers the same six functions with the contract
//! below, and [`crate`] builds the C API on them.
//!
//! * `malloc(size)`, `calloc(size)` (zeroed): `size ≥ 1`; blocks above 8 bytes are
//!   16-byte aligned; null on failure.
//! * `aligned(align, size)`: `align` a power of two above 16, `size ≥ 1`.
//! * `realloc(p, size)`: `p` live, `size ≥ 1`; on failure null and `p` untouched.
//! * `free(p)`, `usable_size(p)`: `p` live and non-null, from any of the above.

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
