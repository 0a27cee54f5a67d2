//! Builds the runner once per backend. All builds share one target directory,
//! so common crates and each C allocator compile once; after each build the
//! binary is copied out under the backend's own name, because the next build
//! overwrites `target/release/allocmux-runner`.

use std::path::{Path, PathBuf};

use allocmux::Backend;

use crate::cmd;

/// Where the per-backend runner binaries are kept.
pub fn bin_dir() -> PathBuf {
    cmd::workspace_root().join("target/bench-matrix/bin")
}

/// The runner binary built for `backend`.
pub fn runner_path(backend: Backend) -> PathBuf {
    bin_dir().join(format!("allocmux-runner-{}", backend.name()))
}

/// Builds the runner for `backend` in release mode (with the façade's `stats`
/// layer if `stats`) and copies it to [`runner_path`]. On failure returns the
/// tail of cargo's output and the log path.
pub fn build_runner(backend: Backend, stats: bool, log_dir: &Path) -> Result<PathBuf, String> {
    // Backends are the façade's features, named through it (`allocmux/slab`): the
    // runner forwards none of them.
    let mut features: Vec<String> = backend
        .feature()
        .map(|f| format!("allocmux/{f}"))
        .into_iter()
        .collect();
    if stats {
        features.push("stats".into());
    }
    let mut c = cmd::cargo();
    c.args(["build", "--release", "-p", "allocmux-runner"]);
    if !features.is_empty() {
        c.args(["--features", &features.join(",")]);
    }
    let log = log_dir.join(format!("build-{}.log", backend.name()));
    let out = cmd::run_logged(&mut c, &log).map_err(|e| e.to_string())?;
    if !out.success {
        return Err(format!(
            "building the runner for {backend} failed ({}):\n{}\nfull log: {}",
            cmd::display(&c),
            cmd::tail(&out.output, 25),
            log.display()
        ));
    }
    let built = cmd::workspace_root().join("target/release/allocmux-runner");
    let dest = runner_path(backend);
    std::fs::create_dir_all(bin_dir()).map_err(|e| e.to_string())?;
    // Copy to a temporary name and rename, so a running cell never sees a half-written file.
    let tmp = dest.with_extension("tmp");
    std::fs::copy(&built, &tmp).map_err(|e| format!("cannot copy {}: {e}", built.display()))?;
    std::fs::rename(&tmp, &dest).map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
    Ok(dest)
}
