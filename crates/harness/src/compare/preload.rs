//! `compare --preload`: any program under every backend, with no change to it.
//! Each backend but the system allocator is a C library the harness builds from
//! allocmux's own sources (`crates/preload`, one build per backend feature,
//! copied out as `liballocmux_<backend>.so`) and puts in front of the C library
//! with `LD_PRELOAD`; the system allocator is the program run as it is.
//!
//! A run counts only when the library says it served the very process that was
//! started (its exit line `allocmux-preload: backend=… pid=… served=yes`, turned
//! on by `ALLOCMUX_PRELOAD_BANNER=1`). A statically linked or set-user-ID program
//! ignores `LD_PRELOAD`; it is refused before anything runs.

use std::path::{Path, PathBuf};

use allocmux::Backend;

use super::lines::LineKind;
use super::Contender;
use crate::cargo_build::{self, BuildRequest, TargetKind};
use crate::paths::Paths;
use crate::progress::announced_build;
use crate::results::BackendEvidence;

/// The environment variable that turns the libraries' exit line on.
pub const PRELOAD_BANNER_ENV: &str = "ALLOCMUX_PRELOAD_BANNER";

/// Extra build environment for `backend`'s library. snmalloc guards its locks
/// against `fork` only with its (upstream, off by default) fork-protection
/// option; a preloaded allocator must survive a fork from any multi-threaded
/// program, so its library is built with it (`tests/c/abi.c` forks 200 times
/// while 8 threads allocate, and deadlocks without it).
pub fn build_env(backend: Backend) -> Vec<(String, String)> {
    match backend {
        Backend::Snmalloc => vec![(
            "CXXFLAGS".into(),
            "-DSNMALLOC_PTHREAD_FORK_PROTECTION -DSNMALLOC_PTHREAD_ATFORK_WORKS".into(),
        )],
        _ => Vec::new(),
    }
}

/// Where the library for `backend` (with `extra` features, e.g. the slab's
/// `hardened`) is kept: `liballocmux_<backend>[-<extra>…].so`.
pub fn library_path(paths: &Paths, backend: Backend, extra: &[&str]) -> PathBuf {
    let mut name = format!("liballocmux_{}", backend.name());
    for e in extra {
        name.push('-');
        name.push_str(e);
    }
    paths.target_dir.join("preload").join(format!("{name}.so"))
}

/// Builds the C library of `backend` (release, with the preload crate's `extra`
/// features) from `paths.source` and copies it to [`library_path`]; Cargo's own
/// freshness check makes repeated builds cheap.
pub fn build_library(
    paths: &Paths,
    backend: Backend,
    extra: &[&str],
    log_dir: &Path,
) -> Result<PathBuf, String> {
    let feature = backend.feature().ok_or_else(|| {
        "the system allocator needs no library: the program runs without LD_PRELOAD".to_owned()
    })?;
    let mut features = vec![feature.to_owned()];
    features.extend(extra.iter().map(|e| e.to_string()));
    let request = BuildRequest {
        dir: &paths.source,
        package: Some("allocmux-preload"),
        target: TargetKind::CLib("allocmux_preload".into()),
        features,
        no_default_features: true,
        target_dir: &paths.target_dir,
        env: build_env(backend),
        log: log_dir.join(format!("build-preload-{}.log", backend.name())),
        what: format!("the preload library for {backend}"),
    };
    // A library with crates another checkout left in the shared target
    // directory is built again (see `provenance`).
    let built = crate::provenance::build_from_checkout(
        &request.what,
        &paths.source,
        &paths.target_dir,
        || cargo_build::build(&request),
        crate::provenance::file_crates,
    )?;
    let dest = library_path(paths, backend, extra);
    cargo_build::copy_out(&built.executable, &dest)?;
    Ok(dest)
}

/// The preload libraries' exit line.
pub const LIBRARY_LINE: LineKind = LineKind {
    prefix: "allocmux-preload: ",
};

/// Checks that process `pid` was served by `backend`'s library; returns its line.
pub fn verify(stderr: &str, pid: u32, backend: &str) -> Result<String, String> {
    let b = LIBRARY_LINE.of_pid(stderr, pid, || {
        format!(
            "no `allocmux-preload:` line from the library: {backend} was not loaded into the program \
             (or it ended without running exit handlers, e.g. through _exit)"
        )
    })?;
    if b.get("backend") != Some(backend) {
        return Err(format!("expected {backend}'s library, got {}", b.line));
    }
    if b.get("served") != Some("yes") {
        return Err(format!(
            "{backend}'s library was loaded but served no allocation ({})",
            b.line
        ));
    }
    Ok(b.line.clone())
}

