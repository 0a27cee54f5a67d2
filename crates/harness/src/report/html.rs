//! `report.html`: one self-contained page (inline CSS and SVG, nothing
//! fetched from anywhere) with the recommendation at the top, a heat map of
//! the matrix, the charts, the tables, the failures and the machine.

use std::fmt::Write as _;

use super::charts::{color, css, rss_chart, throughput_chart};
use super::format::{
    bytes, failure_groups, mib, ok_count, ratio, recommendation_lines, si, state_word, status_word,
};
use super::summary::{Cell, CellState, Row, Summary, BASELINE};
use crate::results::MatrixResults;

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

pub(super) const STYLE: &str = r#"
body { font-family: sans-serif; font-size: 15px; line-height: 1.45; color: #1a1a1a; margin: 0 auto; padding: 1.5em 2em 3em; max-width: 1200px; }
h1 { font-size: 1.7em; margin: 0 0 0.2em; }
h2 { font-size: 1.3em; margin: 1.8em 0 0.5em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
p.meta { color: #555; margin: 0 0 0.3em; }
p.nav { margin: 0 0 1em; font-size: 14px; }
p.nav a { color: #0b5394; }
.rec { background: #f3f7fb; border: 1px solid #c9d9ea; border-radius: 6px; padding: 0.6em 1.2em; }
.rec li { margin: 0.25em 0; }
.rec li:first-child { font-weight: bold; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 14px; }
th, td { border: 1px solid #d4d4d4; padding: 4px 9px; text-align: right; white-space: nowrap; }
th { background: #f2f2f2; }
td.name, th.name { text-align: left; }
td.wrap { white-space: normal; overflow-wrap: anywhere; max-width: 44em; }
td.best { font-weight: bold; outline: 2px solid #1a1a1a; outline-offset: -2px; }
td.bad { background: #fbe3e3; color: #a00000; font-weight: bold; text-align: center; }
td.none { color: #999; text-align: center; }
td .spread { color: #333; font-size: 12px; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 5px; vertical-align: -1px; border-radius: 2px; }
.scale span { display: inline-block; padding: 2px 8px; font-size: 13px; border: 1px solid #d4d4d4; }
.chart { margin: 1em 0 2em; overflow-x: auto; }
.chart svg { max-width: 100%; height: auto; }
.note { color: #555; font-size: 14px; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: 0.4em 0.8em; margin: 0.3em 0 0.8em; overflow-x: auto; font-size: 13px; white-space: pre-wrap; }
dl.machine { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1.2em; }
dl.machine dt { font-weight: bold; }
dl.machine dd { margin: 0; }
"#;

/// Background of a heat-map cell: white at 1.0, blue when faster, red when
/// slower, saturating at 2× and 0.5×.
pub fn heat(rel: f64) -> String {
    let t = rel.log2().clamp(-1.0, 1.0);
    let (target, t) = if t >= 0.0 {
        ((84, 150, 205), t)
    } else {
        ((222, 110, 90), -t)
    };
    let mix = |a: u8| (255.0 + (f64::from(a) - 255.0) * t).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(target.0),
        mix(target.1),
        mix(target.2)
    )
}

/// The header row of every matrix table, with each backend's colour.
fn header(out: &mut String, summary: &Summary) {
    out.push_str(
        "<thead><tr><th class=\"name\">Workload</th><th class=\"name\">Class</th><th>Threads</th>",
    );
    for b in &summary.backends {
        let _ = write!(
            out,
            "<th><span class=\"swatch\" style=\"background:{}\"></span>{}</th>",
            css(color(&summary.backends, b)),
            escape(b)
        );
    }
    out.push_str("</tr></thead>\n");
}

fn lead(out: &mut String, row: &Row) {
    let _ = write!(
        out,
        "<tr><td class=\"name\"><b>{}</b></td><td class=\"name\">{}</td><td>{}</td>",
        escape(&row.workload),
        escape(&row.class),
        row.threads
    );
}

/// A cell with no numbers: the state word, styled.
fn missing(out: &mut String, cell: &Cell) {
    let class = if cell.state == CellState::NotRun {
        "none"
    } else {
        "bad"
    };
    let _ = write!(out, "<td class=\"{class}\">{}</td>", state_word(cell.state));
}

/// A table of one number per cell.
fn value_table(out: &mut String, summary: &Summary, value: impl Fn(&Row, &Cell) -> Option<String>) {
    out.push_str("<table>\n");
    header(out, summary);
    out.push_str("<tbody>\n");
    for row in &summary.rows {
        lead(out, row);
        for cell in &row.cells {
            match value(row, cell) {
                Some(v) => {
                    let _ = write!(out, "<td>{}</td>", escape(&v));
                }
                None => missing(out, cell),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

/// The matrix as a table coloured by relative throughput, value and spread in each cell.
fn heat_map(out: &mut String, summary: &Summary) {
    out.push_str("<table class=\"heat\">\n");
    header(out, summary);
    out.push_str("<tbody>\n");
    for row in &summary.rows {
        lead(out, row);
        for (i, cell) in row.cells.iter().enumerate() {
            if !cell.state.has_data() {
                missing(out, cell);
                continue;
            }
            let best = if row.best == Some(i) {
                " class=\"best\""
            } else {
                ""
            };
            let partial = if cell.state == CellState::Partial {
                format!(
                    " <span class=\"spread\" title=\"some repetitions failed\">({})</span>",
                    ok_count(cell)
                )
            } else {
                String::new()
            };
            match (cell.relative, cell.throughput) {
                (Some(r), _) => {
                    let _ = write!(
                        out,
                        "<td{best} style=\"background:{}\">{} <span class=\"spread\">({:.2}–{:.2})</span>{partial}</td>",
                        heat(r.median),
                        ratio(r.median),
                        r.min,
                        r.max
                    );
                }
                (None, Some(t)) => {
                    let _ = write!(
                        out,
                        "<td{best}>{} ops/s <span class=\"spread\">({}–{})</span>{partial}</td>",
                        si(t.median),
                        si(t.min),
                        si(t.max)
                    );
                }
                (None, None) => missing(out, cell),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    out.push_str("<p class=\"scale\">");
    for v in [0.5, 0.71, 0.9, 1.0, 1.1, 1.41, 2.0] {
        let _ = write!(
            out,
            "<span style=\"background:{}\">{}</span>",
            heat(v),
            ratio(v)
        );
    }
    out.push_str(
        " <span class=\"note\" style=\"border:none\">colour saturates at 0.5× and 2×</span></p>\n",
    );
}

/// Puts an SVG chart into the page, or says why there is none.
pub(super) fn chart(out: &mut String, svg: Result<String, String>) {
    match svg {
        Ok(svg) => {
            out.push_str("<div class=\"chart\">\n");
            out.push_str(&svg);
            out.push_str("\n</div>\n");
        }
        Err(e) => {
            let _ = writeln!(
                out,
                "<p class=\"note\">Chart unavailable: {}</p>",
                escape(&e)
            );
        }
    }
}

/// Renders `report.html`.
pub fn render_html(summary: &Summary, results: &MatrixResults) -> String {
    let m = &results.machine;
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        out,
        "<title>allocmux benchmark report — {}</title>",
        escape(&results.started)
    );
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    out.push_str("<h1>allocmux benchmark report</h1>\n");
    let _ = writeln!(
        out,
        "<p class=\"meta\">{} · {} mode{} · {} · {}</p>",
        escape(&results.started),
        escape(&results.mode),
        results
            .shard
            .as_ref()
            .map(|s| format!(" · shard {}", escape(s)))
            .unwrap_or_default(),
        escape(&m.summary()),
        escape(&m.os)
    );

    out.push_str("<p class=\"nav\">");
    let mut sections = vec![
        ("matrix", "Matrix"),
        ("charts", "Charts"),
        ("throughput", "Throughput"),
        ("rss", "Peak RSS"),
        ("memory", "Memory over time"),
    ];
    if results
        .runs
        .iter()
        .any(|r| r.record.as_ref().is_some_and(|x| x.latency_ns.is_some()))
    {
        sections.push(("latency", "Latency"));
    }
    sections.push(("failures", "Failures"));
    if !results.micro.is_empty() {
        sections.push(("micro", "Micro-benchmarks"));
    }
    sections.push(("machine", "Machine"));
    let links: Vec<String> = sections
        .iter()
        .map(|(id, t)| format!("<a href=\"#{id}\">{t}</a>"))
        .collect();
    out.push_str(&links.join(" · "));
    out.push_str("</p>\n");
    out.push_str("<section class=\"rec\">\n<h2 style=\"border:none;margin-top:0.4em\">Recommendation</h2>\n<ul>\n");
    for line in recommendation_lines(summary) {
        let _ = writeln!(out, "<li>{}</li>", escape(&line));
    }
    out.push_str("</ul>\n</section>\n");

    out.push_str("<h2 id=\"matrix\">Throughput relative to system</h2>\n");
    out.push_str(
        "<p class=\"note\">Each repetition's throughput divided by the system allocator's in the same \
         repetition (a row's backends run back to back): the median of those ratios, min–max in \
         parentheses; the system column shows its own repetitions around their median. Outlined: \
         fastest in the row. Blue: faster than system, red: slower.</p>\n",
    );
    let absolute: Vec<String> = summary.absolute_rows().map(|r| escape(&r.label)).collect();
    if !absolute.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"note\"><b>No system data for {}</b>: those rows show absolute ops/s.</p>",
            absolute.join(", ")
        );
    }
    heat_map(&mut out, summary);

    out.push_str("<h2 id=\"charts\">Charts</h2>\n");
    if summary.rows.is_empty() {
        out.push_str("<p class=\"note\">No results to chart.</p>\n");
    } else {
        if summary.has_baseline() {
            // Workloads run at several thread counts get a panel each (throughput
            // against threads); the rest a bar group each.
            let scaling = super::memory_latency::scaling_chart(summary);
            let mut single = summary.clone();
            single.rows.retain(|r| {
                summary
                    .rows
                    .iter()
                    .filter(|x| x.workload == r.workload)
                    .count()
                    == 1
            });
            if let Some(svg) = scaling {
                chart(&mut out, svg);
            }
            if !single.rows.is_empty() {
                chart(&mut out, throughput_chart(&single));
            }
        } else {
            out.push_str("<p class=\"note\">No throughput chart: there is no system data to compare with.</p>\n");
        }
        chart(&mut out, rss_chart(summary));
    }

    out.push_str("<h2 id=\"throughput\">Median throughput (ops/s)</h2>\n");
    value_table(&mut out, summary, |_, c| {
        c.throughput.map(|t| {
            if c.state == CellState::Partial {
                format!("{} ({})", si(t.median), ok_count(c))
            } else {
                si(t.median)
            }
        })
    });

    out.push_str("<h2 id=\"rss\">Median peak RSS (MiB)</h2>\n<p class=\"note\">Relative to system in parentheses.</p>\n");
    value_table(&mut out, summary, |_, c| {
        c.peak_rss.map(|b| match c.rss_relative {
            Some(r) if c.backend != BASELINE => format!("{} ({})", mib(b), ratio(r)),
            _ => mib(b),
        })
    });

    super::memory_latency::html_sections(&mut out, summary, results);

    out.push_str("<h2 id=\"failures\">Failures</h2>\n");
    if summary.failures.is_empty() {
        out.push_str("<p>None: every repetition succeeded.</p>\n");
    } else {
        out.push_str("<ul>\n");
        for g in failure_groups(summary) {
            let f = g.first;
            let _ = writeln!(
                out,
                "<li><b>{}</b> × <b>{}</b>, {} thread(s), {}: <b>{}</b><pre>{}</pre></li>",
                escape(&f.workload),
                escape(&f.backend),
                f.threads,
                g.reps_text(),
                status_word(f.status),
                escape(g.error())
            );
        }
        out.push_str("</ul>\n");
    }

    if !results.micro.is_empty() {
        out.push_str(
            "<h2 id=\"micro\">Micro-benchmarks</h2>\n<p class=\"note\">Mean ns per iteration (95 % CI).</p>\n",
        );
        let mut backends: Vec<&str> = Vec::new();
        let mut benches: Vec<&str> = Vec::new();
        for r in &results.micro {
            if !backends.contains(&r.backend.as_str()) {
                backends.push(&r.backend);
            }
            if !benches.contains(&r.bench.as_str()) {
                benches.push(&r.bench);
            }
        }
        out.push_str("<table><thead><tr><th class=\"name\">Benchmark</th>");
        for b in &backends {
            let _ = write!(out, "<th>{}</th>", escape(b));
        }
        out.push_str("</tr></thead><tbody>\n");
        for bench in &benches {
            let _ = write!(out, "<tr><td class=\"name\">{}</td>", escape(bench));
            for b in &backends {
                match results
                    .micro
                    .iter()
                    .find(|m| m.bench == *bench && m.backend == *b)
                {
                    Some(m) => {
                        let _ = write!(
                            out,
                            "<td>{:.1} <span class=\"spread\">({:.1}–{:.1})</span></td>",
                            m.mean_ns, m.lower_ns, m.upper_ns
                        );
                    }
                    None => out.push_str("<td class=\"none\">—</td>"),
                }
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table>\n");
    }

    out.push_str("<h2 id=\"machine\">Machine and backends</h2>\n<dl class=\"machine\">\n");
    for (k, v) in [
        ("CPU", m.cpu_model.clone()),
        ("Logical CPUs", m.cores.to_string()),
        ("Memory", bytes(m.memory_bytes)),
        ("OS", m.os.clone()),
        ("Kernel", m.kernel.clone()),
        (
            "Transparent huge pages",
            if m.transparent_huge_pages.is_empty() {
                "unknown".to_owned()
            } else {
                m.transparent_huge_pages.clone()
            },
        ),
        ("Compiler", m.rustc.clone()),
        ("Mode", results.mode.clone()),
        ("Started", results.started.clone()),
    ] {
        let _ = writeln!(out, "<dt>{k}</dt><dd>{}</dd>", escape(&v));
    }
    out.push_str("</dl>\n<table><thead><tr><th class=\"name\">Backend</th><th class=\"name\">Version</th><th class=\"name\">Description</th></tr></thead><tbody>\n");
    for b in &results.backends {
        let _ = writeln!(
            out,
            "<tr><td class=\"name\"><span class=\"swatch\" style=\"background:{}\"></span>{}</td><td class=\"name\">{}</td><td class=\"name\">{}</td></tr>",
            css(color(&summary.backends, &b.name)),
            escape(&b.name),
            escape(b.version.as_deref().unwrap_or("unknown")),
            escape(&b.description)
        );
    }
    out.push_str("</tbody></table>\n</body>\n</html>\n");
    out
}
