//! Measuring recommendations: impressions, clicks and CTR per slot and variant, orders and
//! revenue attributed to recommendation clicks, and lift against the holdout. Pure (queries,
//! attribution, statistics, the dashboard page); [`handler`] runs the queries (the store's
//! [`crate::platform::store::recs`]) and serves the page.
//!
//! Definitions (over the last [`crate::config::WINDOW_DAYS`] days, bot traffic left out):
//!
//! - A **shopper** is the browser's anonymous id (the unit the page's holdout buckets), else the
//!   customer id.
//! - An **impression** is one `Product List Viewed` with `list_id = "affinity:<slot>"` (one render
//!   of a slot); a **click** is a `Product Clicked` with such a `list_id`.
//! - An order is **attributed** to a recommendation click when the same shopper completes it
//!   within [`ATTRIBUTION_MS`] (24 hours) after the click and it contains the clicked product;
//!   the latest such click gets the whole order (last click), so an order counts once.
//! - **Lift**: shoppers who saw a personalized slot (`for-you`, `similar`, `bought-together`,
//!   `cart`) are in the *holdout* group if any of those impressions was `holdout`, else in the
//!   *personalized* group. A shopper converts with an order at or after their first such
//!   impression. Conversion rate and revenue per shopper are compared per group; the verdict uses
//!   a two-proportion z-test and says plainly when the groups are too small to conclude.

use std::collections::{BTreeMap, HashMap};

use askama::Template;

use crate::config::BuildInfo;
use crate::platform::html::{count, money, percent, render, Frame, Nav, Time};
pub use crate::platform::store::recs::{Click, Exposure, OrderEvent, SlotRow};

#[cfg(target_arch = "wasm32")]
pub mod handler;

/// Attribution window after a click: 24 hours.
pub const ATTRIBUTION_MS: i64 = 24 * 3_600_000;

/// Rows read per query (clicks, orders, exposed shoppers): bounds the page's D1 reads.
pub const MAX_ROWS: usize = 50_000;

/// Fewer shoppers than this in either group: too small to conclude.
pub const MIN_GROUP: f64 = 100.0;

/// Fewer conversions than this over both groups: too small to conclude.
pub const MIN_CONVERSIONS: f64 = 10.0;

/// The slots whose variant differs between personalized and holdout shoppers.
pub const PERSONAL_SLOTS: [&str; 4] = [
    "affinity:for-you",
    "affinity:similar",
    "affinity:bought-together",
    "affinity:cart",
];

/// Orders and revenue attributed to one slot and variant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Attributed {
    /// Orders.
    pub orders: f64,
    /// Their revenue.
    pub revenue: f64,
}

/// Attributes each order to the latest recommendation click of the same shopper on a product
/// in the order, at most [`ATTRIBUTION_MS`] before it; keyed by `(list_id, variant)`.
pub fn attribute(
    clicks: &[Click],
    orders: &[OrderEvent],
) -> BTreeMap<(String, String), Attributed> {
    let mut by_shopper: HashMap<&str, Vec<&Click>> = HashMap::new();
    for c in clicks {
        by_shopper.entry(&c.shopper).or_default().push(c);
    }
    let mut out: BTreeMap<(String, String), Attributed> = BTreeMap::new();
    for o in orders {
        let Some(cs) = by_shopper.get(o.shopper.as_str()) else {
            continue;
        };
        let products = crate::config::order_products(&o.json);
        let best = cs
            .iter()
            .filter(|c| c.ts <= o.ts && o.ts - c.ts <= ATTRIBUTION_MS as f64)
            .filter(|c| products.contains(&c.product_id))
            .max_by(|a, b| a.ts.total_cmp(&b.ts));
        if let Some(c) = best {
            let a = out
                .entry((c.list_id.clone(), c.variant.clone()))
                .or_default();
            a.orders += 1.0;
            a.revenue += o.revenue;
        }
    }
    out
}

/// Shoppers, converting shoppers and their revenue in one group.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Group {
    /// Shoppers exposed.
    pub shoppers: f64,
    /// Shoppers with an order at or after their first exposure.
    pub buyers: f64,
    /// Revenue of those orders.
    pub revenue: f64,
}

impl Group {
    /// Conversion rate (NaN for an empty group).
    pub fn conversion(&self) -> f64 {
        self.buyers / self.shoppers
    }
    /// Revenue per shopper (NaN for an empty group).
    pub fn revenue_per_shopper(&self) -> f64 {
        self.revenue / self.shoppers
    }
}

