//! Explore's reads: a metric family (visitors, or orders with their revenue and units) grouped
//! by one dimension and optionally a second, over a UTC range. Visits (`visits`, one per
//! session start) carry the visit's dimensions; an order takes those of the customer's latest
//! visit at or before it (last-touch), its lines' product, category and brand, and its own local
//! weekday and hour. Local time comes from `:offsets`, the zone's UTC offsets over the range
//! (`[[from_ms, until_ms, offset_ms], …]`, covering all time), so summer time is honoured.

use serde::Deserialize;

use super::{Arg, Query};

/// What explore can slice by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    /// The product's category.
    Category,
    /// The product's brand.
    Brand,
    /// The product.
    Product,
    /// `context.location.country` of the visit.
    Country,
    /// `context.location.region` of the visit.
    Region,
    /// Device type of the visit.
    Device,
    /// Referrer host of the visit.
    Referrer,
    /// UTM source of the visit.
    UtmSource,
    /// UTM campaign of the visit.
    UtmCampaign,
    /// A segment the customer is in now (a customer in two counts in both).
    Segment,
    /// New or returning (visitor: seen before; order: a first order or a repeat).
    NewReturning,
    /// Local weekday, `0` Monday … `6` Sunday.
    Weekday,
    /// Local hour, `0` … `23`.
    Hour,
}

impl Dim {
    /// Every dimension with its query value and label.
    pub const ALL: [(Dim, &'static str, &'static str); 13] = [
        (Dim::Category, "category", "Category"),
        (Dim::Brand, "brand", "Brand"),
        (Dim::Product, "product", "Product"),
        (Dim::Country, "country", "Country"),
        (Dim::Region, "region", "Region"),
        (Dim::Device, "device", "Device"),
        (Dim::Referrer, "referrer", "Referrer"),
        (Dim::UtmSource, "utm_source", "UTM source"),
        (Dim::UtmCampaign, "utm_campaign", "UTM campaign"),
        (Dim::Segment, "segment", "Segment"),
        (Dim::NewReturning, "visitor", "New vs returning"),
        (Dim::Weekday, "weekday", "Weekday"),
        (Dim::Hour, "hour", "Hour"),
    ];

    /// The dimension of a query value.
    pub fn parse(s: &str) -> Option<Dim> {
        Dim::ALL.iter().find(|d| d.1 == s).map(|d| d.0)
    }

    /// Its query value.
    pub fn as_str(self) -> &'static str {
        Dim::ALL.iter().find(|d| d.0 == self).map_or("", |d| d.1)
    }

    fn is_product(self) -> bool {
        matches!(self, Dim::Category | Dim::Brand | Dim::Product)
    }

    fn visit_column(self) -> Option<&'static str> {
        Some(match self {
            Dim::Country => "country",
            Dim::Region => "region",
            Dim::Device => "device",
            Dim::Referrer => "referrer",
            Dim::UtmSource => "utm_source",
            Dim::UtmCampaign => "utm_campaign",
            _ => return None,
        })
    }
}

/// Local time of the UTC column `ts`, from the `tz` offsets CTE ([`TZ`]).
pub(super) fn local(ts: &str) -> String {
    format!("({ts} + COALESCE((SELECT off FROM tz WHERE {ts} >= tz.at AND {ts} < tz.until), 0))")
}

fn time_dim(d: Dim, ts: &str) -> Option<String> {
    match d {
        Dim::Weekday => Some(format!(
            "CAST(((CAST({} / 86400000 AS INTEGER) % 7) + 10) % 7 AS TEXT)",
            local(ts)
        )),
        Dim::Hour => Some(format!(
            "CAST(CAST(({} % 86400000) / 3600000 AS INTEGER) AS TEXT)",
            local(ts)
        )),
        _ => None,
    }
}

/// One group's figures.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Group {
    /// The first dimension's value (NULL: not known).
    #[serde(default)]
    pub d1: Option<String>,
    /// The second's ('' without a breakdown).
    #[serde(default)]
    pub d2: Option<String>,
    /// Distinct visitors (visitor queries) or distinct buyers (order queries).
    #[serde(default)]
    pub customers: f64,
    /// Orders (order queries).
    #[serde(default)]
    pub orders: f64,
    /// Net revenue (order queries).
    #[serde(default)]
    pub revenue: f64,
    /// Units (order queries).
    #[serde(default)]
    pub items: f64,
}

fn params<'a>(
    shop: &'a str,
    start_ms: i64,
    end_ms: i64,
    offsets: &'a str,
) -> Vec<(&'static str, Arg)> {
    vec![
        ("shop", shop.into()),
        ("start", start_ms.into()),
        ("end", end_ms.into()),
        ("offsets", offsets.into()),
    ]
}

