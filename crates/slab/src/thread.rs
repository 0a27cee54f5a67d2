//! Thread state: the per-thread heap pointer and thread-exit hand-over.
//!
//! The heap pointer is a `const`-initialised `thread_local!` `Cell<*mut Heap>`; its type
//! has no `Drop`, so Rust registers no TLS destructor and first access never allocates.
//! Thread exit is caught by a `pthread_key_create` destructor (the key's value is the
//! heap), registered once through an atomic state machine — no `Once`, no allocation —
//! and eagerly from an `.init_array` constructor, so the key exists before any thread can
//! race on creating it (that is also why no thread can be spinning on the key state when
//! another thread forks: the only spin happens before `main`).

use core::ptr;
use core::sync::atomic::{AtomicU32, AtomicU8, Ordering};

use crate::heap::Heap;
use crate::lifecycle;

/// The per-thread heap slot. Default: a `thread_local!` (the TLS model rustc picks:
/// initial-/local-exec in executables, global-dynamic in shared objects).
#[cfg(not(all(
    feature = "initial-exec-tls",
    target_arch = "x86_64",
    target_os = "linux",
    not(miri)
)))]
mod tls {
    use super::*;
    use core::cell::Cell;

    thread_local! {
        static HEAP: Cell<*mut Heap> = const { Cell::new(ptr::null_mut()) };
        static EXITED: Cell<bool> = const { Cell::new(false) };
    }

    /// Whether this thread's heap was handed over at thread exit.
    #[inline]
    pub fn exited() -> bool {
        EXITED.try_with(Cell::get).unwrap_or(true)
    }

    /// Records that this thread's heap was handed over at thread exit.
    #[inline]
    pub fn set_exited() {
        let _ = EXITED.try_with(|c| c.set(true));
    }

    /// The slot's value (null when unset or when TLS is gone).
    #[inline(always)]
    pub fn get() -> *mut Heap {
        HEAP.try_with(Cell::get).unwrap_or(ptr::null_mut())
    }

    /// Sets the slot; false if this thread's TLS is already torn down.
    #[inline]
    pub fn set(h: *mut Heap) -> bool {
        HEAP.try_with(|c| c.set(h)).is_ok()
    }
}

/// The per-thread heap slot as an **initial-exec** TLS variable (feature
/// `initial-exec-tls`, x86-64 Linux), for the preloadable C library: in a shared object
/// rustc's `thread_local!` uses the global-dynamic model, whose `__tls_get_addr` may
/// call `malloc`/`free` itself (resizing the DTV, freeing a dlclosed module's block) and
/// so re-enter the allocator. Initial-exec reads `%fs:offset` directly and never calls
/// anything; the price is that the library must be loaded at start-up (`LD_PRELOAD` or
/// linked), not `dlopen`ed late into a process whose static TLS surplus is used up.
///
/// Cargo unifies features per build: when `crates/preload` is built in the same
/// invocation as a Rust program using the slab (`cargo test --workspace`), that program
/// gets this variant too. That is harmless: in an executable the linker relaxes the
/// initial-exec access to local-exec (a constant offset from `%fs`).
#[cfg(all(
    feature = "initial-exec-tls",
    target_arch = "x86_64",
    target_os = "linux",
    not(miri)
))]
mod tls {
    use super::*;
    use core::arch::{asm, global_asm};

    // Eight zero bytes of `.tbss`: global (so the linker pulls this object out of the
    // rlib for the references below) but hidden (never exported from a shared object).
    global_asm!(
        ".pushsection .tbss.allocmux_slab_heap,\"awT\",@nobits",
        ".p2align 3",
        ".globl allocmux_slab_tls_heap",
        ".hidden allocmux_slab_tls_heap",
        ".type allocmux_slab_tls_heap, @object",
        ".size allocmux_slab_tls_heap, 8",
        "allocmux_slab_tls_heap:",
        ".zero 8",
        ".popsection",
    );

    // One zero byte of `.tbss`: set once this thread's heap was handed over at exit.
    global_asm!(
        ".pushsection .tbss.allocmux_slab_exited,\"awT\",@nobits",
        ".globl allocmux_slab_tls_exited",
        ".hidden allocmux_slab_tls_exited",
        ".type allocmux_slab_tls_exited, @object",
        ".size allocmux_slab_tls_exited, 1",
        "allocmux_slab_tls_exited:",
        ".zero 1",
        ".popsection",
    );

    /// Whether this thread's heap was handed over at thread exit.
    #[inline]
    pub fn exited() -> bool {
        let v: u32;
        // SAFETY: initial-exec read of our own 1-byte TLS variable, as in `get`.
        unsafe {
            asm!(
                "mov {t}, qword ptr [rip + allocmux_slab_tls_exited@GOTTPOFF]",
                "movzx {v:e}, byte ptr fs:[{t}]",
                t = out(reg) _,
                v = out(reg) v,
                options(nostack, readonly, preserves_flags),
            );
        }
        v != 0
    }

