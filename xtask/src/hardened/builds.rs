//! The builds `hardened-cost` compares: the plain and hardened slab, and with
//! `--with-mimalloc` plain mimalloc and its secure mode (the façade's
//! `mimalloc-secure`); how each is built and checked, and the order a row's runs
//! take in a round.

use std::path::{Path, PathBuf};

use allocmux::Backend;
use allocmux_harness::matrix::{
    backend_version, build_runner, build_variant, runner_path, variant_path, SourceAge,
};
use allocmux_harness::progress::announced_build;
use allocmux_harness::Paths;

/// One build's throughput in a round of a row, per [`Build::index`] (`None`: not run,
/// or the run failed).
pub type Runs = [Option<f64>; Build::COUNT];

/// A runner build the command measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// The slab as the matrix builds it.
    Plain,
    /// The same tree with the slab's hardened mode.
    Hardened,
    /// mimalloc as the matrix builds it.
    Mimalloc,
    /// The same tree with mimalloc's secure mode (`allocmux/mimalloc-secure`).
    MimallocSecure,
}

impl Build {
    /// How many builds there are.
    pub const COUNT: usize = 4;
    /// The slab's pair, always measured.
    pub const SLAB: [Build; 2] = [Build::Plain, Build::Hardened];
    /// All four, with `--with-mimalloc`.
    pub const ALL: [Build; 4] = [
        Build::Plain,
        Build::Hardened,
        Build::Mimalloc,
        Build::MimallocSecure,
    ];

    /// The name in results and messages.
    pub fn name(self) -> &'static str {
        match self {
            Build::Plain => "plain",
            Build::Hardened => "hardened",
            Build::Mimalloc => "mimalloc",
            Build::MimallocSecure => "mimalloc-secure",
        }
    }

    /// The build named `name` in a `runs.jsonl`.
    pub fn from_name(name: &str) -> Option<Build> {
        Build::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Index into [`Runs`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The backend, the runner's variant name and the façade feature selecting it
    /// (`None`: the matrix's own runner of that backend).
    fn recipe(self) -> (Backend, Option<(&'static str, &'static str)>) {
        match self {
            Build::Plain => (Backend::Slab, None),
            Build::Hardened => (
                Backend::Slab,
                Some(("slab-hardened", "allocmux/slab-hardened")),
            ),
            Build::Mimalloc => (Backend::Mimalloc, None),
            Build::MimallocSecure => (
                Backend::Mimalloc,
                Some(("mimalloc-secure", "allocmux/mimalloc-secure")),
            ),
        }
    }

    /// The word a runner's `--backend-info` version carries in this build's mode and
    /// lacks in the other build of its backend.
    fn mode_word(self) -> &'static str {
        match self {
            Build::Plain | Build::Hardened => "hardened",
            Build::Mimalloc | Build::MimallocSecure => "secure",
        }
    }

    /// Whether the runner's version must carry [`Build::mode_word`].
    fn is_secure_mode(self) -> bool {
        matches!(self, Build::Hardened | Build::MimallocSecure)
    }

    /// Where this build's runner lives.
    fn path(self, paths: &Paths) -> PathBuf {
        match self.recipe() {
            (backend, None) => runner_path(paths, backend),
            (_, Some((name, _))) => variant_path(paths, name),
        }
    }
}

/// The order of a row's runs in a round: `builds` rotated by `row + round`, so each
/// build goes first in turn from round to round (with two builds, they alternate).
pub fn round_order(builds: &[Build], row: usize, round: u32) -> Vec<Build> {
    let mut order = builds.to_vec();
    if !order.is_empty() {
        let by = (row + round as usize) % order.len();
        order.rotate_left(by);
    }
    order
}

/// Builds (or, with `reuse`, finds up to date) each of `builds`' runners and checks
/// that each reports the build it is meant to be; the paths, by [`Build::index`].
pub fn runners(
    builds: &[Build],
    reuse: bool,
    paths: &Paths,
    logs: &Path,
) -> Result<[Option<PathBuf>; Build::COUNT], String> {
    let sources = reuse.then(|| SourceAge::of(&paths.source));
    let mut found: [Option<PathBuf>; Build::COUNT] = Default::default();
    for (i, &build) in builds.iter().enumerate() {
        let path = build.path(paths);
        let reused = sources.as_ref().is_some_and(|s| s.reusable(&path));
        if !reused {
            let (backend, variant) = build.recipe();
            match variant {
                None => announced_build(
                    i,
                    builds.len(),
                    &format!("runner with {}", backend.name()),
                    backend.name(),
                    || build_runner(paths, backend, false, logs),
                )?,
                Some((name, feature)) => announced_build(
                    i,
                    builds.len(),
                    &format!("runner with {name}"),
                    name,
                    || build_variant(paths, backend, name, &[feature], logs),
                )?,
            };
        }
        let version = backend_version(&path).unwrap_or_default();
        if version.contains(build.mode_word()) != build.is_secure_mode() {
            let what_next = if reused {
                "build again without --no-build"
            } else {
                "it was built just now, so the façade's features did not select that build"
            };
            return Err(format!(
                "{} reports version `{version}`, which is not the {} build; {what_next}",
                path.display(),
                build.name()
            ));
        }
        found[build.index()] = Some(path);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::{round_order, Build};

    #[test]
    fn each_row_alternates_which_build_runs_first() {
        for row in 0..4 {
            let firsts: Vec<Build> = (0..4)
                .map(|round| round_order(&Build::SLAB, row, round)[0])
                .collect();
            assert_ne!(firsts[0], firsts[1]);
            assert_eq!(firsts[0], firsts[2]);
            assert_ne!(firsts[2], firsts[3]);
        }
        assert_ne!(
            round_order(&Build::SLAB, 0, 0)[0],
            round_order(&Build::SLAB, 1, 0)[0]
        );
    }

    #[test]
    fn with_four_builds_each_goes_first_once_in_four_rounds() {
        let firsts: Vec<Build> = (0..4)
            .map(|round| round_order(&Build::ALL, 3, round)[0])
            .collect();
        for b in Build::ALL {
            assert_eq!(firsts.iter().filter(|&&f| f == b).count(), 1, "{firsts:?}");
        }
        assert_eq!(round_order(&Build::ALL, 1, 2).len(), 4);
    }

    #[test]
    fn names_round_trip() {
        for b in Build::ALL {
            assert_eq!(Build::from_name(b.name()), Some(b));
        }
        assert_eq!(Build::from_name("slab"), None);
    }
}
