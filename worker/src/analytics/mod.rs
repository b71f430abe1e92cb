//! Analytics rows in D1, derived from newly applied events.
//!
//! [`fold`] is the one place where a customer's new events become both the profile update (the
//! engine's [`Profile::apply`]) and the D1 statements that mirror it: raw `events` rows, the
//! `customers` mirror, `products` and `product_daily` counters, `orders` and the `daily` rollup.
//! It is pure, so it is tested natively; `d1` (wasm32 only) runs the statements and the dashboard queries.

use std::collections::BTreeMap;

use affinity::event::{names, Event, Kind};
use affinity::json::Value;
use affinity::profile::{Product, Profile};
use affinity::time;
use serde::{Deserialize, Serialize};

use crate::ingest::is_bot;

#[cfg(target_arch = "wasm32")]
pub mod d1;

/// A bound SQL parameter (numbers are f64: D1 binds JavaScript numbers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Arg {
    /// NULL.
    Null,
    /// A number.
    Num(f64),
    /// Text.
    Text(String),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_string())
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(s)
    }
}
impl From<f64> for Arg {
    fn from(n: f64) -> Arg {
        Arg::Num(n)
    }
}
impl From<i64> for Arg {
    fn from(n: i64) -> Arg {
        Arg::Num(n as f64)
    }
}
impl From<u32> for Arg {
    fn from(n: u32) -> Arg {
        Arg::Num(f64::from(n))
    }
}
impl From<bool> for Arg {
    fn from(b: bool) -> Arg {
        Arg::Num(if b { 1.0 } else { 0.0 })
    }
}
impl<T: Into<Arg>> From<Option<T>> for Arg {
    fn from(v: Option<T>) -> Arg {
        v.map_or(Arg::Null, Into::into)
    }
}

/// One SQL statement with its parameters; serializable so a Durable Object can keep statements
/// it could not deliver yet (its outbox).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stmt {
    /// SQL with `?` placeholders.
    pub sql: String,
    /// Parameters, in order.
    pub args: Vec<Arg>,
}

impl Stmt {
    fn new(sql: &str, args: Vec<Arg>) -> Stmt {
        Stmt {
            sql: sql.to_string(),
            args,
        }
    }
}

const INSERT_EVENT: &str = "INSERT OR IGNORE INTO events (shop, message_id, customer_id, \
    anonymous_id, user_id, type, name, ts, day, product_id, category, order_id, revenue, bot, \
    json, received_at, list_id, variant) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

const INSERT_ORDER: &str = "INSERT OR IGNORE INTO orders (shop, order_id, customer_id, ts, day, \
    total, items) VALUES (?,?,?,?,?,?,?)";

const UPSERT_DAILY: &str = "INSERT INTO daily (shop, day, events, page_views, product_views, \
    orders, revenue) VALUES (?,?,?,?,?,?,?) ON CONFLICT (shop, day) DO UPDATE SET \
    events = daily.events + excluded.events, page_views = daily.page_views + excluded.page_views, \
    product_views = daily.product_views + excluded.product_views, \
    orders = daily.orders + excluded.orders, revenue = daily.revenue + excluded.revenue";

const UPSERT_PRODUCT: &str = "INSERT INTO products (shop, product_id, name, price, category, \
    brand, url, image, in_stock, views, adds, purchases, last_seen) \
    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (shop, product_id) DO UPDATE SET \
    name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE products.name END, \
    price = COALESCE(excluded.price, products.price), \
    category = COALESCE(excluded.category, products.category), \
    brand = COALESCE(excluded.brand, products.brand), \
    url = COALESCE(excluded.url, products.url), \
    image = COALESCE(excluded.image, products.image), \
    in_stock = COALESCE(excluded.in_stock, products.in_stock), \
    views = products.views + excluded.views, adds = products.adds + excluded.adds, \
    purchases = products.purchases + excluded.purchases, \
    last_seen = MAX(products.last_seen, excluded.last_seen)";

const UPSERT_PRODUCT_DAY: &str = "INSERT INTO product_daily (shop, product_id, day, views, adds, \
    purchases) VALUES (?,?,?,?,?,?) ON CONFLICT (shop, product_id, day) DO UPDATE SET \
    views = product_daily.views + excluded.views, adds = product_daily.adds + excluded.adds, \
    purchases = product_daily.purchases + excluded.purchases";

