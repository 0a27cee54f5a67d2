//! `liballocmux_slab.so`: the slab allocator (`allocmux-slab`) behind the C allocation
//! API, to be loaded with `LD_PRELOAD=…/liballocmux_slab.so` (or linked) into any program.
//!
//! Owns the exported C symbols and their C semantics; the allocator itself is
//! [`slab::SlabAlloc`].
//!
//! * **Exports**: `malloc`, `free`, `calloc`, `realloc`, `reallocarray`,
//!   `posix_memalign`, `aligned_alloc`, `memalign`, `valloc`, `pvalloc`,
//!   `malloc_usable_size`, `cfree`, `free_sized`, `free_aligned_sized`, and glibc's
//!   `__libc_malloc`, `__libc_free`, `__libc_calloc`, `__libc_realloc`,
//!   `__libc_memalign`, `__libc_valloc`, `__libc_pvalloc`, `__libc_cfree`,
//!   `__posix_memalign`.
//! * **C semantics**: `malloc(0)` returns a unique pointer (an 8-byte block);
//!   allocations of more than 8 bytes are 16-byte aligned (`max_align_t`), smaller ones
//!   8-byte aligned; failures return NULL with `errno = ENOMEM` (`calloc` and
//!   `reallocarray` overflow included); `posix_memalign` returns `EINVAL` for an
//!   alignment that is not a power of two multiple of `sizeof(void *)` and `ENOMEM`
//!   without touching `*memptr` on failure; `aligned_alloc` with a non-power-of-two
//!   alignment fails with `EINVAL`; `memalign` rounds such alignments up (as glibc);
//!   `free(NULL)` does nothing; `realloc(NULL, n)` is `malloc(n)`; **`realloc(p, 0)`
//!   frees `p` and returns NULL** (glibc's behaviour, `REALLOC_ZERO_BYTES_FREES`).
//!   Every pointer, whatever its alignment, is freed by plain `free`: the slab finds a
//!   block's page (and so its size class and usable size) by masking the pointer.
//! * **Initialisation**: nothing to initialise: no `dlsym`, no constructor that
//!   allocates. The first `malloc` of a thread maps that thread's heap with `mmap`. The
//!   slab's thread-exit key is created in an `.init_array` constructor (no allocation).
//! * **Thread-local state**: the heap pointer lives in **initial-exec** TLS (the slab's
//!   `initial-exec-tls` feature, x86-64 Linux): reading it never calls
//!   `__tls_get_addr`, which (global-dynamic model, rustc's default in a shared object)
//!   may itself call `malloc`/`free` to resize the DTV after `dlopen` and recurse into
//!   the allocator. Initial-exec TLS is fine with `LD_PRELOAD` and with linking; a late
//!   `dlopen` of this library works only while glibc's static-TLS surplus lasts — and
//!   `dlopen`ing a malloc replacement into a running process is wrong anyway (pointers
//!   from the old allocator would reach this `free`). Thread exit: a `pthread_key_create`
//!   destructor hands the heap over (see the slab's `thread` module); frees that come
//!   after it (glibc's own TLS teardown) take the remote path.
//! * **fork**: the slab takes no lock (shared state changes by single CAS/swap), so a
//!   child forked from a multi-threaded parent has a usable allocator and no
//!   `pthread_atfork` handler is needed; heaps of threads that do not exist in the child
//!   are never reused there (their memory stays mapped).
//! * **Proof of use**: with `ALLOCMUX_SLAB_BANNER=1` in the environment, the library
//!   writes one line to stderr at exit (`allocmux-slab: active pid=… heaps=…
//!   mapped_kib=…`), with `write(2)` from a `.fini_array` function (no allocation).
//!   `allocmux_slab_active` is an exported marker symbol (returns 1).
//!
//! Nothing here panics or unwinds (every function is `extern "C"` and panic-free).

use core::ffi::{c_int, c_void};
use core::ptr;
use std::alloc::{GlobalAlloc, Layout};

use slab::SlabAlloc;

/// Rust code inside this library (there is little) allocates from the slab directly.
#[global_allocator]
static GLOBAL: SlabAlloc = SlabAlloc;

/// The alignment C's `malloc` guarantees for blocks bigger than 8 bytes
/// (`alignof(max_align_t)` on x86-64 and aarch64 Linux).
const MALLOC_ALIGN: usize = 16;
/// The OS page size assumed by `valloc`/`pvalloc` (read once from `sysconf` would need
/// no allocation either, but every supported target uses 4 KiB base pages).
const PAGE: usize = 4096;

#[inline]
fn set_errno(e: c_int) {
    // SAFETY: `__errno_location` returns this thread's errno slot, always valid.
    unsafe { *libc::__errno_location() = e };
}

/// The request size actually allocated for a plain `malloc(size)`: sizes above 8 are
/// rounded to a multiple of 16, which makes the slab pick a class whose block size is a
/// multiple of 16 (every class above 64 bytes that is a multiple of 16 exists, and spans
/// are 64 KiB aligned), so the block is 16-byte aligned without taking the aligned path.
#[inline(always)]
fn malloc_size(size: usize) -> usize {
    if size <= 8 {
        8
    } else {
        (size.wrapping_add(MALLOC_ALIGN - 1)) & !(MALLOC_ALIGN - 1)
    }
}

