//! Rendering the slots a shop marks with `data-affinity-slot`, ranked on the device.
//!
//! | slot | strategy |
//! |---|---|
//! | `for-you` | the session, cart, purchases and category affinities ([`Strategy::ForYou`]) |
//! | `similar` | viewed together with the product on this page |
//! | `bought-together` | frequently bought together with this product (or the cart) |
//! | `cart` | cross-sell for the cart |
//! | `trending` | time-decayed popularity |
//! | `popular` | all-time popularity |
//! | `recently-viewed` | the shopper's own recently viewed products (local profile only) |
//!
//! Merchandising attributes on the slot element: `data-affinity-count` (default 4, at most 24),
//! `data-affinity-category` / `data-affinity-exclude-category` (comma lists),
//! `data-affinity-min-price` / `data-affinity-max-price` (in the shop's currency),
//! `data-affinity-pin` (`id@position,…`), `data-affinity-boost` (`id:factor` or
//! `category=Name:factor`, comma list). Out-of-stock, purchased and in-cart products and the
//! product on the page are never recommended.
//!
//! Slot policy of one page: slots are filled in page order and no product shows twice on a page
//! (a later slot skips what an earlier one shows). The `for-you` slot ranks the products the
//! shopper already viewed after the ones they have not, unless the slot asks for reminders with
//! `data-affinity-reminders` (then the model's ranking, repeats included, is shown as is).
//!
//! Slots can be targeted to a segment by placing them in segment content
//! (`<div data-affinity-segment="vip"><div data-affinity-slot="for-you"></div></div>`): a slot in
//! content for another segment is not ranked, shown or counted.
//!
//! Shoppers in the recommendation holdout (the engine's one bucketing function, purpose
//! [`HOLDOUT_PURPOSE`]) see the non-personalized `popular` ranking in personalized slots, so the
//! dashboard can measure lift. Impressions (`Product List Viewed`) and clicks (`Product Clicked`)
//! carry `list_id = "affinity:<slot>"` and the `variant` (`personalized`, `holdout`, `standard`,
//! `local`).
//!
//! An empty result leaves the slot empty, so shops can hide its section with `:empty`.

#[allow(unused_imports)]
use crate::prelude::*;

use wasm_bindgen::JsCast;

use super::{emit, sys, with_state, State};
use crate::bucket;
use crate::event::{names, Kind};
use crate::json::Value;
use crate::markup::{escape_html as escape, safe_url};
use crate::recommend::{Boost, Pin, Query, Reason, Strategy};

/// Purpose string of the recommendation holdout in [`bucket::bucket`].
pub const HOLDOUT_PURPOSE: &str = "recs-holdout";

/// Default look, overridable by any shop rule (`:where` keeps specificity at zero).
const CSS: &str = ":where(.affinity-list){display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:16px}\
:where(.affinity-card){display:flex;flex-direction:column;gap:4px;color:inherit;text-decoration:none}\
:where(.affinity-card img){width:100%;aspect-ratio:1;object-fit:cover;border-radius:8px;background:#f3f3f3}\
:where(.affinity-name){font-size:.9em;line-height:1.3}:where(.affinity-price){font-weight:600}\
:where(.affinity-reason){font-size:.75em;opacity:.7}";

/// One product card, borrowed from the profile or the model.
struct Card<'a> {
    id: &'a str,
    name: &'a str,
    price: Option<f64>,
    url: &'a str,
    image: &'a str,
    reason: String,
}

