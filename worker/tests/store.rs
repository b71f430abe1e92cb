//! The store, executed: every D1 migration and every statement of `platform::store` run on
//! SQLite (rusqlite's bundled library), with assertions on the rows they produce. The expected
//! figures are worked out by hand from the events each test writes, not read back from the code
//! under test. The end-to-end tests are the proof that D1 accepts the same SQL.
#![cfg(not(target_arch = "wasm32"))]

use affinity::profile::Profile;
use affinity_worker::customers::{fold, Mirror};
use affinity_worker::platform::store::{
    catalog, dashboard, events, health, models, object, recs, segments as sql, shops, Stmt,
};
use affinity_worker::segments;
use rusqlite::Connection;

mod support;
use support::{all, bind, d1, event, exec, exec_all, first};

const T0: i64 = 1_795_000_000_000; // 2026-11-18T…Z

fn ts(offset_min: i64) -> String {
    affinity::time::format_rfc3339(T0 + offset_min * 60_000)
}

/// Customer c1: views p1 twice and p2, adds p2, orders p1×2 + p2 (revenue 150) on one day; a bot
/// customer views p1 once.
fn seed(db: &Connection) {
    let c1 = vec![
        event(&format!(
            r#"{{"type":"track","event":"Product Viewed","anonymousId":"c1","messageId":"m1","timestamp":"{}","properties":{{"product_id":"p1","name":"Boot","price":50,"category":"Shoes"}}}}"#,
            ts(0)
        )),
        event(&format!(
            r#"{{"type":"track","event":"Product Viewed","anonymousId":"c1","messageId":"m2","timestamp":"{}","properties":{{"product_id":"p2","name":"Sock","price":50,"category":"Socks"}}}}"#,
            ts(1)
        )),
        event(&format!(
            r#"{{"type":"track","event":"Product Viewed","anonymousId":"c1","messageId":"m3","timestamp":"{}","properties":{{"product_id":"p1"}}}}"#,
            ts(2)
        )),
        event(&format!(
            r#"{{"type":"track","event":"Product Added","anonymousId":"c1","messageId":"m4","timestamp":"{}","properties":{{"product_id":"p2"}}}}"#,
            ts(3)
        )),
        event(&format!(
            r#"{{"type":"page","name":"Cart","anonymousId":"c1","messageId":"m5","timestamp":"{}"}}"#,
            ts(4)
        )),
        event(&format!(
            r#"{{"type":"track","event":"Order Completed","anonymousId":"c1","messageId":"m6","timestamp":"{}","properties":{{"order_id":"o1","revenue":150,"products":[{{"product_id":"p1","quantity":2}},{{"id":"p2"}}]}}}}"#,
            ts(5)
        )),
    ];
    let mut profile = Profile::new("c1");
    let f = fold(
        "s1",
        "c1",
        &mut profile,
        c1,
        Mirror {
            version: 6,
            was_bot: false,
            count_automated: true,
            now_ms: T0 + 3_600_000,
        },
    );
    exec_all(db, &f.statements);
    let bot = vec![event(&format!(
        r#"{{"type":"track","event":"Product Viewed","anonymousId":"b1","messageId":"m7","timestamp":"{}","context":{{"userAgent":"Googlebot/2.1"}},"properties":{{"product_id":"p1"}}}}"#,
        ts(6)
    ))];
    let mut bp = Profile::new("b1");
    let f = fold(
        "s1",
        "b1",
        &mut bp,
        bot,
        Mirror {
            version: 1,
            was_bot: false,
            count_automated: true,
            now_ms: T0 + 3_600_000,
        },
    );
    assert!(f.any_bot);
    exec_all(db, &f.statements);
}

