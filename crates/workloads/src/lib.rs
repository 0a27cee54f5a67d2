//! The shared workload matrix: a registry of allocation patterns of real programs.
//!
//! Each workload is a plain function doing a fixed amount of work (iteration
//! counts, never a duration) from a fixed seed, and returns an [`Outcome`]
//! whose checksum is identical across allocators and thread schedules for the
//! same [`Params`]. The runner binary runs one workload per process and prints a
//! [`RunRecord`].

mod block;
mod checksum;
mod class;
pub mod extras;
mod measure;
mod record;
mod registry;
mod rng;
mod rss;
mod timer;
pub mod workloads;

pub use block::Block;
pub use checksum::{mix64, Checksum};
pub use class::PatternClass;
pub use measure::{measure, run_workload};
pub use record::{
    AllocCounters, BackendMemory, EndOfWork, IdleRss, LatencyReport, Params, Percentiles, RunRecord,
};
pub use registry::{all, find, Outcome, Workload};
pub use rng::Rng;
pub use rss::{lazy_free_bytes, peak_rss_bytes, resident_bytes};

/// `allocmux-built-from:PACKAGE=DIRECTORY;`: this crate's package name and the
/// directory Cargo compiled it from, kept in the runner so a build can be
/// checked against the checkout it is meant to come from.
pub const BUILT_FROM: &str = concat!(
    "allocmux-built-from:",
    env!("CARGO_PKG_NAME"),
    "=",
    env!("CARGO_MANIFEST_DIR"),
    ";"
);
