//! Describes the machine the numbers come from (CPU, cores, memory, OS,
//! kernel and its huge page mode, compiler): results without their machine are
//! not results.

use std::process::Command;

use crate::results::Machine;

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The value of the first `key: value` line whose key is `key`.
fn field<'a>(text: &'a str, key: &str, sep: char) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(sep)?;
        (k.trim() == key).then(|| v.trim())
    })
}

impl Machine {
    /// The machine in one phrase, as every report states it: "CPU, N logical CPUs, M
    /// memory" ("unknown CPU" when the model could not be read).
    pub fn summary(&self) -> String {
        format!(
            "{}, {} logical CPUs, {} memory",
            if self.cpu_model.is_empty() {
                "unknown CPU"
            } else {
                &self.cpu_model
            },
            self.cores,
            crate::report::bytes(self.memory_bytes)
        )
    }

    /// The kernel in one phrase, as every report states it: "kernel R, transparent huge
    /// pages M" (the mode left out when unknown).
    pub fn kernel_phrase(&self) -> String {
        if self.transparent_huge_pages.is_empty() {
            format!("kernel {}", self.kernel)
        } else {
            format!(
                "kernel {}, transparent huge pages {}",
                self.kernel, self.transparent_huge_pages
            )
        }
    }
}

/// The selected mode of a sysfs choice list such as `always [madvise] never`: the word
/// in brackets.
fn selected(text: &str) -> Option<&str> {
    text.split_whitespace()
        .find_map(|w| w.strip_prefix('[')?.strip_suffix(']'))
}

/// Reads the description of this machine; unknown parts stay empty.
pub fn describe() -> Machine {
    let cpuinfo = read("/proc/cpuinfo");
    let meminfo = read("/proc/meminfo");
    let os_release = read("/etc/os-release");
    let memory_kib: u64 = field(&meminfo, "MemTotal", ':')
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let rustc = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    Machine {
        cpu_model: field(&cpuinfo, "model name", ':')
            .unwrap_or("unknown")
            .to_owned(),
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        memory_bytes: memory_kib * 1024,
        os: field(&os_release, "PRETTY_NAME", '=')
            .map(|v| v.trim_matches('"').to_owned())
            .unwrap_or_else(|| std::env::consts::OS.to_owned()),
        kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
        transparent_huge_pages: selected(&read("/sys/kernel/mm/transparent_hugepage/enabled"))
            .unwrap_or_default()
            .to_owned(),
        rustc,
    }
}

#[cfg(test)]
mod tests {
    use super::{field, selected};
    use crate::results::Machine;

    #[test]
    fn finds_fields() {
        let text = "processor\t: 0\nmodel name\t: Some CPU @ 2.0GHz\n";
        assert_eq!(field(text, "model name", ':'), Some("Some CPU @ 2.0GHz"));
        assert_eq!(
            field("NAME=\"x\"\nPRETTY_NAME=\"Debian 12\"", "PRETTY_NAME", '='),
            Some("\"Debian 12\"")
        );
        assert_eq!(field(text, "flags", ':'), None);
    }

    #[test]
    fn summary_names_an_unreadable_cpu() {
        let m = Machine {
            cpu_model: String::new(),
            cores: 2,
            memory_bytes: 24 << 30,
            os: "Debian".into(),
            kernel: "6.1".into(),
            transparent_huge_pages: String::new(),
            rustc: "rustc 1.0".into(),
        };
        assert_eq!(m.summary(), "unknown CPU, 2 logical CPUs, 24.0 GiB memory");
        assert_eq!(m.kernel_phrase(), "kernel 6.1");
        let m = Machine {
            transparent_huge_pages: "madvise".into(),
            ..m
        };
        assert_eq!(
            m.kernel_phrase(),
            "kernel 6.1, transparent huge pages madvise"
        );
    }

    #[test]
    fn results_written_before_the_huge_page_mode_still_load() {
        let old =
            r#"{"cpu_model":"X","cores":2,"memory_bytes":1,"os":"D","kernel":"6.1","rustc":"r"}"#;
        let m: Machine = serde_json::from_str(old).expect("an older machine record loads");
        assert_eq!(m.transparent_huge_pages, "");
        assert_eq!(m.kernel_phrase(), "kernel 6.1");
    }

    #[test]
    fn reads_the_selected_huge_page_mode() {
        assert_eq!(selected("always [madvise] never\n"), Some("madvise"));
        assert_eq!(selected("[always] madvise never"), Some("always"));
        assert_eq!(selected("always madvise never"), None);
        assert_eq!(selected(""), None);
    }
}
