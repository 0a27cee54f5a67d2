//! A realistic sample matrix (17 workloads × 5 backends) and the ignored
//! test that writes its report to look at in a browser.

use super::super::*;
use super::{bad, ok, results, MIB};
use crate::results::{MatrixResults, MicroResult, RunStatus};

/// A realistic matrix: 17 workloads × 5 backends × 3 reps, one workload at two
/// thread counts, a timeout, a partial failure, a row without system data.
pub fn sample() -> MatrixResults {
    let workloads = [
        ("larson", "cross-thread-free"),
        ("xmalloc", "cross-thread-free"),
        ("cache-scratch", "false-sharing"),
        ("cache-thrash", "false-sharing"),
        ("mstress", "churn"),
        ("rptest", "cross-thread-free"),
        ("glibc-simple", "churn"),
        ("glibc-thread", "churn"),
        ("alloc-test", "churn"),
        ("malloc-large", "large"),
        ("vec-grow", "growth"),
        ("string-build", "growth"),
        ("hashmap-churn", "churn"),
        ("btreemap-churn", "churn"),
        ("arc-channel", "cross-thread-free"),
        ("json-roundtrip", "growth"),
        ("sh6bench", "churn"),
    ];
    let backends = ["system", "jemalloc", "mimalloc", "snmalloc", "slab"];
    let mut r = results(&backends, &workloads);
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    for (wi, (w, _)) in workloads.iter().enumerate() {
        let thread_counts: &[usize] = if *w == "larson" {
            &[1, 8]
        } else if wi % 3 == 0 {
            &[8]
        } else {
            &[1]
        };
        for &t in thread_counts {
            let base = 2e6 * (1.0 + 20.0 * rnd()) * t as f64;
            let base_rss =
                (4.0 + 60.0 * rnd() * rnd()) * if *w == "malloc-large" { 40.0 } else { 1.0 };
            for (bi, b) in backends.iter().enumerate() {
                let factor = [1.0, 1.25, 1.4, 1.3, 0.95][bi] * (0.75 + 0.5 * rnd());
                let rss_factor = [1.0, 0.9, 1.15, 1.3, 0.8][bi] * (0.8 + 0.4 * rnd());
                for rep in 0..3 {
                    let run = if *w == "cache-thrash" && *b == "slab" {
                        bad(
                            w,
                            b,
                            t,
                            rep,
                            RunStatus::Timeout,
                            "killed after 120 s (time limit)",
                        )
                    } else if *w == "glibc-thread" && *b == "system" {
                        bad(
                            w,
                            b,
                            t,
                            rep,
                            RunStatus::Failed,
                            "runner exited with signal 11 (SIGSEGV)",
                        )
                    } else if *w == "rptest" && *b == "snmalloc" && rep == 1 {
                        bad(
                            w,
                            b,
                            t,
                            rep,
                            RunStatus::ChecksumMismatch,
                            "checksum 0x1234 differs from system's 0x5678",
                        )
                    } else {
                        let ops = base * factor * (0.95 + 0.1 * rnd());
                        let rss = base_rss * rss_factor * (0.97 + 0.06 * rnd()) * MIB as f64;
                        ok(w, b, t, rep, ops, rss as u64)
                    };
                    r.runs.push(run);
                }
            }
        }
    }
    for (bench, ns) in [
        ("alloc_free/64", 14.0),
        ("alloc_free/4096", 38.0),
        ("realloc_grow", 120.0),
    ] {
        for (bi, b) in backends.iter().enumerate() {
            let m = ns * [1.0, 0.8, 0.7, 0.75, 0.9][bi];
            r.micro.push(MicroResult {
                backend: b.to_string(),
                bench: bench.to_string(),
                mean_ns: m,
                lower_ns: m * 0.97,
                upper_ns: m * 1.03,
            });
        }
    }
    r
}

/// Writes a realistic report into `target/report-sample/` to look at
/// (`cargo test -p allocmux-harness report::tests::sample::sample_report -- --ignored`).
#[test]
#[ignore]
fn sample_report() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/report-sample");
    let dir = dir.as_path();
    let results = sample();
    write_all(&results, dir).unwrap();
    let summary = summarize(&results);
    std::fs::write(dir.join("terminal.txt"), terminal::render(&summary, false)).unwrap();
    std::fs::write(
        dir.join("terminal-ansi.txt"),
        terminal::render(&summary, true),
    )
    .unwrap();
    std::fs::write(
        dir.join("throughput.svg"),
        charts::throughput_chart(&summary).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("rss.svg"), charts::rss_chart(&summary).unwrap()).unwrap();
}
