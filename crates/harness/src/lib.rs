//! allocmux's measuring engine, shared by `cargo xtask` (the project's own
//! tasks) and `cargo allocmux` (the installable subcommand).
//!
//! | module | what it owns |
//! |---|---|
//! | [`matrix`] | the workload matrix: runner builds per backend, cell plan, shuffled rounds with a row's backends back to back |
//! | [`compare`] | a user's own program under every backend, built with the façade or preloaded |
//! | [`merge`] | joining the results of shards |
//! | [`gate`] | the CI gate: base vs candidate, instruction counts and paired throughput |
//! | [`results`] | `results.json`: the runs and what they ran on |
//! | [`report`] | terminal table, `report.md`, `report.html` with charts, `results.csv` |
//! | [`process`] | one measured child process: time limit, output, `wait4` usage |
//! | [`sampler`] | the child's resident memory over time, read from `/proc` |
//! | [`cargo_build`] | one release build of one executable, copied out |
//!
//! Every command takes its directories from a [`Paths`], so the same code
//! runs inside allocmux's repository and from any directory.

pub mod args;
pub mod cargo_build;
pub mod cmd;
pub mod compare;
pub mod gate;
pub mod machine;
pub mod matrix;
pub mod merge;
pub mod numbers;
pub mod paths;
pub mod process;
pub mod progress;
pub mod provenance;
pub mod report;
pub mod results;
pub mod sampler;

pub use paths::Paths;