#[test]
fn migrations_apply_and_ingest_statements_produce_the_rows() {
    let db = d1();
    seed(&db);
    let n = |sql: &str| -> i64 {
        db.query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{e}: {sql}"))
    };
    assert_eq!(n("SELECT COUNT(*) FROM events WHERE shop = 's1'"), 7);
    assert_eq!(n("SELECT COUNT(*) FROM events WHERE bot = 1"), 1);
    assert_eq!(
        n("SELECT COUNT(*) FROM events WHERE product_id = 'p1'"),
        3,
        "m1, m3 and the bot's view"
    );
    // The order: 150, 3 units, counted once.
    let (total, items): (f64, i64) = db
        .query_row(
            "SELECT total, items FROM orders WHERE order_id = 'o1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((total, items), (150.0, 3));
    // Products: p1 viewed twice by c1 (the bot's view is not counted), 2 units bought.
    let p1: (String, i64, i64, i64) = db
        .query_row(
            "SELECT name, views, adds, purchases FROM products WHERE product_id = 'p1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p1, ("Boot".into(), 2, 0, 2));
    let p2: (i64, i64, i64) = db
        .query_row(
            "SELECT views, adds, purchases FROM products WHERE product_id = 'p2'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        p2,
        (1, 1, 1),
        "an order line keyed by `id` counts (one rule)"
    );
    // Dashboard reads.
    let c = first(&db, &dashboard::customer_counts("s1")).unwrap_or_default();
    assert_eq!(
        (c.customers, c.buyers),
        (Some(1.0), Some(1.0)),
        "the bot is left out"
    );
    let o = first(&db, &dashboard::order_totals("s1")).unwrap_or_default();
    assert_eq!((o.orders, o.revenue), (Some(1.0), Some(150.0)));
    // The UTC-day rollups are no longer written: the dashboard reads the slot rollups.
    let written: i64 = db
        .query_row(
            "SELECT (SELECT COUNT(*) FROM daily) + (SELECT COUNT(*) FROM product_daily)",
            [],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(written, 0);
    let top = all(&db, &dashboard::top_products("s1", 8));
    let ids: Vec<&str> = top.iter().map(|t| t.product_id.as_str()).collect();
    assert_eq!(ids, ["p1", "p2"]);
    let latest = all(&db, &dashboard::latest_orders("s1", 8));
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].customer_id, "c1");
    assert_eq!(all(&db, &dashboard::customers("s1", "c", 10)).len(), 1);
    assert_eq!(all(&db, &dashboard::customers("s1", "", 10)).len(), 2);
    assert!(
        all(&db, &dashboard::customers("s1", "%", 10)).is_empty(),
        "LIKE wildcards in a prefix are literal"
    );
    assert!(all(&db, &dashboard::customers("other", "", 10)).is_empty());
}

#[test]
fn model_build_reads() {
    let db = d1();
    seed(&db);
    let until = T0 + 3_600_000;
    let clicks = all(&db, &models::clicks("s1", T0 - 1, until, 100));
    let seq: Vec<&str> = clicks.iter().map(|c| c.p.as_str()).collect();
    assert_eq!(
        seq,
        ["p1", "p2", "p1", "p2"],
        "views and the add, in time, no bot"
    );
    assert_eq!(
        all(&db, &models::clicks("s1", T0 - 1, until, 2)).len(),
        2,
        "the limit keeps the latest"
    );
    // The window's end is exclusive: events at or after it are left for the next window.
    assert!(all(&db, &models::clicks("s1", T0 - 1, T0 + 60_000, 100)).len() == 1);
    let orders = all(&db, &models::orders("s1", T0 - 1, until, 10));
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].c, "c1");
    assert!(all(&db, &models::orders("s1", T0 - 1, T0, 10)).is_empty());
    // A customer whose consent fell below analytics is left out of every build, past events
    // included; back at analytics they count again.
    let consent = |level: Option<&str>| {
        db.execute(
            "UPDATE customers SET consent = ?1 WHERE shop = 's1' AND customer_id = 'c1'",
            [level],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    };
    for (level, counted) in [
        (Some("device"), false),
        (Some("none"), false),
        (Some("analytics"), true),
        (None, true),
    ] {
        consent(level);
        let n = all(&db, &models::clicks("s1", T0 - 1, until, 100))
            .iter()
            .filter(|c| c.c == "c1")
            .count();
        let o = all(&db, &models::orders("s1", T0 - 1, until, 10)).len();
        assert_eq!((n > 0, o > 0), (counted, counted), "consent {level:?}");
    }
    // The source is the one the edge wrote into the stored event's context (none here).
    assert!(clicks.iter().all(|c| c.s.is_none()));
    // The model's metadata is the catalog's only: event properties named p1 "Boot" and the
    // catalog is empty, so there is none.
    assert!(all(&db, &catalog::meta("s1")).is_empty());
    assert_eq!(first(&db, &catalog::any("s1")).map(|c| c.n), Some(0.0));
    let row = |id: &str, name: &str| models::MetaRow {
        id: id.into(),
        name: Some(name.into()),
        price: Some(12.5),
        url: Some("/p/x/".into()),
        ..models::MetaRow::default()
    };
    exec_all(
        &db,
        &[
            catalog::insert("s1", &row("p1", "Old"), 1),
            catalog::insert("s2", &row("p1", "Other shop"), 1),
        ],
    );
    exec_all(
        &db,
        &[
            catalog::clear("s1"),
            catalog::insert("s1", &row("p2", "Sock"), 2),
            catalog::insert("s1", &row("p1", "Boot"), 2),
        ],
    );
    let meta = all(&db, &catalog::meta("s1"));
    let names: Vec<(&str, Option<&str>)> = meta
        .iter()
        .map(|m| (m.id.as_str(), m.name.as_deref()))
        .collect();
    assert_eq!(names, [("p1", Some("Boot")), ("p2", Some("Sock"))]);
    assert_eq!(meta[0].price, Some(12.5));
    assert_eq!(meta[0].in_stock, Some(1.0));
    assert_eq!(
        all(&db, &catalog::meta("s2")).len(),
        1,
        "another shop's catalog stays"
    );
    assert!(first(&db, &models::latest("s1")).is_none());
    let info = models::BuildInfo {
        version: "abc".into(),
        created_at: (T0 + 10) as f64,
        items: 2.0,
        pairs: 1.0,
        bytes: 99.0,
        build_ms: 3.0,
        sessions: 1.0,
        events: 4.0,
        format: 2.0,
    };
    exec(&db, &models::record("s1", &info));
    exec(&db, &models::record("s1", &info));
    assert_eq!(first(&db, &models::latest("s1")), Some(info));
    assert_eq!(
        first(&db, &models::newer_events("s1", (T0 + 10) as f64)).map(|c| c.n),
        Some(1.0)
    );
    assert_eq!(
        first(&db, &models::newer_events("s1", (T0 + 7_200_000) as f64)).map(|c| c.n),
        Some(0.0)
    );
}

