//! Segments over real customers: what the rule engine ([`crate::rules`]) reads from a
//! [`Profile`] and the moment's [`Context`].
//!
//! The page evaluates with the local profile and the live page; the edge's customer Durable Object
//! evaluates with its profile and the context of the customer's latest event; offline replays use
//! the same [`ProfileFacts`]. One implementation, so all three agree on who is in a segment.

#[allow(unused_imports)]
use crate::prelude::*;

use std::borrow::Cow;

use crate::json::Value as Json;
use crate::profile::{PastEvent, Profile};
use crate::rules::{Facts, PastEvent as RulePastEvent, Path, Value};

/// The moment a segment is evaluated in: the page and the visit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    /// Full URL of the page.
    pub url: String,
    /// Path of the page.
    pub path: String,
    /// Referrer.
    pub referrer: String,
    /// Page title.
    pub title: String,
    /// UTM parameters: source, medium, campaign, term, content.
    pub utm: [Option<String>; 5],
    /// `mobile`, `tablet` or `desktop`.
    pub device_type: Option<String>,
}

/// The device type a user agent names: `tablet`, `mobile` or `desktop`.
pub fn device_type(user_agent: &str) -> &'static str {
    let ua = user_agent.to_ascii_lowercase();
    // A plain byte scan: `str::contains` links the Two-Way substring search (~2 KB of Wasm) into
    // the page for these few words of a short text.
    let has = |word: &str| {
        ua.as_bytes()
            .windows(word.len())
            .any(|w| w == word.as_bytes())
    };
    if has("ipad") || has("tablet") || (has("android") && !has("mobile")) {
        "tablet"
    } else if has("mobi") || has("iphone") || has("android") {
        "mobile"
    } else {
        "desktop"
    }
}

impl Context {
    /// The context of a Segment event (`context.page`, `context.campaign`, `context.userAgent`).
    pub fn from_event_context(ctx: &Json) -> Context {
        let page = ctx.get("page").cloned().unwrap_or_default();
        let text = |v: &Json, k: &str| v.get_str(k).unwrap_or("").to_string();
        let campaign = ctx.get("campaign").cloned().unwrap_or_default();
        let utm = ["source", "medium", "name", "term", "content"]
            .map(|k| campaign.get_str(k).map(str::to_string));
        Context {
            url: text(&page, "url"),
            path: text(&page, "path"),
            referrer: text(&page, "referrer"),
            title: text(&page, "title"),
            utm,
            device_type: ctx
                .get_str("userAgent")
                .map(|ua| device_type(ua).to_string()),
        }
    }
}

/// [`Facts`] over a profile, in a context, for a shop.
#[derive(Debug, Clone, Copy)]
pub struct ProfileFacts<'a> {
    /// The shop id (for percentage buckets).
    pub shop: &'a str,
    /// The customer's profile.
    pub profile: &'a Profile,
    /// The page and visit.
    pub context: &'a Context,
}

fn text(s: &str) -> Value<'_> {
    Value::Text(Cow::Borrowed(s))
}

fn opt_text(s: Option<&str>) -> Value<'_> {
    s.map_or(Value::Null, text)
}

fn json_value(v: &Json) -> Value<'_> {
    match v {
        Json::Null | Json::Object(_) => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => Value::Number(*n),
        Json::String(s) => text(s),
        Json::Array(items) => Value::List(items.iter().map(json_value).collect()),
    }
}

