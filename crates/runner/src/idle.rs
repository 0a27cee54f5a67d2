//! The drain phase: after the workload has returned (and so freed everything
//! it held), the runner idles and reads its own resident memory at fixed
//! times — right away, then after 100 ms and 1 s (quick runs: 10 ms and
//! 100 ms) — with the backend's own account of its memory at each point.
//! This shows which backend gives memory back to the OS, and how fast.
//! `ALLOCMUX_IDLE_MS` overrides the times (`0,50,500`), `none` skips the
//! phase (the CI gate's cells, which only time the workload).

use std::time::{Duration, Instant};

use allocmux_workloads::{BackendMemory, IdleRss};

/// Idle times of a full run, in milliseconds.
const FULL: [u64; 3] = [0, 100, 1000];
/// Idle times of a quick run.
const QUICK: [u64; 3] = [0, 10, 100];

/// The idle times to measure at: `ALLOCMUX_IDLE_MS`, else the mode's own.
fn idle_times(quick: bool) -> Vec<u64> {
    match std::env::var("ALLOCMUX_IDLE_MS") {
        Ok(v) if v.trim() == "none" => Vec::new(),
        Ok(v) => {
            let mut t: Vec<u64> = v.split(',').filter_map(|x| x.trim().parse().ok()).collect();
            t.sort_unstable();
            t
        }
        Err(_) if quick => QUICK.to_vec(),
        Err(_) => FULL.to_vec(),
    }
}

/// The backend's account of its memory, in the record's type.
fn backend_memory() -> BackendMemory {
    let m = allocmux::memory_info();
    BackendMemory {
        allocated: m.allocated,
        active: m.active,
        resident: m.resident,
        mapped: m.mapped,
        retained: m.retained,
        committed: m.committed,
    }
}

/// Idles and measures resident memory at each idle time.
pub fn measure(quick: bool) -> Vec<IdleRss> {
    let start = Instant::now();
    idle_times(quick)
        .into_iter()
        .map(|ms| {
            let due = Duration::from_millis(ms);
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
            IdleRss {
                idle_ms: ms,
                rss_bytes: allocmux_workloads::resident_bytes().unwrap_or(0),
                lazy_free_bytes: allocmux_workloads::lazy_free_bytes(),
                backend: Some(backend_memory()),
            }
        })
        .collect()
}
