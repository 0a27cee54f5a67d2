//! `merge` (`cargo xtask merge`, `cargo allocmux merge`): joins the results of several shards (or runs) into one
//! results file and report, refusing inputs that do not belong together.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::report;
use crate::results::{verify_checksums, MatrixResults};

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

/// Runs `merge`: exit 0 when the inputs were joined; `Err` (exit 2) when they
/// cannot be read or do not belong together.
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
    println!("{}", report::write_all(&merged, &args.out)?);
    println!(
        "merged {} inputs, {} runs → {}",
        args.inputs.len(),
        merged.runs.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use allocmux::Backend;
    use allocmux_workloads::{Params, RunRecord};

    use super::merge;
    use crate::matrix::plan::{self, Shard};
    use crate::report;
    use crate::results::{CellRun, Machine, MatrixResults, RunStatus, SCHEMA};

    /// Results of a fake run over `shard` of the default matrix, with
    /// deterministic numbers per cell and repetition.
    fn fake(shard: Option<Shard>) -> MatrixResults {
        let workloads = plan::select_workloads(None).unwrap();
        let cells = plan::cells(&workloads, &Backend::ALL, None, true, shard);
        let mut runs = Vec::new();
        for c in &cells {
            for rep in 0..3u32 {
                let seed = c.workload.name.len() as f64
                    + c.backend as u8 as f64 * 0.3
                    + f64::from(rep) * 0.01;
                let mut run = CellRun::new(
                    c.workload.name,
                    c.backend.name(),
                    c.threads,
                    rep,
                    RunStatus::Ok,
                );
                run.wall_seconds = 0.1;
                run.record = Some(RunRecord {
                    workload: c.workload.name.into(),
                    backend: c.backend.name().into(),
                    params: Params {
                        threads: c.threads,
                        iterations: 1,
                        min_size: 1,
                        max_size: 2,
                        seed: 3,
                    },
                    operations: 1000,
                    seconds: 0.1,
                    ops_per_sec: 1e6 * seed,
                    checksum: c.workload.name.len() as u64,
                    peak_rss_bytes: (1 << 20) << ((c.workload.name.len() + c.backend as usize) % 3),
                    stats: None,
                    rss_after_idle: Vec::new(),
                    end_of_work: None,
                    latency_ns: None,
                });
                runs.push(run);
            }
        }
        MatrixResults {
            schema: SCHEMA,
            started: "2026-11-27T00:00:00Z".into(),
            mode: "quick".into(),
            shard: shard.map(|s| s.to_string()),
            machine: Machine::default(),
            backends: crate::results::backend_infos(&Backend::ALL, |_| None),
            workloads: crate::results::workload_infos(&workloads),
            runs,
            micro: Vec::new(),
            program: None,
        }
    }

    #[test]
    fn merged_shards_give_the_same_report_as_one_run() {
        let whole = fake(None);
        let parts: Vec<(PathBuf, MatrixResults)> = (1..=2)
            .map(|i| {
                (
                    PathBuf::from(format!("shard-{i}")),
                    fake(Some(Shard { index: i, count: 2 })),
                )
            })
            .collect();
        assert!(parts
            .iter()
            .all(|(_, p)| !p.runs.is_empty() && p.runs.len() < whole.runs.len()));
        let merged = merge(parts).unwrap();
        assert_eq!(merged.runs.len(), whole.runs.len());
        let a = report::render_markdown(&report::summarize(&whole), &whole);
        let b = report::render_markdown(&report::summarize(&merged), &merged);
        assert_eq!(a, b);
    }

    #[test]
    fn the_same_shard_twice_is_refused() {
        let s = Some(Shard { index: 1, count: 2 });
        let err = merge(vec![("a".into(), fake(s)), ("b".into(), fake(s))]).unwrap_err();
        assert!(err.contains("repeats"), "{err}");
    }
}
