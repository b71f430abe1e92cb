//! Ingest: the pure logic here (bot flags, grouping events by customer through
//! the links known, and the batch response; the runtime handler is [`handler`]). Validation itself is the engine's
//! ([`affinity::event::parse_batch`]); nothing here validates events a second time.

use std::collections::HashMap;

use affinity::consent::{self, Level};
use affinity::event::{Event, Kind};
use affinity::json::Value;

#[cfg(target_arch = "wasm32")]
pub mod handler;

/// Lower-case fragments of user agents that belong to crawlers, monitors and HTTP libraries.
/// `HeadlessChrome` is deliberately absent: headless Chromium is a real shopper in our tests.
const BOT_PATTERNS: [&str; 22] = [
    "bot",
    "crawl",
    "spider",
    "slurp",
    "archiver",
    "facebookexternalhit",
    "mediapartners-google",
    "adsbot",
    "bingpreview",
    "lighthouse",
    "pingdom",
    "uptime",
    "monitor",
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "go-http-client",
    "java/",
    "okhttp",
    "scrapy",
    "phantomjs",
];

/// True when a user agent looks like automated traffic. Such events are stored and flagged, not
/// dropped; rollups and popularity skip them.
pub fn is_bot_user_agent(ua: &str) -> bool {
    let ua = ua.to_ascii_lowercase();
    BOT_PATTERNS.iter().any(|p| ua.contains(p))
}

/// Fills `context.location.country` and `.region` of each event that has none from the edge's
/// request metadata (Cloudflare's `request.cf`): what the dashboard's explore slices by. An
/// event that states its own location keeps it.
pub fn with_edge_location(events: &mut [Event], country: Option<&str>, region: Option<&str>) {
    for e in events.iter_mut() {
        let mut location = e
            .context
            .get("location")
            .cloned()
            .unwrap_or_else(Value::object);
        if location.as_object().is_none() {
            continue;
        }
        let mut changed = false;
        for (key, value) in [("country", country), ("region", region)] {
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                if location.get_str(key).is_none() {
                    location.set(key, v.into());
                    changed = true;
                }
            }
        }
        if changed {
            e.context.set("location", location);
        }
    }
}

/// True when the event's `context.userAgent` looks like a bot.
pub fn is_bot(event: &Event) -> bool {
    event
        .context
        .get_str("userAgent")
        .is_some_and(is_bot_user_agent)
}

/// The address prefix a source is made of: the /24 of an IPv4 address, the /48 of an IPv6
/// address, `-` when there is none (the edge reads `CF-Connecting-IP`).
pub fn address_prefix(ip: Option<&str>) -> String {
    match ip.and_then(|ip| ip.trim().parse::<std::net::IpAddr>().ok()) {
        Some(std::net::IpAddr::V4(a)) => {
            let o = a.octets();
            format!("{}.{}.{}", o[0], o[1], o[2])
        }
        Some(std::net::IpAddr::V6(a)) => {
            let s = a.segments();
            format!("{:x}:{:x}:{:x}", s[0], s[1], s[2])
        }
        None => "-".into(),
    }
}

/// The source of a request's events, what the model counts as one sender
/// (`context.affinitySource`, see docs/privacy.md): the first 16 hex digits of the SHA-256 of
/// the shop's secret salt, the address prefix and the request's user agent. Shoppers behind one
/// office or carrier address with different browsers are different sources; a burst of fresh
/// anonymous ids from one address and browser is one. The salt keeps the hash from being
/// reversed by trying addresses.
pub fn source_of(salt: &str, ip: Option<&str>, user_agent: Option<&str>) -> String {
    let data = [
        salt,
        "\0",
        &address_prefix(ip),
        "\0",
        user_agent.unwrap_or(""),
    ]
    .concat();
    crate::platform::auth::sha256_hex(data.as_bytes())[..16].to_string()
}

