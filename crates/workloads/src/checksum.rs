//! Checksums of the work done: order-independent sums of mixed values.
//!
//! A checksum must be the same for every allocator and every thread schedule,
//! so it is built only from deterministic values (sizes, tags, contents the
//! workload wrote) and combined with `wrapping_add`, which does not depend on
//! the order in which threads finish. Addresses and timings never enter it.

/// The SplitMix64 finaliser: a bijective mixing of 64 bits.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// An order-independent accumulator: the wrapping sum of mixed values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum(u64);

impl Checksum {
    /// An empty checksum.
    pub const fn new() -> Self {
        Checksum(0)
    }

    /// Adds one deterministic value.
    #[inline]
    pub fn add(&mut self, value: u64) {
        self.0 = self.0.wrapping_add(mix64(value));
    }

    /// Adds another (e.g. a thread's) checksum.
    #[inline]
    pub fn merge(&mut self, other: Checksum) {
        self.0 = self.0.wrapping_add(other.0);
    }

    /// The accumulated value.
    #[inline]
    pub fn value(self) -> u64 {
        self.0
    }
}
