//! Capture without shop code: page views (SPA navigations too), schema.org markup, site search,
//! cart forms, checkout and order confirmation, each named as the e-commerce spec names it.

#[allow(unused_imports)]
use crate::prelude::*;

use wasm_bindgen::JsCast;

use super::{emit, render, sys, transport, with_state};
use crate::event::{names, Kind};
use crate::json::{self, Value};
use crate::markup;

/// Installs the listeners and captures the current page once the DOM is parsed.
pub fn install() {
    let window = sys::window();
    let doc = sys::document();
    if doc.ready_state() == "loading" {
        sys::listen(&doc, "DOMContentLoaded", false, |_| capture_page());
    } else {
        capture_page();
    }
    // SPA navigations: the loader turns pushState/replaceState into `affinity:navigate`.
    for kind in ["affinity:navigate", "popstate"] {
        sys::listen(&window, kind, false, |_| sys::set_timeout(0, capture_page));
    }
    // Capture phase: we see the submit before the shop's own handler cancels it.
    sys::listen(&doc, "submit", true, on_submit);
    sys::listen(&doc, "click", true, render::on_click);
    // Deliver what is queued when the page goes away.
    sys::listen(&window, "pagehide", false, |_| {
        super::persist();
        transport::flush(true);
    });
    sys::listen(&doc, "visibilitychange", false, |_| {
        if sys::hidden() {
            super::persist();
            transport::flush(true);
        }
    });
}

/// Page context for every event (Segment's `context`).
pub fn context() -> Value {
    let p = sys::page();
    let mut page = Value::object();
    page.set("path", p.path.into());
    page.set("url", p.url.into());
    page.set("search", p.search.as_str().into());
    page.set("title", p.title.into());
    page.set("referrer", p.referrer.into());
    let mut ctx = Value::object();
    ctx.set("page", page);
    if let Some(c) = markup::campaign(&p.search) {
        ctx.set("campaign", c);
    }
    ctx.set("userAgent", p.user_agent.into());
    ctx.set("locale", p.locale.into());
    let mut lib = Value::object();
    lib.set("name", "affinity".into());
    lib.set("version", super::VERSION.into());
    ctx.set("library", lib);
    ctx
}

/// The text of every JSON-LD block on the page.
fn json_ld_texts() -> Vec<String> {
    let Ok(list) = sys::document().query_selector_all("script[type='application/ld+json']") else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i)?.text_content())
        .collect()
}

/// Every JSON-LD block on the page, decoded (blocks that are not valid JSON are skipped).
fn json_ld() -> Vec<Value> {
    json_ld_texts()
        .iter()
        .filter_map(|text| json::parse(text).ok())
        .collect()
}

/// Products described on the page (product nodes and list items), as Segment properties.
fn page_products(blocks: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for node in markup::nodes(blocks) {
        if markup::is_type(node, "Product") {
            out.extend(markup::product(node));
        } else if let Some(list) = markup::item_list(node, "") {
            if let Some(Value::Array(items)) = list.get("products") {
                out.extend(items.iter().cloned());
            }
        }
    }
    out
}

/// Captures the current page: a `page` call, then what its markup and URL say happened.
pub fn capture_page() {
    // A new page view (or SPA navigation): its events read the page context afresh.
    with_state(|s| s.context = None);
    let page = sys::page();
    let (path, search) = (page.path, page.search);
    // After an SPA navigation, markup left over from the previous view describes that view, not
    // this one: only blocks that changed since the last capture produce events.
    let texts = json_ld_texts();
    // Every block that parses (`all`), and which of them are new since the last capture.
    let mut all = Vec::new();
    let mut fresh = Vec::new();
    with_state(|s| {
        for text in &texts {
            if let Ok(v) = json::parse(text) {
                fresh.push(!s.seen_markup.contains(text));
                all.push(v);
            }
        }
    });
    // The product this page shows (stale or not): slots never recommend it.
    let mut current = None;
    for n in markup::nodes(&all) {
        if markup::is_type(n, "Product") {
            current = markup::product(n).and_then(|p| p.get_str("product_id").map(str::to_string));
            break;
        }
    }
    let mut blocks = Vec::new();
    for (v, f) in all.into_iter().zip(fresh) {
        if f {
            blocks.push(v);
        }
    }
    with_state(|s| s.seen_markup = texts);
    let mut props = Value::object();
    props.set("path", path.as_str().into());
    props.set("url", page.url.into());
    props.set("title", page.title.into());
    emit(Kind::Page, None, props);

    for node in markup::nodes(&blocks) {
        if markup::is_type(node, "Product") {
            if let Some(p) = markup::product(node) {
                if let Some(c) = p.get_str("currency") {
                    let c = c.to_string();
                    with_state(|s| s.currency = c);
                }
                emit(Kind::Track, Some(names::PRODUCT_VIEWED), p);
            }
        } else if markup::is_type(node, "ItemList") {
            if let Some(list) = markup::item_list(node, &path) {
                emit(Kind::Track, Some(names::PRODUCT_LIST_VIEWED), list);
            }
        } else if markup::is_type(node, "Order") {
            if let Some(order) = markup::order(node) {
                let id = order.get_str("order_id").unwrap_or("").to_string();
                // A reloaded confirmation page must not count the order twice.
                let seen = with_state(|s| s.profile.orders.iter().any(|o| o.id == id));
                if seen == Some(false) {
                    emit(Kind::Track, Some(names::ORDER_COMPLETED), order);
                }
            }
        }
    }
    if let Some(query) = markup::search_query(&search) {
        let mut p = Value::object();
        p.set("query", query.into());
        emit(Kind::Track, Some(names::PRODUCTS_SEARCHED), p);
    }
    let segment = |name: &str| crate::text::split(&path, b'/').any(|part| part == name);
    if segment("checkout") {
        if let Some(p) = cart_properties().filter(|p| p.get_f64("value").unwrap_or(0.0) > 0.0) {
            emit(Kind::Track, Some(names::CHECKOUT_STARTED), p);
        }
    } else if segment("cart") {
        if let Some(p) = cart_properties() {
            emit(Kind::Track, Some(names::CART_VIEWED), p);
        }
    }
    with_state(|s| {
        s.current_product = current;
        s.dom_ready = true;
    });
    // Segments decide with this page's events in the profile.
    super::settle(usize::MAX);
    super::personalize::apply();
    render::render_slots();
}

