//! The registry's invariants: unique kebab-case names, sane parameters, hidden helpers.

use allocmux_workloads::{all, find, PatternClass};

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[test]
fn names_are_unique_and_kebab_case() {
    let mut names: Vec<&str> = all().iter().map(|w| w.name).collect();
    for n in &names {
        assert!(is_kebab(n), "{n} is not kebab-case");
    }
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "duplicate workload names");
}

#[test]
fn find_returns_each_workload() {
    for w in all() {
        assert_eq!(find(w.name).map(|f| f.name), Some(w.name));
    }
    assert!(find("no-such-workload").is_none());
}

#[test]
fn descriptions_are_one_line() {
    for w in all() {
        assert!(
            !w.description.is_empty() && !w.description.contains('\n'),
            "{}",
            w.name
        );
    }
}

/// Workloads that run a fixed number of threads of their own and so take no
/// `--threads`: the latency probe (a producer and a consumer) and the server.
const FIXED_THREADS: &[(&str, usize)] = &[("latency", 2), ("server-churn", 4)];

#[test]
fn parameters_are_sane() {
    for w in all() {
        for p in [w.quick, w.default] {
            assert!(
                p.iterations > 0 && p.min_size > 0 && p.min_size <= p.max_size,
                "{}: {p:?}",
                w.name
            );
            if w.multithreaded {
                assert_eq!(
                    p.threads, 2,
                    "{}: multi-threaded workloads default to 2 threads",
                    w.name
                );
            } else if let Some((_, fixed)) = FIXED_THREADS.iter().find(|(n, _)| *n == w.name) {
                assert_eq!(p.threads, *fixed, "{}: runs its own fixed threads", w.name);
            } else {
                assert_eq!(p.threads, 1, "{}", w.name);
            }
        }
        assert!(w.quick.iterations <= w.default.iterations, "{}", w.name);
    }
}

#[test]
fn hidden_helpers_exist_and_everything_else_is_visible() {
    let hidden: Vec<&str> = all().iter().filter(|w| w.hidden).map(|w| w.name).collect();
    assert_eq!(hidden, ["crash", "hang"]);
    assert!(all().iter().filter(|w| !w.hidden).count() >= 16);
}

#[test]
fn every_class_has_a_workload() {
    for c in PatternClass::ALL {
        assert!(
            all().iter().any(|w| !w.hidden && w.class == c),
            "no workload of class {c}"
        );
    }
}

#[test]
fn pattern_class_names_round_trip() {
    for c in PatternClass::ALL {
        assert_eq!(PatternClass::from_name(c.name()), Some(c));
        assert!(is_kebab(c.name()));
    }
    assert_eq!(
        PatternClass::SingleThreadSmall.name(),
        "single-thread-small"
    );
    assert_eq!(PatternClass::from_name("Fragmentation"), None);
}
