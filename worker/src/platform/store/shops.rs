//! Shops: their keys, admin secret hashes and settings.

use serde::Deserialize;

use super::{Query, Stmt};

/// A shop row.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Shop {
    /// Shop id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Public write key.
    pub write_key: String,
    /// Salted hash of the admin secret (`platform::auth::admin_hash`).
    pub admin_hash: String,
}

const SHOP_COLUMNS: &str = "SELECT id, name, write_key, admin_hash FROM shops";

/// The shop a write key belongs to.
pub fn by_key(key: &str) -> Query<Shop> {
    Query::named(
        &format!("{SHOP_COLUMNS} WHERE write_key = :key"),
        &[("key", key.into())],
    )
}

/// A shop by id.
pub fn by_id(id: &str) -> Query<Shop> {
    Query::named(
        &format!("{SHOP_COLUMNS} WHERE id = :id"),
        &[("id", id.into())],
    )
}

/// Creates a shop, or updates its name, write key and secret hash.
pub fn upsert(shop: &Shop, now_ms: i64) -> Stmt {
    Stmt::named(
        "INSERT INTO shops (id, name, write_key, admin_hash, created_at) \
         VALUES (:id, :name, :write_key, :admin_hash, :now) ON CONFLICT (id) DO UPDATE SET \
         name = excluded.name, write_key = excluded.write_key, admin_hash = excluded.admin_hash",
        &[
            ("id", shop.id.as_str().into()),
            ("name", shop.name.as_str().into()),
            ("write_key", shop.write_key.as_str().into()),
            ("admin_hash", shop.admin_hash.as_str().into()),
            ("now", now_ms.into()),
        ],
    )
}

/// A shop's stored settings (`shops.min_support`, `shops.holdout_percent`); NULL where unset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct SettingsRow {
    /// Minimum support `k` of the model build.
    #[serde(default)]
    pub min_support: Option<f64>,
    /// Share of shoppers in the recommendation holdout, in percent.
    #[serde(default)]
    pub holdout_percent: Option<f64>,
}

/// The shop's settings.
pub fn settings(shop: &str) -> Query<SettingsRow> {
    Query::named(
        "SELECT min_support, holdout_percent FROM shops WHERE id = :shop",
        &[("shop", shop.into())],
    )
}

/// Stores the shop's settings.
pub fn set_settings(shop: &str, min_support: f64, holdout_percent: f64) -> Stmt {
    Stmt::named(
        "UPDATE shops SET min_support = :min_support, holdout_percent = :holdout_percent \
         WHERE id = :shop",
        &[
            ("min_support", min_support.into()),
            ("holdout_percent", holdout_percent.into()),
            ("shop", shop.into()),
        ],
    )
}

/// One shop id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ShopId {
    /// Shop id.
    pub id: String,
}

/// Shops with events received after their latest model (the cron rebuilds these), at most
/// `limit`.
pub fn stale_models(limit: usize) -> Query<ShopId> {
    Query::named(
        "SELECT s.id AS id FROM shops s WHERE EXISTS (SELECT 1 FROM events e WHERE e.shop = s.id \
         AND e.received_at > COALESCE((SELECT MAX(m.created_at) FROM models m \
         WHERE m.shop = s.id), 0)) ORDER BY s.id LIMIT :limit",
        &[("limit", limit.into())],
    )
}

/// Shops that have segments (the cron records their sizes), at most `limit`.
pub fn with_segments(limit: usize) -> Query<ShopId> {
    Query::named(
        "SELECT shop AS id FROM segment_sets ORDER BY shop LIMIT :limit",
        &[("limit", limit.into())],
    )
}
