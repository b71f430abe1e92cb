//! Integration tests for `affinity::rules`: semantics of every construct, the three example
//! past-event conditions at their window edges, segment sets, the compiled form, error messages,
//! and property tests (print → parse, encode → decode, determinism, bounded parser fuzzing).

use affinity::bucket::in_percent;
use affinity::rules::{
    self, decode, encode, parse, Condition, Count, Duration, EventCondition, Filter, Literal,
    MemoryEvent, MemoryFacts, Path, Rule, SegmentSet, Sequence, Test, Unit, Window, MAX_AMOUNT,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

const DAY: i64 = 86_400_000;
const NOW: i64 = 20_000 * DAY;

fn rule(src: &str) -> Rule {
    match parse(src) {
        Ok(r) => r,
        Err(e) => panic!("{src}\n{e}"),
    }
}

fn holds(src: &str, facts: &MemoryFacts) -> bool {
    let r = rule(src);
    let answer = r.evaluate(facts, NOW);
    // The compiled form and the canonical text give the same answer.
    assert_eq!(
        decode(&encode(&r)).expect("decodes").evaluate(facts, NOW),
        answer
    );
    assert_eq!(rule(&r.to_string()).evaluate(facts, NOW), answer);
    answer
}

fn customer() -> MemoryFacts {
    MemoryFacts::new("shop1", "c42")
        .with("orders", 3.0)
        .with("total_spend", 250.5)
        .with("rfm.recency", 12.0)
        .with("affinity.category.shoes", 0.8)
        .with("affinity.category.Running Shoes", 0.4)
        .with("traits.plan", "Pro")
        .with("traits.age", "42")
        .with("traits.newsletter", true)
        .with(
            "traits.tags",
            rules::Value::List(vec!["sale".into(), "Gift".into()]),
        )
        .with(
            "page.url",
            "https://shop.example/sale/shoes?utm_source=news",
        )
        .with("page.path", "/sale/shoes")
        .with("utm.source", "newsletter")
        .with("device.type", "mobile")
        .with("visitor", "returning")
        .with("cart.value", 80.0)
        .with("cart.items", 2.0)
        .with("traits.empty", "")
        .with_segment("outside")
}

// ------------------------------------------------------------------------------------------
// Operators

#[test]
fn numeric_operators() {
    let f = customer();
    for (src, want) in [
        ("orders = 3", true),
        ("orders = 4", false),
        ("orders != 4", true),
        ("orders != 3", false),
        ("orders < 3", false),
        ("orders < 4", true),
        ("orders <= 3", true),
        ("orders <= 2.99", false),
        ("orders > 3", false),
        ("orders > 2", true),
        ("orders >= 3", true),
        ("orders >= 3.01", false),
        ("total_spend between 250.5 and 300", true),
        ("total_spend between 100 and 250.5", true),
        ("total_spend between 250.6 and 300", false),
        ("orders in [1, 2, 3]", true),
        ("orders not in [1, 2, 3]", false),
        ("orders is set", true),
        ("predicted.clv is not set", true),
        ("predicted.clv > 0", false),
        ("predicted.clv != 5", true),
        ("traits.age > 40", true),
        ("traits.age = 42", true),
        ("traits.newsletter = true", true),
        ("traits.newsletter = false", false),
        ("affinity.category.SHOES >= 0.8", true),
        (
            "affinity.category.\"running shoes\" between 0.3 and 0.5",
            true,
        ),
        (
            "rfm.recency <= 30 and cart.items >= 2 and cart.value > 79.99",
            true,
        ),
    ] {
        assert_eq!(holds(src, &f), want, "{src}");
    }
}

#[test]
fn text_operators() {
    let f = customer();
    for (src, want) in [
        ("traits.plan = \"pro\"", true),
        ("traits.plan is \"PRO\"", true),
        ("traits.plan != \"pro\"", false),
        ("traits.plan is not \"basic\"", true),
        ("traits.missing != \"pro\"", true),
        ("traits.missing = \"pro\"", false),
        ("page.url contains \"/SALE/\"", true),
        ("page.url contains \"/outlet/\"", false),
        ("page.url does not contain \"/outlet/\"", true),
        ("page.path starts with \"/sale\"", true),
        ("page.path starts with \"sale\"", false),
        ("page.path ends with \"/shoes\"", true),
        ("page.path ends with \"/hats\"", false),
        ("utm.source in [\"google\", \"newsletter\"]", true),
        ("utm.source not in [\"google\", \"newsletter\"]", false),
        ("device.type = \"mobile\"", true),
        ("visitor = \"returning\"", true),
        ("visitor = \"new\"", false),
        ("traits.tags contains \"gift\"", true),
        ("traits.tags contains \"gi\"", false),
        ("traits.tags = \"sale\"", true),
        ("traits.tags in [\"x\", \"GIFT\"]", true),
        ("traits.tags starts with \"gi\"", true),
        ("traits.empty is set", false),
        ("traits.empty is not set", true),
        ("page.referrer contains \"\"", false),
    ] {
        assert_eq!(holds(src, &f), want, "{src}");
    }
}

#[test]
fn logic_segments_and_buckets() {
    let f = customer();
    for (src, want) in [
        ("orders = 3 and orders = 4", false),
        ("orders = 3 or orders = 4", true),
        ("not orders = 4", true),
        ("not not orders = 4", false),
        ("not (orders = 3 and orders = 4)", true),
        (
            "orders = 4 or orders = 5 or (orders = 3 and visitor = \"returning\")",
            true,
        ),
        ("in segment \"outside\"", true),
        ("in segment \"elsewhere\"", false),
        ("in 0% bucket \"holdout\"", false),
        ("in 100% bucket \"holdout\"", true),
    ] {
        assert_eq!(holds(src, &f), want, "{src}");
    }
    // Buckets are the one bucketing function, keyed by shop, customer and the bucket name.
    for i in 0..200 {
        let c = format!("c{i}");
        let facts = MemoryFacts::new("shop1", &c);
        assert_eq!(
            rule("in 10% bucket \"holdout-q4\"").evaluate(&facts, NOW),
            in_percent("shop1", &c, "holdout-q4", 10.0)
        );
    }
}

// ------------------------------------------------------------------------------------------
// Past events: the three examples, at their edges

fn viewed(at: i64, category: &str) -> MemoryEvent {
    MemoryEvent::new("Product Viewed", at)
        .with("category", category)
        .with("price", 30.0)
}

#[test]
fn viewed_at_least_3_shoes_in_the_last_7_days() {
    let src = r#"performed "Product Viewed" where category = "Shoes" at least 3 times in the last 7 days"#;
    let base = |extra: Vec<MemoryEvent>| {
        extra
            .into_iter()
            .fold(customer(), |f, e| f.with_event(e))
            .with_event(viewed(NOW - DAY, "shoes"))
            .with_event(viewed(NOW - 2 * DAY, "Hats"))
            .with_event(MemoryEvent::new("Product Added", NOW).with("category", "Shoes"))
    };
    // Exactly 7 days ago is outside (the older edge is excluded); 1 ms later is inside.
    let f = base(vec![viewed(NOW - 7 * DAY, "Shoes"), viewed(NOW, "Shoes")]);
    assert!(!holds(src, &f));
    let f = base(vec![
        viewed(NOW - 7 * DAY + 1, "Shoes"),
        viewed(NOW, "Shoes"),
    ]);
    assert!(holds(src, &f));
    // `now` itself is inside, the future is not.
    let f = base(vec![
        viewed(NOW - 3 * DAY, "Shoes"),
        viewed(NOW + 1, "Shoes"),
    ]);
    assert!(!holds(src, &f));
    // The alarm: the oldest counted event leaves the window at its time + 7 days.
    let r = rule(src);
    let f = base(vec![
        viewed(NOW - 7 * DAY + 1, "Shoes"),
        viewed(NOW, "Shoes"),
    ]);
    assert_eq!(r.next_change_ms(&f, NOW), Some(NOW + 1));
    assert!(!r.evaluate(&f, NOW + 1));
    // A future event enters at its own time.
    let f = base(vec![
        viewed(NOW - 3 * DAY, "Shoes"),
        viewed(NOW + 5, "Shoes"),
    ]);
    assert_eq!(r.next_change_ms(&f, NOW), Some(NOW + 5));
    assert!(r.evaluate(&f, NOW + 5));
}

fn order(at: i64) -> MemoryEvent {
    MemoryEvent::new("Order Completed", at).with("revenue", 99.0)
}

#[test]
fn ordered_30_to_90_days_ago_but_not_in_the_last_30() {
    let src = r#"performed "Order Completed" between 30 and 90 days ago
                 and not performed "Order Completed" in the last 30 days"#;
    let with = |times: &[i64]| {
        times
            .iter()
            .fold(MemoryFacts::new("s", "c"), |f, &t| f.with_event(order(t)))
    };
    // The newer edge (30 days ago) is included in "between", excluded from "in the last 30".
    assert!(holds(src, &with(&[NOW - 30 * DAY])));
    assert!(!holds(src, &with(&[NOW - 30 * DAY + 1])));
    // The older edge (90 days ago) is excluded.
    assert!(!holds(src, &with(&[NOW - 90 * DAY])));
    assert!(holds(src, &with(&[NOW - 90 * DAY + 1])));
    // A recent order too: not lapsed.
    assert!(!holds(src, &with(&[NOW - 60 * DAY, NOW - DAY])));
    assert!(!holds(src, &with(&[])));
    // "between 30 and 90 days ago" and "in the last 30 days" split "in the last 90 days".
    for t in [
        0,
        1,
        30 * DAY - 1,
        30 * DAY,
        30 * DAY + 1,
        90 * DAY - 1,
        90 * DAY,
    ] {
        let f = with(&[NOW - t]);
        let a = holds(
            r#"performed "Order Completed" between 30 and 90 days ago"#,
            &f,
        );
        let b = holds(r#"performed "Order Completed" in the last 30 days"#, &f);
        let all = holds(r#"performed "Order Completed" in the last 90 days"#, &f);
        assert!(!(a && b), "{t}");
        assert_eq!(a || b, all, "{t}");
    }
    // The alarm: an order 40 days ago lapses out at 90 days.
    let r = rule(src);
    assert_eq!(
        r.next_change_ms(&with(&[NOW - 40 * DAY]), NOW),
        Some(NOW + 50 * DAY)
    );
    // An order 10 days ago enters "between" at 30 days (and leaves "last 30" then).
    assert_eq!(
        r.next_change_ms(&with(&[NOW - 10 * DAY]), NOW),
        Some(NOW + 20 * DAY)
    );
    assert!(r.evaluate(&with(&[NOW - 10 * DAY]), NOW + 20 * DAY));
}

#[test]
fn added_to_cart_but_no_order_within_1_day() {
    let src = r#"performed "Product Added" not followed by "Order Completed" within 1 day"#;
    let with = |added: i64, orders: &[i64]| {
        orders.iter().fold(
            MemoryFacts::new("s", "c").with_event(MemoryEvent::new("Product Added", added)),
            |f, &t| f.with_event(order(t)),
        )
    };
    // The day must be over: exactly one day later it is (the end is included).
    assert!(holds(src, &with(NOW - DAY, &[])));
    assert!(!holds(src, &with(NOW - DAY + 1, &[])));
    // An order within (added, added + 1 day] cancels it, the end included.
    assert!(!holds(src, &with(NOW - 2 * DAY, &[NOW - DAY])));
    assert!(!holds(src, &with(NOW - 2 * DAY, &[NOW - 2 * DAY + 1])));
    // An order at the same millisecond or after the day does not.
    assert!(holds(src, &with(NOW - 2 * DAY, &[NOW - 2 * DAY])));
    assert!(holds(src, &with(NOW - 2 * DAY, &[NOW - DAY + 1])));
    // The alarm: the absence period closes one day after the add.
    let r = rule(src);
    let f = with(NOW - 3_600_000, &[]);
    assert_eq!(r.next_change_ms(&f, NOW), Some(NOW - 3_600_000 + DAY));
    assert!(r.evaluate(&f, NOW - 3_600_000 + DAY));
    // The positive form counts an order inside the period, as soon as it happens.
    let pos = r#"performed "Product Added" followed by "Order Completed" within 1 day"#;
    assert!(holds(pos, &with(NOW - 3_600_000, &[NOW - 60_000])));
    assert!(!holds(pos, &with(NOW - 3 * DAY, &[NOW - DAY])));
    // With a count and a window.
    let twice = r#"performed "Product Added" not followed by "Order Completed" within 1 day at least 2 times in the last 7 days"#;
    let f = with(NOW - 3 * DAY, &[]).with_event(MemoryEvent::new("product added", NOW - 5 * DAY));
    assert!(holds(twice, &f));
    assert!(!holds(
        twice,
        &f.clone().with_event(order(NOW - 5 * DAY + 10))
    ));
}

#[test]
fn counts_and_filters() {
    let f = (0..5).fold(MemoryFacts::new("s", "c"), |f, i| {
        f.with_event(viewed(
            NOW - i * DAY,
            if i % 2 == 0 { "Shoes" } else { "Hats" },
        ))
    });
    for (src, want) in [
        (r#"performed "Product Viewed""#, true),
        (r#"performed "product viewed" exactly 5 times"#, true),
        (r#"performed "Product Viewed" at most 4 times"#, false),
        (
            r#"performed "Product Viewed" where category = "Shoes" exactly 3 times"#,
            true,
        ),
        (
            r#"performed "Product Viewed" where category in ["hats"], price < 31 exactly 2 times"#,
            true,
        ),
        (
            r#"performed "Product Viewed" where category = "Shoes", price > 30"#,
            false,
        ),
        (
            r#"performed "Product Viewed" where brand is not set at least 5 times"#,
            true,
        ),
        (
            r#"performed "Product Viewed" at least 0 times in the last 1 minute"#,
            true,
        ),
        (
            r#"performed "Product Viewed" exactly once in the last 1 hour"#,
            true,
        ),
        (r#"performed "Order Completed" at most 0 times"#, true),
        (r#"not performed "Order Completed""#, true),
        (
            r#"performed "Product Viewed" at least 3 times in the last 2 days"#,
            false,
        ),
        (
            r#"performed "Product Viewed" at least 3 times in the last 3 days"#,
            true,
        ),
        (
            r#"performed "Product Viewed" at least 5 times in the last 1 week"#,
            true,
        ),
        (
            r#"performed "Product Viewed" between 1 and 2 days ago exactly 1 time"#,
            true,
        ),
    ] {
        assert_eq!(holds(src, &f), want, "{src}");
    }
    assert_eq!(
        rule(r#"performed "Product Viewed""#).next_change_ms(&f, NOW),
        None
    );
    assert_eq!(rule("orders > 1").next_change_ms(&f, NOW), None);
}

// ------------------------------------------------------------------------------------------
// Segment sets

#[test]
fn segment_sets() {
    let set = SegmentSet::parse([
        ("vip", r#"in segment "big spenders" and orders >= 3"#),
        ("big spenders", "total_spend >= 200"),
        (
            "lapsing vip",
            r#"in segment "vip" and not performed "Order Completed" in the last 30 days"#,
        ),
        ("new", r#"visitor = "new""#),
    ])
    .expect("compiles");
    let f = customer().with_event(order(NOW - 20 * DAY));
    let m = set.evaluate(&f, NOW);
    // Held dependencies first: "big spenders" before "vip", which refers to it.
    assert_eq!(set.names()[..2], ["big spenders", "vip"]);
    assert_eq!(m.members().collect::<Vec<_>>(), ["big spenders", "vip"]);
    assert!(m.contains("vip") && !m.contains("lapsing vip") && !m.contains("nope"));
    assert_eq!(m.as_slice(), [true, true, false, false]);
    assert_eq!(set.next_change_ms(&f, NOW), Some(NOW + 10 * DAY));
    assert!(set.evaluate(&f, NOW + 10 * DAY).contains("lapsing vip"));
    // The page receives the set compiled.
    let bytes = set.encode();
    let back = SegmentSet::decode(&bytes).expect("decodes");
    assert_eq!(back, set);
    assert_eq!(back.evaluate(&f, NOW), m);
    for cut in 0..bytes.len() {
        assert!(SegmentSet::decode(&bytes[..cut]).is_err());
    }
    assert_eq!(set.names().len(), set.len());
    assert!(set.rule("vip").is_some() && !set.is_empty());

    let e = SegmentSet::parse([("a", "orders >")]).expect_err("syntax");
    assert_eq!(e.segment(), Some("a"));
    assert!(e.is_syntax());
    let e = SegmentSet::parse([("a", r#"in segment "b""#), ("b", r#"not in segment "a""#)])
        .expect_err("cycle");
    assert!(e.is_cycle());
}

// ------------------------------------------------------------------------------------------
// Compiled form

#[test]
fn compiled_form_is_compact_and_strict() {
    let src = r#"performed "Product Viewed" where category = "Shoes" at least 3 times in the last 7 days
and total_spend > 100
and not in segment "vip""#;
    let r = rule(src);
    let bytes = encode(&r);
    assert!(bytes.len() < src.len() * 2 / 3, "{} bytes", bytes.len());
    assert_eq!(decode(&bytes).expect("decodes"), r);
    for cut in 0..bytes.len() {
        assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(decode(&longer).is_err());
    let err: rules::Error = decode(&[b'R', 99]).expect_err("version").into();
    assert!(err.is_decode());
}

// ------------------------------------------------------------------------------------------
// Error messages

fn err(src: &str) -> String {
    match parse(src) {
        Ok(r) => panic!("parsed {src:?} as {r:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn limits_give_errors_not_crashes() {
    let deep = "(".repeat(60_000);
    assert!(parse(&deep).expect_err("deep").is_too_deep());
    let deep = "(".repeat(100_000);
    assert!(parse(&deep).expect_err("long").is_too_long());
    let nots = "not ".repeat(16_000) + "orders > 1";
    assert!(parse(&nots).expect_err("nots").is_too_deep());
    let ok = "not ".repeat(rules::MAX_DEPTH) + "orders > 1";
    assert!(parse(&ok).is_ok());
    let ok = "(".repeat(rules::MAX_DEPTH) + "orders > 1" + &")".repeat(rules::MAX_DEPTH);
    assert!(parse(&ok).is_ok());
    assert!(parse("total_spend > 1e400").expect_err("e").is_syntax());
    let big = format!("total_spend > 1{}", "0".repeat(400));
    assert!(parse(&big).expect_err("big").is_range());
    let r = rule("total_spend > 99999999999999999999999");
    assert_eq!(rule(&r.to_string()), r);
    assert!(parse(r#"performed "x" at least 99999999999 times"#)
        .expect_err("n")
        .is_range());
    assert!(parse(r#"performed "x" in the last 0 days"#)
        .expect_err("0")
        .is_range());
    assert!(parse(r#"performed "x" in the last 99999 days"#)
        .expect_err("n")
        .is_range());
    assert!(parse(r#"performed "x" in the last 1.5 days"#)
        .expect_err("n")
        .is_range());
    assert!(parse(r#"in segment """#).is_err());
    let long_and = vec!["orders > 1"; 3_000].join(" and ");
    assert!(parse(&long_and).is_ok());
}

#[test]
fn error_messages() {
    insta::assert_snapshot!(err("orders > 1\nand total_spend 100"), @r##"
    error: expected a comparison operator (=, !=, <, >, contains, ...) after `total_spend`
     --> line 2, column 17
      |
    2 | and total_spend 100
      |                 ^^^
    "##);
    insta::assert_snapshot!(err(r#"totl_spend > 100"#), @r##"
    error: unknown property `totl_spend`; did you mean `total_spend`?
     --> line 1, column 1
      |
    1 | totl_spend > 100
      | ^^^^^^^^^^
    "##);
    insta::assert_snapshot!(err(r#"(orders > 1 and total_spend > 5"#), @r##"
    error: expected `)` to close the `(` on line 1, column 1, found the end of the rule
     --> line 1, column 32
      |
    1 | (orders > 1 and total_spend > 5
      |                                ^
    "##);
    insta::assert_snapshot!(err(r#"orders >"#), @r##"
    error: expected a number after `>`, found the end of the rule
     --> line 1, column 9
      |
    1 | orders >
      |         ^
    "##);
    insta::assert_snapshot!(err(r#"total_spend > "100""#), @r##"
    error: write numbers without quotes: `> 100`
     --> line 1, column 15
      |
    1 | total_spend > "100"
      |               ^^^^^
    "##);
    insta::assert_snapshot!(err(r#"orders contains "x""#), @r##"
    error: `orders` is a number: compare it with =, !=, <, <=, >, >=, between or in [...]
     --> line 1, column 8
      |
    1 | orders contains "x"
      |        ^^^^^^^^
    "##);
    insta::assert_snapshot!(err(r#"page.url contains "sale"#), @r##"
    error: this text is missing its closing quote `"`
     --> line 1, column 19
      |
    1 | page.url contains "sale
      |                   ^
    "##);
    insta::assert_snapshot!(err(r#"performed "Order Completed" in the last 7 fortnights"#), @r##"
    error: expected a time unit (minutes, hours, days, weeks or months) after `7`
     --> line 1, column 43
      |
    1 | performed "Order Completed" in the last 7 fortnights
      |                                           ^^^^^^^^^^
    "##);
    insta::assert_snapshot!(err(r#"in 150% bucket "holdout""#), @r##"
    error: a percentage must be between 0 and 100
     --> line 1, column 4
      |
    1 | in 150% bucket "holdout"
      |    ^^^
    "##);
    insta::assert_snapshot!(err(r#"total_spend > 1e400"#), @r##"
    error: `1e400` is not a number; write numbers with digits and an optional decimal point, like 12 or 4.5
     --> line 1, column 15
      |
    1 | total_spend > 1e400
      |               ^^^^^
    "##);
    insta::assert_snapshot!(err(r#"performed "Product Viewed" where category = "Shoes" and brand = "Nike""#), @r##"
    error: unknown property `brand`; `brand` is a property of events: to filter a `performed` condition by several properties, separate the filters with commas, like `where category = "Shoes", brand = "Acme"`
     --> line 1, column 57
      |
    1 | performed "Product Viewed" where category = "Shoes" and brand = "Nike"
      |                                                         ^^^^^
    "##);
    insta::assert_snapshot!(err(r#"in segment vip"#), @r##"
    error: expected the segment name in quotes after `in segment`, like `in segment "vip"`
     --> line 1, column 12
      |
    1 | in segment vip
      |            ^^^
    "##);
    insta::assert_snapshot!(err(r#"orders > 1 total_spend > 5"#), @r##"
    error: expected `and`, `or` or the end of the rule, found `total_spend`
     --> line 1, column 12
      |
    1 | orders > 1 total_spend > 5
      |            ^^^^^^^^^^^
    "##);
    insta::assert_snapshot!(err(r#"traits.plan = “pro”"#), @r##"
    error: write text in straight double quotes, like "Shoes"
     --> line 1, column 15
      |
    1 | traits.plan = “pro”
      |               ^
    "##);
    insta::assert_snapshot!(err(r#"page.url > 5"#), @r##"
    error: `page.url` is text: compare it with =, !=, contains, starts with, ends with or in [...]
     --> line 1, column 10
      |
    1 | page.url > 5
      |          ^
    "##);
    insta::assert_snapshot!(err(r#"cart.value between 10 and 5"#), @r##"
    error: the first number must not be larger than the second: write `between 5 and 10`
     --> line 1, column 27
      |
    1 | cart.value between 10 and 5
      |                           ^
    "##);
    insta::assert_snapshot!(err(r#"visitor = "old""#), @r##"
    error: `visitor` is either "new" or "returning"
     --> line 1, column 11
      |
    1 | visitor = "old"
      |           ^^^^^
    "##);
    insta::assert_snapshot!(err(r#"performed Product Viewed"#), @r##"
    error: expected the event name in quotes after `performed`, like `performed "Order Completed"`
     --> line 1, column 11
      |
    1 | performed Product Viewed
      |           ^^^^^^^
    "##);
    insta::assert_snapshot!(err(r#"performed "Order Completed" at least 3 in the last 30 days"#), @r##"
    error: expected `times` after `3`
     --> line 1, column 40
      |
    1 | performed "Order Completed" at least 3 in the last 30 days
      |                                        ^^
    "##);
    insta::assert_snapshot!(err(r#"performed "Order Completed" between 90 and 30 days ago"#), @r##"
    error: the first number must be smaller than the second: write `between 30 and 90`
     --> line 1, column 44
      |
    1 | performed "Order Completed" between 90 and 30 days ago
      |                                            ^^
    "##);
    insta::assert_snapshot!(err(r#"plan = "pro""#), @r##"
    error: unknown property `plan`; for a customer trait write `traits.plan`
     --> line 1, column 1
      |
    1 | plan = "pro"
      | ^^^^
    "##);
    insta::assert_snapshot!(err(r#"affinity.category > 0.5"#), @r##"
    error: `affinity.category` needs a name after it, like `affinity.category.shoes`
     --> line 1, column 1
      |
    1 | affinity.category > 0.5
      | ^^^^^^^^^^^^^^^^^
    "##);
    insta::assert_snapshot!(err(r#"orders >= 1 or"#), @r##"
    error: expected a condition (a property test, `performed`, `in segment` or `not`), found the end of the rule
     --> line 1, column 15
      |
    1 | orders >= 1 or
      |               ^
    "##);
    insta::assert_snapshot!(err(r#"utm.source in ("google", "bing")"#), @r##"
    error: expected a list in square brackets after `in`, like ["a", "b"]
     --> line 1, column 15
      |
    1 | utm.source in ("google", "bing")
      |               ^
    "##);
    insta::assert_snapshot!(err(r#"traits.plan = pro"#), @r##"
    error: put text in double quotes: "pro"
     --> line 1, column 15
      |
    1 | traits.plan = pro
      |               ^^^
    "##);
    insta::assert_snapshot!(err(r#"performed "Product Added" not followed by "Order Completed""#), @r##"
    error: expected `within` and a time after the event, like `within 1 day`
     --> line 1, column 60
      |
    1 | performed "Product Added" not followed by "Order Completed"
      |                                                            ^
    "##);
    insta::assert_snapshot!(err(r#"orders ! 1"#), @r##"
    error: `!` must be followed by `=` (not equal); to negate a condition, write `not`
     --> line 1, column 8
      |
    1 | orders ! 1
      |        ^
    "##);
}

// ------------------------------------------------------------------------------------------
// Property tests: a fixed seed and bounded cases, so `cargo test` is deterministic and quick.

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        rng_seed: RngSeed::Fixed(0xAFF1_2026),
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    })
}

fn word() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,7}"
}

/// Any non-empty text, control characters, quotes and non-ASCII included.
fn name() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 1..8).prop_map(|c| c.into_iter().collect())
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        (-1000i64..1000).prop_map(|i| i as f64),
        (-100_000i64..100_000).prop_map(|i| i as f64 / 100.0),
        any::<f64>().prop_filter("finite", |n| n.is_finite()),
    ]
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        number().prop_map(Literal::Number),
        name().prop_map(Literal::Text),
        any::<bool>().prop_map(Literal::Bool),
    ]
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Number,
    Text,
    Any,
    Visitor,
}

fn number_test() -> BoxedStrategy<Test> {
    prop_oneof![
        number().prop_map(|n| Test::Eq(Literal::Number(n))),
        number().prop_map(|n| Test::Ne(Literal::Number(n))),
        number().prop_map(Test::Lt),
        number().prop_map(Test::Le),
        number().prop_map(Test::Gt),
        number().prop_map(Test::Ge),
        (number(), number()).prop_map(|(a, b)| Test::Between(a.min(b), a.max(b))),
        prop::collection::vec(number().prop_map(Literal::Number), 1..4).prop_map(Test::In),
        prop::collection::vec(number().prop_map(Literal::Number), 1..4).prop_map(Test::NotIn),
        Just(Test::IsSet),
        Just(Test::IsNotSet),
    ]
    .boxed()
}

fn text_test(text: BoxedStrategy<String>) -> BoxedStrategy<Test> {
    let lit = text.clone().prop_map(Literal::Text);
    prop_oneof![
        lit.clone().prop_map(Test::Eq),
        lit.clone().prop_map(Test::Ne),
        text.clone().prop_map(Test::Contains),
        text.clone().prop_map(Test::NotContains),
        text.clone().prop_map(Test::StartsWith),
        text.prop_map(Test::EndsWith),
        prop::collection::vec(lit.clone(), 1..4).prop_map(Test::In),
        prop::collection::vec(lit, 1..4).prop_map(Test::NotIn),
        Just(Test::IsSet),
        Just(Test::IsNotSet),
    ]
    .boxed()
}

fn any_test() -> BoxedStrategy<Test> {
    prop_oneof![
        number_test(),
        text_test(name().boxed()),
        literal().prop_map(Test::Eq),
        prop::collection::vec(literal(), 1..4).prop_map(Test::NotIn),
    ]
    .boxed()
}

fn test_for(kind: Kind) -> BoxedStrategy<Test> {
    match kind {
        Kind::Number => number_test(),
        Kind::Text => text_test(name().boxed()),
        Kind::Any => any_test(),
        Kind::Visitor => prop_oneof![
            Just(Test::Eq(Literal::Text("new".into()))),
            Just(Test::Ne(Literal::Text("returning".into()))),
            Just(Test::IsSet),
        ]
        .boxed(),
    }
}

fn property() -> impl Strategy<Value = (Path, Kind)> {
    let fixed = |p: &'static str, k| Just((Path::dotted(p), k));
    prop_oneof![
        fixed("orders", Kind::Number),
        fixed("total_spend", Kind::Number),
        fixed("rfm.recency", Kind::Number),
        fixed("cart.value", Kind::Number),
        fixed("page.url", Kind::Text),
        fixed("utm.source", Kind::Text),
        fixed("device.type", Kind::Text),
        fixed("visitor", Kind::Visitor),
        word().prop_map(|w| (Path::new(["predicted".to_string(), w]), Kind::Number)),
        prop_oneof![word(), name()].prop_map(|n| (
            Path::new(["affinity".to_string(), "category".to_string(), n]),
            Kind::Number
        )),
        (word(), prop::option::of(prop_oneof![word(), name()])).prop_map(|(a, b)| {
            let mut segs = vec!["traits".to_string(), a];
            segs.extend(b);
            (Path::new(segs), Kind::Any)
        }),
    ]
}

fn duration(min: u32) -> impl Strategy<Value = Duration> {
    (
        min..=MAX_AMOUNT,
        prop_oneof![
            Just(Unit::Minute),
            Just(Unit::Hour),
            Just(Unit::Day),
            Just(Unit::Week),
            Just(Unit::Month)
        ],
    )
        .prop_map(|(amount, unit)| Duration { amount, unit })
}

fn event_condition() -> impl Strategy<Value = EventCondition> {
    let filter =
        (prop_oneof![word(), name()], any_test()).prop_map(|(key, test)| Filter { key, test });
    let sequence = prop::option::of((any::<bool>(), name(), duration(1)).prop_map(
        |(absent, event, within)| Sequence {
            absent,
            event,
            within,
        },
    ));
    let count = prop_oneof![
        (0u32..5).prop_map(Count::AtLeast),
        (0u32..5).prop_map(Count::AtMost),
        (0u32..5).prop_map(Count::Exactly),
    ];
    let window = prop_oneof![
        Just(Window::Ever),
        duration(1).prop_map(Window::Last),
        (0..MAX_AMOUNT, duration(1)).prop_map(|(a, d)| {
            let (newer, older) = if a < d.amount {
                (a, d.amount)
            } else {
                (d.amount - 1, a.max(d.amount))
            };
            Window::Ago {
                newer,
                older: older.max(newer + 1),
                unit: d.unit,
            }
        }),
    ];
    (
        name(),
        prop::collection::vec(filter, 0..3),
        sequence,
        count,
        window,
    )
        .prop_map(|(event, filters, sequence, count, window)| EventCondition {
            event,
            filters,
            sequence,
            count,
            window,
        })
}

fn condition() -> impl Strategy<Value = Rule> {
    prop_oneof![
        3 => property()
            .prop_flat_map(|(p, k)| test_for(k).prop_map(move |test| Condition::Compare {
                property: p.clone(),
                test
            })),
        1 => name().prop_map(Condition::InSegment),
        1 => (0.0f64..=100.0, name()).prop_map(|(percent, name)| Condition::Bucket { percent, name }),
        2 => event_condition().prop_map(|e| Condition::Performed(Box::new(e))),
    ]
    .prop_map(Rule::Condition)
}

fn any_rule() -> impl Strategy<Value = Rule> {
    condition().prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Rule::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Rule::Or),
            inner.prop_map(|r| Rule::Not(Box::new(r))),
        ]
    })
}

#[test]
fn print_then_parse_gives_the_same_tree() {
    runner(400)
        .run(&any_rule(), |r| {
            let text = r.to_string();
            let back = parse(&text).map_err(|e| TestCaseError::fail(format!("{text}\n{e}")))?;
            prop_assert_eq!(&back, &r, "{}", text);
            prop_assert_eq!(back.to_string(), text);
            Ok(())
        })
        .expect("round trip");
}

#[test]
fn encode_then_decode_gives_the_same_tree() {
    runner(400)
        .run(&any_rule(), |r| {
            let bytes = encode(&r);
            prop_assert_eq!(decode(&bytes), Ok(r.clone()));
            // Every strict prefix is rejected without panicking.
            for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
                prop_assert!(decode(&bytes[..cut]).is_err());
            }
            Ok(())
        })
        .expect("round trip");
}

fn facts() -> impl Strategy<Value = MemoryFacts> {
    let event = (
        prop_oneof![
            Just("Product Viewed"),
            Just("Order Completed"),
            Just("Product Added")
        ],
        -40i64..5,
        prop_oneof![Just("Shoes"), Just("Hats")],
    )
        .prop_map(|(n, d, c)| MemoryEvent::new(n, NOW + d * DAY / 2).with("category", c));
    (
        0.0f64..10.0,
        0.0f64..500.0,
        prop_oneof![Just("new"), Just("returning")],
        prop::collection::vec(event, 0..30),
        "[a-z0-9]{1,6}",
    )
        .prop_map(|(orders, spend, visitor, events, customer)| {
            let f = MemoryFacts::new("shop", &customer)
                .with("orders", orders.floor())
                .with("total_spend", spend)
                .with("visitor", visitor)
                .with("page.url", "https://x.example/sale");
            events.into_iter().fold(f, |f, e| f.with_event(e))
        })
}

#[test]
fn evaluation_is_deterministic() {
    let realistic = prop_oneof![
        Just(r#"performed "Product Viewed" where category = "Shoes" at least 3 times in the last 7 days and total_spend > 100"#),
        Just(r#"performed "Order Completed" between 5 and 15 days ago and not performed "Order Completed" in the last 5 days"#),
        Just(r#"performed "Product Added" not followed by "Order Completed" within 1 day in the last 10 days"#),
        Just(r#"visitor = "new" or orders between 2 and 5 or in 30% bucket "b""#),
    ]
    .prop_map(rule);
    let rules = prop_oneof![any_rule(), realistic];
    runner(300)
        .run(&(rules, facts(), -3i64..3), |(r, f, shift)| {
            let now = NOW + shift * DAY / 3;
            let a = r.evaluate(&f, now);
            prop_assert_eq!(a, r.evaluate(&f, now));
            prop_assert_eq!(a, r.evaluate(&f.clone(), now));
            prop_assert_eq!(a, decode(&encode(&r)).expect("decodes").evaluate(&f, now));
            // Event order does not matter.
            let mut rev = f.clone();
            rev.events.reverse();
            prop_assert_eq!(a, r.evaluate(&rev, now));
            // Nothing changes before the next change.
            let next = r.next_change_ms(&f, now);
            if let Some(t) = next {
                prop_assert!(t > now);
                prop_assert_eq!(a, r.evaluate(&f, now + (t - now) / 2));
                prop_assert_eq!(a, r.evaluate(&f, t - 1));
            } else {
                prop_assert_eq!(a, r.evaluate(&f, now + 400 * DAY));
            }
            Ok(())
        })
        .expect("deterministic");
}

/// Text made of the language's own pieces, so fuzzing reaches deep into the grammar.
fn rule_soup() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "and ",
        "or ",
        "not ",
        "( ",
        ") ",
        "performed ",
        "\"Order Completed\" ",
        "where ",
        "category ",
        "= ",
        "!= ",
        "< ",
        ">= ",
        "between ",
        "3 ",
        "-1.5 ",
        "100% ",
        "in ",
        "segment ",
        "bucket ",
        "the ",
        "last ",
        "days ",
        "ago ",
        "at ",
        "least ",
        "times ",
        "followed ",
        "by ",
        "within ",
        "total_spend ",
        "traits.x ",
        "[ ",
        "] ",
        ", ",
        "contains ",
        "is ",
        "set ",
        "\"x\" ",
        "\n",
        "affinity.category.",
        "1e400 ",
        "99999999999999999999999 ",
        "# c\n",
        "\"unterminated",
        "\u{301c}",
    ]);
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn check_parse(text: &str) -> Result<(), TestCaseError> {
    match parse(text) {
        Ok(r) => {
            // Whatever parses prints canonically and parses back to the same tree.
            let printed = r.to_string();
            let again = parse(&printed);
            prop_assert_eq!(again.as_ref(), Ok(&r), "{}", printed);
        }
        Err(e) => {
            // Every error renders, and a located error has a caret.
            let shown = e.to_string();
            prop_assert!(shown.starts_with("error"));
            if e.line().is_some() {
                prop_assert!(shown.contains('^'));
            }
        }
    }
    Ok(())
}

#[test]
fn parser_fuzz_is_bounded_and_never_panics() {
    let started = std::time::Instant::now();
    runner(1_500)
        .run(&rule_soup(), |s| check_parse(&s))
        .expect("soup");
    runner(500)
        .run(&any::<String>(), |s| check_parse(&s))
        .expect("strings");
    runner(500)
        .run(&prop::collection::vec(any::<u8>(), 0..200), |b| {
            check_parse(&String::from_utf8_lossy(&b))?;
            let _ = decode(&b);
            let _ = SegmentSet::decode(&b);
            Ok(())
        })
        .expect("bytes");
    assert!(
        started.elapsed().as_secs() < 60,
        "fuzzing took {:?}",
        started.elapsed()
    );
}

#[test]
fn decoder_fuzz_on_mutated_encodings() {
    runner(300)
        .run(
            &(
                any_rule(),
                prop::collection::vec((any::<usize>(), any::<u8>()), 1..4),
            ),
            |(r, flips)| {
                let mut bytes = encode(&r);
                for (i, b) in flips {
                    let n = bytes.len();
                    bytes[i % n] = b;
                }
                if let Ok(back) = decode(&bytes) {
                    // Whatever decodes is a valid tree: it re-encodes, decodes and prints back.
                    prop_assert_eq!(decode(&encode(&back)), Ok(back.clone()));
                    let _ = back.to_string();
                }
                Ok(())
            },
        )
        .expect("mutations");
}

/// Points every `in segment` of the rule of segment `i` at an earlier segment (`s0` .. `s{i-1}`),
/// so a set of generated rules has no unknown reference and no cycle.
fn point_back(r: &mut Rule, i: usize) {
    match r {
        Rule::And(parts) | Rule::Or(parts) => {
            for p in parts {
                point_back(p, i);
            }
        }
        Rule::Not(inner) => point_back(inner, i),
        Rule::Condition(Condition::InSegment(name)) => match i {
            0 => {
                *r = Rule::Condition(Condition::Bucket {
                    percent: 50.0,
                    name: name.clone(),
                })
            }
            _ => *name = format!("s{}", name.len() % i),
        },
        Rule::Condition(_) => {}
    }
}

#[test]
fn segment_set_decoder_fuzz() {
    let sets = prop::collection::vec(any_rule(), 1..5).prop_map(|rules| {
        let named: Vec<(String, Rule)> = rules
            .into_iter()
            .enumerate()
            .map(|(i, mut r)| {
                point_back(&mut r, i);
                (format!("s{i}"), r)
            })
            .collect();
        SegmentSet::new(named).expect("references point back: the set compiles")
    });
    let flips = prop::collection::vec((any::<usize>(), any::<u8>()), 1..4);
    runner(150)
        .run(&(sets, facts(), flips), |(set, f, flips)| {
            let bytes = set.encode();
            // What the page decodes is the set the edge compiled, member for member.
            let back = SegmentSet::decode(&bytes).expect("decodes");
            prop_assert_eq!(&back, &set);
            let (got, want) = (back.evaluate(&f, NOW), set.evaluate(&f, NOW));
            prop_assert_eq!(got.as_slice(), want.as_slice());
            // Every truncation is refused, at an offset inside what was given.
            for cut in 0..bytes.len() {
                let e = SegmentSet::decode(&bytes[..cut]).expect_err("truncated");
                prop_assert!(e.offset() <= cut, "cut {} gave {:?}", cut, e);
            }
            // Whatever a mutation leaves that decodes is a valid set: it evaluates, and its
            // encoding decodes back to it.
            let mut mutated = bytes.clone();
            for (i, b) in flips {
                let n = mutated.len();
                mutated[i % n] = b;
            }
            if let Ok(m) = SegmentSet::decode(&mutated) {
                let _ = m.evaluate(&f, NOW);
                let _ = m.next_change_ms(&f, NOW);
                prop_assert_eq!(SegmentSet::decode(&m.encode()), Ok(m.clone()));
            }
            Ok(())
        })
        .expect("segment sets");
}
