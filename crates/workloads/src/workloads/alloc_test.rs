//! alloc-test: random positions, random sizes (the OLogN alloc-test, mimalloc-bench's
//! `alloc-test 2`).
//!
//! What the original does: each thread owns an array of 2^18 / threads slots
//! (16 B each, one allocation), fills each slot with probability 1/2, then
//! repeats one operation 10^8 times: pick a slot with a Pareto-like 80/20
//! index distribution; if it holds an object, read the whole object and free
//! it, otherwise allocate an object of random size and `memset` all of it.
//! Sizes: class `k` in 2..=9 with probability 1/2, 1/4, … (the last two equal),
//! size uniform in (2^k, 2^(k+1)], i.e. 5–8 B half of the time, up to 1 KiB.
//! At the end every remaining object is read and freed. Threads never free each
//! other's objects, and every thread uses the same seed (the same sequence).
//!
//! Here: the same slot array, half-filled setup, index and size distributions,
//! full write and full read, and the same sequence in every thread.
//! `iterations` = main-loop operations per thread (the original's 10^8), each
//! one allocation or one free; sizes in `min_size..=max_size` where `max_size`
//! (1024) sets the largest class and `min_size` (5) is just the smallest size.
//!
//! Changed from our previous version: it grew and shrank a set of 512..8192
//! blocks with each size doubling half as frequent from 8 B, touching only a
//! few bytes per block (≈ 5.5 MB at 2 threads); the original keeps about
//! 65,000 objects per thread at 2 threads in a 2 MiB slot array (≈ 12 MB peak).
//!
//! Operations counted: every allocation and free (setup, main loop, exit).

use std::thread;

use super::{filled, join};
use crate::{Checksum, Outcome, Params, Rng};

/// Slots of all threads together; each thread owns `SLOTS / threads`.
const SLOTS: usize = 1 << 18;

/// Probability of each index region (the first region is the hottest).
const REGION_PROB: [f64; 7] = [
    0.262_144, 0.393_216, 0.245_760, 0.081_920, 0.015_360, 0.001_536, 0.000_064,
];

/// The Pareto-like slot picker: region `i` is chosen with probability
/// `REGION_PROB[i]` and holds a `REGION_PROB[6 - i]` share of the slots.
struct SlotPicker {
    /// Upper bounds of regions 0..6 in a 32-bit random number (region 6 takes the rest).
    bounds: [u64; 6],
    /// First slot of each region, and the slot count at the end.
    starts: [usize; 8],
}

impl SlotPicker {
    fn new(slots: usize) -> SlotPicker {
        let scale = f64::from(u32::MAX);
        let mut bounds = [0u64; 6];
        let mut cumulative = 0.0;
        for (i, b) in bounds.iter_mut().enumerate() {
            cumulative += REGION_PROB[i];
            *b = (scale * cumulative) as u64;
        }
        let mut starts = [0usize; 8];
        for i in 0..6 {
            starts[i + 1] = starts[i] + (slots as f64 * REGION_PROB[6 - i]) as usize;
        }
        starts[7] = slots;
        SlotPicker { bounds, starts }
    }

    #[inline]
    fn pick(&self, rng: &mut Rng) -> usize {
        let r = rng.next_u64();
        let region = self
            .bounds
            .iter()
            .take_while(|&&b| (r & 0xFFFF_FFFF) >= b)
            .count();
        let (lo, hi) = (self.starts[region], self.starts[region + 1]);
        lo + ((r >> 32) % (hi - lo).max(1) as u64) as usize
    }
}

/// A size: class `k` from the trailing zeros of a random number (capped), then
/// uniform in `(2^k, 2^(k+1)]`; `max_exp` = log2 of the largest size.
#[inline]
fn object_size(rng: &mut Rng, max_exp: u32) -> usize {
    let r = rng.next_u64();
    let class_bits = max_exp.saturating_sub(3);
    let k = ((r & ((1 << class_bits) - 1)) + 1).trailing_zeros() + 2;
    let low = ((r >> class_bits) & ((1 << k) - 1)) as usize;
    (1 << k) + 1 + low
}

/// Reads every byte of an object (as 8-byte words, then the tail).
#[inline]
fn read_all(obj: &[u8]) -> u64 {
    let words = obj.chunks_exact(8);
    let tail: u64 = words.remainder().iter().map(|&b| u64::from(b)).sum();
    words.fold(tail, |acc, w| {
        acc.wrapping_add(u64::from_ne_bytes(w.try_into().unwrap_or([0; 8])))
    })
}

/// One thread's run: (checksum, allocator operations).
fn worker(p: &Params, slots: usize) -> (Checksum, u64) {
    let max_exp = usize::BITS - 1 - p.max_size.max(8).leading_zeros();
    let picker = SlotPicker::new(slots);
    let mut rng = Rng::stream(p.seed, 0); // the same sequence in every thread
    let mut sum = Checksum::new();
    let mut ops = 0u64;
    let mut read = 0u64;
    let new_object = |rng: &mut Rng, sum: &mut Checksum| {
        let size = object_size(rng, max_exp);
        sum.add(size as u64);
        filled(size, size as u8)
    };
    let mut table: Vec<Option<Box<[u8]>>> = Vec::with_capacity(slots);
    table.resize_with(slots, || None);
    for slot in table.iter_mut() {
        if rng.chance(1, 2) {
            *slot = Some(new_object(&mut rng, &mut sum));
            ops += 1;
        }
    }
    for _ in 0..p.iterations {
        let slot = &mut table[picker.pick(&mut rng)];
        match slot.take() {
            Some(obj) => read = read.wrapping_add(read_all(&obj)),
            None => *slot = Some(new_object(&mut rng, &mut sum)),
        }
        ops += 1;
    }
    for obj in table.iter_mut().filter_map(Option::take) {
        read = read.wrapping_add(read_all(&obj));
        ops += 1;
    }
    sum.add(read);
    (sum, ops)
}

/// Runs alloc-test.
pub fn run(p: &Params) -> Outcome {
    let threads = p.threads.max(1);
    let slots = (SLOTS / threads).max(8);
    let (sum, ops) = thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| s.spawn(move || worker(p, slots)))
            .collect();
        let mut sum = Checksum::new();
        let mut ops = 0;
        for w in workers {
            let (s, o) = join(w);
            sum.merge(s);
            ops += o;
        }
        (sum, ops)
    });
    Outcome {
        operations: ops,
        checksum: sum.value(),
    }
}
