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
//! The summary also gives a 95 % bootstrap interval of that figure that resamples
//! whole rounds, so a run can say whether it decides a question such as "within
//! 5 %" or not.
//!
//! `--with-mimalloc` adds mimalloc as the matrix builds it and the same tree with
//! the façade's `mimalloc-secure` to every round (four builds, order rotated per
//! round), so the summary also gives what mimalloc's secure mode costs and how the
//! hardened slab compares with it, measured side by side rather than quoted.
//!
//! Writes `target/hardened-cost/<time>/runs.jsonl` (a line per run, as runs
//! complete) and `summary.md` (the machine and the table), and prints the
//! table. `--from RUN` writes the summary of an earlier run again from its
//! `runs.jsonl` (printed, and into `--out DIR` when given). Exit 1 when a run
//! failed or the cost is over `--max-cost`, 0 otherwise, 2 on bad input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use allocmux::Backend;
use allocmux_harness::matrix::{plan, run_cell, RunSettings};
use allocmux_harness::paths::{link_latest, start_run};
use allocmux_harness::progress::Progress;
use allocmux_harness::results::RunStatus;
use allocmux_harness::{args as harness_args, machine, Paths};
use clap::Args;

mod builds;
mod runs;
mod summary;

use builds::{round_order, runners, Build, Runs};
use summary::{render, summarise, Ratio, RunInfo};

/// Seed of the summary's bootstrap (fixed: a summary written twice is the same).
const BOOTSTRAP_SEED: u64 = 0x4841_5244;

