//! The binaries of the original benchmark programs and how each is compiled:
//! which checkout its sources come from, which source files make it (facts
//! read from mimalloc-bench's `bench/CMakeLists.txt`, and for mimalloc's
//! `test-stress` from mimalloc's CMake file, which builds
//! `mimalloc-test-stress-dynamic` with `USE_STD_MALLOC=1`), the language and
//! the extra flags. Nothing of their code is here: `compile.rs` builds them
//! from the user's own checkouts.

/// The checkout a binary's sources come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Checkout {
    /// mimalloc-bench (`--source`); sources relative to its `bench/`.
    Bench,
    /// mimalloc (`--mimalloc-source`); sources relative to its root.
    Mimalloc,
}

impl Checkout {
    /// The option that gives this checkout.
    pub fn option(self) -> &'static str {
        match self {
            Checkout::Bench => "--source <mimalloc-bench checkout>",
            Checkout::Mimalloc => "--mimalloc-source <mimalloc checkout>",
        }
    }
}

/// One binary of an original benchmark and how to compile it.
pub struct Binary {
    /// The executable's name.
    pub name: &'static str,
    /// The checkout its sources come from.
    pub checkout: Checkout,
    /// Source files, relative to the checkout's `bench/` (mimalloc-bench) or
    /// root (mimalloc).
    pub sources: &'static [&'static str],
    /// Compile as C++ (`c++ -std=c++17`) rather than C (`cc`).
    pub cxx: bool,
    /// Extra compiler flags (defines, language level, include directories
    /// relative to `bench/` after `-I`).
    pub flags: &'static [&'static str],
}

/// cfrac's sources (all in `bench/cfrac/`).
const CFRAC: &[&str] = &[
    "cfrac/cfrac.c",
    "cfrac/pops.c",
    "cfrac/pconst.c",
    "cfrac/pio.c",
    "cfrac/pabs.c",
    "cfrac/pneg.c",
    "cfrac/pcmp.c",
    "cfrac/podd.c",
    "cfrac/phalf.c",
    "cfrac/padd.c",
    "cfrac/psub.c",
    "cfrac/pmul.c",
    "cfrac/pdivmod.c",
    "cfrac/psqrt.c",
    "cfrac/ppowmod.c",
    "cfrac/atop.c",
    "cfrac/ptoa.c",
    "cfrac/itop.c",
    "cfrac/utop.c",
    "cfrac/ptou.c",
    "cfrac/errorp.c",
    "cfrac/pfloat.c",
    "cfrac/pidiv.c",
    "cfrac/pimod.c",
    "cfrac/picmp.c",
    "cfrac/primes.c",
    "cfrac/pcfrac.c",
    "cfrac/pgcd.c",
];

/// espresso's sources (all in `bench/espresso/`).
const ESPRESSO: &[&str] = &[
    "espresso/cofactor.c",
    "espresso/cols.c",
    "espresso/compl.c",
    "espresso/contain.c",
    "espresso/cubestr.c",
    "espresso/cvrin.c",
    "espresso/cvrm.c",
    "espresso/cvrmisc.c",
    "espresso/cvrout.c",
    "espresso/dominate.c",
    "espresso/equiv.c",
    "espresso/espresso.c",
    "espresso/essen.c",
    "espresso/exact.c",
    "espresso/expand.c",
    "espresso/gasp.c",
    "espresso/getopt.c",
    "espresso/gimpel.c",
    "espresso/globals.c",
    "espresso/hack.c",
    "espresso/indep.c",
    "espresso/irred.c",
    "espresso/main.c",
    "espresso/map.c",
    "espresso/matrix.c",
    "espresso/mincov.c",
    "espresso/opo.c",
    "espresso/pair.c",
    "espresso/part.c",
    "espresso/primes.c",
    "espresso/reduce.c",
    "espresso/rows.c",
    "espresso/set.c",
    "espresso/setc.c",
    "espresso/sharp.c",
    "espresso/sminterf.c",
    "espresso/solution.c",
    "espresso/sparse.c",
    "espresso/unate.c",
    "espresso/utility.c",
    "espresso/verify.c",
];

/// Shorthand for a [`Binary`] of mimalloc-bench.
const fn bin(
    name: &'static str,
    sources: &'static [&'static str],
    cxx: bool,
    flags: &'static [&'static str],
) -> Binary {
    Binary {
        name,
        checkout: Checkout::Bench,
        sources,
        cxx,
        flags,
    }
}

/// Every binary the programs need.
pub const BINARIES: &[Binary] = &[
    bin("cfrac", CFRAC, false, &["-std=gnu89", "-DNOMEMOPT=1"]),
    bin("espresso", ESPRESSO, false, &["-std=gnu89"]),
    bin("larson", &["larson/larson.cpp"], true, &["-DCPP=1"]),
    bin(
        "larson-sized",
        &["larson/larson.cpp"],
        true,
        &["-DCPP=1", "-DSIZED=1", "-fsized-deallocation"],
    ),
    bin(
        "alloc-test",
        &[
            "alloc-test/test_common.cpp",
            "alloc-test/allocator_tester.cpp",
        ],
        true,
        &["-DBENCH=4"],
    ),
    bin(
        "cache-scratch",
        &["cache-scratch/cache-scratch.cpp"],
        true,
        &[],
    ),
    bin(
        "cache-thrash",
        &["cache-thrash/cache-thrash.cpp"],
        true,
        &[],
    ),
    bin("xmalloc-test", &["xmalloc-test/xmalloc-test.c"], false, &[]),
    bin(
        "malloc-large",
        &["malloc-large/malloc-large.cpp"],
        true,
        &[],
    ),
    bin("mstress", &["mstress/mstress.c"], false, &[]),
    bin("mleak", &["mleak/mleak.c"], false, &[]),
    bin(
        "rptest",
        &["rptest/rptest.c", "rptest/thread.c", "rptest/timer.c"],
        false,
        &["-Irptest"],
    ),
    bin(
        "glibc-simple",
        &["glibc-bench/bench-malloc-simple.c"],
        false,
        &[],
    ),
    bin(
        "glibc-thread",
        &["glibc-bench/bench-malloc-thread.c"],
        false,
        &[],
    ),
    Binary {
        name: "test-stress",
        checkout: Checkout::Mimalloc,
        sources: &["test/test-stress.c"],
        cxx: false,
        flags: &["-DUSE_STD_MALLOC=1"],
    },
];

/// The binary `name` (every program's binary is in [`BINARIES`]).
pub fn binary(name: &str) -> &'static Binary {
    BINARIES
        .iter()
        .find(|b| b.name == name)
        .expect("every program's binary is listed")
}
