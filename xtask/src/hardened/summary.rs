//! The hardened-cost command's figures: each row's hardened ÷ plain ratios over
//! the rounds (with `--with-mimalloc` also mimalloc secure ÷ plain mimalloc and
//! hardened slab ÷ mimalloc secure), their geometric means with bootstrap intervals
//! over rounds, and the Markdown table.

use allocmux_harness::numbers::{
    self, geometric_mean, median, Spread, ROUND_INTERVAL_CONFIDENCE, ROUND_INTERVAL_RESAMPLES,
};
use allocmux_harness::report::si;
use allocmux_harness::results::Machine;

use super::builds::{Build, Runs};

/// A ratio the summary reports: one round's `numerator ÷ denominator` throughput.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ratio {
    /// The slab's hardened mode against the plain slab: the command's figure.
    HardenedCost,
    /// mimalloc's secure mode against plain mimalloc (`--with-mimalloc`).
    SecureCost,
    /// The hardened slab against mimalloc's secure mode (`--with-mimalloc`).
    HardenedVsSecure,
}

impl Ratio {
    /// Every ratio, in the order the summary gives them.
    pub const ALL: [Ratio; 3] = [
        Ratio::HardenedCost,
        Ratio::SecureCost,
        Ratio::HardenedVsSecure,
    ];

    /// The builds divided: `(numerator, denominator)`.
    fn builds(self) -> (Build, Build) {
        match self {
            Ratio::HardenedCost => (Build::Hardened, Build::Plain),
            Ratio::SecureCost => (Build::MimallocSecure, Build::Mimalloc),
            Ratio::HardenedVsSecure => (Build::Hardened, Build::MimallocSecure),
        }
    }

    /// This ratio of one round, when both of its runs succeeded.
    pub fn of(self, runs: &Runs) -> Option<f64> {
        let (num, den) = self.builds();
        Some(runs[num.index()]? / runs[den.index()]?)
    }

    /// What a ratio below 1 is the cost of (`None`: a comparison, not a cost).
    fn mode(self) -> Option<&'static str> {
        match self {
            Ratio::HardenedCost => Some("hardened"),
            Ratio::SecureCost => Some("secure mode"),
            Ratio::HardenedVsSecure => None,
        }
    }

    /// The geometric-mean line's words for it.
    fn phrase(self) -> &'static str {
        match self {
            Ratio::HardenedCost => "hardened slab ÷ plain slab",
            Ratio::SecureCost => "mimalloc secure ÷ plain mimalloc",
            Ratio::HardenedVsSecure => "hardened slab ÷ mimalloc secure",
        }
    }
}

/// One row's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct RowSummary {
    /// `workload` or `workload ×threads`.
    pub label: String,
    /// Median throughput of each build's successful runs (operations/s), by
    /// [`Build::index`].
    pub ops: Runs,
    /// Each [`Ratio`]'s median and min–max over the rounds where both runs succeeded.
    pub ratios: [Option<Spread>; 3],
    /// Rounds where both slab runs succeeded.
    pub pairs: usize,
}

impl RowSummary {
    /// `ratio`'s figures.
    pub fn ratio(&self, ratio: Ratio) -> Option<Spread> {
        self.ratios[ratio as usize]
    }
}

/// A ratio's summary figure: the geometric mean of the rows' medians (rows without a
/// complete pair are left out) with its bootstrap interval over rounds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Figure {
    /// The geometric mean.
    pub geomean: Option<f64>,
    /// Its interval ([`allocmux_harness::numbers::round_interval`]).
    pub interval: Option<(f64, f64)>,
}

/// Each row's summary from its throughputs, `ops[row][round][build]` (`None`
/// for a failed or absent run), and each [`Ratio`]'s [`Figure`] (its bootstrap
/// interval, [`allocmux_harness::numbers::round_interval`], drawn with `seed`). Each
/// round's ratios are computed once and serve the row's spread, its pair count and
/// the interval.
pub fn summarise(
    labels: &[String],
    ops: &[Vec<Runs>],
    seed: u64,
) -> (Vec<RowSummary>, [Figure; 3]) {
    // by_round[ratio][row][round]: that round's ratio, when both of its runs succeeded.
    let by_round: [Vec<Vec<Option<f64>>>; 3] = Ratio::ALL.map(|q| {
        ops.iter()
            .map(|rounds| rounds.iter().map(|r| q.of(r)).collect())
            .collect()
    });
    let rows: Vec<RowSummary> = labels
        .iter()
        .zip(ops)
        .enumerate()
        .map(|(row, (label, rounds))| RowSummary {
            label: label.clone(),
            ops: Build::ALL.map(|b| {
                median(
                    &rounds
                        .iter()
                        .filter_map(|r| r[b.index()])
                        .collect::<Vec<_>>(),
                )
            }),
            ratios: by_round
                .each_ref()
                .map(|ratio| Spread::of(&ratio[row].iter().flatten().copied().collect::<Vec<_>>())),
            pairs: by_round[Ratio::HardenedCost as usize][row]
                .iter()
                .flatten()
                .count(),
        })
        .collect();
    let figures = Ratio::ALL.map(|q| {
        let medians: Vec<f64> = rows
            .iter()
            .filter_map(|r| Some(r.ratio(q)?.median))
            .collect();
        Figure {
            geomean: geometric_mean(&medians),
            interval: numbers::round_interval(&by_round[q as usize], seed),
        }
    });
    (rows, figures)
}

