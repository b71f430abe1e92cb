//! The dashboard's figures, executed: a generated shop history (customers, sessions, orders,
//! refunds, a bot) is folded by the Worker's own fold into D1 statements on SQLite, and every
//! figure the dashboard reads is compared with the same figure counted by a plain loop over the
//! generated events in this file, with local days worked out by hand (+05:30, no DST).
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};

use affinity::profile::Profile;
use affinity_worker::customers::{fold, Mirror};
use affinity_worker::dashboard::period::{Grain, Period, Zone};
use affinity_worker::platform::store::dashboard as sql;
use rusqlite::Connection;

mod support;
use support::{all, d1, event, exec_all, first};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
/// 2026-10-01T00:00:00Z.
const START: i64 = 1_790_812_800_000;
/// India: +05:30 all year.
const IST: i64 = 5 * HOUR + 30 * MIN;

/// An order: id, revenue, lines (product, price, quantity).
type OrderOf = (String, f64, Vec<(String, f64, u32)>);
/// A refund: order id, amount, the lines it names (product, amount).
type RefundOf = (String, f64, Vec<(String, f64)>);

/// One generated event, as the test knows it.
#[derive(Debug, Clone)]
struct Ev {
    customer: String,
    name: &'static str,
    ts: i64,
    product: Option<(String, f64)>,
    order: Option<OrderOf>,
    refund: Option<RefundOf>,
    session_start: bool,
    bot: bool,
}

struct Rng(u64);
impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn price(p: usize) -> f64 {
    10.0 + (p as f64) * 7.5
}

/// The history: 40 customers over about 70 days, each with 1–4 sessions of views, adds,
/// checkouts and orders; some orders refunded (whole, or one line); two orders at 23:30 and
/// 00:15 shop time; one bot.
fn history() -> Vec<Ev> {
    let mut r = Rng(7);
    let mut out = Vec::new();
    let mut order_n = 0;
    for c in 0..40 {
        let customer = format!("c{c}");
        let mut t = START + r.next(60) as i64 * DAY + r.next(24 * 60) as i64 * MIN;
        for _ in 0..1 + r.next(4) {
            let mut first = true;
            let mut ev = |name: &'static str, t: i64| Ev {
                customer: customer.clone(),
                name,
                ts: t,
                product: None,
                order: None,
                refund: None,
                session_start: std::mem::take(&mut first),
                bot: false,
            };
            out.push(ev("page", t));
            let mut viewed = Vec::new();
            for _ in 0..r.next(4) {
                t += (1 + r.next(10) as i64) * MIN;
                let p = r.next(12) as usize;
                viewed.push(p);
                out.push(Ev {
                    product: Some((format!("p{p}"), price(p))),
                    ..ev("Product Viewed", t)
                });
            }
            if !viewed.is_empty() && r.next(3) > 0 {
                t += (1 + r.next(20) as i64) * MIN;
                out.push(Ev {
                    product: Some((format!("p{}", viewed[0]), price(viewed[0]))),
                    ..ev("Product Added", t)
                });
                if r.next(4) > 0 {
                    t += (1 + r.next(20) as i64) * MIN;
                    out.push(ev("Checkout Started", t));
                    if r.next(4) > 0 {
                        t += (1 + r.next(20) as i64) * MIN;
                        order_n += 1;
                        let id = format!("o{order_n}");
                        let mut lines: Vec<(String, f64, u32)> = Vec::new();
                        let mut seen = BTreeSet::new();
                        for p in &viewed {
                            if seen.insert(*p) {
                                lines.push((format!("p{p}"), price(*p), 1 + r.next(3) as u32));
                            }
                        }
                        let total: f64 = lines.iter().map(|(_, p, q)| p * f64::from(*q)).sum();
                        out.push(Ev {
                            order: Some((id.clone(), total, lines.clone())),
                            ..ev("Order Completed", t)
                        });
                        match r.next(5) {
                            0 => out.push(Ev {
                                refund: Some((id, total, Vec::new())),
                                ..ev("Order Refunded", t + 3 * DAY)
                            }),
                            1 => {
                                let (p, pr, _) = lines[0].clone();
                                out.push(Ev {
                                    refund: Some((id, pr, vec![(p, pr)])),
                                    ..ev("Order Refunded", t + 26 * HOUR)
                                });
                            }
                            _ => {}
                        }
                    }
                }
            }
            t += (2 + r.next(24 * 12) as i64) * HOUR;
        }
    }
    // A loyal customer orders in October, November and December.
    for (k, d) in [3i64, 35, 66].into_iter().enumerate() {
        out.push(Ev {
            customer: "loyal".into(),
            name: "Order Completed",
            ts: START + d * DAY + 9 * HOUR,
            product: None,
            order: Some((format!("loyal{k}"), 40.0, vec![("p2".into(), 40.0, 1)])),
            refund: None,
            session_start: true,
            bot: false,
        });
    }
    // Time-zone edges: 2026-11-20 23:30 and 2026-11-21 00:15 in India, and 2026-11-01 00:15
    // (still October in UTC).
    let local = |d: i64, h: i64, m: i64| START + d * DAY + h * HOUR + m * MIN - IST;
    for (c, id, at) in [
        ("edge1", "late", local(50, 23, 30)),
        ("edge2", "early", local(51, 0, 15)),
        ("edge3", "november", local(31, 0, 15)),
    ] {
        out.push(Ev {
            customer: c.into(),
            name: "Order Completed",
            ts: at,
            product: None,
            order: Some((id.into(), 99.0, vec![("p1".into(), 99.0, 1)])),
            refund: None,
            session_start: true,
            bot: false,
        });
    }
    out.push(Ev {
        customer: "bot".into(),
        name: "Product Viewed",
        ts: START + 5 * DAY,
        product: Some(("p1".into(), price(1))),
        order: None,
        refund: None,
        session_start: true,
        bot: true,
    });
    out
}

