//! Builds one executable target with Cargo and copies it out under a name of
//! its own: the matrix's runner per backend, the gate's runners per side, and
//! `cargo allocmux compare`'s program per backend all go through [`build`].
//!
//! Cargo's JSON messages name the executable it produced and the features the
//! façade (`allocmux`) was compiled with, so a caller can check that a build
//! really carries the backend it asked for. Builds that share a target
//! directory share their compiled dependencies; since each build overwrites the
//! same executable path, the binary is copied out (to a temporary name, then
//! renamed, so a process still running the previous copy is never disturbed).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::cmd;

/// Which executable of a package to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    /// `--bin NAME`.
    Bin(String),
    /// `--example NAME`.
    Example(String),
    /// `--bench NAME`.
    Bench(String),
    /// The package's C dynamic library (`--lib`, a `cdylib` named NAME).
    CLib(String),
}

impl TargetKind {
    /// The Cargo flag and the name: `["--bin", "demo"]`.
    pub fn args(&self) -> [&str; 2] {
        match self {
            TargetKind::Bin(n) => ["--bin", n],
            TargetKind::Example(n) => ["--example", n],
            TargetKind::Bench(n) => ["--bench", n],
            TargetKind::CLib(_) => ["--lib", ""],
        }
    }

    /// The target's name.
    pub fn name(&self) -> &str {
        match self {
            TargetKind::Bin(n)
            | TargetKind::Example(n)
            | TargetKind::Bench(n)
            | TargetKind::CLib(n) => n,
        }
    }

    /// `bin`, `example` or `bench`, as Cargo's metadata names the kind.
    pub fn kind(&self) -> &'static str {
        match self {
            TargetKind::Bin(_) => "bin",
            TargetKind::Example(_) => "example",
            TargetKind::Bench(_) => "bench",
            TargetKind::CLib(_) => "cdylib",
        }
    }
}

/// One release build of one executable.
#[derive(Debug, Clone)]
pub struct BuildRequest<'a> {
    /// Directory Cargo runs in (the workspace or package root).
    pub dir: &'a Path,
    /// `-p PACKAGE`, when the directory holds several.
    pub package: Option<&'a str>,
    /// The executable to build.
    pub target: TargetKind,
    /// `--features`, e.g. `allocmux/mimalloc`.
    pub features: Vec<String>,
    /// `--no-default-features`.
    pub no_default_features: bool,
    /// `--target-dir`.
    pub target_dir: &'a Path,
    /// Extra environment for Cargo.
    pub env: Vec<(String, String)>,
    /// Cargo's rendered output goes here.
    pub log: PathBuf,
    /// What the error message calls this build (`the runner for slab`).
    pub what: String,
}

/// What a successful build produced.
#[derive(Debug, Clone)]
pub struct Built {
    /// The executable (or, for [`TargetKind::CLib`], the shared library) in Cargo's
    /// target directory, overwritten by the next build.
    pub executable: PathBuf,
    /// The features the `allocmux` package was compiled with in this build,
    /// when the build includes the façade.
    pub facade_features: Option<Vec<String>>,
}

/// Runs the build; on failure the error holds the last lines Cargo printed and
/// the log's path.
pub fn build(req: &BuildRequest<'_>) -> Result<Built, String> {
    let mut c = cmd::cargo(req.dir);
    c.args([
        "build",
        "--release",
        "--message-format=json-render-diagnostics",
    ]);
    if let Some(p) = req.package {
        c.args(["-p", p]);
    }
    c.args(req.target.args().into_iter().filter(|a| !a.is_empty()));
    if req.no_default_features {
        c.arg("--no-default-features");
    }
    if !req.features.is_empty() {
        c.args(["--features", &req.features.join(",")]);
    }
    c.arg("--target-dir").arg(req.target_dir);
    for (k, v) in &req.env {
        c.env(k, v);
    }
    let (ok, messages) = run_build(&mut c, &req.log)?;
    if !ok {
        let text = std::fs::read_to_string(&req.log).unwrap_or_default();
        return Err(format!(
            "building {} failed ({}):\n{}\nfull log: {}",
            req.what,
            cmd::display(&c),
            cmd::tail(&text, 25),
            req.log.display()
        ));
    }
    let (executable, facade_features) = read_messages(&messages, &req.target);
    let executable = executable.ok_or_else(|| {
        format!(
            "building {} succeeded but cargo named no executable for {} `{}` (log: {})",
            req.what,
            req.target.kind(),
            req.target.name(),
            req.log.display()
        )
    })?;
    Ok(Built {
        executable,
        facade_features,
    })
}

/// Runs `c` with stderr to `log` and returns its success and stdout (Cargo's
/// JSON messages).
fn run_build(c: &mut Command, log: &Path) -> Result<(bool, String), String> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let file =
        std::fs::File::create(log).map_err(|e| format!("cannot write {}: {e}", log.display()))?;
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(file)
        .spawn()
        .map_err(|e| format!("cannot run `{}`: {e}", cmd::display(c)))?;
    let mut messages = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut messages);
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cargo failed: {e}"))?;
    Ok((status.success(), messages))
}

/// The executable Cargo built for `target`, and the façade's features, from
/// Cargo's `compiler-artifact` messages.
fn read_messages(messages: &str, target: &TargetKind) -> (Option<PathBuf>, Option<Vec<String>>) {
    let mut executable = None;
    let mut facade = None;
    for line in messages.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if v.get("reason").and_then(|r| r.as_str()) != Some("compiler-artifact") {
            continue;
        }
        let t = &v["target"];
        let is_lib = t["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "lib" || k == "rlib"));
        if is_lib && t["name"] == "allocmux" {
            facade = v["features"].as_array().map(|f| {
                f.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            });
        }
        let kind_matches = t["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == target.kind()));
        if kind_matches && t["name"] == target.name() {
            if let Some(exe) = v["executable"].as_str() {
                executable = Some(PathBuf::from(exe));
            } else if let Some(so) = v["filenames"].as_array().and_then(|f| {
                f.iter()
                    .filter_map(|x| x.as_str())
                    .find(|x| x.ends_with(".so"))
            }) {
                executable = Some(PathBuf::from(so));
            }
        }
    }
    (executable, facade)
}

/// Copies `built` to `dest` through a temporary file and a rename.
pub fn copy_out(built: &Path, dest: &Path) -> Result<(), String> {
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let tmp = dest.with_extension("tmp");
    std::fs::copy(built, &tmp).map_err(|e| format!("cannot copy {}: {e}", built.display()))?;
    std::fs::rename(&tmp, dest).map_err(|e| format!("cannot write {}: {e}", dest.display()))
}

#[cfg(test)]
mod tests {
    use super::{read_messages, TargetKind};

    #[test]
    fn finds_the_executable_and_the_facade_features() {
        let messages = r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"allocmux"},"features":["default","mimalloc"],"executable":null}
not json
{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"other"},"features":[],"executable":"/t/release/other"}
{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"demo"},"features":[],"executable":"/t/release/demo"}
{"reason":"build-finished","success":true}"#;
        let (exe, facade) = read_messages(messages, &TargetKind::Bin("demo".into()));
        assert_eq!(exe.unwrap().to_str(), Some("/t/release/demo"));
        assert_eq!(facade.unwrap(), ["default", "mimalloc"]);
        let (exe, _) = read_messages(messages, &TargetKind::Example("demo".into()));
        assert!(exe.is_none());
    }
}
