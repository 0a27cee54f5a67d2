//! Measures one gated cell once on one side: its instruction count under
//! callgrind, or its native throughput. Valgrind is invoked directly rather
//! than through gungraun/iai-callgrind: the gate measures the same runner
//! binaries the matrix uses (no separate bench harness, no runner crate whose
//! version must match a library), and all it needs is callgrind's total.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

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

/// Checks that valgrind is installed, with the install hint if not.
pub fn require_valgrind() -> Result<(), String> {
    match Command::new("valgrind").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err("valgrind is not installed, and the instructions method needs it: install it with `apt-get install valgrind` (Debian/Ubuntu) or `dnf install valgrind`".into()),
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

/// Throughput of one native run: the `ops_per_sec` of the JSON line the
/// program prints, or for programs that print none, runs per second.
pub fn throughput(probe: &Probe) -> Result<f64, String> {
    let start = Instant::now();
    let out = probe
        .command(None)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", probe.program.display()))?;
    let wall = start.elapsed().as_secs_f64();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = crate::cmd::last_line(&stderr);
        return Err(format!(
            "{} failed ({}): {last}",
            probe.program.display(),
            out.status
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let reported = stdout
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v.get("ops_per_sec")?.as_f64());
    Ok(reported.unwrap_or(1.0 / wall.max(1e-9)))
}

#[cfg(test)]
mod tests {
    use super::parse_collected;

    #[test]
    fn reads_the_callgrind_total() {
        let text = "==12== Events    : Ir\n==12== Collected : 123456789\n==12==\n==12== I   refs:      123,456,789\n";
        assert_eq!(parse_collected(text), Some(123_456_789));
        assert_eq!(parse_collected("nothing"), None);
    }
}
