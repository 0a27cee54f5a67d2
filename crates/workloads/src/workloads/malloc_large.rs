//! malloc-large: the large-block (mmap) path.
//!
//! One thread keeps at most 20 live blocks of `min_size..=max_size` bytes
//! (5–25 MiB by default) and replaces a random one each iteration; every page
//! of a new block is touched.
//!
//! `iterations` = blocks allocated.

use crate::{Block, Checksum, Outcome, Params, Rng};

/// Blocks live at most.
const LIVE: usize = 20;

/// Runs malloc-large.
pub fn run(p: &Params) -> Outcome {
    let mut rng = Rng::new(p.seed);
    let mut sum = Checksum::new();
    let mut live: Vec<Option<Block>> = (0..LIVE).map(|_| None).collect();
    for _ in 0..p.iterations {
        let i = rng.index(LIVE);
        live[i] = None; // free before allocating: never more than LIVE live blocks
        let b = Block::new(rng.range(p.min_size, p.max_size), rng.next_u64() as u8);
        sum.add(b.digest());
        live[i] = Some(b);
    }
    Outcome {
        operations: 2 * p.iterations,
        checksum: sum.value(),
    }
}
