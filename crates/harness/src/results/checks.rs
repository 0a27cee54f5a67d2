//! Helpers over the results model: the description of the backends and
//! workloads a run took part with, and the check that every backend did the
//! same work (equal checksums per row).

use std::collections::BTreeMap;

use allocmux::Backend;

use super::{BackendInfo, CellRun, RunStatus, WorkloadInfo};

/// The results' description of `backends`, with versions from `version`.
pub fn backend_infos(
    backends: &[Backend],
    version: impl Fn(Backend) -> Option<String>,
) -> Vec<BackendInfo> {
    backends
        .iter()
        .map(|&b| BackendInfo {
            name: b.name().to_owned(),
            version: version(b),
            description: b.description().to_owned(),
        })
        .collect()
}

/// The results' description of `workloads`.
pub fn workload_infos(workloads: &[&'static allocmux_workloads::Workload]) -> Vec<WorkloadInfo> {
    workloads
        .iter()
        .map(|w| WorkloadInfo {
            name: w.name.to_owned(),
            description: w.description.to_owned(),
            class: w.class.name().to_owned(),
        })
        .collect()
}

/// Marks runs whose checksum differs from the reference of their row (the
/// system allocator's, or else the most common one) and says which.
pub fn verify_checksums(runs: &mut [CellRun]) -> Vec<String> {
    let mut by_row: BTreeMap<(String, usize), Vec<usize>> = BTreeMap::new();
    for (i, r) in runs.iter().enumerate() {
        if r.record.is_some() && matches!(r.status, RunStatus::Ok | RunStatus::ChecksumMismatch) {
            by_row
                .entry((r.workload.clone(), r.threads))
                .or_default()
                .push(i);
        }
    }
    let mut problems = Vec::new();
    for ((workload, threads), members) in by_row {
        let sums: Vec<u64> = members
            .iter()
            .map(|&i| runs[i].record.as_ref().map_or(0, |r| r.checksum))
            .collect();
        let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
        for &s in &sums {
            *counts.entry(s).or_default() += 1;
        }
        let reference = members
            .iter()
            .position(|&i| runs[i].backend == Backend::System.name())
            .map(|k| sums[k])
            .or_else(|| counts.iter().max_by_key(|(_, n)| **n).map(|(c, _)| *c));
        let Some(reference) = reference else { continue };
        for (&i, &got) in members.iter().zip(&sums) {
            if got != reference {
                let r = &mut runs[i];
                r.status = RunStatus::ChecksumMismatch;
                r.error = Some(format!(
                    "checksum {got:#x} differs from the reference {reference:#x} of this row"
                ));
                problems.push(format!(
                    "{workload} ×{threads} on {} rep {}: {got:#x} ≠ {reference:#x}",
                    r.backend, r.rep
                ));
            }
        }
    }
    problems
}
