//! What sampling a run's resident memory costs the run: runs a runner binary
//! on each workload in pairs, one run sampled every 10 ms and one not, in
//! alternating order, and prints the median ratio of the throughput each
//! reports (sampled ÷ unsampled) with its min–max.
//!
//! `cargo run --release -p allocmux-harness --example sampling_cost --
//! target/bench-matrix/bin/allocmux-runner-slab 10 larson mstress …`

use std::process::Command;
use std::time::Duration;

use allocmux_harness::numbers::{geometric_mean, Spread};
use allocmux_harness::process::run_sampled;

fn ops_per_sec(runner: &str, workload: &str, sample: Option<Duration>) -> f64 {
    let mut c = Command::new(runner);
    c.args(["--workload", workload])
        .env("ALLOCMUX_IDLE_MS", "none");
    let f = run_sampled(&mut c, Duration::from_secs(600), sample);
    let line = f
        .stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or("{}");
    let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
    v["ops_per_sec"].as_f64().unwrap_or(f64::NAN)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [runner, pairs, workloads @ ..] = args.as_slice() else {
        eprintln!("usage: sampling_cost RUNNER PAIRS WORKLOAD…");
        std::process::exit(2);
    };
    let pairs: usize = pairs.parse().expect("PAIRS is a number");
    let mut medians = Vec::new();
    for w in workloads {
        let mut ratios = Vec::new();
        for i in 0..pairs {
            let on = Some(Duration::from_millis(10));
            let (a, b) = if i % 2 == 0 {
                let a = ops_per_sec(runner, w, on);
                (a, ops_per_sec(runner, w, None))
            } else {
                let b = ops_per_sec(runner, w, None);
                (ops_per_sec(runner, w, on), b)
            };
            ratios.push(a / b);
        }
        let s = Spread::of(&ratios).expect("pairs ≥ 1");
        println!(
            "{w:16} sampled ÷ unsampled {:.3} ({:.3}–{:.3})",
            s.median, s.min, s.max
        );
        medians.push(s.median);
    }
    if let Some(g) = geometric_mean(&medians) {
        println!(
            "geometric mean {g:.3} over {} workloads, {pairs} pairs each",
            medians.len()
        );
    }
}
