//! Fuzz target: random streams of alloc / alloc_zeroed / realloc / free with random
//! layouts, driven against `allocmux_slab::SlabAlloc` used directly (not as the global
//! allocator). Every live block is filled with a pattern derived from its id and checked
//! before it is reallocated or freed; `usable_size` must cover the request and
//! alignment must hold. Some blocks are freed from a second thread (remote frees).

#![no_main]

use std::alloc::{GlobalAlloc, Layout};

use allocmux_slab::{usable_size, SlabAlloc};
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

/// Most blocks kept live at once.
const SLOTS: usize = 64;

#[derive(Arbitrary, Debug)]
enum Action {
    Alloc {
        slot: u8,
        size: Size,
        align_log: u8,
    },
    AllocZeroed {
        slot: u8,
        size: Size,
        align_log: u8,
    },
    Realloc {
        slot: u8,
        size: Size,
    },
    Free {
        slot: u8,
    },
    /// Hand every live block in slots `>= from` to another thread, which frees them.
    RemoteFree {
        from: u8,
    },
}

/// Sizes: mostly small, sometimes medium, rarely large.
#[derive(Arbitrary, Debug)]
enum Size {
    Small(u16),
    Medium(u32),
    Large(u32),
}

impl Size {
    fn get(&self) -> usize {
        match *self {
            Size::Small(s) => (s % 1024) as usize + 1,
            Size::Medium(s) => (s % (512 * 1024)) as usize + 1,
            Size::Large(s) => (s % (3 << 20)) as usize + 1,
        }
    }
}

struct Live {
    ptr: *mut u8,
    layout: Layout,
    id: u8,
}

// SAFETY: a live block is plain memory owned by whoever holds it.
unsafe impl Send for Live {}

fn pattern(id: u8, i: usize) -> u8 {
    id.wrapping_add((i as u8).wrapping_mul(31)) ^ (i >> 8) as u8
}

/// Bytes checked/filled: all of small blocks, head and tail of big ones.
fn positions(n: usize) -> impl Iterator<Item = usize> {
    let head = n.min(4096);
    let tail_start = n.saturating_sub(4096).max(head);
    (0..head).chain(tail_start..n)
}

fn fill(b: &Live) {
    for i in positions(b.layout.size()) {
        // SAFETY: `i < size` and the block is live.
        unsafe { b.ptr.add(i).write(pattern(b.id, i)) };
    }
}

/// Checks the pattern in the first `len` bytes of the positions filled for `filled` bytes.
fn check(b: &Live, filled: usize, len: usize) {
    for i in positions(filled).filter(|&i| i < len) {
        // SAFETY: `i < len <= size` and the block is live.
        let got = unsafe { b.ptr.add(i).read() };
        assert_eq!(
            got,
            pattern(b.id, i),
            "block {:p} byte {i} corrupted",
            b.ptr
        );
    }
}

fn check_new(p: *mut u8, layout: Layout) {
    assert!(!p.is_null(), "allocation of {layout:?} failed");
    assert_eq!(p as usize % layout.align(), 0, "misaligned {layout:?}");
    // SAFETY: `p` is live.
    let usable = unsafe { usable_size(p) };
    assert!(usable >= layout.size(), "usable {usable} < {layout:?}");
}

fn free(b: Live) {
    check(&b, b.layout.size(), b.layout.size());
    // SAFETY: the block is live with this layout.
    unsafe { SlabAlloc.dealloc(b.ptr, b.layout) };
}

fuzz_target!(|actions: Vec<Action>| {
    let mut live: Vec<Option<Live>> = (0..SLOTS).map(|_| None).collect();
    let mut next_id = 0u8;
    for a in actions.iter().take(2000) {
        match a {
            Action::Alloc {
                slot,
                size,
                align_log,
            }
            | Action::AllocZeroed {
                slot,
                size,
                align_log,
            } => {
                let zeroed = matches!(a, Action::AllocZeroed { .. });
                let Ok(layout) = Layout::from_size_align(size.get(), 1 << (align_log % 23)) else {
                    continue;
                };
                // SAFETY: non-zero size.
                let p = unsafe {
                    if zeroed {
                        SlabAlloc.alloc_zeroed(layout)
                    } else {
                        SlabAlloc.alloc(layout)
                    }
                };
                check_new(p, layout);
                if zeroed {
                    for i in positions(layout.size()) {
                        // SAFETY: fresh block of `size` bytes.
                        assert_eq!(unsafe { p.add(i).read() }, 0, "alloc_zeroed byte {i}");
                    }
                }
                next_id = next_id.wrapping_add(1);
                let b = Live {
                    ptr: p,
                    layout,
                    id: next_id,
                };
                fill(&b);
                if let Some(old) = live[*slot as usize % SLOTS].replace(b) {
                    free(old);
                }
            }
            Action::Realloc { slot, size } => {
                let Some(b) = live[*slot as usize % SLOTS].as_mut() else {
                    continue;
                };
                let new_size = size.get();
                let Ok(new_layout) = Layout::from_size_align(new_size, b.layout.align()) else {
                    continue;
                };
                // SAFETY: the block is live with `b.layout`; `new_size` is non-zero.
                let p = unsafe { SlabAlloc.realloc(b.ptr, b.layout, new_size) };
                check_new(p, new_layout);
                let (old_size, kept) = (b.layout.size(), b.layout.size().min(new_size));
                b.ptr = p;
                b.layout = new_layout;
                check(b, old_size, kept);
                fill(b);
            }
            Action::Free { slot } => {
                if let Some(b) = live[*slot as usize % SLOTS].take() {
                    free(b);
                }
            }
            Action::RemoteFree { from } => {
                let mut moved = Vec::new();
                for s in live.iter_mut().skip(*from as usize % SLOTS) {
                    if let Some(b) = s.take() {
                        moved.push(b);
                    }
                }
                std::thread::spawn(move || moved.into_iter().for_each(free))
                    .join()
                    .expect("remote freer");
            }
        }
    }
    live.into_iter().flatten().for_each(free);
});
