//! Multi-threaded stress with the slab as the real `#[global_allocator]`:
//! * `test_stress`: a port of the idea of mimalloc's `test/test-stress.c` — threads are
//!   re-created every round, a shared transfer array swaps objects between threads with
//!   atomic exchange, sizes are mostly small with rare large and huge ones, and every block
//!   carries a key pattern checked before it is freed.
//! * `random_cross_thread`: 8 threads (oversubscribing the cores), sizes 1 B – 1 MiB,
//!   a share of objects freed by another thread, every byte filled with a pattern derived
//!   from its address and checked before free; millions of operations.
//! * `large_objects_across_threads`: the shared cache of freed large mappings and growth.
//! * `regions_released_by_growth_are_reused_safely`: `mremap` growth racing with segment
//!   mapping (the hardened registry must not lose a new segment's entry).

use std::alloc::{alloc, dealloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[global_allocator]
static GLOBAL: allocmux_slab::SlabAlloc = allocmux_slab::SlabAlloc;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

// ---------------------------------------------------------------------------------------
// mimalloc test-stress style
// ---------------------------------------------------------------------------------------

const THREADS: usize = 8;
const ROUNDS: usize = 10;
const ITER: usize = 20_000;
const TRANSFERS: usize = 1000;

/// An object: `[len_words, key ^ 0, key ^ 1, ...]` (u64 words).
fn alloc_items(words: usize, key: u64) -> *mut u64 {
    let words = words.max(1) + 1;
    let p = unsafe_alloc(words * 8, 8) as *mut u64;
    // SAFETY: `p` holds `words` u64s.
    unsafe {
        *p = words as u64;
        for i in 1..words {
            *p.add(i) = key ^ i as u64;
        }
    }
    p
}

fn unsafe_alloc(size: usize, align: usize) -> *mut u8 {
    let l = Layout::from_size_align(size, align).unwrap();
    // SAFETY: non-zero size.
    let p = unsafe { alloc(l) };
    assert!(!p.is_null(), "out of memory for {size}");
    p
}

fn free_items(p: *mut u64) {
    if p.is_null() {
        return;
    }
    // SAFETY: `p` came from `alloc_items` and is live; the header gives its length.
    unsafe {
        let words = *p as usize;
        let key = *p.add(1) ^ 1;
        for i in 1..words {
            assert_eq!(
                *p.add(i),
                key ^ i as u64,
                "corrupted object word {i}/{words}"
            );
        }
        dealloc(
            p as *mut u8,
            Layout::from_size_align_unchecked(words * 8, 8),
        );
    }
}

fn stress_size(r: &mut Rng) -> usize {
    // Mostly small; 1/100 large (up to 64 Ki words); 1/10_000 huge (up to 512 Ki words).
    if r.below(10_000) == 0 {
        (r.below(512 * 1024) + 1) as usize
    } else if r.below(100) == 0 {
        (r.below(64 * 1024) + 1) as usize
    } else {
        (r.below(64) + 1) as usize
    }
}

#[test]
fn test_stress() {
    let transfer: Arc<Vec<AtomicUsize>> =
        Arc::new((0..TRANSFERS).map(|_| AtomicUsize::new(0)).collect());
    for round in 0..ROUNDS {
        let hs: Vec<_> = (0..THREADS)
            .map(|t| {
                let transfer = transfer.clone();
                std::thread::spawn(move || {
                    let mut r = Rng(0x9E37_79B9_7F4A_7C15 ^ ((round * THREADS + t) as u64 + 1));
                    let mut retained: Vec<*mut u64> = Vec::new();
                    let mut data: Vec<*mut u64> = Vec::new();
                    let mut alloc_count = 0u64;
                    for _ in 0..ITER {
                        let key = r.next() | 1;
                        match r.below(10) {
                            0 => retained.push(alloc_items(stress_size(&mut r), key)),
                            1..=6 => {
                                alloc_count += 1;
                                let p = alloc_items(stress_size(&mut r), key);
                                if data.len() < 1024 {
                                    data.push(p);
                                } else {
                                    let i = r.below(data.len() as u64) as usize;
                                    free_items(std::mem::replace(&mut data[i], p));
                                }
                            }
                            7 => {
                                if !data.is_empty() {
                                    let i = r.below(data.len() as u64) as usize;
                                    free_items(data.swap_remove(i));
                                }
                            }
                            _ => {
                                // Swap an object with the shared transfer array.
                                let i = r.below(TRANSFERS as u64) as usize;
                                let mine = if data.is_empty() {
                                    alloc_items(stress_size(&mut r), key)
                                } else {
                                    data.swap_remove(r.below(data.len() as u64) as usize)
                                };
                                let theirs = transfer[i].swap(mine as usize, Ordering::AcqRel);
                                free_items(theirs as *mut u64);
                            }
                        }
                    }
                    for p in retained.into_iter().chain(data) {
                        free_items(p);
                    }
                    alloc_count
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
    }
    for slot in transfer.iter() {
        free_items(slot.swap(0, Ordering::AcqRel) as *mut u64);
    }
    let s = allocmux_slab::stats();
    assert!(s.threads_abandoned >= ROUNDS * THREADS, "{s:?}");
}

// ---------------------------------------------------------------------------------------
// Random sizes 1 B – 1 MiB with cross-thread frees
// ---------------------------------------------------------------------------------------

const RT_THREADS: usize = 8;
const RT_OPS: usize = 500_000; // per thread; each op is an alloc+fill or a check+free

fn random_size(r: &mut Rng) -> usize {
    let x = r.below(1000);
    let max = if x < 900 {
        256
    } else if x < 990 {
        16 * 1024
    } else if x < 999 {
        256 * 1024
    } else {
        1 << 20
    };
    (r.below(max) + 1) as usize
}

fn random_align(r: &mut Rng) -> usize {
    match r.below(32) {
        0 => 16,
        1 => 64,
        2 => 4096,
        3 => 1,
        _ => 8,
    }
}

fn word_pat(addr: usize) -> u64 {
    (addr as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xA5A5_5A5A_DEAD_BEEF
}

/// Fills `[p, p + n)` with a pattern derived from each word's address.
unsafe fn fill_addr(p: *mut u8, n: usize) {
    let words = n / 8;
    let w = p as *mut u64;
    for i in 0..words {
        // SAFETY: inside the block.
        unsafe { w.add(i).write_unaligned(word_pat(w.add(i) as usize)) };
    }
    for i in words * 8..n {
        // SAFETY: inside the block.
        unsafe { *p.add(i) = word_pat(p.add(i) as usize) as u8 };
    }
}

unsafe fn check_addr(p: *const u8, n: usize) {
    let words = n / 8;
    let w = p as *const u64;
    for i in 0..words {
        // SAFETY: inside the block.
        let v = unsafe { w.add(i).read_unaligned() };
        assert_eq!(
            v,
            word_pat(w as usize + i * 8),
            "corruption at word {i} of {n}-byte block"
        );
    }
    for i in words * 8..n {
        // SAFETY: inside the block.
        assert_eq!(unsafe { *p.add(i) }, word_pat(p as usize + i) as u8);
    }
}

type Obj = (usize, usize, usize); // ptr, size, align

fn free_obj((p, size, align): Obj) {
    // SAFETY: the object is live with this layout and was filled by `fill_addr`.
    unsafe {
        check_addr(p as *const u8, size);
        dealloc(p as *mut u8, Layout::from_size_align_unchecked(size, align));
    }
}

#[test]
fn random_cross_thread() {
    let inboxes: Arc<Vec<Mutex<Vec<Obj>>>> =
        Arc::new((0..RT_THREADS).map(|_| Mutex::new(Vec::new())).collect());
    let remote_before = allocmux_slab::stats().remote_frees;
    let hs: Vec<_> = (0..RT_THREADS)
        .map(|t| {
            let inboxes = inboxes.clone();
            std::thread::spawn(move || {
                let mut r = Rng(0xDEAD_BEEF_1234_5678 ^ ((t as u64 + 1) * 0x1_0000_0001));
                let mut live: Vec<Obj> = Vec::new();
                let mut outgoing: Vec<Obj> = Vec::new();
                let mut ops = 0usize;
                while ops < RT_OPS {
                    if live.len() < 2000 && r.below(2) == 0 {
                        let size = random_size(&mut r);
                        let align = random_align(&mut r);
                        let p = unsafe_alloc(size, align);
                        assert_eq!(p as usize % align, 0);
                        // SAFETY: `p` holds `size` bytes.
                        unsafe { fill_addr(p, size) };
                        live.push((p as usize, size, align));
                    } else if !live.is_empty() {
                        let o = live.swap_remove(r.below(live.len() as u64) as usize);
                        if r.below(4) == 0 {
                            outgoing.push(o); // freed by another thread
                        } else {
                            free_obj(o);
                        }
                    }
                    ops += 1;
                    if outgoing.len() >= 64 {
                        let to = (t + 1 + r.below(RT_THREADS as u64 - 1) as usize) % RT_THREADS;
                        inboxes[to].lock().unwrap().append(&mut outgoing);
                    }
                    if ops % 256 == 0 {
                        let got = std::mem::take(&mut *inboxes[t].lock().unwrap());
                        for o in got {
                            free_obj(o);
                        }
                    }
                }
                inboxes[(t + 1) % RT_THREADS]
                    .lock()
                    .unwrap()
                    .append(&mut outgoing);
                for o in live {
                    free_obj(o);
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    for inbox in inboxes.iter() {
        for o in std::mem::take(&mut *inbox.lock().unwrap()) {
            free_obj(o);
        }
    }
    allocmux_slab::collect();
    let s = allocmux_slab::stats();
    assert!(s.remote_frees > remote_before, "{s:?}");
}

// ---------------------------------------------------------------------------------------
// Large objects from several threads at once (the shared cache of freed mappings)
// ---------------------------------------------------------------------------------------

#[test]
fn large_objects_across_threads() {
    const LIVE: usize = 4;
    let handles: Vec<_> = (0..4u64)
        .map(|t| {
            std::thread::spawn(move || {
                let mut r = Rng(0x1234_5678 + t);
                let mut live: Vec<Option<Obj>> = vec![None; LIVE];
                for _ in 0..300 {
                    let i = r.below(LIVE as u64) as usize;
                    if let Some((p, size, align)) = live[i].take() {
                        // SAFETY: a live object of ours; its ends hold the pattern.
                        unsafe {
                            check_addr(p as *const u8, 64);
                            check_addr((p + size - 64) as *const u8, 64);
                            let layout = Layout::from_size_align_unchecked(size, align);
                            if r.below(3) == 0 {
                                // Grow it (the mremap path), then free the grown block.
                                let bigger = size + (r.below(4 << 20) as usize + 1);
                                let q = std::alloc::realloc(p as *mut u8, layout, bigger);
                                assert!(!q.is_null());
                                for k in 0..8 {
                                    // The moved bytes still carry the old address's pattern.
                                    let w = (q as *const u64).add(k).read();
                                    assert_eq!(w, word_pat(p + k * 8), "realloc lost data");
                                }
                                dealloc(q, Layout::from_size_align_unchecked(bigger, align));
                            } else {
                                dealloc(p as *mut u8, layout);
                            }
                        }
                    }
                    let size = (600 << 10) + r.below(8 << 20) as usize;
                    let layout = Layout::from_size_align(size, 8).unwrap();
                    // SAFETY: a non-zero size.
                    let p = unsafe { alloc(layout) };
                    assert!(!p.is_null());
                    // SAFETY: both 64-byte ends lie inside the new block.
                    unsafe {
                        fill_addr(p, 64);
                        fill_addr(p.add(size - 64), 64);
                    }
                    live[i] = Some((p as usize, size, 8));
                }
                for (p, size, align) in live.into_iter().flatten() {
                    // SAFETY: live objects of ours with these layouts.
                    unsafe {
                        dealloc(p as *mut u8, Layout::from_size_align_unchecked(size, align))
                    };
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// Regions given back by `mremap` while other threads map segments
// ---------------------------------------------------------------------------------------

/// One thread grows large objects with `realloc` (each growth moves the mapping and hands
/// its old address range back to the kernel) while two threads map and unmap small
/// segments as fast as they can, so the kernel often reuses a just-released range for a
/// new segment. Every block is checked and freed; in the hardened build a free whose
/// region the registry forgot aborts as "not ours" (the bug this guards against: the old
/// region was unregistered after `mremap`, erasing a new segment's entry).
#[test]
fn regions_released_by_growth_are_reused_safely() {
    let stop = Arc::new(AtomicUsize::new(0));
    let mappers: Vec<_> = (0..2u64)
        .map(|t| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                // 40 MiB of 16 KiB blocks: more segments than the segment cache keeps, so
                // each round maps fresh ones and unmaps the surplus.
                let layout = Layout::from_size_align(16 << 10, 8).unwrap();
                let mut blocks = Vec::with_capacity(2560);
                let mut rounds = 0u64;
                while stop.load(Ordering::Relaxed) == 0 || rounds < 4 {
                    for _ in 0..2560 {
                        // SAFETY: a non-zero size.
                        let p = unsafe { alloc(layout) };
                        assert!(!p.is_null());
                        // SAFETY: the block holds at least 8 bytes.
                        unsafe { (p as *mut u64).write(p as u64 ^ t) };
                        blocks.push(p);
                    }
                    for p in blocks.drain(..) {
                        // SAFETY: our live block, written above, with this layout.
                        unsafe {
                            assert_eq!((p as *const u64).read(), p as u64 ^ t);
                            dealloc(p, layout);
                        }
                    }
                    rounds += 1;
                }
            })
        })
        .collect();
    let mut r = Rng(0x5eed);
    for _ in 0..6000 {
        // Mappings of several segments' size, so a released range can hold a new segment.
        let size = (1 << 20) + r.below(12 << 20) as usize;
        let bigger = size + 4096 + r.below(8 << 20) as usize;
        let layout = Layout::from_size_align(size, 8).unwrap();
        // SAFETY: a non-zero size; the grown block is freed with its new size.
        unsafe {
            let p = alloc(layout);
            assert!(!p.is_null());
            p.write(0xa5);
            let q = std::alloc::realloc(p, layout, bigger);
            assert!(!q.is_null());
            assert_eq!(q.read(), 0xa5);
            dealloc(q, Layout::from_size_align_unchecked(bigger, 8));
        }
    }
    stop.store(1, Ordering::Relaxed);
    for h in mappers {
        h.join().unwrap();
    }
}
