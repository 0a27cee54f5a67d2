//! server-churn: a long-running server's memory, to see whether a backend's
//! footprint creeps up while the program's live data stays bounded.
//!
//! `threads` workers (4: a fixed server, not a scaling test) share
//! `iterations` rounds. A round has three
//! phases whose size distributions and lifetimes shift — small (16–256 B,
//! a ring of 2,048 short-lived blocks), medium (1–32 KiB, a ring of 256) and
//! mixed (16 B–256 KiB, each doubling half as frequent, a ring of 512) — then
//! a burst (8,192 blocks of 64–512 B allocated at once, all but one in 16 freed
//! again) and a quiet period (a 2 ms sleep: idle time in which an allocator
//! may give memory back). One allocation in 64 of every phase, and every
//! burst survivor, goes to a long-lived pool of 4,096 blocks per worker that
//! replaces its oldest entry: objects that outlive their phase and pin the
//! pages around them, as caches and sessions do in a server. The live set is
//! bounded by the rings and the pool (about 40 MiB per worker at most).
//!
//! When the rounds are done, before anything is freed, the workload marks the
//! end of its work (resident memory against live bytes, see `extras`); the
//! runner's resident-memory timeline shows the creep, if any, over the rounds.

use std::collections::VecDeque;
use std::thread;

use super::share;
use crate::{Block, Checksum, Outcome, Params, Rng};

/// Long-lived blocks each worker keeps.
const POOL: usize = 4096;

/// One phase: `count` allocations from `size`, kept in a ring of `ring`.
struct Phase {
    count: usize,
    ring: usize,
    size: fn(&mut Rng) -> usize,
}

const PHASES: [Phase; 3] = [
    Phase {
        count: 12_000,
        ring: 2_048,
        size: |r| r.range(16, 256),
    },
    Phase {
        count: 2_000,
        ring: 256,
        size: |r| r.range(1 << 10, 32 << 10),
    },
    Phase {
        count: 4_000,
        ring: 512,
        size: |r| r.pareto_size(16, 256 << 10),
    },
];

/// One worker's state: the long-lived pool and its checksum.
struct Worker {
    rng: Rng,
    pool: VecDeque<Block>,
    sum: Checksum,
    allocations: u64,
}

impl Worker {
    fn block(&mut self, size: usize) -> Block {
        self.allocations += 1;
        let b = Block::new(size, self.rng.next_u64() as u8);
        self.sum.add(b.digest());
        b
    }

    fn keep(&mut self, b: Block) {
        if self.pool.len() == POOL {
            self.pool.pop_front();
        }
        self.pool.push_back(b);
    }

    fn round(&mut self) {
        for phase in &PHASES {
            let mut ring: VecDeque<Block> = VecDeque::with_capacity(phase.ring);
            for _ in 0..phase.count {
                let size = (phase.size)(&mut self.rng);
                let b = self.block(size);
                if self.rng.index(64) == 0 {
                    self.keep(b);
                    continue;
                }
                if ring.len() == phase.ring {
                    ring.pop_front();
                }
                ring.push_back(b);
            }
        }
        let burst: Vec<Block> = (0..8_192)
            .map(|_| {
                let size = self.rng.range(64, 512);
                self.block(size)
            })
            .collect();
        for (i, b) in burst.into_iter().enumerate() {
            if i % 16 == 0 {
                self.keep(b);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// Runs server-churn.
pub fn run(p: &Params) -> Outcome {
    let threads = p.threads.max(1);
    let barrier = std::sync::Barrier::new(threads);
    let (sum, allocations) = thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                s.spawn(move || {
                    let mut w = Worker {
                        rng: Rng::stream(p.seed, t as u64),
                        pool: VecDeque::with_capacity(POOL),
                        sum: Checksum::new(),
                        allocations: 0,
                    };
                    for _ in 0..share(p.iterations, threads, t) {
                        w.round();
                    }
                    // Every worker holds its pool when the end is marked.
                    if barrier.wait().is_leader() {
                        crate::extras::mark_end_of_work();
                    }
                    barrier.wait();
                    (w.sum, w.allocations)
                })
            })
            .collect();
        let mut allocations = 0;
        let sums = workers
            .into_iter()
            .map(|h| {
                let (sum, n) = super::join(h);
                allocations += n;
                sum
            })
            .fold(Checksum::new(), |mut acc, s| {
                acc.merge(s);
                acc
            });
        (sums, allocations)
    });
    Outcome {
        operations: 2 * allocations,
        checksum: sum.value(),
    }
}
