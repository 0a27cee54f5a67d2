//! What `cargo xtask workload-codegen` writes: `codegen.csv`, a row per run
//! as runs complete, and the printed table with the verdict: per workload,
//! the instructions on its own lines under each backend, their spread
//! (max ÷ min − 1) and their difference as a share of the run, flagged when
//! that share is over the tolerance.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use allocmux::Backend;
use allocmux_harness::report::csv_field;

use super::{Counts, Outcome, WORKLOAD_DIR};

/// `codegen.csv`, written a row at a time as runs complete.
pub(super) struct Csv {
    file: std::fs::File,
    path: PathBuf,
}

impl Csv {
    /// Creates the file with its header line.
    pub(super) fn create(path: &Path) -> Result<Csv, String> {
        let file = std::fs::File::create(path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let mut csv = Csv {
            file,
            path: path.to_path_buf(),
        };
        csv.line("workload,backend,status,workload_ir,total_ir,error")?;
        Ok(csv)
    }

    /// Appends one run's row.
    pub(super) fn row(
        &mut self,
        workload: &str,
        backend: Backend,
        outcome: &Outcome,
    ) -> Result<(), String> {
        let line = match outcome {
            Outcome::Ok(Counts {
                workload_ir,
                total_ir,
            }) => format!("{workload},{backend},ok,{workload_ir},{total_ir},"),
            Outcome::Failed(e) => format!("{workload},{backend},failed,,,{}", csv_field(e)),
        };
        self.line(&line)
    }

    fn line(&mut self, line: &str) -> Result<(), String> {
        writeln!(self.file, "{line}")
            .and_then(|()| self.file.flush())
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }
}

/// The spread of `counts` in percent: max ÷ min − 1; `None` for fewer than
/// two counts or a zero.
fn spread_pct(counts: &[u64]) -> Option<f64> {
    if counts.len() < 2 {
        return None;
    }
    let max = *counts.iter().max()?;
    let min = *counts.iter().min()?;
    (min > 0).then(|| (max as f64 / min as f64 - 1.0) * 100.0)
}

/// The verdict on one workload's row.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Verdict {
    /// The spread of the successful runs' workload counts, percent.
    spread: Option<f64>,
    /// The difference between the largest and smallest workload count as a
    /// percentage of the smallest run's total: how much of a run it weighs.
    share: Option<f64>,
    /// Whether that share is over the tolerance.
    over: bool,
    /// Whether a run failed.
    failed: bool,
}

/// The verdict on one row (`None` for a failed run). A row is judged on its
/// share of the run, not on the spread of its workload lines alone: a large
/// spread of a few thousand instructions (cache-thrash's workload code is
/// nearly all `core` code) changes no timing, and 1 % of a run can. A share
/// of exactly the tolerance passes (compared without a rounded quotient).
fn verdict(row: &[Option<Counts>], tolerance: f64) -> Verdict {
    let ok: Vec<Counts> = row.iter().flatten().copied().collect();
    let workload: Vec<u64> = ok.iter().map(|c| c.workload_ir).collect();
    let least_total = ok.iter().map(|c| c.total_ir).min();
    let (share, over) = match (workload.iter().min(), workload.iter().max(), least_total) {
        (Some(&min), Some(&max), Some(total)) if ok.len() >= 2 && total > 0 => {
            let diff = (max - min) as f64;
            (
                Some(diff * 100.0 / total as f64),
                diff * 100.0 > tolerance * total as f64,
            )
        }
        _ => (None, false),
    };
    Verdict {
        spread: spread_pct(&workload),
        share,
        over,
        failed: ok.len() < row.len(),
    }
}

/// Millions with two decimals; below 10,000 with four, so that a row of a
/// few thousand instructions does not read as zeros.
fn millions(count: u64) -> String {
    let m = count as f64 / 1e6;
    if count >= 10_000 {
        format!("{m:.2}")
    } else {
        format!("{m:.4}")
    }
}

/// The printed table: a row per workload, a column per backend.
pub(super) struct Table<'a> {
    names: &'a [&'a str],
    backends: &'a [Backend],
    /// Per workload: the counts per backend (`None`: failed).
    counts: Vec<Vec<Option<Counts>>>,
    verdicts: Vec<Verdict>,
    tolerance: f64,
}

