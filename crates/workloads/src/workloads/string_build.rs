//! string-build: `String`s built with `push_str` and `format!`, as in logging and templating.
//!
//! Each iteration builds a record line of `min_size..=max_size` `key=value`
//! fields with `push_str` and `format!`, wraps it in another `format!`, and
//! keeps it; every 64 lines are joined into one text and dropped.
//!
//! `iterations` = lines built; `operations` counts the strings created.

use std::fmt::Write as _;
use std::hint::black_box;

use crate::{Checksum, Outcome, Params, Rng};

/// Field names to pick from.
const WORDS: [&str; 16] = [
    "id",
    "user",
    "session",
    "path",
    "method",
    "status",
    "latency_us",
    "bytes",
    "region",
    "host",
    "agent",
    "referrer",
    "trace",
    "span",
    "cache",
    "retry",
];

/// Lines joined into one text.
const LINES_PER_TEXT: usize = 64;

/// Runs string-build.
pub fn run(p: &Params) -> Outcome {
    let mut rng = Rng::new(p.seed);
    let mut sum = Checksum::new();
    let mut strings = 0u64;
    let mut lines: Vec<String> = Vec::new();
    let digest = |text: &str, sum: &mut Checksum| {
        let b = text.as_bytes();
        sum.add(((b.len() as u64) << 16) | (u64::from(b[0]) << 8) | u64::from(b[b.len() - 1]));
    };
    for it in 0..p.iterations {
        let fields = rng.range(p.min_size.max(1), p.max_size.max(1));
        let mut body = String::new();
        strings += 1;
        for f in 0..fields {
            if f > 0 {
                body.push_str(", ");
            }
            body.push_str(WORDS[rng.index(WORDS.len())]);
            body.push('=');
            let value = match rng.below(3) {
                0 => format!("{}", rng.below(1_000_000)),
                1 => format!("{:.3}", rng.below(1_000_000) as f64 / 1000.0),
                _ => format!(
                    "\"{}-{:x}\"",
                    WORDS[rng.index(WORDS.len())],
                    rng.next_u64() >> 40
                ),
            };
            strings += 1;
            body.push_str(&value);
        }
        let mut line = format!("[{it:08}] level=info {body}");
        let _ = write!(line, " len={}", body.len());
        strings += 1;
        digest(&line, &mut sum);
        lines.push(line);
        if lines.len() == LINES_PER_TEXT {
            let text = black_box(lines.join("\n"));
            strings += 1;
            digest(&text, &mut sum);
            lines.clear();
        }
    }
    Outcome {
        operations: strings,
        checksum: sum.value(),
    }
}
