//! Tests of the report: the statistics on known numbers, and every renderer
//! on a small hand-built matrix (3 workloads × 3 backends × 3 repetitions,
//! one cell that timed out, one row without system data). The ignored test
//! `sample_report` writes a realistic report into `/tmp/report-sample/` to
//! look at.

use allocmux_workloads::{Params, RunRecord};

use super::format::recommendation_lines;
use super::summary::{geometric_mean, median, CellState, Spread};
use super::*;
use crate::results::{
    BackendInfo, CellRun, Machine, MatrixResults, MicroResult, RunStatus, WorkloadInfo, SCHEMA,
};

const MIB: u64 = 1024 * 1024;

fn results(backends: &[&str], workloads: &[(&str, &str)]) -> MatrixResults {
    MatrixResults {
        schema: SCHEMA,
        started: "2026-11-27T06:00:00Z".to_string(),
        mode: "full".to_string(),
        shard: None,
        machine: Machine {
            cpu_model: "AMD EPYC 7B13".to_string(),
            cores: 16,
            memory_bytes: 64 * 1024 * MIB,
            os: "Debian GNU/Linux 12 (bookworm)".to_string(),
            kernel: "6.1.0-18-amd64".to_string(),
            rustc: "rustc 1.95.0 (59807616e 2026-04-14)".to_string(),
        },
        backends: backends
            .iter()
            .map(|b| BackendInfo {
                name: b.to_string(),
                version: if *b == "system" {
                    None
                } else {
                    Some("0.1.0".to_string())
                },
                description: format!("the {b} allocator"),
            })
            .collect(),
        workloads: workloads
            .iter()
            .map(|(w, c)| WorkloadInfo {
                name: w.to_string(),
                description: format!("{w} workload"),
                class: c.to_string(),
            })
            .collect(),
        runs: Vec::new(),
        micro: Vec::new(),
    }
}

fn ok(workload: &str, backend: &str, threads: usize, rep: u32, ops: f64, rss: u64) -> CellRun {
    CellRun {
        workload: workload.to_string(),
        backend: backend.to_string(),
        threads,
        rep,
        status: RunStatus::Ok,
        wall_seconds: 1.25,
        record: Some(RunRecord {
            workload: workload.to_string(),
            backend: backend.to_string(),
            params: Params {
                threads,
                iterations: 1000,
                min_size: 8,
                max_size: 1024,
                seed: 42,
            },
            operations: (ops * 1.0) as u64,
            seconds: 1.0,
            ops_per_sec: ops,
            checksum: 0xfeed,
            peak_rss_bytes: rss,
            stats: None,
        }),
        error: None,
    }
}

fn bad(
    workload: &str,
    backend: &str,
    threads: usize,
    rep: u32,
    status: RunStatus,
    error: &str,
) -> CellRun {
    CellRun {
        workload: workload.to_string(),
        backend: backend.to_string(),
        threads,
        rep,
        status,
        wall_seconds: 60.0,
        record: None,
        error: Some(error.to_string()),
    }
}

