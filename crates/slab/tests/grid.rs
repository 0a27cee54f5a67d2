//! Exhaustive size-class grid (in the style of jemalloc's realloc test): every class
//! boundary and ±1, plus the large-object boundaries, × every power-of-two alignment from
//! 1 B to 2 MiB × `realloc` to other boundary sizes. Checks contents, alignment and
//! `usable_size >= requested`.

use std::alloc::{GlobalAlloc, Layout};

use allocmux_slab::layout::PAGE_SIZE;
use allocmux_slab::size_class::{class_size, CLASS_COUNT, MEDIUM_MAX};
use allocmux_slab::{usable_size, SlabAlloc};

const A: SlabAlloc = SlabAlloc;

fn boundaries() -> Vec<usize> {
    let mut v = vec![1];
    for c in 0..CLASS_COUNT {
        let s = class_size(c);
        v.extend([s - 1, s, s + 1]);
    }
    for s in [
        MEDIUM_MAX + PAGE_SIZE,
        1 << 20,
        (4 << 20) - 4096,
        4 << 20,
        (4 << 20) + 1,
    ] {
        v.extend([s - 1, s, s + 1]);
    }
    v.sort();
    v.dedup();
    v.retain(|&s| s > 0);
    v
}

fn pat(addr_seed: usize, i: usize) -> u8 {
    (addr_seed.wrapping_mul(31).wrapping_add(i.wrapping_mul(7)) >> 1) as u8 ^ (i >> 8) as u8
}

/// Byte positions checked for a block of `n` bytes: all of them when small, else the
/// first and last 256 and a stride through the middle (keeps the grid within budget).
fn positions(n: usize) -> Box<dyn Iterator<Item = usize>> {
    if n <= 4 * 1024 {
        Box::new(0..n)
    } else {
        Box::new(
            (0..256)
                .chain((256..n - 256).step_by(251))
                .chain(n - 256..n),
        )
    }
}

unsafe fn fill(p: *mut u8, n: usize, seed: usize) {
    for i in positions(n) {
        // SAFETY: `i < n`, inside the block.
        unsafe { *p.add(i) = pat(seed, i) };
    }
}

unsafe fn check(p: *const u8, n: usize, seed: usize, what: &str) {
    for i in positions(n) {
        // SAFETY: `i < n`, inside the block.
        let got = unsafe { *p.add(i) };
        assert_eq!(got, pat(seed, i), "{what}: byte {i} of {n}");
    }
}

#[test]
fn grid_alloc_realloc_every_boundary_and_alignment() {
    let sizes = boundaries();
    let n = sizes.len();
    let aligns: Vec<usize> = (0..=21).map(|k| 1usize << k).collect();
    let mut reallocs = 0usize;
    for (ai, &align) in aligns.iter().enumerate() {
        for (si, &size) in sizes.iter().enumerate() {
            // Huge sizes with huge alignments only at the large boundaries' exact values.
            let layout = Layout::from_size_align(size, align).unwrap();
            // SAFETY: non-zero size.
            let p = unsafe { A.alloc(layout) };
            assert!(!p.is_null(), "alloc {size} align {align}");
            assert_eq!(p as usize % align, 0, "alignment {size}/{align}");
            // SAFETY: `p` is live.
            let us = unsafe { usable_size(p) };
            assert!(us >= size, "usable {us} < {size} (align {align})");
            let seed = si * 131 + ai;
            // SAFETY: `p` holds `size` bytes.
            unsafe { fill(p, size, seed) };
            // Realloc targets: a different slice of the boundaries for each (size, align),
            // so across the grid every boundary is a target for every alignment.
            // Alignments above a page make every block a large object (one mmap each), so
            // those rows take a sparser slice of targets.
            let stride = if align > PAGE_SIZE { 24 } else { 6 };
            let mut cur = p;
            let mut cur_size = size;
            let mut k = (si + ai) % stride;
            while k < n {
                let t = sizes[k];
                k += stride;
                let old = Layout::from_size_align(cur_size, align).unwrap();
                // SAFETY: `cur` is live with layout `old`; `t` is non-zero.
                let q = unsafe { A.realloc(cur, old, t) };
                assert!(!q.is_null(), "realloc {cur_size} -> {t} align {align}");
                reallocs += 1;
                assert_eq!(q as usize % align, 0, "realloc alignment {t}/{align}");
                // SAFETY: `q` is live.
                assert!(unsafe { usable_size(q) } >= t);
                let keep = cur_size.min(t);
                // SAFETY: `q` holds at least `keep` bytes written under `seed`.
                unsafe { check(q, keep, seed, "realloc keeps contents") };
                // SAFETY: `q` holds `t` bytes.
                unsafe { fill(q, t, seed) };
                cur = q;
                cur_size = t;
            }
            // SAFETY: `cur` is live with this layout.
            unsafe { A.dealloc(cur, Layout::from_size_align(cur_size, align).unwrap()) };
        }
    }
    assert!(reallocs > 100_000, "{reallocs}");
}

#[test]
fn alloc_zeroed_is_zero_after_reuse() {
    for &size in &boundaries() {
        for align in [1, 8, 64, 4096, 1 << 21] {
            let l = Layout::from_size_align(size, align).unwrap();
            // SAFETY: non-zero size.
            unsafe {
                let p = A.alloc(l);
                std::ptr::write_bytes(p, 0xAB, size);
                A.dealloc(p, l);
                let z = A.alloc_zeroed(l);
                assert!(!z.is_null());
                for i in positions(size) {
                    assert_eq!(*z.add(i), 0, "size {size} align {align} byte {i}");
                }
                A.dealloc(z, l);
            }
        }
    }
}

#[test]
fn realloc_in_place_within_class() {
    let l = Layout::from_size_align(100, 8).unwrap();
    // SAFETY: valid layouts; pointers are live where used.
    unsafe {
        let p = A.alloc(l);
        let us = usable_size(p);
        let q = A.realloc(p, l, us);
        assert_eq!(p, q, "grow within the class stays in place");
        let r = A.realloc(q, Layout::from_size_align(us, 8).unwrap(), us / 2 + 1);
        assert_eq!(q, r, "small shrink stays in place");
        A.dealloc(r, Layout::from_size_align(us / 2 + 1, 8).unwrap());
    }
}

#[test]
fn impossible_sizes_return_null() {
    for (size, align) in [
        (isize::MAX as usize - 4095, 4096),
        (isize::MAX as usize - (1 << 21) + 1, 1 << 21),
        (1usize << 62, 8),
        (1usize << 48, 1),
    ] {
        let l = Layout::from_size_align(size, align).unwrap();
        // SAFETY: non-zero size.
        let p = unsafe { A.alloc(l) };
        assert!(p.is_null(), "size {size} align {align}");
        // SAFETY: non-zero size.
        let p = unsafe { A.alloc_zeroed(l) };
        assert!(p.is_null());
    }
    // realloc to an impossible size returns null and keeps the old block.
    let l = Layout::from_size_align(64, 8).unwrap();
    // SAFETY: valid layouts; `p` stays live when realloc fails.
    unsafe {
        let p = A.alloc(l);
        *p = 7;
        assert!(A.realloc(p, l, isize::MAX as usize - 7).is_null());
        assert_eq!(*p, 7);
        A.dealloc(p, l);
    }
}
