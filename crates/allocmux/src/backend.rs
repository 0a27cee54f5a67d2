//! The one list of backends: names, Cargo features and descriptions, written
//! once in the table of [`backends!`] below. The enum, [`Backend::ALL`], the
//! names, the check that at most one backend feature is enabled, and which
//! backend the features select are all generated from it; everything that
//! names a backend (the façade, the runner, the harness, the report, the
//! gate) goes through [`Backend`].
//!
//! Adding a backend touches exactly these places:
//! 1. one row in the table below (variant, name, feature, description);
//! 2. `crates/allocmux/Cargo.toml`: the feature and its optional dependency;
//! 3. `select.rs`: its branch (the allocator type, its version, and whether a
//!    block from the global allocator is its own) — the build fails with a
//!    message naming the feature until that branch exists;
//! 4. `crates/preload`: its feature and a `raw/<name>.rs` mapping the C API onto the
//!    backend's native functions (for `cargo allocmux compare --preload`);
//! 5. README's feature table (prose, not checked).
//!
//! Nothing else lists backends: the runner and the benches take
//! `--features allocmux/<name>`, and the harness and tests iterate [`Backend::ALL`].

use std::fmt;

/// Generates [`Backend`] and the feature checks from one table.
macro_rules! backends {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $feature:tt, $description:literal; )+) => {
        /// One allocator backend the façade can be built with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Backend {
            $( $(#[$doc])* $variant, )+
        }

        impl Backend {
            /// Every backend, in the order reports list them (the baseline first).
            pub const ALL: [Backend; [$($name),+].len()] = [$(Backend::$variant),+];

            /// The short name used on command lines and in results (`"mimalloc"`).
            pub const fn name(self) -> &'static str {
                match self {
                    $( Backend::$variant => $name, )+
                }
            }

            /// The façade's Cargo feature that selects this backend (`None` for
            /// the system allocator).
            pub const fn feature(self) -> Option<&'static str> {
                match self {
                    $( Backend::$variant => backends!(@feature $feature), )+
                }
            }

            /// A one-line description for help texts and reports.
            pub const fn description(self) -> &'static str {
                match self {
                    $( Backend::$variant => $description, )+
                }
            }

            /// Whether this build enabled the backend's feature (always false
            /// for the system allocator, which has none).
            const fn feature_enabled(self) -> bool {
                match self {
                    $( Backend::$variant => backends!(@enabled $feature), )+
                }
            }
        }
    };
    (@feature none) => { None };
    (@feature $f:literal) => { Some($f) };
    (@enabled none) => { false };
    (@enabled $f:literal) => { cfg!(feature = $f) };
}

backends! {
    /// The platform allocator (`std::alloc::System`, glibc malloc on Linux).
    System = "system", none, "the platform allocator (glibc malloc on Linux)";
    /// jemalloc through `tikv-jemallocator`.
    Jemalloc = "jemalloc", "jemalloc", "jemalloc via tikv-jemallocator";
    /// Microsoft's mimalloc through the `mimalloc` crate.
    Mimalloc = "mimalloc", "mimalloc", "mimalloc via the mimalloc crate";
    /// Microsoft Research's snmalloc through `snmalloc-rs` (built with `cc`, no cmake).
    Snmalloc = "snmalloc", "snmalloc", "snmalloc via snmalloc-rs (build_cc)";
    /// allocmux's own thread-caching size-class allocator (`allocmux-slab`).
    Slab = "slab", "slab", "allocmux's own slab allocator (allocmux-slab)";
}

impl Backend {
    /// The backend this build's features select: the one whose feature is
    /// enabled, or the system allocator when none is.
    pub const fn selected_by_features() -> Backend {
        let mut i = 0;
        while i < Backend::ALL.len() {
            if Backend::ALL[i].feature_enabled() {
                return Backend::ALL[i];
            }
            i += 1;
        }
        Backend::System
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

/// How many backend features this build enabled.
const ENABLED: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < Backend::ALL.len() {
        if Backend::ALL[i].feature_enabled() {
            n += 1;
        }
        i += 1;
    }
    n
};

/// Room for the message below (its fixed text plus every feature name).
const MESSAGE_CAPACITY: usize = 1024;

/// Appends `s` to `buf` at `len`, at compile time.
const fn push(
    mut buf: [u8; MESSAGE_CAPACITY],
    mut len: usize,
    s: &str,
) -> ([u8; MESSAGE_CAPACITY], usize) {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() && len < MESSAGE_CAPACITY {
        buf[len] = bytes[i];
        len += 1;
        i += 1;
    }
    (buf, len)
}

/// The error for two or more backend features, naming every enabled one.
const TOO_MANY: ([u8; MESSAGE_CAPACITY], usize) = {
    let (mut buf, mut len) = push(
        [0; MESSAGE_CAPACITY],
        0,
        "allocmux: more than one backend feature is enabled:",
    );
    let mut i = 0;
    while i < Backend::ALL.len() {
        let b = Backend::ALL[i];
        if b.feature_enabled() {
            (buf, len) = push(buf, len, " `");
            (buf, len) = push(buf, len, b.name());
            (buf, len) = push(buf, len, "`");
        }
        i += 1;
    }
    (buf, len) = push(
        buf,
        len,
        ". A program has one global allocator: enable exactly one backend feature (or none for the \
         system allocator). Check your Cargo.toml and `--features`; `cargo tree -e features -i allocmux` \
         shows which crate turns each feature on (tuning features such as `mimalloc-secure` imply their backend).",
    );
    (buf, len)
};

// Refuses to build with two or more backend features. (In a build with none,
// clippy sees `ENABLED` as the constant 0.)
#[allow(clippy::absurd_extreme_comparisons)]
const _: () = if ENABLED > 1 {
    match core::str::from_utf8(TOO_MANY.0.split_at(TOO_MANY.1).0) {
        Ok(message) => panic!("{}", message),
        Err(_) => panic!("allocmux: more than one backend feature is enabled"),
    }
};

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
