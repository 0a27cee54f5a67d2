//! `cargo xtask`: the project's only script. Parses the command line and hands
//! each task to its own module.

mod cmd;
mod gate;
mod machine;
mod matrix;
mod merge;
mod micro;
mod preload;
mod report;
mod results;
mod test;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.task {
        Task::Test(args) => test::run(args),
        Task::BenchMatrix(args) => matrix::run(args),
        Task::Merge(args) => merge::run(args),
        Task::BenchMicro(args) => micro::run(args),
        Task::BenchGate(args) => gate::run(args),
        Task::PreloadCheck(args) => preload::run_check(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
