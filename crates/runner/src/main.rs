//! `allocmux-runner`: runs one workload once with the allocator chosen at build
//! time and prints one JSON [`RunRecord`] line (or the registry with `--list`).
//!
//! The allocator is the façade's [`allocmux::Allocator`], whose backend is the
//! Cargo feature this binary was built with. Only the workload run itself is
//! timed; peak RSS is the whole process's, from `getrusage`. After the run the
//! runner idles and records how much memory the backend gives back (`idle.rs`).

mod cli;
mod idle;
#[cfg(feature = "planted-slowdown")]
mod planted;

use std::io::Write;
use std::process::ExitCode;

use allocmux_workloads::{Params, RunRecord, Workload};
use clap::Parser;

use cli::Cli;

#[cfg(not(feature = "planted-slowdown"))]
#[global_allocator]
static GLOBAL: allocmux::Allocator = allocmux::Allocator;

#[cfg(feature = "planted-slowdown")]
#[global_allocator]
static GLOBAL: planted::Planted = planted::Planted;

fn main() -> ExitCode {
    let cli = Cli::parse();
    #[cfg(feature = "planted-slowdown")]
    planted::init();
    if cli.list {
        return list();
    }
    if cli.backend_info {
        return backend_info();
    }
    let Some(name) = cli.workload.as_deref() else {
        eprintln!("allocmux-runner: give --workload NAME or --list");
        eprintln!("valid workloads: {}", valid_names());
        return ExitCode::from(2);
    };
    let Some(workload) = allocmux_workloads::find(name) else {
        eprintln!("allocmux-runner: unknown workload {name:?}");
        eprintln!("valid workloads: {}", valid_names());
        return ExitCode::from(2);
    };
    let params = cli.params(workload);
    if cli.threads.is_some() && !workload.multithreaded {
        eprintln!(
            "allocmux-runner: {} is single-threaded; --threads ignored",
            workload.name
        );
    }
    let mut record = run(workload, params);
    record.rss_after_idle = idle::measure(cli.quick);
    print_line(&serde_json::to_string(&record).expect("a RunRecord serializes"))
}

/// Runs `workload` once and measures it, with the façade's counters when
/// the `stats` layer is compiled in.
fn run(workload: &Workload, params: Params) -> RunRecord {
    #[cfg(feature = "stats")]
    {
        allocmux::reset_stats();
        allocmux_workloads::extras::set_live_bytes_probe(|| allocmux::stats().bytes_current);
    }
    #[allow(unused_mut)] // filled only with the `stats` feature
    let mut record = allocmux_workloads::measure(workload, params, allocmux::BACKEND);
    #[cfg(feature = "stats")]
    {
        record.stats = Some(counters(allocmux::stats()));
    }
    record
}

/// The façade's counters as the record's type.
#[cfg(feature = "stats")]
fn counters(s: allocmux::Stats) -> allocmux_workloads::AllocCounters {
    allocmux_workloads::AllocCounters {
        allocations: s.allocations,
        deallocations: s.deallocations,
        reallocations: s.reallocations,
        bytes_current: s.bytes_current,
        bytes_peak: s.bytes_peak,
        bytes_allocated: s.bytes_allocated,
    }
}

/// Prints the registry, one JSON object per workload.
fn list() -> ExitCode {
    let mut out = String::new();
    for w in allocmux_workloads::all() {
        let line = serde_json::json!({
            "name": w.name,
            "description": w.description,
            "class": w.class.name(),
            "multithreaded": w.multithreaded,
            "hidden": w.hidden,
            "quick": w.quick,
            "default": w.default,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    print_text(&out)
}

/// Prints which backend this binary allocates with, as one JSON line, with the
/// `allocmux-built-from:PACKAGE=DIRECTORY;` mark of each of allocmux's crates in
/// it (`built_from`), which the harness checks against its checkout.
fn backend_info() -> ExitCode {
    const OWN: &str = concat!(
        "allocmux-built-from:",
        env!("CARGO_PKG_NAME"),
        "=",
        env!("CARGO_MANIFEST_DIR"),
        ";"
    );
    let built_from: Vec<&str> = [OWN, allocmux_workloads::BUILT_FROM]
        .into_iter()
        .chain(allocmux::built_from())
        .collect();
    let info = serde_json::json!({
        "backend": allocmux::BACKEND,
        "version": allocmux::backend_version(),
        "stats": allocmux::STATS_ENABLED,
        "built_from": built_from,
    });
    print_line(&info.to_string())
}

/// The names of the matrix's workloads (hidden ones last, marked).
fn valid_names() -> String {
    let all = allocmux_workloads::all();
    let visible = all.iter().filter(|w| !w.hidden).map(|w| w.name.to_string());
    let hidden = all
        .iter()
        .filter(|w| w.hidden)
        .map(|w| format!("{} (hidden)", w.name));
    visible.chain(hidden).collect::<Vec<_>>().join(", ")
}

/// Prints one line to stdout; a closed pipe is an error exit, not a panic.
fn print_line(line: &str) -> ExitCode {
    print_text(&format!("{line}\n"))
}

/// Writes `text` to stdout and flushes it.
fn print_text(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("allocmux-runner: writing to stdout: {e}");
            ExitCode::FAILURE
        }
    }
}