/// The program as the kernel will start it: found on `PATH` when it has no `/`,
/// and refused when it cannot take a preloaded library (statically linked,
/// set-user-ID, not an ELF executable or script).
pub fn resolve_program(program: &str) -> Result<PathBuf, String> {
    let path = if program.contains('/') {
        PathBuf::from(program)
    } else {
        std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
            .ok_or_else(|| format!("`{program}` is not on PATH"))?
    };
    check_preloadable(&path, 0)?;
    Ok(path)
}

/// Refuses what the dynamic loader will not preload into; follows `#!` to the
/// interpreter (and `/usr/bin/env NAME` to `NAME`).
fn check_preloadable(path: &Path, depth: usize) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.permissions().mode() & 0o6000 != 0 {
        return Err(format!(
            "{} is set-user-ID or set-group-ID: the loader ignores LD_PRELOAD for it, so every backend would \
             measure the system allocator",
            path.display()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if let Some(rest) = bytes.strip_prefix(b"#!") {
        let first = rest.split(|&b| b == b'\n').next().unwrap_or_default();
        let words: Vec<String> = String::from_utf8_lossy(first)
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let interpreter = match words.as_slice() {
            [env, name, ..] if env.ends_with("/env") => resolve_on_path(name)?,
            [interp, ..] => PathBuf::from(interp),
            [] => return Err(format!("{}: empty #! line", path.display())),
        };
        if depth > 3 {
            return Err(format!("{}: #! lines nest too deeply", path.display()));
        }
        return check_preloadable(&interpreter, depth + 1);
    }
    match elf_is_dynamic(&bytes) {
        Some(true) => Ok(()),
        Some(false) => Err(format!(
            "{} is statically linked: its malloc cannot be replaced with LD_PRELOAD, so every backend would \
             measure the allocator built into it. Build it dynamically linked, or use the façade \
             (`cargo allocmux compare` in its project).",
            path.display()
        )),
        None => Err(format!(
            "{} is neither an ELF executable nor a #! script",
            path.display()
        )),
    }
}

fn resolve_on_path(name: &str) -> Result<PathBuf, String> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("`{name}` (a #! interpreter) is not on PATH"))
}