#[test]
fn the_customer_mirror_keeps_the_current_consent_and_no_event_below_analytics() {
    let db = d1();
    let at = |id: &str, level: &str, s: i64| {
        affinity_worker::ingest::within_consent(event(&format!(
            r#"{{"type":"track","event":"Product Viewed","anonymousId":"c9","messageId":"{id}","timestamp":"{}","properties":{{"product_id":"p9"}},"context":{{"consent":{{"level":"{level}"}}}}}}"#,
            ts(s)
        )))
    };
    let mut profile = Profile::new("c9");
    let mirror = |version| Mirror {
        version,
        was_bot: false,
        count_automated: true,
        now_ms: T0,
    };
    let f = fold(
        "s1",
        "c9",
        &mut profile,
        vec![at("k1", "analytics", 0)],
        mirror(1),
    );
    exec_all(&db, &f.statements);
    let row = |db: &Connection| -> (Option<String>, i64) {
        db.query_row(
            "SELECT consent, product_views FROM customers WHERE customer_id = 'c9'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(row(&db), (Some("analytics".into()), 1));
    let f = fold(
        "s1",
        "c9",
        &mut profile,
        vec![at("k2", "none", 1)],
        mirror(2),
    );
    exec_all(&db, &f.statements);
    assert_eq!(
        row(&db),
        (Some("none".into()), 1),
        "the change, nothing else"
    );
    let n: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM events WHERE customer_id = 'c9'",
            [],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 1, "the event sent at `none` is not stored");
    // A customer whose events never said: NULL, not known.
    seed(&db);
    let c1: Option<String> = db
        .query_row(
            "SELECT consent FROM customers WHERE customer_id = 'c1'",
            [],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c1, None);
}

#[test]
fn shops_settings_rotation_deletion_and_cron_lists() {
    let db = d1();
    let shop = shops::Shop {
        id: "s1".into(),
        name: "One".into(),
        write_key: "pk_one_key".into(),
        admin_hash: "h".into(),
        count_automated: 1.0,
    };
    exec(&db, &shops::insert(&shop, T0));
    assert!(
        db.execute(
            &shops::insert(&shop, T0).sql,
            rusqlite::params_from_iter(bind(&shops::insert(&shop, T0).args))
        )
        .is_err(),
        "an id is created once"
    );
    assert_eq!(
        first(&db, &shops::by_key("pk_one_key", T0)),
        Some(shop.clone())
    );
    assert!(first(&db, &shops::by_key("pk_two", T0)).is_none());
    let s = first(&db, &shops::settings("s1")).unwrap_or_default();
    assert_eq!(
        (
            s.min_support,
            s.holdout_percent,
            s.currency.as_deref(),
            s.time_zone.as_deref(),
            s.count_automated
        ),
        (Some(2.0), Some(10.0), Some("USD"), Some("UTC"), Some(1.0)),
        "migration defaults"
    );
    let change = shops::SettingsRow {
        holdout_percent: Some(25.0),
        time_zone: Some("Asia/Kolkata".into()),
        ..Default::default()
    };
    exec(&db, &shops::set_settings("s1", &change));
    let s = first(&db, &shops::settings("s1")).unwrap_or_default();
    assert_eq!(
        (s.min_support, s.holdout_percent),
        (Some(2.0), Some(25.0)),
        "unset values stay"
    );
    assert_eq!(s.time_zone.as_deref(), Some("Asia/Kolkata"));
    assert_eq!(
        s.consent_default, None,
        "consent policy unset: the defaults apply"
    );
    let consent = shops::SettingsRow {
        consent_default: Some("device".into()),
        consent_gpc: Some("none".into()),
        ..Default::default()
    };
    exec(&db, &shops::set_settings("s1", &consent));
    let s = first(&db, &shops::settings("s1")).unwrap_or_default();
    assert_eq!(
        (
            s.consent_default.as_deref(),
            s.consent_gpc.as_deref(),
            s.consent_dnt.as_deref(),
            s.holdout_percent
        ),
        (Some("device"), Some("none"), None, Some(25.0))
    );
    // Rotation: the old key works until the grace period ends, the new one at once.
    exec(&db, &shops::rotate("s1", "pk_new_key", "h2", T0 + 1_000));
    assert_eq!(
        first(&db, &shops::by_key("pk_new_key", T0)).map(|s| s.admin_hash),
        Some("h2".into())
    );
    assert!(first(&db, &shops::by_key("pk_one_key", T0 + 999)).is_some());
    assert!(first(&db, &shops::by_key("pk_one_key", T0 + 1_000)).is_none());
    let info = first(&db, &shops::info("s1")).unwrap_or_else(|| panic!("info"));
    assert_eq!(info.previous_write_key.as_deref(), Some("pk_one_key"));
    assert!(
        all(&db, &shops::stale_models(10)).is_empty(),
        "no events yet"
    );
    seed(&db);
    assert_eq!(all(&db, &shops::stale_models(10)).len(), 1);
    assert!(all(&db, &shops::with_segments(10)).is_empty());
    exec_all(&db, &segments::default_stmts("s1", T0));
    assert_eq!(all(&db, &shops::with_segments(10)).len(), 1);
    // Deletion: nothing answers for the shop any more; the erase statements empty its tables.
    exec(&db, &shops::mark_deleted("s1", T0 + 5));
    assert!(first(&db, &shops::by_key("pk_new_key", T0)).is_none());
    assert!(first(&db, &shops::by_id("s1")).is_none());
    assert_eq!(all(&db, &shops::deleted(10)).len(), 1);
    assert_eq!(
        all(&db, &shops::list()).len(),
        1,
        "the operator still sees it"
    );
    // A linked anonymous id has an object of its own (it holds the link).
    exec(&db, &events::link("s1", "anon-1", "c1", T0));
    let mut objects: Vec<String> = all(&db, &shops::object_customers("s1", 100))
        .into_iter()
        .map(|c| c.customer_id)
        .collect();
    objects.sort();
    assert_eq!(objects, ["anon-1", "b1", "c1"]);
    let page = all(&db, &shops::export_page("events", "shop", "s1", 0, 4));
    assert_eq!(page.len(), 4);
    let next = page[3]["_rowid"].as_i64().unwrap_or(0);
    assert_eq!(
        all(&db, &shops::export_page("events", "shop", "s1", next, 100)).len(),
        3
    );
    let shop_rows = all(&db, &shops::export_page("shops", "id", "s1", 0, 10));
    assert_eq!(shop_rows.len(), 1);
    assert!(
        shop_rows[0].get("admin_hash").is_none(),
        "the export leaves the secret's hash out"
    );
    exec_all(&db, &shops::forget_customers("s1", &objects));
    assert!(all(&db, &shops::object_customers("s1", 100)).is_empty());
    for (table, column) in affinity_worker::shops::TABLES {
        if table != "shops" {
            exec(&db, &shops::delete_rows(table, column, "s1", 2));
            exec(&db, &shops::delete_rows(table, column, "s1", 100_000));
            assert_eq!(
                first(&db, &shops::count_rows(table, column, "s1")).map(|c| c.n),
                Some(0.0),
                "{table}"
            );
        }
    }
    exec(&db, &shops::remove("s1"));
    assert!(all(&db, &shops::list()).is_empty());
}

#[test]
fn export_and_erase_cover_every_table() {
    let db = d1();
    let mut stmt = db
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name <> 'd1_migrations' ORDER BY name",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let tables: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{e}"))
        .map(|r| r.unwrap_or_else(|e| panic!("{e}")))
        .collect();
    assert!(tables.iter().any(|t| t == "catalog"), "{tables:?}");
    for t in &tables {
        assert!(
            affinity_worker::shops::TABLES
                .iter()
                .any(|(name, _)| name == t),
            "the table {t} is not in shops::TABLES: a shop's export and erase would miss it"
        );
    }
}

