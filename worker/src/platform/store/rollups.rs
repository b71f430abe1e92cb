//! The dashboard's rollups, written on ingest beside the raw events: shop totals, visitors,
//! product viewers and product counts per quarter-hour UTC slot, order lines, refunds and the
//! shop's latest event (`migrations/0009_dashboard_rollups.sql`, `0010_distinct_chains.sql`).
//! Every write adds to what is there, so the outboxes of different customer objects may deliver
//! them in any order; each is sent once per applied message. One customer's statements arrive
//! in the order its object queued them, which the visitor chains rely on (a re-link follows the
//! inserts it covers).

use super::{Arg, Stmt};

/// The length of a rollup slot: a quarter hour. Every UTC offset in use is a multiple of it, so
/// a local day, week or month is a whole range of slots in any shop time zone.
pub const SLOT_MS: i64 = 900_000;

/// The slot of a time (Unix ms).
pub fn slot_of(ms: i64) -> i64 {
    ms.div_euclid(SLOT_MS)
}

/// What one slot adds to the shop's totals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlotCounts {
    /// Events (bots excluded).
    pub events: u32,
    /// Page and screen views.
    pub page_views: u32,
    /// `Product Viewed`.
    pub product_views: u32,
    /// `Product Added`.
    pub adds: u32,
    /// `Checkout Started`.
    pub checkouts: u32,
    /// Sessions that started in the slot.
    pub sessions: u32,
    /// Newly counted orders.
    pub orders: u32,
    /// Their units.
    pub items: u32,
    /// Their revenue.
    pub revenue: f64,
    /// Refunds counted (`Order Refunded` of a known order, with an amount).
    pub refunds: u32,
    /// Their amount.
    pub refunded: f64,
}

/// Adds one slot's counts to `rollup_slots`.
pub fn add_slot(shop: &str, slot: i64, c: &SlotCounts) -> Stmt {
    Stmt::named(
        "INSERT INTO rollup_slots (shop, slot, events, page_views, product_views, adds, \
         checkouts, sessions, orders, items, revenue, refunds, refunded) VALUES (:shop, :slot, \
         :events, :page_views, :product_views, :adds, :checkouts, :sessions, :orders, :items, \
         :revenue, :refunds, :refunded) ON CONFLICT (shop, slot) DO UPDATE SET \
         events = rollup_slots.events + excluded.events, \
         page_views = rollup_slots.page_views + excluded.page_views, \
         product_views = rollup_slots.product_views + excluded.product_views, \
         adds = rollup_slots.adds + excluded.adds, \
         checkouts = rollup_slots.checkouts + excluded.checkouts, \
         sessions = rollup_slots.sessions + excluded.sessions, \
         orders = rollup_slots.orders + excluded.orders, \
         items = rollup_slots.items + excluded.items, \
         revenue = rollup_slots.revenue + excluded.revenue, \
         refunds = rollup_slots.refunds + excluded.refunds, \
         refunded = rollup_slots.refunded + excluded.refunded",
        &[
            ("shop", shop.into()),
            ("slot", slot.into()),
            ("events", c.events.into()),
            ("page_views", c.page_views.into()),
            ("product_views", c.product_views.into()),
            ("adds", c.adds.into()),
            ("checkouts", c.checkouts.into()),
            ("sessions", c.sessions.into()),
            ("orders", c.orders.into()),
            ("items", c.items.into()),
            ("revenue", c.revenue.into()),
            ("refunds", c.refunds.into()),
            ("refunded", c.refunded.into()),
        ],
    )
}

/// Notes that a customer was active in a slot (once).
pub fn add_visitor(shop: &str, slot: i64, customer_id: &str) -> Stmt {
    Stmt::named(
        "INSERT OR IGNORE INTO visitor_slots (shop, slot, customer_id) \
         VALUES (:shop, :slot, :customer_id)",
        &[
            ("shop", shop.into()),
            ("slot", slot.into()),
            ("customer_id", customer_id.into()),
        ],
    )
}