/// `(personalized, holdout)` groups from the exposed shoppers and the orders.
pub fn groups(exposures: &[Exposure], orders: &[OrderEvent]) -> (Group, Group) {
    let mut by_shopper: HashMap<&str, Vec<&OrderEvent>> = HashMap::new();
    for o in orders {
        by_shopper.entry(&o.shopper).or_default().push(o);
    }
    let (mut p, mut h) = (Group::default(), Group::default());
    for e in exposures {
        let g = if e.holdout > 0.0 { &mut h } else { &mut p };
        g.shoppers += 1.0;
        let after: Vec<&&OrderEvent> = by_shopper
            .get(e.shopper.as_str())
            .map(|os| os.iter().filter(|o| o.ts >= e.first_ts).collect())
            .unwrap_or_default();
        if !after.is_empty() {
            g.buyers += 1.0;
            g.revenue += after.iter().map(|o| o.revenue).sum::<f64>();
        }
    }
    (p, h)
}

/// What the lift numbers allow to say.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Fewer than [`MIN_GROUP`] shoppers in a group or [`MIN_CONVERSIONS`] conversions.
    TooSmall,
    /// The conversion difference is within noise (|z| < 1.96).
    NotSignificant(f64),
    /// Significant at the 95% level; z > 0 means personalized converts better.
    Significant(f64),
}

/// Two-proportion z-test of the conversion rates, gated by sample size.
pub fn verdict(p: &Group, h: &Group) -> Verdict {
    if p.shoppers < MIN_GROUP || h.shoppers < MIN_GROUP || p.buyers + h.buyers < MIN_CONVERSIONS {
        return Verdict::TooSmall;
    }
    let pooled = (p.buyers + h.buyers) / (p.shoppers + h.shoppers);
    let se = (pooled * (1.0 - pooled) * (1.0 / p.shoppers + 1.0 / h.shoppers)).sqrt();
    let z = if se > 0.0 {
        (p.conversion() - h.conversion()) / se
    } else {
        0.0
    };
    if z.abs() >= 1.96 {
        Verdict::Significant(z)
    } else {
        Verdict::NotSignificant(z)
    }
}

/// Relative lift `a / b - 1` (NaN when `b` is 0 or either is NaN).
pub fn relative_lift(a: f64, b: f64) -> f64 {
    if b > 0.0 && a.is_finite() {
        a / b - 1.0
    } else {
        f64::NAN
    }
}

/// Everything the recommendations page shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecsPage {
    /// The latest model build, if any.
    pub model: Option<BuildInfo>,
    /// Minimum support k.
    pub min_support: u32,
    /// Holdout percent.
    pub holdout_percent: f64,
    /// Impressions and clicks per slot and variant.
    pub slots: Vec<SlotRow>,
    /// Attributed orders per slot and variant.
    pub attributed: BTreeMap<(String, String), Attributed>,
    /// Personalized group.
    pub personalized: Group,
    /// Holdout group.
    pub holdout: Group,
    /// A message to show on top (after a rebuild).
    pub notice: Option<String>,
}

fn signed_percent(x: f64) -> String {
    if x.is_nan() {
        "–".into()
    } else if x >= 0.0 {
        format!("+{}", percent(x))
    } else {
        percent(x)
    }
}

struct ModelView<'a> {
    version: &'a str,
    built: Time,
    items: String,
    pairs: String,
    bytes: String,
    build_ms: String,
    sessions: String,
}

struct SlotView<'a> {
    slot: &'a str,
    variant: &'a str,
    variant_label: &'a str,
    holdout: bool,
    impressions: String,
    clicks: String,
    ctr: String,
    orders: String,
    revenue: String,
}

struct GroupView {
    name: &'static str,
    id: &'static str,
    shoppers: String,
    buyers: String,
    conversion: String,
    per_shopper: String,
}

impl GroupView {
    fn new(name: &'static str, id: &'static str, g: &Group) -> GroupView {
        GroupView {
            name,
            id,
            shoppers: count(g.shoppers),
            buyers: count(g.buyers),
            conversion: percent(g.conversion()),
            per_shopper: if g.shoppers > 0.0 {
                money(g.revenue_per_shopper())
            } else {
                "–".into()
            },
        }
    }
}

