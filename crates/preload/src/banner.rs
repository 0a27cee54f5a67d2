//! Proof of use: the exit line `allocmux-preload: backend=<name> pid=<pid>
//! served=<yes|no>` on stderr when `ALLOCMUX_PRELOAD_BANNER=1`, written with
//! `write(2)` from a stack buffer (no allocation at exit), and the flag that
//! records whether this process called the library's allocation functions (or the
//! backend's own record of it, [`crate::raw::served`], for the requests that bypass
//! the flag).
//!
//! The line goes to a copy of stderr taken when the library is loaded, not to
//! descriptor 2 at exit: many programs close their standard streams in an
//! `atexit` handler (every GNU coreutils program does, to report write errors),
//! which runs before the library's finaliser, so a line written to descriptor 2
//! then would be lost. The copy is close-on-exec and sits at descriptor
//! `min(RLIMIT_NOFILE, 1024) - 1` (or the first free one above it; failing that,
//! the lowest free one above 2), so it does not shift the numbers a program's
//! own `open` calls get; it is taken only when the banner is on.

use core::ffi::c_int;
use core::fmt::Write as _;
use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};

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

/// The copy of stderr the exit line goes to; -1 while the banner is off.
static BANNER_FD: AtomicI32 = AtomicI32::new(-1);

/// Where the copy of stderr is placed: the last descriptor below the process's
/// soft descriptor limit, but below 1024 so the kernel's descriptor table does
/// not grow for it when the limit is large.
fn high_descriptor() -> c_int {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes one `rlimit` into the valid local `limit`.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 3;
    }
    let top = limit.rlim_cur.min(1024) as c_int - 1;
    top.max(3)
}

/// At load, with `ALLOCMUX_PRELOAD_BANNER=1`: takes the copy of stderr.
extern "C" fn banner_at_load() {
    // SAFETY: `getenv` with a NUL-terminated name; it does not allocate.
    let v = unsafe { libc::getenv(c"ALLOCMUX_PRELOAD_BANNER".as_ptr()) };
    // SAFETY: a non-null `getenv` result is a NUL-terminated string.
    if v.is_null() || unsafe { core::ffi::CStr::from_ptr(v) }.to_bytes() != b"1" {
        return;
    }
    // SAFETY: `fcntl(F_DUPFD_CLOEXEC)` on descriptor 2 only creates a new
    // descriptor (or fails with -1); it touches no memory of ours.
    let mut fd = unsafe { libc::fcntl(2, libc::F_DUPFD_CLOEXEC, high_descriptor()) };
    if fd < 0 {
        // SAFETY: as above, with the lowest free number above 2.
        fd = unsafe { libc::fcntl(2, libc::F_DUPFD_CLOEXEC, 3) };
    }
    // Without a copy (stderr closed at start, no descriptor free) the line is
    // written to descriptor 2 at exit, as before.
    BANNER_FD.store(if fd < 0 { 2 } else { fd }, Ordering::Relaxed);
}

/// Runs [`banner_at_load`] when the library is loaded, before the program's `main`.
#[used]
#[link_section = ".init_array"]
static BANNER_AT_LOAD: extern "C" fn() = banner_at_load;

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

/// At exit, when the banner is on: the line on the copy of stderr.
extern "C" fn banner_at_exit() {
    let fd = BANNER_FD.load(Ordering::Relaxed);
    if fd < 0 {
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
    // SAFETY: `buf[..len]` is initialised; either descriptor may have been
    // closed by the program, which `write` reports (EBADF) without harm.
    let written = unsafe { libc::write(fd, line.buf.as_ptr().cast(), line.len) };
    if written < 0 && fd != 2 {
        // The program closed the copy (e.g. `closefrom(3)`): try stderr itself.
        // SAFETY: as above.
        let _ = unsafe { libc::write(2, line.buf.as_ptr().cast(), line.len) };
    }
}

/// Runs [`banner_at_exit`] when the library is finalised (process exit).
#[used]
#[link_section = ".fini_array"]
static BANNER_AT_EXIT: extern "C" fn() = banner_at_exit;
