//! `cargo allocmux` as a user runs it, on fixture projects written into
//! temporary directories below Cargo's target directory (removed when each
//! test ends): a program with the façade is compared under the system
//! allocator and the slab (no C compiler needed), a program without the
//! façade is refused with the lines to add, and bad input, a crash under one
//! backend, a hang and a backend that fails to build are each reported while
//! the rest completes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// The façade, for the fixtures' dependency line.
fn facade() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../allocmux")
        .canonicalize()
        .unwrap()
}

/// One target directory for every fixture, so the façade and the slab are
/// compiled once for the whole test binary (below Cargo's own target dir).
fn shared_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("cargo-allocmux-fixtures-target")
}

/// The fixture's program: counts allocations in a loop, prints a JSON line
/// with its rate, and misbehaves on request under one backend
/// (`--crash-on NAME`, `--hang-on NAME`).
const PROGRAM: &str = r#"
#[global_allocator]
static GLOBAL: allocmux::Allocator = allocmux::Allocator;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let on = |flag: &str| args.windows(2).any(|w| w[0] == flag && w[1] == allocmux::BACKEND);
    if on("--crash-on") {
        eprintln!("crashing on purpose under {}", allocmux::BACKEND);
        std::process::abort();
    }
    if on("--hang-on") {
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
    let start = std::time::Instant::now();
    let mut kept: Vec<Vec<u8>> = Vec::new();
    for i in 0..200_000usize {
        kept.push(vec![i as u8; 16 + i % 200]);
        if kept.len() > 1000 {
            kept.swap_remove(i % 1000);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{{\"ops_per_sec\": {}}}", 200_000.0 / secs);
}
"#;

/// A Cargo project in a temporary directory; `with_facade` adds the two lines.
fn fixture(with_facade: bool) -> TempDir {
    let dir = TempDir::with_prefix_in("fixture-", env!("CARGO_TARGET_TMPDIR")).unwrap();
    let dep = if with_facade {
        format!("allocmux = {{ path = {:?} }}\n", facade())
    } else {
        String::new()
    };
    std::fs::write(
        dir.path().join("Cargo.toml"),
        format!(
            "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{dep}\n[workspace]\n"
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    let main = if with_facade {
        PROGRAM
    } else {
        "fn main() { println!(\"hello\"); }\n"
    };
    std::fs::write(dir.path().join("src/main.rs"), main).unwrap();
    dir
}

/// Runs `cargo-allocmux allocmux ARGS` in `dir`, as Cargo would.
fn allocmux(dir: &Path, args: &[&str]) -> Output {
    allocmux_with_env(dir, args, "CARGO_TARGET_DIR", shared_target())
}

/// [`allocmux`] with `key=value` in the environment instead of the shared target
/// directory.
fn allocmux_with_env(dir: &Path, args: &[&str], key: &str, value: PathBuf) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-allocmux"))
        .arg("allocmux")
        .args(args)
        .current_dir(dir)
        .env(key, value)
        .output()
        .unwrap()
}

/// `compare ARGS --out OUT` in `dir`.
fn compare(dir: &Path, out: &Path, args: &[&str]) -> Output {
    let mut all = vec!["compare", "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    allocmux(dir, &all)
}

/// `compare --preload --out OUT ARGS` in `dir`; the libraries are built in a cache
/// of the test's own, not the user's.
fn compare_preload(dir: &Path, out: &Path, args: &[&str]) -> Output {
    let mut all = vec!["compare", "--preload", "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    allocmux_with_env(dir, &all, "XDG_CACHE_HOME", shared_target().join("cache"))
}

/// The run of `backend` in a results file (the first, when there are several).
fn run_of(r: &serde_json::Value, backend: &str) -> serde_json::Value {
    r["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["backend"] == backend)
        .cloned()
        .unwrap_or_else(|| panic!("no {backend} run in {r}"))
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn results(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("results.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn compare_measures_the_program_under_each_backend() {
    let project = fixture(true);
    let out = project.path().join("report");
    let o = compare(
        project.path(),
        &out,
        &[
            "--backends",
            "slab",
            "--reps",
            "2",
            "--metric",
            "json:ops_per_sec",
        ],
    );
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("allocmux compare — demo"), "{stdout}");
    assert!(stdout.contains("Recommendation"), "{stdout}");
    assert!(stdout.contains("Fastest (wall time):"), "{stdout}");
    for f in ["results.json", "results.csv", "report.md", "report.html"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let r = results(&out);
    let runs = r["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4, "system and slab, twice each");
    for run in runs {
        assert_eq!(run["status"], "ok", "{run}");
        let backend = run["backend"].as_str().unwrap();
        let active = run["active"].as_str().unwrap();
        assert!(
            active.starts_with(&format!("allocmux: backend={backend} global=yes")),
            "{active}"
        );
        assert!(run["metric"].as_f64().unwrap() > 0.0);
        assert!(run["usage"]["peak_rss_bytes"].as_u64().unwrap() > 0);
    }
    let evidence = r["program"]["evidence"].as_array().unwrap();
    let slab = evidence.iter().find(|e| e["backend"] == "slab").unwrap();
    assert!(slab["facade_features"]
        .as_array()
        .unwrap()
        .contains(&"slab".into()));
}

#[test]
fn a_crash_and_a_hang_under_one_backend_leave_the_others_measured() {
    let project = fixture(true);
    let out = project.path().join("report");
    let o = compare(
        project.path(),
        &out,
        &[
            "--backends",
            "slab",
            "--reps",
            "1",
            "--",
            "--crash-on",
            "slab",
        ],
    );
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stdout}\n{stderr}");
    let r = results(&out);
    let slab = run_of(&r, "slab");
    assert_eq!(slab["status"], "failed");
    let error = slab["error"].as_str().unwrap();
    assert!(
        error.contains("SIGABRT") && error.contains("crashing on purpose"),
        "{error}"
    );
    assert_eq!(run_of(&r, "system")["status"], "ok");
    assert!(std::fs::read_to_string(out.join("report.md"))
        .unwrap()
        .contains("SIGABRT"));

    let o = compare(
        project.path(),
        &out,
        &[
            "--backends",
            "slab",
            "--reps",
            "1",
            "--timeout",
            "2",
            "--",
            "--hang-on",
            "slab",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let slab = run_of(&results(&out), "slab");
    assert_eq!(slab["status"], "timeout", "{slab}");
}

#[test]
fn a_backend_that_fails_to_build_is_reported_and_the_others_run() {
    let project = fixture(true);
    let out = project.path().join("report");
    let o = Command::new(env!("CARGO_BIN_EXE_cargo-allocmux"))
        .args([
            "allocmux",
            "compare",
            "--backends",
            "snmalloc",
            "--reps",
            "1",
        ])
        .args(["--out", out.to_str().unwrap()])
        .current_dir(project.path())
        // snmalloc is C++: with a "compiler" that always fails, its build does.
        .env("CXX", "false")
        .env(
            "CARGO_TARGET_DIR",
            project.path().join("target-without-cxx"),
        )
        .output()
        .unwrap();
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("snmalloc FAILED") && stderr.contains("full log:"),
        "{stderr}"
    );
    let r = results(&out);
    assert_eq!(run_of(&r, "system")["status"], "ok");
    assert_eq!(run_of(&r, "snmalloc")["status"], "failed");
}

#[test]
fn preload_runs_any_program_under_each_library() {
    let dir = TempDir::with_prefix_in("preload-", env!("CARGO_TARGET_TMPDIR")).unwrap();
    let out = dir.path().join("report");
    let script =
        "import json; d = {str(i): [i] * 50 for i in range(20000)}; print(len(json.dumps(d)))";
    let o = compare_preload(
        dir.path(),
        &out,
        &[
            "--backends",
            "slab",
            "--reps",
            "2",
            "--check-output",
            "--",
            "python3",
            "-c",
            script,
        ],
    );
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("(preload)") && stdout.contains("Output: all 4"),
        "{stdout}"
    );
    let r = results(&out);
    for run in r["runs"].as_array().unwrap() {
        let active = run["active"].as_str().unwrap();
        match run["backend"].as_str().unwrap() {
            "slab" => assert!(
                active.starts_with("allocmux-preload: backend=slab ")
                    && active.ends_with("served=yes"),
                "{active}"
            ),
            _ => assert!(active.contains("no allocmux library"), "{active}"),
        }
    }
    // coreutils close stderr in an atexit handler, before the library's exit
    // line; the line must still arrive (it goes to a copy taken at load).
    let input = dir.path().join("lines.txt");
    std::fs::write(&input, "b\na\nc\n").unwrap();
    let sorted = dir.path().join("sorted");
    let o = compare_preload(
        dir.path(),
        &sorted,
        &[
            "--backends",
            "slab",
            "--reps",
            "1",
            "--",
            "sort",
            input.to_str().unwrap(),
        ],
    );
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    let r = results(&sorted);
    let slab = run_of(&r, "slab");
    assert_eq!(slab["status"], "ok", "{slab}");
    assert!(
        slab["active"]
            .as_str()
            .unwrap()
            .starts_with("allocmux-preload: backend=slab "),
        "{slab}"
    );
    // An allocator from outside allocmux, under the name given to it: the
    // loader is asked once whether it binds `malloc` to the library.
    let bump = dir.path().join("libbump.so");
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../harness/tests/fixtures/bump_allocator.c");
    allocmux_harness::cmd::compile_shared_library(&fixture, &bump).unwrap();
    let external = dir.path().join("external");
    let library = format!("bump={}", bump.display());
    let o = compare_preload(
        dir.path(),
        &external,
        &[
            "--backends",
            "slab",
            "--reps",
            "1",
            "--library",
            &library,
            "--",
            "sort",
            input.to_str().unwrap(),
        ],
    );
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    let r = results(&external);
    let bump_run = run_of(&r, "bump");
    assert_eq!(bump_run["status"], "ok", "{bump_run}");
    assert!(
        bump_run["active"].as_str().unwrap().contains("libbump.so"),
        "{bump_run}"
    );
    let o = allocmux(
        dir.path(),
        &[
            "compare",
            "--preload",
            "--library",
            "slab=/bin/sh",
            "--",
            "sort",
        ],
    );
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("a backend's name"), "{stderr}");
    let o = allocmux(
        dir.path(),
        &["compare", "--preload", "--", "no-such-program-anywhere"],
    );
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not on PATH"), "{stderr}");
}

#[test]
fn a_project_without_the_facade_gets_the_two_lines_to_add() {
    let project = fixture(false);
    let o = allocmux(project.path(), &["compare"]);
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("does not depend on allocmux")
            && stderr.contains("#[global_allocator]")
            && stderr.contains("static GLOBAL: allocmux::Allocator = allocmux::Allocator;")
            && stderr.contains("allocmux = { path ="),
        "{stderr}"
    );
}

#[test]
fn bad_input_is_refused_with_the_valid_choices() {
    let project = fixture(true);
    let cases: [(&[&str], &str); 7] = [
        (&["compare", "--bin", "nosuch"], "binaries: demo"),
        (&["compare", "--reps", "0"], "at least 1"),
        (&["compare", "--timeout", "0"], "at least 1 second"),
        (
            &["compare", "--backends", "tcmalloc"],
            "valid backends: system, jemalloc",
        ),
        (&["compare", "--metric", "regex:("], "not a valid pattern"),
        (&["matrix", "--workloads", "nosuch"], "workloads: larson"),
        (&["matrix", "--threads", "1,0"], "thread counts start at 1"),
    ];
    for (args, expected) in cases {
        let o = allocmux(project.path(), args);
        let (_, stderr) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
