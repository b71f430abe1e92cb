//! What the dashboard's overview and customer pages read from D1.

use serde::Deserialize;

use super::{like_prefix, Arg, Query};

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

/// The UTC ranges `[start_ms, end_ms)` of a page's buckets as the JSON list the bucketed queries
/// read with `json_each`; `slots` converts them to rollup slots first.
fn ranges_json(ranges: &[(i64, i64)], slots: bool) -> String {
    let conv = |ms: i64| {
        if slots {
            super::rollups::slot_of(ms)
        } else {
            ms
        }
    };
    let items: Vec<String> = ranges
        .iter()
        .map(|(a, b)| format!("[{},{}]", conv(*a), conv(*b)))
        .collect();
    format!("[{}]", items.join(","))
}

/// The buckets CTE: `b(i, lo, hi)` from the `:ranges` JSON list.
const BUCKETS: &str = "WITH b AS MATERIALIZED (SELECT CAST(key AS INTEGER) AS i, \
     json_extract(value, '$[0]') AS lo, json_extract(value, '$[1]') AS hi \
     FROM json_each(:ranges))";

/// The shop's totals in each of a page's buckets (one row per bucket, by index `i`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SlotTotals {
    /// The bucket's index in the list asked for.
    pub i: f64,
    /// Events (bots excluded).
    #[serde(default)]
    pub events: f64,
    /// Page views.
    #[serde(default)]
    pub page_views: f64,
    /// Product views.
    #[serde(default)]
    pub product_views: f64,
    /// Cart adds.
    #[serde(default)]
    pub adds: f64,
    /// Checkouts started.
    #[serde(default)]
    pub checkouts: f64,
    /// Sessions started.
    #[serde(default)]
    pub sessions: f64,
    /// Orders.
    #[serde(default)]
    pub orders: f64,
    /// Units in those orders.
    #[serde(default)]
    pub items: f64,
    /// Their revenue (before refunds).
    #[serde(default)]
    pub revenue: f64,
    /// Refunds.
    #[serde(default)]
    pub refunds: f64,
    /// Refunded amount.
    #[serde(default)]
    pub refunded: f64,
    /// Distinct visitors (exact, from `visitor_slots` and its chain).
    #[serde(default)]
    pub visitors: f64,
    /// Distinct customers with an order.
    #[serde(default)]
    pub buyers: f64,
}

/// The rollups summed over each UTC range (local days, weeks, months), with exact distinct
/// visitors and buyers; every range is answered, with zeros where nothing happened. A visitor
/// counts once in a range: by their first `visitor_slots` row in it, the one whose `prev` is
/// before the range (`migrations/0010_distinct_chains.sql`).
pub fn slot_totals(shop: &str, ranges: &[(i64, i64)]) -> Query<SlotTotals> {
    let sql = format!(
        "{BUCKETS}, t AS (SELECT b.i, SUM(r.events) AS events, SUM(r.page_views) AS page_views, \
         SUM(r.product_views) AS product_views, SUM(r.adds) AS adds, \
         SUM(r.checkouts) AS checkouts, SUM(r.sessions) AS sessions, SUM(r.orders) AS orders, \
         SUM(r.items) AS items, SUM(r.revenue) AS revenue, SUM(r.refunds) AS refunds, \
         SUM(r.refunded) AS refunded FROM b JOIN rollup_slots r ON r.shop = :shop \
         AND r.slot >= b.lo AND r.slot < b.hi GROUP BY b.i), \
         v AS (SELECT b.i, (SELECT COUNT(*) FROM visitor_slots s \
         INDEXED BY visitor_slots_first WHERE s.shop = :shop AND s.slot >= b.lo \
         AND s.slot < b.hi AND (s.prev IS NULL OR s.prev < b.lo)) AS visitors FROM b), \
         o AS (SELECT b.i, COUNT(DISTINCT o.customer_id) AS buyers FROM b \
         JOIN orders o ON o.shop = :shop AND o.ts >= b.lo * {slot} AND o.ts < b.hi * {slot} \
         GROUP BY b.i) \
         SELECT b.i AS i, COALESCE(t.events, 0) AS events, COALESCE(t.page_views, 0) AS page_views, \
         COALESCE(t.product_views, 0) AS product_views, COALESCE(t.adds, 0) AS adds, \
         COALESCE(t.checkouts, 0) AS checkouts, COALESCE(t.sessions, 0) AS sessions, \
         COALESCE(t.orders, 0) AS orders, COALESCE(t.items, 0) AS items, \
         COALESCE(t.revenue, 0) AS revenue, COALESCE(t.refunds, 0) AS refunds, \
         COALESCE(t.refunded, 0) AS refunded, COALESCE(v.visitors, 0) AS visitors, \
         COALESCE(o.buyers, 0) AS buyers FROM b LEFT JOIN t ON t.i = b.i \
         LEFT JOIN v ON v.i = b.i LEFT JOIN o ON o.i = b.i ORDER BY b.i",
        slot = super::rollups::SLOT_MS
    );
    Query::named(
        &sql,
        &[
            ("ranges", ranges_json(ranges, true).into()),
            ("shop", shop.into()),
        ],
    )
}

