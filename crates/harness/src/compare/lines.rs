//! The one-line proofs programs print about their allocator — the façade's
//! start-up line (`allocmux: backend=… global=… pid=…`) and the preload
//! libraries' exit line (`allocmux-preload: backend=… pid=… served=…`) — read
//! into key/value lookups and found for the very process a run started.

/// A kind of proof line: the text every such line starts with.
#[derive(Debug, Clone, Copy)]
pub struct LineKind {
    /// `allocmux: `, `allocmux-preload: `.
    pub prefix: &'static str,
}

impl LineKind {
    /// Every line of this kind in `text`.
    pub fn read(self, text: &str) -> Vec<TaggedLine> {
        read(text, self.prefix)
    }

    /// `text` without lines of this kind (for error messages).
    pub fn strip(self, text: &str) -> String {
        strip(text, self.prefix)
    }

    /// The line of process `pid` in `text`; `missing` says why there is none
    /// when no line of this kind was printed at all.
    pub fn of_pid(
        self,
        text: &str,
        pid: u32,
        missing: impl FnOnce() -> String,
    ) -> Result<TaggedLine, String> {
        of_pid(&self.read(text), pid, self.prefix, missing).cloned()
    }
}

/// One `<prefix>key=value key=value …` line that names a pid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedLine {
    /// The whole line, as printed.
    pub line: String,
    /// Its `pid=`.
    pub pid: u32,
    fields: Vec<(String, String)>,
}

impl TaggedLine {
    /// The value of `key=`, if the line has one.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Every line of `text` that starts with `prefix` and names a pid.
pub fn read(text: &str, prefix: &str) -> Vec<TaggedLine> {
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(prefix)?;
            let fields: Vec<(String, String)> = rest
                .split_whitespace()
                .filter_map(|w| w.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            let pid = fields.iter().find(|(k, _)| k == "pid")?.1.parse().ok()?;
            Some(TaggedLine {
                line: line.to_owned(),
                pid,
                fields,
            })
        })
        .collect()
}

/// `text` without the lines that start with `prefix` (for error messages).
pub fn strip(text: &str, prefix: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with(prefix))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The line of process `pid` among `all`; when there is none, `missing` says
/// why if no line was printed at all, else the lines seen are listed.
pub fn of_pid<'a>(
    all: &'a [TaggedLine],
    pid: u32,
    prefix: &str,
    missing: impl FnOnce() -> String,
) -> Result<&'a TaggedLine, String> {
    match all.iter().find(|l| l.pid == pid) {
        Some(l) => Ok(l),
        None if all.is_empty() => Err(missing()),
        None => Err(format!(
            "no `{}` line from the process started (pid {pid}); lines seen: {}",
            prefix.trim_end(),
            all.iter()
                .map(|l| l.line.as_str())
                .collect::<Vec<_>>()
                .join(" | ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_by_key_and_pid() {
        let text = "noise\nx: a=1 pid=42 b=two\nx: pid=oops\ny: pid=7\n";
        let all = read(text, "x: ");
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].get("b"), Some("two"));
        assert_eq!(of_pid(&all, 42, "x: ", String::new).unwrap().pid, 42);
        assert!(of_pid(&all, 5, "x: ", String::new)
            .unwrap_err()
            .contains("lines seen: x: a=1"));
        assert_eq!(of_pid(&[], 5, "x: ", || "none".into()).unwrap_err(), "none");
        assert_eq!(strip(text, "x: "), "noise\ny: pid=7");
    }
}
