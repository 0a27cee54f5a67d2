//! Memory over time and memory given back, per workload row and backend: the
//! resident memory sampled from outside every run (peak, time-weighted mean,
//! the timeline), what the runner measured after the workload freed
//! everything and idled (the drain phase), and — with the façade's `stats`
//! layer — resident bytes per live requested byte (the overhead ratio) at the
//! peak and when the work ended. Medians over the successful repetitions.

use crate::numbers::{geometric_mean, median};
use crate::results::{CellRun, MatrixResults, RunStatus};

use super::summary::{Row, Score};

/// One backend's memory figures in one row.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryCell {
    /// Backend name.
    pub backend: String,
    /// Peak resident bytes (sampled; the runner's own peak when not sampled).
    pub peak: Option<f64>,
    /// Time-weighted mean resident bytes while the process ran.
    pub mean: Option<f64>,
    /// Resident bytes after each idle time of the drain phase: `(ms, bytes)`.
    pub after_idle: Vec<(u64, f64)>,
    /// Of those, bytes already given back with `MADV_FREE` at the last idle time.
    pub lazy_free: Option<f64>,
    /// Resident bytes per live requested byte at the peak (`stats` runs).
    pub overhead_peak: Option<f64>,
    /// Resident bytes per live requested byte when the work ended.
    pub overhead_end: Option<f64>,
    /// One repetition's timeline (the one whose peak is the median), `[s, bytes]`.
    pub timeline: Vec<[f64; 2]>,
    /// Growth of resident memory over that repetition's work, when it worked
    /// for at least [`CREEP_MIN_SECONDS`]: the mean of the last quarter of the
    /// work over the mean of its second quarter, minus 1.
    pub creep: Option<f64>,
}

/// Work shorter than this says nothing about creep.
pub const CREEP_MIN_SECONDS: f64 = 2.0;

/// The creep of a timeline whose work lasted `seconds` from its start.
pub fn creep(timeline: &[[f64; 2]], seconds: f64) -> Option<f64> {
    if seconds < CREEP_MIN_SECONDS {
        return None;
    }
    let mean = |a: f64, b: f64| {
        let v: Vec<f64> = timeline
            .iter()
            .filter(|p| p[0] >= a * seconds && p[0] < b * seconds)
            .map(|p| p[1])
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    Some(mean(0.75, 1.0)? / mean(0.25, 0.5)? - 1.0)
}

impl MemoryCell {
    /// Resident bytes at the last idle time as a fraction of the peak.
    pub fn kept_after_idle(&self) -> Option<f64> {
        let (_, last) = self.after_idle.last()?;
        Some(last / self.peak?)
    }
}

/// The memory figures of one workload × threads row.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryRow {
    /// The row's label, as in the throughput tables.
    pub label: String,
    /// One cell per backend, in the summary's order.
    pub cells: Vec<MemoryCell>,
}

fn med(runs: &[&CellRun], f: impl Fn(&CellRun) -> Option<f64>) -> Option<f64> {
    let v: Vec<f64> = runs.iter().filter_map(|r| f(r)).collect();
    median(&v)
}

