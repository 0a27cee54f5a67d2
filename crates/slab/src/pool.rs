//! A process-wide pool of reusable nodes — abandoned heaps, cached empty segments — on an
//! [`AtomicStack`], with a count of the threads holding nodes off the stack.
//!
//! Taking from an [`AtomicStack`] takes the whole chain for a moment (take-one pushes the
//! rest back; a maintenance pass keeps it while it works). A thread that looks meanwhile
//! sees the stack empty, and without the count it would create what it came for: a new
//! heap, a new 4 MiB segment. Both snowball: more heaps make every pass longer, and every
//! segment mapped this way is faulted in from scratch, then overflows the cache and is
//! unmapped. mimalloc-bench's mleak made 7,559 heaps for 50,000 threads (10 alive at a
//! time); mimalloc's test-stress (32 threads recreated 50 times) mapped 208 segments, 118
//! of them while the cache held some (docs/perf-log.md). So a taker that finds the stack
//! empty while others hold nodes yields and looks again, at most [`MAX_WAITS`] times.
//!
//! A heuristic only: a miss costs a spare node, never correctness. The wait is bounded,
//! so a holder that is descheduled for long, or a count left non-zero in a child forked
//! while another thread held nodes, costs a spare node, never a hang.

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::list::{AtomicStack, Link};
use crate::os;

/// Most yields a taker spends waiting for held nodes to come back before giving up.
pub const MAX_WAITS: usize = 64;

/// A stack of reusable nodes and the number of threads holding some of them off it.
pub struct Pool<T> {
    stack: AtomicStack<T>,
    holders: AtomicUsize,
}

impl<T> Pool<T> {
    /// An empty pool (usable in statics).
    pub const fn new() -> Self {
        Pool {
            stack: AtomicStack::new(),
            holders: AtomicUsize::new(0),
        }
    }
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Link> Pool<T> {
    /// Whether the stack looked empty (nodes held off it do not count).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.stack.is_empty()
    }

    /// Puts one node (back) into the pool.
    ///
    /// # Safety
    /// As [`AtomicStack::push`].
    #[inline]
    pub unsafe fn push(&self, node: *mut T) {
        // SAFETY: per the contract.
        unsafe { self.stack.push(node) }
    }

    /// Puts the chain `first ..= last` (back) into the pool.
    ///
    /// # Safety
    /// As [`AtomicStack::push_chain`].
    #[inline]
    pub unsafe fn push_chain(&self, first: *mut T, last: *mut T) {
        // SAFETY: per the contract.
        unsafe { self.stack.push_chain(first, last) }
    }

    /// Takes one node (its link cleared), waiting for nodes other threads hold; null if
    /// the pool is empty and nobody holds any (or after [`MAX_WAITS`] yields).
    ///
    /// # Safety
    /// As [`AtomicStack::take_one`]: nodes stay live while in the pool.
    pub unsafe fn take_one(&self) -> *mut T {
        for _ in 0..=MAX_WAITS {
            self.holders.fetch_add(1, Ordering::SeqCst);
            // SAFETY: per the contract.
            let node = unsafe { self.stack.take_one() };
            self.holders.fetch_sub(1, Ordering::SeqCst);
            if !node.is_null() {
                return node;
            }
            if self.holders.load(Ordering::SeqCst) == 0 && self.stack.is_empty() {
                break;
            }
            os::yield_now();
        }
        core::ptr::null_mut()
    }

    /// Takes every node for a pass over them; the caller owns the chain starting at
    /// [`Held::first`] and counts as a holder until the [`Held`] is dropped, so it should
    /// push nodes back (with [`Pool::push`]) as soon as it is done with each.
    pub fn hold_all(&self) -> Held<'_, T> {
        self.holders.fetch_add(1, Ordering::SeqCst);
        Held {
            pool: self,
            first: self.stack.take_all(),
        }
    }
}

/// Nodes taken off a [`Pool`] by [`Pool::hold_all`]; dropping it ends the hold.
pub struct Held<'a, T> {
    pool: &'a Pool<T>,
    /// First node of the taken chain (null if the pool was empty).
    pub first: *mut T,
}

impl<T> Drop for Held<'_, T> {
    fn drop(&mut self) {
        self.pool.holders.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    struct Node {
        next: *mut Node,
    }
    crate::list::impl_link!(Node, next);

    fn node() -> *mut Node {
        Box::into_raw(Box::new(Node {
            next: core::ptr::null_mut(),
        }))
    }

    #[test]
    fn a_taker_gives_up_on_a_pool_held_by_itself() {
        let pool: Pool<Node> = Pool::new();
        let n = node();
        // SAFETY: `n` is a live node owned by the test.
        unsafe { pool.push(n) };
        let held = pool.hold_all();
        assert_eq!(held.first, n);
        // The only holder is this thread: the wait is bounded, then null.
        // SAFETY: nodes stay live while in the pool.
        assert!(unsafe { pool.take_one() }.is_null());
        // SAFETY: the held node goes back once.
        unsafe { pool.push(held.first) };
        drop(held);
        // SAFETY: as above.
        let got = unsafe { pool.take_one() };
        assert_eq!(got, n);
        // SAFETY: `got` was made by `node` and is in no list.
        drop(unsafe { Box::from_raw(got) });
        // SAFETY: the pool is empty.
        assert!(unsafe { pool.take_one() }.is_null());
    }

    #[test]
    fn takers_and_holders_lose_and_duplicate_nothing() {
        const NODES: usize = 8;
        const ROUNDS: usize = if cfg!(miri) { 20 } else { 2000 };
        let pool: Arc<Pool<Node>> = Arc::new(Pool::new());
        for _ in 0..NODES {
            // SAFETY: fresh live nodes.
            unsafe { pool.push(node()) };
        }
        let takers: Vec<_> = (0..2)
            .map(|_| {
                let pool = Arc::clone(&pool);
                std::thread::spawn(move || {
                    for _ in 0..ROUNDS {
                        // SAFETY: nodes stay live while in the pool; each taken node
                        // goes back once.
                        unsafe {
                            let n = pool.take_one();
                            if !n.is_null() {
                                pool.push(n);
                            }
                        }
                    }
                })
            })
            .collect();
        for _ in 0..ROUNDS {
            let held = pool.hold_all();
            let mut n = held.first;
            while !n.is_null() {
                // SAFETY: the held chain is ours; each node goes back once.
                unsafe {
                    let next = (*n).next;
                    pool.push(n);
                    n = next;
                }
            }
        }
        for t in takers {
            t.join().unwrap();
        }
        let mut seen = 0;
        let held = pool.hold_all();
        let mut n = held.first;
        while !n.is_null() {
            // SAFETY: every node is a box of this test, now owned here.
            unsafe {
                let next = (*n).next;
                drop(Box::from_raw(n));
                n = next;
            }
            seen += 1;
        }
        assert_eq!(seen, NODES);
    }
}