/// 3 workloads × 3 backends × 3 reps. larson: system 100, jemalloc 150,
/// mimalloc 200 (medians); vec-grow: mimalloc timed out; json-roundtrip: the
/// system allocator failed, so that row is absolute.
fn small() -> MatrixResults {
    let mut r = results(
        &["system", "jemalloc", "mimalloc"],
        &[
            ("larson", "cross-thread-free"),
            ("vec-grow", "growth"),
            ("json-roundtrip", "growth"),
        ],
    );
    let cells: [(&str, usize, &str, [f64; 3], u64); 7] = [
        ("larson", 4, "system", [110.0, 100.0, 90.0], 100),
        ("larson", 4, "jemalloc", [150.0, 140.0, 160.0], 80),
        ("larson", 4, "mimalloc", [200.0, 210.0, 190.0], 120),
        ("vec-grow", 1, "system", [100.0, 100.0, 100.0], 10),
        ("vec-grow", 1, "jemalloc", [120.0, 125.0, 115.0], 8),
        ("json-roundtrip", 1, "jemalloc", [5e6, 5.1e6, 4.9e6], 30),
        ("json-roundtrip", 1, "mimalloc", [8e6, 8.2e6, 7.9e6], 40),
    ];
    for (w, t, b, ops, rss) in cells {
        for (rep, o) in ops.iter().enumerate() {
            r.runs.push(ok(w, b, t, rep as u32, *o, rss * MIB));
        }
    }
    for rep in 0..3 {
        r.runs.push(bad(
            "vec-grow",
            "mimalloc",
            1,
            rep,
            RunStatus::Timeout,
            "killed after 60 s",
        ));
        r.runs.push(bad(
            "json-roundtrip",
            "system",
            1,
            rep,
            RunStatus::Failed,
            "runner exited with status 101, \"panicked at 'oops'\"\nsecond line | with pipe",
        ));
    }
    r.micro.push(MicroResult {
        backend: "system".to_string(),
        bench: "alloc_free/64".to_string(),
        mean_ns: 12.5,
        lower_ns: 12.1,
        upper_ns: 12.9,
    });
    r
}

#[test]
fn median_and_geometric_mean_on_known_numbers() {
    assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    assert_eq!(median(&[]), None);
    let g = geometric_mean(&[1.0, 4.0]).unwrap();
    assert!((g - 2.0).abs() < 1e-12, "{g}");
    let g = geometric_mean(&[2.0, 8.0, 4.0]).unwrap();
    assert!((g - 4.0).abs() < 1e-12, "{g}");
    assert_eq!(geometric_mean(&[1.0, 0.0]), None);
    assert_eq!(geometric_mean(&[]), None);
    let s = Spread::of(&[110.0, 100.0, 90.0]).unwrap();
    assert_eq!(
        s,
        Spread {
            median: 100.0,
            min: 90.0,
            max: 110.0
        }
    );
    assert_eq!(
        s.relative_to(100.0),
        Spread {
            median: 1.0,
            min: 0.9,
            max: 1.1
        }
    );
}

#[test]
fn summary_cells_ratios_and_states() {
    let s = summarize(&small());
    assert_eq!(s.backends, ["system", "jemalloc", "mimalloc"]);
    assert_eq!(s.rows.len(), 3);
    let larson = &s.rows[0];
    assert_eq!(larson.baseline, Some(100.0));
    let je = larson.cells[1].relative.unwrap();
    assert!(
        (je.median - 1.5).abs() < 1e-12
            && (je.min - 1.4).abs() < 1e-12
            && (je.max - 1.6).abs() < 1e-12
    );
    assert_eq!(larson.cells[1].rss_relative, Some(0.8));
    assert_eq!(larson.best, Some(2));
    let vec_grow = &s.rows[1];
    assert_eq!(vec_grow.cells[2].state, CellState::Timeout);
    assert_eq!(vec_grow.cells[2].timeout, 3);
    let json = &s.rows[2];
    assert!(!json.is_relative());
    assert_eq!(json.cells[0].state, CellState::Failed);
    assert_eq!(json.cells[2].throughput.unwrap().median, 8e6);
    assert_eq!(json.best, Some(2));
    assert_eq!(s.failures.len(), 6);
}

