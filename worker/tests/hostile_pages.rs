//! Every dashboard page rendered with hostile data in every text field: script tags, quote and
//! attribute breakouts, raw-text element breakouts (`</textarea>`, `</title>`, `</style>`,
//! `</script>`) and `javascript:` / `data:` URLs in the URL fields. The output is tokenized
//! the way a browser reads it (tags, attributes, raw-text elements, character references) and
//! must contain only the tags and attributes the templates write, no event-handler attribute,
//! no script but the page's own, and no link or form target with a script scheme; the hostile
//! text must still be there, as text.

use std::collections::BTreeMap;

use affinity::json::Value;
use affinity::profile::{Affinity, CartLine, Order, Product, Profile, Viewed};
use affinity_worker::dashboard::explore::{self, Question, Row};
use affinity_worker::dashboard::insights::{self, CustomerInsights, InstallTags};
use affinity_worker::dashboard::period::{Grain, Period, Zone};
use affinity_worker::dashboard::{
    self, ConsentChange, CustomerExtras, CustomerRow, OrderRefunds, OrderRow, Overview, Shown,
    TimelineEntry, TopProduct,
};
use affinity_worker::platform::html::{in_currency, Currency};
use affinity_worker::platform::store::dashboard::{
    BoughtWith, CohortCell, Freshness, FunnelCounts, NewReturning, ProductStats, RfmCount,
    SlotTotals, TopCustomer,
};
use affinity_worker::recs::{self, Attributed, Group, RecsPage, SlotRow};
use affinity_worker::segments::pages::{self, Editor};
use affinity_worker::segments::{Held, Listed, RuleError, SegmentRow};

/// Breaks out of text, double- and single-quoted attributes and every raw-text element.
const EVIL: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(1)>' onmouseover='x' \
                    </textarea></title></style></script><script>x</script><svg onload=alert(2)>&amp;";

/// What the browser must still show as text where `EVIL` was rendered.
const EVIL_TEXT: &str = "<script>alert(1)</script>";

/// Script and data URLs as a browser would still run them: case, blanks, controls.
const EVIL_URLS: [&str; 5] = [
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "\u{1}javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
];

const NOW: i64 = 1_795_000_000_000;

fn evil(tag: &str) -> String {
    format!("{tag}{EVIL}")
}

// ---------------------------------------------------------------------------------------------
// A small HTML tokenizer: enough of the HTML syntax to see what a browser would make of a page.

#[derive(Debug)]
struct Tag {
    name: String,
    closing: bool,
    attrs: Vec<(String, String)>,
}

#[derive(Debug, Default)]
struct Scan {
    tags: Vec<Tag>,
    /// Decoded text of text nodes and of `<title>` / `<textarea>`.
    text: String,
    /// Raw content of each `<script>`: its `type` and text.
    scripts: Vec<(Option<String>, String)>,
}

