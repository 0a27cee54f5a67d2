//! Statistics of a matrix run: per-cell medians and spreads over the
//! successful repetitions, throughput and memory relative to the system
//! allocator in the same workload × threads row, the best backend per row, and
//! the recommendation (geometric means over the rows every compared backend
//! has data for).
//!
//! Relative throughput is paired: each repetition's run is divided by the
//! system allocator's run of the same repetition, and the cell shows the
//! median and min–max of those ratios. The matrix runs a row's backends back
//! to back within a repetition, so a pair shares the machine's state and its
//! ratio carries less of the host's drift than a ratio of two medians.

use std::collections::BTreeMap;

use crate::numbers::{median, Spread};
use crate::results::{MatrixResults, RunStatus};

/// Name of the baseline backend every ratio is relative to.
pub const BASELINE: &str = "system";

/// Two scores closer than this (relative) are called a tie in the text.
pub const TIE: f64 = 0.03;

/// What a cell has to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellState {
    /// Every repetition succeeded.
    Ok,
    /// Some repetitions succeeded, some did not; the numbers use the successful ones.
    Partial,
    /// No repetition succeeded; most of them failed.
    Failed,
    /// No repetition succeeded; most of them timed out.
    Timeout,
    /// No repetition succeeded; most of them computed a different checksum.
    Mismatch,
    /// The cell never ran (a shard missing, a backend that was skipped).
    NotRun,
}

impl CellState {
    /// Whether the cell has numbers.
    pub fn has_data(self) -> bool {
        matches!(self, CellState::Ok | CellState::Partial)
    }
}

/// One workload × backend × threads cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Backend name.
    pub backend: String,
    /// What the cell shows.
    pub state: CellState,
    /// Repetitions recorded.
    pub reps: usize,
    /// Repetitions that succeeded (the statistics use only these).
    pub ok: usize,
    /// Repetitions that crashed or printed no valid record.
    pub failed: usize,
    /// Repetitions killed after the time limit.
    pub timeout: usize,
    /// Repetitions whose checksum disagreed with the other backends.
    pub mismatch: usize,
    /// Throughput in operations per second: median, min, max.
    pub throughput: Option<Spread>,
    /// Throughput relative to the system allocator in the same row: median and
    /// min–max of the per-repetition ratios (each run divided by the system
    /// run of the same repetition). The system cell itself shows its own
    /// spread around its median; a cell with no repetition in common with the
    /// system cell falls back to its spread divided by the system median.
    pub relative: Option<Spread>,
    /// Median peak resident set size, in bytes.
    pub peak_rss: Option<f64>,
    /// Median peak RSS relative to the system allocator's in the same row.
    pub rss_relative: Option<f64>,
    /// Throughput of each successful repetition, as (repetition, ops/s), in the
    /// order recorded: what pairs this cell's runs with another cell's.
    pub by_rep: Vec<(u32, f64)>,
}

/// One workload at one thread count: a cell per backend.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Workload name.
    pub workload: String,
    /// Pattern class of the workload.
    pub class: String,
    /// Thread count.
    pub threads: usize,
    /// How tables name the row: the workload, plus the thread count when the
    /// workload ran at more than one.
    pub label: String,
    /// One cell per backend, in [`Summary::backends`] order.
    pub cells: Vec<Cell>,
    /// The system allocator's median throughput in this row, if it has one.
    pub baseline: Option<f64>,
    /// Index into `cells` of the fastest backend, when at least two have data
    /// (by relative median when the row is relative, else by throughput).
    pub best: Option<usize>,
}

impl Row {
    /// Whether the row's numbers are relative to the system allocator.
    pub fn is_relative(&self) -> bool {
        self.baseline.is_some()
    }
}

/// One repetition that did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Workload name.
    pub workload: String,
    /// Backend name.
    pub backend: String,
    /// Thread count.
    pub threads: usize,
    /// Repetition number.
    pub rep: u32,
    /// How it ended.
    pub status: RunStatus,
    /// What went wrong (empty when the matrix recorded nothing).
    pub error: String,
}

/// A backend's score in a ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// Backend name.
    pub backend: String,
    /// Geometric mean of its per-row ratios.
    pub value: f64,
}

/// The throughput ranking within one pattern class.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassRanking {
    /// Pattern class.
    pub class: String,
    /// Complete rows of that class the ranking uses.
    pub rows: usize,
    /// Fastest first.
    pub ranking: Vec<Score>,
}

