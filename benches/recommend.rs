//! Ranking speed on a synthetic 10,000-item model (budget: top-20 in ≤ 1 ms in the page).
//!
//! `cargo bench --bench recommend` (criterion prints the median as the middle of `time: [..]`).

use affinity::recommend::{Model, Query, Strategy};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

/// The fixtures the in-browser harness uses too.
#[path = "fixtures.rs"]
mod fixtures;

const ITEMS: u64 = 10_000;

/// The synthetic 10k-item model the in-browser harness times too, round-tripped through the
/// binary format as the page receives it.
/// Prints the encoded size, raw and brotli -q 11 (when the `brotli` CLI is installed).
fn synthetic_model() -> Model {
    let bytes = fixtures::synthetic_model(ITEMS).encode();
    let path = std::env::temp_dir().join("affinity-fixture-10k.afym");
    let brotli = std::fs::write(&path, &bytes)
        .ok()
        .and_then(|()| {
            std::process::Command::new("brotli")
                .args(["-q", "11", "-c"])
                .arg(&path)
                .output()
                .ok()
        })
        .map_or("no brotli CLI".to_string(), |out| {
            format!("{} bytes brotli -q 11", out.stdout.len())
        });
    println!(
        "10k-item fixture model: {} bytes raw, {brotli}",
        bytes.len()
    );
    Model::decode(&bytes).expect("round trip")
}

fn bench(c: &mut Criterion) {
    let model = synthetic_model();
    assert_eq!(model.len() as u64, ITEMS);
    let mut for_you = Query::new(Strategy::ForYou, 20);
    for (t, i) in [4210u64, 4233, 4207, 4250, 4211, 4299, 4201, 4222]
        .iter()
        .enumerate()
    {
        for_you.viewed(&fixtures::product_id(*i), t as i64 * 1_000);
    }
    for_you.cart = vec![fixtures::product_id(4203)];
    for_you.purchased = vec![fixtures::product_id(17)];
    for_you.category_affinity = vec![("c8".into(), 3.0), ("c2".into(), 1.0)];
    let mut similar = Query::new(Strategy::Similar, 20);
    similar.anchor = Some(fixtures::product_id(4210));
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
