//! What a model build reads (interactions, orders, item metadata) and the `models` record.

use affinity::event::names;
use serde::{Deserialize, Serialize};

use super::{Count, Query, Stmt};

/// One interaction row.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ClickRow {
    /// Customer id.
    pub c: String,
    /// Product id.
    pub p: String,
    /// Time, Unix ms (D1 numbers arrive as f64).
    pub t: f64,
}

/// Interaction rows (`Product Viewed`, `Product Clicked`, `Product Added`, bots left out) since
/// `since_ms`: the most recent `limit`, then ordered by customer and time.
pub fn clicks(shop: &str, since_ms: i64, limit: usize) -> Query<ClickRow> {
    Query::named(
        "SELECT c, p, t FROM (SELECT customer_id AS c, product_id AS p, ts AS t FROM events \
         WHERE shop = :shop AND ts >= :since AND bot = 0 AND type = 'track' \
         AND name IN (:viewed, :clicked, :added) AND product_id IS NOT NULL \
         AND product_id <> '' ORDER BY ts DESC LIMIT :limit) ORDER BY c, t",
        &[
            ("shop", shop.into()),
            ("since", since_ms.into()),
            ("viewed", names::PRODUCT_VIEWED.into()),
            ("clicked", names::PRODUCT_CLICKED.into()),
            ("added", names::PRODUCT_ADDED.into()),
            ("limit", limit.into()),
        ],
    )
}

/// A stored event's JSON.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct JsonRow {
    /// The event as JSON.
    pub json: String,
}

/// Completed orders (raw event JSON, bots left out) since `since_ms`, the most recent `limit`.
pub fn orders(shop: &str, since_ms: i64, limit: usize) -> Query<JsonRow> {
    Query::named(
        "SELECT json FROM events WHERE shop = :shop AND ts >= :since AND bot = 0 \
         AND type = 'track' AND name = :order_completed ORDER BY ts DESC LIMIT :limit",
        &[
            ("shop", shop.into()),
            ("since", since_ms.into()),
            ("order_completed", names::ORDER_COMPLETED.into()),
            ("limit", limit.into()),
        ],
    )
}

/// One `products` row.
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

/// Item metadata of every product of a shop.
pub fn meta(shop: &str) -> Query<MetaRow> {
    Query::named(
        "SELECT product_id AS id, name, price, category, brand, url, image, in_stock \
         FROM products WHERE shop = :shop ORDER BY product_id",
        &[("shop", shop.into())],
    )
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
