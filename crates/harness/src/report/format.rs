//! Number and cell formatting shared by every renderer, and the
//! recommendation in words (the same sentences in the terminal, Markdown and
//! HTML).

use super::summary::{Cell, CellState, Failure, Row, Score, Summary, TIE};
use crate::results::RunStatus;

/// A ratio: `1.23×`.
pub fn ratio(x: f64) -> String {
    if x < 0.095 {
        format!("{x:.3}×")
    } else {
        format!("{x:.2}×")
    }
}

/// A number with an SI suffix and three significant digits: `12.3M`, `950k`.
pub fn si(x: f64) -> String {
    let (v, suffix) = if x.abs() >= 1e12 {
        (x / 1e12, "T")
    } else if x.abs() >= 1e9 {
        (x / 1e9, "G")
    } else if x.abs() >= 1e6 {
        (x / 1e6, "M")
    } else if x.abs() >= 1e3 {
        (x / 1e3, "k")
    } else {
        (x, "")
    };
    let digits = if v.abs() >= 100.0 {
        0
    } else if v.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$}{suffix}")
}

/// Bytes as MiB with one decimal: `123.4`.
pub fn mib(bytes: f64) -> String {
    let m = bytes / (1024.0 * 1024.0);
    if m < 10.0 {
        format!("{m:.2}")
    } else {
        format!("{m:.1}")
    }
}

/// Bytes in the largest binary unit that keeps the number above one: `31.2 GiB`.
pub fn bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// The word a cell without numbers shows: `FAILED`, `TIMEOUT`, `MISMATCH`, `—`.
pub fn state_word(state: CellState) -> &'static str {
    match state {
        CellState::Ok | CellState::Partial => "ok",
        CellState::Failed => "FAILED",
        CellState::Timeout => "TIMEOUT",
        CellState::Mismatch => "MISMATCH",
        CellState::NotRun => "—",
    }
}

/// A repetition's status as in `results.json` and the CSV: `ok`, `failed`, …
pub fn status_name(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Ok => "ok",
        RunStatus::Failed => "failed",
        RunStatus::Timeout => "timeout",
        RunStatus::ChecksumMismatch => "checksum-mismatch",
    }
}

/// A repetition's status for people: `FAILED`, `TIMEOUT`, `CHECKSUM MISMATCH`.
pub fn status_word(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Ok => "OK",
        RunStatus::Failed => "FAILED",
        RunStatus::Timeout => "TIMEOUT",
        RunStatus::ChecksumMismatch => "CHECKSUM MISMATCH",
    }
}

/// The throughput a cell shows: relative with its spread when the row has a
/// system median (`1.23× (1.10–1.31)`), absolute ops/s otherwise
/// (`12.3M (11.9M–12.8M)`), or the state word. With `spread == false` only
/// the median.
pub fn throughput_cell(row: &Row, cell: &Cell, spread: bool) -> String {
    match (cell.relative, cell.throughput) {
        (Some(r), _) if spread => format!("{} ({:.2}–{:.2})", ratio(r.median), r.min, r.max),
        (Some(r), _) => ratio(r.median),
        (None, Some(t)) if spread && !row.is_relative() => {
            format!("{} ({}–{})", si(t.median), si(t.min), si(t.max))
        }
        (None, Some(t)) => si(t.median),
        (None, None) => state_word(cell.state).to_string(),
    }
}

/// `3 of 3 reps` style count of a partially failed cell: `2/3 ok`.
pub fn ok_count(cell: &Cell) -> String {
    format!("{}/{} ok", cell.ok, cell.reps)
}

