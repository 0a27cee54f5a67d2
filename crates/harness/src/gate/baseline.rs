//! `bench-gate --baseline FILE`: a stored result to compare the candidate
//! with instead of a base build — a `bench-matrix` results.json or an earlier
//! gate.json — and the number it holds for each gated cell.

use std::path::Path;

use super::config::{GatedCell, Method};
use super::output::GateReport;
use crate::numbers::median;
use crate::results::{MatrixResults, RunStatus};

/// Where the stored baseline's number for a cell comes from.
pub enum Baseline {
    /// A `bench-matrix` results file.
    Matrix(Box<MatrixResults>),
    /// An earlier `gate.json`.
    Gate(GateReport),
}

impl Baseline {
    /// Reads either kind of file, naming the file and the problem on failure.
    pub fn load(path: &Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--baseline {}: cannot read it: {e}", path.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("--baseline {}: not valid JSON ({e})", path.display()))?;
        if value.get("runs").is_some() {
            MatrixResults::load(path)
                .map(|m| Baseline::Matrix(Box::new(m)))
                .map_err(|e| format!("--baseline {e}"))
        } else if value.get("cells").is_some() {
            serde_json::from_value(value)
                .map(Baseline::Gate)
                .map_err(|e| format!("--baseline {}: not a valid gate.json ({e})", path.display()))
        } else {
            Err(format!(
                "--baseline {}: neither a bench-matrix results.json nor a gate.json",
                path.display()
            ))
        }
    }

    /// Backend throughput ÷ system throughput in the stored run.
    pub fn normalised(&self, cell: &GatedCell) -> Option<f64> {
        match self {
            Baseline::Matrix(m) => {
                let w = cell.workload?.name;
                let ops = |backend: &str| {
                    let v: Vec<f64> = m
                        .runs
                        .iter()
                        .filter(|r| {
                            r.status == RunStatus::Ok && r.workload == w && r.backend == backend
                        })
                        .filter(|r| cell.threads.is_none_or(|t| t == r.threads))
                        .filter_map(|r| r.record.as_ref().map(|rec| rec.ops_per_sec))
                        .collect();
                    median(&v)
                };
                Some(ops(cell.backend.name())? / ops("system")?)
            }
            Baseline::Gate(g) => {
                let c = g
                    .cells
                    .iter()
                    .find(|c| c.cell == cell.name && c.method == Method::Throughput)?;
                Some(median(&c.candidate_samples)? / median(&c.candidate_system_samples)?)
            }
        }
    }

    /// The stored candidate value of `cell`'s `metric` under its method: from a
    /// gate.json the earlier candidate's value; from a matrix results file the
    /// median peak RSS (`peak RSS`) or the `stats` counts of the cell's runs.
    pub fn stored_value(&self, cell: &GatedCell, metric: &str) -> Option<f64> {
        match self {
            Baseline::Gate(g) => g
                .cells
                .iter()
                .find(|c| c.cell == cell.name && c.method == cell.method && c.metric == metric)
                .map(|c| c.candidate),
            Baseline::Matrix(m) => {
                let w = cell.workload?.name;
                let runs = m.runs.iter().filter(|r| {
                    r.status == RunStatus::Ok
                        && r.workload == w
                        && r.backend == cell.backend.name()
                        && cell.threads.is_none_or(|t| t == r.threads)
                });
                let v: Vec<f64> = runs
                    .filter_map(|r| {
                        let rec = r.record.as_ref()?;
                        let s = rec.stats;
                        match metric {
                            "peak RSS" => Some(rec.peak_rss_bytes as f64),
                            "allocations" => Some(s?.allocations as f64),
                            "bytes allocated" => Some(s?.bytes_allocated as f64),
                            "peak live bytes" => Some(s?.bytes_peak as f64),
                            _ => None,
                        }
                    })
                    .collect();
                median(&v)
            }
        }
    }

    /// The stored instruction count of `cell` (gate.json files only).
    pub fn instructions(&self, cell: &GatedCell) -> Option<u64> {
        match self {
            Baseline::Gate(g) => {
                g.cells
                    .iter()
                    .find(|c| c.cell == cell.name && c.method == Method::Instructions)?
                    .candidate_instructions
            }
            Baseline::Matrix(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Baseline;

    fn load_text(name: &str, text: &str) -> Result<(), String> {
        let dir = tempfile::TempDir::with_prefix("allocmux-gate-").unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        Baseline::load(&path).map(|_| ())
    }

    #[test]
    fn broken_baselines_name_the_file_and_the_problem() {
        let e = load_text("truncated.json", "{\"runs\": [").unwrap_err();
        assert!(
            e.contains("truncated.json") && e.contains("not valid JSON"),
            "{e}"
        );
        let e = load_text("other.json", "{\"foo\": 1}").unwrap_err();
        assert!(
            e.contains("neither a bench-matrix results.json nor a gate.json"),
            "{e}"
        );
        let e = load_text("badgate.json", "{\"cells\": 3}").unwrap_err();
        assert!(
            e.contains("badgate.json") && e.contains("not a valid gate.json"),
            "{e}"
        );
        let e = Baseline::load(std::path::Path::new("/nonexistent/baseline.json"))
            .err()
            .unwrap();
        assert!(
            e.contains("/nonexistent/baseline.json") && e.contains("cannot read"),
            "{e}"
        );
        assert!(!e.contains('\n'), "one line: {e}");
    }
}
