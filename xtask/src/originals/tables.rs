//! The run's summary files: `summary.md` (the speed and RSS table, and with
//! `--matrix` the side-by-side section) and `summary.csv`, written after every
//! program, or again from an earlier run's results (`--from`).

use std::path::Path;
use std::process::ExitCode;

use allocmux_harness::report::Summary;
use allocmux_harness::results::{Machine, MatrixResults};

use super::programs::Program;
use super::{agreement, compile, summary};

/// Moves `reference` to the front of `names` (the summary's ratios are
/// relative to the first); an unknown name lists the valid ones.
pub fn reference_first(names: &mut [&str], reference: &str) -> Result<(), String> {
    let i = names.iter().position(|n| *n == reference).ok_or_else(|| {
        format!(
            "--reference `{reference}` is not measured in this run; the choices are: {}",
            names.join(", ")
        )
    })?;
    names[..=i].rotate_right(1);
    Ok(())
}

/// What the summary files are made of besides the rows.
pub struct Tables<'a> {
    /// The programs, in table order.
    pub chosen: &'a [&'static Program],
    /// Our matrix runs, for the side-by-side section (later ones first).
    pub matrices: &'a [Summary],
    /// The `…N` programs' thread count.
    pub cpus: usize,
}

impl Tables<'_> {
    /// Rewrites `summary.md` and `summary.csv` in `out` with `rows` (one per
    /// program so far, in `chosen` order), measured on `machine`. `flags`: the
    /// compiler flags the run's build logs record ([`compile::recorded_flags`]).
    pub fn write(
        &self,
        out: &Path,
        rows: &[summary::Row],
        names: &[&str],
        rounds: u32,
        flags: Option<&str>,
        machine: &Machine,
    ) -> Result<(), String> {
        let stress = if self.chosen.iter().any(|p| p.name == "test-stress") {
            " (test-stress: mimalloc's, at its default 32 threads, scale 50, 50 iterations)"
        } else {
            ""
        };
        let built = match flags {
            Some(flags) => format!("built with `{flags}`"),
            None => "build flags not recorded".to_string(),
        };
        let mut md = format!(
            "# The original programs under each backend\n\nmimalloc-bench's programs ({built}) at \
             bench.sh's invocations with N = {}{stress}, each backend preloaded (`LD_PRELOAD`), \
             {rounds} shuffled rounds (`cargo xtask originals`).\n\nMachine: {}; {}, {}.\n\n{}",
            self.cpus,
            machine.summary(),
            machine.os,
            machine.kernel_phrase(),
            summary::markdown(rows, names, rounds)
        );
        if !self.matrices.is_empty() {
            md.push_str(&agreement::markdown(
                self.chosen,
                rows,
                self.cpus,
                self.matrices,
                names,
            ));
        }
        for (file, text) in [
            ("summary.md", md),
            ("summary.csv", summary::csv(rows, names)),
        ] {
            let path = out.join(file);
            std::fs::write(&path, text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        Ok(())
    }

    /// `--from DIR`: the summary and the programs' reports of an earlier run,
    /// from their `results.json`, written again into `dir`; with `out`, only the
    /// summary, into `out` (`dir` is left as it is).
    pub fn rewrite(
        &self,
        dir: &Path,
        out: Option<&Path>,
        reference: &str,
    ) -> Result<ExitCode, String> {
        let mut found = Vec::new();
        for p in self.chosen {
            let path = dir.join(p.name).join("results.json");
            if path.is_file() {
                let results = MatrixResults::load(&path)?;
                if out.is_none() {
                    allocmux_harness::report::write_all(&results, &dir.join(p.name))?;
                }
                found.push((*p, results));
            }
        }
        let Some((_, first)) = found.first() else {
            return Err(format!(
                "{} holds no program results (<program>/results.json) of `cargo xtask originals`",
                dir.display()
            ));
        };
        let names: Vec<String> = first.backends.iter().map(|b| b.name.clone()).collect();
        let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
        reference_first(&mut names, reference)?;
        let rounds = found
            .iter()
            .flat_map(|(_, r)| r.runs.iter().map(|run| run.rep + 1))
            .max()
            .unwrap_or(0);
        let chosen: Vec<&'static Program> = found.iter().map(|(p, _)| *p).collect();
        let rows: Vec<_> = found
            .iter()
            .map(|(p, r)| summary::row(p.name, p.metric.is_some(), &names, &r.runs))
            .collect();
        let tables = Tables {
            chosen: &chosen,
            ..*self
        };
        let dest = out.unwrap_or(dir);
        std::fs::create_dir_all(dest)
            .map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
        let flags = compile::recorded_flags(&dir.join("logs"));
        tables.write(
            dest,
            &rows,
            &names,
            rounds,
            flags.as_deref(),
            &first.machine,
        )?;
        println!("{}", summary::terminal(&rows, &names));
        println!("Summary written: {}", dest.join("summary.md").display());
        Ok(ExitCode::SUCCESS)
    }
}
