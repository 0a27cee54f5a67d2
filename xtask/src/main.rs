//! `cargo xtask`: the project's only script. Parses the command line and hands
//! each task to its own module.

mod cmd;
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
    /// Build the runner once per backend and run the workload matrix (not implemented yet).
    BenchMatrix,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Test(args) => test::run(&args),
        Task::BenchMatrix => {
            eprintln!("cargo xtask bench-matrix: not implemented yet (the workload matrix is being built; see the open issue).");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
