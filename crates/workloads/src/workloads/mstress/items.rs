//! mstress's objects: arrays of words, each word written with a check value
//! at allocation and verified before the free.
//!
//! ```text
//!  word:  0            1              …  n-1
//!        [n ^ COOKIE][(n-1) ^ COOKIE] … [1 ^ COOKIE]     (8-byte aligned)
//! ```
//! The first word gives the length back, so a handle is one pointer.

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
        for i in 0..words {
            // SAFETY: `i < words`, inside the allocation.
            unsafe { p.as_ptr().add(i).write((words - i) as u64 ^ COOKIE) };
        }
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
        // SAFETY: the first word was written in `new` and holds the length
        // (xor the cookie); every word below it was written there too.
        let words = (unsafe { p.read() } ^ COOKIE) as usize;
        for i in 0..words {
            // SAFETY: `i < words`, inside the allocation.
            let w = unsafe { p.add(i).read() };
            assert_eq!(w ^ COOKIE, (words - i) as u64, "memory corruption at {i}");
        }
        // SAFETY: allocated in `new` with this layout, freed once, here.
        unsafe { dealloc(p.cast(), layout(words)) };
    }
}
