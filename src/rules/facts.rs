//! What the evaluator reads: the [`Facts`] trait, the [`Value`] it returns, and [`MemoryFacts`],
//! a plain in-memory implementation for tests and tools.
//!
//! The evaluator never touches a profile directly: the page module and the Worker each implement
//! [`Facts`] over their own data (the profile, the current page, the cart), so the rules stay one
//! engine wherever the data lives.

#[allow(unused_imports)]
use crate::prelude::*;

use super::ast::Path;
use std::borrow::Cow;

/// A value read from a profile, the page context or a past event.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value<'a> {
    /// Missing or unknown.
    #[default]
    Null,
    /// A flag.
    Bool(bool),
    /// A number (counts, money, scores, days).
    Number(f64),
    /// Text.
    Text(Cow<'a, str>),
    /// A list, e.g. a trait holding tags.
    List(Vec<Value<'a>>),
}

impl Value<'_> {
    /// This value owning its text, so it can be kept.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            Value::Number(n) => Value::Number(n),
            Value::Text(t) => Value::Text(Cow::Owned(t.into_owned())),
            Value::List(items) => Value::List(items.into_iter().map(Value::into_owned).collect()),
        }
    }

    /// A copy of this value that borrows its text from `self` (no allocation for text).
    pub fn borrowed(&self) -> Value<'_> {
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(*b),
            Value::Number(n) => Value::Number(*n),
            Value::Text(t) => Value::Text(Cow::Borrowed(t)),
            Value::List(items) => Value::List(items.iter().map(Value::borrowed).collect()),
        }
    }

    /// The value as a number: numbers, and text that reads as one (`"42"`).
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            Value::Text(t) => crate::platform::parse_f64(t.trim()).filter(|n| n.is_finite()),
            _ => None,
        }
    }

    /// The value as text, if it is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }
}

impl From<f64> for Value<'_> {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}

impl From<i64> for Value<'_> {
    fn from(n: i64) -> Self {
        Value::Number(n as f64)
    }
}

impl From<u32> for Value<'_> {
    fn from(n: u32) -> Self {
        Value::Number(f64::from(n))
    }
}

impl From<bool> for Value<'_> {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Self {
        Value::Text(Cow::Borrowed(s))
    }
}

impl From<String> for Value<'_> {
    fn from(s: String) -> Self {
        Value::Text(Cow::Owned(s))
    }
}

impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// One past event of the customer, as the evaluator sees it.
pub trait PastEvent {
    /// The event name, e.g. `Product Viewed` (matched ignoring ASCII case).
    fn name(&self) -> &str;
    /// When it happened, Unix milliseconds.
    fn at_ms(&self) -> i64;
    /// A property by lower-case key. Implementations should answer at least `category`, `brand`,
    /// `product_id`, `price`, and `revenue`/`value` for orders; [`Value::Null`] when absent.
    fn property(&self, key: &str) -> Value<'_>;
}

/// Everything a rule can ask about one customer, at one moment.
///
/// Property paths follow the language reference (`docs/rules.md`): profile properties such as
/// `orders`, `total_spend`, `rfm.recency`, `affinity.category.shoes`, `traits.plan`,
/// `predicted.clv`, and context such as `page.path`, `utm.source`, `device.type`, `visitor`,
/// `cart.value`. Unquoted path segments arrive lower-cased; implementations should compare keys
/// ignoring ASCII case (see [`Path::is`]).
pub trait Facts {
    /// The value at `path` as of `now_ms` (affinities decay, recency grows);
    /// [`Value::Null`] when unknown.
    fn property(&self, path: &Path, now_ms: i64) -> Value<'_>;

    /// Calls `visit` once for every past event the customer has, in any order.
    fn for_each_event<'a>(&'a self, visit: &mut dyn FnMut(&'a dyn PastEvent));

    /// Membership of a segment defined outside the rule being evaluated.
    ///
    /// Only standalone [`Rule`](super::Rule) evaluation asks; a
    /// [`SegmentSet`](super::SegmentSet) answers `in segment` itself. Default: not a member.
    fn in_segment(&self, name: &str) -> bool {
        let _ = name;
        false
    }

    /// The shop id (for percentage buckets).
    fn shop_id(&self) -> &str;

    /// The customer id (for percentage buckets): the user id when known, else the anonymous id.
    fn customer_id(&self) -> &str;
}

/// A past event held in memory, for [`MemoryFacts`].
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryEvent {
    /// The event name.
    pub name: String,
    /// When it happened, Unix ms.
    pub at_ms: i64,
    /// Properties by lower-case key.
    pub properties: Vec<(String, Value<'static>)>,
}

impl MemoryEvent {
    /// An event with no properties.
    pub fn new(name: &str, at_ms: i64) -> MemoryEvent {
        MemoryEvent {
            name: name.to_string(),
            at_ms,
            properties: Vec::new(),
        }
    }

    /// The same event with one more property.
    pub fn with<'v>(mut self, key: &str, value: impl Into<Value<'v>>) -> MemoryEvent {
        self.properties
            .push((key.to_ascii_lowercase(), value.into().into_owned()));
        self
    }
}

impl PastEvent for MemoryEvent {
    fn name(&self) -> &str {
        &self.name
    }

