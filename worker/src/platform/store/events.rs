//! What ingest writes to D1 for each applied event: raw `events`, `orders`, the `daily` rollup,
//! `products` and `product_daily` counters, the `customers` mirror and the identity map.

use serde::Deserialize;

use super::{Arg, Query, Stmt};

/// One raw event row.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow<'a> {
    /// Shop id.
    pub shop: &'a str,
    /// The event's `messageId`.
    pub message_id: &'a str,
    /// The customer the event was routed to.
    pub customer_id: &'a str,
    /// `anonymousId`.
    pub anonymous_id: Option<&'a str>,
    /// `userId`.
    pub user_id: Option<&'a str>,
    /// Call type (`track`, `page`, …).
    pub kind: &'a str,
    /// Track event name.
    pub name: Option<&'a str>,
    /// Event time, Unix ms.
    pub ts: i64,
    /// Event day (`YYYY-MM-DD`, UTC).
    pub day: String,
    /// Product id (the engine's [`affinity::event::product_key`]).
    pub product_id: Option<String>,
    /// `properties.category`.
    pub category: Option<&'a str>,
    /// Order id of an order event.
    pub order_id: Option<String>,
    /// Revenue of a newly counted order, or the amount of a refund.
    pub revenue: Option<f64>,
    /// Flagged as automated traffic.
    pub bot: bool,
    /// The whole event as JSON.
    pub json: String,
    /// When the edge received it, Unix ms.
    pub received_at: i64,
    /// `properties.list_id` (recommendation impressions and clicks).
    pub list_id: Option<&'a str>,
    /// `properties.variant`.
    pub variant: Option<&'a str>,
}

/// Rows per `events` insert: 18 parameters each, within D1's [`super::MAX_PARAMS`].
pub const EVENT_ROWS_PER_INSERT: usize = super::MAX_PARAMS / 18;

/// Stores raw events once per message id: one multi-row statement per
/// [`EVENT_ROWS_PER_INSERT`] rows (a batch's events cost D1 two statements, not ten).
pub fn insert_events(rows: &[EventRow<'_>]) -> Vec<Stmt> {
    rows.chunks(EVENT_ROWS_PER_INSERT)
        .map(|chunk| {
            let mut sql = String::from(
                "INSERT OR IGNORE INTO events (shop, message_id, customer_id, anonymous_id, \
                 user_id, type, name, ts, day, product_id, category, order_id, revenue, bot, json, \
                 received_at, list_id, variant) VALUES ",
            );
            let mut names: Vec<(String, Arg)> = Vec::with_capacity(chunk.len() * 18);
            for (i, r) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let row: [(&str, Arg); 18] = [
                    ("shop", r.shop.into()),
                    ("message_id", r.message_id.into()),
                    ("customer_id", r.customer_id.into()),
                    ("anonymous_id", r.anonymous_id.into()),
                    ("user_id", r.user_id.into()),
                    ("kind", r.kind.into()),
                    ("name", r.name.into()),
                    ("ts", r.ts.into()),
                    ("day", r.day.as_str().into()),
                    ("product_id", r.product_id.clone().into()),
                    ("category", r.category.into()),
                    ("order_id", r.order_id.as_deref().into()),
                    ("revenue", r.revenue.into()),
                    ("bot", r.bot.into()),
                    ("json", r.json.as_str().into()),
                    ("received_at", r.received_at.into()),
                    ("list_id", r.list_id.into()),
                    ("variant", r.variant.into()),
                ];
                let placeholders: Vec<String> =
                    row.iter().map(|(n, _)| format!(":{n}_{i}")).collect();
                sql.push('(');
                sql.push_str(&placeholders.join(", "));
                sql.push(')');
                names.extend(row.into_iter().map(|(n, a)| (format!("{n}_{i}"), a)));
            }
            let params: Vec<(&str, Arg)> =
                names.iter().map(|(n, a)| (n.as_str(), a.clone())).collect();
            Stmt::named(&sql, &params)
        })
        .collect()
}