/// What the numbers recommend, and on which data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Recommendation {
    /// Backends in the rankings.
    pub compared: Vec<String>,
    /// Backends left out of the rankings, with the reason.
    pub excluded: Vec<(String, String)>,
    /// Rows every compared backend has data for (the rankings use only these).
    pub rows_used: usize,
    /// Rows left out, by label, with the reason.
    pub rows_skipped: Vec<(String, String)>,
    /// Whether the ratios are relative to the system allocator (otherwise to
    /// the geometric mean of the compared backends in each row).
    pub relative_to_system: bool,
    /// Geometric mean of relative throughput, fastest first.
    pub overall: Vec<Score>,
    /// The same per pattern class, in workload order of the classes.
    pub by_class: Vec<ClassRanking>,
    /// Geometric mean of relative peak RSS, smallest first.
    pub memory: Vec<Score>,
    /// Share of its peak each backend still holds after the drain phase's last
    /// idle time (geometric mean over the rows), smallest first.
    pub memory_return: Vec<Score>,
    /// The idle time, in ms, that `memory_return` is measured at.
    pub return_idle_ms: Option<u64>,
    /// Tail latency (p99.9 of alloc and free, geometric mean, ns), smallest first.
    pub tail_latency: Vec<Score>,
}

/// Everything the renderers need: per-cell statistics, rankings and the
/// recommendation.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// When the run started.
    pub started: String,
    /// `"quick"` or `"full"`.
    pub mode: String,
    /// Backend names, in report order (columns of every table).
    pub backends: Vec<String>,
    /// Workload × threads rows, in registry order.
    pub rows: Vec<Row>,
    /// Every repetition that did not succeed, in the order they ran.
    pub failures: Vec<Failure>,
    /// The rankings and what they are based on.
    pub recommendation: Recommendation,
}

impl Summary {
    /// Whether any row has the system allocator's numbers to compare with.
    pub fn has_baseline(&self) -> bool {
        self.rows.iter().any(Row::is_relative)
    }

    /// Rows without system data (their numbers are absolute).
    pub fn absolute_rows(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| !r.is_relative())
    }

    /// `(row, cell)` of every cell that has no successful repetition but ran.
    pub fn failed_cells(&self) -> impl Iterator<Item = (&Row, &Cell)> {
        self.rows.iter().flat_map(|r| {
            r.cells
                .iter()
                .filter(|c| {
                    matches!(
                        c.state,
                        CellState::Failed | CellState::Timeout | CellState::Mismatch
                    )
                })
                .map(move |c| (r, c))
        })
    }

    /// `(row, cell)` of every cell where some, not all, repetitions failed.
    pub fn partial_cells(&self) -> impl Iterator<Item = (&Row, &Cell)> {
        self.rows.iter().flat_map(|r| {
            r.cells
                .iter()
                .filter(|c| c.state == CellState::Partial)
                .map(move |c| (r, c))
        })
    }
}

/// Computes the statistics, rankings and recommendation of a matrix run.
pub fn summarize(results: &MatrixResults) -> Summary {
    // Columns: the declared backends, then any that only appear in runs.
    let mut backends: Vec<String> = results.backends.iter().map(|b| b.name.clone()).collect();
    for run in &results.runs {
        if !backends.contains(&run.backend) {
            backends.push(run.backend.clone());
        }
    }
    // Keep the baseline first whatever the file says.
    if let Some(i) = backends.iter().position(|b| b == BASELINE) {
        let b = backends.remove(i);
        backends.insert(0, b);
    }

    // Rows: workloads in registry order, then any only in runs; threads ascending.
    let mut workloads: Vec<(String, String)> = results
        .workloads
        .iter()
        .map(|w| (w.name.clone(), w.class.clone()))
        .collect();
    for run in &results.runs {
        if !workloads.iter().any(|(w, _)| *w == run.workload) {
            workloads.push((run.workload.clone(), "unclassified".to_string()));
        }
    }
    let mut threads: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for run in &results.runs {
        let t = threads.entry(run.workload.as_str()).or_default();
        if !t.contains(&run.threads) {
            t.push(run.threads);
        }
    }

    let mut rows = Vec::new();
    for (workload, class) in &workloads {
        let Some(counts) = threads.get(workload.as_str()) else {
            continue; // declared but never ran
        };
        let mut counts = counts.clone();
        counts.sort_unstable();
        for &t in &counts {
            let label = if counts.len() > 1 {
                format!("{workload} ({t}t)")
            } else {
                workload.clone()
            };
            rows.push(build_row(results, workload, class, t, label, &backends));
        }
    }

    let failures = results
        .runs
        .iter()
        .filter(|r| r.status != RunStatus::Ok || r.record.is_none())
        .map(|r| Failure {
            workload: r.workload.clone(),
            backend: r.backend.clone(),
            threads: r.threads,
            rep: r.rep,
            status: if r.status == RunStatus::Ok {
                RunStatus::Failed
            } else {
                r.status
            },
            error: match (&r.error, r.status) {
                (Some(e), _) => e.trim().to_string(),
                (None, RunStatus::Ok) => "the run succeeded but recorded no result".to_string(),
                (None, _) => String::new(),
            },
        })
        .collect();

    let mut recommendation = super::recommend::recommend(&rows, &backends);
    let memory = super::memory::memory_rows(results, &rows, &backends);
    recommendation.memory_return = super::memory::return_ranking(&memory);
    recommendation.return_idle_ms = memory
        .iter()
        .flat_map(|r| r.cells.iter())
        .filter_map(|c| c.after_idle.last().map(|(ms, _)| *ms))
        .max();
    recommendation.tail_latency =
        super::latency::tail_ranking(&super::latency::latency_rows(results, &backends));
    Summary {
        started: results.started.clone(),
        mode: results.mode.clone(),
        backends,
        rows,
        failures,
        recommendation,
    }
}

