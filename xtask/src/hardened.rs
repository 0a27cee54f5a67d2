//! `cargo xtask hardened-cost`: what the slab's hardened mode costs, row by row
//! of the matrix.
//!
//! Builds the matrix's plain slab runner and the same tree with
//! `allocmux/slab-hardened` (each runner's `--backend-info` must say which it
//! is), then runs every chosen row (workload × threads) with both builds in
//! interleaved pairs: each round is a fresh shuffle of the rows, and a row's
//! pair runs plain first in one round and hardened first in the next, so the
//! drift of a shared machine falls on both builds alike. A row's figure is the
//! median of its rounds' hardened ÷ plain throughput ratios, with their
//! min–max; the summary is the geometric mean of the rows' medians (issue
//! 14's "within 5 % of plain on the full matrix" is this figure with `--full
//! --threads 1,2,4,8`). Runs have no idle phase (`ALLOCMUX_IDLE_MS=none`):
//! only throughput is compared. A round whose plain or hardened run failed
//! leaves that row's pair out; the failure is reported.
//!
//! Writes `target/hardened-cost/<time>/runs.jsonl` (a line per run, as runs
//! complete) and `summary.md` (the machine and the table), and prints the
//! table. Exit 1 when a run failed or the cost is over `--max-cost`, 0
//! otherwise, 2 on bad input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use allocmux::Backend;
use allocmux_harness::cargo_build::{self, BuildRequest, TargetKind};
use allocmux_harness::matrix::{backend_version, build_runner, plan, run_cell};
use allocmux_harness::numbers::{geometric_mean, median, Spread};
use allocmux_harness::paths::{link_latest, timestamp_dir_name};
use allocmux_harness::progress::{announced_build, Progress};
use allocmux_harness::results::{Machine, RunStatus};
use allocmux_harness::{args as harness_args, machine, Paths};
use clap::Args;

/// The façade feature of the hardened build.
const HARDENED_FEATURE: &str = "allocmux/slab-hardened";

/// Options of `cargo xtask hardened-cost`.
#[derive(Args, Debug)]
pub struct HardenedArgs {
    /// Workloads: names or pattern classes, comma-separated (default: every one the matrix runs).
    #[arg(long, value_delimiter = ',')]
    workloads: Option<Vec<String>>,
    /// Thread counts for the multi-threaded workloads, e.g. 1,2,4,8 (default: the workload's own).
    #[arg(long, value_delimiter = ',')]
    threads: Option<Vec<usize>>,
    /// Rounds: each runs every row once with each build.
    #[arg(long, default_value_t = 5, value_parser = harness_args::positive_u32)]
    rounds: u32,
    /// The workloads' full parameters (default: the quick ones, about 0.1 s per run, which
    /// are too short for a claim).
    #[arg(long)]
    full: bool,
    /// Exit 1 when the geometric-mean cost is above this many percent (e.g. 5).
    #[arg(long, value_parser = max_cost)]
    max_cost: Option<f64>,
    /// Directory for the results (default: target/hardened-cost/<timestamp>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Seconds before a run is killed and recorded as failed (default: 60 quick, 300 full).
    #[arg(long, value_parser = harness_args::positive_u64)]
    timeout: Option<u64>,
    /// Reuse both runners of the last build instead of building.
    #[arg(long)]
    no_build: bool,
}

/// `--max-cost`: a percentage above 0 and below 100.
fn max_cost(s: &str) -> Result<f64, String> {
    let t: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a percentage; give a number such as 5"))?;
    if !t.is_finite() || t <= 0.0 || t >= 100.0 {
        Err(format!(
            "`{s}` is not a cost in percent: give a number above 0 and below 100, such as 5"
        ))
    } else {
        Ok(t)
    }
}

/// The two builds compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Build {
    /// The slab as the matrix builds it.
    Plain,
    /// The same tree with the hardened mode.
    Hardened,
}

impl Build {
    /// The name in results and messages.
    fn name(self) -> &'static str {
        match self {
            Build::Plain => "plain",
            Build::Hardened => "hardened",
        }
    }

    /// Index into a pair of results.
    fn index(self) -> usize {
        self as usize
    }
}

