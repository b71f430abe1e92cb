//! The item model browsers rank with. For now: the shop's popular items from D1 (views, adds×3,
//! purchases×5 over the last 30 days, known out-of-stock items left out), versioned by a hash
//! of the content. A later issue replaces it with a compact binary model built by cron.

use serde::{Deserialize, Serialize};

/// How many popular items the model carries.
pub const POPULAR_LIMIT: usize = 24;

/// The popularity window, in days.
pub const WINDOW_DAYS: i64 = 30;

/// Popular items over a window: `?1` shop, `?2` first day (`YYYY-MM-DD`), `?3` limit.
pub const POPULAR_SQL: &str = "SELECT p.product_id AS id, p.name AS name, p.price AS price, \
    p.category AS category, p.brand AS brand, p.url AS url, p.image AS image, \
    SUM(d.views) + 3 * SUM(d.adds) + 5 * SUM(d.purchases) AS score \
    FROM product_daily d JOIN products p ON p.shop = d.shop AND p.product_id = d.product_id \
    WHERE d.shop = ?1 AND d.day >= ?2 AND (p.in_stock IS NULL OR p.in_stock <> 0) \
    GROUP BY p.product_id ORDER BY score DESC, p.product_id LIMIT ?3";

/// One popular item, as a D1 row and as model JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PopularItem {
    /// Product id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Price.
    pub price: Option<f64>,
    /// Category.
    pub category: Option<String>,
    /// Brand.
    pub brand: Option<String>,
    /// Product page URL.
    pub url: Option<String>,
    /// Image URL.
    pub image: Option<String>,
    /// Popularity score over the window.
    pub score: f64,
}

/// A built model: its version and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Content hash (16 hex digits); also the ETag.
    pub version: String,
    /// `{"version":…,"popular":[…]}`.
    pub body: String,
}

/// Builds the model JSON from popular items; the version is a hash of the items, so an
/// unchanged model keeps its version (and ETag).
pub fn build(popular: &[PopularItem]) -> Model {
    let items = serde_json::to_string(popular).unwrap_or_else(|_| "[]".to_string());
    let version = crate::auth::sha256_hex(items.as_bytes())[..16].to_string();
    let body = format!("{{\"version\":\"{version}\",\"popular\":{items}}}");
    Model { version, body }
}

/// The first day of the popularity window ending at `now_ms`.
pub fn window_start(now_ms: i64) -> String {
    affinity::time::format_date(now_ms - (WINDOW_DAYS - 1) * affinity::time::DAY_MS)
}

/// The config document the loader fetches: `{"shop","model","version"}`.
pub fn config_json(shop: &str, write_key: &str, version: &str) -> String {
    serde_json::json!({
        "shop": shop,
        "model": format!("/v1/model?key={}&v={version}", crate::routes::percent_encode(write_key)),
        "version": version,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, score: f64) -> PopularItem {
        PopularItem {
            id: id.into(),
            name: format!("Item {id}"),
            price: Some(10.0),
            category: None,
            brand: Some("B".into()),
            url: None,
            image: None,
            score,
        }
    }

    #[test]
    fn version_follows_content() {
        let a = build(&[item("p1", 3.0), item("p2", 1.0)]);
        let b = build(&[item("p1", 3.0), item("p2", 1.0)]);
        let c = build(&[item("p1", 4.0), item("p2", 1.0)]);
        assert_eq!(a, b);
        assert_ne!(a.version, c.version);
        assert_eq!(a.version.len(), 16);
        let v: serde_json::Value = serde_json::from_str(&a.body).unwrap_or_default();
        assert_eq!(v["version"], a.version.as_str());
        assert_eq!(v["popular"][0]["id"], "p1");
        assert_eq!(v["popular"][0]["score"], 3.0);
        assert!(v["popular"][0]["category"].is_null());
        assert!(build(&[]).body.contains("\"popular\":[]"));
    }

    #[test]
    fn window_and_config() {
        assert_eq!(window_start(30 * affinity::time::DAY_MS), "1970-01-02");
        let c: serde_json::Value =
            serde_json::from_str(&config_json("demo", "pk_demo", "abc")).unwrap_or_default();
        assert_eq!(c["shop"], "demo");
        assert_eq!(c["model"], "/v1/model?key=pk_demo&v=abc");
        assert_eq!(c["version"], "abc");
    }
}