/// Stores an order once per order id.
#[allow(clippy::too_many_arguments)]
pub fn insert_order(
    shop: &str,
    order_id: &str,
    customer_id: &str,
    ts: i64,
    day: &str,
    total: f64,
    items: f64,
) -> Stmt {
    Stmt::named(
        "INSERT OR IGNORE INTO orders (shop, order_id, customer_id, ts, day, total, items) \
         VALUES (:shop, :order_id, :customer_id, :ts, :day, :total, :items)",
        &[
            ("shop", shop.into()),
            ("order_id", order_id.into()),
            ("customer_id", customer_id.into()),
            ("ts", ts.into()),
            ("day", day.into()),
            ("total", total.into()),
            ("items", items.into()),
        ],
    )
}

/// What a batch of events says about one product, added to `products`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductCounts {
    /// Display name ('' keeps the stored one).
    pub name: String,
    /// Price (NULL keeps the stored one; likewise below).
    pub price: Option<f64>,
    /// Category.
    pub category: Option<String>,
    /// Brand.
    pub brand: Option<String>,
    /// Product page URL.
    pub url: Option<String>,
    /// Image URL.
    pub image: Option<String>,
    /// Stock flag.
    pub in_stock: Option<bool>,
    /// Views to add.
    pub views: u32,
    /// Cart adds to add.
    pub adds: u32,
    /// Units purchased to add.
    pub purchases: u32,
    /// Latest event time, Unix ms.
    pub last_seen: i64,
}

/// Upserts a product and adds its counts.
pub fn add_product(shop: &str, product_id: &str, p: &ProductCounts) -> Stmt {
    Stmt::named(
        "INSERT INTO products (shop, product_id, name, price, category, brand, url, image, \
         in_stock, views, adds, purchases, last_seen) VALUES (:shop, :product_id, :name, :price, \
         :category, :brand, :url, :image, :in_stock, :views, :adds, :purchases, :last_seen) \
         ON CONFLICT (shop, product_id) DO UPDATE SET \
         name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE products.name END, \
         price = COALESCE(excluded.price, products.price), \
         category = COALESCE(excluded.category, products.category), \
         brand = COALESCE(excluded.brand, products.brand), \
         url = COALESCE(excluded.url, products.url), \
         image = COALESCE(excluded.image, products.image), \
         in_stock = COALESCE(excluded.in_stock, products.in_stock), \
         views = products.views + excluded.views, adds = products.adds + excluded.adds, \
         purchases = products.purchases + excluded.purchases, \
         last_seen = MAX(products.last_seen, excluded.last_seen)",
        &[
            ("shop", shop.into()),
            ("product_id", product_id.into()),
            ("name", p.name.as_str().into()),
            ("price", p.price.into()),
            ("category", p.category.clone().into()),
            ("brand", p.brand.clone().into()),
            ("url", p.url.clone().into()),
            ("image", p.image.clone().into()),
            ("in_stock", p.in_stock.into()),
            ("views", p.views.into()),
            ("adds", p.adds.into()),
            ("purchases", p.purchases.into()),
            ("last_seen", p.last_seen.into()),
        ],
    )
}

/// A customer's mirror row.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerMirror<'a> {
    /// Shop id.
    pub shop: &'a str,
    /// Customer id.
    pub customer_id: &'a str,
    /// Known user id.
    pub user_id: Option<&'a str>,
    /// First event, Unix ms.
    pub first_seen: i64,
    /// Latest event, Unix ms.
    pub last_seen: i64,
    /// Sessions.
    pub sessions: u32,
    /// Orders.
    pub orders: u32,
    /// Total spend.
    pub total_spend: f64,
    /// Product views.
    pub product_views: u32,
    /// Cart adds.
    pub cart_adds: u32,
    /// Page views.
    pub page_views: u32,
    /// Label of the latest event.
    pub last_event: Option<String>,
    /// Ever flagged as a bot.
    pub bot: bool,
    /// Summary JSON for the customer list.
    pub summary: String,
    /// Applied messages so far: an older mirror write never overwrites a newer one.
    pub version: i64,
    /// The shopper's current consent level (`none` … `marketing`); `None` when no event said.
    pub consent: Option<&'a str>,
}

