//! Allocation latency per backend, from the runs that report `latency_ns`
//! (the `latency` workload): each percentile the median over the successful
//! repetitions, and the ranking by tail (alloc and free p99.9).

use allocmux_workloads::{LatencyReport, Percentiles};

use crate::numbers::{geometric_mean, median};
use crate::results::{MatrixResults, RunStatus};

use super::summary::Score;

/// Picks one kind of call's percentiles out of a report.
pub type KindOf = fn(&LatencyReport) -> Option<Percentiles>;

/// The kinds of call a latency report times, with how tables name them.
pub const KINDS: [(&str, KindOf); 3] = [
    ("alloc", |r| Some(r.alloc)),
    ("free", |r| Some(r.free)),
    ("remote free", |r| r.remote_free),
];

/// One backend's latency figures.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyCell {
    /// Backend name.
    pub backend: String,
    /// Per kind (in [`KINDS`] order): the median of each percentile over the reps.
    pub kinds: Vec<Option<Percentiles>>,
    /// Median timer overhead subtracted, in ns.
    pub timer_overhead_ns: Option<f64>,
}

/// The latency figures of one workload row (normally `latency`).
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyRow {
    /// Workload name.
    pub workload: String,
    /// One cell per backend that has figures.
    pub cells: Vec<LatencyCell>,
}

/// The median, field by field, of several repetitions' percentiles.
fn median_percentiles(all: &[Percentiles]) -> Option<Percentiles> {
    let m = |f: fn(&Percentiles) -> f64| median(&all.iter().map(f).collect::<Vec<_>>());
    Some(Percentiles {
        count: m(|p| p.count as f64)? as u64,
        p50: m(|p| p.p50)?,
        p99: m(|p| p.p99)?,
        p999: m(|p| p.p999)?,
        max: m(|p| p.max)?,
        over_10us: m(|p| p.over_10us as f64)?.round() as u64,
    })
}

/// Every workload whose runs carry latency figures, with a cell per backend.
pub fn latency_rows(results: &MatrixResults, backends: &[String]) -> Vec<LatencyRow> {
    let mut workloads: Vec<&str> = Vec::new();
    for r in &results.runs {
        let has = r.record.as_ref().is_some_and(|x| x.latency_ns.is_some());
        if has && !workloads.contains(&r.workload.as_str()) {
            workloads.push(&r.workload);
        }
    }
    workloads
        .into_iter()
        .map(|w| LatencyRow {
            workload: w.to_owned(),
            cells: backends
                .iter()
                .filter_map(|b| {
                    let reports: Vec<LatencyReport> = results
                        .runs
                        .iter()
                        .filter(|r| r.status == RunStatus::Ok && r.workload == w && r.backend == *b)
                        .filter_map(|r| r.record.as_ref()?.latency_ns)
                        .collect();
                    if reports.is_empty() {
                        return None;
                    }
                    Some(LatencyCell {
                        backend: b.clone(),
                        kinds: KINDS
                            .iter()
                            .map(|(_, f)| {
                                let v: Vec<Percentiles> = reports.iter().filter_map(f).collect();
                                median_percentiles(&v)
                            })
                            .collect(),
                        timer_overhead_ns: median(
                            &reports
                                .iter()
                                .map(|r| r.timer_overhead_ns)
                                .collect::<Vec<_>>(),
                        ),
                    })
                })
                .collect(),
        })
        .collect()
}

/// Backends ranked by tail latency: the geometric mean of alloc and free
/// p99.9 (and remote free where measured), smallest first.
pub fn tail_ranking(rows: &[LatencyRow]) -> Vec<Score> {
    let Some(row) = rows.first() else {
        return Vec::new();
    };
    let mut scores: Vec<Score> = row
        .cells
        .iter()
        .filter_map(|c| {
            let tails: Vec<f64> = c.kinds.iter().flatten().map(|p| p.p999.max(1.0)).collect();
            Some(Score {
                backend: c.backend.clone(),
                value: geometric_mean(&tails)?,
            })
        })
        .collect();
    scores.sort_by(|a, b| a.value.total_cmp(&b.value));
    scores
}
