//! The `GlobalAlloc` contract, checked with the façade installed as this test
//! binary's real `#[global_allocator]`. `cargo xtask test` builds this file once
//! per backend feature, so every backend passes the same checks.

use std::alloc::{alloc, alloc_zeroed, dealloc, realloc, Layout};
use std::sync::mpsc;
use std::thread;

#[global_allocator]
static GLOBAL: allocmux::Allocator = allocmux::Allocator;

/// Sizes around every size-class boundary of the common allocators: each size
/// up to 1 KiB, then for every power of two up to 8 MiB the quarter steps
/// between it and the next one, each with its neighbours ±1.
fn boundary_sizes() -> Vec<usize> {
    let mut sizes: Vec<usize> = (1..=1024).collect();
    let mut p = 1024usize;
    while p <= 8 << 20 {
        for quarter in 0..4 {
            let s = p + p / 4 * quarter;
            sizes.extend([s - 1, s, s + 1]);
        }
        p *= 2;
    }
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

fn alignments() -> impl Iterator<Item = usize> {
    (0..=21).map(|shift| 1usize << shift) // 1 B … 2 MiB
}

/// A byte pattern that depends on the block's identity and the offset.
fn pattern(seed: usize, i: usize) -> u8 {
    (seed.wrapping_mul(31).wrapping_add(i.wrapping_mul(7))) as u8
}

/// Fills `len` bytes at `p`, touching at most 64 KiB spread over the block so
/// that multi-MiB blocks stay quick.
unsafe fn fill(p: *mut u8, len: usize, seed: usize) {
    for i in probe_offsets(len) {
        // SAFETY: `i < len` and the caller owns `len` bytes at `p`.
        unsafe { p.add(i).write(pattern(seed, i)) };
    }
}

unsafe fn check(p: *const u8, len: usize, seed: usize) {
    // SAFETY: forwarded from the caller.
    unsafe { check_prefix(p, len, len, seed) }
}

/// Checks the first `keep` bytes of a block that [`fill`] filled with `filled` bytes.
unsafe fn check_prefix(p: *const u8, filled: usize, keep: usize, seed: usize) {
    for i in probe_offsets(filled).filter(|&i| i < keep) {
        // SAFETY: `i < len` and the caller owns `len` initialised bytes at `p`.
        let got = unsafe { p.add(i).read() };
        assert_eq!(
            got,
            pattern(seed, i),
            "byte {i} of a {filled}-byte block changed"
        );
    }
}

fn probe_offsets(len: usize) -> impl Iterator<Item = usize> {
    let step = (len / 65536).max(1);
    (0..len).step_by(step).chain(len.checked_sub(1))
}

#[test]
fn reports_the_backend_chosen_by_features() {
    let selected = allocmux::Backend::selected_by_features();
    assert_eq!(allocmux::ACTIVE, selected);
    assert_eq!(allocmux::BACKEND, selected.name());
    // At most one backend feature builds at all; the one selected is the only
    // backend whose feature this test binary was compiled with.
    let named: Vec<_> = allocmux::Backend::ALL
        .iter()
        .filter(|b| b.name() == allocmux::BACKEND)
        .collect();
    assert_eq!(named.len(), 1);
}

#[test]
fn blocks_from_the_global_allocator_are_the_backends_own() {
    // jemalloc can only tell when its statistics are compiled in.
    let answer = allocmux::global_allocator_is_backend();
    if allocmux::ACTIVE == allocmux::Backend::Jemalloc && answer.is_none() {
        return;
    }
    assert_eq!(answer, Some(true), "{}", allocmux::banner_line());
}

#[test]
fn every_size_class_boundary_holds_its_bytes() {
    for (n, size) in boundary_sizes().into_iter().enumerate() {
        let layout = Layout::from_size_align(size, 8).unwrap();
        // SAFETY: the layout has a non-zero size; the block is freed with it.
        unsafe {
            let p = alloc(layout);
            assert!(!p.is_null(), "alloc({size}) failed");
            assert_eq!(p as usize % 8, 0);
            fill(p, size, n);
            check(p, size, n);
            dealloc(p, layout);
        }
    }
}

#[test]
fn alignments_up_to_2_mib_are_honoured() {
    for align in alignments() {
        for size in [
            1,
            align.saturating_sub(1).max(1),
            align,
            align + 1,
            3 * align,
        ] {
            let layout = Layout::from_size_align(size, align).unwrap();
            // SAFETY: non-zero size; freed with the same layout.
            unsafe {
                let p = alloc(layout);
                assert!(!p.is_null(), "alloc(size {size}, align {align}) failed");
                assert_eq!(p as usize % align, 0, "size {size} align {align}: {p:p}");
                fill(p, size, align);
                check(p, size, align);
                dealloc(p, layout);
            }
        }
    }
}

#[test]
fn realloc_keeps_contents_growing_and_shrinking() {
    let sizes = boundary_sizes();
    // Walk up through every boundary, then back down, in one block.
    let order: Vec<usize> = sizes
        .iter()
        .copied()
        .step_by(3)
        .chain(sizes.iter().rev().copied().step_by(5))
        .collect();
    for align in [1, 8, 16, 64, 4096] {
        let mut layout = Layout::from_size_align(order[0], align).unwrap();
        // SAFETY: each step reallocates the live block with its current layout
        // and a non-zero new size; the last block is freed with its layout.
        unsafe {
            let mut p = alloc(layout);
            assert!(!p.is_null());
            fill(p, layout.size(), 1);
            for &new_size in &order[1..] {
                let keep = layout.size().min(new_size);
                let q = realloc(p, layout, new_size);
                assert!(
                    !q.is_null(),
                    "realloc {} -> {new_size} failed",
                    layout.size()
                );
                assert_eq!(q as usize % align, 0, "realloc lost alignment {align}");
                check_prefix(q, layout.size(), keep, 1);
                layout = Layout::from_size_align(new_size, align).unwrap();
                fill(q, new_size, 1);
                p = q;
            }
            dealloc(p, layout);
        }
    }
}

#[test]
fn alloc_zeroed_is_zero_after_reuse() {
    for size in [
        1,
        8,
        24,
        100,
        256,
        1000,
        4096,
        10_000,
        65_536,
        300_000,
        3 << 20,
    ] {
        let layout = Layout::from_size_align(size, 8).unwrap();
        for _ in 0..16 {
            // SAFETY: non-zero size; each block is freed with its layout.
            unsafe {
                let dirty = alloc(layout);
                assert!(!dirty.is_null());
                dirty.write_bytes(0xA5, size);
                dealloc(dirty, layout);
                let z = alloc_zeroed(layout);
                assert!(!z.is_null());
                let bytes = std::slice::from_raw_parts(z, size);
                assert!(
                    bytes.iter().all(|&b| b == 0),
                    "alloc_zeroed({size}) not zero"
                );
                z.write_bytes(0x5A, size);
                dealloc(z, layout);
            }
        }
    }
}

/// Sizes that no machine can satisfy: the allocator must return null, not
/// abort or panic. (All four C allocators and glibc return null here; their
/// abort-on-OOM behaviour only concerns `handle_alloc_error`, not `alloc`.)
#[test]
fn impossible_requests_return_null() {
    let huge = [
        Layout::from_size_align(isize::MAX as usize - 4096, 1).unwrap(),
        Layout::from_size_align(isize::MAX as usize / 2, 4096).unwrap(),
        Layout::from_size_align(1 << 62, 1 << 20).unwrap(),
    ];
    for layout in huge {
        // SAFETY: non-zero sizes; a non-null result would be freed with its layout.
        unsafe {
            let p = alloc(layout);
            assert!(p.is_null(), "alloc({layout:?}) returned {p:p}");
            let z = alloc_zeroed(layout);
            assert!(z.is_null(), "alloc_zeroed({layout:?}) returned {z:p}");
        }
    }
    // A failed realloc leaves the original block intact and owned by the caller.
    let layout = Layout::from_size_align(64, 8).unwrap();
    // SAFETY: the block is live with `layout`; after the failed realloc it is
    // still ours and is freed with `layout`.
    unsafe {
        let p = alloc(layout);
        fill(p, 64, 9);
        let q = realloc(p, layout, isize::MAX as usize - 4096);
        assert!(q.is_null(), "realloc to an impossible size returned {q:p}");
        check(p, 64, 9);
        dealloc(p, layout);
    }
}

#[test]
fn memory_allocated_on_one_thread_is_freed_on_another() {
    let (tx, rx) = mpsc::channel::<Vec<Box<[u8]>>>();
    let consumer = thread::spawn(move || {
        let mut freed = 0usize;
        for batch in rx {
            for (i, block) in batch.iter().enumerate() {
                assert!(block.iter().all(|&b| b == (block.len() as u8) ^ (i as u8)));
            }
            freed += batch.len();
            drop(batch);
        }
        freed
    });
    for round in 0..200 {
        let batch: Vec<Box<[u8]>> = (0..100)
            .map(|i| {
                let len = 1 + (round * 37 + i * 101) % 5000;
                vec![(len as u8) ^ (i as u8); len].into_boxed_slice()
            })
            .collect();
        tx.send(batch).unwrap();
    }
    drop(tx);
    assert_eq!(consumer.join().unwrap(), 200 * 100);
}

#[test]
fn many_threads_at_once() {
    let threads: Vec<_> = (0..16)
        .map(|t: usize| {
            thread::spawn(move || {
                let mut live: Vec<Vec<u64>> = Vec::new();
                let mut x = (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                for i in 0..20_000usize {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let len = 1 + (x % 300) as usize;
                    live.push(vec![x; len]);
                    if live.len() > 64 || i % 3 == 0 {
                        let v = live.swap_remove((x as usize >> 8) % live.len());
                        assert!(v.iter().all(|&w| w == v[0]));
                    }
                }
                live.len()
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[cfg(feature = "stats")]
#[test]
fn stats_count_what_the_program_does() {
    let before = allocmux::stats();
    let layout = Layout::from_size_align(1000, 8).unwrap();
    // SAFETY: non-zero size; freed with its layout after a realloc.
    unsafe {
        let p = alloc(layout);
        let q = realloc(p, layout, 3000);
        dealloc(q, Layout::from_size_align(3000, 8).unwrap());
    }
    let after = allocmux::stats();
    // Other test threads may allocate concurrently, so compare at least.
    assert!(after.allocations > before.allocations);
    assert!(after.reallocations > before.reallocations);
    assert!(after.deallocations > before.deallocations);
    assert!(after.bytes_peak >= 3000);
}
