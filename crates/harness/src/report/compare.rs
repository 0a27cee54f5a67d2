//! The statistics of a `compare`: one program, one row per backend — wall
//! time, CPU time, peak RSS and page faults with their min–max spreads, each
//! relative to the system allocator — and the recommendation for this
//! program: fastest, leanest, and plainly when the leader's spread overlaps
//! the runner-up's, so that the difference is within noise. The terminal and
//! Markdown renderers are in `compare_text.rs`, the HTML page in `compare_html.rs`.

use std::fmt::Write as _;

use super::format::{mib, state_word};
use super::summary::{CellState, Failure, BASELINE};
use crate::numbers::{median, Spread};
use crate::results::{MatrixResults, RunStatus};

/// One backend's numbers over its successful runs.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendRow {
    /// Backend name.
    pub backend: String,
    /// What the row has to show.
    pub state: CellState,
    /// Runs recorded.
    pub reps: usize,
    /// Runs that succeeded.
    pub ok: usize,
    /// Wall time in seconds.
    pub wall: Option<Spread>,
    /// The system allocator's median wall time ÷ this backend's (higher is faster).
    pub speed: Option<f64>,
    /// User CPU seconds.
    pub user: Option<Spread>,
    /// System CPU seconds.
    pub system: Option<Spread>,
    /// Peak RSS in bytes.
    pub rss: Option<Spread>,
    /// Median peak RSS ÷ the system allocator's.
    pub rss_relative: Option<f64>,
    /// Median minor page faults.
    pub minor_faults: Option<f64>,
    /// Median major page faults.
    pub major_faults: Option<f64>,
    /// The program's own figure.
    pub metric: Option<Spread>,
}

/// Everything the compare renderers need.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareSummary {
    /// The program's name.
    pub label: String,
    /// The command line as run.
    pub command: String,
    /// How the backends were put in place (`façade`, `preload`).
    pub method: String,
    /// When the comparison started.
    pub started: String,
    /// `--metric` and whether larger is better, when given.
    pub metric: Option<(String, bool)>,
    /// One row per backend, the system allocator first.
    pub rows: Vec<BackendRow>,
    /// Every run that did not succeed.
    pub failures: Vec<Failure>,
    /// The recommendation, as sentences.
    pub recommendation: Vec<String>,
}

fn spread_of<T>(runs: &[&T], f: impl Fn(&T) -> Option<f64>) -> Option<Spread> {
    let v: Vec<f64> = runs.iter().filter_map(|r| f(r)).collect();
    Spread::of(&v)
}

