//! This process's resident memory: the peak (`VmHWM`),
//! the current value from `/proc/self/statm`, and the part freed with
//! `MADV_FREE` but not yet reclaimed (`LazyFree` of `/proc/self/smaps_rollup`).

/// The process's peak RSS in bytes: `VmHWM` of `/proc/self/status` (this
/// address space's high-water mark), else `getrusage`'s `ru_maxrss`, else 0.
///
/// Not `ru_maxrss` first: Linux carries the *parent's* resident size at the
/// moment of `fork`/`posix_spawn` into the child's `ru_maxrss` across `exec`,
/// so a runner started by a 200 MiB harness would report at least 200 MiB.
pub fn peak_rss_bytes() -> u64 {
    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                let kib: u64 = l
                    .strip_prefix("VmHWM:")?
                    .split_whitespace()
                    .next()?
                    .parse()
                    .ok()?;
                Some(kib * 1024)
            })
        });
    hwm.unwrap_or_else(rusage_peak)
}

/// `getrusage(RUSAGE_SELF).ru_maxrss` in bytes (0 if it fails).
fn rusage_peak() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` points to writable memory of the size of `rusage`, which
    // `getrusage` fills on success; we read it only after checking the result.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return 0;
    }
    // SAFETY: `getrusage` returned 0, so it initialised `usage`.
    let usage = unsafe { usage.assume_init() };
    let max = u64::try_from(usage.ru_maxrss).unwrap_or(0);
    // Linux reports kilobytes, macOS bytes.
    if cfg!(target_os = "macos") {
        max
    } else {
        max * 1024
    }
}

/// Resident bytes now (`/proc/self/statm`), or `None` where `/proc` is missing.
pub fn resident_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: `sysconf` only reads a configuration value.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

/// Bytes counted as resident but already given back with `MADV_FREE`
/// (`LazyFree` in `/proc/self/smaps_rollup`, kernel ≥ 4.14); 0 when unknown.
pub fn lazy_free_bytes() -> u64 {
    let text = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap_or_default();
    text.lines()
        .find_map(|l| {
            let rest = l.strip_prefix("LazyFree:")?;
            rest.split_whitespace().next()?.parse::<u64>().ok()
        })
        .map_or(0, |kib| kib * 1024)
}
