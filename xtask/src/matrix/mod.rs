//! `cargo xtask bench-matrix`: builds the runner once per backend, runs every
//! workload × backend cell in a fresh process, repeated in a shuffled,
//! interleaved order, and writes results as each cell completes, then the report.

mod build;
mod exec;
pub mod plan;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use allocmux::Backend;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::results::{BackendInfo, CellRun, MatrixResults, RunStatus, WorkloadInfo, SCHEMA};
use crate::{cmd, machine, report};
use plan::Shard;

/// Options of `cargo xtask bench-matrix`.
#[derive(Args, Debug)]
pub struct MatrixArgs {
    /// Backends to compare (comma-separated; default: all). The system allocator is always
    /// added, since results are reported relative to it.
    #[arg(long, value_delimiter = ',')]
    backends: Option<Vec<Backend>>,
    /// Workloads to run: names or pattern classes, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    workloads: Option<Vec<String>>,
    /// Thread counts for the multi-threaded workloads, e.g. 1,2,4,8 (default: the workload's own).
    #[arg(long, value_delimiter = ',')]
    threads: Option<Vec<usize>>,
    /// Repetitions of each cell (default: 3 quick, 5 full).
    #[arg(long)]
    reps: Option<u32>,
    /// Small parameters, about a tenth of a second per cell (the default).
    #[arg(long, conflicts_with = "full")]
    quick: bool,
    /// The workloads' full parameters, about a second or two per cell.
    #[arg(long)]
    full: bool,
    /// Directory for results and reports (default: target/bench-matrix/<timestamp>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Seconds before a cell is killed and recorded as a timeout (default: 60 quick, 300 full).
    #[arg(long)]
    timeout: Option<u64>,
    /// Run only shard I of N (whole rows of the matrix), e.g. 1/2; join with `cargo xtask merge`.
    #[arg(long)]
    shard: Option<Shard>,
    /// Build the runners with the façade's counting layer and record its counters.
    #[arg(long)]
    stats: bool,
    /// Reuse the runner binaries of the last build instead of building.
    #[arg(long)]
    no_build: bool,
}

/// `20261127-074500` for directory names.
fn timestamp_dir_name(rfc3339: &str) -> String {
    rfc3339
        .trim_end_matches('Z')
        .replace(['-', ':'], "")
        .replace('T', "-")
}