fn cell(backend: &str, runs: &[&CellRun]) -> MemoryCell {
    let peak_of = |r: &CellRun| {
        r.rss_sampled
            .map(|s| s.peak_bytes as f64)
            .or_else(|| r.record.as_ref().map(|x| x.peak_rss_bytes as f64))
    };
    let mut idle_ms: Vec<u64> = runs
        .iter()
        .filter_map(|r| r.record.as_ref())
        .flat_map(|x| x.rss_after_idle.iter().map(|i| i.idle_ms))
        .collect();
    idle_ms.sort_unstable();
    idle_ms.dedup();
    let idle_at = |ms: u64, f: fn(&allocmux_workloads::IdleRss) -> u64| {
        med(runs, |r| {
            let x = r
                .record
                .as_ref()?
                .rss_after_idle
                .iter()
                .find(|i| i.idle_ms == ms)?;
            Some(f(x) as f64)
        })
    };
    let after_idle: Vec<(u64, f64)> = idle_ms
        .iter()
        .filter_map(|&ms| Some((ms, idle_at(ms, |i| i.rss_bytes)?)))
        .collect();
    let lazy_free = idle_ms
        .last()
        .and_then(|&ms| idle_at(ms, |i| i.lazy_free_bytes));
    // The timeline shown: the repetition with the median peak.
    let mut by_peak: Vec<&&CellRun> = runs.iter().filter(|r| !r.rss_timeline.is_empty()).collect();
    by_peak.sort_by(|a, b| {
        peak_of(a)
            .unwrap_or(0.0)
            .total_cmp(&peak_of(b).unwrap_or(0.0))
    });
    let shown = by_peak.get(by_peak.len() / 2);
    let timeline = shown.map(|r| r.rss_timeline.clone()).unwrap_or_default();
    let work = shown
        .and_then(|r| r.record.as_ref())
        .map_or(0.0, |x| x.seconds);
    MemoryCell {
        backend: backend.to_owned(),
        peak: med(runs, peak_of),
        mean: med(runs, |r| r.rss_sampled.map(|s| s.mean_bytes as f64)),
        after_idle,
        lazy_free,
        overhead_peak: med(runs, |r| {
            let live = r.record.as_ref()?.stats?.bytes_peak as f64;
            (live > 0.0).then(|| peak_of(r).unwrap_or(0.0) / live)
        }),
        overhead_end: med(runs, |r| {
            let end = r.record.as_ref()?.end_of_work?;
            let live = end.live_bytes? as f64;
            (live > 0.0).then(|| end.rss_bytes as f64 / live)
        }),
        creep: creep(&timeline, work),
        timeline,
    }
}

/// The memory figures of every row, one cell per backend.
pub fn memory_rows(results: &MatrixResults, rows: &[Row], backends: &[String]) -> Vec<MemoryRow> {
    rows.iter()
        .map(|row| MemoryRow {
            label: row.label.clone(),
            cells: backends
                .iter()
                .map(|b| {
                    let runs: Vec<&CellRun> = results
                        .runs
                        .iter()
                        .filter(|r| {
                            r.status == RunStatus::Ok
                                && r.workload == row.workload
                                && r.threads == row.threads
                                && r.backend == *b
                        })
                        .collect();
                    cell(b, &runs)
                })
                .collect(),
        })
        .collect()
}

/// Backends ranked by how much of their peak they still hold after the last
/// idle time (geometric mean over the rows every backend has; smallest first).
pub fn return_ranking(rows: &[MemoryRow]) -> Vec<Score> {
    let Some(first) = rows.first() else {
        return Vec::new();
    };
    let mut scores: Vec<Score> = (0..first.cells.len())
        .filter_map(|i| {
            let kept: Vec<f64> = rows
                .iter()
                .filter(|r| r.cells.iter().all(|c| c.kept_after_idle().is_some()))
                .filter_map(|r| r.cells[i].kept_after_idle())
                .map(|k| k.max(1e-3))
                .collect();
            Some(Score {
                backend: first.cells[i].backend.clone(),
                value: geometric_mean(&kept)?,
            })
        })
        .collect();
    scores.sort_by(|a, b| a.value.total_cmp(&b.value));
    scores
}

#[cfg(test)]
mod tests {
    use super::creep;

    #[test]
    fn creep_compares_the_last_quarter_with_the_second() {
        let flat: Vec<[f64; 2]> = (0..100).map(|i| [i as f64 * 0.1, 100.0]).collect();
        assert_eq!(creep(&flat, 10.0), Some(0.0));
        let growing: Vec<[f64; 2]> = (0..100)
            .map(|i| [i as f64 * 0.1, 100.0 + i as f64])
            .collect();
        let c = creep(&growing, 10.0).unwrap();
        assert!(c > 0.3 && c < 0.6, "{c}");
        assert_eq!(creep(&flat, 1.0), None);
    }
}
