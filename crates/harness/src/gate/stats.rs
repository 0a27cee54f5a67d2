//! The gate's statistics: paired ratios, a bootstrap confidence interval of
//! their geometric mean, and the verdict rule.
//!
//! Why a bootstrap of paired ratios: base and candidate run interleaved
//! (A B A B …), so each pair saw nearly the same machine state; the ratio
//! within a pair cancels most drift. The bootstrap makes no assumption about
//! the ratios' distribution (run times are skewed and often bimodal on shared
//! machines), and resampling is seeded so a verdict can be reproduced exactly.

use allocmux_workloads::Rng;
use serde::{Deserialize, Serialize};

/// What the gate concludes about one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The candidate is worse beyond the threshold, with confidence.
    Regression,
    /// The candidate is better beyond the threshold, with confidence.
    Improvement,
    /// No change beyond the threshold can be shown.
    Unchanged,
}

impl Verdict {
    /// A short word for tables.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Regression => "REGRESSION",
            Verdict::Improvement => "improvement",
            Verdict::Unchanged => "ok",
        }
    }
}

/// A ratio's point estimate and confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RatioEstimate {
    /// Geometric mean of the ratios.
    pub ratio: f64,
    /// Lower end of the confidence interval.
    pub low: f64,
    /// Upper end of the confidence interval.
    pub high: f64,
}

/// Geometric mean of positive numbers (0 for an empty slice).
pub fn geometric_mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    (xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp()
}

/// Percentile bootstrap of the geometric mean of `ratios` at `confidence`
/// (e.g. 0.95), with `resamples` resamples from a fixed seed.
pub fn bootstrap(ratios: &[f64], confidence: f64, resamples: usize, seed: u64) -> RatioEstimate {
    let ratio = geometric_mean(ratios);
    if ratios.len() < 2 {
        return RatioEstimate {
            ratio,
            low: ratio,
            high: ratio,
        };
    }
    let logs: Vec<f64> = ratios.iter().map(|r| r.ln()).collect();
    let mut rng = Rng::new(seed);
    let mut means: Vec<f64> = (0..resamples.max(100))
        .map(|_| {
            let sum: f64 = (0..logs.len()).map(|_| logs[rng.index(logs.len())]).sum();
            sum / logs.len() as f64
        })
        .collect();
    let (low, high) = crate::numbers::percentile_bounds(&mut means, confidence);
    RatioEstimate {
        ratio,
        low: low.exp(),
        high: high.exp(),
    }
}

/// A confidence interval of the geometric mean of `ratios` that stays honest
/// with few pairs and with noise that is correlated from one pair to the
/// next (machine drift, frequency and cache states that outlast a run):
/// Student's t interval of the mean log ratio, its standard error from the
/// Newey–West (Bartlett-kernel) estimate of the long-run variance with lag
/// `⌊n^(1/3)⌋ + 1`. The percentile bootstrap of independent pairs, used
/// before, treats neighbouring pairs as independent and undercovers.
pub fn hac_t_interval(ratios: &[f64], confidence: f64) -> RatioEstimate {
    let n = ratios.len();
    let ratio = geometric_mean(ratios);
    if n < 3 {
        return RatioEstimate {
            ratio,
            low: 0.0,
            high: f64::INFINITY,
        };
    }
    let logs: Vec<f64> = ratios.iter().map(|r| r.ln()).collect();
    let mean = logs.iter().sum::<f64>() / n as f64;
    let dev: Vec<f64> = logs.iter().map(|x| x - mean).collect();
    let gamma = |lag: usize| -> f64 {
        dev.iter().zip(&dev[lag..]).map(|(a, b)| a * b).sum::<f64>() / n as f64
    };
    let lags = (n as f64).cbrt().floor() as usize + 1;
    let mut long_run = gamma(0);
    for l in 1..=lags.min(n - 1) {
        long_run += 2.0 * (1.0 - l as f64 / (lags + 1) as f64) * gamma(l);
    }
    // The autocovariances can make the estimate smaller than the plain
    // variance; never claim more precision than independent pairs would give.
    let var = long_run.max(gamma(0)) * n as f64 / (n - 1) as f64;
    let se = (var / n as f64).sqrt();
    let t = student_t_quantile(0.5 + confidence / 2.0, (n - 1) as f64);
    RatioEstimate {
        ratio,
        low: (mean - t * se).exp(),
        high: (mean + t * se).exp(),
    }
}

/// The `p` quantile of Student's t distribution with `df` degrees of freedom.
fn student_t_quantile(p: f64, df: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    StudentsT::new(0.0, 1.0, df)
        .map(|d| d.inverse_cdf(p))
        .unwrap_or(f64::INFINITY)
}

/// The interval of `ratios` by the configured method (the bootstrap seeded by `seed`).
pub fn interval(
    ratios: &[f64],
    t: &crate::gate::config::ThroughputSettings,
    seed: u64,
) -> RatioEstimate {
    match t.interval {
        crate::gate::config::Interval::HacT => hac_t_interval(ratios, t.confidence),
        crate::gate::config::Interval::Bootstrap => {
            bootstrap(ratios, t.confidence, t.resamples, seed)
        }
    }
}

