//! Benchmark fixtures shared by the native criterion benches and the in-browser timing harness
//! (`benches/browser/`), so both measure the same work: 100 merchant-style segments, a profile with
//! ~200 past events, and a synthetic 10,000-item model.
//!
//! Included with `#[path]` from both places; paths are spelled `affinity::…` (the page build
//! declares `extern crate self as affinity` under the `bench` feature).
#![allow(dead_code)]

// Spelled out for the page build's no_std prelude (`std` is alloc there; `bench,page`).
use std::{string::String, string::ToString, vec::Vec};

use affinity::event::{names, Event};
use affinity::profile::Profile;
use affinity::recommend::metrics::SplitMix64;
use affinity::recommend::{ItemMeta, Model, ModelBuilder};

/// The instant the fixtures are evaluated at.
pub const NOW: i64 = 20_000 * DAY;
const DAY: i64 = 86_400_000;
const CATEGORIES: [&str; 8] = [
    "Shoes",
    "Tents",
    "Jackets",
    "Socks",
    "Backpacks",
    "Headlamps",
    "Gloves",
    "Bottles",
];
const BRANDS: [&str; 5] = ["Acme", "Globex", "Initech", "Umbrella", "Hooli"];

/// 100 segments in the shapes merchants write: past-event windows with filters, lapsed buyers,
/// abandoned carts, RFM and spend thresholds, context, holdouts and references between segments.
pub fn segments_100() -> Vec<(String, String)> {
    (0..100usize)
        .map(|i| {
            let cat = CATEGORIES[i % 8];
            let brand = BRANDS[i % 5];
            let n = 1 + i % 4;
            let days = [1, 3, 7, 14, 30, 60, 90][i % 7];
            let text = match i % 10 {
                0 => format!(
                    "performed \"Product Viewed\" where category = \"{cat}\" at least {n} times in the last {days} days\nand total_spend > {}\nand not in segment \"seg1\"",
                    50 + i
                ),
                1 => "performed \"Order Completed\" between 30 and 90 days ago\nand not performed \"Order Completed\" in the last 30 days".to_string(),
                2 => format!(
                    "performed \"Product Added\" not followed by \"Order Completed\" within 1 day in the last {days} days\nand cart.value >= {}",
                    i % 50
                ),
                3 => format!(
                    "rfm.recency <= {days} and rfm.frequency >= {n} and rfm.monetary between 100 and {}",
                    500 + i
                ),
                4 => format!(
                    "affinity.category.{} > 0.{} or affinity.brand.{} >= 0.5",
                    cat.to_ascii_lowercase(),
                    i % 9,
                    brand.to_ascii_lowercase()
                ),
                5 => format!(
                    "utm.source in [\"newsletter\", \"google\", \"meta\"] and page.path starts with \"/c/\"\nand device.type = \"mobile\" and visitor = \"returning\" and not in {}% bucket \"holdout-q4\"",
                    5 + i % 10
                ),
                6 => format!(
                    "performed \"Product Viewed\" where brand = \"{brand}\", price > {} at least {n} times in the last {days} days",
                    i % 100
                ),
                7 => format!(
                    "in segment \"seg{}\" and (traits.plan = \"pro\" or predicted.clv > {})",
                    i - 7,
                    100 + i
                ),
                8 => format!(
                    "performed \"Order Completed\" where revenue >= {} at least {n} times in the last 90 days\nor total_spend > 1000",
                    20 + i
                ),
                _ => format!(
                    "page.url contains \"sale\" or utm.campaign ends with \"-sale\" or (orders >= {n} and performed \"Checkout Started\" in the last {days} days)"
                ),
            };
            (format!("seg{i}"), text)
        })
        .collect()
}

/// A shopper with about 200 past events over 120 days (views, adds, checkouts, orders).
pub fn profile_200() -> Profile {
    let mut rng = SplitMix64(42);
    let mut p = Profile::new("bench-customer");
    for k in 0..200i64 {
        let at = NOW - (200 - k) * 14 * 3_600_000;
        let cat = CATEGORIES[rng.below(8) as usize];
        let brand = BRANDS[rng.below(5) as usize];
        let price = 5 + rng.below(200);
        let (name, props) = match rng.below(20) {
            0..=13 => (
                names::PRODUCT_VIEWED,
                format!(
                    r#"{{"product_id":"p{}","category":"{cat}","brand":"{brand}","price":{price}}}"#,
                    rng.below(500)
                ),
            ),
            14..=16 => (
                names::PRODUCT_ADDED,
                format!(
                    r#"{{"product_id":"p{}","category":"{cat}","price":{price}}}"#,
                    rng.below(500)
                ),
            ),
            17 => (names::CHECKOUT_STARTED, "{}".to_string()),
            _ => (
                names::ORDER_COMPLETED,
                format!(
                    r#"{{"order_id":"o{k}","revenue":{price},"products":[{{"product_id":"p{}","category":"{cat}"}}]}}"#,
                    rng.below(500)
                ),
            ),
        };
        let mut e = Event::track(name, "bench-customer", &format!("m{k}"), at);
        e.properties = affinity::json::parse(&props).unwrap_or_default();
        p.apply(&e);
    }
    p.traits.set("plan", "pro".into());
    p
}

