//! A cheap, steady clock for timing single allocator calls: the CPU's
//! time-stamp counter on x86-64 (a few nanoseconds to read, constant rate on
//! current CPUs), calibrated against [`Instant`] over each measured phase;
//! elsewhere [`Instant`] itself. [`Timer::overhead`] measures the least an
//! empty timed region costs, to subtract it from every sample.

use std::time::Instant;

/// Reads the tick counter, after the instructions before it have executed
/// (`lfence` keeps the read from moving earlier).
#[inline(always)]
pub fn ticks() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `lfence` and `rdtsc` are available on every x86-64 CPU and
        // have no memory effects.
        unsafe {
            core::arch::x86_64::_mm_lfence();
            core::arch::x86_64::_rdtsc()
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        use std::sync::OnceLock;
        static EPOCH: OnceLock<Instant> = OnceLock::new();
        EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
}

/// Ticks and wall time at the start of a phase, to convert ticks to ns.
pub struct Timer {
    ticks: u64,
    at: Instant,
}

impl Timer {
    /// Starts a calibration interval now.
    pub fn start() -> Timer {
        Timer {
            ticks: ticks(),
            at: Instant::now(),
        }
    }

    /// Ticks per nanosecond over the interval since [`Timer::start`].
    pub fn ticks_per_ns(&self) -> f64 {
        let ns = self.at.elapsed().as_nanos().max(1) as f64;
        (ticks().saturating_sub(self.ticks)) as f64 / ns
    }

    /// The floor of the timer: the least an empty timed region ever costs, in
    /// ticks. Subtracting the floor (not the median) keeps every corrected
    /// sample at or above the call's real cost; calls as short as the timer
    /// itself would otherwise round down to zero.
    pub fn overhead() -> u64 {
        let mut v: Vec<u64> = (0..2_001)
            .map(|_| {
                let t0 = ticks();
                let t1 = ticks();
                t1.saturating_sub(t0)
            })
            .collect();
        v.sort_unstable();
        v[0]
    }
}
