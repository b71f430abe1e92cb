//! The merchant dashboard's pages, rendered from plain data (D1 rows, a profile from the
//! customer's Durable Object). Pure: the handlers in [`handler`] fetch the data.
//!
//! Stable hooks for end-to-end tests: `#customers-count`, `#orders-count`, `#revenue-total`,
//! `#conversion-rate`, `#events-30d`, `#events-chart`, `#revenue-chart`, `#top-products`,
//! `#latest-orders` (rows with `data-order-id`, `data-customer-id`), `#latest-customers`,
//! `#customers-table` (rows with `data-customer-id`), `#customers-shown`, `#customer-search`,
//! `#customer-query`, `#customer-profile`, `#customer-timeline`
//! (items with `data-message-id`, `data-event`), `#login-form`, `#login-error`.
//!
//! Each page is a template under `worker/templates/` filled from a view of the data built here
//! (plain strings and numbers); the template escapes every value.

use askama::Template;

use affinity::json::Value;
use affinity::profile::{Affinity, Product, Profile};
use affinity::time::{self, DAY_MS};
use serde::Deserialize;

use crate::platform::html::{
    ago, count, filters, money, percent, render, when, Fragment, Frame, Nav, Px, Time,
};
use crate::platform::http::percent_encode;

#[cfg(target_arch = "wasm32")]
pub mod handler;
pub mod period;

pub use crate::platform::store::dashboard::{CustomerRow, Day, OrderRow, TopProduct};
pub use crate::platform::store::object::TimelineEntry;

/// Headline numbers of a shop (bot-flagged customers excluded).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Kpis {
    /// Customers seen.
    #[serde(default)]
    pub customers: f64,
    /// Customers with at least one order.
    #[serde(default)]
    pub buyers: f64,
    /// Orders.
    #[serde(default)]
    pub orders: f64,
    /// Revenue of those orders.
    #[serde(default)]
    pub revenue: f64,
    /// Events in the last 30 days.
    #[serde(default)]
    pub events_30d: f64,
}

/// Everything the overview shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    /// Headline numbers.
    pub kpis: Kpis,
    /// The daily rollup for the last 30 days (missing days are zero).
    pub days: Vec<Day>,
    /// Most viewed products.
    pub top_products: Vec<TopProduct>,
    /// Latest orders.
    pub latest_orders: Vec<OrderRow>,
    /// Latest customers.
    pub latest_customers: Vec<CustomerRow>,
}

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

/// Fills the days of the 30-day window ending at `now_ms` that have no rollup row with zeros.
pub fn fill_days(rows: &[Day], now_ms: i64) -> Vec<Day> {
    (0..30)
        .rev()
        .map(|back| {
            let day = time::format_date(now_ms - back * DAY_MS);
            rows.iter().find(|r| r.day == day).cloned().unwrap_or(Day {
                day,
                ..Day::default()
            })
        })
        .collect()
}

/// A readable axis for values up to `max`: `(top, intervals)` with a step of 1, 2 or 5 × 10^k
/// and at most five intervals.
fn axis(max: f64) -> (f64, u32) {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let mut mag = 10f64.powf((max / 5.0).log10().floor());
    loop {
        for m in [1.0, 2.0, 5.0] {
            let step = m * mag;
            let n = (max / step - 1e-9).ceil().max(1.0);
            if n <= 5.0 {
                // Whole numbers only: counts and money below 1 still get a step of 1.
                let step = if step < 1.0 { 1.0 } else { step };
                let n = (max / step - 1e-9).ceil().max(1.0);
                return (step * n, n as u32);
            }
        }
        mag *= 10.0;
    }
}

/// A horizontal grid line with its scale label.
struct Tick {
    y: Px,
    text_y: Px,
    text: String,
}

/// A day label under the bars.
struct XLabel {
    x: Px,
    text: String,
}

struct Bar {
    x: Px,
    y: Px,
    width: Px,
    height: Px,
    day: String,
    value: f64,
    text: String,
    label: Option<XLabel>,
}

struct Dot {
    x: Px,
    y: Px,
    day: String,
    value: f64,
}

/// A bar chart (with an optional line series on its own, right-hand scale) as inline SVG: the
/// coordinates are computed here, the template only writes them out.
#[derive(Template)]
#[template(path = "chart.html", whitespace = "minimize")]
struct Chart {
    id: &'static str,
    label: &'static str,
    width: f64,
    height: f64,
    left: f64,
    right: f64,
    left_text: f64,
    right_text: f64,
    label_y: f64,
    grid: Vec<Tick>,
    line_ticks: Vec<Tick>,
    bars: Vec<Bar>,
    points: String,
    dots: Vec<Dot>,
}

// Numbers and escaped text only: rendered by its own template.
impl askama::filters::HtmlSafe for Chart {}