const UPSERT_CUSTOMER: &str = "INSERT INTO customers (shop, customer_id, user_id, first_seen, \
    last_seen, sessions, orders, total_spend, product_views, cart_adds, page_views, last_event, \
    bot, summary, version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) \
    ON CONFLICT (shop, customer_id) DO UPDATE SET user_id = excluded.user_id, \
    first_seen = excluded.first_seen, last_seen = excluded.last_seen, \
    sessions = excluded.sessions, orders = excluded.orders, total_spend = excluded.total_spend, \
    product_views = excluded.product_views, cart_adds = excluded.cart_adds, \
    page_views = excluded.page_views, last_event = excluded.last_event, \
    bot = MAX(customers.bot, excluded.bot), summary = excluded.summary, \
    version = excluded.version WHERE excluded.version >= customers.version";

#[derive(Default)]
struct DayTotals {
    events: u32,
    page_views: u32,
    product_views: u32,
    orders: u32,
    revenue: f64,
}

#[derive(Default)]
struct ProductTotals {
    product: Product,
    in_stock: Option<bool>,
    views: u32,
    adds: u32,
    purchases: u32,
    last_seen: i64,
}

impl ProductTotals {
    fn note(&mut self, product: Product, in_stock: Option<bool>, at: i64) {
        let p = &mut self.product;
        p.id = product.id;
        if !product.name.is_empty() {
            p.name = product.name;
        }
        p.price = product.price.or(p.price);
        p.category = product.category.or(p.category.take());
        p.brand = product.brand.or(p.brand.take());
        p.url = product.url.or(p.url.take());
        p.image = product.image.or(p.image.take());
        self.in_stock = in_stock.or(self.in_stock);
        self.last_seen = self.last_seen.max(at);
    }
}

/// What folding a customer's new events produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Folded {
    /// D1 statements mirroring the new events (run them in one batch).
    pub statements: Vec<Stmt>,
    /// True if any of the events came from a bot.
    pub any_bot: bool,
}

/// The display name of an event: the track event name, else the call type.
pub fn event_label(e: &Event) -> String {
    match (&e.kind, &e.name) {
        (Kind::Track, Some(n)) => n.clone(),
        (Kind::Page, Some(n)) if !n.is_empty() => format!("Page: {n}"),
        (k, _) => {
            let s = k.as_str();
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        }
    }
}

fn order_id(p: &Value) -> Option<String> {
    match p.get("order_id") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(Value::Number(*n).to_json()),
        _ => None,
    }
}

