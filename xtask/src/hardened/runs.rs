//! Reading a hardened-cost run back from its `runs.jsonl` (`--from`), so its summary can
//! be written again (for example with a figure added since): the rows in the matrix's
//! order (workloads as registered, then thread counts), labelled as the matrix labels them.

use std::path::Path;

use serde_json::Value;

use super::builds::{Build, Runs};

/// A row: its workload and thread count.
type RowKey = (String, u64);
/// A row's throughputs, one [`Runs`] per round.
type RowRuns = Vec<Runs>;

/// A run as `runs.jsonl` records it.
pub struct Recorded {
    /// Row labels (`larson ×2`, `glibc-simple`).
    pub labels: Vec<String>,
    /// `ops[row][round][build]`: throughput, `None` for a failed or missing run.
    pub ops: Vec<RowRuns>,
    /// Rounds (the highest round number plus one).
    pub rounds: u32,
    /// The builds the file has lines of (failed runs included).
    pub builds: Vec<Build>,
}

/// The row label of `workload` at `threads`: `workload ×threads` for a multithreaded
/// workload (or one this build does not know), the name alone otherwise.
fn label(workload: &str, threads: u64) -> String {
    match allocmux_workloads::find(workload) {
        Some(w) if !w.multithreaded => workload.to_owned(),
        _ => format!("{workload} ×{threads}"),
    }
}

/// Reads `path`: a `runs.jsonl` file, or a run directory holding one.
pub fn load(path: &Path) -> Result<Recorded, String> {
    let file = if path.is_dir() {
        path.join("runs.jsonl")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    // Rows keyed by (workload, threads), in first-appearance order until sorted below.
    let lines = text.lines().count();
    let mut keys: Vec<RowKey> = Vec::new();
    let mut ops: Vec<RowRuns> = Vec::new();
    let mut builds: Vec<Build> = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let bad = |what: &str| format!("{} line {}: {what}", file.display(), n + 1);
        let v: Value = serde_json::from_str(line).map_err(|e| bad(&e.to_string()))?;
        let workload = v["workload"].as_str().ok_or_else(|| bad("no `workload`"))?;
        let threads = v["threads"].as_u64().ok_or_else(|| bad("no `threads`"))?;
        let round = v["round"].as_u64().ok_or_else(|| bad("no `round`"))?;
        // Every round of a real run has a line of its own, so a round number beyond the
        // file's line count is not one this command wrote (and would size the table).
        let round = usize::try_from(round)
            .ok()
            .filter(|&r| r < lines)
            .ok_or_else(|| bad("`round` is out of range"))?;
        let build = v["build"]
            .as_str()
            .and_then(Build::from_name)
            .ok_or_else(|| {
                let names: Vec<&str> = Build::ALL.iter().map(|b| b.name()).collect();
                bad(&format!("`build` is none of {}", names.join(", ")))
            })?;
        if !builds.contains(&build) {
            builds.push(build);
        }
        let value = (v["status"].as_str() == Some("Ok"))
            .then(|| v["ops_per_sec"].as_f64())
            .flatten();
        let row = match keys
            .iter()
            .position(|(w, t)| w == workload && *t == threads)
        {
            Some(i) => i,
            None => {
                keys.push((workload.to_owned(), threads));
                ops.push(Vec::new());
                keys.len() - 1
            }
        };
        if ops[row].len() <= round {
            ops[row].resize(round + 1, [None; Build::COUNT]);
        }
        ops[row][round][build.index()] = value;
    }
    let rounds = ops.iter().map(Vec::len).max().unwrap_or(0);
    if rounds == 0 {
        return Err(format!("{} holds no runs", file.display()));
    }
    for row in &mut ops {
        row.resize(rounds, [None; Build::COUNT]);
    }
    // The matrix's order: registered workloads first in registry order (unknown ones
    // after them, by name), then ascending thread counts.
    let position = |w: &str| {
        allocmux_workloads::all()
            .iter()
            .position(|x| x.name == w)
            .unwrap_or(usize::MAX)
    };
    let mut rows: Vec<(RowKey, RowRuns)> = keys.into_iter().zip(ops).collect();
    rows.sort_by(|((wa, ta), _), ((wb, tb), _)| {
        (position(wa), wa, ta).cmp(&(position(wb), wb, tb))
    });
    Ok(Recorded {
        labels: rows.iter().map(|((w, t), _)| label(w, *t)).collect(),
        ops: rows.into_iter().map(|(_, o)| o).collect(),
        rounds: rounds as u32,
        builds,
    })
}

#[cfg(test)]
mod tests {
    use super::load;

    #[test]
    fn rows_keep_their_order_and_labels_and_failed_runs_are_gaps() {
        let dir = tempfile::tempdir().unwrap();
        let lines = [
            r#"{"workload":"larson","threads":2,"round":0,"build":"plain","status":"Ok","ops_per_sec":100.0,"error":null}"#,
            r#"{"workload":"larson","threads":2,"round":0,"build":"hardened","status":"Ok","ops_per_sec":90.0,"error":null}"#,
            r#"{"workload":"glibc-simple","threads":1,"round":1,"build":"hardened","status":"Crashed","ops_per_sec":null,"error":"x"}"#,
            r#"{"workload":"glibc-simple","threads":1,"round":1,"build":"plain","status":"Ok","ops_per_sec":50.0,"error":null}"#,
            r#"{"workload":"larson","threads":2,"round":0,"build":"mimalloc-secure","status":"Ok","ops_per_sec":20.0,"error":null}"#,
        ];
        std::fs::write(dir.path().join("runs.jsonl"), lines.join("\n") + "\n").unwrap();
        let r = load(dir.path()).unwrap();
        // larson comes before glibc-simple in the registry, as in the matrix.
        assert_eq!(r.labels, ["larson ×2", "glibc-simple"]);
        assert_eq!(r.rounds, 2);
        assert_eq!(r.builds.len(), 3);
        let none = [None; 4];
        assert_eq!(
            r.ops[0],
            vec![[Some(100.0), Some(90.0), None, Some(20.0)], none]
        );
        assert_eq!(r.ops[1], vec![none, [Some(50.0), None, None, None]]);
    }

    #[test]
    fn a_bad_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("runs.jsonl");
        std::fs::write(&file, "{\"workload\":\"larson\"}\n").unwrap();
        let err = load(&file).err().unwrap();
        assert!(err.contains("runs.jsonl line 1: no `threads`"), "{err}");
        std::fs::write(&file, "").unwrap();
        assert!(load(&file).err().unwrap().contains("holds no runs"));
        std::fs::write(
            &file,
            r#"{"workload":"larson","threads":1,"round":99999999999,"build":"plain","status":"Ok","ops_per_sec":1.0}"#,
        )
        .unwrap();
        let err = load(&file).err().unwrap();
        assert!(err.contains("`round` is out of range"), "{err}");
        std::fs::write(
            &file,
            r#"{"workload":"larson","threads":1,"round":0,"build":"secure","status":"Ok","ops_per_sec":1.0}"#,
        )
        .unwrap();
        let err = load(&file).err().unwrap();
        assert!(
            err.contains("`build` is none of plain, hardened, mimalloc, mimalloc-secure"),
            "{err}"
        );
        let missing = load(&dir.path().join("nope")).err().unwrap();
        assert!(missing.contains("cannot read"), "{missing}");
    }
}