impl Facts for ProfileFacts<'_> {
    fn property(&self, path: &Path, now_ms: i64) -> Value<'_> {
        let p = self.profile;
        let c = &p.counters;
        let segs = path.segments();
        let name = |i: usize| segs.get(i).map_or("", String::as_str);
        let is = |a: &[&str]| path.is(a);
        if is(&["orders"]) {
            c.orders.into()
        } else if is(&["product_views"]) {
            c.product_views.into()
        } else if is(&["page_views"]) {
            c.page_views.into()
        } else if is(&["searches"]) {
            c.searches.into()
        } else if is(&["cart_adds"]) {
            c.cart_adds.into()
        } else if is(&["checkouts"]) {
            c.checkouts.into()
        } else if is(&["sessions"]) {
            p.sessions.into()
        } else if is(&["total_spend"]) {
            p.total_spend.into()
        } else if is(&["rfm", "recency"]) {
            p.rfm(now_ms)
                .recency_days
                .map_or(Value::Null, Value::Number)
        } else if is(&["rfm", "frequency"]) {
            c.orders.into()
        } else if is(&["rfm", "monetary"]) {
            p.total_spend.into()
        } else if is(&["cart", "value"]) {
            p.cart_value().into()
        } else if is(&["cart", "items"]) {
            p.cart.iter().map(|l| l.quantity).sum::<u32>().into()
        } else if is(&["visitor"]) {
            text(if p.sessions > 1 { "returning" } else { "new" })
        } else if is(&["page", "url"]) {
            text(&self.context.url)
        } else if is(&["page", "path"]) {
            text(&self.context.path)
        } else if is(&["page", "referrer"]) {
            text(&self.context.referrer)
        } else if is(&["page", "title"]) {
            text(&self.context.title)
        } else if is(&["device", "type"]) {
            opt_text(self.context.device_type.as_deref())
        } else if segs.len() == 2 && name(0).eq_ignore_ascii_case("utm") {
            let i = ["source", "medium", "campaign", "term", "content"]
                .iter()
                .position(|k| name(1).eq_ignore_ascii_case(k));
            opt_text(i.and_then(|i| self.context.utm[i].as_deref()))
        } else if segs.len() == 3 && name(0).eq_ignore_ascii_case("affinity") {
            if name(1).eq_ignore_ascii_case("category") {
                p.category_affinity(name(2), now_ms).into()
            } else if name(1).eq_ignore_ascii_case("brand") {
                p.brand_affinity(name(2), now_ms).into()
            } else {
                Value::Null
            }
        } else if segs.len() >= 2 && name(0).eq_ignore_ascii_case("traits") {
            let mut v = &p.traits;
            for key in &segs[1..] {
                let found = v.as_object().and_then(|pairs| {
                    pairs
                        .iter()
                        .rev()
                        .find(|(k, _)| k.eq_ignore_ascii_case(key))
                        .map(|(_, v)| v)
                });
                match found {
                    Some(next) => v = next,
                    None => return Value::Null,
                }
            }
            json_value(v)
        } else {
            // `predicted.*` arrives with forecasting; unknown paths are null.
            Value::Null
        }
    }

    fn for_each_event<'a>(&'a self, visit: &mut dyn FnMut(&'a dyn RulePastEvent)) {
        for event in &self.profile.history {
            visit(event);
        }
    }

    fn shop_id(&self) -> &str {
        self.shop
    }

    fn customer_id(&self) -> &str {
        self.profile
            .user_id
            .as_deref()
            .unwrap_or(&self.profile.customer_id)
    }
}

impl RulePastEvent for PastEvent {
    fn name(&self) -> &str {
        &self.name
    }

    fn at_ms(&self) -> i64 {
        self.at_ms
    }

