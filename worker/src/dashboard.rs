//! The merchant dashboard's pages, rendered from plain data (D1 rows, a profile from the
//! customer's Durable Object). Pure: the handlers in [`handler`] fetch the data.
//!
//! Stable hooks for end-to-end tests: `#customers-count`, `#orders-count`, `#revenue-total`,
//! `#conversion-rate`, `#events-30d`, `#events-chart`, `#revenue-chart`, `#top-products`,
//! `#latest-orders` (rows with `data-order-id`, `data-customer-id`), `#latest-customers`,
//! `#customers-table` (rows with `data-customer-id`), `#customers-shown`, `#customer-search`,
//! `#customer-query`, `#customer-profile`, `#customer-timeline`
//! (items with `data-message-id`, `data-event`), `#login-form`, `#login-error`.

use std::fmt::Write as _;

use affinity::json::Value;
use affinity::profile::{Affinity, Profile};
use affinity::time::{self, DAY_MS};
use serde::Deserialize;

use crate::html::{ago, count, esc, money, page, percent, time_tag, when, Nav};
use crate::platform::http::percent_encode;

#[cfg(target_arch = "wasm32")]
pub mod handler;

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

/// The sign-in page (`error` shown above the form when set).
pub fn login_page(shop: &str, error: Option<&str>) -> String {
    let err = error
        .map(|e| {
            format!(
                "<div class=\"error\" id=\"login-error\" role=\"alert\">{}</div>",
                esc(e)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<div class=\"login\"><div style=\"text-align:center;margin-bottom:18px\">\
         <span class=\"logo\" style=\"color:var(--ink);justify-content:center;font-size:22px\"><i></i>Affinity</span>\
         </div><div class=\"card\"><h1>Sign in</h1>\
         <p class=\"sub\" style=\"margin:0\">Your shop's dashboard: customers, orders and what they like.</p>{err}\
         <form method=\"post\" action=\"/dashboard/login\" id=\"login-form\">\
         <label for=\"shop\">Shop ID</label>\
         <input type=\"text\" id=\"shop\" name=\"shop\" value=\"{}\" autocomplete=\"username\" required>\
         <label for=\"secret\">Admin secret</label>\
         <input type=\"password\" id=\"secret\" name=\"secret\" autocomplete=\"current-password\" required autofocus>\
         <button type=\"submit\" id=\"login-submit\">Sign in</button></form></div></div>",
        esc(shop)
    );
    crate::html::document("Sign in", &body)
}

/// A page that says something is missing.
pub fn not_found_page(shop_name: &str, what: &str) -> String {
    page(
        shop_name,
        Nav::Overview,
        "Not found",
        &format!(
            "<h1>Not found</h1><p class=\"sub\">{}</p><a href=\"/dashboard\">Back to the overview</a>",
            esc(what)
        ),
    )
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

/// A bar chart (with an optional line series on its own, right-hand scale) as inline SVG.
fn chart(
    id: &str,
    days: &[Day],
    bars: impl Fn(&Day) -> f64,
    line: Option<&dyn Fn(&Day) -> f64>,
    fmt: impl Fn(f64) -> String,
    label: &str,
) -> String {
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
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg id=\"{id}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">",
        esc(label)
    );
    for i in 0..=ticks {
        let f = f64::from(i) / f64::from(ticks);
        let y = top + plot_h - plot_h * f;
        let _ = write!(
            svg,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e6e8ef\"/>\
             <text x=\"{}\" y=\"{:.1}\" font-size=\"10\" fill=\"#6b7385\" text-anchor=\"end\">{}</text>",
            w - right,
            left - 6.0,
            y + 3.5,
            esc(&fmt(max * f))
        );
    }
    if line.is_some() {
        for i in 0..=lticks {
            let f = f64::from(i) / f64::from(lticks);
            let _ = write!(
                svg,
                "<text x=\"{}\" y=\"{:.1}\" font-size=\"10\" fill=\"#1f9d72\">{}</text>",
                w - right + 6.0,
                top + plot_h - plot_h * f + 3.5,
                count(lmax * f)
            );
        }
    }
    for (i, d) in days.iter().enumerate() {
        let v = bars(d);
        let bh = plot_h * v / max;
        let x = left + slot * i as f64 + slot * 0.18;
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" rx=\"2\" fill=\"#8b8bf5\" data-day=\"{}\" data-value=\"{v}\"><title>{}: {}</title></rect>",
            top + plot_h - bh,
            slot * 0.64,
            esc(&d.day),
            esc(&d.day),
            esc(&fmt(v))
        );
        // Label every 7th day, counting back from today.
        if (days.len() - 1 - i) % 7 == 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{}\" font-size=\"10\" fill=\"#6b7385\" text-anchor=\"middle\">{}</text>",
                left + slot * (i as f64 + 0.5),
                h - 6.0,
                esc(d.day.get(5..).unwrap_or(&d.day))
            );
        }
    }
    if let Some(line) = line {
        let y = |d: &Day| top + plot_h - plot_h * line(d) / lmax;
        let points: Vec<String> = days
            .iter()
            .enumerate()
            .map(|(i, d)| format!("{:.1},{:.1}", left + slot * (i as f64 + 0.5), y(d)))
            .collect();
        let _ = write!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#1f9d72\" stroke-width=\"2\" stroke-linejoin=\"round\"/>",
            points.join(" ")
        );
        for (i, d) in days.iter().enumerate() {
            if line(d) > 0.0 {
                let _ = write!(
                    svg,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#1f9d72\"><title>{}: {} orders</title></circle>",
                    left + slot * (i as f64 + 0.5),
                    y(d),
                    esc(&d.day),
                    line(d)
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

fn kpi(id: &str, label: &str, value: &str, hint: &str) -> String {
    format!(
        "<div class=\"card kpi\" id=\"kpi-{id}\"><div class=\"label\">{label}</div>\
         <div class=\"value\" id=\"{id}\">{}</div><div class=\"hint\">{hint}</div></div>",
        esc(value)
    )
}

fn customer_link(id: &str) -> String {
    format!(
        "<a class=\"id\" href=\"/dashboard/customers/{}\">{}</a>",
        percent_encode(id),
        esc(id)
    )
}

fn empty_row(cols: usize, text: &str) -> String {
    format!(
        "<tr><td colspan=\"{cols}\" class=\"empty\">{}</td></tr>",
        esc(text)
    )
}

/// The overview page.
pub fn overview_page(shop_name: &str, o: &Overview, now_ms: i64) -> String {
    let k = &o.kpis;
    let conversion = if k.customers > 0.0 {
        k.buyers / k.customers
    } else {
        0.0
    };
    let mut c = String::new();
    let _ = write!(
        c,
        "<h1>Overview</h1><p class=\"sub\">{} · last 30 days of activity, all-time totals</p>",
        esc(shop_name)
    );
    let _ = write!(
        c,
        "<section class=\"grid kpis\">{}{}{}{}{}</section>",
        kpi(
            "customers-count",
            "Customers",
            &count(k.customers),
            "seen on the shop"
        ),
        kpi("orders-count", "Orders", &count(k.orders), "all time"),
        kpi("revenue-total", "Revenue", &money(k.revenue), "all time"),
        kpi(
            "conversion-rate",
            "Conversion",
            &percent(conversion),
            "customers with an order"
        ),
        kpi("events-30d", "Events", &count(k.events_30d), "last 30 days"),
    );
    let _ = write!(
        c,
        "<section class=\"grid two\"><div class=\"card chart\"><h2>Events and orders per day</h2>\
         <div class=\"legend\"><span style=\"--c:#8b8bf5\">Events</span><span style=\"--c:#1f9d72\">Orders</span></div>{}</div>\
         <div class=\"card chart\"><h2>Revenue per day</h2><div class=\"legend\"><span style=\"--c:#8b8bf5\">Revenue</span></div>{}</div></section>",
        chart(
            "events-chart",
            &o.days,
            |d| d.events,
            Some(&|d: &Day| d.orders),
            count,
            "Events and orders per day"
        ),
        chart(
            "revenue-chart",
            &o.days,
            |d| d.revenue,
            None,
            |v| {
                if v >= 1000.0 {
                    format!("${:.1}k", v / 1000.0)
                } else {
                    format!("${v:.0}")
                }
            },
            "Revenue per day"
        ),
    );
    // Top products and latest orders.
    let mut products = String::new();
    for p in &o.top_products {
        let name = p
            .name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(&p.product_id);
        let _ = write!(
            products,
            "<tr data-product-id=\"{}\"><td>{}<div class=\"muted id\">{}</div></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&p.product_id),
            esc(name),
            esc(&p.product_id),
            count(p.views),
            count(p.adds),
            count(p.purchases)
        );
    }
    if o.top_products.is_empty() {
        products = empty_row(4, "No product views yet.");
    }
    let mut orders = String::new();
    for r in &o.latest_orders {
        let _ = write!(
            orders,
            "<tr data-order-id=\"{}\" data-customer-id=\"{}\"><td class=\"id\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            esc(&r.order_id),
            esc(&r.customer_id),
            esc(&r.order_id),
            customer_link(&r.customer_id),
            count(r.items),
            money(r.total),
            time_tag(r.ts as i64, now_ms)
        );
    }
    if o.latest_orders.is_empty() {
        orders = empty_row(5, "No orders yet.");
    }
    let _ = write!(
        c,
        "<section class=\"grid two\"><div class=\"card\"><h2>Top viewed products</h2>\
         <table id=\"top-products\"><thead><tr><th>Product</th><th class=\"num\">Views</th><th class=\"num\">Adds</th><th class=\"num\">Bought</th></tr></thead><tbody>{products}</tbody></table></div>\
         <div class=\"card\"><h2>Latest orders</h2>\
         <table id=\"latest-orders\"><thead><tr><th>Order</th><th>Customer</th><th class=\"num\">Items</th><th class=\"num\">Total</th><th>When</th></tr></thead><tbody>{orders}</tbody></table></div></section>"
    );
    let _ = write!(
        c,
        "<section class=\"card\"><h2>Latest customers <a href=\"/dashboard/customers\" style=\"font-weight:400;font-size:13px;margin-left:8px\">All customers →</a></h2>{}</section>",
        customers_table("latest-customers", &o.latest_customers, now_ms)
    );
    page(shop_name, Nav::Overview, "Overview", &c)
}

fn customers_table(id: &str, rows: &[CustomerRow], now_ms: i64) -> String {
    let mut body = String::new();
    for r in rows {
        let summary = r
            .summary
            .as_deref()
            .and_then(|s| affinity::json::parse(s).ok())
            .unwrap_or_default();
        let interest = summary
            .get_str("top_category")
            .map(|c| format!("<span class=\"pill\">{}</span>", esc(c)))
            .unwrap_or_default();
        let known = match &r.user_id {
            Some(_) => "<span class=\"pill ok\">known</span>",
            None => {
                "<span class=\"pill\" style=\"background:#eef0f5;color:#6b7385\">anonymous</span>"
            }
        };
        let bot = if r.bot > 0.0 {
            " <span class=\"pill warn\">bot</span>"
        } else {
            ""
        };
        let _ = write!(
            body,
            "<tr data-customer-id=\"{}\"><td>{} {known}{bot}</td><td>{interest}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"muted\">{}</td></tr>",
            esc(&r.customer_id),
            customer_link(&r.customer_id),
            count(r.sessions),
            count(r.product_views),
            count(r.orders),
            money(r.total_spend),
            time_tag(r.last_seen as i64, now_ms),
            esc(r.last_event.as_deref().unwrap_or(""))
        );
    }
    if rows.is_empty() {
        body = empty_row(8, "No customers found.");
    }
    format!(
        "<table id=\"{id}\"><thead><tr><th>Customer</th><th>Top interest</th><th class=\"num\">Sessions</th><th class=\"num\">Views</th><th class=\"num\">Orders</th><th class=\"num\">Spend</th><th>Last seen</th><th>Last event</th></tr></thead><tbody>{body}</tbody></table>"
    )
}

/// The customer list, filtered by id prefix `query`.
pub fn customers_page(shop_name: &str, query: &str, rows: &[CustomerRow], now_ms: i64) -> String {
    let c = format!(
        "<h1>Customers</h1><p class=\"sub\">Everyone who visited, most recent first. Search by customer id (user id or anonymous id) prefix.</p>\
         <form class=\"search\" method=\"get\" action=\"/dashboard/customers\" id=\"customer-search\">\
         <input type=\"search\" name=\"q\" id=\"customer-query\" value=\"{}\" placeholder=\"Customer id starts with…\" style=\"flex:1\">\
         <button type=\"submit\">Search</button></form><section class=\"card\"><p class=\"muted\" style=\"margin:0 0 8px\" id=\"customers-shown\">{} shown</p>{}</section>",
        esc(query),
        count(rows.len() as f64),
        customers_table("customers-table", rows, now_ms)
    );
    page(shop_name, Nav::Customers, "Customers", &c)
}

fn affinity_bars(id: &str, title: &str, list: &[Affinity], profile_now: i64) -> String {
    let decayed: Vec<(String, f64)> = list
        .iter()
        .take(6)
        .map(|a| {
            let dt = (profile_now - a.at_ms).max(0) as f64;
            let s = a.score
                * (-(dt / affinity::profile::AFFINITY_HALF_LIFE_MS) * std::f64::consts::LN_2).exp();
            (a.key.clone(), s)
        })
        .collect();
    let max = decayed.iter().map(|(_, s)| *s).fold(0.0, f64::max);
    let mut rows = String::new();
    for (key, s) in &decayed {
        let pct = if max > 0.0 { s / max * 100.0 } else { 0.0 };
        let _ = write!(
            rows,
            "<tr data-key=\"{}\"><td style=\"width:40%\">{}</td><td><div class=\"bar\"><i style=\"width:{pct:.0}%\"></i></div></td><td class=\"num muted\" style=\"width:60px\">{s:.1}</td></tr>",
            esc(key),
            esc(key)
        );
    }
    if decayed.is_empty() {
        rows = empty_row(3, "None yet.");
    }
    format!("<h2>{title}</h2><table class=\"aff\" id=\"{id}\">{rows}</table>")
}

/// The key properties of an event, for the timeline.
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
    esc(&parts.join(" · "))
}

/// A customer's page: profile summary from the Durable Object, its segments (`segments_html`,
/// already rendered) and the event timeline.
pub fn customer_page(
    shop_name: &str,
    profile: &Profile,
    segments_html: &str,
    timeline: &[TimelineEntry],
    now_ms: i64,
) -> String {
    let id = &profile.customer_id;
    let rfm = profile.rfm(now_ms);
    let c_ = &profile.counters;
    let mut c = String::new();
    let name = ["name", "email"]
        .iter()
        .find_map(|k| profile.traits.get_str(k))
        .filter(|n| n != id)
        .map(|n| {
            format!(
                " <span class=\"muted\" style=\"font-weight:400\">{}</span>",
                esc(n)
            )
        })
        .unwrap_or_default();
    let _ = write!(
        c,
        "<a class=\"back\" href=\"/dashboard/customers\">← Customers</a>\
         <div id=\"customer-profile\" data-customer-id=\"{}\"><h1><span class=\"id\" style=\"font-size:20px\">{}</span>{name}</h1>\
         <p class=\"sub\">First seen {} · last seen {} · {}</p>",
        esc(id),
        esc(id),
        esc(&when(profile.first_seen_ms)),
        esc(&ago(profile.last_seen_ms, now_ms)),
        if profile.user_id.is_some() {
            "known customer"
        } else {
            "anonymous visitor"
        }
    );
    let _ = write!(
        c,
        "<section class=\"grid kpis\">{}{}{}{}{}</section>",
        kpi(
            "profile-sessions",
            "Sessions",
            &count(f64::from(profile.sessions)),
            "30-minute gap"
        ),
        kpi(
            "profile-views",
            "Product views",
            &count(f64::from(c_.product_views)),
            &format!("{} page views", c_.page_views)
        ),
        kpi(
            "profile-adds",
            "Cart adds",
            &count(f64::from(c_.cart_adds)),
            &format!("{} checkouts", c_.checkouts)
        ),
        kpi(
            "profile-orders",
            "Orders",
            &count(f64::from(c_.orders)),
            "all time"
        ),
        kpi(
            "profile-spend",
            "Total spend",
            &money(profile.total_spend),
            "after refunds"
        ),
    );
    c.push_str(segments_html);
    // Facts + RFM.
    let ids = profile
        .anonymous_ids
        .iter()
        .map(|a| format!("<span class=\"id\">{}</span>", esc(a)))
        .collect::<Vec<_>>()
        .join(", ");
    let recency = rfm.recency_days.map_or_else(
        || "no order yet".to_string(),
        |d| format!("{d:.1} days since last order"),
    );
    let traits = profile
        .traits
        .as_object()
        .unwrap_or(&[])
        .iter()
        .map(|(k, v)| {
            format!(
                "<dt>{}</dt><dd>{}</dd>",
                esc(k),
                esc(&v.as_str().map_or_else(|| v.to_json(), str::to_string))
            )
        })
        .collect::<String>();
    let _ = write!(
        c,
        "<section class=\"grid two\"><div class=\"card\" id=\"profile-summary\"><h2>Profile</h2><dl class=\"facts\">\
         <dt>User id</dt><dd class=\"id\">{}</dd><dt>Devices</dt><dd>{}</dd>\
         <dt>First seen</dt><dd>{}</dd><dt>Last seen</dt><dd>{}</dd>\
         <dt>Recency</dt><dd id=\"rfm-recency\">{}</dd><dt>Frequency</dt><dd id=\"rfm-frequency\">{}</dd>\
         <dt>Monetary</dt><dd id=\"rfm-monetary\">{}</dd><dt>Searches</dt><dd>{}</dd>{traits}</dl></div>\
         <div class=\"card\" id=\"affinities\">{}<div style=\"height:12px\"></div>{}</div></section>",
        esc(profile.user_id.as_deref().unwrap_or("–")),
        if ids.is_empty() { "–".to_string() } else { ids },
        esc(&when(profile.first_seen_ms)),
        esc(&when(profile.last_seen_ms)),
        esc(&recency),
        if rfm.frequency == 1 {
            "1 order".to_string()
        } else {
            format!("{} orders", rfm.frequency)
        },
        money(rfm.monetary),
        if profile.searches.is_empty() {
            "–".to_string()
        } else {
            esc(&profile.searches.join(", "))
        },
        affinity_bars("category-affinities", "Top categories", &profile.categories, now_ms),
        affinity_bars("brand-affinities", "Top brands", &profile.brands, now_ms),
    );
    // Cart + recently viewed.
    let mut cart = String::new();
    for l in &profile.cart {
        let _ = write!(
            cart,
            "<tr data-product-id=\"{}\"><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&l.product.id),
            esc(if l.product.name.is_empty() { &l.product.id } else { &l.product.name }),
            l.quantity,
            l.product.price.map(money).unwrap_or_default()
        );
    }
    if profile.cart.is_empty() {
        cart = empty_row(3, "The cart is empty.");
    }
    let mut recent = String::new();
    for v in profile.recent.iter().take(10) {
        let _ = write!(
            recent,
            "<tr data-product-id=\"{}\"><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            esc(&v.product.id),
            esc(if v.product.name.is_empty() { &v.product.id } else { &v.product.name }),
            esc(v.product.category.as_deref().unwrap_or("")),
            v.product.price.map(money).unwrap_or_default(),
            time_tag(v.at_ms, now_ms)
        );
    }
    if profile.recent.is_empty() {
        recent = empty_row(4, "Nothing viewed yet.");
    }
    let _ = write!(
        c,
        "<section class=\"grid two\"><div class=\"card\"><h2>Cart <span class=\"muted\" style=\"font-weight:400\">{}</span></h2>\
         <table id=\"customer-cart\"><thead><tr><th>Product</th><th class=\"num\">Qty</th><th class=\"num\">Price</th></tr></thead><tbody>{cart}</tbody></table></div>\
         <div class=\"card\"><h2>Recently viewed</h2><table id=\"recently-viewed\"><thead><tr><th>Product</th><th>Category</th><th class=\"num\">Price</th><th>When</th></tr></thead><tbody>{recent}</tbody></table></div></section>",
        money(profile.cart_value())
    );
    // Orders + timeline.
    let mut orders = String::new();
    for o in profile.orders.iter().rev() {
        let _ = write!(
            orders,
            "<tr data-order-id=\"{}\"><td class=\"id\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            esc(&o.id),
            esc(&o.id),
            o.items.len(),
            money(o.revenue),
            time_tag(o.at_ms, now_ms)
        );
    }
    if profile.orders.is_empty() {
        orders = empty_row(4, "No orders yet.");
    }
    let mut items = String::new();
    for t in timeline {
        let ev = affinity::json::parse(&t.json).unwrap_or_default();
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
        let _ = write!(
            items,
            "<li data-message-id=\"{}\" data-event=\"{}\"><div class=\"muted\">{}<br><span style=\"font-size:12px\">{}</span></div><div><div class=\"ev\">{}</div><div class=\"props\">{}</div></div></li>",
            esc(&t.message_id),
            esc(&label),
            esc(&when(t.ts as i64)),
            esc(&ago(t.ts as i64, now_ms)),
            esc(&label),
            key_properties(&ev)
        );
    }
    if timeline.is_empty() {
        items = "<li class=\"empty\">No events.</li>".to_string();
    }
    let _ = write!(
        c,
        "<section class=\"grid two\" style=\"grid-template-columns:2fr 3fr\"><div class=\"card\"><h2>Orders</h2>\
         <table id=\"customer-orders\"><thead><tr><th>Order</th><th class=\"num\">Lines</th><th class=\"num\">Total</th><th>When</th></tr></thead><tbody>{orders}</tbody></table></div>\
         <div class=\"card\"><h2>Timeline <span class=\"muted\" style=\"font-weight:400\">newest first</span></h2><ol class=\"timeline\" id=\"customer-timeline\">{items}</ol></div></section></div>"
    );
    page(shop_name, Nav::Customers, id, &c)
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
        assert!(html.contains("Wrong &lt;secret&gt;"));
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
            "data-customer-id=\"user &quot;1&quot;\"",
            "href=\"/dashboard/customers/user%20%221%22\"",
            "&lt;img src=x onerror=alert(1)&gt;",
            "data-customer-id=\"&lt;u&gt;\"",
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
        let html = customer_page("Demo", &p, "<section id=\"segs\"></section>", &[t], NOW);
        assert!(html.contains("<section id=\"segs\"></section>"));
        assert!(html.contains("data-customer-id=\"a&lt;1&gt;\""));
        assert!(html.contains("data-message-id=\"m1\""));
        assert!(html.contains("data-event=\"Product Viewed\""));
        assert!(html.contains("Boot &lt;b&gt;"));
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
