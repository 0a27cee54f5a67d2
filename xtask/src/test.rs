//! `cargo xtask test`: formatting, lints, and the test suite once per
//! allocator backend, with a one-line verdict per step and one total line.
//!
//! The backend-dependent crates (the façade's contract tests, the workloads,
//! the runner, the benches) are tested once per backend, each build using that
//! backend as its real global allocator. The slab allocator's own suite and
//! its loom model do not depend on the façade's feature and run once.

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Instant;

use allocmux::Backend;
use clap::Args;

use allocmux_harness::cmd;

use crate::{cargo, workspace_root};

/// Options of `cargo xtask test`.
#[derive(Args)]
pub struct TestArgs {
    /// Only these backends (comma-separated).
    #[arg(long, value_delimiter = ',')]
    backends: Option<Vec<Backend>>,
    /// Skip `cargo fmt --check` and clippy.
    #[arg(long)]
    no_lint: bool,
}

/// One step's outcome.
struct StepResult {
    name: String,
    ok: bool,
    passed: u64,
    failed: u64,
    seconds: f64,
    log: PathBuf,
    detail: String,
}

/// Sums the `test result:` lines cargo's test harness prints.
fn count_tests(output: &str) -> (u64, u64) {
    let mut passed = 0;
    let mut failed = 0;
    for line in output.lines() {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            continue;
        };
        for part in rest.split(';') {
            let words: Vec<&str> = part.split_whitespace().collect();
            // "ok. 8 passed" / "FAILED. 1 passed" / "2 failed"
            if let [.., n, kind] = words.as_slice() {
                let n: u64 = n.parse().unwrap_or(0);
                match *kind {
                    "passed" => passed += n,
                    "failed" => failed += n,
                    _ => {}
                }
            }
        }
    }
    (passed, failed)
}

fn log_dir() -> PathBuf {
    workspace_root().join("target/xtask-test")
}

/// Runs one logged command as a named step and prints its verdict line.
fn step(name: &str, log_name: &str, c: &mut Command) -> std::io::Result<StepResult> {
    let log = log_dir().join(format!("{log_name}.log"));
    eprintln!("   running {name}: {}", cmd::display(c));
    let start = Instant::now();
    let out = cmd::run_logged(c, &log)?;
    let (passed, failed) = count_tests(&out.output);
    let r = StepResult {
        name: name.to_owned(),
        ok: out.success && failed == 0,
        passed,
        failed,
        seconds: start.elapsed().as_secs_f64(),
        log,
        detail: if out.success {
            String::new()
        } else {
            cmd::tail(&out.output, 40)
        },
    };
    print_result(&r);
    Ok(r)
}

fn print_result(r: &StepResult) {
    let verdict = if r.ok { "ok    " } else { "FAILED" };
    let counts = if r.passed + r.failed > 0 {
        format!("{} passed, {} failed", r.passed, r.failed)
    } else {
        String::new()
    };
    println!(
        "{verdict} {:<30} {:<24} {:>6.1} s",
        r.name, counts, r.seconds
    );
    if !r.ok {
        println!("{}", indent(&r.detail));
        println!("       full log: {}", r.log.display());
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("       | {l}\n")).collect()
}

/// The contract tests plus the backend-dependent crates, with `backend` as the
/// global allocator, then the `which` example must name the same backend.
fn backend_step(backend: Backend) -> std::io::Result<StepResult> {
    let features: Vec<String> = backend
        .feature()
        .map(|f| vec!["--features".into(), format!("allocmux/{f}")])
        .unwrap_or_default();
    let mut test = cargo();
    test.args([
        "test",
        "--workspace",
        "--exclude",
        "xtask",
        "--exclude",
        "allocmux-slab",
        "--exclude",
        "allocmux-harness",
        "--exclude",
        "cargo-allocmux",
        "--exclude",
        "allocmux-preload",
    ])
    .args(&features);
    let mut r = step(
        &format!("backend {}", backend.name()),
        backend.name(),
        &mut test,
    )?;
    if !r.ok {
        return Ok(r);
    }
    let mut which = cargo();
    which
        .args(["run", "--quiet", "-p", "allocmux", "--example", "which"])
        .args(&features);
    let out = cmd::run_logged(
        &mut which,
        &log_dir().join(format!("{}-which.log", backend.name())),
    )?;
    let printed = out.output.lines().last().unwrap_or("").to_owned();
    if !out.success || !printed.starts_with(backend.name()) {
        r.ok = false;
        r.detail = format!(
            "example `which` printed {printed:?}, expected the backend {}",
            backend.name()
        );
        print_result(&r);
    }
    Ok(r)
}