/// Whether an ELF file asks for a dynamic loader (has a `PT_INTERP` program
/// header); `None` when it is not a 64-bit little-endian ELF file. Reading
/// three header fields by hand is smaller than a dependency on an ELF crate.
pub fn elf_is_dynamic(bytes: &[u8]) -> Option<bool> {
    const PT_INTERP: u32 = 3;
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" || bytes[4] != 2 || bytes[5] != 1 {
        return None;
    }
    let u16_at = |o: usize| Some(u16::from_le_bytes(bytes.get(o..o + 2)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(bytes.get(o..o + 8)?.try_into().ok()?));
    let phoff = usize::try_from(u64_at(0x20)?).ok()?;
    let phentsize = usize::from(u16_at(0x36)?);
    let phnum = usize::from(u16_at(0x38)?);
    Some((0..phnum).any(|i| {
        let o = phoff + i * phentsize;
        bytes
            .get(o..o + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            == Some(PT_INTERP)
    }))
}

/// The contender for `backend`: the program with its library preloaded (or as
/// it is, for the system allocator).
pub fn contender(program: &Path, backend: Backend, library: Result<PathBuf, String>) -> Contender {
    let mut env = vec![(PRELOAD_BANNER_ENV.to_owned(), "1".to_owned())];
    let (unusable, lib) = match (backend, library) {
        (Backend::System, _) => (None, None),
        (_, Ok(lib)) => (None, Some(lib)),
        (_, Err(e)) => (Some(e), None),
    };
    if let Some(lib) = &lib {
        env.push(("LD_PRELOAD".into(), lib.display().to_string()));
    }
    Contender {
        name: backend.name().into(),
        description: backend.description().into(),
        backend: Some(backend),
        program: program.to_path_buf(),
        leading_args: Vec::new(),
        env,
        unusable,
        evidence: BackendEvidence {
            backend: backend.name().into(),
            facade_features: Vec::new(),
            library: lib.as_ref().map(|l| l.display().to_string()),
            banner: None,
        },
        preload: lib,
    }
}

/// Builds the library of every backend in `backends` (the system allocator
/// needs none: its entry is an empty error), announcing each build; a failed
/// build is kept as its reason.
pub fn build_libraries(
    paths: &Paths,
    backends: &[Backend],
    log_dir: &Path,
) -> Vec<Result<PathBuf, String>> {
    backends
        .iter()
        .enumerate()
        .map(|(i, &backend)| {
            if backend == Backend::System {
                return Err(String::new());
            }
            let what = format!("library for {backend}");
            announced_build(i, backends.len(), &what, backend.name(), || {
                build_library(paths, backend, &[], log_dir)
            })
        })
        .collect()
}

/// The contenders for `program`: each of `backends` with its entry of
/// `libraries` (from [`build_libraries`]), then each external library,
/// saying on stderr why one the loader refuses cannot run.
pub fn contenders(
    program: &Path,
    backends: &[Backend],
    libraries: &[Result<PathBuf, String>],
    externals: &[(String, PathBuf)],
) -> Vec<Contender> {
    let mut all: Vec<Contender> = backends
        .iter()
        .zip(libraries)
        .map(|(&backend, library)| contender(program, backend, library.clone()))
        .collect();
    for (name, library) in externals {
        let c = external(program, name, library);
        if let Some(why) = &c.unusable {
            eprintln!("[library] {name}: {why}");
        }
        all.push(c);
    }
    all
}

/// Parses `--library NAME=PATH`: an allocator's shared object from outside
/// allocmux (a distribution's `libtcmalloc.so.4`, `libmimalloc.so.2`, …) to
/// measure next to the backends. The name is how results call it: letters,
/// digits, `-`, `_` and `.`, and not a backend's name.
pub fn parse_library(spec: &str) -> Result<(String, PathBuf), String> {
    let (name, path) = spec.split_once('=').ok_or_else(|| {
        format!("--library `{spec}`: write NAME=PATH, e.g. tcmalloc=/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4")
    })?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(format!(
            "--library `{spec}`: the name must be letters, digits, `-`, `_` or `.`"
        ));
    }
    if Backend::ALL.iter().any(|b| b.name() == name) {
        return Err(format!(
            "--library `{spec}`: `{name}` is a backend's name; call the library something else"
        ));
    }
    let path = Path::new(path)
        .canonicalize()
        .map_err(|e| format!("--library `{spec}`: {path}: {e}"))?;
    Ok((name.to_owned(), path))
}

/// Parses every `--library` spec; the same name twice is refused.
pub fn parse_libraries(specs: &[String]) -> Result<Vec<(String, PathBuf)>, String> {
    let mut libraries: Vec<(String, PathBuf)> = Vec::new();
    for spec in specs {
        let (name, path) = parse_library(spec)?;
        if libraries.iter().any(|(n, _)| *n == name) {
            return Err(format!("--library: the name `{name}` is given twice"));
        }
        libraries.push((name, path));
    }
    Ok(libraries)
}

/// The contender for an external library `library` called `name`. It writes no
/// exit line, so instead of a per-run proof the loader is asked once, without
/// running the program's code, where the program's `malloc` binds (ld.so's
/// trace mode with `LD_BIND_NOW` and `LD_DEBUG=bindings`, as `ldd -r` does);
/// unless it binds to the library, the contender is unusable.
pub fn external(program: &Path, name: &str, library: &Path) -> Contender {
    let (banner, unusable) = match binds_malloc(program, library) {
        Ok(line) => (Some(line), None),
        Err(e) => (None, Some(e)),
    };
    Contender {
        name: name.to_owned(),
        description: format!("external library {}", library.display()),
        backend: None,
        program: program.to_path_buf(),
        leading_args: Vec::new(),
        env: vec![("LD_PRELOAD".into(), library.display().to_string())],
        unusable,
        evidence: BackendEvidence {
            backend: name.to_owned(),
            facade_features: Vec::new(),
            library: Some(library.display().to_string()),
            banner,
        },
        preload: Some(library.to_path_buf()),
    }
}

