//! The browser seam in headless Chromium (wasm-bindgen-test): capture from real DOM markup, the
//! persisted profile and queue, SPA navigation and slot rendering.
//!
//! Run with `cargo test --target wasm32-unknown-unknown -p affinity --test browser`.
#![cfg(all(target_arch = "wasm32", target_os = "unknown"))]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test as test, wasm_bindgen_test_configure};

use affinity::json::{self, Value};

#[path = "corpus/segments.rs"]
mod corpus;

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

fn storage(key: &str) -> Option<String> {
    web_sys::window()
        .unwrap()
        .local_storage()
        .unwrap()
        .unwrap()
        .get_item(key)
        .unwrap()
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

fn product_markup(id: &str, name: &str, category: &str, price: &str) -> String {
    format!(
        r#"<script type="application/ld+json">{{"@context":"https://schema.org","@type":"Product",
        "productID":"{id}","name":"{name}","category":"{category}","image":"/img/{id}.svg",
        "url":"/p/{id}/","offers":{{"@type":"Offer","price":"{price}","priceCurrency":"USD"}}}}</script>
        <form action="/cart/add" method="post"><input type="hidden" name="id" value="{id}">
        <input name="quantity" value="2"><button type="submit">Add</button></form>
        <div data-affinity-slot="recently-viewed"></div>"#
    )
}

/// An SPA navigation to `path`: `pushState`, then the event the loader turns it into (here
/// dispatched by the test itself).
fn navigate(path: &str) {
    let window = web_sys::window().unwrap();
    window
        .history()
        .unwrap()
        .push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path))
        .unwrap();
    window
        .dispatch_event(&web_sys::Event::new("affinity:navigate").unwrap())
        .unwrap();
}