/// Folds `events` (new to this customer, any order) into `profile` in timestamp order with the
/// engine, and returns the D1 statements that record them. `version` is the customer's count of
/// applied messages after this fold (it orders mirror updates); `was_bot` says whether earlier
/// events of the customer were flagged.
pub fn fold(
    shop: &str,
    customer: &str,
    profile: &mut Profile,
    mut events: Vec<Event>,
    version: i64,
    was_bot: bool,
    now_ms: i64,
) -> Folded {
    events.sort_by_key(|e| e.timestamp_ms);
    let mut statements = Vec::new();
    let mut days: BTreeMap<String, DayTotals> = BTreeMap::new();
    let mut products: BTreeMap<String, ProductTotals> = BTreeMap::new();
    let mut product_days: BTreeMap<(String, String), (u32, u32, u32)> = BTreeMap::new();
    let mut any_bot = false;
    for e in &events {
        let bot = is_bot(e);
        any_bot |= bot;
        let day = time::format_date(e.timestamp_ms);
        let name = e.name.as_deref().unwrap_or("");
        let p = &e.properties;
        let is_track = e.kind == Kind::Track;
        let order = if is_track && (name == names::ORDER_COMPLETED || name == names::ORDER_REFUNDED)
        {
            order_id(p)
        } else {
            None
        };
        let new_order = is_track
            && name == names::ORDER_COMPLETED
            && order
                .as_deref()
                .is_some_and(|id| !profile.orders.iter().any(|o| o.id == id));
        profile.apply(e);
        let revenue = if new_order {
            order.as_deref().and_then(|id| {
                profile
                    .orders
                    .iter()
                    .find(|o| o.id == id)
                    .map(|o| o.revenue)
            })
        } else if name == names::ORDER_REFUNDED {
            p.get_f64("total").or_else(|| p.get_f64("revenue"))
        } else {
            None
        };
        statements.push(Stmt::new(
            INSERT_EVENT,
            vec![
                shop.into(),
                e.message_id.as_str().into(),
                customer.into(),
                e.anonymous_id.clone().into(),
                e.user_id.clone().into(),
                e.kind.as_str().into(),
                e.name.clone().into(),
                e.timestamp_ms.into(),
                day.as_str().into(),
                e.product_id().into(),
                p.get_str("category").map(str::to_string).into(),
                order.clone().into(),
                revenue.into(),
                bot.into(),
                e.to_json().to_json().into(),
                now_ms.into(),
                // Recommendation impressions and clicks (`list_id` "affinity:<slot>", `variant`).
                p.get_str("list_id").map(str::to_string).into(),
                p.get_str("variant").map(str::to_string).into(),
            ],
        ));
        if new_order {
            let lines = p.get("products").and_then(Value::as_array).unwrap_or(&[]);
            let items: f64 = lines
                .iter()
                .map(|l| l.get_f64("quantity").unwrap_or(1.0).max(1.0))
                .sum();
            statements.push(Stmt::new(
                INSERT_ORDER,
                vec![
                    shop.into(),
                    order.clone().into(),
                    customer.into(),
                    e.timestamp_ms.into(),
                    day.as_str().into(),
                    revenue.unwrap_or(0.0).into(),
                    items.into(),
                ],
            ));
        }
        if bot {
            continue; // Stored and flagged above; kept out of rollups and popularity.
        }
        let d = days.entry(day.clone()).or_default();
        d.events += 1;
        if matches!(e.kind, Kind::Page | Kind::Screen) {
            d.page_views += 1;
        }
        if is_track && name == names::PRODUCT_VIEWED {
            d.product_views += 1;
        }
        if new_order {
            d.orders += 1;
            d.revenue += revenue.unwrap_or(0.0);
        }
        // Products: (properties, views, adds, purchases per unit).
        let mut touched: Vec<(&Value, u32, u32, u32)> = Vec::new();
        if is_track {
            match name {
                names::PRODUCT_VIEWED => touched.push((p, 1, 0, 0)),
                names::PRODUCT_ADDED => touched.push((p, 0, 1, 0)),
                names::PRODUCT_CLICKED | names::PRODUCT_REMOVED => touched.push((p, 0, 0, 0)),
                names::ORDER_COMPLETED if new_order => {
                    for line in p.get("products").and_then(Value::as_array).unwrap_or(&[]) {
                        let qty = line.get_f64("quantity").unwrap_or(1.0).max(1.0) as u32;
                        touched.push((line, 0, 0, qty));
                    }
                }
                _ => {}
            }
        }
        for (props, views, adds, purchases) in touched {
            let Some(product) = Product::from_properties(props) else {
                continue;
            };
            let id = product.id.clone();
            let t = products.entry(id.clone()).or_default();
            t.note(
                product,
                props.get("in_stock").and_then(Value::as_bool),
                e.timestamp_ms,
            );
            t.views += views;
            t.adds += adds;
            t.purchases += purchases;
            if views + adds + purchases > 0 {
                let pd = product_days.entry((id, day.clone())).or_default();
                pd.0 += views;
                pd.1 += adds;
                pd.2 += purchases;
            }
        }
    }
    for (id, t) in products {
        let pr = t.product;
        statements.push(Stmt::new(
            UPSERT_PRODUCT,
            vec![
                shop.into(),
                id.into(),
                pr.name.into(),
                pr.price.into(),
                pr.category.into(),
                pr.brand.into(),
                pr.url.into(),
                pr.image.into(),
                t.in_stock.into(),
                t.views.into(),
                t.adds.into(),
                t.purchases.into(),
                t.last_seen.into(),
            ],
        ));
    }
    for ((id, day), (views, adds, purchases)) in product_days {
        statements.push(Stmt::new(
            UPSERT_PRODUCT_DAY,
            vec![
                shop.into(),
                id.into(),
                day.into(),
                views.into(),
                adds.into(),
                purchases.into(),
            ],
        ));
    }
    for (day, d) in days {
        statements.push(Stmt::new(
            UPSERT_DAILY,
            vec![
                shop.into(),
                day.into(),
                d.events.into(),
                d.page_views.into(),
                d.product_views.into(),
                d.orders.into(),
                d.revenue.into(),
            ],
        ));
    }
    if !events.is_empty() {
        let last = events
            .iter()
            .max_by_key(|e| e.timestamp_ms)
            .map(event_label);
        statements.push(customer_row(
            shop,
            customer,
            profile,
            last,
            was_bot || any_bot,
            version,
            now_ms,
        ));
    }
    Folded {
        statements,
        any_bot,
    }
}

