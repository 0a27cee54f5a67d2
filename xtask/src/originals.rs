//! `cargo xtask originals`: the published benchmark programs our classic
//! workloads are named after, run under every backend, side by side.
//!
//! It compiles mimalloc-bench's programs from a checkout the user gives
//! (`--source`; nothing of them is in this repository) into
//! `target/originals/bin/`, builds each backend's preload library as `cargo
//! allocmux compare --preload` does, and measures every program at bench.sh's
//! standard invocation with the compare engine: each backend `--rounds` times
//! in shuffled rounds (the system allocator is the program run as it is; a
//! preloaded run counts only when the library's exit line names that process),
//! results written after every run. A program that fails to build or whose
//! runs fail is reported and the rest goes on.
//!
//! Output in `target/originals/<time>/` (and `…/latest`): one directory per
//! program with its compare results and report (`results.json`, `report.md`,
//! `report.html`), and
//! `summary.md` / `summary.csv` (rewritten after every program): speed and peak
//! RSS relative to the system allocator as medians of per-round ratios, and
//! their geometric mean (relative to `--reference` instead when given).
//! `--library NAME=PATH` adds an allocator from outside allocmux (checked with
//! the loader, see `compare --preload`); `--from DIR` summarises an earlier run
//! again; `--matrix` puts our workloads' rows next to the originals
//! (`agreement.rs`). docs/results/originals.md holds such tables.
//!
//! Parts: `programs.rs` (the tests and their invocations), `binaries.rs` and
//! `compile.rs` (building them),
//! `session.rs` (measuring one program), `summary.rs` and `tables.rs` (the
//! summary files), `agreement.rs` (against our matrix).

mod agreement;
mod binaries;
mod compile;
mod programs;
mod session;
mod summary;
mod tables;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use allocmux::Backend;
use allocmux_harness::compare::preload;
use allocmux_harness::paths::{link_latest, start_run};
use allocmux_harness::report::{summarize, Summary};
use allocmux_harness::results::{MatrixResults, RunStatus};
use allocmux_harness::Paths;
use clap::Args;

use session::Session;
use tables::Tables;

/// Options of `cargo xtask originals`.
#[derive(Args, Debug)]
pub struct OriginalsArgs {
    /// A checkout of mimalloc-bench (`git clone https://github.com/daanx/mimalloc-bench`).
    #[arg(long, required_unless_present_any = ["from", "mimalloc_source"])]
    source: Option<PathBuf>,
    /// A checkout of mimalloc (`git clone https://github.com/microsoft/mimalloc`):
    /// adds its `test-stress` (32 threads recreated every iteration).
    #[arg(long)]
    mimalloc_source: Option<PathBuf>,
    /// Write the summary of an earlier run's directory again (e.g. against
    /// another `--matrix` or `--reference`) instead of measuring: into that
    /// directory, or with `--out` into another one, leaving the run as it is.
    #[arg(long, conflicts_with_all = ["source", "mimalloc_source"])]
    from: Option<PathBuf>,
    /// Programs to run (comma-separated bench.sh names, e.g. larsonN,cfrac, or
    /// test-stress; default: all those of the checkouts given).
    #[arg(long, value_delimiter = ',')]
    programs: Option<Vec<String>>,
    /// Backends to compare (comma-separated; default: all). The system
    /// allocator is always added as the reference.
    #[arg(long, value_delimiter = ',')]
    backends: Option<Vec<Backend>>,
    /// Also measure an allocator's shared object from outside allocmux, as
    /// NAME=PATH (repeatable, comma-separated), e.g.
    /// debian-mimalloc=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2.
    #[arg(long, value_delimiter = ',')]
    library: Vec<String>,
    /// What speed and RSS are relative to: a backend or a `--library` name.
    #[arg(long, default_value = "system")]
    reference: String,
    /// Runs of each program under each backend (interleaved rounds).
    #[arg(long, default_value_t = 3, value_parser = allocmux_harness::args::positive_u32)]
    rounds: u32,
    /// The thread count of the `…N` programs (bench.sh's `procs`; default: the CPU count).
    #[arg(long, value_parser = allocmux_harness::args::positive_u32)]
    cpus: Option<u32>,
    /// Seconds before a run is killed and recorded as a timeout.
    #[arg(long, default_value_t = 300, value_parser = allocmux_harness::args::positive_u64)]
    timeout: u64,
    /// Directory for the results (default: target/originals/<time>); with
    /// `--from`, for the new summary alone.
    #[arg(long)]
    out: Option<PathBuf>,
    /// A `bench-matrix` results.json (e.g. docs/results/results.json): adds our
    /// workloads' rows next to the originals and the pairs they order differently.
    /// Repeatable, comma-separated: a row is taken from the last file that has it.
    #[arg(long, value_delimiter = ',')]
    matrix: Vec<PathBuf>,
}

