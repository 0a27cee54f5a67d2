//! `liballocmux_preload.so`: one allocmux backend behind the C allocation API, to be
//! loaded with `LD_PRELOAD` (or linked) into any program — the slab, jemalloc,
//! mimalloc or snmalloc, chosen by one Cargo feature (`slab` by default; another with
//! `--no-default-features --features mimalloc`). `cargo allocmux compare --preload`
//! builds one library per backend and copies each out as `liballocmux_<backend>.so`.
//!
//! This file owns the exported C symbols and their C semantics, the same for every
//! backend; [`raw`] maps them onto the backend's native functions (`mi_malloc`,
//! jemalloc's `_rjem_malloc`, `sn_malloc`, the slab's own entry points). Why a thin
//! layer rather than each allocator's own override build: one set of C semantics and
//! one proof of use for all five backends, the same sources the façade builds, and no
//! second build configuration per allocator to keep in step.
//!
//! * **Exports**: `malloc`, `free`, `calloc`, `realloc`, `reallocarray`,
//!   `posix_memalign`, `aligned_alloc`, `memalign`, `valloc`, `pvalloc`,
//!   `malloc_usable_size`, `cfree`, `free_sized`, `free_aligned_sized`, and glibc's
//!   `__libc_malloc`, `__libc_free`, `__libc_calloc`, `__libc_realloc`,
//!   `__libc_memalign`, `__libc_valloc`, `__libc_pvalloc`, `__libc_cfree`,
//!   `__posix_memalign`; and C++'s `operator new`/`delete` ([`cxx`]).
//! * **C semantics**: `malloc(0)` returns a unique pointer; allocations of more than
//!   8 bytes are 16-byte aligned (`max_align_t`); failures return NULL with
//!   `errno = ENOMEM` (`calloc` and `reallocarray` overflow included);
//!   `posix_memalign` returns `EINVAL` for an alignment that is not a power of two
//!   multiple of `sizeof(void *)` and `ENOMEM` without touching `*memptr` on failure;
//!   `aligned_alloc` with a non-power-of-two alignment fails with `EINVAL`; `memalign`
//!   rounds such alignments up (as glibc); `free(NULL)` does nothing;
//!   `realloc(NULL, n)` is `malloc(n)`; **`realloc(p, 0)` frees `p` and returns NULL**
//!   (glibc's behaviour). Every pointer, whatever its alignment, is freed by plain
//!   `free`.
//! * **Thread-local state** is initial-exec TLS in every backend (the slab's
//!   `initial-exec-tls` feature; jemalloc, mimalloc and snmalloc build that way), so
//!   reading it never calls `__tls_get_addr`, which may itself allocate. The library
//!   must therefore be loaded at start-up (`LD_PRELOAD` or linked), not `dlopen`ed late.
//! * **fork**: the slab takes no lock; jemalloc, mimalloc and snmalloc install their
//!   own fork handlers. `tests/c/abi.c` forks 200 times while 8 threads allocate.
//! * **Proof of use**: with `ALLOCMUX_PRELOAD_BANNER=1` in the environment, the library
//!   writes one line to stderr at exit, `allocmux-preload: backend=<name> pid=<pid>
//!   served=<yes|no>` (`served`: this process called its allocation functions), with
//!   `write(2)` from a `.fini_array` function (no allocation), to a copy of stderr
//!   taken at load (programs such as coreutils close stderr before the library's
//!   finaliser runs).
//!   `allocmux_preload_active` is an exported marker symbol (returns 1).
//!
//! Nothing here panics or unwinds (every function is `extern "C"` and panic-free),
//! except that a failed C++ `operator new` lets the C++ runtime's `std::bad_alloc`
//! through ([`cxx`]).

mod banner;
pub mod cxx;
pub mod raw;

use core::ffi::{c_int, c_void};
use core::ptr;

/// Rust code inside this library (there is little) allocates from the same backend.
#[global_allocator]
static GLOBAL: allocmux::Allocator = allocmux::Allocator;

