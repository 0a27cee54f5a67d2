//! The opt-in start-up line by which a running program shows which allocator
//! serves it. With `ALLOCMUX_BANNER=1` in its environment, a program whose
//! global allocator is [`crate::Allocator`] prints, before `main` runs:
//!
//! ```text
//! allocmux: backend=mimalloc global=yes pid=4242
//! ```
//!
//! `global` says whether a block obtained from the process's global allocator
//! (`std::alloc::alloc`) belongs to the compiled-in backend: `no` when the
//! program forgot its `#[global_allocator]` line, `unknown` where the backend
//! cannot be asked. `cargo allocmux compare` sets the variable and checks the
//! line in every run. Without the variable nothing happens but one
//! environment lookup at start-up; the allocation path is untouched.

use std::alloc::Layout;

/// The environment variable that turns the line on.
pub const BANNER_ENV: &str = "ALLOCMUX_BANNER";

/// Size of the probe block: large enough that every backend's counters
/// move by at least this much, small enough to stay below glibc's mmap threshold.
pub(crate) const PROBE_SIZE: usize = 64 * 1024;

/// Allocates one [`PROBE_SIZE`] block from the global allocator, asks `test`
/// about it, and frees it.
pub(crate) fn with_global_block(test: impl FnOnce(*mut u8) -> Option<bool>) -> Option<bool> {
    let layout = Layout::from_size_align(PROBE_SIZE, 16).ok()?;
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { std::alloc::alloc(layout) };
    if p.is_null() {
        return None;
    }
    // An allocation whose pointer is never used may be removed by the
    // optimiser (Rust lets it elide allocator calls): use it.
    let p = std::hint::black_box(p);
    // SAFETY: `p` points to `PROBE_SIZE` writable bytes.
    unsafe { p.write_volatile(1) };
    let answer = test(p);
    // SAFETY: `p` came from the global allocator with `layout`.
    unsafe { std::alloc::dealloc(p, layout) };
    answer
}

/// Whether the process's global allocator is this build's backend: `Some(true)`
/// when a block from `std::alloc::alloc` is the backend's own, `Some(false)`
/// when it is not (the program installed another global allocator, or none),
/// `None` when the backend offers no way to tell.
pub fn global_allocator_is_backend() -> Option<bool> {
    crate::select::owns_global_block()
}

/// The banner line for this process.
pub fn banner_line() -> String {
    let global = match global_allocator_is_backend() {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    };
    format!(
        "allocmux: backend={} global={global} pid={}",
        crate::ACTIVE.name(),
        std::process::id()
    )
}

/// Runs before `main` (an ELF constructor); prints the banner when asked to.
#[cfg_attr(
    not(any(target_os = "linux", target_os = "android", target_os = "freebsd")),
    allow(dead_code)
)]
extern "C" fn announce_at_start() {
    if std::env::var_os(BANNER_ENV).is_some_and(|v| v == "1") {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{}", banner_line());
    }
}

/// Registers [`announce_at_start`] as a constructor; `#[used]` keeps it in
/// every binary that links the façade.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
#[used]
#[link_section = ".init_array"]
static ANNOUNCE_AT_START: extern "C" fn() = announce_at_start;
