//! Fork safety: 8 threads allocate and free continuously while the main thread forks
//! repeatedly; each child allocates, frees and exits 0 via `_exit`. A deadlock in a child
//! (a lock held across fork) would show up as a child that never exits: the parent waits
//! with a deadline and fails instead of hanging.

use std::alloc::{alloc, dealloc, Layout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[global_allocator]
static GLOBAL: allocmux_slab::SlabAlloc = allocmux_slab::SlabAlloc;

const FORKS: usize = 40;

fn churn(seed: usize, n: usize) -> usize {
    let mut sum = 0;
    let mut keep: Vec<Vec<u8>> = Vec::new();
    for i in 0..n {
        let size = match (i + seed) % 97 {
            0 => 600 * 1024,
            1..=3 => 30 * 1024,
            k => 1 + k * 13,
        };
        let v = vec![(i % 251) as u8; size];
        sum += v[size - 1] as usize;
        if i % 3 == 0 {
            keep.push(v);
        }
        if keep.len() > 64 {
            keep.swap_remove(i % 64);
        }
    }
    sum
}

/// Child: allocations of every kind, then `_exit` (no destructors, no stdio locks).
fn child() -> ! {
    let mut ok = true;
    for size in [8usize, 100, 1000, 20_000, 300_000, 3 << 20] {
        for align in [8usize, 4096, 1 << 21] {
            let l = Layout::from_size_align(size, align).unwrap();
            // SAFETY: non-zero size.
            unsafe {
                let p = alloc(l);
                if p.is_null() || p as usize % align != 0 {
                    ok = false;
                    break;
                }
                p.write_bytes(1, size);
                dealloc(p, l);
            }
        }
    }
    ok &= churn(7, 2000) > 0;
    // SAFETY: `_exit` is async-signal-safe and never returns.
    unsafe { libc::_exit(if ok { 0 } else { 3 }) }
}

#[test]
fn fork_while_threads_allocate() {
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..8)
        .map(|t| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut rounds = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    churn(t + rounds, 500);
                    rounds += 1;
                }
                rounds
            })
        })
        .collect();
    for i in 0..FORKS {
        // SAFETY: the child only allocates through the slab and calls `_exit`.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            child();
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut status = 0;
        loop {
            // SAFETY: `status` is writable; `pid` is our child.
            let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            if r == pid {
                break;
            }
            if Instant::now() > deadline {
                // SAFETY: killing our own child.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                panic!("fork {i}: child {pid} did not exit (deadlock?)");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "fork {i}: child status {status:#x}"
        );
        churn(i, 200);
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        assert!(w.join().unwrap() > 0);
    }
}