/// The `tz(at, off)` CTE of the zone's offsets, from the `:offsets` parameter.
pub(super) const TZ: &str = "tz AS MATERIALIZED (SELECT json_extract(value, '$[0]') AS at, \
     json_extract(value, '$[1]') AS until, json_extract(value, '$[2]') AS off \
     FROM json_each(:offsets))";

/// Distinct visitors in `[start_ms, end_ms)` by `dims` (one or two). Product dimensions count
/// the customers who viewed such a product; the others, those who started a visit. By product
/// (alone, or with its category or brand) they come from the product viewers' rollup, else from
/// the raw product views and the visits.
pub fn visitors(
    shop: &str,
    dims: &[Dim],
    start_ms: i64,
    end_ms: i64,
    offsets: &str,
) -> Query<Group> {
    let product = dims.iter().any(|d| d.is_product());
    let expr = |d: Dim| -> String {
        if let Some(t) = time_dim(d, "f.ts") {
            return t;
        }
        match d {
            Dim::Product => "f.product_id".into(),
            Dim::Category => "p.category".into(),
            Dim::Brand => "p.brand".into(),
            Dim::Segment => "m.segment".into(),
            Dim::NewReturning => "CASE WHEN f.seen_before THEN 'returning' ELSE 'new' END".into(),
            other => match other.visit_column() {
                // Visit dimensions of a product view: the customer's latest visit before it.
                Some(c) if product => format!(
                    "(SELECT v.{c} FROM visits v WHERE v.shop = :shop AND \
                     v.customer_id = f.customer_id AND v.ts <= f.ts ORDER BY v.ts DESC LIMIT 1)"
                ),
                Some(c) => format!("f.{c}"),
                None => "NULL".into(),
            },
        }
    };
    // Whether the viewer had visited before: only worked out when asked for.
    let seen = if dims.contains(&Dim::NewReturning) {
        "(SELECT COUNT(*) > 0 FROM visits v WHERE v.shop = :shop AND \
         v.customer_id = e.customer_id AND v.ts < e.ts)"
    } else {
        "0"
    };
    let catalog = dims.iter().any(|d| matches!(d, Dim::Category | Dim::Brand));
    if dims.contains(&Dim::Product) && dims.iter().all(|d| d.is_product()) {
        return product_viewers(shop, dims, start_ms, end_ms, &expr, catalog);
    }
    let source = if product {
        format!(
            "(SELECT e.customer_id, e.ts, e.product_id, {seen} AS seen_before \
             FROM events e INDEXED BY events_by_name_ts \
             WHERE e.shop = :shop AND e.name = 'Product Viewed' AND e.bot = 0 \
             AND e.ts >= :start AND e.ts < :end) f{}",
            if catalog {
                " LEFT JOIN products p ON p.shop = :shop AND p.product_id = f.product_id"
            } else {
                ""
            }
        )
    } else {
        "(SELECT * FROM visits WHERE shop = :shop AND ts >= :start AND ts < :end) f".to_string()
    };
    let seg = if dims.contains(&Dim::Segment) {
        " LEFT JOIN memberships m ON m.shop = :shop AND m.customer_id = f.customer_id \
         AND m.member = 1"
    } else {
        ""
    };
    let d2 = dims.get(1).map_or("''".to_string(), |d| expr(*d));
    let sql = format!(
        "WITH {TZ} SELECT {d1} AS d1, {d2} AS d2, COUNT(DISTINCT f.customer_id) AS customers \
         FROM {source}{seg} GROUP BY 1, 2 ORDER BY customers DESC, d1, d2 LIMIT 500",
        d1 = expr(dims.first().copied().unwrap_or(Dim::Weekday)),
    );
    Query::named(&sql, &params(shop, start_ms, end_ms, offsets))
}

