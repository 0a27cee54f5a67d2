//! `cargo allocmux compare`: the user's own program under every backend.
//!
//! Inside any Cargo project whose program installs `allocmux::Allocator` as
//! its global allocator, it builds the program once per backend
//! (`--features allocmux/<backend>`, release mode, in a target directory of its
//! own below the project's `target/`), checks what each build carries, runs the
//! builds interleaved in shuffled order `--reps` times with a time limit, and
//! records per run: wall time, user and system CPU time, peak RSS, page faults,
//! exit status, the program's own figure (`--metric`) and the line by which the
//! running program named its allocator. Results are written after every run;
//! the report family is the matrix's (terminal, `report.md`, `report.html`,
//! `results.json`, `results.csv`).
//!
//! A backend is a [`Contender`]: a program to start and the environment to
//! start it in, so a backend that is a library to preload instead of a feature
//! to build fits the same loop.

pub mod banner;
mod metric;
pub mod project;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant, SystemTime};

use allocmux::Backend;
use clap::Args;

use crate::cargo_build::{self, BuildRequest, TargetKind};
use crate::matrix::plan::shuffled_rounds;
use crate::paths::{link_latest, timestamp_dir_name};
use crate::process::{self, Ending};
use crate::progress::Progress;
use crate::results::{
    backend_infos, BackendEvidence, CellRun, MatrixResults, MetricInfo, ProgramInfo, RunStatus,
    WorkloadInfo, SCHEMA,
};
use crate::{cmd, machine, report};
pub use metric::Metric;
use project::{Project, TargetChoice};

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
    /// Arguments for the program (after `--`).
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

/// One backend ready to run: the program to start and its environment, or
/// why it cannot run.
#[derive(Debug, Clone)]
pub struct Contender {
    /// The backend.
    pub backend: Backend,
    /// The program to start (a per-backend build, or the user's program).
    pub program: PathBuf,
    /// Arguments placed before the user's (`--bench` for bench targets).
    pub leading_args: Vec<String>,
    /// Environment for every run.
    pub env: Vec<(String, String)>,
    /// Why the backend cannot run (its build failed or carries the wrong backend).
    pub unusable: Option<String>,
    /// What proves the build is that backend.
    pub evidence: BackendEvidence,
}

/// The façade features a build of `backend` must carry (none for system).
fn expected_feature(backend: Backend) -> Option<&'static str> {
    backend.feature()
}

/// Builds the program for `backend` and checks that Cargo compiled the façade
/// with that backend's feature and no other.
fn build_contender(project: &Project, backend: Backend, work: &Path) -> Contender {
    let mut contender = Contender {
        backend,
        program: PathBuf::new(),
        leading_args: match project.target {
            TargetKind::Bench(_) => vec!["--bench".into()],
            _ => Vec::new(),
        },
        env: vec![(banner::BANNER_ENV.into(), "1".into())],
        unusable: None,
        evidence: BackendEvidence {
            backend: backend.name().into(),
            facade_features: Vec::new(),
            banner: None,
        },
    };
    let features: Vec<String> = expected_feature(backend)
        .map(|f| format!("{}/{f}", project.facade_dep))
        .into_iter()
        .collect();
    let built = cargo_build::build(&BuildRequest {
        dir: &project.root,
        package: Some(&project.package),
        target: project.target.clone(),
        features,
        target_dir: &work.join("build"),
        // Symbols stay in, whatever the project's profile says: they cost
        // nothing at run time and let a profiler read the binaries.
        env: vec![("CARGO_PROFILE_RELEASE_STRIP".into(), "none".into())],
        log: work
            .join("logs")
            .join(format!("build-{}.log", backend.name())),
        what: format!(
            "{} `{}` with {backend}",
            project.target.kind(),
            project.target.name()
        ),
    });
    let built = match built {
        Ok(b) => b,
        Err(e) => {
            contender.unusable = Some(e);
            return contender;
        }
    };
    let facade = built.facade_features.unwrap_or_default();
    let backends_in: Vec<&str> = Backend::ALL
        .iter()
        .filter_map(|b| b.feature())
        .filter(|f| facade.iter().any(|x| x == f))
        .collect();
    contender.evidence.facade_features = facade.clone();
    if backends_in != expected_feature(backend).into_iter().collect::<Vec<_>>() {
        contender.unusable = Some(format!(
            "the {backend} build compiled allocmux with the backend features {backends_in:?}; expected {:?}",
            expected_feature(backend).into_iter().collect::<Vec<_>>()
        ));
        return contender;
    }
    let dest = work
        .join("bin")
        .join(format!("{}-{}", project.target.name(), backend.name()));
    match cargo_build::copy_out(&built.executable, &dest) {
        Ok(()) => contender.program = dest,
        Err(e) => contender.unusable = Some(e),
    }
    contender
}

