//! The workload matrix (`cargo xtask bench-matrix`, `cargo allocmux matrix`):
//! builds the runner once per backend, runs every workload × backend cell in a
//! fresh process, repeated in shuffled rounds (a row's backends back to back),
//! and writes results as each cell completes, then the report.

mod exec;
pub mod plan;
mod runners;

pub use exec::{backend_version, run_cell, RunSettings};
pub use runners::{
    build_runner, build_runner_in, build_variant, runner_path, variant_path, RunnerBuild, SourceAge,
};

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use allocmux::Backend;
use clap::Args;

use crate::args::RowSelection;
use crate::paths::{start_run, Paths};
use crate::progress::{announced_build, Progress};
use crate::results::{
    backend_infos, verify_checksums, workload_infos, MatrixResults, RunStatus, SCHEMA,
};
use crate::{machine, report};
use plan::Shard;

/// Options of `cargo xtask bench-matrix`.
#[derive(Args, Debug)]
pub struct MatrixArgs {
    /// Backends to compare (comma-separated; default: all). The system allocator is always
    /// added, since results are reported relative to it.
    #[arg(long, value_delimiter = ',')]
    backends: Option<Vec<Backend>>,
    #[command(flatten)]
    rows: RowSelection,
    /// Repetitions of each cell (default: 3 quick, 5 full).
    #[arg(long, value_parser = crate::args::positive_u32)]
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
    #[arg(long, value_parser = crate::args::positive_u64)]
    timeout: Option<u64>,
    /// Run only shard I of N (whole rows of the matrix), e.g. 1/2; join with `cargo xtask merge`.
    #[arg(long)]
    shard: Option<Shard>,
    /// Build the runners with the façade's counting layer and record its counters.
    #[arg(long)]
    stats: bool,
    /// Milliseconds between two samples of each run's resident memory.
    #[arg(long, default_value_t = 10, value_parser = crate::args::sample_ms)]
    sample_ms: u64,
    /// Reuse the runner binaries of the last build instead of building (a runner
    /// older than a source file is built again).
    #[arg(long)]
    no_build: bool,
}

/// Runs the matrix with the runner built from `paths.source`. Exit 0 if every
/// cell succeeded, 1 if any failed; `Err` (exit 2) on bad input.
pub fn run(args: &MatrixArgs, paths: &Paths) -> Result<ExitCode, String> {
    let workloads = plan::select_workloads(args.rows.workloads.as_deref())?;
    let mut backends = args
        .backends
        .clone()
        .unwrap_or_else(|| Backend::ALL.to_vec());
    if !backends.contains(&Backend::System) {
        backends.insert(0, Backend::System);
    }
    backends.sort();
    backends.dedup();
    let quick = !args.full;
    let reps = args.reps.unwrap_or(if quick { 3 } else { 5 });
    let timeout = args
        .timeout
        .map_or_else(|| RunSettings::default_timeout(quick), Duration::from_secs);
    let cells = plan::cells(
        &workloads,
        &backends,
        args.rows.threads.as_deref(),
        quick,
        args.shard,
    );
    if cells.is_empty() {
        return Err(format!(
            "shard {} of this selection holds no cells",
            args.shard.map(|s| s.to_string()).unwrap_or_default()
        ));
    }

    let (started, out) = start_run(args.out.as_deref(), &paths.results)?;
    let total_start = Instant::now();

    // 1. Build.
    let mut built: BTreeMap<Backend, Result<PathBuf, String>> = BTreeMap::new();
    let sources = args.no_build.then(|| SourceAge::of(&paths.source));
    for (i, &backend) in backends.iter().enumerate() {
        let existing = runners::runner_path(paths, backend);
        if sources.as_ref().is_some_and(|s| s.reusable(&existing)) {
            built.insert(backend, Ok(existing));
            continue;
        }
        let r = announced_build(
            i,
            backends.len(),
            &format!("runner with {backend}"),
            backend.name(),
            || runners::build_runner(paths, backend, args.stats, &out.join("logs")),
        );
        built.insert(backend, r);
    }
    let versions: BTreeMap<Backend, Option<String>> = built
        .iter()
        .map(|(&b, r)| (b, r.as_ref().ok().and_then(|p| backend_version(p))))
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
        program: None,
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
    let settings = RunSettings {
        quick,
        timeout,
        sample: Duration::from_millis(args.sample_ms),
        env: &[],
    };
    let progress = Progress::new(order.len() as u64);
    for &(index, rep) in &order {
        let cell = &cells[index];
        progress.start(&cell.label());
        let run = match &built[&cell.backend] {
            Ok(runner) => run_cell(runner, cell, rep, &settings),
            Err(_) => {
                let mut run = cell.new_run(rep);
                run.error = Some("the runner for this backend did not build".into());
                run
            }
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
    report::finish_run(&results, &out, &paths.results, total_start)
}