/// Verdict for a throughput ratio (candidate / base, higher is better): a
/// regression only when the whole interval lies below `1 - threshold`.
pub fn throughput_verdict(est: &RatioEstimate, threshold: f64) -> Verdict {
    if est.high < 1.0 - threshold {
        Verdict::Regression
    } else if est.low > 1.0 + threshold {
        Verdict::Improvement
    } else {
        Verdict::Unchanged
    }
}

/// Verdict for a ratio where larger is worse and noise is real (peak RSS):
/// a regression only when the whole interval lies above `1 + threshold`.
pub fn growth_verdict(est: &RatioEstimate, threshold: f64) -> Verdict {
    if est.low > 1.0 + threshold {
        Verdict::Regression
    } else if est.high < 1.0 - threshold {
        Verdict::Improvement
    } else {
        Verdict::Unchanged
    }
}

/// Verdict for an instruction-count ratio (candidate / base, lower is
/// better); counts are deterministic, so the ratio is compared directly.
pub fn instructions_verdict(ratio: f64, threshold: f64) -> Verdict {
    if ratio > 1.0 + threshold {
        Verdict::Regression
    } else if ratio < 1.0 - threshold {
        Verdict::Improvement
    } else {
        Verdict::Unchanged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometric_mean_of_known_numbers() {
        assert!((geometric_mean(&[1.0, 4.0]) - 2.0).abs() < 1e-12);
        assert!((geometric_mean(&[0.5, 2.0, 1.0]) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_clear_slowdown_is_a_regression() {
        let ratios = [0.91, 0.92, 0.93, 0.90, 0.92, 0.94, 0.91, 0.93, 0.92, 0.90];
        let est = bootstrap(&ratios, 0.95, 5000, 1);
        assert!(est.low < est.ratio && est.ratio < est.high);
        assert!(est.high < 0.95, "{est:?}");
        assert_eq!(throughput_verdict(&est, 0.05), Verdict::Regression);
    }

    #[test]
    fn noise_around_one_is_unchanged() {
        let ratios = [0.97, 1.04, 0.99, 1.02, 0.94, 1.05, 1.00, 0.98, 1.03, 0.96];
        let est = bootstrap(&ratios, 0.95, 5000, 1);
        assert!(est.low < 1.0 && est.high > 1.0, "{est:?}");
        assert_eq!(throughput_verdict(&est, 0.05), Verdict::Unchanged);
    }

    #[test]
    fn a_wide_interval_does_not_fail_even_with_a_low_mean() {
        // Mean well below 0.95, but one pair says "faster": not enough evidence.
        let ratios = [0.80, 0.85, 1.10, 0.82, 1.05];
        let est = bootstrap(&ratios, 0.95, 5000, 1);
        assert!(est.ratio < 0.95);
        assert_eq!(throughput_verdict(&est, 0.05), Verdict::Unchanged);
    }

    #[test]
    fn a_clear_speedup_is_an_improvement() {
        let ratios = [1.20, 1.22, 1.19, 1.25, 1.21, 1.18];
        let est = bootstrap(&ratios, 0.95, 5000, 1);
        assert_eq!(throughput_verdict(&est, 0.05), Verdict::Improvement);
    }

    #[test]
    fn the_bootstrap_is_reproducible() {
        let ratios = [0.97, 1.04, 0.99, 1.02, 0.94];
        assert_eq!(
            bootstrap(&ratios, 0.95, 2000, 9),
            bootstrap(&ratios, 0.95, 2000, 9)
        );
    }

    #[test]
    fn the_hac_t_interval_is_wider_for_drifting_pairs() {
        // The same ratios, once alternating around 1 (independent-looking) and once
        // sorted into a slow drift: the drift must widen the interval.
        let mut r: Vec<f64> = (0..20)
            .map(|i| 1.0 + if i % 2 == 0 { 0.02 } else { -0.02 } * (1.0 + i as f64 / 20.0))
            .collect();
        let alternating = hac_t_interval(&r, 0.95);
        r.sort_by(f64::total_cmp);
        let drifting = hac_t_interval(&r, 0.95);
        assert!(
            alternating.low < 1.0 && alternating.high > 1.0,
            "{alternating:?}"
        );
        assert!(
            drifting.high - drifting.low > alternating.high - alternating.low,
            "{drifting:?} vs {alternating:?}"
        );
        // A clear, steady slowdown is still resolved.
        let slow = [0.91, 0.92, 0.93, 0.90, 0.92, 0.94, 0.91, 0.93, 0.92, 0.90];
        let est = hac_t_interval(&slow, 0.95);
        assert!(est.high < 0.95, "{est:?}");
        // Known t quantile: df = 9, 97.5 % → 2.262.
        assert!((student_t_quantile(0.975, 9.0) - 2.262).abs() < 0.001);
    }

    #[test]
    fn instruction_counts_use_the_tight_threshold() {
        assert_eq!(instructions_verdict(1.011, 0.01), Verdict::Regression);
        assert_eq!(instructions_verdict(1.009, 0.01), Verdict::Unchanged);
        assert_eq!(instructions_verdict(1.0, 0.01), Verdict::Unchanged);
        assert_eq!(instructions_verdict(0.95, 0.01), Verdict::Improvement);
    }
}
