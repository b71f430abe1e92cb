//! Attacks on the published item model (docs/privacy.md): a planted canary shopper, a rare pair
//! lifted by injected sessions, arrival order, and how far one session moves a build. Each test
//! reads the model only through its public API, as anyone holding the served bytes can.

use std::collections::{HashMap, HashSet};

use affinity::recommend::metrics::SplitMix64;
use affinity::recommend::{level_value, ItemMeta, Model, ModelBuilder, Relation};

type Clicks = Vec<(String, i64)>;

/// One shopper of the synthetic shop: a source, sessions.
#[derive(Debug, Clone)]
struct Shopper {
    source: String,
    sessions: Vec<Clicks>,
}

const ITEMS: u64 = 40;
const DAY: i64 = 86_400_000;

fn item(i: u64) -> String {
    format!("sku-{i:03}")
}

/// 300 shoppers over 40 catalog items: sessions start anywhere and walk one or two items
/// forward, so `a → b` within 10 steps happens only when `b` is 1..=20 items after `a` (mod 40)
/// and a pair such as sku-005 → sku-031 never does. Every shopper is their own source.
fn shop(seed: u64) -> Vec<Shopper> {
    let mut rng = SplitMix64(seed);
    (0..300)
        .map(|n| {
            let visits = 1 + rng.below(2);
            let sessions = (0..visits)
                .map(|_| {
                    let mut t = (rng.below(14) as i64) * DAY;
                    let mut at = rng.below(ITEMS);
                    (0..2 + rng.below(5))
                        .map(|_| {
                            t += 60_000;
                            let c = (item(at), t);
                            at = (at + 1 + rng.below(2)) % ITEMS;
                            c
                        })
                        .collect()
                })
                .collect();
            Shopper {
                source: format!("src-{n}"),
                sessions,
            }
        })
        .collect()
}

fn build(shoppers: &[Shopper], k: u32, extra_catalog: &[&str]) -> Model {
    let mut b = ModelBuilder::new();
    b.min_support(k).as_of(15 * DAY);
    for i in 0..ITEMS {
        b.catalog_item(&item(i), meta(&item(i)));
    }
    for id in extra_catalog {
        b.catalog_item(id, meta(id));
    }
    for s in shoppers {
        b.add_shopper::<String, String>(&s.source, &s.sessions, &[]);
    }
    let bytes = b.build().encode();
    Model::decode(&bytes).expect("round trip")
}

fn meta(id: &str) -> ItemMeta {
    ItemMeta {
        name: format!("Product {id}"),
        in_stock: true,
        ..ItemMeta::default()
    }
}

/// Every directed (from, to) pair of a relation, by id.
fn edges(m: &Model, rel: Relation) -> HashSet<(String, String)> {
    let mut out = HashSet::new();
    for i in 0..m.len() as u32 {
        for (j, _) in m.neighbors(rel, i) {
            out.insert((m.id(i).unwrap().to_string(), m.id(j).unwrap().to_string()));
        }
    }
    out
}

/// Sources with the transition `a → b` within 10 steps, counted by a plain loop.
fn transition_sources(shoppers: &[Shopper]) -> HashMap<(String, String), HashSet<String>> {
    let mut out: HashMap<(String, String), HashSet<String>> = HashMap::new();
    for s in shoppers {
        for session in &s.sessions {
            for b in 1..session.len() {
                for d in 1..=10.min(b) {
                    out.entry((session[b - d].0.clone(), session[b].0.clone()))
                        .or_default()
                        .insert(s.source.clone());
                }
            }
        }
    }
    out
}

/// An item's published popularity, in shoppers (a level's lower edge).
fn pop_value(m: &Model, id: &str) -> f64 {
    m.index_of(id).map_or(0.0, |i| f64::from(m.popularity(i)))
}

/// An item's published trending figure, in shoppers (levels count sixteenths of a shopper).
fn trend_value(m: &Model, id: &str) -> f64 {
    m.index_of(id).map_or(0.0, |i| {
        level_value((m.trending(i) * 255.0).round() as u8) / 16.0
    })
}

