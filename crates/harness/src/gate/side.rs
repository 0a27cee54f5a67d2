//! The two sides the gate compares: which runner builds the gated cells need
//! ([`RunnerKind`]), building them in one side's checkout ([`build_side`]), and
//! how a cell runs on a side ([`SideBuild::probe`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use allocmux::Backend;

use super::checkout::{self, Side};
use super::config::{GatedCell, Method};
use super::measure::Probe;
use crate::paths::Paths;

/// Which runner build a cell needs: its backend, for slab instruction cells
/// the logical purge clock that makes instruction counts repeatable, and for
/// allocations cells the façade's counting layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RunnerKind {
    /// Backend of the build.
    pub backend: Backend,
    /// Built with `slab-logical-clock`.
    pub logical_clock: bool,
    /// Built with the runner's `stats` feature (the façade's counting layer).
    pub stats: bool,
}

impl RunnerKind {
    /// The build `cell` runs on (with `backend` instead of the cell's own, for
    /// the system allocator measured beside it).
    pub fn of(cell: &GatedCell, backend: Backend) -> RunnerKind {
        RunnerKind {
            backend,
            logical_clock: cell.method == Method::Instructions && backend == Backend::Slab,
            stats: cell.method == Method::Allocations,
        }
    }

    /// A file-name part: `slab`, `slab-logical-clock`, `slab-stats`.
    fn name(self) -> String {
        let mut name = self.backend.name().to_owned();
        if self.logical_clock {
            name.push_str("-logical-clock");
        }
        if self.stats {
            name.push_str("-stats");
        }
        name
    }

    /// Runner features beyond the backend's own.
    fn features(self) -> Vec<&'static str> {
        let mut f = Vec::new();
        if self.logical_clock {
            f.push("allocmux/slab-logical-clock");
        }
        if self.stats {
            f.push("stats");
        }
        f
    }
}

/// Everything a cell needs to run on one side.
pub struct SideBuild {
    dir: PathBuf,
    runners: BTreeMap<RunnerKind, PathBuf>,
    /// Extra environment for every run on this side (the planted-slowdown knob).
    pub env: Vec<(String, String)>,
}

impl SideBuild {
    /// How to run `cell` with `backend`'s runner on this side.
    pub fn probe(&self, cell: &GatedCell, backend: Backend) -> Probe {
        if let Some(command) = &cell.command {
            let (program, args) = command
                .split_first()
                .expect("config checks commands are non-empty");
            let program = if program.contains('/') {
                self.dir.join(program)
            } else {
                PathBuf::from(program)
            };
            return Probe {
                program,
                args: args.to_vec(),
                dir: self.dir.clone(),
                env: self.env.clone(),
            };
        }
        let workload = cell.workload.expect("registry cell");
        let mut args = vec!["--workload".to_owned(), workload.name.to_owned()];
        if matches!(cell.method, Method::Throughput | Method::PeakRss) {
            args.push("--quick".into());
        }
        if let Some(t) = cell.threads {
            args.extend(["--threads".into(), t.to_string()]);
        }
        if let Some(i) = cell.iterations {
            args.extend(["--iterations".into(), i.to_string()]);
        }
        Probe {
            program: self.runners[&RunnerKind::of(cell, backend)].clone(),
            args,
            dir: self.dir.clone(),
            env: self.env.clone(),
        }
    }
}

/// Builds every runner in `kinds` (with `features` added) and every user
/// cell's build command in the checkout at `src`.
pub fn build_side(
    paths: &Paths,
    src: &Path,
    side: Side,
    cells: &[GatedCell],
    kinds: &[RunnerKind],
    features: &[&str],
) -> Result<SideBuild, String> {
    let mut runners = BTreeMap::new();
    for &kind in kinds {
        eprintln!(
            "[gate] building the {} runner for {} …",
            side.name(),
            kind.name()
        );
        let mut all: Vec<&str> = features.to_vec();
        all.extend(kind.features());
        runners.insert(
            kind,
            checkout::build_runner(paths, src, side, kind.backend, &kind.name(), &all)?,
        );
    }
    let mut built_commands: Vec<&Vec<String>> = Vec::new();
    for cell in cells {
        if let Some(build) = &cell.build {
            if !built_commands.contains(&build) {
                eprintln!(
                    "[gate] building `{}` in the {} checkout …",
                    build.join(" "),
                    side.name()
                );
                checkout::build_command(paths, src, build, side)?;
                built_commands.push(build);
            }
        }
    }
    Ok(SideBuild {
        dir: src.to_path_buf(),
        runners,
        // The runner's idle phase after the workload only costs the gate time.
        env: vec![("ALLOCMUX_IDLE_MS".into(), "none".into())],
    })
}
