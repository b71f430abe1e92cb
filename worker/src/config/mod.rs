//! The item model browsers rank with: built at the edge with the engine's
//! [`affinity::recommend::ModelBuilder`] (the one recommender), from the shop's recent D1 events,
//! encoded with [`affinity::recommend::Model::encode`], versioned by a hash of the bytes.
//!
//! Inputs, all from a fixed window of [`WINDOW_DAYS`] whole days ending at the start of the
//! current UTC day ([`window`]: every build of one day reads the same events, so two versions
//! differ by at least a day's shoppers) and without bot traffic:
//!
//! - **shoppers**: `Product Viewed`, `Product Clicked` and `Product Added` per customer, ordered
//!   by time and split into sessions at gaps longer than [`SESSION_GAP_MS`] (30 minutes); a click
//!   on a card followed by the view of the same product counts once. Each customer is one
//!   shopper of one source (the source of their first event in the window, set at ingest:
//!   `ingest::source_of`, a layer above). At most [`MAX_CLICK_ROWS`] rows (the most recent) are
//!   read.
//! - **orders**: the products of `Order Completed` events, with their customer (the
//!   bought-together relation), at most [`MAX_ORDERS`] orders.
//! - **the catalog** ([`crate::platform::store::catalog`], uploaded through the catalog feature
//!   above this one): the only items the model carries, with their name, price (cents),
//!   category, brand, URL, image and stock. Event properties never name an item.
//!
//! The minimum support `k` is a per-shop setting (`shops.min_support`, default
//! [`crate::shops::DEFAULT_MIN_SUPPORT`], the engine's default and the value the offline
//! evaluation reports).
//! Everything here is pure; [`handler`] serves the config, the model and the plugin files, and
//! [`jobs`] are the background work (model builds, segment sizes) the cron and the first events
//! of a new shop start. The SQL is the store's ([`crate::platform::store::models`]).

use std::collections::HashMap;

use affinity::recommend::{ItemMeta, Model, ModelBuilder, Relation};

pub use crate::platform::store::models::{BuildInfo, ClickRow, MetaRow, OrderRow};

#[cfg(target_arch = "wasm32")]
pub mod handler;
#[cfg(target_arch = "wasm32")]
pub mod jobs;

/// The window the model is built from, in days.
pub const WINDOW_DAYS: i64 = 30;

/// A gap longer than this (30 minutes) starts a new session.
pub const SESSION_GAP_MS: i64 = 30 * 60_000;

/// At most this many interaction rows (the most recent) feed one build: bounds D1 read time,
/// memory (≈ 60 B per row in Wasm) and CPU.
pub const MAX_CLICK_ROWS: usize = 200_000;

/// At most this many orders (the most recent) feed the bought-together relation.
pub const MAX_ORDERS: usize = 20_000;

/// A built model: its bytes and what is recorded about it (`created_at`/`build_ms` are set by
/// the caller, which knows the clock).
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    /// The encoded model.
    pub bytes: Vec<u8>,
    /// Its record.
    pub info: BuildInfo,
}

/// Splits interaction rows (sorted by customer, then time) into sessions: a new customer or a
/// gap longer than [`SESSION_GAP_MS`] starts a session; a repeat of the item just before (a card
/// click followed by the view of that product, a view then an add) is dropped.
pub fn sessions(rows: &[ClickRow]) -> Vec<Vec<(String, i64)>> {
    let mut out: Vec<Vec<(String, i64)>> = Vec::new();
    let mut last: Option<(&str, i64)> = None;
    for r in rows {
        let t = r.t as i64;
        let new = match last {
            Some((c, prev)) => c != r.c || t - prev > SESSION_GAP_MS,
            None => true,
        };
        if new {
            out.push(Vec::new());
        }
        last = Some((&r.c, t));
        if let Some(s) = out.last_mut() {
            if s.last().is_some_and(|(p, _)| *p == r.p) {
                continue;
            }
            s.push((r.p.clone(), t));
        }
    }
    out
}

