//! Chooses the backend at compile time from the Cargo features (static
//! dispatch: `Inner` is a concrete type, so every call inlines).

cfg_if::cfg_if! {
    if #[cfg(feature = "jemalloc")] {
        /// The selected backend's allocator type.
        pub(crate) type Inner = tikv_jemallocator::Jemalloc;
        pub(crate) const INNER: Inner = tikv_jemallocator::Jemalloc;
        pub(crate) const ACTIVE: crate::Backend = crate::Backend::Jemalloc;
        pub(crate) const NAME: &str = "jemalloc";

        pub(crate) fn version() -> Option<String> {
            let v = tikv_jemalloc_ctl::version::read().ok()?;
            Some(v.trim_matches(|c: char| c == '\0' || c.is_whitespace()).to_owned())
        }
    } else if #[cfg(feature = "mimalloc")] {
        pub(crate) type Inner = mimalloc::MiMalloc;
        pub(crate) const INNER: Inner = mimalloc::MiMalloc;
        pub(crate) const ACTIVE: crate::Backend = crate::Backend::Mimalloc;
        pub(crate) const NAME: &str = "mimalloc";

        pub(crate) fn version() -> Option<String> {
            // SAFETY: `mi_version` takes no arguments and only returns a constant.
            let v = unsafe { libmimalloc_sys::mi_version() };
            // MI_MALLOC_VERSION is major·10000 + minor·100 + patch (30302 = 3.3.2).
            Some(format!("{}.{}.{}", v / 10000, (v / 100) % 100, v % 100))
        }
    } else if #[cfg(feature = "snmalloc")] {
        pub(crate) type Inner = snmalloc_rs::SnMalloc;
        pub(crate) const INNER: Inner = snmalloc_rs::SnMalloc::new();
        pub(crate) const ACTIVE: crate::Backend = crate::Backend::Snmalloc;
        pub(crate) const NAME: &str = "snmalloc";

        pub(crate) fn version() -> Option<String> {
            // snmalloc exposes no version at run time.
            None
        }
    } else if #[cfg(feature = "slab")] {
        pub(crate) type Inner = allocmux_slab::SlabAlloc;
        pub(crate) const INNER: Inner = allocmux_slab::SlabAlloc;
        pub(crate) const ACTIVE: crate::Backend = crate::Backend::Slab;
        pub(crate) const NAME: &str = if allocmux_slab::IMPLEMENTED {
            "slab"
        } else {
            "slab (not yet implemented: forwards to the system allocator)"
        };

        pub(crate) fn version() -> Option<String> {
            Some(env!("CARGO_PKG_VERSION").to_owned())
        }
    } else {
        pub(crate) type Inner = std::alloc::System;
        pub(crate) const INNER: Inner = std::alloc::System;
        pub(crate) const ACTIVE: crate::Backend = crate::Backend::System;
        pub(crate) const NAME: &str = "system";

        pub(crate) fn version() -> Option<String> {
            system_version()
        }
    }
}

/// The C library's version, e.g. `glibc 2.36`.
#[cfg(all(
    not(any(
        feature = "jemalloc",
        feature = "mimalloc",
        feature = "snmalloc",
        feature = "slab"
    )),
    target_os = "linux",
    target_env = "gnu"
))]
fn system_version() -> Option<String> {
    // SAFETY: `gnu_get_libc_version` returns a pointer to a static NUL-terminated string.
    let v = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) };
    Some(format!("glibc {}", v.to_string_lossy()))
}

/// No portable way to name the platform allocator's version elsewhere.
#[cfg(all(
    not(any(
        feature = "jemalloc",
        feature = "mimalloc",
        feature = "snmalloc",
        feature = "slab"
    )),
    not(all(target_os = "linux", target_env = "gnu"))
))]
fn system_version() -> Option<String> {
    None
}