/// A short summary of a profile for the customer list (top category and brand, cart, contact).
pub fn summary(profile: &Profile, now_ms: i64) -> Value {
    let mut s = Value::object();
    if let Some(c) = profile.top_category(now_ms) {
        s.set("top_category", c.into());
    }
    if let Some(b) = profile.brands.first() {
        s.set("top_brand", b.key.as_str().into());
    }
    s.set("cart_items", (profile.cart.len() as f64).into());
    s.set("cart_value", profile.cart_value().into());
    for key in ["email", "name", "firstName", "lastName"] {
        if let Some(v) = profile.traits.get_str(key) {
            s.set(key, v.into());
        }
    }
    s
}

fn customer_row(
    shop: &str,
    customer: &str,
    profile: &Profile,
    last_event: Option<String>,
    bot: bool,
    version: i64,
    now_ms: i64,
) -> Stmt {
    let c = &profile.counters;
    Stmt::new(
        UPSERT_CUSTOMER,
        vec![
            shop.into(),
            customer.into(),
            profile.user_id.clone().into(),
            profile.first_seen_ms.into(),
            profile.last_seen_ms.into(),
            profile.sessions.into(),
            c.orders.into(),
            profile.total_spend.into(),
            c.product_views.into(),
            c.cart_adds.into(),
            c.page_views.into(),
            last_event.into(),
            bot.into(),
            summary(profile, now_ms).to_json().into(),
            version.into(),
        ],
    )
}

