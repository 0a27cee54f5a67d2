//! Builds the runner binaries the gate compares: the candidate from the work
//! tree as it is (uncommitted changes included), the base from a git revision
//! checked out into its own worktree, each with its own target directory so
//! both stay incremental between gate runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use allocmux::Backend;

use crate::cmd;
use crate::matrix::{build_runner_in, RunnerBuild};
use crate::paths::Paths;

/// Resolves `rev` to a full commit id, or says plainly that it does not exist.
pub fn resolve(repo: &Path, rev: &str) -> Result<String, String> {
    let out = Command::new("git")
        .current_dir(repo)
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
pub fn default_base(repo: &Path) -> Result<String, String> {
    for main in ["main", "origin/main"] {
        let out = Command::new("git")
            .current_dir(repo)
            .args(["merge-base", "HEAD", main])
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if out.status.success() {
            return Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned());
        }
    }
    Err("no `main` branch to take the merge base with; give --base REV or --baseline FILE".into())
}

/// `git describe` of HEAD in `repo`, with `(modified)` for a dirty tree.
pub fn describe_head(repo: &Path) -> String {
    Command::new("git")
        .current_dir(repo)
        .args(["describe", "--always", "--dirty=(modified)"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// Checks out `sha` into a detached worktree under the gate directory (reused
/// when it already holds that commit) and returns its path.
pub fn worktree(paths: &Paths, sha: &str) -> Result<PathBuf, String> {
    let dir = paths.gate_dir().join("base-src");
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
    let root = &paths.source;
    let _ = git(
        &["worktree", "remove", "--force", &dir.to_string_lossy()],
        root,
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = git(&["worktree", "prune"], root);
    let out = git(
        &[
            "worktree",
            "add",
            "--quiet",
            "--detach",
            &dir.to_string_lossy(),
            sha,
        ],
        root,
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
/// `<gate dir>/bin/<side>/allocmux-runner-<name>`. `extra_features` adds
/// runner features (the planted-regression knob, the slab's logical clock).
pub fn build_runner(
    paths: &Paths,
    src: &Path,
    side: Side,
    backend: Backend,
    name: &str,
    extra_features: &[&str],
) -> Result<PathBuf, String> {
    let gate_dir = paths.gate_dir();
    // Same-length paths for both sides (`bin/base/…`, `bin/cand/…`): argv[0] is
    // part of what callgrind counts, so the two sides must not differ in it.
    let dest = gate_dir
        .join("bin")
        .join(&side.name()[..4])
        .join(format!("allocmux-runner-{name}"));
    build_runner_in(
        RunnerBuild {
            source: src,
            target_dir: &gate_dir.join(format!("target-{}", side.name())),
            log: gate_dir
                .join("logs")
                .join(format!("build-{}-{name}.log", side.name())),
            dest,
            what: format!("the {} runner for {backend}", side.name()),
        },
        backend,
        extra_features,
    )
}

/// Runs a user cell's `build` command in the checkout at `src`.
pub fn build_command(
    paths: &Paths,
    src: &Path,
    build: &[String],
    side: Side,
) -> Result<(), String> {
    let (program, args) = build.split_first().ok_or("empty build command")?;
    let mut c = Command::new(program);
    c.current_dir(src).args(args);
    let log = paths
        .gate_dir()
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
