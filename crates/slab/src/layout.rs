//! Address-space geometry shared by every layer: the 64 KiB page (the slot spans are
//! carved in) and the 4 MiB segment (the alignment that lets a pointer find its header by
//! masking). It imports nothing, so the lowest modules ([`crate::checks`],
//! [`crate::size_class`]) can use it.

/// log2 of the slab page size.
pub const PAGE_SHIFT: usize = 16;
/// A slab page: the unit spans are carved in (64 KiB); one slot of a segment.
pub const PAGE_SIZE: usize = 1 << PAGE_SHIFT;
/// log2 of the segment size.
pub const SEGMENT_SHIFT: usize = 22;
/// Segment size and alignment (4 MiB).
pub const SEGMENT_SIZE: usize = 1 << SEGMENT_SHIFT;
