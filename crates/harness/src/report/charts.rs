//! The SVG charts of `report.html`, drawn with plotters into strings: grouped
//! horizontal bars of throughput relative to system and of peak RSS. Each
//! backend keeps one colour everywhere ([`color`]); the chart's height grows
//! with the number of rows so workload names never overlap; workload names
//! and the legend are drawn outside the plot so nothing covers the bars.

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::format::{mib, ratio, state_word};
use super::summary::{Summary, BASELINE};

/// Width of every chart, in pixels.
const WIDTH: u32 = 1100;
/// Height of one bar's slot, in pixels.
const BAR: u32 = 17;
/// Space between two rows, in pixels.
const ROW_GAP: u32 = 14;
/// Height of the title and legend strip above the plot.
const HEAD: u32 = 74;
/// Height of the axis label area at the top and at the bottom.
const AXIS: u32 = 44;
/// Font family of every label (plotters writes it into the SVG as is).
const FONT: &str = "sans-serif";
/// plotters writes `size / 1.24` as the SVG font size: 17.5 → 14 px.
const LABEL: f64 = 17.5;
/// 15.5 → 12.5 px, for values on the bars.
const SMALL: f64 = 15.5;

/// The colour of a backend, the same in every chart, legend and table: the
/// system allocator grey, the others from a colour-blind-safe palette in
/// report order.
pub fn color(backends: &[String], backend: &str) -> RGBColor {
    const PALETTE: [RGBColor; 8] = [
        RGBColor(0, 114, 178),   // blue
        RGBColor(230, 159, 0),   // orange
        RGBColor(0, 158, 115),   // green
        RGBColor(204, 121, 167), // purple-pink
        RGBColor(213, 94, 0),    // vermilion
        RGBColor(86, 180, 233),  // sky blue
        RGBColor(240, 228, 66),  // yellow
        RGBColor(0, 0, 0),       // black
    ];
    if backend == BASELINE {
        return RGBColor(150, 150, 150);
    }
    let index = backends
        .iter()
        .filter(|b| *b != BASELINE)
        .position(|b| b == backend)
        .unwrap_or(0);
    PALETTE[index % PALETTE.len()]
}

