//! The crate's deterministic pseudo-random numbers (SplitMix64).
//!
//! We write our own few lines instead of using `rand`: the output of
//! `rand::rngs::StdRng` is explicitly not stable across `rand` versions, and a
//! workload's sizes and choices — hence its checksum and the comparability of
//! results across months — must not change when a dependency is bumped.

use crate::checksum::mix64;

/// SplitMix64 (Steele, Lea, Flood 2014): a 64-bit counter passed through a
/// bijective mixer. Small, fast, and good enough to pick sizes and indices.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

/// The golden-ratio increment of SplitMix64.
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

impl Rng {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// An independent generator for sub-stream `stream` (a thread, a round …)
    /// of the run seeded with `seed`.
    pub fn stream(seed: u64, stream: u64) -> Self {
        Rng::new(mix64(seed ^ mix64(stream.wrapping_add(GAMMA))))
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        mix64(self.state)
    }

    /// A number in `0..n` (`n > 0`), by multiply-shift (Lemire), without division.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// An index in `0..n` (`n > 0`).
    #[inline]
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// A number in `lo..=hi` (`lo <= hi`).
    #[inline]
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        debug_assert!(lo <= hi);
        lo + self.below((hi - lo) as u64 + 1) as usize
    }

    /// True with probability `num / den`.
    #[inline]
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// A size in `lo..=hi` whose frequency falls linearly from `lo` to `hi`
    /// (the smaller of two uniform draws has density `2(1 - x)`).
    #[inline]
    pub fn falling_size(&mut self, lo: usize, hi: usize) -> usize {
        let a = self.range(lo, hi);
        let b = self.range(lo, hi);
        a.min(b)
    }

    /// A size in `lo..=hi` from a Pareto-like distribution: each doubling of
    /// the size is half as likely as the one before (uniform within a doubling).
    #[inline]
    pub fn pareto_size(&mut self, lo: usize, hi: usize) -> usize {
        let lo = lo.max(1);
        debug_assert!(lo <= hi);
        // Number of doublings from lo that still fit under hi.
        let span = (usize::BITS - (hi / lo).leading_zeros()).max(1) as u64;
        // Geometric draw: trailing zeros of a random word, capped to the span.
        let k = u64::from(self.next_u64().trailing_zeros()).min(span - 1);
        let start = lo << k;
        let end = ((lo << (k + 1)) - 1).min(hi);
        if start >= end {
            start.min(hi)
        } else {
            self.range(start, end)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_stable() {
        // The first outputs of SplitMix64 seeded with 1234567 (reference values
        // of the published algorithm): a changed generator changes every checksum.
        let mut r = Rng::new(1_234_567);
        assert_eq!(r.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(r.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn ranges_hold() {
        let mut r = Rng::new(7);
        for _ in 0..10_000 {
            let x = r.range(8, 1000);
            assert!((8..=1000).contains(&x));
            let p = r.pareto_size(4, 32_768);
            assert!((4..=32_768).contains(&p), "{p}");
            let p = r.pareto_size(16, 1024);
            assert!((16..=1024).contains(&p), "{p}");
            let f = r.falling_size(8, 16_000);
            assert!((8..=16_000).contains(&f));
        }
    }
}