    fn property(&self, key: &str) -> Value<'_> {
        match key {
            "category" => opt_text(self.category.as_deref()),
            "brand" => opt_text(self.brand.as_deref()),
            "product_id" | "sku" => opt_text(self.product_id.as_deref()),
            "price" | "revenue" | "value" | "total" => {
                self.value.map_or(Value::Null, Value::Number)
            }
            _ => Value::Null,
        }
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64url without padding: how compiled segments travel inside the JSON shop config.
pub fn encode_base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Decodes [`encode_base64`] text (padding and the standard alphabet's `+/` also accepted);
/// `None` for anything else.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{names, Event};
    use crate::json::parse;
    use crate::rules::{self, SegmentSet};

    const DAY: i64 = 86_400_000;
    const T0: i64 = 1_790_000_000_000;

    fn track(name: &str, at: i64, props: &str) -> Event {
        let mut e = Event::track(name, "anon-9", &format!("m{at}{name}"), at);
        e.properties = parse(props).unwrap();
        e
    }

    fn shopper() -> Profile {
        let mut p = Profile::new("anon-9");
        for (i, cat) in ["Shoes", "Shoes", "Shoes", "Tents"].iter().enumerate() {
            p.apply(&track(
                names::PRODUCT_VIEWED,
                T0 + i as i64 * DAY,
                &format!(r#"{{"product_id":"p{i}","category":"{cat}","price":50}}"#),
            ));
        }
        p.apply(&track(
            names::ORDER_COMPLETED,
            T0 - 40 * DAY,
            r#"{"order_id":"o1","total":180,"products":[{"product_id":"p0"}]}"#,
        ));
        p.traits.set("plan", "gold".into());
        p
    }

    #[test]
    fn rules_read_real_profiles() {
        let p = shopper();
        let mut ctx = Context::from_event_context(
            &parse(
                r#"{"page":{"path":"/c/shoes/","url":"https://s/c/shoes/?utm_source=news"},
                "campaign":{"source":"news"},"userAgent":"Mozilla/5.0 (iPhone; Mobile)"}"#,
            )
            .unwrap(),
        );
        let facts = ProfileFacts {
            shop: "demo",
            profile: &p,
            context: &ctx,
        };
        let now = T0 + 4 * DAY;
        let holds = |src: &str| rules::parse(src).unwrap().evaluate(&facts, now);
        assert!(holds(
            r#"performed "Product Viewed" where category = "Shoes" at least 3 times in the last 7 days"#
        ));
        assert!(!holds(
            r#"performed "Product Viewed" where category = "Tents" at least 2 times in the last 7 days"#
        ));
        assert!(holds("total_spend >= 180 and orders = 1"));
        assert!(holds(
            r#"traits.plan = "gold" and utm.source = "news" and device.type = "mobile""#
        ));
        assert!(holds(r#"page.path starts with "/c/""#));
        assert!(holds(
            "affinity.category.shoes > 2 and affinity.category.tents < 1"
        ));
        assert!(holds("rfm.recency > 30"));
        ctx.device_type = None;
        let facts = ProfileFacts {
            shop: "demo",
            profile: &p,
            context: &ctx,
        };
        assert!(!rules::parse(r#"device.type = "mobile""#)
            .unwrap()
            .evaluate(&facts, now));
    }

    #[test]
    fn segment_sets_over_profiles() {
        let p = shopper();
        let ctx = Context::default();
        let facts = ProfileFacts {
            shop: "demo",
            profile: &p,
            context: &ctx,
        };
        let set = SegmentSet::new(vec![
            (
                "shoe-fans".into(),
                rules::parse(r#"affinity.category.shoes > 1"#).unwrap(),
            ),
            (
                "vip".into(),
                rules::parse(r#"total_spend > 100 and in segment "shoe-fans""#).unwrap(),
            ),
            (
                "lapsed".into(),
                rules::parse(r#"performed "Order Completed" in the last 30 days"#).unwrap(),
            ),
        ])
        .unwrap();
        let members = set.evaluate(&facts, T0 + 4 * DAY);
        assert!(members.contains("shoe-fans"));
        assert!(members.contains("vip"));
        assert!(!members.contains("lapsed"));
    }

    #[test]
    fn base64_round_trips() {
        for n in 0..40u8 {
            let bytes: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
            assert_eq!(decode_base64(&encode_base64(&bytes)), Some(bytes));
        }
        assert_eq!(encode_base64(b"Man"), "TWFu");
        assert_eq!(decode_base64("TWE="), Some(b"Ma".to_vec()));
        assert_eq!(decode_base64("a b"), None);
    }

    #[test]
    fn devices() {
        assert_eq!(device_type("Mozilla/5.0 (iPad; CPU OS 17_0)"), "tablet");
        assert_eq!(
            device_type("Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile"),
            "mobile"
        );
        assert_eq!(
            device_type("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/156"),
            "desktop"
        );
    }
}
