//! Whether a build of allocmux's own binaries (the matrix's runners, the
//! preload libraries) was compiled from the checkout it is meant to measure.
//!
//! Cargo names a workspace crate by its path relative to the workspace root and
//! judges it fresh by its sources' modification times. A build in another
//! checkout of allocmux (a scratch worktree) that shares this target directory
//! therefore leaves compiled crates that Cargo later takes as up to date here,
//! as long as this checkout's files are older: the binary then measures the
//! other checkout's workload or allocator under this one's name. Each of
//! allocmux's crates carries an `allocmux-built-from:PACKAGE=DIRECTORY;` mark; a
//! runner prints them with `--backend-info` (`built_from`), a preload library
//! keeps them in an exported static, and one reader finds them in either. A crate from outside the checkout is
//! cleaned and the binary built again ([`build_from_checkout`]).

use std::path::Path;
use std::process::Command;

use crate::cargo_build::Built;
use crate::cmd;

/// `(package, directory)` of each of allocmux's crates a runner names in its
/// `--backend-info` (`built_from`, a list of marks); empty when it names none
/// (an older runner, or one that does not answer).
pub fn runner_crates(runner: &Path) -> Vec<(String, String)> {
    match Command::new(runner).arg("--backend-info").output() {
        Ok(out) => marks_in(&out.stdout),
        Err(_) => Vec::new(),
    }
}

/// `(package, directory)` of every mark in the file at `path` (a preload
/// library); empty when it has none or cannot be read.
pub fn file_crates(path: &Path) -> Vec<(String, String)> {
    std::fs::read(path).map_or_else(|_| Vec::new(), |bytes| marks_in(&bytes))
}

/// `(package, directory)` of every `allocmux-built-from:PACKAGE=DIRECTORY;` mark
/// in `bytes`, each once.
fn marks_in(bytes: &[u8]) -> Vec<(String, String)> {
    const MARK: &[u8] = b"allocmux-built-from:";
    let mut crates = Vec::new();
    let mut rest = bytes;
    while let Some(at) = rest.windows(MARK.len()).position(|w| w == MARK) {
        rest = &rest[at + MARK.len()..];
        let Some(end) = rest.iter().take(4096).position(|&b| b == b';') else {
            continue;
        };
        let entry = String::from_utf8_lossy(&rest[..end]);
        if let Some((package, dir)) = entry.split_once('=') {
            let found = (package.to_string(), dir.to_string());
            if !crates.contains(&found) {
                crates.push(found);
            }
        }
        rest = &rest[end..];
    }
    crates
}

/// The crates of `crates` whose directory lies outside `root`.
pub fn foreign(crates: Vec<(String, String)>, root: &Path) -> Vec<(String, String)> {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    crates
        .into_iter()
        .filter(|(_, dir)| {
            let path = Path::new(dir);
            let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
            !path.starts_with(&root)
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

/// Runs `build`; when `crates_of` finds crates compiled outside `root` in what
/// it built, says so on stderr, cleans them from `target_dir` and runs `build`
/// once more. An error if they still come from elsewhere.
pub fn build_from_checkout(
    what: &str,
    root: &Path,
    target_dir: &Path,
    build: impl Fn() -> Result<Built, String>,
    crates_of: impl Fn(&Path) -> Vec<(String, String)>,
) -> Result<Built, String> {
    let built = build()?;
    let stale = foreign(crates_of(&built.executable), root);
    if stale.is_empty() {
        return Ok(built);
    }
    eprintln!(
        "{what}: {} compiled in another checkout that shares {}; cleaning and building again",
        describe(&stale),
        target_dir.display()
    );
    clean(root, target_dir, &stale)?;
    let built = build()?;
    let still = foreign(crates_of(&built.executable), root);
    if still.is_empty() {
        Ok(built)
    } else {
        Err(format!(
            "{what} still has crates compiled outside {}: {}; give the other checkout its own \
             CARGO_TARGET_DIR",
            root.display(),
            describe(&still)
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
            "built_from": [
                format!("allocmux-built-from:allocmux-slab={};", root.join("crates/slab").display()),
                "allocmux-built-from:allocmux-workloads=/elsewhere/wt/crates/workloads;",
            ],
        });
        let runner = runner_saying(dir.path(), &info.to_string());
        let stale = foreign(runner_crates(&runner), &root);
        assert_eq!(
            stale,
            [(
                "allocmux-workloads".to_string(),
                "/elsewhere/wt/crates/workloads".to_string()
            )]
        );
        assert_eq!(
            describe(&stale),
            "allocmux-workloads (/elsewhere/wt/crates/workloads)"
        );
    }

    #[test]
    fn a_runner_that_does_not_say_passes() {
        let dir = tempfile::tempdir().unwrap();
        let runner = runner_saying(dir.path(), r#"{"backend":"slab","version":"0.1.0"}"#);
        assert!(runner_crates(&runner).is_empty());
        assert!(runner_crates(&dir.path().join("missing")).is_empty());
    }

    #[test]
    fn a_librarys_marks_are_read_from_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("liballocmux_slab.so");
        let mut bytes = b"\x7fELF\0\0junk".to_vec();
        bytes.extend_from_slice(b"allocmux-built-from:allocmux-preload=/co/crates/preload;");
        bytes.extend_from_slice(b"allocmux-built-from:allocmux-slab=/wt/crates/slab;\0more");
        bytes.extend_from_slice(b"allocmux-built-from:allocmux-slab=/wt/crates/slab;");
        std::fs::write(&lib, bytes).unwrap();
        let crates = file_crates(&lib);
        assert_eq!(crates.len(), 2, "{crates:?}");
        assert_eq!(
            foreign(crates, Path::new("/co")),
            [("allocmux-slab".to_string(), "/wt/crates/slab".to_string())]
        );
        assert!(file_crates(&dir.path().join("missing.so")).is_empty());
    }
}
