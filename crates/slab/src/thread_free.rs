//! A page's tagged free word: the list of blocks freed into a page while no heap owns
//! it (an *abandoned* page, see [`crate::handoff`]), with two tag bits in the low bits
//! of the head pointer (blocks are at least 8-byte aligned).
//!
//! * [`ABANDONED`]: the page's heap gave it up; frees push here ([`ThreadFree::push_chain`])
//!   instead of going to any heap. While the bit is clear the word is zero and frees go
//!   to the page's owner as usual.
//! * [`PUBLISHED`]: one thread won the right to claim the page. Either it pushes the
//!   page on its class's stack for an allocating heap to claim (a freer that reached the
//!   page's threshold), or it claims it at once (the segment's owner freeing into it).
//!
//! Setting `PUBLISHED` ([`ThreadFree::mark_published`]) is the one ticket to the page:
//! whoever holds it (the ticket's winner, or the one popper that took the page off the
//! stack) ends the abandoned state with [`ThreadFree::claim`], one swap to zero that
//! returns every block pushed so far; a push that finds the bit clear afterwards fails,
//! and the freer routes the block to the page's new owner. Because the tags and the
//! list share one word, no push can slip in between the claim and the owner change.
//!
//! The word is an atomic pointer whose tags are set by byte offsets and cleared with
//! `map_addr`, so the head keeps its provenance (strict provenance: no integer-to-pointer
//! casts, which Miri cannot check). The type is generic over [`AtomicPtrOps`] and
//! [`Link`] so `loom` can check the protocol (`loom_tests` below).

use core::marker::PhantomData;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::list::Link;
use crate::sync::AtomicPtrOps;

/// Tag bit: the page is abandoned (frees push onto its list).
pub const ABANDONED: usize = 1;
/// Tag bit: someone holds the claim on the abandoned page.
pub const PUBLISHED: usize = 2;
/// Both tag bits.
pub const TAGS: usize = ABANDONED | PUBLISHED;

/// A tagged list head of `T` nodes; zero while a heap owns the page.
pub struct ThreadFree<T, A = AtomicPtr<T>> {
    word: A,
    _node: PhantomData<*mut T>,
}

impl<T> ThreadFree<T, AtomicPtr<T>> {
    /// Zero: the page is owned by a heap.
    pub const fn new() -> Self {
        Self {
            word: AtomicPtr::new(ptr::null_mut()),
            _node: PhantomData,
        }
    }
}

impl<T> Default for ThreadFree<T, AtomicPtr<T>> {
    fn default() -> Self {
        Self::new()
    }
}

/// The tag bits of word `w`.
#[inline(always)]
fn tags<T>(w: *mut T) -> usize {
    w.addr() & TAGS
}

/// The list head held in word `w` (its tags cleared, its provenance kept).
#[inline(always)]
fn head<T>(w: *mut T) -> *mut T {
    w.map_addr(|a| a & !TAGS)
}

impl<T: Link, A: AtomicPtrOps<T>> ThreadFree<T, A> {
    /// Zero (for any [`AtomicPtrOps`], e.g. loom's).
    pub fn new_generic() -> Self {
        Self {
            word: A::null(),
            _node: PhantomData,
        }
    }

    /// Whether the page is abandoned (a hint: it may be claimed the next moment).
    #[inline]
    pub fn is_abandoned(&self) -> bool {
        tags(self.word.load(Ordering::Acquire)) & ABANDONED != 0
    }

    /// Enters the abandoned state with an empty list. The release store publishes the
    /// page's header to the threads that push or claim later.
    ///
    /// The caller must own the page (the word is zero).
    pub fn abandon(&self) {
        self.word
            .store(ptr::without_provenance_mut(ABANDONED), Ordering::Release);
    }

    /// Pushes the chain `first..=last` while the page is abandoned; false (with `last`'s
    /// link cleared) if it is not, and the caller must route the blocks elsewhere.
    ///
    /// # Safety
    /// The chain must be live, owned by the caller and linked from `first` to `last`.
    pub unsafe fn push_chain(&self, first: *mut T, last: *mut T) -> bool {
        let mut w = self.word.load(Ordering::Acquire);
        loop {
            if tags(w) & ABANDONED == 0 {
                // SAFETY: the chain is still ours.
                unsafe { T::set_next(last, ptr::null_mut()) };
                return false;
            }
            // SAFETY: the chain is ours until the CAS below publishes it.
            unsafe { T::set_next(last, head(w)) };
            match self.word.compare_exchange_weak(
                w,
                // `first` is 8-aligned, so adding the tags sets them.
                first.wrapping_byte_add(tags(w)),
                Ordering::Release,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(now) => w = now,
            }
        }
    }