/// The order of a row's pair in a round: plain first when `row + round` is even,
/// so each row alternates from round to round.
fn pair_order(row: usize, round: u32) -> [Build; 2] {
    if (row + round as usize) % 2 == 0 {
        [Build::Plain, Build::Hardened]
    } else {
        [Build::Hardened, Build::Plain]
    }
}

/// One row's figures.
#[derive(Debug, Clone, PartialEq)]
struct RowSummary {
    /// `workload` or `workload ×threads`.
    label: String,
    /// Median throughput of the plain build's successful runs (operations/s).
    plain: Option<f64>,
    /// Median throughput of the hardened build's successful runs.
    hardened: Option<f64>,
    /// Hardened ÷ plain over the rounds where both runs succeeded.
    ratio: Option<Spread>,
    /// Rounds where both runs succeeded.
    pairs: usize,
}

/// Each row's summary from its throughputs, `ops[row][round][build]` (`None`
/// for a failed run), and the geometric mean of the rows' median ratios (rows
/// without a complete pair are left out).
fn summarise(labels: &[String], ops: &[Vec<[Option<f64>; 2]>]) -> (Vec<RowSummary>, Option<f64>) {
    let rows: Vec<RowSummary> = labels
        .iter()
        .zip(ops)
        .map(|(label, rounds)| {
            let of =
                |b: Build| -> Vec<f64> { rounds.iter().filter_map(|r| r[b.index()]).collect() };
            let ratios: Vec<f64> = rounds
                .iter()
                .filter_map(|r| Some(r[Build::Hardened.index()]? / r[Build::Plain.index()]?))
                .collect();
            RowSummary {
                label: label.clone(),
                plain: median(&of(Build::Plain)),
                hardened: median(&of(Build::Hardened)),
                ratio: Spread::of(&ratios),
                pairs: ratios.len(),
            }
        })
        .collect();
    let medians: Vec<f64> = rows.iter().filter_map(|r| Some(r.ratio?.median)).collect();
    (rows, geometric_mean(&medians))
}

/// Operations per second with a unit prefix (`108.3 M`, `56.2 k`), or `–`.
fn ops_text(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(x) if x >= 1e6 => format!("{:.1} M", x / 1e6),
        Some(x) if x >= 1e3 => format!("{:.1} k", x / 1e3),
        Some(x) => format!("{x:.0}"),
    }
}

/// The Markdown summary: what was measured, on what, and the table.
fn render(
    rows: &[RowSummary],
    geomean: Option<f64>,
    machine: &Machine,
    mode: &str,
    rounds: u32,
) -> String {
    let mut s = format!(
        "# Hardened ÷ plain slab throughput\n\n{} rows, {rounds} interleaved round{}, {mode} \
         parameters, no idle phase. Machine: {} ({} cores), {}, {}.\n\n\
         | row | plain ops/s | hardened ops/s | hardened ÷ plain | min–max | pairs |\n\
         |---|---:|---:|---:|---|---:|\n",
        rows.len(),
        if rounds == 1 { "" } else { "s" },
        machine.cpu_model,
        machine.cores,
        machine.kernel,
        machine.rustc,
    );
    for r in rows {
        let (ratio, spread) = match r.ratio {
            Some(x) => (
                format!("{:.3}", x.median),
                format!("{:.3}–{:.3}", x.min, x.max),
            ),
            None => ("failed".into(), "–".into()),
        };
        s.push_str(&format!(
            "| {} | {} | {} | {ratio} | {spread} | {} |\n",
            r.label,
            ops_text(r.plain),
            ops_text(r.hardened),
            r.pairs
        ));
    }
    match geomean {
        Some(g) => s.push_str(&format!(
            "\nGeometric mean of the rows' medians: **{g:.3}** (hardened costs {:.1} %).\n",
            (1.0 - g) * 100.0
        )),
        None => s.push_str("\nNo row has a complete pair: no geometric mean.\n"),
    }
    s
}

