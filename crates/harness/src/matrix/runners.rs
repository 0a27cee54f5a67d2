//! The matrix's runner binaries, one per backend: all built into one target
//! directory, so common crates and each C allocator compile once, and copied
//! out under the backend's own name.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use allocmux::Backend;

use crate::cargo_build::{self, BuildRequest, TargetKind};
use crate::paths::Paths;
use crate::provenance;

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

/// The newest source of a tree (`.rs`, `.c`, `.h`, `Cargo.toml`, `Cargo.lock`;
/// `target/` and hidden directories left out), found once, against which
/// `--no-build` judges each runner. Measuring a binary of an older tree against a
/// fresh one would compare two different builds under one name.
pub struct SourceAge {
    root: PathBuf,
    newest: Option<(PathBuf, SystemTime)>,
}

impl SourceAge {
    /// Walks `root` for its most recently modified source.
    pub fn of(root: &Path) -> SourceAge {
        SourceAge {
            root: root.to_path_buf(),
            newest: newest_source(root),
        }
    }

    /// Why `runner` cannot be reused: it is missing, or a source changed after it
    /// was built. `None` when it may be reused.
    pub fn stale_reason(&self, runner: &Path) -> Option<String> {
        let built = match std::fs::metadata(runner).and_then(|m| m.modified()) {
            Ok(t) => t,
            Err(_) => return Some(format!("{} does not exist", runner.display())),
        };
        let (newest, when) = self.newest.as_ref()?;
        (*when > built).then(|| {
            format!(
                "{} changed after {} was built",
                newest.strip_prefix(&self.root).unwrap_or(newest).display(),
                runner.display()
            )
        })
    }

    /// Whether `runner` may be reused; if not, says why on stderr (the caller
    /// builds it again).
    pub fn reusable(&self, runner: &Path) -> bool {
        match self.stale_reason(runner) {
            None => true,
            Some(why) => {
                eprintln!("--no-build: {why}, so it is built again");
                false
            }
        }
    }
}

/// The most recently modified source file below `root` and when it changed.
fn newest_source(root: &Path) -> Option<(PathBuf, SystemTime)> {
    let is_source = |p: &Path| {
        matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("rs" | "c" | "h")
        ) || matches!(
            p.file_name().and_then(|n| n.to_str()),
            Some("Cargo.toml" | "Cargo.lock")
        )
    };
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0 || {
                let name = e.file_name().to_string_lossy();
                !name.starts_with('.') && name != "target"
            }
        })
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && is_source(e.path()))
        .filter_map(|e| Some((e.path().to_path_buf(), e.metadata().ok()?.modified().ok()?)))
        .max_by_key(|(_, t)| *t)
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
///
/// A runner with crates compiled in another checkout that shares the target
/// directory (see [`crate::provenance`]) has those crates cleaned and is built again;
/// if that does not help, the build is an error.
pub fn build_runner_in(
    build: RunnerBuild<'_>,
    backend: Backend,
    extra: &[&str],
) -> Result<PathBuf, String> {
    let mut features = runner_features(backend);
    features.extend(extra.iter().map(|f| f.to_string()));
    let request = BuildRequest {
        dir: build.source,
        package: Some("allocmux-runner"),
        target: TargetKind::Bin("allocmux-runner".into()),
        features,
        no_default_features: false,
        target_dir: build.target_dir,
        env: Vec::new(),
        log: build.log,
        what: build.what,
    };
    let built = provenance::build_from_checkout(
        &request.what,
        build.source,
        build.target_dir,
        || cargo_build::build(&request),
        provenance::runner_crates,
    )?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Writes `path` (and its directories) with modification time `at`.
    fn write_at(path: &Path, at: SystemTime) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let f = std::fs::File::create(path).unwrap();
        f.set_modified(at).unwrap();
    }

    #[test]
    fn a_runner_is_reusable_until_a_source_changes_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = SystemTime::now() - Duration::from_secs(3600);
        let runner = dir
            .path()
            .join("target/bench-matrix/bin/allocmux-runner-slab");
        write_at(&dir.path().join("crates/slab/src/heap.rs"), t0);
        write_at(&runner, t0 + Duration::from_secs(60));
        // Newer files that are not sources, or that live in target/ or a hidden
        // directory, do not count.
        let later = t0 + Duration::from_secs(120);
        write_at(&dir.path().join("docs/notes.md"), later);
        write_at(&dir.path().join("target/debug/build/x.rs"), later);
        write_at(&dir.path().join(".git/hooks/x.rs"), later);
        assert_eq!(SourceAge::of(dir.path()).stale_reason(&runner), None);

        write_at(&dir.path().join("crates/slab/src/heap.rs"), later);
        let why = SourceAge::of(dir.path())
            .stale_reason(&runner)
            .expect("stale");
        assert!(
            why.starts_with("crates/slab/src/heap.rs changed after"),
            "{why}"
        );
    }

    #[test]
    fn a_missing_runner_is_not_reusable() {
        let dir = tempfile::tempdir().unwrap();
        let why = SourceAge::of(dir.path()).stale_reason(&dir.path().join("allocmux-runner-slab"));
        assert!(why.expect("missing").ends_with("does not exist"));
    }
}
