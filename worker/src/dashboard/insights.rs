//! The dashboard's analytics pages: the overview (period KPIs with their change, the trend,
//! freshness and the install check), the funnel, retention, the customers' RFM grid and the
//! products. Pure: the handlers read the rows ([`crate::platform::store::dashboard`]) and the
//! shop's calendar ([`super::period`]); these functions turn them into figures and pages.
//!
//! Refunds come off revenue everywhere: in a trend at the time of the refund (net revenue of a
//! day = its orders' revenue − its refunds), for customers, cohorts and orders on the order
//! they refund. Stable hooks: `#visitors`, `#sessions`, `#orders`, `#revenue`, `#conversion`,
//! `#aov` (each with `data-value`, `data-previous`), `#freshness`, `#install-check` (with the
//! two forms of the tag, `#tag-async` and `#tag-import`),
//! `#revenue-chart`, `#visitors-chart` (marks with `data-label`, `data-value`), `#funnel`
//! (rows `data-step`, `data-count`), `#retention` (cells `data-cohort`, `data-age`,
//! `data-customers`, `data-rate`), `#returning-share`, `#rfm-grid` (cells `data-r`, `data-f`,
//! `data-customers`, `data-revenue`, each with a form saving its rule as a segment),
//! `#top-customers`, `#new-returning`, `#products` (rows `data-product-id`), `#period-form`.

use askama::Template;

use super::chart::{Chart, Point, Series};
use super::period::{Bucket, Grain, Period, Zone};
use super::{CustomerLink, OrderRow, TopProduct};
use crate::platform::html::{
    count, filters, money, money_short, percent, render, Frame, Nav, Time,
};
use crate::platform::store::dashboard::{
    BoughtWith, CohortCell, Freshness, FunnelCounts, NewReturning, ProductStats, RfmCount,
    SlotTotals, TopCustomer,
};

/// The figures of a period, from its rollup totals.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Metrics {
    /// Distinct visitors.
    pub visitors: f64,
    /// Sessions started.
    pub sessions: f64,
    /// Orders.
    pub orders: f64,
    /// Revenue minus refunds.
    pub net_revenue: f64,
    /// Buyers / visitors (0 without visitors).
    pub conversion: f64,
    /// Net revenue / orders (0 without orders).
    pub aov: f64,
    /// Units / orders.
    pub items_per_order: f64,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

impl Metrics {
    /// The figures of `t`.
    pub fn of(t: &SlotTotals) -> Metrics {
        let net = t.revenue - t.refunded;
        Metrics {
            visitors: t.visitors,
            sessions: t.sessions,
            orders: t.orders,
            net_revenue: net,
            conversion: ratio(t.buyers, t.visitors),
            aov: ratio(net, t.orders),
            items_per_order: ratio(t.items, t.orders),
        }
    }
}

/// The change of `now` against `before`, for people: `+25.0% vs previous 30 days`.
pub fn change(now: f64, before: f64, days: i64) -> String {
    let against = format!("vs previous {days} days");
    if before == 0.0 {
        return if now == 0.0 {
            format!("no change {against}")
        } else {
            format!("new {against} (was 0)")
        };
    }
    let c = (now - before) / before.abs();
    if c.abs() < 0.0005 {
        return format!("no change {against}");
    }
    format!("{}{} {against}", if c > 0.0 { "+" } else { "" }, percent(c))
}

/// The period chooser every analytics page has.
struct PeriodForm {
    action: &'static str,
    from: String,
    to: String,
    grain: Option<Grain>,
    zone: String,
}

impl PeriodForm {
    fn new(action: &'static str, p: &Period, grain: Option<Grain>, zone: &Zone, now: i64) -> Self {
        PeriodForm {
            action,
            from: p.from.to_string(),
            to: p.to.to_string(),
            grain,
            zone: zone.statement(now),
        }
    }

    fn grains(&self) -> [(&'static str, &'static str, bool); 3] {
        let g = self.grain.unwrap_or(Grain::Day);
        [
            ("day", "Day", g == Grain::Day),
            ("week", "Week", g == Grain::Week),
            ("month", "Month", g == Grain::Month),
        ]
    }
}

