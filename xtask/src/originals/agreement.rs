//! Whether our workloads rank the backends as the originals do (`--matrix`):
//! each program next to the matrix row of the workload named after it (at the
//! same thread count), both as speed relative to the system allocator, and the
//! pairs of backends the two order differently.
//!
//! A pair counts as *reversed* when the original and ours order it oppositely
//! and each does so steadily: its medians more than [`MARGIN`] apart, and the
//! pair's paired ratio (the two backends' runs of one round, or of one
//! repetition in the matrix) on that side of 1 in every round. A pair whose
//! medians are reversed but whose rounds in one of the two fall on both sides
//! is reported apart, as reversed inside the spread: that program does not
//! order it, so it is no evidence either way. A pair within the margin in
//! either is a tie (a few rounds of a noisy program cannot separate less).

use std::fmt::Write as _;

use allocmux_harness::report::{ratios_by_rep, Summary};

use super::programs::{Program, Threads};
use super::summary::Row;

/// How far apart two backends must be, in both, for an opposite order to count.
pub const MARGIN: f64 = 0.10;

/// One side's figures on one program, an entry per backend.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Side {
    /// Median speed relative to the system allocator.
    pub medians: Vec<Option<f64>>,
    /// Speed in each round (or repetition) as (round, speed), on any scale
    /// common to the backends: what pairs two backends' runs.
    pub rounds: Vec<Vec<(u32, f64)>>,
}

/// Ours for `program`: each backend's figures in the matrix row of its
/// workload (from the last of `matrices` that has the row) and when that
/// matrix started, or `None` when none has it.
pub fn ours<'m>(
    program: &Program,
    cpus: usize,
    matrices: &'m [Summary],
    backends: &[&str],
) -> Option<(Side, &'m str)> {
    matrices
        .iter()
        .rev()
        .find_map(|m| row_of(program, cpus, m, backends).map(|v| (v, m.started.as_str())))
}

/// As [`ours`] for one matrix.
fn row_of(program: &Program, cpus: usize, matrix: &Summary, backends: &[&str]) -> Option<Side> {
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
    let cell = |b: &str| {
        let i = matrix.backends.iter().position(|m| m == b)?;
        row.cells.get(i)
    };
    Some(Side {
        medians: backends
            .iter()
            .map(|b| cell(b)?.relative.map(|s| s.median))
            .collect(),
        rounds: backends
            .iter()
            .map(|b| cell(b).map_or_else(Vec::new, |c| c.by_rep.clone()))
            .collect(),
    })
}

/// The verdict on one program: how the pairs of backends with numbers in both
/// tables compare, and the reversed pairs (by name).
#[derive(Debug, PartialEq, Default)]
pub struct Verdict {
    /// Pairs within [`MARGIN`] in both.
    pub ties: usize,
    /// Pairs separated by more than the margin in ours only: a difference our
    /// workload shows and the original does not.
    pub only_ours: usize,
    /// Pairs separated in the original only.
    pub only_original: usize,
    /// Pairs separated in both, in the same order.
    pub same: usize,
    /// Pairs ordered oppositely, both by more than the margin and steadily (in
    /// every round of both).
    pub reversed: Vec<String>,
    /// Pairs whose medians are ordered oppositely, both by more than the
    /// margin, while one of the two orders them differently in some round.
    pub reversed_in_spread: Vec<String>,
}

impl Verdict {
    /// Pairs of backends with a figure in both tables (every pair lands in
    /// exactly one of the other fields).
    pub fn compared(&self) -> usize {
        self.ties
            + self.only_ours
            + self.only_original
            + self.same
            + self.reversed.len()
            + self.reversed_in_spread.len()
    }

    /// The one-word verdict: `DISAGREE` with the steadily reversed pairs, else
    /// `agree` (saying so when some pair is reversed inside the spread).
    pub fn word(&self) -> String {
        if !self.reversed.is_empty() {
            format!("DISAGREE: {}", self.reversed.join(", "))
        } else if !self.reversed_in_spread.is_empty() {
            "agree within the rounds' spread".to_owned()
        } else {
            "agree".to_owned()
        }
    }
}

