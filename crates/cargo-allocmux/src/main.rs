//! `cargo allocmux`: measure your own program under every allocator backend,
//! and run allocmux's workload matrix, from any directory.
//!
//! Installed with `cargo install --path crates/cargo-allocmux`, Cargo runs it
//! for `cargo allocmux …` (as `cargo-allocmux allocmux …`). The commands are
//! thin: the measuring engine is the `allocmux-harness` library, which
//! `cargo xtask` shares.
//!
//! Exit codes: 0 everything ran and succeeded, 1 some run failed (the rest
//! completed and is reported), 2 the request could not be carried out (bad
//! input, no façade in the project, no allocmux sources for `matrix`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use allocmux_harness::compare::{self, CompareArgs};
use allocmux_harness::matrix::{self, MatrixArgs};
use allocmux_harness::merge::{self, MergeArgs};
use allocmux_harness::{paths, Paths};
use clap::{Parser, Subcommand};

/// Cargo's view of the command line: `cargo allocmux …`.
#[derive(Parser)]
#[command(name = "cargo", bin_name = "cargo")]
enum Cargo {
    /// Measure your program under every allocator backend.
    Allocmux(Allocmux),
}

/// allocmux: choose a memory allocator from measured data.
#[derive(clap::Args)]
#[command(version, about, long_about = None)]
struct Allocmux {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build this project's program once per backend (or, with --preload, run any
    /// program with each backend's library preloaded), run them interleaved, and
    /// report which allocator suits it.
    Compare(CompareArgs),
    /// Run allocmux's shared workload matrix (the flags of `cargo xtask bench-matrix`).
    Matrix(MatrixArgs),
    /// Join the results of `matrix --shard` runs (or of compares) into one report.
    Merge(MergeArgs),
}

/// Where an installed `cargo allocmux` builds the runner: a cache directory
/// of its own, so no project's `target/` is touched.
fn cache_target_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("allocmux/target")
}

/// allocmux's sources (for the matrix's runner and the preload libraries) and
/// where builds and matrix results go.
fn matrix_paths(cwd: &Path) -> Result<Paths, String> {
    let source = paths::allocmux_source().ok_or_else(|| {
        format!(
            "this command builds from allocmux's sources, and they are not where this cargo-allocmux was \
             installed from ({}). Point ALLOCMUX_SRC at a clone of allocmux.",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").display()
        )
    })?;
    Ok(Paths {
        source,
        target_dir: cache_target_dir(),
        results: paths::project_results_dir(cwd, "matrix"),
    })
}

fn main() -> ExitCode {
    let Cargo::Allocmux(cli) = Cargo::parse();
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot read the current directory: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match &cli.command {
        Command::Compare(args) => compare::run(args, &cwd, matrix_paths(&cwd)),
        Command::Matrix(args) => matrix_paths(&cwd).and_then(|p| matrix::run(args, &p)),
        Command::Merge(args) => merge::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
