//! Segments at the edge: the shop's named rules (the engine's [`affinity::rules`] language), how
//! they are stored in D1, shipped to browsers with the shop config, evaluated per customer by the
//! customer Durable Object, counted and previewed for the dashboard.
//!
//! Everything here is pure and tested natively; [`handler`] (wasm32) runs the queries and the
//! handlers, `customer` evaluates. There is one evaluator, the engine's: this module only decides
//! what is evaluated, over which profiles, and what gets written.
//!
//! # Storage (D1, `migrations/0003_segments.sql`)
//!
//! - `segments(shop, name, source, compiled, created_at, updated_at, version)`: one rule each,
//!   `compiled` = base64url of [`rules::encode`].
//! - `segment_sets(shop, version, compiled, updated_at)`: the whole set compiled together
//!   (base64url of [`SegmentSet::encode`]); `version` grows on every save and delete. The shop
//!   config ships it; customer objects cache it by version.
//! - `memberships(shop, segment, customer_id, member, entered_at, exited_at, updated_at)`: the
//!   mirror the customer objects write (idempotent upserts ordered by `updated_at`).
//! - `segment_sizes(shop, segment, day, size)`: one size per day, for the sparkline.

pub mod pages;

use affinity::json::Value as Json;
use affinity::profile::Profile;
use affinity::rules::{self, Rule, SegmentSet};
use affinity::segments::{decode_base64, encode_base64, Context, ProfileFacts};

use crate::platform::store::segments::{self as sql, MembershipRow};
pub use crate::platform::store::segments::{CountRow, SegmentRow, SizeRow, StoredProfile};
use crate::platform::store::Stmt;

#[cfg(target_arch = "wasm32")]
pub mod handler;

/// The segments the demo shop starts with: `(name, rule text)`.
pub const DEFAULTS: [(&str, &str); 4] = [
    (
        "tent-shoppers",
        r#"performed "Product Viewed" where category = "Tents" at least 2 times in the last 7 days"#,
    ),
    ("vip", "total_spend > 300"),
    (
        "cart-abandoners",
        r#"performed "Product Added" not followed by "Order Completed" within 1 day"#,
    ),
    ("returning", r#"visitor = "returning""#),
];

/// At most this many segments per shop (each is evaluated on every batch of every customer).
pub const MAX_SEGMENTS: usize = 50;

/// Previews and backfills evaluate rules over at most this many customers (the most recently
/// seen), so one dashboard request stays within the Worker's CPU budget: parsing a stored
/// profile and evaluating a handful of rules costs well under 0.1 ms, so 2,000 customers take
/// ≈ 100–200 ms of CPU (set `limits.cpu_ms` on paid plans for larger shops).
pub const PREVIEW_LIMIT: u32 = 2_000;

/// After a save, at most this many customer objects whose membership the backfill changed are
/// asked to re-evaluate at once (subrequests per invocation are limited: 50 on the free plan).
pub const NOTIFY_LIMIT: usize = 40;

/// How long an isolate evaluates with a set whose version it checked, before it asks D1 again:
/// a save made through another isolate reaches the alarms of this one within this time (the
/// customers the save's backfill changed are told at once, and their `/evaluate` reads fresh).
pub const SET_CHECK_MS: i64 = 10_000;

/// Whether an evaluation may use the set this isolate holds (`cached`: its version, 0 for none,
/// and when that was read) instead of reading the version from D1: not when `fresh` is asked
/// (a save's `/evaluate`), not after [`SET_CHECK_MS`], and never when the customer was last
/// evaluated with a newer version than the cached one (`at_least`): evaluation never goes back.
pub fn cached_set_usable(
    cached: Option<(i64, i64)>,
    now_ms: i64,
    fresh: bool,
    at_least: i64,
) -> bool {
    cached.is_some_and(|(version, checked_at)| {
        !fresh && now_ms - checked_at < SET_CHECK_MS && version >= at_least
    })
}

/// True for a usable segment name: 1–64 characters of `a-z`, `0-9`, `-` and `_`, starting with a
/// letter or digit (names appear in URLs, HTML attributes and shop markup), and not one of the
/// editor's own path words ([`pages::RESERVED`]).
pub fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'_')
        && !pages::RESERVED.contains(&name)
}