fn queued_names() -> Vec<String> {
    let queue = storage("affinity_queue").unwrap_or_else(|| "[]".into());
    json::parse(&queue)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e.get_str("event")
                .or_else(|| e.get_str("type"))
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

#[test]
async fn captures_renders_and_persists() {
    // The page module's start function fills the engine's number hook; the test runner does not
    // run it, so each test that reaches the engine does.
    affinity::browser::install_platform();
    // The edge is unreachable (port 9): events must stay queued, nothing may throw.
    // A container of our own: the test runner reports through elements of the body.
    let body = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&body).unwrap();
    let segment_markup = r#"<p id="fan" data-affinity-segment="shoe-fans">fans</p>
        <p id="not-fan" data-affinity-segment-not="shoe-fans">everyone else</p>
        <p id="big" data-affinity-segment="big-spenders">big</p>
        <p id="not-big" data-affinity-segment-not="big-spenders">small</p>"#;
    body.set_inner_html(&format!(
        "{}{segment_markup}",
        product_markup("p1", "Trail <Runner>", "Shoes", "89.00")
    ));
    // Last visit's config, as the page module caches it: compiled segments.
    let set = affinity::rules::SegmentSet::new(vec![
        (
            "shoe-fans".into(),
            affinity::rules::parse(
                r#"performed "Product Viewed" where category = "Shoes" in the last 1 day"#,
            )
            .unwrap(),
        ),
        (
            "big-spenders".into(),
            affinity::rules::parse("total_spend > 1000").unwrap(),
        ),
    ])
    .unwrap();
    let config = format!(
        r#"{{"shop":"test","holdout_percent":0,"segments":"{}"}}"#,
        affinity::segments::encode_base64(&set.encode())
    );
    let store = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    store.set_item("affinity_config", &config).unwrap();
    let root = document().document_element().unwrap();
    root.class_list().add_1("affinity-wait").unwrap();
    affinity::browser::start("pk_test", "http://127.0.0.1:9", "");
    sleep(50).await;

    // Segments decided from the cached config and the profile, then the page revealed.
    assert!(!root.class_list().contains("affinity-wait"));
    let el = |id: &str| document().get_element_by_id(id).unwrap();
    assert!(el("fan").has_attribute("data-affinity-on"));
    assert!(el("not-fan").has_attribute("hidden"));
    assert!(!el("big").has_attribute("data-affinity-on"));
    assert!(!el("not-big").has_attribute("hidden"));
    assert_eq!(affinity::browser::segments(), r#"["shoe-fans"]"#);

    let profile = json::parse(&storage("affinity_profile").expect("profile persisted")).unwrap();
    assert_eq!(
        profile
            .get("counters")
            .and_then(|c| c.get_f64("product_views")),
        Some(1.0)
    );
    let names = queued_names();
    assert!(names.contains(&"page".to_string()), "{names:?}");
    assert!(names.contains(&"Product Viewed".to_string()), "{names:?}");

    // Add to cart through the shop's own form: the page module sees the submit.
    let form: web_sys::HtmlFormElement = document()
        .query_selector("form")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    form.add_event_listener_with_callback(
        "submit",
        wasm_bindgen::closure::Closure::<dyn Fn(web_sys::Event)>::new(|e: web_sys::Event| {
            e.prevent_default()
        })
        .into_js_value()
        .unchecked_ref(),
    )
    .unwrap();
    form.request_submit().unwrap();
    sleep(20).await;
    let profile = json::parse(&affinity::browser::profile_json()).unwrap();
    let cart = profile.get("cart").and_then(Value::as_array).unwrap();
    assert_eq!(cart[0].get_str("id"), Some("p1"));
    assert_eq!(cart[0].get_f64("quantity"), Some(2.0));

    // An SPA navigation to another product: a new page view, and the first product is now in
    // the recently-viewed slot (escaped), the current one is not.
    body.set_inner_html(&product_markup("p2", "Summit Tent", "Tents", "249.00"));
    navigate("/p/p2/");
    sleep(50).await;
    let slot = document()
        .query_selector("[data-affinity-slot=recently-viewed]")
        .unwrap()
        .unwrap();
    let items: Vec<String> = {
        let list = slot.query_selector_all("[data-affinity-item]").unwrap();
        (0..list.length())
            .map(|i| {
                list.item(i)
                    .unwrap()
                    .dyn_into::<web_sys::Element>()
                    .unwrap()
                    .get_attribute("data-affinity-item")
                    .unwrap()
            })
            .collect()
    };
    assert_eq!(items, ["p1"]);
    assert!(slot.inner_html().contains("Trail &lt;Runner&gt;"));
    assert!(slot.text_content().unwrap().contains("$89.00"));

    // A currency code that is not one (the shop's markup says "dollars"): the cards still render,
    // with the bare amount, and nothing throws.
    body.set_inner_html(
        &product_markup("p3", "Camp Stove", "Stoves", "39.00").replace("\"USD\"", "\"dollars\""),
    );
    navigate("/p/p3/");
    sleep(50).await;
    let slot = document()
        .query_selector("[data-affinity-slot=recently-viewed]")
        .unwrap()
        .unwrap();
    let text = slot.text_content().unwrap();
    assert!(
        text.contains("89.00") && text.contains("249.00") && !text.contains('$'),
        "{text}"
    );
    // Prices in the dashboard's notation, without the browser's locale data (`Intl`): yen whole,
    // a code without a symbol spelled out, thousands grouped.
    let slot_text = |id: &str, price: &str, currency: &str| {
        body.set_inner_html(
            &product_markup(id, "Camp Chair", "Chairs", price)
                .replace("\"USD\"", &format!("\"{currency}\"")),
        );
        navigate(&format!("/p/{id}/"));
    };
    let recent = || {
        document()
            .query_selector("[data-affinity-slot=recently-viewed]")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap()
    };
    slot_text("p4", "1249.50", "jpy");
    sleep(50).await;
    let text = recent();
    assert!(
        text.contains("\u{a5}39") && text.contains("\u{a5}249") && !text.contains('.'),
        "{text}"
    );
    slot_text("p5", "5.00", "SEK");
    sleep(50).await;
    let text = recent();
    assert!(
        text.contains("SEK 1,249.50") && text.contains("SEK 39.00"),
        "{text}"
    );

    // Bad input from the shop's own code is refused with a console warning, not queued.
    // The queue is saved when the page is idle (requestIdleCallback, at most 1 s after events).
    sleep(1_100).await;
    let before = queued_names().len();
    affinity::browser::track("Order Completed", r#"{"total": 5}"#);
    affinity::browser::track("Custom Thing", "not json");
    sleep(1_100).await;
    let after = queued_names();
    assert_eq!(after.len(), before + 1, "{after:?}");
    assert_eq!(after.last().map(String::as_str), Some("Custom Thing"));

    // reset() forgets the shopper on this device.
    let old_id = storage("affinity_id").unwrap();
    affinity::browser::reset();
    assert_ne!(storage("affinity_id").unwrap(), old_id);
    assert!(storage("affinity_queue").is_none());

    // Consent: `none` keeps nothing on the device but the level; the page still personalizes
    // from memory. The default here is `marketing` (the cached config names no policy).
    affinity::browser::track("Custom Thing", "{}");
    sleep(1_100).await;
    assert!(!queued_names().is_empty());
    assert_eq!(affinity::browser::consent("nonsense", "api"), "marketing");
    assert_eq!(affinity::browser::consent("none", "api"), "none");
    let keys: Vec<String> = (0..store.length().unwrap())
        .filter_map(|i| store.key(i).unwrap())
        .filter(|k| k.starts_with("affinity"))
        .collect();
    assert_eq!(keys, ["affinity_consent"]);
    assert_eq!(storage("affinity_consent").as_deref(), Some("none"));
    affinity::browser::track("Custom Thing", "{}");
    sleep(1_100).await;
    assert!(storage("affinity_profile").is_none() && storage("affinity_queue").is_none());
    let profile = json::parse(&affinity::browser::profile_json()).unwrap();
    let history = profile.get("history").and_then(Value::as_array).unwrap();
    assert!(history.len() >= 2, "in memory: {history:?}");
    // `device`: the profile is kept, nothing is queued; Segment categories work too.
    let analytics_only = r#"{"Functional":true,"Analytics":true,"Advertising":false}"#;
    assert_eq!(affinity::browser::consent("device", "api"), "device");
    assert!(storage("affinity_profile").is_some() && storage("affinity_id").is_some());
    affinity::browser::track("Custom Thing", "{}");
    sleep(1_100).await;
    assert!(storage("affinity_queue").is_none());
    assert_eq!(
        affinity::browser::consent(analytics_only, "gcm"),
        "analytics"
    );
    affinity::browser::track("Custom Thing", "{}");
    sleep(1_100).await;
    let queued = json::parse(&storage("affinity_queue").expect("queued at analytics")).unwrap();
    let last = queued.as_array().unwrap().last().unwrap().clone();
    let consent = last.get("context").and_then(|c| c.get("consent")).unwrap();
    assert_eq!(consent.get_str("level"), Some("analytics"));
    assert_eq!(consent.get_str("source"), Some("gcm"));
    assert!(last.get("userId").is_none());
}

#[test]
fn engine_matches_native_behaviour() {
    affinity::browser::install_platform();
    // The same engine code in Wasm: spot checks of what the native unit tests cover in depth.
    let v = json::parse(r#"{"a":[1,2.5,"é😀"]}"#).unwrap();
    assert_eq!(v.to_json(), r#"{"a":[1,2.5,"é😀"]}"#);
    assert_eq!(
        affinity::time::parse_rfc3339("2026-11-24T11:00:00+01:00"),
        Some(1_795_514_400_000)
    );
    // Written by the JS engine in the page (toISOString); the texts from Python's datetime.
    for (ms, text) in [
        (0, "1970-01-01T00:00:00.000Z"),
        (1, "1970-01-01T00:00:00.001Z"),
        (951_782_400_123, "2000-02-29T00:00:00.123Z"),
        (1_795_514_400_000, "2026-11-24T10:00:00.000Z"),
        (4_102_444_799_999, "2099-12-31T23:59:59.999Z"),
    ] {
        assert_eq!(affinity::time::format_rfc3339(ms), text);
    }
    assert_eq!(
        affinity::bucket::bucket("shop", "customer", "purpose"),
        affinity::bucket::bucket("shop", "customer", "purpose")
    );
}

#[test]
fn segment_membership_is_identical_to_the_native_build() {
    affinity::browser::install_platform();
    // The same corpus the native integration test checks against the same golden matrix.
    let golden = include_str!("corpus/segments.golden");
    let customers = golden.lines().count() as u64;
    assert_eq!(corpus::matrix(customers), golden);
}

#[test]
fn json_numbers_round_trip() {
    affinity::browser::install_platform();
    // In the page the JSON writer takes a number's digits from the JS engine (no Rust float
    // formatting is linked there): every text must be a JSON number that Rust's own parser reads
    // back as exactly the number written, integers below 9e15 must be written as integers (as
    // the native writer does), and digits must be the shortest (no longer than Rust's `{}`).
    fn check(n: f64) {
        let text = Value::Number(n).to_json();
        if !n.is_finite() {
            assert_eq!(text, "null");
            return;
        }
        assert!(affinity::platform::is_decimal(&text), "{text}");
        assert!(json::parse(&text).is_ok(), "{text}");
        let back: f64 = text.parse().unwrap();
        assert!(
            back.to_bits() == n.to_bits() || (n == 0.0 && back == 0.0),
            "{text} reads back as {back}, not {n} (bits {:#x})",
            n.to_bits()
        );
        if n.fract() == 0.0 && n.abs() < 9.0e15 {
            assert_eq!(text, format!("{}", n as i64));
        }
        // Significant digits of the mantissa (leading and trailing zeros are notation).
        let digits = |t: &str| {
            let mantissa = t.split(['e', 'E']).next().unwrap_or("");
            let d: String = mantissa.chars().filter(char::is_ascii_digit).collect();
            d.trim_matches('0').len()
        };
        let native = format!("{n}");
        assert!(
            digits(&text) <= digits(&native),
            "{text} longer than {native}"
        );
    }
    let mut values = vec![
        0.1,
        -0.1,
        2.5,
        19.99,
        1e-6,
        1.5e-7,
        1e-7,
        -3.25e-9,
        5e-324,
        -5e-324,
        2.2250738585072014e-308,
        1e15 + 0.5,
        9e15,
        9.5e15,
        1e16,
        1e20,
        1e21,
        1.2345e21,
        1e22,
        1e23,
        -1e300,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        f64::EPSILON,
        123456.789,
        0.30000000000000004,
        1.0 / 3.0,
        2.0 / 3.0,
        std::f64::consts::PI,
        9007199254740993.0,
        4.35,
        0.000123,
        100.5,
        1e-5,
        1e-300,
    ];
    // Prices, quantities and scores as the page writes them, then random bit patterns.
    for cents in 0..2_000 {
        values.push(f64::from(cents) / 100.0);
        values.push(f64::from(cents) * 0.37 + 0.01);
    }
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        values.push(f64::from_bits(x));
        values.push(f64::from(x as u32) / f64::from((x >> 32) as u32 | 1));
    }
    // Halfway cases between two shortest candidates (V8 rounds them to even, Rust up).
    for i in 0..3_000u64 {
        let big = (1u64 << 50) + i * 7_919_993;
        values.push(big as f64 + 0.25);
        values.push(big as f64 + 0.75);
        values.push(-((big * 2) as f64 + 0.5));
        values.push((big * 8 + 1) as f64 / 8.0);
        values.push(((big % 100_000_000_000_000_000) * 10 + 5) as f64 * 1e3);
        values.push(((i * 2 + 1) * 5u64.pow(10)) as f64 * 1024.0);
    }
    for k in -1074..1024 {
        values.push(2f64.powi(k));
        values.push(-3.0 * 2f64.powi(k));
    }
    for n in values {
        check(n);
    }
}
