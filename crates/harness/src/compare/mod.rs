//! `cargo allocmux compare`: the user's own program under every backend.
//!
//! Façade method (the default): inside any Cargo project whose program
//! installs `allocmux::Allocator` as its global allocator, it builds the program
//! once per backend
//! (`--features allocmux/<backend>`, release mode, in a target directory of its
//! own below the project's `target/`), checks what each build carries, runs the
//! builds interleaved in shuffled order `--reps` times with a time limit, and
//! records per run: wall time, user and system CPU time, peak RSS, page faults,
//! exit status, the program's own figure (`--metric`) and the line by which the
//! running program named its allocator. Results are written after every run;
//! the report family is the matrix's (terminal, `report.md`, `report.html`,
//! `results.json`, `results.csv`).
//!
//! `--preload` method: any dynamically linked program, unchanged, with each
//! backend's C library (built from allocmux's sources) put in front of the C
//! library with `LD_PRELOAD` (see `preload.rs`).
//!
//! A backend is a [`Contender`]: a program to start and the environment to
//! start it in; both methods share the measuring loop (`measure.rs`).

pub mod banner;
mod contender;
mod lines;
mod measure;
mod metric;
pub mod preload;
pub mod project;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use allocmux::Backend;
use clap::Args;

use crate::cargo_build::TargetKind;
use crate::paths::{start_run, Paths};
use crate::progress::announced_build;
use crate::results::{MetricInfo, ProgramInfo};
pub use contender::{build_contender, run_once, Contender};
pub use measure::{check_outputs, measure, MeasureSettings};
pub use metric::Metric;
use project::TargetChoice;

/// Options of `cargo allocmux compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// The binary to measure (default: the package's only binary).
    #[arg(long, group = "which")]
    bin: Option<String>,
    /// Measure this example instead of a binary.
    #[arg(long, group = "which")]
    example: Option<String>,
    /// Measure this bench target instead of a binary (run with `--bench`).
    #[arg(long, group = "which")]
    bench: Option<String>,
    /// The package to build (default: the one in the current directory).
    #[arg(short = 'p', long)]
    package: Option<String>,
    /// The project's Cargo.toml (default: found from the current directory).
    #[arg(long)]
    manifest_path: Option<PathBuf>,
    /// Backends to compare (comma-separated; default: all). The system
    /// allocator is always added as the reference.
    #[arg(long, value_delimiter = ',')]
    backends: Option<Vec<Backend>>,
    /// Runs of each backend.
    #[arg(long, default_value_t = 5, value_parser = crate::args::positive_u32)]
    reps: u32,
    /// Seconds before a run is killed and recorded as a timeout.
    #[arg(long, default_value_t = 300, value_parser = crate::args::positive_u64)]
    timeout: u64,
    /// Directory for results and reports (default: target/allocmux/compare/<timestamp>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The program's own figure: `json:FIELD` (a number in a JSON line it
    /// prints) or `regex:PATTERN` (the first group of the last match).
    #[arg(long)]
    metric: Option<String>,
    /// The `--metric` figure is better when smaller (a time, not a rate).
    #[arg(long, requires = "metric")]
    lower_is_better: bool,
    /// Measure any program without rebuilding it: each backend's C library is
    /// preloaded (`LD_PRELOAD`); give the program and its arguments after `--`.
    #[arg(long, conflicts_with_all = ["bin", "example", "bench", "package", "manifest_path"])]
    preload: bool,
    /// With `--preload`: also measure an allocator's shared object from outside
    /// allocmux, as NAME=PATH (repeatable, comma-separated), e.g.
    /// tcmalloc=/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4.
    #[arg(long, value_delimiter = ',', requires = "preload")]
    library: Vec<String>,
    /// Milliseconds between two samples of each run's resident memory.
    #[arg(long, default_value_t = 10, value_parser = crate::args::sample_ms)]
    sample_ms: u64,
    /// Fail a run whose standard output differs from the system allocator's runs.
    #[arg(long)]
    check_output: bool,
    /// Arguments for the program (after `--`); with `--preload`, the program itself first.
    #[arg(last = true)]
    args: Vec<String>,
}

impl CompareArgs {
    fn target(&self) -> Option<TargetKind> {
        match (&self.bin, &self.example, &self.bench) {
            (Some(n), _, _) => Some(TargetKind::Bin(n.clone())),
            (_, Some(n), _) => Some(TargetKind::Example(n.clone())),
            (_, _, Some(n)) => Some(TargetKind::Bench(n.clone())),
            _ => None,
        }
    }
}