/// Everything the overview shows.
#[derive(Debug, Clone)]
pub struct Overview {
    /// The shop's time zone.
    pub zone: Zone,
    /// The period shown.
    pub period: Period,
    /// The trend's step.
    pub grain: Grain,
    /// Totals of the period.
    pub current: SlotTotals,
    /// Totals of the period before, of the same length.
    pub previous: SlotTotals,
    /// The trend: each bucket and its totals.
    pub trend: Vec<(Bucket, SlotTotals)>,
    /// The latest event received (none yet for a new shop).
    pub freshness: Option<Freshness>,
    /// The tag, in the two forms a shop may paste.
    pub tags: InstallTags,
    /// Most viewed products.
    pub top_products: Vec<TopProduct>,
    /// Latest orders.
    pub latest_orders: Vec<OrderRow>,
}

/// The shop's tag in its two forms (README.md, "The tag").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallTags {
    /// `<script async src="{edge}/affinity.js" data-key="{key}"></script>`: works under any
    /// Content Security Policy that allows the edge's origin, but the page's `load` event waits
    /// until the loader has been fetched and run.
    pub script: String,
    /// `<script>affinity={key:…,src:…};import(affinity.src)</script>`: the page's `load` never
    /// waits for Affinity (a dynamic import does not hold it), but it is an inline script, which
    /// a strict Content Security Policy must allow by nonce or hash.
    pub import: String,
}

impl InstallTags {
    /// The tags that load the plugin from `edge` (an origin, e.g. `https://edge.example`) for the
    /// shop with public write key `key`. Neither needs quoting: an origin has no quote, and a
    /// write key is `A-Z a-z 0-9 _ -` ([`crate::shops::valid_write_key`]). The page that shows
    /// the tags escapes them as text.
    pub fn new(edge: &str, key: &str) -> InstallTags {
        let src = format!("{edge}/affinity.js");
        InstallTags {
            script: format!("<script async src=\"{src}\" data-key=\"{key}\"></script>"),
            import: format!(
                "<script>affinity={{key:\"{key}\",src:\"{src}\"}};import(affinity.src)</script>"
            ),
        }
    }
}

struct Kpi {
    id: &'static str,
    label: &'static str,
    value: String,
    raw: f64,
    previous: f64,
    hint: String,
}

struct ProductRow<'a> {
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
    form: PeriodForm,
    kpis: Vec<Kpi>,
    grain: &'static str,
    freshness: Option<String>,
    install: String,
    installed: bool,
    tags: &'a InstallTags,
    revenue_chart: Chart,
    visitors_chart: Chart,
    products: Vec<ProductRow<'a>>,
    orders: Vec<OrderView>,
}

/// A product's name: the catalog's, else the id (names may be missing or empty).
fn name_or_id<'a>(name: Option<&'a str>, id: &'a str) -> &'a str {
    name.filter(|n| !n.trim().is_empty()).unwrap_or(id)
}

