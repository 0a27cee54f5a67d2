//! The workloads crate's integration tests, gathered in one binary to keep link time down.

mod golden;
mod registry;
