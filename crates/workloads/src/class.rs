//! The pattern classes that group workloads in the matrix and the report.

use std::fmt;

/// What kind of allocation pattern a workload stresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PatternClass {
    /// Many small, short-lived allocations in one thread (the fast path).
    SingleThreadSmall,
    /// Some threads allocate, other threads free.
    ProducerConsumer,
    /// Blocks allocated in one thread are freed in another.
    CrossThreadFree,
    /// Mixed sizes and lifetimes with a retained working set.
    Fragmentation,
    /// Multi-MiB blocks (the mmap path).
    LargeObjects,
    /// Tiny objects of different threads written repeatedly.
    FalseSharing,
    /// Allocation patterns of idiomatic Rust (Vec, String, maps, Arc, serde).
    RustIdioms,
    /// Single allocation calls timed one by one: the tail users feel.
    Latency,
}

impl PatternClass {
    /// Every class, in report order.
    pub const ALL: [PatternClass; 8] = [
        PatternClass::SingleThreadSmall,
        PatternClass::ProducerConsumer,
        PatternClass::CrossThreadFree,
        PatternClass::Fragmentation,
        PatternClass::LargeObjects,
        PatternClass::FalseSharing,
        PatternClass::RustIdioms,
        PatternClass::Latency,
    ];

    /// The kebab-case name (`"single-thread-small"` …).
    pub const fn name(self) -> &'static str {
        match self {
            PatternClass::SingleThreadSmall => "single-thread-small",
            PatternClass::ProducerConsumer => "producer-consumer",
            PatternClass::CrossThreadFree => "cross-thread-free",
            PatternClass::Fragmentation => "fragmentation",
            PatternClass::LargeObjects => "large-objects",
            PatternClass::FalseSharing => "false-sharing",
            PatternClass::RustIdioms => "rust-idioms",
            PatternClass::Latency => "latency",
        }
    }

    /// The class with kebab-case name `name`, if any.
    pub fn from_name(name: &str) -> Option<PatternClass> {
        PatternClass::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for PatternClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in PatternClass::ALL {
            assert_eq!(PatternClass::from_name(c.name()), Some(c));
            assert_eq!(c.to_string(), c.name());
        }
        assert_eq!(PatternClass::from_name("no-such-class"), None);
    }
}
