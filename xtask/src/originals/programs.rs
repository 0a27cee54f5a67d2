//! The original benchmark programs our classic workloads are named after, as
//! mimalloc-bench runs them: each program's binary and its standard invocation
//! from mimalloc-bench's `bench.sh` (`N` = the CPU count), plus mimalloc's own
//! `test-stress` (32 threads recreated every iteration, objects handed between
//! them) at its default arguments; and choosing among them. How the binaries
//! are built is in `binaries.rs`.

use std::path::Path;

use super::binaries::{binary, Checkout};

/// One measured program: a binary and its arguments.
#[derive(Debug)]
pub struct Program {
    /// The name bench.sh gives the test (`larsonN`, `cfrac`, …).
    pub name: &'static str,
    /// The binary it runs.
    pub binary: &'static str,
    /// Its arguments: `{N}` is the CPU count, `{bench}` the checkout's `bench/`.
    pub args: &'static [&'static str],
    /// A pattern whose first group is the program's own rate (higher is
    /// better), for programs that run a fixed time; others are timed.
    pub metric: Option<&'static str>,
    /// Our workload named after it and the thread count it corresponds to.
    pub ours: Option<(&'static str, Threads)>,
}

/// The thread count of a program's counterpart in our matrix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threads {
    /// One thread (the `…1` programs and single-threaded ones).
    One,
    /// One per CPU (bench.sh's `procs`, the `…N` programs).
    PerCpu,
}

/// Shorthand for a [`Program`].
const fn prog(
    name: &'static str,
    binary: &'static str,
    args: &'static [&'static str],
    metric: Option<&'static str>,
    ours: Option<(&'static str, Threads)>,
) -> Program {
    Program {
        name,
        binary,
        args,
        metric,
        ours,
    }
}

/// larson's fixed parameters before the thread count (seconds, sizes, blocks, rounds, seed).
const LARSON: &[&str] = &["5", "8", "1000", "5000", "100", "4141", "{N}"];
/// larson's own figure.
const LARSON_RATE: Option<&str> = Some(r"Throughput =\s+([0-9]+)");
/// cache-scratch / cache-thrash: objects, size, iterations, repetitions after the threads.
const CACHE_1: &[&str] = &["1", "1000", "1", "2000000", "{N}"];
/// As [`CACHE_1`] with one thread per CPU.
const CACHE_N: &[&str] = &["{N}", "1000", "1", "2000000", "{N}"];

/// The programs, in bench.sh's order, at its standard invocations.
pub const PROGRAMS: &[Program] = &[
    prog(
        "cfrac",
        "cfrac",
        &["17545186520507317056371138836327483792789528"],
        None,
        None,
    ),
    prog(
        "espresso",
        "espresso",
        &["{bench}/espresso/largest.espresso"],
        None,
        None,
    ),
    prog(
        "alloc-test1",
        "alloc-test",
        &["1"],
        None,
        Some(("alloc-test", Threads::One)),
    ),
    prog(
        "alloc-testN",
        "alloc-test",
        &["{N}"],
        None,
        Some(("alloc-test", Threads::PerCpu)),
    ),
    prog(
        "larsonN",
        "larson",
        LARSON,
        LARSON_RATE,
        Some(("larson", Threads::PerCpu)),
    ),
    prog("larsonN-sized", "larson-sized", LARSON, LARSON_RATE, None),
    prog(
        "xmalloc-testN",
        "xmalloc-test",
        &["-w", "{N}", "-t", "5", "-s", "64"],
        Some(r"free/sec:\s*([0-9.]+)"),
        Some(("xmalloc", Threads::PerCpu)),
    ),
    prog(
        "cache-thrash1",
        "cache-thrash",
        CACHE_1,
        None,
        Some(("cache-thrash", Threads::One)),
    ),
    prog(
        "cache-thrashN",
        "cache-thrash",
        CACHE_N,
        None,
        Some(("cache-thrash", Threads::PerCpu)),
    ),
    prog(
        "cache-scratch1",
        "cache-scratch",
        CACHE_1,
        None,
        Some(("cache-scratch", Threads::One)),
    ),
    prog(
        "cache-scratchN",
        "cache-scratch",
        CACHE_N,
        None,
        Some(("cache-scratch", Threads::PerCpu)),
    ),
    prog(
        "malloc-large",
        "malloc-large",
        &[],
        None,
        Some(("malloc-large", Threads::One)),
    ),
    prog(
        "mstressN",
        "mstress",
        &["{N}", "50", "25"],
        None,
        Some(("mstress", Threads::PerCpu)),
    ),
    prog("mleak10", "mleak", &["5"], None, None),
    prog("mleak100", "mleak", &["50"], None, None),
    prog(
        "rptestN",
        "rptest",
        &["{N}", "0", "1", "2", "500", "1000", "100", "8", "16000"],
        Some(r"([0-9]+) memory ops/CPU second"),
        Some(("rptest", Threads::PerCpu)),
    ),
    prog(
        "glibc-simple",
        "glibc-simple",
        &[],
        None,
        Some(("glibc-simple", Threads::One)),
    ),
    prog(
        "glibc-thread",
        "glibc-thread",
        &["{N}"],
        Some(r"([0-9]+) iterations"),
        Some(("glibc-thread", Threads::PerCpu)),
    ),
    // mimalloc's test-stress at its defaults (32 threads, scale 50, 50 iterations).
    prog(
        "test-stress",
        "test-stress",
        &["32", "50", "50"],
        None,
        None,
    ),
];

