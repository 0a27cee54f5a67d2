//! Prints the backend this build of the façade allocates with.
//!
//! `cargo run -p allocmux --example which --features mimalloc` prints `mimalloc`.

#[global_allocator]
static GLOBAL: allocmux::Allocator = allocmux::Allocator;

fn main() {
    let version = allocmux::backend_version().unwrap_or_else(|| "version unknown".into());
    // Allocate something so the line is produced through the chosen allocator.
    let line = format!("{} ({version})", allocmux::BACKEND);
    println!("{line}");
}
