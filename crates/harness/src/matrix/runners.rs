//! The matrix's runner binaries, one per backend: all built into one target
//! directory, so common crates and each C allocator compile once, and copied
//! out under the backend's own name.

use std::path::{Path, PathBuf};

use allocmux::Backend;

use crate::cargo_build::{self, BuildRequest, TargetKind};
use crate::paths::Paths;

/// The runner binary built for `backend`.
pub fn runner_path(paths: &Paths, backend: Backend) -> PathBuf {
    variant_path(paths, backend.name())
}

/// The runner binary of the build named `name` (a backend's name, or a
/// variant of one such as `slab-hardened`).
pub fn variant_path(paths: &Paths, name: &str) -> PathBuf {
    paths
        .runner_bin_dir()
        .join(format!("allocmux-runner-{name}"))
}

/// Builds the runner for `backend` in release mode (with the façade's `stats`
/// layer if `stats`) and copies it to [`runner_path`].
pub fn build_runner(
    paths: &Paths,
    backend: Backend,
    stats: bool,
    log_dir: &Path,
) -> Result<PathBuf, String> {
    let extra: &[&str] = if stats { &["stats"] } else { &[] };
    build_variant(paths, backend, backend.name(), extra, log_dir)
}

/// Builds the runner for `backend` with the runner features `extra` added
/// (`stats`, `allocmux/slab-hardened`) into the matrix's target directory and
/// copies it to [`variant_path`] of `name`.
pub fn build_variant(
    paths: &Paths,
    backend: Backend,
    name: &str,
    extra: &[&str],
    log_dir: &Path,
) -> Result<PathBuf, String> {
    build_runner_in(
        RunnerBuild {
            source: &paths.source,
            target_dir: &paths.target_dir,
            log: log_dir.join(format!("build-{name}.log")),
            dest: variant_path(paths, name),
            what: format!("the runner for {name}"),
        },
        backend,
        extra,
    )
}

/// Where one runner build happens and where its binary goes.
pub struct RunnerBuild<'a> {
    /// The source tree (the workspace root) to build from.
    pub source: &'a Path,
    /// Cargo's target directory for the build.
    pub target_dir: &'a Path,
    /// The file cargo's output is written to.
    pub log: PathBuf,
    /// Where the built binary is copied.
    pub dest: PathBuf,
    /// What is being built, for error messages ("the runner for slab").
    pub what: String,
}

/// Builds the runner for `backend` with the runner features `extra` added,
/// in release mode, as `build` says, and copies it to `build.dest`.
pub fn build_runner_in(
    build: RunnerBuild<'_>,
    backend: Backend,
    extra: &[&str],
) -> Result<PathBuf, String> {
    let mut features = runner_features(backend);
    features.extend(extra.iter().map(|f| f.to_string()));
    let built = cargo_build::build(&BuildRequest {
        dir: build.source,
        package: Some("allocmux-runner"),
        target: TargetKind::Bin("allocmux-runner".into()),
        features,
        no_default_features: false,
        target_dir: build.target_dir,
        env: Vec::new(),
        log: build.log,
        what: build.what,
    })?;
    cargo_build::copy_out(&built.executable, &build.dest)?;
    Ok(build.dest)
}

/// The runner's features for `backend`: the façade's own feature, named
/// through it (`allocmux/slab`), since the runner forwards no backend.
fn runner_features(backend: Backend) -> Vec<String> {
    backend
        .feature()
        .map(|f| format!("allocmux/{f}"))
        .into_iter()
        .collect()
}