    /// Records that this thread's heap was handed over at thread exit.
    #[inline]
    pub fn set_exited() {
        // SAFETY: initial-exec write of our own 1-byte TLS variable, as in `set`.
        unsafe {
            asm!(
                "mov {t}, qword ptr [rip + allocmux_slab_tls_exited@GOTTPOFF]",
                "mov byte ptr fs:[{t}], 1",
                t = out(reg) _,
                options(nostack, preserves_flags),
            );
        }
    }

    /// The slot's value (null when unset).
    #[inline(always)]
    pub fn get() -> *mut Heap {
        let v: *mut Heap;
        // SAFETY: initial-exec access to our own 8-byte TLS variable: load its offset from
        // the thread pointer (GOT entry resolved at load time), then read `%fs:offset`.
        unsafe {
            asm!(
                "mov {v}, qword ptr [rip + allocmux_slab_tls_heap@GOTTPOFF]",
                "mov {v}, qword ptr fs:[{v}]",
                v = out(reg) v,
                options(nostack, readonly, preserves_flags, pure),
            );
        }
        v
    }

    /// Sets the slot (always possible: the variable lives as long as the thread).
    #[inline]
    pub fn set(h: *mut Heap) -> bool {
        // SAFETY: as in `get`, writing our own TLS variable.
        unsafe {
            asm!(
                "mov {t}, qword ptr [rip + allocmux_slab_tls_heap@GOTTPOFF]",
                "mov qword ptr fs:[{t}], {h}",
                t = out(reg) _,
                h = in(reg) h,
                options(nostack, preserves_flags),
            );
        }
        true
    }
}

const KEY_NONE: u8 = 0;
const KEY_BUSY: u8 = 1;
const KEY_READY: u8 = 2;
const KEY_FAILED: u8 = 3;

static KEY_STATE: AtomicU8 = AtomicU8::new(KEY_NONE);
static KEY: AtomicU32 = AtomicU32::new(0);

/// The calling thread's heap, or null if it has none (yet, or any more).
#[inline(always)]
pub fn current() -> *mut Heap {
    tls::get()
}

/// Whether the calling thread's heap was already handed over at thread exit (its late
/// destructors are running).
#[inline]
pub fn exited() -> bool {
    tls::exited()
}

/// Gives the calling thread a heap (adopted or new) and registers its exit hook.
/// Null if memory is exhausted.
#[cold]
#[inline(never)]
pub fn init_current() -> *mut Heap {
    let h = current();
    if !h.is_null() {
        return h;
    }
    let h = lifecycle::acquire();
    if h.is_null() {
        return h;
    }
    // Publish before `pthread_setspecific`: if that allocates, it re-enters with a heap.
    if !tls::set(h) {
        // No TLS any more: give the heap straight back.
        // SAFETY: we own `h` and never use it again.
        unsafe { lifecycle::abandon(h) };
        return ptr::null_mut();
    }
    if let Some(key) = key() {
        // SAFETY: `key` is a valid key; the value is only read by `on_thread_exit`.
        unsafe { libc::pthread_setspecific(key, h as *const libc::c_void) };
    }
    h
}

fn key() -> Option<libc::pthread_key_t> {
    loop {
        match KEY_STATE.load(Ordering::Acquire) {
            KEY_READY => return Some(KEY.load(Ordering::Relaxed) as libc::pthread_key_t),
            KEY_FAILED => return None,
            KEY_NONE => {
                if KEY_STATE
                    .compare_exchange(KEY_NONE, KEY_BUSY, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    let mut k: libc::pthread_key_t = 0;
                    // SAFETY: `k` is writable; the destructor is a valid `extern "C" fn`.
                    let r = unsafe { libc::pthread_key_create(&mut k, Some(on_thread_exit)) };
                    if r == 0 {
                        KEY.store(k as u32, Ordering::Relaxed);
                        KEY_STATE.store(KEY_READY, Ordering::Release);
                    } else {
                        KEY_STATE.store(KEY_FAILED, Ordering::Release);
                    }
                }
            }
            _ => core::hint::spin_loop(),
        }
    }
}

/// Runs for each exiting thread that had a heap: abandon it for others to adopt.
extern "C" fn on_thread_exit(arg: *mut libc::c_void) {
    let h = arg as *mut Heap;
    if h.is_null() {
        return;
    }
    if tls::get() == h {
        tls::set(ptr::null_mut());
    }
    tls::set_exited();
    // SAFETY: `h` was this thread's heap and the thread no longer refers to it: later
    // frees from this thread see a different (or no) heap and take the remote path.
    unsafe { lifecycle::abandon(h) };
}

#[cfg(all(target_os = "linux", not(miri)))]
extern "C" fn create_key_early() {
    let _ = key();
}

/// Creates the thread-exit key before `main`, while the process is single-threaded.
#[cfg(all(target_os = "linux", not(miri)))]
#[used]
#[link_section = ".init_array"]
static CREATE_KEY_EARLY: extern "C" fn() = create_key_early;

/// Releases the calling thread's idle memory now (remote frees, empty pages, purge),
/// and that of every abandoned heap.
pub fn collect() {
    let h = current();
    if !h.is_null() {
        // SAFETY: the calling thread owns its heap.
        unsafe { lifecycle::release_idle(h, true) };
    }
    lifecycle::scavenge(true);
    crate::segment::cache_maintain(0, true);
    crate::large::cache_maintain(0, true);
}
