//! The memory and latency sections of `report.html` and `report.md`: a table
//! of peak, mean and after-idle resident memory (with the overhead ratio when
//! the `stats` layer was on), resident memory over time as small multiples, a
//! latency table and percentile chart, and throughput against thread count
//! as small multiples when the matrix ran several thread counts.

use std::fmt::Write as _;

use super::format::{mib, ratio};
use super::html::{chart, escape};
use super::latency::{latency_rows, LatencyRow, KINDS};
use super::memory::{memory_rows, MemoryCell, MemoryRow};
use super::panels::{Panel, SmallMultiples};
use super::summary::Summary;
use crate::results::MatrixResults;

/// `52.3 → 3.1 MiB (6 %)`: peak, last after-idle value and its share of the
/// peak, and the creep over the work where it was long enough to tell.
fn kept_text(c: &MemoryCell) -> Option<String> {
    let peak = c.peak?;
    let mut t = match (c.after_idle.last(), c.kept_after_idle()) {
        (Some((_, last)), Some(k)) => {
            format!("{} → {} ({:.0} %)", mib(peak), mib(*last), k * 100.0)
        }
        _ => mib(peak),
    };
    if let Some(cr) = c.creep {
        t.push_str(&format!("; creep {:+.0} %", cr * 100.0));
    }
    Some(t)
}

fn overhead_text(c: &MemoryCell) -> Option<String> {
    match (c.overhead_peak, c.overhead_end) {
        (None, None) => None,
        (p, e) => Some(format!(
            "{} / {}",
            p.map(ratio).unwrap_or_else(|| "—".into()),
            e.map(ratio).unwrap_or_else(|| "—".into())
        )),
    }
}

fn idle_ms(rows: &[MemoryRow]) -> Option<u64> {
    rows.iter()
        .flat_map(|r| r.cells.iter())
        .filter_map(|c| c.after_idle.last().map(|(ms, _)| *ms))
        .max()
}

