//! json-roundtrip: serde_json serialize, parse and re-serialize a realistic document.
//!
//! Each iteration generates a document shaped like an API response — users
//! with nested addresses, tag arrays and orders of line items, with strings,
//! integers, floats, booleans and nulls — serializes it with derived
//! `Serialize`, parses the text into a `serde_json::Value`, edits the tree,
//! serializes the `Value`, and parses that text back into the typed structs.
//!
//! `iterations` = documents; users per document in `min_size..=max_size`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Checksum, Outcome, Params, Rng};

/// Words used for names, streets, tags and SKUs.
const WORDS: [&str; 20] = [
    "alder", "birch", "cedar", "dogwood", "elm", "fir", "ginkgo", "hazel", "ironwood", "juniper",
    "kauri", "larch", "maple", "nutmeg", "oak", "pine", "quince", "rowan", "spruce", "willow",
];

/// The root of a document.
#[derive(Serialize, Deserialize)]
struct Document {
    api_version: String,
    page: u32,
    users: Vec<User>,
    next_cursor: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct User {
    id: u64,
    name: String,
    email: String,
    active: bool,
    score: f64,
    tags: Vec<String>,
    address: Address,
    orders: Vec<Order>,
}

#[derive(Serialize, Deserialize)]
struct Address {
    street: String,
    city: String,
    zip: String,
    geo: [f64; 2],
}

#[derive(Serialize, Deserialize)]
struct Order {
    id: u64,
    total_cents: u64,
    note: Option<String>,
    items: Vec<Item>,
}

#[derive(Serialize, Deserialize)]
struct Item {
    sku: String,
    quantity: u32,
    price_cents: u64,
}

fn word(rng: &mut Rng) -> &'static str {
    WORDS[rng.index(WORDS.len())]
}

fn generate(rng: &mut Rng, users: usize, page: u32) -> Document {
    let users = (0..users)
        .map(|u| {
            let first = word(rng);
            let last = word(rng);
            let orders = (0..rng.range(0, 4))
                .map(|o| {
                    let items: Vec<Item> = (0..rng.range(1, 5))
                        .map(|_| Item {
                            sku: format!("{}-{:05}", word(rng).to_uppercase(), rng.below(100_000)),
                            quantity: rng.range(1, 9) as u32,
                            price_cents: rng.below(50_000),
                        })
                        .collect();
                    Order {
                        id: (u as u64) << 8 | o as u64,
                        total_cents: items
                            .iter()
                            .map(|i| u64::from(i.quantity) * i.price_cents)
                            .sum(),
                        note: rng
                            .chance(1, 3)
                            .then(|| format!("deliver to the {} door", word(rng))),
                        items,
                    }
                })
                .collect();
            User {
                id: rng.next_u64() >> 20,
                name: format!("{first} {last}"),
                email: format!("{first}.{last}{}@example.com", rng.below(100)),
                active: rng.chance(4, 5),
                score: rng.below(1_000_000) as f64 / 100.0,
                tags: (0..rng.range(0, 6))
                    .map(|_| word(rng).to_string())
                    .collect(),
                address: Address {
                    street: format!("{} {} Street", rng.range(1, 999), word(rng)),
                    city: word(rng).to_string(),
                    zip: format!("{:05}", rng.below(100_000)),
                    geo: [
                        rng.below(180_000_000) as f64 / 1e6 - 90.0,
                        rng.below(360_000_000) as f64 / 1e6 - 180.0,
                    ],
                },
                orders,
            }
        })
        .collect();
    Document {
        api_version: "2.1".to_string(),
        page,
        users,
        next_cursor: rng.chance(1, 2).then(|| format!("{:016x}", rng.next_u64())),
    }
}

/// Runs json-roundtrip.
pub fn run(p: &Params) -> Outcome {
    let mut rng = Rng::new(p.seed);
    let mut sum = Checksum::new();
    for page in 0..p.iterations {
        let users = rng.range(p.min_size.max(1), p.max_size.max(1));
        let doc = generate(&mut rng, users, page as u32);
        let text = serde_json::to_string(&doc).expect("serializing a document");
        drop(doc);
        let mut value: Value = serde_json::from_str(&text).expect("parsing a generated document");
        if let Some(Value::Array(users)) = value.get_mut("users") {
            for user in users.iter_mut() {
                if let Some(obj) = user.as_object_mut() {
                    obj.insert("checked".to_string(), Value::Bool(true));
                }
            }
        }
        let text2 = serde_json::to_string(&value).expect("serializing a Value");
        drop(value);
        let back: Document = serde_json::from_str(&text2).expect("parsing an edited document");
        let orders: usize = back.users.iter().map(|u| u.orders.len()).sum();
        let ids = back.users.iter().fold(0u64, |a, u| a.wrapping_add(u.id));
        sum.add(text.len() as u64);
        sum.add(text2.len() as u64);
        sum.add(ids ^ ((orders as u64) << 32) ^ u64::from(back.page));
    }
    // Operations: documents processed (three serde passes each).
    Outcome {
        operations: p.iterations,
        checksum: sum.value(),
    }
}