/// Checks with the loader that `program`'s `malloc` binds to `library` when it
/// is preloaded; returns the loader's line that says so.
pub fn binds_malloc(program: &Path, library: &Path) -> Result<String, String> {
    let out = std::process::Command::new(program)
        .env("LD_TRACE_LOADED_OBJECTS", "1")
        .env("LD_WARN", "yes")
        .env("LD_BIND_NOW", "yes")
        .env("LD_DEBUG", "bindings")
        .env("LD_PRELOAD", library)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot ask the loader about {}: {e}", program.display()))?;
    let target = format!(" to {} [", library.display());
    let text = String::from_utf8_lossy(&out.stderr);
    text.lines()
        .find(|l| l.contains(&target) && l.contains("normal symbol `malloc'"))
        .map(|l| {
            let file = l
                .split_once("binding file ")
                .and_then(|(_, rest)| rest.split_once(" ["))
                .map_or("the program", |(file, _)| file);
            format!(
                "ld.so binds malloc of {file} to {} (checked before the runs)",
                library.display()
            )
        })
        .ok_or_else(|| {
            format!(
                "the loader does not bind malloc to {} when it is preloaded into {} (no `malloc` \
                 in the library, or not a shared object the loader accepts)",
                library.display(),
                program.display()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_lines_are_read_and_checked() {
        let err = "x\nallocmux-preload: backend=mimalloc pid=42 served=yes\nallocmux-preload: backend=slab pid=7 served=no\n";
        assert_eq!(LIBRARY_LINE.read(err).len(), 2);
        assert!(verify(err, 42, "mimalloc").is_ok());
        assert!(verify(err, 42, "jemalloc")
            .unwrap_err()
            .contains("expected jemalloc"));
        assert!(verify(err, 7, "slab")
            .unwrap_err()
            .contains("served no allocation"));
        assert!(verify("plain", 1, "slab")
            .unwrap_err()
            .contains("was not loaded"));
        assert_eq!(LIBRARY_LINE.strip(err), "x");
    }

    /// Compiles `c` into a shared object in `dir`.
    fn shared_object(dir: &Path, name: &str, c: &str) -> PathBuf {
        let src = dir.join(format!("{name}.c"));
        std::fs::write(&src, c).unwrap();
        let so = dir.join(format!("{name}.so"));
        crate::cmd::compile_shared_library(&src, &so).unwrap();
        so
    }

    #[test]
    fn external_libraries_are_named_and_checked_with_the_loader() {
        let dir = tempfile::tempdir().unwrap();
        let with = shared_object(
            dir.path(),
            "with",
            "#include <stddef.h>\nvoid *malloc(size_t n) { (void)n; return 0; }\n",
        );
        let without = shared_object(
            dir.path(),
            "without",
            "int not_an_allocator(void) { return 1; }\n",
        );
        let sh = resolve_program("sh").unwrap();
        let line = binds_malloc(&sh, &with.canonicalize().unwrap()).unwrap();
        assert!(
            line.contains("with.so") && line.contains("binds malloc"),
            "{line}"
        );
        let e = binds_malloc(&sh, &without.canonicalize().unwrap()).unwrap_err();
        assert!(e.contains("does not bind malloc"), "{e}");
        let c = external(&sh, "other", &without.canonicalize().unwrap());
        assert_eq!((c.name.as_str(), c.backend), ("other", None));
        assert!(c.unusable.is_some());

        let spec = format!("mine={}", with.display());
        assert_eq!(parse_library(&spec).unwrap().0, "mine");
        let twice = parse_libraries(&[spec.clone(), spec]).unwrap_err();
        assert!(twice.contains("given twice"), "{twice}");
        for (bad, says) in [
            ("mine", "NAME=PATH"),
            ("my lib=/x", "letters, digits"),
            (&*format!("slab={}", with.display()), "a backend's name"),
            ("mine=/no/such/file.so", "/no/such/file.so"),
        ] {
            let e = parse_library(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn dynamic_and_static_programs_are_told_apart() {
        let sh = resolve_program("sh").unwrap();
        assert_eq!(elf_is_dynamic(&std::fs::read(&sh).unwrap()), Some(true));
        assert_eq!(elf_is_dynamic(b"#!/bin/sh\n"), None);
        // A minimal static ELF: header only, one program header that is not PT_INTERP.
        let mut elf = vec![0u8; 64 + 56];
        elf[..4].copy_from_slice(b"\x7fELF");
        elf[4] = 2;
        elf[5] = 1;
        elf[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        elf[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        elf[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
        elf[64..68].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        assert_eq!(elf_is_dynamic(&elf), Some(false));
        elf[64..68].copy_from_slice(&3u32.to_le_bytes()); // PT_INTERP
        assert_eq!(elf_is_dynamic(&elf), Some(true));
        assert!(resolve_program("no-such-program-anywhere")
            .unwrap_err()
            .contains("not on PATH"));
    }
}
