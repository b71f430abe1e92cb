//! The dashboard's rollups of a fold ([`crate::platform::store::rollups`]): what each new event
//! adds to the shop's quarter-hour slots, its visitors and product viewers (with their chains),
//! its products' slots, and the order lines and refunds kept for the dashboard. Bots are left
//! out of every count, like the `daily` rollup; refunds count only for an order the customer's
//! profile knows, with an amount, which is when the profile takes them off the customer's spend.

use std::collections::{BTreeMap, BTreeSet};

use affinity::event::{names, Event, Kind};
use affinity::json::Value;
use affinity::profile::Product;

use crate::platform::store::rollups::{
    self as sql, slot_of, ProductSlot, Refund, SlotCounts, Visit,
};
use crate::platform::store::Stmt;

/// What one event is, for the rollups (worked out by the fold around the engine's profile).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seen<'a> {
    /// The event.
    pub event: &'a Event,
    /// Flagged as a bot (not counted).
    pub bot: bool,
    /// The event started a new session of the customer.
    pub new_session: bool,
    /// The customer had a session before this event's.
    pub returning: bool,
    /// A newly counted order, with the revenue the profile counted for it.
    pub new_order: Option<f64>,
    /// A refund of a known order: its amount and the order's product ids.
    pub refund: Option<(f64, &'a [String])>,
}

/// The rollups of one fold, added up per slot before they become statements.
#[derive(Debug, Default)]
pub struct Rollups {
    slots: BTreeMap<i64, SlotCounts>,
    visitors: BTreeSet<i64>,
    viewers: BTreeSet<(i64, String)>,
    products: BTreeMap<(i64, String), ProductSlot>,
    lines: Vec<(String, String, u32, Option<f64>)>,
    refunds: Vec<(String, String, i64, f64)>,
    visits: Vec<Visit>,
    events: u32,
    page_views: u32,
    latest_ts: i64,
}

fn lines_of(p: &Value) -> &[Value] {
    p.get("products").and_then(Value::as_array).unwrap_or(&[])
}

fn quantity(line: &Value) -> u32 {
    line.get_f64("quantity").unwrap_or(1.0).max(1.0) as u32
}

