//! Runs one cell in a fresh process with a time limit, and turns whatever
//! happened (a record, a crash, a hang) into a [`CellRun`].

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use allocmux_workloads::RunRecord;

use super::plan::Cell;
use crate::results::{CellRun, RunStatus};

/// Names a signal for error messages.
fn signal_name(sig: i32) -> String {
    let name = match sig {
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        _ => "",
    };
    if name.is_empty() {
        format!("signal {sig}")
    } else {
        format!("signal {sig} ({name})")
    }
}

/// Runs `cell` once with `runner`; never fails: problems become the run's status.
pub fn run_cell(runner: &Path, cell: &Cell, rep: u32, quick: bool, timeout: Duration) -> CellRun {
    let mut c = Command::new(runner);
    c.args(["--workload", cell.workload.name]);
    if cell.workload.multithreaded {
        c.args(["--threads", &cell.threads.to_string()]);
    }
    if quick {
        c.arg("--quick");
    }
    let start = Instant::now();
    let finish = |status, record, error| CellRun {
        workload: cell.workload.name.to_owned(),
        backend: cell.backend.name().to_owned(),
        threads: cell.threads,
        rep,
        status,
        wall_seconds: start.elapsed().as_secs_f64(),
        record,
        error,
    };
    let mut child = match c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            return finish(
                RunStatus::Failed,
                None,
                Some(format!("cannot start {}: {e}", runner.display())),
            )
        }
    };
    // Drain both pipes on their own threads so a chatty child never blocks.
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = stdout.as_mut() {
            let _ = p.read_to_string(&mut s);
        }
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = stderr.as_mut() {
            let _ = p.read_to_string(&mut s);
        }
        s
    });
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => {
                return finish(
                    RunStatus::Failed,
                    None,
                    Some(format!("waiting for the runner failed: {e}")),
                )
            }
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    let last_stderr = crate::cmd::last_line(&stderr).to_owned();
    let Some(status) = status else {
        return finish(
            RunStatus::Timeout,
            None,
            Some(format!(
                "killed after the {} s time limit",
                timeout.as_secs()
            )),
        );
    };
    if !status.success() {
        let how = match (status.code(), status.signal()) {
            (Some(code), _) => format!("exited with status {code}"),
            (None, Some(sig)) => format!("killed by {}", signal_name(sig)),
            _ => "ended abnormally".to_owned(),
        };
        let error = if last_stderr.is_empty() {
            how
        } else {
            format!("{how}: {last_stderr}")
        };
        return finish(RunStatus::Failed, None, Some(error));
    }
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or("");
    match serde_json::from_str::<RunRecord>(line) {
        Ok(record) => finish(RunStatus::Ok, Some(record), None),
        Err(e) => finish(
            RunStatus::Failed,
            None,
            Some(format!(
                "the runner printed no valid record ({e}): {line:.200}"
            )),
        ),
    }
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

    use super::run_cell;
    use crate::matrix::plan::Cell;
    use crate::results::RunStatus;

    /// A stand-in runner: a shell script with the given body.
    fn fake_runner(name: &str, body: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("allocmux-exec-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
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
        let runner = fake_runner("crash", "echo 'about to crash' >&2\nkill -ABRT $$");
        let run = run_cell(&runner, &cell(), 0, true, Duration::from_secs(30));
        assert_eq!(run.status, RunStatus::Failed);
        let error = run.error.unwrap();
        assert!(
            error.contains("SIGABRT") && error.contains("about to crash"),
            "{error}"
        );
    }

    #[test]
    fn a_hanging_cell_is_killed_at_the_time_limit() {
        let runner = fake_runner("hang", "exec sleep 30");
        let run = run_cell(&runner, &cell(), 1, true, Duration::from_millis(300));
        assert_eq!(run.status, RunStatus::Timeout);
        assert_eq!(run.rep, 1);
    }

    #[test]
    fn a_record_line_is_parsed_and_garbage_is_a_failure() {
        let record = r#"{"workload":"glibc-simple","backend":"system","params":{"threads":1,"iterations":1,"min_size":16,"max_size":64,"seed":1},"operations":10,"seconds":0.5,"ops_per_sec":20.0,"checksum":7,"peak_rss_bytes":4096,"stats":null}"#;
        let ok = fake_runner("ok", &format!("echo 'log line'\necho '{record}'"));
        let run = run_cell(&ok, &cell(), 0, true, Duration::from_secs(30));
        assert_eq!(run.status, RunStatus::Ok, "{:?}", run.error);
        assert_eq!(run.record.unwrap().checksum, 7);
        let bad = fake_runner("bad", "echo 'not json'");
        let run = run_cell(&bad, &cell(), 0, true, Duration::from_secs(30));
        assert_eq!(run.status, RunStatus::Failed);
        assert!(run.error.unwrap().contains("no valid record"));
        let exit = fake_runner("exit3", "exit 3");
        assert!(run_cell(&exit, &cell(), 0, true, Duration::from_secs(30))
            .error
            .unwrap()
            .contains("status 3"));
    }
}
