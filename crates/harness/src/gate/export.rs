//! The gate's results in the formats CI dashboards read: Bencher Metric
//! Format (`--format bencher`: one benchmark per cell, one measure per
//! metric, the candidate's value with the interval's bounds where there is
//! one) and github-action-benchmark's custom formats (`--format
//! github-action-benchmark`: one file of `customBiggerIsBetter` entries —
//! throughput — and one of `customSmallerIsBetter` entries — instructions,
//! allocation counts, peak RSS).

use serde_json::{json, Map, Value};

use super::config::Method;
use super::output::{CellOutcome, GateReport};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Bencher Metric Format JSON.
    Bencher,
    /// github-action-benchmark's `customBiggerIsBetter` / `customSmallerIsBetter` JSON.
    GithubActionBenchmark,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "bencher" => Ok(Format::Bencher),
            "github-action-benchmark" => Ok(Format::GithubActionBenchmark),
            _ => Err(format!(
                "unknown format `{s}`; valid: bencher, github-action-benchmark"
            )),
        }
    }
}

/// The measure slug and unit of an outcome's metric.
fn measure(c: &CellOutcome) -> (String, &'static str) {
    match c.method {
        Method::Throughput if c.metric == "ops/s" => ("throughput".into(), "ops/s"),
        Method::Throughput => ("throughput-vs-system".into(), "ratio"),
        Method::Instructions => ("instructions".into(), "instructions"),
        Method::PeakRss => ("peak-rss".into(), "bytes"),
        Method::Allocations => (
            c.metric.replace(' ', "-"),
            if c.metric == "allocations" {
                "calls"
            } else {
                "bytes"
            },
        ),
    }
}

/// The candidate's interval in the metric's units, when the method gives one.
fn bounds(c: &CellOutcome) -> Option<(f64, f64)> {
    let (lo, hi) = c.interval?;
    // The interval is of candidate ÷ base; scale it to the candidate's units.
    let scale = if c.change.is_finite() && (1.0 + c.change) > 0.0 {
        c.candidate / (1.0 + c.change)
    } else {
        return None;
    };
    Some((lo * scale, hi * scale))
}

