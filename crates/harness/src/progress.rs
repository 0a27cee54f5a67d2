//! Progress of a long series of runs: an indicatif bar on a terminal, a line
//! per tenth of the runs elsewhere (CI logs), and notes that never tear the bar.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// Progress display: an indicatif bar on a terminal, a line per tenth elsewhere.
pub struct Progress {
    bar: ProgressBar,
    total: u64,
    tty: bool,
}

impl Progress {
    /// A display for `total` runs.
    pub fn new(total: u64) -> Progress {
        let tty = std::io::stderr().is_terminal();
        let bar = if tty {
            ProgressBar::new(total)
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30.cyan/blue} {pos}/{len} runs · {elapsed} · ETA {eta} · {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress { bar, total, tty }
    }

    /// Shows which run is going on.
    pub fn start(&self, label: &str) {
        self.bar.set_message(label.to_owned());
    }

    /// Prints a line above the bar.
    pub fn note(&self, line: &str) {
        if self.tty {
            self.bar.println(line);
        } else {
            eprintln!("{line}");
        }
    }

    /// Counts one run as done.
    pub fn done(&self) {
        self.bar.inc(1);
        let pos = self.bar.position();
        if !self.tty && (pos * 10 / self.total != (pos - 1) * 10 / self.total || pos == self.total)
        {
            eprintln!(
                "{pos}/{} runs done ({:.0} s)",
                self.total,
                self.bar.elapsed().as_secs_f64()
            );
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Runs build `i` (from 0) of `n`, announcing it as `what` and how it went
/// (`[build 2/5] slab done in 12 s`, or FAILED with the error: the caller
/// records that backend's runs as failed and goes on).
pub fn announced_build<T>(
    i: usize,
    n: usize,
    what: &str,
    backend: &str,
    build: impl FnOnce() -> Result<T, String>,
) -> Result<T, String> {
    eprintln!("[build {}/{n}] {what} …", i + 1);
    let t = std::time::Instant::now();
    let r = build();
    match &r {
        Ok(_) => eprintln!(
            "[build {}/{n}] {backend} done in {:.0} s",
            i + 1,
            t.elapsed().as_secs_f64()
        ),
        Err(e) => eprintln!(
            "[build {}/{n}] {backend} FAILED, its runs will be recorded as failed:\n{e}",
            i + 1
        ),
    }
    r
}