/// Builds (or, with `--no-build`, finds) both runners and checks that each
/// reports the build it is meant to be.
fn runners(args: &HardenedArgs, paths: &Paths, logs: &Path) -> Result<[PathBuf; 2], String> {
    let plain_path = allocmux_harness::matrix::runner_path(paths, Backend::Slab);
    let hardened_path = paths.runner_bin_dir().join("allocmux-runner-slab-hardened");
    if !(args.no_build && plain_path.exists()) {
        announced_build(0, 2, "runner with slab", "slab", || {
            build_runner(paths, Backend::Slab, false, logs)
        })?;
    }
    if !(args.no_build && hardened_path.exists()) {
        announced_build(1, 2, "runner with slab-hardened", "slab-hardened", || {
            let built = cargo_build::build(&BuildRequest {
                dir: &paths.source,
                package: Some("allocmux-runner"),
                target: TargetKind::Bin("allocmux-runner".into()),
                features: vec![HARDENED_FEATURE.into()],
                no_default_features: false,
                target_dir: &paths.target_dir,
                env: Vec::new(),
                log: logs.join("build-slab-hardened.log"),
                what: "the runner for slab-hardened".into(),
            })?;
            cargo_build::copy_out(&built.executable, &hardened_path)
        })?;
    }
    for (path, build) in [
        (&plain_path, Build::Plain),
        (&hardened_path, Build::Hardened),
    ] {
        let version = backend_version(path).unwrap_or_default();
        if version.contains("hardened") != (build == Build::Hardened) {
            return Err(format!(
                "{} reports slab version `{version}`, which is not the {} build; build again \
                 without --no-build",
                path.display(),
                build.name()
            ));
        }
    }
    Ok([plain_path, hardened_path])
}