#[test]
fn identities() {
    let db = d1();
    exec(&db, &events::link("s1", "a1", "u1", T0));
    exec(&db, &events::link("s1", "a2", "u1", T0));
    exec(&db, &events::link("s1", "a1", "u2", T0 + 1));
    let ids = ["a1".to_string(), "a2".into(), "a3".into()];
    let mut links = all(&db, &events::links_of("s1", &ids));
    links.sort_by(|a, b| a.anonymous_id.cmp(&b.anonymous_id));
    let pairs: Vec<(&str, &str)> = links
        .iter()
        .map(|l| (l.anonymous_id.as_str(), l.customer_id.as_str()))
        .collect();
    assert_eq!(pairs, [("a1", "u2"), ("a2", "u1")], "the latest link wins");
    assert!(all(&db, &events::links_of("s2", &ids)).is_empty());
}

#[test]
fn segments_sets_memberships_and_sizes() {
    let db = d1();
    exec_all(&db, &segments::default_stmts("s1", T0));
    exec_all(&db, &segments::default_stmts("s1", T0 + 1));
    let stored = all(&db, &sql::stored("s1"));
    assert_eq!(stored.len(), segments::DEFAULTS.len(), "defaults once");
    let set = first(&db, &sql::set_of("s1")).unwrap_or_else(|| panic!("a set"));
    assert_eq!(set.version, 1.0);
    assert!(segments::decode_set(&set.compiled).is_some());
    // Saving a rule: the set's version grows, the segment's too.
    let rule = affinity::rules::parse("total_spend > 10").unwrap_or_else(|e| panic!("{e}"));
    let named: Vec<_> = stored
        .iter()
        .filter_map(|r| r.rule().map(|x| (r.name.clone(), x)))
        .chain([("big".to_string(), rule.clone())])
        .collect();
    let new_set = affinity::rules::SegmentSet::new(named).unwrap_or_else(|e| panic!("{e}"));
    exec_all(
        &db,
        &segments::save_stmts("s1", "big", "total_spend > 10", &rule, &new_set, T0 + 2),
    );
    exec_all(
        &db,
        &segments::save_stmts("s1", "big", "total_spend > 10", &rule, &new_set, T0 + 3),
    );
    assert_eq!(
        first(&db, &sql::set_version("s1")).map(|v| v.version),
        Some(3.0)
    );
    let big = all(&db, &sql::stored("s1"))
        .into_iter()
        .find(|r| r.name == "big")
        .unwrap_or_else(|| panic!("saved"));
    assert_eq!(
        (big.version, big.created_at, big.updated_at),
        (2.0, (T0 + 2) as f64, (T0 + 3) as f64)
    );
    // Memberships: a newer write wins, an older one changes nothing; clear only clears members.
    let held = |member, at| segments::Held {
        name: "big".into(),
        member,
        entered_at: member.then_some(at),
        exited_at: (!member).then_some(at),
    };
    exec(
        &db,
        &segments::membership_stmt("s1", "c1", &held(true, T0 + 10), T0 + 10),
    );
    exec(
        &db,
        &segments::membership_stmt("s1", "c2", &held(true, T0 + 10), T0 + 10),
    );
    exec(
        &db,
        &segments::membership_stmt("s1", "c1", &held(false, T0 + 5), T0 + 5),
    );
    let members: Vec<String> = all(&db, &sql::members("s1", "big"))
        .into_iter()
        .map(|m| m.customer_id)
        .collect();
    assert_eq!(
        members,
        ["c1", "c2"],
        "the older exit did not overwrite the entry"
    );
    exec(&db, &segments::clear_stmt("s1", "c2", "big", T0 + 20));
    exec(&db, &segments::clear_stmt("s1", "c9", "big", T0 + 20));
    let sizes = all(&db, &sql::sizes("s1"));
    assert_eq!(sizes.len(), 1);
    assert_eq!((sizes[0].segment.as_str(), sizes[0].size), ("big", 1.0));
    let n: i64 = db
        .query_row("SELECT COUNT(*) FROM memberships", [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 2, "clearing creates no row");
    exec(&db, &segments::size_stmt("s1", "big", "2026-11-18", 1.0));
    exec(&db, &segments::size_stmt("s1", "big", "2026-11-18", 4.0));
    exec(&db, &segments::size_stmt("s1", "big", "2026-11-19", 5.0));
    let h = all(&db, &sql::size_history("s1", "2026-11-19"));
    assert_eq!(h.len(), 1);
    assert_eq!(
        all(&db, &sql::size_history("s1", "2026-11-01"))[0].size,
        4.0
    );
    // Delete: the segment, its memberships and sizes go.
    let rest = affinity::rules::SegmentSet::new(vec![]).unwrap_or_else(|e| panic!("{e}"));
    exec_all(&db, &segments::delete_stmts("s1", "big", &rest, T0 + 30));
    assert!(all(&db, &sql::members("s1", "big")).is_empty());
    assert!(all(&db, &sql::size_history("s1", "2026-11-01")).is_empty());
    assert_eq!(
        first(&db, &sql::set_version("s1")).map(|v| v.version),
        Some(4.0)
    );
}

#[test]
fn stored_profiles_and_their_corrupt_rows() {
    let db = d1();
    seed(&db);
    let good = Profile::new("c1").to_json().to_json();
    exec(&db, &events::set_profile("s1", "c1", &good, 6));
    exec(&db, &events::set_profile("s1", "c1", "{\"stale\":1}", 5));
    exec(&db, &events::set_profile("s1", "b1", "not json", 1));
    let rows = all(&db, &sql::profiles("s1", 10));
    assert_eq!(
        rows.len(),
        1,
        "bots are left out; the older version did not overwrite"
    );
    assert_eq!(rows[0].profile, good);
    // A corrupt mirror profile is listed for the health figure, skipped by evaluation, and the
    // row stays as it was.
    exec(
        &db,
        &Stmt::named(
            "UPDATE customers SET bot = 0, profile = 'not json' WHERE customer_id = :c",
            &[("c", "b1".into())],
        ),
    );
    let rows = all(&db, &sql::profiles("s1", 10));
    assert_eq!(rows.len(), 2);
    let bad = segments::undecodable(&rows);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].0, "b1");
    let set = affinity::rules::SegmentSet::new(vec![(
        "all".into(),
        affinity::rules::parse("total_spend >= 0").unwrap_or_else(|e| panic!("{e}")),
    )])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(segments::members_of("s1", &set, "all", &rows, T0), ["c1"]);
    assert_eq!(
        all(&db, &sql::profiles("s1", 10)).len(),
        2,
        "nothing deleted"
    );
    // A compiled set that does not decode is not an empty set.
    assert!(segments::decode_set("!!not base64!!").is_none());
}

