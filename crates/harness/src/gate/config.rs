//! `ci/gate.toml`: which cells gate a change and with which method, checked
//! against the workload registry and the backend list before anything runs.

use std::path::Path;

use allocmux::Backend;
use serde::Deserialize;

/// How a cell is compared between base and candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Instruction counts under callgrind (deterministic, single-threaded only).
    Instructions,
    /// Native throughput, base and candidate interleaved, bootstrap CI of paired ratios.
    Throughput,
    /// Allocation count, bytes allocated and peak live bytes from the façade's
    /// `stats` layer, one run per side (deterministic for a deterministic workload).
    Allocations,
    /// Peak resident memory, base and candidate interleaved like throughput.
    PeakRss,
}

impl Method {
    /// The method's name in the config and the output.
    pub fn name(self) -> &'static str {
        match self {
            Method::Instructions => "instructions",
            Method::Throughput => "throughput",
            Method::Allocations => "allocations",
            Method::PeakRss => "peak-rss",
        }
    }

    /// Every method, for messages that list the valid ones.
    pub const ALL: [Method; 4] = [
        Method::Instructions,
        Method::Throughput,
        Method::Allocations,
        Method::PeakRss,
    ];

    /// The method named `s`.
    pub fn from_name(s: &str) -> Result<Method, String> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown method `{s}`; valid: {}",
                    Method::ALL.map(Method::name).join(", ")
                )
            })
    }
}

/// Settings of the allocations method.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AllocationsSettings {
    /// Relative increase of a count that fails the gate.
    pub threshold: f64,
}

impl Default for AllocationsSettings {
    fn default() -> Self {
        AllocationsSettings { threshold: 0.01 }
    }
}

/// Settings of the peak-rss method (pairs, confidence and resamples are the
/// throughput method's).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PeakRssSettings {
    /// Relative growth of peak RSS that fails the gate (when the whole interval lies above `1 + threshold`).
    pub threshold: f64,
}

impl Default for PeakRssSettings {
    fn default() -> Self {
        PeakRssSettings { threshold: 0.05 }
    }
}

/// Settings of the instructions method.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InstructionsSettings {
    /// Relative increase of the instruction count that fails the gate.
    pub threshold: f64,
}

impl Default for InstructionsSettings {
    fn default() -> Self {
        InstructionsSettings { threshold: 0.01 }
    }
}

/// How the throughput and peak-rss methods turn paired ratios into an interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Interval {
    /// Student's t interval of the mean log ratio with a Newey–West standard
    /// error (robust to correlation between neighbouring pairs). The default.
    HacT,
    /// Percentile bootstrap of independent pairs (the method before; it
    /// undercovers when pairs are few or correlated).
    Bootstrap,
}

/// Settings of the throughput method.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThroughputSettings {
    /// How the interval is computed.
    pub interval: Interval,
    /// Pairs for cells that run more than one thread (noisier on a shared machine).
    pub threaded_pairs: usize,
    /// Relative slowdown that fails the gate (when the whole CI lies below `1 - threshold`).
    pub threshold: f64,
    /// Base/candidate pairs per cell.
    pub pairs: usize,
    /// Confidence level of the interval.
    pub confidence: f64,
    /// Bootstrap resamples.
    pub resamples: usize,
    /// Re-measure a cell that looks like a regression and fail only if the
    /// second measurement agrees.
    pub confirm: bool,
}

impl Default for ThroughputSettings {
    fn default() -> Self {
        ThroughputSettings {
            interval: Interval::HacT,
            threaded_pairs: 30,
            threshold: 0.05,
            pairs: 30,
            confidence: 0.95,
            resamples: 10_000,
            confirm: true,
        }
    }
}

/// Settings of the history rule (rustc-perf's): a change is significant only
/// beyond `Q3 + fence × IQR` of the magnitudes of the cell's past changes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HistorySettings {
    /// Past results needed before the rule applies.
    pub min_points: usize,
    /// How many of the most recent results are used.
    pub window: usize,
    /// Interquartile ranges above the third quartile.
    pub fence: f64,
}

