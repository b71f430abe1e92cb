//! What the dashboard's overview and customer pages read from D1.

use serde::Deserialize;

use super::{like_prefix, Query};

/// Customers seen and customers with an order (bots left out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct CustomerCounts {
    /// Customers.
    #[serde(default)]
    pub customers: Option<f64>,
    /// Customers with at least one order.
    #[serde(default)]
    pub buyers: Option<f64>,
}

/// Customer counts of a shop.
pub fn customer_counts(shop: &str) -> Query<CustomerCounts> {
    Query::named(
        "SELECT COUNT(*) AS customers, SUM(orders > 0) AS buyers FROM customers \
         WHERE shop = :shop AND bot = 0",
        &[("shop", shop.into())],
    )
}

/// Orders and their revenue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct OrderTotals {
    /// Orders.
    #[serde(default)]
    pub orders: Option<f64>,
    /// Revenue.
    #[serde(default)]
    pub revenue: Option<f64>,
}

/// Order totals of a shop.
pub fn order_totals(shop: &str) -> Query<OrderTotals> {
    Query::named(
        "SELECT COUNT(*) AS orders, SUM(total) AS revenue FROM orders WHERE shop = :shop",
        &[("shop", shop.into())],
    )
}

/// Events counted in the rollup.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct EventTotal {
    /// Events (NULL when there are no days).
    #[serde(default)]
    pub events: Option<f64>,
}

/// Events of the rollup since `since_day`.
pub fn events_since(shop: &str, since_day: &str) -> Query<EventTotal> {
    Query::named(
        "SELECT SUM(events) AS events FROM daily WHERE shop = :shop AND day >= :since",
        &[("shop", shop.into()), ("since", since_day.into())],
    )
}

/// One day of the `daily` rollup.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Day {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Events.
    #[serde(default)]
    pub events: f64,
    /// Orders.
    #[serde(default)]
    pub orders: f64,
    /// Revenue.
    #[serde(default)]
    pub revenue: f64,
}

/// The daily rollup since `since_day`, oldest first.
pub fn days(shop: &str, since_day: &str) -> Query<Day> {
    Query::named(
        "SELECT day, events, orders, revenue FROM daily WHERE shop = :shop AND day >= :since \
         ORDER BY day",
        &[("shop", shop.into()), ("since", since_day.into())],
    )
}

/// A product's interaction counts.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TopProduct {
    /// Product id.
    pub product_id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Views.
    #[serde(default)]
    pub views: f64,
    /// Cart adds.
    #[serde(default)]
    pub adds: f64,
    /// Units purchased.
    #[serde(default)]
    pub purchases: f64,
}

/// The most viewed products.
pub fn top_products(shop: &str, limit: u32) -> Query<TopProduct> {
    Query::named(
        "SELECT product_id, name, views, adds, purchases FROM products WHERE shop = :shop \
         ORDER BY views DESC, purchases DESC, product_id LIMIT :limit",
        &[("shop", shop.into()), ("limit", limit.into())],
    )
}

/// An order row.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct OrderRow {
    /// Order id.
    pub order_id: String,
    /// Customer id.
    pub customer_id: String,
    /// When, Unix ms.
    pub ts: f64,
    /// Total.
    #[serde(default)]
    pub total: f64,
    /// Items (units).
    #[serde(default)]
    pub items: f64,
}

/// The latest orders.
pub fn latest_orders(shop: &str, limit: u32) -> Query<OrderRow> {
    Query::named(
        "SELECT order_id, customer_id, ts, total, items FROM orders WHERE shop = :shop \
         ORDER BY ts DESC, order_id LIMIT :limit",
        &[("shop", shop.into()), ("limit", limit.into())],
    )
}

/// A customer mirror row.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CustomerRow {
    /// Customer id.
    pub customer_id: String,
    /// User id, when known.
    #[serde(default)]
    pub user_id: Option<String>,
    /// First seen, Unix ms.
    #[serde(default)]
    pub first_seen: f64,
    /// Last seen, Unix ms.
    #[serde(default)]
    pub last_seen: f64,
    /// Sessions.
    #[serde(default)]
    pub sessions: f64,
    /// Orders.
    #[serde(default)]
    pub orders: f64,
    /// Total spend.
    #[serde(default)]
    pub total_spend: f64,
    /// Product views.
    #[serde(default)]
    pub product_views: f64,
    /// Latest event's label.
    #[serde(default)]
    pub last_event: Option<String>,
    /// 1 if flagged as a bot.
    #[serde(default)]
    pub bot: f64,
    /// Summary JSON (top category, brand, cart, contact).
    #[serde(default)]
    pub summary: Option<String>,
}

/// The most recently seen customers whose id starts with `prefix` (all when empty).
pub fn customers(shop: &str, prefix: &str, limit: u32) -> Query<CustomerRow> {
    Query::named(
        "SELECT customer_id, user_id, first_seen, last_seen, sessions, orders, total_spend, \
         product_views, last_event, bot, summary FROM customers WHERE shop = :shop \
         AND customer_id LIKE :prefix ESCAPE '\\' ORDER BY last_seen DESC, customer_id \
         LIMIT :limit",
        &[
            ("shop", shop.into()),
            ("prefix", like_prefix(prefix).into()),
            ("limit", limit.into()),
        ],
    )
}