/// Runs the matrix. Exit 0 if every cell succeeded, 1 if any failed, 2 on bad input.
pub fn run(args: &MatrixArgs) -> Result<ExitCode, String> {
    let workloads = plan::select_workloads(args.workloads.as_deref())?;
    let mut backends = args
        .backends
        .clone()
        .unwrap_or_else(|| Backend::ALL.to_vec());
    if !backends.contains(&Backend::System) {
        backends.insert(0, Backend::System);
    }
    backends.sort();
    backends.dedup();
    if let Some(t) = &args.threads {
        if t.contains(&0) {
            return Err("--threads: thread counts start at 1".into());
        }
    }
    let quick = !args.full;
    let reps = args.reps.unwrap_or(if quick { 3 } else { 5 }).max(1);
    let timeout = Duration::from_secs(args.timeout.unwrap_or(if quick { 60 } else { 300 }));
    let cells = plan::cells(
        &workloads,
        &backends,
        args.threads.as_deref(),
        quick,
        args.shard,
    );
    if cells.is_empty() {
        return Err(format!(
            "shard {} of this selection holds no cells",
            args.shard.map(|s| s.to_string()).unwrap_or_default()
        ));
    }

    let started = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let out = args.out.clone().unwrap_or_else(|| {
        cmd::workspace_root()
            .join("target/bench-matrix")
            .join(timestamp_dir_name(&started))
    });
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let total_start = Instant::now();

    // 1. Build.
    let mut built: BTreeMap<Backend, Result<PathBuf, String>> = BTreeMap::new();
    for (i, &backend) in backends.iter().enumerate() {
        if args.no_build && build::runner_path(backend).exists() {
            built.insert(backend, Ok(build::runner_path(backend)));
            continue;
        }
        eprintln!(
            "[build {}/{}] runner with {backend} …",
            i + 1,
            backends.len()
        );
        let t = Instant::now();
        let r = build::build_runner(backend, args.stats, &out.join("logs"));
        match &r {
            Ok(_) => eprintln!(
                "[build {}/{}] {backend} done in {:.0} s",
                i + 1,
                backends.len(),
                t.elapsed().as_secs_f64()
            ),
            Err(e) => eprintln!(
                "[build {}/{}] {backend} FAILED, its cells will be recorded as failed:\n{e}",
                i + 1,
                backends.len()
            ),
        }
        built.insert(backend, r);
    }
    let versions: BTreeMap<Backend, Option<String>> = built
        .iter()
        .map(|(&b, r)| (b, r.as_ref().ok().and_then(|p| exec::backend_version(p))))
        .collect();

    // 2. Run, saving after every cell.
    let mut results = MatrixResults {
        schema: SCHEMA,
        started,
        mode: if quick { "quick" } else { "full" }.to_owned(),
        shard: args.shard.map(|s| s.to_string()),
        machine: machine::describe(),
        backends: backend_infos(&backends, |b| versions.get(&b).cloned().flatten()),
        workloads: workload_infos(&workloads),
        runs: Vec::new(),
        micro: Vec::new(),
    };
    let json_path = out.join("results.json");
    let order = plan::schedule(&cells, reps, 0xA110C);
    eprintln!(
        "running {} cells × {reps} repetitions ({} runs, {} mode) → {}",
        cells.len(),
        order.len(),
        results.mode,
        out.display()
    );
    let progress = Progress::new(order.len() as u64);
    for &(index, rep) in &order {
        let cell = &cells[index];
        progress.start(&cell.label());
        let run = match &built[&cell.backend] {
            Ok(runner) => exec::run_cell(runner, cell, rep, quick, timeout),
            Err(_) => CellRun {
                workload: cell.workload.name.to_owned(),
                backend: cell.backend.name().to_owned(),
                threads: cell.threads,
                rep,
                status: RunStatus::Failed,
                wall_seconds: 0.0,
                record: None,
                error: Some("the runner for this backend did not build".into()),
            },
        };
        if run.status != RunStatus::Ok {
            progress.note(&format!(
                "{} rep {rep}: {:?}: {}",
                cell.label(),
                run.status,
                run.error.as_deref().unwrap_or("")
            ));
        }
        results.runs.push(run);
        results.save(&json_path)?;
        progress.done();
    }
    progress.finish();

    // 3. Verify that every backend did the same work, then report.
    for problem in verify_checksums(&mut results.runs) {
        eprintln!("checksum mismatch: {problem}");
    }
    results.save(&json_path)?;
    let summary = report::write_all(&results, &out)?;
    println!("{}", report::render_terminal(&summary));
    let failed = results
        .runs
        .iter()
        .filter(|r| r.status != RunStatus::Ok)
        .count();
    println!(
        "{} runs in {:.0} s ({failed} failed). Results: {}",
        results.runs.len(),
        total_start.elapsed().as_secs_f64(),
        out.display()
    );
    for f in ["results.json", "results.csv", "report.md", "report.html"] {
        println!("  {}", out.join(f).display());
    }
    link_latest(&out);
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The results' description of `backends`, with versions from `version`.
pub fn backend_infos(
    backends: &[Backend],
    version: impl Fn(Backend) -> Option<String>,
) -> Vec<BackendInfo> {
    backends
        .iter()
        .map(|&b| BackendInfo {
            name: b.name().to_owned(),
            version: version(b),
            description: b.description().to_owned(),
        })
        .collect()
}

/// The results' description of `workloads`.
pub fn workload_infos(workloads: &[&'static allocmux_workloads::Workload]) -> Vec<WorkloadInfo> {
    workloads
        .iter()
        .map(|w| WorkloadInfo {
            name: w.name.to_owned(),
            description: w.description.to_owned(),
            class: w.class.name().to_owned(),
        })
        .collect()
}

/// Marks runs whose checksum differs from the reference of their row (the
/// system allocator's, or else the most common one) and says which.
pub fn verify_checksums(runs: &mut [CellRun]) -> Vec<String> {
    let mut by_row: BTreeMap<(String, usize), Vec<usize>> = BTreeMap::new();
    for (i, r) in runs.iter().enumerate() {
        if r.record.is_some() && matches!(r.status, RunStatus::Ok | RunStatus::ChecksumMismatch) {
            by_row
                .entry((r.workload.clone(), r.threads))
                .or_default()
                .push(i);
        }
    }
    let mut problems = Vec::new();
    for ((workload, threads), members) in by_row {
        let sums: Vec<u64> = members
            .iter()
            .map(|&i| runs[i].record.as_ref().map_or(0, |r| r.checksum))
            .collect();
        let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
        for &s in &sums {
            *counts.entry(s).or_default() += 1;
        }
        let reference = members
            .iter()
            .position(|&i| runs[i].backend == Backend::System.name())
            .map(|k| sums[k])
            .or_else(|| counts.iter().max_by_key(|(_, n)| **n).map(|(c, _)| *c));
        let Some(reference) = reference else { continue };
        for (&i, &got) in members.iter().zip(&sums) {
            if got != reference {
                let r = &mut runs[i];
                r.status = RunStatus::ChecksumMismatch;
                r.error = Some(format!(
                    "checksum {got:#x} differs from the reference {reference:#x} of this row"
                ));
                problems.push(format!(
                    "{workload} ×{threads} on {} rep {}: {got:#x} ≠ {reference:#x}",
                    r.backend, r.rep
                ));
            }
        }
    }
    problems
}

/// Points `target/bench-matrix/latest` at the newest results (best effort).
fn link_latest(out: &Path) {
    let latest = cmd::workspace_root().join("target/bench-matrix/latest");
    if out.parent() == latest.parent() {
        let _ = std::fs::remove_file(&latest);
        let _ = std::os::unix::fs::symlink(out.file_name().unwrap_or_default(), &latest);
    }
}

/// Progress display: an indicatif bar on a terminal, a line per tenth elsewhere.
struct Progress {
    bar: ProgressBar,
    total: u64,
    tty: bool,
}

impl Progress {
    fn new(total: u64) -> Progress {
        let tty = std::io::stderr().is_terminal();
        let bar = if tty {
            ProgressBar::new(total)
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30.cyan/blue} {pos}/{len} runs · {elapsed} · ETA {eta} · {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress { bar, total, tty }
    }

    fn start(&self, label: &str) {
        self.bar.set_message(label.to_owned());
    }

    fn note(&self, line: &str) {
        if self.tty {
            self.bar.println(line);
        } else {
            eprintln!("{line}");
        }
    }

    fn done(&self) {
        self.bar.inc(1);
        let pos = self.bar.position();
        if !self.tty && (pos * 10 / self.total != (pos - 1) * 10 / self.total || pos == self.total)
        {
            eprintln!(
                "{pos}/{} runs done ({:.0} s)",
                self.total,
                self.bar.elapsed().as_secs_f64()
            );
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