impl SegmentRow {
    /// The compiled rule; `None` when the stored bytes do not decode.
    pub fn rule(&self) -> Option<Rule> {
        decode_base64(&self.compiled).and_then(|b| rules::decode(&b).ok())
    }
}

/// Compiles stored segments into one set (rows whose compiled form does not decode are left out,
/// and so are segments that refer to them).
pub fn compile(rows: &[SegmentRow]) -> SegmentSet {
    let mut named: Vec<(String, Rule)> = rows
        .iter()
        .filter_map(|r| r.rule().map(|rule| (r.name.clone(), rule)))
        .collect();
    // A broken reference cannot be saved, but stay total: drop what does not compile.
    loop {
        match SegmentSet::new(named.clone()) {
            Ok(set) => return set,
            Err(e) => {
                let before = named.len();
                if let Some(bad) = e.segment() {
                    named.retain(|(n, _)| n != bad);
                }
                if named.len() == before {
                    named.pop();
                }
            }
        }
    }
}

/// Base64url of a whole set, as the shop config carries it.
pub fn encode_set(set: &SegmentSet) -> String {
    encode_base64(&set.encode())
}

/// Decodes [`encode_set`] text, or a set stored before set format 2 (put dependencies first).
pub fn decode_set(text: &str) -> Option<SegmentSet> {
    decode_base64(text).and_then(|b| SegmentSet::decode_any_version(&b).ok())
}

/// The stored set text as the page reads it: a set stored before set format 2 re-encoded
/// (the page reads the current format only); anything else as stored.
pub fn shipped_form(text: String) -> String {
    // The version is the second byte: the first four characters hold it.
    let older = text
        .get(..4)
        .and_then(decode_base64)
        .is_some_and(|b| b.get(1).is_some_and(|&v| v < rules::SET_FORMAT_VERSION));
    match older.then(|| decode_set(&text)).flatten() {
        Some(set) => encode_set(&set),
        None => text,
    }
}

/// Why a rule cannot be saved: the engine's error, with where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    /// The engine's message for the merchant.
    pub message: String,
    /// Line (1-based), when the error has a place in the text.
    pub line: Option<usize>,
    /// Column (1-based, in characters).
    pub column: Option<usize>,
    /// The full rendering with the line and a caret (the engine's `Display`).
    pub display: String,
}

impl RuleError {
    fn from_engine(e: &rules::Error) -> RuleError {
        RuleError {
            message: e.message().to_string(),
            line: e.line(),
            column: e.column(),
            display: e.to_string(),
        }
    }

    fn plain(message: &str) -> RuleError {
        RuleError {
            message: message.to_string(),
            line: None,
            column: None,
            display: format!("error: {message}"),
        }
    }
}

/// Checks a rule as segment `name` among the shop's `others` (the stored segments; a row with the
/// same name is replaced): it must parse, and the set must compile with it (known references, no
/// cycle). Returns the rule and the new set.
pub fn check(
    name: &str,
    source: &str,
    others: &[SegmentRow],
) -> Result<(Rule, SegmentSet), RuleError> {
    if !valid_name(name) {
        return Err(RuleError::plain(
            "a segment name is 1–64 characters: lowercase letters, digits, - and _",
        ));
    }
    if source.trim().is_empty() {
        return Err(RuleError::plain("the rule is empty"));
    }
    let rule = rules::parse(source).map_err(|e| RuleError::from_engine(&e))?;
    let mut named: Vec<(String, Rule)> = others
        .iter()
        .filter(|r| r.name != name)
        .filter_map(|r| r.rule().map(|rule| (r.name.clone(), rule)))
        .collect();
    if named.len() >= MAX_SEGMENTS {
        return Err(RuleError::plain(&format!(
            "a shop can have at most {MAX_SEGMENTS} segments"
        )));
    }
    named.push((name.to_string(), rule.clone()));
    let set = SegmentSet::new(named).map_err(|e| RuleError::from_engine(&e))?;
    Ok((rule, set))
}

/// The validation endpoint's answer: `{"ok":true,"rule":canonical text}` or
/// `{"ok":false,"error":{"message","line","column","display"}}`.
pub fn validation_json(result: &Result<(Rule, SegmentSet), RuleError>) -> String {
    match result {
        Ok((rule, _)) => serde_json::json!({ "ok": true, "rule": rules::print(rule) }),
        Err(e) => serde_json::json!({
            "ok": false,
            "error": {
                "message": e.message,
                "line": e.line,
                "column": e.column,
                "display": e.display,
            }
        }),
    }
    .to_string()
}

