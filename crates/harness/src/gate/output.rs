//! The gate's verdicts as people and machines read them: a text table, a
//! Markdown table for pull-request comments (and `$GITHUB_STEP_SUMMARY`), and
//! `gate.json`, which can also serve a later run as its `--baseline`.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::config::Method;
use super::stats::Verdict;

/// The outcome of one gated cell.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CellOutcome {
    /// Cell name (`glibc-simple on slab`).
    pub cell: String,
    /// Workload name (registry or user).
    pub workload: String,
    /// Backend name.
    pub backend: String,
    /// Threads, when overridden.
    pub threads: Option<usize>,
    /// Comparison method.
    pub method: Method,
    /// What was compared (`instructions`, `ops/s`, `ops/s ÷ system`).
    pub metric: String,
    /// Base value (median for throughput).
    pub base: f64,
    /// Candidate value (median for throughput).
    pub candidate: f64,
    /// Candidate relative to base, as a signed change of the metric (0.02 = +2 %).
    pub change: f64,
    /// Confidence interval of the candidate/base ratio, for the throughput method.
    pub interval: Option<(f64, f64)>,
    /// The verdict.
    pub verdict: Verdict,
    /// Candidate instruction count (instructions method).
    #[serde(default)]
    pub candidate_instructions: Option<u64>,
    /// Base samples, pair by pair with `candidate_samples` (throughput, peak-rss).
    #[serde(default)]
    pub base_samples: Vec<f64>,
    /// Candidate samples (throughput: ops/s; peak-rss: bytes).
    #[serde(default)]
    pub candidate_samples: Vec<f64>,
    /// The system allocator's throughput samples measured beside the candidate
    /// (baseline-file mode), for normalising.
    #[serde(default)]
    pub candidate_system_samples: Vec<f64>,
    /// Notes (a confirmation re-run, a failure message).
    #[serde(default)]
    pub note: Option<String>,
    /// What the history of earlier results said about this change (`--history`).
    #[serde(default)]
    pub history: Option<String>,
}

/// The whole gate output (`gate.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GateReport {
    /// What was compared against: `rev <sha>` or `baseline <file>`.
    pub base: String,
    /// The candidate: the work tree at HEAD's commit id, plus "(modified)" when dirty.
    pub candidate: String,
    /// A sentence on the methods and thresholds in force.
    pub method_note: String,
    /// One outcome per gated cell.
    pub cells: Vec<CellOutcome>,
}

impl GateReport {
    /// Whether any cell regressed.
    pub fn regressed(&self) -> bool {
        self.cells.iter().any(|c| c.verdict == Verdict::Regression)
    }
}

fn fmt_value(v: f64, method: Method) -> String {
    match method {
        Method::Instructions | Method::Allocations => format!("{v:.0}"),
        Method::PeakRss => format!("{:.1} MiB", v / (1024.0 * 1024.0)),
        Method::Throughput if v >= 1e6 => format!("{:.2} M", v / 1e6),
        Method::Throughput if v >= 1e3 => format!("{:.1} k", v / 1e3),
        Method::Throughput => format!("{v:.3}"),
    }
}

fn fmt_interval(c: &CellOutcome) -> String {
    match c.interval {
        Some((lo, hi)) => format!(
            "{:+.1} % … {:+.1} %",
            (lo - 1.0) * 100.0,
            (hi - 1.0) * 100.0
        ),
        None => "exact".to_owned(),
    }
}

fn rows(report: &GateReport) -> Vec<[String; 7]> {
    report
        .cells
        .iter()
        .map(|c| {
            [
                format!("{} ({})", c.cell, c.method.name()),
                c.metric.clone(),
                fmt_value(c.base, c.method),
                fmt_value(c.candidate, c.method),
                format!("{:+.2} %", c.change * 100.0),
                fmt_interval(c),
                c.verdict.word().to_owned(),
            ]
        })
        .collect()
}

const HEADER: [&str; 7] = [
    "cell",
    "metric",
    "base",
    "candidate",
    "change",
    "95 % interval",
    "verdict",
];

/// The plain-text table and verdict line.
pub fn render_text(report: &GateReport) -> String {
    let rows = rows(report);
    let mut widths = HEADER.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = format!(
        "allocmux bench-gate: {} vs {}\n{}\n\n",
        report.candidate, report.base, report.method_note
    );
    out.push_str(&line(&HEADER.map(str::to_owned)));
    out.push('\n');
    for r in &rows {
        out.push_str(&line(r));
        out.push('\n');
        if let Some(c) = report
            .cells
            .iter()
            .find(|c| format!("{} ({})", c.cell, c.method.name()) == r[0] && c.metric == r[1])
        {
            for note in c.note.iter().chain(&c.history) {
                out.push_str(&format!("    {note}\n"));
            }
        }
    }
    out.push_str(&verdict_line(report));
    out.push('\n');
    out
}

fn verdict_line(report: &GateReport) -> String {
    let mut regressions: Vec<&str> = Vec::new();
    for c in report
        .cells
        .iter()
        .filter(|c| c.verdict == Verdict::Regression)
    {
        if !regressions.contains(&c.cell.as_str()) {
            regressions.push(&c.cell);
        }
    }
    let improvements = report
        .cells
        .iter()
        .filter(|c| c.verdict == Verdict::Improvement)
        .count();
    if regressions.is_empty() {
        format!(
            "PASS: no regression in {} gated cells ({improvements} improved)",
            report.cells.len()
        )
    } else {
        format!("FAIL: allocation regressed in {}", regressions.join(", "))
    }
}

/// The Markdown summary for a pull-request comment.
pub fn render_markdown(report: &GateReport) -> String {
    let mut out = format!(
        "### allocmux bench-gate: {}\n\n`{}` compared with `{}`. {}\n\n",
        verdict_line(report),
        report.candidate,
        report.base,
        report.method_note
    );
    out.push_str(&format!(
        "| {} |\n|{}|\n",
        HEADER.join(" | "),
        "---|".repeat(HEADER.len())
    ));
    for r in rows(report) {
        out.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    for c in &report.cells {
        for note in c.note.iter().chain(&c.history) {
            out.push_str(&format!("\n- {} ({}): {note}", c.cell, c.metric));
        }
    }
    out.push('\n');
    out
}

/// Prints the text table and writes `gate.txt`, `gate.md` and `gate.json` into
/// `dir` (and the Markdown to `$GITHUB_STEP_SUMMARY` when that is set).
pub fn write_files(report: &GateReport, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let text = render_text(report);
    let markdown = render_markdown(report);
    print!("{text}");
    let write = |name: &str, body: &str| {
        std::fs::write(dir.join(name), body)
            .map_err(|e| format!("cannot write {}: {e}", dir.join(name).display()))
    };
    write("gate.txt", &text)?;
    write("gate.md", &markdown)?;
    write(
        "gate.json",
        &serde_json::to_string_pretty(report).map_err(|e| e.to_string())?,
    )?;
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY") {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(summary)
        {
            let _ = f.write_all(markdown.as_bytes());
        }
    }
    eprintln!("[gate] wrote {}/gate.{{txt,md,json}}", dir.display());
    Ok(())
}