/// The source of a seeded customer (the admin seed path): each customer its own source.
pub fn seed_source(salt: &str, customer: &str) -> String {
    crate::platform::auth::sha256_hex(["seed\0", salt, "\0", customer].concat().as_bytes())[..16]
        .to_string()
}

/// The context key the edge writes each event's source under (a value the sender put there is
/// replaced).
pub const SOURCE_KEY: &str = "affinitySource";

/// Anonymous ids that are linked to a customer by the events themselves: an event carrying both
/// `anonymousId` and `userId` links the device to the user; an `alias` links `previousId` to
/// `userId`. Returned as `(anonymous id, customer id)` in batch order.
pub fn links_in(events: &[Event]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for e in events {
        let Some(user) = e.user_id.as_deref() else {
            continue;
        };
        let from = match e.kind {
            Kind::Alias => e.previous_id.as_deref(),
            _ => e.anonymous_id.as_deref(),
        };
        if let Some(anon) = from.filter(|a| *a != user) {
            out.retain(|(a, _)| a != anon);
            out.push((anon.to_string(), user.to_string()));
        }
    }
    out
}

/// Anonymous ids of events without a `userId`, to look up in the links seen lately (deduplicated).
pub fn anonymous_ids_to_resolve(events: &[Event]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in events {
        if e.user_id.is_none() {
            if let Some(a) = &e.anonymous_id {
                if !out.contains(a) {
                    out.push(a.clone());
                }
            }
        }
    }
    out
}

/// The events of one customer, in batch order.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The customer id (a user id, or an anonymous id not yet linked to one).
    pub customer: String,
    /// The events.
    pub events: Vec<Event>,
}

/// Groups events by customer: an event with a `userId` belongs to that user; an anonymous event
/// belongs to the customer its anonymous id is linked to (by this batch first, then by `known`,
/// the links this isolate saw lately), else to its anonymous id (whose object forwards the events
/// if it holds a link).
pub fn group_by_customer(events: Vec<Event>, known: &HashMap<String, String>) -> Vec<Group> {
    let batch_links: HashMap<String, String> = links_in(&events).into_iter().collect();
    let mut groups: Vec<Group> = Vec::new();
    for e in events {
        let customer = match (&e.user_id, &e.anonymous_id) {
            (Some(_), _) => e.customer_key().to_string(),
            (None, Some(anon)) => batch_links
                .get(anon)
                .or_else(|| known.get(anon))
                .cloned()
                .unwrap_or_else(|| anon.clone()),
            (None, None) => continue,
        };
        match groups.iter_mut().find(|g| g.customer == customer) {
            Some(g) => g.events.push(e),
            None => groups.push(Group {
                customer,
                events: vec![e],
            }),
        }
    }
    groups
}

/// What the edge keeps of an event, given the consent level it states (`context.consent`, see
/// [`affinity::consent::of_context`]):
///
/// - `marketing`, or no statement (server-side senders, earlier pages): the event as sent;
/// - `analytics`: the event without `userId` and traits (pseudonymous);
/// - `device` or `none` (e.g. Segment's library with the categories denied): only the consent
///   change itself, a [`consent::CHANGED`] track event with the same ids, time and
///   `context.consent` and nothing else; the customer fold records it in the consent history and
///   stores no event row.
pub fn within_consent(mut event: Event) -> Event {
    match consent::of_context(&event.context) {
        None | Some(Level::Marketing) => event,
        Some(Level::Analytics) => {
            event.user_id = None;
            event.traits = Value::object();
            event
        }
        Some(_) => {
            let mut context = Value::object();
            if let Some(c) = event.context.get("consent") {
                context.set("consent", c.clone());
            }
            Event {
                kind: Kind::Track,
                name: Some(consent::CHANGED.to_string()),
                previous_id: None,
                properties: Value::object(),
                traits: Value::object(),
                context,
                extra: Vec::new(),
                ..event
            }
        }
    }
}