/// Adds the compiled segments to a shop config (JSON text from the model code) and folds the
/// segment set's version into the config `version`, so a cached config changes when either does.
/// Other fields are kept as they are.
pub fn with_segments(config_json: &str, segments: &str, set_version: i64) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(config_json).unwrap_or_else(|_| serde_json::json!({}));
    if let Some(obj) = v.as_object_mut() {
        let base = obj
            .get("version")
            .and_then(|x| x.as_str())
            .unwrap_or("")
            .to_string();
        obj.insert("segments".into(), segments.into());
        obj.insert(
            "version".into(),
            format!(
                "{base}{}s{set_version}",
                if base.is_empty() { "" } else { "." }
            )
            .into(),
        );
    }
    v.to_string()
}

/// The facts context of a customer's latest event (`context` of the Segment JSON).
pub fn context_of(event_context: &Json) -> Context {
    Context::from_event_context(event_context)
}

/// What a customer object keeps per segment.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Held {
    /// Segment name.
    pub name: String,
    /// In the segment now.
    pub member: bool,
    /// When the customer last entered, Unix ms.
    pub entered_at: Option<i64>,
    /// When the customer last left, Unix ms.
    pub exited_at: Option<i64>,
}

/// The result of evaluating a customer: the new per-segment state, the segments whose
/// membership changed (to mirror to D1), and when to look again.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// State for every segment of the set, in the set's order.
    pub state: Vec<Held>,
    /// Entries of `state` that changed (entered or left; first-time non-members are not changes).
    pub changed: Vec<Held>,
    /// The earliest time membership could change with no new event ([`SegmentSet::next_change_ms`]).
    pub next_change_ms: Option<i64>,
}

/// Evaluates `set` for one customer with the engine and compares with the `previous` state.
pub fn evaluate(
    shop: &str,
    set: &SegmentSet,
    profile: &Profile,
    context: &Context,
    previous: &[Held],
    now_ms: i64,
) -> Evaluation {
    let facts = ProfileFacts {
        shop,
        profile,
        context,
    };
    let membership = set.evaluate(&facts, now_ms);
    let mut state = Vec::with_capacity(set.len());
    let mut changed = Vec::new();
    for (name, member) in membership.iter() {
        let before = previous.iter().find(|h| h.name == name);
        let was = before.is_some_and(|h| h.member);
        let mut held = before.cloned().unwrap_or(Held {
            name: name.to_string(),
            member: false,
            entered_at: None,
            exited_at: None,
        });
        if member != was {
            held.member = member;
            if member {
                held.entered_at = Some(now_ms);
            } else {
                held.exited_at = Some(now_ms);
            }
            changed.push(held.clone());
        }
        state.push(held);
    }
    Evaluation {
        state,
        changed,
        next_change_ms: set.next_change_ms(&facts, now_ms),
    }
}

/// The D1 statement mirroring one membership change.
pub fn membership_stmt(shop: &str, customer: &str, held: &Held, at_ms: i64) -> Stmt {
    sql::upsert_membership(&MembershipRow {
        shop,
        segment: &held.name,
        customer_id: customer,
        member: held.member,
        entered_at: held.entered_at,
        exited_at: held.exited_at,
        updated_at: at_ms,
    })
}

/// Marks a customer out of a segment in the D1 mirror if a row says otherwise (a backfill may
/// have put it in); creates no row.
pub fn clear_stmt(shop: &str, customer: &str, segment: &str, at_ms: i64) -> Stmt {
    sql::clear_membership(shop, customer, segment, at_ms)
}

/// The stored profiles that do not decode, with why: `(customer id, error)`. Previews and
/// backfills skip them; the caller counts them on the shop's health figure.
pub fn undecodable(profiles: &[StoredProfile]) -> Vec<(&str, String)> {
    profiles
        .iter()
        .filter_map(|p| {
            let error = match affinity::json::parse(&p.profile) {
                Err(e) => e.message().to_string(),
                Ok(json) => Profile::from_json(&json).err()?.message().to_string(),
            };
            Some((p.customer_id.as_str(), error))
        })
        .collect()
}

