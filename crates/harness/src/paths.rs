//! Where the harness finds allocmux's sources and keeps its builds and results:
//! the xtask points it at the repository it lives in, `cargo allocmux` at the
//! clone it was installed from and at the user's own project.

use std::path::{Path, PathBuf};

/// The directories one harness command works with.
#[derive(Debug, Clone)]
pub struct Paths {
    /// allocmux's source tree: the workspace holding `crates/runner` (and, for
    /// the gate, the git repository whose revisions are compared).
    pub source: PathBuf,
    /// The Cargo target directory the runner builds go to.
    pub target_dir: PathBuf,
    /// Where a results directory (`<timestamp>/`, and the `latest` link) goes
    /// when `--out` is not given.
    pub results: PathBuf,
}

impl Paths {
    /// The layout of `cargo xtask` inside allocmux's own workspace at `root`:
    /// builds in `target/`, matrix results in `target/bench-matrix/`.
    pub fn workspace(root: &Path) -> Paths {
        let target_dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|p| if p.is_absolute() { p } else { root.join(p) })
            .unwrap_or_else(|| root.join("target"));
        Paths {
            source: root.to_path_buf(),
            results: target_dir.join("bench-matrix"),
            target_dir,
        }
    }

    /// Where the per-backend runner binaries of the matrix are kept.
    pub fn runner_bin_dir(&self) -> PathBuf {
        self.target_dir.join("bench-matrix/bin")
    }

    /// The gate's scratch directory (base worktree, its builds, logs).
    pub fn gate_dir(&self) -> PathBuf {
        self.target_dir.join("gate")
    }
}

/// The allocmux source tree this harness was built from, if it is still there
/// (`ALLOCMUX_SRC` overrides it): where an installed `cargo allocmux` finds
/// the runner's sources and the façade it tells users to depend on.
pub fn allocmux_source() -> Option<PathBuf> {
    let candidate = match std::env::var_os("ALLOCMUX_SRC") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
    };
    let candidate = candidate.canonicalize().ok()?;
    candidate
        .join("crates/runner/Cargo.toml")
        .is_file()
        .then_some(candidate)
}

/// The façade crate's directory, for the dependency line users paste (the
/// allocmux source tree's `crates/allocmux`, or a placeholder naming where
/// to clone it).
pub fn facade_dir() -> PathBuf {
    allocmux_source()
        .map(|root| root.join("crates/allocmux"))
        .unwrap_or_else(|| PathBuf::from("/path/to/allocmux/crates/allocmux"))
}

/// Where a command run in `cwd` keeps results named `kind` (`matrix`,
/// `compare`) when `--out` is not given: below the current Cargo project's
/// target directory when there is one (`target/allocmux/<kind>`), else
/// `./allocmux-<kind>/`.
pub fn project_results_dir(cwd: &Path, kind: &str) -> PathBuf {
    let out = crate::cmd::cargo(cwd)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output();
    let target = out
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok())
        .and_then(|v| v["target_directory"].as_str().map(PathBuf::from));
    match target {
        Some(t) => t.join("allocmux").join(kind),
        None => cwd.join(format!("allocmux-{kind}")),
    }
}

/// `20261127-074500` from an RFC 3339 time, for directory names.
fn timestamp_dir_name(rfc3339: &str) -> String {
    rfc3339
        .trim_end_matches('Z')
        .replace(['-', ':'], "")
        .replace('T', "-")
}

/// A new run's start time (RFC 3339, whole seconds) and its output directory, created:
/// `out` when the user gave one, else `<results>/<start time>` (`20261127-074500`).
pub fn start_run(out: Option<&Path>, results: &Path) -> Result<(String, PathBuf), String> {
    let started = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let out = out.map_or_else(
        || results.join(timestamp_dir_name(&started)),
        Path::to_path_buf,
    );
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    Ok((started, out))
}

/// Points `<parent of out>/latest` at `out` when `out` lies directly in
/// `results` (best effort: a missing link never fails a run).
pub fn link_latest(results: &Path, out: &Path) {
    if out.parent() != Some(results) {
        return;
    }
    let latest = results.join("latest");
    let _ = std::fs::remove_file(&latest);
    let _ = std::os::unix::fs::symlink(out.file_name().unwrap_or_default(), &latest);
}

#[cfg(test)]
mod tests {
    use super::timestamp_dir_name;

    #[test]
    fn timestamps_become_directory_names() {
        assert_eq!(
            timestamp_dir_name("2026-11-27T07:45:00Z"),
            "20261127-074500"
        );
    }
}
