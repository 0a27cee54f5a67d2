//! The program's own figure (`--metric`): a field of a JSON line it prints
//! (`json:ops_per_sec`, or just `ops_per_sec`), or the first capture group of
//! a regular expression over its output (`regex:throughput: ([0-9.]+)`).
//! The last match in the output wins, so a program that prints progress
//! and then a total reports the total.

use regex::Regex;

/// How to find the figure in a run's output.
#[derive(Debug, Clone)]
pub enum Metric {
    /// The numeric field of this name in the last JSON object line having it.
    Json(String),
    /// The first capture group (or the whole match) of the last match.
    Pattern(Regex),
}

impl Metric {
    /// Parses `--metric`: `json:FIELD`, `regex:PATTERN`, or a bare field name.
    pub fn parse(spec: &str) -> Result<Metric, String> {
        if let Some(field) = spec.strip_prefix("json:") {
            if field.is_empty() {
                return Err("--metric json: needs a field name, e.g. json:ops_per_sec".into());
            }
            return Ok(Metric::Json(field.to_owned()));
        }
        if let Some(pattern) = spec.strip_prefix("regex:") {
            let re = Regex::new(pattern)
                .map_err(|e| format!("--metric regex: `{pattern}` is not a valid pattern: {e}"))?;
            return Ok(Metric::Pattern(re));
        }
        if !spec.is_empty()
            && spec
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        {
            return Ok(Metric::Json(spec.to_owned()));
        }
        Err(format!(
            "--metric `{spec}`: write json:FIELD (a number in a JSON line the program prints) or regex:PATTERN (its first group is the number)"
        ))
    }

    /// The figure in `output`, if the program printed one.
    pub fn find(&self, output: &str) -> Option<f64> {
        match self {
            Metric::Json(field) => output.lines().rev().find_map(|line| {
                let v: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
                v.get(field)?.as_f64()
            }),
            Metric::Pattern(re) => re.captures_iter(output).last().and_then(|c| {
                let m = c.get(1).or_else(|| c.get(0))?;
                m.as_str().trim().parse().ok()
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Metric;

    #[test]
    fn json_fields_and_patterns_find_the_last_value() {
        let out =
            "starting\n{\"ops_per_sec\": 10}\n{\"other\": 1}\n{\"ops_per_sec\": 12.5}\ndone\n";
        assert_eq!(
            Metric::parse("json:ops_per_sec").unwrap().find(out),
            Some(12.5)
        );
        assert_eq!(Metric::parse("ops_per_sec").unwrap().find(out), Some(12.5));
        assert_eq!(Metric::parse("json:missing").unwrap().find(out), None);
        let re = Metric::parse(r"regex:took ([0-9.]+) ms").unwrap();
        assert_eq!(re.find("took 3 ms\ntook 4.5 ms\n"), Some(4.5));
        assert_eq!(re.find("nothing"), None);
    }

    #[test]
    fn bad_specs_say_how_to_write_one() {
        assert!(Metric::parse("regex:(")
            .unwrap_err()
            .contains("not a valid pattern"));
        assert!(Metric::parse("json:").is_err());
        assert!(Metric::parse("what is this")
            .unwrap_err()
            .contains("json:FIELD"));
    }
}
