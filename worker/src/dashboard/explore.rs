//! Explore: a metric by one dimension, optionally broken down by a second, over a period, as a
//! table, a chart and CSV. The query lives in the URL (`metric`, `by`, `then`, `from`, `to`),
//! so a view can be bookmarked and shared; every choice is a plain select, no query language.
//! Visitors are counted exactly (distinct customers over the visits of the period, and over the
//! product viewers' rollup or the raw product views), never estimated.

use askama::Template;

use super::chart::{Chart, Point, Series};
use super::period::{Period, Zone, WEEKDAYS};
use crate::platform::html::{count, filters, money, percent, render, Frame, Nav};
use crate::platform::http::percent_encode;
pub use crate::platform::store::explore::{Dim, Group};

/// What explore measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Distinct visitors.
    Visitors,
    /// Orders.
    Orders,
    /// Net revenue.
    Revenue,
    /// Buyers / visitors.
    Conversion,
    /// Net revenue / orders.
    Aov,
    /// Units / orders.
    ItemsPerOrder,
}

impl Metric {
    /// Every metric with its query value and label.
    pub const ALL: [(Metric, &'static str, &'static str); 6] = [
        (Metric::Visitors, "visitors", "Visitors"),
        (Metric::Orders, "orders", "Orders"),
        (Metric::Revenue, "revenue", "Net revenue"),
        (Metric::Conversion, "conversion", "Conversion"),
        (Metric::Aov, "aov", "Average order value"),
        (Metric::ItemsPerOrder, "items", "Items per order"),
    ];

    /// Its query value.
    pub fn as_str(self) -> &'static str {
        Metric::ALL.iter().find(|m| m.0 == self).map_or("", |m| m.1)
    }

    fn label(self) -> &'static str {
        Metric::ALL.iter().find(|m| m.0 == self).map_or("", |m| m.2)
    }

    /// Whether it needs the visitor counts.
    pub fn needs_visitors(self) -> bool {
        matches!(self, Metric::Visitors | Metric::Conversion)
    }

    /// Whether it needs the order figures.
    pub fn needs_orders(self) -> bool {
        self != Metric::Visitors
    }

    /// Its value from a group's visitors and orders.
    pub fn value(self, visitors: f64, o: &Group) -> f64 {
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        match self {
            Metric::Visitors => visitors,
            Metric::Orders => o.orders,
            Metric::Revenue => o.revenue,
            Metric::Conversion => ratio(o.customers, visitors),
            Metric::Aov => ratio(o.revenue, o.orders),
            Metric::ItemsPerOrder => ratio(o.items, o.orders),
        }
    }

    /// The value for people.
    pub fn format(self, v: f64) -> String {
        match self {
            Metric::Visitors | Metric::Orders => count(v),
            Metric::Revenue | Metric::Aov => money(v),
            Metric::Conversion => percent(v),
            Metric::ItemsPerOrder => format!("{v:.2}"),
        }
    }
}

/// An explore question, as the URL holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The metric.
    pub metric: Metric,
    /// The dimension.
    pub by: Dim,
    /// The breakdown, if any.
    pub then: Option<Dim>,
}

impl Question {
    /// The question of the query values, or why it is not one.
    pub fn parse(
        metric: Option<&str>,
        by: Option<&str>,
        then: Option<&str>,
    ) -> Result<Question, String> {
        let metric = match metric.filter(|m| !m.is_empty()) {
            None => Metric::Revenue,
            Some(m) => Metric::ALL
                .iter()
                .find(|x| x.1 == m)
                .map(|x| x.0)
                .ok_or_else(|| format!("`{m}` is not a metric"))?,
        };
        let dim = |v: &str| Dim::parse(v).ok_or_else(|| format!("`{v}` is not a dimension"));
        let by = match by.filter(|b| !b.is_empty()) {
            None => Dim::Weekday,
            Some(b) => dim(b)?,
        };
        let then = match then.filter(|t| !t.is_empty()) {
            None => None,
            Some(t) => Some(dim(t)?).filter(|t| *t != by),
        };
        Ok(Question { metric, by, then })
    }

    /// The dimensions asked for, in order.
    pub fn dims(&self) -> Vec<Dim> {
        std::iter::once(self.by).chain(self.then).collect()
    }