/// The product ids of an `Order Completed` event (its stored JSON), by the engine's one
/// product-id rule ([`affinity::event::order_product_ids`]); none when the JSON does not parse.
pub fn order_products(event_json: &str) -> Vec<String> {
    affinity::json::parse(event_json)
        .ok()
        .and_then(|v| v.get("properties").map(affinity::event::order_product_ids))
        .unwrap_or_default()
}

/// Metadata of a catalog row as the model carries it (price in cents).
pub fn item_meta(row: &MetaRow) -> ItemMeta {
    ItemMeta {
        name: row.name.clone().unwrap_or_default(),
        price_cents: row
            .price
            .filter(|p| p.is_finite() && *p >= 0.0 && *p < 42_949_672.0)
            .map(|p| (p * 100.0).round() as u32),
        category: row.category.clone().filter(|c| !c.is_empty()),
        brand: row.brand.clone().filter(|b| !b.is_empty()),
        url: row.url.clone().unwrap_or_default(),
        image: row.image.clone().unwrap_or_default(),
        in_stock: row.in_stock.is_none_or(|s| s != 0.0),
    }
}

/// The smallest minimum support the edge builds with, whatever is stored: a figure backed by
/// one source never ships.
pub const MIN_K: u32 = 2;

/// Builds and encodes the model with the engine's builder at minimum support `k` (at least
/// [`MIN_K`]), trending measured at `as_of_ms` (the window's end): one shopper per customer,
/// catalog items only.
pub fn build(
    shop: &str,
    rows: &[ClickRow],
    orders: &[OrderRow],
    catalog: &[MetaRow],
    k: u32,
    as_of_ms: i64,
) -> Built {
    let mut builder = ModelBuilder::new();
    builder
        .min_support(k.max(MIN_K))
        .as_of(as_of_ms)
        .catalog_only(true);
    for m in catalog {
        builder.catalog_item(&m.id, item_meta(m));
    }
    let mut orders_of: HashMap<&str, (Option<&str>, Vec<Vec<String>>)> = HashMap::new();
    for o in orders {
        let items = order_products(&o.json);
        if !items.is_empty() {
            let e = orders_of
                .entry(&o.c)
                .or_insert((o.s.as_deref(), Vec::new()));
            e.1.push(items);
        }
    }
    let mut sessions_fed = 0usize;
    // Rows are sorted by customer, then time: one customer's rows are one run.
    for run in rows.chunk_by(|a, b| a.c == b.c) {
        let sessions = sessions(run);
        sessions_fed += sessions.len();
        let customer = run[0].c.as_str();
        let orders = orders_of.remove(customer).map(|o| o.1).unwrap_or_default();
        builder.add_shopper(
            &shopper_source(customer, run[0].s.as_deref()),
            &sessions,
            &orders,
        );
    }
    let mut rest: Vec<_> = orders_of.into_iter().collect();
    rest.sort_by(|a, b| a.0.cmp(b.0));
    for (customer, (source, orders)) in rest {
        builder.add_shopper::<String, String>(&shopper_source(customer, source), &[], &orders);
    }
    let model = builder.build();
    let bytes = model.encode();
    Built {
        info: BuildInfo {
            version: version_of(shop, &bytes),
            created_at: 0.0,
            items: model.len() as f64,
            pairs: pairs(&model) as f64,
            bytes: bytes.len() as f64,
            build_ms: 0.0,
            sessions: sessions_fed as f64,
            events: rows.len() as f64,
            format: f64::from(affinity::recommend::FORMAT_VERSION),
        },
        bytes,
    }
}

/// A shopper's source: the one the edge set at ingest, or for events stored before sources
/// existed, the customer alone (one source each).
fn shopper_source(customer: &str, source: Option<&str>) -> String {
    match source {
        Some(s) if !s.is_empty() => format!("s:{s}"),
        _ => format!("c:{customer}"),
    }
}

