//! malloc-large: the large-block (mmap) path (mimalloc-bench's `malloc-large`).
//!
//! What the original does: one thread, 20 slots, 2,000 iterations; each picks
//! a slot at random and stores a new zero-initialised buffer of 5..=25 MiB
//! (uniform) into it, which frees the slot's previous buffer only after the
//! new one exists. Every byte of every buffer is zeroed by the program
//! (`new char[n]()`, not `calloc`), so ≈ 29 GiB are written in total; about
//! 300 MiB are live.
//!
//! Here: the same. `iterations` = buffers allocated (the original's 2,000);
//! sizes in `min_size..=max_size` (5..=25 MiB).
//!
//! Changed from our previous version: it freed the old buffer before
//! allocating the new one (the original allocates first, so up to 21 buffers
//! are live) and touched one byte per page instead of zeroing the whole buffer.
//!
//! Operations counted: every allocation and free.

use super::filled;
use crate::{Checksum, Outcome, Params, Rng};

/// Slots for live buffers.
const LIVE: usize = 20;

/// Runs malloc-large.
pub fn run(p: &Params) -> Outcome {
    let mut rng = Rng::new(p.seed);
    let mut sum = Checksum::new();
    let mut live: Vec<Option<Box<[u8]>>> = (0..LIVE).map(|_| None).collect();
    for _ in 0..p.iterations {
        let i = rng.index(LIVE);
        let size = rng.range(p.min_size, p.max_size);
        let buf = filled(size, 0); // allocated and zeroed before the old one is freed
        sum.add(((size as u64) << 8) | u64::from(buf[size / 2]));
        live[i] = Some(buf);
    }
    Outcome {
        operations: 2 * p.iterations,
        checksum: sum.value(),
    }
}
