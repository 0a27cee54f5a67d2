//! The hardened-cost command's figures: each row's hardened ÷ plain ratios over
//! the rounds, their geometric mean with a bootstrap interval over rounds, and the
//! Markdown table.

use allocmux_harness::numbers::{
    self, geometric_mean, median, Spread, ROUND_INTERVAL_CONFIDENCE, ROUND_INTERVAL_RESAMPLES,
};
use allocmux_harness::report::si;
use allocmux_harness::results::Machine;

use super::Build;

/// One row's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct RowSummary {
    /// `workload` or `workload ×threads`.
    pub label: String,
    /// Median throughput of the plain build's successful runs (operations/s).
    pub plain: Option<f64>,
    /// Median throughput of the hardened build's successful runs.
    pub hardened: Option<f64>,
    /// Hardened ÷ plain over the rounds where both runs succeeded.
    pub ratio: Option<Spread>,
    /// Rounds where both runs succeeded.
    pub pairs: usize,
}

/// Each row's summary from its throughputs, `ops[row][round][build]` (`None`
/// for a failed run), and the geometric mean of the rows' median ratios (rows
/// without a complete pair are left out).
pub fn summarise(
    labels: &[String],
    ops: &[Vec<[Option<f64>; 2]>],
) -> (Vec<RowSummary>, Option<f64>) {
    let rows: Vec<RowSummary> = labels
        .iter()
        .zip(ops)
        .map(|(label, rounds)| {
            let of =
                |b: Build| -> Vec<f64> { rounds.iter().filter_map(|r| r[b.index()]).collect() };
            let ratios: Vec<f64> = rounds.iter().filter_map(pair_ratio).collect();
            RowSummary {
                label: label.clone(),
                plain: median(&of(Build::Plain)),
                hardened: median(&of(Build::Hardened)),
                ratio: Spread::of(&ratios),
                pairs: ratios.len(),
            }
        })
        .collect();
    let medians: Vec<f64> = rows.iter().filter_map(|r| Some(r.ratio?.median)).collect();
    (rows, geometric_mean(&medians))
}

/// One round's hardened ÷ plain ratio, when both runs succeeded.
fn pair_ratio(pair: &[Option<f64>; 2]) -> Option<f64> {
    Some(pair[Build::Hardened.index()]? / pair[Build::Plain.index()]?)
}

/// The bootstrap interval over rounds of the summary figure
/// ([`allocmux_harness::numbers::round_interval`] of each row's per-round ratios).
pub fn round_interval(ops: &[Vec<[Option<f64>; 2]>], seed: u64) -> Option<(f64, f64)> {
    let ratios: Vec<Vec<Option<f64>>> = ops
        .iter()
        .map(|row| row.iter().map(pair_ratio).collect())
        .collect();
    numbers::round_interval(&ratios, seed)
}

/// Operations per second with an SI suffix as the matrix report writes them
/// (`108M`, `56.2k`), or `–`.
fn ops_text(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), si)
}

/// What the summary says about the run besides its figures.
pub struct RunInfo<'a> {
    /// `full` or `quick` parameters, when known.
    pub mode: Option<&'a str>,
    /// Rounds run.
    pub rounds: u32,
    /// The machine, when known (summaries made again from `runs.jsonl` do not know it).
    pub machine: Option<&'a Machine>,
}

