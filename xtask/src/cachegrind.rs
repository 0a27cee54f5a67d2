//! Reads a cachegrind out file (`--cachegrind-out-file`) into instruction
//! counts (Ir) per source file, for `cargo xtask workload-codegen`.
//!
//! The format: header lines (`desc:`, `cmd:`, `events: Ir …`), then blocks
//! of `fl=<source file>` and `fn=<function>` lines, each followed by cost
//! lines `<line number> <count of event 1> <count of event 2> …` (trailing
//! zero counts may be left out), and a closing `summary:` line with the
//! totals. With `--cache-sim=no` the only event is Ir.
//!
//! Why it is parsed here by hand: no crate on crates.io is a library for this
//! file. The crates that read cachegrind data do so inside a tool of their
//! own (cargo-profiler parses `cg_annotate`'s printed text; yab and tak-cli
//! read the out file inside their benchmark runner and CLI), and pulling a
//! tool in for five kinds of line is not worth a dependency. This reader
//! keeps only what the check needs (Ir per file, the total) and is strict
//! about it: a cost line that does not parse is an error naming its line, and
//! the counts must add up to the file's own `summary:`, so a misread file can
//! never pass as a clean row.

use std::collections::BTreeMap;
use std::path::Path;

/// Instruction counts of one cachegrind run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Instructions (Ir) executed on each source file's lines, keyed by the
    /// file name as cachegrind wrote it (`???` for code without line tables).
    pub files: BTreeMap<String, u64>,
    /// All instructions of the run: the sum over every file.
    pub total_ir: u64,
}

impl Profile {
    /// Instructions on the lines of files under `dir`: files named by an
    /// absolute path below `root.join(dir)`, or by a relative path starting
    /// with `dir` (`crates/workloads`).
    pub fn ir_under(&self, root: &Path, dir: &str) -> u64 {
        let absolute = root.join(dir);
        self.files
            .iter()
            .filter(|(file, _)| {
                let p = Path::new(file.as_str());
                if p.is_absolute() {
                    p.starts_with(&absolute)
                } else {
                    p.starts_with(dir)
                }
            })
            .map(|(_, ir)| ir)
            .sum()
    }
}

/// Reads and parses the out file at `path`.
pub fn read(path: &Path) -> Result<Profile, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses the text of a cachegrind out file.
pub fn parse(text: &str) -> Result<Profile, String> {
    let mut ir_index: Option<usize> = None;
    let mut file: Option<&str> = None;
    let mut files: BTreeMap<String, u64> = BTreeMap::new();
    let mut summary: Option<u64> = None;
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        if let Some(events) = line.strip_prefix("events:") {
            let index = events.split_whitespace().position(|e| e == "Ir");
            ir_index = Some(index.ok_or_else(|| format!("line {n}: no Ir event in `{line}`"))?);
        } else if let Some(name) = line.strip_prefix("fl=") {
            file = Some(name);
        } else if line.starts_with("fn=") {
            // Functions are not needed: costs are kept per file.
        } else if line.starts_with(|c: char| c.is_ascii_digit()) {
            let ir = ir_count(line, ir_index, 1).map_err(|e| format!("line {n}: {e}"))?;
            let name = file.ok_or_else(|| format!("line {n}: a cost line before any `fl=`"))?;
            *files.entry(name.to_owned()).or_default() += ir;
        } else if let Some(totals) = line.strip_prefix("summary:") {
            summary =
                Some(ir_count(totals.trim(), ir_index, 0).map_err(|e| format!("line {n}: {e}"))?);
        }
        // Other header lines (`desc:`, `cmd:`, `version:`, …) are not needed.
    }
    if ir_index.is_none() {
        return Err("no `events:` line: not a cachegrind out file".into());
    }
    let total_ir = files.values().sum();
    match summary {
        Some(s) if s != total_ir => Err(format!(
            "the cost lines add up to {total_ir} instructions, the summary says {s}"
        )),
        _ => Ok(Profile { files, total_ir }),
    }
}

/// The Ir count of a cost line whose counts start at field `first` (1 after
/// the line number, 0 for the summary); a left-out trailing count is 0.
fn ir_count(line: &str, ir_index: Option<usize>, first: usize) -> Result<u64, String> {
    let index = ir_index.ok_or("a cost line before the `events:` line")?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    for f in &fields {
        if f.parse::<u64>().is_err() {
            return Err(format!("`{f}` is not a count in `{line}`"));
        }
    }
    if fields.len() < first {
        return Err(format!("`{line}` has no line number"));
    }
    Ok(fields
        .get(first + index)
        .and_then(|f| f.parse().ok())
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{parse, read};

    const SAMPLE: &str = "\
desc: I1 cache:         32768 B, 64 B, 8-way associative
cmd: /w/target/bench-matrix/bin/allocmux-runner-slab --workload larson --quick
events: Ir
fl=/w/crates/workloads/src/workloads/larson.rs
fn=allocmux_workloads::workloads::larson::run
10 100
11 50
fl=/w/crates/slab/src/lib.rs
fn=allocmux_workloads::workloads::larson::run
40 7
fl=???
fn=_start
0 3
fl=crates/workloads/src/block.rs
fn=main
5 20
fl=/w/crates/workloads-extra/src/lib.rs
fn=main
1 1000
fl=/w/crates/workloads/src/workloads/larson.rs
fn=allocmux_workloads::workloads::larson::other
12 30

summary: 1210
";

    #[test]
    fn sums_instructions_per_file_and_under_a_directory() {
        let p = parse(SAMPLE).unwrap();
        assert_eq!(p.total_ir, 1210);
        assert_eq!(p.files["/w/crates/workloads/src/workloads/larson.rs"], 180);
        assert_eq!(p.files["???"], 3);
        // Larson's two blocks and the relative block.rs; not the slab's lines
        // nor a directory whose name only starts the same.
        assert_eq!(p.ir_under(Path::new("/w"), "crates/workloads"), 200);
        assert_eq!(p.ir_under(Path::new("/elsewhere"), "crates/workloads"), 20);
    }

    #[test]
    fn reads_a_file_and_reports_where_it_is_wrong() {
        let dir = tempfile::TempDir::with_prefix("xtask-cachegrind-test-").unwrap();
        let path = dir.path().join("cachegrind.out");
        std::fs::write(&path, SAMPLE).unwrap();
        assert_eq!(read(&path).unwrap().total_ir, 1210);
        assert!(read(&dir.path().join("missing")).is_err());

        let bad = SAMPLE.replace("11 50", "11 5x");
        let err = parse(&bad).unwrap_err();
        assert!(err.contains("line 7") && err.contains("5x"), "{err}");
        let short = SAMPLE.replace("summary: 1210", "summary: 1211");
        assert!(parse(&short).unwrap_err().contains("1210"));
        assert!(parse("fl=a.rs\n1 2\n").unwrap_err().contains("events"));
        assert!(parse("events: Ir\n1 2\n")
            .unwrap_err()
            .contains("before any `fl=`"));
        assert!(parse("events: Dr Dw\n").unwrap_err().contains("no Ir"));
    }

    #[test]
    fn ir_is_found_among_several_events_and_left_out_counts_are_zero() {
        let text = "events: Dr Ir Dw\nfl=a.rs\nfn=f\n1 5 7 9\n2 5\nsummary: 10 7 9\n";
        let p = parse(text).unwrap();
        assert_eq!(p.total_ir, 7);
    }
}
