//! Size classes: the table of block sizes, the request → class mapping, and how many
//! 64 KiB pages a span of each class covers.
//!
//! Classes (`CLASS_COUNT` = 60, all multiples of 8, and of 16 above 8):
//!
//! | range            | spacing                      | classes |
//! |------------------|------------------------------|---------|
//! | 8 ..= 64         | 8 B                          | 8       |
//! | 64 < s ..= 512 KiB | 4 classes per doubling (`2^k + j·2^(k-2)`, j = 1..=4) | 52 |
//!
//! A request `r > 64` is served by a class `c` with `c - r < r / 4`, so internal waste
//! stays under 25 % — the spacing of mimalloc's and jemalloc's bins. Eight classes per
//! doubling (waste under 12.5 %) kept twice as many partly used pages per size range: on
//! rptest's original (8–16,000-byte blocks, every 4 KiB page written) 22 % more page
//! faults than mimalloc, 3 % more with four (docs/perf-log.md, 2026-12-03 "size classes").
//! Requests above [`MEDIUM_MAX`] (or aligned above a 64 KiB page) are large objects
//! mapped directly from the OS.

use crate::layout::PAGE_SIZE;

/// Largest block size served from size classes (512 KiB).
pub const MEDIUM_MAX: usize = 512 * 1024;
/// log2 of [`PER_DOUBLING`].
const PER_DOUBLING_SHIFT: usize = 2;
/// Classes per doubling above 64 bytes.
const PER_DOUBLING: usize = 1 << PER_DOUBLING_SHIFT;
/// Number of size classes: eight 8-byte steps to 64, then 13 doublings to 512 KiB.
pub const CLASS_COUNT: usize = 8 + 13 * PER_DOUBLING;
/// Largest request served through the direct lookup table.
pub const SMALL_TABLE_MAX: usize = 1024;
/// Most pages a span covers (that of a 512 KiB block).
pub const MAX_SPAN_PAGES: usize = MEDIUM_MAX / PAGE_SIZE;

/// Smallest block handed out: 8 bytes, or 16 in the hardened build, whose free blocks
/// carry a double-free cookie in their second word (class 0 is then unused); see
/// [`crate::checks::MIN_BLOCK`].
pub const MIN_BLOCK: usize = crate::checks::MIN_BLOCK;

/// Block size of class `i` (`i < CLASS_COUNT`).
#[inline]
pub const fn class_size(i: usize) -> usize {
    if i < 8 {
        (i + 1) * 8
    } else {
        let d = (i - 8) / PER_DOUBLING;
        let j = (i - 8) % PER_DOUBLING + 1;
        let base = 64usize << d;
        base + j * (base >> PER_DOUBLING_SHIFT)
    }
}

/// Smallest class whose block size is `>= size`, computed arithmetically.
/// `size` must be in `0..=MEDIUM_MAX` (sizes below [`MIN_BLOCK`] get its class).
#[inline]
pub const fn class_of_computed(size: usize) -> usize {
    if size <= 64 {
        let size = if size < MIN_BLOCK { MIN_BLOCK } else { size };
        size.div_ceil(8) - 1
    } else {
        let s = size - 1;
        let k = (usize::BITS - 1 - s.leading_zeros()) as usize; // floor(log2(s)) >= 6
        let base = 1usize << k;
        let j = ((s - base) >> (k - PER_DOUBLING_SHIFT)) + 1;
        8 + (k - 6) * PER_DOUBLING + j - 1
    }
}

/// The class of every `(size + 7) / 8` index up to [`SMALL_TABLE_MAX`]; with `c_malloc`,
/// of the size rounded up to a multiple of 16 (8 for sizes up to 8) — every size of an
/// index's group rounds to the same value.
const fn build_table(c_malloc: bool) -> [u8; SMALL_TABLE_MAX / 8 + 1] {
    let mut t = [0u8; SMALL_TABLE_MAX / 8 + 1];
    let mut i = 0;
    while i < t.len() {
        let size = if i == 0 {
            1
        } else if c_malloc && i > 1 {
            (i * 8 + 15) & !15
        } else {
            i * 8
        };
        t[i] = class_of_computed(size) as u8;
        i += 1;
    }
    t
}

/// Class index for sizes `0..=SMALL_TABLE_MAX`, indexed by `(size + 7) / 8`.
pub static SMALL_TABLE: [u8; SMALL_TABLE_MAX / 8 + 1] = build_table(false);

/// Class for C `malloc` of sizes `0..=SMALL_TABLE_MAX`, indexed by `(size + 7) / 8`:
/// sizes above 8 get a class whose block size is a multiple of 16, so the block has
/// `max_align_t` alignment (see [`malloc_class`]).
pub static MALLOC_TABLE: [u8; SMALL_TABLE_MAX / 8 + 1] = build_table(true);

/// Class for C `malloc(size)`, `size <= SMALL_TABLE_MAX`: the smallest class that holds
/// `size` rounded up to a multiple of 16 (8 for sizes up to 8). Every such rounded size
/// has a class of exactly that size or a multiple of 16 above it, and spans start on a
/// page boundary, so the block is 16-byte aligned.
#[inline(always)]
pub fn malloc_class(size: usize) -> usize {
    debug_assert!(size <= SMALL_TABLE_MAX);
    let idx = (size + 7) >> 3;
    match MALLOC_TABLE.get(idx) {
        Some(&c) => c as usize,
        None => class_of_computed(SMALL_TABLE_MAX),
    }
}

