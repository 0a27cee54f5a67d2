//! `cargo xtask preload-check`: builds every backend's C library (`crates/preload`,
//! release) and runs real programs with each preloaded (`LD_PRELOAD`), comparing each
//! program's output with a plain run: `python3` on `crates/preload/tests/preload/
//! exercise.py` (dicts, strings, threads), `git` on a scratch repository (init, add many
//! files, commit, log, gc, fsck), coreutils' `sort` (which closes stderr in its exit
//! handler, before the library's exit line) and the multithreaded system-allocator Rust
//! example `mt_system`.
//!
//! Proof that a preloaded run used the library: its exit line
//! (`ALLOCMUX_PRELOAD_BANNER=1` → `allocmux-preload: backend=<name> pid=<pid>
//! served=yes` on stderr) must name the very process that was started and the backend
//! meant, i.e. that process's `malloc` calls were served by that library.
//!
//! Prints one verdict line per backend and program with the preloaded time relative to
//! the plain run; exits 1 if any fails.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use allocmux::Backend;
use allocmux_harness::cmd;
use allocmux_harness::compare::preload::{self, PRELOAD_BANNER_ENV};
use clap::Args;

use crate::{cargo, workspace_root};

/// Options of `cargo xtask preload-check`.
#[derive(Args)]
pub struct PreloadArgs {
    /// Backends whose libraries to check (comma-separated; default: all but system).
    #[arg(long, value_delimiter = ',')]
    backends: Option<Vec<Backend>>,
    /// Build the slab's library with its hardened mode.
    #[arg(long)]
    hardened: bool,
    /// Files the git scenario adds to its scratch repository.
    #[arg(long, default_value_t = 2000)]
    git_files: usize,
}

/// What one run of a program did.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
    seconds: f64,
}

/// A library to preload and the backend it carries.
#[derive(Clone, Copy)]
struct Lib<'a> {
    path: &'a Path,
    backend: Backend,
}

/// Runs `c` (optionally preloaded), capturing its output and wall time.
fn run(c: &mut Command, preload: Option<Lib<'_>>) -> std::io::Result<(Run, u32)> {
    if let Some(lib) = preload {
        c.env("LD_PRELOAD", lib.path).env(PRELOAD_BANNER_ENV, "1");
    } else {
        c.env_remove("LD_PRELOAD").env_remove(PRELOAD_BANNER_ENV);
    }
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let child = c.spawn().map_err(|e| {
        std::io::Error::new(e.kind(), format!("cannot run `{}`: {e}", cmd::display(c)))
    })?;
    let pid = child.id();
    let out = child.wait_with_output()?;
    let seconds = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    Ok((
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr,
            seconds,
        },
        pid,
    ))
}

/// One program's verdict.
struct Verdict {
    name: String,
    ok: bool,
    plain: f64,
    preloaded: f64,
    detail: String,
}

/// What went wrong in either run of a plain/preloaded pair (empty if both exited 0).
fn failures(plain: &Run, pre: &Run) -> Vec<String> {
    let mut problems = Vec::new();
    if !plain.ok {
        problems.push(format!(
            "plain run failed: {}",
            cmd::tail(&plain.stderr, 10)
        ));
    }
    if !pre.ok {
        problems.push(format!(
            "preloaded run failed: {}",
            cmd::tail(&preload::LIBRARY_LINE.strip(&pre.stderr), 10)
        ));
    }
    problems
}

/// A program run once plain and once preloaded, each from a fresh `Command`.
fn check_program(
    name: &str,
    lib: Lib<'_>,
    mut make: impl FnMut(bool) -> std::io::Result<Command>,
) -> std::io::Result<Verdict> {
    let (plain, _) = run(&mut make(false)?, None)?;
    let (pre, pid) = run(&mut make(true)?, Some(lib))?;
    let mut problems = failures(&plain, &pre);
    if plain.stdout != pre.stdout {
        problems.push(format!(
            "output differs:\n--- plain\n{}\n--- preloaded\n{}",
            cmd::tail(&plain.stdout, 10),
            cmd::tail(&pre.stdout, 10)
        ));
    }
    if let Err(e) = preload::verify(&pre.stderr, pid, lib.backend.name()) {
        problems.push(e);
    }
    Ok(Verdict {
        name: name.to_owned(),
        ok: problems.is_empty(),
        plain: plain.seconds,
        preloaded: pre.seconds,
        detail: problems.join("\n"),
    })
}

