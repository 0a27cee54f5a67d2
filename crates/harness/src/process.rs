//! Runs one measured process: a fresh child with a time limit, both output
//! pipes drained, and what the kernel accounted for it (`wait4`'s resource
//! usage: user and system CPU time, peak RSS, page faults). Every outcome,
//! a crash or a hang included, comes back as a value; nothing here panics.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::sampler::{RssProfile, RssSampler};

/// What the kernel accounted for one finished child (`struct rusage`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// CPU time in user mode, in seconds.
    pub user_seconds: f64,
    /// CPU time in the kernel on the child's behalf, in seconds.
    pub system_seconds: f64,
    /// Peak resident set size, in bytes (`ru_maxrss`). Beware: Linux carries
    /// the parent's resident size at the moment of the spawn into the child's
    /// `ru_maxrss` across `exec`, so this is at least the harness's own size;
    /// the sampled peak ([`crate::sampler::RssSummary`]) is the child's own.
    pub peak_rss_bytes: u64,
    /// Page faults served without I/O (first touches, copy-on-write).
    pub minor_faults: u64,
    /// Page faults that needed I/O.
    pub major_faults: u64,
}

/// How a child ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// It exited with this status code.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
    /// It ran past the time limit and was killed.
    TimedOut,
    /// It could not be started or waited for; the message says why.
    NotStarted(String),
}

impl Ending {
    /// Whether the child exited with status 0.
    pub fn success(&self) -> bool {
        *self == Ending::Exited(0)
    }

    /// A short phrase for error messages: `exited with status 3`,
    /// `killed by signal 6 (SIGABRT)`.
    pub fn describe(&self, timeout: Duration) -> String {
        match self {
            Ending::Exited(code) => format!("exited with status {code}"),
            Ending::Signaled(sig) => format!("killed by {}", signal_name(*sig)),
            Ending::TimedOut => format!("killed after the {} s time limit", timeout.as_secs()),
            Ending::NotStarted(why) => why.clone(),
        }
    }
}

/// Everything one run of a child produced.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The child's process id (0 when it never started).
    pub pid: u32,
    /// How it ended.
    pub ending: Ending,
    /// Wall time from spawn to exit, in seconds.
    pub wall_seconds: f64,
    /// The kernel's accounting, when the child was reaped normally.
    pub usage: Option<Usage>,
    /// Everything it wrote to stdout.
    pub stdout: String,
    /// Everything it wrote to stderr.
    pub stderr: String,
    /// Its resident memory over time, when sampling was asked for.
    pub rss: Option<RssProfile>,
}

/// Names a signal for error messages.
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGTERM => "SIGTERM",
        _ => "",
    };
    if name.is_empty() {
        format!("signal {sig}")
    } else {
        format!("signal {sig} ({name})")
    }
}

/// Reads a pipe to its end on its own thread, so a chatty child never blocks.
fn drain(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut bytes);
        }
        let _ = tx.send(String::from_utf8_lossy(&bytes).into_owned());
    });
    rx
}

/// What a drained pipe held. A descendant that outlives the child (a daemon,
/// or a grandchild of a killed shell) may keep the pipe open: after
/// [`PIPE_GRACE`] the output is given up rather than waited for.
fn collect(rx: &mpsc::Receiver<String>) -> String {
    rx.recv_timeout(PIPE_GRACE).unwrap_or_else(|_| {
        "(output not collected: a process the child started kept the pipe open)".to_owned()
    })
}

/// How long output is awaited after the child itself has ended.
const PIPE_GRACE: Duration = Duration::from_secs(2);

fn seconds(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 / 1e6
}