/// Bencher Metric Format: `{ benchmark: { measure: { value, lower_value?, upper_value? } } }`.
pub fn bencher(report: &GateReport) -> Value {
    let mut benchmarks = Map::new();
    for c in &report.cells {
        let (slug, _) = measure(c);
        let mut metric = Map::new();
        metric.insert("value".into(), json!(c.candidate));
        if let Some((lo, hi)) = bounds(c) {
            metric.insert("lower_value".into(), json!(lo));
            metric.insert("upper_value".into(), json!(hi));
        }
        let entry = benchmarks
            .entry(c.cell.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = entry {
            m.insert(slug, Value::Object(metric));
        }
    }
    Value::Object(benchmarks)
}

/// github-action-benchmark's two custom files: `(bigger is better, smaller is better)`.
pub fn github_action_benchmark(report: &GateReport) -> (Value, Value) {
    let (mut bigger, mut smaller) = (Vec::new(), Vec::new());
    for c in &report.cells {
        let (slug, unit) = measure(c);
        let mut e = Map::new();
        e.insert("name".into(), json!(format!("{} ({slug})", c.cell)));
        e.insert("unit".into(), json!(unit));
        e.insert("value".into(), json!(c.candidate));
        if let Some((lo, hi)) = bounds(c) {
            e.insert("range".into(), json!(format!("{lo:.4}..{hi:.4}")));
        }
        e.insert(
            "extra".into(),
            json!(format!(
                "{} vs {}: {:+.2} % ({})",
                report.candidate,
                report.base,
                c.change * 100.0,
                c.verdict.word()
            )),
        );
        if c.method == Method::Throughput {
            bigger.push(Value::Object(e));
        } else {
            smaller.push(Value::Object(e));
        }
    }
    (Value::Array(bigger), Value::Array(smaller))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::output::CellOutcome;
    use crate::gate::stats::Verdict;

    /// Bencher's published JSON Schema of BMF (bencher.dev/bmf.json, draft-07).
    const BMF_SCHEMA: &str = r#"{
      "$id": "https://bencher.dev/bmf.json",
      "$schema": "http://json-schema.org/draft-07/schema",
      "type": "object",
      "patternProperties": {
        ".+": {
          "type": "object",
          "patternProperties": {
            ".+": {
              "type": "object",
              "properties": {
                "value": { "type": "number" },
                "lower_value": { "type": "number" },
                "upper_value": { "type": "number" }
              },
              "required": ["value"]
            }
          }
        }
      }
    }"#;

    /// github-action-benchmark's custom tools, as its README documents them:
    /// an array of entries with `name`, `unit` and `value`, optional `range`
    /// and `extra` strings.
    const GAB_SCHEMA: &str = r#"{
      "$schema": "http://json-schema.org/draft-07/schema",
      "type": "array",
      "items": {
        "type": "object",
        "properties": {
          "name": { "type": "string" },
          "unit": { "type": "string" },
          "value": { "type": "number" },
          "range": { "type": "string" },
          "extra": { "type": "string" }
        },
        "required": ["name", "unit", "value"],
        "additionalProperties": false
      }
    }"#;

    fn outcome(
        cell: &str,
        method: Method,
        metric: &str,
        value: f64,
        interval: bool,
    ) -> CellOutcome {
        CellOutcome {
            cell: cell.into(),
            workload: cell.into(),
            backend: "slab".into(),
            threads: None,
            method,
            metric: metric.into(),
            base: value * 0.98,
            candidate: value,
            change: 0.02,
            interval: interval.then_some((0.99, 1.05)),
            verdict: Verdict::Unchanged,
            candidate_instructions: None,
            base_samples: Vec::new(),
            candidate_samples: Vec::new(),
            candidate_system_samples: Vec::new(),
            note: None,
            history: None,
        }
    }

    fn report() -> GateReport {
        GateReport {
            base: "rev abc".into(),
            candidate: "work tree def".into(),
            method_note: String::new(),
            cells: vec![
                outcome("larson on slab", Method::Throughput, "ops/s", 1.5e8, true),
                outcome(
                    "glibc-simple on slab",
                    Method::Instructions,
                    "instructions",
                    2.4e7,
                    false,
                ),
                outcome(
                    "glibc-simple on slab",
                    Method::Allocations,
                    "allocations",
                    1e6,
                    false,
                ),
                outcome(
                    "glibc-simple on slab",
                    Method::Allocations,
                    "peak live bytes",
                    4096.0,
                    false,
                ),
                outcome("larson on slab", Method::PeakRss, "peak RSS", 8e6, true),
            ],
        }
    }

    fn validate(schema: &str, instance: &Value) {
        let schema: Value = serde_json::from_str(schema).unwrap();
        let validator = jsonschema::validator_for(&schema).expect("a valid schema");
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}\n{instance:#}");
    }

    #[test]
    fn bencher_output_follows_the_bmf_schema() {
        let v = bencher(&report());
        validate(BMF_SCHEMA, &v);
        assert_eq!(v["larson on slab"]["throughput"]["value"], 1.5e8);
        assert!(
            v["larson on slab"]["throughput"]["lower_value"]
                .as_f64()
                .unwrap()
                < 1.5e8
        );
        assert_eq!(v["glibc-simple on slab"]["instructions"]["value"], 2.4e7);
        assert_eq!(
            v["glibc-simple on slab"]["peak-live-bytes"]["value"],
            4096.0
        );
        assert!(v["glibc-simple on slab"]["instructions"]
            .get("lower_value")
            .is_none());
    }

    #[test]
    fn github_action_benchmark_output_follows_its_format() {
        let (bigger, smaller) = github_action_benchmark(&report());
        validate(GAB_SCHEMA, &bigger);
        validate(GAB_SCHEMA, &smaller);
        assert_eq!(bigger.as_array().unwrap().len(), 1);
        assert_eq!(smaller.as_array().unwrap().len(), 4);
        assert_eq!(bigger[0]["name"], "larson on slab (throughput)");
        assert_eq!(bigger[0]["unit"], "ops/s");
    }
}
