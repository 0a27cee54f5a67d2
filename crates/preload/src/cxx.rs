//! C++'s global `operator new` and `operator delete` (their Itanium C++ ABI names), so a
//! C++ program's `new`/`delete` reach the backend directly rather than through
//! libstdc++'s definitions, which wrap `malloc` and `free` in one more call each — as
//! mimalloc's, jemalloc's and snmalloc's own override libraries do.
//!
//! Only the plain, array, sized and `nothrow` forms; the `align_val_t` forms stay
//! libstdc++'s, which call `aligned_alloc` (ours).
//!
//! **Failure.** A throwing `operator new` that cannot allocate must call the
//! new-handler and throw `std::bad_alloc`; this library cannot throw, and the release
//! profile's `panic = "abort"` makes any unwinding through a Rust frame abort. So the
//! throwing forms (x86-64 only; elsewhere libstdc++'s definitions stay in use) run the
//! backend's small-request fast path with no stack frame, as C `malloc` does, and
//! otherwise *jump* (a tail call) to a naked slow path: it calls [`try_new`] and returns
//! its block, or — on failure — looks up the next definition in the lookup order
//! (libstdc++'s, `dlsym(RTLD_NEXT)`) and jumps to it with the caller's return address,
//! so no frame of ours is on the stack when it retries through our `malloc`, runs the
//! new-handler and throws. (Until 2026-12-06 the whole operator was the naked function,
//! which cost every `new` a call, a push and a pop; docs/perf-log.md.) The `nothrow` forms
//! hand failures on the same way (the new-handler may free memory) with a plain call:
//! the next definition catches its own exception.

use core::ffi::{c_void, CStr};

#[cfg(target_arch = "x86_64")]
use crate::malloc_fast;
use crate::{free, raw_malloc};

/// A C++ allocation function taking a size and `const std::nothrow_t &`.
type NewNothrowFn = unsafe extern "C" fn(usize, *const c_void) -> *mut c_void;

/// The next definition of `name` after this library, or abort: without a C++ runtime
/// there is no way to report the failure the C++ contract demands.
#[cold]
fn next_definition(name: &CStr) -> *mut c_void {
    // SAFETY: `name` is NUL-terminated; RTLD_NEXT searches the libraries after ours.
    let f = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) };
    if f.is_null() {
        // SAFETY: aborting is always sound.
        unsafe { libc::abort() }
    }
    f
}

/// The allocation of the throwing forms past their fast path: a block, or null (then
/// the naked caller jumps to the next definition).
#[cfg(target_arch = "x86_64")]
extern "C" fn try_new(size: usize) -> *mut c_void {
    raw_malloc(size)
}

/// Defines a throwing `operator new` form `$name`, its naked slow path `$slow` and
/// `$next`, the lookup of the next definition.
///
/// `$name` is the backend's small-request fast path, inline and with no stack frame as in
/// C `malloc`; anything else tail-calls `$slow` (a jump, so the caller's return address
/// is on top of the stack when `$slow` runs). `$slow` calls [`try_new`] and returns its
/// block, or jumps to the next definition (see the module docs). The stack is 16-byte
/// aligned at each of `$slow`'s calls (entry is 8 off; one push). The C++ test
/// `tests/c/cxx.cpp` checks from a new-handler that no frame of this library is on the
/// stack when the next definition runs.
macro_rules! throwing_new {
    ($name:ident, $slow:ident, $next:ident, $what:literal) => {
        #[doc = concat!("The next `", $what, "` (for the failure jump of [`", stringify!($slow), "`]).")]
        #[cfg(target_arch = "x86_64")]
        #[cold]
        extern "C" fn $next() -> *mut c_void {
            let name = concat!(stringify!($name), "\0");
            // SAFETY: the literal ends in its only NUL.
            next_definition(unsafe { CStr::from_bytes_with_nul_unchecked(name.as_bytes()) })
        }

        #[doc = concat!("`", $what, "` past its fast path: [`try_new`], else a jump to the next definition.")]
        ///
        /// # Safety
        #[doc = concat!("Entered only by [`", stringify!($name), "`]'s tail call, with its caller's return address on top of the stack.")]
        #[cfg(target_arch = "x86_64")]
        #[unsafe(naked)]
        unsafe extern "C-unwind" fn $slow(size: usize) -> *mut c_void {
            // SAFETY: the System V calling convention is kept: `rdi` (the size) is saved
            // around the calls, the stack is 16-byte aligned at each call, and the jump
            // leaves the caller's return address for the next definition.
            core::arch::naked_asm!(
                "push rdi",
                "call {try_new}",
                "pop rdi",
                "test rax, rax",
                "jz 2f",
                "ret",
                "2:",
                "push rdi",
                "call {next}",
                "pop rdi",
                "jmp rax",
                try_new = sym try_new,
                next = sym $next,
            )
        }

        #[doc = concat!("`", $what, "`.")]
        ///
        /// # Safety
        /// Called by C++ code as that operator; on failure it may throw
        /// `std::bad_alloc` (from the next definition, with no frame of ours left).
        #[cfg(target_arch = "x86_64")]
        #[no_mangle]
        pub unsafe extern "C-unwind" fn $name(size: usize) -> *mut c_void {
            let p = malloc_fast(size);
            if !p.is_null() {
                return p;
            }
            // SAFETY: a call in tail position with this function's own signature and no
            // frame to keep, so optimised code (the release profile; the dev profile
            // optimises this crate too) jumps. Were it a call, the exception would reach
            // this frame through the `C-unwind` ABI and abort the process (defined, with
            // `panic = "abort"`) rather than reach the caller; the C++ test checks.
            unsafe { $slow(size) }
        }
    };
}

