//! What the active backend knows about its own memory ([`memory_info`]), for
//! reports beside the resident memory the OS counts: jemalloc's allocated,
//! active, resident, mapped and retained bytes (when jemalloc keeps
//! statistics: the `jemalloc-stats` feature), mimalloc's resident and
//! committed bytes (`mi_process_info`), snmalloc's reserved bytes, the slab's
//! in-use and mapped bytes, glibc's arena counters (`mallinfo2`). Fields a
//! backend does not expose are `None`.

/// A backend's own account of its memory, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryInfo {
    /// Handed out to the program (and not yet freed).
    pub allocated: Option<u64>,
    /// In pages the allocator uses for live blocks (jemalloc `stats.active`).
    pub active: Option<u64>,
    /// Resident, as the allocator counts it (jemalloc `stats.resident`, mimalloc's RSS).
    pub resident: Option<u64>,
    /// Mapped from (or reserved with) the OS.
    pub mapped: Option<u64>,
    /// Kept reserved but unused (jemalloc `stats.retained`).
    pub retained: Option<u64>,
    /// Committed (mimalloc).
    pub committed: Option<u64>,
}

/// The active backend's account of its memory now.
pub fn memory_info() -> MemoryInfo {
    crate::select::memory_info()
}
