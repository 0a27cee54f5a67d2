//! `cargo allocmux`: placeholder.
fn main() {}