/// The overview page.
pub fn overview_page(shop_name: &str, o: &Overview, now_ms: i64) -> String {
    let cur = Metrics::of(&o.current);
    let prev = Metrics::of(&o.previous);
    let days = o.period.days();
    let k = |id, label, value: String, raw: f64, previous: f64| Kpi {
        id,
        label,
        value,
        raw,
        previous,
        hint: change(raw, previous, days),
    };
    let kpis = vec![
        k(
            "visitors",
            "Visitors",
            count(cur.visitors),
            cur.visitors,
            prev.visitors,
        ),
        k(
            "sessions",
            "Sessions",
            count(cur.sessions),
            cur.sessions,
            prev.sessions,
        ),
        k(
            "orders",
            "Orders",
            count(cur.orders),
            cur.orders,
            prev.orders,
        ),
        k(
            "revenue",
            "Net revenue",
            money(cur.net_revenue),
            cur.net_revenue,
            prev.net_revenue,
        ),
        k(
            "conversion",
            "Conversion",
            percent(cur.conversion),
            cur.conversion,
            prev.conversion,
        ),
        k("aov", "Avg order value", money(cur.aov), cur.aov, prev.aov),
    ];
    let points = |bar: &dyn Fn(&SlotTotals) -> f64, line: &dyn Fn(&SlotTotals) -> f64| {
        o.trend
            .iter()
            .map(|(b, t)| Point {
                label: b.label.clone(),
                bar: bar(t),
                line: line(t),
            })
            .collect::<Vec<_>>()
    };
    let grain = match o.grain {
        Grain::Day => "day",
        Grain::Week => "week",
        Grain::Month => "month",
    };
    let revenue_chart = Chart::new(
        "revenue-chart",
        format!("Net revenue and orders per {grain}"),
        &points(&|t| t.revenue - t.refunded, &|t| t.orders),
        Series {
            bars: "net revenue",
            line: Some("orders"),
        },
        money_short,
    );
    let visitors_chart = Chart::new(
        "visitors-chart",
        format!("Visitors and sessions per {grain}"),
        &points(&|t| t.visitors, &|t| t.sessions),
        Series {
            bars: "visitors",
            line: Some("sessions"),
        },
        count,
    );
    let (freshness, install, installed) = match &o.freshness {
        Some(f) => {
            let received = f.last_received as i64;
            let delay = (f.last_received - f.last_ts).max(0.0) / 1000.0;
            (
                Some(format!(
                    "Last event received {} ({}), {} after it happened.",
                    super::local_time(&o.zone, received),
                    crate::platform::html::ago(received, now_ms),
                    seconds(delay)
                )),
                format!(
                    "Tag seen on {} page views ({} events), last event at {}.",
                    count(f.page_views),
                    count(f.events),
                    super::local_time(&o.zone, f.last_ts as i64)
                ),
                true,
            )
        }
        None => (
            None,
            "No event received yet. Paste this tag into the <head> of every page of the shop, \
             open a page, and this line turns into the tag's first sighting."
                .to_string(),
            false,
        ),
    };
    render(&OverviewHtml {
        frame: Frame::new(shop_name, Nav::Overview, "Overview"),
        form: PeriodForm::new("/dashboard", &o.period, Some(o.grain), &o.zone, now_ms),
        kpis,
        grain,
        freshness,
        install,
        installed,
        tags: &o.tags,
        revenue_chart,
        visitors_chart,
        products: o
            .top_products
            .iter()
            .map(|p| ProductRow {
                id: &p.product_id,
                name: name_or_id(p.name.as_deref(), &p.product_id),
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
    })
}

fn seconds(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.1} s")
    } else if s < 3600.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

/// The funnel's conversion windows a merchant can pick: `(query value, label, ms)`.
pub const WINDOWS: [(&str, &str, i64); 4] = [
    ("1h", "1 hour", 3_600_000),
    ("1d", "1 day", 86_400_000),
    ("7d", "7 days", 7 * 86_400_000),
    ("30d", "30 days", 30 * 86_400_000),
];

/// The window of a query value (1 day when unknown).
pub fn window(value: &str) -> (&'static str, i64) {
    WINDOWS
        .iter()
        .find(|w| w.0 == value)
        .map_or(("1d", 86_400_000), |w| (w.0, w.2))
}

/// One step of the funnel, as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Step name.
    pub name: &'static str,
    /// Customers who reached it.
    pub count: f64,
    /// Share of the first step.
    pub of_first: f64,
    /// Share of the step before (1 for the first).
    pub of_previous: f64,
    /// Customers lost since the step before.
    pub dropped: f64,
}

