//! The event model: Segment's spec calls (`track`, `page`, `identify`, `alias`, …) with the
//! e-commerce v2 event names and property names, validated the same way in the page and at the
//! edge.
//!
//! Field names follow the Segment HTTP API (`anonymousId`, `messageId`, `properties`, …) so that
//! any Segment-compatible client can send to Affinity. Unknown top-level fields and unknown
//! properties are kept, never rejected: real tracking clients add their own.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::{error, invalid, Error, ErrorKind};
use crate::json::Value;
use crate::time;

/// Largest accepted event, in bytes of JSON (Segment's limit for one call).
pub const MAX_EVENT_BYTES: usize = 32 * 1024;
/// Largest accepted batch body, in bytes (Segment's limit for `/v1/batch`).
pub const MAX_BATCH_BYTES: usize = 500 * 1024;
/// Most events accepted in one batch.
pub const MAX_BATCH_EVENTS: usize = 1_000;
/// Longest accepted id (`anonymousId`, `userId`, `messageId`), in bytes.
pub const MAX_ID_BYTES: usize = 256;

/// E-commerce v2 event names, as the Segment spec spells them.
pub mod names {
    /// A shopper searched the catalog (`query`).
    pub const PRODUCTS_SEARCHED: &str = "Products Searched";
    /// A list or category of products was shown (`list_id`, `category`, `products`).
    pub const PRODUCT_LIST_VIEWED: &str = "Product List Viewed";
    /// A product in a list was clicked (`product_id`, `position`, `list_id`).
    pub const PRODUCT_CLICKED: &str = "Product Clicked";
    /// A product page was viewed (`product_id`, `name`, `price`, `category`, `brand`, …).
    pub const PRODUCT_VIEWED: &str = "Product Viewed";
    /// A product was added to the cart (`product_id`, `quantity`, `price`, …).
    pub const PRODUCT_ADDED: &str = "Product Added";
    /// A product was removed from the cart.
    pub const PRODUCT_REMOVED: &str = "Product Removed";
    /// The cart was viewed (`cart_id`, `products`).
    pub const CART_VIEWED: &str = "Cart Viewed";
    /// Checkout began (`order_id`, `value`, `revenue`, `products`, …).
    pub const CHECKOUT_STARTED: &str = "Checkout Started";
    /// An order was completed (`order_id`, `total`, `revenue`, `currency`, `products`).
    pub const ORDER_COMPLETED: &str = "Order Completed";
    /// An order was refunded (`order_id`, `total`).
    pub const ORDER_REFUNDED: &str = "Order Refunded";
}

/// The Segment spec call an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `track`: something the customer did (`event` names it).
    Track,
    /// `page`: a page view (`name` optional).
    Page,
    /// `screen`: an app screen view.
    Screen,
    /// `identify`: who the customer is (`userId`, `traits`).
    Identify,
    /// `alias`: `previousId` and `userId` are the same person.
    Alias,
    /// `group`: the customer belongs to a company or account.
    Group,
}

impl Kind {
    /// The spec's name for the call.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Track => "track",
            Kind::Page => "page",
            Kind::Screen => "screen",
            Kind::Identify => "identify",
            Kind::Alias => "alias",
            Kind::Group => "group",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "track" => Kind::Track,
            "page" => Kind::Page,
            "screen" => Kind::Screen,
            "identify" => Kind::Identify,
            "alias" => Kind::Alias,
            "group" => Kind::Group,
            _ => return None,
        })
    }
}

/// One validated event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The spec call.
    pub kind: Kind,
    /// `event` for track calls, `name` for page/screen calls.
    pub name: Option<String>,
    /// Unique id of this message; the edge applies each one once.
    pub message_id: String,
    /// The device's anonymous id.
    pub anonymous_id: Option<String>,
    /// The shop's id for a known customer.
    pub user_id: Option<String>,
    /// `alias` calls: the id being merged.
    pub previous_id: Option<String>,
    /// When it happened, Unix ms (`timestamp`, else the time it was received).
    pub timestamp_ms: i64,
    /// `properties` (track, page): always an object.
    pub properties: Value,
    /// `traits` (identify, group): always an object.
    pub traits: Value,
    /// `context` (page URL, referrer, user agent, campaign, …): always an object.
    pub context: Value,
    /// Any other top-level fields, kept as sent.
    pub extra: Vec<(String, Value)>,
}

