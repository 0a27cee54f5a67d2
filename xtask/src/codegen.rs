//! `cargo xtask workload-codegen`: checks that every backend's runner spends
//! the same instructions on the workloads' own code.
//!
//! Each runner is a separate LTO build, so LLVM may compile a workload's own
//! loops differently around an inlined allocator (the plain slab's `free` is
//! inlined, a C allocator's is a call), and the workload then does a
//! different amount of its own work per backend (part of that is real: a Rust
//! program gets the same effect from an inlinable allocator; a flagged row is a
//! place to look).
//! This task builds the release runner of every chosen backend (the matrix's
//! own build), runs each workload once per runner under cachegrind (quick
//! parameters, one thread: valgrind serialises threads, so a threaded run's
//! counts would depend on scheduling; no idle phase), and sums the
//! instructions on lines of files under `crates/workloads/` (release builds
//! carry line tables, so inlined allocator code counts for the allocator's
//! files). A workload is flagged when the difference between its largest and
//! smallest count is more than `--tolerance` percent of the smallest run's
//! total instructions — how much of a run it weighs, so that a large spread
//! of a few thousand instructions does not count and 1 % of a run does.
//!
//! What the count leaves out: code of `core`/`std` inlined into a workload's
//! loops (range iteration, wrapping arithmetic, pointer writes) has the
//! standard library's file names and is not counted, so a workload whose work
//! is all such code (cache-scratch, cache-thrash) or libc's (malloc-large's
//! `memset`) has only a few thousand counted instructions, and a difference in
//! such code is not seen. snmalloc cannot
//! run under valgrind 3.19: it reserves 256 GiB of address space at start-up,
//! which valgrind refuses; it is left out unless `--backends` names it (its
//! runs then fail and are reported as such).
//!
//! Writes `target/workload-codegen/<time>/codegen.csv` (a row per run, as
//! runs complete) and the cachegrind out files beside it; prints a table of
//! millions of workload instructions per backend. Exit 1 if a row is over the
//! tolerance or a run failed, 0 otherwise, 2 on bad input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use allocmux::Backend;
use allocmux_harness::matrix::{build_runner, plan};
use allocmux_harness::paths::{link_latest, start_run};
use allocmux_harness::progress::{announced_build, Progress};
use allocmux_harness::{cmd, process, Paths};
use allocmux_workloads::Workload;
use clap::Args;

use crate::cachegrind;

mod output;

use output::{Csv, Table};

/// The directory, relative to the workspace, whose lines count as the workloads' own.
const WORKLOAD_DIR: &str = "crates/workloads";

/// Options of `cargo xtask workload-codegen`.
#[derive(Args, Debug)]
pub struct CodegenArgs {
    /// Backends to compare (comma-separated; default: all but snmalloc, which valgrind
    /// cannot run).
    #[arg(long, value_delimiter = ',')]
    backends: Option<Vec<Backend>>,
    /// Workloads: names or pattern classes, comma-separated (default: every non-hidden one).
    #[arg(long, value_delimiter = ',')]
    workloads: Option<Vec<String>>,
    /// Largest difference between backends in a workload's own instructions, in percent of
    /// the smallest run's total instructions, that passes.
    #[arg(long, default_value_t = 1.0, value_parser = tolerance, allow_negative_numbers = true)]
    tolerance: f64,
    /// Runs under valgrind at once.
    #[arg(long, default_value_t = 2, value_parser = jobs)]
    jobs: usize,
    /// Seconds before one run under valgrind is killed and recorded as failed.
    #[arg(long, default_value_t = 1800, value_parser = allocmux_harness::args::positive_u64)]
    timeout: u64,
}

/// `--tolerance`: a finite percentage above zero.
fn tolerance(s: &str) -> Result<f64, String> {
    let t: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a percentage; give a number such as 1.0"))?;
    if !t.is_finite() {
        Err(format!("`{s}` is not a finite percentage"))
    } else if t < 0.0 {
        Err(format!("a negative tolerance ({s} %) makes no sense"))
    } else if t == 0.0 {
        Err("must be above 0 % (a zero tolerance flags every difference of one instruction); give e.g. 0.5".into())
    } else {
        Ok(t)
    }
}