/// Neighbour pairs over the three relations.
pub fn pairs(model: &Model) -> usize {
    [
        Relation::Next,
        Relation::ViewedTogether,
        Relation::BoughtTogether,
    ]
    .iter()
    .map(|r| model.pairs(*r))
    .sum()
}

/// The version of a shop's encoded model: the first 16 hex digits of the SHA-256 of the shop id
/// and the bytes, so two shops' versions never coincide (not even for two empty models).
pub fn version_of(shop: &str, bytes: &[u8]) -> String {
    let mut data = Vec::with_capacity(shop.len() + 1 + bytes.len());
    data.extend_from_slice(shop.as_bytes());
    data.push(0);
    data.extend_from_slice(bytes);
    crate::platform::auth::sha256_hex(&data)[..16].to_string()
}

/// The KV key of a model.
pub fn kv_key(shop: &str, version: &str) -> String {
    format!("{}{version}", crate::platform::model_prefix(shop))
}

/// True if `s` looks like a model version (hex, 1–64 characters).
pub fn valid_version(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The first day (`YYYY-MM-DD`) of the 30-day window ending at `now_ms`.
pub fn window_start(now_ms: i64) -> String {
    affinity::time::format_date(now_ms - (WINDOW_DAYS - 1) * affinity::time::DAY_MS)
}

/// The first instant (Unix ms) of the 30 days ending at `now_ms` (recommendation measurement).
pub fn window_start_ms(now_ms: i64) -> i64 {
    now_ms - WINDOW_DAYS * affinity::time::DAY_MS
}

/// The build window at `now_ms`: `(start, end)` in Unix ms, [`WINDOW_DAYS`] whole UTC days
/// ending at the start of the current day.
pub fn window(now_ms: i64) -> (i64, i64) {
    let day = affinity::time::DAY_MS;
    let end = now_ms.div_euclid(day) * day;
    (end - WINDOW_DAYS * day, end)
}

/// A percentage as JSON: whole numbers without a fraction (`10`, not `10.0`).
fn percent_json(p: f64) -> serde_json::Value {
    if p.fract() == 0.0 && p.abs() < 1e15 {
        serde_json::Value::from(p as i64)
    } else {
        serde_json::Value::from(p)
    }
}

/// The config document the loader fetches:
/// `{"shop","version","model":"/v1/model/<version>?key=<key>","holdout_percent","consent"}`
/// (`consent`: the shop's consent policy, [`crate::shops::Settings::consent_json`]).
pub fn config_json(
    shop: &str,
    write_key: &str,
    model_version: Option<&str>,
    holdout_percent: f64,
    consent: serde_json::Value,
) -> String {
    let mut v = serde_json::json!({
        "shop": shop,
        "version": model_version.unwrap_or("none"),
        "holdout_percent": percent_json(holdout_percent),
        "consent": consent,
    });
    if let Some(version) = model_version {
        v["model"] = format!(
            "/v1/model/{version}?key={}",
            crate::platform::http::percent_encode(write_key)
        )
        .into();
    }
    v.to_string()
}

/// The KV key of a model's brotli-compressed bytes (beside [`kv_key`]).
pub fn kv_key_br(shop: &str, version: &str) -> String {
    format!("{}.br", kv_key(shop, version))
}

/// Models up to this many bytes are compressed at brotli's best quality (11); larger ones at 10.
/// On the demo model 11 saves 0.6 % over 10 and costs 2.5× its CPU (about 1.2 ms per KB
/// natively), so a multi-megabyte model stays within a build's CPU budget.
pub const BEST_QUALITY_UP_TO: usize = 1 << 20;

/// The model bytes compressed with brotli, as stored and served with `Content-Encoding: br`
/// (the window is 4 MB, enough to reach back across any model section).
pub fn compress(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() / 2);
    let params = brotli::enc::BrotliEncoderParams {
        quality: if bytes.len() <= BEST_QUALITY_UP_TO {
            11
        } else {
            10
        },
        lgwin: 22,
        size_hint: bytes.len(),
        ..Default::default()
    };
    let mut input = bytes;
    // Reading a slice and writing to a Vec cannot fail.
    let _ = brotli::BrotliCompress(&mut input, &mut out, &params);
    out
}