/// Sets `prev` (the customer's previous active slot) on every `visitor_slots` row of a customer
/// from `from_slot` on: sent once per fold after its [`add_visitor`]s, with the fold's earliest
/// slot. Each row is worked out again from the rows there, so deliveries of a customer's folds
/// in any order leave every row pointing at its true predecessor (the rows before `from_slot`
/// cannot have gained one). The distinct visitors of a range count the rows whose `prev` is
/// before it ([`crate::platform::store::dashboard::slot_totals`]).
pub fn link_visitor_slots(shop: &str, customer_id: &str, from_slot: i64) -> Stmt {
    Stmt::named(
        "UPDATE visitor_slots SET prev = (SELECT MAX(p.slot) FROM visitor_slots p \
         WHERE p.shop = visitor_slots.shop AND p.customer_id = visitor_slots.customer_id \
         AND p.slot < visitor_slots.slot) \
         WHERE shop = :shop AND customer_id = :customer_id AND slot >= :from",
        &[
            ("shop", shop.into()),
            ("customer_id", customer_id.into()),
            ("from", from_slot.into()),
        ],
    )
}

/// Notes that a customer viewed a product in a slot (once).
pub fn add_product_viewer(shop: &str, slot: i64, product_id: &str, customer_id: &str) -> Stmt {
    Stmt::named(
        "INSERT OR IGNORE INTO product_viewers (shop, customer_id, product_id, slot) \
         VALUES (:shop, :customer_id, :product_id, :slot)",
        &[
            ("shop", shop.into()),
            ("customer_id", customer_id.into()),
            ("product_id", product_id.into()),
            ("slot", slot.into()),
        ],
    )
}

/// Sets `prev` (the slot of the customer's previous view of the same product) on every
/// `product_viewers` row of a customer from `from_slot` on, as [`link_visitor_slots`] does.
pub fn link_product_viewers(shop: &str, customer_id: &str, from_slot: i64) -> Stmt {
    Stmt::named(
        "UPDATE product_viewers SET prev = (SELECT MAX(p.slot) FROM product_viewers p \
         WHERE p.shop = product_viewers.shop AND p.customer_id = product_viewers.customer_id \
         AND p.product_id = product_viewers.product_id AND p.slot < product_viewers.slot) \
         WHERE shop = :shop AND customer_id = :customer_id AND slot >= :from",
        &[
            ("shop", shop.into()),
            ("customer_id", customer_id.into()),
            ("from", from_slot.into()),
        ],
    )
}

/// What one slot adds to a product's counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductSlot {
    /// Views.
    pub views: u32,
    /// Cart adds.
    pub adds: u32,
    /// Units bought.
    pub units: u32,
    /// Their revenue (price × quantity).
    pub revenue: f64,
    /// Refunded amount.
    pub refunded: f64,
}

/// Adds one product's counts of one slot to `product_slots`.
pub fn add_product_slot(shop: &str, slot: i64, product_id: &str, p: &ProductSlot) -> Stmt {
    Stmt::named(
        "INSERT INTO product_slots (shop, slot, product_id, views, adds, units, revenue, \
         refunded) VALUES (:shop, :slot, :product_id, :views, :adds, :units, :revenue, \
         :refunded) ON CONFLICT (shop, slot, product_id) DO UPDATE SET \
         views = product_slots.views + excluded.views, adds = product_slots.adds + excluded.adds, \
         units = product_slots.units + excluded.units, \
         revenue = product_slots.revenue + excluded.revenue, \
         refunded = product_slots.refunded + excluded.refunded",
        &[
            ("shop", shop.into()),
            ("slot", slot.into()),
            ("product_id", product_id.into()),
            ("views", p.views.into()),
            ("adds", p.adds.into()),
            ("units", p.units.into()),
            ("revenue", p.revenue.into()),
            ("refunded", p.refunded.into()),
        ],
    )
}

/// Stores one line of an order (once per order and product).
pub fn insert_order_line(
    shop: &str,
    order_id: &str,
    product_id: &str,
    quantity: u32,
    price: Option<f64>,
) -> Stmt {
    Stmt::named(
        "INSERT OR IGNORE INTO order_lines (shop, order_id, product_id, quantity, price) \
         VALUES (:shop, :order_id, :product_id, :quantity, :price)",
        &[
            ("shop", shop.into()),
            ("order_id", order_id.into()),
            ("product_id", product_id.into()),
            ("quantity", quantity.into()),
            ("price", price.into()),
        ],
    )
}