/// Operations per second with an SI suffix as the matrix report writes them
/// (`108M`, `56.2k`), or `–`.
fn ops_text(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), si)
}

/// A ratio's median, or `failed`.
fn ratio_text(r: Option<Spread>) -> String {
    r.map_or_else(|| "failed".into(), |x| format!("{:.3}", x.median))
}

/// A ratio's min–max, or `–`.
fn spread_text(r: Option<Spread>) -> String {
    r.map_or_else(|| "–".into(), |x| format!("{:.3}–{:.3}", x.min, x.max))
}

/// What the summary says about the run besides its figures.
pub struct RunInfo<'a> {
    /// `full` or `quick` parameters, when known.
    pub mode: Option<&'a str>,
    /// Rounds run.
    pub rounds: u32,
    /// The machine, when known (summaries made again from `runs.jsonl` do not know it).
    pub machine: Option<&'a Machine>,
    /// Whether mimalloc's builds were measured (their columns are shown even when
    /// every one of their runs failed).
    pub with_mimalloc: bool,
}

/// The Markdown summary: what was measured, on what, and the table, with mimalloc's
/// columns and lines when [`RunInfo::with_mimalloc`].
pub fn render(rows: &[RowSummary], figures: &[Figure; 3], run: &RunInfo) -> String {
    let rounds = run.rounds;
    let with_mimalloc = run.with_mimalloc;
    let params = run
        .mode
        .map_or_else(String::new, |m| format!(", {m} parameters"));
    let machine = run.machine.map_or_else(
        || "not recorded with the runs (see the run's own summary.md)".to_owned(),
        |m| format!("{}, {}, {}", m.summary(), m.kernel_phrase(), m.rustc),
    );
    let (title, builds, extra_head, extra_rule) = if with_mimalloc {
        (
            "Hardened ÷ plain slab throughput, and mimalloc's secure mode",
            "four builds (the slab plain and hardened, mimalloc plain and secure)",
            " mimalloc ops/s | secure ops/s | secure ÷ mimalloc | min–max | hardened ÷ secure |",
            "---:|---:|---:|---|---:|",
        )
    } else {
        ("Hardened ÷ plain slab throughput", "", "", "")
    };
    let mut s = format!(
        "# {title}\n\n{} rows, {rounds} interleaved round{}{}{params}, \
         no idle phase. Machine: {machine}.\n\n\
         | row | plain ops/s | hardened ops/s | hardened ÷ plain | min–max | pairs |{extra_head}\n\
         |---|---:|---:|---:|---|---:|{extra_rule}\n",
        rows.len(),
        if rounds == 1 { "" } else { "s" },
        if builds.is_empty() {
            String::new()
        } else {
            format!(" of {builds}")
        },
    );
    for r in rows {
        let h = r.ratio(Ratio::HardenedCost);
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |",
            r.label,
            ops_text(r.ops[Build::Plain.index()]),
            ops_text(r.ops[Build::Hardened.index()]),
            ratio_text(h),
            spread_text(h),
            r.pairs
        ));
        if with_mimalloc {
            let m = r.ratio(Ratio::SecureCost);
            s.push_str(&format!(
                " {} | {} | {} | {} | {} |",
                ops_text(r.ops[Build::Mimalloc.index()]),
                ops_text(r.ops[Build::MimallocSecure.index()]),
                ratio_text(m),
                spread_text(m),
                ratio_text(r.ratio(Ratio::HardenedVsSecure)),
            ));
        }
        s.push('\n');
    }
    s.push('\n');
    let shown: &[Ratio] = if with_mimalloc {
        &Ratio::ALL
    } else {
        &[Ratio::HardenedCost]
    };
    for (i, &q) in shown.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        s.push_str(&figure_lines(q, &figures[q as usize]));
    }
    s
}

