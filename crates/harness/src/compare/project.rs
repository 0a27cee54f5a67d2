//! The user's Cargo project as `compare` sees it: which package and which
//! executable target to build (from `cargo metadata`, with the valid names
//! listed when a choice is wrong or missing), and whether the package uses
//! the allocmux façade — without it no feature can switch its allocator, and
//! the user is shown the two lines to add.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cargo_build::TargetKind;
use crate::cmd;

/// The façade's Cargo features that select a backend (the system allocator
/// has none).
fn backend_features() -> Vec<&'static str> {
    allocmux::Backend::ALL
        .iter()
        .filter_map(|b| b.feature())
        .collect()
}

#[derive(Debug, Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    workspace_members: Vec<String>,
    target_directory: PathBuf,
    workspace_root: PathBuf,
}

#[derive(Debug, Deserialize)]
struct Package {
    id: String,
    name: String,
    manifest_path: PathBuf,
    targets: Vec<Target>,
    dependencies: Vec<Dependency>,
}

#[derive(Debug, Deserialize)]
struct Target {
    name: String,
    kind: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Dependency {
    name: String,
    rename: Option<String>,
    #[serde(default)]
    features: Vec<String>,
    #[serde(default)]
    kind: Option<String>,
}

/// What `compare` builds: one executable target of one package.
#[derive(Debug, Clone)]
pub struct Project {
    /// The workspace root (Cargo runs here).
    pub root: PathBuf,
    /// The workspace's target directory; `compare` builds in a directory of
    /// its own below it, so the user's own builds are not disturbed.
    pub target_directory: PathBuf,
    /// The package's name.
    pub package: String,
    /// The executable to build.
    pub target: TargetKind,
    /// The façade's name as a dependency of the package (`allocmux`, or the
    /// name it was renamed to): features are `<name>/<backend>`.
    pub facade_dep: String,
}

/// Which target the user asked for (`--bin`, `--example`, `--bench`), if any.
#[derive(Debug, Clone, Default)]
pub struct TargetChoice {
    /// `-p PKG`.
    pub package: Option<String>,
    /// `--bin`/`--example`/`--bench`.
    pub target: Option<TargetKind>,
    /// `--manifest-path`.
    pub manifest_path: Option<PathBuf>,
}

/// Reads the project in `dir` (or `--manifest-path`) and picks the package
/// and target, checking that the package uses the façade.
pub fn locate(dir: &Path, choice: &TargetChoice, facade_source: &Path) -> Result<Project, String> {
    let mut c = cmd::cargo(dir);
    c.args(["metadata", "--format-version", "1", "--no-deps"]);
    if let Some(m) = &choice.manifest_path {
        c.arg("--manifest-path").arg(m);
    }
    let out = c
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", cmd::display(&c)))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "no Cargo project here ({}): {}\nrun `cargo allocmux compare` inside the project whose program you want to measure, or give --manifest-path",
            dir.display(),
            cmd::last_line(&stderr).trim_start_matches("error: ")
        ));
    }
    let meta: Metadata = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("cannot read `cargo metadata` output: {e}"))?;
    let package = pick_package(&meta, dir, choice)?;
    let target = pick_target(package, choice.target.as_ref())?;
    let facade_dep = facade_dependency(package, facade_source)?;
    Ok(Project {
        root: meta.workspace_root.clone(),
        target_directory: meta.target_directory.clone(),
        package: package.name.clone(),
        target,
        facade_dep,
    })
}

fn members(meta: &Metadata) -> Vec<&Package> {
    meta.packages
        .iter()
        .filter(|p| meta.workspace_members.contains(&p.id))
        .collect()
}

fn has_executables(p: &Package) -> bool {
    p.targets.iter().any(|t| t.kind.iter().any(|k| k == "bin"))
}

fn pick_package<'m>(
    meta: &'m Metadata,
    dir: &Path,
    choice: &TargetChoice,
) -> Result<&'m Package, String> {
    let members = members(meta);
    let names = || {
        members
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(name) = &choice.package {
        return members
            .iter()
            .copied()
            .find(|p| &p.name == name)
            .ok_or_else(|| {
                format!(
                    "no package `{name}` in this workspace; its packages: {}",
                    names()
                )
            });
    }
    // The package whose directory holds `dir` (the deepest), as Cargo itself does.
    let here = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let enclosing = members
        .iter()
        .copied()
        .filter(|p| {
            p.manifest_path
                .parent()
                .is_some_and(|d| here.starts_with(d))
        })
        .max_by_key(|p| p.manifest_path.components().count());
    if let Some(p) = enclosing {
        return Ok(p);
    }
    let with_bins: Vec<&Package> = members
        .iter()
        .copied()
        .filter(|p| has_executables(p))
        .collect();
    match with_bins.as_slice() {
        [only] => Ok(only),
        _ => Err(format!(
            "this workspace has several packages; choose one with -p: {}",
            names()
        )),
    }
}

