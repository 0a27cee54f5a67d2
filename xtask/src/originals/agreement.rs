//! Whether our workloads rank the backends as the originals do (`--matrix`):
//! each program next to the matrix row of the workload named after it (at the
//! same thread count), both as speed relative to the system allocator, and the
//! pairs of backends the two order differently.
//!
//! A pair counts as *reversed* when both the original and ours separate it by
//! more than [`MARGIN`] and in opposite directions; a pair within the margin in
//! either is a tie (a few rounds of a noisy program cannot separate less).

use std::fmt::Write as _;

use allocmux_harness::report::Summary;

use super::programs::{Program, Threads};
use super::summary::Row;

/// How far apart two backends must be, in both, for an opposite order to count.
pub const MARGIN: f64 = 0.10;

/// Ours for `program`: each backend's median speed relative to the system
/// allocator in the matrix row of its workload (from the last of `matrices`
/// that has the row) and when that matrix started, or `None` when none has it.
pub fn ours<'m>(
    program: &Program,
    cpus: usize,
    matrices: &'m [Summary],
    backends: &[&str],
) -> Option<(Vec<Option<f64>>, &'m str)> {
    matrices
        .iter()
        .rev()
        .find_map(|m| row_of(program, cpus, m, backends).map(|v| (v, m.started.as_str())))
}

/// As [`ours`] for one matrix.
fn row_of(
    program: &Program,
    cpus: usize,
    matrix: &Summary,
    backends: &[&str],
) -> Option<Vec<Option<f64>>> {
    let (workload, threads) = program.ours?;
    let threads = match threads {
        Threads::One => 1,
        Threads::PerCpu => cpus,
    };
    let rows: Vec<_> = matrix
        .rows
        .iter()
        .filter(|r| r.workload == workload)
        .collect();
    // A single-threaded workload has one row whatever its thread count.
    let row = match rows.iter().find(|r| r.threads == threads) {
        Some(r) => *r,
        None if rows.len() == 1 => rows[0],
        None => return None,
    };
    Some(
        backends
            .iter()
            .map(|b| {
                let i = matrix.backends.iter().position(|m| m == b)?;
                row.cells.get(i)?.relative.map(|s| s.median)
            })
            .collect(),
    )
}

/// The verdict on one program: how the pairs of backends with numbers in both
/// tables compare, and the reversed pairs (by name).
#[derive(Debug, PartialEq)]
pub struct Verdict {
    /// Pairs of backends with a figure in both tables.
    pub compared: usize,
    /// Pairs within [`MARGIN`] in both.
    pub ties: usize,
    /// Pairs separated by more than the margin in ours only: a difference our
    /// workload shows and the original does not.
    pub only_ours: usize,
    /// Pairs separated in the original only.
    pub only_original: usize,
    /// Pairs ordered oppositely, both by more than the margin.
    pub reversed: Vec<String>,
}

/// Compares the original's figures with ours, backend by backend.
pub fn verdict(original: &[Option<f64>], ours: &[Option<f64>], names: &[&str]) -> Verdict {
    let mut v = Verdict {
        compared: 0,
        ties: 0,
        only_ours: 0,
        only_original: 0,
        reversed: Vec::new(),
    };
    for i in 0..names.len() {
        for j in i + 1..names.len() {
            let (Some(oi), Some(oj), Some(wi), Some(wj)) =
                (original[i], original[j], ours[i], ours[j])
            else {
                continue;
            };
            v.compared += 1;
            let (a, b) = (oi / oj, wi / wj);
            let separated = |r: f64| !(1.0 / (1.0 + MARGIN)..=1.0 + MARGIN).contains(&r);
            match (separated(a), separated(b)) {
                (false, false) => v.ties += 1,
                (false, true) => v.only_ours += 1,
                (true, false) => v.only_original += 1,
                (true, true) if (a > 1.0) != (b > 1.0) => {
                    v.reversed.push(format!("{}/{}", names[i], names[j]));
                }
                (true, true) => {}
            }
        }
    }
    v
}

/// `values` as table cells.
fn cells(values: &[Option<f64>]) -> String {
    values
        .iter()
        .map(|v| v.map_or(" — |".into(), |x| format!(" {x:.2} |")))
        .collect()
}

/// The side-by-side Markdown section for `rows` (one per program, in
/// `programs` order).
pub fn markdown(
    programs: &[&Program],
    rows: &[Row],
    cpus: usize,
    matrices: &[Summary],
    names: &[&str],
) -> String {
    let runs: Vec<String> = matrices
        .iter()
        .map(|m| format!("{} ({} mode)", m.started, m.mode))
        .collect();
    let mut s = format!(
        "\n## Original against ours\n\nOurs: the row of the workload named after the program \
         at the same thread count, from the matrix run started {} (a row from the last run \
         that has it). Speed relative to system (the original's as a ratio of medians when \
         the summary's reference is another); a pair is reversed when both separate it by \
         more than {:.0} % in opposite directions.\n\n| program | source |",
        runs.join(", then "),
        MARGIN * 100.0
    );
    for n in names {
        let _ = write!(s, " {n} |");
    }
    s.push_str(" pairs |\n|---|---|");
    s.push_str(&"---|".repeat(names.len() + 1));
    s.push('\n');
    for (p, row) in programs.iter().zip(rows) {
        let system = names
            .iter()
            .position(|n| *n == "system")
            .and_then(|i| row.cells[i].speed.map(|x| x.median));
        let original: Vec<Option<f64>> = row
            .cells
            .iter()
            .map(|c| Some(c.speed?.median / system?))
            .collect();
        let Some((ours, started)) = ours(p, cpus, matrices, names) else {
            continue;
        };
        let v = verdict(&original, &ours, names);
        let word = if v.reversed.is_empty() {
            "agree".to_owned()
        } else {
            format!("DISAGREE: {}", v.reversed.join(", "))
        };
        let _ = writeln!(s, "| {} | original |{} |", p.name, cells(&original));
        let _ = writeln!(
            s,
            "| | ours ({}, {started}) |{} {word}: of {} pairs {} reversed, {} apart in ours only, {} in the \
             original only, {} within {:.0} % in both |",
            p.ours.map_or("", |o| o.0),
            cells(&ours),
            v.compared,
            v.reversed.len(),
            v.only_ours,
            v.only_original,
            v.ties,
            MARGIN * 100.0
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pairs_separated_in_both_can_be_reversed() {
        let names = ["system", "slab", "mimalloc"];
        // system < slab in both (agree); slab > mimalloc by 24 % in the original but
        // mimalloc > slab by 20 % in ours (reversed).
        let original = [Some(1.0), Some(1.3), Some(1.05)];
        let ours = [Some(1.0), Some(1.2), Some(1.44)];
        let v = verdict(&original, &ours, &names);
        assert_eq!(v.compared, 3);
        // system / mimalloc: 1.05 apart in the original, 1.44 in ours.
        assert_eq!((v.ties, v.only_ours, v.only_original), (0, 1, 0));
        assert_eq!(v.reversed, ["slab/mimalloc"]);
        let flat = [Some(1.0), Some(1.02), Some(1.0)];
        let v = verdict(&flat, &flat, &names);
        assert_eq!((v.ties, v.only_ours, v.reversed.len()), (3, 0, 0));
        let missing = [Some(1.0), None, Some(1.44)];
        assert_eq!(verdict(&original, &missing, &names).compared, 1);
    }
}
