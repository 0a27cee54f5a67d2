//! `cargo xtask merge`: joins the results of several shards (or runs) into one
//! results file and report, refusing inputs that do not belong together.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::matrix::verify_checksums;
use crate::report;
use crate::results::MatrixResults;

/// Options of `cargo xtask merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Result directories (or results.json files) to join.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Directory for the merged results and report.
    #[arg(long)]
    out: PathBuf,
}

fn results_file(p: &Path) -> PathBuf {
    if p.is_dir() {
        p.join("results.json")
    } else {
        p.to_path_buf()
    }
}

/// Joins `parts` into one set of results: every run kept once, backends and
/// workloads in first-seen order, the first part's machine and start time.
pub fn merge(parts: Vec<(PathBuf, MatrixResults)>) -> Result<MatrixResults, String> {
    let mut iter = parts.into_iter();
    let (first_path, mut merged) = iter.next().ok_or("nothing to merge")?;
    merged.shard = None;
    for (path, part) in iter {
        if part.mode != merged.mode {
            return Err(format!(
                "{} holds a {} run but {} a {} run; merge runs of one mode",
                path.display(),
                part.mode,
                first_path.display(),
                merged.mode
            ));
        }
        for b in part.backends {
            if !merged.backends.iter().any(|m| m.name == b.name) {
                merged.backends.push(b);
            }
        }
        for w in part.workloads {
            if !merged.workloads.iter().any(|m| m.name == w.name) {
                merged.workloads.push(w);
            }
        }
        for run in part.runs {
            if merged
                .runs
                .iter()
                .any(|m| m.key() == run.key() && m.rep == run.rep)
            {
                return Err(format!(
                    "{} repeats {} on {} ×{} rep {}, which another input already holds",
                    path.display(),
                    run.workload,
                    run.backend,
                    run.threads,
                    run.rep
                ));
            }
            merged.runs.push(run);
        }
        merged.micro.extend(part.micro);
    }
    // Keep the report's backend order (the system allocator first).
    merged
        .backends
        .sort_by_key(|b| allocmux::Backend::from_name(&b.name));
    let order = |name: &str| {
        allocmux_workloads::all()
            .iter()
            .position(|w| w.name == name)
    };
    merged.workloads.sort_by_key(|w| order(&w.name));
    verify_checksums(&mut merged.runs);
    Ok(merged)
}

/// Runs `cargo xtask merge`.
pub fn run(args: &MergeArgs) -> Result<ExitCode, String> {
    let mut parts = Vec::new();
    for input in &args.inputs {
        let file = results_file(input);
        parts.push((file.clone(), MatrixResults::load(&file)?));
    }
    let merged = merge(parts)?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    merged.save(&args.out.join("results.json"))?;
    let summary = report::write_all(&merged, &args.out)?;
    println!("{}", report::render_terminal(&summary));
    println!(
        "merged {} inputs, {} runs → {}",
        args.inputs.len(),
        merged.runs.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
