//! Turns matrix results into what people read: the terminal table, `report.md`,
//! `report.html` (with charts) and `results.csv`.
//!
//! [`summarize`] computes the statistics once (medians and min–max over the
//! successful repetitions, ratios to the system allocator, rankings); the
//! renderers only format a [`Summary`].

mod charts;
pub mod compare;
mod compare_html;
mod csv;
mod format;
mod html;
mod markdown;
mod recommend;
mod summary;
mod terminal;
#[cfg(test)]
mod tests;

use std::path::Path;

pub use self::csv::render_csv;
pub use self::html::render_html;
pub use self::markdown::render_markdown;
pub use self::summary::{summarize, Summary};
pub use self::terminal::render_terminal;
use crate::results::MatrixResults;

/// Writes `contents` to `dir/name` through a temporary file and a rename.
fn write_file(dir: &Path, name: &str, contents: &str) -> Result<(), String> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, contents).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Summarizes `results` and writes `results.csv`, `report.md` and
/// `report.html` into `dir` (created if needed); returns the terminal report
/// for the caller to print. A `compare` (results with a program) gets the
/// per-backend report of [`compare`], a matrix the matrix report.
pub fn write_all(results: &MatrixResults, dir: &Path) -> Result<String, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    write_file(dir, "results.csv", &render_csv(results))?;
    if results.program.is_some() {
        let summary = compare::summarize(results);
        write_file(
            dir,
            "report.md",
            &compare::render_markdown(&summary, results),
        )?;
        write_file(
            dir,
            "report.html",
            &compare_html::render_html(&summary, results),
        )?;
        return Ok(compare::render_terminal(&summary));
    }
    let summary = summarize(results);
    write_file(dir, "report.md", &render_markdown(&summary, results))?;
    write_file(dir, "report.html", &render_html(&summary, results))?;
    Ok(render_terminal(&summary))
}
