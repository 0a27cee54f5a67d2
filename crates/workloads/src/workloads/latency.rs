//! latency: how long single `alloc` and `dealloc` calls take, the tail users
//! feel as request latency (first-touch page faults inside the allocator,
//! purges, refills of a thread cache, draining remote frees).
//!
//! Phase 1, one thread: a working set of 4,096 slots; each step picks a slot,
//! frees its block if it has one (timed) and allocates a new one (timed), then
//! writes the block's first and last byte (not timed). Sizes follow
//! glibc-thread's distribution (each doubling of size half as frequent, from
//! `min_size` to `max_size`), and one allocation in 512 is a large block of
//! 64 KiB–1 MiB. `iterations` steps.
//!
//! Phase 2, with 2 or more threads: a producer allocates blocks of the same
//! mix and hands them in batches of 256 to a consumer thread, which frees them
//! (timed: `remote_free`). `iterations / 2` blocks. Batches travel in vectors
//! that are recycled, so the channel allocates nothing while timing runs.
//!
//! Each call is timed alone with the time-stamp counter (`crate::timer`), the
//! timer's floor (the least an empty timed region costs) subtracted, into HDR histograms
//! (`hdrhistogram`, 3 significant digits); the percentiles go to the record
//! as `latency_ns`. The checksum covers the sizes and slots drawn, not times.

use std::alloc::{alloc, dealloc, Layout};
use std::sync::mpsc;
use std::thread;

use hdrhistogram::Histogram;

use crate::record::{LatencyReport, Percentiles};
use crate::timer::{ticks, Timer};
use crate::{Checksum, Outcome, Params, Rng};

/// Slots in the single-thread working set.
const WORKING_SET: usize = 4096;
/// Blocks per batch handed from producer to consumer.
const BATCH: usize = 256;

/// One block drawn from the size mix.
fn draw_size(rng: &mut Rng, p: &Params) -> usize {
    if rng.index(512) == 0 {
        rng.range(64 << 10, 1 << 20)
    } else {
        rng.pareto_size(p.min_size, p.max_size)
    }
}

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 8).expect("sizes are small and non-zero")
}

/// A histogram of tick counts up to an hour.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3).expect("valid bounds")
}

/// Allocates `size` bytes, timing the call; writes the first and last byte.
fn timed_alloc(size: usize, hist: &mut Histogram<u64>, overhead: u64) -> *mut u8 {
    let l = layout(size);
    let t0 = ticks();
    // SAFETY: `l` has a non-zero size.
    let p = unsafe { alloc(l) };
    let t1 = ticks();
    if p.is_null() {
        std::alloc::handle_alloc_error(l);
    }
    hist.saturating_record((t1 - t0).saturating_sub(overhead).max(1));
    // SAFETY: `p` points to `size ≥ 1` writable bytes.
    unsafe {
        p.write(size as u8);
        p.add(size - 1).write(size as u8);
    }
    p
}

/// Frees `p` (allocated with `size` bytes), timing the call.
///
/// # Safety
/// `p` must be a live block from [`timed_alloc`] of `size` bytes.
unsafe fn timed_free(p: *mut u8, size: usize, hist: &mut Histogram<u64>, overhead: u64) {
    let l = layout(size);
    let t0 = ticks();
    // SAFETY: caller contract.
    unsafe { dealloc(p, l) };
    let t1 = ticks();
    hist.saturating_record((t1 - t0).saturating_sub(overhead).max(1));
}

/// The percentiles of `hist` (ticks) in nanoseconds.
fn percentiles(hist: &Histogram<u64>, ticks_per_ns: f64) -> Percentiles {
    let ns = |t: u64| t as f64 / ticks_per_ns;
    let ten_us = (10_000.0 * ticks_per_ns) as u64;
    Percentiles {
        count: hist.len(),
        p50: ns(hist.value_at_quantile(0.5)),
        p99: ns(hist.value_at_quantile(0.99)),
        p999: ns(hist.value_at_quantile(0.999)),
        max: ns(hist.max()),
        over_10us: if hist.max() > ten_us {
            hist.count_between(ten_us + 1, hist.max())
        } else {
            0
        },
    }
}