    /// The URL of this question over `period` (`csv`: the export).
    pub fn url(&self, period: &Period, csv: bool) -> String {
        let mut u = format!(
            "/dashboard/explore?metric={}&by={}",
            self.metric.as_str(),
            self.by.as_str()
        );
        if let Some(t) = self.then {
            u.push_str(&format!("&then={}", t.as_str()));
        }
        u.push_str(&format!(
            "&from={}&to={}",
            percent_encode(&period.from.to_string()),
            percent_encode(&period.to.to_string())
        ));
        if csv {
            u.push_str("&format=csv");
        }
        u
    }
}

/// A dimension value for people: weekday names, `14:00`, `(not set)`.
pub fn label(d: Dim, v: Option<&str>) -> String {
    let Some(v) = v.filter(|v| !v.is_empty()) else {
        return "(not set)".into();
    };
    match d {
        Dim::Weekday => v
            .parse::<usize>()
            .ok()
            .and_then(|i| WEEKDAYS.get(i))
            .map_or_else(|| v.to_string(), |s| s.to_string()),
        Dim::Hour => v
            .parse::<u32>()
            .map_or_else(|_| v.to_string(), |h| format!("{h:02}:00")),
        _ => v.to_string(),
    }
}

/// One answer row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The dimension's label.
    pub by: String,
    /// The breakdown's label ('' without one).
    pub then: String,
    /// The metric's value.
    pub value: f64,
}

/// The answer: the metric for every group either query found, best first (weekday and hour in
/// their own order).
pub fn answer(q: &Question, visitors: &[Group], orders: &[Group]) -> Vec<Row> {
    let mut keys: Vec<(Option<String>, Option<String>)> = Vec::new();
    for g in visitors.iter().chain(orders) {
        let k = (g.d1.clone(), g.d2.clone());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let mut rows: Vec<(Option<String>, Option<String>, f64)> = keys
        .into_iter()
        .map(|(a, b)| {
            let find = |list: &[Group]| {
                list.iter()
                    .find(|g| g.d1 == a && g.d2 == b)
                    .cloned()
                    .unwrap_or_default()
            };
            let v = find(visitors).customers;
            let value = q.metric.value(v, &find(orders));
            (a, b, value)
        })
        .collect();
    let ordinal = |s: &Option<String>| {
        s.as_deref()
            .and_then(|x| x.parse::<i64>().ok())
            .unwrap_or(99)
    };
    if matches!(q.by, Dim::Weekday | Dim::Hour) {
        rows.sort_by(|x, y| ordinal(&x.0).cmp(&ordinal(&y.0)).then(y.2.total_cmp(&x.2)));
    } else {
        rows.sort_by(|x, y| y.2.total_cmp(&x.2).then(x.0.cmp(&y.0)).then(x.1.cmp(&y.1)));
    }
    rows.into_iter()
        .map(|(a, b, value)| Row {
            by: label(q.by, a.as_deref()),
            then: q.then.map_or(String::new(), |t| label(t, b.as_deref())),
            value,
        })
        .collect()
}

/// A CSV field: quoted when needed, and a leading `=`, `+`, `-`, `@` defused with `'` so a
/// spreadsheet never runs it as a formula.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The answer as CSV: a header and one line per row (numbers unformatted).
pub fn csv(q: &Question, rows: &[Row]) -> String {
    let by = Dim::ALL.iter().find(|d| d.0 == q.by).map_or("", |d| d.2);
    let mut out = field(by);
    if let Some(t) = q.then {
        out.push(',');
        out.push_str(&field(
            Dim::ALL.iter().find(|d| d.0 == t).map_or("", |d| d.2),
        ));
    }
    out.push(',');
    out.push_str(&field(q.metric.label()));
    out.push('\n');
    for r in rows {
        out.push_str(&field(&r.by));
        if q.then.is_some() {
            out.push(',');
            out.push_str(&field(&r.then));
        }
        out.push(',');
        out.push_str(&format!("{}", (r.value * 1e6).round() / 1e6));
        out.push('\n');
    }
    out
}

struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

/// The options of one select, from a `(value, URL name, label)` table.
fn choices<T: Copy>(
    all: &[(T, &'static str, &'static str)],
    selected: impl Fn(T) -> bool,
) -> Vec<Choice> {
    all.iter()
        .map(|&(v, value, label)| Choice {
            value,
            label,
            selected: selected(v),
        })
        .collect()
}

struct RowView {
    by: String,
    then: String,
    value: f64,
    text: String,
}

#[derive(Template)]
#[template(path = "explore.html", whitespace = "minimize")]
struct ExploreHtml<'a> {
    frame: Frame<'a>,
    from: String,
    to: String,
    zone: String,
    metrics: Vec<Choice>,
    dims: Vec<Choice>,
    thens: Vec<Choice>,
    has_then: bool,
    metric_label: &'static str,
    by_label: &'static str,
    then_label: &'static str,
    rows: Vec<RowView>,
    chart: Chart,
    csv_url: String,
    share_url: String,
}