/// One refund.
#[derive(Debug, Clone, PartialEq)]
pub struct Refund<'a> {
    /// Shop id.
    pub shop: &'a str,
    /// The refund's `messageId`.
    pub message_id: &'a str,
    /// The refunded order.
    pub order_id: &'a str,
    /// The customer.
    pub customer_id: &'a str,
    /// When, Unix ms.
    pub ts: i64,
    /// The amount given back.
    pub amount: f64,
}

/// Stores a refund once per message.
pub fn insert_refund(r: &Refund<'_>) -> Stmt {
    Stmt::named(
        "INSERT OR IGNORE INTO refunds (shop, message_id, order_id, customer_id, ts, amount) \
         VALUES (:shop, :message_id, :order_id, :customer_id, :ts, :amount)",
        &[
            ("shop", r.shop.into()),
            ("message_id", r.message_id.into()),
            ("order_id", r.order_id.into()),
            ("customer_id", r.customer_id.into()),
            ("ts", r.ts.into()),
            ("amount", r.amount.into()),
        ],
    )
}

/// Notes the latest event a shop received (`received_ms`) and the newest event time of the
/// batch (`latest_ts`), adding its events and page views.
pub fn note_received(
    shop: &str,
    received_ms: i64,
    latest_ts: i64,
    events: u32,
    page_views: u32,
) -> Stmt {
    let args: [(&str, Arg); 5] = [
        ("shop", shop.into()),
        ("received", received_ms.into()),
        ("latest", latest_ts.into()),
        ("events", events.into()),
        ("page_views", page_views.into()),
    ];
    Stmt::named(
        "INSERT INTO ingest_freshness (shop, last_received, last_ts, page_views, events) \
         VALUES (:shop, :received, :latest, :page_views, :events) ON CONFLICT (shop) DO UPDATE \
         SET last_ts = CASE WHEN excluded.last_received >= ingest_freshness.last_received \
         THEN excluded.last_ts ELSE ingest_freshness.last_ts END, \
         last_received = MAX(ingest_freshness.last_received, excluded.last_received), \
         page_views = ingest_freshness.page_views + excluded.page_views, \
         events = ingest_freshness.events + excluded.events",
        &args,
    )
}

/// A session start, with the dimensions explore slices by.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Visit {
    /// The message that started it.
    pub message_id: String,
    /// When, Unix ms.
    pub ts: i64,
    /// `context.location.country`.
    pub country: Option<String>,
    /// `context.location.region`.
    pub region: Option<String>,
    /// `mobile`, `tablet`, `desktop` (the engine's reading of the user agent).
    pub device: Option<String>,
    /// The referrer's host.
    pub referrer: Option<String>,
    /// `context.campaign.source`.
    pub utm_source: Option<String>,
    /// `context.campaign.name`.
    pub utm_campaign: Option<String>,
    /// The customer had visited before.
    pub returning: bool,
}

/// Stores a session start once per message.
pub fn insert_visit(shop: &str, customer_id: &str, v: &Visit) -> Stmt {
    Stmt::named(
        "INSERT OR IGNORE INTO visits (shop, customer_id, ts, country, region, device, referrer, \
         utm_source, utm_campaign, seen_before, message_id) VALUES (:shop, :customer_id, :ts, \
         :country, :region, :device, :referrer, :utm_source, :utm_campaign, :seen_before, \
         :message_id)",
        &[
            ("shop", shop.into()),
            ("customer_id", customer_id.into()),
            ("ts", v.ts.into()),
            ("country", v.country.clone().into()),
            ("region", v.region.clone().into()),
            ("device", v.device.clone().into()),
            ("referrer", v.referrer.clone().into()),
            ("utm_source", v.utm_source.clone().into()),
            ("utm_campaign", v.utm_campaign.clone().into()),
            ("seen_before", v.returning.into()),
            ("message_id", v.message_id.as_str().into()),
        ],
    )
}