/// The steps of funnel counts.
pub fn steps(f: &FunnelCounts) -> Vec<Step> {
    let counts = [
        ("Viewed a product", f.viewed),
        ("Added to cart", f.added),
        ("Started checkout", f.checkout),
        ("Ordered", f.ordered),
    ];
    let mut prev = f.viewed;
    counts
        .iter()
        .enumerate()
        .map(|(i, (name, n))| {
            let s = Step {
                name,
                count: *n,
                of_first: ratio(*n, f.viewed),
                of_previous: if i == 0 { 1.0 } else { ratio(*n, prev) },
                dropped: if i == 0 { 0.0 } else { prev - n },
            };
            prev = *n;
            s
        })
        .collect()
}

struct StepView {
    index: usize,
    name: &'static str,
    count: String,
    raw: f64,
    of_first: String,
    of_previous: String,
    dropped: String,
    width: String,
}

#[derive(Template)]
#[template(path = "funnel.html", whitespace = "minimize")]
struct FunnelHtml<'a> {
    frame: Frame<'a>,
    form: PeriodForm,
    windows: Vec<(&'static str, &'static str, bool)>,
    segments: Vec<(&'a str, bool)>,
    segment: &'a str,
    steps: Vec<StepView>,
    empty: bool,
}

/// The funnel page: `segment` ('' for everyone) and the window picked, `segments` to choose
/// from.
#[allow(clippy::too_many_arguments)]
pub fn funnel_page(
    shop_name: &str,
    zone: &Zone,
    period: &Period,
    window_value: &str,
    segment: &str,
    segments: &[String],
    counts: &FunnelCounts,
    now_ms: i64,
) -> String {
    let list = steps(counts);
    render(&FunnelHtml {
        frame: Frame::new(shop_name, Nav::Funnel, "Funnel"),
        form: PeriodForm::new("/dashboard/funnel", period, None, zone, now_ms),
        windows: WINDOWS
            .iter()
            .map(|w| (w.0, w.1, w.0 == window_value))
            .collect(),
        segments: segments
            .iter()
            .map(|s| (s.as_str(), s == segment))
            .collect(),
        segment,
        empty: counts.viewed == 0.0,
        steps: list
            .iter()
            .enumerate()
            .map(|(i, s)| StepView {
                index: i + 1,
                name: s.name,
                count: count(s.count),
                raw: s.count,
                of_first: percent(s.of_first),
                of_previous: percent(s.of_previous),
                dropped: count(s.dropped),
                width: format!("{:.1}", s.of_first * 100.0),
            })
            .collect(),
    })
}

/// One row of the retention table: a first-order month and its share ordering again by age.
#[derive(Debug, Clone, PartialEq)]
pub struct Cohort {
    /// `2026-11`.
    pub label: String,
    /// Customers whose first order was that month.
    pub size: f64,
    /// For each month since (0 = the first), the customers who ordered then and their revenue.
    pub ages: Vec<(f64, f64)>,
}

/// Ages shown at most (months since the first order).
pub const MAX_AGE: usize = 36;

/// The cohorts of the retention cells, newest last: each cohort's ages run to the oldest age any
/// cohort reached (at most [`MAX_AGE`]) but never past `now_month` (`year * 12 + month - 1`).
pub fn cohorts(cells: &[CohortCell], now_month: i64) -> Vec<Cohort> {
    let max_age = cells
        .iter()
        .map(|c| c.age as usize)
        .max()
        .unwrap_or(0)
        .min(MAX_AGE);
    let mut firsts: Vec<i64> = cells.iter().map(|c| c.cohort as i64).collect();
    firsts.sort_unstable();
    firsts.dedup();
    firsts
        .into_iter()
        .filter_map(|m| {
            let mine: Vec<&CohortCell> = cells.iter().filter(|c| c.cohort as i64 == m).collect();
            let size = mine.iter().find(|c| c.age == 0.0).map(|c| c.customers)?;
            let until = (now_month - m).clamp(0, max_age as i64) as usize;
            let ages = (0..=until)
                .map(|a| {
                    mine.iter()
                        .find(|c| c.age as usize == a)
                        .map_or((0.0, 0.0), |c| (c.customers, c.revenue))
                })
                .collect();
            Some(Cohort {
                label: format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1),
                size,
                ages,
            })
        })
        .collect()
}