/// The checkout `program`'s sources come from.
pub fn checkout(program: &Program) -> Checkout {
    binary(program.binary).checkout
}

/// The programs named in `wanted`, in table order; when `None`, every program
/// whose checkout `have` says is given. An unknown name is an error that lists
/// the valid ones; a program whose checkout is missing, one that names the
/// option.
pub fn select(
    wanted: Option<&[String]>,
    have: impl Fn(Checkout) -> bool,
) -> Result<Vec<&'static Program>, String> {
    let Some(wanted) = wanted else {
        return Ok(PROGRAMS.iter().filter(|p| have(checkout(p))).collect());
    };
    for w in wanted {
        let Some(p) = PROGRAMS.iter().find(|p| p.name == w) else {
            let valid: Vec<&str> = PROGRAMS.iter().map(|p| p.name).collect();
            return Err(format!(
                "unknown program `{w}`; the programs are: {}",
                valid.join(", ")
            ));
        };
        if !have(checkout(p)) {
            return Err(format!("program `{w}` needs {}", checkout(p).option()));
        }
    }
    Ok(PROGRAMS
        .iter()
        .filter(|p| wanted.iter().any(|w| w == p.name))
        .collect())
}

/// `program`'s arguments for `cpus` CPUs and its checkout's source directory
/// (mimalloc-bench's `bench/`).
pub fn arguments(program: &Program, cpus: usize, bench: &Path) -> Vec<String> {
    program
        .args
        .iter()
        .map(|a| {
            a.replace("{N}", &cpus.to_string())
                .replace("{bench}", &bench.display().to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use allocmux_harness::compare::Metric;

    #[test]
    fn names_are_unique_and_every_binary_is_listed() {
        for (i, p) in PROGRAMS.iter().enumerate() {
            assert!(PROGRAMS[..i].iter().all(|q| q.name != p.name), "{}", p.name);
            assert_eq!(binary(p.binary).name, p.binary);
            if let Some((w, _)) = p.ours {
                assert!(
                    allocmux_workloads::find(w).is_some(),
                    "{}: no workload {w}",
                    p.name
                );
            }
            if let Some(m) = p.metric {
                let metric = Metric::parse(&format!("regex:{m}")).unwrap();
                assert_eq!(metric.find("x 12.5 y"), None, "{}", p.name);
            }
        }
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let all = |_| true;
        let e =
            select(Some(&["larson".to_owned()]), all).expect_err("larson is not a program name");
        assert!(
            e.contains("unknown program `larson`") && e.contains("larsonN"),
            "{e}"
        );
        let two = select(Some(&["cfrac".to_owned(), "larsonN".to_owned()]), all).unwrap();
        assert_eq!(
            two.iter().map(|p| p.name).collect::<Vec<_>>(),
            ["cfrac", "larsonN"]
        );
        assert_eq!(select(None, all).unwrap().len(), PROGRAMS.len());
    }

    #[test]
    fn programs_come_from_the_checkouts_given() {
        let bench_only = |c| c == Checkout::Bench;
        let chosen = select(None, bench_only).unwrap();
        assert_eq!(chosen.len(), PROGRAMS.len() - 1);
        assert!(chosen.iter().all(|p| p.name != "test-stress"));
        let e = select(Some(&["test-stress".to_owned()]), bench_only).unwrap_err();
        assert!(e.contains("needs --mimalloc-source"), "{e}");
        let mimalloc_only = |c| c == Checkout::Mimalloc;
        let chosen = select(None, mimalloc_only).unwrap();
        assert_eq!(chosen.len(), 1);
        assert_eq!(chosen[0].name, "test-stress");
        let e = select(Some(&["cfrac".to_owned()]), mimalloc_only).unwrap_err();
        assert!(e.contains("needs --source"), "{e}");
    }

    #[test]
    fn arguments_take_the_cpu_count_and_the_checkout() {
        let p = select(Some(&["larsonN".to_owned()]), |_| true).unwrap()[0];
        assert_eq!(arguments(p, 2, Path::new("/b")).last().unwrap(), "2");
        let e = select(Some(&["espresso".to_owned()]), |_| true).unwrap()[0];
        assert_eq!(
            arguments(e, 2, Path::new("/b")),
            ["/b/espresso/largest.espresso"]
        );
    }
}