/// The alignment C's `malloc` guarantees for blocks bigger than 8 bytes
/// (`alignof(max_align_t)` on x86-64 and aarch64 Linux).
const MALLOC_ALIGN: usize = 16;
/// The OS page size assumed by `valloc`/`pvalloc` (every supported target uses
/// 4 KiB base pages).
const PAGE: usize = 4096;

#[inline]
fn set_errno(e: c_int) {
    // SAFETY: `__errno_location` returns this thread's errno slot, always valid.
    unsafe { *libc::__errno_location() = e };
}

/// Whether a request of `size` bytes can be met at all (C's objects are at most
/// `PTRDIFF_MAX` bytes).
#[inline(always)]
fn fits(size: usize) -> bool {
    size <= isize::MAX as usize
}

/// Whether a request of `size` bytes takes the backend's small-request path
/// ([`raw::SMALL_MAX`] is 0 for the backends that have none).
#[inline(always)]
#[allow(clippy::absurd_extreme_comparisons)]
fn is_small(size: usize) -> bool {
    size <= raw::SMALL_MAX
}

/// `malloc` without setting errno (null on failure).
#[inline(always)]
fn raw_malloc(size: usize) -> *mut c_void {
    if is_small(size) {
        return raw::malloc_small(size);
    }
    banner::note_use();
    if !fits(size) {
        return ptr::null_mut();
    }
    raw::malloc(size.max(1))
}

/// Aligned allocation without errno (null on failure); `align` a power of two.
fn raw_aligned(align: usize, size: usize) -> *mut c_void {
    if align <= 8 {
        return raw_malloc(size);
    }
    if align <= MALLOC_ALIGN {
        // Blocks above 8 bytes are 16-byte aligned.
        return raw_malloc(size.max(MALLOC_ALIGN));
    }
    banner::note_use();
    if !fits(size) || !fits(align) {
        return ptr::null_mut();
    }
    raw::aligned(align, size.max(1))
}

#[inline(always)]
fn or_enomem(p: *mut c_void) -> *mut c_void {
    if p.is_null() {
        set_errno(libc::ENOMEM);
    }
    p
}

/// C `malloc`: the backend's small-request fast path, inline and with no stack frame;
/// everything else (a miss, a bigger request, a failure's errno) tail-calls
/// [`malloc_cold`].
#[no_mangle]
pub extern "C" fn malloc(size: usize) -> *mut c_void {
    let p = malloc_fast(size);
    if !p.is_null() {
        return p;
    }
    malloc_cold(size)
}

/// The backend's small-request fast path alone: a block, or null on a miss or a bigger
/// request (then the caller's cold path runs). C `malloc` and the throwing `operator new`
/// forms begin with it, so both stay leaf functions on a hit.
#[inline(always)]
fn malloc_fast(size: usize) -> *mut c_void {
    if is_small(size) {
        raw::malloc_small_fast(size)
    } else {
        ptr::null_mut()
    }
}

/// `malloc` past its fast path.
#[cold]
#[inline(never)]
fn malloc_cold(size: usize) -> *mut c_void {
    or_enomem(raw_malloc(size))
}

/// C `free`.
///
/// # Safety
/// `p` must be null or a live pointer from this allocator.
#[no_mangle]
pub unsafe extern "C" fn free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: `p` is a live allocation of this backend (caller contract).
    unsafe { raw::free(p) }
}

/// C `calloc`: overflow of `n * size` is NULL with `ENOMEM`.
#[no_mangle]
pub extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
    banner::note_use();
    match n.checked_mul(size) {
        Some(total) if fits(total) => or_enomem(raw::calloc(total.max(1))),
        _ => {
            set_errno(libc::ENOMEM);
            ptr::null_mut()
        }
    }
}