struct CellView {
    age: usize,
    customers: f64,
    rate: f64,
    text: String,
    title: String,
    alpha: String,
}

struct CohortView {
    label: String,
    size: String,
    cells: Vec<CellView>,
}

#[derive(Template)]
#[template(path = "retention.html", whitespace = "minimize")]
struct RetentionHtml<'a> {
    frame: Frame<'a>,
    form: PeriodForm,
    ages: Vec<usize>,
    cohorts: Vec<CohortView>,
    share: String,
    share_raw: f64,
    repeat: String,
    total: String,
    nr: NewReturningView,
}

/// New vs returning customers, as shown on the retention and customers pages.
struct NewReturningView {
    new_customers: String,
    returning_customers: String,
    new_orders: String,
    returning_orders: String,
    first_revenue: String,
    repeat_revenue: String,
}

impl NewReturningView {
    fn of(n: &NewReturning) -> NewReturningView {
        NewReturningView {
            new_customers: count(n.new_customers),
            returning_customers: count(n.returning_customers),
            new_orders: count(n.new_orders),
            returning_orders: count(n.returning_orders),
            first_revenue: money(n.first_revenue),
            repeat_revenue: money(n.repeat_revenue),
        }
    }
}

/// Share of a period's net revenue that came from returning customers' orders.
pub fn returning_share(n: &NewReturning) -> f64 {
    ratio(n.repeat_revenue, n.first_revenue + n.repeat_revenue)
}

/// The retention page: cohorts (all of the shop's orders, by month in its time zone) and the
/// period's share of revenue from returning customers.
pub fn retention_page(
    shop_name: &str,
    zone: &Zone,
    period: &Period,
    cohorts: &[Cohort],
    nr: &NewReturning,
    now_ms: i64,
) -> String {
    let max_age = cohorts.iter().map(|c| c.ages.len()).max().unwrap_or(0);
    let share = returning_share(nr);
    render(&RetentionHtml {
        frame: Frame::new(shop_name, Nav::Retention, "Retention"),
        form: PeriodForm::new("/dashboard/retention", period, None, zone, now_ms),
        ages: (0..max_age).collect(),
        cohorts: cohorts
            .iter()
            .map(|c| CohortView {
                label: c.label.clone(),
                size: count(c.size),
                cells: c
                    .ages
                    .iter()
                    .enumerate()
                    .map(|(a, (n, rev))| {
                        let rate = ratio(*n, c.size);
                        CellView {
                            age: a,
                            customers: *n,
                            rate,
                            text: percent(rate),
                            title: format!(
                                "{} cohort, month {a}: {} of {} customers ordered ({}), {}",
                                c.label,
                                count(*n),
                                count(c.size),
                                percent(rate),
                                money(*rev)
                            ),
                            alpha: format!("{:.2}", 0.06 + 0.6 * rate),
                        }
                    })
                    .collect(),
            })
            .collect(),
        share: percent(share),
        share_raw: share,
        repeat: money(nr.repeat_revenue),
        total: money(nr.first_revenue + nr.repeat_revenue),
        nr: NewReturningView::of(nr),
    })
}

/// An interval `[lo, hi)` of an RFM score; `None` is unbounded.
pub type Interval = (Option<f64>, Option<f64>);

/// The intervals of an RFM score's five quintiles over whole `values` (sorted ascending, with
/// how many customers have each): quintile k ends after the smallest value at which at least
/// k/5 of the customers are counted. A value falls into exactly one interval; ties stay
/// together, so an interval may be empty.
pub fn quintiles(values: &[(f64, f64)]) -> [Interval; 5] {
    let total: f64 = values.iter().map(|v| v.1).sum();
    let cut = |k: u32| {
        let mut seen = 0.0;
        for (v, n) in values {
            seen += n;
            if seen >= f64::from(k) / 5.0 * total - 1e-9 {
                return v + 1.0;
            }
        }
        values.last().map_or(1.0, |v| v.0 + 1.0)
    };
    let c: Vec<f64> = (1..5).map(cut).collect();
    [
        (None, Some(c[0])),
        (Some(c[0]), Some(c[1])),
        (Some(c[1]), Some(c[2])),
        (Some(c[2]), Some(c[3])),
        (Some(c[3]), None),
    ]
}