/// The explore page.
pub fn page(
    shop_name: &str,
    zone: &Zone,
    period: &Period,
    q: &Question,
    rows: &[Row],
    now_ms: i64,
) -> String {
    let dim_label = |d: Dim| Dim::ALL.iter().find(|x| x.0 == d).map_or("", |x| x.2);
    let points: Vec<Point> = rows
        .iter()
        .take(24)
        .map(|r| Point {
            label: if r.then.is_empty() {
                r.by.clone()
            } else {
                format!("{} · {}", r.by, r.then)
            },
            bar: r.value,
            line: 0.0,
        })
        .collect();
    let unit: &'static str = match q.metric {
        Metric::Visitors => "visitors",
        Metric::Orders => "orders",
        Metric::Revenue => "net revenue",
        Metric::Conversion => "conversion (share of visitors)",
        Metric::Aov => "average order value",
        Metric::ItemsPerOrder => "items per order",
    };
    let metric = q.metric;
    render(&ExploreHtml {
        frame: Frame::new(shop_name, Nav::Explore, "Explore"),
        from: period.from.to_string(),
        to: period.to.to_string(),
        zone: zone.statement(now_ms),
        metrics: choices(&Metric::ALL, |m| m == q.metric),
        dims: choices(&Dim::ALL, |d| d == q.by),
        thens: choices(&Dim::ALL, |d| Some(d) == q.then),
        has_then: q.then.is_some(),
        metric_label: metric.label(),
        by_label: dim_label(q.by),
        then_label: q.then.map_or("", dim_label),
        rows: rows
            .iter()
            .map(|r| RowView {
                by: r.by.clone(),
                then: r.then.clone(),
                value: r.value,
                text: metric.format(r.value),
            })
            .collect(),
        chart: Chart::new(
            "explore-chart",
            format!("{} by {}", metric.label(), dim_label(q.by)),
            &points,
            Series {
                bars: unit,
                line: None,
            },
            move |v| match metric {
                Metric::Conversion => percent(v),
                Metric::Revenue | Metric::Aov => crate::platform::html::money_whole(v),
                Metric::ItemsPerOrder => format!("{v:.1}"),
                _ => count(v),
            },
        ),
        csv_url: q.url(period, true),
        share_url: q.url(period, false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(d1: &str, customers: f64, orders: f64, revenue: f64, items: f64) -> Group {
        Group {
            d1: Some(d1.into()),
            d2: Some(String::new()),
            customers,
            orders,
            revenue,
            items,
        }
    }

    #[test]
    fn questions_answers_and_csv() {
        assert!(Question::parse(Some("profit"), None, None).is_err_and(|e| e.contains("profit")));
        assert!(Question::parse(None, Some("planet"), None).is_err());
        let q = Question::parse(Some("conversion"), Some("device"), Some("device"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(q.then, None, "a breakdown by the same dimension is dropped");
        let rows = answer(
            &q,
            &[
                g("mobile", 10.0, 0.0, 0.0, 0.0),
                g("desktop", 4.0, 0.0, 0.0, 0.0),
            ],
            &[
                g("desktop", 2.0, 3.0, 90.0, 4.0),
                g("mobile", 1.0, 1.0, 10.0, 1.0),
            ],
        );
        assert_eq!(
            rows.iter()
                .map(|r| (r.by.as_str(), r.value))
                .collect::<Vec<_>>(),
            [("desktop", 0.5), ("mobile", 0.1)]
        );
        let w = Question::parse(Some("orders"), Some("weekday"), None)
            .unwrap_or_else(|e| panic!("{e}"));
        let rows = answer(
            &w,
            &[],
            &[g("6", 1.0, 5.0, 0.0, 0.0), g("0", 1.0, 1.0, 0.0, 0.0)],
        );
        assert_eq!(rows[0].by, "Monday");
        assert_eq!(rows[1].by, "Sunday");
        let csv = csv(
            &w,
            &[Row {
                by: "=cmd|x".into(),
                then: String::new(),
                value: 2.5,
            }],
        );
        assert_eq!(csv, "Weekday,Orders\n'=cmd|x,2.5\n");
        assert_eq!(field("a,\"b\""), "\"a,\"\"b\"\"\"");
        assert_eq!(label(Dim::Hour, Some("7")), "07:00");
        assert_eq!(label(Dim::Country, None), "(not set)");
    }
}
