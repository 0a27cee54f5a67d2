//! Security checks: one API, two builds. The plain build compiles every check to an
//! inline no-op (links are stored as they are, per-page and per-header state is
//! zero-sized), so the hot paths call the checks unconditionally and pay nothing for them;
//! the hardened build (feature `hardened`) puts the real checks behind the same names, as
//! mimalloc does with its secure-mode functions whose plain versions are empty stubs.
//!
//! The checks work on plain values and pointers handed in by their callers, so this module
//! sits below the allocator's data structures: it imports [`crate::layout`], [`crate::os`]
//! and [`crate::diag`] only, never `page`, `segment`, `heap` or `large`.
//!
//! What the hardened build adds (each part is described where it is implemented, in
//! `checks/hardened.rs`):
//!
//! * **Encoded links**: a free block's link word holds `next ^ key`, with a random key
//!   per page ([`PageGuard`]) and a process-wide key for the remote queues; a decoded link
//!   that is not null or inside its span aborts ([`decode_link`]).
//! * **Double frees**: a freed block carries a keyed cookie in its second word (hence
//!   [`MIN_BLOCK`] = 16), cleared on allocation ([`mark_allocated`], [`check_local_free`],
//!   [`check_remote_free`], [`check_drained`]).
//! * **Pointers that do not start a block**: a multiply by a per-page constant
//!   ([`check_block_start`]); inside a large object ([`check_large_start`]).
//! * **Foreign pointers**: a registry of the allocator's 4 MiB regions, consulted before
//!   anything is dereferenced ([`check_free`], [`register`]).
//! * **Guard pages** around metadata ([`GUARD_PAGES`], [`guard_range`]) and a keyed seal
//!   on large-object headers ([`Seal`]).
//!
//! Misuse aborts with one line on stderr (written with `write(2)`, no allocation). The
//! measured cost is recorded in `docs/perf-log.md`.

#[cfg(feature = "hardened")]
mod hardened;
#[cfg(not(feature = "hardened"))]
mod plain;

#[cfg(feature = "hardened")]
use hardened as imp;
#[cfg(not(feature = "hardened"))]
use plain as imp;

pub use imp::{
    check_block_start, check_drained, check_free, check_has_owner, check_large_start,
    check_local_free, check_remote_free, decode_link, decode_remote_link, encode_link,
    encode_remote_link, guard_range, mark_allocated, mark_cached, register, unregister, KeySource,
    PageGuard, Seal,
};

/// Whether this is the hardened build (feature `hardened`).
pub const ENABLED: bool = cfg!(feature = "hardened");

/// Smallest block the allocator hands out: 16 bytes in the hardened build, whose free
/// blocks carry the double-free cookie in their second word, else 8.
pub const MIN_BLOCK: usize = if ENABLED { 16 } else { 8 };

/// Whether metadata is fenced with `PROT_NONE` guard ranges (the hardened build): the end
/// of a segment's metadata slot, a segment's last slot, both sides of each heap.
pub const GUARD_PAGES: bool = ENABLED;

/// Bytes of one guard page: an OS page with [`GUARD_PAGES`], else 0 (layouts reserve
/// nothing).
pub const GUARD_SIZE: usize = if GUARD_PAGES { 4096 } else { 0 };
