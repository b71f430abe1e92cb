//! The merchant dashboard's pages, rendered from plain data (D1 rows, a profile from the
//! customer's Durable Object). Pure: the handlers in [`handler`] fetch the data.
//!
//! Stable hooks for end-to-end tests (the analytics pages' own are listed in [`insights`] and
//! [`explore`]): `#top-products`, `#latest-orders` (rows with `data-order-id`,
//! `data-customer-id`), `#customers-table` (rows with `data-customer-id`), `#customers-shown`,
//! `#customer-search`, `#customer-query`, `#customer-profile`, `#customer-orders` (rows with
//! `data-order-id`, cells `data-col="refunded"`, `data-col="net"`), `#consent-history`,
//! `#recommendations-shown`, `#customer-timeline` (items with `data-message-id`, `data-event`),
//! `#login-form`, `#login-error`.
//!
//! Each page is a template under `worker/templates/` filled from a view of the data built here
//! (plain strings and numbers); the template escapes every value.

use askama::Template;

use affinity::json::Value;
use affinity::profile::{Affinity, Product, Profile};

use crate::platform::html::{ago, count, filters, money, render, when, Fragment, Frame, Nav, Time};
use crate::platform::http::percent_encode;

pub mod chart;
pub mod explore;
#[cfg(target_arch = "wasm32")]
pub mod handler;
pub mod insights;
pub mod period;

pub use crate::platform::store::dashboard::{
    CustomerOrder as OrderRefunds, CustomerRow, OrderRow, Shown, TopProduct,
};
pub use crate::platform::store::object::TimelineEntry;
pub use insights::{CustomerInsights, Overview};

#[derive(Template)]
#[template(path = "login.html", whitespace = "minimize")]
struct LoginHtml<'a> {
    frame: Frame<'a>,
    shop: &'a str,
    error: Option<&'a str>,
}

/// The sign-in page (`error` shown above the form when set).
pub fn login_page(shop: &str, error: Option<&str>) -> String {
    render(&LoginHtml {
        frame: Frame::new("", Nav::Overview, "Sign in"),
        shop,
        error,
    })
}

#[derive(Template)]
#[template(path = "not_found.html", whitespace = "minimize")]
struct NotFoundHtml<'a> {
    frame: Frame<'a>,
    what: &'a str,
}

/// A page that says something is missing.
pub fn not_found_page(shop_name: &str, what: &str) -> String {
    render(&NotFoundHtml {
        frame: Frame::new(shop_name, Nav::Overview, "Not found"),
        what,
    })
}

/// A local time stamp for people: `2026-11-24 23:30 (UTC+05:30)`.
pub fn local_time(zone: &period::Zone, ms: i64) -> String {
    if ms <= 0 {
        return "–".to_string();
    }
    let d = zone.date_of(ms);
    let minutes = (ms - zone.start_of(d)) / 60_000;
    format!(
        "{d} {:02}:{:02} ({})",
        minutes / 60,
        minutes % 60,
        zone.offset_label(ms)
    )
}

/// A headline number.
struct Kpi {
    id: &'static str,
    label: &'static str,
    value: String,
    hint: String,
}

fn kpi(id: &'static str, label: &'static str, value: String, hint: impl Into<String>) -> Kpi {
    Kpi {
        id,
        label,
        value,
        hint: hint.into(),
    }
}

/// A link to a customer's page.
struct CustomerLink {
    id: String,
    href: String,
}

impl CustomerLink {
    fn new(id: &str) -> CustomerLink {
        CustomerLink {
            id: id.to_string(),
            href: format!("/dashboard/customers/{}", percent_encode(id)),
        }
    }
}

/// A row of the customer tables.
struct CustomerView {
    link: CustomerLink,
    known: bool,
    bot: bool,
    interest: Option<String>,
    sessions: String,
    views: String,
    orders: String,
    spend: String,
    last_seen: Time,
    last_event: String,
}

