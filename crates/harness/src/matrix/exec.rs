//! Runs one matrix cell in a fresh runner process with a time limit, and turns
//! whatever happened (a record, a crash, a hang) into a [`CellRun`].

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use allocmux_workloads::RunRecord;

use super::plan::Cell;
use crate::process;
use crate::results::{CellRun, RunStatus};

/// How every run of a command is made: parameters, limits and environment.
#[derive(Debug, Clone, Copy)]
pub struct RunSettings<'a> {
    /// The workloads' quick parameters instead of their full ones.
    pub quick: bool,
    /// Time after which the run is killed and recorded as a timeout.
    pub timeout: Duration,
    /// Time between two samples of the run's resident memory.
    pub sample: Duration,
    /// Added to the runner's environment.
    pub env: &'a [(&'a str, &'a str)],
}

impl RunSettings<'_> {
    /// The time limit of a run when the user gives none: 60 s with the quick
    /// parameters, 300 s with the full ones.
    pub fn default_timeout(quick: bool) -> Duration {
        Duration::from_secs(if quick { 60 } else { 300 })
    }
}

/// Runs `cell` once (repetition `rep`) with `runner`; never fails: problems become the
/// run's status.
pub fn run_cell(runner: &Path, cell: &Cell, rep: u32, settings: &RunSettings) -> CellRun {
    let mut c = Command::new(runner);
    c.envs(settings.env.iter().copied());
    c.args(["--workload", cell.workload.name]);
    if cell.workload.multithreaded {
        c.args(["--threads", &cell.threads.to_string()]);
    }
    if settings.quick {
        c.arg("--quick");
    }
    let timeout = settings.timeout;
    let finished = process::run_sampled(&mut c, timeout, Some(settings.sample));
    let mut run = cell.new_run(rep);
    if !run.record_process(&finished, timeout, &finished.stderr) {
        return run;
    }
    let line = finished
        .stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or("");
    match serde_json::from_str::<RunRecord>(line) {
        Ok(record) => {
            run.status = RunStatus::Ok;
            run.record = Some(record);
        }
        Err(e) => {
            run.error = Some(format!(
                "the runner printed no valid record ({e}): {line:.200}"
            ));
        }
    }
    run
}

/// Asks a runner binary which backend version it was built with.
pub fn backend_version(runner: &Path) -> Option<String> {
    let out = Command::new(runner).arg("--backend-info").output().ok()?;
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    info.get("version")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;
    use std::time::Duration;

    use allocmux::Backend;

    use super::{run_cell, RunSettings};
    use crate::matrix::plan::Cell;
    use crate::results::RunStatus;
    use tempfile::TempDir;

    /// A stand-in runner: a shell script with the given body, in `dir`.
    fn fake_runner(dir: &TempDir, name: &str, body: &str) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// Quick parameters, sampling every 10 ms, killed after `timeout`.
    fn quick(timeout: Duration) -> RunSettings<'static> {
        RunSettings {
            quick: true,
            timeout,
            sample: Duration::from_millis(10),
            env: &[],
        }
    }

    fn cell() -> Cell {
        Cell {
            workload: allocmux_workloads::find("glibc-simple").unwrap(),
            backend: Backend::System,
            threads: 1,
        }
    }

    #[test]
    fn a_crashing_cell_is_recorded_as_failed_with_its_signal() {
        let dir = TempDir::with_prefix("allocmux-exec-test-").unwrap();
        let runner = fake_runner(&dir, "crash", "echo 'about to crash' >&2\nkill -ABRT $$");
        let run = run_cell(&runner, &cell(), 0, &quick(Duration::from_secs(30)));
        assert_eq!(run.status, RunStatus::Failed);
        let error = run.error.unwrap();
        assert!(
            error.contains("SIGABRT") && error.contains("about to crash"),
            "{error}"
        );
    }

    #[test]
    fn a_hanging_cell_is_killed_at_the_time_limit() {
        let dir = TempDir::with_prefix("allocmux-exec-test-").unwrap();
        let runner = fake_runner(&dir, "hang", "exec sleep 30");
        let run = run_cell(&runner, &cell(), 1, &quick(Duration::from_millis(300)));
        assert_eq!(run.status, RunStatus::Timeout);
        assert_eq!(run.rep, 1);
    }

    #[test]
    fn a_record_line_is_parsed_and_garbage_is_a_failure() {
        let record = r#"{"workload":"glibc-simple","backend":"system","params":{"threads":1,"iterations":1,"min_size":16,"max_size":64,"seed":1},"operations":10,"seconds":0.5,"ops_per_sec":20.0,"checksum":7,"peak_rss_bytes":4096,"stats":null}"#;
        let dir = TempDir::with_prefix("allocmux-exec-test-").unwrap();
        let ok = fake_runner(&dir, "ok", &format!("echo 'log line'\necho '{record}'"));
        let run = run_cell(&ok, &cell(), 0, &quick(Duration::from_secs(30)));
        assert_eq!(run.status, RunStatus::Ok, "{:?}", run.error);
        assert_eq!(run.record.unwrap().checksum, 7);
        let bad = fake_runner(&dir, "bad", "echo 'not json'");
        let run = run_cell(&bad, &cell(), 0, &quick(Duration::from_secs(30)));
        assert_eq!(run.status, RunStatus::Failed);
        assert!(run.error.unwrap().contains("no valid record"));
        let exit = fake_runner(&dir, "exit3", "exit 3");
        assert!(run_cell(&exit, &cell(), 0, &quick(Duration::from_secs(30)))
            .error
            .unwrap()
            .contains("status 3"));
    }

    #[test]
    fn the_settings_reach_the_runner_as_arguments_and_environment() {
        let dir = TempDir::with_prefix("allocmux-exec-test-").unwrap();
        // Exits 0 only when it was given `--quick` and the environment variable.
        let runner = fake_runner(
            &dir,
            "env",
            "case \"$*\" in *--quick*) ;; *) exit 4 ;; esac\n[ \"$ALLOCMUX_EXEC_TEST_MARK\" = set ] || exit 5",
        );
        let mut settings = quick(Duration::from_secs(30));
        let run = run_cell(&runner, &cell(), 0, &settings);
        assert!(run.error.unwrap().contains("status 5"));
        settings.env = &[("ALLOCMUX_EXEC_TEST_MARK", "set")];
        let run = run_cell(&runner, &cell(), 0, &settings);
        // The right arguments and environment: it exits 0, printing no record.
        assert!(run.error.unwrap().contains("no valid record"));
        settings.quick = false;
        let run = run_cell(&runner, &cell(), 0, &settings);
        assert!(run.error.unwrap().contains("status 4"));
    }
}