#[derive(Template)]
#[template(path = "recs.html", whitespace = "minimize")]
struct RecsHtml<'a> {
    frame: Frame<'a>,
    notice: Option<&'a str>,
    model: Option<ModelView<'a>>,
    min_support: u32,
    holdout_percent: f64,
    slots: Vec<SlotView<'a>>,
    groups: [GroupView; 2],
    conversion_lift: String,
    revenue_lift: String,
    statement: String,
}

/// What the lift numbers allow to say, in words.
fn statement(p: &Group, h: &Group) -> String {
    match verdict(p, h) {
        Verdict::TooSmall => format!(
            "Too few shoppers to conclude: a comparison needs at least {} shoppers in each group and \
             {} conversions in all (now {} personalized, {} holdout, {} conversions). The lift \
             shown is not evidence yet.",
            MIN_GROUP,
            MIN_CONVERSIONS,
            count(p.shoppers),
            count(h.shoppers),
            count(p.buyers + h.buyers)
        ),
        Verdict::NotSignificant(z) => format!(
            "No significant difference in conversion yet (z = {z:.2}; 95% needs |z| ≥ 1.96)."
        ),
        Verdict::Significant(z) if z > 0.0 => format!(
            "Personalized recommendations convert better than the holdout (z = {z:.2}, significant at 95%)."
        ),
        Verdict::Significant(z) => format!(
            "The holdout converts better than personalized recommendations (z = {z:.2}, significant at 95%)."
        ),
    }
}