/// The id of synthetic item `i`, zero-padded like the demo shop's (`p0001`).
pub fn product_id(i: u64) -> String {
    format!("p{i:05}")
}

/// Words of the synthetic catalog's names, in the demo shop's style (`demo-site/catalog.json`).
const NAME_WORDS: [&str; 16] = [
    "Halcyon",
    "Fjord",
    "Basalt",
    "Ptarmigan",
    "Switchback",
    "Sierra",
    "Tamarack",
    "Larch",
    "Juniper",
    "Glacier",
    "Driftwood",
    "Summit",
    "Cirrus",
    "Talus",
    "Aspen",
    "Moraine",
];
const KINDS: [&str; 12] = [
    "Trail Shoe",
    "Hiking Boot",
    "Rain Jacket",
    "Insulated Jacket",
    "Backpack",
    "Tent",
    "Sleeping Bag",
    "Cook Set",
    "Headlamp",
    "Water Bottle",
    "Sock",
    "Glove",
];
const CATALOG_CATEGORIES: [&str; 12] = [
    "Trail Running Shoes",
    "Hiking Boots",
    "Rain Jackets",
    "Insulated Jackets",
    "Backpacks",
    "Tents",
    "Sleeping Bags",
    "Camp Cookware",
    "Headlamps",
    "Water Bottles",
    "Socks",
    "Gloves",
];
const CATALOG_BRANDS: [&str; 10] = [
    "Summit Forge",
    "Ridgeline",
    "Alder & Pine",
    "Tidewater",
    "Kestrel",
    "Bluefjord",
    "Granite Peak Co.",
    "Northwind",
    "Ember Trail",
    "Cascadia Gear",
];
const VARIANTS: [&str; 6] = ["", " Wide", " Low", " GTX", " Lite", " Pro"];

/// Display metadata of synthetic item `i`, shaped like a demo-shop product: a name, a brand, a
/// category per cluster of 100, a price, a product URL and an image URL.
pub fn product_meta(i: u64) -> ItemMeta {
    let cluster = (i / 100) as usize;
    let word = NAME_WORDS[(i as usize * 7 + cluster) % NAME_WORDS.len()];
    let kind = KINDS[cluster % KINDS.len()];
    let variant = VARIANTS[(i as usize / 3) % VARIANTS.len()];
    let name = format!("{word} {kind}{variant}");
    let slug = format!("{}-{i}", name.to_lowercase().replace(' ', "-"));
    ItemMeta {
        price_cents: Some(1_500 + (i as u32 * 37) % 30_000),
        category: Some(CATALOG_CATEGORIES[cluster % CATALOG_CATEGORIES.len()].to_string()),
        brand: Some(CATALOG_BRANDS[(i as usize * 3 + cluster) % CATALOG_BRANDS.len()].to_string()),
        url: format!("/p/{slug}/"),
        image: format!("/img/{}.svg", product_id(i)),
        in_stock: i % 17 != 0,
        name,
    }
}

/// A synthetic model of `items` items (a multiple of 100): sessions that wander inside clusters
/// of 100 items, with a popularity skew, co-purchases, and demo-shop-like metadata on every item.
pub fn synthetic_model(items: u64) -> Model {
    let mut rng = SplitMix64(items);
    let mut b = ModelBuilder::new();
    b.min_support(1).max_neighbors(50);
    for s in 0..(items as i64 * 15) {
        let len = 2 + rng.below(8) as usize;
        let cluster = rng.below(items / 100) * 100;
        let clicks: Vec<(String, i64)> = (0..len)
            .map(|t| {
                let skew = rng.below(100).min(rng.below(100));
                (product_id(cluster + skew), s * 60_000 + t as i64 * 1_000)
            })
            .collect();
        b.add_session(&clicks);
        if s % 10 == 0 {
            let order: Vec<&str> = clicks.iter().take(3).map(|(id, _)| id.as_str()).collect();
            b.add_order(&order);
        }
    }
    for i in 0..items {
        b.set_meta(&product_id(i), product_meta(i));
    }
    b.build()
}