/// A `(row, cells)` table in HTML with one text per cell.
fn html_table(
    out: &mut String,
    first: &str,
    backends: &[String],
    rows: &[(String, Vec<Option<String>>)],
) {
    let _ = write!(out, "<table><thead><tr><th class=\"name\">{first}</th>");
    for b in backends {
        let _ = write!(out, "<th>{}</th>", escape(b));
    }
    out.push_str("</tr></thead><tbody>\n");
    for (label, cells) in rows {
        let _ = write!(out, "<tr><td class=\"name\">{}</td>", escape(label));
        for c in cells {
            match c {
                Some(t) => {
                    let _ = write!(out, "<td>{}</td>", escape(t));
                }
                None => out.push_str("<td class=\"none\">—</td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

fn memory_table(
    rows: &[MemoryRow],
    f: fn(&MemoryCell) -> Option<String>,
) -> Vec<(String, Vec<Option<String>>)> {
    rows.iter()
        .map(|r| (r.label.clone(), r.cells.iter().map(f).collect()))
        .collect()
}

fn latency_table(row: &LatencyRow) -> Vec<(String, Vec<Option<String>>)> {
    let mut out = Vec::new();
    for (k, (kind, _)) in KINDS.iter().enumerate() {
        for (name, f) in [
            (
                "p50",
                (|p| p.p50) as fn(&allocmux_workloads::Percentiles) -> f64,
            ),
            ("p99", |p| p.p99),
            ("p99.9", |p| p.p999),
            ("max", |p| p.max),
        ] {
            out.push((
                format!("{kind} {name} (ns)"),
                row.cells
                    .iter()
                    .map(|c| c.kinds[k].map(|p| format!("{:.0}", f(&p))))
                    .collect(),
            ));
        }
        out.push((
            format!("{kind} calls over 10 µs"),
            row.cells
                .iter()
                .map(|c| c.kinds[k].map(|p| format!("{} of {}", p.over_10us, p.count)))
                .collect(),
        ));
    }
    out
}

/// Resident memory over time, a panel per row that has timelines.
fn rss_chart(rows: &[MemoryRow], backends: &[String]) -> Option<Result<String, String>> {
    let panels: Vec<Panel> = rows
        .iter()
        .filter(|r| r.cells.iter().any(|c| !c.timeline.is_empty()))
        .map(|r| Panel {
            title: r.label.clone(),
            lines: r
                .cells
                .iter()
                .filter(|c| !c.timeline.is_empty())
                .map(|c| {
                    let pts = c
                        .timeline
                        .iter()
                        .map(|p| (p[0], p[1] / (1024.0 * 1024.0)))
                        .collect();
                    (c.backend.clone(), pts)
                })
                .collect(),
        })
        .collect();
    (!panels.is_empty()).then(|| {
        SmallMultiples {
            title: "Resident memory over time (one repetition each: the median peak)".into(),
            x_desc: "seconds",
            y_desc: "MiB",
            panels,
            backends,
            columns: 3,
            log_x: false,
            log_y: false,
            x_label: |v| {
                if v < 10.0 {
                    format!("{v:.2}")
                } else {
                    format!("{v:.0}")
                }
            },
            y_label: three_significant,
        }
        .render()
    })
}

/// Throughput against thread count, a panel per workload run at several.
pub fn scaling_chart(summary: &Summary) -> Option<Result<String, String>> {
    let mut workloads: Vec<&str> = Vec::new();
    for r in &summary.rows {
        let n = summary
            .rows
            .iter()
            .filter(|x| x.workload == r.workload)
            .count();
        if n > 1 && !workloads.contains(&r.workload.as_str()) {
            workloads.push(&r.workload);
        }
    }
    let panels: Vec<Panel> = workloads
        .iter()
        .map(|w| {
            let rows: Vec<_> = summary.rows.iter().filter(|r| r.workload == *w).collect();
            Panel {
                title: (*w).to_owned(),
                lines: summary
                    .backends
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        let pts = rows
                            .iter()
                            .filter_map(|r| {
                                Some((r.threads as f64, r.cells[i].throughput?.median / 1e6))
                            })
                            .collect();
                        (b.clone(), pts)
                    })
                    .collect(),
            }
        })
        .collect();
    (!panels.is_empty()).then(|| {
        SmallMultiples {
            title: "Throughput against thread count (median, million ops/s)".into(),
            x_desc: "threads",
            y_desc: "M ops/s",
            panels,
            backends: &summary.backends,
            columns: 3,
            log_x: true,
            log_y: false,
            x_label: |v| format!("{}", v.round()),
            y_label: three_significant,
        }
        .render()
    })
}

fn latency_chart(row: &LatencyRow, backends: &[String]) -> Result<String, String> {
    let panels = KINDS
        .iter()
        .enumerate()
        .filter(|(k, _)| row.cells.iter().any(|c| c.kinds[*k].is_some()))
        .map(|(k, (kind, _))| Panel {
            title: (*kind).to_owned(),
            lines: row
                .cells
                .iter()
                .filter_map(|c| {
                    let p = c.kinds[k]?;
                    let pts = vec![(1.0, p.p50), (2.0, p.p99), (3.0, p.p999), (4.0, p.max)];
                    Some((c.backend.clone(), pts))
                })
                .collect(),
        })
        .collect();
    SmallMultiples {
        title: "Latency of single calls: p50, p99, p99.9, max (log scale)".into(),
        x_desc: "percentile",
        y_desc: "ns",
        panels,
        backends,
        columns: 3,
        log_x: false,
        log_y: true,
        x_label: |v| match v.round() as i64 {
            1 => "p50".into(),
            2 => "p99".into(),
            3 => "p99.9".into(),
            4 => "max".into(),
            _ => String::new(),
        },
        y_label: |v| {
            if v >= 1e6 {
                format!("{:.0} ms", v / 1e6)
            } else if v >= 1e3 {
                format!("{:.0} µs", v / 1e3)
            } else {
                format!("{v:.0}")
            }
        },
    }
    .render()
}

/// The HTML memory and latency sections (with their `id`s for the page's links).
pub fn html_sections(out: &mut String, summary: &Summary, results: &MatrixResults) {
    let rows = memory_rows(results, &summary.rows, &summary.backends);
    out.push_str("<h2 id=\"memory\">Memory over time and given back</h2>\n");
    let idle = idle_ms(&rows);
    let _ = writeln!(
        out,
        "<p class=\"note\">Peak resident memory (sampled from outside every 10 ms) → resident memory {} after the workload freed everything, and the share of the peak still held. Medians over the repetitions, MiB. Creep (workloads that work for 2 s or more): the mean resident memory of the last quarter of the work over that of its second quarter.</p>",
        idle.map_or("right".to_owned(), |ms| format!("{ms} ms"))
    );
    html_table(
        out,
        "Workload",
        &summary.backends,
        &memory_table(&rows, kept_text),
    );
    let overhead = memory_table(&rows, overhead_text);
    if overhead.iter().any(|(_, c)| c.iter().any(Option::is_some)) {
        out.push_str("<p class=\"note\">Resident bytes per live requested byte (the façade's <code>stats</code> layer): at the peak / when the work ended.</p>\n");
        html_table(out, "Workload", &summary.backends, &overhead);
    }
    if let Some(svg) = rss_chart(&rows, &summary.backends) {
        chart(out, svg);
    }
    for row in latency_rows(results, &summary.backends) {
        let _ = writeln!(
            out,
            "<h2 id=\"latency\">Allocation latency ({})</h2>",
            escape(&row.workload)
        );
        out.push_str("<p class=\"note\">Single calls timed with the CPU's time-stamp counter, timer overhead subtracted; medians over the repetitions.</p>\n");
        let names: Vec<String> = row.cells.iter().map(|c| c.backend.clone()).collect();
        html_table(out, "Call", &names, &latency_table(&row));
        chart(out, latency_chart(&row, &summary.backends));
    }
}

/// The Markdown memory and latency tables.
pub fn markdown_sections(out: &mut String, summary: &Summary, results: &MatrixResults) {
    let rows = memory_rows(results, &summary.rows, &summary.backends);
    let md = |out: &mut String,
              first: &str,
              backends: &[String],
              rows: &[(String, Vec<Option<String>>)]| {
        let _ = writeln!(out, "| {first} | {} |", backends.join(" | "));
        let _ = writeln!(out, "|---|{}", "---:|".repeat(backends.len()));
        for (label, cells) in rows {
            let c: Vec<String> = cells
                .iter()
                .map(|c| c.clone().unwrap_or_else(|| "—".into()))
                .collect();
            let _ = writeln!(out, "| `{label}` | {} |", c.join(" | "));
        }
        out.push('\n');
    };
    let _ = writeln!(
        out,
        "## Memory over time and given back\n\nPeak resident memory → resident memory {} after the workload freed everything (share of the peak still held), MiB, medians.\n",
        idle_ms(&rows).map_or("right".to_owned(), |ms| format!("{ms} ms"))
    );
    md(
        out,
        "Workload",
        &summary.backends,
        &memory_table(&rows, kept_text),
    );
    let overhead = memory_table(&rows, overhead_text);
    if overhead.iter().any(|(_, c)| c.iter().any(Option::is_some)) {
        out.push_str("Resident bytes per live requested byte (`stats` layer): at the peak / when the work ended.\n\n");
        md(out, "Workload", &summary.backends, &overhead);
    }
    for row in latency_rows(results, &summary.backends) {
        let _ = writeln!(out, "## Allocation latency (`{}`)\n\nSingle calls, timer overhead subtracted, medians over the repetitions.\n", row.workload);
        let names: Vec<String> = row.cells.iter().map(|c| c.backend.clone()).collect();
        md(out, "Call", &names, &latency_table(&row));
    }
}

/// An axis label with about three significant digits, so a panel whose values are all
/// below one (thousands of ops/s on a million-ops/s axis) does not read "0 0 0".
fn three_significant(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return "0".into();
    }
    let decimals = (2 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

#[cfg(test)]
mod label_tests {
    use super::three_significant;

    #[test]
    fn labels_keep_small_values_readable() {
        assert_eq!(three_significant(0.0), "0");
        assert_eq!(three_significant(250.0), "250");
        assert_eq!(three_significant(12.5), "12.5");
        assert_eq!(three_significant(0.0025), "0.0025");
        assert_eq!(three_significant(0.004), "0.004");
    }
}
