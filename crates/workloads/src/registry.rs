//! The registry: every workload with its class, parameters and entry point.

use crate::class::PatternClass;
use crate::record::Params;
use crate::workloads as w;

/// What one run of a workload produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Allocator operations performed (allocations + frees + reallocations the workload counts).
    pub operations: u64,
    /// Checksum of the work done: the same for every allocator and thread schedule.
    pub checksum: u64,
}

/// One entry of the workload matrix.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// Unique kebab-case name.
    pub name: &'static str,
    /// One-line description of the pattern.
    pub description: &'static str,
    /// The pattern class the workload belongs to.
    pub class: PatternClass,
    /// Parameters of a full run (about 1–2 s with the system allocator).
    pub default: Params,
    /// Parameters of a quick run (about 0.05–0.15 s with the system allocator).
    pub quick: Params,
    /// Whether the workload uses `params.threads` threads.
    pub multithreaded: bool,
    /// Hidden workloads (test helpers) are not part of the default matrix.
    pub hidden: bool,
    /// Runs the workload once.
    pub run: fn(&Params) -> Outcome,
}

/// Shorthand for a `Params` literal with the default seed.
const fn p(threads: usize, iterations: u64, min_size: usize, max_size: usize) -> Params {
    Params {
        threads,
        iterations,
        min_size,
        max_size,
        seed: SEED,
    }
}

/// The seed every workload uses unless the runner overrides it.
pub const SEED: u64 = 0x00A1_10C0_5EED;

const MIB: usize = 1 << 20;