/// Decodes character references (`&lt;`, `&#60;`, `&#x3c;`, …).
fn decode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                n if n.starts_with("#x") || n.starts_with("#X") => u32::from_str_radix(&n[2..], 16)
                    .ok()
                    .and_then(char::from_u32),
                n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn scan(html: &str) -> Scan {
    let b = html.as_bytes();
    let mut s = Scan::default();
    let mut i = 0;
    let mut text_start = 0;
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        s.text.push_str(&decode(&html[text_start..i]));
        if html[i..].starts_with("<!--") {
            let end = html[i..].find("-->").map_or(b.len(), |e| i + e + 3);
            i = end;
            text_start = i;
            continue;
        }
        if html[i..].starts_with("<!") {
            i = html[i..].find('>').map_or(b.len(), |e| i + e + 1);
            text_start = i;
            continue;
        }
        let closing = b.get(i + 1) == Some(&b'/');
        let mut j = i + 1 + usize::from(closing);
        if !b.get(j).is_some_and(u8::is_ascii_alphabetic) {
            // `<` not starting a tag is text.
            i += 1;
            continue;
        }
        let name_start = j;
        while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' && b[j] != b'/' {
            j += 1;
        }
        let name = html[name_start..j].to_ascii_lowercase();
        // Attributes.
        let mut attrs = Vec::new();
        loop {
            while j < b.len() && (b[j].is_ascii_whitespace() || b[j] == b'/') {
                j += 1;
            }
            if j >= b.len() || b[j] == b'>' {
                j += 1;
                break;
            }
            let a = j;
            while j < b.len() && !b[j].is_ascii_whitespace() && !matches!(b[j], b'>' | b'=' | b'/')
            {
                j += 1;
            }
            // An attribute name may start with `=` or `/`-less junk; take at least one byte.
            if j == a {
                j += 1;
            }
            let attr = html[a..j].to_ascii_lowercase();
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            let mut value = String::new();
            if b.get(j) == Some(&b'=') {
                j += 1;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                match b.get(j) {
                    Some(&q @ (b'"' | b'\'')) => {
                        let end = html[j + 1..]
                            .find(char::from(q))
                            .map_or(b.len(), |e| j + 1 + e);
                        value = decode(&html[j + 1..end]);
                        j = end + 1;
                    }
                    _ => {
                        let v = j;
                        while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                            j += 1;
                        }
                        value = decode(&html[v..j]);
                    }
                }
            }
            attrs.push((attr, value));
        }
        i = j.min(b.len());
        text_start = i;
        let raw = !closing && matches!(name.as_str(), "script" | "style" | "textarea" | "title");
        let kind = attrs
            .iter()
            .find(|(a, _)| a == "type")
            .map(|(_, v)| v.clone());
        s.tags.push(Tag {
            name: name.clone(),
            closing,
            attrs,
        });
        if raw {
            // Raw text runs to the first `</name` (any case), as in a browser.
            let lower = html[i..].to_ascii_lowercase();
            let end = lower.find(&format!("</{name}")).map_or(b.len(), |e| i + e);
            let content = &html[i..end];
            match name.as_str() {
                "script" => s.scripts.push((kind, content.to_string())),
                "title" | "textarea" => s.text.push_str(&decode(content)),
                _ => {}
            }
            i = end;
            text_start = i;
        }
    }
    s.text.push_str(&decode(&html[text_start.min(b.len())..]));
    s
}

/// The tags the templates write.
const TAGS: &[&str] = &[
    "html", "head", "meta", "title", "style", "body", "header", "div", "a", "i", "nav", "span",
    "b", "main", "h1", "h2", "p", "section", "table", "thead", "tbody", "tr", "th", "td", "svg",
    "line", "text", "rect", "polyline", "circle", "form", "label", "input", "button", "textarea",
    "pre", "code", "dl", "dt", "dd", "ol", "ul", "li", "br", "time", "script", "select", "option",
    "details", "summary",
];

/// The attributes the templates write (besides `data-*`).
const ATTRS: &[&str] = &[
    "lang",
    "charset",
    "name",
    "content",
    "id",
    "class",
    "style",
    "href",
    "rel",
    "role",
    "aria-label",
    "aria-live",
    "method",
    "action",
    "for",
    "type",
    "value",
    "autocomplete",
    "required",
    "autofocus",
    "placeholder",
    "pattern",
    "maxlength",
    "min",
    "max",
    "step",
    "selected",
    "readonly",
    "spellcheck",
    "hidden",
    "colspan",
    "datetime",
    "title",
    "viewbox",
    "width",
    "height",
    "x",
    "y",
    "x1",
    "x2",
    "y1",
    "y2",
    "rx",
    "r",
    "cx",
    "cy",
    "fill",
    "stroke",
    "stroke-width",
    "stroke-linejoin",
    "points",
    "font-size",
    "text-anchor",
];

/// What a browser would take as the URL's scheme, if any.
fn scheme(url: &str) -> Option<String> {
    let seen: String = url
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let colon = seen.find(':')?;
    let delim = seen.find(['/', '?', '#']).unwrap_or(usize::MAX);
    (colon < delim).then(|| seen[..colon].to_ascii_lowercase())
}