/// The host of a URL (`https://www.google.com/search?q=x` → `www.google.com`).
fn host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or(host);
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The visit an event starts: its context's location, device, referrer and campaign.
fn visit_of(e: &Event, returning: bool) -> Visit {
    let ctx = &e.context;
    let text = |v: Option<&Value>, k: &str| {
        v.and_then(|v| v.get_str(k))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let location = ctx.get("location");
    let campaign = ctx.get("campaign");
    Visit {
        message_id: e.message_id.clone(),
        ts: e.timestamp_ms,
        country: text(location, "country"),
        region: text(location, "region"),
        device: ctx
            .get_str("userAgent")
            .map(|ua| affinity::segments::device_type(ua).to_string()),
        referrer: text(ctx.get("page"), "referrer").and_then(|r| host(&r)),
        utm_source: text(campaign, "source"),
        utm_campaign: text(campaign, "name"),
        returning,
    }
}

impl Rollups {
    /// Adds one event.
    pub fn note(&mut self, s: Seen<'_>) {
        let e = s.event;
        let page = matches!(e.kind, Kind::Page | Kind::Screen);
        self.events += 1;
        self.page_views += u32::from(page);
        self.latest_ts = self.latest_ts.max(e.timestamp_ms);
        if s.bot {
            return;
        }
        let slot = slot_of(e.timestamp_ms);
        self.visitors.insert(slot);
        let name = if e.kind == Kind::Track {
            e.name.as_deref().unwrap_or("")
        } else {
            ""
        };
        let p = &e.properties;
        let c = self.slots.entry(slot).or_default();
        c.events += 1;
        c.page_views += u32::from(page);
        c.sessions += u32::from(s.new_session);
        if s.new_session {
            self.visits.push(visit_of(e, s.returning));
        }
        let mut product = |id: String, f: &dyn Fn(&mut ProductSlot)| {
            f(self.products.entry((slot, id)).or_default());
        };
        match name {
            names::PRODUCT_VIEWED => {
                c.product_views += 1;
                if let Some(pr) = Product::from_properties(p) {
                    self.viewers.insert((slot, pr.id.clone()));
                    product(pr.id, &|x| x.views += 1);
                }
            }
            names::PRODUCT_ADDED => {
                c.adds += 1;
                if let Some(pr) = Product::from_properties(p) {
                    product(pr.id, &|x| x.adds += 1);
                }
            }
            names::CHECKOUT_STARTED => c.checkouts += 1,
            _ => {}
        }
        if let Some(revenue) = s.new_order {
            let order = affinity::event::order_id(p).unwrap_or_default();
            c.orders += 1;
            c.revenue += revenue;
            for line in lines_of(p) {
                let Some(pr) = Product::from_properties(line) else {
                    continue;
                };
                let q = quantity(line);
                c.items += q;
                let amount = pr.price.unwrap_or(0.0) * f64::from(q);
                self.lines.push((order.clone(), pr.id.clone(), q, pr.price));
                product(pr.id, &|x| {
                    x.units += q;
                    x.revenue += amount;
                });
            }
        }
        if let Some((amount, items)) = s.refund {
            let order = affinity::event::order_id(p).unwrap_or_default();
            c.refunds += 1;
            c.refunded += amount;
            self.refunds
                .push((e.message_id.clone(), order, e.timestamp_ms, amount));
            // The refund's own lines when it names them, else the order's products evenly.
            let named: Vec<(String, f64)> = lines_of(p)
                .iter()
                .filter_map(|l| {
                    let pr = Product::from_properties(l)?;
                    Some((pr.id, pr.price.unwrap_or(0.0) * f64::from(quantity(l))))
                })
                .collect();
            let shares: Vec<(String, f64)> = if named.is_empty() {
                let n = items.len().max(1) as f64;
                items.iter().map(|id| (id.clone(), amount / n)).collect()
            } else {
                named
            };
            for (id, share) in shares {
                product(id, &|x| x.refunded += share);
            }
        }
    }

    /// The statements that add this fold's rollups, for `customer` of `shop`, received at
    /// `received_ms`.
    pub fn statements(self, shop: &str, customer: &str, received_ms: i64) -> Vec<Stmt> {
        let mut out = Vec::new();
        for (slot, c) in &self.slots {
            out.push(sql::add_slot(shop, *slot, c));
        }
        for slot in &self.visitors {
            out.push(sql::add_visitor(shop, *slot, customer));
        }
        if let Some(from) = self.visitors.first() {
            out.push(sql::link_visitor_slots(shop, customer, *from));
        }
        for (slot, id) in &self.viewers {
            out.push(sql::add_product_viewer(shop, *slot, id, customer));
        }
        if let Some(from) = self.viewers.first().map(|v| v.0) {
            out.push(sql::link_product_viewers(shop, customer, from));
        }
        for ((slot, id), p) in &self.products {
            out.push(sql::add_product_slot(shop, *slot, id, p));
        }
        for (order, id, q, price) in &self.lines {
            out.push(sql::insert_order_line(shop, order, id, *q, *price));
        }
        for (message_id, order_id, ts, amount) in &self.refunds {
            out.push(sql::insert_refund(&Refund {
                shop,
                message_id,
                order_id,
                customer_id: customer,
                ts: *ts,
                amount: *amount,
            }));
        }
        for v in &self.visits {
            out.push(sql::insert_visit(shop, customer, v));
        }
        if self.events > 0 {
            out.push(sql::note_received(
                shop,
                received_ms,
                self.latest_ts,
                self.events,
                self.page_views,
            ));
        }
        out
    }
}
