//! Runner placeholder (being written).

fn main() {}
