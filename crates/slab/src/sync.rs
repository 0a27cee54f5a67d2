//! A small shim over atomics so the lock-free lists in [`crate::list`] and a page's
//! tagged free word ([`crate::thread_free`]) can be model-checked with `loom`
//! (`cfg(loom)`) while the allocator itself keeps using `core::sync::atomic` (whose
//! constructors are `const`, needed for statics).

use core::sync::atomic::{AtomicPtr, Ordering};

/// The operations the lock-free lists need from an atomic pointer.
pub trait AtomicPtrOps<T> {
    /// A new atomic holding null.
    fn null() -> Self;
    /// Atomic load.
    fn load(&self, order: Ordering) -> *mut T;
    /// Atomic swap.
    fn swap(&self, new: *mut T, order: Ordering) -> *mut T;
    /// Weak compare-and-exchange.
    fn compare_exchange_weak(
        &self,
        current: *mut T,
        new: *mut T,
        success: Ordering,
        failure: Ordering,
    ) -> Result<*mut T, *mut T>;
}

/// Implements [`AtomicPtrOps`] for an `AtomicPtr` type by forwarding.
macro_rules! impl_ptr_ops {
    ($ty:ident) => {
        impl<T> AtomicPtrOps<T> for $ty<T> {
            #[inline]
            fn null() -> Self {
                Self::new(core::ptr::null_mut())
            }
            #[inline]
            fn load(&self, order: Ordering) -> *mut T {
                self.load(order)
            }
            #[inline]
            fn swap(&self, new: *mut T, order: Ordering) -> *mut T {
                self.swap(new, order)
            }
            #[inline]
            fn compare_exchange_weak(
                &self,
                current: *mut T,
                new: *mut T,
                success: Ordering,
                failure: Ordering,
            ) -> Result<*mut T, *mut T> {
                self.compare_exchange_weak(current, new, success, failure)
            }
        }
    };
}

impl_ptr_ops!(AtomicPtr);
#[cfg(all(test, loom))]
mod loom_ptr {
    use super::{AtomicPtrOps, Ordering};
    use loom::sync::atomic::AtomicPtr;
    impl_ptr_ops!(AtomicPtr);
}

/// The operations a page's tagged free word ([`crate::thread_free::ThreadFree`]) needs
/// from an atomic word.
pub trait AtomicWordOps {
    /// A new atomic holding `v`.
    fn with(v: usize) -> Self;
    /// Atomic load.
    fn load(&self, order: Ordering) -> usize;
    /// Atomic store.
    fn store(&self, v: usize, order: Ordering);
    /// Atomic swap.
    fn swap(&self, v: usize, order: Ordering) -> usize;
    /// Weak compare-and-exchange.
    fn compare_exchange_weak(
        &self,
        current: usize,
        new: usize,
        success: Ordering,
        failure: Ordering,
    ) -> Result<usize, usize>;
}

/// Implements [`AtomicWordOps`] for an `AtomicUsize` type by forwarding.
macro_rules! impl_word_ops {
    ($ty:ty) => {
        impl AtomicWordOps for $ty {
            #[inline]
            fn with(v: usize) -> Self {
                Self::new(v)
            }
            #[inline]
            fn load(&self, order: Ordering) -> usize {
                self.load(order)
            }
            #[inline]
            fn store(&self, v: usize, order: Ordering) {
                self.store(v, order)
            }
            #[inline]
            fn swap(&self, v: usize, order: Ordering) -> usize {
                self.swap(v, order)
            }
            #[inline]
            fn compare_exchange_weak(
                &self,
                current: usize,
                new: usize,
                success: Ordering,
                failure: Ordering,
            ) -> Result<usize, usize> {
                self.compare_exchange_weak(current, new, success, failure)
            }
        }
    };
}

impl_word_ops!(core::sync::atomic::AtomicUsize);
#[cfg(all(test, loom))]
impl_word_ops!(loom::sync::atomic::AtomicUsize);
