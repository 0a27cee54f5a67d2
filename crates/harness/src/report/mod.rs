//! Turns matrix results into what people read: the terminal table, `report.md`,
//! `report.html` (with charts) and `results.csv`.
//!
//! [`summarize`] computes the statistics once (medians and min–max over the
//! successful repetitions, ratios to the system allocator, rankings); the
//! renderers only format a [`Summary`].

mod charts;
pub mod compare;
mod compare_html;
mod compare_text;
mod csv;
mod format;
mod html;
mod latency;
mod markdown;
mod memory;
mod memory_latency;
mod panels;
mod recommend;
mod summary;
mod terminal;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use crate::paths::link_latest;
use crate::results::RunStatus;

pub use self::csv::{field as csv_field, render_csv};
pub use self::format::{bytes, si};
pub use self::html::render_html;
pub use self::markdown::render_markdown;
pub use self::summary::{ratios_by_rep, summarize, Summary};
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
            &compare_text::render_markdown(&summary, results),
        )?;
        write_file(
            dir,
            "report.html",
            &compare_html::render_html(&summary, results),
        )?;
        return Ok(compare_text::render_terminal(&summary));
    }
    let summary = summarize(results);
    write_file(dir, "report.md", &render_markdown(&summary, results))?;
    write_file(dir, "report.html", &render_html(&summary, results))?;
    Ok(render_terminal(&summary))
}

/// The end of a matrix or compare run: writes the reports, prints the table,
/// the run count and the files, links `latest`, and picks the exit code (0 all
/// runs succeeded, 1 some failed).
pub fn finish_run(
    results: &MatrixResults,
    out: &Path,
    results_dir: &Path,
    started: Instant,
) -> Result<ExitCode, String> {
    let terminal = write_all(results, out)?;
    println!("{terminal}");
    let failed = results
        .runs
        .iter()
        .filter(|r| r.status != RunStatus::Ok)
        .count();
    println!(
        "{} runs in {:.0} s ({failed} failed). Results: {}",
        results.runs.len(),
        started.elapsed().as_secs_f64(),
        out.display()
    );
    for f in ["results.json", "results.csv", "report.md", "report.html"] {
        println!("  {}", out.join(f).display());
    }
    link_latest(results_dir, out);
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
