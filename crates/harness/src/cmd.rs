//! Running `cargo` and other programs: one place that builds the command,
//! captures its output into a log file and reports failures.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};

/// A `cargo` command run in `dir`: the `cargo` that invoked us when there is
/// one (respects rustup toolchain overrides), else the one on `PATH`.
pub fn cargo(dir: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut c = Command::new(cargo);
    c.current_dir(dir);
    c
}

/// Compiles the C file `src` into the shared library `out` with the system's
/// `cc -shared -fPIC -O1`: the stand-in allocator libraries of the tests that
/// check `--library NAME=PATH`.
pub fn compile_shared_library(src: &Path, out: &Path) -> Result<(), String> {
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-O1", "-o"])
        .arg(out)
        .arg(src)
        .status()
        .map_err(|e| format!("cannot run cc: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cc could not compile {} ({status})", src.display()))
    }
}

/// Renders a command as the shell line a person could paste.
pub fn display(c: &Command) -> String {
    let mut s = String::new();
    for (k, v) in c.get_envs() {
        if let Some(v) = v {
            s.push_str(&format!("{}={} ", k.to_string_lossy(), v.to_string_lossy()));
        }
    }
    // `cargo` rather than the toolchain's full path: the line is for people.
    let program = Path::new(c.get_program());
    s.push_str(
        &program
            .file_name()
            .unwrap_or(c.get_program())
            .to_string_lossy(),
    );
    for a in c.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// What a logged command did.
pub struct Logged {
    /// Whether it exited with status 0.
    pub success: bool,
    /// Everything it printed (stdout and stderr, interleaved as written).
    pub output: String,
}

/// Runs `c` with stdout and stderr going to `log` (created or truncated), and
/// returns its status and output. Fails only if the program cannot start.
pub fn run_logged(c: &mut Command, log: &Path) -> std::io::Result<Logged> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = File::create(log)?;
    let status = c
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .status()
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot run `{}`: {e}", display(c))))?;
    let output = std::fs::read_to_string(log).unwrap_or_default();
    Ok(Logged {
        success: status.success(),
        output,
    })
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The last non-blank line of `text` (what a failing program said last), trimmed.
pub fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
}

/// Checks that valgrind is installed; if not, the error says that `needed_by`
/// (`the instructions method`, `cargo xtask workload-codegen`) needs it and
/// how to install it.
pub fn require_valgrind(needed_by: &str) -> Result<(), String> {
    match Command::new("valgrind").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err(format!(
            "valgrind is not installed, and {needed_by} needs it: install it with \
             `apt-get install valgrind` (Debian/Ubuntu) or `dnf install valgrind`"
        )),
    }
}
