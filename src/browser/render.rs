//! Rendering the slots a shop marks with `data-affinity-slot`.
//!
//! | slot | content |
//! |---|---|
//! | `recently-viewed` | the shopper's recently viewed products (from the local profile) |
//! | `popular` | the shop's popular products (from the edge's model) |
//!
//! `data-affinity-count` sets how many cards (default 4, at most 24). An empty result leaves the
//! slot empty, so shops can hide its section with `:empty`.

use super::{sys, with_state};
use crate::json::Value;

/// Default look, overridable by any shop rule (`:where` keeps specificity at zero).
const CSS: &str = ":where(.affinity-list){display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:16px}\
:where(.affinity-card){display:flex;flex-direction:column;gap:4px;color:inherit;text-decoration:none}\
:where(.affinity-card img){width:100%;aspect-ratio:1;object-fit:cover;border-radius:8px;background:#f3f3f3}\
:where(.affinity-name){font-size:.9em;line-height:1.3}:where(.affinity-price){font-weight:600}";

/// One product card.
struct Card {
    id: String,
    name: String,
    price: Option<f64>,
    url: String,
    image: String,
}

/// Escapes text for HTML content and attribute values.
fn escape(s: &str, out: &mut String) {
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

/// Only web URLs and paths may become links: no `javascript:` or `data:` from event data.
fn safe_url(url: &str) -> &str {
    let scheme_end = url.find(':');
    let first_slash = url.find('/');
    let has_scheme = match (scheme_end, first_slash) {
        (Some(c), Some(s)) => c < s,
        (Some(_), None) => true,
        _ => false,
    };
    if !has_scheme || url.starts_with("https://") || url.starts_with("http://") {
        url
    } else {
        "#"
    }
}

fn card_html(card: &Card, slot: &str, currency: &str, out: &mut String) {
    out.push_str("<a class=\"affinity-card\" data-affinity-item=\"");
    escape(&card.id, out);
    out.push_str("\" data-affinity-list=\"");
    escape(slot, out);
    out.push_str("\" href=\"");
    escape(safe_url(&card.url), out);
    out.push_str("\">");
    if !card.image.is_empty() {
        out.push_str("<img loading=\"lazy\" alt=\"\" src=\"");
        escape(safe_url(&card.image), out);
        out.push_str("\">");
    }
    out.push_str("<span class=\"affinity-name\">");
    escape(&card.name, out);
    out.push_str("</span>");
    if let Some(price) = card.price {
        out.push_str("<span class=\"affinity-price\">");
        escape(&sys::format_price(price, currency), out);
        out.push_str("</span>");
    }
    out.push_str("</a>");
}

fn cards(slot: &str, count: usize) -> (Vec<Card>, String) {
    with_state(|s| {
        let skip = |id: &str| s.current_product.as_deref() == Some(id);
        let list: Vec<Card> = match slot {
            "recently-viewed" => s
                .profile
                .recent
                .iter()
                .map(|v| &v.product)
                .filter(|p| !skip(&p.id))
                .map(|p| Card {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    price: p.price,
                    url: p.url.clone().unwrap_or_default(),
                    image: p.image.clone().unwrap_or_default(),
                })
                .take(count)
                .collect(),
            "popular" => s
                .popular
                .iter()
                .filter_map(|p: &Value| {
                    let id = p.get_str("id")?;
                    (!skip(id)).then(|| Card {
                        id: id.to_string(),
                        name: p.get_str("name").unwrap_or(id).to_string(),
                        price: p.get_f64("price"),
                        url: p.get_str("url").unwrap_or("").to_string(),
                        image: p.get_str("image").unwrap_or("").to_string(),
                    })
                })
                .take(count)
                .collect(),
            _ => Vec::new(),
        };
        (list, s.currency.clone())
    })
    .unwrap_or_default()
}

/// Renders every slot on the page from the current state.
pub fn render_slots() {
    let doc = sys::document();
    let Ok(slots) = doc.query_selector_all("[data-affinity-slot]") else {
        return;
    };
    if slots.length() > 0 && doc.get_element_by_id("affinity-css").is_none() {
        if let (Ok(style), Some(head)) = (doc.create_element("style"), doc.head()) {
            style.set_id("affinity-css");
            style.set_text_content(Some(CSS));
            let _ = head.append_child(&style);
        }
    }
    for i in 0..slots.length() {
        let Some(el) = slots
            .item(i)
            .and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(n).ok())
        else {
            continue;
        };
        let slot = el.get_attribute("data-affinity-slot").unwrap_or_default();
        let count = el
            .get_attribute("data-affinity-count")
            .and_then(|c| c.parse::<usize>().ok())
            .unwrap_or(4)
            .clamp(1, 24);
        let (list, currency) = cards(&slot, count);
        let mut html = String::new();
        if !list.is_empty() {
            html.push_str("<div class=\"affinity-list\">");
            for card in &list {
                card_html(card, &slot, &currency, &mut html);
            }
            html.push_str("</div>");
        }
        el.set_inner_html(&html);
        let _ = el.set_attribute("data-affinity-rendered", &list.len().to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn urls_are_sanitised() {
        assert_eq!(safe_url("/p/x/"), "/p/x/");
        assert_eq!(safe_url("https://a/b"), "https://a/b");
        assert_eq!(safe_url("javascript:alert(1)"), "#");
        assert_eq!(safe_url("data:text/html,x"), "#");
        assert_eq!(safe_url("img/a:b.svg"), "img/a:b.svg");
    }
}
