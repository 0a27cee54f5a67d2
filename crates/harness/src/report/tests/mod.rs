//! Tests of the report: the statistics on a small hand-built matrix
//! (3 workloads × 3 backends × 3 repetitions, one cell that timed out, one row
//! without system data), and the fixtures the renderer tests share.

mod renderers;
mod sample;

use allocmux_workloads::{Params, RunRecord};

use super::summary::CellState;
use super::*;
use crate::results::{
    BackendInfo, CellRun, Machine, MatrixResults, MicroResult, RunStatus, WorkloadInfo, SCHEMA,
};

/// One mebibyte.
pub const MIB: u64 = 1024 * 1024;

/// An empty results file with these backends and (workload, class) pairs.
pub fn results(backends: &[&str], workloads: &[(&str, &str)]) -> MatrixResults {
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
            transparent_huge_pages: "madvise".to_string(),
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
        program: None,
    }
}

/// A successful repetition with `ops` ops/s and `rss` bytes of peak RSS.
pub fn ok(workload: &str, backend: &str, threads: usize, rep: u32, ops: f64, rss: u64) -> CellRun {
    let mut run = CellRun::new(workload, backend, threads, rep, RunStatus::Ok);
    run.wall_seconds = 1.25;
    run.record = Some(RunRecord {
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
        rss_after_idle: Vec::new(),
        end_of_work: None,
        latency_ns: None,
    });
    run
}

/// A repetition that ended with `status` and `error`.
pub fn bad(
    workload: &str,
    backend: &str,
    threads: usize,
    rep: u32,
    status: RunStatus,
    error: &str,
) -> CellRun {
    let mut run = CellRun::new(workload, backend, threads, rep, status);
    run.wall_seconds = 60.0;
    run.error = Some(error.to_string());
    run
}

/// 3 workloads × 3 backends × 3 reps. larson: system 100, jemalloc 150,
/// mimalloc 200 (medians); vec-grow: mimalloc timed out; json-roundtrip: the
/// system allocator failed, so that row is absolute.
pub fn small() -> MatrixResults {
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
fn summary_cells_ratios_and_states() {
    let s = summarize(&small());
    assert_eq!(s.backends, ["system", "jemalloc", "mimalloc"]);
    assert_eq!(s.rows.len(), 3);
    let larson = &s.rows[0];
    assert_eq!(larson.baseline, Some(100.0));
    // Paired by repetition: 150/110, 140/100, 160/90.
    let je = larson.cells[1].relative.unwrap();
    assert!(
        (je.median - 1.4).abs() < 1e-12
            && (je.min - 150.0 / 110.0).abs() < 1e-12
            && (je.max - 160.0 / 90.0).abs() < 1e-12
    );
    // The system cell shows its own spread around its median.
    let sys = larson.cells[0].relative.unwrap();
    assert!((sys.median - 1.0).abs() < 1e-12 && (sys.min - 0.9).abs() < 1e-12);
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
fn relative_throughput_pairs_runs_by_repetition() {
    // The host slows down in repetition 1 for every backend: paired ratios
    // stay at 1.1, the backend's own spread over the system median would not.
    let mut r = results(&["system", "a", "b"], &[("w", "churn")]);
    for (rep, sys) in [(0, 100.0), (1, 200.0), (2, 100.0)] {
        r.runs.push(ok("w", "system", 1, rep, sys, MIB));
        r.runs.push(ok("w", "a", 1, rep, sys * 1.1, MIB));
    }
    // No repetition in common with the system cell: its spread over the
    // system median instead.
    for (rep, ops) in [(5, 90.0), (6, 120.0)] {
        r.runs.push(ok("w", "b", 1, rep, ops, MIB));
    }
    let s = summarize(&r);
    let row = &s.rows[0];
    let a = row.cells[1].relative.unwrap();
    assert!((a.median - 1.1).abs() < 1e-12 && (a.max - 1.1).abs() < 1e-12);
    let b = row.cells[2].relative.unwrap();
    assert!((b.median - 1.05).abs() < 1e-12 && (b.min - 0.9).abs() < 1e-12);
    assert_eq!(row.best, Some(1));
    assert!((s.recommendation.overall[0].value - 1.1).abs() < 1e-12);
}

#[test]
fn recommendation_uses_complete_rows_and_geometric_means() {
    let s = summarize(&small());
    let rec = &s.recommendation;
    // Only larson has all three backends.
    assert_eq!(rec.rows_used, 1);
    assert!(rec.relative_to_system);
    assert_eq!(rec.overall[0].backend, "mimalloc");
    // The paired median: 200/110, 210/100, 190/90.
    assert!((rec.overall[0].value - 2.1).abs() < 1e-12);
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
