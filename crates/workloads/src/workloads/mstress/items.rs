//! mstress's objects: arrays of words, each word written with a check value
//! at allocation and verified before the free.
//!
//! ```text
//!  word:  0            1              …  n-1
//!        [n ^ COOKIE][(n-1) ^ COOKIE] … [1 ^ COOKIE]     (8-byte aligned)
//! ```
//! The first word gives the length back, so a handle is one pointer.
//!
//! The write and check loops are functions of their own that are never inlined, so they
//! compile to the same code in every backend's runner. Inlined, the check loop's
//! register allocation depended on whether the allocator's free was inlined next to
//! it: with a free that is a call (the C allocators, the hardened slab) the loop kept
//! three stores per word that the plain slab's runner did not have — a quarter of
//! mstress's instructions (cachegrind, quick: 665 M under mimalloc against 531 M under
//! the slab, 122 M of the difference in this loop).

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::{self, NonNull};

/// Mixed into every word so that zeroed or stale memory fails the check.
const COOKIE: u64 = 0xbf58_476d_1ce4_e5b9;

/// The layout of an object of `words` words.
fn layout(words: usize) -> Layout {
    Layout::array::<u64>(words).expect("object sizes are bounded")
}

/// One object of `n >= 1` words, owned by whoever holds the handle.
pub(super) struct Items(NonNull<u64>);

// SAFETY: an `Items` exclusively owns its allocation; moving it between
// threads (through the transfer array) is what the workload measures.
unsafe impl Send for Items {}

impl Items {
    /// Allocates `words` words and writes each one's check value.
    pub(super) fn new(words: usize) -> Items {
        debug_assert!(words >= 1);
        let l = layout(words);
        // SAFETY: the layout has a non-zero size.
        let raw = unsafe { alloc(l) }.cast::<u64>();
        let p = NonNull::new(raw).unwrap_or_else(|| handle_alloc_error(l));
        // SAFETY: the allocation holds `words` words.
        unsafe { fill(p.as_ptr(), words) };
        Items(p)
    }

    /// Gives up ownership: the raw pointer (null for `None`).
    pub(super) fn into_raw(obj: Option<Items>) -> *mut u64 {
        match obj {
            Some(o) => {
                let p = o.0.as_ptr();
                std::mem::forget(o);
                p
            }
            None => ptr::null_mut(),
        }
    }

    /// Takes ownership back from a pointer of [`Items::into_raw`].
    ///
    /// # Safety
    /// `raw` is null or came from `into_raw` and is owned by no one else.
    pub(super) unsafe fn from_raw(raw: *mut u64) -> Option<Items> {
        NonNull::new(raw).map(Items)
    }
}

impl Drop for Items {
    fn drop(&mut self) {
        let p = self.0.as_ptr();
        // SAFETY: the object was written by `fill` in `new`.
        let words = unsafe { verify(p) };
        // SAFETY: allocated in `new` with this layout, freed once, here.
        unsafe { dealloc(p.cast(), layout(words)) };
    }
}

/// Writes the check value of each of the `words` words at `p` (never inlined, see the
/// module header).
///
/// # Safety
/// `p` must be valid for writing `words` words.
#[inline(never)]
unsafe fn fill(p: *mut u64, words: usize) {
    for i in 0..words {
        // SAFETY: `i < words`, inside the allocation (caller contract).
        unsafe { p.add(i).write((words - i) as u64 ^ COOKIE) };
    }
}

/// Checks every word of the object at `p` and returns its length in words (never
/// inlined, see the module header). Panics on a word that does not hold its value.
///
/// # Safety
/// `p` must point to an object written by [`fill`] and still owned by the caller.
#[inline(never)]
unsafe fn verify(p: *const u64) -> usize {
    // SAFETY: the first word holds the length (xor the cookie); every word below it
    // was written by `fill` too.
    let words = (unsafe { p.read() } ^ COOKIE) as usize;
    for i in 0..words {
        // SAFETY: `i < words`, inside the allocation.
        let w = unsafe { p.add(i).read() };
        assert_eq!(w ^ COOKIE, (words - i) as u64, "memory corruption at {i}");
    }
    words
}