/// One cell of the RFM grid.
#[derive(Debug, Clone, PartialEq)]
pub struct RfmCell {
    /// Recency score, 5 = ordered most recently.
    pub r: u8,
    /// Frequency score, 5 = ordered most often.
    pub f: u8,
    /// Buyers.
    pub customers: f64,
    /// Their net revenue.
    pub revenue: f64,
    /// The rule that selects the cell's customers (`rfm.recency` in days, `rfm.frequency`).
    pub rule: String,
}

fn bounds(prop: &str, (lo, hi): Interval) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(lo) = lo {
        parts.push(format!("{prop} >= {lo}"));
    }
    if let Some(hi) = hi {
        parts.push(format!("{prop} < {hi}"));
    }
    parts
}

/// The 5 × 5 grid of buyers by recency and frequency quintiles (25 cells, R 5→1 by F 1→5).
pub fn rfm_grid(rows: &[RfmCount]) -> Vec<RfmCell> {
    let mut rec: Vec<(f64, f64)> = Vec::new();
    let mut freq: Vec<(f64, f64)> = Vec::new();
    for r in rows {
        for (list, v) in [(&mut rec, r.recency), (&mut freq, r.frequency)] {
            match list.iter_mut().find(|x| x.0 == v) {
                Some(x) => x.1 += r.customers,
                None => list.push((v, r.customers)),
            }
        }
    }
    rec.sort_by(|a, b| a.0.total_cmp(&b.0));
    freq.sort_by(|a, b| a.0.total_cmp(&b.0));
    let rq = quintiles(&rec);
    let fq = quintiles(&freq);
    let within = |(lo, hi): Interval, v: f64| lo.is_none_or(|l| v >= l) && hi.is_none_or(|h| v < h);
    let mut out = Vec::new();
    for r in (1..=5u8).rev() {
        // R 5 is the lowest recency (the first interval).
        let ri = rq[usize::from(5 - r)];
        for f in 1..=5u8 {
            let fi = fq[usize::from(f - 1)];
            let (mut customers, mut revenue) = (0.0, 0.0);
            for row in rows {
                if within(ri, row.recency) && within(fi, row.frequency) {
                    customers += row.customers;
                    revenue += row.revenue;
                }
            }
            let mut parts = vec!["orders >= 1".to_string()];
            parts.extend(bounds("rfm.recency", ri));
            parts.extend(bounds("rfm.frequency", fi));
            let empty_interval = |(lo, hi): Interval| lo.zip(hi).is_some_and(|(l, h)| h <= l);
            if empty_interval(ri) || empty_interval(fi) {
                continue;
            }
            out.push(RfmCell {
                r,
                f,
                customers,
                revenue,
                rule: parts.join(" and "),
            });
        }
    }
    out
}

struct RfmView {
    r: u8,
    f: u8,
    customers: f64,
    revenue: f64,
    text: String,
    money: String,
    rule: String,
    name: String,
    alpha: String,
}

struct TopCustomerView {
    link: CustomerLink,
    orders: String,
    revenue: String,
    last: Time,
}

#[derive(Template)]
#[template(path = "customer_insights.html", whitespace = "minimize")]
struct CustomerInsightsHtml<'a> {
    period: &'a str,
    rows: Vec<Vec<Option<RfmView>>>,
    top: Vec<TopCustomerView>,
    nr: NewReturningView,
    buyers: bool,
}

/// What the customers page shows above the list.
#[derive(Debug, Clone, Default)]
pub struct CustomerInsights {
    /// The RFM counts.
    pub rfm: Vec<RfmCount>,
    /// The best buyers.
    pub top: Vec<TopCustomer>,
    /// New vs returning in the last 30 days.
    pub new_returning: NewReturning,
}