fn customer_views(rows: &[CustomerRow], now_ms: i64) -> Vec<CustomerView> {
    rows.iter()
        .map(|r| {
            let summary = r
                .summary
                .as_deref()
                .and_then(|s| affinity::json::parse(s).ok())
                .unwrap_or_default();
            CustomerView {
                link: CustomerLink::new(&r.customer_id),
                known: r.user_id.is_some(),
                bot: r.bot > 0.0,
                interest: summary.get_str("top_category").map(str::to_string),
                sessions: count(r.sessions),
                views: count(r.product_views),
                orders: count(r.orders),
                spend: money(r.total_spend),
                last_seen: Time::new(r.last_seen as i64, now_ms),
                last_event: r.last_event.clone().unwrap_or_default(),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "customers.html", whitespace = "minimize")]
struct CustomersHtml<'a> {
    frame: Frame<'a>,
    insights: &'a Fragment,
    query: &'a str,
    shown: String,
    customers: Vec<CustomerView>,
}

/// The customer list, filtered by id prefix `query`, below the RFM grid, the top customers and
/// new vs returning (`insights`: [`insights::customer_insights`]).
pub fn customers_page(
    shop_name: &str,
    insights: &Fragment,
    query: &str,
    rows: &[CustomerRow],
    now_ms: i64,
) -> String {
    render(&CustomersHtml {
        frame: Frame::new(shop_name, Nav::Customers, "Customers"),
        insights,
        query,
        shown: count(rows.len() as f64),
        customers: customer_views(rows, now_ms),
    })
}

struct BarRow {
    key: String,
    percent: String,
    score: String,
}

/// A list of decayed affinity scores as bars.
struct Bars {
    id: &'static str,
    title: &'static str,
    rows: Vec<BarRow>,
}

fn affinity_bars(id: &'static str, title: &'static str, list: &[Affinity], now: i64) -> Bars {
    let decayed: Vec<(String, f64)> = list
        .iter()
        .take(6)
        .map(|a| {
            let dt = (now - a.at_ms).max(0) as f64;
            let s = a.score
                * (-(dt / affinity::profile::AFFINITY_HALF_LIFE_MS) * std::f64::consts::LN_2).exp();
            (a.key.clone(), s)
        })
        .collect();
    let max = decayed.iter().map(|(_, s)| *s).fold(0.0, f64::max);
    let rows = decayed
        .into_iter()
        .map(|(key, s)| BarRow {
            key,
            percent: format!("{:.0}", if max > 0.0 { s / max * 100.0 } else { 0.0 }),
            score: format!("{s:.1}"),
        })
        .collect();
    Bars { id, title, rows }
}

/// The key properties of an event, for the timeline: plain text (the page escapes it).
pub fn key_properties(event: &Value) -> String {
    let p = event.get("properties").cloned().unwrap_or_default();
    let mut parts: Vec<String> = Vec::new();
    let mut add = |label: &str, v: String| parts.push(format!("{label}: {v}"));
    if let Some(name) = p
        .get_str("name")
        .filter(|_| event.get_str("type") == Some("track"))
    {
        add("product", name.to_string());
    }
    if let Some(id) = affinity::event::product_key(&p) {
        add("id", id);
    }
    if let Some(c) = p.get_str("category") {
        add("category", c.to_string());
    }
    if let Some(x) = p.get_f64("price") {
        add("price", money(x));
    }
    if let Some(q) = p.get_str("query") {
        add("query", q.to_string());
    }
    if let Some(o) = p.get("order_id") {
        add(
            "order",
            o.as_str().map_or_else(|| o.to_json(), str::to_string),
        );
    }
    if let Some(x) = p.get_f64("revenue").or_else(|| p.get_f64("total")) {
        add("total", money(x));
    }
    if let Some(path) = p.get_str("path").or_else(|| p.get_str("url")) {
        add("page", path.to_string());
    }
    if let Some(t) = event.get("traits").and_then(Value::as_object) {
        let keys: Vec<&str> = t.iter().map(|(k, _)| k.as_str()).take(4).collect();
        if !keys.is_empty() {
            add("traits", keys.join(", "));
        }
    }
    parts.join(" · ")
}

/// A product line of the cart or the recently viewed list; the name links to the product page
/// when the shop sent its URL.
struct ProductLine<'a> {
    id: &'a str,
    name: &'a str,
    href: Option<&'a str>,
    quantity: u32,
    price: String,
    category: &'a str,
    when: Option<Time>,
}

