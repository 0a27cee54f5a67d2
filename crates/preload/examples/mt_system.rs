//! A multithreaded Rust program on the **system** allocator (no `#[global_allocator]`),
//! for `cargo xtask preload-check`: run with a preloaded allocmux library, its
//! `malloc`/`free` calls (through `std::alloc::System`) go to that library's backend. Rounds of
//! threads are created and destroyed; boxes, strings and vectors move between threads
//! through channels (cross-thread frees); the output is a deterministic checksum.

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc;
use std::thread;

fn lcg(s: &mut u64) -> u64 {
    *s = s
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *s >> 33
}

fn main() {
    let mut total: u64 = 0;
    for round in 0..20u64 {
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let workers: Vec<_> = (0..8u64)
            .map(|t| {
                let tx = tx.clone();
                thread::spawn(move || {
                    let mut seed = round * 100 + t;
                    let mut map: HashMap<u64, String> = HashMap::new();
                    let mut tree: BTreeMap<String, Box<[u64]>> = BTreeMap::new();
                    let mut sum = 0u64;
                    for i in 0..20_000u64 {
                        let r = lcg(&mut seed);
                        let size = if r % 100 == 0 {
                            100_000 + r % 900_000
                        } else {
                            r % 2000
                        };
                        let v = vec![(i % 251) as u8; size as usize];
                        if i % 4 == 0 {
                            tx.send(v).expect("receiver alive"); // freed by the main thread
                        } else {
                            sum += v.len() as u64;
                        }
                        map.insert(r % 5000, format!("{r:x}-{i}"));
                        if i % 7 == 0 {
                            tree.insert(
                                format!("k{}", r % 3000),
                                vec![i; (r % 64) as usize].into(),
                            );
                        }
                        if i % 11 == 0 {
                            map.remove(&(r % 5000 / 2));
                        }
                    }
                    sum + map.values().map(|s| s.len() as u64).sum::<u64>()
                        + tree.values().map(|b| b.len() as u64).sum::<u64>()
                })
            })
            .collect();
        drop(tx);
        let received: u64 = rx
            .iter()
            .map(|v| v.len() as u64 + v.first().copied().unwrap_or(0) as u64)
            .sum();
        let produced: u64 = workers.into_iter().map(|w| w.join().expect("worker")).sum();
        total = total.wrapping_mul(31).wrapping_add(received ^ produced);
    }
    println!("mt_system checksum {total}");
}
