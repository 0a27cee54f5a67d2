//! Compiling the original programs from the user's checkouts into a
//! directory below `target/` (`-O3 -DNDEBUG`, the flags of CMake's `Release` build
//! type, which mimalloc-bench's `bench/CMakeLists.txt` selects when none is given;
//! `cc` for C, `c++` for C++), one log per binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use allocmux_harness::cmd;

use super::binaries::{self, Binary, Checkout};
use super::programs::Program;

/// The checkouts given: mimalloc-bench's `bench/` and mimalloc's root.
pub struct Checkouts {
    /// mimalloc-bench's `bench/` directory (`--source`).
    pub bench: Option<PathBuf>,
    /// A mimalloc checkout (`--mimalloc-source`).
    pub mimalloc: Option<PathBuf>,
}

impl Checkouts {
    /// Checks both options' directories (see [`bench_dir`], [`mimalloc_dir`]).
    pub fn new(source: Option<&Path>, mimalloc: Option<&Path>) -> Result<Checkouts, String> {
        let canonical = |p: PathBuf| p.canonicalize().unwrap_or(p);
        Ok(Checkouts {
            bench: source.map(bench_dir).transpose()?.map(canonical),
            mimalloc: mimalloc.map(mimalloc_dir).transpose()?.map(canonical),
        })
    }

    /// The directory a binary of `checkout` is compiled in, if given.
    pub fn dir(&self, checkout: Checkout) -> Option<&Path> {
        match checkout {
            Checkout::Bench => self.bench.as_deref(),
            Checkout::Mimalloc => self.mimalloc.as_deref(),
        }
    }
}

/// Checks that `source` is a mimalloc-bench checkout (it has `bench/` with the
/// binaries' sources) and returns its `bench` directory.
pub fn bench_dir(source: &Path) -> Result<PathBuf, String> {
    let bench = source.join("bench");
    let probe = bench.join("larson/larson.cpp");
    if !probe.is_file() {
        return Err(format!(
            "{} is not a mimalloc-bench checkout (no {}); get one with \
             `git clone https://github.com/daanx/mimalloc-bench` and pass its directory to --source",
            source.display(),
            probe.display()
        ));
    }
    Ok(bench)
}

/// Checks that `source` is a mimalloc checkout (it has `test/test-stress.c`)
/// and returns it.
pub fn mimalloc_dir(source: &Path) -> Result<PathBuf, String> {
    let probe = source.join("test/test-stress.c");
    if !probe.is_file() {
        return Err(format!(
            "{} is not a mimalloc checkout (no {}); get one with \
             `git clone https://github.com/microsoft/mimalloc` and pass its directory to \
             --mimalloc-source",
            source.display(),
            probe.display()
        ));
    }
    Ok(source.to_path_buf())
}

/// The optimisation flags of the programs' own builds: mimalloc-bench's
/// `build-bench-env.sh` runs `cmake -B out/bench -S bench` with no build type, its
/// CMakeLists then picks `Release`, and CMake's `Release` flags for gcc and clang are
/// `-O3 -DNDEBUG` (mimalloc's `test/CMakeLists.txt` also defaults to `Release`).
/// Until 2026-12-05 this was `-O2` (docs/perf-log.md).
const OPTIMISATION: &[&str] = &["-O3", "-DNDEBUG"];

