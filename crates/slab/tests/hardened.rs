//! Hardened mode (`--features hardened`): deliberate heap misuse must abort (SIGABRT)
//! with a one-line message naming the problem, never corrupt silently. Each misuse runs
//! in a child process: the test re-executes its own binary with `ALLOCMUX_HARDENED_CASE`
//! set, the child performs the misuse through `SlabAlloc` (used directly, not as the
//! global allocator), and the parent checks the signal and stderr.
#![cfg(feature = "hardened")]

use std::alloc::{GlobalAlloc, Layout};
use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use allocmux_slab::SlabAlloc;

const CASE_VAR: &str = "ALLOCMUX_HARDENED_CASE";

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 8).unwrap()
}

/// The misuse scenarios, run in the child.
fn misuse(case: &str) {
    let a = SlabAlloc;
    // SAFETY: none — each case deliberately breaks the allocator's contract; the
    // hardened allocator must abort before anything is corrupted.
    unsafe {
        match case {
            "double_free" => {
                let p = a.alloc(layout(48));
                a.dealloc(p, layout(48));
                a.dealloc(p, layout(48));
            }
            "double_free_remote" => {
                // Both frees come from other threads; the owner catches the second one
                // when it processes its remote frees.
                let p = a.alloc(layout(100)) as usize;
                for _ in 0..2 {
                    std::thread::spawn(move || a.dealloc(p as *mut u8, layout(100)))
                        .join()
                        .unwrap();
                }
                allocmux_slab::collect();
            }
            "double_free_remote_then_local" => {
                // Another thread frees the block; the owner frees it too before it has
                // drained the first free: caught at the owner's free.
                let p = a.alloc(layout(100)) as usize;
                std::thread::spawn(move || a.dealloc(p as *mut u8, layout(100)))
                    .join()
                    .unwrap();
                a.dealloc(p as *mut u8, layout(100));
            }
            "double_free_remote_race" => {
                // Two threads free the block at the same time and both pass their own
                // check (the second read the cookie word before the first wrote it;
                // clearing the word stands in for that): the owner catches the second
                // copy when it drains them.
                let p = a.alloc(layout(100)) as usize;
                std::thread::spawn(move || a.dealloc(p as *mut u8, layout(100)))
                    .join()
                    .unwrap();
                (p as *mut usize).add(1).write(0);
                std::thread::spawn(move || a.dealloc(p as *mut u8, layout(100)))
                    .join()
                    .unwrap();
                allocmux_slab::collect();
            }
            "double_free_large" => {
                let p = a.alloc(layout(3 << 20));
                a.dealloc(p, layout(3 << 20));
                a.dealloc(p, layout(3 << 20));
            }
            "wild_pointer" => {
                a.dealloc(0x5a5a_0000_1230usize as *mut u8, layout(16));
            }
            "foreign_pointer" => {
                // A block from another allocator (glibc's malloc).
                let p = libc::malloc(64) as *mut u8;
                a.dealloc(p, layout(64));
            }
            "interior_pointer" => {
                let p = a.alloc(layout(64));
                a.dealloc(p.add(8), layout(64));
            }
            "overwritten_link" => {
                // A use-after-free write over a freed block's link, then enough
                // allocations of the class that the block's list is popped again.
                let p = a.alloc(layout(64));
                a.dealloc(p, layout(64));
                (p as *mut usize).write(0x4141_4141_4141_4141);
                for _ in 0..100_000 {
                    let q = a.alloc(layout(64));
                    assert!(!q.is_null());
                }
            }
            "interior_pointer_remote" => {
                // Freed by another thread: the owner rejects it when it drains its
                // remote frees.
                let p = a.alloc(layout(64)) as usize;
                std::thread::spawn(move || a.dealloc((p + 16) as *mut u8, layout(64)))
                    .join()
                    .unwrap();
                allocmux_slab::collect();
            }
            "overwritten_large_header" => {
                // An underflow out of a large object over its header (the page below).
                let p = a.alloc(layout(3 << 20));
                let header = (p as usize & !((4 << 20) - 1)) as *mut usize;
                header.add(8).write(0x4141_4141);
                a.dealloc(p, layout(3 << 20));
            }
            "segment_guard" => {
                // Writing just below a segment's first span hits the guard page that
                // ends the metadata slot: the process must die, not corrupt metadata.
                let p = a.alloc(layout(64)) as usize;
                let seg = p & !((4 << 20) - 1);
                ((seg + (64 << 10) - 8) as *mut usize).write(0);
            }
            other => panic!("unknown case {other}"),
        }
    }
}

