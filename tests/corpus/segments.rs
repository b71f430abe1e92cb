//! A deterministic corpus of segment rules × customer profiles, shared by the native integration
//! test and the Wasm test in Chromium: both compute the membership matrix and compare it with the
//! committed `segments.golden`, so the two builds must agree bit for bit.

use affinity::event::{names, Event};
use affinity::json::Value;
use affinity::profile::Profile;
use affinity::rules::{self, SegmentSet};
use affinity::segments::{Context, ProfileFacts};

/// The evaluation instant of the corpus.
pub const NOW: i64 = 1_795_514_400_000; // 2026-11-24T10:00:00Z
const DAY: i64 = 86_400_000;

/// Rules covering every construct of the language.
pub const RULES: &[&str] = &[
    r#"orders >= 1"#,
    r#"orders = 0 and product_views > 3"#,
    r#"total_spend > 150"#,
    r#"total_spend between 50 and 300"#,
    r#"sessions >= 2 or searches > 0"#,
    r#"cart.value > 0 and cart.items >= 2"#,
    r#"rfm.recency < 14"#,
    r#"rfm.frequency >= 2 and rfm.monetary > 100"#,
    r#"affinity.category.shoes > 1.5"#,
    r#"affinity.category.tents > 0.5"#,
    r#"affinity.brand.ridgeback >= 1"#,
    r#"performed "Product Viewed" where category = "Shoes" at least 3 times in the last 7 days"#,
    r#"performed "Product Viewed" where category = "Tents", price > 100 in the last 30 days"#,
    r#"performed "Order Completed" between 30 and 90 days ago and not performed "Order Completed" in the last 30 days"#,
    r#"performed "Product Added" not followed by "Order Completed" within 1 day"#,
    r#"performed "Products Searched" in the last 2 days"#,
    r#"performed "Product Viewed" exactly once in the last 1 month"#,
    r#"not performed "Order Completed""#,
    r#"traits.plan = "gold""#,
    r#"traits.plan in ["gold", "silver"] or traits.email is set"#,
    r#"traits.email ends with "@example.com""#,
    r#"page.path starts with "/c/""#,
    r#"page.url contains "sale" or utm.source = "newsletter""#,
    r#"device.type = "mobile""#,
    r#"visitor = "returning""#,
    r#"in 30% bucket "holdout""#,
    r#"in segment "buyers" and not in segment "big""#,
    r#"(orders > 0 or cart_adds > 0) and not (total_spend > 500)"#,
];

/// Names of the rules in a segment set (`in segment` refers to these).
pub fn rule_names() -> Vec<String> {
    (0..RULES.len())
        .map(|i| match i {
            0 => "buyers".to_string(),
            2 => "big".to_string(),
            i => format!("r{i}"),
        })
        .collect()
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Customer `i` of the corpus: a profile folded from generated events.
pub fn profile(i: u64) -> Profile {
    let mut rng = Rng(i * 7919 + 11);
    let id = format!("c{i}");
    let mut p = Profile::new(&id);
    let cats = ["Shoes", "Tents", "Jackets", "Socks"];
    let brands = ["Ridgeback", "Summit", "Alder"];
    let n = rng.below(25);
    for k in 0..n {
        let at = NOW - rng.below(100) as i64 * DAY / 2 - rng.below(DAY as u64) as i64;
        let cat = cats[rng.below(4) as usize];
        let brand = brands[rng.below(3) as usize];
        let pid = format!("p{}", rng.below(30));
        let price = (rng.below(300) + 5) as f64;
        let (name, props) = match rng.below(10) {
            0..=5 => (
                names::PRODUCT_VIEWED,
                format!(
                    r#"{{"product_id":"{pid}","category":"{cat}","brand":"{brand}","price":{price}}}"#
                ),
            ),
            6 => (
                names::PRODUCT_ADDED,
                format!(
                    r#"{{"product_id":"{pid}","category":"{cat}","price":{price},"quantity":{}}}"#,
                    1 + rng.below(2)
                ),
            ),
            7 => (names::PRODUCTS_SEARCHED, r#"{"query":"boots"}"#.to_string()),
            8 => (
                names::ORDER_COMPLETED,
                format!(
                    r#"{{"order_id":"o{i}-{k}","total":{price},"products":[{{"product_id":"{pid}","category":"{cat}","price":{price}}}]}}"#
                ),
            ),
            _ => (names::CHECKOUT_STARTED, "{}".to_string()),
        };
        let mut e = Event::track(name, &id, &format!("m{i}-{k}"), at);
        e.properties = affinity::json::parse(&props).unwrap_or_default();
        p.apply(&e);
    }
    match rng.below(4) {
        0 => p.traits.set("plan", "gold".into()),
        1 => p.traits.set("email", format!("c{i}@example.com").into()),
        2 => p.traits.set("plan", Value::from("silver")),
        _ => {}
    }
    p
}

/// Context `i`: a few pages, campaigns and devices.
pub fn context(i: u64) -> Context {
    let mut c = Context {
        url: format!(
            "https://shop.example/{}?x={i}",
            if i % 3 == 0 { "sale" } else { "c/tents/" }
        ),
        path: if i % 3 == 0 {
            "/sale".into()
        } else {
            "/c/tents/".into()
        },
        ..Context::default()
    };
    if i % 4 == 1 {
        c.utm[0] = Some("newsletter".into());
    }
    c.device_type = Some(if i % 2 == 0 { "mobile" } else { "desktop" }.into());
    c
}

/// The membership matrix: one line per customer, one `0`/`1` per rule, for the segment set
/// evaluated from its compiled form (as the page receives it).
pub fn matrix(customers: u64) -> String {
    let parsed: Vec<(String, rules::Rule)> = rule_names()
        .into_iter()
        .zip(RULES)
        .map(|(name, src)| {
            (
                name,
                rules::parse(src).unwrap_or_else(|e| panic!("{src}: {e}")),
            )
        })
        .collect();
    let set = SegmentSet::new(parsed).expect("the corpus compiles");
    let set = SegmentSet::decode(&set.encode()).expect("the compiled corpus decodes");
    let mut out = String::new();
    for i in 0..customers {
        let p = profile(i);
        let ctx = context(i);
        let facts = ProfileFacts {
            shop: "corpus",
            profile: &p,
            context: &ctx,
        };
        let members = set.evaluate(&facts, NOW);
        for (_, is_member) in members.iter() {
            out.push(if is_member { '1' } else { '0' });
        }
        out.push('\n');
    }
    out
}