/// `#rrggbb` of a colour, for CSS.
pub fn css(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// Draws a figure's title at the top left of `head`.
pub(super) fn draw_title<DB: DrawingBackend>(
    head: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
) -> Result<(), String> {
    head.draw(&Text::new(
        title.to_owned(),
        (12, 8),
        (FONT, 21.0)
            .into_font()
            .style(FontStyle::Bold)
            .color(&BLACK),
    ))
    .map_err(err)
}

/// What one bar shows.
pub(super) enum Bar {
    /// A bar of that length.
    Value(f64),
    /// No bar, a word instead (`TIMEOUT`).
    Note(String),
    /// Nothing.
    Empty,
}

/// The lengths of all the bars that have one, row by row.
fn bar_values(rows: &[Vec<Bar>]) -> Vec<f64> {
    rows.iter()
        .flatten()
        .filter_map(|b| match b {
            Bar::Value(v) => Some(*v),
            _ => None,
        })
        .collect()
}

/// A grouped horizontal bar chart: one group per row, one bar per series.
pub(super) struct BarChart {
    /// Title above the legend.
    pub title: String,
    /// What the x axis measures.
    pub x_desc: String,
    /// Row (group) labels, top to bottom.
    pub rows: Vec<String>,
    /// Series names and colours (the legend).
    pub series: Vec<(String, RGBColor)>,
    /// `[row][series]`.
    pub bars: Vec<Vec<Bar>>,
    /// A vertical line at this x, with its legend text.
    pub reference: Option<(f64, String)>,
    /// How values are written on the bars.
    pub value_label: fn(f64) -> String,
    /// How values are written on the axis.
    pub axis_label: fn(f64) -> String,
}

/// A plotters error as the report's message.
pub(super) fn err<E: std::fmt::Display>(e: E) -> String {
    format!("cannot draw chart: {e}")
}

/// Width in pixels plotters' SVG text of `size` takes, generously estimated.
fn text_width(text: &str, size: f64) -> i32 {
    (text.chars().count() as f64 * size / 1.24 * 0.6).ceil() as i32
}

impl BarChart {
    /// Height of one row group, in pixels.
    fn row_height(&self) -> u32 {
        self.series.len().max(1) as u32 * BAR + ROW_GAP
    }

    /// Draws the chart on a linear axis from 0 or a log axis.
    pub fn render(&self, log: bool) -> Result<String, String> {
        let values = bar_values(&self.bars);
        let mut hi = values.iter().copied().fold(0.0_f64, f64::max);
        if let Some((r, _)) = &self.reference {
            hi = hi.max(*r);
        }
        if hi <= 0.0 {
            hi = 1.0;
        }
        if log {
            let lo = values
                .iter()
                .copied()
                .filter(|v| *v > 0.0)
                .fold(f64::INFINITY, f64::min);
            let lo = if lo.is_finite() { lo } else { hi / 10.0 };
            // Whole powers of two around the data, room on the right for the labels.
            let lo = 2f64.powf(lo.log2().floor());
            let hi = 2f64.powf((hi * 1.6).log2().ceil());
            self.draw((lo..hi).log_scale().base(2.0), lo, hi)
        } else {
            self.draw(0.0..hi * 1.15, 0.0, hi * 1.15)
        }
    }

    fn draw<X>(&self, x_spec: X, x_lo: f64, x_hi: f64) -> Result<String, String>
    where
        X: AsRangedCoord<Value = f64>,
        X::CoordDescType: ValueFormatter<f64>,
    {
        let n = self.rows.len();
        let row_h = self.row_height();
        let plot_h = n as u32 * row_h;
        let height = HEAD + 2 * AXIS + plot_h + 10;
        let label_w = self
            .rows
            .iter()
            .map(|r| text_width(r, LABEL))
            .max()
            .unwrap_or(40)
            + 24;
        let label_style = (FONT, LABEL).into_font().color(&BLACK);
        let small = (FONT, SMALL).into_font().color(&BLACK);

        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
            root.fill(&WHITE).map_err(err)?;
            let (head, body) = root.split_vertically(HEAD);

            // Title and legend.
            draw_title(&head, &self.title)?;
            let mut x = 14;
            let y = 50;
            for (name, c) in &self.series {
                head.draw(&Rectangle::new([(x, y - 8), (x + 16, y + 8)], c.filled()))
                    .map_err(err)?;
                head.draw(&Text::new(
                    name.clone(),
                    (x + 22, y),
                    label_style.pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(err)?;
                x += 22 + text_width(name, LABEL) + 26;
            }
            if let Some((_, text)) = &self.reference {
                head.draw(&PathElement::new(
                    vec![(x, y - 10), (x, y + 10)],
                    BLACK.stroke_width(2),
                ))
                .map_err(err)?;
                head.draw(&Text::new(
                    text.clone(),
                    (x + 8, y),
                    label_style.pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(err)?;
            }

            let fmt = self.value_label;
            let mut chart = ChartBuilder::on(&body)
                .margin_right(44)
                .margin_bottom(10)
                .y_label_area_size(label_w)
                .x_label_area_size(AXIS)
                .top_x_label_area_size(AXIS)
                .build_cartesian_2d(x_spec, 0.0..n as f64)
                .map_err(err)?;
            let axis = self.axis_label;
            let x_fmt = |v: &f64| axis(*v);
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(0)
                .x_labels(10)
                .x_label_formatter(&x_fmt)
                .label_style(small.clone())
                .x_desc(self.x_desc.clone())
                .axis_desc_style(label_style.clone())
                .light_line_style(RGBColor(235, 235, 235))
                .bold_line_style(RGBColor(205, 205, 205))
                .draw()
                .map_err(err)?;

            // Shade every other row so a bar's row is easy to follow.
            let top = |i: usize| (n - i) as f64;
            chart
                .draw_series((0..n).filter(|i| i % 2 == 1).map(|i| {
                    Rectangle::new(
                        [(x_lo, top(i) - 1.0), (x_hi, top(i))],
                        RGBColor(244, 246, 250).filled(),
                    )
                }))
                .map_err(err)?;

            let unit = 1.0 / f64::from(row_h);
            let pad = f64::from(ROW_GAP) / 2.0 * unit;
            let slot = f64::from(BAR) * unit;
            // Values are written last, on a white box, so the reference line never crosses them.
            let mut labels: Vec<(String, i32, i32)> = Vec::new();
            for (i, (label, bars)) in self.rows.iter().zip(&self.bars).enumerate() {
                // Workload name, right-aligned left of the plot, centred on the group.
                let (px, py) = chart.backend_coord(&(x_lo, top(i) - 0.5));
                root.draw(&Text::new(
                    label.clone(),
                    (px - 10, py),
                    label_style.pos(Pos::new(HPos::Right, VPos::Center)),
                ))
                .map_err(err)?;
                for (j, bar) in bars.iter().enumerate() {
                    let y_top = top(i) - pad - j as f64 * slot;
                    let y_bottom = y_top - slot * 0.82;
                    let y_mid = (y_top + y_bottom) / 2.0;
                    let c = self.series[j].1;
                    match bar {
                        Bar::Value(v) => {
                            chart
                                .draw_series([Rectangle::new(
                                    [(x_lo, y_bottom), (*v, y_top)],
                                    c.filled(),
                                )])
                                .map_err(err)?;
                            let (bx, by) = chart.backend_coord(&(*v, y_mid));
                            labels.push((fmt(*v), bx + 5, by));
                        }
                        Bar::Note(word) => {
                            let (bx, by) = chart.backend_coord(&(x_lo, y_mid));
                            root.draw(&Text::new(
                                word.clone(),
                                (bx + 5, by),
                                small
                                    .color(&RGBColor(180, 0, 0))
                                    .pos(Pos::new(HPos::Left, VPos::Center)),
                            ))
                            .map_err(err)?;
                        }
                        Bar::Empty => {}
                    }
                }
            }
            if let Some((r, _)) = &self.reference {
                chart
                    .draw_series([PathElement::new(
                        vec![(*r, 0.0), (*r, n as f64)],
                        BLACK.stroke_width(2),
                    )])
                    .map_err(err)?;
            }
            let box_h = (SMALL / 1.24 / 2.0).ceil() as i32 + 1;
            for (text, x, y) in labels {
                let w = text_width(&text, SMALL);
                root.draw(&Rectangle::new(
                    [(x - 2, y - box_h), (x + w, y + box_h)],
                    WHITE.mix(0.85).filled(),
                ))
                .map_err(err)?;
                root.draw(&Text::new(
                    text,
                    (x, y),
                    small.pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(err)?;
            }
            root.present().map_err(err)?;
        }
        Ok(svg)
    }
}

/// Throughput relative to system per row, one bar per non-system backend
/// (the system allocator is the line at 1.0). Rows without system data say so.
pub fn throughput_chart(summary: &Summary) -> Result<String, String> {
    let shown: Vec<usize> = (0..summary.backends.len())
        .filter(|&i| summary.backends[i] != BASELINE)
        .collect();
    let series = shown
        .iter()
        .map(|&i| {
            (
                summary.backends[i].clone(),
                color(&summary.backends, &summary.backends[i]),
            )
        })
        .collect();
    let bars = summary
        .rows
        .iter()
        .map(|row| {
            shown
                .iter()
                .enumerate()
                .map(|(k, &i)| {
                    let c = &row.cells[i];
                    match c.relative {
                        Some(r) => Bar::Value(r.median),
                        None if !row.is_relative() && k == 0 => {
                            Bar::Note("no system data: absolute numbers in the tables".to_string())
                        }
                        None if !row.is_relative() => Bar::Empty,
                        None => Bar::Note(format!("{}: {}", c.backend, state_word(c.state))),
                    }
                })
                .collect()
        })
        .collect();
    BarChart {
        title: "Median throughput relative to system (longer is faster)".to_string(),
        x_desc: "throughput ÷ system median in the same row".to_string(),
        rows: summary.rows.iter().map(|r| r.label.clone()).collect(),
        series,
        bars,
        reference: Some((1.0, "system = 1.0".to_string())),
        value_label: ratio,
        axis_label: |v| format!("{v:.2}×"),
    }
    .render(false)
}

/// Median peak RSS per row in MiB, one bar per backend; a log axis when the
/// values span more than 20×.
pub fn rss_chart(summary: &Summary) -> Result<String, String> {
    let series = summary
        .backends
        .iter()
        .map(|b| (b.clone(), color(&summary.backends, b)))
        .collect();
    let bars: Vec<Vec<Bar>> = summary
        .rows
        .iter()
        .map(|row| {
            row.cells
                .iter()
                .map(|c| match c.peak_rss {
                    Some(b) => Bar::Value(b / (1024.0 * 1024.0)),
                    None => Bar::Note(format!("{}: {}", c.backend, state_word(c.state))),
                })
                .collect()
        })
        .collect();
    let values = bar_values(&bars);
    let lo = values
        .iter()
        .copied()
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(0.0_f64, f64::max);
    let log = lo.is_finite() && hi / lo > 20.0;
    BarChart {
        title: format!(
            "Median peak RSS in MiB (shorter is leaner{})",
            if log { "; log scale" } else { "" }
        ),
        x_desc: if log {
            "peak RSS, MiB (log scale)"
        } else {
            "peak RSS, MiB"
        }
        .to_string(),
        rows: summary.rows.iter().map(|r| r.label.clone()).collect(),
        series,
        bars,
        reference: None,
        value_label: |v| mib(v * 1024.0 * 1024.0),
        axis_label: |v| {
            if v >= 10.0 || v == 0.0 {
                format!("{v:.0}")
            } else {
                format!("{v}")
            }
        },
    }
    .render(log)
}
