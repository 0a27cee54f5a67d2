//! Peak then idle: allocate ~1 GiB in small objects, free it all, and check through the
//! slab's stats and the process RSS (`/proc/self/statm`) that most of it went back to
//! the OS (empty segments are unmapped at once; free pages are purged after the delay).

use std::alloc::{alloc, dealloc, Layout};

#[global_allocator]
static GLOBAL: allocmux_slab::SlabAlloc = allocmux_slab::SlabAlloc;

const GIB: usize = 1 << 30;
const MIB: usize = 1 << 20;

fn rss() -> usize {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = s.split_whitespace().nth(1).unwrap().parse().unwrap();
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize
}

#[test]
fn peak_then_idle_returns_memory() {
    let sizes = [24usize, 48, 96, 200, 512, 1000];
    let mut ptrs: Vec<(*mut u8, Layout)> = Vec::with_capacity(4_000_000);
    let rss0 = rss();
    let s0 = allocmux_slab::stats();
    let mut total = 0;
    let mut i = 0;
    while total < GIB {
        let size = sizes[i % sizes.len()];
        i += 1;
        let l = Layout::from_size_align(size, 8).unwrap();
        // SAFETY: non-zero size.
        let p = unsafe { alloc(l) };
        assert!(!p.is_null());
        // SAFETY: `p` holds `size` bytes; touch it so it is resident.
        unsafe { p.write_bytes(0x5A, size) };
        ptrs.push((p, l));
        total += size;
    }
    let peak = allocmux_slab::stats();
    let rss_peak = rss();
    // Free in two interleaved passes so pages empty in a scattered order.
    for pass in 0..2 {
        for (k, &(p, l)) in ptrs.iter().enumerate() {
            if k % 2 == pass {
                // SAFETY: each pointer is freed exactly once with its layout.
                unsafe { dealloc(p, l) };
            }
        }
    }
    drop(ptrs);
    let freed = allocmux_slab::stats();
    let rss_freed = rss();
    // Let the purge delay pass, then touch the allocator's slow path a few times.
    std::thread::sleep(std::time::Duration::from_millis(
        allocmux_slab::PURGE_DELAY_MS + 100,
    ));
    let mut v = Vec::new();
    for k in 0..64 {
        v.push(vec![0u8; 2000 + k * 1000]);
    }
    drop(v);
    let idle = allocmux_slab::stats();
    let rss_idle = rss();
    println!(
        "rss: start {} MiB, peak {} MiB, after free {} MiB, idle {} MiB",
        rss0 / MIB,
        rss_peak / MIB,
        rss_freed / MIB,
        rss_idle / MIB
    );
    println!(
        "mapped: start {} MiB, peak {} MiB, after free {} MiB, idle {} MiB",
        s0.mapped_bytes / MIB,
        peak.mapped_bytes / MIB,
        freed.mapped_bytes / MIB,
        idle.mapped_bytes / MIB
    );
    println!("stats at peak: {peak:#?}\nstats idle: {idle:#?}");
    assert!(peak.in_use_bytes >= GIB);
    assert!(peak.mapped_bytes >= GIB);
    // At most the segment cache (16 × 4 MiB, purged) and a few more segments stay
    // mapped, and nearly all of the RSS is gone.
    assert!(idle.mapped_bytes < 96 * MIB, "{idle:?}");
    assert!(rss_peak > rss0 + GIB - 64 * MIB);
    assert!(rss_idle < rss0 + 64 * MIB, "rss {} MiB", rss_idle / MIB);
    assert!(idle.pages_empty * 64 * 1024 < 8 * MIB, "{idle:?}");
}
