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

mod checkout;
pub mod config;
mod measure;
mod output;
pub mod stats;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use allocmux::Backend;
use clap::Args;

use crate::cmd;
use crate::results::{MatrixResults, RunStatus};
use checkout::Side;
use config::{GateConfig, GatedCell, Method};
use measure::Probe;
use output::{CellOutcome, GateReport};
use stats::Verdict;

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

/// Which runner build a cell needs: its backend, and for slab instruction
/// cells the logical purge clock that makes instruction counts repeatable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RunnerKind {
    /// Backend of the build.
    pub backend: Backend,
    /// Built with `slab-logical-clock`.
    pub logical_clock: bool,
}

impl RunnerKind {
    /// The build `cell` runs on (with `backend` instead of the cell's own, for
    /// the system allocator measured beside it).
    pub fn of(cell: &GatedCell, backend: Backend) -> RunnerKind {
        RunnerKind {
            backend,
            logical_clock: cell.method == Method::Instructions && backend == Backend::Slab,
        }
    }

    /// A file-name part: `slab`, `slab-logical-clock`.
    fn name(self) -> String {
        if self.logical_clock {
            format!("{}-logical-clock", self.backend)
        } else {
            self.backend.name().to_owned()
        }
    }

    /// Runner features beyond the backend's own.
    fn features(self) -> &'static [&'static str] {
        if self.logical_clock {
            &["allocmux/slab-logical-clock"]
        } else {
            &[]
        }
    }
}

/// Everything a cell needs to run on one side.
struct SideBuild {
    dir: PathBuf,
    runners: BTreeMap<RunnerKind, PathBuf>,
    env: Vec<(String, String)>,
}

impl SideBuild {
    fn probe(&self, cell: &GatedCell, backend: Backend) -> Probe {
        if let Some(command) = &cell.command {
            let (program, args) = command
                .split_first()
                .expect("config checks commands are non-empty");
            let program = if program.contains('/') {
                self.dir.join(program)
            } else {
                PathBuf::from(program)
            };
            return Probe {
                program,
                args: args.to_vec(),
                dir: self.dir.clone(),
                env: self.env.clone(),
            };
        }
        let workload = cell.workload.expect("registry cell");
        let mut args = vec!["--workload".to_owned(), workload.name.to_owned()];
        if cell.method == Method::Throughput {
            args.push("--quick".into());
        }
        if let Some(t) = cell.threads {
            args.extend(["--threads".into(), t.to_string()]);
        }
        if let Some(i) = cell.iterations {
            args.extend(["--iterations".into(), i.to_string()]);
        }
        Probe {
            program: self.runners[&RunnerKind::of(cell, backend)].clone(),
            args,
            dir: self.dir.clone(),
            env: self.env.clone(),
        }
    }
}

