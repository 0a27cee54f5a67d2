//! Small statistics every part of the harness uses: the median, the geometric
//! mean, and a median with its min–max spread. One definition each, so the
//! report, the compare summary and the gate agree on what "median" means.

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

#[cfg(test)]
mod tests {
    use super::{geometric_mean, median, Spread};

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
