//! Every renderer (terminal, Markdown, HTML, CSV) on the small matrix and on
//! degenerate ones: nothing ran, no system data, everything failed.

use super::super::format::recommendation_lines;
use super::super::*;
use super::sample::sample;
use super::{bad, ok, results, small, MIB};
use crate::results::RunStatus;

#[test]
fn markdown_has_the_rows_and_names_the_winner() {
    let results = small();
    let s = summarize(&results);
    let md = render_markdown(&s, &results);
    assert!(md.contains("| `larson` | cross-thread-free | 4 | 1.00× (0.90–1.10) | 1.40× (1.36–1.78) | **2.10× (1.82–2.11)** |"), "{md}");
    assert!(
        md.contains(
            "| `vec-grow` | growth | 1 | 1.00× (1.00–1.00) | **1.20× (1.15–1.25)** | TIMEOUT |"
        ),
        "{md}"
    );
    assert!(md.contains("| `json-roundtrip` | growth | 1 | FAILED | 5.00M (4.90M–5.10M) | **8.00M (7.90M–8.20M)** |"), "{md}");
    let line = md
        .lines()
        .find(|l| l.starts_with("- Fastest overall:"))
        .expect("recommendation line");
    assert!(
        line.starts_with("- Fastest overall: mimalloc, 2.10× system"),
        "{line}"
    );
    assert!(
        md.contains("- Lowest memory: jemalloc, 0.80× system peak RSS"),
        "{md}"
    );
    assert!(md.contains("No system data for `json-roundtrip`"), "{md}");
    assert!(md.contains("killed after 60 s"));
    assert!(md.contains("  second line | with pipe"));
    assert!(md.contains("## Micro-benchmarks"));
    assert!(md.contains("AMD EPYC 7B13, 16 logical CPUs, 64.0 GiB memory"));
    assert!(
        md.contains("kernel 6.1.0-18-amd64, transparent huge pages madvise"),
        "{md}"
    );
}

#[test]
fn html_is_self_contained_with_charts() {
    let results = small();
    let s = summarize(&results);
    let html = render_html(&s, &results);
    assert!(html.contains("<svg"));
    assert_eq!(html.matches("<svg").count(), 2);
    for w in ["larson", "vec-grow", "json-roundtrip"] {
        assert!(html.contains(w), "{w}");
    }
    let rest = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!rest.contains("http://") && !rest.contains("https://"));
    assert!(!rest.contains("<script") && !rest.contains("<link") && !rest.contains("src="));
    assert!(html.contains("&quot;panicked at &#39;oops&#39;&quot;"));
    assert!(html.contains("font-family=\"sans-serif\""));
    assert!(html.contains("<dt>Transparent huge pages</dt><dd>madvise</dd>"));
}

#[test]
fn csv_has_one_row_per_repetition_quoted() {
    let results = small();
    let csv = render_csv(&results);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("workload,class,backend,threads,rep,status,ops_per_sec,seconds,wall_seconds,peak_rss_bytes,checksum,error")
    );
    // 27 repetitions; one error text has a line break inside its quotes.
    let records = count_csv_records(&csv);
    assert_eq!(records, 1 + 27);
    assert!(csv.contains("larson,cross-thread-free,system,4,0,ok,110,1,1.25,104857600,65261,\n"));
    assert!(csv.contains(",timeout,,,60,,,killed after 60 s\n"));
    assert!(csv.contains(
        "\"runner exited with status 101, \"\"panicked at 'oops'\"\"\nsecond line | with pipe\""
    ));
}

/// Records of an RFC 4180 text: line breaks outside quotes.
fn count_csv_records(text: &str) -> usize {
    let mut quoted = false;
    let mut n = 0;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => n += 1,
            _ => {}
        }
    }
    n
}

#[test]
fn terminal_is_plain_and_fits() {
    let s = summarize(&sample());
    let text = terminal::render(&s, false);
    assert!(!text.contains('\x1b'));
    for line in text.lines() {
        assert!(line.chars().count() <= terminal::WIDTH, "too wide: {line}");
    }
    assert!(text.contains("TIMEOUT"));
    assert!(text.contains("Fastest overall:"));
    let small = terminal::render(&summarize(&small()), false);
    let larson = small.lines().find(|l| l.starts_with("larson ")).unwrap();
    let cells: Vec<&str> = larson
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        cells,
        [
            "larson",
            "1.00× (0.90–1.10)",
            "1.40× (1.36–1.78)",
            "2.10× (1.82–2.11)*"
        ],
        "{small}"
    );
    assert!(terminal::render(&s, true).contains("\x1b[1m"));
}

#[test]
fn write_all_writes_three_files() {
    let dir = tempfile::TempDir::with_prefix("allocmux-report-test-").unwrap();
    let text = write_all(&small(), dir.path()).unwrap();
    assert!(text.contains("larson"), "{text}");
    for f in ["results.csv", "report.md", "report.html"] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
}

