//! Bulk load for the dashboard benchmark: N synthetic shop events plus the CDNOW orders, folded
//! by the Worker's own fold (`affinity_worker::customers::fold`, the statements a customer
//! object would send) and written straight into a local D1 database file with SQLite, so the
//! customer objects (a few hundred events/s through `wrangler dev`) are bypassed.
//!
//! `cargo bench -p affinity-worker --bench dashboard_load -- --db FILE --shop ID --events N
//! [--cdnow FILE] [--days 90] [--now MS]`
//!
//! The history is deterministic (a fixed-seed generator): customers arrive over `--days` days
//! and come back in sessions of page views, product views (500 products, 20 categories, 12
//! brands), cart adds, checkouts and orders (about one session in twelve), with a refund for one
//! order in twenty; each session has a country, region, device, referrer and UTM source.

use std::collections::BTreeMap;
use std::time::Instant;

use affinity::event::{Event, Kind};
use affinity::json::Value;
use affinity::profile::Profile;
use affinity_worker::customers::{fold, Mirror};
use affinity_worker::platform::store::{Arg, Stmt};
use rusqlite::Connection;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;
const COUNTRIES: [(&str, &str); 6] = [
    ("US", "CA"),
    ("US", "NY"),
    ("DE", "BE"),
    ("IN", "MH"),
    ("GB", "ENG"),
    ("FR", "IDF"),
];
const DEVICES: [&str; 3] = [
    "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
    "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) Safari/604.1",
];
const SOURCES: [&str; 5] = ["google", "newsletter", "instagram", "", ""];
const REFERRERS: [&str; 4] = [
    "https://www.google.com/",
    "https://www.instagram.com/",
    "",
    "https://news.example.org/",
];

fn obj(pairs: &[(&str, Value)]) -> Value {
    let mut v = Value::object();
    for (k, x) in pairs {
        v.set(k, x.clone());
    }
    v
}

fn product(p: u64) -> Value {
    obj(&[
        ("product_id", format!("sku-{p}").as_str().into()),
        ("name", format!("Product {p}").as_str().into()),
        ("price", (5.0 + (p % 97) as f64 * 1.5).into()),
        ("category", format!("Category {}", p % 20).as_str().into()),
        ("brand", format!("Brand {}", p % 12).as_str().into()),
    ])
}

struct Gen {
    rng: Rng,
    n: u64,
}

impl Gen {
    fn event(
        &mut self,
        customer: &str,
        kind: Kind,
        name: &str,
        at: i64,
        props: Value,
        ctx: &Value,
    ) -> Event {
        self.n += 1;
        Event {
            kind,
            name: Some(name.to_string()),
            message_id: format!("b{}", self.n),
            anonymous_id: Some(customer.to_string()),
            user_id: None,
            previous_id: None,
            timestamp_ms: at,
            properties: props,
            traits: Value::object(),
            context: ctx.clone(),
            extra: Vec::new(),
        }
    }