/// Runs latency.
pub fn run(p: &Params) -> Outcome {
    let overhead = Timer::overhead();
    let clock = Timer::start();
    let mut rng = Rng::stream(p.seed, 0);
    let mut sum = Checksum::new();
    let (mut allocs, mut frees) = (histogram(), histogram());
    let mut slots: Vec<Option<(*mut u8, usize)>> = vec![None; WORKING_SET];
    for _ in 0..p.iterations {
        let i = rng.index(WORKING_SET);
        if let Some((q, size)) = slots[i].take() {
            // SAFETY: `q` is the live block of `size` bytes this slot holds.
            unsafe { timed_free(q, size, &mut frees, overhead) };
        }
        let size = draw_size(&mut rng, p);
        sum.add((i as u64) << 32 | size as u64);
        slots[i] = Some((timed_alloc(size, &mut allocs, overhead), size));
    }
    for (q, size) in slots.into_iter().flatten() {
        // SAFETY: every remaining slot holds a live block of its size.
        unsafe { dealloc(q, layout(size)) };
    }
    let mut operations = 2 * p.iterations;
    let remote = if p.threads >= 2 {
        let (hist, n, s) = cross_thread(p, overhead);
        operations += 2 * n;
        sum.merge(s);
        Some(hist)
    } else {
        None
    };
    let tpn = clock.ticks_per_ns();
    crate::extras::report_latency(LatencyReport {
        alloc: percentiles(&allocs, tpn),
        free: percentiles(&frees, tpn),
        remote_free: remote.map(|h| percentiles(&h, tpn)),
        timer_overhead_ns: overhead as f64 / tpn,
    });
    Outcome {
        operations,
        checksum: sum.value(),
    }
}

/// A batch of blocks in flight from producer to consumer (addresses, sizes).
type Batch = Vec<(usize, usize)>;

/// Phase 2: blocks allocated by a producer, freed by a consumer (timed there).
fn cross_thread(p: &Params, overhead: u64) -> (Histogram<u64>, u64, Checksum) {
    let blocks = (p.iterations / 2).max(BATCH as u64);
    let (to_consumer, from_producer) = mpsc::sync_channel::<Batch>(8);
    let (to_producer, recycled) = mpsc::sync_channel::<Batch>(16);
    for _ in 0..12 {
        let _ = to_producer.send(Vec::with_capacity(BATCH));
    }
    thread::scope(|s| {
        let consumer = s.spawn(move || {
            let mut hist = histogram();
            for mut batch in from_producer {
                for (addr, size) in batch.drain(..) {
                    // SAFETY: the producer handed over a live block of `size` bytes.
                    unsafe { timed_free(addr as *mut u8, size, &mut hist, overhead) };
                }
                if to_producer.send(batch).is_err() {
                    break;
                }
            }
            hist
        });
        let mut rng = Rng::stream(p.seed, 1);
        let mut sum = Checksum::new();
        let mut untimed = histogram();
        let mut sent = 0u64;
        while sent < blocks {
            let mut batch = recycled.recv().unwrap_or_default();
            while batch.len() < BATCH && sent < blocks {
                let size = draw_size(&mut rng, p);
                sum.add(size as u64);
                let q = timed_alloc(size, &mut untimed, overhead);
                batch.push((q as usize, size));
                sent += 1;
            }
            if to_consumer.send(batch).is_err() {
                break;
            }
        }
        drop(to_consumer);
        let hist = super::join(consumer);
        (hist, blocks, sum)
    })
}

#[cfg(test)]
mod tests {
    use super::{histogram, percentiles};

    #[test]
    fn percentiles_of_synthetic_data() {
        // 1,000 calls of 1..=1000 ticks at 2 ticks per ns, and five 40 µs spikes.
        let mut h = histogram();
        for t in 1..=1000u64 {
            h.record(t).unwrap();
        }
        for _ in 0..5 {
            h.record(80_000).unwrap();
        }
        let p = percentiles(&h, 2.0);
        assert_eq!(p.count, 1005);
        assert!((p.p50 - 251.0).abs() <= 1.0, "{p:?}");
        assert!((p.p99 - 497.0).abs() <= 2.0, "{p:?}");
        assert!((p.max - 40_000.0).abs() / 40_000.0 < 0.001, "{p:?}");
        assert_eq!(p.over_10us, 5);
        assert!(p.p999 >= p.p99 && p.max >= p.p999);
    }
}
