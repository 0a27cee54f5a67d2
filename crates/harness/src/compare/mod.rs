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
mod measure;
mod metric;
pub mod preload;
pub mod project;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use allocmux::Backend;
use clap::Args;

use crate::cargo_build::TargetKind;
use crate::paths::{timestamp_dir_name, Paths};
use crate::results::{MetricInfo, ProgramInfo};
pub use contender::{build_contender, run_once, Contender};
pub use measure::{check_outputs, finish, measure, MeasureSettings};
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
    let mut backends = args
        .backends
        .clone()
        .unwrap_or_else(|| Backend::ALL.to_vec());
    backends.push(Backend::System);
    backends.sort();
    backends.dedup();

    let work = project.target_directory.join("allocmux");
    let results_dir = work.join("compare");
    let started = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| results_dir.join(timestamp_dir_name(&started)));
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let total = Instant::now();

    let mut contenders = Vec::new();
    for (i, &backend) in backends.iter().enumerate() {
        eprintln!(
            "[build {}/{}] {} `{}` with {backend} …",
            i + 1,
            backends.len(),
            project.target.kind(),
            project.target.name()
        );
        let t = Instant::now();
        let c = contender::build_contender(&project, backend, &work);
        match &c.unusable {
            None => eprintln!(
                "[build {}/{}] {backend} done in {:.0} s",
                i + 1,
                backends.len(),
                t.elapsed().as_secs_f64()
            ),
            Some(e) => eprintln!(
                "[build {}/{}] {backend} FAILED, its runs will be recorded as failed:\n{e}",
                i + 1,
                backends.len()
            ),
        }
        contenders.push(c);
    }
    let label = project.target.name().to_owned();
    let mut command = vec![label.clone()];
    command.extend(args.args.iter().cloned());
    let program = ProgramInfo {
        command: command.clone(),
        project: project.root.display().to_string(),
        target: format!("{} {}", project.target.kind(), project.target.name()),
        method: "façade".into(),
        metric: args.metric.as_ref().map(|spec| MetricInfo {
            spec: spec.clone(),
            higher_is_better: !args.lower_is_better,
        }),
        evidence: Vec::new(),
    };
    let results = measure::measure(
        &contenders,
        &label,
        program,
        &MeasureSettings {
            args: &args.args,
            dir: cwd,
            reps: args.reps,
            timeout: Duration::from_secs(args.timeout),
            metric: metric.as_ref(),
            started,
            out: &out,
            preload: false,
            check_output: args.check_output,
        },
    )?;
    measure::finish(&results, &out, &results_dir, total)
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
    let backends = chosen_backends(args);
    let started = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let results_dir = crate::paths::project_results_dir(cwd, "compare");
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| results_dir.join(timestamp_dir_name(&started)));
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let total = Instant::now();
    let mut contenders = Vec::new();
    for (i, &backend) in backends.iter().enumerate() {
        let library = if backend == Backend::System {
            Err(String::new())
        } else {
            eprintln!(
                "[build {}/{}] library for {backend} …",
                i + 1,
                backends.len()
            );
            let lib = preload::build_library(allocmux, backend, &[], &out.join("logs"));
            if let Err(e) = &lib {
                eprintln!(
                    "[build {}/{}] {backend} FAILED, its runs will be recorded as failed:\n{e}",
                    i + 1,
                    backends.len()
                );
            }
            lib
        };
        let mut c = preload::contender(&path, backend, library);
        c.evidence.library = c.preload.as_ref().map(|l| l.display().to_string());
        contenders.push(c);
    }
    let label = Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| program.clone());
    let info = ProgramInfo {
        command: args.args.clone(),
        project: String::new(),
        target: format!("program {}", path.display()),
        method: "preload".into(),
        metric: args.metric.as_ref().map(|spec| MetricInfo {
            spec: spec.clone(),
            higher_is_better: !args.lower_is_better,
        }),
        evidence: Vec::new(),
    };
    let results = measure::measure(
        &contenders,
        &label,
        info,
        &MeasureSettings {
            args: program_args,
            dir: cwd,
            reps: args.reps,
            timeout: Duration::from_secs(args.timeout),
            metric,
            started,
            out: &out,
            preload: true,
            check_output: args.check_output,
        },
    )?;
    measure::finish(&results, &out, &results_dir, total)
}
