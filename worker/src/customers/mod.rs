//! Customers: one Durable Object per shop and customer ([`object`]) folds the customer's events
//! into the engine's profile idempotently by `messageId`; [`fold`] is the one place where new
//! events become both the profile update (the engine's [`Profile::apply`]) and the D1 statements
//! that mirror it (raw `events`, the `customers` mirror, `products` counters, `orders` and the
//! dashboard's slot rollups, [`rollups`]). Pure and tested natively; the object and the
//! profile / health API ([`handler`]) run on wasm32.

use std::collections::BTreeMap;

use affinity::event::{self, names, Event, Kind};
use affinity::json::Value;
use affinity::profile::{Product, Profile};
use affinity::time;

use crate::ingest::is_bot;
use crate::platform::store::events::{self as ev, CustomerMirror, EventRow, ProductCounts};
use crate::platform::store::Stmt;

#[cfg(target_arch = "wasm32")]
pub mod handler;
pub mod rollups;
// The `durable_object` macro generates undocumented `#[wasm_bindgen]` glue methods.
#[cfg(target_arch = "wasm32")]
#[allow(missing_docs)]
pub mod object;

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

/// How a fold mirrors a customer's events.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mirror {
    /// The customer's count of applied messages after this fold (orders mirror updates).
    pub version: i64,
    /// Earlier events of the customer were flagged as a bot.
    pub was_bot: bool,
    /// The shop counts automated browsers (headless, webdriver) as shoppers; when false they are
    /// flagged like bots.
    pub count_automated: bool,
    /// Now, Unix ms.
    pub now_ms: i64,
}

/// True when the event's user agent is an automated browser (headless Chromium or Firefox,
/// webdriver-driven): counted as a shopper unless the shop's settings say otherwise.
pub fn is_automated(event: &Event) -> bool {
    event.context.get_str("userAgent").is_some_and(|ua| {
        let ua = ua.to_ascii_lowercase();
        ua.contains("headlesschrome") || ua.contains("headless") || ua.contains("webdriver")
    })
}