const KNOWN_FIELDS: [&str; 12] = [
    "type",
    "event",
    "name",
    "messageId",
    "anonymousId",
    "userId",
    "previousId",
    "timestamp",
    "properties",
    "traits",
    "context",
    "sentAt",
];

fn id_field(raw: &Value, key: &str) -> Result<Option<String>, Error> {
    match raw.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        // Segment accepts numeric user ids; keep them as text.
        Some(Value::Number(n)) if n.fract() == 0.0 => {
            Ok(Some(crate::platform::int_text(*n as i64)))
        }
        Some(_) => Err(invalid!("ev2", "`{key}` must be a string")),
    }
}

fn object_field(raw: &Value, key: &str) -> Result<Value, Error> {
    match raw.get(key) {
        None | Some(Value::Null) => Ok(Value::object()),
        Some(v @ Value::Object(_)) => Ok(v.clone()),
        Some(_) => Err(invalid!("ev3", "`{key}` must be an object")),
    }
}

impl Event {
    /// A new `track` event named `name` for `anonymous_id`, with empty properties.
    pub fn track(name: &str, anonymous_id: &str, message_id: &str, timestamp_ms: i64) -> Event {
        Event {
            kind: Kind::Track,
            name: Some(name.to_string()),
            message_id: message_id.to_string(),
            anonymous_id: Some(anonymous_id.to_string()),
            user_id: None,
            previous_id: None,
            timestamp_ms,
            properties: Value::object(),
            traits: Value::object(),
            context: Value::object(),
            extra: Vec::new(),
        }
    }