/// The `git` scenario as one shell-free sequence of git commands in `dir`; each command's
/// stdout is concatenated. Dates, names and config are pinned so hashes repeat.
fn git_scenario(dir: &Path, files: usize, lib: Option<Lib<'_>>) -> std::io::Result<Run> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let git = |args: &[&str]| {
        let mut c = Command::new("git");
        c.current_dir(dir)
            .env("HOME", dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "allocmux")
            .env("GIT_AUTHOR_EMAIL", "ci@allocmux.invalid")
            .env("GIT_COMMITTER_NAME", "allocmux")
            .env("GIT_COMMITTER_EMAIL", "ci@allocmux.invalid")
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .args(["-c", "init.defaultBranch=main", "-c", "gc.auto=0"])
            .args(args);
        c
    };
    let mut all = Run {
        ok: true,
        stdout: String::new(),
        stderr: String::new(),
        seconds: 0.0,
    };
    let step = |args: &[&str], all: &mut Run| -> std::io::Result<()> {
        let (r, pid) = run(&mut git(args), lib)?;
        all.ok &= r.ok;
        all.seconds += r.seconds;
        all.stdout
            .push_str(&format!("$ git {}\n{}", args.join(" "), r.stdout));
        all.stderr.push_str(&r.stderr);
        if let Some(lib) = lib {
            if let Err(e) = preload::verify(&r.stderr, pid, lib.backend.name()) {
                all.ok = false;
                all.stderr
                    .push_str(&format!("\n`git {}`: {e}\n", args.join(" ")));
            }
        }
        Ok(())
    };
    step(&["init", "-q", "."], &mut all)?;
    let write_files = |round: usize| -> std::io::Result<()> {
        for i in 0..files {
            let sub = dir.join(format!("d{}", i % 40));
            std::fs::create_dir_all(&sub)?;
            if round > 0 && i % 3 != 0 {
                continue;
            }
            let body: String = (0..(i % 50 + 1))
                .map(|k| format!("file {i} line {k} round {round}\n"))
                .collect();
            std::fs::write(sub.join(format!("f{i}.txt")), body)?;
        }
        Ok(())
    };
    write_files(0)?;
    step(&["add", "."], &mut all)?;
    step(&["commit", "-q", "-m", "first: many files"], &mut all)?;
    write_files(1)?;
    step(&["add", "-A"], &mut all)?;
    step(
        &["commit", "-q", "-m", "second: every third file changed"],
        &mut all,
    )?;
    step(&["log", "--stat", "--format=%H %s"], &mut all)?;
    step(&["diff", "--shortstat", "HEAD~1", "HEAD"], &mut all)?;
    step(&["gc", "-q", "--aggressive"], &mut all)?;
    step(&["fsck", "--full"], &mut all)?;
    // (No pack sizes: a multi-threaded `gc` may delta objects differently run to run.)
    step(&["rev-list", "--objects", "--all"], &mut all)?;
    step(
        &["cat-file", "--batch-all-objects", "--batch-check"],
        &mut all,
    )?;
    Ok(all)
}

fn check_git(lib: Lib<'_>, files: usize) -> std::io::Result<Verdict> {
    let base = scratch_dir("git")?;
    let plain = git_scenario(&base.join("plain"), files, None)?;
    let pre = git_scenario(&base.join("preloaded"), files, Some(lib))?;
    let _ = std::fs::remove_dir_all(&base);
    let mut problems = failures(&plain, &pre);
    if plain.stdout != pre.stdout {
        let first_diff = plain
            .stdout
            .lines()
            .zip(pre.stdout.lines())
            .find(|(a, b)| a != b)
            .map(|(a, b)| format!("plain: {a}\npreloaded: {b}"))
            .unwrap_or_else(|| "outputs differ in length".into());
        problems.push(format!("output differs:\n{first_diff}"));
    }
    Ok(Verdict {
        name: format!("git ({files} files)"),
        ok: problems.is_empty(),
        plain: plain.seconds,
        preloaded: pre.seconds,
        detail: problems.join("\n"),
    })
}