/// The geometric-mean line of `ratio` and, when there is one, its interval line.
fn figure_lines(ratio: Ratio, figure: &Figure) -> String {
    let Some(g) = figure.geomean else {
        return format!(
            "No row has a complete pair for {}: no geometric mean.\n",
            ratio.phrase()
        );
    };
    // A ratio above 1 is a gain, not a negative cost.
    let effect = ratio.mode().map_or_else(String::new, |mode| {
        if g <= 1.0 {
            format!(" ({mode} costs {:.1} %)", (1.0 - g) * 100.0)
        } else {
            format!(" ({mode} is {:.1} % faster)", (g - 1.0) * 100.0)
        }
    });
    // The command's own figure keeps the line it always had.
    let what = if ratio == Ratio::HardenedCost {
        " of the rows' medians".to_owned()
    } else {
        format!(", {}", ratio.phrase())
    };
    let mut s = format!("Geometric mean{what}: **{g:.3}**{effect}.\n");
    if let Some((low, high)) = figure.interval {
        let cost = ratio
            .mode()
            .map_or_else(String::new, |_| format!(" ({})", cost_range(low, high)));
        s.push_str(&format!(
            "{:.0} % interval of that figure, resampling whole rounds (bootstrap, \
             {ROUND_INTERVAL_RESAMPLES} resamples): {low:.3}–{high:.3}{cost}.\n",
            ROUND_INTERVAL_CONFIDENCE * 100.0,
        ));
    }
    s
}

/// The cost an interval `low`–`high` of a slowdown ratio stands for, in words that stay
/// right when one or both ends are a gain (a ratio above 1).
fn cost_range(low: f64, high: f64) -> String {
    let (least, most) = ((1.0 - high) * 100.0, (1.0 - low) * 100.0);
    if least >= 0.0 {
        format!("a cost of {least:.1}–{most:.1} %")
    } else if most > 0.0 {
        format!("from a gain of {:.1} % to a cost of {most:.1} %", -least)
    } else {
        format!("a gain of {:.1}–{:.1} %", -most, -least)
    }
}

#[cfg(test)]
mod tests {
    use super::{render, summarise, Figure, Ratio, RunInfo};
    use crate::hardened::builds::Runs;
    use allocmux_harness::results::Machine;

    /// A round of the slab pair only.
    fn slab(plain: Option<f64>, hardened: Option<f64>) -> Runs {
        [plain, hardened, None, None]
    }

    #[test]
    fn ratios_pair_runs_of_one_round_and_skip_failed_ones() {
        let labels = vec!["a".to_owned(), "b ×2".to_owned(), "c".to_owned()];
        let ops = vec![
            // a: ratios 0.9, 0.8 and a round whose hardened run failed.
            vec![
                slab(Some(100e6), Some(90e6)),
                slab(Some(50e6), Some(40e6)),
                slab(Some(80e6), None),
            ],
            // b: one round, ratio 0.5.
            vec![slab(Some(10e3), Some(5e3))],
            // c: never a complete pair.
            vec![slab(None, Some(1.0)), slab(Some(2.0), None)],
        ];
        let (rows, figures) = summarise(&labels, &ops, 1);
        assert_eq!(rows[0].pairs, 2);
        let a = rows[0].ratio(Ratio::HardenedCost).unwrap();
        assert!(
            (a.median - 0.85).abs() < 1e-12 && a.min == 0.8 && a.max == 0.9,
            "{a:?}"
        );
        assert_eq!(rows[0].ops[0], Some(80e6));
        assert_eq!(rows[0].ops[1], Some(65e6));
        assert_eq!(rows[0].ratio(Ratio::SecureCost), None);
        assert_eq!(rows[1].ratio(Ratio::HardenedCost).unwrap().median, 0.5);
        assert_eq!(
            (rows[2].ratio(Ratio::HardenedCost), rows[2].pairs),
            (None, 0)
        );
        // The geometric mean of 0.85 and 0.5 (c has none); three rounds give no interval.
        let g = figures[0].geomean.unwrap();
        assert!((g - (0.85f64 * 0.5).sqrt()).abs() < 1e-12, "{g}");
        assert_eq!(figures[0].interval, None);
        assert_eq!(figures[1], Figure::default());
        let machine = Machine::default();
        let info = RunInfo {
            mode: Some("full"),
            rounds: 3,
            machine: Some(&machine),
            with_mimalloc: false,
        };
        let text = render(&rows, &figures, &info);
        assert!(
            text.contains("3 interleaved rounds, full parameters, no idle phase"),
            "{text}"
        );
        assert!(!text.contains("resamples"), "{text}");
        assert!(
            !text.contains("mimalloc"),
            "no mimalloc runs, no columns: {text}"
        );
        assert!(
            text.contains("| a | 80.0M | 65.0M | 0.850 | 0.800–0.900 | 2 |\n"),
            "{text}"
        );
        assert!(
            text.contains("| b ×2 | 10.0k | 5.00k | 0.500 | 0.500–0.500 | 1 |"),
            "{text}"
        );
        assert!(
            text.contains("| c | 2.00 | 1.00 | failed | – | 0 |"),
            "{text}"
        );
        assert!(text.contains("**0.652** (hardened costs 34.8 %)"), "{text}");
        let faster = [Figure {
            geomean: Some(1.05),
            interval: None,
        }; 3];
        let text = render(&rows, &faster, &info);
        assert!(
            text.contains("**1.050** (hardened is 5.0 % faster)"),
            "{text}"
        );
    }

