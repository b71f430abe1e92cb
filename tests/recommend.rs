//! Integration tests for `affinity::recommend`: strategy invariants as property tests, the
//! build → encode → decode → rank path, and a hostile-bytes sweep.

use affinity::recommend::{
    Boost, ItemMeta, Model, ModelBuilder, Pin, Query, Reason, Relation, Strategy,
};
use proptest::prelude::*;
use proptest::strategy::Strategy as PropStrategy;
use proptest::test_runner::{Config, RngSeed};

const CATEGORIES: [&str; 3] = ["Shoes", "Hats", "Bags"];

fn id(i: u8) -> String {
    format!("p{i:04}")
}

/// A shop of up to 30 items: random sessions, orders and metadata.
fn model_from(sessions: &[Vec<u8>], orders: &[Vec<u8>], meta: &[(u8, u32, bool)], k: u32) -> Model {
    let mut b = ModelBuilder::new();
    b.min_support(k);
    for s in sessions {
        let clicks: Vec<(String, i64)> = s
            .iter()
            .enumerate()
            .map(|(t, &i)| (id(i), t as i64 * 1000))
            .collect();
        b.add_session(&clicks);
    }
    for o in orders {
        let items: Vec<String> = o.iter().map(|&i| id(i)).collect();
        b.add_order(&items);
    }
    for (n, &(cat, price, in_stock)) in meta.iter().enumerate() {
        b.set_meta(
            &id(n as u8),
            ItemMeta {
                name: format!("Item {n}"),
                price_cents: (price > 0).then_some(price),
                category: Some(CATEGORIES[cat as usize % 3].to_string()),
                in_stock,
                ..ItemMeta::default()
            },
        );
    }
    let model = b.build();
    Model::decode(&model.encode()).expect("round trip")
}

#[derive(Debug, Clone)]
struct Case {
    sessions: Vec<Vec<u8>>,
    orders: Vec<Vec<u8>>,
    meta: Vec<(u8, u32, bool)>,
    k: u32,
    strategy: usize,
    history: Vec<u8>,
    cart: Vec<u8>,
    purchased: Vec<u8>,
    anchor: Option<u8>,
    exclude: Vec<u8>,
    include_cat: Option<u8>,
    exclude_cat: Option<u8>,
    price: (Option<u32>, Option<u32>),
    pins: Vec<(usize, u8)>,
    boosts: Vec<(u8, f32)>,
    count: usize,
}

fn case() -> impl PropStrategy<Value = Case> {
    let item = 0u8..30;
    (
        (
            prop::collection::vec(prop::collection::vec(item.clone(), 1..8), 0..40),
            prop::collection::vec(prop::collection::vec(item.clone(), 1..4), 0..10),
            prop::collection::vec((0u8..3, 0u32..5000, prop::bool::weighted(0.8)), 0..30),
            1u32..4,
            0usize..7,
            prop::collection::vec(item.clone(), 0..6),
            prop::collection::vec(item.clone(), 0..3),
            prop::collection::vec(item.clone(), 0..3),
        ),
        (
            prop::option::of(item.clone()),
            prop::collection::vec(item.clone(), 0..3),
            prop::option::of(0u8..3),
            prop::option::of(0u8..3),
            (
                prop::option::of(0u32..2500),
                prop::option::of(2500u32..5000),
            ),
            prop::collection::vec((0usize..12, item.clone()), 0..3),
            prop::collection::vec((item, 0.0f32..5.0), 0..3),
            0usize..12,
        ),
    )
        .prop_map(
            |(
                (sessions, orders, meta, k, strategy, history, cart, purchased),
                (anchor, exclude, include_cat, exclude_cat, price, pins, boosts, count),
            )| Case {
                sessions,
                orders,
                meta,
                k,
                strategy,
                history,
                cart,
                purchased,
                anchor,
                exclude,
                include_cat,
                exclude_cat,
                price,
                pins,
                boosts,
                count,
            },
        )
}

