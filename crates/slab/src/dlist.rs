//! Owner-only intrusive doubly-linked lists: the one mechanism behind every list a single
//! thread links and unlinks in constant time — a heap's per-class page queues, its full
//! queue and its segment list. (Lists shared between threads are
//! [`crate::list::AtomicStack`]s.)
//!
//! ```text
//!  head --> node <--> node <--> node --> NIL   (next)
//!   NIL <-- node                  ^            (prev of the first node)
//!  tail ---------------------------'
//! ```
//!
//! Every link that has no node to point to holds the node type's `NIL`: null for
//! segments, the read-only sentinel page for pages. A page queue's head is therefore
//! never null, and the allocation fast path reads the current page's `free` list without
//! a null check (the sentinel's is always empty). `NIL` is never written through.

/// A node of a [`List`]: a type with a `next` and a `prev` field of type `*mut Self`.
///
/// # Safety
/// `links` must return pointers to two distinct link fields of the node and nothing
/// else, and `NIL` must be null or point to a node that is never linked or written.
pub unsafe trait ListNode: Sized {
    /// What an absent neighbour (and an empty list's head) is.
    const NIL: *mut Self;

    /// The node's `(next, prev)` fields.
    ///
    /// # Safety
    /// `this` must point to a live node.
    unsafe fn links(this: *mut Self) -> (*mut *mut Self, *mut *mut Self);
}

/// Implements [`ListNode`] for a type through two of its `*mut Self` fields.
macro_rules! impl_list_node {
    ($ty:ty, $next:ident, $prev:ident, $nil:expr) => {
        // SAFETY: only the two named link fields are exposed; `$nil` is null or a
        // sentinel the caller documents as never linked.
        unsafe impl $crate::dlist::ListNode for $ty {
            const NIL: *mut Self = $nil;
            #[inline(always)]
            unsafe fn links(this: *mut Self) -> (*mut *mut Self, *mut *mut Self) {
                // SAFETY: the caller guarantees `this` is a live node.
                unsafe { (&raw mut (*this).$next, &raw mut (*this).$prev) }
            }
        }
    };
}
pub(crate) use impl_list_node;

/// The node after `node` in its list ([`ListNode::NIL`] at the end).
///
/// # Safety
/// `node` must be a live node on a list the caller owns.
#[inline(always)]
pub unsafe fn next<T: ListNode>(node: *mut T) -> *mut T {
    // SAFETY: per the contract.
    unsafe { *T::links(node).0 }
}

/// An intrusive doubly-linked list of `T`, owned by one thread at a time: a head and a
/// tail pointer (head first, so the fast path's load of a queue's current page is one
/// word at the start); the links live in the nodes.
#[repr(C)]
pub struct List<T: ListNode> {
    head: *mut T,
    tail: *mut T,
}

impl<T: ListNode> List<T> {
    /// An empty list.
    pub const EMPTY: List<T> = List {
        head: T::NIL,
        tail: T::NIL,
    };

    /// The first node ([`ListNode::NIL`] if the list is empty).
    #[inline(always)]
    pub fn first(&self) -> *mut T {
        self.head
    }

    /// Whether the list has no node.
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.head == T::NIL
    }

    /// Links `node` in front.
    ///
    /// # Safety
    /// `node` must be a live node, owned by the caller and on no list; so must every node
    /// of the list.
    #[inline]
    pub unsafe fn push_front(&mut self, node: *mut T) {
        // SAFETY: per the contract; `NIL` is never written through.
        unsafe {
            let (next, prev) = T::links(node);
            *next = self.head;
            *prev = T::NIL;
            if self.head != T::NIL {
                *T::links(self.head).1 = node;
            } else {
                self.tail = node;
            }
        }
        self.head = node;
    }

    /// Links `node` at the back.
    ///
    /// # Safety
    /// As for [`List::push_front`].
    #[inline]
    pub unsafe fn push_back(&mut self, node: *mut T) {
        // SAFETY: per the contract; `NIL` is never written through.
        unsafe {
            let (next, prev) = T::links(node);
            *next = T::NIL;
            *prev = self.tail;
            if self.tail != T::NIL {
                *T::links(self.tail).0 = node;
            } else {
                self.head = node;
            }
        }
        self.tail = node;
    }

    /// Unlinks `node`; its own links are left `NIL`.
    ///
    /// # Safety
    /// `node` must be on this list, and the list's nodes live and owned by the caller.
    #[inline]
    pub unsafe fn remove(&mut self, node: *mut T) {
        // SAFETY: per the contract; `NIL` is never written through.
        unsafe {
            let (next_field, prev_field) = T::links(node);
            let (next, prev) = (*next_field, *prev_field);
            if prev == T::NIL {
                debug_assert!(self.head == node);
                self.head = next;
            } else {
                *T::links(prev).0 = next;
            }
            if next == T::NIL {
                debug_assert!(self.tail == node);
                self.tail = prev;
            } else {
                *T::links(next).1 = prev;
            }
            *next_field = T::NIL;
            *prev_field = T::NIL;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ptr;

    struct Node {
        next: *mut Node,
        prev: *mut Node,
        val: u32,
    }
    impl_list_node!(Node, next, prev, ptr::null_mut());

    fn values(l: &List<Node>) -> Vec<u32> {
        let mut out = vec![];
        let mut n = l.first();
        while n != Node::NIL {
            // SAFETY: the test's nodes live on its stack for the whole test.
            unsafe {
                out.push((*n).val);
                n = next(n);
            }
        }
        out
    }

    /// Push and remove at the front, middle and back (runs under Miri).
    #[test]
    fn push_and_remove_anywhere() {
        let mut nodes: Vec<Node> = (0..4)
            .map(|val| Node {
                next: ptr::null_mut(),
                prev: ptr::null_mut(),
                val,
            })
            .collect();
        let p: Vec<*mut Node> = nodes.iter_mut().map(|n| n as *mut Node).collect();
        let mut l = List::<Node>::EMPTY;
        assert!(l.is_empty());
        // SAFETY: every node is live and on at most this list.
        unsafe {
            for &n in &p {
                l.push_front(n);
            }
            assert_eq!(values(&l), [3, 2, 1, 0]);
            l.remove(p[2]);
            assert_eq!(values(&l), [3, 1, 0]);
            l.remove(p[3]);
            assert_eq!(values(&l), [1, 0]);
            l.remove(p[0]);
            assert_eq!(values(&l), [1]);
            assert!((*p[0]).next.is_null() && (*p[0]).prev.is_null());
            l.remove(p[1]);
            assert!(l.is_empty());
            l.push_back(p[0]);
            l.push_front(p[1]);
            l.push_back(p[2]);
            assert_eq!(values(&l), [1, 0, 2]);
            l.remove(p[2]);
            l.push_back(p[3]);
            assert_eq!(values(&l), [1, 0, 3]);
            l.remove(p[1]);
            l.remove(p[3]);
            l.push_back(p[2]);
            assert_eq!(values(&l), [0, 2]);
            l.remove(p[0]);
            l.remove(p[2]);
        }
        assert!(l.is_empty());
    }
}
