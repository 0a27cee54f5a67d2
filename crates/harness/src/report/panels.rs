//! Small multiples: a grid of small line charts, one per panel, one line per
//! backend in the colour it has everywhere, one shared legend on top. The
//! HTML report draws three with it: resident memory over time (a panel per
//! workload), throughput against thread count (a panel per workload run at
//! several thread counts) and latency percentiles (a panel per kind of call).
//! Log axes plot the logarithm on a linear axis and label it back.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::charts::{color, draw_title, err};

/// Width of the whole grid, in pixels.
const WIDTH: u32 = 1100;
/// Height of one panel.
const PANEL_HEIGHT: u32 = 230;
/// Height of the title and legend strip.
const HEAD: u32 = 64;
const FONT: &str = "sans-serif";

/// One small chart: a title and a line per backend (`(x, y)` points).
#[derive(Debug, Clone)]
pub struct Panel {
    /// Shown above the panel.
    pub title: String,
    /// `(backend, points)`, points in x order.
    pub lines: Vec<(String, Vec<(f64, f64)>)>,
}

/// A grid of panels sharing axes' meaning and the backends' colours.
pub struct SmallMultiples<'a> {
    /// Title of the whole figure.
    pub title: String,
    /// What the x axes measure.
    pub x_desc: &'a str,
    /// What the y axes measure.
    pub y_desc: &'a str,
    /// The panels, filled row by row.
    pub panels: Vec<Panel>,
    /// Every backend of the report, for colours and the legend.
    pub backends: &'a [String],
    /// Panels per row.
    pub columns: usize,
    /// Logarithmic x axis (base 2 steps, for thread counts).
    pub log_x: bool,
    /// Logarithmic y axis (for latencies).
    pub log_y: bool,
    /// How x values are written.
    pub x_label: fn(f64) -> String,
    /// How y values are written.
    pub y_label: fn(f64) -> String,
}

impl SmallMultiples<'_> {
    fn tx(&self, v: f64) -> f64 {
        if self.log_x {
            v.max(1e-12).log2()
        } else {
            v
        }
    }

    fn ty(&self, v: f64) -> f64 {
        if self.log_y {
            v.max(1e-12).log10()
        } else {
            v
        }
    }

    /// The panel's x and y ranges (y from 0 on a linear axis).
    fn ranges(&self, p: &Panel) -> ((f64, f64), (f64, f64)) {
        let pts = || p.lines.iter().flat_map(|(_, v)| v.iter());
        let (mut x0, mut x1) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY);
        for &(x, y) in pts() {
            let (x, y) = (self.tx(x), self.ty(y));
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        if !x0.is_finite() {
            return ((0.0, 1.0), (0.0, 1.0));
        }
        if x1 <= x0 {
            x1 = x0 + 1.0;
        }
        if self.log_y {
            y0 = y0.floor();
            y1 = y1.ceil().max(y0 + 1.0);
        } else {
            y0 = 0.0;
            y1 = (y1 * 1.1).max(1e-9);
        }
        ((x0, x1), (y0, y1))
    }

    /// Draws the grid as an SVG string.
    pub fn render(&self) -> Result<String, String> {
        let columns = self.columns.max(1);
        let rows = self.panels.len().div_ceil(columns).max(1);
        let height = HEAD + rows as u32 * PANEL_HEIGHT;
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
            root.fill(&WHITE).map_err(err)?;
            let (head, body) = root.split_vertically(HEAD);
            draw_title(&head, &self.title)?;
            let label = (FONT, 17.0).into_font().color(&BLACK);
            let mut x = 14;
            for b in self.backends {
                let c = color(self.backends, b);
                head.draw(&Rectangle::new([(x, 38), (x + 16, 48)], c.filled()))
                    .map_err(err)?;
                head.draw(&Text::new(
                    b.clone(),
                    (x + 22, 43),
                    label.pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(err)?;
                x += 22 + (b.chars().count() as i32 * 9) + 26;
            }
            let areas = body.split_evenly((rows, columns));
            for (panel, area) in self.panels.iter().zip(areas.iter()) {
                self.draw_panel(panel, area)?;
            }
            root.present().map_err(err)?;
        }
        Ok(svg)
    }

    fn draw_panel(
        &self,
        panel: &Panel,
        area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    ) -> Result<(), String> {
        let ((x0, x1), (y0, y1)) = self.ranges(panel);
        let small = (FONT, 14.0).into_font().color(&BLACK);
        let mut chart = ChartBuilder::on(area)
            .caption(
                panel.title.clone(),
                (FONT, 17.0).into_font().style(FontStyle::Bold),
            )
            .margin(8)
            .margin_right(16)
            .x_label_area_size(34)
            .y_label_area_size(58)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        let (log_x, log_y) = (self.log_x, self.log_y);
        let (xl, yl) = (self.x_label, self.y_label);
        let x_fmt = move |v: &f64| xl(if log_x { 2f64.powf(*v) } else { *v });
        let y_fmt = move |v: &f64| yl(if log_y { 10f64.powf(*v) } else { *v });
        let x_ticks = if log_x {
            (x1 - x0).round() as usize + 1
        } else {
            5
        };
        let y_ticks = if log_y {
            (y1 - y0).round() as usize + 1
        } else {
            5
        };
        chart
            .configure_mesh()
            .x_labels(x_ticks.clamp(2, 8))
            .y_labels(y_ticks.clamp(2, 8))
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .label_style(small.clone())
            .axis_desc_style(small)
            .light_line_style(RGBColor(238, 238, 238))
            .bold_line_style(RGBColor(210, 210, 210))
            .draw()
            .map_err(err)?;
        for (backend, points) in &panel.lines {
            let c = color(self.backends, backend);
            let pts: Vec<(f64, f64)> = points
                .iter()
                .map(|&(x, y)| (self.tx(x), self.ty(y)))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
                .map_err(err)?;
            if pts.len() <= 12 {
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))
                    .map_err(err)?;
            }
        }
        Ok(())
    }
}