/// The customers (of `profiles`) in segment `name` of `set` at `now_ms`, evaluated by the engine
/// with no page context (a preview has no visit). Profiles that do not parse are skipped.
pub fn members_of(
    shop: &str,
    set: &SegmentSet,
    name: &str,
    profiles: &[StoredProfile],
    now_ms: i64,
) -> Vec<String> {
    let context = Context::default();
    profiles
        .iter()
        .filter_map(|p| {
            let json = affinity::json::parse(&p.profile).ok()?;
            let profile = Profile::from_json(&json).ok()?;
            let facts = ProfileFacts {
                shop,
                profile: &profile,
                context: &context,
            };
            set.evaluate(&facts, now_ms)
                .contains(name)
                .then(|| p.customer_id.clone())
        })
        .collect()
}

/// Records a segment's size for a day.
pub fn size_stmt(shop: &str, segment: &str, day: &str, size: f64) -> Stmt {
    sql::record_size(shop, segment, day, size)
}

/// Statements that save segment `name` (insert or update, version + 1) and the shop's new set.
pub fn save_stmts(
    shop: &str,
    name: &str,
    source: &str,
    rule: &Rule,
    set: &SegmentSet,
    now_ms: i64,
) -> Vec<Stmt> {
    vec![
        sql::save(
            shop,
            name,
            source,
            &encode_base64(&rules::encode(rule)),
            now_ms,
        ),
        set_stmt(shop, set, now_ms),
    ]
}

/// Statements that delete segment `name`, its memberships and sizes, and store the new set.
pub fn delete_stmts(shop: &str, name: &str, set: &SegmentSet, now_ms: i64) -> Vec<Stmt> {
    let mut out = sql::delete(shop, name).to_vec();
    out.push(set_stmt(shop, set, now_ms));
    out
}

/// Stores a shop's compiled set with the next version.
pub fn set_stmt(shop: &str, set: &SegmentSet, now_ms: i64) -> Stmt {
    sql::store_set(shop, &encode_set(set), now_ms)
}

/// Statements that give a shop the [`DEFAULTS`] when it has no segment set yet (the demo shop);
/// they change nothing once the shop has one.
pub fn default_stmts(shop: &str, now_ms: i64) -> Vec<Stmt> {
    let mut named = Vec::new();
    let mut out = Vec::new();
    for (name, source) in DEFAULTS {
        // The defaults are constants checked by the tests; a broken one is skipped, not fatal.
        let Ok(rule) = rules::parse(source) else {
            continue;
        };
        out.push(sql::save_default(
            shop,
            name,
            source,
            &encode_base64(&rules::encode(&rule)),
            now_ms,
        ));
        named.push((name.to_string(), rule));
    }
    let set = SegmentSet::new(named).unwrap_or_else(|_| compile(&[]));
    out.push(sql::store_first_set(shop, &encode_set(&set), now_ms));
    out
}

/// A segment's D1 rows for the dashboard list.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// The stored segment.
    pub row: SegmentRow,
    /// Members now.
    pub size: f64,
    /// `(day, size)` oldest first.
    pub history: Vec<(String, f64)>,
}