    /// Takes the claim on an abandoned page: true if this call set [`PUBLISHED`], false
    /// if the page is not abandoned or someone else holds the claim.
    pub fn mark_published(&self) -> bool {
        let mut w = self.word.load(Ordering::Acquire);
        loop {
            if tags(w) != ABANDONED {
                return false; // not abandoned, or someone holds the claim already
            }
            match self.word.compare_exchange_weak(
                w,
                w.wrapping_byte_add(PUBLISHED), // the bit is clear (tested above)
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(now) => w = now,
            }
        }
    }

    /// Ends the abandoned state: returns the blocks pushed so far (null if none) and
    /// leaves the word zero, so later pushes fail.
    ///
    /// The caller must hold the claim (won [`Self::mark_published`], or took the page
    /// off the stack it was published on) and must already have made itself the page's
    /// owner, so a failed push finds the new owner.
    pub fn claim(&self) -> *mut T {
        let w = self.word.swap(ptr::null_mut(), Ordering::AcqRel);
        debug_assert!(tags(w) == TAGS);
        head(w)
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! The hand-off of one abandoned page: a freer pushes a block and publishes the page
    //! (its threshold is one block), the segment's owner tries to take the page back, and
    //! an allocating heap pops it off the class stack. The page is claimed at most once
    //! and the block ends up exactly once in the claimant's list or routed to the owner.
    use super::*;
    use crate::list::{impl_loom_link, AtomicStack};
    use loom::cell::UnsafeCell;
    use loom::sync::atomic::AtomicPtr as LoomPtr;
    use loom::sync::Arc;

    struct Block {
        next: UnsafeCell<*mut Block>,
    }
    impl_loom_link!(Block, next);

    struct Page {
        free: ThreadFree<Block, LoomPtr<Block>>,
        next: UnsafeCell<*mut Page>,
    }
    impl_loom_link!(Page, next);

    /// Counts the chain's blocks.
    fn count(mut b: *mut Block) -> usize {
        let mut n = 0;
        while !b.is_null() {
            n += 1;
            // SAFETY: chain of live blocks.
            b = unsafe { Block::next(b) };
        }
        n
    }

    #[test]
    fn push_publish_reclaim_claim() {
        loom::model(|| {
            let page = Arc::new(Page {
                free: ThreadFree::new_generic(),
                next: UnsafeCell::new(core::ptr::null_mut()),
            });
            let stack: Arc<AtomicStack<Page, LoomPtr<Page>>> = Arc::new(AtomicStack::new_generic());
            page.free.abandon();
            let page_addr = Arc::as_ptr(&page) as usize;
            let block = Box::into_raw(Box::new(Block {
                next: UnsafeCell::new(core::ptr::null_mut()),
            }));
            let block_addr = block as usize;

            // Freer: 1 if the block went onto the page's list, 0 if it must be routed
            // to the page's owner.
            let freer = {
                let (page, stack) = (page.clone(), stack.clone());
                loom::thread::spawn(move || {
                    let b = block_addr as *mut Block;
                    // SAFETY: the block is ours until pushed.
                    if !unsafe { page.free.push_chain(b, b) } {
                        return 0;
                    }
                    if page.free.mark_published() {
                        // SAFETY: the page lives as long as the model.
                        unsafe { stack.push(page_addr as *mut Page) };
                    }
                    1
                })
            };
            // Segment owner: takes the page back if nobody holds the claim.
            let owner = {
                let page = page.clone();
                loom::thread::spawn(move || {
                    if page.free.mark_published() {
                        Some(count(page.free.claim()))
                    } else {
                        None
                    }
                })
            };
            // Allocating heap: the only popper of the class stack.
            let claimer = {
                let stack = stack.clone();
                loom::thread::spawn(move || {
                    // SAFETY: the only popper; the page outlives the model.
                    let p = unsafe { stack.pop_exclusive() };
                    if p.is_null() {
                        None
                    } else {
                        // SAFETY: popped, so we hold the claim.
                        Some(count(unsafe { (*p).free.claim() }))
                    }
                })
            };
            let pushed = freer.join().unwrap();
            let reclaimed = owner.join().unwrap();
            let claimed = claimer.join().unwrap();
            assert!(reclaimed.is_none() || claimed.is_none(), "claimed twice");
            // A page published but not yet popped still holds its list.
            let left = if reclaimed.is_none() && claimed.is_none() && !stack.is_empty() {
                count(page.free.claim())
            } else {
                0
            };
            let seen = reclaimed.unwrap_or(0) + claimed.unwrap_or(0) + left;
            // The block was either on the list (and seen exactly once) or routed.
            assert_eq!(seen, pushed, "pushed {pushed}, seen {seen}");
            if pushed == 0 {
                assert!(reclaimed.is_some(), "a push fails only after a claim");
            }
            // SAFETY: all threads joined.
            drop(unsafe { Box::from_raw(block) });
        });
    }
}