fn card_html(card: &Card, position: usize, currency: &str, out: &mut String) {
    out.push_str("<a class=\"affinity-card\" data-affinity-item=\"");
    escape(card.id, out);
    out.push_str("\" data-affinity-position=\"");
    crate::platform::write_u64(position as u64, out);
    out.push_str("\" href=\"");
    escape(safe_url(card.url), out);
    out.push_str("\">");
    if !card.image.is_empty() {
        out.push_str("<img loading=\"lazy\" alt=\"\" src=\"");
        escape(safe_url(card.image), out);
        out.push_str("\">");
    }
    out.push_str("<span class=\"affinity-name\">");
    escape(card.name, out);
    out.push_str("</span>");
    if let Some(price) = card.price {
        out.push_str("<span class=\"affinity-price\">");
        escape(&sys::format_price(price, currency), out);
        out.push_str("</span>");
    }
    if !card.reason.is_empty() {
        out.push_str("<span class=\"affinity-reason\">");
        escape(&card.reason, out);
        out.push_str("</span>");
    }
    out.push_str("</a>");
}

/// Where a slot's cards are written as they are made: its markup, its `data-affinity-shown`
/// list, and the page's taken ids (whose tail from `before` is this slot's).
struct Sink<'a> {
    html: String,
    shown: String,
    taken: &'a mut Vec<String>,
    before: usize,
    currency: &'a str,
}

impl Sink<'_> {
    /// How many cards the slot shows so far.
    fn len(&self) -> usize {
        self.taken.len() - self.before
    }

    /// True when an earlier slot on the page shows `id`.
    fn taken_before(&self, id: &String) -> bool {
        self.taken[..self.before].contains(id)
    }

    fn card(&mut self, card: &Card) {
        let position = self.len() + 1;
        if position == 1 {
            self.html.push_str("<div class=\"affinity-list\">");
        } else {
            self.shown.push(',');
        }
        card_html(card, position, self.currency, &mut self.html);
        self.shown.push_str(card.id);
        self.taken.push(card.id.to_string());
    }
}

/// The strategy behind a slot name; `None` for slots not ranked by the model.
fn strategy(slot: &str) -> Option<Strategy> {
    Some(match slot {
        "for-you" => Strategy::ForYou,
        "similar" => Strategy::Similar,
        "bought-together" => Strategy::BoughtTogether,
        "cart" => Strategy::CartCrossSell,
        "trending" => Strategy::Trending,
        "popular" => Strategy::Popular,
        _ => return None,
    })
}

fn is_personal(strategy: Strategy) -> bool {
    matches!(
        strategy,
        Strategy::ForYou | Strategy::Similar | Strategy::BoughtTogether | Strategy::CartCrossSell
    )
}

/// True when this shopper is in the shop's recommendation holdout.
fn in_holdout(s: &State) -> bool {
    bucket::in_percent(&s.shop, &s.anonymous_id, HOLDOUT_PURPOSE, s.holdout_percent)
}

/// The non-empty trimmed items of a comma list attribute.
fn list(attr: Option<String>) -> Vec<String> {
    let mut out = Vec::new();
    for x in crate::text::split(&attr.unwrap_or_default(), b',') {
        let x = x.trim();
        if !x.is_empty() {
            out.push(x.to_string());
        }
    }
    out
}

fn cents(attr: Option<String>) -> Option<u32> {
    let v = crate::platform::parse_f64(attr?.trim())?;
    (v.is_finite() && v >= 0.0).then(|| (v * 100.0).round() as u32)
}

