//! The plain build's checks: every check is an inline no-op, links are stored as they
//! are, and the per-heap, per-page and per-header state is zero-sized, so the layouts and
//! the generated code are those of an allocator without checks. The hardened versions
//! (`checks/hardened.rs`) document what each check does.

/// A heap's generator of page keys (nothing in the plain build).
pub struct KeySource;

impl KeySource {
    /// A generator (nothing to seed).
    #[inline(always)]
    pub fn seeded() -> KeySource {
        KeySource
    }
}

/// A page's check state (nothing in the plain build).
#[derive(Clone, Copy)]
#[repr(C)]
pub struct PageGuard;

impl PageGuard {
    /// The state of a free slot.
    pub const NONE: PageGuard = PageGuard;

    /// The state of a new span.
    #[inline(always)]
    pub fn new(_keys: &mut KeySource, _block_size: usize, _capacity: usize) -> PageGuard {
        PageGuard
    }
}

/// A large-object header's seal (nothing in the plain build).
#[derive(Clone, Copy)]
#[repr(C)]
pub struct Seal;

impl Seal {
    /// No seal.
    pub const NONE: Seal = Seal;

    /// The seal of a header.
    #[inline(always)]
    pub fn new(_fields: [usize; 4]) -> Seal {
        Seal
    }

    /// Checks a seal: nothing to check.
    #[inline(always)]
    pub fn verify(&self, _fields: [usize; 4], _header: *const u8) {}
}

/// A page-list link is stored as it is.
#[inline(always)]
pub fn encode_link<T>(_guard: &PageGuard, next: *mut T) -> *mut T {
    next
}

/// A page-list link is read as it is.
#[inline(always)]
pub fn decode_link<T>(
    _guard: &PageGuard,
    _span_start: *const u8,
    stored: *mut T,
    _at: *const T,
) -> *mut T {
    stored
}

/// A remote-queue link is stored as it is.
#[inline(always)]
pub fn encode_remote_link<T>(next: *mut T) -> *mut T {
    next
}

/// A remote-queue link is read as it is.
#[inline(always)]
pub fn decode_remote_link<T>(stored: *mut T) -> *mut T {
    stored
}

/// No check.
#[inline(always)]
pub fn check_block_start(_guard: &PageGuard, _span_start: *const u8, _p: *const u8) {}

/// No cookie to clear.
///
/// # Safety
/// None (the hardened build requires `block` to be a block the caller owns).
#[inline(always)]
pub unsafe fn mark_allocated(_block: *mut u8) {}

/// No check.
///
/// # Safety
/// None (the hardened build requires a live span of the caller's that `p` points into).
#[inline(always)]
pub unsafe fn check_local_free(_guard: &PageGuard, _span_start: *const u8, _p: *const u8) {}

/// No check.
#[inline(always)]
pub fn check_has_owner(_p: *const u8, _has_owner: bool) {}

/// No check.
///
/// # Safety
/// None (the hardened build requires `p` to have passed the earlier checks).
#[inline(always)]
pub unsafe fn check_remote_free(_p: *const u8, _small: bool) {}

/// No check.
///
/// # Safety
/// None (the hardened build requires `p` to be a block its owner is draining).
#[inline(always)]
pub unsafe fn check_drained(_p: *const u8) {}

/// No check.
#[inline(always)]
pub fn check_large_start(_p: *const u8, _object: *const u8) {}

/// No registry.
#[inline(always)]
pub fn register<H>(_header: *const H) {}

/// No registry.
#[inline(always)]
pub fn mark_cached<H>(_header: *const H) {}

/// No registry.
#[inline(always)]
pub fn unregister<H>(_header: *const H) {}

/// No check.
#[inline(always)]
pub fn check_free<H>(_p: *const u8, _header: *const H) {}

/// No guard pages.
///
/// # Safety
/// None (the hardened build requires an unused, page-aligned range of a live mapping).
#[inline(always)]
pub unsafe fn guard_range(_p: *mut u8, _size: usize) {}