    #[test]
    fn mimalloc_runs_add_their_columns_and_figures() {
        let labels = vec!["a".to_owned()];
        let ops = vec![[0.9, 0.95, 0.92, 0.93, 0.91]
            .map(|r| [Some(10.0), Some(10.0 * r), Some(20.0), Some(5.0)])
            .to_vec()];
        let (rows, figures) = summarise(&labels, &ops, 7);
        assert_eq!(rows[0].ratio(Ratio::SecureCost).unwrap().median, 0.25);
        let vs = rows[0].ratio(Ratio::HardenedVsSecure).unwrap();
        assert!((vs.median - 1.84).abs() < 1e-12, "{vs:?}");
        let text = render(
            &rows,
            &figures,
            &RunInfo {
                mode: None,
                rounds: 5,
                machine: None,
                with_mimalloc: true,
            },
        );
        assert!(text.contains("and mimalloc's secure mode"), "{text}");
        assert!(
            text.contains("5 interleaved rounds of four builds"),
            "{text}"
        );
        assert!(
            text.contains("| a | 10.0 | 9.20 | 0.920 | 0.900–0.950 | 5 | 20.0 | 5.00 | 0.250 | 0.250–0.250 | 1.840 |"),
            "{text}"
        );
        assert!(
            text.contains("mimalloc secure ÷ plain mimalloc: **0.250** (secure mode costs 75.0 %)"),
            "{text}"
        );
        assert!(
            text.contains("hardened slab ÷ mimalloc secure: **1.840**.\n95 % interval"),
            "{text}"
        );
    }

    #[test]
    fn mimalloc_columns_stay_when_all_its_runs_failed() {
        let ops = vec![vec![slab(Some(10.0), Some(9.0))]];
        let (rows, figures) = summarise(&["a".to_owned()], &ops, 1);
        let info = RunInfo {
            mode: None,
            rounds: 1,
            machine: None,
            with_mimalloc: true,
        };
        let text = render(&rows, &figures, &info);
        assert!(
            text.contains(
                "| a | 10.0 | 9.00 | 0.900 | 0.900–0.900 | 1 | – | – | failed | – | failed |"
            ),
            "{text}"
        );
        assert!(
            text.contains("No row has a complete pair for mimalloc secure ÷ plain mimalloc"),
            "{text}"
        );
    }

    #[test]
    fn a_cost_interval_that_reaches_a_gain_says_so() {
        assert_eq!(super::cost_range(0.94, 0.96), "a cost of 4.0–6.0 %");
        assert_eq!(
            super::cost_range(0.619, 1.118),
            "from a gain of 11.8 % to a cost of 38.1 %"
        );
        assert_eq!(super::cost_range(1.02, 1.05), "a gain of 2.0–5.0 %");
    }

    #[test]
    fn the_interval_line_gives_the_figure_and_the_cost() {
        let ops = vec![[0.90, 0.95, 0.92, 0.93, 0.91]
            .map(|r| [Some(10.0), Some(10.0 * r), None, None])
            .to_vec()];
        let (_, figures) = summarise(&["a".to_owned()], &ops, 3);
        let (low, high) = figures[Ratio::HardenedCost as usize].interval.unwrap();
        assert!((0.9 - 1e-12..=0.95 + 1e-12).contains(&low) && low <= high && high <= 0.95 + 1e-12);
        let figures = [
            Figure {
                geomean: Some(0.95),
                interval: Some((0.94, 0.96)),
            },
            Figure::default(),
            Figure::default(),
        ];
        let text = render(
            &[],
            &figures,
            &RunInfo {
                mode: None,
                rounds: 6,
                machine: None,
                with_mimalloc: false,
            },
        );
        assert!(
            text.contains("95 % interval of that figure, resampling whole rounds (bootstrap, 2000 resamples): 0.940–0.960 (a cost of 4.0–6.0 %)"),
            "{text}"
        );
    }
}
