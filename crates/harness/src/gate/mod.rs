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
pub mod export;
mod history;
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
    /// Gate only the cells of this method (`instructions`, `throughput`,
    /// `allocations` or `peak-rss`).
    #[arg(long, value_parser = parse_method)]
    method: Option<Method>,
    /// Test knob: the candidate's runner makes N extra small allocations per
    /// allocation (counted by the façade's stats layer), to show that the
    /// allocations method catches it.
    #[arg(long, value_name = "N")]
    plant_allocations: Option<u32>,
    /// Earlier gate.json results (a directory, searched recursively): a change
    /// is significant only beyond Q3 + 3 × IQR of the cell's past changes.
    #[arg(long, value_name = "DIR")]
    history: Option<PathBuf>,
    /// Also write the results for dashboards: `bencher` (Bencher Metric Format,
    /// gate.bmf.json) or `github-action-benchmark` (gate.gab-bigger.json,
    /// gate.gab-smaller.json). Repeat for both.
    #[arg(long, value_name = "FORMAT")]
    format: Vec<export::Format>,
}

fn parse_method(s: &str) -> Result<Method, String> {
    Method::from_name(s)
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
        crate::cmd::require_valgrind("the instructions method")?;
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
            stats: false,
        });
    }
    kinds.sort();
    kinds.dedup();
    let plant: Vec<&str> = if args.plant_slowdown.is_some() || args.plant_allocations.is_some() {
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
    if let Some(n) = args.plant_allocations {
        candidate
            .env
            .push(("ALLOCMUX_PLANTED_ALLOCS".into(), n.to_string()));
    }
    let history = args
        .history
        .as_deref()
        .map(history::History::load)
        .transpose()?;
    if let Some(h) = &history {
        for s in &h.skipped {
            eprintln!("[gate] history: skipped {s}");
        }
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
                    .map(|o| vec![o])
            }
            (Method::Throughput, Against::Base(base)) => {
                methods::throughput_paired(cell, &candidate, base, &config.throughput)
                    .map(|o| vec![o])
            }
            (Method::Throughput, Against::Stored(stored)) => {
                methods::throughput_stored(cell, &candidate, stored, &config.throughput)
                    .map(|o| vec![o])
            }
            (Method::Allocations, &against) => {
                methods::allocations(cell, &candidate, against, &config.allocations)
            }
            (Method::PeakRss, &against) => methods::peak_rss(
                cell,
                &candidate,
                against,
                &config.throughput,
                &config.peak_rss,
            )
            .map(|o| vec![o]),
        };
        for mut o in result.map_err(|e| format!("{}: {e}", cell.name))? {
            if let Some(h) = &history {
                h.judge(&mut o, &config.history);
            }
            eprintln!(
                "[gate]   {} {}: {:+.2} %",
                o.metric,
                o.verdict.word(),
                o.change * 100.0
            );
            outcomes.push(o);
        }
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
            match (args.plant_slowdown, args.plant_allocations) {
                (Some(_), _) => " with a planted slowdown",
                (None, Some(_)) => " with planted extra allocations",
                (None, None) => "",
            }
        ),
        method_note: format!(
            "instructions: callgrind totals, regression above +{:.1} %; throughput: {} interleaved pairs ({} for threaded cells), {:.0} % {} interval of the paired ratio, regression only when the whole interval lies below −{:.1} %{}; allocations: the façade's counts, regression above +{:.1} %; peak RSS: interleaved pairs, regression when the whole interval lies above +{:.1} %{}.",
            i.threshold * 100.0,
            t.pairs,
            t.threaded_pairs.max(t.pairs),
            t.confidence * 100.0,
            match t.interval {
                config::Interval::HacT => "Newey–West t",
                config::Interval::Bootstrap => "bootstrap",
            },
            t.threshold * 100.0,
            if t.confirm { ", confirmed by a second round" } else { "" },
            config.allocations.threshold * 100.0,
            config.peak_rss.threshold * 100.0,
            if history.is_some() { "; history: significant only beyond Q3 + 3 × IQR of past changes" } else { "" }
        ),
        cells: outcomes,
    };
    output::write_files(&report, &out_dir)?;
    for format in &args.format {
        let write = |name: &str, v: &serde_json::Value| {
            let path = out_dir.join(name);
            std::fs::write(&path, serde_json::to_string_pretty(v).unwrap_or_default())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!("[gate] wrote {}", path.display());
            Ok::<(), String>(())
        };
        match format {
            export::Format::Bencher => write("gate.bmf.json", &export::bencher(&report))?,
            export::Format::GithubActionBenchmark => {
                let (bigger, smaller) = export::github_action_benchmark(&report);
                write("gate.gab-bigger.json", &bigger)?;
                write("gate.gab-smaller.json", &smaller)?;
            }
        }
    }
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
