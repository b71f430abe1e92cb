//! Segment evaluation speed: 100 realistic segments against one profile with 200 past events
//! (budget: ≤ 0.2 ms for 100 rules in the page).
//!
//! `cargo bench --bench rules` (criterion prints the median as the middle of `time: [..]`).
//! The bench profile inherits the release profile (`opt-level = "z"`, LTO), the settings the page
//! module is built with.

use affinity::rules::{self, MemoryEvent, MemoryFacts, SegmentSet};
use affinity::segments::{Context, ProfileFacts};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

/// The fixtures the in-browser harness uses too (a real folded `Profile`).
#[path = "fixtures.rs"]
mod fixtures;

const DAY: i64 = 86_400_000;
const NOW: i64 = 20_000 * DAY;
const CATEGORIES: [&str; 8] = [
    "Shoes", "Hats", "Bags", "Shirts", "Socks", "Jackets", "Belts", "Scarves",
];
const BRANDS: [&str; 5] = ["Acme", "Globex", "Initech", "Umbrella", "Hooli"];

/// Deterministic small pseudo-random numbers (no dependency).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// One customer: profile properties, page context and 200 past events over 90 days.
fn profile() -> MemoryFacts {
    let mut rng = Lcg(7);
    let mut f = MemoryFacts::new("shop1", "customer-42")
        .with("orders", 6.0)
        .with("product_views", 150.0)
        .with("page_views", 320.0)
        .with("sessions", 21.0)
        .with("total_spend", 412.5)
        .with("rfm.recency", 9.0)
        .with("rfm.frequency", 6.0)
        .with("rfm.monetary", 412.5)
        .with("predicted.clv", 230.0)
        .with("traits.plan", "pro")
        .with("traits.country", "DE")
        .with(
            "page.url",
            "https://shop.example/c/shoes?utm_source=newsletter",
        )
        .with("page.path", "/c/shoes")
        .with("page.referrer", "https://www.search.example/")
        .with("utm.source", "newsletter")
        .with("utm.campaign", "autumn-sale")
        .with("device.type", "mobile")
        .with("visitor", "returning")
        .with("cart.value", 89.9)
        .with("cart.items", 2.0);
    for c in CATEGORIES {
        f.set(
            &format!("affinity.category.{}", c.to_ascii_lowercase()),
            rng.next(100) as f64 / 100.0,
        );
    }
    for b in BRANDS {
        f.set(
            &format!("affinity.brand.{}", b.to_ascii_lowercase()),
            rng.next(100) as f64 / 100.0,
        );
    }
    for i in 0..200 {
        let at = NOW - rng.next(90 * DAY as u64) as i64;
        let cat = CATEGORIES[rng.next(8) as usize];
        let brand = BRANDS[rng.next(5) as usize];
        let price = 10.0 + rng.next(200) as f64;
        let name = match i % 20 {
            0..=13 => "Product Viewed",
            14..=16 => "Product Added",
            17 => "Checkout Started",
            18 => "Order Completed",
            _ => "Products Searched",
        };
        f = f.with_event(
            MemoryEvent::new(name, at)
                .with("category", cat)
                .with("brand", brand)
                .with("price", price)
                .with("revenue", price * 2.0)
                .with("product_id", format!("p{}", rng.next(500)).as_str()),
        );
    }
    f
}

fn bench(c: &mut Criterion) {
    let facts = profile();
    // The same 100 merchant-style segments the in-browser harness times.
    let texts = fixtures::segments_100();
    let set = SegmentSet::parse(texts.iter().map(|(n, t)| (n.as_str(), t.as_str())))
        .expect("segments compile");
    let bytes = set.encode();
    let members = set.evaluate(&facts, NOW).members().count();
    println!(
        "100 segments: {} bytes compiled, {} bytes as text; customer is in {members}",
        bytes.len(),
        texts.iter().map(|(n, t)| n.len() + t.len()).sum::<usize>()
    );

    c.bench_function("rules/evaluate 100 segments, 200 events", |b| {
        b.iter(|| black_box(set.evaluate(black_box(&facts), black_box(NOW))).as_slice()[0])
    });
    // The same segments against the real profile and page context of the page module.
    let real = &set;
    let profile = fixtures::profile_200();
    let context = Context {
        url: "https://shop.example/c/shoes?utm_source=newsletter".into(),
        path: "/c/shoes".into(),
        device_type: Some("mobile".into()),
        ..Context::default()
    };
    let profile_facts = ProfileFacts {
        shop: "shop1",
        profile: &profile,
        context: &context,
    };
    c.bench_function(
        "rules/evaluate 100 segments, real profile with 200 events",
        |b| {
            b.iter(|| {
                black_box(real.evaluate(black_box(&profile_facts), black_box(fixtures::NOW)))
                    .as_slice()[0]
            })
        },
    );
    c.bench_function("rules/next_change_ms 100 segments, 200 events", |b| {
        b.iter(|| set.next_change_ms(black_box(&facts), black_box(NOW)))
    });
    c.bench_function("rules/decode 100 segments", |b| {
        b.iter(|| SegmentSet::decode(black_box(&bytes)).map(|s| s.len()))
    });
    c.bench_function("rules/parse 100 segments", |b| {
        b.iter(|| {
            texts
                .iter()
                .filter(|(_, t)| rules::parse(black_box(t)).is_ok())
                .count()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