/// The latest event a shop received.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Freshness {
    /// When the edge received it, Unix ms.
    pub last_received: f64,
    /// The newest event time of that batch, Unix ms.
    pub last_ts: f64,
    /// Page views the tag has sent.
    #[serde(default)]
    pub page_views: f64,
    /// Events received.
    #[serde(default)]
    pub events: f64,
}

/// The shop's latest event (no row before the first).
pub fn freshness(shop: &str) -> Query<Freshness> {
    Query::named(
        "SELECT last_received, last_ts, page_views, events FROM ingest_freshness \
         WHERE shop = :shop",
        &[("shop", shop.into())],
    )
}

/// Customers reaching each step of the funnel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct FunnelCounts {
    /// Viewed a product in the period.
    #[serde(default)]
    pub viewed: f64,
    /// Then added to the cart within the window.
    #[serde(default)]
    pub added: f64,
    /// Then started a checkout within the window.
    #[serde(default)]
    pub checkout: f64,
    /// Then ordered within the window.
    #[serde(default)]
    pub ordered: f64,
}

/// The funnel product view → add to cart → checkout → order, per customer: each customer's
/// first `Product Viewed` in `[start_ms, end_ms)` opens their window of `window_ms`; each next
/// step counts when it comes at or after the step before and within the window. Bots are left
/// out; `segment` keeps the customers now in that segment.
pub fn funnel(
    shop: &str,
    start_ms: i64,
    end_ms: i64,
    window_ms: i64,
    segment: Option<&str>,
) -> Query<FunnelCounts> {
    let members = if segment.is_some() {
        " AND customer_id IN (SELECT customer_id FROM memberships WHERE shop = :shop \
         AND segment = :segment AND member = 1)"
    } else {
        ""
    };
    let step = |name: &str, cte: &str, prev: &str| {
        format!(
            "(SELECT MIN(e.ts) FROM events e INDEXED BY events_by_customer_name \
             WHERE e.shop = :shop AND e.name = '{name}' \
             AND e.bot = 0 AND e.customer_id = {cte}.customer_id AND e.ts >= {cte}.{prev} \
             AND e.ts <= {cte}.t0 + :window)"
        )
    };
    // Each step is computed once per customer (materialized), from the customer's own events.
    let sql = format!(
        "WITH f AS MATERIALIZED (SELECT customer_id, MIN(ts) AS t0 \
         FROM events INDEXED BY events_by_name_ts WHERE shop = :shop \
         AND name = 'Product Viewed' AND bot = 0 AND ts >= :start AND ts < :end{members} \
         GROUP BY customer_id), \
         a AS MATERIALIZED (SELECT customer_id, t0, {add} AS t1 FROM f), \
         c AS MATERIALIZED (SELECT customer_id, t0, t1, CASE WHEN t1 IS NULL THEN NULL ELSE \
         {checkout} END AS t2 FROM a), \
         o AS (SELECT t1, t2, CASE WHEN t2 IS NULL THEN NULL ELSE {order} END AS t3 FROM c) \
         SELECT COUNT(*) AS viewed, COUNT(t1) AS added, COUNT(t2) AS checkout, \
         COUNT(t3) AS ordered FROM o",
        add = step("Product Added", "f", "t0"),
        checkout = step("Checkout Started", "a", "t1"),
        order = step("Order Completed", "c", "t2"),
    );
    let mut params: Vec<(&str, Arg)> = vec![
        ("shop", shop.into()),
        ("start", start_ms.into()),
        ("end", end_ms.into()),
        ("window", window_ms.into()),
    ];
    if let Some(s) = segment {
        params.push(("segment", s.into()));
    }
    Query::named(&sql, &params)
}