/// Distinct visitors by product (its category and brand beside it: one group per product) from
/// the product viewers' chains (`migrations/0010_distinct_chains.sql`): per product, the rows
/// in the range's slots whose `prev` (the customer's previous view of it) is before the range,
/// one per customer. The shop's product ids are walked on the index (one seek each).
fn product_viewers(
    shop: &str,
    dims: &[Dim],
    start_ms: i64,
    end_ms: i64,
    expr: &dyn Fn(Dim) -> String,
    catalog: bool,
) -> Query<Group> {
    let d2 = dims.get(1).map_or("''".to_string(), |d| expr(*d));
    let sql = format!(
        "WITH RECURSIVE ids(id) AS (SELECT MIN(product_id) FROM product_viewers \
         INDEXED BY product_viewers_first WHERE shop = :shop \
         UNION ALL SELECT (SELECT MIN(v.product_id) FROM product_viewers v \
         INDEXED BY product_viewers_first WHERE v.shop = :shop AND v.product_id > ids.id) \
         FROM ids WHERE ids.id IS NOT NULL), \
         f AS (SELECT ids.id AS product_id, (SELECT COUNT(*) FROM product_viewers v \
         INDEXED BY product_viewers_first WHERE v.shop = :shop AND v.product_id = ids.id \
         AND v.slot >= :lo AND v.slot < :hi AND (v.prev IS NULL OR v.prev < :lo)) AS customers \
         FROM ids WHERE ids.id IS NOT NULL) \
         SELECT {d1} AS d1, {d2} AS d2, f.customers AS customers FROM f{join} \
         WHERE f.customers > 0 ORDER BY customers DESC, d1, d2 LIMIT 500",
        d1 = expr(dims[0]),
        join = if catalog {
            " LEFT JOIN products p ON p.shop = :shop AND p.product_id = f.product_id"
        } else {
            ""
        },
    );
    Query::named(
        &sql,
        &[
            ("shop", shop.into()),
            ("lo", super::rollups::slot_of(start_ms).into()),
            ("hi", super::rollups::slot_of(end_ms).into()),
        ],
    )
}

/// Orders in `[start_ms, end_ms)` by `dims`: distinct buyers, orders, net revenue (refunds off
/// the order they refund) and units. Product dimensions count an order's lines (revenue = the
/// line's share of the order's net revenue).
pub fn orders(shop: &str, dims: &[Dim], start_ms: i64, end_ms: i64, offsets: &str) -> Query<Group> {
    let product = dims.iter().any(|d| d.is_product());
    let expr = |d: Dim| -> String {
        if let Some(t) = time_dim(d, "o.ts") {
            return t;
        }
        match d {
            Dim::Product => "l.product_id".into(),
            Dim::Category => "p.category".into(),
            Dim::Brand => "p.brand".into(),
            Dim::Segment => "m.segment".into(),
            Dim::NewReturning => "CASE WHEN EXISTS (SELECT 1 FROM orders x WHERE x.shop = :shop \
                 AND x.customer_id = o.customer_id AND x.ts < o.ts) THEN 'returning' \
                 ELSE 'new' END"
                .into(),
            other => match other.visit_column() {
                Some(c) => format!(
                    "(SELECT v.{c} FROM visits v WHERE v.shop = :shop AND \
                     v.customer_id = o.customer_id AND v.ts <= o.ts ORDER BY v.ts DESC LIMIT 1)"
                ),
                None => "NULL".into(),
            },
        }
    };
    let (lines, revenue, items) = if product {
        (
            " JOIN order_lines l ON l.shop = :shop AND l.order_id = o.order_id \
             LEFT JOIN products p ON p.shop = :shop AND p.product_id = l.product_id",
            "SUM(CASE WHEN o.total > 0 THEN COALESCE(l.price, 0) * l.quantity * o.net / o.total \
             ELSE 0 END)",
            "SUM(l.quantity)",
        )
    } else {
        ("", "SUM(o.net)", "SUM(o.items)")
    };
    let seg = if dims.contains(&Dim::Segment) {
        " LEFT JOIN memberships m ON m.shop = :shop AND m.customer_id = o.customer_id \
         AND m.member = 1"
    } else {
        ""
    };
    let d2 = dims.get(1).map_or("''".to_string(), |d| expr(*d));
    let sql = format!(
        "WITH {TZ}, o AS (SELECT o.order_id, o.customer_id, o.ts, o.items, o.total, \
         o.total - COALESCE((SELECT SUM(r.amount) FROM refunds r WHERE r.shop = o.shop \
         AND r.order_id = o.order_id), 0) AS net FROM orders o WHERE o.shop = :shop \
         AND o.ts >= :start AND o.ts < :end) \
         SELECT {d1} AS d1, {d2} AS d2, COUNT(DISTINCT o.customer_id) AS customers, \
         COUNT(DISTINCT o.order_id) AS orders, {revenue} AS revenue, {items} AS items \
         FROM o{lines}{seg} GROUP BY 1, 2 ORDER BY revenue DESC, d1, d2 LIMIT 500",
        d1 = expr(dims.first().copied().unwrap_or(Dim::Weekday)),
    );
    Query::named(&sql, &params(shop, start_ms, end_ms, offsets))
}