fn build_row(
    results: &MatrixResults,
    workload: &str,
    class: &str,
    threads: usize,
    label: String,
    backends: &[String],
) -> Row {
    let mut cells: Vec<Cell> = backends
        .iter()
        .map(|backend| {
            let runs = results.runs.iter().filter(|r| {
                r.workload == workload && r.threads == threads && r.backend == *backend
            });
            let mut cell = Cell {
                backend: backend.clone(),
                state: CellState::NotRun,
                reps: 0,
                ok: 0,
                failed: 0,
                timeout: 0,
                mismatch: 0,
                throughput: None,
                relative: None,
                peak_rss: None,
                rss_relative: None,
                by_rep: Vec::new(),
            };
            let mut ops = Vec::new();
            let mut reps = Vec::new();
            let mut rss = Vec::new();
            for run in runs {
                cell.reps += 1;
                match (run.status, &run.record) {
                    (RunStatus::Ok, Some(rec)) => {
                        cell.ok += 1;
                        ops.push(rec.ops_per_sec);
                        reps.push((run.rep, rec.ops_per_sec));
                        // The sampled peak is the runner's own; older results carry
                        // only the runner's report.
                        let peak = run.rss_sampled.map_or(rec.peak_rss_bytes, |s| s.peak_bytes);
                        rss.push(peak as f64);
                    }
                    (RunStatus::Ok, None) | (RunStatus::Failed, _) => cell.failed += 1,
                    (RunStatus::Timeout, _) => cell.timeout += 1,
                    (RunStatus::ChecksumMismatch, _) => cell.mismatch += 1,
                }
            }
            cell.by_rep = reps;
            cell.throughput = Spread::of(&ops);
            cell.peak_rss = median(&rss);
            cell.state = if cell.reps == 0 {
                CellState::NotRun
            } else if cell.ok == cell.reps {
                CellState::Ok
            } else if cell.ok > 0 {
                CellState::Partial
            } else if cell.failed >= cell.timeout && cell.failed >= cell.mismatch {
                CellState::Failed
            } else if cell.timeout >= cell.mismatch {
                CellState::Timeout
            } else {
                CellState::Mismatch
            };
            cell
        })
        .collect();

    let base_index = cells.iter().position(|c| c.backend == BASELINE);
    let base_cell = base_index.map(|i| &cells[i]);
    let baseline = base_cell
        .and_then(|c| c.throughput)
        .map(|s| s.median)
        .filter(|m| *m > 0.0);
    let baseline_rss = base_cell.and_then(|c| c.peak_rss).filter(|m| *m > 0.0);
    let base_reps: Vec<(u32, f64)> = base_cell.map_or_else(Vec::new, |c| c.by_rep.clone());
    for (i, cell) in cells.iter_mut().enumerate() {
        if let (Some(base), Some(t)) = (baseline, cell.throughput) {
            let paired = if Some(i) == base_index {
                None
            } else {
                paired_ratios(&cell.by_rep, &base_reps)
            };
            cell.relative = Some(paired.unwrap_or_else(|| t.relative_to(base)));
        }
        if let (Some(base), Some(r)) = (baseline_rss, cell.peak_rss) {
            cell.rss_relative = Some(r / base);
        }
    }

    let with_data: Vec<(usize, f64)> = cells
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let score = if baseline.is_some() {
                c.relative.map(|r| r.median)
            } else {
                c.throughput.map(|t| t.median)
            };
            score.map(|v| (i, v))
        })
        .collect();
    let best = if with_data.len() >= 2 {
        with_data
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| *i)
    } else {
        None
    };

    Row {
        workload: workload.to_string(),
        class: class.to_string(),
        threads,
        label,
        cells,
        baseline,
        best,
    }
}

/// The ratios `runs[k] / base[k]` over the repetitions both have, in `runs`'
/// order (a repetition number appearing twice pairs in order of appearance;
/// a zero in `base` pairs with nothing).
pub fn ratios_by_rep(runs: &[(u32, f64)], base: &[(u32, f64)]) -> Vec<f64> {
    let mut used = vec![false; base.len()];
    let mut ratios = Vec::new();
    for &(rep, ops) in runs {
        let partner = (0..base.len()).find(|&j| !used[j] && base[j].0 == rep && base[j].1 > 0.0);
        if let Some(j) = partner {
            used[j] = true;
            ratios.push(ops / base[j].1);
        }
    }
    ratios
}

/// Median and min–max of [`ratios_by_rep`], or `None` when the two share no
/// repetition.
fn paired_ratios(runs: &[(u32, f64)], base: &[(u32, f64)]) -> Option<Spread> {
    Spread::of(&ratios_by_rep(runs, base))
}
