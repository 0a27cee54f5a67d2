//! [`Block`]: one heap allocation of an exact size whose memory is touched.
//!
//! Workloads must use the memory they allocate (an allocator that hands out
//! untouched pages would otherwise look free), but filling every byte would
//! make large blocks measure `memset` instead of the allocator. A block
//! therefore writes its first and last byte and one byte per 4 KiB page, so
//! every page it spans is faulted in, as in a program that uses its buffers.
//!
//! ```text
//!  0      4096     8192          size-1
//!  [t.....][t......][t.......... t]     t = tag byte written, . = untouched
//! ```
//!
//! The touching is a function that is never inlined, so it is the same code in every
//! backend's runner. Inlined into the workloads, how LLVM compiled its loop depended on
//! whether the allocator was inlined next to it: 3 instructions per block in the plain
//! slab's runner against 17 in mimalloc's and the system allocator's (larson, cachegrind,
//! quick: 5.1 M against 43.4 M on this loop) — a difference no allocator causes.

use std::hint::black_box;

/// Bytes between two touched bytes of a block: one per page.
const PAGE: usize = 4096;

/// One heap allocation of exactly `size` bytes (via `Vec::with_capacity`, so
/// the allocator sees `Layout::array::<u8>(size)`), tagged with a byte.
#[derive(Debug)]
pub struct Block {
    buf: Vec<u8>,
    tag: u8,
}

/// Writes `tag` into the first byte of each 4 KiB page of `buf`'s spare capacity and
/// into its last byte (never inlined, see the module header); `buf` is empty with a
/// non-zero capacity.
#[inline(never)]
fn touch(buf: &mut Vec<u8>, tag: u8) {
    let spare = buf.spare_capacity_mut();
    let size = spare.len();
    let mut i = 0;
    while i < size {
        spare[i].write(tag);
        i += PAGE;
    }
    spare[size - 1].write(tag);
    // Keep the writes: the optimiser must assume the buffer is read.
    black_box(buf);
}

impl Block {
    /// Allocates `size` bytes (`size > 0`) and writes `tag` into the touched bytes.
    #[inline]
    pub fn new(size: usize, tag: u8) -> Block {
        debug_assert!(size > 0);
        let mut buf: Vec<u8> = Vec::with_capacity(size);
        touch(&mut buf, tag);
        Block { buf, tag }
    }

    /// The size requested from the allocator.
    #[inline]
    pub fn size(&self) -> usize {
        self.buf.capacity()
    }

    /// The tag written at creation.
    #[inline]
    pub fn tag(&self) -> u8 {
        self.tag
    }

    /// A deterministic value describing the block (size and tag), for checksums.
    #[inline]
    pub fn digest(&self) -> u64 {
        ((self.size() as u64) << 8) | u64::from(self.tag)
    }
}