impl Chart {
    fn new(
        id: &'static str,
        label: &'static str,
        days: &[Day],
        bars: impl Fn(&Day) -> f64,
        line: Option<&dyn Fn(&Day) -> f64>,
        fmt: impl Fn(f64) -> String,
    ) -> Chart {
        let right = if line.is_some() { 30.0 } else { 12.0 };
        let (w, h, left, top, bottom) = (560.0, 200.0, 46.0, 12.0, 24.0);
        let plot_w = w - left - right;
        let plot_h = h - top - bottom;
        let n = days.len().max(1) as f64;
        let slot = plot_w / n;
        let (max, ticks) = axis(days.iter().map(&bars).fold(0.0, f64::max));
        let (lmax, lticks) = line.map_or((1.0, ticks), |l| {
            axis(days.iter().map(l).fold(0.0, f64::max))
        });
        let tick_y = |i: u32, of: u32| top + plot_h - plot_h * f64::from(i) / f64::from(of);
        let grid = (0..=ticks)
            .map(|i| Tick {
                y: Px(tick_y(i, ticks)),
                text_y: Px(tick_y(i, ticks) + 3.5),
                text: fmt(max * f64::from(i) / f64::from(ticks)),
            })
            .collect();
        let line_ticks = match line {
            Some(_) => (0..=lticks)
                .map(|i| Tick {
                    y: Px(tick_y(i, lticks)),
                    text_y: Px(tick_y(i, lticks) + 3.5),
                    text: count(lmax * f64::from(i) / f64::from(lticks)),
                })
                .collect(),
            None => Vec::new(),
        };
        let mid = |i: usize| left + slot * (i as f64 + 0.5);
        let bar_list = days
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let v = bars(d);
                let bh = plot_h * v / max;
                Bar {
                    x: Px(left + slot * i as f64 + slot * 0.18),
                    y: Px(top + plot_h - bh),
                    width: Px(slot * 0.64),
                    height: Px(bh),
                    day: d.day.clone(),
                    value: v,
                    text: fmt(v),
                    // Every 7th day is labelled, counting back from today.
                    label: ((days.len() - 1 - i) % 7 == 0).then(|| XLabel {
                        x: Px(mid(i)),
                        text: d.day.get(5..).unwrap_or(&d.day).to_string(),
                    }),
                }
            })
            .collect();
        let line_y = |l: &dyn Fn(&Day) -> f64, d: &Day| top + plot_h - plot_h * l(d) / lmax;
        let (points, dots) = match line {
            Some(l) => (
                days.iter()
                    .enumerate()
                    .map(|(i, d)| format!("{},{}", Px(mid(i)), Px(line_y(l, d))))
                    .collect::<Vec<_>>()
                    .join(" "),
                days.iter()
                    .enumerate()
                    .filter(|(_, d)| l(d) > 0.0)
                    .map(|(i, d)| Dot {
                        x: Px(mid(i)),
                        y: Px(line_y(l, d)),
                        day: d.day.clone(),
                        value: l(d),
                    })
                    .collect(),
            ),
            None => (String::new(), Vec::new()),
        };
        Chart {
            id,
            label,
            width: w,
            height: h,
            left,
            right: w - right,
            left_text: left - 6.0,
            right_text: w - right + 6.0,
            label_y: h - 6.0,
            grid,
            line_ticks,
            bars: bar_list,
            points,
            dots,
        }
    }
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

struct ProductView<'a> {
    id: &'a str,
    name: &'a str,
    views: String,
    adds: String,
    purchases: String,
}

struct OrderView {
    id: String,
    customer: CustomerLink,
    items: String,
    total: String,
    when: Time,
}

#[derive(Template)]
#[template(path = "overview.html", whitespace = "minimize")]
struct OverviewHtml<'a> {
    frame: Frame<'a>,
    kpis: [Kpi; 5],
    events_chart: Chart,
    revenue_chart: Chart,
    products: Vec<ProductView<'a>>,
    orders: Vec<OrderView>,
    customers: Vec<CustomerView>,
}

