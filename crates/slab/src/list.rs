//! Lock-free intrusive lists shared between threads: an [`AtomicStack`] with push (one
//! CAS), push of a whole chain, take-all (one swap) and an ABA-free take-one.
//!
//! Used for (a) each heap's remote-free queue — other threads push freed blocks, the owner
//! takes them all on its slow path — (b) the global stack of abandoned heaps that new
//! or scavenging threads take from, (c) the push-only list of every heap, and (d) the
//! caches of empty segments and freed large mappings, and (e) the per-class stacks of
//! published abandoned pages ([`crate::handoff`]). Nodes are popped one at a time with a
//! CAS on the head (the classic Treiber pop, which has the ABA problem) only where the
//! caller serialises the pops ([`AtomicStack::pop_exclusive`]); otherwise a consumer
//! takes the whole list with `swap(null)` and, for take-one, pushes the remainder back as
//! one chain. Lists a single owner links and unlinks in both directions are
//! [`crate::dlist::List`]s.
//!
//! The module is generic over [`AtomicPtrOps`] and [`Link`] so `loom` can model-check it
//! (see the `loom_tests` below, run with `RUSTFLAGS="--cfg loom"`).

use core::marker::PhantomData;
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::sync::AtomicPtrOps;

/// An intrusive singly linked node. `Via` names the link when a node type sits on more
/// than one stack (one link field each); it defaults to `()`.
///
/// # Safety
/// `next`/`set_next` must read and write one link field of a live node and nothing else.
pub unsafe trait Link<Via = ()> {
    /// Reads the node's link.
    ///
    /// # Safety
    /// `this` must point to a live node the caller may read.
    unsafe fn next(this: *mut Self) -> *mut Self;
    /// Writes the node's link.
    ///
    /// # Safety
    /// `this` must point to a live node the caller exclusively owns.
    unsafe fn set_next(this: *mut Self, next: *mut Self);
}

/// Implements [`Link`] (or `Link<$via>`) for a type through one of its `*mut Self` fields.
macro_rules! impl_link {
    ($ty:ty, $field:ident) => {
        $crate::list::impl_link!($ty, $field, ());
    };
    ($ty:ty, $field:ident, $via:ty) => {
        // SAFETY: only the named link field is read or written.
        unsafe impl $crate::list::Link<$via> for $ty {
            #[inline]
            unsafe fn next(this: *mut Self) -> *mut Self {
                // SAFETY: the caller guarantees `this` is a live node.
                unsafe { (*this).$field }
            }
            #[inline]
            unsafe fn set_next(this: *mut Self, next: *mut Self) {
                // SAFETY: the caller guarantees `this` is a live node it owns.
                unsafe { (*this).$field = next }
            }
        }
    };
}
pub(crate) use impl_link;

/// Implements [`Link`] for a loom model's node through its `loom::cell::UnsafeCell`
/// link field (the models in this module and in [`crate::thread_free`]).
#[cfg(all(test, loom))]
macro_rules! impl_loom_link {
    ($ty:ty, $field:ident) => {
        // SAFETY: only the named link field is read or written, through loom's cell.
        unsafe impl $crate::list::Link for $ty {
            unsafe fn next(this: *mut Self) -> *mut Self {
                // SAFETY: the caller guarantees `this` is a live node.
                unsafe { (*this).$field.with(|p| *p) }
            }
            unsafe fn set_next(this: *mut Self, next: *mut Self) {
                // SAFETY: the caller guarantees `this` is a live node it owns.
                unsafe { (*this).$field.with_mut(|p| *p = next) }
            }
        }
    };
}
#[cfg(all(test, loom))]
pub(crate) use impl_loom_link;

/// A multi-producer stack whose consumers take all nodes at once (or one, ABA-free),
/// linked through the nodes' `Link<Via>` field.
pub struct AtomicStack<T, A = AtomicPtr<T>, Via = ()> {
    head: A,
    _node: PhantomData<*mut T>,
    _via: PhantomData<Via>,
}