impl<'a> ProductLine<'a> {
    fn new(p: &'a Product) -> ProductLine<'a> {
        ProductLine {
            id: &p.id,
            name: if p.name.is_empty() { &p.id } else { &p.name },
            href: p.url.as_deref().filter(|u| !u.is_empty()),
            quantity: 0,
            price: p.price.map(money).unwrap_or_default(),
            category: p.category.as_deref().unwrap_or(""),
            when: None,
        }
    }
}

struct CustomerOrder<'a> {
    id: &'a str,
    lines: usize,
    total: String,
    refunded: String,
    net: String,
    was_refunded: bool,
    when: Time,
}

/// One change of the shopper's consent, when the profile records them.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentChange {
    /// The level in force: `none`, `device`, `analytics` or `marketing`.
    pub level: String,
    /// When, Unix ms.
    pub at_ms: i64,
    /// Where it came from (`api`, `tcf`, `gcm`, `shopify`, `optout`, `default`, `gpc`, …).
    pub source: String,
}

/// The consent history of a profile JSON: its `consent` list of `{level, at_ms, source}`, oldest
/// first (`docs/consent.md`; empty when the profile has none; entries without a level skipped).
pub fn consent_history(profile: &Value) -> Vec<ConsentChange> {
    affinity::consent::history_from_json(profile.get("consent"))
        .into_iter()
        .map(|c| ConsentChange {
            level: c.level.as_str().to_string(),
            at_ms: c.at_ms,
            source: c.source,
        })
        .collect()
}

/// What the customer page shows besides the profile: refunds of its orders (D1), its consent
/// history, and the recommendations it was shown.
#[derive(Debug, Clone, Default)]
pub struct CustomerExtras {
    /// The customer's orders as D1 holds them, with what was refunded.
    pub refunds: Vec<OrderRefunds>,
    /// Consent changes, oldest first.
    pub consent: Vec<ConsentChange>,
    /// Whether the profile carries a consent history at all.
    pub has_consent: bool,
    /// Recommendation impressions, latest first.
    pub shown: Vec<Shown>,
}

struct ConsentView {
    level: String,
    source: String,
    when: Time,
}

struct ShownView {
    slot: String,
    variant: String,
    products: String,
    when: Time,
}

struct TimelineItem {
    message_id: String,
    label: String,
    when: String,
    ago: String,
    props: String,
}

#[derive(Template)]
#[template(path = "customer.html", whitespace = "minimize")]
struct CustomerHtml<'a> {
    frame: Frame<'a>,
    id: &'a str,
    name: Option<&'a str>,
    known: bool,
    first_seen: String,
    last_seen: String,
    last_seen_ago: String,
    kpis: [Kpi; 5],
    segments: &'a Fragment,
    user_id: &'a str,
    anonymous_ids: &'a [String],
    recency: String,
    frequency: String,
    monetary: String,
    searches: String,
    traits: Vec<(&'a str, String)>,
    categories: Bars,
    brands: Bars,
    cart_value: String,
    cart: Vec<ProductLine<'a>>,
    recent: Vec<ProductLine<'a>>,
    orders: Vec<CustomerOrder<'a>>,
    timeline: Vec<TimelineItem>,
    consent: Vec<ConsentView>,
    has_consent: bool,
    shown: Vec<ShownView>,
}