    /// Validates a decoded JSON event. `received_ms` stands in when `timestamp` is absent.
    ///
    /// Errors name the field and say what is expected, e.g. "`properties.order_id` is required for
    /// Order Completed".
    pub fn from_json_at(raw: &Value, received_ms: i64) -> Result<Event, Error> {
        if raw.as_object().is_none() {
            return Err(invalid!("ev4", "an event must be a JSON object"));
        }
        let kind_text = raw.get_str("type").ok_or_else(|| {
            invalid!(
                "ev5",
                "`type` is required (track, page, identify, alias, …)"
            )
        })?;
        let kind = Kind::parse(kind_text).ok_or_else(|| {
            invalid!("ev6", "`type` must be one of track, page, screen, identify, alias, group (got {kind_text:?})")
        })?;
        let name = match kind {
            Kind::Track => match raw.get("event") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(invalid!("ev7", "`event` is required for track calls")),
            },
            _ => match raw.get("name") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(invalid!("ev9", "`name` must be a string")),
            },
        };
        let anonymous_id = id_field(raw, "anonymousId")?;
        let user_id = id_field(raw, "userId")?;
        let previous_id = id_field(raw, "previousId")?;
        let message_id = id_field(raw, "messageId")?.unwrap_or_default();
        let timestamp_ms = match raw.get("timestamp") {
            None | Some(Value::Null) => received_ms,
            Some(Value::String(s)) => time::parse_rfc3339(s).ok_or_else(|| {
                invalid!(
                    "ev13",
                    "`timestamp` must be an ISO 8601 date-time (got {s:?})"
                )
            })?,
            Some(_) => return Err(invalid!("ev14", "`timestamp` must be an ISO 8601 string")),
        };
        let properties = object_field(raw, "properties")?;
        let traits = object_field(raw, "traits")?;
        let context = object_field(raw, "context")?;
        let extra = raw
            .as_object()
            .unwrap_or(&[])
            .iter()
            .filter(|(k, _)| !KNOWN_FIELDS.contains(&k.as_str()))
            .cloned()
            .collect();
        let event = Event {
            kind,
            name,
            message_id,
            anonymous_id,
            user_id,
            previous_id,
            timestamp_ms,
            properties,
            traits,
            context,
            extra,
        };
        event.check()?;
        Ok(event)
    }

    /// The rules an event obeys beyond the types of its JSON fields: a track call's name, the ids
    /// (lengths, which are required), the e-commerce properties. [`Event::from_json_at`] applies
    /// them after decoding; the page checks the events it builds with them directly.
    pub fn check(&self) -> Result<(), Error> {
        if self.kind == Kind::Track {
            let name = self.name.as_deref().unwrap_or("");
            if name.trim().is_empty() {
                return Err(invalid!("ev7", "`event` is required for track calls"));
            }
            if name.len() > 200 {
                return Err(invalid!("ev8", "`event` is longer than 200 bytes"));
            }
        }
        fn id(v: &Option<String>) -> Option<&str> {
            v.as_deref().filter(|s| !s.is_empty())
        }
        let ids = [
            ("anonymousId", id(&self.anonymous_id)),
            ("userId", id(&self.user_id)),
            ("previousId", id(&self.previous_id)),
            (
                "messageId",
                Some(self.message_id.as_str()).filter(|s| !s.is_empty()),
            ),
        ];
        if let Some((key, _)) = ids
            .iter()
            .find(|(_, v)| v.is_some_and(|s| s.len() > MAX_ID_BYTES))
        {
            return Err(invalid!(
                "ev1",
                "`{key}` is longer than {MAX_ID_BYTES} bytes"
            ));
        }
        let [(_, anonymous_id), (_, user_id), (_, previous_id), (_, message_id)] = ids;
        if anonymous_id.is_none() && user_id.is_none() {
            return Err(invalid!("ev10", "`anonymousId` or `userId` is required"));
        }
        if self.kind == Kind::Alias && (previous_id.is_none() || user_id.is_none()) {
            return Err(invalid!(
                "ev11",
                "`previousId` and `userId` are required for alias calls",
            ));
        }
        if message_id.is_none() {
            return Err(invalid!(
                "ev12",
                "`messageId` is required (it makes delivery idempotent)"
            ));
        }
        self.check_ecommerce()
    }

    /// [`Event::from_json_at`] with the current time unknown (`timestamp` then becomes required).
    pub fn from_json(raw: &Value) -> Result<Event, Error> {
        let event = Event::from_json_at(raw, i64::MIN)?;
        if event.timestamp_ms == i64::MIN {
            return Err(invalid!("ev15", "`timestamp` is required"));
        }
        Ok(event)
    }

    /// Parses and validates one event from JSON text, enforcing [`MAX_EVENT_BYTES`].
    pub fn parse(text: &str, received_ms: i64) -> Result<Event, Error> {
        if text.len() > MAX_EVENT_BYTES {
            return Err(error!(
                ErrorKind::TooLarge,
                "ev16",
                "event is {} bytes; the limit is {MAX_EVENT_BYTES}",
                text.len()
            ));
        }
        Event::from_json_at(&crate::json::parse(text)?, received_ms)
    }

    /// The spec-required properties of the e-commerce events we act on.
    fn check_ecommerce(&self) -> Result<(), Error> {
        let Some(name) = self.name.as_deref().filter(|_| self.kind == Kind::Track) else {
            return Ok(());
        };
        let p = &self.properties;
        let need = |key: &str| -> Result<(), Error> {
            match p.get(key) {
                Some(Value::String(s)) if !s.is_empty() => Ok(()),
                Some(Value::Number(_)) => Ok(()),
                _ => Err(invalid!(
                    "ev17",
                    "`properties.{key}` is required for {name}"
                )),
            }
        };
        let numeric = |key: &str| -> Result<(), Error> {
            match p.get(key) {
                None | Some(Value::Null) => Ok(()),
                Some(v) if v.as_number_like().is_some() => Ok(()),
                Some(_) => Err(invalid!("ev18", "`properties.{key}` must be a number")),
            }
        };
        for key in [
            "price", "quantity", "revenue", "total", "value", "tax", "shipping", "discount",
        ] {
            numeric(key)?;
        }
        match name {
            names::PRODUCT_VIEWED
            | names::PRODUCT_ADDED
            | names::PRODUCT_REMOVED
            | names::PRODUCT_CLICKED => {
                if p.get("product_id").is_none() && p.get("sku").is_some() {
                    need("sku")
                } else {
                    need("product_id")
                }
            }
            names::ORDER_COMPLETED | names::ORDER_REFUNDED => need("order_id"),
            names::PRODUCTS_SEARCHED => need("query"),
            _ => Ok(()),
        }
    }

    /// The product id of a product event (`product_id`, else `sku`).
    pub fn product_id(&self) -> Option<String> {
        product_key(&self.properties)
    }

    /// The event as Segment JSON (unknown fields included).
    pub fn to_json(&self) -> Value {
        let mut pairs: Vec<(String, Value)> = Vec::with_capacity(12);
        let mut put = |k: &str, v: Value| pairs.push((k.to_string(), v));
        put("type", self.kind.as_str().into());
        if let Some(name) = &self.name {
            let key = if self.kind == Kind::Track {
                "event"
            } else {
                "name"
            };
            put(key, name.as_str().into());
        }
        put("messageId", self.message_id.as_str().into());
        if let Some(id) = &self.anonymous_id {
            put("anonymousId", id.as_str().into());
        }
        if let Some(id) = &self.user_id {
            put("userId", id.as_str().into());
        }
        if let Some(id) = &self.previous_id {
            put("previousId", id.as_str().into());
        }
        put("timestamp", time::format_rfc3339(self.timestamp_ms).into());
        for (key, value) in [
            ("properties", &self.properties),
            ("traits", &self.traits),
            ("context", &self.context),
        ] {
            if value.as_object().is_some_and(|o| !o.is_empty()) {
                put(key, value.clone());
            }
        }
        pairs.extend(self.extra.iter().cloned());
        Value::Object(pairs)
    }

    /// The customer key the edge routes by: the `userId` when known, else the `anonymousId`.
    pub fn customer_key(&self) -> &str {
        self.user_id
            .as_deref()
            .or(self.anonymous_id.as_deref())
            .unwrap_or("")
    }
}