/// Each buyer's orders net of their refunds (`c`: orders, net revenue, latest order), read in
/// customer order from a covering index (no sort); refunds are summed per customer of the order
/// they refund, then taken off.
const BUYERS: &str = "rf AS MATERIALIZED (SELECT o.customer_id, SUM(r.amount) AS amount \
     FROM refunds r JOIN orders o ON o.shop = r.shop AND o.order_id = r.order_id \
     WHERE r.shop = :shop GROUP BY o.customer_id), \
     g AS (SELECT customer_id, COUNT(*) AS orders, SUM(total) AS total, MAX(ts) AS last \
     FROM orders INDEXED BY orders_by_customer WHERE shop = :shop GROUP BY customer_id), \
     c AS (SELECT g.customer_id, g.orders, g.total - COALESCE(rf.amount, 0) AS net, g.last \
     FROM g LEFT JOIN rf ON rf.customer_id = g.customer_id)";

/// The first and last order times of a shop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct OrderSpan {
    /// First order, Unix ms (NULL without orders).
    #[serde(default)]
    pub first: Option<f64>,
    /// Latest order, Unix ms.
    #[serde(default)]
    pub last: Option<f64>,
}

/// When the shop's orders start and end.
pub fn order_span(shop: &str) -> Query<OrderSpan> {
    Query::named(
        "SELECT MIN(ts) AS first, MAX(ts) AS last FROM orders WHERE shop = :shop",
        &[("shop", shop.into())],
    )
}

/// One cell of the retention table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct CohortCell {
    /// The local month of the customers' first order, as `year * 12 + month - 1`.
    pub cohort: f64,
    /// Months since the first order (0 = the first month).
    pub age: f64,
    /// Customers of the cohort who ordered in that month.
    pub customers: f64,
    /// Their revenue in that month, net of refunds.
    #[serde(default)]
    pub revenue: f64,
}

/// First-order cohorts × months since the first order, over every order of the shop, by local
/// month. `months` are the shop's local months as `(start_ms, end_ms, year * 12 + month - 1)`,
/// oldest first, from the first order's to the last's: each month's orders are one range of an
/// index, so no order's local month is worked out row by row. Refunds come off the month of the
/// order they refund.
pub fn retention(shop: &str, months: &[(i64, i64, i64)]) -> Query<CohortCell> {
    let list: Vec<String> = months
        .iter()
        .map(|(a, b, m)| format!("[{a},{b},{m}]"))
        .collect();
    Query::named(
        "WITH mo AS MATERIALIZED (SELECT json_extract(value, '$[0]') AS lo, \
         json_extract(value, '$[1]') AS hi, json_extract(value, '$[2]') AS month \
         FROM json_each(:months)), \
         x AS (SELECT o.customer_id, mo.month, o.total AS net FROM mo \
         JOIN orders o INDEXED BY orders_by_ts_customer ON o.shop = :shop AND o.ts >= mo.lo \
         AND o.ts < mo.hi \
         UNION ALL SELECT o.customer_id, mo.month, -r.amount FROM refunds r \
         JOIN orders o ON o.shop = r.shop AND o.order_id = r.order_id \
         JOIN mo ON o.ts >= mo.lo AND o.ts < mo.hi WHERE r.shop = :shop), \
         m AS (SELECT month, SUM(net) AS net, \
         MIN(month) OVER (PARTITION BY customer_id ORDER BY month) AS first FROM x \
         GROUP BY customer_id, month) \
         SELECT first AS cohort, month - first AS age, COUNT(*) AS customers, \
         SUM(net) AS revenue FROM m GROUP BY first, month - first ORDER BY cohort, age",
        &[
            ("months", format!("[{}]", list.join(",")).into()),
            ("shop", shop.into()),
        ],
    )
}

/// Revenue in a period from new and from returning customers (net of refunds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct NewReturning {
    /// Customers whose first order ever is in the period.
    #[serde(default)]
    pub new_customers: f64,
    /// Customers who ordered in the period and had ordered before it.
    #[serde(default)]
    pub returning_customers: f64,
    /// Orders of new customers.
    #[serde(default)]
    pub new_orders: f64,
    /// Orders of returning customers.
    #[serde(default)]
    pub returning_orders: f64,
    /// Revenue of the customers' first orders in the period.
    #[serde(default)]
    pub first_revenue: f64,
    /// Revenue of every later order (a returning customer's): the repeat revenue.
    #[serde(default)]
    pub repeat_revenue: f64,
}

