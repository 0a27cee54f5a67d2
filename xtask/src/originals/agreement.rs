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
/// allocator in the matrix row of its workload, or `None` when the matrix has
/// no such row.
pub fn ours(
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

/// The verdict on one program: pairs with numbers in both, pairs within the
/// margin in at least one, and the reversed pairs (by name).
#[derive(Debug, PartialEq)]
pub struct Verdict {
    /// Pairs of backends with a figure in both tables.
    pub compared: usize,
    /// Of those, pairs within [`MARGIN`] in the original or in ours.
    pub ties: usize,
    /// Pairs ordered oppositely, both by more than the margin.
    pub reversed: Vec<String>,
}

/// Compares the original's figures with ours, backend by backend.
pub fn verdict(original: &[Option<f64>], ours: &[Option<f64>], names: &[&str]) -> Verdict {
    let mut v = Verdict {
        compared: 0,
        ties: 0,
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
            if !separated(a) || !separated(b) {
                v.ties += 1;
            } else if (a > 1.0) != (b > 1.0) {
                v.reversed.push(format!("{}/{}", names[i], names[j]));
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
    matrix: &Summary,
    names: &[&str],
) -> String {
    let mut s = format!(
        "\n## Original against ours\n\nOurs: the matrix started {} ({} mode), the row of the \
         workload named after the program at the same thread count. Speed relative to \
         {}; a pair is reversed when both separate it by more than {:.0} % in opposite \
         directions.\n\n| program | source |",
        matrix.started,
        matrix.mode,
        names[0],
        MARGIN * 100.0
    );
    for n in names {
        let _ = write!(s, " {n} |");
    }
    s.push_str(" pairs |\n|---|---|");
    s.push_str(&"---|".repeat(names.len() + 1));
    s.push('\n');
    for (p, row) in programs.iter().zip(rows) {
        let original: Vec<Option<f64>> = row
            .cells
            .iter()
            .map(|c| c.speed.map(|x| x.median))
            .collect();
        let Some(ours) = ours(p, cpus, matrix, names) else {
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
            "| | ours ({}) |{} {} compared, {} ties, {} reversed: {word} |",
            p.ours.map_or("", |o| o.0),
            cells(&ours),
            v.compared,
            v.ties,
            v.reversed.len()
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
        // system < slab in both (agree); slab > mimalloc by 30 % in the original but
        // mimalloc > slab by 20 % in ours (reversed); system / mimalloc within 5 % in
        // the original (a tie).
        let original = [Some(1.0), Some(1.3), Some(1.05)];
        let ours = [Some(1.0), Some(1.2), Some(1.44)];
        let v = verdict(&original, &ours, &names);
        assert_eq!(v.compared, 3);
        assert_eq!(v.ties, 1);
        assert_eq!(v.reversed, ["slab/mimalloc"]);
        let missing = [Some(1.0), None, Some(1.44)];
        assert_eq!(verdict(&original, &missing, &names).compared, 1);
    }
}