/// Runs the comparison. Exit 0 when every run succeeded and the cost is within
/// `--max-cost`, 1 otherwise; `Err` (exit 2) on bad input or a failed build.
pub fn run(args: &HardenedArgs, paths: &Paths) -> Result<ExitCode, String> {
    let workloads = plan::select_workloads(args.workloads.as_deref())?;
    if args.threads.as_ref().is_some_and(|t| t.contains(&0)) {
        return Err("--threads: thread counts start at 1".into());
    }
    let quick = !args.full;
    let mode = if quick { "quick" } else { "full" };
    let timeout = Duration::from_secs(args.timeout.unwrap_or(if quick { 60 } else { 300 }));
    let rows = plan::cells(
        &workloads,
        &[Backend::Slab],
        args.threads.as_deref(),
        quick,
        None,
    );
    let results_dir = paths.target_dir.join("hardened-cost");
    let started = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| results_dir.join(timestamp_dir_name(&started)));
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let bins = runners(args, paths, &out.join("logs"))?;

    let runs_path = out.join("runs.jsonl");
    let mut runs_file = std::fs::File::create(&runs_path)
        .map_err(|e| format!("cannot create {}: {e}", runs_path.display()))?;
    let order = plan::shuffled_rounds(rows.len(), args.rounds, 0x4A4D);
    eprintln!(
        "running {} rows × {} round(s) × 2 builds ({mode} parameters) → {}",
        rows.len(),
        args.rounds,
        out.display()
    );
    if quick {
        eprintln!("quick parameters are too short for a claim; use --full for the figure");
    }
    let mut ops = vec![vec![[None, None]; args.rounds as usize]; rows.len()];
    let mut failures = 0usize;
    let progress = Progress::new(2 * order.len() as u64);
    for &(row, round) in &order {
        let cell = &rows[row];
        for build in pair_order(row, round) {
            progress.start(&format!("{} ({})", cell.label(), build.name()));
            let run = run_cell(
                &bins[build.index()],
                cell,
                round,
                quick,
                timeout,
                Duration::from_millis(10),
                &[("ALLOCMUX_IDLE_MS", "none")],
            );
            let value = run.record.as_ref().map(|r| r.ops_per_sec);
            if run.status == RunStatus::Ok {
                ops[row][round as usize][build.index()] = value;
            } else {
                failures += 1;
                progress.note(&format!(
                    "{} ({}) round {round}: {:?}: {}",
                    cell.label(),
                    build.name(),
                    run.status,
                    run.error.as_deref().unwrap_or("")
                ));
            }
            let line = serde_json::json!({
                "workload": cell.workload.name,
                "threads": cell.threads,
                "round": round,
                "build": build.name(),
                "status": format!("{:?}", run.status),
                "ops_per_sec": value,
                "error": run.error,
            });
            writeln!(runs_file, "{line}")
                .map_err(|e| format!("cannot write {}: {e}", runs_path.display()))?;
            progress.done();
        }
    }
    progress.finish();

    let labels: Vec<String> = rows
        .iter()
        .map(|c| {
            if c.workload.multithreaded {
                format!("{} ×{}", c.workload.name, c.threads)
            } else {
                c.workload.name.to_owned()
            }
        })
        .collect();
    let (summary, geomean) = summarise(&labels, &ops);
    let text = render(&summary, geomean, &machine::describe(), mode, args.rounds);
    let summary_path = out.join("summary.md");
    std::fs::write(&summary_path, &text)
        .map_err(|e| format!("cannot write {}: {e}", summary_path.display()))?;
    link_latest(&results_dir, &out);
    println!("{text}");
    eprintln!(
        "wrote {} and {}",
        runs_path.display(),
        summary_path.display()
    );

    let mut ok = failures == 0;
    if failures > 0 {
        eprintln!("{failures} run(s) failed (see above and runs.jsonl)");
    }
    if let (Some(limit), Some(g)) = (args.max_cost, geomean) {
        let cost = (1.0 - g) * 100.0;
        if cost > limit {
            eprintln!("hardened mode costs {cost:.1} %, over --max-cost {limit} %");
            ok = false;
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    use super::{max_cost, pair_order, render, run, summarise, Build, HardenedArgs};
    use allocmux_harness::results::Machine;
    use allocmux_harness::Paths;

    /// A stand-in runner in `bin`: answers `--backend-info` with `version`, crashes on
    /// `crash_on`, and otherwise prints a record of `ops` operations/s (only when run
    /// without the idle phase, as the command must run it).
    fn fake_runner(bin: &Path, name: &str, version: &str, ops: u32, crash_on: &str) {
        let record = format!(
            r#"{{"workload":"w","backend":"slab","params":{{"threads":1,"iterations":1,"min_size":16,"max_size":64,"seed":1}},"operations":10,"seconds":0.5,"ops_per_sec":{ops}.0,"checksum":7,"peak_rss_bytes":4096,"stats":null}}"#
        );
        let script = format!(
            "#!/bin/sh\nif [ \"$1\" = --backend-info ]; then echo '{{\"backend\":\"slab\",\"version\":\"{version}\"}}'; exit 0; fi\n\
             [ \"$2\" = {crash_on} ] && kill -ABRT $$\n[ \"$ALLOCMUX_IDLE_MS\" = none ] || exit 9\necho '{record}'\n"
        );
        let path = bin.join(name);
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Paths in `dir`, with both fake runners in place; the hardened one reports
    /// `hardened_version`.
    fn setup(dir: &Path, hardened_version: &str) -> Paths {
        let paths = Paths {
            source: dir.to_path_buf(),
            target_dir: dir.join("target"),
            results: dir.join("target/bench-matrix"),
        };
        let bin = paths.runner_bin_dir();
        std::fs::create_dir_all(&bin).unwrap();
        fake_runner(&bin, "allocmux-runner-slab", "0.1.0", 200, "none");
        fake_runner(
            &bin,
            "allocmux-runner-slab-hardened",
            hardened_version,
            150,
            "larson",
        );
        paths
    }

    fn args(out: &Path) -> HardenedArgs {
        HardenedArgs {
            workloads: Some(vec!["glibc-simple".into(), "larson".into()]),
            threads: None,
            rounds: 2,
            full: false,
            max_cost: None,
            out: Some(out.to_path_buf()),
            timeout: Some(30),
            no_build: true,
        }
    }

    #[test]
    fn a_crashing_run_is_recorded_and_the_rest_still_runs() {
        let dir = tempfile::tempdir().unwrap();
        let paths = setup(dir.path(), "0.1.0 hardened");
        let out = dir.path().join("out");
        let code = run(&args(&out), &paths).unwrap();
        assert_eq!(
            format!("{code:?}"),
            format!("{:?}", std::process::ExitCode::from(1))
        );
        let runs = std::fs::read_to_string(out.join("runs.jsonl")).unwrap();
        assert_eq!(runs.lines().count(), 8, "{runs}");
        assert_eq!(runs.matches("SIGABRT").count(), 2, "{runs}");
        let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
        assert!(
            summary.contains("| glibc-simple | 200 | 150 | 0.750 | 0.750–0.750 | 2 |"),
            "{summary}"
        );
        assert!(summary.contains("| larson ×"), "{summary}");
        assert!(summary.contains("| failed | – | 0 |"), "{summary}");
        assert!(summary.contains("**0.750**"), "{summary}");
    }

    #[test]
    fn a_runner_that_is_not_the_hardened_build_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let paths = setup(dir.path(), "0.1.0");
        let e = run(&args(&dir.path().join("out")), &paths).unwrap_err();
        assert!(e.contains("not the hardened build"), "{e}");
    }

    #[test]
    fn each_row_alternates_which_build_runs_first() {
        for row in 0..4 {
            let firsts: Vec<Build> = (0..4).map(|round| pair_order(row, round)[0]).collect();
            assert_ne!(firsts[0], firsts[1]);
            assert_eq!(firsts[0], firsts[2]);
            assert_ne!(firsts[2], firsts[3]);
        }
        assert_ne!(pair_order(0, 0)[0], pair_order(1, 0)[0]);
    }

    #[test]
    fn ratios_pair_runs_of_one_round_and_skip_failed_ones() {
        let labels = vec!["a".to_owned(), "b ×2".to_owned(), "c".to_owned()];
        let ops = vec![
            // a: ratios 0.9, 0.8 and a round whose hardened run failed.
            vec![
                [Some(100e6), Some(90e6)],
                [Some(50e6), Some(40e6)],
                [Some(80e6), None],
            ],
            // b: one round, ratio 0.5.
            vec![[Some(10e3), Some(5e3)]],
            // c: never a complete pair.
            vec![[None, Some(1.0)], [Some(2.0), None]],
        ];
        let (rows, geomean) = summarise(&labels, &ops);
        assert_eq!(rows[0].pairs, 2);
        let a = rows[0].ratio.unwrap();
        assert!(
            (a.median - 0.85).abs() < 1e-12 && a.min == 0.8 && a.max == 0.9,
            "{a:?}"
        );
        assert_eq!(rows[0].plain, Some(80e6));
        assert_eq!(rows[0].hardened, Some(65e6));
        assert_eq!(rows[1].ratio.unwrap().median, 0.5);
        assert_eq!((rows[2].ratio, rows[2].pairs), (None, 0));
        // The geometric mean of 0.85 and 0.5 (c has none).
        let g = geomean.unwrap();
        assert!((g - (0.85f64 * 0.5).sqrt()).abs() < 1e-12, "{g}");
        let text = render(&rows, geomean, &Machine::default(), "full", 3);
        assert!(
            text.contains("| a | 80.0 M | 65.0 M | 0.850 | 0.800–0.900 | 2 |"),
            "{text}"
        );
        assert!(
            text.contains("| b ×2 | 10.0 k | 5.0 k | 0.500 | 0.500–0.500 | 1 |"),
            "{text}"
        );
        assert!(text.contains("| c | 2 | 1 | failed | – | 0 |"), "{text}");
        assert!(text.contains("**0.652**"), "{text}");
    }

    #[test]
    fn a_nonsensical_max_cost_is_refused() {
        assert_eq!(max_cost("5"), Ok(5.0));
        assert_eq!(max_cost(" 2.5 "), Ok(2.5));
        for bad in ["0", "-1", "100", "nan", "inf", "five"] {
            assert!(max_cost(bad).is_err(), "{bad}");
        }
    }
}