/// New vs returning customers of `[start_ms, end_ms)`, and the revenue of first vs repeat
/// orders: the period's orders, each with its customer's first order time (one index seek).
pub fn new_vs_returning(shop: &str, start_ms: i64, end_ms: i64) -> Query<NewReturning> {
    Query::named(
        "WITH p AS MATERIALIZED (SELECT o.customer_id, o.ts, o.total - COALESCE((SELECT \
         SUM(r.amount) FROM refunds r WHERE r.shop = o.shop AND r.order_id = o.order_id), 0) \
         AS net, \
         (SELECT MIN(x.ts) FROM orders x INDEXED BY orders_by_customer WHERE x.shop = o.shop \
         AND x.customer_id = o.customer_id) AS first FROM orders o \
         INDEXED BY orders_by_ts_customer WHERE o.shop = :shop AND o.ts >= :start \
         AND o.ts < :end) \
         SELECT COUNT(DISTINCT CASE WHEN first >= :start THEN customer_id END) AS new_customers, \
         COUNT(DISTINCT CASE WHEN first < :start THEN customer_id END) AS returning_customers, \
         COALESCE(SUM(first >= :start), 0) AS new_orders, \
         COALESCE(SUM(first < :start), 0) AS returning_orders, \
         COALESCE(SUM(CASE WHEN ts = first THEN net END), 0) AS first_revenue, \
         COALESCE(SUM(CASE WHEN ts > first THEN net END), 0) AS repeat_revenue FROM p",
        &[
            ("shop", shop.into()),
            ("start", start_ms.into()),
            ("end", end_ms.into()),
        ],
    )
}

/// How many buyers have a given recency (whole days since their last order) and frequency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct RfmCount {
    /// Whole days since the last order at `now`.
    pub recency: f64,
    /// Orders.
    pub frequency: f64,
    /// Buyers with both.
    pub customers: f64,
    /// Their revenue, net of refunds.
    #[serde(default)]
    pub revenue: f64,
}

/// Buyers by (recency in whole days, frequency): what the RFM grid's quintiles are cut from.
pub fn rfm_counts(shop: &str, now_ms: i64) -> Query<RfmCount> {
    let sql = format!(
        "WITH {BUYERS} SELECT CAST((:now - last) / 86400000 AS INTEGER) AS recency, \
         orders AS frequency, COUNT(*) AS customers, SUM(net) AS revenue FROM c \
         GROUP BY 1, 2 ORDER BY recency, frequency"
    );
    Query::named(&sql, &[("shop", shop.into()), ("now", now_ms.into())])
}

/// A buyer and their orders.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TopCustomer {
    /// Customer id.
    pub customer_id: String,
    /// Orders.
    pub orders: f64,
    /// Revenue, net of refunds.
    #[serde(default)]
    pub revenue: f64,
    /// Latest order, Unix ms.
    pub last_order: f64,
}

/// The buyers with the most revenue (net of refunds).
pub fn top_customers(shop: &str, limit: u32) -> Query<TopCustomer> {
    let sql = format!(
        "WITH {BUYERS} SELECT customer_id, orders, net AS revenue, last AS last_order FROM c \
         ORDER BY revenue DESC, customer_id LIMIT :limit"
    );
    Query::named(&sql, &[("shop", shop.into()), ("limit", limit.into())])
}

/// A product's figures over a period.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ProductStats {
    /// Product id.
    pub product_id: String,
    /// Its name in `products` (may be missing or empty: show the id).
    #[serde(default)]
    pub name: Option<String>,
    /// Views.
    #[serde(default)]
    pub views: f64,
    /// Cart adds.
    #[serde(default)]
    pub adds: f64,
    /// Units bought.
    #[serde(default)]
    pub units: f64,
    /// Their revenue.
    #[serde(default)]
    pub revenue: f64,
    /// Refunded.
    #[serde(default)]
    pub refunded: f64,
}