/// Computes the per-backend statistics and the recommendation.
pub fn summarize(results: &MatrixResults) -> CompareSummary {
    let program = results.program.clone();
    let mut backends: Vec<String> = results.backends.iter().map(|b| b.name.clone()).collect();
    for r in &results.runs {
        if !backends.contains(&r.backend) {
            backends.push(r.backend.clone());
        }
    }
    let mut rows: Vec<BackendRow> = backends
        .iter()
        .map(|b| {
            let all: Vec<_> = results.runs.iter().filter(|r| r.backend == *b).collect();
            let ok: Vec<_> = all
                .iter()
                .copied()
                .filter(|r| r.status == RunStatus::Ok)
                .collect();
            let usage = |f: fn(&crate::process::Usage) -> f64| {
                spread_of(&ok, move |r: &crate::results::CellRun| {
                    r.usage.as_ref().map(f)
                })
            };
            let faults = |f: fn(&crate::process::Usage) -> u64| {
                let v: Vec<f64> = ok
                    .iter()
                    .filter_map(|r| r.usage.as_ref().map(|u| f(u) as f64))
                    .collect();
                median(&v)
            };
            BackendRow {
                backend: b.clone(),
                state: if all.is_empty() {
                    CellState::NotRun
                } else if ok.len() == all.len() {
                    CellState::Ok
                } else if !ok.is_empty() {
                    CellState::Partial
                } else if all.iter().any(|r| r.status == RunStatus::Timeout) {
                    CellState::Timeout
                } else {
                    CellState::Failed
                },
                reps: all.len(),
                ok: ok.len(),
                wall: spread_of(&ok, |r| Some(r.wall_seconds)),
                speed: None,
                user: usage(|u| u.user_seconds),
                system: usage(|u| u.system_seconds),
                // The sampled peak is the program's own; `wait4`'s carries the
                // spawning harness's size (see `process::Usage`).
                rss: spread_of(&ok, |r: &crate::results::CellRun| {
                    r.rss_sampled
                        .map(|s| s.peak_bytes as f64)
                        .or_else(|| r.usage.map(|u| u.peak_rss_bytes as f64))
                }),
                rss_relative: None,
                minor_faults: faults(|u| u.minor_faults),
                major_faults: faults(|u| u.major_faults),
                metric: spread_of(&ok, |r| r.metric),
            }
        })
        .collect();
    let base = rows.iter().find(|r| r.backend == BASELINE).cloned();
    for row in &mut rows {
        if let Some(base) = &base {
            if let (Some(b), Some(w)) = (base.wall, row.wall) {
                row.speed = Some(b.median / w.median);
            }
            if let (Some(b), Some(r)) = (base.rss, row.rss) {
                row.rss_relative = Some(r.median / b.median);
            }
        }
    }
    let metric = program
        .as_ref()
        .and_then(|p| p.metric.as_ref())
        .map(|m| (m.spec.clone(), m.higher_is_better));
    let failures = results
        .runs
        .iter()
        .filter(|r| r.status != RunStatus::Ok)
        .map(|r| Failure {
            workload: r.workload.clone(),
            backend: r.backend.clone(),
            threads: r.threads,
            rep: r.rep,
            status: r.status,
            error: r.error.clone().unwrap_or_default(),
        })
        .collect();
    let mut summary = CompareSummary {
        label: results
            .workloads
            .first()
            .map(|w| w.name.clone())
            .unwrap_or_default(),
        command: program
            .as_ref()
            .map(|p| p.command.join(" "))
            .unwrap_or_default(),
        method: program
            .as_ref()
            .map(|p| p.method.clone())
            .unwrap_or_default(),
        started: results.started.clone(),
        metric,
        rows,
        failures,
        recommendation: Vec::new(),
    };
    summary.recommendation = recommend(&summary);
    summary.recommendation.extend(output_note(results));
    summary
}

/// Whether every successful run printed what the system allocator's runs printed.
fn output_note(results: &MatrixResults) -> Option<String> {
    let digest = |r: &&crate::results::CellRun| r.stdout_digest.clone();
    let ok: Vec<_> = results
        .runs
        .iter()
        .filter(|r| r.status == RunStatus::Ok && r.stdout_digest.is_some())
        .collect();
    let reference = ok.iter().find(|r| r.backend == BASELINE).and_then(digest)?;
    let differing: Vec<String> = ok
        .iter()
        .filter(|r| r.stdout_digest.as_deref() != Some(reference.as_str()))
        .map(|r| format!("{} run {}", r.backend, r.rep))
        .collect();
    Some(if differing.is_empty() {
        format!(
            "Output: all {} successful runs printed the same standard output as the system allocator's.",
            ok.len()
        )
    } else {
        format!(
            "Output: {} of {} runs printed something other than the system allocator's first run ({}); \
             --check-output makes that a failure.",
            differing.len(),
            ok.len(),
            differing.join(", ")
        )
    })
}

/// Seconds with three significant digits: `1.23 s`, `45.6 ms`.
pub fn secs(s: f64) -> String {
    if s >= 100.0 {
        format!("{s:.0} s")
    } else if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1e3)
    }
}

/// A spread as `1.23 s (1.20–1.30 s)`, each value through `f`.
pub fn spread_text(s: &Spread, f: fn(f64) -> String) -> String {
    format!("{} ({}–{})", f(s.median), f(s.min), f(s.max))
}

