//! OS failure returns null: with the address space capped by `RLIMIT_AS`, large and small
//! allocations eventually get null (no crash, no abort), and after freeing everything the
//! allocator works again.

use std::alloc::{GlobalAlloc, Layout};

use allocmux_slab::SlabAlloc;

#[global_allocator]
static GLOBAL: SlabAlloc = SlabAlloc;

fn vm_size() -> usize {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = s.split_whitespace().next().unwrap().parse().unwrap();
    pages * 4096
}

#[test]
fn exhausted_address_space_returns_null() {
    const CAP: usize = 256 << 20;
    let mut held: Vec<(*mut u8, Layout)> = Vec::with_capacity(1 << 20);
    let limit = vm_size() + CAP;
    let old = {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `r` is writable.
        unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut r) };
        r
    };
    let new = libc::rlimit {
        rlim_cur: limit as libc::rlim_t,
        rlim_max: old.rlim_max,
    };
    // SAFETY: lowering our own soft limit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &new) }, 0);

    let mut nulls = [0usize; 2];
    for (k, (size, align)) in [(1usize << 20, 8usize), (200, 8)].into_iter().enumerate() {
        let l = Layout::from_size_align(size, align).unwrap();
        for _ in 0..(CAP / size) * 4 {
            // SAFETY: non-zero size.
            let p = unsafe { SlabAlloc.alloc(l) };
            if p.is_null() {
                nulls[k] += 1;
                break;
            }
            // SAFETY: `p` holds `size` bytes.
            unsafe { p.write(1) };
            if held.len() < held.capacity() {
                held.push((p, l));
            }
        }
    }
    // A request that can never fit fails too (address space, not size arithmetic).
    let huge = Layout::from_size_align(CAP * 2, 4096).unwrap();
    // SAFETY: non-zero size.
    let p = unsafe { SlabAlloc.alloc(huge) };
    let huge_null = p.is_null();
    for &(p, l) in &held {
        // SAFETY: each pointer is live with its layout.
        unsafe { SlabAlloc.dealloc(p, l) };
    }
    held.clear();
    allocmux_slab::collect();
    // SAFETY: restoring our own limit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &old) }, 0);
    assert_eq!(
        nulls,
        [1, 1],
        "both large and small allocation hit the limit"
    );
    assert!(huge_null);
    // The allocator recovers.
    let v: Vec<u64> = (0..100_000).collect();
    assert_eq!(v.iter().sum::<u64>(), 100_000 * 99_999 / 2);
}
