//! The terminal table and `report.md` of a `compare` (see `compare.rs` for
//! the statistics they show).

use std::fmt::Write as _;

use super::compare::{secs, spread_text, BackendRow, CompareSummary};
use super::format::{mib, ratio, state_word};
use crate::results::MatrixResults;

/// The table's cells for one backend row.
fn cells(r: &BackendRow, with_metric: bool) -> Vec<String> {
    let or_state = |v: Option<String>| v.unwrap_or_else(|| state_word(r.state).to_owned());
    let mut c = vec![
        r.backend.clone(),
        or_state(r.wall.map(|w| spread_text(&w, secs))),
        r.speed.map(ratio).unwrap_or_default(),
        or_state(r.user.map(|u| secs(u.median))),
        or_state(r.system.map(|u| secs(u.median))),
        or_state(r.rss.map(|u| spread_text(&u, mib))),
        r.rss_relative.map(ratio).unwrap_or_default(),
        r.minor_faults
            .map(|f| format!("{f:.0}"))
            .unwrap_or_default(),
        format!("{}/{}", r.ok, r.reps),
    ];
    if with_metric {
        c.insert(
            3,
            r.metric
                .map(|m| spread_text(&m, super::format::si))
                .unwrap_or_default(),
        );
    }
    c
}

fn header(with_metric: bool) -> Vec<&'static str> {
    let mut h = vec![
        "backend",
        "wall (min–max)",
        "speed",
        "user CPU",
        "sys CPU",
        "peak RSS MiB (min–max)",
        "RSS",
        "minor faults",
        "runs ok",
    ];
    if with_metric {
        h.insert(3, "metric (min–max)");
    }
    h
}

/// The terminal report: the table (speed and RSS relative to system) and the
/// recommendation.
pub fn render_terminal(s: &CompareSummary) -> String {
    let with_metric = s.metric.is_some();
    let head = header(with_metric);
    let rows: Vec<Vec<String>> = s.rows.iter().map(|r| cells(r, with_metric)).collect();
    let widths: Vec<usize> = (0..head.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([head[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = format!(
        "allocmux compare — {} ({}), started {}\n\n",
        s.command, s.method, s.started
    );
    out.push_str(
        "speed = system's median wall time ÷ the backend's; RSS = median peak RSS ÷ system's\n",
    );
    out.push_str(&line(head.iter().map(|h| h.to_string()).collect()));
    out.push('\n');
    for r in rows {
        out.push_str(&line(r));
        out.push('\n');
    }
    out.push_str("\nRecommendation\n");
    for l in &s.recommendation {
        let _ = writeln!(out, "  {l}");
    }
    out
}

/// `report.md` of a compare.
pub fn render_markdown(s: &CompareSummary, results: &MatrixResults) -> String {
    let with_metric = s.metric.is_some();
    let m = &results.machine;
    let mut out = format!("# allocmux compare: `{}`\n\n", s.command.replace('`', "'"));
    let _ = writeln!(out, "- **Date:** {}", s.started);
    let _ = writeln!(out, "- **Backends put in place by:** {}", s.method);
    let _ = writeln!(
        out,
        "- **Machine:** {}; {}, {}; {}",
        m.summary(),
        m.os,
        m.kernel_phrase(),
        m.rustc
    );
    out.push_str("\n## Recommendation\n\n");
    for l in &s.recommendation {
        let _ = writeln!(out, "- {l}");
    }
    out.push_str("\n## Per backend\n\nMedians over the successful runs, min–max in parentheses; speed = system's median wall time ÷ the backend's (higher is faster), RSS = median peak RSS ÷ system's.\n\n");
    let head = header(with_metric);
    let _ = writeln!(out, "| {} |", head.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(head.len()));
    for r in &s.rows {
        let _ = writeln!(out, "| {} |", cells(r, with_metric).join(" | "));
    }
    out.push_str("\n## Failures\n\n");
    if s.failures.is_empty() {
        out.push_str("None: every run succeeded.\n");
    }
    for f in &s.failures {
        let _ = writeln!(
            out,
            "- {} run {}: {} — {}",
            f.backend,
            f.rep,
            super::format::status_word(f.status),
            f.error.replace('\n', " ")
        );
    }
    if let Some(p) = &results.program {
        out.push_str("\n## What proves each backend\n\n");
        for e in &p.evidence {
            let how = match &e.library {
                Some(lib) => format!("preloaded `{lib}`"),
                None if e.facade_features.is_empty() && s.method == "preload" => {
                    "no library (the program as it is)".to_owned()
                }
                None => format!(
                    "allocmux compiled with features [{}]",
                    e.facade_features.join(", ")
                ),
            };
            let _ = writeln!(
                out,
                "- **{}**: {how}; the program said `{}`",
                e.backend,
                e.banner
                    .as_deref()
                    .unwrap_or("(nothing: no line is expected, or no run succeeded)")
            );
        }
    }
    out
}
