//! CPU hints the hot paths use: a write-intent prefetch.
//!
//! Only a hint: it never faults (any address, null included, is accepted) and changes no
//! state a program can observe. x86-64 has `prefetchw`, which fetches a line in exclusive
//! state; Intel CPUs before Broadwell decode it as a NOP. `_mm_prefetch` with
//! `_MM_HINT_ET0` is not used because without the `prfchw` target feature it compiles to
//! a read prefetch (`prefetcht0`). Elsewhere (and under Miri, which runs no assembly)
//! the hint does nothing.

/// Asks the CPU to bring the cache line at `p` into this core's cache, ready to be
/// written (exclusive state), without waiting for it.
#[inline(always)]
pub fn prefetch_write<T>(p: *const T) {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    // SAFETY: `prefetchw` reads and writes no memory a program can observe and does not
    // fault on any address; it touches no register but its input and leaves the flags.
    unsafe {
        core::arch::asm!("prefetchw [{0}]", in(reg) p, options(nostack, preserves_flags, readonly));
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    let _ = p;
}
