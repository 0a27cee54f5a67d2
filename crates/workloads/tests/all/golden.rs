//! Golden checksums: every visible workload run at a tiny size returns the
//! checksum computed once when it was written, independent of allocator and
//! thread schedule; workloads whose definition splits global work by index
//! give the same checksum for 1 and 2 threads.

use allocmux_workloads::{find, Outcome, Params};

/// A tiny size of each visible workload and its expected outcome.
struct Golden {
    name: &'static str,
    iterations: u64,
    checksum: u64,
    /// Expected operations; 0 where the count follows std's growth policy
    /// (reallocs counted from capacity changes), which may change with Rust.
    operations: u64,
}

const GOLDEN: &[Golden] = &[
    Golden {
        name: "larson",
        iterations: 20_000,
        checksum: 15_931_483_930_280_250_896,
        operations: 140_000,
    },
    Golden {
        name: "xmalloc",
        iterations: 20,
        checksum: 4_405_716_218_355_433_459,
        operations: 163_880,
    },
    Golden {
        name: "cache-scratch",
        iterations: 1,
        checksum: 96_435_274_230_065_136,
        operations: 8,
    },
    Golden {
        name: "cache-thrash",
        iterations: 1,
        checksum: 96_435_274_230_065_136,
        operations: 4,
    },
    Golden {
        name: "mstress",
        iterations: 2,
        checksum: 10_060_830_017_071_093_946,
        operations: 90_016,
    },
    Golden {
        name: "rptest",
        iterations: 520,
        checksum: 865_447_519_658_998_236,
        operations: 199_296,
    },
    Golden {
        name: "glibc-simple",
        iterations: 3_200,
        checksum: 2_439_855_459_533_608_596,
        operations: 307_206,
    },
    Golden {
        name: "glibc-thread",
        iterations: 20_000,
        checksum: 6_894_374_393_607_762_112,
        operations: 40_000,
    },
    Golden {
        name: "alloc-test",
        iterations: 200_000,
        checksum: 12_540_548_234_733_593_284,
        operations: 662_364,
    },
    Golden {
        name: "malloc-large",
        iterations: 3,
        checksum: 2_481_359_218_015_181_737,
        operations: 6,
    },
    Golden {
        name: "vec-grow",
        iterations: 4,
        checksum: 1_186_027_169_119_388_380,
        operations: 0,
    },
    Golden {
        name: "string-build",
        iterations: 200,
        checksum: 3_456_786_202_725_938_659,
        operations: 7_003,
    },
    Golden {
        name: "hashmap-churn",
        iterations: 20_000,
        checksum: 15_499_819_683_305_124_271,
        operations: 20_000,
    },
    Golden {
        name: "btreemap-churn",
        iterations: 20_000,
        checksum: 15_499_819_683_305_124_271,
        operations: 20_000,
    },
    Golden {
        name: "arc-channel",
        iterations: 2_000,
        checksum: 1_810_542_215_480_680_467,
        operations: 12_000,
    },
    Golden {
        name: "json-roundtrip",
        iterations: 3,
        checksum: 17_684_429_552_840_145_480,
        operations: 3,
    },
    Golden {
        name: "server-churn",
        iterations: 4,
        checksum: 15_789_380_083_945_181_925,
        operations: 209_536,
    },
    Golden {
        name: "latency",
        iterations: 2_000,
        checksum: 14_178_413_073_940_049_599,
        operations: 6_000,
    },
];

/// Workloads whose work is numbered globally, so thread count does not change the checksum.
const THREAD_INDEPENDENT: &[&str] = &["xmalloc", "arc-channel"];

fn tiny(g: &Golden) -> Params {
    let w = find(g.name).unwrap_or_else(|| panic!("{} is registered", g.name));
    Params {
        iterations: g.iterations,
        ..w.quick
    }
}

fn run(name: &str, p: &Params) -> Outcome {
    (find(name).expect("registered").run)(p)
}

#[test]
fn every_visible_workload_has_a_golden_entry() {
    for w in allocmux_workloads::all().iter().filter(|w| !w.hidden) {
        assert!(
            GOLDEN.iter().any(|g| g.name == w.name),
            "no golden entry for {}",
            w.name
        );
    }
}

#[test]
fn checksums_match_golden_values() {
    let mut wrong = Vec::new();
    for g in GOLDEN {
        let got = run(g.name, &tiny(g));
        if got.checksum != g.checksum || (g.operations != 0 && got.operations != g.operations) {
            wrong.push(format!(
                "    Golden {{ name: {:?}, iterations: {}, checksum: {}, operations: {} }},",
                g.name, g.iterations, got.checksum, got.operations
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "outcomes differ from the golden values; got:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn repeated_runs_agree() {
    for g in GOLDEN {
        let p = tiny(g);
        assert_eq!(
            run(g.name, &p),
            run(g.name, &p),
            "{} is not deterministic",
            g.name
        );
    }
}

#[test]
fn thread_count_does_not_change_globally_numbered_work() {
    for g in GOLDEN
        .iter()
        .filter(|g| THREAD_INDEPENDENT.contains(&g.name))
    {
        let p = tiny(g);
        let one = run(g.name, &Params { threads: 1, ..p });
        for threads in [2, 4] {
            let more = run(g.name, &Params { threads, ..p });
            assert_eq!(
                one.checksum, more.checksum,
                "{} with {threads} threads",
                g.name
            );
        }
    }
}

#[test]
fn thread_count_overrides_work_for_per_thread_workloads() {
    // Per-thread workloads must still run (and agree with themselves) at 1 and 3 threads.
    for g in GOLDEN
        .iter()
        .filter(|g| find(g.name).expect("registered").multithreaded)
    {
        for threads in [1, 3] {
            let p = Params { threads, ..tiny(g) };
            assert_eq!(
                run(g.name, &p),
                run(g.name, &p),
                "{} with {threads} threads",
                g.name
            );
        }
    }
}

#[test]
fn seed_changes_the_checksum() {
    // These make no random choices in their standard shape (fixed sizes, fixed order).
    let unseeded = ["cache-scratch", "cache-thrash", "glibc-simple", "xmalloc"];
    for g in GOLDEN.iter().filter(|g| !unseeded.contains(&g.name)) {
        let p = tiny(g);
        let other = Params {
            seed: p.seed ^ 0xDEAD_BEEF,
            ..p
        };
        assert_ne!(
            run(g.name, &p).checksum,
            run(g.name, &other).checksum,
            "{} ignores its seed",
            g.name
        );
    }
}