/// Runs `contender` once and turns what happened into a [`CellRun`].
pub fn run_once(
    contender: &Contender,
    label: &str,
    args: &[String],
    dir: &Path,
    rep: u32,
    timeout: Duration,
    metric: Option<&Metric>,
) -> CellRun {
    let mut run = CellRun::new(label, contender.backend.name(), 1, rep, RunStatus::Failed);
    if let Some(why) = &contender.unusable {
        run.error = Some(format!("not run: {}", cmd::last_line(why)));
        return run;
    }
    let mut c = Command::new(&contender.program);
    c.args(&contender.leading_args).args(args).current_dir(dir);
    for (k, v) in &contender.env {
        c.env(k, v);
    }
    let finished = process::run(&mut c, timeout);
    run.wall_seconds = finished.wall_seconds;
    run.usage = finished.usage;
    let stderr = banner::strip(&finished.stderr);
    match &finished.ending {
        Ending::TimedOut => {
            run.status = RunStatus::Timeout;
            run.error = Some(finished.ending.describe(timeout));
            return run;
        }
        ending if !ending.success() => {
            let how = ending.describe(timeout);
            let last = cmd::last_line(&stderr);
            run.error = Some(if last.is_empty() {
                how
            } else {
                format!("{how}: {last}")
            });
            return run;
        }
        _ => {}
    }
    match banner::verify(&finished.stderr, finished.pid, contender.backend.name()) {
        Ok(line) => run.active = Some(line),
        Err(e) => {
            run.error = Some(e);
            return run;
        }
    }
    if let Some(m) = metric {
        match m.find(&finished.stdout).or_else(|| m.find(&stderr)) {
            Some(v) => run.metric = Some(v),
            None => {
                run.error = Some("the program printed no value for --metric".into());
                return run;
            }
        }
    }
    run.status = RunStatus::Ok;
    run
}

/// Runs `cargo allocmux compare` in `cwd`: exit 0 if every run succeeded, 1
/// if any failed; `Err` (exit 2) on bad input or a project without the façade.
pub fn run(args: &CompareArgs, cwd: &Path) -> Result<ExitCode, String> {
    let metric = args.metric.as_deref().map(Metric::parse).transpose()?;
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
        let c = build_contender(&project, backend, &work);
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
    let results = measure(
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
        },
    )?;
    finish(&results, &out, &results_dir, total)
}

/// How to measure: the same for every contender.
pub struct MeasureSettings<'a> {
    /// The program's arguments.
    pub args: &'a [String],
    /// Its working directory.
    pub dir: &'a Path,
    /// Runs per contender.
    pub reps: u32,
    /// Time limit per run.
    pub timeout: Duration,
    /// The program's own figure, if asked for.
    pub metric: Option<&'a Metric>,
    /// When the comparison started (RFC 3339).
    pub started: String,
    /// The results directory (results.json is rewritten after every run).
    pub out: &'a Path,
}

/// Runs every contender `reps` times in shuffled rounds, saving after every run.
pub fn measure(
    contenders: &[Contender],
    label: &str,
    mut program: ProgramInfo,
    s: &MeasureSettings<'_>,
) -> Result<MatrixResults, String> {
    let backends: Vec<Backend> = contenders.iter().map(|c| c.backend).collect();
    program.evidence = contenders.iter().map(|c| c.evidence.clone()).collect();
    let mut results = MatrixResults {
        schema: SCHEMA,
        started: s.started.clone(),
        mode: "compare".into(),
        shard: None,
        machine: machine::describe(),
        backends: backend_infos(&backends, |_| None),
        workloads: vec![WorkloadInfo {
            name: label.to_owned(),
            description: program.command.join(" "),
            class: "program".into(),
        }],
        runs: Vec::new(),
        micro: Vec::new(),
        program: Some(program),
    };
    let json = s.out.join("results.json");
    let order = shuffled_rounds(contenders.len(), s.reps, 0xC0FFEE);
    eprintln!(
        "running {} backends × {} repetitions ({} runs) → {}",
        contenders.len(),
        s.reps,
        order.len(),
        s.out.display()
    );
    let progress = Progress::new(order.len() as u64);
    for &(i, rep) in &order {
        let c = &contenders[i];
        progress.start(&format!("{label} on {}", c.backend));
        let run = run_once(c, label, s.args, s.dir, rep, s.timeout, s.metric);
        if run.status != RunStatus::Ok {
            progress.note(&format!(
                "{} rep {rep}: {:?}: {}",
                c.backend,
                run.status,
                run.error.as_deref().unwrap_or("")
            ));
        }
        // The first run that shows a banner is the evidence the report keeps.
        if let (Some(line), Some(p)) = (&run.active, results.program.as_mut()) {
            if let Some(e) = p.evidence.iter_mut().find(|e| e.backend == run.backend) {
                e.banner.get_or_insert_with(|| line.clone());
            }
        }
        results.runs.push(run);
        results.save(&json)?;
        progress.done();
    }
    progress.finish();
    Ok(results)
}

/// Writes the reports, prints the table, links `latest` and picks the exit code.
pub fn finish(
    results: &MatrixResults,
    out: &Path,
    results_dir: &Path,
    started: Instant,
) -> Result<ExitCode, String> {
    let terminal = report::write_all(results, out)?;
    println!("{terminal}");
    let failed = results
        .runs
        .iter()
        .filter(|r| r.status != RunStatus::Ok)
        .count();
    println!(
        "{} runs in {:.0} s ({failed} failed). Results: {}",
        results.runs.len(),
        started.elapsed().as_secs_f64(),
        out.display()
    );
    for f in ["results.json", "results.csv", "report.md", "report.html"] {
        println!("  {}", out.join(f).display());
    }
    link_latest(results_dir, out);
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
