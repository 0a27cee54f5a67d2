//! `results.csv`: one row per repetition, for spreadsheets and scripts.
//! Fields are quoted by RFC 4180 rules when they need it.
//!
//! The first twelve columns ([`COLUMNS`]) are always there. When the runs
//! carry the kernel's accounting, [`USAGE_COLUMNS`] follow; when their
//! resident memory was sampled, [`RSS_COLUMNS`]; when a `compare` asked for
//! the program's own figure, a `metric` column ends the row.

use super::format::status_name;
use crate::results::MatrixResults;

/// The header line's fields.
pub const COLUMNS: [&str; 12] = [
    "workload",
    "class",
    "backend",
    "threads",
    "rep",
    "status",
    "ops_per_sec",
    "seconds",
    "wall_seconds",
    "peak_rss_bytes",
    "checksum",
    "error",
];

/// Columns of the kernel's accounting of each run (`wait4`).
pub const USAGE_COLUMNS: [&str; 5] = [
    "user_seconds",
    "system_seconds",
    "process_peak_rss_bytes",
    "minor_faults",
    "major_faults",
];

/// Columns of the resident memory sampled from outside the run, and of the
/// drain phase (resident memory at the last idle time).
pub const RSS_COLUMNS: [&str; 4] = [
    "rss_sampled_peak_bytes",
    "rss_sampled_mean_bytes",
    "rss_after_idle_bytes",
    "rss_after_idle_ms",
];

/// Quotes a field when it holds a comma, a quote, a line break or leading or
/// trailing space; quotes inside are doubled.
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Renders `results.csv`: a header and one row per repetition, in the order
/// they ran; fields a repetition does not have are empty.
pub fn render_csv(results: &MatrixResults) -> String {
    let with_usage = results.runs.iter().any(|r| r.usage.is_some());
    let with_rss = results.runs.iter().any(|r| r.rss_sampled.is_some());
    let with_metric = results.program.as_ref().is_some_and(|p| p.metric.is_some());
    let mut header: Vec<&str> = COLUMNS.to_vec();
    if with_usage {
        header.extend(USAGE_COLUMNS);
    }
    if with_rss {
        header.extend(RSS_COLUMNS);
    }
    if with_metric {
        header.push("metric");
    }
    let mut out = header.join(",");
    out.push('\n');
    for run in &results.runs {
        let class = results
            .workloads
            .iter()
            .find(|w| w.name == run.workload)
            .map(|w| w.class.as_str());
        let rec = run.record.as_ref();
        let mut fields = vec![
            field(&run.workload),
            field(class.unwrap_or("")),
            field(&run.backend),
            run.threads.to_string(),
            run.rep.to_string(),
            status_name(run.status).to_string(),
            rec.map(|r| r.ops_per_sec.to_string()).unwrap_or_default(),
            rec.map(|r| r.seconds.to_string()).unwrap_or_default(),
            run.wall_seconds.to_string(),
            rec.map(|r| r.peak_rss_bytes.to_string())
                .unwrap_or_default(),
            rec.map(|r| r.checksum.to_string()).unwrap_or_default(),
            field(run.error.as_deref().unwrap_or("")),
        ];
        if with_usage {
            let u = run.usage;
            fields.extend([
                u.map(|u| u.user_seconds.to_string()).unwrap_or_default(),
                u.map(|u| u.system_seconds.to_string()).unwrap_or_default(),
                u.map(|u| u.peak_rss_bytes.to_string()).unwrap_or_default(),
                u.map(|u| u.minor_faults.to_string()).unwrap_or_default(),
                u.map(|u| u.major_faults.to_string()).unwrap_or_default(),
            ]);
        }
        if with_rss {
            let s = run.rss_sampled;
            let idle = rec.and_then(|r| r.rss_after_idle.last());
            fields.extend([
                s.map(|s| s.peak_bytes.to_string()).unwrap_or_default(),
                s.map(|s| s.mean_bytes.to_string()).unwrap_or_default(),
                idle.map(|i| i.rss_bytes.to_string()).unwrap_or_default(),
                idle.map(|i| i.idle_ms.to_string()).unwrap_or_default(),
            ]);
        }
        if with_metric {
            fields.push(run.metric.map(|m| m.to_string()).unwrap_or_default());
        }
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}
