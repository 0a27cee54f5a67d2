//! Measuring one original program under every contender with the compare
//! engine (shuffled rounds, per-run checks, results saved after every run) and
//! writing its compare report.

use std::path::{Path, PathBuf};
use std::time::Duration;

use allocmux::Backend;
use allocmux_harness::compare::{measure, preload, MeasureSettings, Metric};
use allocmux_harness::results::{CellRun, MetricInfo, ProgramInfo};

use super::programs::Program;

/// What every program's measurement shares.
pub struct Session<'a> {
    /// The backends, the system allocator first.
    pub backends: &'a [Backend],
    /// Each backend's preload library (or why there is none).
    pub libraries: &'a [Result<PathBuf, String>],
    /// External libraries (`--library NAME=PATH`).
    pub externals: &'a [(String, PathBuf)],
    /// Runs of each program under each contender.
    pub rounds: u32,
    /// Time limit of one run.
    pub timeout: Duration,
    /// When the command started (RFC 3339).
    pub started: &'a str,
}

impl Session<'_> {
    /// Measures program `p` (executable `exe`, arguments `argv`) under every
    /// backend with the compare engine, writing its results into `dir`.
    pub fn measure(
        &self,
        p: &Program,
        exe: &Path,
        argv: &[String],
        dir: &Path,
    ) -> Result<Vec<CellRun>, String> {
        let contenders = preload::contenders(exe, self.backends, self.libraries, self.externals);
        let spec = p.metric.map(|m| format!("regex:{m}"));
        let metric = spec.as_deref().map(Metric::parse).transpose()?;
        let mut command = vec![exe.display().to_string()];
        command.extend(argv.iter().cloned());
        let info = ProgramInfo {
            command,
            project: String::new(),
            target: format!("original program {}", p.name),
            method: "preload".into(),
            metric: spec.map(|spec| MetricInfo {
                spec,
                higher_is_better: true,
            }),
            evidence: Vec::new(),
        };
        let settings = MeasureSettings {
            args: argv,
            dir,
            reps: self.rounds,
            timeout: self.timeout,
            sample: Duration::from_millis(10),
            metric: metric.as_ref(),
            started: self.started.to_owned(),
            out: dir,
            preload: true,
            check_output: false,
        };
        let results = measure(&contenders, p.name, info, &settings)?;
        // The program's own compare report (report.md / .html / results.csv).
        allocmux_harness::report::write_all(&results, dir)?;
        Ok(results.runs)
    }
}
