//! `report.html` of a `compare`: the recommendation, two charts (speed
//! relative to system; peak RSS and CPU time relative to system), the
//! per-backend table with spreads, the failures, what proves each backend,
//! and the machine. One self-contained page, the matrix report's style.

use std::fmt::Write as _;

use plotters::style::RGBColor;

use super::charts::{color, css, Bar, BarChart};
use super::compare::{secs, spread_text, BackendRow, CompareSummary};
use super::format::{mib, ratio, si, state_word, status_word};
use super::html::{chart, escape, STYLE};
use super::summary::BASELINE;
use crate::results::MatrixResults;

/// A named measure of a backend row.
type Measure<'a> = (&'a str, fn(&BackendRow) -> Option<f64>);

/// Bars of `value(row)` relative to the system row's, one series per backend.
fn relative_chart(
    s: &CompareSummary,
    title: &str,
    measures: &[Measure<'_>],
) -> Result<String, String> {
    let names: Vec<String> = s.rows.iter().map(|r| r.backend.clone()).collect();
    let base = s.rows.iter().find(|r| r.backend == BASELINE);
    let series: Vec<(String, RGBColor)> = names
        .iter()
        .map(|n| (n.clone(), color(&names, n)))
        .collect();
    let bars = measures
        .iter()
        .map(|(_, f)| {
            s.rows
                .iter()
                .map(|r| match (base.and_then(f), f(r)) {
                    (Some(b), Some(v)) if b > 0.0 => Bar::Value(v / b),
                    (_, None) => Bar::Note(format!("{}: {}", r.backend, state_word(r.state))),
                    _ => Bar::Note("no system data".into()),
                })
                .collect()
        })
        .collect();
    BarChart {
        title: title.to_owned(),
        x_desc: "÷ system".to_owned(),
        rows: measures.iter().map(|(n, _)| (*n).to_owned()).collect(),
        series,
        bars,
        reference: Some((1.0, "system = 1.0".into())),
        value_label: ratio,
        axis_label: |v| format!("{v:.2}×"),
    }
    .render(false)
}

/// Renders the compare's `report.html`.
pub fn render_html(s: &CompareSummary, results: &MatrixResults) -> String {
    let m = &results.machine;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>allocmux compare — {}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        escape(&s.label)
    );
    let _ = writeln!(
        out,
        "<h1>allocmux compare: <code>{}</code></h1>\n<p class=\"meta\">{} · backends by {} · {} · {}</p>",
        escape(&s.command),
        escape(&s.started),
        escape(&s.method),
        escape(&m.summary()),
        escape(&m.os)
    );
    out.push_str("<section class=\"rec\">\n<h2 style=\"border:none;margin-top:0.4em\">Recommendation</h2>\n<ul>\n");
    for l in &s.recommendation {
        let _ = writeln!(out, "<li>{}</li>", escape(l));
    }
    out.push_str("</ul>\n</section>\n<h2>Charts</h2>\n");
    let mut speed: Vec<Measure<'_>> =
        vec![("speed (1 ÷ wall time)", |r| r.wall.map(|w| 1.0 / w.median))];
    if let Some((_, higher)) = &s.metric {
        if *higher {
            speed.push(("program's figure", |r| r.metric.map(|m| m.median)));
        } else {
            speed.push(("1 ÷ program's figure", |r| {
                r.metric.map(|m| 1.0 / m.median)
            }));
        }
    }
    chart(
        &mut out,
        relative_chart(s, "Speed relative to system (longer is faster)", &speed),
    );
    chart(
        &mut out,
        relative_chart(
            s,
            "Resources relative to system (shorter is leaner)",
            &[
                ("peak RSS", |r| r.rss.map(|x| x.median)),
                ("user CPU", |r| r.user.map(|x| x.median)),
                ("system CPU", |r| r.system.map(|x| x.median)),
                ("minor faults", |r| r.minor_faults),
            ],
        ),
    );
    out.push_str("<h2>Per backend</h2>\n<p class=\"note\">Medians over the successful runs, min–max in parentheses.</p>\n<table><thead><tr><th class=\"name\">Backend</th><th>Wall time</th><th>Speed ÷ system</th>");
    if s.metric.is_some() {
        out.push_str("<th>Program's figure</th>");
    }
    out.push_str("<th>User CPU</th><th>System CPU</th><th>Peak RSS (MiB)</th><th>RSS ÷ system</th><th>Minor faults</th><th>Major faults</th><th>Runs ok</th></tr></thead><tbody>\n");
    let names: Vec<String> = s.rows.iter().map(|r| r.backend.clone()).collect();
    for r in &s.rows {
        let miss = || format!("<td class=\"bad\">{}</td>", state_word(r.state));
        let td = |v: Option<String>| {
            v.map(|v| format!("<td>{}</td>", escape(&v)))
                .unwrap_or_else(miss)
        };
        let _ = write!(
            out,
            "<tr><td class=\"name\"><span class=\"swatch\" style=\"background:{}\"></span>{}</td>{}{}",
            css(color(&names, &r.backend)),
            escape(&r.backend),
            td(r.wall.map(|w| spread_text(&w, secs))),
            td(r.speed.map(ratio))
        );
        if s.metric.is_some() {
            out.push_str(&td(r.metric.map(|m| spread_text(&m, si))));
        }
        let _ = writeln!(
            out,
            "{}{}{}{}{}{}<td>{}/{}</td></tr>",
            td(r.user.map(|u| secs(u.median))),
            td(r.system.map(|u| secs(u.median))),
            td(r.rss.map(|u| spread_text(&u, mib))),
            td(r.rss_relative.map(ratio)),
            td(r.minor_faults.map(|f| format!("{f:.0}"))),
            td(r.major_faults.map(|f| format!("{f:.0}"))),
            r.ok,
            r.reps
        );
    }
    out.push_str("</tbody></table>\n<h2>Failures</h2>\n");
    if s.failures.is_empty() {
        out.push_str("<p>None: every run succeeded.</p>\n");
    } else {
        out.push_str("<ul>\n");
        for f in &s.failures {
            let _ = writeln!(
                out,
                "<li><b>{}</b> run {}: <b>{}</b><pre>{}</pre></li>",
                escape(&f.backend),
                f.rep,
                status_word(f.status),
                escape(&f.error)
            );
        }
        out.push_str("</ul>\n");
    }
    if let Some(p) = &results.program {
        out.push_str("<h2>What proves each backend</h2>\n<table><thead><tr><th class=\"name\">Backend</th><th class=\"name\">How it was put in place</th><th class=\"name\">What the running program said</th></tr></thead><tbody>\n");
        for e in &p.evidence {
            let how = match &e.library {
                Some(lib) => format!("LD_PRELOAD={lib}"),
                None if p.method == "preload" => "no library: the program as it is".to_owned(),
                None => format!("allocmux features: {}", e.facade_features.join(", ")),
            };
            let _ = writeln!(
                out,
                "<tr><td class=\"name\">{}</td><td class=\"name wrap\">{}</td><td class=\"name wrap\"><code>{}</code></td></tr>",
                escape(&e.backend),
                escape(&how),
                escape(e.banner.as_deref().unwrap_or("(nothing expected, or no run succeeded)"))
            );
        }
        out.push_str("</tbody></table>\n");
    }
    let _ = writeln!(
        out,
        "<h2>Machine</h2>\n<p>{} · {} · {} · {}</p>\n</body>\n</html>",
        escape(&m.cpu_model),
        escape(&m.os),
        escape(&m.kernel_phrase()),
        escape(&m.rustc)
    );
    out
}