/// The local cart as e-commerce properties (`products`, `value`, `currency`).
fn cart_properties() -> Option<Value> {
    with_state(|s| {
        let mut products = Vec::new();
        for line in &s.profile.cart {
            let mut p = line.product.to_properties();
            p.set("quantity", f64::from(line.quantity).into());
            products.push(p);
        }
        let mut v = Value::object();
        v.set("products", Value::Array(products));
        v.set("value", s.profile.cart_value().into());
        v.set("currency", s.currency.as_str().into());
        v
    })
}

/// What the page and the profile know about product `id`.
fn product_details(id: &str) -> Value {
    let on_page = page_products(&json_ld())
        .into_iter()
        .find(|p| p.get_str("product_id") == Some(id) || p.get_str("sku") == Some(id));
    on_page
        .or_else(|| {
            with_state(|s| {
                let mut known = s.profile.recent.iter().map(|v| &v.product);
                let mut cart = s.profile.cart.iter().map(|l| &l.product);
                let p = known.find(|p| p.id == id);
                p.or_else(|| cart.find(|p| p.id == id))
                    .map(|p| p.to_properties())
            })
            .flatten()
        })
        .unwrap_or_else(|| {
            let mut p = Value::object();
            p.set("product_id", id.into());
            p
        })
}

/// Cart forms, Shopify-style: `action=".../cart/add"` with `id` and `quantity` fields adds;
/// `.../cart/change` with `quantity` 0 removes.
fn on_submit(event: web_sys::Event) {
    // The cart and recent products below are read from the profile: fold what was captured.
    super::settle(usize::MAX);
    let Some(form) = event
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
    else {
        return;
    };
    let action = form.action();
    // The action without its query or fragment.
    let end = action.bytes().position(|b| b == b'?' || b == b'#');
    let path = action
        .get(..end.unwrap_or(action.len()))
        .unwrap_or("")
        .trim_end_matches('/');
    let adds = path.ends_with("/cart/add");
    let changes = path.ends_with("/cart/change") || path.ends_with("/cart/remove");
    if !adds && !changes {
        return;
    }
    let Ok(data) = web_sys::FormData::new_with_form(&form) else {
        return;
    };
    let field = |name: &str| data.get(name).as_string().filter(|s| !s.is_empty());
    let Some(id) = field("id").or_else(|| field("product_id")) else {
        return;
    };
    let quantity = field("quantity")
        .and_then(|q| crate::platform::parse_f64(q.trim()))
        .unwrap_or(1.0);
    let mut props = product_details(&id);
    props.remove("in_stock");
    if adds {
        props.set("quantity", quantity.max(1.0).into());
        emit(Kind::Track, Some(names::PRODUCT_ADDED), props);
        return;
    }
    // A change sets the line's new quantity (Shopify's convention): report the difference.
    let current = with_state(|s| {
        s.profile
            .cart
            .iter()
            .find(|l| l.product.id == id)
            .map_or(0.0, |l| f64::from(l.quantity))
    })
    .unwrap_or(0.0);
    let target = quantity.max(0.0).floor();
    if target < current {
        props.set("quantity", (current - target).into());
        emit(Kind::Track, Some(names::PRODUCT_REMOVED), props);
    } else if target > current {
        props.set("quantity", (target - current).into());
        emit(Kind::Track, Some(names::PRODUCT_ADDED), props);
    }
}
