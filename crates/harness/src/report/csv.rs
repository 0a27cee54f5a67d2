//! `results.csv`: one row per repetition, for spreadsheets and scripts.
//! Fields are quoted by RFC 4180 rules when they need it.

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
    let mut out = COLUMNS.join(",");
    out.push('\n');
    for run in &results.runs {
        let class = results
            .workloads
            .iter()
            .find(|w| w.name == run.workload)
            .map(|w| w.class.as_str());
        let rec = run.record.as_ref();
        let fields = [
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
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}