impl Default for HistorySettings {
    fn default() -> Self {
        HistorySettings {
            min_points: 10,
            window: 30,
            fence: 3.0,
        }
    }
}

/// One gated cell as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellSpec {
    /// A registry workload, or a name for a `command` cell.
    pub workload: String,
    /// Backend to measure (default `system`); not used by `command` cells.
    #[serde(default)]
    pub backend: Option<String>,
    /// `instructions`, `throughput`, `allocations` or `peak-rss`.
    pub method: Method,
    /// Threads (multi-threaded workloads, throughput method only).
    #[serde(default)]
    pub threads: Option<usize>,
    /// Iteration override, to keep callgrind runs short.
    #[serde(default)]
    pub iterations: Option<u64>,
    /// A user command instead of a registry workload: run from the checkout's
    /// root; it prints a JSON line with `ops_per_sec` (throughput) or is
    /// counted as a whole (instructions).
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Run in each checkout before `command` (e.g. a `cargo build`).
    #[serde(default)]
    pub build: Option<Vec<String>>,
}

/// The whole config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateConfig {
    /// Settings of the instructions method.
    #[serde(default)]
    pub instructions: InstructionsSettings,
    /// Settings of the throughput method.
    #[serde(default)]
    pub throughput: ThroughputSettings,
    /// Settings of the allocations method.
    #[serde(default)]
    pub allocations: AllocationsSettings,
    /// Settings of the peak-rss method.
    #[serde(default, rename = "peak-rss")]
    pub peak_rss: PeakRssSettings,
    /// History: earlier gate results judge how unusual a change is.
    #[serde(default)]
    pub history: HistorySettings,
    /// The gated cells.
    #[serde(rename = "cell")]
    pub cells: Vec<CellSpec>,
}

/// A checked cell, ready to run.
#[derive(Debug, Clone)]
pub struct GatedCell {
    /// The display name (`glibc-simple on slab`).
    pub name: String,
    /// Registry workload, if not a command cell.
    pub workload: Option<&'static allocmux_workloads::Workload>,
    /// Backend the runner is built with.
    pub backend: Backend,
    /// Comparison method.
    pub method: Method,
    /// Thread override.
    pub threads: Option<usize>,
    /// Iteration override.
    pub iterations: Option<u64>,
    /// User command, for command cells.
    pub command: Option<Vec<String>>,
    /// User build command, for command cells.
    pub build: Option<Vec<String>>,
}

impl GateConfig {
    /// Parses and checks a config file; errors are one line naming the file and the problem.
    pub fn load(path: &Path) -> Result<(GateConfig, Vec<GatedCell>), String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses and checks config text.
    pub fn parse(text: &str) -> Result<(GateConfig, Vec<GatedCell>), String> {
        let config: GateConfig = toml::from_str(text).map_err(|e| e.message().to_owned())?;
        if config.cells.is_empty() {
            return Err("no [[cell]] entries: nothing to gate".into());
        }
        let t = &config.throughput;
        if !(0.0..1.0).contains(&t.threshold)
            || !(0.0..1.0).contains(&config.instructions.threshold)
            || !(0.0..1.0).contains(&config.allocations.threshold)
            || !(0.0..1.0).contains(&config.peak_rss.threshold)
        {
            return Err("thresholds are fractions between 0 and 1 (0.05 means 5 %)".into());
        }
        if !(0.5..1.0).contains(&t.confidence) || t.pairs < 3 || t.threaded_pairs < 3 {
            return Err("throughput needs confidence in [0.5, 1) and at least 3 pairs".into());
        }
        let cells = config
            .cells
            .iter()
            .map(check_cell)
            .collect::<Result<Vec<_>, _>>()?;
        for (i, a) in cells.iter().enumerate() {
            if cells[..i]
                .iter()
                .any(|b| b.name == a.name && b.method == a.method && b.threads == a.threads)
            {
                return Err(format!(
                    "cell `{}` ({}) is listed twice",
                    a.name,
                    a.method.name()
                ));
            }
        }
        Ok((config, cells))
    }
}

