//! Builds the runner binaries the gate compares: the candidate from the work
//! tree as it is (uncommitted changes included), the base from a git revision
//! checked out into its own worktree, each with its own target directory so
//! both stay incremental between gate runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use allocmux::Backend;

use crate::cmd;

/// The gate's scratch directory.
pub fn gate_dir() -> PathBuf {
    cmd::workspace_root().join("target/gate")
}

/// Resolves `rev` to a full commit id, or says plainly that it does not exist.
pub fn resolve(rev: &str) -> Result<String, String> {
    let out = Command::new("git")
        .current_dir(cmd::workspace_root())
        .args([
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let sha = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || sha.is_empty() {
        return Err(format!(
            "--base `{rev}`: no such revision in this repository"
        ));
    }
    Ok(sha)
}

/// The default base: the merge base of HEAD with `main` (HEAD itself on main).
pub fn default_base() -> Result<String, String> {
    for main in ["main", "origin/main"] {
        let out = Command::new("git")
            .current_dir(cmd::workspace_root())
            .args(["merge-base", "HEAD", main])
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if out.status.success() {
            return Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned());
        }
    }
    Err("no `main` branch to take the merge base with; give --base REV or --baseline FILE".into())
}

/// Checks out `sha` into a detached worktree under the gate directory (reused
/// when it already holds that commit) and returns its path.
pub fn worktree(sha: &str) -> Result<PathBuf, String> {
    let dir = gate_dir().join("base-src");
    let git = |args: &[&str], at: &Path| {
        Command::new("git")
            .current_dir(at)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run git: {e}"))
    };
    if dir.join(".git").exists() {
        let head = git(&["rev-parse", "HEAD"], &dir)?;
        if String::from_utf8_lossy(&head.stdout).trim() == sha {
            return Ok(dir);
        }
        let out = git(&["checkout", "--quiet", "--detach", "--force", sha], &dir)?;
        if out.status.success() {
            return Ok(dir);
        }
    }
    let root = cmd::workspace_root();
    let _ = git(
        &["worktree", "remove", "--force", &dir.to_string_lossy()],
        &root,
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = git(&["worktree", "prune"], &root);
    let out = git(
        &[
            "worktree",
            "add",
            "--quiet",
            "--detach",
            &dir.to_string_lossy(),
            sha,
        ],
        &root,
    )?;
    if !out.status.success() {
        return Err(format!(
            "cannot check out {sha} for the base build: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(dir)
}

/// Which side of the comparison a build is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The revision compared against.
    Base,
    /// The change under test.
    Candidate,
}

impl Side {
    /// `base` / `candidate`.
    pub fn name(self) -> &'static str {
        match self {
            Side::Base => "base",
            Side::Candidate => "candidate",
        }
    }
}

/// Builds the runner for `backend` in the checkout at `src` and copies it to
/// `target/gate/bin/<side>/allocmux-runner-<name>`. `extra_features` adds
/// runner features (the planted-regression knob, the slab's logical clock).
pub fn build_runner(
    src: &Path,
    side: Side,
    backend: Backend,
    name: &str,
    extra_features: &[&str],
) -> Result<PathBuf, String> {
    let target = gate_dir().join(format!("target-{}", side.name()));
    let mut features: Vec<String> = backend
        .feature()
        .map(|f| format!("allocmux/{f}"))
        .into_iter()
        .collect();
    features.extend(extra_features.iter().map(|f| f.to_string()));
    let mut c = cmd::cargo();
    c.current_dir(src)
        .args([
            "build",
            "--release",
            "-p",
            "allocmux-runner",
            "--target-dir",
        ])
        .arg(&target);
    if !features.is_empty() {
        c.args(["--features", &features.join(",")]);
    }
    let log = gate_dir()
        .join("logs")
        .join(format!("build-{}-{name}.log", side.name()));
    let out = cmd::run_logged(&mut c, &log).map_err(|e| e.to_string())?;
    if !out.success {
        return Err(format!(
            "building the {} runner for {backend} failed; see {} ({})",
            side.name(),
            log.display(),
            cmd::tail(&out.output, 1)
        ));
    }
    // Same-length paths for both sides (`bin/base/…`, `bin/cand/…`): argv[0] is
    // part of what callgrind counts, so the two sides must not differ in it.
    let bin = gate_dir().join("bin").join(&side.name()[..4]);
    std::fs::create_dir_all(&bin).map_err(|e| e.to_string())?;
    let dest = bin.join(format!("allocmux-runner-{name}"));
    // Copy then rename: a runner still running elsewhere keeps its old file.
    let tmp = dest.with_extension("tmp");
    std::fs::copy(target.join("release/allocmux-runner"), &tmp)
        .map_err(|e| format!("cannot copy the {} runner: {e}", side.name()))?;
    std::fs::rename(&tmp, &dest).map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
    Ok(dest)
}

/// Runs a user cell's `build` command in the checkout at `src`.
pub fn build_command(src: &Path, build: &[String], side: Side) -> Result<(), String> {
    let (program, args) = build.split_first().ok_or("empty build command")?;
    let mut c = Command::new(program);
    c.current_dir(src).args(args);
    let log = gate_dir()
        .join("logs")
        .join(format!("user-build-{}.log", side.name()));
    let out = cmd::run_logged(&mut c, &log).map_err(|e| e.to_string())?;
    if out.success {
        Ok(())
    } else {
        Err(format!(
            "the cell's build command failed in the {} checkout; see {}",
            side.name(),
            log.display()
        ))
    }
}