throwing_new!(_Znwm, znwm_slow, next_znwm, "operator new(std::size_t)");
throwing_new!(_Znam, znam_slow, next_znam, "operator new[](std::size_t)");

/// The `nothrow` forms' failure path.
#[cold]
#[inline(never)]
unsafe fn new_nothrow_failed(name: &CStr, size: usize, tag: *const c_void) -> *mut c_void {
    let f = next_definition(name);
    // SAFETY: `name` names an `operator new(std::size_t, const std::nothrow_t &)` form.
    unsafe { core::mem::transmute::<*mut c_void, NewNothrowFn>(f)(size, tag) }
}

/// Defines a `nothrow` `operator new` form: our block, else the next definition's answer.
macro_rules! nothrow_new {
    ($name:ident, $what:literal) => {
        #[doc = concat!("`", $what, "`.")]
        ///
        /// # Safety
        /// Called by C++ code as that operator.
        #[no_mangle]
        pub unsafe extern "C" fn $name(size: usize, tag: *const c_void) -> *mut c_void {
            let p = raw_malloc(size);
            if !p.is_null() {
                return p;
            }
            let name = concat!(stringify!($name), "\0");
            // SAFETY: the name is this function's own form, NUL-terminated.
            unsafe {
                new_nothrow_failed(
                    CStr::from_bytes_with_nul_unchecked(name.as_bytes()),
                    size,
                    tag,
                )
            }
        }
    };
}

nothrow_new!(
    _ZnwmRKSt9nothrow_t,
    "operator new(std::size_t, const std::nothrow_t &)"
);
nothrow_new!(
    _ZnamRKSt9nothrow_t,
    "operator new[](std::size_t, const std::nothrow_t &)"
);

/// Defines `operator delete` forms as `free` (sizes and tags are not needed).
macro_rules! delete_as_free {
    ($($name:ident ( $($arg:ident : $ty:ty),* ) = $what:literal;)*) => {$(
        #[doc = concat!("`", $what, "`: `free`.")]
        ///
        /// # Safety
        /// `p` must be null or a live pointer from this allocator.
        #[no_mangle]
        pub unsafe extern "C" fn $name(p: *mut c_void $(, $arg: $ty)*) {
            $(let _ = $arg;)*
            // SAFETY: forwarded caller contract.
            unsafe { free(p) }
        }
    )*};
}

delete_as_free! {
    _ZdlPv() = "operator delete(void *)";
    _ZdaPv() = "operator delete[](void *)";
    _ZdlPvm(size: usize) = "operator delete(void *, std::size_t)";
    _ZdaPvm(size: usize) = "operator delete[](void *, std::size_t)";
    _ZdlPvRKSt9nothrow_t(tag: *const c_void) = "operator delete(void *, const std::nothrow_t &)";
    _ZdaPvRKSt9nothrow_t(tag: *const c_void) = "operator delete[](void *, const std::nothrow_t &)";
}
