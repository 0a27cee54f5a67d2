//! Measurements a workload hands to the runner beside its [`crate::Outcome`]:
//! the `latency` workload's percentiles and the end-of-work snapshot
//! (resident memory against live bytes) that fragmentation figures need.
//! A process runs one workload, so one slot each is enough; [`crate::measure`]
//! takes them into the [`crate::RunRecord`].

use std::sync::Mutex;

use crate::record::{EndOfWork, LatencyReport};

static LATENCY: Mutex<Option<LatencyReport>> = Mutex::new(None);
static END_OF_WORK: Mutex<Option<EndOfWork>> = Mutex::new(None);
static LIVE_BYTES: Mutex<Option<fn() -> u64>> = Mutex::new(None);

/// Hands the latency percentiles of this run to the record.
pub fn report_latency(report: LatencyReport) {
    *LATENCY.lock().unwrap_or_else(|e| e.into_inner()) = Some(report);
}

/// Takes the latency percentiles handed over by this run, if any.
pub fn take_latency() -> Option<LatencyReport> {
    LATENCY.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// Tells workloads how to read the program's live requested bytes (the
/// runner passes the façade's `stats` counter when it has one).
pub fn set_live_bytes_probe(probe: fn() -> u64) {
    *LIVE_BYTES.lock().unwrap_or_else(|e| e.into_inner()) = Some(probe);
}

/// Called by a workload when its work is done and before it frees what it
/// holds: records resident memory and live bytes now.
pub fn mark_end_of_work() {
    let probe = *LIVE_BYTES.lock().unwrap_or_else(|e| e.into_inner());
    let snapshot = EndOfWork {
        rss_bytes: crate::rss::resident_bytes().unwrap_or(0),
        live_bytes: probe.map(|p| p()),
    };
    *END_OF_WORK.lock().unwrap_or_else(|e| e.into_inner()) = Some(snapshot);
}

/// Takes the end-of-work snapshot of this run, if the workload made one.
pub fn take_end_of_work() -> Option<EndOfWork> {
    END_OF_WORK.lock().unwrap_or_else(|e| e.into_inner()).take()
}