#[test]
fn recommendation_measurement_reads() {
    let db = d1();
    let mk = |id: &str, name: &str, shopper: &str, min: i64, props: &str| {
        event(&format!(
            r#"{{"type":"track","event":"{name}","anonymousId":"{shopper}","messageId":"{id}","timestamp":"{}","properties":{props}}}"#,
            ts(min)
        ))
    };
    let evs = vec![
        mk(
            "r1",
            "Product List Viewed",
            "a",
            0,
            r#"{"list_id":"affinity:for-you","variant":"personalized"}"#,
        ),
        mk(
            "r2",
            "Product Clicked",
            "a",
            1,
            r#"{"list_id":"affinity:for-you","variant":"personalized","product_id":"p1"}"#,
        ),
        mk(
            "r3",
            "Order Completed",
            "a",
            2,
            r#"{"order_id":"o1","revenue":30,"products":[{"product_id":"p1"}]}"#,
        ),
    ];
    let mut p = Profile::new("a");
    exec_all(
        &db,
        &fold(
            "s1",
            "a",
            &mut p,
            evs,
            Mirror {
                version: 3,
                was_bot: false,
                count_automated: true,
                now_ms: T0,
            },
        )
        .statements,
    );
    let evs = vec![mk(
        "r4",
        "Product List Viewed",
        "b",
        0,
        r#"{"list_id":"affinity:for-you","variant":"holdout"}"#,
    )];
    let mut p = Profile::new("b");
    exec_all(
        &db,
        &fold(
            "s1",
            "b",
            &mut p,
            evs,
            Mirror {
                version: 1,
                was_bot: false,
                count_automated: true,
                now_ms: T0,
            },
        )
        .statements,
    );
    let slots = recs::slots("s1", T0 - 1);
    let slots = all(&db, &slots);
    let got: Vec<(&str, &str, f64, f64)> = slots
        .iter()
        .map(|s| {
            (
                s.list_id.as_str(),
                s.variant.as_str(),
                s.impressions,
                s.clicks,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("affinity:for-you", "holdout", 1.0, 0.0),
            ("affinity:for-you", "personalized", 1.0, 1.0)
        ]
    );
    let clicks = all(&db, &recs::clicks("s1", T0 - 1, 10));
    assert_eq!(clicks.len(), 1);
    assert_eq!(
        (clicks[0].shopper.as_str(), clicks[0].product_id.as_str()),
        ("a", "p1")
    );
    let orders = all(&db, &recs::orders("s1", T0 - 1, 10));
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].revenue, 30.0);
    let exp = all(
        &db,
        &recs::exposures("s1", &affinity_worker::recs::PERSONAL_SLOTS, T0 - 1, 10),
    );
    let mut exp: Vec<(&str, f64)> = exp
        .iter()
        .map(|e| (e.shopper.as_str(), e.holdout))
        .collect();
    exp.sort_by(|a, b| a.0.cmp(b.0));
    assert_eq!(exp, [("a", 0.0), ("b", 1.0)]);
}