/// Runs `cargo xtask originals`: exit 0 if every run succeeded, 1 if some
/// failed; `Err` (exit 2) when nothing can be measured.
pub fn run(args: &OriginalsArgs, paths: &Paths) -> Result<ExitCode, String> {
    let checkouts =
        compile::Checkouts::new(args.source.as_deref(), args.mimalloc_source.as_deref())?;
    // With --from (which takes no checkout), every program an earlier run may hold.
    let chosen = programs::select(args.programs.as_deref(), |c| {
        args.from.is_some() || checkouts.dir(c).is_some()
    })?;
    let matrices = args
        .matrix
        .iter()
        .map(|path| MatrixResults::load(path).map(|r| summarize(&r)))
        .collect::<Result<Vec<Summary>, String>>()?;
    let cpus = args.cpus.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        |n| n as usize,
    );
    let tables = Tables {
        chosen: &chosen,
        matrices: &matrices,
        cpus,
    };
    if let Some(dir) = &args.from {
        return tables.rewrite(dir, args.out.as_deref(), &args.reference);
    }
    let externals = preload::parse_libraries(&args.library)?;
    let root = paths.target_dir.join("originals");
    let (started, out) = start_run(args.out.as_deref(), &root)?;
    let logs = out.join("logs");
    let bin_dir = root.join("bin");
    for d in [&logs, &bin_dir] {
        std::fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    link_latest(&root, &out);

    let backends = chosen_backends(args.backends.as_deref());
    let libraries = preload::build_libraries(paths, &backends, &logs);
    let executables = compile::compile_all(&chosen, &checkouts, &bin_dir, &logs);
    let flags = compile::recorded_flags(&logs);
    let machine = allocmux_harness::machine::describe();

    let mut names: Vec<&str> = backends.iter().map(|b| b.name()).collect();
    names.extend(externals.iter().map(|(n, _)| n.as_str()));
    tables::reference_first(&mut names, &args.reference)?;
    let session = Session {
        backends: &backends,
        libraries: &libraries,
        externals: &externals,
        rounds: args.rounds,
        timeout: Duration::from_secs(args.timeout),
        started: &started,
    };
    let mut rows = Vec::new();
    let mut failed = 0;
    for p in &chosen {
        let runs = match executables.iter().find(|(name, _)| *name == p.binary) {
            Some((_, Ok(exe))) => {
                let dir = out.join(p.name);
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                let root = checkouts
                    .dir(programs::checkout(p))
                    .unwrap_or(Path::new(""));
                let argv = programs::arguments(p, cpus, root);
                session.measure(p, exe, &argv, &dir)?
            }
            _ => Vec::new(),
        };
        failed += runs.iter().filter(|r| r.status != RunStatus::Ok).count();
        if runs.is_empty() {
            failed += 1;
        }
        rows.push(summary::row(p.name, p.metric.is_some(), &names, &runs));
        tables.write(&out, &rows, &names, args.rounds, flags.as_deref(), &machine)?;
    }
    println!(
        "\nSpeed relative to {} (median of per-round ratios; details in summary.md):\n{}",
        names[0],
        summary::terminal(&rows, &names)
    );
    println!("Results: {}", out.display());
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "{failed} runs or builds failed (see above and {})",
            logs.display()
        );
        ExitCode::from(1)
    })
}