fn query_of(c: &Case) -> Query {
    let mut q = Query::new(Strategy::ALL[c.strategy], c.count);
    for (t, &i) in c.history.iter().enumerate() {
        q.viewed(&id(i), t as i64);
    }
    q.cart = c.cart.iter().map(|&i| id(i)).collect();
    q.purchased = c.purchased.iter().map(|&i| id(i)).collect();
    q.anchor = c.anchor.map(id);
    q.rules.exclude_items = c.exclude.iter().map(|&i| id(i)).collect();
    q.rules.include_categories = c
        .include_cat
        .map(|x| CATEGORIES[x as usize].to_string())
        .into_iter()
        .collect();
    q.rules.exclude_categories = c
        .exclude_cat
        .map(|x| CATEGORIES[x as usize].to_string())
        .into_iter()
        .collect();
    q.rules.min_price_cents = c.price.0;
    q.rules.max_price_cents = c.price.1;
    q.rules.pins = c
        .pins
        .iter()
        .map(|&(position, i)| Pin {
            position,
            id: id(i),
        })
        .collect();
    q.rules.boosts = c
        .boosts
        .iter()
        .map(|&(i, factor)| Boost::Item { id: id(i), factor })
        .collect();
    q.category_affinity = vec![("Hats".into(), 2.0)];
    q
}

/// Every rule of the slot, checked independently of the engine.
fn excluded(m: &Model, q: &Query, item: u32) -> bool {
    let id = m.id(item).unwrap_or_default().to_string();
    let meta = m.meta(item);
    let meta = meta.as_ref();
    let cat = meta.and_then(|x| x.category.clone());
    let price = meta.and_then(|x| x.price_cents);
    q.anchor.as_ref() == Some(&id)
        || q.cart.contains(&id)
        || q.purchased.contains(&id)
        || q.rules.exclude_items.contains(&id)
        || meta.is_some_and(|x| !x.in_stock)
        || (!q.rules.include_categories.is_empty()
            && !cat
                .as_ref()
                .is_some_and(|c| q.rules.include_categories.contains(c)))
        || cat
            .as_ref()
            .is_some_and(|c| q.rules.exclude_categories.contains(c))
        || ((q.rules.min_price_cents.is_some() || q.rules.max_price_cents.is_some())
            && !price.is_some_and(|p| {
                q.rules.min_price_cents.is_none_or(|lo| p >= lo)
                    && q.rules.max_price_cents.is_none_or(|hi| p <= hi)
            }))
}

fn config() -> Config {
    Config {
        cases: 256,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0xaff1),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn strategy_invariants(c in case()) {
        let m = model_from(&c.sessions, &c.orders, &c.meta, c.k);
        let q = query_of(&c);
        let r = m.recommend(&q);
        // Count respected.
        prop_assert!(r.len() <= q.count);
        // No excluded item, ever.
        for s in &r {
            prop_assert!(!excluded(&m, &q, s.item), "excluded item {:?} shown", m.id(s.item));
        }
        // No duplicates.
        let mut items: Vec<u32> = r.iter().map(|s| s.item).collect();
        items.sort_unstable();
        items.dedup();
        prop_assert_eq!(items.len(), r.len());
        // Deterministic, and the same after another encode/decode.
        prop_assert_eq!(&m.recommend(&q), &r);
        let again = Model::decode(&m.encode()).unwrap();
        prop_assert_eq!(&again.recommend(&q), &r);
        // Pins honoured: the first allowed pin per position sits at its position when the list
        // reaches it (pins sorted by position, earlier pins never displaced).
        let mut placed = Vec::new();
        let mut pins: Vec<(usize, u32)> = Vec::new();
        for p in &q.rules.pins {
            if let Some(i) = m.index_of(&p.id) {
                if p.position < q.count && !excluded(&m, &q, i) && !pins.iter().any(|&(_, j)| j == i) {
                    pins.push((p.position, i));
                }
            }
        }
        pins.sort_by_key(|&(p, _)| p);
        for (n, &(pos, i)) in pins.iter().enumerate() {
            let at = r.iter().position(|s| s.item == i);
            prop_assert!(at.is_some() || r.len() == q.count, "allowed pin {:?} missing", m.id(i));
            if let Some(at) = at {
                prop_assert_eq!(&r[at].reason, &Reason::Pinned);
                // Distinct positions: exact; colliding positions shift later pins right.
                let distinct = pins.iter().take(n).all(|&(p, _)| p < pos);
                if distinct && pos < r.len() {
                    prop_assert_eq!(at, pos.max(placed.len()));
                }
                placed.push(at);
            }
        }
        // Reasons render.
        for s in &r {
            prop_assert!(!s.reason.text(&m).is_empty());
        }
        // Recently viewed shows only history items.
        if q.strategy == Strategy::RecentlyViewed {
            for s in &r {
                let id = m.id(s.item).unwrap().to_string();
                prop_assert!(q.history.iter().any(|(h, _)| *h == id) || s.reason == Reason::Pinned);
            }
        }
    }

    #[test]
    fn results_fill_up_to_count(c in case()) {
        // Without rules, every strategy but recently-viewed fills to min(count, eligible items).
        let m = model_from(&c.sessions, &c.orders, &[], c.k);
        let mut q = Query::new(Strategy::ALL[c.strategy], c.count);
        q.anchor = c.anchor.map(id);
        q.cart = c.cart.iter().map(|&i| id(i)).collect();
        let r = m.recommend(&q);
        if q.strategy != Strategy::RecentlyViewed {
            let eligible = (0..m.len() as u32).filter(|&i| !excluded(&m, &q, i)).count();
            prop_assert_eq!(r.len(), q.count.min(eligible));
        }
    }

    #[test]
    fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300), keep_header in any::<bool>()) {
        let mut b = bytes;
        if keep_header {
            let mut h = b"AFYM".to_vec();
            h.push(affinity::recommend::FORMAT_VERSION);
            h.extend_from_slice(&b);
            b = h;
        }
        if let Ok(m) = Model::decode(&b) {
            let _ = m.recommend(&Query::new(Strategy::ForYou, 5));
        }
    }
}