/// The recommendations dashboard page (`#recs-model`, `#recs-table` rows with `data-slot` /
/// `data-variant`, `#recs-lift`).
pub fn recs_page(shop_name: &str, r: &RecsPage, now_ms: i64) -> String {
    let (p, h) = (&r.personalized, &r.holdout);
    let slots = r
        .slots
        .iter()
        .map(|s| {
            let a = r
                .attributed
                .get(&(s.list_id.clone(), s.variant.clone()))
                .copied()
                .unwrap_or_default();
            SlotView {
                slot: s.list_id.strip_prefix("affinity:").unwrap_or(&s.list_id),
                variant: &s.variant,
                variant_label: if s.variant.is_empty() {
                    "–"
                } else {
                    &s.variant
                },
                holdout: s.variant == "holdout",
                impressions: count(s.impressions),
                clicks: count(s.clicks),
                ctr: if s.impressions > 0.0 {
                    percent(s.clicks / s.impressions)
                } else {
                    "–".into()
                },
                orders: count(a.orders),
                revenue: money(a.revenue),
            }
        })
        .collect();
    render(&RecsHtml {
        frame: Frame::new(shop_name, Nav::Recommendations, "Recommendations"),
        notice: r.notice.as_deref(),
        model: r.model.as_ref().map(|m| ModelView {
            version: &m.version,
            built: Time::new(m.created_at as i64, now_ms),
            items: count(m.items),
            pairs: count(m.pairs),
            bytes: count(m.bytes),
            build_ms: count(m.build_ms),
            sessions: count(m.sessions),
        }),
        min_support: r.min_support,
        holdout_percent: r.holdout_percent,
        slots,
        groups: [
            GroupView::new("Personalized", "personalized", p),
            GroupView::new("Holdout", "holdout", h),
        ],
        conversion_lift: signed_percent(relative_lift(p.conversion(), h.conversion())),
        revenue_lift: signed_percent(relative_lift(
            p.revenue_per_shopper(),
            h.revenue_per_shopper(),
        )),
        statement: statement(p, h),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: f64 = 3_600_000.0;

    fn click(shopper: &str, product: &str, ts: f64, slot: &str, variant: &str) -> Click {
        Click {
            shopper: shopper.into(),
            product_id: product.into(),
            ts,
            list_id: format!("affinity:{slot}"),
            variant: variant.into(),
        }
    }

    fn order(shopper: &str, ts: f64, revenue: f64, products: &[&str]) -> OrderEvent {
        let lines: Vec<serde_json::Value> = products
            .iter()
            .map(|p| serde_json::json!({ "product_id": p }))
            .collect();
        OrderEvent {
            shopper: shopper.into(),
            ts,
            revenue,
            json: serde_json::json!({ "properties": { "products": lines } }).to_string(),
        }
    }

    #[test]
    fn attribution_window_product_and_last_click() {
        let clicks = vec![
            click("a", "p1", 0.0, "for-you", "personalized"),
            click("a", "p1", 2.0 * H, "similar", "personalized"),
            click("b", "p2", 0.0, "for-you", "holdout"),
            click("c", "p3", 0.0, "cart", "personalized"),
        ];
        let orders = vec![
            order("a", 3.0 * H, 50.0, &["p1", "p9"]), // latest click wins: similar
            order("b", 25.0 * H, 20.0, &["p2"]),      // outside 24 h
            order("c", H, 30.0, &["p4"]),             // clicked product not in the order
            order("d", H, 10.0, &["p1"]),             // no click by this shopper
            order("b", -1.0, 10.0, &["p2"]),          // before the click
        ];
        let a = attribute(&clicks, &orders);
        assert_eq!(a.len(), 1);
        let s = a[&("affinity:similar".to_string(), "personalized".to_string())];
        assert_eq!(
            s,
            Attributed {
                orders: 1.0,
                revenue: 50.0
            }
        );
        // Exactly 24 h after the click still counts.
        let a = attribute(&clicks[2..3], &[order("b", 24.0 * H, 20.0, &["p2"])]);
        assert_eq!(a.values().next().map(|x| x.orders), Some(1.0));
    }

    #[test]
    fn groups_count_orders_after_first_exposure() {
        let exposures = vec![
            Exposure {
                shopper: "a".into(),
                holdout: 0.0,
                first_ts: 10.0,
            },
            Exposure {
                shopper: "b".into(),
                holdout: 0.0,
                first_ts: 10.0,
            },
            Exposure {
                shopper: "c".into(),
                holdout: 1.0,
                first_ts: 10.0,
            },
        ];
        let orders = vec![
            order("a", 20.0, 40.0, &["p1"]),
            order("a", 30.0, 60.0, &["p2"]),
            order("b", 5.0, 99.0, &["p1"]), // before exposure
            order("c", 10.0, 30.0, &["p1"]),
        ];
        let (p, h) = groups(&exposures, &orders);
        assert_eq!(
            p,
            Group {
                shoppers: 2.0,
                buyers: 1.0,
                revenue: 100.0
            }
        );
        assert_eq!(
            h,
            Group {
                shoppers: 1.0,
                buyers: 1.0,
                revenue: 30.0
            }
        );
        assert_eq!(p.conversion(), 0.5);
        assert_eq!(p.revenue_per_shopper(), 50.0);
        assert!((relative_lift(0.5, 0.25) - 1.0).abs() < 1e-12);
        assert!(relative_lift(0.5, 0.0).is_nan());
    }

    #[test]
    fn verdicts() {
        let g = |shoppers: f64, buyers: f64| Group {
            shoppers,
            buyers,
            revenue: 0.0,
        };
        assert_eq!(verdict(&g(50.0, 10.0), &g(50.0, 5.0)), Verdict::TooSmall);
        assert_eq!(verdict(&g(1000.0, 3.0), &g(100.0, 1.0)), Verdict::TooSmall);
        assert!(matches!(
            verdict(&g(1000.0, 50.0), &g(1000.0, 45.0)),
            Verdict::NotSignificant(_)
        ));
        match verdict(&g(1000.0, 100.0), &g(1000.0, 50.0)) {
            Verdict::Significant(z) => assert!(z > 1.96),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn page_has_hooks_and_says_when_too_small() {
        let mut r = RecsPage {
            min_support: 2,
            holdout_percent: 10.0,
            slots: vec![SlotRow {
                list_id: "affinity:for-you".into(),
                variant: "personalized".into(),
                impressions: 4.0,
                clicks: 1.0,
            }],
            ..RecsPage::default()
        };
        r.attributed.insert(
            ("affinity:for-you".into(), "personalized".into()),
            Attributed {
                orders: 1.0,
                revenue: 25.0,
            },
        );
        r.personalized = Group {
            shoppers: 3.0,
            buyers: 1.0,
            revenue: 25.0,
        };
        let html = recs_page("<Shop>", &r, 0);
        assert!(html.contains("id=\"recs-table\""));
        assert!(html.contains("data-slot=\"for-you\" data-variant=\"personalized\""));
        assert!(html.contains("25.0%"), "CTR");
        assert!(html.contains("$25.00"));
        assert!(html.contains("id=\"recs-lift\""));
        assert!(html.contains("Too few shoppers to conclude"));
        assert!(html.contains("&#60;Shop&#62;"));
        assert!(html.contains("id=\"nav-recommendations\" class=\"active\""));
        assert!(html.contains("No model yet"));
    }
}