/// The documented bound (docs/privacy.md): one shopper moves a published popularity or
/// trending figure of an item by at most one shopper plus one level (2^(1/4) − 1 < 19 %).
fn within_bound(a: f64, b: f64) -> bool {
    (a - b).abs() <= a.max(b) * (2f64.powf(0.25) - 1.0) + 1.0 + 1e-9
}

fn canary() -> Shopper {
    // Unique items (in the catalog: their ids are public anyway), then a click order no one
    // else has over common items, then a rare pair (sku-005 → sku-031).
    let order = [
        "canary-a", "canary-b", "sku-017", "sku-003", "sku-029", "sku-011", "sku-005", "sku-031",
    ];
    Shopper {
        source: "canary-home".into(),
        sessions: vec![order
            .iter()
            .enumerate()
            .map(|(n, id)| (id.to_string(), 14 * DAY + n as i64 * 60_000))
            .collect()],
    }
}

#[test]
fn a_canary_shoppers_trail_cannot_be_read_from_the_model() {
    let base = shop(11);
    let canary = canary();
    let with: Vec<Shopper> = base.iter().cloned().chain([canary.clone()]).collect();
    let extra = ["canary-a", "canary-b"];
    for k in [2, 3] {
        let without_m = build(&base, k, &extra);
        let with_m = build(&with, k, &extra);
        let others = transition_sources(&base);
        let c = &canary.sessions[0];
        // The canary's transitions that no one else has: none is published.
        let mut unique = 0;
        let published = edges(&with_m, Relation::Next);
        for b in 1..c.len() {
            for d in 1..=10.min(b) {
                let pair = (c[b - d].0.clone(), c[b].0.clone());
                if !others.contains_key(&pair) {
                    unique += 1;
                    assert!(!published.contains(&pair), "k {k}: {pair:?} published");
                }
            }
        }
        assert!(unique >= 10, "the canary has unique transitions: {unique}");
        // Every edge the canary added is one that k − 1 other sources already support: what
        // the gate promises, never the canary's own.
        for pair in published.difference(&edges(&without_m, Relation::Next)) {
            let n = others.get(pair).map_or(0, HashSet::len);
            assert!(n + 1 >= k as usize, "k {k}: {pair:?} rests on {n} others");
        }
        // Its unique items ship (catalog) with no learned figure and no relation.
        for id in extra {
            let i = with_m.index_of(id).expect("catalog item");
            assert_eq!(with_m.popularity(i), 0);
            assert_eq!(with_m.trending(i), 0.0);
            for rel in [Relation::Next, Relation::ViewedTogether] {
                assert_eq!(with_m.neighbors(rel, i).count(), 0, "{id} {rel:?}");
                assert!(published_to(&with_m, rel, i).is_empty(), "{id} {rel:?}");
            }
        }
        // Every figure it moved stays within the bound.
        for i in 0..ITEMS {
            let id = item(i);
            let (p0, p1) = (pop_value(&without_m, &id), pop_value(&with_m, &id));
            let (t0, t1) = (trend_value(&without_m, &id), trend_value(&with_m, &id));
            assert!(within_bound(p0, p1), "k {k}: {id} popularity {p0} → {p1}");
            assert!(within_bound(t0, t1), "k {k}: {id} trending {t0} → {t1}");
        }
    }
}

/// Items whose row in `rel` names `target`.
fn published_to(m: &Model, rel: Relation, target: u32) -> Vec<u32> {
    (0..m.len() as u32)
        .filter(|&i| m.neighbors(rel, i).any(|(j, _)| j == target))
        .collect()
}

