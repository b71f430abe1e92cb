//! Ranking speed on a synthetic 10,000-item model (budget: top-20 in ≤ 1 ms in the page).
//!
//! `cargo bench --bench recommend` (criterion prints the median as the middle of `time: [..]`).

use affinity::recommend::metrics::SplitMix64;
use affinity::recommend::{ItemMeta, Model, ModelBuilder, Query, Strategy};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

const ITEMS: u64 = 10_000;

/// Sessions that wander inside clusters of 100 items (so rows fill up to the neighbour cap),
/// with a popularity skew; every item gets metadata so the rules path is exercised too.
fn synthetic_model() -> Model {
    let mut rng = SplitMix64(10_000);
    let mut b = ModelBuilder::new();
    b.min_support(1).max_neighbors(50);
    for s in 0..150_000i64 {
        let len = 2 + rng.below(8) as usize;
        let cluster = rng.below(ITEMS / 100) * 100;
        let clicks: Vec<(String, i64)> = (0..len)
            .map(|t| {
                let skew = rng.below(100).min(rng.below(100));
                (
                    format!("p{}", cluster + skew),
                    s * 60_000 + t as i64 * 1_000,
                )
            })
            .collect();
        b.add_session(&clicks);
        if s % 10 == 0 {
            let order: Vec<&str> = clicks.iter().take(3).map(|(id, _)| id.as_str()).collect();
            b.add_order(&order);
        }
    }
    for i in 0..ITEMS {
        b.set_meta(
            &format!("p{i}"),
            ItemMeta {
                name: format!("Product {i}"),
                price_cents: Some(500 + (i as u32 * 37) % 20_000),
                category: Some(format!("c{}", i / 500)),
                in_stock: i % 17 != 0,
                ..ItemMeta::default()
            },
        );
    }
    Model::decode(&b.build().encode()).expect("round trip")
}

fn bench(c: &mut Criterion) {
    let model = synthetic_model();
    assert_eq!(model.len() as u64, ITEMS);
    let mut for_you = Query::new(Strategy::ForYou, 20);
    for (t, i) in [4210u64, 4233, 4207, 4250, 4211, 4299, 4201, 4222]
        .iter()
        .enumerate()
    {
        for_you.viewed(&format!("p{i}"), t as i64 * 1_000);
    }
    for_you.cart = vec!["p4203".into()];
    for_you.purchased = vec!["p17".into()];
    for_you.category_affinity = vec![("c8".into(), 3.0), ("c2".into(), 1.0)];
    let mut similar = Query::new(Strategy::Similar, 20);
    similar.anchor = Some("p4210".into());
    let mut trending = Query::new(Strategy::Trending, 20);
    trending.rules.include_categories = vec!["c3".into()];

    c.bench_function("for_you_top20_10k_items", |b| {
        b.iter(|| black_box(model.recommend(black_box(&for_you))))
    });
    c.bench_function("similar_top20_10k_items", |b| {
        b.iter(|| black_box(model.recommend(black_box(&similar))))
    });
    c.bench_function("trending_in_category_top20_10k_items", |b| {
        b.iter(|| black_box(model.recommend(black_box(&trending))))
    });
    let bytes = model.encode();
    c.bench_function("decode_10k_item_model", |b| {
        b.iter(|| black_box(Model::decode(black_box(&bytes))))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50);
    targets = bench
}
criterion_main!(benches);