/// The real interpreter behind `python3` (not a version-manager shim that would start
/// other processes first): `sys.executable`.
fn python() -> std::io::Result<PathBuf> {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .env_remove("LD_PRELOAD")
        .output()?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || path.is_empty() {
        return Err(std::io::Error::other("python3 not found"));
    }
    Ok(PathBuf::from(path))
}

/// A scratch directory for scenario `what`, below the target directory.
fn scratch_dir(what: &str) -> std::io::Result<PathBuf> {
    let dir = crate::paths()
        .target_dir
        .join(format!("preload-check-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// `sort -n` over 200,000 numbers in a scrambled order. coreutils close stdout and
/// stderr in an `atexit` handler, which runs before the library's finaliser: the exit
/// line must arrive anyway (the library writes it to a copy of stderr).
fn check_sort(name: &str, lib: Lib<'_>) -> std::io::Result<Verdict> {
    let dir = scratch_dir("sort")?;
    let input = dir.join("numbers.txt");
    // Multiplying by an odd constant modulo 2^20 visits every residue once.
    let numbers: String = (0..200_000u64)
        .map(|i| format!("{}\n", (i * 0x9e37_79b9) % (1 << 20)))
        .collect();
    std::fs::write(&input, numbers)?;
    let verdict = check_program(name, lib, |_| {
        let mut c = Command::new("sort");
        c.arg("-n").arg(&input);
        Ok(c)
    });
    let _ = std::fs::remove_dir_all(&dir);
    verdict
}

/// Builds every chosen backend's library and the example, runs the programs
/// under each, prints the verdicts.
pub fn run_check(args: &PreloadArgs) -> Result<ExitCode, String> {
    let io = |e: std::io::Error| e.to_string();
    let paths = crate::paths();
    let backends: Vec<Backend> = args
        .backends
        .clone()
        .unwrap_or_else(|| Backend::ALL.to_vec())
        .into_iter()
        .filter(|b| *b != Backend::System)
        .collect();
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "-p",
        "allocmux-preload",
        "--example",
        "mt_system",
    ]);
    eprintln!("   building: {}", cmd::display(&build));
    if !build.status().map_err(io)?.success() {
        return Err("building the mt_system example failed".into());
    }
    let example = paths.target_dir.join("release/examples/mt_system");
    let script = workspace_root().join("crates/preload/tests/preload/exercise.py");
    let py = python().map_err(io)?;

    let mut verdicts = Vec::new();
    for backend in backends {
        let extra: &[&str] = if args.hardened && backend == Backend::Slab {
            &["hardened"]
        } else {
            &[]
        };
        eprintln!("   building the {backend} library …");
        let path = preload::build_library(
            &paths,
            backend,
            extra,
            &paths.target_dir.join("preload/logs"),
        )?;
        println!("library for {backend}: {}", path.display());
        let lib = Lib {
            path: &path,
            backend,
        };
        let tag = |name: &str| format!("{backend}: {name}");
        verdicts.push(
            check_program(&tag("python3 (dicts, strings, threads)"), lib, |_| {
                let mut c = Command::new(&py);
                c.arg(&script);
                Ok(c)
            })
            .map_err(io)?,
        );
        let mut git = check_git(lib, args.git_files).map_err(io)?;
        git.name = tag(&git.name);
        verdicts.push(git);
        verdicts.push(check_sort(&tag("sort (coreutils)"), lib).map_err(io)?);
        verdicts.push(
            check_program(&tag("mt_system (Rust, System allocator)"), lib, |_| {
                Ok(Command::new(&example))
            })
            .map_err(io)?,
        );
    }

    let mut failed = 0;
    for v in &verdicts {
        let verdict = if v.ok { "ok    " } else { "FAILED" };
        println!(
            "{verdict} {:<48} plain {:>7.2} s  preloaded {:>7.2} s  ({:.2}× plain)",
            v.name,
            v.plain,
            v.preloaded,
            v.preloaded / v.plain.max(1e-9)
        );
        if !v.ok {
            failed += 1;
            for line in v.detail.lines() {
                println!("       | {line}");
            }
        }
    }
    if failed == 0 {
        println!("all {} checks ok", verdicts.len());
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{failed} of {} checks failed", verdicts.len());
        Ok(ExitCode::FAILURE)
    }
}
