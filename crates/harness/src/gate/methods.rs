//! The gate's methods, one function each, every one turning measurements of
//! one cell into a [`CellOutcome`]: instruction counts (against a base build or
//! a stored count), throughput in interleaved pairs against a base build, and
//! throughput normalised by the system allocator against a stored result.

use allocmux::Backend;

use super::baseline::Baseline;
use super::config::{
    AllocationsSettings, GatedCell, InstructionsSettings, PeakRssSettings, ThroughputSettings,
};
use super::measure::{self, Counts, Probe};
use super::output::CellOutcome;
use super::side::SideBuild;
use super::stats::{self, Verdict};
use crate::numbers::median;

/// What the candidate is compared with.
#[derive(Clone, Copy)]
pub enum Against<'a> {
    /// A base revision built and measured in this job.
    Base(&'a SideBuild),
    /// A stored result.
    Stored(&'a Baseline),
}

/// An outcome with the cell's names filled in and no numbers yet.
fn blank_outcome(cell: &GatedCell, metric: &str) -> CellOutcome {
    CellOutcome {
        cell: cell.name.clone(),
        workload: cell
            .workload
            .map_or_else(|| cell.name.clone(), |w| w.name.to_owned()),
        backend: cell.backend.name().to_owned(),
        threads: cell.threads,
        method: cell.method,
        metric: metric.to_owned(),
        base: 0.0,
        candidate: 0.0,
        change: 0.0,
        interval: None,
        verdict: Verdict::Unchanged,
        candidate_instructions: None,
        base_samples: Vec::new(),
        candidate_samples: Vec::new(),
        candidate_system_samples: Vec::new(),
        note: None,
        history: None,
    }
}

/// Puts paired samples (base `b`, candidate `c`) into `o` — medians, samples,
/// the change and the interval of the candidate ÷ base ratio — and returns the
/// interval for the verdict.
fn record_pairs(
    o: &mut CellOutcome,
    b: Vec<f64>,
    c: Vec<f64>,
    t: &ThroughputSettings,
    seed: u64,
) -> stats::RatioEstimate {
    let ratios: Vec<f64> = c.iter().zip(&b).map(|(c, b)| c / b).collect();
    let est = stats::interval(&ratios, t, seed);
    o.base = median(&b).unwrap_or(0.0);
    o.candidate = median(&c).unwrap_or(0.0);
    o.base_samples = b;
    o.candidate_samples = c;
    o.change = est.ratio - 1.0;
    o.interval = Some((est.low, est.high));
    est
}

/// Pairs for `cell`: more for cells that run several threads.
fn pairs_for(cell: &GatedCell, t: &ThroughputSettings) -> usize {
    let threaded = cell.threads.is_some_and(|n| n > 1)
        || (cell.threads.is_none() && cell.workload.is_some_and(|w| w.multithreaded));
    if threaded {
        t.threaded_pairs.max(t.pairs)
    } else {
        t.pairs
    }
}

/// Paired, interleaved A/B samples: `pairs` runs of each, order alternating.
fn paired_samples(a: &Probe, b: &Probe, pairs: usize) -> Result<(Vec<f64>, Vec<f64>), String> {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for i in 0..pairs {
        if i % 2 == 0 {
            xs.push(measure::throughput(a)?);
            ys.push(measure::throughput(b)?);
        } else {
            ys.push(measure::throughput(b)?);
            xs.push(measure::throughput(a)?);
        }
    }
    Ok((xs, ys))
}

/// Callgrind counts of the candidate against the base's (measured or stored).
pub fn instructions(
    cell: &GatedCell,
    candidate: &SideBuild,
    against: Against<'_>,
    settings: &InstructionsSettings,
) -> Result<CellOutcome, String> {
    let mut o = blank_outcome(cell, "instructions");
    let only = cell.command.is_none().then_some(measure::COUNTED_FUNCTION);
    let c1 = measure::instructions(&candidate.probe(cell, cell.backend), only)?;
    let b1 = match against {
        Against::Base(base) => measure::instructions(&base.probe(cell, cell.backend), only)?,
        Against::Stored(stored) => stored.instructions(cell).ok_or_else(|| {
            format!(
                "the baseline file has no instruction count for {}",
                cell.name
            )
        })?,
    };
    o.base = b1 as f64;
    o.candidate = c1 as f64;
    o.candidate_instructions = Some(c1);
    o.change = c1 as f64 / b1 as f64 - 1.0;
    o.verdict = stats::instructions_verdict(c1 as f64 / b1 as f64, settings.threshold);
    Ok(o)
}

/// Interleaved candidate/base pairs and a bootstrap interval of their ratio;
/// a regression is measured once more and must show again (`confirm`).
pub fn throughput_paired(
    cell: &GatedCell,
    candidate: &SideBuild,
    base: &SideBuild,
    t: &ThroughputSettings,
) -> Result<CellOutcome, String> {
    let mut o = blank_outcome(cell, "ops/s");
    let cand_probe = candidate.probe(cell, cell.backend);
    let base_probe = base.probe(cell, cell.backend);
    let mut round = 0;
    loop {
        let (b, c) = paired_samples(&base_probe, &cand_probe, pairs_for(cell, t))?;
        let est = record_pairs(&mut o, b, c, t, 0x6A7E + round);
        o.verdict = stats::throughput_verdict(&est, t.threshold);
        if o.verdict == Verdict::Regression && t.confirm && round == 0 {
            round += 1;
            eprintln!(
                "[gate]   looks like a regression ({:+.1} %); measuring again to confirm …",
                o.change * 100.0
            );
            continue;
        }
        if round > 0 {
            o.note = Some(if o.verdict == Verdict::Regression {
                "regression confirmed by a second round of pairs".into()
            } else {
                "a first round of pairs suggested a regression; the confirmation round did not"
                    .into()
            });
        }
        return Ok(o);
    }
}

/// Picks one count out of a run's counts.
type CountOf = fn(&Counts) -> u64;

/// The façade's counts of one run per side (allocation calls, bytes
/// allocated, peak live bytes): deterministic for a deterministic workload,
/// so each is compared directly against `settings.threshold` (higher is
/// worse). One outcome per count.
pub fn allocations(
    cell: &GatedCell,
    candidate: &SideBuild,
    against: Against<'_>,
    settings: &AllocationsSettings,
) -> Result<Vec<CellOutcome>, String> {
    let counts = |side: &SideBuild| -> Result<Counts, String> {
        measure::native(&side.probe(cell, cell.backend))?
            .counts
            .ok_or_else(|| {
                "the program printed no allocation counts: build it with the façade's `stats` feature and print \
                 `allocations`, `bytes_allocated` and `bytes_peak` (a runner record's `stats` does)"
                    .to_owned()
            })
    };
    let c = counts(candidate)?;
    let base: Option<Counts> = match against {
        Against::Base(base) => Some(counts(base)?),
        Against::Stored(_) => None,
    };
    let metrics: [(&str, CountOf); 3] = [
        ("allocations", |c| c.allocations),
        ("bytes allocated", |c| c.bytes_allocated),
        // Exact to within the counting layer's PEAK_STEP (256 KiB) per thread.
        ("peak live bytes", |c| c.bytes_peak),
    ];
    metrics
        .iter()
        .map(|(metric, f)| {
            let mut o = blank_outcome(cell, metric);
            let b = match (&base, against) {
                (Some(b), _) => f(b) as f64,
                (None, Against::Stored(stored)) => {
                    stored.stored_value(cell, metric).ok_or_else(|| {
                        format!("the baseline file has no {metric} for {}", cell.name)
                    })?
                }
                (None, Against::Base(_)) => unreachable!("a base build gives base counts"),
            };
            let v = f(&c) as f64;
            o.base = b;
            o.candidate = v;
            let ratio = if b > 0.0 {
                v / b
            } else if v > 0.0 {
                f64::INFINITY
            } else {
                1.0
            };
            o.change = ratio - 1.0;
            // Counts: more is worse, like instructions.
            o.verdict = stats::instructions_verdict(ratio, settings.threshold);
            Ok(o)
        })
        .collect()
}

/// Peak resident memory in interleaved pairs against a base build (or the
/// stored value of a result file), with the bootstrap interval of the
/// candidate ÷ base ratio; a regression only when the whole interval lies
/// above `1 + threshold`.
pub fn peak_rss(
    cell: &GatedCell,
    candidate: &SideBuild,
    against: Against<'_>,
    t: &ThroughputSettings,
    settings: &PeakRssSettings,
) -> Result<CellOutcome, String> {
    let mut o = blank_outcome(cell, "peak RSS");
    let cand_probe = candidate.probe(cell, cell.backend);
    let rss = |p: &Probe| measure::native(p).map(|n| n.peak_rss);
    let (b, c): (Vec<f64>, Vec<f64>) = match against {
        Against::Base(base) => {
            let base_probe = base.probe(cell, cell.backend);
            let (mut bs, mut cs) = (Vec::new(), Vec::new());
            for i in 0..pairs_for(cell, t) {
                if i % 2 == 0 {
                    bs.push(rss(&base_probe)?);
                    cs.push(rss(&cand_probe)?);
                } else {
                    cs.push(rss(&cand_probe)?);
                    bs.push(rss(&base_probe)?);
                }
            }
            (bs, cs)
        }
        Against::Stored(stored) => {
            let v = stored
                .stored_value(cell, "peak RSS")
                .ok_or_else(|| format!("the baseline file has no peak RSS for {}", cell.name))?;
            let cs = (0..pairs_for(cell, t))
                .map(|_| rss(&cand_probe))
                .collect::<Result<Vec<_>, _>>()?;
            (vec![v; cs.len()], cs)
        }
    };
    let est = record_pairs(&mut o, b, c, t, 0x6A7E);
    o.verdict = stats::growth_verdict(&est, settings.threshold);
    Ok(o)
}

/// The candidate's throughput ÷ the system allocator's, measured in
/// interleaved pairs now, against the same ratio in a stored result.
pub fn throughput_stored(
    cell: &GatedCell,
    candidate: &SideBuild,
    stored: &Baseline,
    t: &ThroughputSettings,
) -> Result<CellOutcome, String> {
    let mut o = blank_outcome(cell, "ops/s ÷ system");
    let reference = stored.normalised(cell).ok_or_else(|| {
        format!(
            "the baseline file has no {} and system results for {}",
            cell.backend, cell.name
        )
    })?;
    let sys_probe = candidate.probe(cell, Backend::System);
    let cand_probe = candidate.probe(cell, cell.backend);
    let (sys, c) = paired_samples(&sys_probe, &cand_probe, pairs_for(cell, t))?;
    let ratios: Vec<f64> = c.iter().zip(&sys).map(|(c, s)| c / s / reference).collect();
    let est = stats::interval(&ratios, t, 0x6A7E);
    o.base = reference;
    o.candidate = match (median(&c), median(&sys)) {
        (Some(c), Some(s)) => c / s,
        _ => 0.0,
    };
    o.candidate_samples = c;
    o.candidate_system_samples = sys;
    o.change = est.ratio - 1.0;
    o.interval = Some((est.low, est.high));
    o.verdict = stats::throughput_verdict(&est, t.threshold);
    Ok(o)
}
