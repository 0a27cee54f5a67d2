//! Refuses to build with two or more backend features: the error names every
//! enabled backend feature and says how to fix it.

#![allow(unused_macros)] // the name macros are only expanded when two backends collide

#[cfg(feature = "jemalloc")]
macro_rules! on_jemalloc {
    () => {
        " `jemalloc`"
    };
}
#[cfg(not(feature = "jemalloc"))]
macro_rules! on_jemalloc {
    () => {
        ""
    };
}
#[cfg(feature = "mimalloc")]
macro_rules! on_mimalloc {
    () => {
        " `mimalloc`"
    };
}
#[cfg(not(feature = "mimalloc"))]
macro_rules! on_mimalloc {
    () => {
        ""
    };
}
#[cfg(feature = "snmalloc")]
macro_rules! on_snmalloc {
    () => {
        " `snmalloc`"
    };
}
#[cfg(not(feature = "snmalloc"))]
macro_rules! on_snmalloc {
    () => {
        ""
    };
}
#[cfg(feature = "slab")]
macro_rules! on_slab {
    () => {
        " `slab`"
    };
}
#[cfg(not(feature = "slab"))]
macro_rules! on_slab {
    () => {
        ""
    };
}

#[cfg(any(
    all(
        feature = "jemalloc",
        any(feature = "mimalloc", feature = "snmalloc", feature = "slab")
    ),
    all(feature = "mimalloc", any(feature = "snmalloc", feature = "slab")),
    all(feature = "snmalloc", feature = "slab"),
))]
compile_error!(concat!(
    "allocmux: more than one backend feature is enabled:",
    on_jemalloc!(),
    on_mimalloc!(),
    on_snmalloc!(),
    on_slab!(),
    ". A program has one global allocator: enable exactly one of `jemalloc`, `mimalloc`, ",
    "`snmalloc`, `slab` (or none for the system allocator). ",
    "Check your Cargo.toml and `--features`; `cargo tree -e features -i allocmux` shows which ",
    "crate turns each feature on (tuning features such as `mimalloc-secure` imply their backend).",
));
