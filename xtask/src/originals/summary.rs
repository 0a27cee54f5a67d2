//! The originals' summary: for each program and backend, speed and peak RSS
//! relative to the system allocator, as the median of per-round ratios (the
//! backend's run in round r against the system allocator's run in round r)
//! with their min–max, and the geometric mean over the programs with its 95 %
//! bootstrap interval over rounds. Written as a terminal table, `summary.md` and
//! `summary.csv`.

use std::fmt::Write as _;

use allocmux_harness::numbers::{
    geometric_mean, round_interval, Spread, ROUND_INTERVAL_CONFIDENCE,
};
use allocmux_harness::results::{CellRun, RunStatus};

/// One backend's figures on one program.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Speed ÷ the system allocator's, per round (median, min, max).
    pub speed: Option<Spread>,
    /// That ratio in each round (indexed by round; `None` where a run failed).
    pub by_round: Vec<Option<f64>>,
    /// Peak RSS ÷ the system allocator's (median of per-round ratios).
    pub rss: Option<f64>,
    /// Successful runs out of the runs made.
    pub ok: usize,
    /// Runs made.
    pub runs: usize,
}

/// One program's row: a cell per backend, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The program's name.
    pub program: String,
    /// Whether speed is the program's own figure (else 1 / wall time).
    pub own_figure: bool,
    /// One cell per backend.
    pub cells: Vec<Cell>,
}

/// A run's speed: the program's figure when it has one, else 1 / wall time.
fn speed(run: &CellRun) -> Option<f64> {
    match run.metric {
        Some(m) => Some(m),
        None if run.wall_seconds > 0.0 => Some(1.0 / run.wall_seconds),
        None => None,
    }
}

/// A run's peak resident memory: the sampled peak (the child's own), else the
/// kernel's `ru_maxrss` (which counts at least the harness's size at the spawn).
fn peak(run: &CellRun) -> Option<f64> {
    run.rss_sampled
        .map(|s| s.peak_bytes as f64)
        .or_else(|| run.usage.map(|u| u.peak_rss_bytes as f64))
}

/// The row of one program from its runs (`backends[0]` is the reference).
pub fn row(program: &str, own_figure: bool, backends: &[&str], runs: &[CellRun]) -> Row {
    let ok = |b: &str, rep: u32| {
        runs.iter()
            .find(|r| r.backend == b && r.rep == rep && r.status == RunStatus::Ok)
    };
    let reps: Vec<u32> = {
        let mut v: Vec<u32> = runs.iter().map(|r| r.rep).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let reference = backends[0];
    let cells = backends
        .iter()
        .map(|&b| {
            let mut rss = Vec::new();
            let mut by_round = vec![None; reps.last().map_or(0, |&r| r as usize + 1)];
            for &rep in &reps {
                let (Some(base), Some(this)) = (ok(reference, rep), ok(b, rep)) else {
                    continue;
                };
                if let (Some(s0), Some(s1)) = (speed(base), speed(this)) {
                    by_round[rep as usize] = Some(s1 / s0);
                }
                if let (Some(p0), Some(p1)) = (peak(base), peak(this)) {
                    if p0 > 0.0 {
                        rss.push(p1 / p0);
                    }
                }
            }
            let speeds: Vec<f64> = by_round.iter().flatten().copied().collect();
            Cell {
                speed: Spread::of(&speeds),
                by_round,
                rss: allocmux_harness::numbers::median(&rss),
                ok: runs
                    .iter()
                    .filter(|r| r.backend == b && r.status == RunStatus::Ok)
                    .count(),
                runs: runs.iter().filter(|r| r.backend == b).count(),
            }
        })
        .collect();
    Row {
        program: program.to_owned(),
        own_figure,
        cells,
    }
}

/// One backend's geometric mean over the programs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geomean {
    /// The geometric mean of the backend's median speed ratios.
    pub value: Option<f64>,
    /// Programs it covers (those with a ratio for the backend).
    pub rows: usize,
    /// Its 95 % bootstrap interval resampling whole rounds (`None` with fewer than five
    /// rounds, and for the reference itself).
    pub interval: Option<(f64, f64)>,
}

/// Seed of the geometric means' intervals (fixed: a summary written twice is the same).
const SEED: u64 = 0x4F52_4947;

