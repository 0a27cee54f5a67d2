//! Whether a runner was compiled from the checkout it is meant to measure.
//!
//! Cargo judges a workspace crate up to date by its package (named relative to
//! the workspace root) and the modification times of its sources. A build in
//! another checkout of allocmux (a scratch worktree) that shares this target
//! directory therefore leaves compiled crates that Cargo later takes as fresh
//! here, as long as this checkout's files are older: the runner then measures
//! the other checkout's workload or allocator under this one's name. Each
//! runner names the directory each of allocmux's crates in it was compiled from
//! (`--backend-info`, `built_from`); a crate from outside the checkout is
//! cleaned and the runner built again.

use std::path::Path;
use std::process::Command;

use crate::cmd;

/// allocmux's crates in `runner` that were compiled outside `root`, as
/// `(package, directory)`. Empty when every crate is inside, and when the
/// runner does not say (an older runner, or one that does not answer
/// `--backend-info`).
pub fn foreign_crates(runner: &Path, root: &Path) -> Vec<(String, String)> {
    let Ok(out) = Command::new(runner).arg("--backend-info").output() else {
        return Vec::new();
    };
    let Ok(info) = serde_json::from_slice::<serde_json::Value>(&out.stdout) else {
        return Vec::new();
    };
    let Some(crates) = info.get("built_from").and_then(|b| b.as_object()) else {
        return Vec::new();
    };
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    crates
        .iter()
        .filter_map(|(package, dir)| {
            let dir = dir.as_str()?;
            let path = Path::new(dir);
            let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
            (!path.starts_with(&root)).then(|| (package.clone(), dir.to_string()))
        })
        .collect()
}

/// `package (directory)` for each crate, comma-separated, for messages.
pub fn describe(crates: &[(String, String)]) -> String {
    crates
        .iter()
        .map(|(p, d)| format!("{p} ({d})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Removes the release artifacts of `crates`' packages from `target_dir`
/// (`cargo clean --release -p …`), so that the next build compiles them here.
pub fn clean(root: &Path, target_dir: &Path, crates: &[(String, String)]) -> Result<(), String> {
    let mut c = cmd::cargo(root);
    c.args(["clean", "--release", "--target-dir"])
        .arg(target_dir);
    for (package, _) in crates {
        c.args(["-p", package]);
    }
    let out = c
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", cmd::display(&c)))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{}` failed: {}",
            cmd::display(&c),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    use super::*;

    /// A stand-in runner in `dir` whose `--backend-info` prints `info`.
    fn runner_saying(dir: &Path, info: &str) -> PathBuf {
        let path = dir.join("allocmux-runner-slab");
        std::fs::write(&path, format!("#!/bin/sh\necho '{info}'\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn crates_compiled_in_another_checkout_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("allocmux");
        std::fs::create_dir_all(root.join("crates/slab")).unwrap();
        let info = serde_json::json!({
            "backend": "slab",
            "built_from": {
                "allocmux-slab": root.join("crates/slab"),
                "allocmux-workloads": "/elsewhere/wt/crates/workloads",
            },
        });
        let runner = runner_saying(dir.path(), &info.to_string());
        let foreign = foreign_crates(&runner, &root);
        assert_eq!(
            foreign,
            [(
                "allocmux-workloads".to_string(),
                "/elsewhere/wt/crates/workloads".to_string()
            )]
        );
        assert_eq!(
            describe(&foreign),
            "allocmux-workloads (/elsewhere/wt/crates/workloads)"
        );
    }

    #[test]
    fn a_runner_that_does_not_say_passes() {
        let dir = tempfile::tempdir().unwrap();
        let runner = runner_saying(dir.path(), r#"{"backend":"slab","version":"0.1.0"}"#);
        assert!(foreign_crates(&runner, dir.path()).is_empty());
        assert!(foreign_crates(&dir.path().join("missing"), dir.path()).is_empty());
    }
}
