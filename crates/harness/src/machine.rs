//! Describes the machine the numbers come from (CPU, cores, memory, OS,
//! kernel, compiler): results without their machine are not results.

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
        rustc,
    }
}

#[cfg(test)]
mod tests {
    use super::field;

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
}
