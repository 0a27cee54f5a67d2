//! Criterion micro-benchmarks of the backend selected by this crate's feature
//! (installed as the real global allocator): an alloc+free pair per size
//! class, `realloc` growth of a `Vec`, and a batch of allocations freed together.
//! `cargo xtask bench-micro` runs this binary once per backend.

use std::alloc::{alloc, dealloc, Layout};
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

#[global_allocator]
static GLOBAL: allocmux::Allocator = allocmux::Allocator;

/// Sizes that land in different size classes of every backend (tiny, small,
/// medium, page-sized, large, huge).
const SIZES: [usize; 8] = [8, 16, 64, 256, 1024, 4096, 65_536, 1 << 20];

fn alloc_free(c: &mut Criterion) {
    let mut group = c.benchmark_group("alloc_free");
    group.throughput(Throughput::Elements(1));
    for size in SIZES {
        let layout = Layout::from_size_align(size, 8).expect("valid layout");
        group.bench_with_input(BenchmarkId::from_parameter(size), &layout, |b, &layout| {
            b.iter(|| {
                // SAFETY: the layout has a non-zero size; the block is freed with it.
                unsafe {
                    let p = alloc(black_box(layout));
                    black_box(p);
                    if !p.is_null() {
                        dealloc(p, layout);
                    }
                }
            })
        });
    }
    group.finish();
}

fn realloc_growth(c: &mut Criterion) {
    let mut group = c.benchmark_group("realloc_growth");
    for limit in [4096usize, 1 << 20] {
        group.throughput(Throughput::Bytes(limit as u64));
        group.bench_with_input(BenchmarkId::from_parameter(limit), &limit, |b, &limit| {
            b.iter(|| {
                let mut v: Vec<u8> = Vec::new();
                for i in 0..limit {
                    v.push(i as u8);
                }
                black_box(v)
            })
        });
    }
    group.finish();
}

fn batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch_alloc_then_free");
    for (count, size) in [(1000usize, 64usize), (1000, 1024)] {
        group.throughput(Throughput::Elements(count as u64));
        group.bench_with_input(
            BenchmarkId::new(format!("{size}B"), count),
            &(count, size),
            |b, &(count, size)| {
                let mut blocks: Vec<Box<[u8]>> = Vec::with_capacity(count);
                b.iter(|| {
                    for i in 0..count {
                        blocks.push(vec![i as u8; size].into_boxed_slice());
                    }
                    blocks.clear();
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, alloc_free, realloc_growth, batch);
criterion_main!(benches);