/// Upserts the customer mirror unless the stored row is newer.
pub fn upsert_customer(c: &CustomerMirror<'_>) -> Stmt {
    Stmt::named(
        "INSERT INTO customers (shop, customer_id, user_id, first_seen, last_seen, sessions, \
         orders, total_spend, product_views, cart_adds, page_views, last_event, bot, summary, \
         version, consent) VALUES (:shop, :customer_id, :user_id, :first_seen, :last_seen, \
         :sessions, :orders, :total_spend, :product_views, :cart_adds, :page_views, :last_event, \
         :bot, :summary, :version, :consent) \
         ON CONFLICT (shop, customer_id) DO UPDATE SET user_id = excluded.user_id, \
         first_seen = excluded.first_seen, last_seen = excluded.last_seen, \
         sessions = excluded.sessions, orders = excluded.orders, \
         total_spend = excluded.total_spend, product_views = excluded.product_views, \
         cart_adds = excluded.cart_adds, page_views = excluded.page_views, \
         last_event = excluded.last_event, bot = MAX(customers.bot, excluded.bot), \
         summary = excluded.summary, version = excluded.version, consent = excluded.consent \
         WHERE excluded.version >= customers.version",
        &[
            ("shop", c.shop.into()),
            ("customer_id", c.customer_id.into()),
            ("user_id", c.user_id.into()),
            ("first_seen", c.first_seen.into()),
            ("last_seen", c.last_seen.into()),
            ("sessions", c.sessions.into()),
            ("orders", c.orders.into()),
            ("total_spend", c.total_spend.into()),
            ("product_views", c.product_views.into()),
            ("cart_adds", c.cart_adds.into()),
            ("page_views", c.page_views.into()),
            ("last_event", c.last_event.clone().into()),
            ("bot", c.bot.into()),
            ("summary", c.summary.as_str().into()),
            ("version", c.version.into()),
            ("consent", c.consent.into()),
        ],
    )
}

/// Stores the engine's profile JSON in the mirror (previews and backfills read it). Runs after
/// the mirror's upsert in the same batch; `version` keeps older profiles out.
pub fn set_profile(shop: &str, customer_id: &str, profile_json: &str, version: i64) -> Stmt {
    Stmt::named(
        "UPDATE customers SET profile = :profile WHERE shop = :shop \
         AND customer_id = :customer_id AND version <= :version",
        &[
            ("profile", profile_json.into()),
            ("shop", shop.into()),
            ("customer_id", customer_id.into()),
            ("version", version.into()),
        ],
    )
}

/// One identity link.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Link {
    /// The anonymous id.
    pub anonymous_id: String,
    /// The customer it belongs to.
    pub customer_id: String,
}

/// The customers some anonymous ids are linked to in the shop's identity map (at most
/// [`super::MAX_PARAMS`] − 1 ids per query: callers chunk). Ingest does not read it: each linked
/// anonymous id's object holds its link.
pub fn links_of(shop: &str, anonymous_ids: &[String]) -> Query<Link> {
    let mut sql = String::from(
        "SELECT anonymous_id, customer_id FROM identities WHERE shop = :shop AND anonymous_id IN (",
    );
    let mut params: Vec<(String, Arg)> = vec![("shop".into(), shop.into())];
    for (i, id) in anonymous_ids.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(":a{i}"));
        params.push((format!("a{i}"), id.into()));
    }
    sql.push(')');
    let params: Vec<(&str, Arg)> = params
        .iter()
        .map(|(n, a)| (n.as_str(), a.clone()))
        .collect();
    Query::named(&sql, &params)
}

/// Links an anonymous id to a customer (the latest link wins).
pub fn link(shop: &str, anonymous_id: &str, customer_id: &str, now_ms: i64) -> Stmt {
    Stmt::named(
        "INSERT INTO identities (shop, anonymous_id, customer_id, linked_at) \
         VALUES (:shop, :anonymous_id, :customer_id, :now) ON CONFLICT (shop, anonymous_id) \
         DO UPDATE SET customer_id = excluded.customer_id, linked_at = excluded.linked_at",
        &[
            ("shop", shop.into()),
            ("anonymous_id", anonymous_id.into()),
            ("customer_id", customer_id.into()),
            ("now", now_ms.into()),
        ],
    )
}