fn pick_target(p: &Package, wanted: Option<&TargetKind>) -> Result<TargetKind, String> {
    let of_kind = |kind: &str| -> Vec<&str> {
        p.targets
            .iter()
            .filter(|t| t.kind.iter().any(|k| k == kind))
            .map(|t| t.name.as_str())
            .collect()
    };
    let list = |kind: &str| {
        let v = of_kind(kind);
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(", ")
        }
    };
    match wanted {
        Some(t) => {
            if of_kind(t.kind()).contains(&t.name()) {
                Ok(t.clone())
            } else {
                Err(format!(
                    "package `{}` has no {} `{}`.\n  binaries: {}\n  examples: {}\n  benches: {}",
                    p.name,
                    t.kind(),
                    t.name(),
                    list("bin"),
                    list("example"),
                    list("bench")
                ))
            }
        }
        None => match of_kind("bin").as_slice() {
            [only] => Ok(TargetKind::Bin((*only).to_owned())),
            [] => Err(format!(
                "package `{}` has no binary; name the program with --example or --bench.\n  examples: {}\n  benches: {}",
                p.name,
                list("example"),
                list("bench")
            )),
            many => Err(format!(
                "package `{}` has several binaries; choose one with --bin: {}",
                p.name,
                many.join(", ")
            )),
        },
    }
}

/// The façade's dependency name in `p`, or the lines to add when `p` does
/// not use it (or enables a backend itself, which would clash with the
/// feature `compare` adds per build).
fn facade_dependency(p: &Package, facade_source: &Path) -> Result<String, String> {
    let dep = p
        .dependencies
        .iter()
        .find(|d| d.name == "allocmux" && d.kind.is_none());
    let Some(dep) = dep else {
        return Err(missing_facade(&p.name, facade_source));
    };
    let fixed: Vec<&String> = dep
        .features
        .iter()
        .filter(|f| backend_features().contains(&f.as_str()))
        .collect();
    if !fixed.is_empty() {
        return Err(format!(
            "package `{}` enables the allocmux feature `{}` in its Cargo.toml; `compare` chooses the backend per build, \
             so the dependency must name no backend (no feature = the system allocator). Remove `{}` from its `features`.",
            p.name,
            fixed[0],
            fixed[0]
        ));
    }
    Ok(dep.rename.clone().unwrap_or_else(|| "allocmux".to_owned()))
}

/// The message for a package without the façade: the dependency line and
/// the `#[global_allocator]` static to add.
pub fn missing_facade(package: &str, facade_source: &Path) -> String {
    format!(
        "package `{package}` does not depend on allocmux, so `cargo allocmux compare` cannot switch its allocator.\n\
         Add the façade, then run it again:\n\n\
         \x20 # Cargo.toml\n\
         \x20 [dependencies]\n\
         \x20 allocmux = {{ path = \"{}\" }}\n\n\
         \x20 // src/main.rs (or the program's crate root)\n\
         \x20 #[global_allocator]\n\
         \x20 static GLOBAL: allocmux::Allocator = allocmux::Allocator;\n",
        facade_source.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(targets: &[(&str, &str)], deps: &[(&str, &[&str])]) -> Package {
        Package {
            id: "demo 0.1.0".into(),
            name: "demo".into(),
            manifest_path: "/p/demo/Cargo.toml".into(),
            targets: targets
                .iter()
                .map(|(n, k)| Target {
                    name: (*n).into(),
                    kind: vec![(*k).into()],
                })
                .collect(),
            dependencies: deps
                .iter()
                .map(|(n, f)| Dependency {
                    name: (*n).into(),
                    rename: None,
                    features: f.iter().map(|s| s.to_string()).collect(),
                    kind: None,
                })
                .collect(),
        }
    }

    #[test]
    fn targets_are_chosen_or_listed() {
        let p = package(
            &[("demo", "bin"), ("client", "example"), ("lib", "lib")],
            &[],
        );
        assert_eq!(
            pick_target(&p, None).unwrap(),
            TargetKind::Bin("demo".into())
        );
        let e = pick_target(&p, Some(&TargetKind::Bin("nosuch".into()))).unwrap_err();
        assert!(
            e.contains("no bin `nosuch`")
                && e.contains("binaries: demo")
                && e.contains("examples: client"),
            "{}",
            e
        );
        let two = package(&[("a", "bin"), ("b", "bin")], &[]);
        assert!(pick_target(&two, None).unwrap_err().contains("--bin: a, b"));
    }

    #[test]
    fn the_facade_must_be_a_dependency_without_a_backend() {
        let src = Path::new("/src/allocmux/crates/allocmux");
        let none = package(&[("demo", "bin")], &[("serde", &[])]);
        let e = facade_dependency(&none, src).unwrap_err();
        assert!(
            e.contains("#[global_allocator]")
                && e.contains("static GLOBAL: allocmux::Allocator = allocmux::Allocator;")
                && e.contains("allocmux = { path = \"/src/allocmux/crates/allocmux\" }"),
            "{e}"
        );
        let fixed = package(&[("demo", "bin")], &[("allocmux", &["mimalloc"])]);
        assert!(facade_dependency(&fixed, src)
            .unwrap_err()
            .contains("`mimalloc`"));
        let ok = package(&[("demo", "bin")], &[("allocmux", &["stats"])]);
        assert_eq!(facade_dependency(&ok, src).unwrap(), "allocmux");
    }
}