/// Options of `cargo xtask hardened-cost`.
#[derive(Args, Debug)]
pub struct HardenedArgs {
    #[command(flatten)]
    rows: harness_args::RowSelection,
    /// Rounds: each runs every row once with each build.
    #[arg(long, default_value_t = 5, value_parser = harness_args::positive_u32)]
    rounds: u32,
    /// The workloads' full parameters (default: the quick ones, about 0.1 s per run, which
    /// are too short for a claim).
    #[arg(long)]
    full: bool,
    /// Exit 1 when the hardened slab's geometric-mean cost is above this many percent (e.g. 5).
    #[arg(long, value_parser = max_cost)]
    max_cost: Option<f64>,
    /// Directory for the results (default: target/hardened-cost/<timestamp>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Seconds before a run is killed and recorded as failed (default: 60 quick, 300 full).
    #[arg(long, value_parser = harness_args::positive_u64)]
    timeout: Option<u64>,
    /// Reuse the runners of the last build instead of building (a runner older
    /// than a source file is built again).
    #[arg(long)]
    no_build: bool,
    /// Also measure mimalloc and its secure mode (`allocmux/mimalloc-secure`) in the
    /// same rounds: the summary adds secure ÷ plain mimalloc and hardened slab ÷
    /// mimalloc secure. Doubles the run's time.
    #[arg(long)]
    with_mimalloc: bool,
    /// Measure nothing: summarise an earlier run again from its `runs.jsonl` (the file,
    /// or the run's directory); printed, and written to `--out DIR` when given.
    #[arg(long, value_name = "RUN", conflicts_with_all = ["rounds", "full", "timeout", "no_build", "with_mimalloc", "workloads", "threads"])]
    from: Option<PathBuf>,
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

/// Runs the comparison. Exit 0 when every run succeeded and the cost is within
/// `--max-cost`, 1 otherwise; `Err` (exit 2) on bad input or a failed build.
pub fn run(args: &HardenedArgs, paths: &Paths) -> Result<ExitCode, String> {
    if let Some(from) = &args.from {
        return summarise_again(from, args);
    }
    let workloads = plan::select_workloads(args.rows.workloads.as_deref())?;
    let quick = !args.full;
    let mode = if quick { "quick" } else { "full" };
    let timeout = args
        .timeout
        .map_or_else(|| RunSettings::default_timeout(quick), Duration::from_secs);
    let rows = plan::cells(
        &workloads,
        &[Backend::Slab],
        args.rows.threads.as_deref(),
        quick,
        None,
    );
    let results_dir = paths.target_dir.join("hardened-cost");
    let (_, out) = start_run(args.out.as_deref(), &results_dir)?;
    let builds: &[Build] = if args.with_mimalloc {
        &Build::ALL
    } else {
        &Build::SLAB
    };
    let bins = runners(builds, args.no_build, paths, &out.join("logs"))?;

    let runs_path = out.join("runs.jsonl");
    let mut runs_file = std::fs::File::create(&runs_path)
        .map_err(|e| format!("cannot create {}: {e}", runs_path.display()))?;
    let order = plan::shuffled_rounds(rows.len(), args.rounds, 0x4A4D);
    eprintln!(
        "running {} rows × {} round(s) × {} builds ({mode} parameters) → {}",
        rows.len(),
        args.rounds,
        builds.len(),
        out.display()
    );
    if quick {
        eprintln!("quick parameters are too short for a claim; use --full for the figure");
    }
    let mut ops: Vec<Vec<Runs>> =
        vec![vec![[None; Build::COUNT]; args.rounds as usize]; rows.len()];
    let mut failures = 0usize;
    let settings = RunSettings {
        quick,
        timeout,
        sample: Duration::from_millis(10),
        env: &[("ALLOCMUX_IDLE_MS", "none")],
    };
    let progress = Progress::new((builds.len() * order.len()) as u64);
    for &(row, round) in &order {
        let cell = &rows[row];
        for build in round_order(builds, row, round) {
            progress.start(&format!("{} ({})", cell.label(), build.name()));
            let bin = bins[build.index()]
                .as_deref()
                .ok_or_else(|| format!("no runner for the {} build", build.name()))?;
            let run = run_cell(bin, cell, round, &settings);
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

    let labels: Vec<String> = rows.iter().map(plan::Cell::row_label).collect();
    let (summary, figures) = summarise(&labels, &ops, BOOTSTRAP_SEED);
    let machine = machine::describe();
    let info = RunInfo {
        mode: Some(mode),
        rounds: args.rounds,
        machine: Some(&machine),
        with_mimalloc: args.with_mimalloc,
    };
    let text = render(&summary, &figures, &info);
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

    if failures > 0 {
        eprintln!("{failures} run(s) failed (see above and runs.jsonl)");
    }
    Ok(exit_code(
        failures == 0,
        args.max_cost,
        figures[Ratio::HardenedCost as usize].geomean,
    ))
}

/// 0 when every run succeeded and the cost is within `--max-cost`, else 1 (saying so).
fn exit_code(all_ran: bool, max_cost: Option<f64>, geomean: Option<f64>) -> ExitCode {
    let mut ok = all_ran;
    if let (Some(limit), Some(g)) = (max_cost, geomean) {
        let cost = (1.0 - g) * 100.0;
        if cost > limit {
            eprintln!("hardened mode costs {cost:.1} %, over --max-cost {limit} %");
            ok = false;
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `--from RUN`: the summary of an earlier run, again from its `runs.jsonl`.
fn summarise_again(from: &Path, args: &HardenedArgs) -> Result<ExitCode, String> {
    let recorded = runs::load(from)?;
    let (summary, figures) = summarise(&recorded.labels, &recorded.ops, BOOTSTRAP_SEED);
    let info = RunInfo {
        mode: None,
        rounds: recorded.rounds,
        machine: None,
        with_mimalloc: recorded
            .builds
            .iter()
            .any(|b| matches!(b, Build::Mimalloc | Build::MimallocSecure)),
    };
    let text = render(&summary, &figures, &info);
    println!("{text}");
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out)
            .map_err(|e| format!("cannot create {}: {e}", out.display()))?;
        let path = out.join("summary.md");
        std::fs::write(&path, &text)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    // Complete: every build the file names ran in every round of every row.
    let complete = recorded
        .ops
        .iter()
        .flatten()
        .all(|r| recorded.builds.iter().all(|b| r[b.index()].is_some()));
    Ok(exit_code(
        complete,
        args.max_cost,
        figures[Ratio::HardenedCost as usize].geomean,
    ))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;
    use std::process::ExitCode;

    use super::{max_cost, run, HardenedArgs};
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
            rows: allocmux_harness::args::RowSelection {
                workloads: Some(vec!["glibc-simple".into(), "larson".into()]),
                threads: None,
            },
            rounds: 2,
            full: false,
            max_cost: None,
            out: Some(out.to_path_buf()),
            timeout: Some(30),
            no_build: true,
            with_mimalloc: false,
            from: None,
        }
    }

    /// Runs `--from out` into `dir/again`: the exit code and the summary written.
    fn summarise_from(dir: &Path, out: &Path, paths: &Paths) -> (ExitCode, String) {
        let again = dir.join("again");
        let from = HardenedArgs {
            from: Some(out.to_path_buf()),
            out: Some(again.clone()),
            ..args(out)
        };
        let code = run(&from, paths).unwrap();
        (
            code,
            std::fs::read_to_string(again.join("summary.md")).unwrap(),
        )
    }

    /// Adds fake mimalloc runners to `paths`: plain at 300 operations/s, the secure one
    /// (reporting `secure_version`) at 100.
    fn add_mimalloc(paths: &Paths, secure_version: &str) {
        let bin = paths.runner_bin_dir();
        fake_runner(&bin, "allocmux-runner-mimalloc", "3.3.2", 300, "none");
        fake_runner(
            &bin,
            "allocmux-runner-mimalloc-secure",
            secure_version,
            100,
            "none",
        );
    }

    #[test]
    fn with_mimalloc_four_builds_run_each_round_and_the_summary_compares_them() {
        let dir = tempfile::tempdir().unwrap();
        let paths = setup(dir.path(), "0.1.0 hardened");
        add_mimalloc(&paths, "3.3.2 secure");
        let out = dir.path().join("out");
        let a = HardenedArgs {
            rows: allocmux_harness::args::RowSelection {
                workloads: Some(vec!["glibc-simple".into()]),
                threads: None,
            },
            rounds: 5,
            with_mimalloc: true,
            ..args(&out)
        };
        let code = run(&a, &paths).unwrap();
        assert_eq!(
            format!("{code:?}"),
            format!("{:?}", std::process::ExitCode::SUCCESS)
        );
        let runs = std::fs::read_to_string(out.join("runs.jsonl")).unwrap();
        assert_eq!(runs.lines().count(), 20, "{runs}");
        assert_eq!(
            runs.matches("\"build\":\"mimalloc-secure\"").count(),
            5,
            "{runs}"
        );
        let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
        assert!(
            summary.contains("| glibc-simple | 200 | 150 | 0.750 | 0.750–0.750 | 5 | 300 | 100 | 0.333 | 0.333–0.333 | 1.500 |"),
            "{summary}"
        );
        assert!(summary.contains("(secure mode costs 66.7 %)"), "{summary}");
        assert!(
            summary.contains("hardened slab ÷ mimalloc secure: **1.500**"),
            "{summary}"
        );

        // `--from` gives the same figures back.
        let (_, rewritten) = summarise_from(dir.path(), &out, &paths);
        assert!(rewritten.contains("| 1.500 |\n"), "{rewritten}");
    }

    #[test]
    fn a_mimalloc_runner_that_is_not_the_secure_build_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let paths = setup(dir.path(), "0.1.0 hardened");
        add_mimalloc(&paths, "3.3.2");
        let a = HardenedArgs {
            with_mimalloc: true,
            ..args(&dir.path().join("out"))
        };
        let e = run(&a, &paths).unwrap_err();
        assert!(e.contains("not the mimalloc-secure build"), "{e}");
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
        assert!(
            !summary.contains("resamples"),
            "two rounds give no interval: {summary}"
        );

        // `--from` writes the same table again from runs.jsonl, and the same exit code.
        let (code, rewritten) = summarise_from(dir.path(), &out, &paths);
        assert_eq!(
            format!("{code:?}"),
            format!("{:?}", std::process::ExitCode::from(1))
        );
        let table = |s: &str| -> Vec<String> {
            s.lines()
                .filter(|l| l.starts_with('|') || l.contains("Geometric mean"))
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(table(&rewritten), table(&summary));
        assert!(
            rewritten.contains("2 rows, 2 interleaved rounds, no idle phase"),
            "{rewritten}"
        );
        assert!(
            rewritten.contains("not recorded with the runs"),
            "{rewritten}"
        );
    }

    #[test]
    fn a_runner_that_is_not_the_hardened_build_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let paths = setup(dir.path(), "0.1.0");
        let e = run(&args(&dir.path().join("out")), &paths).unwrap_err();
        assert!(e.contains("not the hardened build"), "{e}");
        assert!(e.contains("without --no-build"), "{e}");
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
