//! The shop's catalog: a product feed the merchant uploads (`POST /v1/admin/catalog`, admin
//! secret), the only source of item names, prices, images, URLs, stock and categories in the
//! item model. Event properties never reach it, so a visitor holding the public write key can
//! neither rename a product nor add one; the model build recommends catalog items only.
//!
//! The feed is JSON: `{"products":[{"id","name","price"?,"category"?,"brand"?,"url"?,
//! "image"?,"in_stock"? | "stock"?}]}` (or the array alone). An upload replaces the whole
//! catalog, and is checked whole before anything is written: one invalid product rejects the
//! upload with its index and the reason, and the catalog stays as it was. Parsing is pure; [`handler`] stores it.

use serde_json::Value as Json;

pub use crate::platform::store::models::MetaRow;

#[cfg(target_arch = "wasm32")]
pub mod handler;

/// At most this many products per shop.
pub const MAX_PRODUCTS: usize = 10_000;

/// Longest id, in bytes.
const MAX_ID: usize = 200;
/// Longest name, category or brand, in characters.
const MAX_TEXT: usize = 300;
/// Longest URL, in bytes.
const MAX_URL: usize = 2_000;

/// True for a URL the page may link to or load: a path on the shop (`/…`, not `//…`) or an
/// absolute `http(s)` URL, without spaces or control characters. `javascript:`, `data:` and
/// anything else are refused.
pub fn valid_url(u: &str) -> bool {
    let clean =
        !u.is_empty() && u.len() <= MAX_URL && !u.chars().any(|c| c.is_control() || c == ' ');
    let lower = u.to_ascii_lowercase();
    clean
        && ((u.starts_with('/') && !u.starts_with("//"))
            || lower.starts_with("https://")
            || lower.starts_with("http://"))
}

fn text(p: &Json, key: &str) -> Result<Option<String>, String> {
    match p.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => {
            let s = s.trim();
            if s.chars().count() > MAX_TEXT || s.chars().any(char::is_control) {
                return Err(format!(
                    "`{key}` must be at most {MAX_TEXT} characters without control characters"
                ));
            }
            Ok((!s.is_empty()).then(|| s.to_string()))
        }
        Some(_) => Err(format!("`{key}` must be text")),
    }
}

fn url(p: &Json, key: &str) -> Result<Option<String>, String> {
    match p.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) if valid_url(s) => Ok(Some(s.clone())),
        Some(_) => Err(format!(
            "`{key}` must be a path on the shop (/…) or an http(s) URL"
        )),
    }
}

/// One feed product, checked.
fn product(p: &Json) -> Result<MetaRow, String> {
    if !p.is_object() {
        return Err("a product must be an object".into());
    }
    let id = match p.get("id") {
        Some(Json::String(s)) => s.trim().to_string(),
        Some(Json::Number(n)) => n.to_string(),
        _ => return Err("`id` is required (text or a number)".into()),
    };
    if id.is_empty() || id.len() > MAX_ID || id.chars().any(char::is_control) {
        return Err(format!(
            "`id` must be 1–{MAX_ID} bytes without control characters"
        ));
    }
    let name = text(p, "name")?.ok_or("`name` is required")?;
    let price = match p.get("price") {
        None | Some(Json::Null) => None,
        Some(v) => match v.as_f64() {
            Some(x) if x.is_finite() && (0.0..42_949_672.0).contains(&x) => Some(x),
            _ => return Err("`price` must be a number ≥ 0".into()),
        },
    };
    let in_stock = match (p.get("in_stock"), p.get("stock")) {
        (Some(Json::Bool(b)), _) => *b,
        (Some(_), _) => return Err("`in_stock` must be true or false".into()),
        (None, Some(s)) => match s.as_f64() {
            Some(n) if n.is_finite() => n > 0.0,
            _ => return Err("`stock` must be a number".into()),
        },
        (None, None) => true,
    };
    Ok(MetaRow {
        id,
        name: Some(name),
        price,
        category: text(p, "category")?,
        brand: text(p, "brand")?,
        url: url(p, "url")?,
        image: url(p, "image")?,
        in_stock: Some(if in_stock { 1.0 } else { 0.0 }),
    })
}

/// The products of a feed, every one checked; the first invalid one is an error naming its
/// index (and id when it has one), and a repeated id is an error too.
pub fn parse_feed(body: &str) -> Result<Vec<MetaRow>, String> {
    let root: Json =
        serde_json::from_str(body).map_err(|e| format!("the feed is not valid JSON: {e}"))?;
    let items = match &root {
        Json::Array(a) => a,
        other => other
            .get("products")
            .and_then(Json::as_array)
            .ok_or("the feed must be {\"products\": [...]} or an array of products")?,
    };
    if items.len() > MAX_PRODUCTS {
        return Err(format!("at most {MAX_PRODUCTS} products per shop"));
    }
    let mut out = Vec::with_capacity(items.len());
    let mut seen = std::collections::HashSet::new();
    for (i, p) in items.iter().enumerate() {
        let row = product(p).map_err(|e| {
            let id = p.get("id").map(|v| format!(" ({v})")).unwrap_or_default();
            format!("product {i}{id}: {e}")
        })?;
        if !seen.insert(row.id.clone()) {
            return Err(format!("product {i}: the id {:?} appears twice", row.id));
        }
        out.push(row);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        for ok in ["/p/tent/", "https://cdn.example/a.jpg", "HTTP://x.example/"] {
            assert!(valid_url(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            " javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,x",
            "//evil.example/x",
            "",
            "/a b",
            "/a\nb",
        ] {
            assert!(!valid_url(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_feed_is_checked_product_by_product() {
        let feed = r#"{"products":[
            {"id":"p1","name":"Tent","price":199.5,"category":"Tents","url":"/p/tent/","image":"/img/p1.svg","stock":3},
            {"id":7,"name":" Sock ","in_stock":false}
        ]}"#;
        let rows = parse_feed(feed).unwrap_or_default();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].price, Some(199.5));
        assert_eq!(rows[0].in_stock, Some(1.0));
        assert_eq!(
            (rows[1].id.as_str(), rows[1].name.as_deref()),
            ("7", Some("Sock"))
        );
        assert_eq!(rows[1].in_stock, Some(0.0));
        assert_eq!(rows[1].url, None);
        assert_eq!(parse_feed("[]").map(|r| r.len()), Ok(0));
    }

    #[test]
    fn one_bad_product_rejects_the_feed_with_its_index() {
        let cases = [
            (
                r#"[{"id":"p1","name":"A"},{"id":"p2","name":"B","url":"javascript:alert(1)"}]"#,
                "product 1 (\"p2\"): `url`",
            ),
            (r#"[{"id":"p1"}]"#, "product 0 (\"p1\"): `name` is required"),
            (r#"[{"name":"x"}]"#, "product 0: `id` is required"),
            (
                r#"[{"id":"p1","name":"A","price":-1}]"#,
                "`price` must be a number ≥ 0",
            ),
            (
                r#"[{"id":"p1","name":"A"},{"id":"p1","name":"B"}]"#,
                "appears twice",
            ),
            (r#"{"items":[]}"#, "must be {\"products\""),
            ("{", "not valid JSON"),
        ];
        for (feed, want) in cases {
            let e = parse_feed(feed).err().unwrap_or_default();
            assert!(e.contains(want), "{feed}: {e}");
        }
    }
}
