//! The `huge-pages` feature: the slab's fresh mappings (a small segment, a large object)
//! carry the kernel's huge-page advice — `hg` among the mapping's `VmFlags` in
//! `/proc/self/smaps` — in that build, and never in the default one.
#![cfg(target_os = "linux")]

use std::alloc::{GlobalAlloc, Layout};

use allocmux_slab::{os::HUGE_PAGES, SlabAlloc};

/// The `VmFlags` of the mapping that holds `addr`, read from `/proc/self/smaps`.
fn vm_flags(addr: usize) -> Vec<String> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").expect("read /proc/self/smaps");
    let mut inside = false;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if let Some((lo, hi)) = first.split_once('-') {
            if let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
            {
                inside = (lo..hi).contains(&addr);
                continue;
            }
        }
        if inside {
            if let Some(flags) = line.strip_prefix("VmFlags:") {
                return flags.split_whitespace().map(str::to_owned).collect();
            }
        }
    }
    panic!("no mapping with VmFlags holds {addr:#x}");
}

#[test]
fn fresh_mappings_carry_the_advice_exactly_in_the_huge_pages_build() {
    let a = SlabAlloc;
    let small = Layout::from_size_align(64, 8).unwrap();
    let large = Layout::from_size_align(8 << 20, 8).unwrap();
    // SAFETY: both blocks are allocated with their layouts, checked non-null, and freed
    // once with the same layouts.
    unsafe {
        let p = a.alloc(small);
        let q = a.alloc(large);
        assert!(!p.is_null() && !q.is_null());
        for (what, ptr) in [("small block", p), ("large object", q)] {
            let flags = vm_flags(ptr as usize);
            assert_eq!(
                flags.iter().any(|f| f == "hg"),
                HUGE_PAGES,
                "{what} at {ptr:p}: VmFlags {flags:?} in a build with HUGE_PAGES = {HUGE_PAGES}"
            );
        }
        a.dealloc(q, large);
        a.dealloc(p, small);
    }
}
