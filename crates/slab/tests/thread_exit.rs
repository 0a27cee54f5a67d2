//! Frees and allocations after a thread's heap was handed over: a pthread key created
//! after the slab's own runs its destructor later in thread exit, so it frees a block of
//! the already-abandoned heap (remote path) and allocates again (the thread re-acquires a
//! heap and abandons it again). Nothing may crash or leak.

use std::alloc::{alloc, dealloc, Layout};

#[global_allocator]
static GLOBAL: allocmux_slab::SlabAlloc = allocmux_slab::SlabAlloc;

static mut KEY: libc::pthread_key_t = 0;

const ROUNDS: usize = 10;
const SIZES: [usize; 4] = [24, 3000, 100_000, 700_000];

extern "C" fn late_destructor(value: *mut libc::c_void) {
    // SAFETY: `value` is the Box<Vec<..>> leaked by the thread below.
    unsafe {
        let blocks = Box::from_raw(value as *mut Vec<(usize, usize)>);
        for &(p, size) in blocks.iter() {
            assert_eq!(*(p as *const u8), size as u8);
            dealloc(p as *mut u8, Layout::from_size_align_unchecked(size, 8));
        }
        drop(blocks);
        for size in SIZES {
            let l = Layout::from_size_align(size, 8).unwrap();
            let p = alloc(l);
            assert!(!p.is_null());
            p.write_bytes(1, size);
            dealloc(p, l);
        }
    }
}

#[test]
fn frees_and_allocations_after_hand_over() {
    // SAFETY: creating a key with a valid destructor; KEY is written once before threads.
    unsafe {
        assert_eq!(
            libc::pthread_key_create(core::ptr::addr_of_mut!(KEY), Some(late_destructor)),
            0
        );
    }
    // Warm the allocator so its own key exists before ours (it also does so before main).
    drop(vec![0u8; 10]);
    allocmux_slab::collect();
    let before = allocmux_slab::stats();
    for _ in 0..ROUNDS {
        let hs: Vec<_> = (0..20)
            .map(|_| {
                std::thread::spawn(move || {
                    let mut blocks = Vec::new();
                    for size in SIZES {
                        let l = Layout::from_size_align(size, 8).unwrap();
                        // SAFETY: non-zero size.
                        let p = unsafe { alloc(l) };
                        assert!(!p.is_null());
                        // SAFETY: `p` holds `size` bytes.
                        unsafe { p.write_bytes(size as u8, size) };
                        blocks.push((p as usize, size));
                    }
                    let b = Box::into_raw(Box::new(blocks));
                    // SAFETY: KEY is a valid key; the destructor reclaims the box.
                    unsafe { libc::pthread_setspecific(KEY, b as *const libc::c_void) };
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
    }
    allocmux_slab::collect();
    let after = allocmux_slab::stats();
    println!("{before:#?}\n{after:#?}");
    // Each thread abandoned its heap at least once (twice when the late destructor
    // allocated again).
    assert!(after.threads_abandoned - before.threads_abandoned >= 200);
    assert_eq!(after.large_count, before.large_count);
    // The test harness's main thread may allocate concurrently (its output buffers), so
    // allow a few KiB of noise; a leak here would be hundreds of KiB (200 threads).
    assert!(
        after.in_use_bytes <= before.in_use_bytes + 16 * 1024,
        "blocks leaked: {} -> {}",
        before.in_use_bytes,
        after.in_use_bytes
    );
}