/// `--backends` with the system allocator added first.
fn chosen_backends(wanted: Option<&[Backend]>) -> Vec<Backend> {
    let mut v = vec![Backend::System];
    for &b in wanted.unwrap_or(&Backend::ALL) {
        if !v.contains(&b) {
            v.push(b);
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::workspace_root;

    /// A stand-in checkout: `bench/` with the probe file and the given sources.
    fn checkout(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let bench = dir.path().join("bench");
        for (name, text) in [("larson/larson.cpp", "")].iter().chain(files) {
            let path = bench.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    /// Harness paths with every build and result inside `root`.
    fn paths_in(root: &Path) -> Paths {
        Paths {
            source: root.to_path_buf(),
            target_dir: root.join("target"),
            results: root.join("results"),
        }
    }

    fn args(source: &Path, out: &Path, programs: &[&str]) -> OriginalsArgs {
        OriginalsArgs {
            source: Some(source.to_path_buf()),
            mimalloc_source: None,
            from: None,
            programs: Some(programs.iter().map(|s| s.to_string()).collect()),
            backends: Some(vec![Backend::System]),
            library: Vec::new(),
            reference: "system".into(),
            rounds: 2,
            cpus: Some(2),
            timeout: 60,
            out: Some(out.to_path_buf()),
            matrix: Vec::new(),
        }
    }

    /// A small C program that allocates what its first argument says.
    const ALLOCATES: &str = "#include <stdio.h>\n#include <stdlib.h>\n\
        int main(int c, char **v) { char *p = malloc(1000 * (c > 1 ? atoi(v[1]) : 1));\n\
        p[0] = 1; printf(\"%d\\n\", p[0]); free(p); return 0; }\n";

    #[test]
    fn programs_are_built_from_the_checkout_run_every_round_and_summarised() {
        let src = checkout(&[("mleak/mleak.c", ALLOCATES)]);
        let work = tempfile::tempdir().unwrap();
        let paths = paths_in(work.path());
        let out = work.path().join("out");
        let code = run(&args(src.path(), &out, &["mleak10", "mleak100"]), &paths).unwrap();
        assert_eq!(format!("{code:?}"), format!("{:?}", ExitCode::SUCCESS));
        let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
        assert!(
            csv.contains("mleak10,system,1.0000,1.0000,1.0000,1.0000,2,2"),
            "{csv}"
        );
        assert!(csv.contains("mleak100,system,"), "{csv}");
        let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
        assert!(md.contains("N = 2") && md.contains("| mleak100 |"), "{md}");
        assert!(out.join("mleak10/results.json").is_file());
        assert!(out.join("mleak10/report.html").is_file());
        assert!(work.path().join("target/originals/bin/mleak").is_file());

        // `--from` writes the same summary again from the saved results.
        std::fs::remove_file(out.join("summary.csv")).unwrap();
        let mut again = args(src.path(), &out, &["mleak10", "mleak100"]);
        (again.source, again.out, again.from) = (None, None, Some(out.clone()));
        run(&again, &paths).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("summary.csv")).unwrap(),
            csv
        );
        // With `--out`, the new summary goes there and the run stays as it was.
        let elsewhere = work.path().join("resummarised");
        again.out = Some(elsewhere.clone());
        run(&again, &paths).unwrap();
        assert_eq!(
            std::fs::read_to_string(elsewhere.join("summary.csv")).unwrap(),
            csv
        );
        assert!(!elsewhere.join("mleak10").exists());
        again.out = None;
        again.reference = "slab".into();
        let e = run(&again, &paths).unwrap_err();
        assert!(e.contains("the choices are: system"), "{e}");
        again.from = Some(work.path().to_path_buf());
        again.reference = "system".into();
        let e = run(&again, &paths).unwrap_err();
        assert!(e.contains("holds no program results"), "{e}");
    }

    #[test]
    fn an_external_library_is_measured_under_its_own_name() {
        let src = checkout(&[("mleak/mleak.c", ALLOCATES)]);
        let work = tempfile::tempdir().unwrap();
        let c = workspace_root().join("crates/harness/tests/fixtures/bump_allocator.c");
        let so = work.path().join("libbump.so");
        allocmux_harness::cmd::compile_shared_library(&c, &so).unwrap();
        let out = work.path().join("out");
        let mut a = args(src.path(), &out, &["mleak10"]);
        a.library = vec![format!("bump={}", so.display())];
        let code = run(&a, &paths_in(work.path())).unwrap();
        assert_eq!(format!("{code:?}"), format!("{:?}", ExitCode::SUCCESS));
        let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
        assert!(csv.contains("\nmleak10,bump,"), "{csv}");
        // The same run relative to the external library.
        let mut again = args(src.path(), &out, &["mleak10"]);
        (again.source, again.out, again.from) = (None, None, Some(out.clone()));
        again.reference = "bump".into();
        run(&again, &paths_in(work.path())).unwrap();
        let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
        assert!(
            csv.contains("\nmleak10,bump,1.0000,1.0000,1.0000,1.0000,2,2"),
            "{csv}"
        );
        let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
        assert!(
            md.contains("relative to bump")
                && md.contains("| program | bump speed | system speed |"),
            "{md}"
        );
        let results = MatrixResults::load(&out.join("mleak10/results.json")).unwrap();
        let evidence = &results.program.unwrap().evidence;
        let bump = evidence.iter().find(|e| e.backend == "bump").unwrap();
        assert!(
            bump.banner.as_deref().unwrap().contains("libbump.so"),
            "{bump:?}"
        );
    }

    #[test]
    fn mimallocs_test_stress_comes_from_a_mimalloc_checkout() {
        let mimalloc = tempfile::tempdir().unwrap();
        let stress = mimalloc.path().join("test/test-stress.c");
        std::fs::create_dir_all(stress.parent().unwrap()).unwrap();
        std::fs::write(&stress, ALLOCATES).unwrap();
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("out");
        let mut a = args(work.path(), &out, &[]);
        (a.source, a.programs) = (None, None);
        a.mimalloc_source = Some(mimalloc.path().to_path_buf());
        let code = run(&a, &paths_in(work.path())).unwrap();
        assert_eq!(format!("{code:?}"), format!("{:?}", ExitCode::SUCCESS));
        let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
        assert!(
            md.contains("| test-stress | 1.00 (1.00–1.00) |") && md.contains("32 threads"),
            "{md}"
        );
        let results = MatrixResults::load(&out.join("test-stress/results.json")).unwrap();
        assert_eq!(results.program.unwrap().command[1..], ["32", "50", "50"]);
        let log = std::fs::read_to_string(out.join("logs/build-test-stress.log")).unwrap();
        assert!(log.contains("-DUSE_STD_MALLOC=1"), "{log}");
        // Optimised as the programs' own CMake `Release` builds are.
        assert!(log.contains("-O3 -DNDEBUG"), "{log}");

        // A mimalloc-bench program needs --source.
        a.programs = Some(vec!["cfrac".into()]);
        let e = run(&a, &paths_in(work.path())).unwrap_err();
        assert!(e.contains("`cfrac` needs --source"), "{e}");
    }

    #[test]
    fn a_program_that_does_not_compile_is_reported_and_the_rest_still_runs() {
        let src = checkout(&[
            ("mleak/mleak.c", "this is not C"),
            ("glibc-bench/bench-malloc-simple.c", ALLOCATES),
        ]);
        let work = tempfile::tempdir().unwrap();
        let paths = paths_in(work.path());
        let out = work.path().join("out");
        let code = run(
            &args(src.path(), &out, &["mleak10", "glibc-simple"]),
            &paths,
        )
        .unwrap();
        assert_eq!(format!("{code:?}"), format!("{:?}", ExitCode::from(1)));
        let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
        assert!(md.contains("| mleak10 | — (0/0 ok) |"), "{md}");
        assert!(
            md.contains("programs (built with `-O3 -DNDEBUG`) at"),
            "{md}"
        );
        assert!(md.contains("| glibc-simple | 1.00 (1.00–1.00) |"), "{md}");
        let log = std::fs::read_to_string(out.join("logs/build-mleak.log")).unwrap();
        assert!(log.contains("mleak.c"), "{log}");
    }

    #[test]
    fn bad_requests_are_refused_before_anything_is_built() {
        let src = checkout(&[]);
        let work = tempfile::tempdir().unwrap();
        let paths = paths_in(work.path());
        let out = work.path().join("out");
        let e = run(&args(src.path(), &out, &["larson"]), &paths).unwrap_err();
        assert!(e.contains("larsonN"), "{e}");
        let e = run(&args(work.path(), &out, &["cfrac"]), &paths).unwrap_err();
        assert!(e.contains("not a mimalloc-bench checkout"), "{e}");
        assert!(!out.exists());
    }
}
