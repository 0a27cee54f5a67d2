//! How honest the gate's throughput intervals are: reads the `gate.json` of
//! many runs of `bench-gate --method throughput` on an unchanged tree (or with
//! a planted slowdown), recomputes each cell's interval from the stored pairs
//! with both interval methods and several pair counts, and counts how often
//! the 95 % interval excludes "no change" (for an unchanged tree this should
//! be about 5 % of cell-runs) and how often it shows a regression beyond the
//! threshold (for a planted slowdown, the detection rate).
//!
//! `cargo run --release -p allocmux-harness --example gate_coverage --
//! target/gate/coverage 0.03`

use std::path::{Path, PathBuf};

use allocmux_harness::gate::stats::{bootstrap, hac_t_interval, RatioEstimate};

fn gate_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            gate_files(&p, out);
        } else if p.file_name().is_some_and(|n| n == "gate.json") {
            out.push(p);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, threshold] = args.as_slice() else {
        eprintln!("usage: gate_coverage DIR THRESHOLD");
        std::process::exit(2);
    };
    let threshold: f64 = threshold
        .parse()
        .expect("THRESHOLD is a fraction, e.g. 0.03");
    let mut files = Vec::new();
    gate_files(Path::new(dir), &mut files);
    files.sort();
    type Method = (&'static str, fn(&[f64]) -> RatioEstimate);
    let methods: [Method; 2] = [
        ("bootstrap", |r| bootstrap(r, 0.95, 10_000, 0x6A7E)),
        ("hac-t", |r| hac_t_interval(r, 0.95)),
    ];
    let mut rows: Vec<(String, usize, usize, usize, usize)> = Vec::new();
    for (name, f) in methods {
        for pairs in [10, 20, 30, 60] {
            let (mut n, mut excl, mut reg, mut by_cell) = (0, 0, 0, Vec::new());
            for file in &files {
                let text = std::fs::read_to_string(file).unwrap_or_default();
                let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                for c in v["cells"].as_array().into_iter().flatten() {
                    let b: Vec<f64> = c["base_samples"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|x| x.as_f64())
                        .collect();
                    let s: Vec<f64> = c["candidate_samples"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|x| x.as_f64())
                        .collect();
                    if b.len() < pairs || s.len() < pairs {
                        continue;
                    }
                    let ratios: Vec<f64> =
                        s.iter().zip(&b).take(pairs).map(|(c, b)| c / b).collect();
                    let est = f(&ratios);
                    n += 1;
                    let excludes = est.low > 1.0 || est.high < 1.0;
                    excl += usize::from(excludes);
                    reg += usize::from(est.high < 1.0 - threshold);
                    if excludes {
                        by_cell.push(c["cell"].as_str().unwrap_or("?").to_owned());
                    }
                }
            }
            if n > 0 {
                println!(
                    "{name:9} {pairs:2} pairs: {n:3} cell-runs, interval excludes 1: {excl:3} ({:.1} %), regression below −{:.0} %: {reg:3} ({:.1} %)  {:?}",
                    100.0 * excl as f64 / n as f64,
                    threshold * 100.0,
                    100.0 * reg as f64 / n as f64,
                    by_cell
                );
                rows.push((name.to_owned(), pairs, n, excl, reg));
            }
        }
    }
    if rows.is_empty() {
        eprintln!("no gate.json with paired samples under {dir}");
    }
}