static WORKLOADS: &[Workload] = &[
    Workload {
        name: "larson",
        description: "server simulation: 5000 blocks of 8-999 B per thread replaced at random; threads replaced every 500,000 ops, first frees remote",
        class: PatternClass::CrossThreadFree,
        default: p(2, 60_000_000, 8, 999),
        quick: p(2, 2_500_000, 8, 999),
        multithreaded: true,
        hidden: false,
        run: w::larson::run,
    },
    Workload {
        name: "xmalloc",
        description: "2 producers allocate batches of 4096 x 64 B objects onto a shared stack (at most 100 queued), 2 consumers free them",
        class: PatternClass::ProducerConsumer,
        default: p(2, 7_000, 64, 64),
        quick: p(2, 250, 64, 64),
        multithreaded: true,
        hidden: false,
        run: w::xmalloc::run,
    },
    Workload {
        name: "cache-scratch",
        description: "passive false sharing: threads free a 1-byte object from main, then allocate and write their own 1-byte objects",
        class: PatternClass::FalseSharing,
        default: p(2, 1_000, 1, 1),
        quick: p(2, 60, 1, 1),
        multithreaded: true,
        hidden: false,
        run: w::cache_scratch::run,
    },
    Workload {
        name: "cache-thrash",
        description: "active false sharing: each thread allocates 1-byte objects and writes them 1,000,000 times",
        class: PatternClass::FalseSharing,
        default: p(2, 1_000, 1, 1),
        quick: p(2, 60, 1, 1),
        multithreaded: true,
        hidden: false,
        run: w::cache_thrash::run,
    },
    Workload {
        name: "mstress",
        description: "mimalloc's stress test: short-lived and retained word arrays, rare huge ones, objects migrate via a transfer array; a fresh thread each round",
        class: PatternClass::CrossThreadFree,
        default: p(2, 350, 8, 5_120_000),
        quick: p(2, 20, 8, 5_120_000),
        multithreaded: true,
        hidden: false,
        run: w::mstress::run,
    },
    Workload {
        name: "rptest",
        description: "rpmalloc's benchmark: 1000 slots per thread, sizes 8-16000 B falling linearly, fully written; every 2nd loop a batch freed by another thread",
        class: PatternClass::CrossThreadFree,
        default: p(2, 18_000, 8, 16_000),
        quick: p(2, 1_500, 8, 16_000),
        multithreaded: true,
        hidden: false,
        run: w::rptest::run,
    },
    Workload {
        name: "glibc-simple",
        description: "allocate n blocks of 16/32/64 B (n = 25-1600), free half FIFO and half LIFO; main thread and a helper thread",
        class: PatternClass::SingleThreadSmall,
        default: p(1, 2_000_000, 16, 64),
        quick: p(1, 100_000, 16, 64),
        multithreaded: false,
        hidden: false,
        run: w::glibc_simple::run,
    },
    Workload {
        name: "glibc-thread",
        description: "each thread replaces blocks of 4-32768 B (inverse-square sizes, mean 39 B) in a working set of 1024, every byte written",
        class: PatternClass::Fragmentation,
        default: p(2, 100_000_000, 4, 32_768),
        quick: p(2, 6_000_000, 4, 32_768),
        multithreaded: true,
        hidden: false,
        run: w::glibc_thread::run,
    },
    Workload {
        name: "alloc-test",
        description: "2^18/threads slots per thread, half full; Pareto 80/20 slots toggle between free and a 5-1024 B object, fully written and read",
        class: PatternClass::Fragmentation,
        default: p(2, 30_000_000, 5, 1024),
        quick: p(2, 1_000_000, 5, 1024),
        multithreaded: true,
        hidden: false,
        run: w::alloc_test::run,
    },
    Workload {
        name: "malloc-large",
        description: "20 slots of 5-25 MiB buffers, each zeroed in full; the new buffer is allocated before the old is freed",
        class: PatternClass::LargeObjects,
        default: p(1, 1_500, 5 * MIB, 25 * MIB),
        quick: p(1, 15, 5 * MIB, 25 * MIB),
        multithreaded: false,
        hidden: false,
        run: w::malloc_large::run,
    },
    Workload {
        name: "vec-grow",
        description: "Vec<u64> pushed from empty to up to 4 MiB, then shrunk: the realloc path",
        class: PatternClass::RustIdioms,
        default: p(1, 1_000, 64, 4 * MIB),
        quick: p(1, 100, 64, 4 * MIB),
        multithreaded: false,
        hidden: false,
        run: w::vec_grow::run,
    },
    Workload {
        name: "string-build",
        description: "Strings built with push_str and format!, joined and dropped",
        class: PatternClass::RustIdioms,
        default: p(1, 350_000, 1, 64),
        quick: p(1, 30_000, 1, 64),
        multithreaded: false,
        hidden: false,
        run: w::string_build::run,
    },
    Workload {
        name: "hashmap-churn",
        description: "HashMap<String, u64> inserts and removes with owned String keys",
        class: PatternClass::RustIdioms,
        default: p(1, 8_000_000, 8, 48),
        quick: p(1, 750_000, 8, 48),
        multithreaded: false,
        hidden: false,
        run: w::hashmap_churn::run,
    },
    Workload {
        name: "btreemap-churn",
        description: "BTreeMap<String, u64> inserts and removes with owned String keys",
        class: PatternClass::RustIdioms,
        default: p(1, 4_500_000, 8, 48),
        quick: p(1, 400_000, 8, 48),
        multithreaded: false,
        hidden: false,
        run: w::btreemap_churn::run,
    },
    Workload {
        name: "arc-channel",
        description: "Box and Arc messages sent through std::sync::mpsc and dropped on the receiving thread",
        class: PatternClass::ProducerConsumer,
        default: p(2, 4_000_000, 16, 256),
        quick: p(2, 400_000, 16, 256),
        multithreaded: true,
        hidden: false,
        run: w::arc_channel::run,
    },
    Workload {
        name: "json-roundtrip",
        description: "serde_json: serialize, parse to Value, re-serialize and parse to structs a nested document",
        class: PatternClass::RustIdioms,
        default: p(1, 1_000, 50, 150),
        quick: p(1, 100, 50, 150),
        multithreaded: false,
        hidden: false,
        run: w::json_roundtrip::run,
    },
    Workload {
        name: "server-churn",
        description: "a server over many rounds: small, medium and mixed phases, bursts and quiet periods, long-lived survivors; live set bounded",
        class: PatternClass::Fragmentation,
        default: p(4, 25_000, 16, 256 << 10),
        quick: p(4, 2_500, 16, 256 << 10),
        multithreaded: false,
        hidden: false,
        run: w::server_churn::run,
    },
    Workload {
        name: "latency",
        description: "single alloc and dealloc calls timed one by one (one thread, then frees from another thread)",
        class: PatternClass::Latency,
        default: p(2, 2_000_000, 8, 32_768),
        quick: p(2, 200_000, 8, 32_768),
        multithreaded: false,
        hidden: false,
        run: w::latency::run,
    },
    Workload {
        name: "crash",
        description: "test helper: aborts the process",
        class: PatternClass::SingleThreadSmall,
        default: p(1, 1, 1, 1),
        quick: p(1, 1, 1, 1),
        multithreaded: false,
        hidden: true,
        run: w::test_helpers::crash,
    },
    Workload {
        name: "hang",
        description: "test helper: sleeps forever (for timeout tests)",
        class: PatternClass::SingleThreadSmall,
        default: p(1, 1, 1, 1),
        quick: p(1, 1, 1, 1),
        multithreaded: false,
        hidden: true,
        run: w::test_helpers::hang,
    },
];

/// Every workload, hidden ones included, in matrix order.
pub fn all() -> &'static [Workload] {
    WORKLOADS
}

/// The workload named `name`, if any.
pub fn find(name: &str) -> Option<&'static Workload> {
    WORKLOADS.iter().find(|w| w.name == name)
}