#[test]
fn injected_sessions_from_one_source_do_not_lift_a_rare_pair() {
    let base = shop(12);
    let pair = ("sku-005".to_string(), "sku-031".to_string());
    assert!(
        !transition_sources(&base).contains_key(&pair),
        "the pair is rare: only the canary has it"
    );
    let k = 3;
    let injected = |source: &dyn Fn(usize) -> String| -> Vec<Shopper> {
        (0..k as usize - 1)
            .map(|n| Shopper {
                source: source(n),
                sessions: vec![vec![
                    (pair.0.clone(), 14 * DAY + n as i64),
                    (pair.1.clone(), 14 * DAY + n as i64 + 1),
                ]],
            })
            .collect()
    };
    let mut attacked = base.clone();
    attacked.push(canary());
    // k − 1 fresh shoppers (new anonymous ids) from the attacker's one source.
    attacked.extend(injected(&|_| "attacker".to_string()));
    let m = build(&attacked, k, &["canary-a", "canary-b"]);
    assert!(!edges(&m, Relation::Next).contains(&pair), "lifted");
    // The control: the same sessions from k − 1 different sources do lift it, so the test
    // could fail.
    let mut spread = base.clone();
    spread.push(canary());
    spread.extend(injected(&|n| format!("elsewhere-{n}")));
    let m = build(&spread, k, &["canary-a", "canary-b"]);
    assert!(edges(&m, Relation::Next).contains(&pair), "control");
}

#[test]
fn the_model_does_not_depend_on_the_order_shoppers_arrive_in() {
    let base = shop(13);
    let bytes = |shoppers: &[Shopper]| {
        let mut b = ModelBuilder::new();
        b.as_of(15 * DAY);
        for s in shoppers {
            b.add_shopper::<String, String>(&s.source, &s.sessions, &[]);
        }
        b.build().encode()
    };
    let first = bytes(&base);
    let mut rng = SplitMix64(99);
    for _ in 0..3 {
        let mut shuffled = base.clone();
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, rng.below(i as u64 + 1) as usize);
        }
        assert_eq!(bytes(&shuffled), first);
    }
    // Ids are in id order, not in click order.
    let m = Model::decode(&first).unwrap();
    let ids: Vec<&str> = (0..m.len() as u32).map(|i| m.id(i).unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);
}

#[test]
fn no_single_session_moves_a_build_beyond_the_bound() {
    let base = shop(14);
    let before = build(&base, 2, &[]);
    let mut rng = SplitMix64(5);
    let mut moved = 0;
    for n in 0..40 {
        let mut more = base.clone();
        let len = 1 + rng.below(12);
        let session: Clicks = (0..len)
            .map(|t| (item(rng.below(ITEMS)), 14 * DAY + t as i64))
            .collect();
        more.push(Shopper {
            source: format!("new-{n}"),
            sessions: vec![session],
        });
        let after = build(&more, 2, &[]);
        for i in 0..ITEMS {
            let id = item(i);
            let (p0, p1) = (pop_value(&before, &id), pop_value(&after, &id));
            let (t0, t1) = (trend_value(&before, &id), trend_value(&after, &id));
            assert!(within_bound(p0, p1), "{id} popularity {p0} → {p1}");
            assert!(within_bound(t0, t1), "{id} trending {t0} → {t1}");
            moved += usize::from(p0 != p1 || t0 != t1);
        }
    }
    assert!(
        moved > 0,
        "sessions do move figures: the test measures something"
    );
}

#[test]
fn a_burst_of_fresh_ids_from_one_source_counts_as_a_few_shoppers() {
    let base = shop(15);
    // The least popular item (by a plain count of shoppers).
    let shoppers_of = |id: &str| {
        base.iter()
            .filter(|s| s.sessions.iter().flatten().any(|c| c.0 == id))
            .count()
    };
    let target = (0..ITEMS)
        .map(item)
        .min_by_key(|id| shoppers_of(id))
        .unwrap();
    let before = build(&base, 2, &[]);
    let mut burst = base.clone();
    for n in 0..2_000 {
        burst.push(Shopper {
            source: "one-address".into(),
            sessions: vec![vec![(target.clone(), 14 * DAY + n)]],
        });
    }
    let after = build(&burst, 2, &[]);
    let i = before.index_of(&target).unwrap();
    let (p0, p1) = (before.popularity(i), after.popularity(i));
    // At most SOURCE_CAP (4) shoppers more, then released as a level's lower edge.
    let raw = shoppers_of(&target);
    assert!(f64::from(p1) <= (raw + 4) as f64, "{p0} → {p1} (raw {raw})");
    let top = (0..after.len() as u32)
        .max_by_key(|&j| (after.popularity(j), std::cmp::Reverse(j)))
        .unwrap();
    assert_ne!(
        after.id(top),
        Some(target.as_str()),
        "the burst made it the most popular"
    );
}