/// The product id in a product object or order line: `product_id`, else `sku`, else `id`
/// (the v1 spec's name), numbers as text. This is the one rule for product ids: the page, the
/// profile fold, the edge's analytics rows, the model builder and attribution all call it.
pub fn product_key(p: &Value) -> Option<String> {
    text_or_number(p, &["product_id", "sku", "id"])
}

/// The order id of an `Order Completed` / `Order Refunded` event's properties (`order_id`,
/// a non-empty string or a number as text). The one rule for order ids, at the edge and in the page.
pub fn order_id(p: &Value) -> Option<String> {
    text_or_number(p, &["order_id"])
}

/// The product ids of an order's `products` lines, in order, lines without an id skipped.
pub fn order_product_ids(p: &Value) -> Vec<String> {
    p.get("products")
        .and_then(Value::as_array)
        .unwrap_or(&[])
        .iter()
        .filter_map(product_key)
        .collect()
}

/// The first of `keys` holding a non-empty string or a number (as JSON text).
fn text_or_number(p: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|key| match p.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(Value::Number(*n).to_json()),
        _ => None,
    })
}

/// The outcome of validating one event of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchItem {
    /// Position of the event in the batch.
    pub index: usize,
    /// The event, or why it was rejected.
    pub result: Result<Event, Error>,
}

