//! The runner's command line and how it turns into a workload's [`Params`].

use allocmux_workloads::{Params, Workload};
use clap::Parser;

/// Runs one workload of the allocmux matrix once and prints one JSON line.
#[derive(Debug, Parser)]
#[command(name = "allocmux-runner", version, about)]
pub struct Cli {
    /// Workload to run (see --list).
    #[arg(long, value_name = "NAME", required_unless_present_any = ["list", "backend_info"])]
    pub workload: Option<String>,
    /// Use the workload's quick parameters instead of its default (full) ones.
    #[arg(long)]
    pub quick: bool,
    /// Override the number of worker threads (multi-threaded workloads only).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
    /// Override the workload's iteration count.
    #[arg(long, value_name = "N")]
    pub iterations: Option<u64>,
    /// Override the seed of the workload's random numbers.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Print the registry as JSON lines instead of running a workload.
    #[arg(long, conflicts_with = "workload")]
    pub list: bool,
    /// Print the backend this binary allocates with (and its version) as JSON.
    #[arg(long, conflicts_with_all = ["workload", "list"])]
    pub backend_info: bool,
}

impl Cli {
    /// The parameters to run `workload` with: quick or default, then overrides.
    pub fn params(&self, workload: &Workload) -> Params {
        let mut p = if self.quick {
            workload.quick
        } else {
            workload.default
        };
        if let Some(t) = self.threads {
            if workload.multithreaded {
                p.threads = t as usize;
            }
        }
        if let Some(i) = self.iterations {
            p.iterations = i;
        }
        if let Some(s) = self.seed {
            p.seed = s;
        }
        p
    }
}
