//! Proof of use: the exit line `allocmux-preload: backend=<name> pid=<pid>
//! served=<yes|no>` on stderr when `ALLOCMUX_PRELOAD_BANNER=1`, written with
//! `write(2)` from a stack buffer (no allocation at exit), and the flag that
//! records whether this process called the library's allocation functions (or the
//! backend's own record of it, [`crate::raw::served`], for the requests that bypass
//! the flag).

use core::fmt::Write as _;
use core::sync::atomic::{AtomicBool, Ordering};

/// Set by the first allocation through the library's C API.
static SERVED: AtomicBool = AtomicBool::new(false);

/// Records that the library served an allocation: after the first call, one
/// read of a line no one writes and a predictable branch.
#[inline(always)]
pub fn note_use() {
    if !SERVED.load(Ordering::Relaxed) {
        SERVED.store(true, Ordering::Relaxed);
    }
}

/// A line built in a fixed stack buffer; text past its end is dropped.
struct Line {
    buf: [u8; 160],
    len: usize,
}

impl core::fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// At exit, with `ALLOCMUX_PRELOAD_BANNER=1`: the line on stderr.
extern "C" fn banner_at_exit() {
    // SAFETY: `getenv` with a NUL-terminated name; it does not allocate.
    let v = unsafe { libc::getenv(c"ALLOCMUX_PRELOAD_BANNER".as_ptr()) };
    // SAFETY: a non-null `getenv` result is a NUL-terminated string.
    if v.is_null() || unsafe { core::ffi::CStr::from_ptr(v) }.to_bytes() != b"1" {
        return;
    }
    let mut line = Line {
        buf: [0; 160],
        len: 0,
    };
    // SAFETY: `getpid` has no preconditions.
    let pid = unsafe { libc::getpid() };
    let served = if SERVED.load(Ordering::Relaxed) || crate::raw::served() {
        "yes"
    } else {
        "no"
    };
    let hardened = if cfg!(feature = "hardened") {
        " hardened"
    } else {
        ""
    };
    let _ = writeln!(
        line,
        "allocmux-preload: backend={} pid={pid} served={served}{hardened}",
        allocmux::BACKEND
    );
    // SAFETY: `buf[..len]` is initialised; fd 2 may be closed, which `write` reports.
    let _ = unsafe { libc::write(2, line.buf.as_ptr().cast(), line.len) };
}

/// Runs [`banner_at_exit`] when the library is finalised (process exit).
#[used]
#[link_section = ".fini_array"]
static BANNER_AT_EXIT: extern "C" fn() = banner_at_exit;
