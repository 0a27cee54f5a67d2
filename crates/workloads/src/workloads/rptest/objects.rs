//! rptest's objects and the per-thread stacks that carry batches of them to
//! another thread.
//!
//! ```text
//!  Obj:     [size: u32][...0xCD or zero...][1 per page]...[1]   (16-byte aligned)
//!  Mailbox: head ──► Foreign { next, objs: Vec<Obj> } ──► Foreign ──► null
//! ```

use std::alloc::{alloc, alloc_zeroed, dealloc, handle_alloc_error, Layout};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, Ordering};

/// Bytes between two touched bytes of an object.
const PAGE: usize = 4096;
/// Alignment of every object.
const ALIGN: usize = 16;

/// The layout of an object of `size` bytes.
fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, ALIGN).expect("object sizes are small")
}

/// One object (`size >= 8` bytes) that records its own size in its first word,
/// as the original does, so a handle is one pointer.
pub(super) struct Obj(NonNull<u8>);

// SAFETY: an `Obj` exclusively owns its allocation; freeing it on another
// thread is what the workload measures.
unsafe impl Send for Obj {}

impl Obj {
    /// Allocates `size` bytes, zeroed (the original's `calloc`) or filled with
    /// 0xCD (its `memalign` + `memset`), then writes the size into the first
    /// word, 1 into one byte per page after the first, and 1 into the last byte.
    pub(super) fn new(size: usize, zeroed: bool) -> Obj {
        debug_assert!(size >= 8);
        let l = layout(size);
        // SAFETY: the layout has a non-zero size.
        let raw = unsafe {
            if zeroed {
                alloc_zeroed(l)
            } else {
                alloc(l)
            }
        };
        let p = NonNull::new(raw).unwrap_or_else(|| handle_alloc_error(l));
        // SAFETY: `p` points to `size` writable bytes aligned to 16, so the
        // u32 at offset 0 and every offset below `size` are in bounds.
        unsafe {
            if !zeroed {
                ptr::write_bytes(p.as_ptr(), 0xCD, size);
            }
            p.as_ptr().cast::<u32>().write(size as u32);
            for page in 1..(size - 1) / PAGE {
                p.as_ptr().add(page * PAGE).write(1);
            }
            p.as_ptr().add(size - 1).write(1);
        }
        Obj(p)
    }
}

impl Drop for Obj {
    fn drop(&mut self) {
        // SAFETY: the first word holds the size written in `new` (no later
        // write reaches offset 0..4 since `size >= 8`), so the layout is the one
        // the object was allocated with; the object is freed once, here.
        unsafe {
            let size = self.0.as_ptr().cast::<u32>().read() as usize;
            dealloc(self.0.as_ptr(), layout(size));
        }
    }
}

/// A batch sent to another thread: a 32-byte record and a pointer array.
pub(super) struct Foreign {
    next: *mut Foreign,
    objs: Vec<Obj>,
}

impl Foreign {
    /// A record for `objs`.
    pub(super) fn new(objs: Vec<Obj>) -> Box<Foreign> {
        Box::new(Foreign {
            next: ptr::null_mut(),
            objs,
        })
    }
}

/// A thread's lock-free stack of batches sent to it.
#[derive(Default)]
pub(super) struct Mailbox {
    head: AtomicPtr<Foreign>,
}

impl Mailbox {
    /// Pushes a batch (any thread).
    pub(super) fn push(&self, batch: Box<Foreign>) {
        let node = Box::into_raw(batch);
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            // SAFETY: `node` came from `Box::into_raw` and is not shared until
            // the exchange below publishes it.
            unsafe { (*node).next = head };
            match self
                .head
                .compare_exchange_weak(head, node, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(now) => head = now,
            }
        }
    }

    /// Takes every batch pushed so far; they are freed when the result drops.
    pub(super) fn take(&self) -> Inbox {
        Inbox(self.head.swap(ptr::null_mut(), Ordering::Acquire))
    }
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        drop(self.take());
    }
}

/// A taken list of batches; dropping it frees the objects, the pointer
/// arrays and the records, in that order per batch.
pub(super) struct Inbox(*mut Foreign);

impl Drop for Inbox {
    fn drop(&mut self) {
        let mut node = self.0;
        while !node.is_null() {
            // SAFETY: every node was made by `Box::into_raw` in `push` and is
            // owned by this list alone after the swap in `take`.
            let mut batch = unsafe { Box::from_raw(node) };
            node = batch.next;
            drop(std::mem::take(&mut batch.objs)); // objects, then the array
            drop(batch); // then the record
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_hands_over_every_batch() {
        let m = Mailbox::default();
        for n in 1..4 {
            m.push(Foreign::new(
                (0..n).map(|_| Obj::new(5000, n % 2 == 0)).collect(),
            ));
        }
        let inbox = m.take();
        let mut count = 0;
        let mut node = inbox.0;
        while !node.is_null() {
            // SAFETY: the list is owned by `inbox`, alive for this loop.
            unsafe {
                count += (*node).objs.len();
                node = (*node).next;
            }
        }
        assert_eq!(count, 6);
        assert!(m.take().0.is_null());
    }
}