/// Runs `cargo allocmux compare` in `cwd`: exit 0 if every run succeeded, 1
/// if any failed; `Err` (exit 2) on bad input or a project without the façade.
/// `allocmux` is where the preload libraries are built from (`--preload` only).
pub fn run(
    args: &CompareArgs,
    cwd: &Path,
    allocmux: Result<Paths, String>,
) -> Result<ExitCode, String> {
    let metric = args.metric.as_deref().map(Metric::parse).transpose()?;
    if args.preload {
        return run_preload(args, cwd, &allocmux?, metric.as_ref());
    }
    let project = project::locate(
        cwd,
        &TargetChoice {
            package: args.package.clone(),
            target: args.target(),
            manifest_path: args.manifest_path.clone(),
        },
        &crate::paths::facade_dir(),
    )?;
    let backends = chosen_backends(args);
    let work = project.target_directory.join("allocmux");
    let session = Session::open(args, work.join("compare"))?;
    let mut contenders = Vec::new();
    for (i, &backend) in backends.iter().enumerate() {
        let what = format!(
            "{} `{}` with {backend}",
            project.target.kind(),
            project.target.name()
        );
        let mut built = None;
        let _ = announced_build(i, backends.len(), &what, backend.name(), || {
            let c = contender::build_contender(&project, backend, &work);
            let outcome = c.unusable.clone().map_or(Ok(()), Err);
            built = Some(c);
            outcome
        });
        contenders.push(built.expect("the build closure always runs"));
    }
    let mut command = vec![project.target.name().to_owned()];
    command.extend(args.args.iter().cloned());
    let info = program_info(
        args,
        command,
        project.root.display().to_string(),
        format!("{} {}", project.target.kind(), project.target.name()),
        "façade",
    );
    session.run(args, cwd, metric.as_ref(), &contenders, info, &args.args)
}

/// The description of the measured program kept in the results.
fn program_info(
    args: &CompareArgs,
    command: Vec<String>,
    project: String,
    target: String,
    method: &str,
) -> ProgramInfo {
    ProgramInfo {
        command,
        project,
        target,
        method: method.into(),
        metric: args.metric.as_ref().map(|spec| MetricInfo {
            spec: spec.clone(),
            higher_is_better: !args.lower_is_better,
        }),
        evidence: Vec::new(),
    }
}

/// One comparison's output directory and clock.
struct Session {
    started: String,
    out: PathBuf,
    results_dir: PathBuf,
    clock: Instant,
}

impl Session {
    /// Creates `--out` (default: a new `<results_dir>/<time>`).
    fn open(args: &CompareArgs, results_dir: PathBuf) -> Result<Session, String> {
        let (started, out) = start_run(args.out.as_deref(), &results_dir)?;
        Ok(Session {
            started,
            out,
            results_dir,
            clock: Instant::now(),
        })
    }

    /// Measures the contenders and writes the reports.
    fn run(
        self,
        args: &CompareArgs,
        cwd: &Path,
        metric: Option<&Metric>,
        contenders: &[Contender],
        info: ProgramInfo,
        program_args: &[String],
    ) -> Result<ExitCode, String> {
        let label = info
            .command
            .first()
            .and_then(|c| Path::new(c).file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let preload = info.method == "preload";
        let results = measure::measure(
            contenders,
            &label,
            info,
            &MeasureSettings {
                args: program_args,
                dir: cwd,
                reps: args.reps,
                timeout: Duration::from_secs(args.timeout),
                sample: Duration::from_millis(args.sample_ms),
                metric,
                started: self.started,
                out: &self.out,
                preload,
                check_output: args.check_output,
            },
        )?;
        crate::report::finish_run(&results, &self.out, &self.results_dir, self.clock)
    }
}

/// `--backends`, with the system allocator always added, in report order.
fn chosen_backends(args: &CompareArgs) -> Vec<Backend> {
    let mut backends = args
        .backends
        .clone()
        .unwrap_or_else(|| Backend::ALL.to_vec());
    backends.push(Backend::System);
    backends.sort();
    backends.dedup();
    backends
}

/// `compare --preload -- PROGRAM ARGS…`: builds the chosen backends' libraries
/// (with `allocmux`'s sources and target directory) and measures the program
/// under each.
fn run_preload(
    args: &CompareArgs,
    cwd: &Path,
    allocmux: &Paths,
    metric: Option<&Metric>,
) -> Result<ExitCode, String> {
    let (program, program_args) = args
        .args
        .split_first()
        .ok_or("--preload measures the program given after `--`, e.g. `cargo allocmux compare --preload -- python3 app.py`")?;
    let path = preload::resolve_program(program)?;
    let externals = preload::parse_libraries(&args.library)?;
    let backends = chosen_backends(args);
    let session = Session::open(args, crate::paths::project_results_dir(cwd, "compare"))?;
    let logs = session.out.join("logs");
    let libraries = preload::build_libraries(allocmux, &backends, &logs);
    let contenders = preload::contenders(&path, &backends, &libraries, &externals);
    let info = program_info(
        args,
        args.args.clone(),
        String::new(),
        format!("program {}", path.display()),
        "preload",
    );
    session.run(args, cwd, metric, &contenders, info, program_args)
}
