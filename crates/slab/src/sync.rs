//! A small shim over atomic pointers so the lock-free lists in [`crate::list`] and a
//! page's tagged free word ([`crate::thread_free`]) can be model-checked with `loom`
//! (`cfg(loom)`) while the allocator itself keeps using `core::sync::atomic` (whose
//! constructors are `const`, needed for statics).

use core::sync::atomic::{AtomicPtr, Ordering};

/// The operations the lock-free lists and the tagged free word need from an atomic pointer.
pub trait AtomicPtrOps<T> {
    /// A new atomic holding null.
    fn null() -> Self;
    /// Atomic load.
    fn load(&self, order: Ordering) -> *mut T;
    /// Atomic store.
    fn store(&self, new: *mut T, order: Ordering);
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
            fn store(&self, new: *mut T, order: Ordering) {
                self.store(new, order)
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
