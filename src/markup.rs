//! schema.org markup → Segment e-commerce properties.
//!
//! Shops already describe their pages for search engines with schema.org JSON-LD: `Product` on
//! product pages, `ItemList` on listings, `Order` on confirmation pages. The plugin reads that
//! markup instead of asking the shop for tracking code; this module is the pure, natively tested
//! half of that: it turns decoded JSON-LD into the properties the e-commerce spec names.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::json::Value;

/// Flattens decoded JSON-LD blocks into their nodes: arrays and `@graph` members are expanded.
pub fn nodes(blocks: &[Value]) -> Vec<&Value> {
    fn walk<'a>(v: &'a Value, out: &mut Vec<&'a Value>, depth: usize) {
        if depth > 4 {
            return;
        }
        match v {
            Value::Array(items) => items.iter().for_each(|i| walk(i, out, depth + 1)),
            Value::Object(_) => {
                if let Some(graph) = v.get("@graph") {
                    walk(graph, out, depth + 1);
                } else {
                    out.push(v);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    blocks.iter().for_each(|b| walk(b, &mut out, 0));
    out
}

/// True if the node's `@type` is `ty` (also as a list, or as a full schema.org URL).
pub fn is_type(node: &Value, ty: &str) -> bool {
    let matches = |t: &Value| {
        t.as_str().is_some_and(|s| {
            s == ty || crate::text::rsplit_once(s, b'/').is_some_and(|(_, t)| t == ty)
        })
    };
    match node.get("@type") {
        Some(Value::Array(types)) => types.iter().any(matches),
        Some(t) => matches(t),
        None => false,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(Value::Number(*n).to_json()),
        // `brand: {"@type":"Brand","name":…}`, `image: {"url":…}`, `image: [first, …]`.
        o @ Value::Object(_) => text(o.get("name").or_else(|| o.get("url"))),
        Value::Array(items) => text(items.first()),
        _ => None,
    }
}

fn first_offer(node: &Value) -> Option<&Value> {
    match node.get("offers")? {
        Value::Array(items) => items.first(),
        o => Some(o),
    }
}

/// Segment product properties (`product_id`, `sku`, `name`, `brand`, `category`, `price`,
/// `currency`, `url`, `image_url`, `in_stock`) from a schema.org `Product` node; `None` without an
/// id (`productID`, `sku`, or `@id`).
pub fn product(node: &Value) -> Option<Value> {
    let id = text(node.get("productID"))
        .or_else(|| text(node.get("sku")))
        .or_else(|| text(node.get("@id")))?;
    let mut p = Value::object();
    p.set("product_id", id.as_str().into());
    if let Some(sku) = text(node.get("sku")) {
        p.set("sku", sku.into());
    }
    for (key, from) in [
        ("name", "name"),
        ("brand", "brand"),
        ("category", "category"),
        ("url", "url"),
        ("image_url", "image"),
    ] {
        if let Some(v) = text(node.get(from)) {
            p.set(key, v.into());
        }
    }
    if let Some(offer) = first_offer(node) {
        if let Some(price) = offer.get_f64("price").or_else(|| offer.get_f64("lowPrice")) {
            p.set("price", price.into());
        }
        if let Some(c) = text(offer.get("priceCurrency")) {
            p.set("currency", c.into());
        }
        if let Some(a) = offer.get_str("availability") {
            let in_stock = !(a.ends_with("OutOfStock")
                || a.ends_with("Discontinued")
                || a.ends_with("SoldOut"));
            p.set("in_stock", in_stock.into());
        }
    }
    Some(p)
}

/// `Product List Viewed` properties from a schema.org `ItemList` of products (at most 50).
pub fn item_list(node: &Value, list_id: &str) -> Option<Value> {
    let items = node.get("itemListElement")?.as_array()?;
    let mut products = Vec::new();
    for li in items {
        if products.len() == 50 {
            break;
        }
        let Some(mut p) = product(li.get("item").unwrap_or(li)) else {
            continue;
        };
        if let Some(pos) = li.get_f64("position") {
            p.set("position", pos.into());
        }
        products.push(p);
    }
    if products.is_empty() {
        return None;
    }
    let mut v = Value::object();
    v.set("list_id", list_id.into());
    if let Some(name) = text(node.get("name")) {
        v.set("category", name.into());
    }
    v.set("products", Value::Array(products));
    Some(v)
}

/// `Order Completed` properties (`order_id`, `total`, `revenue`, `tax`, `shipping`, `currency`,
/// `products` with `quantity`) from a schema.org `Order` node; `None` without `orderNumber`.
pub fn order(node: &Value) -> Option<Value> {
    let id = text(node.get("orderNumber"))?;
    let mut v = Value::object();
    v.set("order_id", id.into());
    let offers: &[Value] = match node.get("acceptedOffer") {
        Some(Value::Array(items)) => items,
        Some(one @ Value::Object(_)) => core::slice::from_ref(one),
        _ => &[],
    };
    let mut sum = 0.0;
    let mut products = Vec::new();
    for offer in offers {
        let Some(mut p) = offer.get("itemOffered").and_then(product) else {
            continue;
        };
        let price = offer.get_f64("price").or_else(|| p.get_f64("price"));
        let qty = offer
            .get("eligibleQuantity")
            .and_then(|q| q.get_f64("value"))
            .unwrap_or(1.0);
        if let Some(price) = price {
            p.set("price", price.into());
            sum += price * qty;
        }
        p.set("quantity", qty.into());
        products.push(p);
    }
    let total = node.get_f64("price").unwrap_or(sum);
    v.set("total", total.into());
    v.set("revenue", total.into());
    for (key, from) in [
        ("tax", "tax"),
        ("shipping", "shipping"),
        ("discount", "discount"),
    ] {
        if let Some(n) = node.get_f64(from) {
            v.set(key, n.into());
        }
    }
    if let Some(c) = text(node.get("priceCurrency")) {
        v.set("currency", c.into());
    }
    v.set("products", Value::Array(products));
    Some(v)
}

/// The site-search query in a URL query string (`q`, `query`, `search` or `s`), decoded.
pub fn search_query(query_string: &str) -> Option<String> {
    crate::text::split(query_string.trim_start_matches('?'), b'&')
        .filter_map(|pair| crate::text::split_once(pair, b'='))
        .find(|(k, _)| matches!(*k, "q" | "query" | "search" | "s"))
        .map(|(_, v)| percent_decode(v))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// UTM parameters of a URL query string as Segment's `context.campaign`
/// (`source`, `medium`, `name`, `term`, `content`).
pub fn campaign(query_string: &str) -> Option<Value> {
    let mut c = Value::object();
    for pair in crate::text::split(query_string.trim_start_matches('?'), b'&') {
        if let Some((k, v)) = crate::text::split_once(pair, b'=') {
            let key = match k {
                "utm_source" => "source",
                "utm_medium" => "medium",
                "utm_campaign" => "name",
                "utm_term" => "term",
                "utm_content" => "content",
                _ => continue,
            };
            c.set(key, percent_decode(v).into());
        }
    }
    c.as_object().is_some_and(|o| !o.is_empty()).then_some(c)
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space; bad escapes stay as they are).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    lossy(&out)
}

/// `bytes` as text, each invalid sequence replaced by U+FFFD as `String::from_utf8_lossy` does
/// (the same maximal subparts: `Utf8Error::error_len`), without its chunk iterator.
fn lossy(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    loop {
        match core::str::from_utf8(bytes) {
            Ok(rest) => {
                out.push_str(rest);
                return out;
            }
            Err(e) => {
                let (valid, after) = bytes.split_at(e.valid_up_to());
                out.push_str(core::str::from_utf8(valid).unwrap_or_default());
                out.push('\u{FFFD}');
                match e.error_len() {
                    Some(n) => bytes = after.get(n..).unwrap_or_default(),
                    None => return out,
                }
            }
        }
    }
}

/// Appends `s` escaped for HTML element content and quoted attribute values (`& < > " '`).
/// The page's slot rendering and the dashboard both escape with this one function.
pub fn escape_html(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// `url` if it may become a link or image source, else `"#"`: paths and relative URLs, and
/// `http:` / `https:` URLs. Any other scheme (`javascript:`, `data:`, `vbscript:`, …, in any case
/// and with leading blanks or control characters, which browsers strip) is refused. The page's
/// slots and the dashboard check URLs with this one function.
pub fn safe_url(url: &str) -> &str {
    // Browsers drop leading C0 controls and spaces, and tabs/newlines anywhere, before reading
    // the scheme: judge the first 64 characters as the browser will see them, in one byte scan
    // (what matters is ASCII: the colon, the first `/?#`, and the lowercased first six bytes).
    let mut head = [0u8; 6];
    let (mut len, mut chars) = (0usize, 0usize);
    let (mut colon, mut delim) = (None, None);
    let mut started = false;
    for &b in url.as_bytes() {
        // Every character up to a space is one byte.
        if !started && b <= b' ' {
            continue;
        }
        started = true;
        if matches!(b, b'\t' | b'\n' | b'\r') {
            continue;
        }
        // A character starts at every byte that is not a UTF-8 continuation byte.
        if b & 0xc0 != 0x80 {
            if chars == 64 {
                break;
            }
            chars += 1;
        }
        if len < head.len() {
            head[len] = b.to_ascii_lowercase();
        }
        if b == b':' && colon.is_none() {
            colon = Some(len);
        }
        if matches!(b, b'/' | b'?' | b'#') && delim.is_none() {
            delim = Some(len);
        }
        len += 1;
    }
    let has_scheme = match (colon, delim) {
        (Some(c), Some(d)) => c < d,
        (Some(_), None) => true,
        _ => false,
    };
    if !has_scheme || head == *b"https:" || head[..5] == *b"http:" {
        url
    } else {
        "#"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    #[test]
    fn product_from_json_ld() {
        let block = parse(
            r#"{"@context":"https://schema.org","@type":"Product","productID":"p0001","sku":"p0001",
            "name":"Trail Runner","brand":{"@type":"Brand","name":"Ridgeback"},"category":"Shoes",
            "image":["/img/p0001.svg"],"url":"/p/trail-runner/",
            "offers":{"@type":"Offer","price":"89.00","priceCurrency":"USD",
            "availability":"https://schema.org/OutOfStock"}}"#,
        )
        .unwrap();
        let all = [block];
        let node = nodes(&all)[0];
        assert!(is_type(node, "Product"));
        let p = product(node).unwrap();
        assert_eq!(
            p.to_json(),
            r#"{"product_id":"p0001","sku":"p0001","name":"Trail Runner","brand":"Ridgeback","category":"Shoes","url":"/p/trail-runner/","image_url":"/img/p0001.svg","price":89,"currency":"USD","in_stock":false}"#
        );
    }

    #[test]
    fn graph_and_lists() {
        let block = parse(
            r#"{"@graph":[{"@type":"BreadcrumbList"},{"@type":["ItemList"],"name":"Tents",
            "itemListElement":[{"@type":"ListItem","position":1,"item":{"@type":"Product","sku":"a","name":"A"}},
            {"@type":"ListItem","position":2,"item":{"@type":"Product","name":"no id"}}]}]}"#,
        )
        .unwrap();
        let all = [block];
        let ns = nodes(&all);
        assert_eq!(ns.len(), 2);
        let list = item_list(ns[1], "/c/tents/").unwrap();
        assert_eq!(list.get_str("category"), Some("Tents"));
        assert_eq!(
            list.get("products")
                .and_then(Value::as_array)
                .map(<[_]>::len),
            Some(1)
        );
    }

    #[test]
    fn order_from_json_ld() {
        let block = parse(
            r#"{"@type":"Order","orderNumber":"NW-1","priceCurrency":"USD","price":107.5,
            "acceptedOffer":[{"@type":"Offer","price":20,"eligibleQuantity":{"value":2},
            "itemOffered":{"@type":"Product","productID":"a","category":"Socks"}},
            {"@type":"Offer","price":60,"itemOffered":{"@type":"Product","productID":"b"}}]}"#,
        )
        .unwrap();
        let o = order(&block).unwrap();
        assert_eq!(o.get_str("order_id"), Some("NW-1"));
        assert_eq!(o.get_f64("total"), Some(107.5));
        let products = o.get("products").and_then(Value::as_array).unwrap();
        assert_eq!(products[0].get_f64("quantity"), Some(2.0));
        assert_eq!(products[1].get_f64("price"), Some(60.0));
        assert!(order(&parse(r#"{"@type":"Order"}"#).unwrap()).is_none());
    }

    #[test]
    fn safe_urls() {
        for ok in [
            "/p/x/",
            "https://a/b",
            "HTTP://a",
            "img/a:b.svg",
            "?q=a:b",
            "#x:y",
            "p.html",
        ] {
            assert_eq!(safe_url(ok), ok, "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            " javascript:alert(1)",
            "\u{1}javascript:x",
            "java\tscript:alert(1)",
            "java\nscript:x",
            "data:text/html,x",
            "vbscript:x",
            "javascript://%0aalert(1)",
        ] {
            assert_eq!(safe_url(bad), "#", "{bad:?}");
        }
    }

    /// The `char`-based reading `safe_url` had before its byte scan: the first 64 characters
    /// after leading blanks and controls, tabs and newlines dropped, lowercased.
    fn safe_url_by_chars(url: &str) -> &str {
        let seen: String = url
            .trim_start_matches(|c: char| c <= ' ')
            .chars()
            .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
            .take(64)
            .collect();
        let scheme_end = seen.bytes().position(|b| b == b':');
        let first_delim = seen.bytes().position(|b| matches!(b, b'/' | b'?' | b'#'));
        let has_scheme = match (scheme_end, first_delim) {
            (Some(c), Some(d)) => c < d,
            (Some(_), None) => true,
            _ => false,
        };
        let lower = seen.to_ascii_lowercase();
        if !has_scheme || lower.starts_with("https:") || lower.starts_with("http:") {
            url
        } else {
            "#"
        }
    }

    #[test]
    fn safe_url_matches_the_char_reading() {
        // Random strings over the characters that matter (schemes, separators, blanks, controls,
        // multi-byte characters around the 64-character limit).
        let parts = [
            "h",
            "t",
            "p",
            "s",
            "H",
            "T",
            "P",
            "S",
            ":",
            "/",
            "?",
            "#",
            "\t",
            "\n",
            "\r",
            " ",
            "\u{1}",
            "é",
            "€",
            "😀",
            "javascript",
            "http",
            "https",
            "a",
        ];
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut url = String::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for k in 0..(x % 80) {
                url.push_str(parts[((x >> (k % 50)) as usize + k as usize * 7) % parts.len()]);
            }
            assert_eq!(safe_url(&url), safe_url_by_chars(&url), "{url:?}");
        }
        // The limit counts characters, not bytes: a colon as the 64th character counts.
        let late = format!("{}:x", "é".repeat(63));
        assert_eq!(safe_url(&late), "#");
        assert_eq!(
            safe_url(&format!("{}:x", "é".repeat(64))),
            format!("{}:x", "é".repeat(64))
        );
    }

    #[test]
    fn escapes_html() {
        let mut out = String::new();
        escape_html(r#"<a href="x">Tom & Jerry's</a>"#, &mut out);
        assert_eq!(
            out,
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
    }

    #[test]
    fn query_strings() {
        assert_eq!(
            search_query("?q=trail+shoes%21").as_deref(),
            Some("trail shoes!")
        );
        assert_eq!(search_query("?page=2&s=tent").as_deref(), Some("tent"));
        assert_eq!(search_query("?q=").as_deref(), None);
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%e2%82%ac%zz"), "€%zz");
        // Invalid UTF-8 after decoding reads as std's lossy conversion does.
        for bytes in [
            &b"ok"[..],
            b"\xff",
            b"a\xffb",
            b"\xe2\x82",
            b"\xe2\x82x",
            b"\xf0\x9f\x98",
            b"\xed\xa0\x80",
            b"\xc0\xaf\xe2\x82\xac",
        ] {
            assert_eq!(lossy(bytes), String::from_utf8_lossy(bytes), "{bytes:?}");
        }
        let c = campaign("?utm_source=news&utm_campaign=bf%202026&x=1").unwrap();
        assert_eq!(c.to_json(), r#"{"source":"news","name":"bf 2026"}"#);
        assert!(campaign("?a=b").is_none());
    }
}