/// The Markdown summary: what was measured, on what, and the table; `interval` is
/// [`round_interval`]'s.
pub fn render(
    rows: &[RowSummary],
    geomean: Option<f64>,
    interval: Option<(f64, f64)>,
    run: &RunInfo,
) -> String {
    let rounds = run.rounds;
    let params = run
        .mode
        .map_or_else(String::new, |m| format!(", {m} parameters"));
    let machine = run.machine.map_or_else(
        || "not recorded with the runs (see the run's own summary.md)".to_owned(),
        |m| format!("{}, {}, {}", m.summary(), m.kernel_phrase(), m.rustc),
    );
    let mut s = format!(
        "# Hardened ÷ plain slab throughput\n\n{} rows, {rounds} interleaved round{}{params}, \
         no idle phase. Machine: {machine}.\n\n\
         | row | plain ops/s | hardened ops/s | hardened ÷ plain | min–max | pairs |\n\
         |---|---:|---:|---:|---|---:|\n",
        rows.len(),
        if rounds == 1 { "" } else { "s" },
    );
    for r in rows {
        let (ratio, spread) = match r.ratio {
            Some(x) => (
                format!("{:.3}", x.median),
                format!("{:.3}–{:.3}", x.min, x.max),
            ),
            None => ("failed".into(), "–".into()),
        };
        s.push_str(&format!(
            "| {} | {} | {} | {ratio} | {spread} | {} |\n",
            r.label,
            ops_text(r.plain),
            ops_text(r.hardened),
            r.pairs
        ));
    }
    match geomean {
        Some(g) => s.push_str(&format!(
            "\nGeometric mean of the rows' medians: **{g:.3}** (hardened costs {:.1} %).\n",
            (1.0 - g) * 100.0
        )),
        None => s.push_str("\nNo row has a complete pair: no geometric mean.\n"),
    }
    if let (Some(_), Some((low, high))) = (geomean, interval) {
        s.push_str(&format!(
            "{:.0} % interval of that figure, resampling whole rounds (bootstrap, \
             {ROUND_INTERVAL_RESAMPLES} resamples): {low:.3}–{high:.3} (a cost of {:.1}–{:.1} %).\n",
            ROUND_INTERVAL_CONFIDENCE * 100.0,
            (1.0 - high) * 100.0,
            (1.0 - low) * 100.0
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::{render, round_interval, summarise, RunInfo};
    use allocmux_harness::results::Machine;

    #[test]
    fn ratios_pair_runs_of_one_round_and_skip_failed_ones() {
        let labels = vec!["a".to_owned(), "b ×2".to_owned(), "c".to_owned()];
        let ops = vec![
            // a: ratios 0.9, 0.8 and a round whose hardened run failed.
            vec![
                [Some(100e6), Some(90e6)],
                [Some(50e6), Some(40e6)],
                [Some(80e6), None],
            ],
            // b: one round, ratio 0.5.
            vec![[Some(10e3), Some(5e3)]],
            // c: never a complete pair.
            vec![[None, Some(1.0)], [Some(2.0), None]],
        ];
        let (rows, geomean) = summarise(&labels, &ops);
        assert_eq!(rows[0].pairs, 2);
        let a = rows[0].ratio.unwrap();
        assert!(
            (a.median - 0.85).abs() < 1e-12 && a.min == 0.8 && a.max == 0.9,
            "{a:?}"
        );
        assert_eq!(rows[0].plain, Some(80e6));
        assert_eq!(rows[0].hardened, Some(65e6));
        assert_eq!(rows[1].ratio.unwrap().median, 0.5);
        assert_eq!((rows[2].ratio, rows[2].pairs), (None, 0));
        // The geometric mean of 0.85 and 0.5 (c has none).
        let g = geomean.unwrap();
        assert!((g - (0.85f64 * 0.5).sqrt()).abs() < 1e-12, "{g}");
        let machine = Machine::default();
        let info = RunInfo {
            mode: Some("full"),
            rounds: 3,
            machine: Some(&machine),
        };
        let text = render(&rows, geomean, None, &info);
        assert!(
            text.contains("3 interleaved rounds, full parameters, no idle phase"),
            "{text}"
        );
        assert!(!text.contains("resamples"), "{text}");
        assert!(
            text.contains("| a | 80.0M | 65.0M | 0.850 | 0.800–0.900 | 2 |"),
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
        assert!(text.contains("**0.652**"), "{text}");
    }

    #[test]
    fn the_interval_line_gives_the_figure_and_the_cost() {
        let ops = vec![[0.90, 0.95, 0.92, 0.93, 0.91]
            .map(|r| [Some(10.0), Some(10.0 * r)])
            .to_vec()];
        let (low, high) = round_interval(&ops, 3).unwrap();
        assert!((0.9 - 1e-12..=0.95 + 1e-12).contains(&low) && low <= high && high <= 0.95 + 1e-12);
        let text = render(
            &[],
            Some(0.95),
            Some((0.94, 0.96)),
            &RunInfo {
                mode: None,
                rounds: 6,
                machine: None,
            },
        );
        assert!(
            text.contains("95 % interval of that figure, resampling whole rounds (bootstrap, 2000 resamples): 0.940–0.960 (a cost of 4.0–6.0 %)"),
            "{text}"
        );
    }
}