/// Each customer's country (by number: IN, DE, US) and device (even: an iPhone, odd: desktop).
fn country_of(customer: &str) -> &'static str {
    let n: usize = customer
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or(0);
    ["IN", "DE", "US"][n % 3]
}

fn device_of(customer: &str) -> &'static str {
    let n: usize = customer
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or(0);
    if n % 2 == 0 {
        "mobile"
    } else {
        "desktop"
    }
}

fn category_of(product: &str) -> String {
    let n: usize = product.trim_start_matches('p').parse().unwrap_or(0);
    format!("Cat{}", n % 3)
}

fn to_json(e: &Ev, i: usize) -> String {
    let ts = affinity::time::format_rfc3339(e.ts);
    let agent = if device_of(&e.customer) == "mobile" {
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"
    } else {
        "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"
    };
    let ua = if e.bot {
        r#","context":{"userAgent":"Googlebot/2.1"}"#.to_string()
    } else {
        format!(
            r#","context":{{"userAgent":"{agent}","location":{{"country":"{}"}},"page":{{"referrer":"https://www.example.com/x"}}}}"#,
            country_of(&e.customer)
        )
    };
    let head = format!(
        r#""anonymousId":"{}","messageId":"m{i}","timestamp":"{ts}"{ua}"#,
        e.customer
    );
    if e.name == "page" {
        return format!(r#"{{"type":"page","name":"Home",{head}}}"#);
    }
    let props = if let Some((id, total, lines)) = &e.order {
        let lines: Vec<String> = lines
            .iter()
            .map(|(p, pr, q)| format!(r#"{{"product_id":"{p}","price":{pr},"quantity":{q}}}"#))
            .collect();
        format!(
            r#"{{"order_id":"{id}","revenue":{total},"products":[{}]}}"#,
            lines.join(",")
        )
    } else if let Some((id, amount, lines)) = &e.refund {
        let lines: Vec<String> = lines
            .iter()
            .map(|(p, pr)| format!(r#"{{"product_id":"{p}","price":{pr},"quantity":1}}"#))
            .collect();
        format!(
            r#"{{"order_id":"{id}","total":{amount},"products":[{}]}}"#,
            lines.join(",")
        )
    } else if let Some((p, pr)) = &e.product {
        format!(
            r#"{{"product_id":"{p}","name":"Name {p}","price":{pr},"category":"{}"}}"#,
            category_of(p)
        )
    } else {
        "{}".into()
    };
    format!(
        r#"{{"type":"track","event":"{}",{head},"properties":{props}}}"#,
        e.name
    )
}

/// Folds every customer's events (in two deliveries, to add across folds) into a database.
fn load(evs: &[Ev]) -> Connection {
    load_in(evs, false)
}

/// [`load`], with each customer's later half delivered first when `late_first` (as a history
/// import or a retried queue delivers old events after newer ones).
fn load_in(evs: &[Ev], late_first: bool) -> Connection {
    let db = d1();
    let mut by: BTreeMap<&str, Vec<(usize, &Ev)>> = BTreeMap::new();
    for (i, e) in evs.iter().enumerate() {
        by.entry(&e.customer).or_default().push((i, e));
    }
    for (c, mut list) in by {
        list.sort_by_key(|(_, e)| e.ts);
        let mut profile = Profile::new(c);
        let half = list.len() / 2;
        let mut parts = [&list[..half], &list[half..]];
        if late_first {
            parts.reverse();
        }
        for (n, part) in parts.into_iter().enumerate() {
            let events = part.iter().map(|(i, e)| event(&to_json(e, *i))).collect();
            let f = fold(
                "s1",
                c,
                &mut profile,
                events,
                Mirror {
                    version: n as i64 + 1,
                    was_bot: false,
                    count_automated: true,
                    now_ms: START + 100 * DAY + n as i64,
                },
            );
            exec_all(&db, &f.statements);
        }
    }
    db
}

/// Marks each event that starts a session: a customer's first, or one more than 30 minutes
/// after their previous event.
fn mark_sessions(evs: &mut [Ev]) {
    let mut order: Vec<usize> = (0..evs.len()).collect();
    order.sort_by_key(|i| (evs[*i].customer.clone(), evs[*i].ts));
    let mut prev: Option<(String, i64)> = None;
    for i in order {
        let e = &mut evs[i];
        e.session_start = match &prev {
            Some((c, t)) if *c == e.customer => e.ts - t > 30 * MIN,
            _ => true,
        };
        prev = Some((e.customer.clone(), e.ts));
    }
}

fn ist_day(ts: i64) -> i64 {
    (ts + IST).div_euclid(DAY)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn daily_totals_in_the_shop_time_zone() {
    let mut evs = history();
    mark_sessions(&mut evs);
    let db = load(&evs);
    let zone = Zone::new("Asia/Kolkata").unwrap_or_else(|e| panic!("{e}"));
    let first_day = "2026-10-01".parse().unwrap_or_else(|e| panic!("{e:?}"));
    let last_day = "2026-12-20".parse().unwrap_or_else(|e| panic!("{e:?}"));
    let period = Period {
        from: first_day,
        to: last_day,
    };
    let buckets = period.buckets(&zone, Grain::Day);
    let ranges: Vec<(i64, i64)> = buckets.iter().map(|b| (b.start_ms, b.end_ms)).collect();
    let rows = all(&db, &sql::slot_totals("s1", &ranges));
    assert_eq!(rows.len(), buckets.len());
    let day0 = ist_day(START); // 2026-10-01 in India
    let mut seen_edge = 0;
    for (i, row) in rows.iter().enumerate() {
        let d = day0 + i as i64;
        let on = |e: &&Ev| !e.bot && ist_day(e.ts) == d;
        let day: Vec<&Ev> = evs.iter().filter(on).collect();
        let visitors: BTreeSet<&str> = day.iter().map(|e| e.customer.as_str()).collect();
        let buyers: BTreeSet<&str> = day
            .iter()
            .filter(|e| e.order.is_some())
            .map(|e| e.customer.as_str())
            .collect();
        let revenue: f64 = day
            .iter()
            .filter_map(|e| e.order.as_ref())
            .map(|o| o.1)
            .sum();
        let refunded: f64 = day
            .iter()
            .filter_map(|e| e.refund.as_ref())
            .map(|r| r.1)
            .sum();
        let want = [
            day.len() as f64,
            day.iter().filter(|e| e.name == "page").count() as f64,
            day.iter().filter(|e| e.name == "Product Viewed").count() as f64,
            day.iter().filter(|e| e.session_start).count() as f64,
            day.iter().filter(|e| e.order.is_some()).count() as f64,
            visitors.len() as f64,
            buyers.len() as f64,
            day.iter().filter(|e| e.refund.is_some()).count() as f64,
        ];
        let got = [
            row.events,
            row.page_views,
            row.product_views,
            row.sessions,
            row.orders,
            row.visitors,
            row.buyers,
            row.refunds,
        ];
        assert_eq!(got, want, "day {}", buckets[i].label);
        assert!(
            close(row.revenue, revenue) && close(row.refunded, refunded),
            "{}",
            buckets[i].label
        );
        if buckets[i].label == "2026-11-20" || buckets[i].label == "2026-11-21" {
            assert!(day.iter().any(|e| e.customer.starts_with("edge")));
            assert!(row.orders >= 1.0);
            seen_edge += 1;
        }
    }
    assert_eq!(seen_edge, 2);
    // The 23:30 order is on the 20th, not the 21st (its UTC day).
    let late = evs
        .iter()
        .find(|e| e.customer == "edge1")
        .map(|e| e.ts)
        .unwrap_or(0);
    assert_eq!(affinity::time::format_date(late), "2026-11-20");
    assert_eq!(zone.date_of(late).to_string(), "2026-11-20");
    let early = evs
        .iter()
        .find(|e| e.customer == "edge2")
        .map(|e| e.ts)
        .unwrap_or(0);
    assert_eq!(
        affinity::time::format_date(early),
        "2026-11-20",
        "UTC puts both on the 20th"
    );
    assert_eq!(zone.date_of(early).to_string(), "2026-11-21");
    // Weeks and months add up to the same period total, visitors aside (distinct per bucket).
    let whole = first(&db, &sql::slot_totals("s1", &[period.range(&zone)])).unwrap_or_default();
    for grain in [Grain::Week, Grain::Month] {
        let b: Vec<(i64, i64)> = period
            .buckets(&zone, grain)
            .iter()
            .map(|b| (b.start_ms, b.end_ms))
            .collect();
        let rows = all(&db, &sql::slot_totals("s1", &b));
        let orders: f64 = rows.iter().map(|r| r.orders).sum();
        assert_eq!(orders, whole.orders);
    }
    // Distinct visitors of each week and month, by a plain loop over the events.
    for grain in [Grain::Week, Grain::Month] {
        let buckets = period.buckets(&zone, grain);
        let b: Vec<(i64, i64)> = buckets.iter().map(|b| (b.start_ms, b.end_ms)).collect();
        let rows = all(&db, &sql::slot_totals("s1", &b));
        for (row, (lo, hi)) in rows.iter().zip(&b) {
            let want: BTreeSet<&str> = evs
                .iter()
                .filter(|e| !e.bot && e.ts >= *lo && e.ts < *hi)
                .map(|e| e.customer.as_str())
                .collect();
            assert_eq!(row.visitors, want.len() as f64, "{grain:?} from {lo}");
        }
    }
    let all_visitors: BTreeSet<&str> = evs
        .iter()
        .filter(|e| !e.bot)
        .map(|e| e.customer.as_str())
        .collect();
    assert_eq!(whole.visitors, all_visitors.len() as f64);
    let fresh = first(&db, &sql::freshness("s1")).unwrap_or_default();
    assert_eq!(fresh.events, evs.len() as f64, "every event, bots too");
    assert_eq!(fresh.last_received, (START + 100 * DAY + 1) as f64);
}

#[test]
fn funnel_retention_rfm_and_products() {
    let evs = history();
    let db = load(&evs);
    let real: Vec<&Ev> = evs.iter().filter(|e| !e.bot).collect();
    let (start, end) = (START + 10 * DAY, START + 40 * DAY);
    // Funnel with a one-day window, by a plain walk over each customer's events.
    let mut want = [0.0; 4];
    let customers: BTreeSet<&str> = real.iter().map(|e| e.customer.as_str()).collect();
    for c in &customers {
        let mine: Vec<&&Ev> = real.iter().filter(|e| e.customer == *c).collect();
        let Some(t0) = mine
            .iter()
            .filter(|e| e.name == "Product Viewed" && e.ts >= start && e.ts < end)
            .map(|e| e.ts)
            .min()
        else {
            continue;
        };
        want[0] += 1.0;
        let mut prev = t0;
        for (k, step) in ["Product Added", "Checkout Started", "Order Completed"]
            .iter()
            .enumerate()
        {
            match mine
                .iter()
                .filter(|e| e.name == *step && e.ts >= prev && e.ts <= t0 + DAY)
                .map(|e| e.ts)
                .min()
            {
                Some(t) => {
                    want[k + 1] += 1.0;
                    prev = t;
                }
                None => break,
            }
        }
    }
    let f = first(&db, &sql::funnel("s1", start, end, DAY, None)).unwrap_or_default();
    assert_eq!([f.viewed, f.added, f.checkout, f.ordered], want);
    assert!(
        want[0] > 5.0 && want[3] > 0.0,
        "the history exercises the funnel: {want:?}"
    );
    let none = first(&db, &sql::funnel("s1", start, end, DAY, Some("nobody"))).unwrap_or_default();
    assert_eq!(none.viewed, 0.0);

    // Net revenue per order (refunds come off the order they refund).
    let mut net: BTreeMap<String, (String, i64, f64)> = BTreeMap::new();
    for e in &real {
        if let Some((id, total, _)) = &e.order {
            net.insert(id.clone(), (e.customer.clone(), e.ts, *total));
        }
    }
    for e in &real {
        if let Some((id, amount, _)) = &e.refund {
            if let Some(o) = net.get_mut(id) {
                o.2 -= amount;
            }
        }
    }
    // Retention: first-order month (India) × months since, by hand.
    let zone = Zone::new("Asia/Kolkata").unwrap_or_else(|e| panic!("{e}"));
    let span = first(&db, &sql::order_span("s1")).unwrap_or_default();
    let months = zone.months(
        span.first.unwrap_or(0.0) as i64,
        span.last.unwrap_or(0.0) as i64,
    );
    let month_of = |ts: i64| {
        let s = affinity::time::format_date(ts + IST);
        let (y, m) = (
            s[..4].parse::<i64>().unwrap_or(0),
            s[5..7].parse::<i64>().unwrap_or(0),
        );
        y * 12 + m - 1
    };
    let mut cells: BTreeMap<(i64, i64), (BTreeSet<String>, f64)> = BTreeMap::new();
    let mut firsts: BTreeMap<&str, i64> = BTreeMap::new();
    for (c, ts, _) in net.values() {
        let m = month_of(*ts);
        let f = firsts.entry(c).or_insert(m);
        *f = (*f).min(m);
    }
    for (c, ts, n) in net.values() {
        let m = month_of(*ts);
        let cell = cells
            .entry((firsts[c.as_str()], m - firsts[c.as_str()]))
            .or_default();
        cell.0.insert(c.clone());
        cell.1 += n;
    }
    let edge = net["november"].1;
    assert_eq!(affinity::time::format_date(edge), "2026-10-31");
    assert_eq!(month_of(edge), 2026 * 12 + 10, "November in India");
    assert_eq!(firsts["edge3"], 2026 * 12 + 10);
    let got = all(&db, &sql::retention("s1", &months));
    assert_eq!(got.len(), cells.len());
    assert!(
        cells.keys().any(|k| k.1 > 0),
        "some customers come back in a later month"
    );
    for g in &got {
        let (cs, rev) = &cells[&(g.cohort as i64, g.age as i64)];
        assert_eq!(g.customers, cs.len() as f64);
        assert!(close(g.revenue, *rev));
    }
    // New vs returning in [start, end); a period without orders reads as zeros (SUM over no
    // rows is NULL: the customers and retention pages answered 500 for such a shop).
    assert_eq!(
        first(&db, &sql::new_vs_returning("s1", 0, 1)),
        Some(sql::NewReturning::default())
    );
    let nr = first(&db, &sql::new_vs_returning("s1", start, end)).unwrap_or_default();
    let mut first_ts: BTreeMap<&str, i64> = BTreeMap::new();
    for (c, ts, _) in net.values() {
        let f = first_ts.entry(c).or_insert(*ts);
        *f = (*f).min(*ts);
    }
    let (mut newc, mut retc, mut first_rev, mut repeat_rev) =
        (BTreeSet::new(), BTreeSet::new(), 0.0, 0.0);
    for (c, ts, n) in net.values().filter(|o| o.1 >= start && o.1 < end) {
        if first_ts[c.as_str()] >= start {
            newc.insert(c)
        } else {
            retc.insert(c)
        };
        if *ts == first_ts[c.as_str()] {
            first_rev += n
        } else {
            repeat_rev += n
        }
    }
    assert_eq!(
        (nr.new_customers, nr.returning_customers),
        (newc.len() as f64, retc.len() as f64)
    );
    assert!(close(nr.first_revenue, first_rev) && close(nr.repeat_revenue, repeat_rev));
    // RFM counts at a fixed "now".
    let now = START + 90 * DAY;
    let mut rfm: BTreeMap<(i64, i64), (f64, f64)> = BTreeMap::new();
    let mut per: BTreeMap<&str, (i64, i64, f64)> = BTreeMap::new();
    for (c, ts, n) in net.values() {
        let p = per.entry(c).or_insert((0, 0, 0.0));
        p.0 = p.0.max(*ts);
        p.1 += 1;
        p.2 += n;
    }
    for (last, n, rev) in per.values() {
        let cell = rfm.entry(((now - last) / DAY, *n)).or_default();
        cell.0 += 1.0;
        cell.1 += rev;
    }
    let got = all(&db, &sql::rfm_counts("s1", now));
    assert_eq!(got.len(), rfm.len());
    for g in got {
        let (n, rev) = rfm[&(g.recency as i64, g.frequency as i64)];
        assert_eq!(g.customers, n);
        assert!(close(g.revenue, rev));
    }
    let top = all(&db, &sql::top_customers("s1", 3));
    let mut best: Vec<(&str, f64)> = per.iter().map(|(c, p)| (*c, p.2)).collect();
    best.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    assert_eq!(
        top.iter()
            .map(|t| t.customer_id.as_str())
            .collect::<Vec<_>>(),
        best.iter().take(3).map(|b| b.0).collect::<Vec<_>>()
    );

    // Products over the whole history.
    let mut want: BTreeMap<String, [f64; 5]> = BTreeMap::new();
    let mut order_products: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in &real {
        match (e.name, &e.product, &e.order, &e.refund) {
            ("Product Viewed", Some((p, _)), _, _) => want.entry(p.clone()).or_default()[0] += 1.0,
            ("Product Added", Some((p, _)), _, _) => want.entry(p.clone()).or_default()[1] += 1.0,
            (_, _, Some((id, _, lines)), _) => {
                for (p, pr, q) in lines {
                    let w = want.entry(p.clone()).or_default();
                    w[2] += f64::from(*q);
                    w[3] += pr * f64::from(*q);
                    order_products
                        .entry(id.clone())
                        .or_default()
                        .push(p.clone());
                }
            }
            _ => {}
        }
    }
    for e in &real {
        if let Some((id, amount, lines)) = &e.refund {
            if lines.is_empty() {
                let ps = &order_products[id];
                for p in ps {
                    want.entry(p.clone()).or_default()[4] += amount / ps.len() as f64;
                }
            }
            for (p, pr) in lines {
                want.entry(p.clone()).or_default()[4] += pr;
            }
        }
    }
    let got = all(
        &db,
        &sql::product_stats("s1", START - DAY, START + 200 * DAY, 100),
    );
    assert_eq!(got.len(), want.len());
    for g in &got {
        let w = want[&g.product_id];
        assert_eq!(
            [g.views, g.adds, g.units],
            [w[0], w[1], w[2]],
            "{}",
            g.product_id
        );
        assert!(
            close(g.revenue, w[3]) && close(g.refunded, w[4]),
            "{}",
            g.product_id
        );
    }
    // Often bought with, by counting pairs in the orders.
    let mut pairs: BTreeMap<(String, String), f64> = BTreeMap::new();
    for ps in order_products.values() {
        for a in ps {
            for b in ps {
                if a != b {
                    *pairs.entry((a.clone(), b.clone())).or_default() += 1.0;
                }
            }
        }
    }
    let ids: Vec<String> = want.keys().cloned().collect();
    let got = all(&db, &sql::bought_with("s1", &ids));
    assert_eq!(got.len(), pairs.len());
    for g in got {
        assert_eq!(g.orders, pairs[&(g.product_id.clone(), g.other_id.clone())]);
    }
    // A customer's orders with their refunds.
    let (cust, _) = net
        .iter()
        .find(|(id, o)| {
            real.iter()
                .any(|e| e.refund.as_ref().is_some_and(|r| &r.0 == *id))
                && !o.0.is_empty()
        })
        .map(|(id, o)| (o.0.clone(), id.clone()))
        .unwrap_or_default();
    let orders = all(&db, &sql::customer_orders("s1", &cust, 50));
    for o in &orders {
        let (_, _, n) = &net[&o.order_id];
        assert!(close(o.total - o.refunded, *n));
    }
    assert!(orders.iter().any(|o| o.refunded > 0.0));
}

#[test]
fn explore_by_country_device_category_and_weekday() {
    use affinity_worker::platform::store::explore::{self as ex, Dim};
    let mut evs = history();
    mark_sessions(&mut evs);
    let db = load(&evs);
    let real: Vec<&Ev> = evs.iter().filter(|e| !e.bot).collect();
    let (start, end) = (START + 5 * DAY, START + 55 * DAY);
    let zone = Zone::new("Asia/Kolkata").unwrap_or_else(|e| panic!("{e}"));
    let offsets = serde_json::to_string(&zone.offsets(start, end)).unwrap_or_default();
    // Visitors by country: customers with a session starting in the period.
    let mut want: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in real
        .iter()
        .filter(|e| e.session_start && e.ts >= start && e.ts < end)
    {
        want.entry(country_of(&e.customer))
            .or_default()
            .insert(&e.customer);
    }
    let got = all(
        &db,
        &ex::visitors("s1", &[Dim::Country], start, end, &offsets),
    );
    assert_eq!(got.len(), want.len());
    for g in &got {
        assert_eq!(
            g.customers,
            want[g.d1.as_deref().unwrap_or("")].len() as f64
        );
    }
    // Net revenue per order, then orders and revenue by device and weekday (India).
    let mut net: BTreeMap<&str, f64> = BTreeMap::new();
    for e in &real {
        if let Some((id, t, _)) = &e.order {
            net.insert(id, *t);
        }
    }
    for e in &real {
        if let Some((id, a, _)) = &e.refund {
            *net.entry(id).or_default() -= a;
        }
    }
    let mut by: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    let mut by_cat: BTreeMap<String, f64> = BTreeMap::new();
    for e in real.iter().filter(|e| e.ts >= start && e.ts < end) {
        let Some((id, total, lines)) = &e.order else {
            continue;
        };
        let weekday = ((e.ts + IST).div_euclid(DAY) + 3).rem_euclid(7);
        let k = (device_of(&e.customer).to_string(), weekday.to_string());
        let cell = by.entry(k).or_default();
        cell.0 += 1.0;
        cell.1 += net[id.as_str()];
        for (p, pr, q) in lines {
            *by_cat.entry(category_of(p)).or_default() +=
                pr * f64::from(*q) * net[id.as_str()] / total;
        }
    }
    let got = all(
        &db,
        &ex::orders("s1", &[Dim::Device, Dim::Weekday], start, end, &offsets),
    );
    assert_eq!(got.len(), by.len());
    for g in &got {
        let (orders, revenue) = by[&(
            g.d1.clone().unwrap_or_default(),
            g.d2.clone().unwrap_or_default(),
        )];
        assert_eq!(g.orders, orders);
        assert!(close(g.revenue, revenue), "{g:?}");
    }
    let got = all(
        &db,
        &ex::orders("s1", &[Dim::Category], start, end, &offsets),
    );
    assert_eq!(got.len(), by_cat.len());
    for g in &got {
        assert!(
            close(g.revenue, by_cat[g.d1.as_deref().unwrap_or("")]),
            "{g:?}"
        );
    }
    // Referrer hosts and new vs returning visitors.
    let got = all(
        &db,
        &ex::visitors(
            "s1",
            &[Dim::Referrer, Dim::NewReturning],
            start,
            end,
            &offsets,
        ),
    );
    let mut nr: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in real
        .iter()
        .filter(|e| e.session_start && e.ts >= start && e.ts < end)
    {
        let before = real
            .iter()
            .any(|x| x.customer == e.customer && x.session_start && x.ts < e.ts);
        nr.entry(if before { "returning" } else { "new" })
            .or_default()
            .insert(&e.customer);
    }
    for g in &got {
        assert_eq!(g.d1.as_deref(), Some("www.example.com"));
        assert_eq!(
            g.customers,
            nr[g.d2.as_deref().unwrap_or("")].len() as f64,
            "{g:?}"
        );
    }
}

/// Distinct visitors of every range of slots, from rows chained by a customer's previous slot:
/// right even when a customer's old events are delivered after their newer ones.
#[test]
fn distinct_visitors_with_old_events_delivered_late() {
    use affinity_worker::platform::store::explore::{self as ex, Dim};
    let evs = history();
    let zone = Zone::new("Asia/Kolkata").unwrap_or_else(|e| panic!("{e}"));
    let real: Vec<&Ev> = evs.iter().filter(|e| !e.bot).collect();
    for late_first in [false, true] {
        let db = load_in(&evs, late_first);
        // Visitors of windows of 1, 3, 7 and 30 days at many starts (not only whole days: a
        // quarter-hour slot is the grain).
        for (len, step) in [
            (DAY, 5 * DAY + 15 * MIN),
            (3 * DAY, 4 * DAY),
            (7 * DAY, 9 * DAY),
        ]
        .into_iter()
        .chain([(30 * DAY, 20 * DAY), (200 * DAY, DAY)])
        {
            let ranges: Vec<(i64, i64)> = (0..12)
                .map(|k| START - DAY + k * step)
                .map(|lo| (lo, lo + len))
                .collect();
            let rows = all(&db, &sql::slot_totals("s1", &ranges));
            for (row, (lo, hi)) in rows.iter().zip(&ranges) {
                let want: BTreeSet<&str> = real
                    .iter()
                    .filter(|e| e.ts >= *lo && e.ts < *hi)
                    .map(|e| e.customer.as_str())
                    .collect();
                assert_eq!(row.visitors, want.len() as f64, "{late_first} {lo}..{hi}");
            }
        }
        // Visitors by product (and its category), over 10- and 60-day periods.
        for (start, end) in [
            (START + 12 * DAY, START + 22 * DAY),
            (START, START + 60 * DAY),
        ] {
            let offsets = serde_json::to_string(&zone.offsets(start, end)).unwrap_or_default();
            let mut want: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
            for e in real.iter().filter(|e| e.ts >= start && e.ts < end) {
                if let ("Product Viewed", Some((p, _))) = (e.name, &e.product) {
                    want.entry(p.clone()).or_default().insert(&e.customer);
                }
            }
            assert!(want.len() > 5 && want.values().any(|v| v.len() > 1));
            let got = all(
                &db,
                &ex::visitors("s1", &[Dim::Product], start, end, &offsets),
            );
            let got: BTreeMap<String, f64> = got
                .into_iter()
                .map(|g| (g.d1.unwrap_or_default(), g.customers))
                .collect();
            let counts: BTreeMap<String, f64> = want
                .iter()
                .map(|(p, c)| (p.clone(), c.len() as f64))
                .collect();
            assert_eq!(got, counts, "{late_first}");
            let by_cat = all(
                &db,
                &ex::visitors("s1", &[Dim::Product, Dim::Category], start, end, &offsets),
            );
            assert_eq!(by_cat.len(), want.len());
            for g in by_cat {
                let p = g.d1.unwrap_or_default();
                assert_eq!(g.d2, Some(category_of(&p)));
                assert_eq!(g.customers, counts[&p]);
            }
        }
    }
}