/// C `realloc`: `realloc(NULL, n)` = `malloc(n)`; `realloc(p, 0)` frees `p` and returns
/// NULL (glibc); on failure `p` is untouched and errno is `ENOMEM`.
///
/// # Safety
/// `p` must be null or a live pointer from this allocator.
#[no_mangle]
pub unsafe extern "C" fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
    if p.is_null() {
        return malloc(size);
    }
    if size == 0 {
        // SAFETY: `p` is live (caller contract).
        unsafe { free(p) };
        return ptr::null_mut();
    }
    banner::note_use();
    if !fits(size) {
        set_errno(libc::ENOMEM);
        return ptr::null_mut();
    }
    // SAFETY: `p` is live (caller contract) and `size` is non-zero; on failure the
    // backend leaves `p` untouched.
    or_enomem(unsafe { raw::realloc(p, size) })
}

/// C `reallocarray` (glibc ≥ 2.26, BSD): `realloc(p, n * size)` with overflow → ENOMEM.
///
/// # Safety
/// As for [`realloc`].
#[no_mangle]
pub unsafe extern "C" fn reallocarray(p: *mut c_void, n: usize, size: usize) -> *mut c_void {
    match n.checked_mul(size) {
        // SAFETY: forwarded caller contract.
        Some(total) => unsafe { realloc(p, total) },
        None => {
            set_errno(libc::ENOMEM);
            ptr::null_mut()
        }
    }
}

/// POSIX `posix_memalign`: `EINVAL` unless `align` is a power of two multiple of
/// `sizeof(void *)`; `ENOMEM` on failure; `*out` is written only on success.
///
/// # Safety
/// `out` must be valid for a pointer write.
#[no_mangle]
pub unsafe extern "C" fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> c_int {
    if !align.is_power_of_two() || align % core::mem::size_of::<*mut c_void>() != 0 {
        return libc::EINVAL;
    }
    let p = raw_aligned(align, size);
    if p.is_null() {
        return libc::ENOMEM;
    }
    // SAFETY: `out` is writable (caller contract).
    unsafe { *out = p };
    0
}

/// C11 `aligned_alloc`: a non-power-of-two alignment fails with `EINVAL` (any size is
/// accepted, as in glibc).
#[no_mangle]
pub extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
    if !align.is_power_of_two() {
        set_errno(libc::EINVAL);
        return ptr::null_mut();
    }
    or_enomem(raw_aligned(align, size))
}

/// Obsolete `memalign`: like glibc, a non-power-of-two alignment is rounded up.
#[no_mangle]
pub extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
    let Some(align) = align.checked_next_power_of_two() else {
        set_errno(libc::EINVAL);
        return ptr::null_mut();
    };
    or_enomem(raw_aligned(align, size))
}

/// Obsolete `valloc`: page-aligned.
#[no_mangle]
pub extern "C" fn valloc(size: usize) -> *mut c_void {
    or_enomem(raw_aligned(PAGE, size))
}

/// Obsolete `pvalloc`: page-aligned, size rounded up to whole pages (0 → one page).
#[no_mangle]
pub extern "C" fn pvalloc(size: usize) -> *mut c_void {
    let Some(rounded) = size.max(1).checked_add(PAGE - 1) else {
        set_errno(libc::ENOMEM);
        return ptr::null_mut();
    };
    or_enomem(raw_aligned(PAGE, rounded & !(PAGE - 1)))
}

/// glibc `malloc_usable_size`: 0 for NULL, else the block's usable bytes.
///
/// # Safety
/// `p` must be null or a live pointer from this allocator.
#[no_mangle]
pub unsafe extern "C" fn malloc_usable_size(p: *mut c_void) -> usize {
    if p.is_null() {
        return 0;
    }
    // SAFETY: `p` is live (caller contract).
    unsafe { raw::usable_size(p) }
}

/// Obsolete `cfree` (= `free`).
///
/// # Safety
/// As for [`free`].
#[no_mangle]
pub unsafe extern "C" fn cfree(p: *mut c_void) {
    // SAFETY: forwarded caller contract.
    unsafe { free(p) }
}

