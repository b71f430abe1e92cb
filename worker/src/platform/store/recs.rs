//! What recommendation measurement reads: slot impressions and clicks, recommendation clicks,
//! completed orders and the shoppers exposed to personalized slots.

use affinity::event::names;
use serde::Deserialize;

use super::Query;

/// Impressions and clicks of one slot and variant.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SlotRow {
    /// `affinity:<slot>`.
    pub list_id: String,
    /// `personalized`, `holdout` (or what the page sent).
    pub variant: String,
    /// Slot views.
    #[serde(default)]
    pub impressions: f64,
    /// Card clicks.
    #[serde(default)]
    pub clicks: f64,
}

/// Impressions and clicks per slot and variant since `since_ms`.
pub fn slots(shop: &str, since_ms: i64) -> Query<SlotRow> {
    Query::named(
        "SELECT list_id, COALESCE(variant, '') AS variant, \
         SUM(name = :list_viewed) AS impressions, SUM(name = :clicked) AS clicks \
         FROM events WHERE shop = :shop AND list_id LIKE 'affinity:%' AND ts >= :since \
         AND bot = 0 AND type = 'track' GROUP BY list_id, variant ORDER BY list_id, variant",
        &[
            ("list_viewed", names::PRODUCT_LIST_VIEWED.into()),
            ("clicked", names::PRODUCT_CLICKED.into()),
            ("shop", shop.into()),
            ("since", since_ms.into()),
        ],
    )
}

/// One recommendation click.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Click {
    /// Shopper (anonymous id, else customer id).
    pub shopper: String,
    /// Clicked product.
    pub product_id: String,
    /// When, Unix ms.
    pub ts: f64,
    /// `affinity:<slot>`.
    pub list_id: String,
    /// Variant.
    pub variant: String,
}

/// Recommendation clicks since `since_ms`, oldest first, at most `limit`.
pub fn clicks(shop: &str, since_ms: i64, limit: usize) -> Query<Click> {
    Query::named(
        "SELECT COALESCE(anonymous_id, customer_id) AS shopper, \
         COALESCE(product_id, '') AS product_id, ts, list_id, COALESCE(variant, '') AS variant \
         FROM events WHERE shop = :shop AND list_id LIKE 'affinity:%' AND ts >= :since \
         AND bot = 0 AND name = :clicked ORDER BY ts LIMIT :limit",
        &[
            ("shop", shop.into()),
            ("since", since_ms.into()),
            ("clicked", names::PRODUCT_CLICKED.into()),
            ("limit", limit.into()),
        ],
    )
}

/// One completed order (raw event row).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct OrderEvent {
    /// Shopper (anonymous id, else customer id).
    pub shopper: String,
    /// When, Unix ms.
    pub ts: f64,
    /// Order revenue.
    #[serde(default)]
    pub revenue: f64,
    /// The event JSON (for the products).
    #[serde(default)]
    pub json: String,
}

/// Completed orders since `since_ms` (first delivery only: `revenue` is set once per order id),
/// oldest first, at most `limit`.
pub fn orders(shop: &str, since_ms: i64, limit: usize) -> Query<OrderEvent> {
    Query::named(
        "SELECT COALESCE(anonymous_id, customer_id) AS shopper, ts, revenue, json FROM events \
         WHERE shop = :shop AND ts >= :since AND bot = 0 AND type = 'track' \
         AND name = :order_completed AND revenue IS NOT NULL ORDER BY ts LIMIT :limit",
        &[
            ("shop", shop.into()),
            ("since", since_ms.into()),
            ("order_completed", names::ORDER_COMPLETED.into()),
            ("limit", limit.into()),
        ],
    )
}

/// A shopper exposed to a personalized slot.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Exposure {
    /// Shopper.
    pub shopper: String,
    /// 1 when in the holdout.
    pub holdout: f64,
    /// First exposure, Unix ms.
    pub first_ts: f64,
}

/// Shoppers exposed to one of `slots` (list ids) since `since_ms`, with their group, at most
/// `limit`.
pub fn exposures(shop: &str, slots: &[&str; 4], since_ms: i64, limit: usize) -> Query<Exposure> {
    Query::named(
        "SELECT COALESCE(anonymous_id, customer_id) AS shopper, \
         MAX(variant = 'holdout') AS holdout, MIN(ts) AS first_ts FROM events \
         WHERE shop = :shop AND list_id IN (:s0, :s1, :s2, :s3) AND ts >= :since AND bot = 0 \
         AND name = :list_viewed AND variant IN ('personalized', 'holdout') \
         GROUP BY shopper LIMIT :limit",
        &[
            ("shop", shop.into()),
            ("s0", slots[0].into()),
            ("s1", slots[1].into()),
            ("s2", slots[2].into()),
            ("s3", slots[3].into()),
            ("since", since_ms.into()),
            ("list_viewed", names::PRODUCT_LIST_VIEWED.into()),
            ("limit", limit.into()),
        ],
    )
}