/// `--jobs`: at least 1.
fn jobs(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1 (zero jobs would run nothing)".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a whole number")),
    }
}

/// What the command line selects: workloads in registry order, backends in
/// report order.
fn select(args: &CodegenArgs) -> Result<(Vec<&'static Workload>, Vec<Backend>), String> {
    let workloads = plan::select_workloads(args.workloads.as_deref())?;
    let mut backends = args.backends.clone().unwrap_or_else(|| {
        Backend::ALL
            .into_iter()
            .filter(|&b| b != Backend::Snmalloc)
            .collect()
    });
    backends.sort();
    backends.dedup();
    Ok((workloads, backends))
}

/// One successful run's instruction counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    /// Instructions on the workload's own lines.
    workload_ir: u64,
    /// Instructions of the whole run.
    total_ir: u64,
}

/// How one run under cachegrind went.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// The run's counts.
    Ok(Counts),
    /// The run or its out file failed; the message says how.
    Failed(String),
}

/// One workload × backend run to do.
struct Job {
    workload: usize,
    backend: usize,
    runner: PathBuf,
}

/// Runs the check. Exit 0 when every row is within the tolerance, 1 when one
/// is over it or a run failed; `Err` (exit 2) on bad input or when valgrind
/// is missing.
pub fn run(args: &CodegenArgs, paths: &Paths) -> Result<ExitCode, String> {
    let (workloads, backends) = select(args)?;
    cmd::require_valgrind("`cargo xtask workload-codegen`")?;
    let results_dir = paths.target_dir.join("workload-codegen");
    let (_, out) = start_run(None, &results_dir)?;
    link_latest(&results_dir, &out);
    let clock = Instant::now();

    // 1. Build: the matrix's runners, one per backend.
    let mut runners: Vec<Result<PathBuf, String>> = Vec::new();
    for (i, &backend) in backends.iter().enumerate() {
        runners.push(announced_build(
            i,
            backends.len(),
            &format!("runner with {backend}"),
            backend.name(),
            || build_runner(paths, backend, false, &out.join("logs")),
        ));
    }

    // 2. Run every workload × backend, `--jobs` at once, saving each row.
    let csv_path = out.join("codegen.csv");
    let mut csv = Csv::create(&csv_path)?;
    let mut outcomes: BTreeMap<(usize, usize), Outcome> = BTreeMap::new();
    let mut queue = Vec::new();
    for (w, workload) in workloads.iter().enumerate() {
        for (b, runner) in runners.iter().enumerate() {
            match runner {
                Ok(path) => queue.push(Job {
                    workload: w,
                    backend: b,
                    runner: path.clone(),
                }),
                Err(_) => {
                    let failed =
                        Outcome::Failed("the runner for this backend did not build".into());
                    csv.row(workload.name, backends[b], &failed)?;
                    outcomes.insert((w, b), failed);
                }
            }
        }
    }
    eprintln!(
        "running {} workload × backend runs under cachegrind, {} at once → {}",
        queue.len(),
        args.jobs,
        out.display()
    );
    let progress = Progress::new(queue.len().max(1) as u64);
    let label = |job: &Job| {
        format!(
            "{} on {}",
            workloads[job.workload].name, backends[job.backend]
        )
    };
    let timeout = Duration::from_secs(args.timeout);
    let mut write_error = None;
    run_queue(
        &queue,
        args.jobs,
        |job| {
            let workload = workloads[job.workload];
            let file = out.join(format!(
                "{}.{}.cachegrind.out",
                workload.name,
                backends[job.backend].name()
            ));
            run_one(&job.runner, workload, &file, timeout, &paths.source)
        },
        |job, outcome| {
            let Some(outcome) = outcome else {
                progress.start(&label(job));
                return;
            };
            if let Outcome::Failed(e) = &outcome {
                progress.note(&format!("{}: FAILED: {e}", label(job)));
            }
            let name = workloads[job.workload].name;
            if let Err(e) = csv.row(name, backends[job.backend], &outcome) {
                write_error.get_or_insert(e);
            }
            outcomes.insert((job.workload, job.backend), outcome);
            progress.done();
        },
    );
    progress.finish();

    // 3. The table and the verdict.
    let names: Vec<&str> = workloads.iter().map(|w| w.name).collect();
    let table = Table::new(&names, &backends, &outcomes, args.tolerance);
    print!("{}", table.render());
    println!(
        "{} runs in {:.0} s; rows in {}",
        workloads.len() * backends.len(),
        clock.elapsed().as_secs_f64(),
        csv_path.display()
    );
    println!("{}", table.closing_line());
    if let Some(e) = write_error {
        return Err(e);
    }
    Ok(if table.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Runs `work` on every job of `queue`, at most `jobs` at once, and calls
/// `report` on this thread for each: with `None` when a job starts, with its
/// outcome when it ends (in the order they end).
fn run_queue(
    queue: &[Job],
    jobs: usize,
    work: impl Fn(&Job) -> Outcome + Sync,
    mut report: impl FnMut(&Job, Option<Outcome>),
) {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, Option<Outcome>)>();
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(queue.len()) {
            let (tx, next, work) = (tx.clone(), &next, &work);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = queue.get(i) else { break };
                let _ = tx.send((i, None));
                let _ = tx.send((i, Some(work(job))));
            });
        }
        drop(tx);
        for (i, outcome) in rx {
            report(&queue[i], outcome);
        }
    });
}

