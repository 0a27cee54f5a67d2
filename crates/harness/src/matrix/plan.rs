//! Which cells the matrix runs and in what order: the selection from the
//! command line, shards for spreading over CI machines, and the run order:
//! shuffled rows, each row's backends back to back in shuffled order.

use allocmux::Backend;
use allocmux_workloads::{PatternClass, Workload};

#[cfg(test)]
use crate::results::CellKey;
use crate::results::{CellRun, RunStatus};

/// A cell to run: one workload with one backend at one thread count.
#[derive(Debug, Clone)]
pub struct Cell {
    /// The workload.
    pub workload: &'static Workload,
    /// The backend.
    pub backend: Backend,
    /// Threads to run with (1 for single-threaded workloads).
    pub threads: usize,
}

impl Cell {
    /// The cell's key in the results.
    #[cfg(test)]
    pub fn key(&self) -> CellKey {
        CellKey {
            workload: self.workload.name.to_owned(),
            backend: self.backend.name().to_owned(),
            threads: self.threads,
        }
    }

    /// A run of this cell with no result yet: failed until something succeeds.
    pub fn new_run(&self, rep: u32) -> CellRun {
        CellRun::new(
            self.workload.name,
            self.backend.name(),
            self.threads,
            rep,
            RunStatus::Failed,
        )
    }

    /// A short label for progress lines.
    pub fn label(&self) -> String {
        format!("{} on {}", self.row_label(), self.backend)
    }

    /// The row this cell belongs to: `larson ×8`, or the workload's name alone
    /// when it is single-threaded.
    pub fn row_label(&self) -> String {
        if self.workload.multithreaded {
            format!("{} ×{}", self.workload.name, self.threads)
        } else {
            self.workload.name.to_owned()
        }
    }
}

/// `--shard I/N`: run the I-th of N deterministic shares of the matrix rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based shard number.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a shard; write I/N with 1 ≤ I ≤ N, e.g. 1/2");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Resolves `--workloads` entries (workload names or pattern-class names) to
/// workloads in registry order. Hidden workloads are only taken by name.
pub fn select_workloads(wanted: Option<&[String]>) -> Result<Vec<&'static Workload>, String> {
    let all = allocmux_workloads::all();
    let Some(wanted) = wanted else {
        return Ok(all.iter().filter(|w| !w.hidden).collect());
    };
    let mut chosen: Vec<&'static Workload> = Vec::new();
    for name in wanted {
        let matches: Vec<&'static Workload> = if let Some(w) = allocmux_workloads::find(name) {
            vec![w]
        } else if let Some(class) = PatternClass::from_name(name) {
            all.iter()
                .filter(|w| w.class == class && !w.hidden)
                .collect()
        } else {
            return Err(format!(
                "unknown workload or class `{name}`.\n  workloads: {}\n  classes: {}",
                all.iter()
                    .filter(|w| !w.hidden)
                    .map(|w| w.name)
                    .collect::<Vec<_>>()
                    .join(", "),
                PatternClass::ALL.map(PatternClass::name).join(", ")
            ));
        };
        for w in matches {
            if !chosen.iter().any(|c| c.name == w.name) {
                chosen.push(w);
            }
        }
    }
    let order = |w: &Workload| all.iter().position(|a| a.name == w.name);
    chosen.sort_by_key(|w| order(w));
    Ok(chosen)
}