/// Parses a Segment batch body `{"batch":[…], "writeKey": …, "sentAt": …}` (a bare array is also
/// accepted). The body as a whole must be JSON within [`MAX_BATCH_BYTES`]; each event is then
/// validated on its own, so one bad event never loses the valid ones beside it.
///
/// Events inherit the batch's `context` members they lack (Segment's batch-level context).
pub fn parse_batch(body: &str, received_ms: i64) -> Result<(Value, Vec<BatchItem>), Error> {
    if body.len() > MAX_BATCH_BYTES {
        return Err(error!(
            ErrorKind::TooLarge,
            "ev19",
            "batch is {} bytes; the limit is {MAX_BATCH_BYTES}",
            body.len()
        ));
    }
    let root = crate::json::parse(body)?;
    let (envelope, events) = match root {
        Value::Array(items) => (Value::object(), items),
        Value::Object(mut pairs) => {
            let at = pairs
                .iter()
                .position(|(k, _)| k == "batch")
                .ok_or_else(|| invalid!("ev20", "the body must have a `batch` array"))?;
            let (_, batch) = pairs.remove(at);
            match batch {
                Value::Array(items) => (Value::Object(pairs), items),
                _ => return Err(invalid!("ev21", "`batch` must be an array")),
            }
        }
        _ => return Err(invalid!("ev22", "the body must be a JSON object")),
    };
    if events.len() > MAX_BATCH_EVENTS {
        return Err(error!(
            ErrorKind::TooLarge,
            "ev23",
            "batch has {} events; the limit is {MAX_BATCH_EVENTS}",
            events.len()
        ));
    }
    let shared_context = envelope.get("context").cloned();
    let items = events
        .into_iter()
        .enumerate()
        .map(|(index, mut raw)| {
            if let (Some(Value::Object(shared)), Value::Object(_)) = (&shared_context, &raw) {
                let mut ctx = match raw.get("context") {
                    Some(c @ Value::Object(_)) => c.clone(),
                    _ => Value::object(),
                };
                for (k, v) in shared {
                    if ctx.get(k).is_none() {
                        ctx.set(k, v.clone());
                    }
                }
                raw.set("context", ctx);
            }
            let size = raw.to_json().len();
            let result = if size > MAX_EVENT_BYTES {
                Err(error!(
                    ErrorKind::TooLarge,
                    "ev24", "event is {size} bytes; the limit is {MAX_EVENT_BYTES}"
                ))
            } else {
                Event::from_json_at(&raw, received_ms)
            };
            BatchItem { index, result }
        })
        .collect();
    Ok((envelope, items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn ev(text: &str) -> Result<Event, Error> {
        Event::from_json_at(&parse(text).unwrap(), 1_000)
    }

    #[test]
    fn minimal_track() {
        let e = ev(r#"{"type":"track","event":"Signed Up","anonymousId":"a","messageId":"m"}"#)
            .unwrap();
        assert_eq!(e.kind, Kind::Track);
        assert_eq!(e.timestamp_ms, 1_000);
        assert_eq!(e.customer_key(), "a");
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (r#"[]"#, "an event must be a JSON object"),
            (r#"{"event":"x"}"#, "`type` is required"),
            (r#"{"type":"tarck"}"#, "`type` must be one of"),
            (
                r#"{"type":"track","anonymousId":"a","messageId":"m"}"#,
                "`event` is required",
            ),
            (
                r#"{"type":"page","messageId":"m"}"#,
                "`anonymousId` or `userId` is required",
            ),
            (
                r#"{"type":"page","anonymousId":"a"}"#,
                "`messageId` is required",
            ),
            (
                r#"{"type":"page","anonymousId":"a","messageId":"m","timestamp":"yesterday"}"#,
                "`timestamp` must be an ISO 8601",
            ),
            (
                r#"{"type":"page","anonymousId":"a","messageId":"m","properties":[1]}"#,
                "`properties` must be an object",
            ),
            (
                r#"{"type":"track","event":"Order Completed","anonymousId":"a","messageId":"m","properties":{"total":10}}"#,
                "`properties.order_id` is required for Order Completed",
            ),
            (
                r#"{"type":"track","event":"Product Viewed","anonymousId":"a","messageId":"m","properties":{"price":"cheap","product_id":"p"}}"#,
                "`properties.price` must be a number",
            ),
            (
                r#"{"type":"alias","userId":"u","messageId":"m"}"#,
                "`previousId` and `userId` are required",
            ),
        ];
        for (text, expected) in cases {
            let err = ev(text).unwrap_err();
            assert!(err.is_invalid(), "{text}");
            assert!(err.message().contains(expected), "{text}: {err}");
        }
    }

    /// The page checks the events it builds with `check`, the edge decodes their JSON with
    /// `from_json`: both accept the same events and refuse the others with the same message.
    #[test]
    fn check_agrees_with_decoding_the_json() {
        let base = || Event::track("Signed Up", "anon", "m1", 1_700_000_000_000);
        let mut cases = vec![base()];
        let mut e = base();
        e.properties = parse(r#"{"product_id":"p1","price":12.5}"#).unwrap();
        cases.push(e.clone());
        e.properties = parse(r#"{"product_id":"p1","price":"cheap"}"#).unwrap();
        cases.push(e);
        for name in ["", "   ", &"x".repeat(201), "Order Completed", "Signed Up"] {
            let mut e = base();
            e.name = Some(name.to_string());
            cases.push(e);
        }
        let long = "i".repeat(MAX_ID_BYTES + 1);
        for field in 0..4 {
            let mut e = base();
            match field {
                0 => e.anonymous_id = Some(long.clone()),
                1 => e.user_id = Some(long.clone()),
                2 => e.previous_id = Some(long.clone()),
                _ => e.message_id = long.clone(),
            }
            cases.push(e);
        }
        let mut e = base();
        e.anonymous_id = Some(String::new());
        cases.push(e.clone());
        e.user_id = Some("u1".into());
        cases.push(e.clone());
        e.kind = Kind::Alias;
        e.name = None;
        cases.push(e.clone());
        e.previous_id = Some("anon".into());
        cases.push(e.clone());
        e.message_id = String::new();
        cases.push(e);
        let mut e = base();
        e.kind = Kind::Page;
        e.name = None;
        cases.push(e);
        let (mut accepted, mut refused) = (0, 0);
        for e in cases {
            let page = e.check().map_err(|err| err.message().to_string());
            let edge = Event::from_json(&e.to_json())
                .map(|_| ())
                .map_err(|err| err.message().to_string());
            assert_eq!(page, edge, "{e:?}");
            if page.is_ok() {
                accepted += 1
            } else {
                refused += 1
            }
        }
        // Both outcomes are exercised.
        assert_eq!((accepted, refused), (6, 12));
    }

    #[test]
    fn unknown_fields_are_kept() {
        let text = r#"{"type":"track","event":"Product Viewed","anonymousId":"a","messageId":"m","timestamp":"2026-11-24T10:00:00.000Z","properties":{"product_id":"p1","x_custom":1},"integrations":{"All":true}}"#;
        let e = ev(text).unwrap();
        assert_eq!(e.extra.len(), 1);
        let back = e.to_json();
        assert_eq!(
            back.get("integrations"),
            parse(r#"{"All":true}"#).ok().as_ref()
        );
        assert_eq!(
            back.get("properties").and_then(|p| p.get_f64("x_custom")),
            Some(1.0)
        );
        assert_eq!(Event::from_json(&back).unwrap(), e);
    }

    #[test]
    fn batch_keeps_valid_events() {
        let body = r#"{"writeKey":"k","context":{"library":{"name":"x"}},"batch":[
            {"type":"page","anonymousId":"a","messageId":"1"},
            {"type":"track","anonymousId":"a","messageId":"2"},
            {"type":"track","event":"Order Completed","anonymousId":"a","messageId":"3","properties":{"order_id":"o1","total":"12.50"}}
        ]}"#;
        let (envelope, items) = parse_batch(body, 5).unwrap();
        assert_eq!(envelope.get_str("writeKey"), Some("k"));
        assert!(items[0].result.is_ok());
        assert!(items[1].result.is_err());
        let order = items[2].result.as_ref().unwrap();
        assert_eq!(order.properties.get_f64("total"), Some(12.5));
        assert!(order.context.get("library").is_some());
    }

    #[test]
    fn batch_level_errors() {
        assert!(parse_batch("{", 0).unwrap_err().is_json());
        assert!(parse_batch(r#"{"batch":{}}"#, 0).unwrap_err().is_invalid());
        let big = format!("[{}]", "1,".repeat(MAX_BATCH_BYTES / 2));
        assert!(parse_batch(&big, 0).unwrap_err().is_too_large());
        let long = format!(
            r#"[{{"type":"page","anonymousId":"a","messageId":"m","properties":{{"x":"{}"}}}}]"#,
            "y".repeat(MAX_EVENT_BYTES)
        );
        let (_, items) = parse_batch(&long, 0).unwrap();
        assert!(items[0].result.as_ref().unwrap_err().is_too_large());
    }
}