    /// One session of `customer` starting at `at`: its events.
    fn session(&mut self, customer: &str, at: i64, orders: &mut u64) -> Vec<Event> {
        let r = &mut self.rng;
        let (country, region) = *r.pick(&COUNTRIES);
        let mut campaign = Value::object();
        let source = *r.pick(&SOURCES);
        if !source.is_empty() {
            campaign.set("source", source.into());
            campaign.set("name", format!("campaign-{}", r.below(6)).as_str().into());
        }
        let ctx = obj(&[
            ("userAgent", (*r.pick(&DEVICES)).into()),
            (
                "location",
                obj(&[("country", country.into()), ("region", region.into())]),
            ),
            ("page", obj(&[("referrer", (*r.pick(&REFERRERS)).into())])),
            ("campaign", campaign),
        ]);
        let mut t = at;
        let mut out = vec![self.event(
            customer,
            Kind::Page,
            "Home",
            t,
            obj(&[("path", "/".into())]),
            &ctx,
        )];
        let views = 1 + self.rng.below(6);
        let mut seen = Vec::new();
        for _ in 0..views {
            t += (1 + self.rng.below(4) as i64) * MIN;
            // Popularity is skewed: a few products get most views.
            let p = self.rng.below(500).min(self.rng.below(500));
            seen.push(p);
            out.push(self.event(customer, Kind::Track, "Product Viewed", t, product(p), &ctx));
        }
        if self.rng.below(4) == 0 {
            t += MIN;
            let p = seen[0];
            out.push(self.event(customer, Kind::Track, "Product Added", t, product(p), &ctx));
            if self.rng.below(2) == 0 {
                t += 2 * MIN;
                out.push(self.event(
                    customer,
                    Kind::Track,
                    "Checkout Started",
                    t,
                    Value::object(),
                    &ctx,
                ));
                if self.rng.below(3) > 0 {
                    t += 2 * MIN;
                    *orders += 1;
                    let id = format!("bo{}", *orders);
                    let mut lines = Vec::new();
                    let mut revenue = 0.0;
                    seen.sort_unstable();
                    seen.dedup();
                    for p in seen.iter().take(3) {
                        let q = 1 + self.rng.below(2);
                        revenue += (5.0 + (p % 97) as f64 * 1.5) * q as f64;
                        let mut l = product(*p);
                        l.set("quantity", (q as f64).into());
                        lines.push(l);
                    }
                    let props = obj(&[
                        ("order_id", id.as_str().into()),
                        ("revenue", revenue.into()),
                        ("products", Value::Array(lines)),
                    ]);
                    out.push(self.event(customer, Kind::Track, "Order Completed", t, props, &ctx));
                    if self.rng.below(20) == 0 {
                        let props = obj(&[
                            ("order_id", id.as_str().into()),
                            ("total", (revenue / 2.0).into()),
                        ]);
                        out.push(self.event(
                            customer,
                            Kind::Track,
                            "Order Refunded",
                            t + 2 * DAY,
                            props,
                            &ctx,
                        ));
                    }
                }
            }
        }
        out
    }
}

fn bind(args: &[Arg]) -> Vec<rusqlite::types::Value> {
    args.iter()
        .map(|a| match a {
            Arg::Null => rusqlite::types::Value::Null,
            Arg::Num(n) if n.fract() == 0.0 && n.abs() < 9e15 => {
                rusqlite::types::Value::Integer(*n as i64)
            }
            Arg::Num(n) => rusqlite::types::Value::Real(*n),
            Arg::Text(t) => rusqlite::types::Value::Text(t.clone()),
        })
        .collect()
}

struct Writer<'a> {
    db: &'a Connection,
    pending: usize,
    written: u64,
}