/// Products over `[start_ms, end_ms)` by net revenue, then views.
pub fn product_stats(shop: &str, start_ms: i64, end_ms: i64, limit: u32) -> Query<ProductStats> {
    Query::named(
        "WITH s AS (SELECT product_id, SUM(views) AS views, SUM(adds) AS adds, \
         SUM(units) AS units, SUM(revenue) AS revenue, SUM(refunded) AS refunded \
         FROM product_slots INDEXED BY product_slots_cover WHERE shop = :shop \
         AND slot >= :lo AND slot < :hi \
         GROUP BY product_id) \
         SELECT s.product_id, p.name, s.views, s.adds, s.units, s.revenue, s.refunded FROM s \
         LEFT JOIN products p ON p.shop = :shop AND p.product_id = s.product_id \
         ORDER BY s.revenue - s.refunded DESC, s.views DESC, s.product_id LIMIT :limit",
        &[
            ("shop", shop.into()),
            ("lo", super::rollups::slot_of(start_ms).into()),
            ("hi", super::rollups::slot_of(end_ms).into()),
            ("limit", limit.into()),
        ],
    )
}

/// Two products in the same orders.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct BoughtWith {
    /// The product.
    pub product_id: String,
    /// Bought in the same order.
    pub other_id: String,
    /// Its name (may be missing).
    #[serde(default)]
    pub other_name: Option<String>,
    /// Orders holding both.
    pub orders: f64,
}

/// For each of `product_ids` (at most 90), the products most often in the same orders, best
/// first (ties by id).
pub fn bought_with(shop: &str, product_ids: &[String]) -> Query<BoughtWith> {
    let ids = affinity::json::Value::Array(
        product_ids
            .iter()
            .take(90)
            .map(|s| s.as_str().into())
            .collect(),
    )
    .to_json();
    Query::named(
        "SELECT a.product_id, b.product_id AS other_id, p.name AS other_name, \
         COUNT(*) AS orders FROM order_lines a JOIN order_lines b ON b.shop = a.shop \
         AND b.order_id = a.order_id AND b.product_id <> a.product_id \
         LEFT JOIN products p ON p.shop = a.shop AND p.product_id = b.product_id \
         WHERE a.shop = :shop AND a.product_id IN (SELECT value FROM json_each(:ids)) \
         GROUP BY a.product_id, b.product_id ORDER BY a.product_id, orders DESC, other_id",
        &[("shop", shop.into()), ("ids", ids.into())],
    )
}

/// One of a customer's orders with what was refunded of it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CustomerOrder {
    /// Order id.
    pub order_id: String,
    /// When, Unix ms.
    pub ts: f64,
    /// Total.
    #[serde(default)]
    pub total: f64,
    /// Units.
    #[serde(default)]
    pub items: f64,
    /// Refunded.
    #[serde(default)]
    pub refunded: f64,
}

/// A customer's orders, latest first, with their refunds.
pub fn customer_orders(shop: &str, customer_id: &str, limit: u32) -> Query<CustomerOrder> {
    Query::named(
        "SELECT o.order_id, o.ts, o.total, o.items, COALESCE((SELECT SUM(r.amount) FROM refunds r \
         WHERE r.shop = o.shop AND r.order_id = o.order_id), 0) AS refunded FROM orders o \
         WHERE o.shop = :shop AND o.customer_id = :customer ORDER BY o.ts DESC, o.order_id \
         LIMIT :limit",
        &[
            ("shop", shop.into()),
            ("customer", customer_id.into()),
            ("limit", limit.into()),
        ],
    )
}

/// A recommendation slot shown to a customer (`Product List Viewed` with an `affinity:` list).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Shown {
    /// When, Unix ms.
    pub ts: f64,
    /// `affinity:<slot>`.
    #[serde(default)]
    pub list_id: Option<String>,
    /// `personalized` or `holdout`.
    #[serde(default)]
    pub variant: Option<String>,
    /// The event JSON (its `properties.products`).
    pub json: String,
}

/// The latest recommendation impressions of a customer.
pub fn recommendations_shown(shop: &str, customer_id: &str, limit: u32) -> Query<Shown> {
    Query::named(
        "SELECT ts, list_id, variant, json FROM events WHERE shop = :shop \
         AND customer_id = :customer AND name = 'Product List Viewed' \
         AND list_id LIKE 'affinity:%' ORDER BY ts DESC LIMIT :limit",
        &[
            ("shop", shop.into()),
            ("customer", customer_id.into()),
            ("limit", limit.into()),
        ],
    )
}
