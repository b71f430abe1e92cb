//! What a model build reads (interactions, orders; item metadata is the catalog's) and the
//! `models` record.

use affinity::event::names;
use serde::{Deserialize, Serialize};

use super::{Count, Query, Stmt};

/// One interaction row.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ClickRow {
    /// Customer id.
    pub c: String,
    /// Product id.
    pub p: String,
    /// Time, Unix ms (D1 numbers arrive as f64).
    pub t: f64,
    /// The event's source (`context.affinitySource`, set by the edge at ingest).
    #[serde(default)]
    pub s: Option<String>,
}

/// Which events a model build counts: not flagged as bots, and not of a customer whose current
/// consent level is below `analytics` (`customers.consent` is `none` or `device`: a shopper who
/// lowered the level is left out of every build from then on, past events included; NULL, never
/// stated, counts). This is the one place that decides whose behaviour the model learns from.
const COUNTED: &str = "bot = 0 AND NOT EXISTS (SELECT 1 FROM customers k \
     WHERE k.shop = events.shop AND k.customer_id = events.customer_id \
     AND k.consent IN ('none', 'device'))";

/// Interaction rows (`Product Viewed`, `Product Clicked`, `Product Added`, [`COUNTED`] only) in
/// the build window `since_ms..until_ms`: the most recent `limit`, then ordered by customer
/// and time.
pub fn clicks(shop: &str, since_ms: i64, until_ms: i64, limit: usize) -> Query<ClickRow> {
    Query::named(
        &format!(
            "SELECT c, p, t, s FROM (SELECT customer_id AS c, product_id AS p, ts AS t, \
             json_extract(json, '$.context.affinitySource') AS s FROM events \
             WHERE shop = :shop AND ts >= :since AND ts < :until AND {COUNTED} \
             AND type = 'track' AND name IN (:viewed, :clicked, :added) \
             AND product_id IS NOT NULL AND product_id <> '' ORDER BY ts DESC LIMIT :limit) \
             ORDER BY c, t"
        ),
        &[
            ("shop", shop.into()),
            ("since", since_ms.into()),
            ("until", until_ms.into()),
            ("viewed", names::PRODUCT_VIEWED.into()),
            ("clicked", names::PRODUCT_CLICKED.into()),
            ("added", names::PRODUCT_ADDED.into()),
            ("limit", limit.into()),
        ],
    )
}

/// A completed order: its customer, source and event JSON.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct OrderRow {
    /// Customer id.
    pub c: String,
    /// The event's source (see [`ClickRow::s`]).
    #[serde(default)]
    pub s: Option<String>,
    /// The event as JSON.
    pub json: String,
}

/// Completed orders ([`COUNTED`] only) in the build window, the most recent `limit`.
pub fn orders(shop: &str, since_ms: i64, until_ms: i64, limit: usize) -> Query<OrderRow> {
    Query::named(
        &format!(
            "SELECT customer_id AS c, json_extract(json, '$.context.affinitySource') AS s, json \
             FROM events WHERE shop = :shop AND ts >= :since AND ts < :until AND {COUNTED} \
             AND type = 'track' AND name = :order_completed ORDER BY ts DESC LIMIT :limit"
        ),
        &[
            ("shop", shop.into()),
            ("since", since_ms.into()),
            ("until", until_ms.into()),
            ("order_completed", names::ORDER_COMPLETED.into()),
            ("limit", limit.into()),
        ],
    )
}

/// Item metadata of one product (a `catalog` row).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct MetaRow {
    /// Product id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Price in the shop's currency.
    #[serde(default)]
    pub price: Option<f64>,
    /// Category.
    #[serde(default)]
    pub category: Option<String>,
    /// Brand.
    #[serde(default)]
    pub brand: Option<String>,
    /// Product page URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Image URL.
    #[serde(default)]
    pub image: Option<String>,
    /// 0 when known to be out of stock.
    #[serde(default)]
    pub in_stock: Option<f64>,
}

/// A recorded build (a `models` row).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct BuildInfo {
    /// Content hash of the encoded model (16 hex digits): KV key suffix, URL and ETag.
    pub version: String,
    /// When it was built, Unix ms.
    #[serde(default)]
    pub created_at: f64,
    /// Items in the model.
    pub items: f64,
    /// Neighbour pairs over the three relations.
    pub pairs: f64,
    /// Encoded size in bytes.
    pub bytes: f64,
    /// Wall time of read + build + encode, ms.
    pub build_ms: f64,
    /// Sessions fed.
    #[serde(default)]
    pub sessions: f64,
    /// Interaction rows read.
    #[serde(default)]
    pub events: f64,
    /// The binary format version it was encoded with ([`affinity::recommend::FORMAT_VERSION`]).
    #[serde(default)]
    pub format: f64,
}

/// The latest model of a shop.
pub fn latest(shop: &str) -> Query<BuildInfo> {
    Query::named(
        "SELECT version, created_at, items, pairs, bytes, build_ms, sessions, events, format \
         FROM models WHERE shop = :shop ORDER BY created_at DESC LIMIT 1",
        &[("shop", shop.into())],
    )
}

/// Records a build (a rebuild of the same bytes updates its time).
pub fn record(shop: &str, b: &BuildInfo) -> Stmt {
    Stmt::named(
        "INSERT INTO models (shop, version, created_at, items, pairs, bytes, build_ms, sessions, \
         events, format) VALUES (:shop, :version, :created_at, :items, :pairs, :bytes, \
         :build_ms, :sessions, :events, :format) ON CONFLICT (shop, version) DO UPDATE SET \
         created_at = excluded.created_at, build_ms = excluded.build_ms",
        &[
            ("shop", shop.into()),
            ("version", b.version.as_str().into()),
            ("created_at", b.created_at.into()),
            ("items", b.items.into()),
            ("pairs", b.pairs.into()),
            ("bytes", b.bytes.into()),
            ("build_ms", b.build_ms.into()),
            ("sessions", b.sessions.into()),
            ("events", b.events.into()),
            ("format", b.format.into()),
        ],
    )
}

/// 1 if the shop has events received after `after_ms`, else 0.
pub fn newer_events(shop: &str, after_ms: f64) -> Query<Count> {
    Query::named(
        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM events WHERE shop = :shop \
         AND received_at > :after LIMIT 1)",
        &[("shop", shop.into()), ("after", after_ms.into())],
    )
}
