//! arc-channel: `Box` and `Arc` messages through `std::sync::mpsc`, dropped on the receiver.
//!
//! Producers build messages (a payload with a `Vec<u8>` of `min_size..=max_size`
//! bytes and a `String` name), alternately boxed and shared in an `Arc` whose
//! other reference the producer keeps in a small ring for a while. A consumer
//! thread receives and drops them, so payloads are freed on another thread; for
//! `Arc`s whichever side drops last frees.
//!
//! `iterations` = messages in total; `threads` = total threads, split into
//! `max(1, threads / 2)` producer/consumer pairs (message `i` goes to pair
//! `i % pairs`, so the checksum does not depend on `threads`).

use std::sync::{mpsc, Arc};
use std::thread;

use super::join_sums;
use crate::{Checksum, Outcome, Params, Rng};

/// Messages in flight per channel.
const IN_FLIGHT: usize = 1024;
/// `Arc`s a producer keeps alive after sending them.
const KEPT: usize = 16;

/// What is sent.
struct Payload {
    id: u64,
    name: String,
    data: Vec<u8>,
}

impl Payload {
    fn new(id: u64, p: &Params) -> Payload {
        let mut rng = Rng::stream(p.seed, id);
        let len = rng.range(p.min_size.max(1), p.max_size.max(1));
        let data = vec![rng.next_u64() as u8 | 1; len];
        Payload {
            id,
            name: format!("msg-{id}"),
            data,
        }
    }

    fn digest(&self) -> u64 {
        self.id
            ^ ((self.data.len() as u64) << 40)
            ^ (u64::from(self.data[0]) << 32)
            ^ ((self.name.len() as u64) << 48)
    }
}

/// One message.
enum Message {
    Boxed(Box<Payload>),
    Shared(Arc<Payload>),
}

/// Runs arc-channel.
pub fn run(p: &Params) -> Outcome {
    let pairs = (p.threads / 2).max(1);
    let sum = thread::scope(|s| {
        let consumers: Vec<_> = (0..pairs)
            .map(|k| {
                let (tx, rx) = mpsc::sync_channel::<Message>(IN_FLIGHT);
                s.spawn(move || {
                    let mut kept: Vec<Arc<Payload>> = Vec::with_capacity(KEPT);
                    let mut i = k as u64;
                    while i < p.iterations {
                        let payload = Payload::new(i, p);
                        let msg = if i % 2 == 0 {
                            Message::Boxed(Box::new(payload))
                        } else {
                            let shared = Arc::new(payload);
                            if kept.len() == KEPT {
                                kept.swap_remove((i as usize / 2) % KEPT);
                            }
                            kept.push(Arc::clone(&shared));
                            Message::Shared(shared)
                        };
                        if tx.send(msg).is_err() {
                            break;
                        }
                        i += pairs as u64;
                    }
                });
                s.spawn(move || {
                    let mut sum = Checksum::new();
                    for msg in rx {
                        match msg {
                            Message::Boxed(b) => sum.add(b.digest()),
                            Message::Shared(a) => sum.add(a.digest()),
                        }
                    }
                    sum
                })
            })
            .collect();
        join_sums(consumers)
    });
    // Per message: payload box/arc, name and data allocated, and all three freed.
    Outcome {
        operations: 6 * p.iterations,
        checksum: sum.value(),
    }
}