impl Writer<'_> {
    fn run(&mut self, stmts: &[Stmt]) {
        for s in stmts {
            let mut st = self
                .db
                .prepare_cached(&s.sql)
                .unwrap_or_else(|e| panic!("{e}: {}", s.sql));
            st.execute(rusqlite::params_from_iter(bind(&s.args)))
                .unwrap_or_else(|e| panic!("{e}: {}", s.sql));
            self.pending += 1;
            self.written += 1;
        }
        if self.pending > 200_000 {
            self.db
                .execute_batch("COMMIT; BEGIN")
                .unwrap_or_else(|e| panic!("{e}"));
            self.pending = 0;
        }
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn fold_into(
    w: &mut Writer<'_>,
    shop: &str,
    customer: &str,
    profile: &mut Profile,
    version: &mut i64,
    events: Vec<Event>,
    now: i64,
) {
    *version += events.len() as i64;
    let f = fold(
        shop,
        customer,
        profile,
        events,
        Mirror {
            version: *version,
            was_bot: false,
            count_automated: true,
            now_ms: now,
        },
    );
    w.run(&f.statements);
}

/// The CPU time this thread has run, ns (Linux's schedstat; 0 elsewhere): on a shared machine
/// a query's CPU time moves far less than its wall time, which includes waiting for a core.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Times every dashboard and explore query natively on the loaded file (SQLite, no Worker):
/// median wall and CPU time of `runs` executions each, printed as JSON lines.
fn time_queries(db: &Connection, shop: &str, now: i64, runs: usize) {
    use affinity_worker::dashboard::period::{Grain, Period, Zone};
    use affinity_worker::platform::store::{dashboard as q, explore as ex, Query};
    let zone = Zone::or_utc("Europe/Berlin");
    let p30 = Period::last_days(&zone, now, 30);
    let (start, end) = p30.range(&zone);
    let days: Vec<(i64, i64)> = p30
        .buckets(&zone, Grain::Day)
        .iter()
        .map(|b| (b.start_ms, b.end_ms))
        .collect();
    let offsets = serde_json::to_string(&zone.offsets(start, end)).unwrap_or_default();
    let p90 = Period::last_days(&zone, now, 90);
    let (start90, end90) = p90.range(&zone);
    let weeks: Vec<(i64, i64)> = p90
        .buckets(&zone, Grain::Week)
        .iter()
        .map(|b| (b.start_ms, b.end_ms))
        .collect();
    let offsets90 = serde_json::to_string(&zone.offsets(start90, end90)).unwrap_or_default();
    let all_months = zone.months(850_000_000_000, now);
    let fixed_months = Zone::or_utc("+01:00").months(850_000_000_000, now);
    let ids: Vec<String> = (0..50).map(|p| format!("sku-{p}")).collect();
    use affinity_worker::platform::store::explore::Dim;
    let list: Vec<(&str, Stmt)> = vec![
        (
            "slot_totals, 30 days by day",
            q::slot_totals(shop, &days).stmt,
        ),
        (
            "slot_totals, period and previous",
            q::slot_totals(shop, &[(start, end), (start - 30 * DAY, start)]).stmt,
        ),
        (
            "slot_totals, 90 days by week",
            q::slot_totals(shop, &weeks).stmt,
        ),
        (
            "slot_totals, 90 days and the 90 before",
            q::slot_totals(shop, &[p90.range(&zone), p90.previous().range(&zone)]).stmt,
        ),
        ("freshness", q::freshness(shop).stmt),
        ("top_products", q::top_products(shop, 8).stmt),
        ("latest_orders", q::latest_orders(shop, 8).stmt),
        (
            "funnel, 30 days",
            q::funnel(shop, start, end, DAY, None).stmt,
        ),
        ("retention", q::retention(shop, &all_months).stmt),
        (
            "retention, a fixed-offset zone",
            q::retention(shop, &fixed_months).stmt,
        ),
        (
            "new_vs_returning",
            q::new_vs_returning(shop, start, end).stmt,
        ),
        ("rfm_counts", q::rfm_counts(shop, now).stmt),
        ("top_customers", q::top_customers(shop, 10).stmt),
        ("customers list", q::customers(shop, "", 100).stmt),
        ("product_stats", q::product_stats(shop, start, end, 50).stmt),
        ("bought_with", q::bought_with(shop, &ids).stmt),
        (
            "explore visitors by country × device",
            ex::visitors(shop, &[Dim::Country, Dim::Device], start, end, &offsets).stmt,
        ),
        (
            "explore visitors by product",
            ex::visitors(shop, &[Dim::Product], start, end, &offsets).stmt,
        ),
        (
            "explore visitors by product, 90 days",
            ex::visitors(shop, &[Dim::Product], start90, end90, &offsets90).stmt,
        ),
        (
            "explore visitors by category, 90 days",
            ex::visitors(shop, &[Dim::Category], start90, end90, &offsets90).stmt,
        ),
        (
            "explore orders by weekday",
            ex::orders(shop, &[Dim::Weekday], start, end, &offsets).stmt,
        ),
        (
            "explore orders by category",
            ex::orders(shop, &[Dim::Category], start, end, &offsets).stmt,
        ),
        (
            "explore orders by utm_source",
            ex::orders(shop, &[Dim::UtmSource], start, end, &offsets).stmt,
        ),
    ];
    let _ = Query::<()>::from(Stmt::plain("SELECT 1"));
    let explain = std::env::var("EXPLAIN").ok();
    for (name, stmt) in list {
        if explain.as_deref().is_some_and(|e| name.contains(e)) {
            let mut st = db
                .prepare(&format!("EXPLAIN QUERY PLAN {}", stmt.sql))
                .unwrap_or_else(|e| panic!("{e}"));
            let mut r = st
                .query(rusqlite::params_from_iter(bind(&stmt.args)))
                .unwrap_or_else(|e| panic!("{e}"));
            while let Some(row) = r.next().unwrap_or_else(|e| panic!("{e}")) {
                let detail: String = row.get(3).unwrap_or_default();
                println!("  plan: {detail}");
            }
        }
        let mut times = Vec::new();
        let mut cpu = Vec::new();
        let mut rows = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let c = thread_cpu_ns();
            let mut st = db
                .prepare(&stmt.sql)
                .unwrap_or_else(|e| panic!("{e}: {}", stmt.sql));
            let mut r = st
                .query(rusqlite::params_from_iter(bind(&stmt.args)))
                .unwrap_or_else(|e| panic!("{e}"));
            rows = 0;
            while r.next().unwrap_or_else(|e| panic!("{e}")).is_some() {
                rows += 1;
            }
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            cpu.push(thread_cpu_ns().saturating_sub(c) as f64 / 1e6);
        }
        times.sort_by(f64::total_cmp);
        cpu.sort_by(f64::total_cmp);
        println!(
            "{{\"query\":\"{name}\",\"rows\":{rows},\"native_ms\":{:.1},\"cpu_ms\":{:.1}}}",
            times[times.len() / 2],
            cpu[cpu.len() / 2]
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = arg(&args, "--db") else {
        eprintln!("usage: --db FILE --shop ID --events N [--cdnow FILE] [--days 90] [--now MS]");
        return;
    };
    let shop = arg(&args, "--shop").unwrap_or_else(|| "bench".into());
    let target: u64 = arg(&args, "--events")
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let days: i64 = arg(&args, "--days")
        .and_then(|s| s.parse().ok())
        .unwrap_or(90);
    let now: i64 = arg(&args, "--now")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64)
        });
    let db = Connection::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    if args.iter().any(|a| a == "--time-queries") {
        time_queries(&db, &shop, now, 5);
        return;
    }
    db.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; BEGIN")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut w = Writer {
        db: &db,
        pending: 0,
        written: 0,
    };
    let started = Instant::now();
    let mut g = Gen {
        rng: Rng(0x9e37_79b9_7f4a_7c15),
        n: 0,
    };
    let (mut events, mut orders, mut c) = (0u64, 0u64, 0u64);
    let start = now - days * DAY;
    while events < target {
        c += 1;
        let customer = format!("bc{c}");
        let mut profile = Profile::new(&customer);
        let mut version = 0;
        // First visit somewhere in the window, then up to a few more, days apart.
        let mut t = start + g.rng.below((days * DAY) as u64) as i64;
        let visits = 1 + g.rng.below(3) * g.rng.below(3);
        for _ in 0..visits {
            if t >= now || events >= target {
                break;
            }
            let s = g.session(&customer, t, &mut orders);
            events += s.len() as u64;
            fold_into(&mut w, &shop, &customer, &mut profile, &mut version, s, now);
            t += (1 + g.rng.below(20) as i64) * DAY + g.rng.below(DAY as u64) as i64;
        }
    }
    let synthetic = started.elapsed();
    // CDNOW: 69,659 purchases (1997–98) as orders of 23,570 customers.
    let mut cdnow_orders = 0;
    if let Some(file) = arg(&args, "--cdnow") {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut by: BTreeMap<String, Vec<Event>> = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let f: Vec<&str> = line.split_whitespace().collect();
            let [id, date, cds, dollars] = f[..] else {
                continue;
            };
            let (Ok(date), Ok(cds), Ok(dollars)) = (
                date.parse::<i64>(),
                cds.parse::<f64>(),
                dollars.parse::<f64>(),
            ) else {
                continue;
            };
            let (y, m, d) = (date / 10_000, date / 100 % 100, date % 100);
            let at = affinity::time::parse_rfc3339(&format!("{y:04}-{m:02}-{d:02}T12:00:00Z"))
                .unwrap_or(0)
                + i as i64;
            let customer = format!("cdnow-{id}");
            let mut line = product(900 + (cds as u64 % 50));
            line.set("quantity", cds.into());
            let props = obj(&[
                ("order_id", format!("cdnow-{i}").as_str().into()),
                ("revenue", dollars.into()),
                ("products", Value::Array(vec![line])),
            ]);
            let e = g.event(
                &customer,
                Kind::Track,
                "Order Completed",
                at,
                props,
                &Value::object(),
            );
            by.entry(customer).or_default().push(e);
            cdnow_orders += 1;
        }
        for (customer, list) in by {
            let mut profile = Profile::new(&customer);
            let mut version = 0;
            fold_into(
                &mut w,
                &shop,
                &customer,
                &mut profile,
                &mut version,
                list,
                now,
            );
        }
    }
    db.execute_batch("COMMIT; ANALYZE; PRAGMA journal_mode = DELETE")
        .unwrap_or_else(|e| panic!("{e}"));
    let total = started.elapsed();
    println!(
        "{{\"events\":{events},\"customers\":{c},\"orders\":{orders},\"cdnow_orders\":{cdnow_orders},\"statements\":{},\"synthetic_s\":{:.1},\"total_s\":{:.1}}}",
        w.written,
        synthetic.as_secs_f64(),
        total.as_secs_f64()
    );
}