/// The overview page.
pub fn overview_page(shop_name: &str, o: &Overview, now_ms: i64) -> String {
    let k = &o.kpis;
    let conversion = if k.customers > 0.0 {
        k.buyers / k.customers
    } else {
        0.0
    };
    let revenue = |v: f64| {
        if v >= 1000.0 {
            format!("${:.1}k", v / 1000.0)
        } else {
            format!("${v:.0}")
        }
    };
    render(&OverviewHtml {
        frame: Frame::new(shop_name, Nav::Overview, "Overview"),
        kpis: [
            kpi(
                "customers-count",
                "Customers",
                count(k.customers),
                "seen on the shop",
            ),
            kpi("orders-count", "Orders", count(k.orders), "all time"),
            kpi("revenue-total", "Revenue", money(k.revenue), "all time"),
            kpi(
                "conversion-rate",
                "Conversion",
                percent(conversion),
                "customers with an order",
            ),
            kpi("events-30d", "Events", count(k.events_30d), "last 30 days"),
        ],
        events_chart: Chart::new(
            "events-chart",
            "Events and orders per day",
            &o.days,
            |d| d.events,
            Some(&|d: &Day| d.orders),
            count,
        ),
        revenue_chart: Chart::new(
            "revenue-chart",
            "Revenue per day",
            &o.days,
            |d| d.revenue,
            None,
            revenue,
        ),
        products: o
            .top_products
            .iter()
            .map(|p| ProductView {
                id: &p.product_id,
                name: p
                    .name
                    .as_deref()
                    .filter(|n| !n.is_empty())
                    .unwrap_or(&p.product_id),
                views: count(p.views),
                adds: count(p.adds),
                purchases: count(p.purchases),
            })
            .collect(),
        orders: o
            .latest_orders
            .iter()
            .map(|r| OrderView {
                id: r.order_id.clone(),
                customer: CustomerLink::new(&r.customer_id),
                items: count(r.items),
                total: money(r.total),
                when: Time::new(r.ts as i64, now_ms),
            })
            .collect(),
        customers: customer_views(&o.latest_customers, now_ms),
    })
}

#[derive(Template)]
#[template(path = "customers.html", whitespace = "minimize")]
struct CustomersHtml<'a> {
    frame: Frame<'a>,
    query: &'a str,
    shown: String,
    customers: Vec<CustomerView>,
}

/// The customer list, filtered by id prefix `query`.
pub fn customers_page(shop_name: &str, query: &str, rows: &[CustomerRow], now_ms: i64) -> String {
    render(&CustomersHtml {
        frame: Frame::new(shop_name, Nav::Customers, "Customers"),
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
}

/// A customer's page: profile summary from the Durable Object, its segments (`segments_html`:
/// the rendered [`crate::segments::pages::customer_card`]) and the event
/// timeline.
pub fn customer_page(
    shop_name: &str,
    profile: &Profile,
    segments_html: &Fragment,
    timeline: &[TimelineEntry],
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
            .map(|o| CustomerOrder {
                id: &o.id,
                lines: o.items.len(),
                total: money(o.revenue),
                when: Time::new(o.at_ms, now_ms),
            })
            .collect(),
        timeline,
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
    fn overview_has_hooks_and_escapes_data() {
        let o = Overview {
            kpis: Kpis {
                customers: 4.0,
                buyers: 1.0,
                orders: 2.0,
                revenue: 240.0,
                events_30d: 31.0,
            },
            days: fill_days(
                &[Day {
                    day: time::format_date(NOW),
                    events: 31.0,
                    orders: 2.0,
                    revenue: 240.0,
                }],
                NOW,
            ),
            top_products: vec![TopProduct {
                product_id: "p1".into(),
                name: Some("<img src=x onerror=alert(1)>".into()),
                views: 3.0,
                adds: 1.0,
                purchases: 1.0,
            }],
            latest_orders: vec![OrderRow {
                order_id: "o-1".into(),
                customer_id: "user \"1\"".into(),
                ts: (NOW - 60_000) as f64,
                total: 240.0,
                items: 2.0,
            }],
            latest_customers: vec![CustomerRow {
                customer_id: "<u>".into(),
                summary: Some(r#"{"top_category":"Shoes"}"#.into()),
                ..CustomerRow::default()
            }],
        };
        let html = overview_page("Demo", &o, NOW);
        for hook in [
            "id=\"customers-count\">4<",
            "id=\"orders-count\">2<",
            "id=\"revenue-total\">$240.00<",
            "id=\"conversion-rate\">25.0%<",
            "id=\"events-30d\">31<",
            "id=\"events-chart\"",
            "id=\"revenue-chart\"",
            "id=\"latest-orders\"",
            "data-order-id=\"o-1\"",
            "data-customer-id=\"user &#34;1&#34;\"",
            "href=\"/dashboard/customers/user%20%221%22\"",
            "&#60;img src=x onerror=alert(1)&#62;",
            "data-customer-id=\"&#60;u&#62;\"",
            ">Shoes<",
        ] {
            assert!(html.contains(hook), "missing {hook}");
        }
        assert!(!html.contains("<img"));
        assert!(!html.contains("<u>"));
        assert_eq!(o.days.len(), 30);
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
        let html = customer_page("Demo", &p, &card, &[t], NOW);
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
    fn days_are_filled() {
        let days = fill_days(&[], NOW);
        assert_eq!(days.len(), 30);
        assert_eq!(days[29].day, time::format_date(NOW));
        assert!(days.iter().all(|d| d.events == 0.0));
        assert_eq!(axis(0.0), (1.0, 1));
        assert_eq!(axis(2.0), (2.0, 2));
        assert_eq!(axis(7.0), (8.0, 4));
        assert_eq!(axis(50.0), (50.0, 5));
        assert_eq!(axis(430.0), (500.0, 5));
        assert_eq!(axis(0.4), (1.0, 1));
    }
}