/// True when an `Accept-Encoding` header value accepts brotli: `br` listed and not refused with
/// a zero quality (`q=0`, `q=0.000`).
pub fn accepts_brotli(accept_encoding: &str) -> bool {
    accept_encoding.split(',').any(|part| {
        let mut it = part.split(';');
        let name = it.next().unwrap_or("").trim();
        let refused = it.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .is_some_and(|q| q.trim().parse::<f64>().is_ok_and(|q| q <= 0.0))
        });
        name.eq_ignore_ascii_case("br") && !refused
    })
}

/// The `Content-Type` and `Cache-Control` of a plugin file.
pub fn plugin_file_headers(file: &str) -> (&'static str, &'static str) {
    if file.ends_with(".wasm") {
        ("application/wasm", "public, max-age=3600")
    } else if file == "affinity.js" {
        // The loader is the one URL shops embed: keep it short-lived so fixes roll out fast.
        ("text/javascript; charset=utf-8", "public, max-age=300")
    } else {
        ("text/javascript; charset=utf-8", "public, max-age=3600")
    }
}

/// The admin rebuild answer: `{version, items, pairs, bytes, build_ms, sessions, events}`.
pub fn build_json(info: &BuildInfo) -> String {
    serde_json::json!({
        "version": info.version,
        "items": info.items as u64,
        "pairs": info.pairs as u64,
        "bytes": info.bytes as u64,
        "build_ms": info.build_ms as u64,
        "sessions": info.sessions as u64,
        "events": info.events as u64,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use affinity::recommend::{Query, Strategy};

    fn row(c: &str, p: &str, t: i64) -> ClickRow {
        ClickRow {
            c: c.into(),
            p: p.into(),
            t: t as f64,
            s: None,
        }
    }

    #[test]
    fn sessions_split_at_gaps_and_customers() {
        let min = 60_000;
        let rows = vec![
            row("a", "p1", 0),
            row("a", "p1", min), // click then view of the same product: once
            row("a", "p2", 2 * min),
            row("a", "p3", 2 * min + SESSION_GAP_MS), // exactly 30 min: same session
            row("a", "p4", 3 * min + 2 * SESSION_GAP_MS), // longer gap: new session
            row("b", "p1", 3 * min + 2 * SESSION_GAP_MS), // new customer: new session
            row("b", "p2", 4 * min + 2 * SESSION_GAP_MS),
            row("b", "p1", 5 * min + 2 * SESSION_GAP_MS), // not adjacent: kept
        ];
        let s = sessions(&rows);
        let ids: Vec<Vec<&str>> = s
            .iter()
            .map(|s| s.iter().map(|(p, _)| p.as_str()).collect())
            .collect();
        assert_eq!(
            ids,
            vec![vec!["p1", "p2", "p3"], vec!["p4"], vec!["p1", "p2", "p1"]]
        );
        assert_eq!(s[0][0].1, 0);
        assert!(sessions(&[]).is_empty());
    }

    #[test]
    fn orders_and_meta() {
        let json = r#"{"type":"track","event":"Order Completed","properties":{"order_id":"o1",
            "products":[{"product_id":"p1"},{"sku":"p2"},{"id":7},{"name":"no id"}]}}"#;
        assert_eq!(order_products(json), vec!["p1", "p2", "7"]);
        // One rule: the profile fold counts the same lines the model and attribution read.
        let event = affinity::event::Event::from_json(
            &affinity::json::parse(
                r#"{"type":"track","event":"Order Completed","anonymousId":"a","messageId":"m","timestamp":"2026-11-24T10:00:00Z",
                "properties":{"order_id":"o1","products":[{"product_id":"p1"},{"sku":"p2"},
                {"id":7},{"name":"no id"}]}}"#,
            )
            .unwrap_or_default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut profile = affinity::profile::Profile::new("a");
        profile.apply(&event);
        let bought: Vec<&str> = profile.orders[0].items.iter().map(String::as_str).collect();
        assert_eq!(bought, ["p1", "p2", "7"]);
        assert!(order_products("not json").is_empty());
        assert!(order_products("{}").is_empty());
        let m = item_meta(&MetaRow {
            id: "p1".into(),
            name: Some("Boot".into()),
            price: Some(119.99),
            category: Some("Boots".into()),
            brand: Some(String::new()),
            url: Some("/p/boot/".into()),
            image: None,
            in_stock: Some(0.0),
        });
        assert_eq!(m.price_cents, Some(11999));
        assert_eq!(m.brand, None);
        assert!(!m.in_stock);
        assert!(item_meta(&MetaRow::default()).in_stock);
    }

    fn catalog_row(id: &str, name: &str) -> MetaRow {
        MetaRow {
            id: id.into(),
            name: Some(name.into()),
            price: Some(10.0),
            ..MetaRow::default()
        }
    }

    #[test]
    fn builds_with_the_engine_from_the_catalog() {
        let mut rows = Vec::new();
        for s in 0..3 {
            let c = format!("c{s}");
            for (p, t) in [("p1", 0), ("p2", 1000), ("p3", 2000), ("p-1", 3000)] {
                rows.push(ClickRow {
                    s: Some(format!("src{s}")),
                    ..row(&c, p, t)
                });
            }
        }
        rows.sort_by(|a, b| a.c.cmp(&b.c).then(a.t.total_cmp(&b.t)));
        let order = |c: &str| OrderRow {
            c: c.into(),
            s: Some(format!("src-{c}")),
            json: r#"{"properties":{"products":[{"product_id":"p1"},{"product_id":"p3"}]}}"#.into(),
        };
        let orders = vec![order("c0"), order("c1")];
        let catalog = vec![
            catalog_row("p1", "First"),
            catalog_row("p2", "Second"),
            catalog_row("p3", "Third"),
            catalog_row("unseen", "Never clicked"),
        ];
        let built = build("demo", &rows, &orders, &catalog, 2, 10_000);
        assert_eq!(built.info.items, 4.0, "the catalog, and only the catalog");
        assert_eq!(built.info.sessions, 3.0);
        assert!(built.info.pairs > 0.0);
        assert_eq!(built.info.bytes as usize, built.bytes.len());
        assert_eq!(built.info.version, version_of("demo", &built.bytes));
        assert_ne!(version_of("a", &built.bytes), version_of("b", &built.bytes));
        let again = build("demo", &rows, &orders, &catalog, 2, 10_000);
        assert_eq!(again.bytes, built.bytes, "deterministic");
        let model = Model::decode(&built.bytes).unwrap_or_else(|_| Model::empty());
        assert_eq!(
            model.index_of("p-1"),
            None,
            "an id outside the catalog never ships"
        );
        let p2 = model.index_of("p2").unwrap_or(u32::MAX);
        assert_eq!(model.meta(p2).map(|m| m.price_cents), Some(Some(1000)));
        assert_eq!(model.name(p2), Some("Second"));
        let mut q = Query::new(Strategy::ForYou, 1);
        q.viewed("p1", 5000);
        let recs: Vec<&str> = model
            .recommend(&q)
            .iter()
            .filter_map(|r| model.id(r.item))
            .collect();
        // The viewed item itself (repeat), then what three shoppers clicked next.
        assert_eq!(recs, ["p1"]);
        q.count = 2;
        let recs: Vec<&str> = model
            .recommend(&q)
            .iter()
            .filter_map(|r| model.id(r.item))
            .collect();
        assert_eq!(recs, ["p1", "p2"]);
        // k below 2 is raised to 2: three shoppers of one source support nothing.
        let one_source: Vec<ClickRow> = rows
            .iter()
            .map(|r| ClickRow {
                s: Some("office".into()),
                ..r.clone()
            })
            .collect();
        let m = build("demo", &one_source, &[], &catalog, 1, 10_000);
        let m = Model::decode(&m.bytes).unwrap_or_else(|_| Model::empty());
        let p1 = m.index_of("p1").unwrap_or(u32::MAX);
        assert_eq!(m.neighbors(Relation::Next, p1).count(), 0);
        assert_eq!(m.popularity(p1), 0);
        let empty = build("demo", &[], &[], &[], 2, 0);
        assert_eq!(empty.info.items, 0.0);
        assert!(Model::decode(&empty.bytes).is_ok());
    }

    #[test]
    fn the_window_is_whole_days() {
        let day = affinity::time::DAY_MS;
        assert_eq!(window(40 * day + 5), (10 * day, 40 * day));
        assert_eq!(window(41 * day - 1), (10 * day, 40 * day));
        assert_eq!(window(41 * day), (11 * day, 41 * day));
    }

    #[test]
    fn models_compress_and_round_trip() {
        let catalog: Vec<MetaRow> = (0..23)
            .map(|p| catalog_row(&format!("p{p}"), &format!("Product {p}")))
            .collect();
        let rows: Vec<ClickRow> = (0..400)
            .map(|i| ClickRow {
                s: Some(format!("src{}", i % 40)),
                ..row(&format!("c{}", i % 40), &format!("p{}", i % 23), i * 1000)
            })
            .collect();
        let built = build("demo", &rows, &[], &catalog, 2, 1_000_000);
        let br = compress(&built.bytes);
        assert!(
            br.len() < built.bytes.len(),
            "{} < {}",
            br.len(),
            built.bytes.len()
        );
        let mut back = Vec::new();
        brotli::BrotliDecompress(&mut br.as_slice(), &mut back).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, built.bytes);
    }

    #[test]
    fn brotli_is_sent_only_to_clients_that_accept_it() {
        assert!(accepts_brotli("gzip, deflate, br, zstd"));
        assert!(accepts_brotli("BR;q=0.5"));
        assert!(accepts_brotli("gzip;q=1.0, br ; q=0.001"));
        assert!(!accepts_brotli("gzip, deflate"));
        assert!(!accepts_brotli("br;q=0, gzip"));
        assert!(!accepts_brotli("br; q=0.000"));
        assert!(!accepts_brotli("brotli"));
        assert!(!accepts_brotli(""));
    }

    #[test]
    fn config_and_settings() {
        let c: serde_json::Value = serde_json::from_str(&config_json(
            "demo",
            "pk demo",
            Some("abc123"),
            10.0,
            serde_json::json!({"default": "device"}),
        ))
        .unwrap_or_default();
        assert_eq!(c["shop"], "demo");
        assert_eq!(c["version"], "abc123");
        assert_eq!(c["model"], "/v1/model/abc123?key=pk%20demo");
        assert_eq!(c["consent"]["default"], "device");
        assert!(c.to_string().contains("\"holdout_percent\":10"));
        let half: serde_json::Value =
            serde_json::from_str(&config_json("d", "k", None, 2.5, serde_json::Value::Null))
                .unwrap_or_default();
        assert_eq!(half["holdout_percent"], 2.5);
        assert_eq!(half["version"], "none");
        assert!(
            half.get("model").is_none(),
            "no model yet: the page falls back"
        );
    }

    #[test]
    fn versions_and_keys() {
        assert!(valid_version("0123abcdef"));
        assert!(!valid_version("xyz"));
        assert!(!valid_version(""));
        assert_eq!(kv_key("demo", "ab"), "model/demo/ab");
        assert_eq!(window_start(30 * affinity::time::DAY_MS), "1970-01-02");
        let b = BuildInfo {
            version: "v".into(),
            items: 3.0,
            pairs: 4.0,
            bytes: 100.0,
            build_ms: 12.0,
            ..BuildInfo::default()
        };
        let j: serde_json::Value = serde_json::from_str(&build_json(&b)).unwrap_or_default();
        assert_eq!(j["items"], 3);
        assert_eq!(j["build_ms"], 12);
    }
}