/// Runs `case` in a child process; asserts it died of SIGABRT saying `expect`.
fn expect_abort(test: &str, case: &str, expect: &str) {
    let Some(stderr) = run_case(test, case, libc::SIGABRT) else {
        return;
    };
    let line = stderr
        .lines()
        .find(|l| l.starts_with("allocmux-slab: "))
        .unwrap_or_else(|| panic!("{case}: no allocmux-slab message; stderr:\n{stderr}"));
    assert!(
        line.contains(expect),
        "{case}: message {line:?} should say {expect:?}"
    );
}

/// Runs `case` in a child process (or, in the child, the misuse itself) and asserts the
/// child died of `signal`; returns its stderr (`None` in the child).
fn run_case(test: &str, case: &str, signal: i32) -> Option<String> {
    if let Ok(c) = std::env::var(CASE_VAR) {
        if c == case {
            misuse(case);
            // Still alive: the misuse went undetected.
            std::process::exit(0);
        }
        return None;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CASE_VAR, case)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.signal(),
        Some(signal),
        "{case}: expected signal {signal}, got {:?}; stderr:\n{stderr}",
        out.status
    );
    Some(stderr)
}

#[test]
fn double_free_aborts() {
    expect_abort("double_free_aborts", "double_free", "double free detected");
}

#[test]
fn remote_double_free_aborts() {
    expect_abort(
        "remote_double_free_aborts",
        "double_free_remote",
        "double free detected",
    );
}

#[test]
fn remote_then_local_double_free_aborts() {
    expect_abort(
        "remote_then_local_double_free_aborts",
        "double_free_remote_then_local",
        "double free detected",
    );
}

#[test]
fn racing_remote_double_free_aborts_at_the_drain() {
    expect_abort(
        "racing_remote_double_free_aborts_at_the_drain",
        "double_free_remote_race",
        "double free detected",
    );
}

#[test]
fn large_double_free_aborts() {
    expect_abort(
        "large_double_free_aborts",
        "double_free_large",
        "double free detected",
    );
}

#[test]
fn wild_pointer_free_aborts() {
    expect_abort("wild_pointer_free_aborts", "wild_pointer", "does not own");
}

#[test]
fn foreign_pointer_free_aborts() {
    expect_abort(
        "foreign_pointer_free_aborts",
        "foreign_pointer",
        "does not own",
    );
}

#[test]
fn interior_pointer_free_aborts() {
    expect_abort(
        "interior_pointer_free_aborts",
        "interior_pointer",
        "not the start of a block",
    );
}

#[test]
fn overwritten_free_list_link_aborts() {
    expect_abort(
        "overwritten_free_list_link_aborts",
        "overwritten_link",
        "corrupted free list",
    );
}

#[test]
fn remote_interior_pointer_free_aborts() {
    expect_abort(
        "remote_interior_pointer_free_aborts",
        "interior_pointer_remote",
        "not the start of a block",
    );
}

#[test]
fn overwritten_large_header_aborts() {
    expect_abort(
        "overwritten_large_header_aborts",
        "overwritten_large_header",
        "corrupted large-object header",
    );
}

#[test]
fn segment_metadata_guard_page_faults() {
    run_case(
        "segment_metadata_guard_page_faults",
        "segment_guard",
        libc::SIGSEGV,
    );
}