impl<'a> Table<'a> {
    /// The table of `outcomes`, keyed by (workload, backend) index into
    /// `names` and `backends`; a missing outcome counts as a failed run.
    pub(super) fn new(
        names: &'a [&'a str],
        backends: &'a [Backend],
        outcomes: &BTreeMap<(usize, usize), Outcome>,
        tolerance: f64,
    ) -> Table<'a> {
        let counts: Vec<Vec<Option<Counts>>> = (0..names.len())
            .map(|w| {
                (0..backends.len())
                    .map(|b| match outcomes.get(&(w, b)) {
                        Some(&Outcome::Ok(counts)) => Some(counts),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        let verdicts = counts.iter().map(|r| verdict(r, tolerance)).collect();
        Table {
            names,
            backends,
            counts,
            verdicts,
            tolerance,
        }
    }

    /// The table as printed, a line per workload, rows over the tolerance or
    /// with a failed run marked.
    pub(super) fn render(&self) -> String {
        let name_w = self.names.iter().map(|n| n.len()).max().unwrap_or(0).max(8);
        let col_w = |b: &Backend| b.name().len().max(9);
        let mut s = format!(
            "\nInstructions on workload source lines ({WORKLOAD_DIR}/), millions; spread = max ÷ min − 1;\n\
             of run = (max − min) ÷ the smallest run's total instructions, judged against the tolerance\n{:<name_w$}",
            "workload"
        );
        for b in self.backends {
            s.push_str(&format!("  {:>w$}", b.name(), w = col_w(b)));
        }
        s.push_str("    spread    of run\n");
        for ((name, counts), v) in self.names.iter().zip(&self.counts).zip(&self.verdicts) {
            s.push_str(&format!("{name:<name_w$}"));
            for (b, c) in self.backends.iter().zip(counts) {
                let cell = c.map_or("failed".to_owned(), |c| millions(c.workload_ir));
                s.push_str(&format!("  {cell:>w$}", w = col_w(b)));
            }
            let spread = v.spread.map_or("–".to_owned(), |p| format!("{p:.2} %"));
            let share = v.share.map_or("–".to_owned(), |p| format!("{p:.2} %"));
            s.push_str(&format!("  {spread:>8}  {share:>8}"));
            let marks: Vec<String> = [
                v.over.then(|| format!("over {} %", self.tolerance)),
                v.failed.then(|| "a run failed".to_owned()),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !marks.is_empty() {
                s.push_str(&format!("  ← {}", marks.join("; ")));
            }
            s.push('\n');
        }
        s
    }

    /// Whether every row is within the tolerance and every run succeeded.
    pub(super) fn passed(&self) -> bool {
        self.verdicts.iter().all(|v| !v.over && !v.failed)
    }

    /// The one closing line: PASS, or FAIL with the rows over the tolerance
    /// and the failed runs per backend.
    pub(super) fn closing_line(&self) -> String {
        let n = self.names.len();
        if self.passed() {
            return format!(
                "PASS: in all {n} workloads the backends' own-code instructions differ by at most {} % of a run across {} backends (exit 0)",
                self.tolerance,
                self.backends.len()
            );
        }
        let over: Vec<&str> = self
            .names
            .iter()
            .zip(&self.verdicts)
            .filter(|(_, v)| v.over)
            .map(|(n, _)| *n)
            .collect();
        let mut parts = Vec::new();
        if !over.is_empty() {
            parts.push(format!(
                "{} of {n} workloads over {} % of a run ({})",
                over.len(),
                self.tolerance,
                over.join(", ")
            ));
        }
        let failed: Vec<String> = self
            .backends
            .iter()
            .enumerate()
            .filter_map(|(b, backend)| {
                let k = self.counts.iter().filter(|r| r[b].is_none()).count();
                (k > 0).then(|| format!("{backend} {k} of {n}"))
            })
            .collect();
        if !failed.is_empty() {
            parts.push(format!("failed runs: {}", failed.join(", ")));
        }
        format!("FAIL: {} (exit 1)", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use allocmux::Backend;

    use super::*;

    #[test]
    fn spread_and_verdict() {
        let spread = spread_pct(&[141_000_000, 153_000_000]).unwrap();
        assert!((spread - 8.5106).abs() < 1e-3, "{spread}");
        assert_eq!(spread_pct(&[]), None);
        assert_eq!(spread_pct(&[0, 5]), None);
        let run = |workload_ir| {
            Some(Counts {
                workload_ir,
                total_ir: 100_000_000,
            })
        };
        // 1,000,000 of a 100 M-instruction run is exactly 1 %, which passes.
        let (a, b, c) = (run(1_000_000), run(2_000_000), run(2_000_001));
        let v = verdict(&[a, b], 1.0);
        assert!(!v.over && !v.failed, "{v:?}");
        assert_eq!((v.spread, v.share), (Some(100.0), Some(1.0)));
        assert!(verdict(&[a, c], 1.0).over);
        assert!(!verdict(&[a, c], 2.0).over);
        let v = verdict(&[a, None, c], 1.0);
        assert!(v.over && v.failed, "{v:?}");
        let v = verdict(&[a, None], 1.0);
        assert_eq!(
            (v.spread, v.share, v.over, v.failed),
            (None, None, false, true)
        );
        assert_eq!(spread_pct(&[7, 7]), Some(0.0));
        // A 5 % spread of 1,500 counted instructions weighs nothing in the run.
        let v = verdict(&[run(1_475), run(1_550)], 1.0);
        assert!(v.spread.unwrap() > 5.0 && !v.over, "{v:?}");
        assert_eq!(millions(141_234_567), "141.23");
        assert_eq!(millions(1_475), "0.0015");
    }

    #[test]
    fn the_table_marks_rows_and_closes_with_the_verdict() {
        let ok = |w| {
            Outcome::Ok(Counts {
                workload_ir: w,
                total_ir: 2 * w,
            })
        };
        let names = ["glibc-thread", "larson"];
        let backends = [Backend::System, Backend::Slab];
        let mut outcomes = BTreeMap::new();
        outcomes.insert((0, 0), ok(141_000_000));
        outcomes.insert((0, 1), ok(153_000_000));
        outcomes.insert((1, 0), ok(258_000_000));
        outcomes.insert((1, 1), ok(258_100_000));
        let table = Table::new(&names, &backends, &outcomes, 1.0);
        let text = table.render();
        assert!(
            text.contains("141.00") && text.contains("8.51 %    4.26 %  ← over 1 %\n"),
            "{text}"
        );
        assert!(!table.passed());
        assert_eq!(
            table.closing_line(),
            "FAIL: 1 of 2 workloads over 1 % of a run (glibc-thread) (exit 1)"
        );
        outcomes.insert((0, 1), ok(141_500_000));
        let table = Table::new(&names, &backends, &outcomes, 1.0);
        assert!(table.passed(), "{}", table.render());
        assert!(table.closing_line().starts_with("PASS: in all 2 workloads"));
        outcomes.insert((1, 1), Outcome::Failed("SIGABRT".into()));
        let table = Table::new(&names, &backends, &outcomes, 1.0);
        assert!(!table.passed());
        let text = table.render();
        let larson = text.lines().find(|l| l.starts_with("larson")).unwrap();
        assert!(
            larson.ends_with("258.00     failed         –         –  ← a run failed"),
            "{text}"
        );
        assert_eq!(
            table.closing_line(),
            "FAIL: failed runs: slab 1 of 2 (exit 1)"
        );
    }

    #[test]
    fn rows_are_written_as_csv() {
        let dir = tempfile::TempDir::with_prefix("xtask-codegen-test-").unwrap();
        let path = dir.path().join("codegen.csv");
        let mut csv = Csv::create(&path).unwrap();
        csv.row(
            "larson",
            Backend::Slab,
            &Outcome::Ok(Counts {
                workload_ir: 5,
                total_ir: 9,
            }),
        )
        .unwrap();
        csv.row(
            "mstress",
            Backend::Jemalloc,
            &Outcome::Failed("killed, \"badly\"".into()),
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "workload,backend,status,workload_ir,total_ir,error\n\
             larson,slab,ok,5,9,\n\
             mstress,jemalloc,failed,,,\"killed, \"\"badly\"\"\"\n"
        );
    }
}
