//! `cargo xtask bench-micro`: runs the criterion micro-benchmarks once per
//! backend and adds their estimates to a matrix results file and its report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use allocmux::Backend;
use clap::Args;

use allocmux_harness::results::{MatrixResults, MicroResult};
use allocmux_harness::{cmd, report};

use crate::{cargo, workspace_root};

/// Options of `cargo xtask bench-micro`.
#[derive(Args, Debug)]
pub struct MicroArgs {
    /// Backends to benchmark (comma-separated; default: all).
    #[arg(long, value_delimiter = ',')]
    backends: Option<Vec<Backend>>,
    /// Matrix results directory whose report gains the micro-benchmarks
    /// (default: target/bench-matrix/latest).
    #[arg(long)]
    into: Option<PathBuf>,
    /// Seconds criterion measures each benchmark (default 2).
    #[arg(long, default_value_t = 2)]
    measurement_time: u64,
}

/// Reads every `new/estimates.json` criterion left under `dir`.
fn read_estimates(dir: &Path, backend: Backend) -> Vec<MicroResult> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() && p.file_name().is_some_and(|n| n != "report" && n != "base") {
                stack.push(p);
            } else if p.ends_with("new/estimates.json") {
                if let Some(r) = parse_estimate(dir, &p, backend) {
                    found.push(r);
                }
            }
        }
    }
    found.sort_by(|a, b| a.bench.cmp(&b.bench));
    found
}

fn parse_estimate(root: &Path, file: &Path, backend: Backend) -> Option<MicroResult> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file).ok()?).ok()?;
    let mean = v.get("mean")?;
    let ci = mean.get("confidence_interval")?;
    // target/criterion/<group>/<bench>/new/estimates.json → "<group>/<bench>"
    let id = file
        .parent()?
        .parent()?
        .strip_prefix(root)
        .ok()?
        .to_string_lossy()
        .into_owned();
    Some(MicroResult {
        backend: backend.name().to_owned(),
        bench: id,
        mean_ns: mean.get("point_estimate")?.as_f64()?,
        lower_ns: ci.get("lower_bound")?.as_f64()?,
        upper_ns: ci.get("upper_bound")?.as_f64()?,
    })
}

/// Runs `cargo xtask bench-micro`.
pub fn run(args: &MicroArgs) -> Result<ExitCode, String> {
    let into = args
        .into
        .clone()
        .unwrap_or_else(|| workspace_root().join("target/bench-matrix/latest"));
    let json = into.join("results.json");
    let mut results = MatrixResults::load(&json).map_err(|e| {
        format!(
            "{e}\n(run `cargo xtask bench-matrix` first, or name a results directory with --into)"
        )
    })?;
    let criterion_dir = workspace_root().join("target/criterion");
    let backends = args
        .backends
        .clone()
        .unwrap_or_else(|| Backend::ALL.to_vec());
    let mut failed = Vec::new();
    for backend in backends {
        let _ = std::fs::remove_dir_all(&criterion_dir);
        let mut c = cargo();
        c.args(["bench", "-p", "allocmux-benches", "--bench", "alloc"]);
        if let Some(f) = backend.feature() {
            c.args(["--features", &format!("allocmux/{f}")]);
        }
        let secs = args.measurement_time.to_string();
        c.args([
            "--",
            "--warm-up-time",
            "1",
            "--measurement-time",
            &secs,
            "--noplot",
        ]);
        eprintln!("[micro] {backend}: {}", cmd::display(&c));
        let log = into
            .join("logs")
            .join(format!("micro-{}.log", backend.name()));
        let out = cmd::run_logged(&mut c, &log).map_err(|e| e.to_string())?;
        if !out.success {
            eprintln!(
                "[micro] {backend} FAILED (log: {}):\n{}",
                log.display(),
                cmd::tail(&out.output, 20)
            );
            failed.push(backend);
            continue;
        }
        results.micro.retain(|m| m.backend != backend.name());
        results
            .micro
            .extend(read_estimates(&criterion_dir, backend));
    }
    results.save(&json)?;
    report::write_all(&results, &into)?;
    println!(
        "micro-benchmarks added to {}",
        into.join("report.md").display()
    );
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
