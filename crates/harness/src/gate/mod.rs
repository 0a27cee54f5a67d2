//! `cargo xtask bench-gate`: fails a change whose allocation performance
//! regressed, with a method that a noisy shared CI machine can trust.
//!
//! Two methods, chosen per cell in `ci/gate.toml`:
//! - **instructions**: the cell runs once per side under callgrind; counts are
//!   deterministic for a given binary and input, so a tight threshold (1 %)
//!   works anywhere. Single-threaded cells only.
//! - **throughput**: base and candidate run natively in interleaved pairs
//!   (A B, B A, …) in this one job; the verdict uses a bootstrap confidence
//!   interval of the paired ratios' geometric mean and is a regression only
//!   when the whole interval lies below `1 − threshold`; a failing cell is
//!   measured once more and must fail again.
//!
//! With `--baseline FILE` instead of `--base`, the candidate is compared
//! with a stored result (a `bench-matrix` results.json or an earlier
//! gate.json), each normalised by the system allocator measured in its own run.

mod baseline;
mod checkout;
pub mod config;
mod measure;
mod methods;
mod output;
mod side;
pub mod stats;

use std::path::PathBuf;
use std::process::ExitCode;

use allocmux::Backend;
use clap::Args;

use crate::paths::Paths;
use baseline::Baseline;
use checkout::Side;
use config::{GateConfig, Method};
use methods::Against;
use output::GateReport;
use side::{build_side, RunnerKind};

/// Options of `cargo xtask bench-gate`.
#[derive(Args, Debug)]
pub struct GateArgs {
    /// Revision to compare against (default: the merge base of HEAD with main).
    #[arg(long, conflicts_with = "baseline")]
    base: Option<String>,
    /// Compare against a stored results file (bench-matrix results.json or gate.json) instead of building a base.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// The gate configuration.
    #[arg(long, default_value = "ci/gate.toml")]
    config: PathBuf,
    /// Where to write gate.txt, gate.md and gate.json (default: target/gate/report).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Test knob: build the candidate with the runner's planted slowdown,
    /// spinning N times per allocation, to show that the gate catches it.
    #[arg(long, value_name = "N")]
    plant_slowdown: Option<u32>,
    /// Gate only the cells of this method (`instructions` or `throughput`).
    #[arg(long, value_parser = parse_method)]
    method: Option<Method>,
}

fn parse_method(s: &str) -> Result<Method, String> {
    match s {
        "instructions" => Ok(Method::Instructions),
        "throughput" => Ok(Method::Throughput),
        _ => Err(format!(
            "unknown method `{s}`; valid: instructions, throughput"
        )),
    }
}

/// Runs `cargo xtask bench-gate` on the repository at `paths.source`: exit 0
/// pass, 1 regression; `Err` (exit 2) on a usage or environment error.
pub fn run(args: &GateArgs, paths: &Paths) -> Result<ExitCode, String> {
    let root = &paths.source;
    let config_path = if args.config.is_absolute() {
        args.config.clone()
    } else {
        root.join(&args.config)
    };
    let (config, mut cells) = GateConfig::load(&config_path)?;
    if let Some(m) = args.method {
        cells.retain(|c| c.method == m);
        if cells.is_empty() {
            return Err(format!(
                "{} has no {} cells",
                config_path.display(),
                m.name()
            ));
        }
    }
    if cells.iter().any(|c| c.method == Method::Instructions) {
        measure::require_valgrind()?;
    }
    let baseline = args.baseline.as_deref().map(Baseline::load).transpose()?;
    let base_sha = match (&baseline, &args.base) {
        (Some(_), _) => None,
        (None, Some(rev)) => Some(checkout::resolve(root, rev)?),
        (None, None) => Some(checkout::default_base(root)?),
    };
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| paths.gate_dir().join("report"));

    let mut kinds: Vec<RunnerKind> = cells
        .iter()
        .filter(|c| c.command.is_none())
        .map(|c| RunnerKind::of(c, c.backend))
        .collect();
    if baseline.is_some() {
        kinds.push(RunnerKind {
            backend: Backend::System,
            logical_clock: false,
        });
    }
    kinds.sort();
    kinds.dedup();
    let plant: Vec<&str> = if args.plant_slowdown.is_some() {
        vec!["planted-slowdown"]
    } else {
        Vec::new()
    };
    let mut candidate = build_side(paths, root, Side::Candidate, &cells, &kinds, &plant)?;
    if let Some(n) = args.plant_slowdown {
        candidate
            .env
            .push(("ALLOCMUX_PLANTED_SPINS".into(), n.to_string()));
    }
    let base = match &base_sha {
        Some(sha) => {
            let src = checkout::worktree(paths, sha)?;
            // The base gets the planted-slowdown build too (with no spins), so the
            // two sides differ only by the knob, not by code layout.
            Some(build_side(paths, &src, Side::Base, &cells, &kinds, &plant)?)
        }
        None => None,
    };
    let against = match (&base, &baseline) {
        (Some(base), _) => Against::Base(base),
        (None, Some(stored)) => Against::Stored(stored),
        (None, None) => return Err("nothing to compare with: no base and no baseline".into()),
    };

    let mut outcomes = Vec::new();
    for (n, cell) in cells.iter().enumerate() {
        eprintln!(
            "[gate] {}/{} {} ({}) …",
            n + 1,
            cells.len(),
            cell.name,
            cell.method.name()
        );
        let result = match (cell.method, &against) {
            (Method::Instructions, &against) => {
                methods::instructions(cell, &candidate, against, &config.instructions)
            }
            (Method::Throughput, Against::Base(base)) => {
                methods::throughput_paired(cell, &candidate, base, &config.throughput)
            }
            (Method::Throughput, Against::Stored(stored)) => {
                methods::throughput_stored(cell, &candidate, stored, &config.throughput)
            }
        };
        let o = result.map_err(|e| format!("{}: {e}", cell.name))?;
        eprintln!("[gate]   {} {:+.2} %", o.verdict.word(), o.change * 100.0);
        outcomes.push(o);
    }

    let (t, i) = (&config.throughput, &config.instructions);
    let report = GateReport {
        base: match (&base_sha, &args.baseline) {
            (Some(sha), _) => format!("rev {}", &sha[..sha.len().min(12)]),
            (None, Some(file)) => format!("baseline {}", file.display()),
            (None, None) => String::new(),
        },
        candidate: format!(
            "work tree {}{}",
            checkout::describe_head(root),
            if args.plant_slowdown.is_some() {
                " with a planted slowdown"
            } else {
                ""
            }
        ),
        method_note: format!(
            "instructions: callgrind totals, regression above +{:.1} %; throughput: {} interleaved pairs, {:.0} % bootstrap interval of the paired ratio, regression only when the whole interval lies below −{:.1} %{}.",
            i.threshold * 100.0,
            t.pairs,
            t.confidence * 100.0,
            t.threshold * 100.0,
            if t.confirm { ", confirmed by a second round" } else { "" }
        ),
        cells: outcomes,
    };
    output::write_files(&report, &out_dir)?;
    Ok(if report.regressed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_missing_revision_is_named() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let e = super::checkout::resolve(root, "no-such-revision-anywhere").unwrap_err();
        assert_eq!(
            e,
            "--base `no-such-revision-anywhere`: no such revision in this repository"
        );
    }
}