/// Class for a request of at most [`SMALL_TABLE_MAX`] bytes with alignment `<= 8`.
#[inline(always)]
pub fn small_class(size: usize) -> usize {
    debug_assert!(size <= SMALL_TABLE_MAX);
    let idx = (size + 7) >> 3;
    // `get` keeps this panic-free even if the caller broke the bound.
    match SMALL_TABLE.get(idx) {
        Some(&c) => c as usize,
        None => class_of_computed(size),
    }
}

/// Class for an arbitrary `(size, align)` request, or `None` when it must be a large
/// object (too big, or aligned beyond a page).
///
/// The block size of the returned class is `>= size` and a multiple of `align`; since
/// spans start on a [`PAGE_SIZE`] boundary, every block is then `align`-aligned.
#[inline]
pub fn class_for_layout(size: usize, align: usize) -> Option<usize> {
    if align > PAGE_SIZE {
        return None;
    }
    let need = if size < align { align } else { size };
    if need > MEDIUM_MAX {
        return None;
    }
    let mut c = class_of_computed(need);
    while c < CLASS_COUNT {
        if class_size(c) % align == 0 {
            return Some(c);
        }
        c += 1;
    }
    None
}

/// Pages per span of class `c`: the fewest 64 KiB pages that hold one block, so one page
/// up to 64 KiB (at least 8 blocks up to 8 KiB, 1–7 above) and one block per span above.
/// A span stays resident while any block of it is live, so a span of several big blocks
/// would pin all of them for one survivor; sized to one block (or one page), an empty span
/// goes back to the segment, where any class reuses its slots. The tail past the last
/// block is never written: it costs address space (less than a block, and less than a
/// page), not memory.
#[inline]
pub const fn span_pages(c: usize) -> usize {
    class_size(c).div_ceil(PAGE_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malloc_classes_hold_the_size_with_16_byte_alignment() {
        for size in 0..=SMALL_TABLE_MAX {
            let block = class_size(malloc_class(size));
            assert!(block >= size.max(1), "size {size}: block {block}");
            if size > 8 {
                assert_eq!(block % 16, 0, "size {size}: block {block}");
            }
            let rounded = if size <= 8 { 8 } else { (size + 15) & !15 };
            assert_eq!(
                malloc_class(size),
                class_of_computed(rounded),
                "size {size}"
            );
        }
    }

    #[test]
    fn classes_are_increasing_multiples_of_8() {
        let mut prev = 0;
        for c in 0..CLASS_COUNT {
            let s = class_size(c);
            assert!(s > prev, "class {c}");
            assert_eq!(s % 8, 0);
            prev = s;
        }
        assert_eq!(class_size(CLASS_COUNT - 1), MEDIUM_MAX);
    }

    #[test]
    fn class_of_is_smallest_fit_and_waste_bounded() {
        // Every boundary and +-1, plus a stride through the range (Miri-friendly count).
        let mut sizes = vec![];
        for c in 0..CLASS_COUNT {
            let s = class_size(c);
            sizes.extend([s - 1, s, s + 1]);
        }
        let step = if cfg!(miri) { 997 } else { 1 };
        sizes.extend((1..=MEDIUM_MAX).step_by(step));
        for size in sizes {
            if size == 0 || size > MEDIUM_MAX {
                continue;
            }
            let c = class_of_computed(size);
            assert!(c < CLASS_COUNT);
            assert!(class_size(c) >= size, "size {size}");
            if c > 0 && size > MIN_BLOCK {
                assert!(class_size(c - 1) < size, "not smallest for {size}");
            }
            assert!(class_size(c) >= MIN_BLOCK);
            if size > 64 {
                assert!(
                    (class_size(c) - size) * PER_DOUBLING < size,
                    "waste for {size}"
                );
            }
        }
    }

    #[test]
    fn small_table_matches_computation() {
        for size in 0..=SMALL_TABLE_MAX {
            let want = class_of_computed(size.max(1));
            assert!(class_size(small_class(size)) >= size.max(1));
            // The table is indexed by 8-byte granules, so it may pick the class of the
            // granule's upper end; both are the same since all classes are multiples of 8.
            assert_eq!(small_class(size), want, "size {size}");
        }
    }

    #[test]
    fn layout_classes_honour_alignment() {
        let mut align = 1;
        while align <= 2 * PAGE_SIZE {
            for c in 0..CLASS_COUNT {
                for size in [class_size(c) - 1, class_size(c), class_size(c) + 1] {
                    match class_for_layout(size, align) {
                        Some(k) => {
                            assert!(class_size(k) >= size);
                            assert_eq!(class_size(k) % align, 0);
                            assert!(align <= PAGE_SIZE);
                        }
                        None => assert!(align > PAGE_SIZE || size.max(align) > MEDIUM_MAX),
                    }
                }
            }
            align *= 2;
        }
    }

    #[test]
    fn spans_are_one_page_or_one_block() {
        for c in 0..CLASS_COUNT {
            let p = span_pages(c);
            let span = p * PAGE_SIZE;
            let s = class_size(c);
            assert!((1..=MAX_SPAN_PAGES).contains(&p));
            assert!(span >= s);
            if s <= PAGE_SIZE {
                assert_eq!(p, 1, "class {c} size {s}");
            } else {
                assert_eq!(span / s, 1, "class {c} size {s}: one block per span");
            }
            // The unused tail is less than a block and less than a page.
            let tail = span % s;
            assert!(tail < s.min(PAGE_SIZE), "class {c} size {s} tail {tail}");
            if s * 8 <= PAGE_SIZE {
                assert!(tail * 8 <= span, "class {c} size {s} tail {tail}");
            }
        }
    }
}