/// True for an event [`within_consent`] reduced to a consent change: it is recorded in the
/// consent history only.
pub fn is_consent_only(event: &Event) -> bool {
    consent::of_context(&event.context).is_some_and(|l| !l.sends())
}

/// One rejected event of a batch.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ItemError {
    /// Position in the batch.
    pub index: usize,
    /// The event's `messageId`, when it had a readable one.
    #[serde(rename = "messageId")]
    pub message_id: Option<String>,
    /// What is wrong, for the person who sent it.
    pub error: String,
}

/// The answer to a batch: `{"accepted":n,"duplicates":d,"errors":[…]}`.
///
/// `accepted` counts valid events stored for the first time, `duplicates` valid events whose
/// `messageId` had been applied before; `accepted + duplicates + errors.len()` is the batch size.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Outcome {
    /// New events stored.
    pub accepted: usize,
    /// Valid events already applied earlier.
    pub duplicates: usize,
    /// Rejected events.
    pub errors: Vec<ItemError>,
}

impl Outcome {
    /// The HTTP status: 200 when any event was valid, else 400.
    pub fn status(&self) -> u16 {
        if self.accepted + self.duplicates > 0 || self.errors.is_empty() {
            200
        } else {
            400
        }
    }
}

/// The `messageId`s of a batch body by index, for error reports (read only when some events
/// failed, so valid batches are parsed once).
pub fn message_ids(body: &str) -> Vec<Option<String>> {
    let Ok(root) = affinity::json::parse(body) else {
        return Vec::new();
    };
    let items = match &root {
        Value::Array(items) => items.as_slice(),
        other => other.get("batch").and_then(Value::as_array).unwrap_or(&[]),
    };
    items
        .iter()
        .map(|e| e.get_str("messageId").map(str::to_string))
        .collect()
}

