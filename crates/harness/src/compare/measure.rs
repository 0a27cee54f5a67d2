//! Measuring the contenders: every backend `reps` times in shuffled rounds,
//! results saved after every run, the optional check that every run printed
//! what the system allocator's runs printed, and the reports at the end.

use std::path::Path;
use std::time::Duration;

use super::contender::{run_once, Contender};
use super::Metric;
use crate::machine;
use crate::matrix::plan::shuffled_rounds;
use crate::progress::Progress;
use crate::results::{
    BackendInfo, CellRun, MatrixResults, ProgramInfo, RunStatus, WorkloadInfo, SCHEMA,
};

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
    /// Resident-memory sampling period.
    pub sample: Duration,
    /// The program's own figure, if asked for.
    pub metric: Option<&'a Metric>,
    /// When the comparison started (RFC 3339).
    pub started: String,
    /// The results directory (results.json is rewritten after every run).
    pub out: &'a Path,
    /// Whether the backends are preloaded libraries.
    pub preload: bool,
    /// Whether a run whose output differs from the system allocator's fails.
    pub check_output: bool,
}

/// Runs every contender `reps` times in shuffled rounds, saving after every run.
pub fn measure(
    contenders: &[Contender],
    label: &str,
    mut program: ProgramInfo,
    s: &MeasureSettings<'_>,
) -> Result<MatrixResults, String> {
    program.evidence = contenders.iter().map(|c| c.evidence.clone()).collect();
    let mut results = MatrixResults {
        schema: SCHEMA,
        started: s.started.clone(),
        mode: "compare".into(),
        shard: None,
        machine: machine::describe(),
        backends: contenders
            .iter()
            .map(|c| BackendInfo {
                name: c.name.clone(),
                version: None,
                description: c.description.clone(),
            })
            .collect(),
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
        progress.start(&format!("{label} on {}", c.name));
        let run = run_once(c, s, label, rep);
        if run.status != RunStatus::Ok {
            progress.note(&format!(
                "{} rep {rep}: {:?}: {}",
                c.name,
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
    if s.check_output {
        for problem in check_outputs(&mut results.runs) {
            eprintln!("output differs: {problem}");
        }
        results.save(&json)?;
    }
    Ok(results)
}

/// Marks the runs whose standard output differs from the system allocator's
/// (the most common output of its runs) as failed; says which.
pub fn check_outputs(runs: &mut [CellRun]) -> Vec<String> {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for r in runs
        .iter()
        .filter(|r| r.backend == "system" && r.status == RunStatus::Ok)
    {
        if let Some(d) = &r.stdout_digest {
            *counts.entry(d.as_str()).or_default() += 1;
        }
    }
    let Some(reference) = counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(d, _)| d.to_owned())
    else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    for r in runs.iter_mut().filter(|r| r.status == RunStatus::Ok) {
        if r.stdout_digest.as_deref() != Some(reference.as_str()) {
            r.status = RunStatus::ChecksumMismatch;
            r.error = Some("its standard output differs from the system allocator's run".into());
            problems.push(format!("{} run {}", r.backend, r.rep));
        }
    }
    problems
}