/// The RFM grid, top customers and new vs returning, as a fragment of the customers page.
pub fn customer_insights(c: &CustomerInsights, now_ms: i64) -> crate::platform::html::Fragment {
    let grid = rfm_grid(&c.rfm);
    let max = grid.iter().map(|g| g.customers).fold(0.0, f64::max);
    let rows = (1..=5u8)
        .rev()
        .map(|r| {
            (1..=5u8)
                .map(|f| {
                    grid.iter().find(|g| g.r == r && g.f == f).map(|g| RfmView {
                        r,
                        f,
                        customers: g.customers,
                        revenue: g.revenue,
                        text: count(g.customers),
                        money: money(g.revenue),
                        rule: g.rule.clone(),
                        name: format!("rfm-r{r}-f{f}"),
                        alpha: format!("{:.2}", 0.06 + 0.6 * ratio(g.customers, max)),
                    })
                })
                .collect()
        })
        .collect();
    crate::platform::html::Fragment::of(&CustomerInsightsHtml {
        period: "last 30 days",
        rows,
        top: c
            .top
            .iter()
            .map(|t| TopCustomerView {
                link: CustomerLink::new(&t.customer_id),
                orders: count(t.orders),
                revenue: money(t.revenue),
                last: Time::new(t.last_order as i64, now_ms),
            })
            .collect(),
        nr: NewReturningView::of(&c.new_returning),
        buyers: !c.rfm.is_empty(),
    })
}

struct ProductStatsView<'a> {
    id: &'a str,
    name: &'a str,
    views: String,
    adds: String,
    add_rate: String,
    conversion: String,
    units: String,
    revenue: String,
    refunded: String,
    net: String,
    with: Vec<(&'a str, String)>,
}

#[derive(Template)]
#[template(path = "products.html", whitespace = "minimize")]
struct ProductsHtml<'a> {
    frame: Frame<'a>,
    form: PeriodForm,
    products: Vec<ProductStatsView<'a>>,
}

