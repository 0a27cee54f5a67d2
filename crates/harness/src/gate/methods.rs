//! The gate's methods, one function each, every one turning measurements of
//! one cell into a [`CellOutcome`]: instruction counts (against a base build or
//! a stored count), throughput in interleaved pairs against a base build, and
//! throughput normalised by the system allocator against a stored result.

use allocmux::Backend;

use super::baseline::Baseline;
use super::config::{GatedCell, InstructionsSettings, ThroughputSettings};
use super::measure::{self, Probe};
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
        candidate_samples: Vec::new(),
        candidate_system_samples: Vec::new(),
        note: None,
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
        let (b, c) = paired_samples(&base_probe, &cand_probe, t.pairs)?;
        let ratios: Vec<f64> = c.iter().zip(&b).map(|(c, b)| c / b).collect();
        let est = stats::bootstrap(&ratios, t.confidence, t.resamples, 0x6A7E + round);
        o.base = median(&b).unwrap_or(0.0);
        o.candidate = median(&c).unwrap_or(0.0);
        o.candidate_samples = c;
        o.change = est.ratio - 1.0;
        o.interval = Some((est.low, est.high));
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
    let (sys, c) = paired_samples(&sys_probe, &cand_probe, t.pairs)?;
    let ratios: Vec<f64> = c.iter().zip(&sys).map(|(c, s)| c / s / reference).collect();
    let est = stats::bootstrap(&ratios, t.confidence, t.resamples, 0x6A7E);
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