/// The command that runs `workload` once with `runner` under cachegrind,
/// writing its counts to `out_file`.
fn valgrind_command(runner: &Path, workload: &Workload, out_file: &Path) -> Command {
    let mut c = Command::new("valgrind");
    c.args(["--tool=cachegrind", "--cache-sim=no"])
        .arg(format!("--cachegrind-out-file={}", out_file.display()))
        .arg(runner)
        .args(["--workload", workload.name, "--quick"]);
    if workload.multithreaded {
        c.args(["--threads", "1"]);
    }
    c.env("ALLOCMUX_IDLE_MS", "none");
    c
}

/// Runs one workload with one runner under cachegrind and reads its counts;
/// never fails: problems become [`Outcome::Failed`].
fn run_one(
    runner: &Path,
    workload: &Workload,
    out_file: &Path,
    timeout: Duration,
    source: &Path,
) -> Outcome {
    let finished = process::run(&mut valgrind_command(runner, workload, out_file), timeout);
    if !finished.ending.success() {
        let said = last_program_line(&finished.stderr);
        let why = if said.contains("Failed to initialise snmalloc") {
            " (snmalloc reserves 256 GiB of address space at start-up, which valgrind refuses; \
             leave it out of --backends)"
        } else {
            ""
        };
        return Outcome::Failed(format!(
            "{}: {said}{why}",
            finished.ending.describe(timeout)
        ));
    }
    let profile = match cachegrind::read(out_file) {
        Ok(p) => p,
        Err(e) => return Outcome::Failed(e),
    };
    match profile.ir_under(source, WORKLOAD_DIR) {
        0 => Outcome::Failed(format!(
            "no instructions on lines of {WORKLOAD_DIR}/ (built without line tables?)"
        )),
        workload_ir => Outcome::Ok(Counts {
            workload_ir,
            total_ir: profile.total_ir,
        }),
    }
}

