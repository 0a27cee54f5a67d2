//! Resident memory over time, read from outside the measured process: every
//! period (default 10 ms) the parent reads the child's `/proc/PID/statm` —
//! one small read of a few microseconds, so the child does not pay for it —
//! and keeps `[seconds, bytes]` samples. At the end they are summarised (peak,
//! time-weighted mean, final) and thinned to at most [`MAX_POINTS`] points,
//! keeping each interval's highest sample so short spikes survive.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The most points a stored timeline keeps.
pub const MAX_POINTS: usize = 300;

/// The sampling period when none is given.
pub const DEFAULT_PERIOD: Duration = Duration::from_millis(10);

/// What the samples say about one run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RssSummary {
    /// Highest resident memory sampled, in bytes.
    pub peak_bytes: u64,
    /// Resident memory averaged over time (each sample weighted by how long it held).
    pub mean_bytes: u64,
    /// The last sample before the process ended.
    pub final_bytes: u64,
    /// Samples taken (before thinning).
    pub samples: usize,
    /// The sampling period, in milliseconds.
    pub period_ms: u64,
}

/// A run's resident memory over time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RssProfile {
    /// `[seconds since start, resident bytes]`, at most [`MAX_POINTS`].
    pub timeline: Vec<[f64; 2]>,
    /// The summary, when at least one sample was taken.
    pub summary: Option<RssSummary>,
}

/// Samples one process's resident memory.
pub struct RssSampler {
    path: String,
    period: Duration,
    start: Instant,
    next: Instant,
    page: u64,
    samples: Vec<(f64, u64)>,
}

impl RssSampler {
    /// A sampler of process `pid` every `period`, its clock starting now.
    pub fn new(pid: u32, period: Duration) -> RssSampler {
        let start = Instant::now();
        // SAFETY: `sysconf` only reads a configuration value.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        RssSampler {
            path: format!("/proc/{pid}/statm"),
            period,
            start,
            next: start,
            page: u64::try_from(page).unwrap_or(4096).max(1),
            samples: Vec::new(),
        }
    }

    /// When the next sample is due.
    pub fn next_due(&self) -> Instant {
        self.next
    }

    /// Takes a sample if one is due (a process that has just ended yields none).
    pub fn poll(&mut self) {
        let now = Instant::now();
        if now < self.next {
            return;
        }
        // A process that has exited but is not reaped yet reads as 0: not a sample.
        if let Some(bytes) = self.read().filter(|b| *b > 0) {
            // Milliseconds are plenty for a 10 ms period and keep results.json small.
            let t = (now.duration_since(self.start).as_secs_f64() * 1e3).round() / 1e3;
            self.samples.push((t, bytes));
        }
        // Keep the grid: the next sample is one period after the last due time.
        while self.next <= now {
            self.next += self.period;
        }
    }

    /// Resident bytes now: the second field of `statm`, in pages.
    fn read(&self) -> Option<u64> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        let pages: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
        Some(pages * self.page)
    }

    /// The timeline and its summary.
    pub fn finish(self) -> RssProfile {
        let period_ms = self.period.as_millis() as u64;
        profile(&self.samples, period_ms)
    }
}

/// Summarises and thins `samples` (`(seconds, bytes)`, in time order).
pub fn profile(samples: &[(f64, u64)], period_ms: u64) -> RssProfile {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return RssProfile::default();
    };
    let peak = samples.iter().map(|s| s.1).max().unwrap_or(0);
    let span = last.0 - first.0;
    let mean = if span > 0.0 {
        let weighted: f64 = samples
            .windows(2)
            .map(|w| w[0].1 as f64 * (w[1].0 - w[0].0))
            .sum();
        (weighted / span) as u64
    } else {
        last.1
    };
    RssProfile {
        timeline: thin(samples, MAX_POINTS),
        summary: Some(RssSummary {
            peak_bytes: peak,
            mean_bytes: mean,
            final_bytes: last.1,
            samples: samples.len(),
            period_ms,
        }),
    }
}

/// At most `max` points: the time span cut into equal intervals, the highest
/// sample of each kept, and the first and last samples always.
fn thin(samples: &[(f64, u64)], max: usize) -> Vec<[f64; 2]> {
    if samples.len() <= max {
        return samples.iter().map(|&(t, b)| [t, b as f64]).collect();
    }
    let (t0, t1) = (samples[0].0, samples[samples.len() - 1].0);
    let buckets = max - 2;
    let width = (t1 - t0) / buckets as f64;
    let mut out = vec![[t0, samples[0].1 as f64]];
    let mut best: Option<(f64, u64)> = None;
    let mut bucket = 0;
    for &(t, b) in &samples[1..samples.len() - 1] {
        let k = (((t - t0) / width) as usize).min(buckets - 1);
        if k != bucket {
            if let Some((bt, bb)) = best.take() {
                out.push([bt, bb as f64]);
            }
            bucket = k;
        }
        if best.is_none_or(|(_, bb)| b > bb) {
            best = Some((t, b));
        }
    }
    if let Some((bt, bb)) = best {
        out.push([bt, bb as f64]);
    }
    let &(tl, bl) = samples.last().expect("non-empty");
    out.push([tl, bl as f64]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_known_samples() {
        // 10 MiB for 1 s, then 30 MiB for 1 s, sampled at 0, 1, 2 s.
        let m = 1 << 20;
        let p = profile(&[(0.0, 10 * m), (1.0, 30 * m), (2.0, 30 * m)], 10);
        let s = p.summary.unwrap();
        assert_eq!(s.peak_bytes, 30 * m);
        assert_eq!(s.mean_bytes, 20 * m);
        assert_eq!(s.final_bytes, 30 * m);
        assert_eq!(p.timeline.len(), 3);
        assert!(profile(&[], 10).summary.is_none());
    }

    #[test]
    fn thinning_keeps_spikes_and_ends() {
        let mut samples: Vec<(f64, u64)> = (0..10_000).map(|i| (i as f64 * 0.001, 100)).collect();
        samples[5_000].1 = 9_999; // a 1 ms spike
        let t = thin(&samples, 300);
        assert!(t.len() <= 300, "{}", t.len());
        assert!(t.iter().any(|p| p[1] == 9_999.0));
        assert_eq!(t[0][0], 0.0);
        assert_eq!(t.last().unwrap()[0], 9.999);
    }
}