/// Asserts that `html` is made of the templates' own markup only; `scripts` are the page's own
/// scripts, byte for byte.
fn assert_harmless(page: &str, html: &str, scripts: &[&str]) {
    let s = scan(html);
    for t in &s.tags {
        assert!(
            TAGS.contains(&t.name.as_str()),
            "{page}: foreign tag <{}{}> in\n{html}",
            if t.closing { "/" } else { "" },
            t.name
        );
        for (a, v) in &t.attrs {
            assert!(!a.starts_with("on"), "{page}: event handler {a}={v:?}");
            assert!(
                ATTRS.contains(&a.as_str()) || a.starts_with("data-"),
                "{page}: foreign attribute {a}={v:?} on <{}>",
                t.name
            );
            if matches!(
                a.as_str(),
                "href" | "src" | "action" | "formaction" | "xlink:href"
            ) {
                if let Some(sc) = scheme(v) {
                    assert!(
                        sc == "http" || sc == "https",
                        "{page}: {a}={v:?} on <{}> has scheme {sc}",
                        t.name
                    );
                }
            }
        }
    }
    let own: Vec<&str> = s
        .scripts
        .iter()
        .filter(|(kind, _)| kind.as_deref() != Some("application/json"))
        .map(|(_, text)| text.as_str())
        .collect();
    assert_eq!(own, scripts, "{page}: scripts");
    for (_, json) in s
        .scripts
        .iter()
        .filter(|(k, _)| k.as_deref() == Some("application/json"))
    {
        assert!(
            serde_json::from_str::<serde_json::Value>(json).is_ok(),
            "{page}: JSON block does not parse: {json}"
        );
    }
    assert!(
        s.text.contains(EVIL_TEXT),
        "{page}: the hostile text is not shown as text (was it dropped?)"
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile data for every page.

fn product(tag: &str, url: &str) -> Product {
    Product {
        id: evil(&format!("{tag}-id")),
        name: evil(&format!("{tag}-name")),
        price: Some(12.5),
        category: Some(evil(&format!("{tag}-category"))),
        brand: Some(evil(&format!("{tag}-brand"))),
        url: Some(url.to_string()),
        image: Some(url.to_string()),
    }
}

fn hostile_profile() -> Profile {
    let mut p = Profile::new(&evil("customer"));
    p.user_id = Some(evil("user"));
    p.anonymous_ids = vec![evil("anon-1"), evil("anon-2")];
    let mut traits = Value::object();
    traits.set("name", evil("name").as_str().into());
    traits.set("email", evil("email").as_str().into());
    traits.set(&evil("trait-key"), evil("trait-value").as_str().into());
    p.traits = traits;
    p.first_seen_ms = NOW - 86_400_000;
    p.last_seen_ms = NOW - 60_000;
    p.searches = vec![evil("search")];
    p.categories = vec![Affinity {
        key: evil("category"),
        score: 3.0,
        at_ms: NOW,
    }];
    p.brands = vec![Affinity {
        key: evil("brand"),
        score: 2.0,
        at_ms: NOW,
    }];
    p.cart = EVIL_URLS
        .iter()
        .enumerate()
        .map(|(i, u)| CartLine {
            product: product(&format!("cart-{i}"), u),
            quantity: 1,
        })
        .collect();
    p.recent = EVIL_URLS
        .iter()
        .enumerate()
        .map(|(i, u)| Viewed {
            product: product(&format!("viewed-{i}"), u),
            at_ms: NOW - 1_000,
        })
        .collect();
    p.orders = vec![Order {
        id: evil("order"),
        at_ms: NOW - 5_000,
        revenue: 25.0,
        items: vec![evil("order-item")],
    }];
    p
}

fn hostile_timeline() -> Vec<TimelineEntry> {
    let mut props = Value::object();
    for key in [
        "name",
        "product_id",
        "category",
        "query",
        "order_id",
        "path",
    ] {
        props.set(key, evil(key).as_str().into());
    }
    props.set("url", EVIL_URLS[0].into());
    let mut traits = Value::object();
    traits.set(&evil("trait"), "x".into());
    let mut event = Value::object();
    event.set("type", "track".into());
    event.set("properties", props);
    event.set("traits", traits);
    ["track", "page", "identify", "<b>kind</b>"]
        .iter()
        .map(|kind| TimelineEntry {
            message_id: evil("message"),
            ts: (NOW - 2_000) as f64,
            kind: (*kind).to_string(),
            name: Some(evil("event")),
            json: event.to_json(),
        })
        .collect()
}

fn hostile_customer_row(tag: &str) -> CustomerRow {
    CustomerRow {
        customer_id: evil(tag),
        user_id: Some(evil("user")),
        last_seen: (NOW - 1_000) as f64,
        sessions: 2.0,
        last_event: Some(evil("last-event")),
        bot: 1.0,
        summary: Some(serde_json::json!({ "top_category": evil("top-category") }).to_string()),
        ..CustomerRow::default()
    }
}

fn zone() -> Zone {
    Zone::or_utc("Asia/Kolkata")
}

fn period() -> Period {
    Period::last_days(&zone(), NOW, 30)
}

fn hostile_overview() -> Overview {
    let p = period();
    let trend = p
        .buckets(&zone(), Grain::Day)
        .into_iter()
        .enumerate()
        .map(|(i, mut b)| {
            b.label = evil(&b.label);
            let t = SlotTotals {
                visitors: i as f64,
                sessions: i as f64 + 1.0,
                orders: (i % 3) as f64,
                revenue: i as f64 * 10.0,
                ..SlotTotals::default()
            };
            (b, t)
        })
        .collect();
    Overview {
        zone: zone(),
        period: p,
        grain: Grain::Day,
        current: SlotTotals {
            visitors: 3.0,
            orders: 2.0,
            revenue: 20.0,
            ..SlotTotals::default()
        },
        previous: SlotTotals::default(),
        trend,
        freshness: Some(Freshness {
            last_received: (NOW - 5_000) as f64,
            last_ts: (NOW - 9_000) as f64,
            page_views: 4.0,
            events: 9.0,
        }),
        tags: InstallTags::new(&evil("edge"), &evil("key")),
        top_products: vec![
            TopProduct {
                product_id: evil("product"),
                name: Some(evil("product-name")),
                views: 1.0,
                ..TopProduct::default()
            },
            TopProduct {
                product_id: evil("nameless"),
                name: None,
                ..TopProduct::default()
            },
        ],
        latest_orders: vec![OrderRow {
            order_id: evil("order"),
            customer_id: evil("customer"),
            ts: (NOW - 1_000) as f64,
            total: 5.0,
            items: 1.0,
        }],
    }
}

fn hostile_recs() -> RecsPage {
    let slot = |variant: &str| SlotRow {
        list_id: evil("affinity:"),
        variant: variant.to_string(),
        impressions: 3.0,
        clicks: 1.0,
    };
    let mut attributed = BTreeMap::new();
    attributed.insert(
        (evil("affinity:"), evil("variant")),
        Attributed {
            orders: 1.0,
            revenue: 9.0,
        },
    );
    // The model's build record, by field (its type lives with the model code).
    let mut model = RecsPage::default().model.unwrap_or_default();
    model.version = evil("version");
    model.created_at = (NOW - 1_000) as f64;
    RecsPage {
        model: Some(model),
        min_support: 2,
        holdout_percent: 10.0,
        slots: vec![slot(&evil("variant")), slot("holdout"), slot("")],
        attributed,
        personalized: Group {
            shoppers: 200.0,
            buyers: 20.0,
            revenue: 100.0,
        },
        holdout: Group {
            shoppers: 200.0,
            buyers: 5.0,
            revenue: 10.0,
        },
        notice: Some(evil("notice")),
    }
}

fn hostile_listed() -> Vec<Listed> {
    vec![Listed {
        row: SegmentRow {
            name: evil("segment"),
            source: evil("source"),
            compiled: evil("compiled"),
            created_at: 0.0,
            updated_at: (NOW - 1_000) as f64,
            version: 1.0,
        },
        size: 4.0,
        history: vec![(evil("day-1"), 1.0), (evil("day-2"), 4.0)],
    }]
}

fn hostile_held() -> Vec<Held> {
    vec![
        Held {
            name: evil("member"),
            member: true,
            entered_at: Some(NOW - 1_000),
            exited_at: None,
        },
        Held {
            name: evil("former"),
            member: false,
            entered_at: Some(NOW - 9_000),
            exited_at: Some(NOW - 1_000),
        },
    ]
}

// ---------------------------------------------------------------------------------------------

#[test]
fn the_scanner_sees_what_a_browser_would() {
    // The checks must catch each breakout they are meant to catch.
    let caught =
        |html: &str| std::panic::catch_unwind(|| assert_harmless("probe", html, &[])).is_err();
    let shown = "&lt;script&gt;alert(1)&lt;/script&gt;";
    assert!(!caught(&format!("<p title=\"a&quot; b\">{shown}</p>")));
    assert!(caught(&format!(
        "<p>{shown}<img src=x onerror=alert(1)></p>"
    )));
    assert!(caught(&format!("<p title='x' onmouseover='x'>{shown}</p>")));
    assert!(caught(&format!("<p>{shown}</p><script>alert(1)</script>")));
    assert!(caught(&format!(
        "<a href=\" JaVa&#83;cript:alert(1)\">{shown}</a>"
    )));
    assert!(caught(&format!("<a href=\"java&#9;script:x\">{shown}</a>")));
    assert!(caught(&format!(
        "<textarea>{shown}</textarea><svg onload=x>"
    )));
    assert!(caught(&format!(
        "<title>{shown}</TITLE ><b onclick=x>x</b>"
    )));
    assert!(caught("<p>&lt;b&gt;</p>"), "the hostile text must be shown");
    let s = scan("<textarea>&lt;a&gt; <b></textarea><p>x</p>");
    assert_eq!(s.tags.len(), 4, "no <b> inside a textarea: {:?}", s.tags);
    assert_eq!(decode("&#60;&#x3C;&lt;&amp;lt;"), "<<<&lt;");
}

#[test]
fn sign_in_and_not_found() {
    assert_harmless(
        "login",
        &dashboard::login_page(&evil("shop"), Some(&evil("error"))),
        &[],
    );
    assert_harmless(
        "not found",
        &dashboard::not_found_page(&evil("shop"), &evil("what")),
        &[],
    );
}

#[test]
fn pages_write_the_shops_currency() {
    // Every amount the overview writes in dollars it writes in the shop's currency instead, and
    // no dollar sign is left; yen are whole.
    let o = hostile_overview();
    let usd = insights::overview_page("Shop", &o, NOW);
    let dollars = usd.matches('$').count();
    assert!(dollars >= 3, "{dollars} amounts in dollars");
    let eur = in_currency(&Currency::of("EUR"), || {
        insights::overview_page("Shop", &o, NOW)
    });
    assert_eq!(eur.matches('$').count(), 0);
    assert_eq!(eur.matches('€').count(), dollars);
    let yen = in_currency(&Currency::of("JPY"), || {
        insights::overview_page("Shop", &o, NOW)
    });
    assert_eq!(yen.matches('¥').count(), dollars);
    assert!(!yen.contains("¥0.") && !yen.contains('$'));
    // Outside the render the page is in dollars again.
    assert_eq!(insights::overview_page("Shop", &o, NOW), usd);
}

#[test]
fn overview_and_customers() {
    let o = hostile_overview();
    let installed = insights::overview_page(&evil("shop"), &o, NOW);
    assert_harmless("overview", &installed, &[]);
    assert!(installed.contains("id=\"revenue-chart\"") && installed.contains("<rect"));
    let mut new_shop = o.clone();
    new_shop.freshness = None;
    let html = insights::overview_page(&evil("shop"), &new_shop, NOW);
    assert_harmless("overview of a new shop", &html, &[]);
    assert!(html.contains("No event received yet"));
    // A new shop sees both forms of the tag at once; an installed one behind a disclosure.
    for (html, folded) in [(&html, false), (&installed, true)] {
        assert!(html.contains("id=\"tag-async\"") && html.contains("id=\"tag-import\""));
        assert_eq!(html.contains("<details>"), folded);
    }
    let rows = vec![hostile_customer_row("a"), hostile_customer_row("b")];
    let card = insights::customer_insights(
        &CustomerInsights {
            rfm: vec![RfmCount {
                recency: 3.0,
                frequency: 2.0,
                customers: 1.0,
                revenue: 9.0,
            }],
            top: vec![TopCustomer {
                customer_id: evil("top"),
                orders: 2.0,
                revenue: 9.0,
                last_order: (NOW - 1) as f64,
            }],
            new_returning: NewReturning::default(),
        },
        NOW,
    );
    assert_harmless(
        "customers",
        &dashboard::customers_page(&evil("shop"), &card, &evil("query"), &rows, NOW),
        &[],
    );
}

#[test]
fn analytics_pages() {
    let z = zone();
    let p = period();
    let segs = vec![evil("segment")];
    let html = insights::funnel_page(
        &evil("shop"),
        &z,
        &p,
        "1d",
        &segs[0],
        &segs,
        &FunnelCounts {
            viewed: 4.0,
            added: 2.0,
            checkout: 1.0,
            ordered: 1.0,
        },
        NOW,
    );
    assert_harmless("funnel", &html, &[]);
    let cells = [
        CohortCell {
            cohort: 0.0,
            age: 0.0,
            customers: 2.0,
            revenue: 5.0,
        },
        CohortCell {
            cohort: 0.0,
            age: 1.0,
            customers: 1.0,
            revenue: 5.0,
        },
    ];
    let mut cohorts = insights::cohorts(&cells, 24_311);
    cohorts[0].label = evil("cohort");
    let html = insights::retention_page(
        &evil("shop"),
        &z,
        &p,
        &cohorts,
        &NewReturning::default(),
        NOW,
    );
    assert_harmless("retention", &html, &[]);
    let stats = [ProductStats {
        product_id: evil("pid"),
        name: Some(evil("pname")),
        views: 3.0,
        ..ProductStats::default()
    }];
    let with = [BoughtWith {
        product_id: evil("pid"),
        other_id: evil("other"),
        other_name: None,
        orders: 2.0,
    }];
    let html = insights::products_page(&evil("shop"), &z, &p, &stats, &with, NOW);
    assert_harmless("products", &html, &[]);
    let q = Question::parse(Some("revenue"), Some("country"), Some("device"))
        .unwrap_or_else(|e| panic!("{e}"));
    let rows = [Row {
        by: evil("country"),
        then: evil("device"),
        value: 3.0,
    }];
    assert_harmless(
        "explore",
        &explore::page(&evil("shop"), &z, &p, &q, &rows, NOW),
        &[],
    );
}

#[test]
fn customer_page_with_segments_card() {
    let card = pages::customer_card(&hostile_held(), NOW);
    assert_harmless("segments card", card.as_str(), &[]);
    let extras = CustomerExtras {
        refunds: vec![OrderRefunds {
            order_id: evil("order"),
            refunded: 1.0,
            ..OrderRefunds::default()
        }],
        consent: vec![ConsentChange {
            level: evil("level"),
            at_ms: NOW - 1,
            source: evil("source"),
        }],
        has_consent: true,
        shown: vec![Shown {
            ts: (NOW - 1) as f64,
            list_id: Some(evil("affinity:")),
            variant: Some(evil("variant")),
            json: format!(
                r#"{{"properties":{{"products":[{{"product_id":{}}}]}}}}"#,
                serde_json::Value::from(evil("shown"))
            ),
        }],
    };
    let html = dashboard::customer_page(
        &evil("shop"),
        &hostile_profile(),
        &card,
        &hostile_timeline(),
        &extras,
        NOW,
    );
    assert_harmless("customer", &html, &[]);
    // Product URLs are links only when safe: every one given here is refused.
    let s = scan(&html);
    let hrefs: Vec<&str> = s
        .tags
        .iter()
        .flat_map(|t| t.attrs.iter())
        .filter(|(a, _)| a == "href")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        hrefs.iter().filter(|h| **h == "#").count(),
        2 * EVIL_URLS.len(),
        "{hrefs:?}"
    );
}

#[test]
fn segment_pages() {
    assert_harmless(
        "segment list",
        &pages::list_page(&evil("shop"), &hostile_listed(), NOW),
        &[],
    );
    let err = RuleError {
        message: evil("message"),
        line: Some(2),
        column: Some(5),
        display: evil("display"),
    };
    let (name, source) = (evil("name"), evil("source"));
    for existing in [None, Some(name.as_str())] {
        let html = pages::editor_page(
            &evil("shop"),
            &Editor {
                existing,
                name: &name,
                source: &source,
                error: Some(&err),
                size: Some(3.0),
            },
        );
        assert_harmless("segment editor", &html, &[pages::EDITOR_SCRIPT]);
        // The textarea holds the rule exactly as typed.
        let s = scan(&html);
        assert!(s.text.contains(&source));
    }
    let history = [(evil("day"), 1.0), (evil("day"), 2.0)];
    let spark = pages::sparkline(&evil("spark"), &history);
    assert_harmless(
        "sparkline",
        &format!("{spark}<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        &[],
    );
}

#[test]
fn recommendations_page() {
    assert_harmless(
        "recommendations",
        &recs::recs_page(&evil("shop"), &hostile_recs(), NOW),
        &[],
    );
}

#[test]
fn settings_page() {
    let s = affinity_worker::shops::Settings {
        name: evil("name"),
        currency: evil("currency"),
        time_zone: evil("zone"),
        ..Default::default()
    };
    assert_harmless(
        "settings",
        &affinity_worker::shops::pages::settings_page(&evil("id"), &s, true, Some(&evil("error"))),
        &[],
    );
}