/// C23 `free_sized` (the size is not needed).
///
/// # Safety
/// As for [`free`].
#[no_mangle]
pub unsafe extern "C" fn free_sized(p: *mut c_void, _size: usize) {
    // SAFETY: forwarded caller contract.
    unsafe { free(p) }
}

/// C23 `free_aligned_sized` (alignment and size are not needed).
///
/// # Safety
/// As for [`free`].
#[no_mangle]
pub unsafe extern "C" fn free_aligned_sized(p: *mut c_void, _align: usize, _size: usize) {
    // SAFETY: forwarded caller contract.
    unsafe { free(p) }
}

// ---- glibc's internal aliases (some programs and libraries call these directly) ----

/// `__libc_malloc` = [`malloc`].
#[no_mangle]
pub extern "C" fn __libc_malloc(size: usize) -> *mut c_void {
    malloc(size)
}

/// `__libc_free` = [`free`].
///
/// # Safety
/// As for [`free`].
#[no_mangle]
pub unsafe extern "C" fn __libc_free(p: *mut c_void) {
    // SAFETY: forwarded caller contract.
    unsafe { free(p) }
}

/// `__libc_cfree` = [`free`].
///
/// # Safety
/// As for [`free`].
#[no_mangle]
pub unsafe extern "C" fn __libc_cfree(p: *mut c_void) {
    // SAFETY: forwarded caller contract.
    unsafe { free(p) }
}

/// `__libc_calloc` = [`calloc`].
#[no_mangle]
pub extern "C" fn __libc_calloc(n: usize, size: usize) -> *mut c_void {
    calloc(n, size)
}

/// `__libc_realloc` = [`realloc`].
///
/// # Safety
/// As for [`realloc`].
#[no_mangle]
pub unsafe extern "C" fn __libc_realloc(p: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: forwarded caller contract.
    unsafe { realloc(p, size) }
}

/// `__libc_memalign` = [`memalign`].
#[no_mangle]
pub extern "C" fn __libc_memalign(align: usize, size: usize) -> *mut c_void {
    memalign(align, size)
}

/// `__libc_valloc` = [`valloc`].
#[no_mangle]
pub extern "C" fn __libc_valloc(size: usize) -> *mut c_void {
    valloc(size)
}

/// `__libc_pvalloc` = [`pvalloc`].
#[no_mangle]
pub extern "C" fn __libc_pvalloc(size: usize) -> *mut c_void {
    pvalloc(size)
}

/// `__posix_memalign` = [`posix_memalign`].
///
/// # Safety
/// As for [`posix_memalign`].
#[no_mangle]
pub unsafe extern "C" fn __posix_memalign(
    out: *mut *mut c_void,
    align: usize,
    size: usize,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe { posix_memalign(out, align, size) }
}

// ---- proof of use ----

/// Marker symbol: a program can check that it runs with this library (returns 1).
#[no_mangle]
pub extern "C" fn allocmux_preload_active() -> c_int {
    1
}

/// This crate's `allocmux-built-from:PACKAGE=DIRECTORY;` mark.
const BUILT_FROM: &str = concat!(
    "allocmux-built-from:",
    env!("CARGO_PKG_NAME"),
    "=",
    env!("CARGO_MANIFEST_DIR"),
    ";"
);

/// Where Cargo compiled each of allocmux's crates in this library (this one,
/// the façade and, with the slab, the slab). Exported, so the marks stay in the
/// file, where the harness reads them to check that a build comes from the
/// checkout it builds from.
#[cfg(feature = "slab")]
#[no_mangle]
pub static ALLOCMUX_PRELOAD_BUILT_FROM: [&str; 3] =
    [BUILT_FROM, allocmux::BUILT_FROM, slab::BUILT_FROM];

/// See the slab build's `ALLOCMUX_PRELOAD_BUILT_FROM`.
#[cfg(not(feature = "slab"))]
#[no_mangle]
pub static ALLOCMUX_PRELOAD_BUILT_FROM: [&str; 2] = [BUILT_FROM, allocmux::BUILT_FROM];