/// Scores as `mimalloc 1.18×, jemalloc 1.12×`.
fn list(scores: &[Score]) -> String {
    scores
        .iter()
        .map(|s| format!("{} {}", s.backend, ratio(s.value)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The leader of a ranking as `mimalloc, 1.18× system`, and the runner-up
/// when it is within [`TIE`].
fn leader(scores: &[Score], higher_is_better: bool, against: &str) -> String {
    let first = &scores[0];
    let mut s = format!("{}, {} {against}", first.backend, ratio(first.value));
    if let Some(second) = scores.get(1) {
        let gap = if higher_is_better {
            first.value / second.value - 1.0
        } else {
            second.value / first.value - 1.0
        };
        if gap < TIE {
            s.push_str(&format!(
                " (but {} is within {:.0} %, {}: effectively a tie)",
                second.backend,
                TIE * 100.0,
                ratio(second.value)
            ));
        }
    }
    s
}

/// The recommendation as short sentences, most important first.
pub fn recommendation_lines(summary: &Summary) -> Vec<String> {
    let rec = &summary.recommendation;
    let mut lines = Vec::new();
    let total = summary.rows.len();
    if total == 0 {
        lines.push("No results: nothing ran.".to_string());
        return lines;
    }
    if rec.overall.is_empty() {
        lines.push(format!(
            "No recommendation: no row has data from every compared backend ({} of {total} rows complete).",
            rec.rows_used
        ));
    } else {
        let against = if rec.relative_to_system {
            "system"
        } else {
            "the backends' mean (no system data)"
        };
        lines.push(format!(
            "Fastest overall: {} (geometric mean over the {} of {total} rows where all {} compared backends have data).",
            leader(&rec.overall, true, against),
            rec.rows_used,
            rec.compared.len(),
        ));
        lines.push(format!("Throughput ranking: {}.", list(&rec.overall)));
        let mut classes: Vec<&str> = Vec::new();
        for row in &summary.rows {
            if !classes.contains(&row.class.as_str()) {
                classes.push(&row.class);
            }
        }
        for class in classes {
            match rec
                .by_class
                .iter()
                .find(|c| c.class == class && !c.ranking.is_empty())
            {
                Some(c) => {
                    let rows = if c.rows == 1 {
                        "1 row".to_string()
                    } else {
                        format!("{} rows", c.rows)
                    };
                    lines.push(format!(
                        "Best for {class} ({rows}): {}.",
                        leader(&c.ranking, true, against)
                    ));
                }
                None => lines.push(format!(
                    "Best for {class}: no ranking, no row of it has data from every backend."
                )),
            }
        }
        if !rec.memory.is_empty() {
            lines.push(format!(
                "Lowest memory: {} peak RSS (geometric mean); all: {}.",
                leader(&rec.memory, false, against),
                list(&rec.memory)
            ));
        }
    }
    if let (Some(first), Some(ms)) = (rec.memory_return.first(), rec.return_idle_ms) {
        let all: Vec<String> = rec
            .memory_return
            .iter()
            .map(|s| format!("{} {:.0} %", s.backend, s.value * 100.0))
            .collect();
        lines.push(format!(
            "Returns memory fastest: {} — {ms} ms after freeing everything it still holds {:.0} % of its peak resident memory (geometric mean over the rows); all: {}.",
            first.backend,
            first.value * 100.0,
            all.join(", ")
        ));
    }
    if let Some(first) = rec.tail_latency.first() {
        let all: Vec<String> = rec
            .tail_latency
            .iter()
            .map(|s| format!("{} {:.0} ns", s.backend, s.value))
            .collect();
        lines.push(format!(
            "Lowest tail latency: {} — p99.9 of single alloc and free calls {:.0} ns (geometric mean of the kinds, latency workload); all: {}.",
            first.backend,
            first.value,
            all.join(", ")
        ));
    }
    for (backend, why) in &rec.excluded {
        lines.push(format!("Not ranked: {backend} ({why})."));
    }
    if !rec.rows_skipped.is_empty() && !rec.overall.is_empty() {
        let skipped: Vec<String> = rec
            .rows_skipped
            .iter()
            .map(|(row, why)| format!("{row} ({why})"))
            .collect();
        lines.push(format!(
            "Rows left out of the ranking: {}.",
            skipped.join("; ")
        ));
    }
    let failed: Vec<String> = summary
        .failed_cells()
        .map(|(r, c)| format!("{} × {}: {}", r.label, c.backend, state_word(c.state)))
        .collect();
    if !failed.is_empty() {
        lines.push(format!(
            "Failed cells ({}): {}.",
            failed.len(),
            failed.join(", ")
        ));
    }
    let partial: Vec<String> = summary
        .partial_cells()
        .map(|(r, c)| format!("{} × {} ({})", r.label, c.backend, ok_count(c)))
        .collect();
    if !partial.is_empty() {
        lines.push(format!(
            "Some repetitions failed in {} cell(s), numbers use the rest: {}.",
            partial.len(),
            partial.join(", ")
        ));
    }
    let absolute: Vec<&str> = summary.absolute_rows().map(|r| r.label.as_str()).collect();
    if !absolute.is_empty() {
        lines.push(format!(
            "No system data for {}: absolute ops/s shown there, not ratios.",
            absolute.join(", ")
        ));
    }
    lines
}

/// Failures of the same cell with the same status and error text, together.
pub struct FailureGroup<'a> {
    /// The first failure of the group.
    pub first: &'a Failure,
    /// Repetition numbers of the group.
    pub reps: Vec<u32>,
}

impl FailureGroup<'_> {
    /// `repetition 2` or `repetitions 0, 1, 2`.
    pub fn reps_text(&self) -> String {
        let list: Vec<String> = self.reps.iter().map(u32::to_string).collect();
        let word = if self.reps.len() == 1 {
            "repetition"
        } else {
            "repetitions"
        };
        format!("{word} {}", list.join(", "))
    }

    /// The error text, or a note that there is none.
    pub fn error(&self) -> &str {
        if self.first.error.is_empty() {
            "(no error text recorded)"
        } else {
            &self.first.error
        }
    }
}

/// The failures grouped by cell, status and error text, in the order they ran.
pub fn failure_groups(summary: &Summary) -> Vec<FailureGroup<'_>> {
    let mut groups: Vec<FailureGroup<'_>> = Vec::new();
    for f in &summary.failures {
        let same = groups.iter_mut().find(|g| {
            g.first.workload == f.workload
                && g.first.backend == f.backend
                && g.first.threads == f.threads
                && g.first.status == f.status
                && g.first.error == f.error
        });
        match same {
            Some(g) => g.reps.push(f.rep),
            None => groups.push(FailureGroup {
                first: f,
                reps: vec![f.rep],
            }),
        }
    }
    groups
}
