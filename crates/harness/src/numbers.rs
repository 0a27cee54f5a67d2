//! Small statistics every part of the harness uses: the median, the geometric
//! mean, a median with its min–max spread, and the bootstrap interval over rounds
//! of a geometric mean of medians. One definition each, so the report, the
//! compare summary, the gate and the xtask summaries agree on what they mean.

/// Median of `values`, or `None` when there are none. An even count takes the
/// mean of the two middle values. NaNs are ignored.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Geometric mean of `values`, or `None` when there are none or one of them
/// is not a positive finite number (a ratio of zero has no geometric mean).
pub fn geometric_mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() || values.iter().any(|x| !x.is_finite() || *x <= 0.0) {
        return None;
    }
    let mean_ln = values.iter().map(|x| x.ln()).sum::<f64>() / values.len() as f64;
    Some(mean_ln.exp())
}

/// The median of a set of measurements with their minimum and maximum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// Median.
    pub median: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl Spread {
    /// Median, min and max of `values`, or `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let median = median(values)?;
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some(Spread { median, min, max })
    }

    /// Every value divided by `base` (a spread relative to a baseline).
    pub fn relative_to(self, base: f64) -> Spread {
        Spread {
            median: self.median / base,
            min: self.min / base,
            max: self.max / base,
        }
    }
}

/// The percentiles `(1 - confidence) / 2` and `(1 + confidence) / 2` of `values`
/// (sorted in place; nearest rank), the two ends of a percentile bootstrap interval.
/// `values` must not be empty.
pub fn percentile_bounds(values: &mut [f64], confidence: f64) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    let last = values.len() - 1;
    let at = |q: f64| values[((q * last as f64).round() as usize).min(last)];
    let tail = (1.0 - confidence) / 2.0;
    (at(tail), at(1.0 - tail))
}

/// Fewest rounds [`round_interval`] gives an interval for.
pub const MIN_INTERVAL_ROUNDS: usize = 5;
/// Confidence of [`round_interval`]'s interval.
pub const ROUND_INTERVAL_CONFIDENCE: f64 = 0.95;
/// Resamples [`round_interval`] draws.
pub const ROUND_INTERVAL_RESAMPLES: usize = 2000;

/// A percentile bootstrap interval ([`ROUND_INTERVAL_CONFIDENCE`], from
/// [`ROUND_INTERVAL_RESAMPLES`] resamples drawn from `seed`) of the geometric mean of
/// medians that summarises a multi-row, multi-round measurement, resampling whole
/// rounds. `ratios[row][round]` is one row's ratio in one round (`None` where that
/// round has none). Each resample draws as many rounds as there were, with replacement,
/// and recomputes every row's median over the drawn rounds and their geometric mean. A
/// round measured every row once, so whatever the machine did during it stays together,
/// as it did in the measurement. Seeded, so a summary is reproducible. `None` with fewer
/// than [`MIN_INTERVAL_ROUNDS`] rounds (fewer give too few distinct resamples for the
/// interval to mean anything: 3 rounds give 10) or no ratio at all.
pub fn round_interval(ratios: &[Vec<Option<f64>>], seed: u64) -> Option<(f64, f64)> {
    let rounds = ratios.iter().map(Vec::len).max()?;
    if rounds < MIN_INTERVAL_ROUNDS {
        return None;
    }
    let mut rng = allocmux_workloads::Rng::new(seed);
    let mut figures: Vec<f64> = (0..ROUND_INTERVAL_RESAMPLES)
        .filter_map(|_| {
            let drawn: Vec<usize> = (0..rounds).map(|_| rng.index(rounds)).collect();
            let medians: Vec<f64> = ratios
                .iter()
                .filter_map(|row| {
                    median(
                        &drawn
                            .iter()
                            .filter_map(|&k| row.get(k).copied().flatten())
                            .collect::<Vec<_>>(),
                    )
                })
                .collect();
            geometric_mean(&medians)
        })
        .collect();
    if figures.is_empty() {
        return None;
    }
    Some(percentile_bounds(&mut figures, ROUND_INTERVAL_CONFIDENCE))
}

#[cfg(test)]
mod tests {
    use super::{geometric_mean, median, round_interval, Spread};

    #[test]
    fn the_round_interval_brackets_the_figure_and_is_reproducible() {
        // One row whose ratio drifts from round to round, one that never changes.
        let drift: Vec<Option<f64>> = [0.80, 0.85, 0.90, 0.95, 1.00, 1.05]
            .into_iter()
            .map(Some)
            .collect();
        let steady = vec![Some(0.9); 6];
        let rows = vec![drift, steady.clone()];
        let (low, high) = round_interval(&rows, 7).unwrap();
        let g = geometric_mean(&[0.925, 0.9]).unwrap();
        let (least, most) = ((0.80f64 * 0.9).sqrt(), (1.05f64 * 0.9).sqrt());
        assert!(
            least <= low && low < g && g < high && high <= most,
            "{low} {g} {high}"
        );
        assert_eq!(round_interval(&rows, 7), Some((low, high)));
        // A row that never changes has no spread; four rounds, or no ratio, no interval.
        let (l, h) = round_interval(&[steady], 1).unwrap();
        assert!(
            (l - 0.9).abs() < 1e-12 && (h - 0.9).abs() < 1e-12,
            "{l} {h}"
        );
        assert_eq!(round_interval(&[vec![Some(1.0); 4]], 1), None);
        assert_eq!(round_interval(&[vec![None; 6]], 1), None);
        assert_eq!(round_interval(&[], 1), None);
    }

    #[test]
    fn median_and_geometric_mean_on_known_numbers() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        let g = geometric_mean(&[1.0, 4.0]).unwrap();
        assert!((g - 2.0).abs() < 1e-12, "{g}");
        let g = geometric_mean(&[2.0, 8.0, 4.0]).unwrap();
        assert!((g - 4.0).abs() < 1e-12, "{g}");
        assert_eq!(geometric_mean(&[1.0, 0.0]), None);
        assert_eq!(geometric_mean(&[]), None);
        let s = Spread::of(&[110.0, 100.0, 90.0]).unwrap();
        assert_eq!(
            s,
            Spread {
                median: 100.0,
                min: 90.0,
                max: 110.0
            }
        );
        assert_eq!(
            s.relative_to(100.0),
            Spread {
                median: 1.0,
                min: 0.9,
                max: 1.1
            }
        );
    }
}