/// Joins stored segments with their current sizes and recorded history (days oldest first).
pub fn listing(rows: Vec<SegmentRow>, sizes: &[CountRow], history: &[SizeRow]) -> Vec<Listed> {
    rows.into_iter()
        .map(|row| {
            let size = sizes
                .iter()
                .find(|s| s.segment == row.name)
                .map_or(0.0, |s| s.size);
            let mut h: Vec<(String, f64)> = history
                .iter()
                .filter(|s| s.segment == row.name)
                .map(|s| (s.day.clone(), s.size))
                .collect();
            h.sort_by(|a, b| a.0.cmp(&b.0));
            Listed {
                row,
                size,
                history: h,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cached_set_serves_until_its_check_expires_and_never_goes_back() {
        let t = 1_000_000;
        assert!(
            !cached_set_usable(None, t, false, 0),
            "nothing cached: read"
        );
        assert!(cached_set_usable(Some((3, t)), t + 9_999, false, 3));
        assert!(
            !cached_set_usable(Some((3, t)), t + 10_000, false, 3),
            "checked too long ago"
        );
        assert!(
            !cached_set_usable(Some((3, t)), t + 1, true, 0),
            "a save asks for fresh"
        );
        assert!(
            !cached_set_usable(Some((3, t)), t + 1, false, 4),
            "the customer saw v4 already"
        );
        assert!(
            cached_set_usable(Some((0, t)), t + 1, false, 0),
            "no segments, known lately"
        );
    }

    use super::*;

    #[test]
    fn sets_stored_before_format_2_ship_dependencies_first() {
        let vip = rules::parse(r#"in segment "big" and orders > 1"#).unwrap();
        let big = rules::parse("total_spend > 100").unwrap();
        // Version 1 as the edge stored it: the segments in the order given.
        let mut v1 = vec![b'S', 1, 2];
        for (name, rule) in [("vip", &vip), ("big", &big)] {
            v1.push(name.len() as u8);
            v1.extend(name.bytes());
            v1.extend(&rules::encode(rule)[2..]);
        }
        let stored = encode_base64(&v1);
        assert!(SegmentSet::decode(&v1).expect_err("the page").is_version());
        let shipped = shipped_form(stored.clone());
        let page =
            SegmentSet::decode(&decode_base64(&shipped).unwrap()).expect("the page reads it");
        assert_eq!(page.names(), ["big", "vip"]);
        assert_eq!(decode_set(&stored), Some(page.clone()));
        let current = encode_set(&page);
        assert_eq!(shipped_form(current.clone()), current);
        assert_eq!(shipped_form("!!not a set!!".into()), "!!not a set!!");
    }
    use crate::platform::store::Arg;
    use affinity::event::{names, Event};

    const DAY: i64 = 86_400_000;
    const T0: i64 = 1_790_000_000_000;

    fn row(name: &str, source: &str) -> SegmentRow {
        let rule = rules::parse(source).unwrap_or_else(|e| panic!("{e}"));
        SegmentRow {
            name: name.into(),
            source: source.into(),
            compiled: encode_base64(&rules::encode(&rule)),
            created_at: 0.0,
            updated_at: 0.0,
            version: 1.0,
        }
    }

    fn defaults() -> Vec<SegmentRow> {
        DEFAULTS.iter().map(|(n, s)| row(n, s)).collect()
    }

    fn tent_viewer(views: usize) -> Profile {
        let mut p = Profile::new("anon-1");
        for i in 0..views {
            let mut e = Event::track(names::PRODUCT_VIEWED, "anon-1", &format!("m{i}"), T0);
            e.properties = affinity::json::parse(&format!(
                r#"{{"product_id":"t{i}","category":"Tents","price":200}}"#
            ))
            .unwrap_or_default();
            p.apply(&e);
        }
        p
    }

    #[test]
    fn defaults_parse_and_compile() {
        for (name, source) in DEFAULTS {
            assert!(valid_name(name));
            assert!(rules::parse(source).is_ok(), "{name}");
        }
        let set = compile(&defaults());
        assert_eq!(set.len(), DEFAULTS.len());
        assert_eq!(decode_set(&encode_set(&set)), Some(set));
        let stmts = default_stmts("demo", T0);
        assert_eq!(stmts.len(), DEFAULTS.len() + 1);
    }

    #[test]
    fn names() {
        assert!(valid_name("vip"));
        assert!(valid_name("tent-shoppers_2"));
        assert!(!valid_name(""));
        assert!(!valid_name("-x"));
        assert!(!valid_name("VIP"));
        assert!(!valid_name("a b"));
        assert!(!valid_name("<script>"));
        assert!(!valid_name("new"));
        assert!(!valid_name(&"a".repeat(65)));
    }

    #[test]
    fn checks_with_line_and_column() {
        let others = defaults();
        let err = check("x", "total_spend >\n  and orders", &others).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.column.is_some());
        assert!(err.display.contains('^'));
        let json: serde_json::Value =
            serde_json::from_str(&validation_json(&Err(err))).unwrap_or_default();
        assert_eq!(json["ok"], false);
        assert_eq!(json["error"]["line"], 2);
        let err = check("x", r#"in segment "nope""#, &others).unwrap_err();
        assert!(err.message.contains("nope"), "{}", err.message);
        let ok = check("big-vip", r#"in segment "vip" and orders > 2"#, &others);
        assert!(ok.is_ok());
        let json: serde_json::Value =
            serde_json::from_str(&validation_json(&ok)).unwrap_or_default();
        assert_eq!(json["ok"], true);
        // A cycle through the edited segment.
        let mut with = others.clone();
        with.push(row("a", r#"in segment "vip""#));
        assert!(check("vip", r#"in segment "a""#, &with).is_err());
        assert!(check("Bad Name", "orders > 1", &others).is_err());
        assert!(check("x", "  ", &others).is_err());
    }

    #[test]
    fn config_keeps_other_fields() {
        let c = with_segments(
            r#"{"shop":"demo","version":"abc","model":"/m","holdout_percent":10}"#,
            "U0",
            7,
        );
        let v: serde_json::Value = serde_json::from_str(&c).unwrap_or_default();
        assert_eq!(v["segments"], "U0");
        assert_eq!(v["version"], "abc.s7");
        assert_eq!(v["model"], "/m");
        assert_eq!(v["holdout_percent"], 10);
        let v: serde_json::Value =
            serde_json::from_str(&with_segments(r#"{"shop":"d"}"#, "", 1)).unwrap_or_default();
        assert_eq!(v["version"], "s1");
    }

    #[test]
    fn membership_enters_and_leaves_with_windows() {
        let set = compile(&[row(
            "recent",
            r#"performed "Product Viewed" in the last 1 minute"#,
        )]);
        let p = tent_viewer(1);
        let ctx = Context::default();
        let first = evaluate("demo", &set, &p, &ctx, &[], T0 + 1_000);
        assert_eq!(first.changed.len(), 1);
        assert!(first.state[0].member);
        assert_eq!(first.state[0].entered_at, Some(T0 + 1_000));
        let at = first.next_change_ms.unwrap_or(0);
        assert!(at > T0 && at <= T0 + 60_001, "{at}");
        let again = evaluate("demo", &set, &p, &ctx, &first.state, T0 + 2_000);
        assert!(again.changed.is_empty());
        let later = evaluate("demo", &set, &p, &ctx, &again.state, at);
        assert_eq!(later.changed.len(), 1);
        assert!(!later.state[0].member);
        assert_eq!(later.state[0].exited_at, Some(at));
        assert_eq!(later.state[0].entered_at, Some(T0 + 1_000));
        // A first-time non-member is not a change.
        let none = evaluate("demo", &set, &Profile::new("x"), &ctx, &[], T0);
        assert!(none.changed.is_empty());
        assert!(!none.state[0].member);
        let stmt = membership_stmt("demo", "c1", &later.state[0], at);
        assert_eq!(stmt.args.len(), 7);
        assert_eq!(stmt.args[3], Arg::Num(0.0));
    }

    #[test]
    fn preview_counts_stored_profiles() {
        let set = compile(&defaults());
        let stored = |id: &str, p: &Profile| StoredProfile {
            customer_id: id.into(),
            profile: p.to_json().to_json(),
        };
        let profiles = vec![
            stored("a", &tent_viewer(2)),
            stored("b", &tent_viewer(1)),
            stored("c", &tent_viewer(3)),
            StoredProfile {
                customer_id: "broken".into(),
                profile: "{not json".into(),
            },
        ];
        let m = members_of("demo", &set, "tent-shoppers", &profiles, T0 + DAY);
        assert_eq!(m, vec!["a".to_string(), "c".to_string()]);
        assert!(members_of("demo", &set, "vip", &profiles, T0).is_empty());
    }

    #[test]
    fn listing_joins_sizes() {
        let l = listing(
            defaults(),
            &[CountRow {
                segment: "vip".into(),
                size: 3.0,
            }],
            &[
                SizeRow {
                    segment: "vip".into(),
                    day: "2026-11-24".into(),
                    size: 3.0,
                },
                SizeRow {
                    segment: "vip".into(),
                    day: "2026-11-23".into(),
                    size: 1.0,
                },
            ],
        );
        let vip = l.iter().find(|s| s.row.name == "vip").map(|s| s.size);
        assert_eq!(vip, Some(3.0));
        let h = &l
            .iter()
            .find(|s| s.row.name == "vip")
            .map(|s| s.history.clone());
        assert_eq!(h.as_ref().map(|h| h[0].0.as_str()), Some("2026-11-23"));
    }
}