/// The slab's unit tests under Miri (strict provenance), when a nightly toolchain with
/// Miri is installed; otherwise a note on how to get it (not a failure: stable-only
/// machines can still run everything else).
fn miri_step() -> std::io::Result<Option<StepResult>> {
    // `cargo +nightly` must be the rustup proxy, not the toolchain's own cargo.
    let nightly_cargo = || {
        let mut c = Command::new("cargo");
        c.current_dir(workspace_root())
            .env_remove("RUSTC")
            .env_remove("CARGO")
            .arg("+nightly");
        c
    };
    let has_miri = nightly_cargo()
        .args(["miri", "--version"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_miri {
        println!(
            "skip   {:<30} no nightly Miri here (rustup toolchain install nightly --component miri,rust-src)",
            "slab under Miri"
        );
        return Ok(None);
    }
    // Strict provenance: an integer-to-pointer cast (which Miri cannot check, and only
    // warns about by default) fails the step.
    let flags = std::env::var("MIRIFLAGS").unwrap_or_default();
    let mut c = nightly_cargo();
    c.env("MIRIFLAGS", format!("{flags} -Zmiri-strict-provenance"));
    c.args([
        "miri",
        "test",
        "-p",
        "allocmux-slab",
        "--lib",
        "--target-dir",
    ])
    .arg(workspace_root().join("target/miri"));
    step("slab under Miri", "miri", &mut c).map(Some)
}

/// Two backends at once must fail to compile, naming both features.
fn exclusive_features_step() -> std::io::Result<StepResult> {
    let mut c = cargo();
    c.args(["check", "-p", "allocmux", "--features", "mimalloc,jemalloc"]);
    let log = log_dir().join("exclusive.log");
    let start = Instant::now();
    let out = cmd::run_logged(&mut c, &log)?;
    let names_both = out.output.lines().any(|l| {
        l.contains("more than one backend feature")
            && l.contains("`jemalloc`")
            && l.contains("`mimalloc`")
    });
    let ok = !out.success && names_both;
    let r = StepResult {
        name: "two backends rejected".into(),
        ok,
        passed: u64::from(ok),
        failed: u64::from(!ok),
        seconds: start.elapsed().as_secs_f64(),
        log,
        detail: if ok {
            String::new()
        } else {
            format!(
                "`cargo check --features mimalloc,jemalloc` should fail naming both features; it {}",
                if out.success { "compiled" } else { "failed with another message" }
            )
        },
    };
    print_result(&r);
    Ok(r)
}

/// Runs every step and prints the total; exit 1 if anything failed.
pub fn run(args: &TestArgs) -> Result<ExitCode, String> {
    let backends = args
        .backends
        .clone()
        .unwrap_or_else(|| Backend::ALL.to_vec());
    let io = |e: std::io::Error| e.to_string();
    let mut results = Vec::new();
    if !args.no_lint {
        results.push(
            step(
                "cargo fmt --check",
                "fmt",
                cargo().args(["fmt", "--all", "--", "--check"]),
            )
            .map_err(io)?,
        );
        results.push(
            step(
                "cargo clippy",
                "clippy",
                cargo().args([
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ]),
            )
            .map_err(io)?,
        );
        results.push(
            step(
                "cargo clippy (slab hardened)",
                "clippy-hardened",
                cargo().args([
                    "clippy",
                    "-p",
                    "allocmux-slab",
                    "-p",
                    "allocmux-preload",
                    "--all-targets",
                    "--features",
                    "allocmux-slab/hardened",
                    "--",
                    "-D",
                    "warnings",
                ]),
            )
            .map_err(io)?,
        );
    }
    for backend in backends {
        results.push(backend_step(backend).map_err(io)?);
    }
    results.push(
        step(
            "slab allocator suite",
            "slab",
            cargo().args(["test", "-p", "allocmux-slab"]),
        )
        .map_err(io)?,
    );
    // The slab's hardened mode: its whole suite again, plus the misuse tests
    // (tests/hardened.rs: each misuse must abort a child process with its message).
    results.push(
        step(
            "slab hardened suite",
            "slab-hardened",
            cargo().args(["test", "-p", "allocmux-slab", "--features", "hardened"]),
        )
        .map_err(io)?,
    );
    // The opt-in huge pages: fresh mappings must carry the advice (the default suite
    // checks that they do not).
    results.push(
        step(
            "slab huge-pages mappings",
            "slab-huge-pages",
            cargo().args([
                "test",
                "-p",
                "allocmux-slab",
                "--features",
                "huge-pages",
                "--test",
                "huge_pages",
            ]),
        )
        .map_err(io)?,
    );
    // The C ABI of every backend's preload library (cargo does not build a cdylib
    // for integration tests, so each is built first, then the C test program runs
    // with it preloaded): the slab plain and hardened, jemalloc, mimalloc, snmalloc.
    for (name, backend, features) in [
        ("slab", Backend::Slab, "slab"),
        ("slab hardened", Backend::Slab, "hardened"),
        ("jemalloc", Backend::Jemalloc, "jemalloc"),
        ("mimalloc", Backend::Mimalloc, "mimalloc"),
        ("snmalloc", Backend::Snmalloc, "snmalloc"),
    ] {
        let log = format!("c-abi-{}", name.replace(' ', "-"));
        let env = allocmux_harness::compare::preload::build_env(backend);
        let build = step(
            &format!("C ABI build, {name}"),
            &format!("{log}-build"),
            cargo()
                .envs(env.iter().map(|(k, v)| (k, v)))
                .args([
                    "build",
                    "-p",
                    "allocmux-preload",
                    "--lib",
                    "--no-default-features",
                ])
                .args(["--features", features]),
        )
        .map_err(io)?;
        let ok = build.ok;
        results.push(build);
        if ok {
            results.push(
                step(
                    &format!("C ABI, {name}"),
                    &log,
                    cargo()
                        .envs(env.iter().map(|(k, v)| (k, v)))
                        .env("ALLOCMUX_C_ABI_TESTS", "1")
                        .args(["test", "-p", "allocmux-preload", "--no-default-features"])
                        .args(["--features", features]),
                )
                .map_err(io)?,
            );
        }
    }
    // The loom model of the slab's cross-thread free and hand-over protocol, in
    // its own target directory so the `--cfg loom` build does not evict the others.
    let loom_target = workspace_root().join("target/loom");
    results.push(
        step(
            "slab loom model",
            "loom",
            cargo()
                .env("RUSTFLAGS", "--cfg loom")
                .args(["test", "--release", "-p", "allocmux-slab", "--lib"])
                .arg("--target-dir")
                .arg(&loom_target)
                .arg("loom_tests"),
        )
        .map_err(io)?,
    );
    if let Some(r) = miri_step().map_err(io)? {
        results.push(r);
    }
    results.push(
        step(
            "harness, cargo allocmux, xtask",
            "harness",
            cargo().args([
                "test",
                "-p",
                "allocmux-harness",
                "-p",
                "cargo-allocmux",
                "-p",
                "xtask",
            ]),
        )
        .map_err(io)?,
    );
    results.push(exclusive_features_step().map_err(io)?);

    let passed: u64 = results.iter().map(|r| r.passed).sum();
    let failed: u64 = results.iter().map(|r| r.failed).sum();
    let failed_steps: Vec<&str> = results
        .iter()
        .filter(|r| !r.ok)
        .map(|r| r.name.as_str())
        .collect();
    if failed_steps.is_empty() {
        println!("all {} steps ok", results.len());
    } else {
        println!("failed steps: {}", failed_steps.join(", "));
    }
    println!("total: {passed} passed, {failed} failed");
    Ok(if failed_steps.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::count_tests;

    #[test]
    fn counts_cargo_test_summaries() {
        let out = "test result: ok. 8 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 2.04s\n\
                   noise\n   test result: FAILED. 3 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out\n";
        assert_eq!(count_tests(out), (11, 2));
    }
}