#[test]
fn recommendation_uses_complete_rows_and_geometric_means() {
    let s = summarize(&small());
    let rec = &s.recommendation;
    // Only larson has all three backends.
    assert_eq!(rec.rows_used, 1);
    assert!(rec.relative_to_system);
    assert_eq!(rec.overall[0].backend, "mimalloc");
    assert!((rec.overall[0].value - 2.0).abs() < 1e-12);
    assert_eq!(rec.memory[0].backend, "jemalloc");

    // Geometric, not arithmetic: A = 4× and 0.5× (arith 2.25, geo 1.41),
    // B = 1.5× twice (1.5 either way): B wins.
    let mut r = results(&["system", "a", "b"], &[("w1", "churn"), ("w2", "churn")]);
    for (w, a, b) in [("w1", 400.0, 150.0), ("w2", 50.0, 150.0)] {
        r.runs.push(ok(w, "system", 1, 0, 100.0, MIB));
        r.runs.push(ok(w, "a", 1, 0, a, MIB));
        r.runs.push(ok(w, "b", 1, 0, b, MIB));
    }
    let s = summarize(&r);
    assert_eq!(s.recommendation.overall[0].backend, "b");
    assert!((s.recommendation.overall[1].value - 2f64.sqrt()).abs() < 1e-12);
    assert_eq!(s.recommendation.by_class[0].class, "churn");
    assert_eq!(s.recommendation.by_class[0].ranking[0].backend, "b");
}

#[test]
fn markdown_has_the_rows_and_names_the_winner() {
    let results = small();
    let s = summarize(&results);
    let md = render_markdown(&s, &results);
    assert!(md.contains("| `larson` | cross-thread-free | 4 | 1.00× (0.90–1.10) | 1.50× (1.40–1.60) | **2.00× (1.90–2.10)** |"), "{md}");
    assert!(
        md.contains(
            "| `vec-grow` | growth | 1 | 1.00× (1.00–1.00) | **1.20× (1.15–1.25)** | TIMEOUT |"
        ),
        "{md}"
    );
    assert!(md.contains("| `json-roundtrip` | growth | 1 | FAILED | 5.00M (4.90M–5.10M) | **8.00M (7.90M–8.20M)** |"), "{md}");
    let line = md
        .lines()
        .find(|l| l.starts_with("- Fastest overall:"))
        .expect("recommendation line");
    assert!(
        line.starts_with("- Fastest overall: mimalloc, 2.00× system"),
        "{line}"
    );
    assert!(
        md.contains("- Lowest memory: jemalloc, 0.80× system peak RSS"),
        "{md}"
    );
    assert!(md.contains("No system data for `json-roundtrip`"), "{md}");
    assert!(md.contains("killed after 60 s"));
    assert!(md.contains("  second line | with pipe"));
    assert!(md.contains("## Micro-benchmarks"));
    assert!(md.contains("AMD EPYC 7B13, 16 logical CPUs, 64.0 GiB memory"));
}

#[test]
fn html_is_self_contained_with_charts() {
    let results = small();
    let s = summarize(&results);
    let html = render_html(&s, &results);
    assert!(html.contains("<svg"));
    assert_eq!(html.matches("<svg").count(), 2);
    for w in ["larson", "vec-grow", "json-roundtrip"] {
        assert!(html.contains(w), "{w}");
    }
    let rest = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!rest.contains("http://") && !rest.contains("https://"));
    assert!(!rest.contains("<script") && !rest.contains("<link") && !rest.contains("src="));
    assert!(html.contains("&quot;panicked at &#39;oops&#39;&quot;"));
    assert!(html.contains("font-family=\"sans-serif\""));
}

#[test]
fn csv_has_one_row_per_repetition_quoted() {
    let results = small();
    let csv = render_csv(&results);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("workload,class,backend,threads,rep,status,ops_per_sec,seconds,wall_seconds,peak_rss_bytes,checksum,error")
    );
    // 27 repetitions; one error text has a line break inside its quotes.
    let records = count_csv_records(&csv);
    assert_eq!(records, 1 + 27);
    assert!(csv.contains("larson,cross-thread-free,system,4,0,ok,110,1,1.25,104857600,65261,\n"));
    assert!(csv.contains(",timeout,,,60,,,killed after 60 s\n"));
    assert!(csv.contains(
        "\"runner exited with status 101, \"\"panicked at 'oops'\"\"\nsecond line | with pipe\""
    ));
}

/// Records of an RFC 4180 text: line breaks outside quotes.
fn count_csv_records(text: &str) -> usize {
    let mut quoted = false;
    let mut n = 0;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => n += 1,
            _ => {}
        }
    }
    n
}

