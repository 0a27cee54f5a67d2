//! The table and recommendation `cargo xtask bench-matrix` prints at the end:
//! the median of per-repetition throughput ratios to system with their min–max, the best per
//! row marked, kept within [`WIDTH`] columns; ANSI bold only on a terminal.

use std::io::IsTerminal;

use super::format::{recommendation_lines, throughput_cell};
use super::summary::{CellState, Summary};

/// The widest line the table aims for.
pub const WIDTH: usize = 120;

/// Narrowest the workload column gets when the table must shrink.
const MIN_LABEL: usize = 12;

/// Renders the terminal report; bold and colour only when stdout is a
/// terminal and `NO_COLOR` is unset.
pub fn render_terminal(summary: &Summary) -> String {
    let ansi = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    render(summary, ansi)
}

/// Characters as a terminal shows them (all of ours are single-width).
fn width(s: &str) -> usize {
    s.chars().count()
}

/// `s` cut to `w` characters, with `…` marking the cut.
fn abbreviate(s: &str, w: usize) -> String {
    if width(s) <= w {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(w.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// `s` padded with spaces to `w` characters.
fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

/// Wraps `text` at `w` columns; continuation lines start with `indent`.
fn wrap(text: &str, w: usize, first: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut fresh = true;
    for word in text.split(' ') {
        if !fresh && width(&line) + 1 + width(word) > w {
            out.push_str(line.trim_end());
            out.push('\n');
            line = indent.to_string();
            fresh = true;
        }
        if !fresh {
            line.push(' ');
        }
        line.push_str(word);
        fresh = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// Renders with or without ANSI escapes (tests use `false`).
pub(crate) fn render(summary: &Summary, ansi: bool) -> String {
    let bold = |s: &str| {
        if ansi {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let red = |s: &str| {
        if ansi {
            format!("\x1b[31m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    let header = format!(
        "allocmux bench-matrix report — {} mode, started {}",
        summary.mode, summary.started
    );
    out.push_str(&bold(&header));
    out.push('\n');
    if summary.rows.is_empty() {
        out.push_str("No results to report.\n");
        return out;
    }

    // Cell texts, with a marker suffix: `*` best in row, `!` some reps failed.
    let build = |spread: bool| -> Vec<Vec<String>> {
        summary
            .rows
            .iter()
            .map(|row| {
                row.cells
                    .iter()
                    .enumerate()
                    .map(|(i, cell)| {
                        let mut s = throughput_cell(row, cell, spread);
                        if row.best == Some(i) {
                            s.push('*');
                        }
                        if cell.state == CellState::Partial {
                            s.push('!');
                        }
                        s
                    })
                    .collect()
            })
            .collect()
    };
    let col_widths = |cells: &[Vec<String>]| -> Vec<usize> {
        summary
            .backends
            .iter()
            .enumerate()
            .map(|(i, b)| {
                cells
                    .iter()
                    .map(|r| width(&r[i]))
                    .chain([width(b)])
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    };
    let mut spread = true;
    let mut cells = build(true);
    let mut widths = col_widths(&cells);
    let full_label = summary
        .rows
        .iter()
        .map(|r| width(&r.label))
        .max()
        .unwrap_or(0)
        .max("workload".len());
    let table_width =
        |widths: &[usize], label: usize| label + widths.iter().map(|w| w + 2).sum::<usize>();
    let mut label_w = full_label;
    if table_width(&widths, label_w) > WIDTH {
        label_w = (WIDTH.saturating_sub(table_width(&widths, 0)))
            .clamp(MIN_LABEL.min(full_label), full_label);
    }
    if table_width(&widths, label_w) > WIDTH {
        // Too many backends for the spreads: medians only.
        spread = false;
        cells = build(false);
        widths = col_widths(&cells);
        label_w = full_label;
        if table_width(&widths, label_w) > WIDTH {
            label_w = (WIDTH.saturating_sub(table_width(&widths, 0)))
                .clamp(MIN_LABEL.min(full_label), full_label);
        }
    }

    out.push('\n');
    let what = if summary.has_baseline() {
        if spread {
            "Throughput ÷ system, paired by rep: median (min–max)"
        } else {
            "Throughput ÷ system, paired by rep: medians (spreads in report.md)"
        }
    } else {
        "Median throughput in ops/s (no system data to compare with)"
    };
    out.push_str(&format!("{what}; * best in row, ! some reps failed\n"));
    let mut line = pad("workload", label_w);
    for (b, w) in summary.backends.iter().zip(&widths) {
        line.push_str("  ");
        line.push_str(&pad(b, *w));
    }
    out.push_str(&bold(line.trim_end()));
    out.push('\n');
    for (row, texts) in summary.rows.iter().zip(&cells) {
        let mut line = pad(&abbreviate(&row.label, label_w), label_w);
        for (i, (text, w)) in texts.iter().zip(&widths).enumerate() {
            line.push_str("  ");
            let padding = " ".repeat(w.saturating_sub(width(text)));
            let state = row.cells[i].state;
            if row.best == Some(i) {
                line.push_str(&bold(text));
            } else if matches!(
                state,
                CellState::Failed | CellState::Timeout | CellState::Mismatch
            ) {
                line.push_str(&red(text));
            } else {
                line.push_str(text);
            }
            line.push_str(&padding);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }

    out.push('\n');
    out.push_str(&bold("Recommendation"));
    out.push('\n');
    for sentence in recommendation_lines(summary) {
        out.push_str(&wrap(&sentence, WIDTH, "  ", "    "));
    }
    out
}
