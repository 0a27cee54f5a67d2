//! Command-line value checks shared by every command: a count or a time limit
//! of zero makes no sense and is refused with a message, never silently changed —
//! and the row selection (`--workloads`, `--threads`) that several commands share.

/// Which rows (workload × thread count) a command runs: `--workloads` and `--threads`,
/// flattened into each command's options.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct RowSelection {
    /// Workloads to run: names or pattern classes, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pub workloads: Option<Vec<String>>,
    /// Thread counts for the multi-threaded workloads, e.g. 1,2,4,8 (default: the
    /// workload's own).
    #[arg(long, value_delimiter = ',', value_parser = thread_count)]
    pub threads: Option<Vec<usize>>,
}

/// A thread count of at least 1 (`--threads`).
pub fn thread_count(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("thread counts start at 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a whole number")),
    }
}

/// A whole number of at least 1 (`--reps`).
pub fn positive_u32(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(0) => Err("must be at least 1 (zero repetitions measure nothing)".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a whole number")),
    }
}

/// A whole number of seconds of at least 1 (`--timeout`).
pub fn positive_u64(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(0) => Err("must be at least 1 second (a zero limit would kill every run)".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a whole number of seconds")),
    }
}

/// A sampling period in whole milliseconds, at least 1 (`--sample-ms`).
pub fn sample_ms(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(0) => Err("must be at least 1 ms".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a whole number of milliseconds")),
    }
}

#[cfg(test)]
mod tests {
    use super::{positive_u32, positive_u64, thread_count};

    #[test]
    fn zero_and_garbage_are_refused() {
        assert_eq!(positive_u32("3"), Ok(3));
        assert!(positive_u32("0").unwrap_err().contains("at least 1"));
        assert!(positive_u32("x").is_err());
        assert!(positive_u64("0").unwrap_err().contains("at least 1 second"));
        assert_eq!(positive_u64("60"), Ok(60));
        assert_eq!(thread_count("8"), Ok(8));
        assert!(thread_count("0").unwrap_err().contains("start at 1"));
        assert!(thread_count("two").is_err());
    }
}