#[test]
fn degenerate_matrices_render_without_panicking() {
    // Nothing ran.
    let empty = results(&["system", "jemalloc"], &[("larson", "churn")]);
    // No system allocator at all: absolute numbers, ranking against the row mean.
    let mut no_system = results(
        &["jemalloc", "mimalloc"],
        &[("larson", "churn"), ("xmalloc", "churn")],
    );
    for (w, a, b) in [("larson", 100.0, 200.0), ("xmalloc", 300.0, 150.0)] {
        for rep in 0..3 {
            no_system.runs.push(ok(w, "jemalloc", 2, rep, a, MIB));
            no_system.runs.push(ok(w, "mimalloc", 2, rep, b, 2 * MIB));
        }
    }
    // Everything failed.
    let mut all_failed = results(&["system", "slab"], &[("larson", "churn")]);
    for b in ["system", "slab"] {
        all_failed
            .runs
            .push(bad("larson", b, 1, 0, RunStatus::Failed, ""));
    }
    for r in [&empty, &no_system, &all_failed] {
        let s = summarize(r);
        let text = terminal::render(&s, false);
        let md = render_markdown(&s, r);
        let html = render_html(&s, r);
        let csv = render_csv(r);
        assert_eq!(csv.lines().count(), 1 + r.runs.len());
        assert!(html.contains("</html>"));
        assert!(md.contains("## Recommendation"));
        assert!(text.contains("allocmux bench-matrix report"));
    }
    let s = summarize(&no_system);
    assert!(!s.has_baseline());
    assert!(!s.recommendation.relative_to_system);
    // Both have geometric mean 1 against the row mean: 2× one row, 0.5× the other.
    assert!((s.recommendation.overall[0].value - 1.0).abs() < 1e-12);
    assert!(render_markdown(&s, &no_system).contains("No system data for `larson`, `xmalloc`"));
    let text = terminal::render(&s, false);
    assert!(text.contains("no system data"), "{text}");
    let s = summarize(&all_failed);
    assert!(
        recommendation_lines(&s)[0].starts_with("No recommendation"),
        "{:?}",
        recommendation_lines(&s)
    );
    assert!(render_markdown(&s, &all_failed).contains("(no error text recorded)"));
}

/// The small matrix with what every run now records: an RSS timeline, the
/// drain phase, the `stats` counters, and a latency row.
fn with_memory_and_latency() -> crate::results::MatrixResults {
    use allocmux_workloads::{IdleRss, LatencyReport, Percentiles};
    let mut r = small();
    for (i, run) in r.runs.iter_mut().enumerate() {
        let peak = (10 + i % 7) as f64 * MIB as f64;
        run.rss_timeline = vec![[0.0, 1e6], [0.5, peak], [1.0, peak / 4.0]];
        run.rss_sampled = Some(crate::sampler::RssSummary {
            peak_bytes: peak as u64,
            mean_bytes: (peak / 2.0) as u64,
            final_bytes: (peak / 4.0) as u64,
            samples: 100,
            period_ms: 10,
        });
        if let Some(rec) = run.record.as_mut() {
            rec.rss_after_idle = [0, 100, 1000]
                .into_iter()
                .map(|ms| IdleRss {
                    idle_ms: ms,
                    rss_bytes: (peak / (1.0 + ms as f64 / 100.0)) as u64,
                    lazy_free_bytes: 0,
                    backend: None,
                })
                .collect();
            rec.stats = Some(allocmux_workloads::AllocCounters {
                bytes_peak: (peak / 2.0) as u64,
                ..Default::default()
            });
        }
    }
    let p = |x: f64| Percentiles {
        count: 1000,
        p50: 10.0 * x,
        p99: 100.0 * x,
        p999: 1000.0 * x,
        max: 50_000.0 * x,
        over_10us: 3,
    };
    for (b, x) in [("system", 3.0), ("jemalloc", 1.0), ("mimalloc", 2.0)] {
        let mut run = ok("latency", b, 1, 0, 1e6, 5 * MIB);
        run.record.as_mut().unwrap().latency_ns = Some(LatencyReport {
            alloc: p(x),
            free: p(x),
            remote_free: Some(p(x)),
            timer_overhead_ns: 10.0,
        });
        r.runs.push(run);
    }
    r
}

#[test]
fn memory_and_latency_render_in_every_format() {
    let r = with_memory_and_latency();
    let s = summarize(&r);
    let lines = recommendation_lines(&s).join("\n");
    assert!(lines.contains("Returns memory fastest:"), "{lines}");
    assert!(
        lines.contains(
            "Lowest tail latency: jemalloc — p99.9 of single alloc and free calls 1000 ns"
        ),
        "{lines}"
    );
    let html = render_html(&s, &r);
    for needle in [
        "id=\"memory\"",
        "Resident memory over time",
        "id=\"latency\"",
        "Latency of single calls",
        "alloc p99.9 (ns)",
        "remote free calls over 10 µs",
    ] {
        assert!(html.contains(needle), "{needle} missing from the HTML");
    }
    // Every chart is an inline SVG: throughput bars, RSS bars, RSS over time, latency.
    assert!(html.matches("<svg").count() >= 4);
    let md = render_markdown(&s, &r);
    assert!(md.contains("## Memory over time and given back"), "{md}");
    assert!(
        md.contains("| `larson (4t)` |") || md.contains("| `larson` |"),
        "{md}"
    );
    assert!(md.contains("## Allocation latency (`latency`)"), "{md}");
    assert!(md.contains("→"), "{md}");
}

#[test]
fn several_thread_counts_get_a_panel_per_workload() {
    let r = super::sample::sample();
    let s = summarize(&r);
    let html = render_html(&s, &r);
    assert!(
        html.contains("Throughput against thread count"),
        "no scaling chart"
    );
}
