//! Measures one gated cell once on one side: its instruction count under
//! callgrind, or its native throughput. Valgrind is invoked directly rather
//! than through gungraun/iai-callgrind: the gate measures the same runner
//! binaries the matrix uses (no separate bench harness, no runner crate whose
//! version must match a library), and all it needs is callgrind's total.

use std::path::PathBuf;
use std::process::Command;

/// How to run a cell once on one side.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Program to run.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Working directory.
    pub dir: PathBuf,
    /// Extra environment.
    pub env: Vec<(String, String)>,
}

impl Probe {
    fn command(&self, wrapper: Option<&[String]>) -> Command {
        let mut c = match wrapper {
            Some([program, rest @ ..]) => {
                let mut c = Command::new(program);
                c.args(rest).arg(&self.program);
                c
            }
            _ => Command::new(&self.program),
        };
        c.args(&self.args).current_dir(&self.dir);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }
}

/// The function whose instructions are counted for registry workloads (see
/// `allocmux_workloads::run_workload`).
pub const COUNTED_FUNCTION: &str = "*run_workload*";

/// Instructions the probe executes under callgrind: inside `only` (a
/// function-name pattern) when given, else the whole process.
pub fn instructions(probe: &Probe, only: Option<&str>) -> Result<u64, String> {
    let out_file =
        std::env::temp_dir().join(format!("allocmux-gate-{}.callgrind", std::process::id()));
    let mut wrapper = vec![
        "valgrind".to_owned(),
        "--tool=callgrind".to_owned(),
        format!("--callgrind-out-file={}", out_file.display()),
    ];
    if let Some(pattern) = only {
        wrapper.push(format!("--toggle-collect={pattern}"));
    }
    let out = probe
        .command(Some(&wrapper))
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    let _ = std::fs::remove_file(&out_file);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let last = crate::cmd::last_line(&stderr);
        return Err(format!(
            "{} failed under callgrind: {last}",
            probe.program.display()
        ));
    }
    parse_collected(&stderr).ok_or_else(|| "callgrind printed no instruction total".to_owned())
}

/// Reads callgrind's `==pid== Collected : N` line.
pub fn parse_collected(stderr: &str) -> Option<u64> {
    stderr.lines().find_map(|l| {
        let (_, rest) = l.split_once("Collected :")?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// What one native run of a cell measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Native {
    /// The `ops_per_sec` of the JSON line the program prints, or for programs
    /// that print none, runs per second.
    pub ops_per_sec: f64,
    /// Peak resident memory (sampled from outside every 10 ms), bytes.
    pub peak_rss: f64,
    /// The façade's counts, when the program printed them.
    pub counts: Option<Counts>,
}

/// The façade's `stats` counts a run printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Allocation calls.
    pub allocations: u64,
    /// Bytes requested in total.
    pub bytes_allocated: u64,
    /// Peak live requested bytes.
    pub bytes_peak: u64,
}

/// The counts in a JSON line: a runner record's `stats` object, or the same
/// fields at the top level (a user's own program).
pub fn parse_counts(v: &serde_json::Value) -> Option<Counts> {
    let s = match v.get("stats") {
        Some(s) if s.is_object() => s,
        _ => v,
    };
    Some(Counts {
        allocations: s.get("allocations")?.as_u64()?,
        bytes_allocated: s.get("bytes_allocated")?.as_u64()?,
        bytes_peak: s.get("bytes_peak")?.as_u64()?,
    })
}

/// Runs the probe once natively.
pub fn native(probe: &Probe) -> Result<Native, String> {
    let f = crate::process::run_sampled(
        &mut probe.command(None),
        std::time::Duration::from_secs(3600),
        Some(std::time::Duration::from_millis(10)),
    );
    if !f.ending.success() {
        let last = crate::cmd::last_line(&f.stderr);
        return Err(format!(
            "{} {}: {last}",
            probe.program.display(),
            f.ending.describe(std::time::Duration::from_secs(3600))
        ));
    }
    let lines: Vec<serde_json::Value> = f
        .stdout
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .collect();
    let reported = lines.iter().find_map(|v| v.get("ops_per_sec")?.as_f64());
    Ok(Native {
        ops_per_sec: reported.unwrap_or(1.0 / f.wall_seconds.max(1e-9)),
        // The sampled peak is the run's own (wait4's carries the gate's size).
        peak_rss: f
            .rss
            .as_ref()
            .and_then(|r| r.summary)
            .map(|s| s.peak_bytes as f64)
            .or_else(|| f.usage.map(|u| u.peak_rss_bytes as f64))
            .unwrap_or(0.0),
        counts: lines.iter().find_map(parse_counts),
    })
}

/// Throughput of one native run (see [`Native::ops_per_sec`]).
pub fn throughput(probe: &Probe) -> Result<f64, String> {
    native(probe).map(|n| n.ops_per_sec)
}

#[cfg(test)]
mod tests {
    use super::{parse_collected, parse_counts, Counts};

    #[test]
    fn reads_counts_from_a_record_or_a_flat_line() {
        let record: serde_json::Value = serde_json::from_str(
            r#"{"ops_per_sec": 1.0, "stats": {"allocations": 5, "deallocations": 5, "bytes_allocated": 640, "bytes_peak": 128}}"#,
        )
        .unwrap();
        let want = Counts {
            allocations: 5,
            bytes_allocated: 640,
            bytes_peak: 128,
        };
        assert_eq!(parse_counts(&record), Some(want));
        let flat: serde_json::Value = serde_json::from_str(
            r#"{"allocations": 5, "bytes_allocated": 640, "bytes_peak": 128}"#,
        )
        .unwrap();
        assert_eq!(parse_counts(&flat), Some(want));
        let none: serde_json::Value =
            serde_json::from_str(r#"{"ops_per_sec": 1.0, "stats": null}"#).unwrap();
        assert_eq!(parse_counts(&none), None);
    }

    #[test]
    fn reads_the_callgrind_total() {
        let text = "==12== Events    : Ir\n==12== Collected : 123456789\n==12==\n==12== I   refs:      123,456,789\n";
        assert_eq!(parse_collected(text), Some(123_456_789));
        assert_eq!(parse_collected("nothing"), None);
    }
}