/// One non-blocking `wait4`: `Some((status, usage))` once the child has ended.
fn try_reap(child: &Child) -> std::io::Result<Option<(i32, libc::rusage)>> {
    let mut status = 0;
    // SAFETY: `rusage` is plain old data; all-zero is a valid value that
    // `wait4` overwrites.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `child.id()` is our own unreaped child; both out-pointers are
    // valid for writes for the duration of the call.
    let r = unsafe { libc::wait4(child.id() as i32, &mut status, libc::WNOHANG, &mut usage) };
    match r {
        0 => Ok(None),
        r if r > 0 => Ok(Some((status, usage))),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// Runs `command` (stdin closed, stdout and stderr captured) and waits at most
/// `timeout` for it; a child still running then is killed.
pub fn run(command: &mut Command, timeout: Duration) -> Finished {
    run_sampled(command, timeout, None)
}

/// [`run`], and with `sample` its resident memory every `sample` period from
/// outside (see [`RssSampler`]).
pub fn run_sampled(command: &mut Command, timeout: Duration, sample: Option<Duration>) -> Finished {
    let start = Instant::now();
    let mut child = match command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            return Finished {
                pid: 0,
                ending: Ending::NotStarted(format!(
                    "cannot start {}: {e}",
                    command.get_program().to_string_lossy()
                )),
                wall_seconds: 0.0,
                usage: None,
                stdout: String::new(),
                stderr: String::new(),
                rss: None,
            }
        }
    };
    let pid = child.id();
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let mut sampler = sample.map(|period| RssSampler::new(pid, period));
    let mut poll = Duration::from_micros(200);
    let (ending, usage) = loop {
        if let Some(s) = sampler.as_mut() {
            s.poll();
        }
        match try_reap(&child) {
            Ok(Some((status, ru))) => {
                let ending = if libc::WIFSIGNALED(status) {
                    Ending::Signaled(libc::WTERMSIG(status))
                } else {
                    Ending::Exited(libc::WEXITSTATUS(status))
                };
                let usage = Usage {
                    user_seconds: seconds(ru.ru_utime),
                    system_seconds: seconds(ru.ru_stime),
                    peak_rss_bytes: ru.ru_maxrss.max(0) as u64 * 1024,
                    minor_faults: ru.ru_minflt.max(0) as u64,
                    major_faults: ru.ru_majflt.max(0) as u64,
                };
                break (ending, Some(usage));
            }
            Ok(None) if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break (Ending::TimedOut, None);
            }
            Ok(None) => {
                // Wake for the next sample if it comes before the next poll.
                let until_sample = sampler
                    .as_ref()
                    .map(|s| s.next_due().saturating_duration_since(Instant::now()));
                std::thread::sleep(until_sample.map_or(poll, |d| d.min(poll)));
                // Short polls at first so quick runs are timed closely, then 5 ms.
                poll = (poll * 2).min(Duration::from_millis(5));
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                break (
                    Ending::NotStarted(format!("waiting for the child failed: {e}")),
                    None,
                );
            }
        }
    };
    let wall_seconds = start.elapsed().as_secs_f64();
    Finished {
        pid,
        ending,
        wall_seconds,
        usage,
        stdout: collect(&out),
        stderr: collect(&err),
        rss: sampler.map(RssSampler::finish),
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;
    use std::time::Duration;

    use super::{run, Ending};

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }

    #[test]
    fn output_status_and_usage_are_captured() {
        let f = run(
            &mut sh("echo out; echo err >&2; exit 3"),
            Duration::from_secs(30),
        );
        assert_eq!(f.ending, Ending::Exited(3));
        assert_eq!(f.stdout, "out\n");
        assert_eq!(f.stderr, "err\n");
        let usage = f.usage.expect("a reaped child has its usage");
        assert!(usage.peak_rss_bytes > 0);
    }

    #[test]
    fn a_signal_and_a_hang_are_told_apart() {
        let f = run(&mut sh("kill -SEGV $$"), Duration::from_secs(30));
        assert_eq!(f.ending, Ending::Signaled(libc::SIGSEGV));
        assert!(f.ending.describe(Duration::ZERO).contains("SIGSEGV"));
        let f = run(&mut sh("exec sleep 30"), Duration::from_millis(200));
        assert_eq!(f.ending, Ending::TimedOut);
        assert!(f.wall_seconds < 10.0);
    }

    #[test]
    fn a_missing_program_is_not_started() {
        let f = run(
            &mut Command::new("/nonexistent/allocmux-test-program"),
            Duration::from_secs(1),
        );
        assert!(matches!(f.ending, Ending::NotStarted(ref e) if e.contains("cannot start")));
    }

    #[test]
    fn the_sampler_sees_memory_rise_and_fall() {
        // Touch 96 MiB, hold it 300 ms, free it (back to the OS: bytearray of this
        // size is mmap-ed), idle 300 ms.
        let script =
            "import time\nb = bytearray(96 << 20)\ntime.sleep(0.3)\ndel b\ntime.sleep(0.3)\n";
        let f = super::run_sampled(
            Command::new("python3").args(["-c", script]),
            Duration::from_secs(60),
            Some(Duration::from_millis(10)),
        );
        assert!(f.ending.success(), "{:?}", f.ending);
        let rss = f.rss.unwrap();
        let s = rss.summary.unwrap();
        assert!(s.samples >= 40, "{s:?}");
        assert!(s.peak_bytes >= 96 << 20, "{s:?}");
        assert!(s.final_bytes + (64 << 20) < s.peak_bytes, "{s:?}");
        // The rise comes before the fall, and the timeline is in time order.
        let peak_at = rss
            .timeline
            .iter()
            .position(|p| p[1] as u64 == s.peak_bytes)
            .unwrap();
        assert!(peak_at > 0 && peak_at + 1 < rss.timeline.len());
        assert!(rss.timeline.windows(2).all(|w| w[0][0] <= w[1][0]));
    }

    #[test]
    fn peak_rss_follows_what_the_child_touched() {
        // python3 is on every machine the project supports; allocate and touch 64 MiB.
        let f = run(
            Command::new("python3").args(["-c", "b = bytearray(64 << 20)"]),
            Duration::from_secs(60),
        );
        assert!(f.ending.success(), "{:?}", f.ending);
        assert!(f.usage.unwrap().peak_rss_bytes >= 64 << 20);
    }
}
