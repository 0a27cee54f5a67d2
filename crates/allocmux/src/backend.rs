//! The one list of backends: names, Cargo features and descriptions.
//!
//! Everything that names a backend (the façade, the runner, `cargo xtask`, the
//! report and the gate) goes through [`Backend`], so there is no second list.

use std::fmt;

/// One allocator backend the façade can be built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Backend {
    /// The platform allocator (`std::alloc::System`, glibc malloc on Linux).
    System,
    /// jemalloc through `tikv-jemallocator`.
    Jemalloc,
    /// Microsoft's mimalloc through the `mimalloc` crate.
    Mimalloc,
    /// Microsoft Research's snmalloc through `snmalloc-rs` (built with `cc`, no cmake).
    Snmalloc,
    /// allocmux's own thread-caching size-class allocator (`allocmux-slab`).
    Slab,
}

impl Backend {
    /// Every backend, in the order reports list them (the baseline first).
    pub const ALL: [Backend; 5] = [
        Backend::System,
        Backend::Jemalloc,
        Backend::Mimalloc,
        Backend::Snmalloc,
        Backend::Slab,
    ];

    /// The short name used on command lines and in results (`"mimalloc"`).
    pub const fn name(self) -> &'static str {
        match self {
            Backend::System => "system",
            Backend::Jemalloc => "jemalloc",
            Backend::Mimalloc => "mimalloc",
            Backend::Snmalloc => "snmalloc",
            Backend::Slab => "slab",
        }
    }

    /// The façade's Cargo feature that selects this backend (`None` for the system allocator).
    pub const fn feature(self) -> Option<&'static str> {
        match self {
            Backend::System => None,
            other => Some(other.name()),
        }
    }

    /// A one-line description for help texts and reports.
    pub const fn description(self) -> &'static str {
        match self {
            Backend::System => "the platform allocator (glibc malloc on Linux)",
            Backend::Jemalloc => "jemalloc via tikv-jemallocator",
            Backend::Mimalloc => "mimalloc via the mimalloc crate",
            Backend::Snmalloc => "snmalloc via snmalloc-rs (build_cc)",
            Backend::Slab => "allocmux's own slab allocator (allocmux-slab)",
        }
    }

    /// Looks a backend up by its [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Backend> {
        Backend::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The valid names, comma-separated, for error messages.
    pub fn valid_names() -> String {
        Backend::ALL.map(Backend::name).join(", ")
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Backend {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Backend::from_name(s).ok_or_else(|| {
            format!(
                "unknown backend `{s}`; valid backends: {}",
                Backend::valid_names()
            )
        })
    }
}