/// Each backend's geometric mean of its median speed ratio over the rows that have
/// one for it (`backends` columns; column 0 is the reference).
pub fn geomeans(rows: &[Row], backends: usize) -> Vec<Geomean> {
    (0..backends)
        .map(|i| {
            let v: Vec<f64> = rows
                .iter()
                .filter_map(|r| r.cells[i].speed.map(|s| s.median))
                .collect();
            let by_round: Vec<Vec<Option<f64>>> =
                rows.iter().map(|r| r.cells[i].by_round.clone()).collect();
            Geomean {
                value: geometric_mean(&v),
                rows: v.len(),
                interval: (i > 0).then(|| round_interval(&by_round, SEED)).flatten(),
            }
        })
        .collect()
}

/// `x` as `1.23`, or `—` when missing.
fn ratio(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| format!("{v:.2}"))
}

/// A cell's speed as `1.23 (1.01–1.40)`.
fn speed_text(c: &Cell) -> String {
    match c.speed {
        Some(s) => format!("{:.2} ({:.2}–{:.2})", s.median, s.min, s.max),
        None => format!("— ({}/{} ok)", c.ok, c.runs),
    }
}

/// The Markdown table (speed, then peak RSS, relative to `backends[0]`).
pub fn markdown(rows: &[Row], backends: &[&str], rounds: u32) -> String {
    let mut s = format!(
        "Speed and peak RSS relative to {base} (median of {rounds} per-round ratios, min–max \
         in brackets). Speed is the program's own figure where it prints one (marked *), \
         else 1 / wall time. The geometric mean's brackets give the programs it covers and, \
         with five rounds or more, its {confidence:.0} % interval (a bootstrap that resamples \
         whole rounds).\n\n| program |",
        base = backends[0],
        confidence = ROUND_INTERVAL_CONFIDENCE * 100.0
    );
    for b in backends {
        let _ = write!(s, " {b} speed |");
    }
    for b in &backends[1..] {
        let _ = write!(s, " {b} RSS |");
    }
    s.push_str("\n|---|");
    s.push_str(&"---|".repeat(backends.len() * 2 - 1));
    s.push('\n');
    for r in rows {
        let mark = if r.own_figure { " *" } else { "" };
        let _ = write!(s, "| {}{mark} |", r.program);
        for c in &r.cells {
            let _ = write!(s, " {} |", speed_text(c));
        }
        for c in &r.cells[1..] {
            let _ = write!(s, " {} |", ratio(c.rss));
        }
        s.push('\n');
    }
    s.push_str("| geometric mean |");
    for g in geomeans(rows, backends.len()) {
        let interval = g
            .interval
            .map_or_else(String::new, |(lo, hi)| format!("; {lo:.2}–{hi:.2}"));
        let _ = write!(s, " {} ({}{interval}) |", ratio(g.value), g.rows);
    }
    s.push_str(&" |".repeat(backends.len() - 1));
    s.push('\n');
    s
}

/// The terminal table: speed medians only, one column per backend.
pub fn terminal(rows: &[Row], backends: &[&str]) -> String {
    let widths: Vec<usize> = backends.iter().map(|b| b.len().max(8) + 2).collect();
    let mut s = format!("{:<16}", "program");
    for (b, w) in backends.iter().zip(&widths) {
        let _ = write!(s, "{b:>w$}");
    }
    s.push('\n');
    for r in rows {
        let _ = write!(s, "{:<16}", r.program);
        for (c, w) in r.cells.iter().zip(&widths) {
            let _ = write!(s, "{:>w$}", ratio(c.speed.map(|x| x.median)));
        }
        s.push('\n');
    }
    let _ = write!(s, "{:<16}", "geomean");
    for (g, w) in geomeans(rows, backends.len()).iter().zip(&widths) {
        let _ = write!(s, "{:>w$}", ratio(g.value));
    }
    s.push('\n');
    s
}