fn build_side(
    src: &Path,
    side: Side,
    cells: &[GatedCell],
    kinds: &[RunnerKind],
    features: &[&str],
) -> Result<SideBuild, String> {
    let mut runners = BTreeMap::new();
    for &kind in kinds {
        eprintln!(
            "[gate] building the {} runner for {} …",
            side.name(),
            kind.name()
        );
        let mut all: Vec<&str> = features.to_vec();
        all.extend_from_slice(kind.features());
        runners.insert(
            kind,
            checkout::build_runner(src, side, kind.backend, &kind.name(), &all)?,
        );
    }
    let mut built_commands: Vec<&Vec<String>> = Vec::new();
    for cell in cells {
        if let Some(build) = &cell.build {
            if !built_commands.contains(&build) {
                eprintln!(
                    "[gate] building `{}` in the {} checkout …",
                    build.join(" "),
                    side.name()
                );
                checkout::build_command(src, build, side)?;
                built_commands.push(build);
            }
        }
    }
    Ok(SideBuild {
        dir: src.to_path_buf(),
        runners,
        env: Vec::new(),
    })
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn blank_outcome(cell: &GatedCell, metric: &str) -> CellOutcome {
    CellOutcome {
        cell: cell.name.clone(),
        workload: cell
            .workload
            .map_or_else(|| cell.name.clone(), |w| w.name.to_owned()),
        backend: cell.backend.name().to_owned(),
        threads: cell.threads,
        method: cell.method,
        metric: metric.to_owned(),
        base: 0.0,
        candidate: 0.0,
        change: 0.0,
        interval: None,
        verdict: Verdict::Unchanged,
        candidate_instructions: None,
        candidate_samples: Vec::new(),
        candidate_system_samples: Vec::new(),
        note: None,
    }
}

/// Paired, interleaved A/B samples: `pairs` runs of each, order alternating.
fn paired_samples(a: &Probe, b: &Probe, pairs: usize) -> Result<(Vec<f64>, Vec<f64>), String> {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for i in 0..pairs {
        if i % 2 == 0 {
            xs.push(measure::throughput(a)?);
            ys.push(measure::throughput(b)?);
        } else {
            ys.push(measure::throughput(b)?);
            xs.push(measure::throughput(a)?);
        }
    }
    Ok((xs, ys))
}

/// Where the stored baseline's number for a cell comes from.
enum Baseline {
    Matrix(MatrixResults),
    Gate(GateReport),
}

impl Baseline {
    fn load(path: &Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--baseline {}: cannot read it: {e}", path.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("--baseline {}: not valid JSON ({e})", path.display()))?;
        if value.get("runs").is_some() {
            MatrixResults::load(path)
                .map(Baseline::Matrix)
                .map_err(|e| format!("--baseline {e}"))
        } else if value.get("cells").is_some() {
            serde_json::from_value(value)
                .map(Baseline::Gate)
                .map_err(|e| format!("--baseline {}: not a valid gate.json ({e})", path.display()))
        } else {
            Err(format!(
                "--baseline {}: neither a bench-matrix results.json nor a gate.json",
                path.display()
            ))
        }
    }

    /// Backend throughput ÷ system throughput in the stored run.
    fn normalised(&self, cell: &GatedCell) -> Option<f64> {
        match self {
            Baseline::Matrix(m) => {
                let w = cell.workload?.name;
                let ops = |backend: &str| {
                    let v: Vec<f64> = m
                        .runs
                        .iter()
                        .filter(|r| {
                            r.status == RunStatus::Ok && r.workload == w && r.backend == backend
                        })
                        .filter(|r| cell.threads.is_none_or(|t| t == r.threads))
                        .filter_map(|r| r.record.as_ref().map(|rec| rec.ops_per_sec))
                        .collect();
                    (!v.is_empty()).then(|| median(&v))
                };
                Some(ops(cell.backend.name())? / ops("system")?)
            }
            Baseline::Gate(g) => {
                let c = g
                    .cells
                    .iter()
                    .find(|c| c.cell == cell.name && c.method == Method::Throughput)?;
                if c.candidate_system_samples.is_empty() {
                    return None;
                }
                Some(median(&c.candidate_samples) / median(&c.candidate_system_samples))
            }
        }
    }

    fn instructions(&self, cell: &GatedCell) -> Option<u64> {
        match self {
            Baseline::Gate(g) => {
                g.cells
                    .iter()
                    .find(|c| c.cell == cell.name && c.method == Method::Instructions)?
                    .candidate_instructions
            }
            Baseline::Matrix(_) => None,
        }
    }
}

/// Runs `cargo xtask bench-gate`: exit 0 pass, 1 regression, 2 usage or environment error.
pub fn run(args: &GateArgs) -> Result<ExitCode, String> {
    let config_path = if args.config.is_absolute() {
        args.config.clone()
    } else {
        cmd::workspace_root().join(&args.config)
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
        (None, Some(rev)) => Some(checkout::resolve(rev)?),
        (None, None) => Some(checkout::default_base()?),
    };
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| checkout::gate_dir().join("report"));

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
    let root = cmd::workspace_root();
    let mut candidate = build_side(&root, Side::Candidate, &cells, &kinds, &plant)?;
    if let Some(n) = args.plant_slowdown {
        candidate
            .env
            .push(("ALLOCMUX_PLANTED_SPINS".into(), n.to_string()));
    }
    let base = match &base_sha {
        Some(sha) => {
            let src = checkout::worktree(sha)?;
            // The base gets the planted-slowdown build too (with no spins), so the
            // two sides differ only by the knob, not by code layout.
            Some(build_side(&src, Side::Base, &cells, &kinds, &plant)?)
        }
        None => None,
    };

    let t = &config.throughput;
    let i = &config.instructions;
    let mut outcomes = Vec::new();
    for (n, cell) in cells.iter().enumerate() {
        eprintln!(
            "[gate] {}/{} {} ({}) …",
            n + 1,
            cells.len(),
            cell.name,
            cell.method.name()
        );
        let cand_probe = candidate.probe(cell, cell.backend);
        let result: Result<CellOutcome, String> = match (cell.method, &base, &baseline) {
            (Method::Instructions, _, _) => (|| {
                let mut o = blank_outcome(cell, "instructions");
                let only = cell.command.is_none().then_some(measure::COUNTED_FUNCTION);
                let c1 = measure::instructions(&cand_probe, only)?;
                let b1 = match (&base, &baseline) {
                    (Some(base), _) => {
                        measure::instructions(&base.probe(cell, cell.backend), only)?
                    }
                    (None, Some(bl)) => bl.instructions(cell).ok_or_else(|| {
                        format!(
                            "the baseline file has no instruction count for {}",
                            cell.name
                        )
                    })?,
                    (None, None) => unreachable!("a base or a baseline is always set"),
                };
                o.base = b1 as f64;
                o.candidate = c1 as f64;
                o.candidate_instructions = Some(c1);
                o.change = c1 as f64 / b1 as f64 - 1.0;
                o.verdict = stats::instructions_verdict(c1 as f64 / b1 as f64, i.threshold);
                Ok(o)
            })(),
            (Method::Throughput, Some(base), _) => (|| {
                let mut o = blank_outcome(cell, "ops/s");
                let base_probe = base.probe(cell, cell.backend);
                let mut round = 0;
                loop {
                    let (b, c) = paired_samples(&base_probe, &cand_probe, t.pairs)?;
                    let ratios: Vec<f64> = c.iter().zip(&b).map(|(c, b)| c / b).collect();
                    let est = stats::bootstrap(&ratios, t.confidence, t.resamples, 0x6A7E + round);
                    o.base = median(&b);
                    o.candidate = median(&c);
                    o.candidate_samples = c;
                    o.change = est.ratio - 1.0;
                    o.interval = Some((est.low, est.high));
                    o.verdict = stats::throughput_verdict(&est, t.threshold);
                    if o.verdict == Verdict::Regression && t.confirm && round == 0 {
                        round += 1;
                        eprintln!("[gate]   looks like a regression ({:+.1} %); measuring again to confirm …", o.change * 100.0);
                        continue;
                    }
                    if round > 0 {
                        o.note = Some(if o.verdict == Verdict::Regression {
                            "regression confirmed by a second round of pairs".into()
                        } else {
                            "a first round of pairs suggested a regression; the confirmation round did not".into()
                        });
                    }
                    return Ok(o);
                }
            })(),
            (Method::Throughput, None, Some(bl)) => (|| {
                let mut o = blank_outcome(cell, "ops/s ÷ system");
                let stored = bl.normalised(cell).ok_or_else(|| {
                    format!(
                        "the baseline file has no {} and system results for {}",
                        cell.backend, cell.name
                    )
                })?;
                let sys_probe = candidate.probe(cell, Backend::System);
                let (sys, c) = paired_samples(&sys_probe, &cand_probe, t.pairs)?;
                let ratios: Vec<f64> = c.iter().zip(&sys).map(|(c, s)| c / s / stored).collect();
                let est = stats::bootstrap(&ratios, t.confidence, t.resamples, 0x6A7E);
                o.base = stored;
                o.candidate = median(&c) / median(&sys);
                o.candidate_samples = c;
                o.candidate_system_samples = sys;
                o.change = est.ratio - 1.0;
                o.interval = Some((est.low, est.high));
                o.verdict = stats::throughput_verdict(&est, t.threshold);
                Ok(o)
            })(),
            (Method::Throughput, None, None) => unreachable!("a base or a baseline is always set"),
        };
        match result {
            Ok(o) => {
                eprintln!("[gate]   {} {:+.2} %", o.verdict.word(), o.change * 100.0);
                outcomes.push(o);
            }
            Err(e) => return Err(format!("{}: {e}", cell.name)),
        }
    }

    let head = std::process::Command::new("git")
        .current_dir(&root)
        .args(["describe", "--always", "--dirty=(modified)"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let report = GateReport {
        base: match (&base_sha, &args.baseline) {
            (Some(sha), _) => format!("rev {}", &sha[..sha.len().min(12)]),
            (None, Some(file)) => format!("baseline {}", file.display()),
            (None, None) => String::new(),
        },
        candidate: format!("work tree {head}{}", if args.plant_slowdown.is_some() { " with a planted slowdown" } else { "" }),
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
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let text = output::render_text(&report);
    let markdown = output::render_markdown(&report);
    print!("{text}");
    let write = |name: &str, body: &str| {
        std::fs::write(out_dir.join(name), body)
            .map_err(|e| format!("cannot write {}: {e}", out_dir.join(name).display()))
    };
    write("gate.txt", &text)?;
    write("gate.md", &markdown)?;
    write(
        "gate.json",
        &serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?,
    )?;
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(summary)
        {
            let _ = f.write_all(markdown.as_bytes());
        }
    }
    eprintln!("[gate] wrote {}/gate.{{txt,md,json}}", out_dir.display());
    Ok(if report.regressed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::Baseline;

    fn load_text(name: &str, text: &str) -> Result<(), String> {
        let path =
            std::env::temp_dir().join(format!("allocmux-gate-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        let r = Baseline::load(&path).map(|_| ());
        let _ = std::fs::remove_file(&path);
        r
    }

    #[test]
    fn broken_baselines_name_the_file_and_the_problem() {
        let e = load_text("truncated.json", "{\"runs\": [").unwrap_err();
        assert!(
            e.contains("truncated.json") && e.contains("not valid JSON"),
            "{e}"
        );
        let e = load_text("other.json", "{\"foo\": 1}").unwrap_err();
        assert!(
            e.contains("neither a bench-matrix results.json nor a gate.json"),
            "{e}"
        );
        let e = load_text("badgate.json", "{\"cells\": 3}").unwrap_err();
        assert!(
            e.contains("badgate.json") && e.contains("not a valid gate.json"),
            "{e}"
        );
        let e = Baseline::load(std::path::Path::new("/nonexistent/baseline.json"))
            .err()
            .unwrap();
        assert!(
            e.contains("/nonexistent/baseline.json") && e.contains("cannot read"),
            "{e}"
        );
        assert!(!e.contains('\n'), "one line: {e}");
    }

    #[test]
    fn a_missing_revision_is_named() {
        let e = super::checkout::resolve("no-such-revision-anywhere").unwrap_err();
        assert_eq!(
            e,
            "--base `no-such-revision-anywhere`: no such revision in this repository"
        );
    }
}