/// Splits a migration file into statements (drops `--` comments; statements end with `;`).
pub fn split_sql(script: &str) -> Vec<String> {
    let without_comments: String = script
        .lines()
        .map(|l| match l.find("--") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    without_comments
        .split(';')
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .collect()
}

/// The D1 migrations, in order: (name as wrangler records it, SQL).
pub const MIGRATIONS: [(&str, &str); 4] = [
    (
        "0001_init.sql",
        include_str!("../../migrations/0001_init.sql"),
    ),
    (
        "0002_models.sql",
        include_str!("../../migrations/0002_models.sql"),
    ),
    (
        "0003_segments.sql",
        include_str!("../../migrations/0003_segments.sql"),
    ),
    (
        "0004_model_format.sql",
        include_str!("../../migrations/0004_model_format.sql"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use affinity::json::parse;

    fn event(json: &str) -> Event {
        Event::from_json(&parse(json).unwrap_or_default()).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn sample() -> Vec<Event> {
        vec![
            event(
                r#"{"type":"track","event":"Order Completed","anonymousId":"a1","messageId":"m3",
                "timestamp":"2026-11-24T10:05:00Z","properties":{"order_id":"o1","revenue":120,
                "products":[{"product_id":"p1","name":"Boot","price":60,"quantity":2}]}}"#,
            ),
            event(
                r#"{"type":"track","event":"Product Viewed","anonymousId":"a1","messageId":"m1",
                "timestamp":"2026-11-24T10:00:00Z","properties":{"product_id":"p1","name":"Boot",
                "price":60,"category":"Shoes","brand":"Ridge","in_stock":true}}"#,
            ),
            event(
                r#"{"type":"page","name":"Home","anonymousId":"a1","messageId":"m0",
                "timestamp":"2026-11-23T09:00:00Z","context":{"userAgent":"Googlebot/2.1"}}"#,
            ),
            event(
                r#"{"type":"track","event":"Order Completed","anonymousId":"a1","messageId":"m4",
                "timestamp":"2026-11-24T10:06:00Z","properties":{"order_id":"o1","revenue":120}}"#,
            ),
        ]
    }

    fn of<'a>(f: &'a Folded, prefix: &str) -> Vec<&'a Stmt> {
        f.statements
            .iter()
            .filter(|s| s.sql.starts_with(prefix))
            .collect()
    }

    #[test]
    fn fold_applies_in_time_order_and_mirrors() {
        let mut profile = Profile::new("a1");
        let f = fold("demo", "a1", &mut profile, sample(), 4, false, 0);
        assert!(f.any_bot);
        assert_eq!(profile.counters.orders, 1, "second o1 is the same order");
        assert_eq!(profile.total_spend, 120.0);
        let events = of(&f, "INSERT OR IGNORE INTO events");
        assert_eq!(events.len(), 4);
        // Time order: m0 (the bot page view) first.
        assert_eq!(events[0].args[1], Arg::from("m0"));
        assert_eq!(events[0].args[13], Arg::Num(1.0), "bot flagged");
        let orders = of(&f, "INSERT OR IGNORE INTO orders");
        assert_eq!(orders.len(), 1);
        assert_eq!(orders[0].args[5], Arg::Num(120.0));
        assert_eq!(orders[0].args[6], Arg::Num(2.0), "items count quantities");
        let products = of(&f, "INSERT INTO products");
        assert_eq!(products.len(), 1);
        let p = &products[0].args;
        assert_eq!(p[2], Arg::from("Boot"));
        assert_eq!(p[4], Arg::from("Shoes"));
        assert_eq!(p[8], Arg::Num(1.0), "in stock");
        assert_eq!(
            (&p[9], &p[10], &p[11]),
            (&Arg::Num(1.0), &Arg::Num(0.0), &Arg::Num(2.0))
        );
        let days = of(&f, "INSERT INTO daily");
        assert_eq!(days.len(), 1, "the bot's day gets no rollup");
        assert_eq!(days[0].args[1], Arg::from("2026-11-24"));
        assert_eq!(days[0].args[2], Arg::Num(3.0));
        assert_eq!(days[0].args[5], Arg::Num(1.0));
        assert_eq!(days[0].args[6], Arg::Num(120.0));
        let customers = of(&f, "INSERT INTO customers");
        assert_eq!(customers.len(), 1);
        assert_eq!(customers[0].args[6], Arg::Num(1.0));
        assert_eq!(customers[0].args[11], Arg::from("Order Completed"));
        assert_eq!(customers[0].args[14], Arg::Num(4.0));
    }

    #[test]
    fn orders_seen_before_are_not_counted_again() {
        let mut profile = Profile::new("a1");
        fold("demo", "a1", &mut profile, sample(), 4, false, 0);
        let again = event(
            r#"{"type":"track","event":"Order Completed","anonymousId":"a1","messageId":"m9",
            "timestamp":"2026-11-25T10:00:00Z","properties":{"order_id":"o1","revenue":120}}"#,
        );
        let f = fold("demo", "a1", &mut profile, vec![again], 5, true, 0);
        assert!(of(&f, "INSERT OR IGNORE INTO orders").is_empty());
        let days = of(&f, "INSERT INTO daily");
        assert_eq!(days[0].args[5], Arg::Num(0.0));
        assert_eq!(profile.total_spend, 120.0);
        let customers = of(&f, "INSERT INTO customers");
        assert_eq!(customers[0].args[12], Arg::Num(1.0), "bot flag is sticky");
    }

    #[test]
    fn statements_serialize_for_the_outbox() {
        let s = Stmt::new("X", vec![Arg::Null, 1.5.into(), "t".into()]);
        let text = serde_json::to_string(&s).unwrap_or_default();
        assert_eq!(text, r#"{"sql":"X","args":[null,1.5,"t"]}"#);
        let back: Stmt = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, s);
    }

    #[test]
    fn migrations_split() {
        let stmts = split_sql(MIGRATIONS[0].1);
        assert!(stmts.len() >= 10);
        assert!(stmts.iter().all(|s| s.starts_with("CREATE ")));
        assert_eq!(
            split_sql("-- x;\nSELECT 1; -- y\n ;SELECT 2"),
            vec!["SELECT 1", "SELECT 2"]
        );
    }

    #[test]
    fn labels() {
        let e = &sample()[2];
        assert_eq!(event_label(e), "Page: Home");
        assert_eq!(event_label(&sample()[0]), "Order Completed");
    }
}
