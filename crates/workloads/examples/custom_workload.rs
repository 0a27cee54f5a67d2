//! A team's own workload, gated without forking allocmux: a binary that uses
//! the façade as its global allocator, defines a [`Workload`] for its own code
//! and prints the one JSON line `cargo xtask bench-gate` reads (`ops_per_sec`,
//! and with the façade's `stats` feature the allocation counts the
//! `allocations` method compares: build it with `--features allocmux/stats`).
//!
//! ```sh
//! cargo run --release -p allocmux-workloads --example custom_workload
//! ```
//!
//! and in `ci/gate.toml`:
//!
//! ```toml
//! [[cell]]
//! workload = "my-parser"
//! method = "throughput"
//! build = ["cargo", "build", "--release", "-p", "allocmux-workloads", "--example", "custom_workload"]
//! command = ["target/release/examples/custom_workload"]
//! ```
//!
//! In your own crate, depend on `allocmux` (with the backend feature you ship)
//! and `allocmux-workloads`, and put the same code in a `[[bin]]` or example.

use allocmux_workloads::{Checksum, Outcome, Params, PatternClass, Workload};

/// Stand-in for the team's code: tokenises generated lines into owned
/// `String`s and groups them, the way a small parser would.
fn parse_lines(params: &Params) -> Outcome {
    let mut rng = allocmux_workloads::Rng::new(params.seed);
    let mut sum = Checksum::default();
    let mut operations = 0;
    for _ in 0..params.iterations {
        let words = rng.range(params.min_size, params.max_size);
        let line: String = (0..words)
            .map(|i| format!("w{} ", rng.below(1000) + i as u64))
            .collect();
        let tokens: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        operations += tokens.len() as u64 + 2;
        sum.add(tokens.iter().map(|t| t.len() as u64).sum());
    }
    Outcome {
        operations,
        checksum: sum.value(),
    }
}

/// The workload, described like the registry's own.
static MY_PARSER: Workload = Workload {
    name: "my-parser",
    description: "our log-line tokeniser: short-lived owned Strings",
    class: PatternClass::RustIdioms,
    default: Params {
        threads: 1,
        iterations: 200_000,
        min_size: 4,
        max_size: 24,
        seed: 42,
    },
    quick: Params {
        threads: 1,
        iterations: 20_000,
        min_size: 4,
        max_size: 24,
        seed: 42,
    },
    multithreaded: false,
    hidden: false,
    run: parse_lines,
};

#[global_allocator]
static GLOBAL: allocmux::Allocator = allocmux::Allocator;

fn main() {
    allocmux::reset_stats_if_enabled();
    let mut record = allocmux_workloads::measure(&MY_PARSER, MY_PARSER.quick, allocmux::BACKEND);
    record.stats = allocmux::stats_if_enabled().map(|s| allocmux_workloads::AllocCounters {
        allocations: s.allocations,
        deallocations: s.deallocations,
        reallocations: s.reallocations,
        bytes_current: s.bytes_current,
        bytes_peak: s.bytes_peak,
        bytes_allocated: s.bytes_allocated,
    });
    match serde_json::to_string(&record) {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("custom_workload: cannot encode the record: {e}");
            std::process::exit(2);
        }
    }
}