#[test]
fn terminal_is_plain_and_fits() {
    let s = summarize(&sample());
    let text = terminal::render(&s, false);
    assert!(!text.contains('\x1b'));
    for line in text.lines() {
        assert!(line.chars().count() <= terminal::WIDTH, "too wide: {line}");
    }
    assert!(text.contains("TIMEOUT"));
    assert!(text.contains("Fastest overall:"));
    let small = terminal::render(&summarize(&small()), false);
    let larson = small.lines().find(|l| l.starts_with("larson ")).unwrap();
    let cells: Vec<&str> = larson
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        cells,
        [
            "larson",
            "1.00× (0.90–1.10)",
            "1.50× (1.40–1.60)",
            "2.00× (1.90–2.10)*"
        ],
        "{small}"
    );
    assert!(terminal::render(&s, true).contains("\x1b[1m"));
}

#[test]
fn write_all_writes_three_files() {
    let dir = std::env::temp_dir().join(format!("allocmux-report-test-{}", std::process::id()));
    let s = write_all(&small(), &dir).unwrap();
    assert_eq!(s.rows.len(), 3);
    for f in ["results.csv", "report.md", "report.html"] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A realistic matrix: 17 workloads × 5 backends × 3 reps, one workload at two
/// thread counts, a timeout, a partial failure, a row without system data.
fn sample() -> MatrixResults {
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

/// Writes a realistic report into `/tmp/report-sample/` to look at
/// (`cargo test -p xtask report::tests::sample_report -- --ignored`).
#[test]
#[ignore]
fn sample_report() {
    let dir = std::path::Path::new("/tmp/report-sample");
    let results = sample();
    let summary = write_all(&results, dir).unwrap();
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

#[test]
fn degenerate_matrices_render_without_panicking() {
    // Nothing ran.
    let empty = results(&["system", "jemalloc"], &[("larson", "churn")]);
    // No system allocator at all: absolute numbers, ranking against the row mean.
    let mut no_system = results(
        &["jemalloc", "mimalloc"],
        &[("larson", "churn"), ("xmalloc", "churn")],
    );
    for (w, a, b) in [("larson", 100.0, 200.0), ("xmalloc", 300.0, 150.0)] {
        for rep in 0..3 {
            no_system.runs.push(ok(w, "jemalloc", 2, rep, a, MIB));
            no_system.runs.push(ok(w, "mimalloc", 2, rep, b, 2 * MIB));
        }
    }
    // Everything failed.
    let mut all_failed = results(&["system", "slab"], &[("larson", "churn")]);
    for b in ["system", "slab"] {
        all_failed
            .runs
            .push(bad("larson", b, 1, 0, RunStatus::Failed, ""));
    }
    for r in [&empty, &no_system, &all_failed] {
        let s = summarize(r);
        let text = terminal::render(&s, false);
        let md = render_markdown(&s, r);
        let html = render_html(&s, r);
        let csv = render_csv(r);
        assert_eq!(csv.lines().count(), 1 + r.runs.len());
        assert!(html.contains("</html>"));
        assert!(md.contains("## Recommendation"));
        assert!(text.contains("allocmux bench-matrix report"));
    }
    let s = summarize(&no_system);
    assert!(!s.has_baseline());
    assert!(!s.recommendation.relative_to_system);
    // Both have geometric mean 1 against the row mean: 2× one row, 0.5× the other.
    assert!((s.recommendation.overall[0].value - 1.0).abs() < 1e-12);
    assert!(render_markdown(&s, &no_system).contains("No system data for `larson`, `xmalloc`"));
    let text = terminal::render(&s, false);
    assert!(text.contains("no system data"), "{text}");
    let s = summarize(&all_failed);
    assert!(
        recommendation_lines(&s)[0].starts_with("No recommendation"),
        "{:?}",
        recommendation_lines(&s)
    );
    assert!(render_markdown(&s, &all_failed).contains("(no error text recorded)"));
}