/// `malloc` without setting errno (null on failure).
#[inline(always)]
fn raw_malloc(size: usize) -> *mut c_void {
    let s = malloc_size(size);
    if s < size || s > isize::MAX as usize {
        return ptr::null_mut();
    }
    // SAFETY: `s` is non-zero, at most `isize::MAX`, and 8 is a power of two.
    unsafe { SlabAlloc.alloc(Layout::from_size_align_unchecked(s, 8)) as *mut c_void }
}

/// Aligned allocation without errno (null on failure); `align` a power of two.
fn raw_aligned(align: usize, size: usize) -> *mut c_void {
    if align <= 8 {
        return raw_malloc(size);
    }
    if align <= MALLOC_ALIGN {
        // Sizes above 8 are 16-byte aligned by `raw_malloc`.
        return raw_malloc(size.max(MALLOC_ALIGN));
    }
    match Layout::from_size_align(size.max(1), align) {
        // SAFETY: the layout is valid and non-zero-sized.
        Ok(l) => unsafe { SlabAlloc.alloc(l) as *mut c_void },
        Err(_) => ptr::null_mut(),
    }
}

#[inline(always)]
fn or_enomem(p: *mut c_void) -> *mut c_void {
    if p.is_null() {
        set_errno(libc::ENOMEM);
    }
    p
}

/// C `malloc`.
#[no_mangle]
pub extern "C" fn malloc(size: usize) -> *mut c_void {
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
    // SAFETY: `p` is a live allocation of the slab (caller contract); the slab's
    // `dealloc` ignores the layout (it finds the block from the pointer).
    unsafe { SlabAlloc.dealloc(p as *mut u8, Layout::from_size_align_unchecked(1, 1)) }
}

/// C `calloc`: overflow of `n * size` is NULL with `ENOMEM`.
#[no_mangle]
pub extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
    let Some(total) = n.checked_mul(size) else {
        set_errno(libc::ENOMEM);
        return ptr::null_mut();
    };
    let s = malloc_size(total);
    if s < total || s > isize::MAX as usize {
        set_errno(libc::ENOMEM);
        return ptr::null_mut();
    }
    // SAFETY: `s` is non-zero and at most `isize::MAX`.
    or_enomem(
        unsafe { SlabAlloc.alloc_zeroed(Layout::from_size_align_unchecked(s, 8)) } as *mut c_void,
    )
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
    // SAFETY: `p` is live.
    let usable = unsafe { slab::usable_size(p as *const u8) };
    if size <= usable && size >= usable / 2 {
        return p; // the block still fits and is not too wasteful
    }
    // Growing a large object moves its pages (the slab's `realloc` does that); the
    // alignment it was created with is kept. Small blocks get a fresh malloc-aligned
    // block: C's realloc only promises malloc alignment.
    let seg = slab::segment::segment_of(p as *const u8);
    // SAFETY: `p` is live, so its header is valid; `grow` leaves the object untouched
    // when it returns null.
    unsafe {
        if size > usable && (*seg).kind == slab::segment::KIND_LARGE {
            let q = slab::large::grow(seg, p as *mut u8, size);
            if !q.is_null() {
                return q as *mut c_void;
            }
        }
    }
    let q = raw_malloc(size);
    if q.is_null() {
        set_errno(libc::ENOMEM);
        return q;
    }
    // SAFETY: both blocks are live and distinct; `p` has `usable` readable bytes and
    // `q` at least `size`.
    unsafe {
        ptr::copy_nonoverlapping(p as *const u8, q as *mut u8, usable.min(size));
        free(p);
    }
    q
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
    unsafe { slab::usable_size(p as *const u8) }
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
pub extern "C" fn allocmux_slab_active() -> c_int {
    1
}

/// At exit, with `ALLOCMUX_SLAB_BANNER` set: one line on stderr, written without
/// allocating (a stack buffer and `write(2)`).
extern "C" fn banner_at_exit() {
    // SAFETY: `getenv` with a NUL-terminated name; it does not allocate.
    if unsafe { libc::getenv(c"ALLOCMUX_SLAB_BANNER".as_ptr()) }.is_null() {
        return;
    }
    let s = slab::stats();
    // SAFETY: `getpid` has no preconditions.
    let pid = unsafe { libc::getpid() } as u64;
    slab::diag::StderrLine::new()
        .push(b"allocmux-slab: active pid=")
        .push_u64(pid)
        .push(b" heaps=")
        .push_u64(s.heaps_created as u64)
        .push(b" mapped_kib=")
        .push_u64((s.mapped_bytes / 1024) as u64)
        .push(if cfg!(feature = "hardened") {
            b" hardened\n".as_slice()
        } else {
            b"\n".as_slice()
        })
        .write();
}

/// Runs [`banner_at_exit`] when the library is finalised (process exit).
#[used]
#[link_section = ".fini_array"]
static BANNER_AT_EXIT: extern "C" fn() = banner_at_exit;