/// One CSV line per program and backend.
pub fn csv(rows: &[Row], backends: &[&str]) -> String {
    let mut s = String::from(
        "program,backend,speed_ratio_median,speed_ratio_min,speed_ratio_max,peak_rss_ratio,runs_ok,runs\n",
    );
    for r in rows {
        for (b, c) in backends.iter().zip(&r.cells) {
            let f = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v:.4}"));
            let _ = writeln!(
                s,
                "{},{b},{},{},{},{},{},{}",
                r.program,
                f(c.speed.map(|x| x.median)),
                f(c.speed.map(|x| x.min)),
                f(c.speed.map(|x| x.max)),
                f(c.rss),
                c.ok,
                c.runs
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use allocmux_harness::process::Usage;

    fn run(backend: &str, rep: u32, wall: f64, rss: u64, ok: bool) -> CellRun {
        let status = if ok { RunStatus::Ok } else { RunStatus::Failed };
        let mut r = CellRun::new("p", backend, 1, rep, status);
        r.wall_seconds = wall;
        r.usage = Some(Usage {
            peak_rss_bytes: rss,
            ..Usage::default()
        });
        r
    }

    #[test]
    fn ratios_pair_runs_of_the_same_round_and_skip_failures() {
        let runs = vec![
            run("system", 0, 2.0, 100, true),
            run("slab", 0, 1.0, 50, true),
            run("system", 1, 4.0, 100, true),
            run("slab", 1, 1.0, 200, true),
            run("system", 2, 1.0, 100, true),
            run("slab", 2, 1.0, 100, false),
        ];
        let r = row("p", false, &["system", "slab"], &runs);
        let slab = &r.cells[1];
        // Round 0: 2.0 / 1.0 = 2; round 1: 4.0 / 1.0 = 4; round 2 failed.
        assert_eq!(slab.speed.unwrap().median, 3.0);
        assert_eq!(
            (slab.speed.unwrap().min, slab.speed.unwrap().max),
            (2.0, 4.0)
        );
        assert_eq!(slab.rss, Some(1.25));
        assert_eq!((slab.ok, slab.runs), (2, 3));
        assert_eq!(r.cells[0].speed.unwrap().median, 1.0);
    }

    #[test]
    fn the_program_figure_wins_over_wall_time_and_geomeans_cover_rows_with_data() {
        let mut a = run("system", 0, 1.0, 10, true);
        a.metric = Some(100.0);
        let mut b = run("slab", 0, 9.0, 10, true);
        b.metric = Some(150.0);
        let r1 = row("rate", true, &["system", "slab"], &[a, b]);
        assert_eq!(r1.cells[1].speed.unwrap().median, 1.5);
        let r2 = row(
            "timed",
            false,
            &["system", "slab"],
            &[
                run("system", 0, 6.0, 10, true),
                run("slab", 0, 1.0, 10, true),
            ],
        );
        let r3 = row(
            "broken",
            false,
            &["system", "slab"],
            &[run("slab", 0, 1.0, 1, true)],
        );
        let g = geomeans(&[r1.clone(), r2.clone(), r3.clone()], 2);
        assert_eq!(g[1].rows, 2);
        assert!((g[1].value.unwrap() - 3.0).abs() < 1e-9);
        assert_eq!(g[1].interval, None, "one round has no interval");
        let md = markdown(&[r1, r2, r3], &["system", "slab"], 1);
        assert!(
            md.contains("| rate * | 1.00 (1.00–1.00) | 1.50 (1.50–1.50) | 1.00 |"),
            "{md}"
        );
        assert!(
            md.contains("| broken | — (0/0 ok) | — (1/1 ok) | — |"),
            "{md}"
        );
        assert!(
            md.contains("| geometric mean | 1.00 (2) | 3.00 (2) | |"),
            "{md}"
        );
    }

    #[test]
    fn the_geometric_mean_gets_an_interval_over_rounds() {
        // Five rounds; the slab's speed ratio is 2 to 6 (wall 2–6 s against 1 s).
        let runs: Vec<CellRun> = (0..5)
            .flat_map(|k| {
                [
                    run("system", k, 2.0 + f64::from(k), 10, true),
                    run("slab", k, 1.0, 10, true),
                ]
            })
            .collect();
        let r = row("p", false, &["system", "slab"], &runs);
        assert_eq!(
            r.cells[1].by_round,
            [2.0, 3.0, 4.0, 5.0, 6.0].map(Some).to_vec()
        );
        let g = geomeans(std::slice::from_ref(&r), 2);
        assert_eq!(g[0].interval, None, "the reference column has none");
        let (lo, hi) = g[1].interval.unwrap();
        assert!(
            (2.0..4.0).contains(&lo) && (4.0..=6.0).contains(&hi) && lo < hi,
            "{lo} {hi}"
        );
        let md = markdown(&[r], &["system", "slab"], 5);
        assert!(
            md.contains(&format!(
                "| geometric mean | 1.00 (1) | 4.00 (1; {lo:.2}–{hi:.2}) | |"
            )),
            "{md}"
        );
    }
}