#[test]
fn ties_break_by_item_index() {
    let mut b = ModelBuilder::new();
    b.min_support(1);
    b.add_session(&[("a", 0), ("b", 1)]);
    b.add_session(&[("a", 2), ("c", 3)]);
    let m = Model::decode(&b.build().encode()).unwrap();
    let mut q = Query::new(Strategy::Similar, 2);
    q.anchor = Some("a".into());
    let r = m.recommend(&q);
    assert_eq!(r[0].score, r[1].score);
    assert!(r[0].item < r[1].item);
}

#[test]
fn model_holds_only_item_aggregates() {
    // Two shoppers with the same pair: the model keeps the pair, not who or in which session.
    let mut b = ModelBuilder::new();
    b.min_support(2);
    b.add_session(&[("secret-1", 0), ("secret-2", 1), ("rare", 2)]);
    b.add_session(&[("secret-1", 5), ("secret-2", 6)]);
    let m = b.build();
    // An id one shopper clicked is not in the model at all at k = 2 (it is not in a catalog).
    assert_eq!(m.index_of("rare"), None);
    assert_eq!(m.len(), 2);
    assert_eq!(
        m.neighbors(Relation::Next, m.index_of("secret-1").unwrap())
            .count(),
        1
    );
}

#[test]
fn reason_texts() {
    let mut b = ModelBuilder::new();
    b.min_support(1);
    b.add_session(&[("a", 0)]);
    b.set_meta(
        "a",
        ItemMeta {
            name: "Red shoe".into(),
            category: Some("Hats".into()),
            ..ItemMeta::default()
        },
    );
    b.add_session(&[("b", 0)]);
    let m = b.build();
    let (a, bi) = (m.index_of("a").unwrap(), m.index_of("b").unwrap());
    assert_eq!(
        Reason::ViewedTogether { because: a }.text(&m),
        "Because you viewed Red shoe"
    );
    assert_eq!(
        Reason::ViewedTogether { because: bi }.text(&m),
        "Because you viewed b"
    );
    assert_eq!(
        Reason::BoughtTogether { because: a }.text(&m),
        "Often bought with Red shoe"
    );
    assert_eq!(Reason::PopularIn { of: a }.text(&m), "Popular in Hats");
    assert_eq!(Reason::Trending.text(&m), "Trending now");
    assert_eq!(Reason::Pinned.text(&m), "Featured");
    assert_eq!(Reason::RecentlyViewed.text(&m), "Recently viewed");
}