#[test]
fn health_issues_are_counted() {
    let db = d1();
    exec(&db, &health::record("s1", "profile", "c1", "bad", T0));
    exec(
        &db,
        &health::record("s1", "profile", "c1", "bad again", T0 + 1),
    );
    exec(&db, &health::record("s1", "outbox", "c2#4", "bad", T0 + 2));
    exec(&db, &health::record("s2", "outbox", "x", "bad", T0 + 2));
    let kinds = all(&db, &health::by_kind("s1"));
    let got: Vec<(&str, f64, f64)> = kinds
        .iter()
        .map(|k| (k.kind.as_str(), k.issues, k.seen))
        .collect();
    assert_eq!(got, [("outbox", 1.0, 1.0), ("profile", 1.0, 2.0)]);
    let latest = all(&db, &health::latest("s1", 10));
    assert_eq!(latest[0].reference, "c2#4");
    assert_eq!(latest[1].error, "bad again");
}

#[test]
fn the_customer_objects_schema_and_statements() {
    let db = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first(&db, &object::has_tables()).map(|c| c.n), Some(0.0));
    for s in object::SCHEMA {
        exec(&db, &Stmt::plain(s));
    }
    for s in object::SCHEMA {
        exec(&db, &Stmt::plain(s)); // idempotent
    }
    assert_eq!(first(&db, &object::has_tables()).map(|c| c.n), Some(1.0));
    exec(&db, &object::set_meta("shop", "s1"));
    exec(&db, &object::set_meta("shop", "s2"));
    assert_eq!(
        first(&db, &object::meta("shop")).map(|v| v.v),
        Some("s2".into())
    );
    assert!(first(&db, &object::meta("nope")).is_none());
    exec(&db, &object::set_profile("{\"a\":1}"));
    exec(&db, &object::set_profile("{\"a\":2}"));
    assert_eq!(
        first(&db, &object::profile()).map(|r| r.json),
        Some("{\"a\":2}".into())
    );
    let row = |id, ts, kind, name, json: &str| object::MessageRow {
        id,
        ts,
        kind,
        name,
        json: json.to_string(),
    };
    exec(
        &db,
        &object::insert_messages(
            &[
                row("m1", 20, "track", Some("X"), "{1}"),
                row("m2", 10, "page", None, "{2}"),
            ],
            T0,
        ),
    );
    exec(
        &db,
        &object::insert_messages(&[row("m1", 99, "track", None, "{dup}")], T0),
    );
    let known: Vec<String> = all(&db, &object::known_messages(&["m1", "m9", "m2"]))
        .into_iter()
        .map(|m| m.message_id)
        .collect();
    assert_eq!(known.len(), 2);
    assert!(known.contains(&"m1".to_string()) && known.contains(&"m2".to_string()));
    let t = all(&db, &object::timeline(10));
    let ids: Vec<&str> = t.iter().map(|e| e.message_id.as_str()).collect();
    assert_eq!(ids, ["m1", "m2"], "newest first; the duplicate was ignored");
    assert_eq!(t[0].json, "{1}");
    let replay: Vec<String> = all(&db, &object::all_messages())
        .into_iter()
        .map(|r| r.json)
        .collect();
    assert_eq!(replay, ["{2}", "{1}"], "oldest first");
    exec(&db, &object::insert_held("b", true, Some(5), None));
    exec(&db, &object::insert_held("a", false, None, Some(6)));
    let held = all(&db, &object::held());
    assert_eq!(held.len(), 2);
    assert_eq!(
        (held[0].name.as_str(), held[0].member, held[0].exited_at),
        ("a", 0.0, Some(6.0))
    );
    exec(&db, &object::clear_held());
    assert!(all(&db, &object::held()).is_empty());
    // Outbox: order, skip-but-keep for an entry that does not decode, delete when delivered.
    exec(&db, &object::push_outbox("[]"));
    exec(&db, &object::push_outbox("not json"));
    exec(&db, &object::push_outbox("[]"));
    let rows = all(&db, &object::outbox(10));
    assert_eq!(rows.len(), 3);
    exec(&db, &object::fail_outbox(rows[1].id));
    exec(&db, &object::delete_delivered(rows[0].id));
    let left: Vec<f64> = all(&db, &object::outbox(10))
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(left, [rows[2].id], "the undecodable entry is skipped");
    assert_eq!(first(&db, &object::outbox_len()).map(|c| c.n), Some(1.0));
    // Delivered up to the third: the failed entry between stays.
    exec(&db, &object::delete_delivered(rows[2].id));
    assert!(all(&db, &object::outbox(10)).is_empty());
    let kept: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE statements = 'not json'",
            [],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kept, 1, "kept as it was");
    exec(&db, &object::quarantine("profile", "c1", "{bad", "why", T0));
    assert_eq!(first(&db, &object::quarantined()).map(|c| c.n), Some(1.0));
}

