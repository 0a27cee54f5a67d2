//! The recommendation of a matrix run: which backends and rows can be
//! compared fairly (a backend with data in too few rows is left out, a row
//! missing a compared backend is skipped), and the rankings over them —
//! overall, per pattern class, and by peak memory — as geometric means of
//! per-row ratios.

use super::summary::{Cell, ClassRanking, Recommendation, Row, Score, BASELINE};
use crate::numbers::geometric_mean;

/// Sorts scores by value, best first (`descending`) or smallest first.
fn sorted(mut scores: Vec<Score>, descending: bool) -> Vec<Score> {
    scores.sort_by(|a, b| {
        if descending {
            b.value.total_cmp(&a.value)
        } else {
            a.value.total_cmp(&b.value)
        }
    });
    scores
}

/// Geometric mean per compared backend of `metric(cell) / base(row)` over `rows`.
fn rank(
    rows: &[&Row],
    compared: &[usize],
    backends: &[String],
    metric: impl Fn(&Cell) -> Option<f64>,
    baseline_index: Option<usize>,
    descending: bool,
) -> Vec<Score> {
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); compared.len()];
    for row in rows {
        let values: Vec<f64> = compared
            .iter()
            .filter_map(|&i| metric(&row.cells[i]))
            .collect();
        if values.len() != compared.len() {
            continue;
        }
        let base = match baseline_index {
            Some(b) => metric(&row.cells[b]),
            None => geometric_mean(&values),
        };
        let Some(base) = base.filter(|b| *b > 0.0) else {
            continue;
        };
        for (k, v) in values.iter().enumerate() {
            ratios[k].push(v / base);
        }
    }
    let scores = compared
        .iter()
        .zip(&ratios)
        .filter_map(|(&i, r)| {
            geometric_mean(r).map(|value| Score {
                backend: backends[i].clone(),
                value,
            })
        })
        .collect();
    sorted(scores, descending)
}

/// Chooses the backends and rows to compare and ranks them.
pub fn recommend(all_rows: &[Row], backends: &[String]) -> Recommendation {
    let mut rec = Recommendation::default();
    // Rows where no backend produced data (a workload that fails everywhere)
    // say nothing about the backends; the failure list reports them.
    let rows: Vec<Row> = all_rows
        .iter()
        .filter(|r| r.cells.iter().any(|c| c.state.has_data()))
        .cloned()
        .collect();
    let rows = rows.as_slice();
    if rows.is_empty() {
        return rec;
    }
    // A backend with data in fewer than half of the rows would shrink the
    // comparison to almost nothing: leave it out and say so.
    let mut compared = Vec::new();
    for (i, name) in backends.iter().enumerate() {
        let covered = rows.iter().filter(|r| r.cells[i].state.has_data()).count();
        if covered * 2 >= rows.len() && covered > 0 {
            compared.push(i);
        } else {
            rec.excluded.push((
                name.clone(),
                format!("data in only {covered} of {} rows", rows.len()),
            ));
        }
    }
    rec.compared = compared.iter().map(|&i| backends[i].clone()).collect();
    let baseline_index = compared.iter().copied().find(|&i| backends[i] == BASELINE);
    rec.relative_to_system = baseline_index.is_some();

    let mut used: Vec<&Row> = Vec::new();
    for row in rows {
        let missing: Vec<String> = compared
            .iter()
            .filter(|&&i| !row.cells[i].state.has_data())
            .map(|&i| {
                let c = &row.cells[i];
                format!(
                    "{} {}",
                    c.backend,
                    super::format::state_word(c.state).to_lowercase()
                )
            })
            .collect();
        if missing.is_empty() {
            used.push(row);
        } else {
            rec.rows_skipped
                .push((row.label.clone(), missing.join(", ")));
        }
    }
    rec.rows_used = used.len();
    if compared.len() < 2 || used.is_empty() {
        return rec;
    }

    // Paired relative medians where the row has the system allocator's runs,
    // throughput otherwise (every cell of a row is one or the other).
    let speed = |c: &Cell| {
        c.relative
            .map(|r| r.median)
            .or_else(|| c.throughput.map(|t| t.median))
    };
    rec.overall = rank(&used, &compared, backends, speed, baseline_index, true);
    rec.memory = rank(
        &used,
        &compared,
        backends,
        |c| c.peak_rss,
        baseline_index,
        false,
    );
    let mut classes: Vec<&str> = Vec::new();
    for row in &used {
        if !classes.contains(&row.class.as_str()) {
            classes.push(&row.class);
        }
    }
    for class in classes {
        let class_rows: Vec<&Row> = used.iter().copied().filter(|r| r.class == class).collect();
        rec.by_class.push(ClassRanking {
            class: class.to_string(),
            rows: class_rows.len(),
            ranking: rank(
                &class_rows,
                &compared,
                backends,
                speed,
                baseline_index,
                true,
            ),
        });
    }
    rec
}
