//! vec-grow: `Vec::push` from empty to large, then shrink: the realloc path.
//!
//! Each iteration pushes `u64`s into an empty `Vec` until it holds a random
//! number of bytes in `min_size..=max_size` (so the allocator sees a chain of
//! doubling reallocs, small ones and multi-MiB ones), then truncates it to a
//! third and calls `shrink_to_fit` (a shrinking realloc) before dropping it.
//!
//! `iterations` = vectors built.

use std::hint::black_box;

use crate::{Checksum, Outcome, Params, Rng};

/// Runs vec-grow.
pub fn run(p: &Params) -> Outcome {
    let mut rng = Rng::new(p.seed);
    let mut sum = Checksum::new();
    let mut ops = 0u64;
    for _ in 0..p.iterations {
        let len = (rng.range(p.min_size, p.max_size) / 8).max(1);
        let base = rng.next_u64();
        let mut v: Vec<u64> = Vec::new();
        let mut cap = 0;
        for i in 0..len as u64 {
            v.push(base ^ i);
            if v.capacity() != cap {
                cap = v.capacity();
                ops += 1; // the first allocation or a growing realloc
            }
        }
        let v = black_box(v);
        sum.add(v[len / 2] ^ v[len - 1] ^ len as u64);
        let mut v = v;
        v.truncate(len / 3 + 1);
        v.shrink_to_fit();
        if v.capacity() != cap {
            ops += 1;
        }
        sum.add(black_box(&v).len() as u64);
        ops += 1; // the free
    }
    Outcome {
        operations: ops,
        checksum: sum.value(),
    }
}