fn mib_text(b: f64) -> String {
    format!("{} MiB", mib(b))
}

/// The sentence on the leader by `key` (smaller is better when `lower`): by
/// how much it beats the runner-up, and whether that is within noise (its
/// min–max overlaps another backend's).
fn leader_sentence(
    rows: &[&BackendRow],
    what: &str,
    key: impl Fn(&BackendRow) -> Option<Spread>,
    lower: bool,
    show: fn(f64) -> String,
) -> Option<String> {
    let mut ranked: Vec<(&BackendRow, Spread)> =
        rows.iter().filter_map(|r| Some((*r, key(r)?))).collect();
    if ranked.len() < 2 {
        return None;
    }
    ranked.sort_by(|a, b| {
        let o = a.1.median.total_cmp(&b.1.median);
        if lower {
            o
        } else {
            o.reverse()
        }
    });
    let (first, a) = ranked[0];
    let (second, b) = ranked[1];
    let gain = if lower {
        1.0 - a.median / b.median
    } else {
        a.median / b.median - 1.0
    };
    let mut s = if gain < 0.0005 {
        format!(
            "{what}: {} and {} tie, median {}.",
            first.backend,
            second.backend,
            show(a.median)
        )
    } else {
        format!(
            "{what}: {}, median {} — {:.1} % better than the runner-up, {} ({}).",
            first.backend,
            show(a.median),
            gain * 100.0,
            second.backend,
            show(b.median)
        )
    };
    let overlapping: Vec<&str> = ranked[1..]
        .iter()
        .filter(|(_, x)| x.min <= a.max && a.min <= x.max)
        .map(|(r, _)| r.backend.as_str())
        .collect();
    if overlapping.len() + 1 == ranked.len() {
        let _ = write!(
            s,
            " Within noise: its min–max ({}–{}) overlaps every other backend's, so on this measure the backends cannot be told apart at {} runs each.",
            show(a.min),
            show(a.max),
            first.ok
        );
    } else if !overlapping.is_empty() {
        let _ = write!(
            s,
            " Within noise of {}: its min–max ({}–{}) overlaps theirs; more --reps may separate them.",
            join_names(&overlapping),
            show(a.min),
            show(a.max)
        );
    } else {
        s.push_str(" No other backend's min–max overlaps its own.");
    }
    Some(s)
}

/// `a`, `a and b`, `a, b and c`.
fn join_names(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn recommend(s: &CompareSummary) -> Vec<String> {
    let mut lines = Vec::new();
    let usable: Vec<&BackendRow> = s.rows.iter().filter(|r| r.state.has_data()).collect();
    if usable.len() < 2 {
        lines.push(format!(
            "No recommendation: {} of {} backends produced results.",
            usable.len(),
            s.rows.len()
        ));
    } else {
        if let Some((spec, higher)) = &s.metric {
            lines.extend(leader_sentence(
                &usable,
                &format!(
                    "Best by the program's own figure ({spec}, {} is better)",
                    if *higher { "higher" } else { "lower" }
                ),
                |r| r.metric,
                !higher,
                super::format::si,
            ));
        }
        lines.extend(leader_sentence(
            &usable,
            "Fastest (wall time)",
            |r| r.wall,
            true,
            secs,
        ));
        lines.extend(leader_sentence(
            &usable,
            "Leanest (peak RSS)",
            |r| r.rss,
            true,
            mib_text,
        ));
    }
    for r in &s.rows {
        if !r.state.has_data() {
            lines.push(format!(
                "{}: {} in all {} runs (see Failures).",
                r.backend,
                state_word(r.state),
                r.reps
            ));
        } else if r.state == CellState::Partial {
            lines.push(format!(
                "{}: {} of {} runs failed; its numbers use the rest.",
                r.backend,
                r.reps - r.ok,
                r.reps
            ));
        }
    }
    lines
}