/// The last line the program itself wrote to stderr: valgrind's own lines
/// (`==123== …`, `--123-- …`) come after it and say nothing about the failure.
/// Only when there is no other line is valgrind's last one given.
fn last_program_line(stderr: &str) -> &str {
    let valgrind_own = |l: &str| {
        ["==", "--", "**"].iter().any(|m| {
            l.strip_prefix(m)
                .and_then(|rest| rest.split_once(m))
                .is_some_and(|(pid, _)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        })
    };
    stderr
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty() && !valgrind_own(l))
        .unwrap_or_else(|| cmd::last_line(stderr))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use allocmux::Backend;
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: CodegenArgs,
    }

    fn parse(argv: &[&str]) -> Result<CodegenArgs, String> {
        let argv = std::iter::once("workload-codegen").chain(argv.iter().copied());
        Cli::try_parse_from(argv)
            .map(|c| c.args)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_select_every_backend_but_snmalloc_and_every_visible_workload() {
        let args = parse(&[]).unwrap();
        assert_eq!((args.tolerance, args.jobs), (1.0, 2));
        let (workloads, backends) = select(&args).unwrap();
        assert_eq!(backends.len(), Backend::ALL.len() - 1);
        assert!(!backends.contains(&Backend::Snmalloc));
        let (_, named) = select(&parse(&["--backends", "snmalloc,slab"]).unwrap()).unwrap();
        assert_eq!(named, [Backend::Snmalloc, Backend::Slab]);
        assert!(workloads.iter().all(|w| !w.hidden));
        assert!(workloads.iter().any(|w| w.name == "glibc-thread"));
    }

    #[test]
    fn bad_arguments_are_refused_with_a_reason() {
        let err = parse(&["--tolerance", "0"]).unwrap_err();
        assert!(err.contains("above 0"), "{err}");
        let err = parse(&["--tolerance", "-2"]).unwrap_err();
        assert!(err.contains("negative"), "{err}");
        for nonsense in ["abc", "NaN", "inf"] {
            assert!(parse(&["--tolerance", nonsense]).is_err(), "{nonsense}");
        }
        assert_eq!(parse(&["--tolerance", "0.25"]).unwrap().tolerance, 0.25);
        let err = parse(&["--jobs", "0"]).unwrap_err();
        assert!(err.contains("at least 1"), "{err}");
        let err = parse(&["--backends", "slab,tcmalloc"]).unwrap_err();
        assert!(
            err.contains("tcmalloc") && err.contains("mimalloc"),
            "{err}"
        );
        let args = parse(&["--workloads", "larson,nosuch"]).unwrap();
        let err = select(&args).unwrap_err();
        assert!(
            err.contains("nosuch") && err.contains("glibc-thread"),
            "{err}"
        );
    }

    #[test]
    fn the_command_runs_quick_single_threaded_without_the_idle_phase() {
        let w = allocmux_workloads::find("glibc-thread").unwrap();
        let c = valgrind_command(Path::new("/r/runner"), w, Path::new("/o/x.out"));
        let line = cmd::display(&c);
        assert!(line.starts_with("ALLOCMUX_IDLE_MS=none valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/o/x.out /r/runner --workload glibc-thread --quick --threads 1"), "{line}");
        let single = allocmux_workloads::find("glibc-simple").unwrap();
        let line = cmd::display(&valgrind_command(Path::new("r"), single, Path::new("o")));
        assert!(!line.contains("--threads"), "{line}");
    }

    #[test]
    fn the_queue_runs_every_job_once_and_at_most_jobs_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let queue: Vec<Job> = (0..7)
            .map(|w| Job {
                workload: w,
                backend: 0,
                runner: "r".into(),
            })
            .collect();
        let (running, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let mut started = Vec::new();
        let mut ended = Vec::new();
        run_queue(
            &queue,
            3,
            |job| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(20));
                running.fetch_sub(1, Ordering::SeqCst);
                Outcome::Ok(Counts {
                    workload_ir: job.workload as u64,
                    total_ir: 0,
                })
            },
            |job, outcome| match outcome {
                None => started.push(job.workload),
                Some(o) => ended.push((job.workload, o)),
            },
        );
        started.sort();
        ended.sort_by_key(|e| e.0);
        assert_eq!(started, (0..7).collect::<Vec<_>>());
        assert!(ended.iter().enumerate().all(|(i, (w, o))| *w == i
            && *o
                == Outcome::Ok(Counts {
                    workload_ir: i as u64,
                    total_ir: 0
                })));
        assert!((1..=3).contains(&most.load(Ordering::SeqCst)));
    }

    #[test]
    fn a_failure_is_told_by_the_program_not_by_valgrind() {
        let stderr = "==42== Cachegrind, a cache and branch-prediction profiler\n\
                      allocmux-runner: unknown workload \"x\"\n\
                      valid workloads: larson\n\
                      ==42== \n\
                      ==42== I   refs:      1,234\n";
        assert_eq!(last_program_line(stderr), "valid workloads: larson");
        assert_eq!(
            last_program_line("==7== only valgrind\n"),
            "==7== only valgrind"
        );
        assert_eq!(last_program_line(""), "");
    }
}