/// The ranking request for a slot element, from the local profile.
fn query(s: &State, el: &web_sys::Element, strategy: Strategy, count: usize) -> Query {
    let attr = |name: &str| el.get_attribute(name);
    let mut q = Query::new(strategy, count);
    let p = &s.profile;
    for v in p.recent.iter().rev() {
        q.history.push((v.product.id.clone(), v.at_ms));
    }
    q.anchor = s.current_product.clone();
    for l in &p.cart {
        q.cart.push(l.product.id.clone());
    }
    for o in &p.orders {
        q.purchased.extend_from_slice(&o.items);
    }
    let now = sys::now_ms();
    for a in &p.categories {
        q.category_affinity
            .push((a.key.clone(), p.category_affinity(&a.key, now) as f32));
    }
    let r = &mut q.rules;
    r.include_categories = list(attr("data-affinity-category"));
    r.exclude_categories = list(attr("data-affinity-exclude-category"));
    r.min_price_cents = cents(attr("data-affinity-min-price"));
    r.max_price_cents = cents(attr("data-affinity-max-price"));
    for x in list(attr("data-affinity-pin")) {
        let Some((id, at)) = crate::text::split_once(&x, b'@') else {
            continue;
        };
        if let Some(position) = crate::text::parse_u32(at) {
            r.pins.push(Pin {
                id: id.to_string(),
                position: position as usize,
            });
        }
    }
    for x in list(attr("data-affinity-boost")) {
        let Some((target, factor)) = crate::text::rsplit_once(&x, b':') else {
            continue;
        };
        let Some(factor) = crate::platform::parse_f64(factor)
            .map(|f| f as f32)
            .filter(|f| f.is_finite() && *f >= 0.0)
        else {
            continue;
        };
        r.boosts.push(match target.strip_prefix("category=") {
            Some(category) => Boost::Category {
                category: category.to_string(),
                factor,
            },
            None => Boost::Item {
                id: target.to_string(),
                factor,
            },
        });
    }
    q
}

/// Writes the cards for a slot into `out`, and returns the variant shown: `personalized`,
/// `holdout` (a personalized slot showing the popular ranking to a held-out shopper), `standard`
/// (trending, popular) or `local` (recently viewed).
fn cards(
    s: &State,
    el: &web_sys::Element,
    slot: &str,
    count: usize,
    out: &mut Sink,
) -> &'static str {
    if slot == "recently-viewed" {
        for v in &s.profile.recent {
            let p = &v.product;
            if out.len() >= count {
                break;
            }
            if s.current_product.as_deref() != Some(p.id.as_str()) && !out.taken_before(&p.id) {
                out.card(&Card {
                    id: &p.id,
                    name: &p.name,
                    price: p.price,
                    url: p.url.as_deref().unwrap_or(""),
                    image: p.image.as_deref().unwrap_or(""),
                    reason: String::new(),
                });
            }
        }
        return "local";
    }
    let (Some(mut strategy), Some(model)) = (strategy(slot), s.model.as_ref()) else {
        return "local";
    };
    let mut variant = if is_personal(strategy) {
        "personalized"
    } else {
        "standard"
    };
    if is_personal(strategy) && in_holdout(s) {
        strategy = Strategy::Popular;
        variant = "holdout";
    }
    let mut q = query(s, el, strategy, count);
    q.rules.exclude_items.extend_from_slice(out.taken);
    let demote = strategy == Strategy::ForYou && !el.has_attribute("data-affinity-reminders");
    if demote {
        // Viewed products go after the others: ask for enough to fill the slot without them.
        q.count = count + q.history.len();
    }
    let mut ranked = model.recommend(&q);
    if demote {
        // Viewed products after the others, each group in ranked order.
        let mut viewed = Vec::new();
        ranked.retain(|r| {
            let seen = q.history.iter().any(|(h, _)| model.id(r.item) == Some(h));
            if seen {
                viewed.push(*r);
            }
            !seen
        });
        ranked.extend(viewed);
        ranked.truncate(count);
    }
    for r in ranked {
        let Some(id) = model.id(r.item) else {
            continue;
        };
        let reason = match r.reason {
            // The slot's own title says it already.
            Reason::Popular | Reason::RecentlyViewed => String::new(),
            ref other => other.text(model),
        };
        let name = model.name(r.item).unwrap_or("");
        out.card(&Card {
            name: if name.is_empty() { id } else { name },
            id,
            price: model.price_cents(r.item).map(|c| f64::from(c) / 100.0),
            url: model.url(r.item).unwrap_or(""),
            image: model.image(r.item).unwrap_or(""),
            reason,
        });
    }
    variant
}