/// Turns the body of a single-call endpoint (`/v1/track` …) into a batch body: the event gets
/// `type` = `call` when it has none, and `writeKey` / `context` stay on the envelope.
pub fn single_to_batch(body: &str, call: &str) -> Result<String, affinity::Error> {
    let mut event = affinity::json::parse(body)?;
    if event.as_object().is_none() {
        return Ok(body.to_string()); // parse_batch reports the shape error.
    }
    let mut envelope = Value::object();
    if let Some(key) = event.remove("writeKey") {
        envelope.set("writeKey", key);
    }
    if event.get("type").is_none() {
        event.set("type", call.into());
    }
    envelope.set("batch", Value::Array(vec![event]));
    Ok(envelope.to_json())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_edge_location_fills_what_events_leave_out() {
        let parse = |j: &str| {
            Event::from_json(&affinity::json::parse(j).unwrap_or_default())
                .unwrap_or_else(|e| panic!("{e:?}"))
        };
        let mut events = vec![
            parse(
                r#"{"type":"page","anonymousId":"a","messageId":"m1","timestamp":"2026-11-24T10:00:00Z"}"#,
            ),
            parse(
                r#"{"type":"page","anonymousId":"a","messageId":"m2","timestamp":"2026-11-24T10:00:00Z","context":{"location":{"country":"FR"}}}"#,
            ),
            parse(
                r#"{"type":"page","anonymousId":"a","messageId":"m3","timestamp":"2026-11-24T10:00:00Z","context":{"location":"x"}}"#,
            ),
        ];
        with_edge_location(&mut events, Some("DE"), Some("BE"));
        let loc = |e: &Event, k: &str| {
            e.context
                .get("location")
                .and_then(|l| l.get_str(k))
                .map(str::to_string)
        };
        assert_eq!(loc(&events[0], "country").as_deref(), Some("DE"));
        assert_eq!(loc(&events[0], "region").as_deref(), Some("BE"));
        assert_eq!(
            loc(&events[1], "country").as_deref(),
            Some("FR"),
            "the event's own wins"
        );
        assert_eq!(loc(&events[1], "region").as_deref(), Some("BE"));
        assert_eq!(
            events[2].context.get_str("location"),
            Some("x"),
            "left as sent"
        );
    }

    use super::*;

    fn ev(kind: &str, anon: Option<&str>, user: Option<&str>, id: &str) -> Event {
        let mut v = Value::object();
        v.set("type", kind.into());
        if kind == "track" {
            v.set("event", "Product Viewed".into());
            let mut p = Value::object();
            p.set("product_id", "p1".into());
            v.set("properties", p);
        }
        v.set("messageId", id.into());
        if let Some(a) = anon {
            v.set("anonymousId", a.into());
        }
        if let Some(u) = user {
            v.set("userId", u.into());
        }
        if kind == "alias" {
            v.set("previousId", anon.unwrap_or("old").into());
            v.remove("anonymousId");
        }
        Event::from_json_at(&v, 1_000).expect("valid test event")
    }

    #[test]
    fn bots_are_flagged_but_not_headless_chrome() {
        assert!(is_bot_user_agent(
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
        ));
        assert!(is_bot_user_agent("curl/8.5.0"));
        assert!(is_bot_user_agent("python-requests/2.31"));
        assert!(!is_bot_user_agent(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36"
        ));
        assert!(!is_bot_user_agent(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15"
        ));
        let mut e = ev("page", Some("a"), None, "m");
        assert!(!is_bot(&e));
        e.context.set("userAgent", "Bingbot/2.0".into());
        assert!(is_bot(&e));
    }

    #[test]
    fn sources() {
        assert_eq!(address_prefix(Some("203.0.113.77")), "203.0.113");
        assert_eq!(address_prefix(Some("2001:db8:abcd:12::1")), "2001:db8:abcd");
        assert_eq!(address_prefix(Some("::1")), "0:0:0");
        assert_eq!(address_prefix(Some("nonsense")), "-");
        assert_eq!(address_prefix(None), "-");
        let ua = Some("Mozilla/5.0");
        let a = source_of("salt", Some("203.0.113.77"), ua);
        assert_eq!(a.len(), 16);
        // The same /24 and browser: one source; another browser or /24 or salt: another.
        assert_eq!(a, source_of("salt", Some("203.0.113.9"), ua));
        assert_ne!(a, source_of("salt", Some("203.0.113.9"), Some("Other/1")));
        assert_ne!(a, source_of("salt", Some("203.0.114.9"), ua));
        assert_ne!(a, source_of("pepper", Some("203.0.113.77"), ua));
        // By hand: sha256("salt" NUL "203.0.113" NUL "Mozilla/5.0")[..16].
        let want = &crate::platform::auth::sha256_hex(b"salt\x00203.0.113\x00Mozilla/5.0")[..16];
        assert_eq!(a, want);
        assert_ne!(seed_source("salt", "c1"), seed_source("salt", "c2"));
    }

    #[test]
    fn links_from_identify_and_alias() {
        let events = vec![
            ev("page", Some("a1"), None, "1"),
            ev("identify", Some("a1"), Some("u1"), "2"),
            ev("alias", Some("a2"), Some("u1"), "3"),
            ev("track", Some("u3"), Some("u3"), "4"),
        ];
        assert_eq!(
            links_in(&events),
            vec![("a1".into(), "u1".into()), ("a2".into(), "u1".into())]
        );
        assert_eq!(anonymous_ids_to_resolve(&events), vec!["a1".to_string()]);
    }

    #[test]
    fn groups_follow_the_identity_map() {
        let known: HashMap<String, String> =
            [("a9".to_string(), "u9".to_string())].into_iter().collect();
        let events = vec![
            ev("page", Some("a1"), None, "1"), // linked later in this batch
            ev("page", Some("a2"), None, "2"), // unknown: its own customer
            ev("identify", Some("a1"), Some("u1"), "3"),
            ev("page", Some("a9"), None, "4"), // known from D1
            ev("track", None, Some("u1"), "5"),
        ];
        let groups = group_by_customer(events, &known);
        let summary: Vec<(String, Vec<String>)> = groups
            .iter()
            .map(|g| {
                (
                    g.customer.clone(),
                    g.events.iter().map(|e| e.message_id.clone()).collect(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("u1".to_string(), vec!["1".into(), "3".into(), "5".into()]),
                ("a2".to_string(), vec!["2".into()]),
                ("u9".to_string(), vec!["4".into()]),
            ]
        );
    }

    fn with_consent(mut e: Event, consent: &str) -> Event {
        e.context =
            affinity::json::parse(&format!(r#"{{"consent":{consent},"page":{{"url":"u"}}}}"#))
                .unwrap_or_default();
        e.traits.set("email", "x@example.com".into());
        e
    }

    #[test]
    fn events_keep_only_what_their_consent_allows() {
        let track = ev("track", Some("a1"), Some("u1"), "1");
        // No statement, or marketing: as sent.
        assert_eq!(within_consent(track.clone()), track);
        let m = with_consent(track.clone(), r#"{"level":"marketing"}"#);
        assert_eq!(within_consent(m.clone()), m);
        // Analytics: pseudonymous.
        let a = within_consent(with_consent(track.clone(), r#"{"level":"analytics"}"#));
        assert_eq!(
            (a.user_id.as_deref(), a.anonymous_id.as_deref()),
            (None, Some("a1"))
        );
        assert!(a.traits.as_object().is_some_and(<[_]>::is_empty));
        assert_eq!(a.properties, track.properties);
        assert!(!is_consent_only(&a));
        // Below analytics, also when only Segment's categories say so: the change alone.
        for c in [
            r#"{"level":"device"}"#,
            r#"{"level":"none"}"#,
            r#"{"categoryPreferences":{"Analytics":false,"Advertising":false}}"#,
        ] {
            let d = within_consent(with_consent(track.clone(), c));
            assert!(is_consent_only(&d), "{c}");
            assert_eq!(d.name.as_deref(), Some(consent::CHANGED));
            assert_eq!(d.message_id, "1");
            assert!(d.properties.as_object().is_some_and(<[_]>::is_empty));
            assert!(d.traits.as_object().is_some_and(<[_]>::is_empty));
            assert!(d.context.get("page").is_none(), "no page, no user agent");
            assert!(d.context.get("consent").is_some());
        }
    }

    #[test]
    fn outcome_status_and_shape() {
        let mut o = Outcome::default();
        assert_eq!(o.status(), 200);
        o.errors.push(ItemError {
            index: 1,
            message_id: Some("m".into()),
            error: "bad".into(),
        });
        assert_eq!(o.status(), 400);
        o.duplicates = 1;
        assert_eq!(o.status(), 200);
        assert_eq!(
            serde_json::to_string(&o).unwrap_or_default(),
            r#"{"accepted":0,"duplicates":1,"errors":[{"index":1,"messageId":"m","error":"bad"}]}"#
        );
    }

    #[test]
    fn message_ids_by_index() {
        let ids = message_ids(r#"{"batch":[{"messageId":"a"},{},{"messageId":3}]}"#);
        assert_eq!(ids, vec![Some("a".to_string()), None, None]);
        assert!(message_ids("nope").is_empty());
    }

    #[test]
    fn single_calls_become_batches() {
        let body = single_to_batch(
            r#"{"writeKey":"pk","anonymousId":"a","messageId":"m","name":"Home"}"#,
            "page",
        )
        .unwrap_or_default();
        let v = affinity::json::parse(&body).unwrap_or_default();
        assert_eq!(v.get_str("writeKey"), Some("pk"));
        let first = &v.get("batch").and_then(Value::as_array).unwrap_or(&[])[0];
        assert_eq!(first.get_str("type"), Some("page"));
        assert!(first.get("writeKey").is_none());
        assert!(single_to_batch("{", "page").is_err());
    }
}