/// Whether every one of `ratios` (and there is at least one) lies above 1
/// (`above`), or every one below it.
fn steady(ratios: &[f64], above: bool) -> bool {
    !ratios.is_empty()
        && ratios
            .iter()
            .all(|&r| if above { r > 1.0 } else { r < 1.0 })
}

/// Compares the original's figures with ours, backend by backend.
pub fn verdict(original: &Side, ours: &Side, names: &[&str]) -> Verdict {
    let mut v = Verdict::default();
    let at = |side: &Side, i: usize| side.medians.get(i).copied().flatten();
    let rounds = |side: &Side, i: usize, j: usize| match (side.rounds.get(i), side.rounds.get(j)) {
        (Some(x), Some(y)) => ratios_by_rep(x, y),
        _ => Vec::new(),
    };
    for i in 0..names.len() {
        for j in i + 1..names.len() {
            let (Some(oi), Some(oj), Some(wi), Some(wj)) =
                (at(original, i), at(original, j), at(ours, i), at(ours, j))
            else {
                continue;
            };
            let (a, b) = (oi / oj, wi / wj);
            let separated = |r: f64| !(1.0 / (1.0 + MARGIN)..=1.0 + MARGIN).contains(&r);
            match (separated(a), separated(b)) {
                (false, false) => v.ties += 1,
                (false, true) => v.only_ours += 1,
                (true, false) => v.only_original += 1,
                (true, true) if (a > 1.0) != (b > 1.0) => {
                    let pair = format!("{}/{}", names[i], names[j]);
                    if steady(&rounds(original, i, j), a > 1.0)
                        && steady(&rounds(ours, i, j), b > 1.0)
                    {
                        v.reversed.push(pair);
                    } else {
                        v.reversed_in_spread.push(pair);
                    }
                }
                (true, true) => v.same += 1,
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
         the summary's reference is another); a pair is reversed when both order it oppositely, \
         each with its medians more than {:.0} % apart and the same order in every round \
         (the two backends' runs of one round, or of one repetition of the matrix); a pair \
         reversed at the medians whose order changes between the rounds of one of the two \
         is reversed inside the spread, and does not count against the workload.\n\n\
         | program | source |",
        runs.join(", then "),
        MARGIN * 100.0
    );
    for n in names {
        let _ = write!(s, " {n} |");
    }
    s.push_str(" pairs |\n|---|---|");
    s.push_str(&"---|".repeat(names.len() + 1));
    s.push('\n');
    let (mut with_ours, mut agreeing, mut agreeing_at_medians) = (0, 0, 0);
    for (p, row) in programs.iter().zip(rows) {
        let system = names
            .iter()
            .position(|n| *n == "system")
            .and_then(|i| row.cells[i].speed.map(|x| x.median));
        let original = Side {
            medians: row
                .cells
                .iter()
                .map(|c| Some(c.speed?.median / system?))
                .collect(),
            rounds: row
                .cells
                .iter()
                .map(|c| {
                    (0u32..)
                        .zip(&c.by_round)
                        .filter_map(|(round, v)| Some((round, (*v)?)))
                        .collect()
                })
                .collect(),
        };
        let Some((ours, started)) = ours(p, cpus, matrices, names) else {
            continue;
        };
        let v = verdict(&original, &ours, names);
        with_ours += 1;
        agreeing += usize::from(v.reversed.is_empty());
        agreeing_at_medians +=
            usize::from(v.reversed.is_empty() && v.reversed_in_spread.is_empty());
        let inside = if v.reversed_in_spread.is_empty() {
            String::new()
        } else {
            format!(" ({})", v.reversed_in_spread.join(", "))
        };
        let _ = writeln!(s, "| {} | original |{} |", p.name, cells(&original.medians));
        let _ = writeln!(
            s,
            "| | ours ({}, {started}) |{} {}: of {} pairs {} reversed, {} reversed inside the \
             spread{inside}, {} in the same order, {} apart in ours only, {} in the original \
             only, {} within {:.0} % in both |",
            p.ours.map_or("", |o| o.0),
            cells(&ours.medians),
            v.word(),
            v.compared(),
            v.reversed.len(),
            v.reversed_in_spread.len(),
            v.same,
            v.only_ours,
            v.only_original,
            v.ties,
            MARGIN * 100.0
        );
    }
    if with_ours > 0 {
        let _ = writeln!(
            s,
            "\n{agreeing} of {with_ours} programs agree (no pair steadily reversed); \
             {agreeing_at_medians} of {with_ours} have no pair reversed even at the medians."
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A side with these medians and, per backend, its speed in rounds 0, 1, ….
    fn side(medians: &[Option<f64>], rounds: &[&[f64]]) -> Side {
        Side {
            medians: medians.to_vec(),
            rounds: rounds
                .iter()
                .map(|r| (0u32..).zip(r.iter().copied()).collect())
                .collect(),
        }
    }

    /// The original of both verdict tests: slab ahead of mimalloc by 24 % at the
    /// medians and in every round; system behind both.
    fn original_side() -> Side {
        side(
            &[Some(1.0), Some(1.3), Some(1.05)],
            &[&[1.0, 1.0, 1.0], &[1.3, 1.4, 1.2], &[1.05, 1.0, 1.1]],
        )
    }

    /// Ours: mimalloc ahead of slab by 20 % at the medians; slab's speed in the
    /// last round is `slab_last` (below mimalloc's 15.0 keeps the order steady).
    fn ours_side(slab_last: f64) -> Side {
        side(
            &[Some(1.0), Some(1.2), Some(1.44)],
            &[
                &[10.0, 10.0, 10.0],
                &[12.0, 11.0, slab_last],
                &[14.4, 14.0, 15.0],
            ],
        )
    }

    #[test]
    fn only_pairs_separated_in_both_can_be_reversed() {
        let names = ["system", "slab", "mimalloc"];
        // system < slab in both (agree); slab > mimalloc by 24 % in the original but
        // mimalloc > slab by 20 % in ours, in every round of both (reversed).
        let original = original_side();
        let ours = ours_side(13.0);
        let v = verdict(&original, &ours, &names);
        assert_eq!(v.compared(), 3);
        // system / mimalloc: 1.05 apart in the original, 1.44 in ours;
        // system / slab: apart in both, the same order.
        assert_eq!((v.ties, v.only_ours, v.only_original, v.same), (0, 1, 0, 1));
        assert_eq!(v.reversed, ["slab/mimalloc"]);
        assert!(v.reversed_in_spread.is_empty());
        assert_eq!(v.word(), "DISAGREE: slab/mimalloc");
        let flat = side(&[Some(1.0), Some(1.02), Some(1.0)], &[]);
        let v = verdict(&flat, &flat, &names);
        assert_eq!((v.ties, v.only_ours, v.reversed.len()), (3, 0, 0));
        let missing = side(&[Some(1.0), None, Some(1.44)], &[]);
        assert_eq!(verdict(&original, &missing, &names).compared(), 1);
    }

    #[test]
    fn a_pair_whose_rounds_disagree_is_reversed_inside_the_spread() {
        let names = ["system", "slab", "mimalloc"];
        let original = original_side();
        // The same medians in ours, but in round 2 slab is ahead of mimalloc.
        let ours = ours_side(16.0);
        let v = verdict(&original, &ours, &names);
        assert!(v.reversed.is_empty());
        assert_eq!(v.reversed_in_spread, ["slab/mimalloc"]);
        assert_eq!(v.word(), "agree within the rounds' spread");
        // Without rounds to pair, no order is steady: never reversed outright.
        let bare = |s: &Side| Side {
            medians: s.medians.clone(),
            rounds: Vec::new(),
        };
        let v = verdict(&bare(&original), &bare(&ours), &names);
        assert_eq!(v.reversed_in_spread, ["slab/mimalloc"]);
    }

    #[test]
    fn rounds_pair_by_number() {
        // Round 1 is missing on one side; round 3 on the other.
        let a = [(0, 2.0), (1, 4.0), (2, 6.0)];
        let b = [(0, 1.0), (2, 3.0), (3, 5.0)];
        assert_eq!(ratios_by_rep(&a, &b), [2.0, 2.0]);
        assert!(steady(&[1.1, 1.3], true));
        assert!(!steady(&[1.1, 0.9], true));
        assert!(!steady(&[], true));
        assert!(steady(&[0.8], false));
    }
}