    fn at_ms(&self) -> i64 {
        self.at_ms
    }

    fn property(&self, key: &str) -> Value<'_> {
        self.properties
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map_or(Value::Null, |(_, v)| v.borrowed())
    }
}

/// [`Facts`] held in memory: properties by path, a list of events, segment memberships.
///
/// ```
/// use affinity::rules::{MemoryEvent, MemoryFacts};
///
/// let facts = MemoryFacts::new("shop1", "c42")
///     .with("total_spend", 250.0)
///     .with("traits.plan", "pro")
///     .with_event(MemoryEvent::new("Product Viewed", 1_000).with("category", "Shoes"));
/// let rule = affinity::rules::parse(r#"total_spend > 100 and performed "Product Viewed""#)?;
/// assert!(rule.evaluate(&facts, 2_000));
/// # Ok::<(), affinity::rules::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryFacts {
    /// The shop id.
    pub shop: String,
    /// The customer id.
    pub customer: String,
    /// Properties by path (values do not change with time).
    pub properties: Vec<(Path, Value<'static>)>,
    /// Past events.
    pub events: Vec<MemoryEvent>,
    /// Segments the customer is in (for standalone evaluation of `in segment`).
    pub segments: Vec<String>,
}

impl MemoryFacts {
    /// Facts for one customer of one shop, with nothing known yet.
    pub fn new(shop: &str, customer: &str) -> MemoryFacts {
        MemoryFacts {
            shop: shop.to_string(),
            customer: customer.to_string(),
            ..MemoryFacts::default()
        }
    }

    /// Sets the property at dotted `path` (e.g. `"affinity.category.shoes"`).
    pub fn set<'v>(&mut self, path: &str, value: impl Into<Value<'v>>) {
        let path = Path::dotted(path);
        let value = value.into().into_owned();
        match self.properties.iter_mut().find(|(p, _)| *p == path) {
            Some(slot) => slot.1 = value,
            None => self.properties.push((path, value)),
        }
    }

    /// The same facts with the property at dotted `path` set.
    pub fn with<'v>(mut self, path: &str, value: impl Into<Value<'v>>) -> MemoryFacts {
        self.set(path, value);
        self
    }

    /// The same facts with one more past event.
    pub fn with_event(mut self, event: MemoryEvent) -> MemoryFacts {
        self.events.push(event);
        self
    }

    /// The same facts with the customer in segment `name`.
    pub fn with_segment(mut self, name: &str) -> MemoryFacts {
        self.segments.push(name.to_string());
        self
    }
}

impl Facts for MemoryFacts {
    fn property(&self, path: &Path, _now_ms: i64) -> Value<'_> {
        self.properties
            .iter()
            .find(|(p, _)| {
                p.segments().len() == path.segments().len()
                    && p.segments()
                        .iter()
                        .zip(path.segments())
                        .all(|(a, b)| a.eq_ignore_ascii_case(b))
            })
            .map_or(Value::Null, |(_, v)| v.borrowed())
    }

    fn for_each_event<'a>(&'a self, visit: &mut dyn FnMut(&'a dyn PastEvent)) {
        for e in &self.events {
            visit(e);
        }
    }

    fn in_segment(&self, name: &str) -> bool {
        self.segments.iter().any(|s| s == name)
    }

    fn shop_id(&self) -> &str {
        &self.shop
    }

    fn customer_id(&self) -> &str {
        &self.customer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_facts_lookup_ignores_case() {
        let f = MemoryFacts::new("s", "c")
            .with("Affinity.Category.Shoes", 0.5)
            .with("traits.plan", "pro");
        assert_eq!(
            f.property(&Path::new(["affinity", "category", "SHOES"]), 0),
            Value::Number(0.5)
        );
        assert_eq!(f.property(&Path::dotted("traits.plan"), 0), "pro".into());
        assert_eq!(f.property(&Path::dotted("traits.other"), 0), Value::Null);
    }

    #[test]
    fn set_replaces() {
        let mut f = MemoryFacts::new("s", "c");
        f.set("orders", 1.0);
        f.set("ORDERS", 2.0);
        assert_eq!(f.properties.len(), 1);
        assert_eq!(f.property(&Path::dotted("orders"), 0), Value::Number(2.0));
    }

    #[test]
    fn numbers_from_text() {
        assert_eq!(Value::from(" 42 ").as_number(), Some(42.0));
        assert_eq!(Value::from("inf").as_number(), None);
        assert_eq!(Value::Bool(true).as_number(), None);
        assert_eq!(Value::from(Some(3u32)), Value::Number(3.0));
        assert_eq!(Value::from(None::<f64>), Value::Null);
    }

    #[test]
    fn memory_events() {
        let e = MemoryEvent::new("Order Completed", 5).with("Revenue", 20.0);
        assert_eq!(e.property("revenue"), Value::Number(20.0));
        assert_eq!(e.property("brand"), Value::Null);
        let f = MemoryFacts::new("s", "c").with_event(e);
        let mut n = 0;
        f.for_each_event(&mut |e| {
            assert_eq!(e.at_ms(), 5);
            n += 1;
        });
        assert_eq!(n, 1);
    }
}