// SAFETY: the stack only holds raw node pointers behind an atomic; node ownership is
// transferred with release/acquire ordering, so sharing the stack between threads is fine.
unsafe impl<T, A: Sync, Via> Sync for AtomicStack<T, A, Via> {}
// SAFETY: as above; the stack owns no thread-bound data.
unsafe impl<T, A: Send, Via> Send for AtomicStack<T, A, Via> {}

impl<T, Via> AtomicStack<T, AtomicPtr<T>, Via> {
    /// An empty stack (usable in statics and in zero-initialised memory: null = empty).
    pub const fn new() -> Self {
        Self {
            head: AtomicPtr::new(core::ptr::null_mut()),
            _node: PhantomData,
            _via: PhantomData,
        }
    }
}

impl<T, Via> Default for AtomicStack<T, AtomicPtr<T>, Via> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Link<Via>, A: AtomicPtrOps<T>, Via> AtomicStack<T, A, Via> {
    /// An empty stack over any [`AtomicPtrOps`] (used by the loom models).
    pub fn new_generic() -> Self {
        Self {
            head: A::null(),
            _node: PhantomData,
            _via: PhantomData,
        }
    }

    /// Whether the stack looked empty at the time of the (relaxed) load.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.head.load(Ordering::Relaxed).is_null()
    }

    /// Pushes one node.
    ///
    /// # Safety
    /// `node` must be live, owned by the caller, and not in any list.
    #[inline]
    pub unsafe fn push(&self, node: *mut T) {
        // SAFETY: a single owned node is a chain from `node` to `node`.
        unsafe { self.push_chain(node, node) }
    }

    /// Pushes the chain `first ..= last` (already linked through `Link`).
    ///
    /// # Safety
    /// The chain must be live, owned by the caller and reachable from `first` to `last`.
    pub unsafe fn push_chain(&self, first: *mut T, last: *mut T) {
        let mut cur = self.head.load(Ordering::Relaxed);
        loop {
            // SAFETY: the caller owns `last` until the CAS below publishes it.
            unsafe { T::set_next(last, cur) };
            match self
                .head
                .compare_exchange_weak(cur, first, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }

    /// The first node, for walking a stack whose nodes are never taken (a push-only
    /// list): every node reached through it and its links was published before.
    #[inline]
    pub fn peek(&self) -> *mut T {
        self.head.load(Ordering::Acquire)
    }

    /// Takes every node; the caller owns the returned chain (null if empty).
    #[inline]
    pub fn take_all(&self) -> *mut T {
        if self.head.load(Ordering::Relaxed).is_null() {
            return core::ptr::null_mut();
        }
        self.head.swap(core::ptr::null_mut(), Ordering::Acquire)
    }

    /// Pops the top node (null if empty). The caller makes sure no other thread pops or
    /// takes from this stack at the same time (pushes may run): then no node can leave
    /// and come back between the read of the head and the CAS, which rules out ABA.
    ///
    /// # Safety
    /// Nodes stay live while in the stack; pops are serialised by the caller.
    pub unsafe fn pop_exclusive(&self) -> *mut T {
        loop {
            let h = self.head.load(Ordering::Acquire);
            if h.is_null() {
                return h;
            }
            // SAFETY: `h` is in the stack and only we remove nodes.
            let next = unsafe { T::next(h) };
            if self
                .head
                .compare_exchange_weak(h, next, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return h;
            }
        }
    }

    /// Takes one node (the caller owns it; its link is cleared) and pushes the rest back.
    /// Concurrent takers may briefly see the stack empty; no node is lost or duplicated.
    ///
    /// # Safety
    /// Every node in the stack must stay live while it is in the stack.
    pub unsafe fn take_one(&self) -> *mut T {
        let first = self.take_all();
        if first.is_null() {
            return first;
        }
        // SAFETY: `take_all` made us the exclusive owner of the whole chain.
        unsafe {
            let rest = T::next(first);
            if !rest.is_null() {
                let mut last = rest;
                loop {
                    let n = T::next(last);
                    if n.is_null() {
                        break;
                    }
                    last = n;
                }
                self.push_chain(rest, last);
            }
            T::set_next(first, core::ptr::null_mut());
        }
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    struct Node {
        next: *mut Node,
        val: usize,
    }
    impl_link!(Node, next);

    fn collect(mut p: *mut Node, out: &mut Vec<usize>) {
        while !p.is_null() {
            // SAFETY: nodes are leaked boxes owned by the test.
            unsafe {
                out.push((*p).val);
                let n = (*p).next;
                drop(Box::from_raw(p));
                p = n;
            }
        }
    }

    #[test]
    fn push_take_all_take_one() {
        let s: AtomicStack<Node> = AtomicStack::new();
        assert!(s.take_all().is_null());
        for v in 0..5 {
            let n = Box::into_raw(Box::new(Node {
                next: core::ptr::null_mut(),
                val: v,
            }));
            // SAFETY: fresh node.
            unsafe { s.push(n) };
        }
        // SAFETY: nodes are live boxes.
        let one = unsafe { s.take_one() };
        let mut got = vec![];
        collect(one, &mut got);
        assert_eq!(got, vec![4]);
        collect(s.take_all(), &mut got);
        got.sort();
        assert_eq!(got, vec![0, 1, 2, 3, 4]);
        assert!(s.is_empty());
    }

    #[test]
    fn concurrent_pushers_and_takers() {
        let threads = if cfg!(miri) { 3 } else { 4 };
        let per = if cfg!(miri) { 20 } else { 2000 };
        let s: Arc<AtomicStack<Node>> = Arc::new(AtomicStack::new());
        let taken = Arc::new(std::sync::Mutex::new(Vec::new()));
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let s = s.clone();
                let taken = taken.clone();
                std::thread::spawn(move || {
                    let mut local = vec![];
                    for i in 0..per {
                        let n = Box::into_raw(Box::new(Node {
                            next: core::ptr::null_mut(),
                            val: t * per + i,
                        }));
                        // SAFETY: fresh node.
                        unsafe { s.push(n) };
                        if i % 3 == 0 {
                            // SAFETY: nodes stay live while in the stack.
                            collect(unsafe { s.take_one() }, &mut local);
                        }
                        if i % 7 == 0 {
                            collect(s.take_all(), &mut local);
                        }
                    }
                    taken.lock().unwrap().extend(local);
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        let mut all = taken.lock().unwrap().clone();
        collect(s.take_all(), &mut all);
        all.sort();
        assert_eq!(all, (0..threads * per).collect::<Vec<_>>());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Models of the two protocols built on [`AtomicStack`]: remote frees into an owner's
    //! queue, and a heap's hand-over through the abandoned stack while remote frees race.
    use super::*;
    use loom::cell::UnsafeCell;
    use loom::sync::atomic::AtomicPtr as LoomPtr;
    use loom::sync::Arc;

    struct Node {
        next: UnsafeCell<*mut Node>,
        val: usize,
    }
    impl_loom_link!(Node, next);
    fn node(val: usize) -> *mut Node {
        Box::into_raw(Box::new(Node {
            next: UnsafeCell::new(core::ptr::null_mut()),
            val,
        }))
    }
    fn drain(mut p: *mut Node, out: &mut Vec<usize>) {
        while !p.is_null() {
            // SAFETY: we own the taken chain; nodes are boxes.
            unsafe {
                out.push((*p).val);
                let n = Node::next(p);
                drop(Box::from_raw(p));
                p = n;
            }
        }
    }
    type Stack = AtomicStack<Node, LoomPtr<Node>>;

    /// Two threads free remotely into an owner's queue while the owner drains it.
    #[test]
    fn remote_free_queue() {
        loom::model(|| {
            let q = Arc::new(Stack::new_generic());
            let hs: Vec<_> = (0..2)
                .map(|t| {
                    let q = q.clone();
                    loom::thread::spawn(move || {
                        // SAFETY: fresh node.
                        unsafe { q.push(node(t)) };
                    })
                })
                .collect();
            let mut seen = vec![];
            drain(q.take_all(), &mut seen);
            for h in hs {
                h.join().unwrap();
            }
            drain(q.take_all(), &mut seen);
            seen.sort();
            assert_eq!(seen, vec![0, 1]);
        });
    }

    /// A heap (its remote queue) is abandoned by its owner while another thread frees into
    /// it and a third thread adopts it from the abandoned stack and drains it. Every block
    /// is drained exactly once, and the heap is adopted at most once.
    #[test]
    fn abandon_adopt_with_remote_free() {
        loom::model(|| {
            struct Heap {
                queue: Stack,
                next: UnsafeCell<*mut Heap>,
            }
            impl_loom_link!(Heap, next);
            let heap = Box::into_raw(Box::new(Heap {
                queue: Stack::new_generic(),
                next: UnsafeCell::new(core::ptr::null_mut()),
            }));
            let heap_addr = heap as usize;
            let abandoned: Arc<AtomicStack<Heap, LoomPtr<Heap>>> =
                Arc::new(AtomicStack::new_generic());

            // Owner: frees one block locally into its own queue path, drains, abandons.
            let owner = {
                let abandoned = abandoned.clone();
                loom::thread::spawn(move || {
                    let heap = heap_addr as *mut Heap;
                    let mut seen = vec![];
                    // SAFETY: the owner has exclusive use of the heap until it pushes it.
                    unsafe {
                        drain((*heap).queue.take_all(), &mut seen);
                        abandoned.push(heap);
                    }
                    seen
                })
            };
            // Remote freer: pushes a block into the heap's queue whatever its state.
            let remote = loom::thread::spawn(move || {
                let heap = heap_addr as *mut Heap;
                // SAFETY: heaps are never freed while the model runs; fresh node.
                unsafe { (*heap).queue.push(node(7)) };
            });
            // Adopter: takes a heap from the abandoned stack and drains it.
            let adopter = {
                let abandoned = abandoned.clone();
                loom::thread::spawn(move || {
                    let mut seen = vec![];
                    // SAFETY: nodes in the stack stay live.
                    let h = unsafe { abandoned.take_one() };
                    if !h.is_null() {
                        // SAFETY: take_one gave us exclusive ownership of the heap.
                        drain(unsafe { (*h).queue.take_all() }, &mut seen);
                    }
                    (h as usize, seen)
                })
            };
            let mut seen = owner.join().unwrap();
            remote.join().unwrap();
            let (adopted, s2) = adopter.join().unwrap();
            seen.extend(s2);
            // Whatever is left belongs to whoever holds the heap now (stack or adopter).
            // SAFETY: all threads joined; we own everything.
            unsafe {
                let left = abandoned.take_all();
                if adopted == 0 {
                    assert_eq!(left as usize, heap_addr);
                } else {
                    assert!(left.is_null());
                    assert_eq!(adopted, heap_addr);
                }
                drain((*heap).queue.take_all(), &mut seen);
                drop(Box::from_raw(heap));
            }
            assert_eq!(seen, vec![7]);
        });
    }

    /// Two adopters race on a stack of two abandoned heaps: never the same heap twice.
    #[test]
    fn concurrent_take_one() {
        loom::model(|| {
            let s = Arc::new(Stack::new_generic());
            // SAFETY: fresh nodes.
            unsafe {
                s.push(node(1));
                s.push(node(2));
            }
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    let s = s.clone();
                    loom::thread::spawn(move || {
                        let mut got = vec![];
                        // SAFETY: nodes stay live while in the stack.
                        drain(unsafe { s.take_one() }, &mut got);
                        got
                    })
                })
                .collect();
            let mut all = vec![];
            for h in hs {
                all.extend(h.join().unwrap());
            }
            drain(s.take_all(), &mut all);
            all.sort();
            assert_eq!(all, vec![1, 2]);
        });
    }
}