/// Folds `events` (new to this customer, any order) into `profile` in timestamp order with the
/// engine, and returns the D1 statements that record them.
pub fn fold(
    shop: &str,
    customer: &str,
    profile: &mut Profile,
    mut events: Vec<Event>,
    mirror: Mirror,
) -> Folded {
    let Mirror {
        version,
        was_bot,
        count_automated,
        now_ms,
    } = mirror;
    events.sort_by_key(|e| e.timestamp_ms);
    let mut statements = Vec::new();
    let mut event_rows: Vec<EventRow> = Vec::new();
    let mut products: BTreeMap<String, ProductTotals> = BTreeMap::new();
    let mut any_bot = false;
    let mut slots = rollups::Rollups::default();
    for e in &events {
        if crate::ingest::is_consent_only(e) {
            // Sent below `analytics`: the consent change is all the edge keeps.
            apply_event(profile, e);
            continue;
        }
        let bot = is_bot(e) || (!count_automated && is_automated(e));
        any_bot |= bot;
        let day = time::format_date(e.timestamp_ms);
        let name = e.name.as_deref().unwrap_or("");
        let p = &e.properties;
        let is_track = e.kind == Kind::Track;
        let order = if is_track && (name == names::ORDER_COMPLETED || name == names::ORDER_REFUNDED)
        {
            event::order_id(p)
        } else {
            None
        };
        let new_order = is_track
            && name == names::ORDER_COMPLETED
            && order
                .as_deref()
                .is_some_and(|id| !profile.orders.iter().any(|o| o.id == id));
        let sessions_before = profile.sessions;
        apply_event(profile, e);
        note_rollups(&mut slots, e, bot, sessions_before, new_order, profile);
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
        event_rows.push(EventRow {
            shop,
            message_id: &e.message_id,
            customer_id: customer,
            anonymous_id: e.anonymous_id.as_deref(),
            user_id: e.user_id.as_deref(),
            kind: e.kind.as_str(),
            name: e.name.as_deref(),
            ts: e.timestamp_ms,
            day: day.clone(),
            product_id: e.product_id(),
            category: p.get_str("category"),
            order_id: order.clone(),
            revenue,
            bot,
            json: e.to_json().to_json(),
            received_at: now_ms,
            // Recommendation impressions and clicks (`list_id` "affinity:<slot>", `variant`).
            list_id: p.get_str("list_id"),
            variant: p.get_str("variant"),
        });
        if new_order {
            let lines = p.get("products").and_then(Value::as_array).unwrap_or(&[]);
            let items: f64 = lines
                .iter()
                .map(|l| l.get_f64("quantity").unwrap_or(1.0).max(1.0))
                .sum();
            statements.push(ev::insert_order(
                shop,
                order.as_deref().unwrap_or_default(),
                customer,
                e.timestamp_ms,
                &day,
                revenue.unwrap_or(0.0),
                items,
            ));
        }
        if bot {
            continue; // Stored and flagged above; kept out of rollups and popularity.
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
        }
    }
    // The raw events first (in one multi-row statement per few rows), then what they add up to.
    statements.splice(0..0, ev::insert_events(&event_rows));
    for (id, t) in products {
        let pr = t.product;
        statements.push(ev::add_product(
            shop,
            &id,
            &ProductCounts {
                name: pr.name,
                price: pr.price,
                category: pr.category,
                brand: pr.brand,
                url: pr.url,
                image: pr.image,
                in_stock: t.in_stock,
                views: t.views,
                adds: t.adds,
                purchases: t.purchases,
                last_seen: t.last_seen,
            },
        ));
    }
    statements.extend(slots.statements(shop, customer, now_ms));
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

/// Folds one stored event into a customer's profile: the consent it states goes into the
/// consent history ([`affinity::consent::note`]); a consent-only event
/// ([`crate::ingest::is_consent_only`]) adds nothing else, every other event goes through the
/// engine's [`Profile::apply`]. Rebuilding a profile from stored messages uses it too.
pub fn apply_event(profile: &mut Profile, e: &Event) {
    affinity::consent::note(&mut profile.consent, e);
    if !crate::ingest::is_consent_only(e) {
        profile.apply(e);
    }
}

/// Adds one event, just folded into `profile`, to the dashboard's rollups.
fn note_rollups(
    slots: &mut rollups::Rollups,
    e: &Event,
    bot: bool,
    sessions_before: u32,
    new_order: bool,
    profile: &Profile,
) {
    let p = &e.properties;
    let track = |n: &str| e.kind == Kind::Track && e.name.as_deref() == Some(n);
    let order = || {
        let id = event::order_id(p)?;
        profile.orders.iter().find(|o| o.id == id)
    };
    let refund = if track(names::ORDER_REFUNDED) {
        let amount = p.get_f64("total").or_else(|| p.get_f64("revenue"));
        amount.zip(order()).map(|(a, o)| (a, o.items.as_slice()))
    } else {
        None
    };
    slots.note(rollups::Seen {
        event: e,
        bot,
        new_session: profile.sessions > sessions_before,
        returning: sessions_before > 0,
        new_order: if new_order {
            order().map(|o| o.revenue)
        } else {
            None
        },
        refund,
    });
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
    ev::upsert_customer(&CustomerMirror {
        shop,
        customer_id: customer,
        user_id: profile.user_id.as_deref(),
        first_seen: profile.first_seen_ms,
        last_seen: profile.last_seen_ms,
        sessions: profile.sessions,
        orders: c.orders,
        total_spend: profile.total_spend,
        product_views: c.product_views,
        cart_adds: c.cart_adds,
        page_views: c.page_views,
        last_event,
        bot,
        summary: summary(profile, now_ms).to_json(),
        version,
        consent: profile.consent.last().map(|c| c.level.as_str()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::store::Arg;
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

    fn mirror(version: i64, was_bot: bool) -> Mirror {
        Mirror {
            version,
            was_bot,
            count_automated: true,
            now_ms: 0,
        }
    }

    #[test]
    fn automated_browsers_count_unless_the_shop_says_no() {
        let e = event(
            r#"{"type":"page","anonymousId":"h","messageId":"h1","timestamp":"2026-11-24T10:00:00Z",
            "context":{"userAgent":"Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/156.0 Safari/537.36"}}"#,
        );
        assert!(is_automated(&e) && !is_bot(&e));
        let mut p = Profile::new("h");
        assert!(!fold("demo", "h", &mut p, vec![e.clone()], mirror(1, false)).any_bot);
        let strict = Mirror {
            count_automated: false,
            ..mirror(1, false)
        };
        let mut p = Profile::new("h");
        assert!(fold("demo", "h", &mut p, vec![e], strict).any_bot);
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
        let f = fold("demo", "a1", &mut profile, sample(), mirror(4, false));
        assert!(f.any_bot);
        assert_eq!(profile.counters.orders, 1, "second o1 is the same order");
        assert_eq!(profile.total_spend, 120.0);
        let events = of(&f, "INSERT OR IGNORE INTO events");
        assert_eq!(events.len(), 1, "four rows, one statement");
        assert_eq!(events[0].args.len(), 4 * 18);
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
        assert!(
            of(&f, "INSERT INTO daily").is_empty()
                && of(&f, "INSERT INTO product_daily").is_empty(),
            "the UTC-day rollups are no longer written (the dashboard reads the slot rollups)"
        );
        let customers = of(&f, "INSERT INTO customers");
        assert_eq!(customers.len(), 1);
        assert_eq!(customers[0].args[6], Arg::Num(1.0));
        assert_eq!(customers[0].args[11], Arg::from("Order Completed"));
        assert_eq!(customers[0].args[14], Arg::Num(4.0));
    }

    #[test]
    fn orders_seen_before_are_not_counted_again() {
        let mut profile = Profile::new("a1");
        fold("demo", "a1", &mut profile, sample(), mirror(4, false));
        let again = event(
            r#"{"type":"track","event":"Order Completed","anonymousId":"a1","messageId":"m9",
            "timestamp":"2026-11-25T10:00:00Z","properties":{"order_id":"o1","revenue":120}}"#,
        );
        let f = fold("demo", "a1", &mut profile, vec![again], mirror(5, true));
        assert!(of(&f, "INSERT OR IGNORE INTO orders").is_empty());
        let slots = of(&f, "INSERT INTO rollup_slots");
        assert_eq!(
            slots[0].args[8],
            Arg::Num(0.0),
            "no order in the slot's rollup"
        );
        assert_eq!(profile.total_spend, 120.0);
        let customers = of(&f, "INSERT INTO customers");
        assert_eq!(customers[0].args[12], Arg::Num(1.0), "bot flag is sticky");
    }

    #[test]
    fn consent_below_analytics_keeps_the_change_and_nothing_else() {
        let mut profile = Profile::new("a1");
        let at = |level: &str, id: &str, ts: &str| {
            crate::ingest::within_consent(event(&format!(
                r#"{{"type":"track","event":"Product Viewed","anonymousId":"a1","messageId":"{id}",
                "timestamp":"{ts}","properties":{{"product_id":"p1","name":"Boot"}},
                "context":{{"consent":{{"level":"{level}","source":"api"}}}}}}"#
            )))
        };
        let f = fold(
            "demo",
            "a1",
            &mut profile,
            vec![
                at("marketing", "c1", "2026-11-24T10:00:00Z"),
                at("device", "c2", "2026-11-24T10:01:00Z"),
            ],
            mirror(2, false),
        );
        let events = of(&f, "INSERT OR IGNORE INTO events");
        assert_eq!(
            (events.len(), events[0].args.len()),
            (1, 18),
            "only the marketing event is stored"
        );
        assert_eq!(events[0].args[1], Arg::from("c1"));
        assert_eq!(profile.counters.product_views, 1);
        let history: Vec<(&str, &str)> = profile
            .consent
            .iter()
            .map(|c| (c.level.as_str(), c.source.as_str()))
            .collect();
        assert_eq!(history, vec![("marketing", "api"), ("device", "api")]);
        let customers = of(&f, "INSERT INTO customers");
        assert_eq!(customers[0].args.last(), Some(&Arg::from("device")));
        // The profile JSON the object answers carries the history.
        let json = profile.to_json();
        let list = json.get("consent").and_then(Value::as_array).unwrap_or(&[]);
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].get_str("level"), Some("device"));
        assert!(list[1].get_f64("at_ms").is_some());
    }

    #[test]
    fn statements_serialize_for_the_outbox() {
        let s = Stmt {
            sql: "X".into(),
            args: vec![Arg::Null, 1.5.into(), "t".into()],
        };
        let text = serde_json::to_string(&s).unwrap_or_default();
        assert_eq!(text, r#"{"sql":"X","args":[null,1.5,"t"]}"#);
        let back: Stmt = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, s);
    }

    #[test]
    fn labels() {
        let e = &sample()[2];
        assert_eq!(event_label(e), "Page: Home");
        assert_eq!(event_label(&sample()[0]), "Order Completed");
    }
}
