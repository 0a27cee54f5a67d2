//! `cargo xtask`: the project's only script. Parses the command line and hands
//! each task to its module: the project's own tasks live here (`test`,
//! `bench-micro`, `preload-check`, `workload-codegen`, `originals`,
//! `hardened-cost`); the measuring engine (`bench-matrix`,
//! `merge`, `bench-gate`) is the `allocmux-harness` library, which `cargo
//! allocmux` shares.

mod cachegrind;
mod codegen;
mod hardened;
mod micro;
mod originals;
mod preload;
mod test;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use allocmux_harness::{gate, matrix, merge, Paths};
use clap::{Parser, Subcommand};

/// The workspace root (the xtask crate lives one level below it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}

/// A `cargo` command run at the workspace root.
pub fn cargo() -> Command {
    allocmux_harness::cmd::cargo(&workspace_root())
}

/// Where the harness builds and writes inside this workspace.
pub fn paths() -> Paths {
    Paths::workspace(&workspace_root())
}

/// allocmux's task runner.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run fmt, clippy and the test suite once per allocator backend.
    Test(test::TestArgs),
    /// Build the runner once per backend, run the workload matrix and write the report.
    BenchMatrix(matrix::MatrixArgs),
    /// Run the criterion micro-benchmarks once per backend and add them to a matrix report.
    BenchMicro(micro::MicroArgs),
    /// Fail a change whose allocation performance regressed (see ci/gate.toml).
    BenchGate(gate::GateArgs),
    /// Join the results of `bench-matrix --shard` runs into one report.
    Merge(merge::MergeArgs),
    /// Build liballocmux_slab.so and run real programs with it preloaded (LD_PRELOAD).
    PreloadCheck(preload::PreloadArgs),
    /// Check under cachegrind that every backend's runner spends the same instructions on workload code.
    WorkloadCodegen(codegen::CodegenArgs),
    /// Build mimalloc-bench's programs (and mimalloc's test-stress) from checkouts and run them under every backend.
    Originals(originals::OriginalsArgs),
    /// Measure the slab's hardened mode against the plain slab, row by row of the matrix.
    HardenedCost(hardened::HardenedArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.task {
        Task::Test(args) => test::run(args),
        Task::BenchMatrix(args) => matrix::run(args, &paths()),
        Task::Merge(args) => merge::run(args),
        Task::BenchMicro(args) => micro::run(args),
        Task::BenchGate(args) => gate::run(args, &paths()),
        Task::PreloadCheck(args) => preload::run_check(args),
        Task::WorkloadCodegen(args) => codegen::run(args, &paths()),
        Task::Originals(args) => originals::run(args, &paths()),
        Task::HardenedCost(args) => hardened::run(args, &paths()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