/// A customer's page: profile summary from the Durable Object, its segments (`segments_html`:
/// the rendered [`crate::segments::pages::customer_card`]) and the event
/// timeline.
pub fn customer_page(
    shop_name: &str,
    profile: &Profile,
    segments_html: &Fragment,
    timeline: &[TimelineEntry],
    extras: &CustomerExtras,
    now_ms: i64,
) -> String {
    let id = &profile.customer_id;
    let rfm = profile.rfm(now_ms);
    let c = &profile.counters;
    let timeline = timeline
        .iter()
        .map(|t| {
            let label = match (t.kind.as_str(), t.name.as_deref()) {
                ("track", Some(n)) => n.to_string(),
                ("page", Some(n)) if !n.is_empty() => format!("Page: {n}"),
                (k, _) => {
                    let mut c = k.chars();
                    c.next()
                        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                }
            };
            TimelineItem {
                message_id: t.message_id.clone(),
                label,
                when: when(t.ts as i64),
                ago: ago(t.ts as i64, now_ms),
                props: key_properties(&affinity::json::parse(&t.json).unwrap_or_default()),
            }
        })
        .collect();
    render(&CustomerHtml {
        frame: Frame::new(shop_name, Nav::Customers, id.as_str()),
        id,
        name: ["name", "email"]
            .iter()
            .find_map(|k| profile.traits.get_str(k))
            .filter(|n| n != id),
        known: profile.user_id.is_some(),
        first_seen: when(profile.first_seen_ms),
        last_seen: when(profile.last_seen_ms),
        last_seen_ago: ago(profile.last_seen_ms, now_ms),
        kpis: [
            kpi(
                "profile-sessions",
                "Sessions",
                count(f64::from(profile.sessions)),
                "30-minute gap",
            ),
            kpi(
                "profile-views",
                "Product views",
                count(f64::from(c.product_views)),
                format!("{} page views", c.page_views),
            ),
            kpi(
                "profile-adds",
                "Cart adds",
                count(f64::from(c.cart_adds)),
                format!("{} checkouts", c.checkouts),
            ),
            kpi(
                "profile-orders",
                "Orders",
                count(f64::from(c.orders)),
                "all time",
            ),
            kpi(
                "profile-spend",
                "Total spend",
                money(profile.total_spend),
                "after refunds",
            ),
        ],
        segments: segments_html,
        user_id: profile.user_id.as_deref().unwrap_or("–"),
        anonymous_ids: &profile.anonymous_ids,
        recency: rfm.recency_days.map_or_else(
            || "no order yet".to_string(),
            |d| format!("{d:.1} days since last order"),
        ),
        frequency: if rfm.frequency == 1 {
            "1 order".to_string()
        } else {
            format!("{} orders", rfm.frequency)
        },
        monetary: money(rfm.monetary),
        searches: if profile.searches.is_empty() {
            "–".to_string()
        } else {
            profile.searches.join(", ")
        },
        traits: profile
            .traits
            .as_object()
            .unwrap_or(&[])
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str(),
                    v.as_str().map_or_else(|| v.to_json(), str::to_string),
                )
            })
            .collect(),
        categories: affinity_bars(
            "category-affinities",
            "Top categories",
            &profile.categories,
            now_ms,
        ),
        brands: affinity_bars("brand-affinities", "Top brands", &profile.brands, now_ms),
        cart_value: money(profile.cart_value()),
        cart: profile
            .cart
            .iter()
            .map(|l| ProductLine {
                quantity: l.quantity,
                ..ProductLine::new(&l.product)
            })
            .collect(),
        recent: profile
            .recent
            .iter()
            .take(10)
            .map(|v| ProductLine {
                when: Some(Time::new(v.at_ms, now_ms)),
                ..ProductLine::new(&v.product)
            })
            .collect(),
        orders: profile
            .orders
            .iter()
            .rev()
            .map(|o| {
                let refunded = extras
                    .refunds
                    .iter()
                    .find(|r| r.order_id == o.id)
                    .map_or(0.0, |r| r.refunded);
                CustomerOrder {
                    id: &o.id,
                    lines: o.items.len(),
                    total: money(o.revenue),
                    refunded: money(refunded),
                    net: money(o.revenue - refunded),
                    was_refunded: refunded > 0.0,
                    when: Time::new(o.at_ms, now_ms),
                }
            })
            .collect(),
        timeline,
        consent: extras
            .consent
            .iter()
            .map(|c| ConsentView {
                level: c.level.clone(),
                source: c.source.clone(),
                when: Time::new(c.at_ms, now_ms),
            })
            .collect(),
        has_consent: extras.has_consent,
        shown: extras
            .shown
            .iter()
            .map(|s| {
                let event = affinity::json::parse(&s.json).unwrap_or_default();
                let products = event
                    .get("properties")
                    .and_then(|p| p.get("products"))
                    .and_then(Value::as_array)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(affinity::event::product_key)
                    .collect::<Vec<_>>()
                    .join(", ");
                ShownView {
                    slot: s
                        .list_id
                        .as_deref()
                        .unwrap_or("")
                        .trim_start_matches("affinity:")
                        .to_string(),
                    variant: s.variant.clone().unwrap_or_default(),
                    products,
                    when: Time::new(s.ts as i64, now_ms),
                }
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use affinity::event::Event;

    const NOW: i64 = 1_795_000_000_000;

    #[test]
    fn login_page_escapes_and_shows_errors() {
        let html = login_page("\"><script>", Some("Wrong <secret>"));
        assert!(html.contains("id=\"login-form\""));
        assert!(html.contains("id=\"login-error\""));
        assert!(html.contains("Wrong &#60;secret&#62;"));
        assert!(!html.contains("<script>"));
        assert!(!login_page("demo", None).contains("login-error"));
    }

    #[test]
    fn customer_page_shows_profile_and_timeline() {
        let raw = r#"{"type":"track","event":"Product Viewed","anonymousId":"a<1>","messageId":"m1",
            "timestamp":"2026-11-24T10:00:00Z","properties":{"product_id":"p1","name":"Boot <b>",
            "price":60,"category":"Shoes","brand":"Ridge"}}"#;
        let e = Event::from_json(&affinity::json::parse(raw).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e:?}"));
        let mut p = Profile::new("a<1>");
        p.apply(&e);
        let t = TimelineEntry {
            message_id: "m1".into(),
            ts: e.timestamp_ms as f64,
            kind: "track".into(),
            name: Some("Product Viewed".into()),
            json: e.to_json().to_json(),
        };
        let card = crate::segments::pages::customer_card(&[], NOW);
        let extras = CustomerExtras {
            refunds: vec![OrderRefunds {
                order_id: "o9".into(),
                refunded: 5.0,
                ..OrderRefunds::default()
            }],
            ..CustomerExtras::default()
        };
        let html = customer_page("Demo", &p, &card, &[t], &extras, NOW);
        assert!(html.contains("id=\"consent-history\""));
        assert!(html.contains("No consent recorded for this shopper yet"));
        assert!(html.contains("No recommendations shown to this shopper yet."));
        assert!(html.contains(card.as_str()));
        assert!(html.contains("data-customer-id=\"a&#60;1&#62;\""));
        assert!(html.contains("data-message-id=\"m1\""));
        assert!(html.contains("data-event=\"Product Viewed\""));
        assert!(html.contains("Boot &#60;b&#62;"));
        assert!(html.contains("id=\"category-affinities\""));
        assert!(html.contains(">Shoes<"));
        assert!(!html.contains("Boot <b>"));
    }

    #[test]
    fn consent_history_is_read_when_present() {
        // The history as the engine's profile writes it.
        let mut profile = Profile::new("c1");
        for (at, level) in [(5, "marketing"), (9, "device")] {
            let raw = format!(
                r#"{{"type":"track","event":"Segment Consent Preference Updated","messageId":"m{at}",
                "anonymousId":"a","timestamp":"2026-11-24T18:00:0{at}Z",
                "context":{{"consent":{{"level":"{level}","source":"api"}}}}}}"#
            );
            let e = Event::from_json(&affinity::json::parse(&raw).unwrap()).unwrap();
            affinity::consent::note(&mut profile.consent, &e);
        }
        let h = consent_history(&profile.to_json());
        assert_eq!(
            h.iter()
                .map(|c| (c.level.as_str(), c.at_ms, c.source.as_str()))
                .collect::<Vec<_>>(),
            // 2026-11-24T18:00:00Z is 1,795,543,200,000 ms.
            vec![
                ("marketing", 1_795_543_205_000, "api"),
                ("device", 1_795_543_209_000, "api")
            ]
        );
        assert!(consent_history(&Value::object()).is_empty());
        let zone = period::Zone::or_utc("+05:30");
        // 2026-11-24T18:00Z is 23:30 in India.
        assert_eq!(
            local_time(&zone, 1_795_543_200_000),
            "2026-11-24 23:30 (UTC+05:30)"
        );
    }
}