/// The products page: each product's figures over the period and what it is most often bought
/// with (all orders).
pub fn products_page(
    shop_name: &str,
    zone: &Zone,
    period: &Period,
    stats: &[ProductStats],
    with: &[BoughtWith],
    now_ms: i64,
) -> String {
    render(&ProductsHtml {
        frame: Frame::new(shop_name, Nav::Products, "Products"),
        form: PeriodForm::new("/dashboard/products", period, None, zone, now_ms),
        products: stats
            .iter()
            .map(|p| ProductStatsView {
                id: &p.product_id,
                name: name_or_id(p.name.as_deref(), &p.product_id),
                views: count(p.views),
                adds: count(p.adds),
                add_rate: percent(ratio(p.adds, p.views)),
                conversion: percent(ratio(p.units, p.views)),
                units: count(p.units),
                revenue: money(p.revenue),
                refunded: money(p.refunded),
                net: money(p.revenue - p.refunded),
                with: with
                    .iter()
                    .filter(|w| w.product_id == p.product_id)
                    .take(3)
                    .map(|w| {
                        (
                            name_or_id(w.other_name.as_deref(), &w.other_id),
                            count(w.orders),
                        )
                    })
                    .collect(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_tags_in_both_forms() {
        let tags = InstallTags::new("https://edge.example", "pk_live_Ab-9");
        assert_eq!(
            tags.script,
            r#"<script async src="https://edge.example/affinity.js" data-key="pk_live_Ab-9"></script>"#
        );
        assert_eq!(
            tags.import,
            r#"<script>affinity={key:"pk_live_Ab-9",src:"https://edge.example/affinity.js"};import(affinity.src)</script>"#
        );
    }

    #[test]
    fn metrics_take_refunds_off() {
        let t = SlotTotals {
            visitors: 10.0,
            buyers: 2.0,
            orders: 4.0,
            items: 6.0,
            revenue: 200.0,
            refunded: 40.0,
            ..SlotTotals::default()
        };
        let m = Metrics::of(&t);
        assert_eq!(
            (m.net_revenue, m.aov, m.conversion, m.items_per_order),
            (160.0, 40.0, 0.2, 1.5)
        );
        assert_eq!(Metrics::of(&SlotTotals::default()).aov, 0.0);
        assert_eq!(change(125.0, 100.0, 30), "+25.0% vs previous 30 days");
        assert_eq!(change(50.0, 100.0, 7), "-50.0% vs previous 7 days");
        assert_eq!(change(3.0, 0.0, 7), "new vs previous 7 days (was 0)");
        assert_eq!(change(0.0, 0.0, 7), "no change vs previous 7 days");
    }

    #[test]
    fn cohorts_stop_at_this_month() {
        let cell = |cohort: f64, age: f64, customers: f64| CohortCell {
            cohort,
            age,
            customers,
            revenue: 1.0,
        };
        // 2026-10 (24_321) has ages 0 and 1; 2026-11 (24_322) only age 0; now is 2026-11.
        let c = cohorts(
            &[
                cell(24_321.0, 0.0, 4.0),
                cell(24_321.0, 1.0, 1.0),
                cell(24_322.0, 0.0, 2.0),
            ],
            24_322,
        );
        assert_eq!(c.len(), 2);
        assert_eq!(
            (c[0].label.as_str(), c[0].size, c[0].ages.len()),
            ("2026-10", 4.0, 2)
        );
        assert_eq!(c[0].ages[1], (1.0, 1.0));
        assert_eq!((c[1].label.as_str(), c[1].ages.len()), ("2026-11", 1));
    }

    #[test]
    fn funnel_steps() {
        let s = steps(&FunnelCounts {
            viewed: 10.0,
            added: 4.0,
            checkout: 2.0,
            ordered: 1.0,
        });
        assert_eq!(
            s.iter().map(|x| x.dropped).collect::<Vec<_>>(),
            [0.0, 6.0, 2.0, 1.0]
        );
        assert_eq!(s[2].of_previous, 0.5);
        assert_eq!(s[3].of_first, 0.1);
    }

    #[test]
    fn quintiles_keep_ties_together() {
        // 10 customers with 1 order, 5 with 2, 5 with 3..7: cuts at 20/40/60/80 %.
        let f = [
            (1.0, 10.0),
            (2.0, 5.0),
            (3.0, 1.0),
            (4.0, 1.0),
            (5.0, 1.0),
            (6.0, 1.0),
            (7.0, 1.0),
        ];
        let q = quintiles(&f);
        // 20 % and 40 % are both reached by the 1s: F1 holds them and F2 is empty.
        assert_eq!(
            q,
            [
                (None, Some(2.0)),
                (Some(2.0), Some(2.0)),
                (Some(2.0), Some(3.0)),
                (Some(3.0), Some(4.0)),
                (Some(4.0), None)
            ]
        );
        let rows = [
            RfmCount {
                recency: 0.0,
                frequency: 1.0,
                customers: 3.0,
                revenue: 30.0,
            },
            RfmCount {
                recency: 10.0,
                frequency: 2.0,
                customers: 1.0,
                revenue: 50.0,
            },
            RfmCount {
                recency: 40.0,
                frequency: 1.0,
                customers: 1.0,
                revenue: 5.0,
            },
        ];
        let grid = rfm_grid(&rows);
        let total: f64 = grid.iter().map(|c| c.customers).sum();
        assert_eq!(total, 5.0, "every buyer in exactly one cell");
        let revenue: f64 = grid.iter().map(|c| c.revenue).sum();
        assert_eq!(revenue, 85.0);
        let top = grid
            .iter()
            .find(|c| c.customers == 3.0)
            .map(|c| c.rule.clone());
        assert!(top.is_some_and(|r| r.starts_with("orders >= 1") && r.contains("rfm.recency < ")));
        // Every rule parses in the engine's rule language.
        for c in &grid {
            assert!(affinity::rules::parse(&c.rule).is_ok(), "{}", c.rule);
        }
    }
}
