//! Exact counts of the `stats` layer, with the façade as this process's global
//! allocator and nothing else allocating: same-thread and cross-thread frees,
//! reallocs, more threads than there are shards, the peak and a reset.

use std::alloc::{alloc, dealloc, realloc, Layout};

#[global_allocator]
static GLOBAL: allocmux::Allocator = allocmux::Allocator;

struct SendPtr(*mut u8);
// SAFETY: the pointer is only moved to another thread to be freed there.
unsafe impl Send for SendPtr {}

impl SendPtr {
    /// Takes the pointer out (a method, so closures capture the whole `SendPtr`).
    fn get(self) -> *mut u8 {
        self.0
    }
}

fn main() {
    let layout = Layout::from_size_align(1000, 8).unwrap();
    // Let std set up what it keeps for the process's life on the first spawn.
    std::thread::spawn(|| ()).join().unwrap();
    allocmux::reset_stats();
    let start = allocmux::stats();
    assert_eq!(
        (start.allocations, start.deallocations, start.reallocations),
        (0, 0, 0)
    );
    let base_bytes = start.bytes_current;

    // 100 blocks of 1000 bytes: 100 000 bytes live, then grow one by realloc.
    // SAFETY: every block is freed once with the layout it has at that point.
    let mut blocks: Vec<SendPtr> = (0..100)
        .map(|_| SendPtr(unsafe { alloc(layout) }))
        .collect();
    // SAFETY: blocks[0] is live with `layout`; 3000 is a valid new size.
    let grown = unsafe { realloc(blocks[0].0, layout, 3000) };
    blocks[0] = SendPtr(grown);
    let s = allocmux::stats();
    // +1 allocation for the Vec's own buffer.
    assert_eq!(s.allocations, 101, "{s:?}");
    assert_eq!(s.reallocations, 1, "{s:?}");
    let vec_bytes = 100 * std::mem::size_of::<SendPtr>() as u64;
    assert_eq!(
        s.bytes_current - base_bytes,
        100_000 + 2000 + vec_bytes,
        "{s:?}"
    );
    assert!(s.bytes_peak >= s.bytes_current, "{s:?}");

    // Free them on another thread: the sum over shards stays exact.
    let first = blocks.remove(0);
    std::thread::spawn(move || {
        // SAFETY: the blocks came from `alloc` with `layout` (the first was grown to 3000).
        unsafe { dealloc(first.get(), Layout::from_size_align(3000, 8).unwrap()) };
        for b in blocks {
            // SAFETY: each block came from `alloc` with `layout` and is freed once.
            unsafe { dealloc(b.get(), layout) };
        }
    })
    .join()
    .unwrap();

    // More threads than shards share the overflow shard; counts stay exact.
    let threads: Vec<_> = (0..80)
        .map(|_| {
            std::thread::spawn(move || {
                for _ in 0..10 {
                    // SAFETY: allocated and freed with the same layout.
                    unsafe { dealloc(alloc(layout), layout) };
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let end = allocmux::stats();
    assert_eq!(
        end.bytes_current, base_bytes,
        "every byte was freed: {end:?}, base {base_bytes}"
    );
    // The peak may miss up to PEAK_STEP of one thread's latest growth.
    assert!(
        end.bytes_peak <= 100_000 + 2000 + vec_bytes + base_bytes,
        "{end:?}"
    );
    assert!(
        end.bytes_peak + allocmux::PEAK_STEP as u64 >= 100_000 + 2000,
        "{end:?}"
    );
    // The thread spawns allocate too; ours are at least these.
    assert!(end.allocations >= 101 + 800, "{end:?}");
    // 100 blocks of 1,000 bytes, one grown to 3,000, 800 more of 1,000.
    assert!(end.bytes_allocated >= 100_000 + 3000 + 800_000, "{end:?}");
    assert_eq!(end.allocations, end.deallocations, "balanced: {end:?}");

    allocmux::reset_stats();
    let after_reset = allocmux::stats();
    assert_eq!((after_reset.allocations, after_reset.deallocations), (0, 0));
    assert_eq!(after_reset.bytes_allocated, 0);
    assert_eq!(after_reset.bytes_peak, after_reset.bytes_current);
    println!("stats: 1 passed, 0 failed");
}