#[test]
fn objects_created_before_a_column_get_it() {
    let db = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
    db.execute_batch(
        "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, statements TEXT NOT NULL);
         INSERT INTO outbox (statements) VALUES ('[]');",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    for (table, column, alter) in object::ADDED_COLUMNS {
        let cols = all(&db, &object::columns(table));
        assert!(!cols.iter().any(|c| c.name == column));
        exec(&db, &Stmt::plain(alter));
        assert!(all(&db, &object::columns(table))
            .iter()
            .any(|c| c.name == column));
    }
    assert_eq!(
        all(&db, &object::outbox(10)).len(),
        1,
        "old entries stay deliverable"
    );
}

#[test]
fn a_batchs_raw_events_go_in_a_few_multi_row_inserts_once_each() {
    let db = d1();
    let events: Vec<_> = (0..12)
        .map(|i| {
            event(&format!(
                r#"{{"type":"page","name":"P{i}","anonymousId":"c9","messageId":"mm{i}","timestamp":"{}"}}"#,
                ts(i)
            ))
        })
        .collect();
    let mirror = Mirror {
        version: 12,
        was_bot: false,
        count_automated: true,
        now_ms: T0 + 3_600_000,
    };
    let f = fold("s1", "c9", &mut Profile::new("c9"), events.clone(), mirror);
    let inserts: Vec<&Stmt> = f
        .statements
        .iter()
        .filter(|s| s.sql.starts_with("INSERT OR IGNORE INTO events"))
        .collect();
    // 18 parameters a row, at most 100 a statement: 5 rows, 5 rows, 2 rows.
    let rows: Vec<usize> = inserts.iter().map(|s| s.args.len() / 18).collect();
    assert_eq!(rows, [5, 5, 2]);
    assert!(inserts.iter().all(|s| s.args.len() <= 100));
    exec_all(&db, &f.statements);
    // The same events again (a redelivery that reached D1 twice) add nothing.
    let again = fold("s1", "c9", &mut Profile::new("c9"), events, mirror);
    exec_all(&db, &again.statements);
    let (rows, distinct): (i64, i64) = db
        .query_row(
            "SELECT COUNT(*), COUNT(DISTINCT message_id) FROM events WHERE customer_id = 'c9'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((rows, distinct), (12, 12));
    let names: Vec<String> = db
        .prepare("SELECT name FROM events WHERE customer_id = 'c9' ORDER BY ts")
        .and_then(|mut q| q.query_map([], |r| r.get(0))?.collect())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(names, (0..12).map(|i| format!("P{i}")).collect::<Vec<_>>());
}
