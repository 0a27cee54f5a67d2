//! Proof that a run was served by the backend it was meant for. With
//! `ALLOCMUX_BANNER=1` in its environment, a program whose global allocator is
//! `allocmux::Allocator` prints one line as it starts:
//!
//! ```text
//! allocmux: backend=mimalloc global=yes pid=4242
//! ```
//!
//! `backend` is the backend compiled into the façade; `global` says whether
//! a block obtained from the process's global allocator belongs to that
//! backend (`unknown` where the backend offers no safe way to ask). `compare`
//! checks the line of the very process it started in every run.

use super::lines::LineKind;

/// The environment variable that turns the line on.
pub const BANNER_ENV: &str = "ALLOCMUX_BANNER";

/// The façade's start-up line.
pub const FACADE_LINE: LineKind = LineKind {
    prefix: "allocmux: ",
};

/// Checks that process `pid` announced `backend` as its global allocator;
/// returns its banner line, or why the run cannot count.
pub fn verify(stderr: &str, pid: u32, backend: &str) -> Result<String, String> {
    let b = FACADE_LINE.of_pid(stderr, pid, || {
        format!(
            "the program printed no `allocmux:` line with {BANNER_ENV}=1, so nothing shows that {backend} served it \
             (is its allocmux dependency older than this cargo-allocmux?)"
        )
    })?;
    if b.get("backend") != Some(backend) {
        return Err(format!(
            "built for {backend}, but the program says it allocates with {} ({})",
            b.get("backend").unwrap_or("?"),
            b.line
        ));
    }
    if b.get("global") == Some("no") {
        return Err(format!(
            "{backend} is linked in, but the program's global allocator is not allocmux::Allocator: add \
             `#[global_allocator] static GLOBAL: allocmux::Allocator = allocmux::Allocator;` ({})",
            b.line
        ));
    }
    Ok(b.line.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_lines_are_read_and_checked() {
        let err = "noise\nallocmux: backend=mimalloc global=yes pid=42\nallocmux: backend=slab global=no pid=7\n";
        assert_eq!(FACADE_LINE.read(err).len(), 2);
        assert_eq!(
            verify(err, 42, "mimalloc").unwrap(),
            "allocmux: backend=mimalloc global=yes pid=42"
        );
        assert!(verify(err, 42, "jemalloc")
            .unwrap_err()
            .contains("allocates with mimalloc"));
        assert!(verify(err, 7, "slab")
            .unwrap_err()
            .contains("#[global_allocator]"));
        assert!(verify(err, 99, "slab").unwrap_err().contains("pid 99"));
        assert!(verify("plain output", 1, "slab")
            .unwrap_err()
            .contains("no `allocmux:` line"));
        assert_eq!(FACADE_LINE.strip(err), "noise");
    }
}
