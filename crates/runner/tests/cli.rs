//! Runs the built `allocmux-runner` binary: one JSON record per run, the
//! registry listing, and a clean error for an unknown workload.

use std::process::{Command, Output};

use allocmux_workloads::{find, Params, RunRecord};

fn runner(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_allocmux-runner"))
        .args(args)
        .output()
        .expect("the runner binary starts")
}

#[test]
fn runs_a_tiny_workload_and_prints_one_record() {
    let out = runner(&[
        "--workload",
        "xmalloc",
        "--quick",
        "--iterations",
        "10",
        "--threads",
        "2",
        "--seed",
        "7",
    ]);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8 output");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line: {stdout:?}");
    let record: RunRecord = serde_json::from_str(lines[0]).expect("a RunRecord");

    let w = find("xmalloc").expect("registered");
    let expected = Params {
        threads: 2,
        iterations: 10,
        seed: 7,
        ..w.quick
    };
    assert_eq!(record.workload, "xmalloc");
    assert_eq!(record.params, expected);
    assert!(!record.backend.is_empty());
    // The checksum is the same whatever allocator the runner was built with.
    let outcome = (w.run)(&expected);
    assert_eq!(record.checksum, outcome.checksum);
    assert_eq!(record.operations, outcome.operations);
    assert!(record.seconds >= 0.0 && record.ops_per_sec >= 0.0);
    assert!(record.peak_rss_bytes > 0);
    assert_eq!(record.stats.is_some(), cfg!(feature = "stats"));
}

#[test]
fn single_threaded_workloads_keep_one_thread() {
    let out = runner(&[
        "--workload",
        "vec-grow",
        "--quick",
        "--iterations",
        "2",
        "--threads",
        "4",
    ]);
    assert!(out.status.success());
    let record: RunRecord = serde_json::from_slice(&out.stdout).expect("a RunRecord");
    assert_eq!(record.params.threads, 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("ignored"));
}

#[test]
fn unknown_workload_exits_2_with_the_valid_names() {
    let out = runner(&["--workload", "no-such-workload"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown workload"), "{stderr}");
    assert!(
        stderr.contains("larson") && stderr.contains("json-roundtrip"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn list_prints_the_registry_as_json_lines() {
    let out = runner(&["--list"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).expect("utf-8 output");
    let rows: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(rows.len(), allocmux_workloads::all().len());
    for (row, w) in rows.iter().zip(allocmux_workloads::all()) {
        assert_eq!(row["name"], w.name);
        assert_eq!(row["class"], w.class.name());
        assert_eq!(row["hidden"], w.hidden);
        assert_eq!(row["multithreaded"], w.multithreaded);
        let quick: Params = serde_json::from_value(row["quick"].clone()).expect("quick params");
        let default: Params =
            serde_json::from_value(row["default"].clone()).expect("default params");
        assert_eq!((quick, default), (w.quick, w.default));
        assert!(row["description"].is_string());
    }
}

#[test]
fn crash_workload_aborts() {
    // Run in the temp dir so that a core dump, where enabled, lands outside the tree.
    let out = Command::new(env!("CARGO_BIN_EXE_allocmux-runner"))
        .args(["--workload", "crash"])
        .current_dir(std::env::temp_dir())
        .output()
        .expect("the runner binary starts");
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
}

#[test]
fn the_peak_reported_is_the_runners_own_not_its_parents() {
    // Linux carries the parent's resident size into a child's `ru_maxrss`
    // across `exec`; the runner must not report it. Hold and touch 256 MiB here.
    let mut big = vec![0u8; 256 << 20];
    for i in (0..big.len()).step_by(4096) {
        big[i] = 1;
    }
    let out = runner(&["--workload", "glibc-simple", "--quick", "--iterations", "5"]);
    std::hint::black_box(&big);
    assert!(out.status.success());
    let record: RunRecord =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).expect("a RunRecord");
    assert!(
        record.peak_rss_bytes < 64 << 20,
        "the runner reports {} MiB: its parent's size leaked in",
        record.peak_rss_bytes >> 20
    );
    assert!(!record.rss_after_idle.is_empty(), "the drain phase ran");
}
