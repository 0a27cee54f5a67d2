//! `bench-gate --history DIR`: earlier `gate.json` results decide how unusual
//! today's change is. rustc-perf's rule: a change is significant only when its
//! magnitude also lies beyond `Q3 + 3 × IQR` of the magnitudes of the same
//! cell's past changes (the last `window` of them). With fewer than
//! `min_points` past changes the rule does not apply and the outcome says so.

use std::path::Path;

use super::config::HistorySettings;
use super::output::{CellOutcome, GateReport};
use super::stats::Verdict;

/// The past changes of every cell, read from a directory of gate results.
pub struct History {
    reports: Vec<GateReport>,
    /// Files that could not be read as gate results, with the reason.
    pub skipped: Vec<String>,
}

impl History {
    /// Reads every `*.json` under `dir` (recursively) that is a gate report,
    /// oldest first by file name (name them by date or run number).
    pub fn load(dir: &Path) -> Result<History, String> {
        if !dir.is_dir() {
            return Err(format!("--history {}: not a directory", dir.display()));
        }
        let mut files = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let entries =
                std::fs::read_dir(&d).map_err(|e| format!("--history {}: {e}", d.display()))?;
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "json") {
                    files.push(p);
                }
            }
        }
        files.sort();
        let mut history = History {
            reports: Vec::new(),
            skipped: Vec::new(),
        };
        for f in files {
            match std::fs::read_to_string(&f)
                .map_err(|e| e.to_string())
                .and_then(|t| serde_json::from_str::<GateReport>(&t).map_err(|e| e.to_string()))
            {
                Ok(r) => history.reports.push(r),
                Err(e) => history.skipped.push(format!("{}: {e}", f.display())),
            }
        }
        Ok(history)
    }

    /// The magnitudes of the past changes of the cell and metric of `o`, newest last.
    fn past(&self, o: &CellOutcome, window: usize) -> Vec<f64> {
        let all: Vec<f64> = self
            .reports
            .iter()
            .flat_map(|r| r.cells.iter())
            .filter(|c| c.cell == o.cell && c.method == o.method && c.metric == o.metric)
            .map(|c| c.change.abs())
            .filter(|x| x.is_finite())
            .collect();
        all[all.len().saturating_sub(window)..].to_vec()
    }

    /// Applies the rule to `o`: a regression or improvement that the history
    /// shows to be within the cell's usual variation becomes `Unchanged`; the
    /// note says what was decided and on what.
    pub fn judge(&self, o: &mut CellOutcome, s: &HistorySettings) {
        let past = self.past(o, s.window);
        if past.len() < s.min_points {
            o.history = Some(format!(
                "history: {} past results for this cell, {} needed; today's rule alone decides",
                past.len(),
                s.min_points
            ));
            return;
        }
        let fence = fence(&past, s.fence);
        let beyond = o.change.abs() > fence;
        o.history = Some(format!(
            "history: {:.2} % against the fence {:.2} % (Q3 + {} × IQR of {} past changes): {}",
            o.change.abs() * 100.0,
            fence * 100.0,
            s.fence,
            past.len(),
            if beyond { "unusual" } else { "usual" }
        ));
        if !beyond && o.verdict != Verdict::Unchanged {
            o.verdict = Verdict::Unchanged;
        }
    }
}

/// `Q3 + k × IQR` of `values` (linear interpolation between order statistics).
pub fn fence(values: &[f64], k: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let x = p * (v.len() - 1) as f64;
        let (lo, hi) = (x.floor() as usize, x.ceil() as usize);
        v[lo] + (v[hi] - v[lo]) * (x - lo as f64)
    };
    let (q1, q3) = (q(0.25), q(0.75));
    q3 + k * (q3 - q1)
}

#[cfg(test)]
mod tests {
    use super::fence;

    #[test]
    fn the_fence_of_known_numbers() {
        // Q1 = 2, Q3 = 4 (of 1..=5): 4 + 3 × 2 = 10.
        assert!((fence(&[1.0, 2.0, 3.0, 4.0, 5.0], 3.0) - 10.0).abs() < 1e-12);
        assert!((fence(&[0.01; 12], 3.0) - 0.01).abs() < 1e-12);
    }
}
