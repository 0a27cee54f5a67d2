//! The machine-readable results (`results.json`) of a matrix run or of a
//! `compare`: what ran, on which machine, and every repetition of every cell.
//! Written after each run so an interrupted run loses nothing; read back by
//! `merge`, the reports and the gate.

mod checks;

use std::path::Path;

use allocmux_workloads::RunRecord;
use serde::{Deserialize, Serialize};

pub use self::checks::{backend_infos, verify_checksums, workload_infos};
use std::time::Duration;

use crate::process::{Ending, Finished, Usage};
use crate::sampler::RssSummary;

/// Version of this file format; bumped when fields change meaning.
pub const SCHEMA: u32 = 1;

/// Everything one matrix run (or a merge of shards) produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MatrixResults {
    /// File format version ([`SCHEMA`]).
    pub schema: u32,
    /// When the run started (RFC 3339, UTC).
    pub started: String,
    /// `"quick"` or `"full"`.
    pub mode: String,
    /// Which shard this file holds (`"1/2"`), or `None` for a whole run or a merge.
    pub shard: Option<String>,
    /// The machine the numbers were measured on.
    pub machine: Machine,
    /// The backends that took part, in report order (the system allocator first).
    pub backends: Vec<BackendInfo>,
    /// The workloads that took part, in registry order.
    pub workloads: Vec<WorkloadInfo>,
    /// Every repetition of every cell, in the order they ran.
    pub runs: Vec<CellRun>,
    /// Criterion micro-benchmark results (`cargo xtask bench-micro`), if any.
    #[serde(default)]
    pub micro: Vec<MicroResult>,
    /// For `cargo allocmux compare`: the program that was measured (its one
    /// workload is the program; its runs carry [`CellRun::usage`] and
    /// [`CellRun::metric`] instead of a runner record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<ProgramInfo>,
}

/// The program a `compare` measured, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgramInfo {
    /// The command line as run (the binary's name and the arguments after `--`).
    pub command: Vec<String>,
    /// The Cargo project it was built from (empty for `--preload`).
    pub project: String,
    /// `bin demo`, `example client`, or `program` for `--preload`.
    pub target: String,
    /// How the backend was put in place: `façade` (built with
    /// `--features allocmux/<backend>`) or `preload` (`LD_PRELOAD`).
    pub method: String,
    /// The program's own figure, when `--metric` named one.
    pub metric: Option<MetricInfo>,
    /// What proves each backend's build or library really is that backend.
    pub evidence: Vec<BackendEvidence>,
}

/// The program's own figure as `--metric` described it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricInfo {
    /// What `--metric` said (`json:ops_per_sec`, `regex:…`).
    pub spec: String,
    /// Whether a larger value is better.
    pub higher_is_better: bool,
}

/// Why a `compare` believes a backend's binary allocates with that backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendEvidence {
    /// Backend name.
    pub backend: String,
    /// The façade features Cargo compiled into the binary (façade method).
    #[serde(default)]
    pub facade_features: Vec<String>,
    /// The library put in front of the C library (preload method).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
    /// The line the running program printed to say which allocator served it.
    #[serde(default)]
    pub banner: Option<String>,
}

/// A description of the machine, so numbers are never without their context.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// CPU model name from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// Logical CPUs available to the process.
    pub cores: usize,
    /// Total memory in bytes.
    pub memory_bytes: u64,
    /// Operating system (`PRETTY_NAME` of `/etc/os-release`).
    pub os: String,
    /// Kernel release.
    pub kernel: String,
    /// Transparent huge page mode (`always`, `madvise` or `never`: the selected word of
    /// `/sys/kernel/mm/transparent_hugepage/enabled`), empty when unknown or when the
    /// results predate this field. Allocators that advise huge pages (mimalloc 3) change
    /// speed and RSS with it.
    #[serde(default)]
    pub transparent_huge_pages: String,
    /// `rustc --version`.
    pub rustc: String,
}

/// One backend of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendInfo {
    /// Backend name (`allocmux::Backend::name`).
    pub name: String,
    /// Version reported by the runner built with it, if known.
    pub version: Option<String>,
    /// One-line description.
    pub description: String,
}

/// One workload of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadInfo {
    /// Registry name.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Pattern class name (`"cross-thread-free"`, …).
    pub class: String,
}

/// How one repetition of a cell ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// Ran to completion and printed its record.
    Ok,
    /// Crashed, exited non-zero or printed no valid record.
    Failed,
    /// Killed after the time limit.
    Timeout,
    /// Ran, but its checksum differs from another backend's for the same cell.
    ChecksumMismatch,
}