fn check_cell(spec: &CellSpec) -> Result<GatedCell, String> {
    let backend = match &spec.backend {
        None => Backend::System,
        Some(name) => name.parse::<Backend>()?,
    };
    let workload = match &spec.command {
        Some(cmd) if cmd.is_empty() => return Err(format!("cell `{}`: `command` is empty", spec.workload)),
        Some(_) => None,
        None => Some(allocmux_workloads::find(&spec.workload).filter(|w| !w.hidden).ok_or_else(|| {
            let names: Vec<&str> = allocmux_workloads::all().iter().filter(|w| !w.hidden).map(|w| w.name).collect();
            format!(
                "unknown workload `{}` in a [[cell]]; valid workloads: {} (or give `command` for your own program)",
                spec.workload,
                names.join(", ")
            )
        })?),
    };
    if spec.method == Method::Instructions {
        if let Some(w) = workload {
            if w.multithreaded {
                return Err(format!(
                    "cell `{}`: the instructions method needs a single-threaded workload (valgrind serialises threads, so counts of threaded workloads depend on scheduling); use method = \"throughput\"",
                    w.name
                ));
            }
        }
    }
    let name = match workload {
        Some(w) => format!("{} on {backend}", w.name),
        None => spec.workload.clone(),
    };
    Ok(GatedCell {
        name,
        workload,
        backend,
        method: spec.method,
        threads: spec.threads,
        iterations: spec.iterations,
        command: spec.command.clone(),
        build: spec.build.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        [throughput]
        threshold = 0.05
        pairs = 8

        [[cell]]
        workload = "glibc-simple"
        backend = "slab"
        method = "instructions"
        iterations = 20

        [[cell]]
        workload = "larson"
        backend = "mimalloc"
        method = "throughput"
        threads = 2

        [[cell]]
        workload = "my-service"
        method = "throughput"
        command = ["target/release/my-bench"]
    "#;

    #[test]
    fn parses_a_good_config() {
        let (config, cells) = GateConfig::parse(GOOD).unwrap();
        assert_eq!(config.throughput.pairs, 8);
        assert_eq!(config.instructions.threshold, 0.01);
        assert_eq!(cells.len(), 3);
        assert_eq!(cells[0].name, "glibc-simple on slab");
        assert_eq!(cells[0].method, Method::Instructions);
        assert_eq!(cells[1].backend, Backend::Mimalloc);
        assert!(cells[2].workload.is_none() && cells[2].command.is_some());
    }

    #[test]
    fn unknown_workload_is_named() {
        let err = GateConfig::parse("[[cell]]\nworkload = \"nosuch\"\nmethod = \"throughput\"\n")
            .unwrap_err();
        assert!(
            err.contains("unknown workload `nosuch`") && err.contains("larson"),
            "{err}"
        );
        assert!(!err.contains('\n'), "one line: {err}");
    }

    #[test]
    fn unknown_backend_method_and_key_are_named() {
        let e = GateConfig::parse(
            "[[cell]]\nworkload = \"larson\"\nbackend = \"tcmalloc\"\nmethod = \"throughput\"\n",
        )
        .unwrap_err();
        assert!(e.contains("tcmalloc") && e.contains("mimalloc"), "{e}");
        let e =
            GateConfig::parse("[[cell]]\nworkload = \"larson\"\nmethod = \"vibes\"\n").unwrap_err();
        assert!(e.contains("vibes"), "{e}");
        let e = GateConfig::parse(
            "[[cell]]\nworkload = \"larson\"\nmethod = \"throughput\"\nthreds = 2\n",
        )
        .unwrap_err();
        assert!(e.contains("threds"), "{e}");
    }

    #[test]
    fn threaded_workloads_cannot_use_instructions() {
        let e = GateConfig::parse("[[cell]]\nworkload = \"larson\"\nmethod = \"instructions\"\n")
            .unwrap_err();
        assert!(e.contains("single-threaded"), "{e}");
    }

    #[test]
    fn empty_and_bad_settings_are_rejected() {
        assert!(GateConfig::parse("").unwrap_err().contains("cell"));
        let e = GateConfig::parse("[throughput]\nthreshold = 5\n[[cell]]\nworkload = \"larson\"\nmethod = \"throughput\"\n").unwrap_err();
        assert!(e.contains("fractions"), "{e}");
    }
}
