//! `report.md`: the machine, the recommendation, the throughput and memory
//! tables, every failure with its error text, and the micro-benchmarks.

use std::fmt::Write as _;

use super::format::{
    failure_groups, mib, ok_count, ratio, recommendation_lines, si, state_word, status_word,
    throughput_cell,
};
use super::summary::{CellState, Row, Summary, BASELINE};
use crate::results::MatrixResults;

/// Escapes text for a Markdown table cell (pipes, newlines).
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// Writes a table: a header row, the alignment row, then the rows.
fn table(out: &mut String, header: &[String], rows: &[Vec<String>], numeric_from: usize) {
    let _ = writeln!(
        out,
        "| {} |",
        header
            .iter()
            .map(|h| cell(h))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let align: Vec<&str> = (0..header.len())
        .map(|i| if i >= numeric_from { "---:" } else { "---" })
        .collect();
    let _ = writeln!(out, "| {} |", align.join(" | "));
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out.push('\n');
}

/// The leading columns of every matrix table and the backend names.
fn header(summary: &Summary) -> Vec<String> {
    let mut h = vec![
        "Workload".to_string(),
        "Class".to_string(),
        "Threads".to_string(),
    ];
    h.extend(summary.backends.iter().cloned());
    h
}

/// The leading cells of a row in every matrix table.
fn lead(row: &Row) -> Vec<String> {
    vec![
        format!("`{}`", cell(&row.workload)),
        cell(&row.class),
        row.threads.to_string(),
    ]
}

/// A code fence longer than any run of backticks in `text`.
fn fence(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat((longest + 1).max(3))
}

/// Renders `report.md`.
pub fn render_markdown(summary: &Summary, results: &MatrixResults) -> String {
    let mut out = String::new();
    let m = &results.machine;
    out.push_str("# allocmux benchmark report\n\n");
    let _ = writeln!(out, "- **Date:** {}", cell(&results.started));
    let _ = writeln!(out, "- **Mode:** {}", cell(&results.mode));
    if let Some(shard) = &results.shard {
        let _ = writeln!(out, "- **Shard:** {} (a partial run)", cell(shard));
    }
    let _ = writeln!(out, "- **Machine:** {}", m.summary());
    let _ = writeln!(out, "- **OS:** {}, {}", m.os, m.kernel_phrase());
    let _ = writeln!(out, "- **Compiler:** {}", m.rustc);
    out.push('\n');

    out.push_str("## Backends\n\n");
    let rows: Vec<Vec<String>> = results
        .backends
        .iter()
        .map(|b| {
            vec![
                format!("`{}`", cell(&b.name)),
                cell(b.version.as_deref().unwrap_or("unknown")),
                cell(&b.description),
            ]
        })
        .collect();
    table(
        &mut out,
        &["Backend".into(), "Version".into(), "Description".into()],
        &rows,
        3,
    );

    out.push_str("## Recommendation\n\n");
    for line in recommendation_lines(summary) {
        let _ = writeln!(out, "- {line}");
    }
    out.push('\n');

    out.push_str("## Throughput relative to system\n\n");
    out.push_str(
        "Each successful repetition's throughput divided by the system allocator's in the same \
         repetition (the matrix runs a row's backends back to back): the median of those ratios, \
         min–max in parentheses; the system column shows its own repetitions around their median \
         (system = 1.00×). **Bold**: fastest in the row. `!`: some repetitions failed, the numbers \
         use the rest.\n",
    );
    let absolute: Vec<String> = summary
        .absolute_rows()
        .map(|r| format!("`{}`", r.label))
        .collect();
    if !absolute.is_empty() {
        let _ = writeln!(
            out,
            "\nNo system data for {}: those rows show absolute ops/s (median, min–max) instead of ratios.",
            absolute.join(", ")
        );
    }
    out.push('\n');
    let rows: Vec<Vec<String>> = summary
        .rows
        .iter()
        .map(|row| {
            let mut r = lead(row);
            for (i, c) in row.cells.iter().enumerate() {
                let mut text = throughput_cell(row, c, true);
                if row.best == Some(i) {
                    text = format!("**{text}**");
                }
                if c.state == CellState::Partial {
                    text.push_str(" !");
                }
                r.push(text);
            }
            r
        })
        .collect();
    table(&mut out, &header(summary), &rows, 3);

    out.push_str("## Median throughput (ops/s)\n\n");
    let rows: Vec<Vec<String>> = summary
        .rows
        .iter()
        .map(|row| {
            let mut r = lead(row);
            for c in &row.cells {
                r.push(match c.throughput {
                    Some(t) if c.state == CellState::Partial => {
                        format!("{} ({})", si(t.median), ok_count(c))
                    }
                    Some(t) => si(t.median),
                    None => state_word(c.state).to_string(),
                });
            }
            r
        })
        .collect();
    table(&mut out, &header(summary), &rows, 3);

    out.push_str("## Median peak RSS (MiB)\n\n");
    out.push_str(
        "Peak resident set size of the runner process; relative to system in parentheses.\n\n",
    );
    let rows: Vec<Vec<String>> = summary
        .rows
        .iter()
        .map(|row| {
            let mut r = lead(row);
            for c in &row.cells {
                r.push(match (c.peak_rss, c.rss_relative) {
                    (Some(b), Some(rel)) if c.backend != BASELINE => {
                        format!("{} ({})", mib(b), ratio(rel))
                    }
                    (Some(b), _) => mib(b),
                    (None, _) => state_word(c.state).to_string(),
                });
            }
            r
        })
        .collect();
    table(&mut out, &header(summary), &rows, 3);

    super::memory_latency::markdown_sections(&mut out, summary, results);

    out.push_str("## Failures\n\n");
    if summary.failures.is_empty() {
        out.push_str("None: every repetition succeeded.\n\n");
    } else {
        for g in failure_groups(summary) {
            let f = g.first;
            let _ = writeln!(
                out,
                "- `{}` × `{}`, {} thread(s), {}: **{}**",
                f.workload,
                f.backend,
                f.threads,
                g.reps_text(),
                status_word(f.status)
            );
            let error = g.error();
            let fence = fence(error);
            let _ = writeln!(out, "\n  {fence}text");
            for line in error.lines() {
                let _ = writeln!(out, "  {line}");
            }
            let _ = writeln!(out, "  {fence}\n");
        }
    }

    if !results.micro.is_empty() {
        out.push_str("## Micro-benchmarks\n\n");
        out.push_str("Criterion's mean time per iteration in ns, 95 % confidence interval in parentheses.\n\n");
        let mut backends: Vec<String> = Vec::new();
        let mut benches: Vec<String> = Vec::new();
        for r in &results.micro {
            if !backends.contains(&r.backend) {
                backends.push(r.backend.clone());
            }
            if !benches.contains(&r.bench) {
                benches.push(r.bench.clone());
            }
        }
        let mut h = vec!["Benchmark".to_string()];
        h.extend(backends.iter().cloned());
        let rows: Vec<Vec<String>> = benches
            .iter()
            .map(|bench| {
                let mut r = vec![format!("`{}`", cell(bench))];
                for b in &backends {
                    r.push(
                        results
                            .micro
                            .iter()
                            .find(|m| m.bench == *bench && m.backend == *b)
                            .map(|m| {
                                format!("{:.1} ({:.1}–{:.1})", m.mean_ns, m.lower_ns, m.upper_ns)
                            })
                            .unwrap_or_else(|| "—".to_string()),
                    );
                }
                r
            })
            .collect();
        table(&mut out, &h, &rows, 1);
    }
    out
}