/// Every cell of the selection that falls in `shard`. Shards split the matrix
/// by rows (workload × threads), so each row's backends are measured on the
/// same machine and can be compared with each other.
pub fn cells(
    workloads: &[&'static Workload],
    backends: &[Backend],
    threads: Option<&[usize]>,
    quick: bool,
    shard: Option<Shard>,
) -> Vec<Cell> {
    let mut rows: Vec<(&'static Workload, usize)> = Vec::new();
    for &w in workloads {
        if !w.multithreaded {
            rows.push((w, 1));
            continue;
        }
        match threads {
            Some(list) => rows.extend(list.iter().map(|&t| (w, t))),
            None => rows.push((
                w,
                if quick {
                    w.quick.threads
                } else {
                    w.default.threads
                },
            )),
        }
    }
    rows.into_iter()
        .enumerate()
        .filter(|(i, _)| shard.is_none_or(|s| i % s.count == s.index - 1))
        .flat_map(|(_, (workload, threads))| {
            backends.iter().map(move |&backend| Cell {
                workload,
                backend,
                threads,
            })
        })
        .collect()
}

/// The run order: repetition by repetition, the rows (workload × threads) in a
/// fresh shuffle, and a row's backends back to back in a fresh shuffle of their
/// own (seeded, so the order is reproducible). Every backend sees the same spread
/// of machine states, and the backends of one row run seconds apart rather than
/// anywhere in the repetition, so the host's drift over minutes does not enter
/// the ratios between them. `cells` holds each row's cells next to each other, as
/// [`cells`] returns them.
pub fn schedule(cells: &[Cell], reps: u32, seed: u64) -> Vec<(usize, u32)> {
    let indices: Vec<usize> = (0..cells.len()).collect();
    let rows: Vec<&[usize]> = indices
        .chunk_by(|&a, &b| {
            (cells[a].workload.name, cells[a].threads) == (cells[b].workload.name, cells[b].threads)
        })
        .collect();
    let mut rng = allocmux_workloads::Rng::new(seed);
    let mut order = Vec::with_capacity(cells.len() * reps as usize);
    for rep in 0..reps {
        let mut round = rows.clone();
        shuffle(&mut round, &mut rng);
        for row in round {
            let mut row = row.to_vec();
            shuffle(&mut row, &mut rng);
            order.extend(row.into_iter().map(|c| (c, rep)));
        }
    }
    order
}

/// Fisher–Yates shuffle driven by the workloads' seeded generator.
fn shuffle<T>(items: &mut [T], rng: &mut allocmux_workloads::Rng) {
    for i in (1..items.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// `(item, repetition)` pairs: `reps` rounds, each a seeded shuffle of the
/// items `0..n`.
pub fn shuffled_rounds(n: usize, reps: u32, seed: u64) -> Vec<(usize, u32)> {
    let mut rng = allocmux_workloads::Rng::new(seed);
    let mut order = Vec::with_capacity(n * reps as usize);
    for rep in 0..reps {
        let mut round: Vec<usize> = (0..n).collect();
        shuffle(&mut round, &mut rng);
        order.extend(round.into_iter().map(|c| (c, rep)));
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_cells(shard: Option<Shard>) -> Vec<CellKey> {
        let w = select_workloads(None).unwrap();
        cells(&w, &Backend::ALL, Some(&[1, 2, 4]), true, shard)
            .iter()
            .map(Cell::key)
            .collect()
    }

    #[test]
    fn shards_cover_every_cell_exactly_once() {
        let whole = all_cells(None);
        for n in 1..=4 {
            let mut joined: Vec<CellKey> = (1..=n)
                .flat_map(|i| all_cells(Some(Shard { index: i, count: n })))
                .collect();
            joined.sort();
            let mut expected = whole.clone();
            expected.sort();
            assert_eq!(joined, expected, "{n} shards");
        }
    }

    #[test]
    fn shard_syntax() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        for bad in ["0/2", "3/2", "1", "a/b", "1/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_workload_lists_valid_names() {
        let err = select_workloads(Some(&["nosuch".into()])).unwrap_err();
        assert!(
            err.contains("nosuch") && err.contains("larson") && err.contains("cross-thread-free"),
            "{err}"
        );
    }

    #[test]
    fn classes_select_their_workloads() {
        let w = select_workloads(Some(&["rust-idioms".into(), "larson".into()])).unwrap();
        assert!(w.iter().any(|w| w.name == "larson"));
        assert!(w.iter().any(|w| w.name == "json-roundtrip"));
        assert!(!w.iter().any(|w| w.name == "malloc-large"));
    }

    #[test]
    fn schedule_runs_each_cell_once_per_rep() {
        let w = select_workloads(None).unwrap();
        let c = cells(&w, &Backend::ALL, None, true, None);
        let mut order = schedule(&c, 3, 7);
        assert_eq!(order.len(), c.len() * 3);
        order.sort();
        order.dedup();
        assert_eq!(order.len(), c.len() * 3);
    }

    #[test]
    fn schedule_runs_a_rows_backends_back_to_back() {
        let w = select_workloads(None).unwrap();
        let c = cells(&w, &Backend::ALL, Some(&[1, 2]), true, None);
        let order = schedule(&c, 4, 11);
        let row_of = |i: usize| (c[i].workload.name, c[i].threads);
        let width = Backend::ALL.len();
        let mut orders_seen = std::collections::BTreeSet::new();
        for block in order.chunks(width) {
            let (first, rep) = block[0];
            assert!(
                block
                    .iter()
                    .all(|&(i, r)| row_of(i) == row_of(first) && r == rep),
                "a row's runs are split: {block:?}"
            );
            let backends: Vec<_> = block.iter().map(|&(i, _)| c[i].backend).collect();
            orders_seen.insert(backends);
        }
        // The backends' order within a row is shuffled, not fixed.
        assert!(orders_seen.len() > 1);
    }
}