/// Renders every slot on the page from the current state, and reports new impressions.
pub fn render_slots() {
    // Slots rank with the profile: fold what was captured first.
    super::settle(usize::MAX);
    let doc = sys::document();
    let Ok(slots) = doc.query_selector_all("[data-affinity-slot]") else {
        return;
    };
    if slots.length() > 0 {
        sys::add_style("affinity-css", CSS);
    }
    let mut impressions = Vec::new();
    // What earlier slots on the page show: later slots skip it.
    let mut taken: Vec<String> = Vec::new();
    for i in 0..slots.length() {
        let Some(el) = slots
            .item(i)
            .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
        else {
            continue;
        };
        // Segment-targeted slots: inside content for another segment, nothing is ranked, shown
        // or counted as an impression.
        let targeted_away = el
            .closest("[data-affinity-segment]:not([data-affinity-on]),[data-affinity-segment-not][hidden]")
            .ok()
            .flatten()
            .is_some();
        if targeted_away {
            if el.has_attribute("data-affinity-shown") {
                el.set_inner_html("");
                let _ = el.remove_attribute("data-affinity-shown");
            }
            continue;
        }
        let slot = el.get_attribute("data-affinity-slot").unwrap_or_default();
        let count = el
            .get_attribute("data-affinity-count")
            .and_then(|c| crate::text::parse_u32(&c))
            .map_or(4, |c| c.clamp(1, 24) as usize);
        // The cards borrow the state: their markup is written before it is released. What
        // they show joins `taken` (the new tail is this slot's ids) and `shown`.
        let before = taken.len();
        let Some((html, shown, variant)) = with_state(|s| {
            let mut out = Sink {
                html: String::new(),
                shown: String::new(),
                taken: &mut taken,
                before,
                currency: &s.currency,
            };
            let variant = cards(s, &el, &slot, count, &mut out);
            if out.len() > 0 {
                out.html.push_str("</div>");
            }
            (out.html, out.shown, variant)
        }) else {
            return;
        };
        if el.get_attribute("data-affinity-shown").as_deref() != Some(shown.as_str()) {
            el.set_inner_html(&html);
            let _ = el.set_attribute("data-affinity-shown", &shown);
            let _ = el.set_attribute("data-affinity-variant", variant);
            if taken.len() > before {
                impressions.push(impression(&slot, variant, &taken[before..]));
            }
        }
    }
    for props in impressions {
        emit(Kind::Track, Some(names::PRODUCT_LIST_VIEWED), props);
    }
}

fn impression(slot: &str, variant: &str, ids: &[String]) -> Value {
    let mut props = Value::object();
    props.set("list_id", crate::text::concat(&["affinity:", slot]).into());
    props.set("variant", variant.into());
    let mut products = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let mut p = Value::object();
        p.set("product_id", id.as_str().into());
        p.set("position", ((i + 1) as f64).into());
        products.push(p);
    }
    props.set("products", Value::Array(products));
    props
}

/// Reports a click on a recommended card (`Product Clicked`), before the browser follows it.
pub fn on_click(event: web_sys::Event) {
    let Some(card) = event
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|el| el.closest("[data-affinity-item]").ok().flatten())
    else {
        return;
    };
    let Some(slot) = card.closest("[data-affinity-slot]").ok().flatten() else {
        return;
    };
    let attr = |el: &web_sys::Element, name: &str| el.get_attribute(name).unwrap_or_default();
    let mut props = Value::object();
    props.set("product_id", attr(&card, "data-affinity-item").into());
    if let Some(position) = crate::platform::parse_f64(&attr(&card, "data-affinity-position")) {
        props.set("position", position.into());
    }
    props.set(
        "list_id",
        crate::text::concat(&["affinity:", &attr(&slot, "data-affinity-slot")]).into(),
    );
    props.set("variant", attr(&slot, "data-affinity-variant").into());
    emit(Kind::Track, Some(names::PRODUCT_CLICKED), props);
    super::transport::flush(true);
}