/// Compiles `b` from its sources in `root` into `bin_dir` with
/// [`OPTIMISATION`] (the C compiler `cc` or `c++`), logging to `log`. Returns the
/// executable, or the reason it could not be built.
pub fn compile(b: &Binary, root: &Path, bin_dir: &Path, log: &Path) -> Result<PathBuf, String> {
    let missing: Vec<String> = b
        .sources
        .iter()
        .map(|s| root.join(s))
        .filter(|p| !p.is_file())
        .map(|p| p.display().to_string())
        .collect();
    if !missing.is_empty() {
        return Err(format!("missing sources: {}", missing.join(", ")));
    }
    let exe = bin_dir.join(b.name);
    let mut c = Command::new(if b.cxx { "c++" } else { "cc" });
    c.current_dir(root).args(OPTIMISATION).arg("-w");
    if b.cxx {
        c.arg("-std=c++17");
    }
    c.args(b.flags).args(b.sources).arg("-o").arg(&exe);
    c.args(["-lpthread", "-lm"]);
    let shown = cmd::display(&c);
    let out = c
        .output()
        .map_err(|e| format!("cannot run the compiler (`{shown}`): {e}"))?;
    let text = format!(
        "$ {shown}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::write(log, &text);
    if !out.status.success() {
        return Err(format!(
            "the compiler failed ({}); see {}",
            cmd::last_line(&text),
            log.display()
        ));
    }
    Ok(exe)
}

/// Compiles every binary the chosen programs need, once each; a failure is
/// reported and kept, so its programs are skipped and the rest still run.
pub fn compile_all(
    chosen: &[&Program],
    checkouts: &Checkouts,
    bin_dir: &Path,
    logs: &Path,
) -> Vec<(&'static str, Result<PathBuf, String>)> {
    let mut built: Vec<(&'static str, Result<PathBuf, String>)> = Vec::new();
    for p in chosen {
        if built.iter().any(|(n, _)| *n == p.binary) {
            continue;
        }
        let b = binaries::binary(p.binary);
        let log = logs.join(format!("build-{}.log", b.name));
        let r = match checkouts.dir(b.checkout) {
            Some(root) => compile(b, root, bin_dir, &log),
            None => Err(format!("needs {}", b.checkout.option())),
        };
        match &r {
            Ok(_) => eprintln!("[compile] {} ok", b.name),
            Err(e) => eprintln!("[compile] {} FAILED: {e}", b.name),
        }
        built.push((b.name, r));
    }
    built
}

/// The optimisation flags the programs of a run were compiled with, read back from the
/// first compiler command in its build logs (`logs/build-*.log`), so a summary written
/// again later (`--from`) names the flags of that run, not this version's. `None` when
/// no log holds a compiler command.
pub fn recorded_flags(logs: &Path) -> Option<String> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(logs)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("build-") && n.ends_with(".log"))
        })
        .collect();
    entries.sort();
    entries.iter().find_map(|log| {
        let text = std::fs::read_to_string(log).ok()?;
        let command = text.lines().next()?.strip_prefix("$ ")?;
        let mut words = command.split_whitespace();
        if !matches!(words.next(), Some("cc" | "c++")) {
            return None;
        }
        // Any optimisation level (an older run's may differ from [`OPTIMISATION`]),
        // and the other flags of that constant.
        let flags: Vec<&str> = words
            .filter(|w| w.starts_with("-O") || OPTIMISATION.contains(w))
            .collect();
        Some(flags.join(" "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flags_of_a_run_are_read_back_from_its_compiler_logs() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(recorded_flags(dir.path()), None);
        // A backend library's log is no compiler command; an older run's `-O2` is kept.
        std::fs::write(
            dir.path().join("build-a-lib.log"),
            "$ cargo build --release\n",
        )
        .unwrap();
        assert_eq!(recorded_flags(dir.path()), None);
        std::fs::write(
            dir.path().join("build-cfrac.log"),
            "$ cc -O2 -DNDEBUG -w -std=gnu89 cfrac.c -o cfrac\nwarning\n",
        )
        .unwrap();
        assert_eq!(recorded_flags(dir.path()).as_deref(), Some("-O2 -DNDEBUG"));
    }

    #[test]
    fn a_directory_that_is_no_checkout_is_refused_with_the_way_to_get_one() {
        let dir = tempfile::tempdir().unwrap();
        let e = bench_dir(dir.path()).unwrap_err();
        assert!(
            e.contains("not a mimalloc-bench checkout") && e.contains("git clone"),
            "{e}"
        );
        let e = mimalloc_dir(dir.path()).unwrap_err();
        assert!(
            e.contains("not a mimalloc checkout") && e.contains("microsoft/mimalloc"),
            "{e}"
        );
    }
}
