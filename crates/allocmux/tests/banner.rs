//! The start-up banner, from a binary that links the façade but does NOT
//! install it as its global allocator (this test binary keeps the default
//! system allocator): the banner must name the compiled-in backend and, for
//! every backend but the system allocator, say `global=no`.

use std::process::Command;

/// Runs this test binary again with the banner on, running no test at all.
fn child_stderr() -> (u32, String) {
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "no-such-test"])
        .env(allocmux::BANNER_ENV, "1")
        .output()
        .unwrap();
    assert!(child.status.success());
    (0, String::from_utf8_lossy(&child.stderr).into_owned())
}

#[test]
fn the_banner_names_the_backend_and_whether_it_serves_the_program() {
    let (_, stderr) = child_stderr();
    let line = stderr
        .lines()
        .find(|l| l.starts_with("allocmux: "))
        .unwrap_or_else(|| panic!("no banner in {stderr:?}"));
    assert!(
        line.contains(&format!("backend={} ", allocmux::BACKEND)),
        "{line}"
    );
    let expected = match (allocmux::ACTIVE, allocmux::global_allocator_is_backend()) {
        // This binary allocates with the system allocator, so only the system
        // backend owns its blocks.
        (allocmux::Backend::System, _) => "global=yes",
        (_, None) => "global=unknown",
        _ => "global=no",
    };
    assert!(line.contains(expected), "{line}");
    assert!(line.contains("pid="), "{line}");
}

#[test]
fn without_the_variable_nothing_is_printed() {
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "no-such-test"])
        .env_remove(allocmux::BANNER_ENV)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&child.stderr).contains("allocmux:"));
}