/// One repetition of one workload × backend × threads cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellRun {
    /// Workload name.
    pub workload: String,
    /// Backend name.
    pub backend: String,
    /// Thread count the cell ran with.
    pub threads: usize,
    /// Repetition number, from 0.
    pub rep: u32,
    /// How it ended.
    pub status: RunStatus,
    /// Wall time of the whole process, in seconds.
    pub wall_seconds: f64,
    /// The runner's record when it printed one.
    pub record: Option<RunRecord>,
    /// What the kernel accounted for the process (CPU time, peak RSS, faults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// The program's own figure (`compare --metric`), when it printed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<f64>,
    /// The line by which the running program showed which allocator served it
    /// (`compare`: every run is checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<String>,
    /// Resident memory over time, `[seconds, bytes]`, sampled from outside the
    /// process (at most a few hundred points).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rss_timeline: Vec<[f64; 2]>,
    /// Peak, time-weighted mean and final of the sampled resident memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_sampled: Option<RssSummary>,
    /// A digest of what the program wrote to stdout (`compare`), to check that
    /// every backend's runs printed the same as the system allocator's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout_digest: Option<String>,
    /// What went wrong, for every status but `Ok`.
    pub error: Option<String>,
}

impl CellRun {
    /// A run of `workload` on `backend` that ended with `status`, with no
    /// numbers yet: the fields that only some runs have are empty.
    pub fn new(
        workload: &str,
        backend: &str,
        threads: usize,
        rep: u32,
        status: RunStatus,
    ) -> CellRun {
        CellRun {
            workload: workload.to_owned(),
            backend: backend.to_owned(),
            threads,
            rep,
            status,
            wall_seconds: 0.0,
            record: None,
            usage: None,
            metric: None,
            active: None,
            rss_timeline: Vec::new(),
            rss_sampled: None,
            stdout_digest: None,
            error: None,
        }
    }

    /// Records a finished process's wall time and usage; when it did not exit
    /// 0, also the status (timeout or failed) and the error: how it ended and
    /// the last line of `stderr`. Returns whether it exited 0.
    pub fn record_process(&mut self, f: &Finished, timeout: Duration, stderr: &str) -> bool {
        self.wall_seconds = f.wall_seconds;
        self.usage = f.usage;
        if let Some(rss) = &f.rss {
            self.rss_timeline = rss.timeline.clone();
            self.rss_sampled = rss.summary;
        }
        if f.ending.success() {
            return true;
        }
        self.status = match f.ending {
            Ending::TimedOut => RunStatus::Timeout,
            _ => RunStatus::Failed,
        };
        let how = f.ending.describe(timeout);
        let last = crate::cmd::last_line(stderr);
        self.error = Some(match f.ending {
            Ending::Exited(_) | Ending::Signaled(_) if !last.is_empty() => format!("{how}: {last}"),
            _ => how,
        });
        false
    }

    /// The cell this run belongs to.
    pub fn key(&self) -> CellKey {
        CellKey {
            workload: self.workload.clone(),
            backend: self.backend.clone(),
            threads: self.threads,
        }
    }
}

/// Identifies a cell: one workload on one backend at one thread count.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CellKey {
    /// Workload name.
    pub workload: String,
    /// Backend name.
    pub backend: String,
    /// Thread count.
    pub threads: usize,
}

/// One criterion micro-benchmark measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MicroResult {
    /// Backend name.
    pub backend: String,
    /// Benchmark id (`"alloc_free/64"`).
    pub bench: String,
    /// Criterion's point estimate of the mean time per iteration, in nanoseconds.
    pub mean_ns: f64,
    /// Lower bound of the 95 % confidence interval, in nanoseconds.
    pub lower_ns: f64,
    /// Upper bound of the 95 % confidence interval, in nanoseconds.
    pub upper_ns: f64,
}

impl MatrixResults {
    /// Reads a results file, naming the file and the problem on failure.
    pub fn load(path: &Path) -> Result<MatrixResults, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let results: MatrixResults = serde_json::from_str(&text).map_err(|e| {
            format!(
                "{} is not a valid allocmux results file: {e}",
                path.display()
            )
        })?;
        if results.schema != SCHEMA {
            return Err(format!(
                "{} has results format {}, this allocmux reads format {SCHEMA}",
                path.display(),
                results.schema
            ));
        }
        Ok(results)
    }

    /// Writes the file atomically (temporary file, then rename), so a crash
    /// never leaves a half-written results file behind. Compact JSON: with a
    /// resident-memory timeline per run, pretty printing would triple the size.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string(self).map_err(|e| e.to_string())?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}
