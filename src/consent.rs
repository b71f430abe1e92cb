//! Consent: the shopper's level, what it allows, how browser signals cap it, and how Segment's
//! consent categories map onto it. Pure: the page module, the edge and the tests share it.
//!
//! | level | stored on the device | sent to the edge | personalizes |
//! |---|---|---|---|
//! | [`Level::None`] | only the level itself | nothing personal (the public config and model) | from this page only, in memory |
//! | [`Level::Device`] | profile, config, id | nothing personal | fully, on the device, across pages |
//! | [`Level::Analytics`] | as `device`, plus the undelivered queue | pseudonymous events (no `userId`, no traits) | fully |
//! | [`Level::Marketing`] | as `analytics` | identified events, usable for campaigns | fully |
//!
//! `docs/consent.md` is the merchant's version of this table.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::event::Event;
use crate::json::Value;

/// How much the shopper allows, lowest first (the order is the one comparisons use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Nothing stored by Affinity but the level; nothing personal sent.
    None,
    /// Storage on the device; nothing personal sent.
    Device,
    /// Pseudonymous events sent to the edge.
    Analytics,
    /// Identified events, usable for campaigns.
    Marketing,
}

/// Every level, lowest first.
pub const LEVELS: [Level; 4] = [
    Level::None,
    Level::Device,
    Level::Analytics,
    Level::Marketing,
];

impl Level {
    /// The level named `name` (`none`, `device`, `analytics`, `marketing`, exactly).
    pub fn parse(name: &str) -> Option<Level> {
        LEVELS.into_iter().find(|l| l.as_str() == name)
    }

    /// The level's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "none",
            Level::Device => "device",
            Level::Analytics => "analytics",
            Level::Marketing => "marketing",
        }
    }

    /// Affinity may keep the profile, config and id on the device.
    pub fn stores(self) -> bool {
        self >= Level::Device
    }

    /// Events may go to the edge.
    pub fn sends(self) -> bool {
        self >= Level::Analytics
    }

    /// Events may carry the shop's `userId` and traits.
    pub fn identifies(self) -> bool {
        self >= Level::Marketing
    }
}

/// The shop's policy: the level before the shopper chooses, and the levels the browser's
/// privacy signals cap every level to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The level until the shopper (or a consent platform) chooses one.
    pub default: Level,
    /// The highest level when the browser sends Global Privacy Control
    /// (`navigator.globalPrivacyControl`); `Marketing` means GPC is not honoured.
    pub gpc: Level,
    /// The highest level when the browser sends Do Not Track (`navigator.doNotTrack == "1"`).
    pub dnt: Level,
}

impl Default for Policy {
    /// `marketing` by default (what the plugin did before levels existed); GPC and DNT cap to
    /// `analytics`: pseudonymous measurement stays, identified and campaign use does not.
    fn default() -> Self {
        Policy {
            default: Level::Marketing,
            gpc: Level::Analytics,
            dnt: Level::Analytics,
        }
    }
}

impl Policy {
    /// The policy in the shop config (`{"default", "gpc", "dnt"}`); missing or unknown members
    /// take their defaults.
    pub fn from_json(v: &Value) -> Policy {
        let d = Policy::default();
        let level = |k: &str, or: Level| v.get_str(k).and_then(Level::parse).unwrap_or(or);
        Policy {
            default: level("default", d.default),
            gpc: level("gpc", d.gpc),
            dnt: level("dnt", d.dnt),
        }
    }

    /// The level in force: the shopper's `choice` (else the shop's default), capped by the
    /// signals the browser sends.
    pub fn effective(&self, choice: Option<Level>, gpc: bool, dnt: bool) -> Level {
        let mut level = choice.unwrap_or(self.default);
        if gpc {
            level = level.min(self.gpc);
        }
        if dnt {
            level = level.min(self.dnt);
        }
        level
    }
}

/// The level a Segment consent category stands for: its name compared without case, spaces,
/// `_` and `-`. Categories that are always allowed (`necessary`, `essential`) and unknown ones
/// stand for nothing.
pub fn category_level(name: &str) -> Option<Level> {
    let mut key = String::with_capacity(name.len());
    for c in name.chars() {
        if !matches!(c, ' ' | '_' | '-') {
            key.push(c.to_ascii_lowercase());
        }
    }
    Some(match key.as_str() {
        "functional" | "functionality" | "preferences" | "personalization" | "personalisation" => {
            Level::Device
        }
        "analytics" | "performance" | "measurement" | "statistics" => Level::Analytics,
        "marketing" | "advertising" | "targeting" | "ads" | "datasharing" | "saleofdata" => {
            Level::Marketing
        }
        _ => return None,
    })
}

/// The level Segment-style `categoryPreferences` (`{"Analytics": true, "Advertising": false}`)
/// grant: the highest level of a granted category, but below the lowest level of a denied one.
/// `None` when no member names a known category with a boolean.
pub fn from_categories(prefs: &Value) -> Option<Level> {
    let mut granted: Option<Level> = None;
    let mut denied: Option<Level> = None;
    for (name, v) in prefs.as_object()? {
        let (Some(level), Some(on)) = (category_level(name), v.as_bool()) else {
            continue;
        };
        if on {
            granted = granted.max(Some(level));
        } else {
            denied = Some(denied.map_or(level, |d| d.min(level)));
        }
    }
    if granted.is_none() && denied.is_none() {
        return None;
    }
    let mut level = granted.unwrap_or(Level::None);
    // A denied category caps the level just below it.
    if let Some(d) = denied.filter(|d| level >= *d) {
        level = LEVELS[(d as usize).saturating_sub(1)];
    }
    Some(level)
}

/// The level an event's `context` states: `context.consent.level`, else what its
/// `categoryPreferences` grant; `None` when the event says nothing about consent.
pub fn of_context(context: &Value) -> Option<Level> {
    let consent = context.get("consent")?;
    consent
        .get_str("level")
        .and_then(Level::parse)
        .or_else(|| consent.get("categoryPreferences").and_then(from_categories))
}

/// `context.consent` for an event sent at `level`: the level, the Segment categories it grants
/// (`Functional`, `Analytics`, `Marketing`) and where the choice came from.
pub fn context_value(level: Level, source: &str) -> Value {
    let mut prefs = Value::object();
    for (name, at) in [
        ("Functional", Level::Device),
        ("Analytics", Level::Analytics),
        ("Marketing", Level::Marketing),
    ] {
        prefs.set(name, Value::Bool(level >= at));
    }
    let mut v = Value::object();
    v.set("level", level.as_str().into());
    v.set("categoryPreferences", prefs);
    if !source.is_empty() {
        v.set("source", source.into());
    }
    v
}

/// Segment's name for the event that records a consent change.
pub const CHANGED: &str = "Segment Consent Preference Updated";

/// Most entries a consent history keeps (the newest).
pub const MAX_CHANGES: usize = 50;

/// One entry of a shopper's consent history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The level from then on.
    pub level: Level,
    /// When, Unix ms (the event's time).
    pub at_ms: i64,
    /// Where it came from: `api`, `tcf`, `gcm`, `shopify`, `optout`, `default`, or `event` when
    /// the event did not say.
    pub source: String,
}

/// Records the consent `event` states in `history` (oldest first): a new entry only where the
/// level differs from the one in force at the event's time, so repeated events add nothing.
pub fn note(history: &mut Vec<Change>, event: &Event) {
    let Some(level) = of_context(&event.context) else {
        return;
    };
    let at = event.timestamp_ms;
    let index = history.partition_point(|c| c.at_ms <= at);
    if index > 0 && history[index - 1].level == level {
        return;
    }
    let source = event
        .context
        .get("consent")
        .and_then(|c| c.get_str("source"))
        .unwrap_or("event");
    history.insert(
        index,
        Change {
            level,
            at_ms: at,
            source: source.to_string(),
        },
    );
    // A later entry with the same level is now redundant.
    if history.get(index + 1).is_some_and(|c| c.level == level) {
        history.remove(index + 1);
    }
    let over = history.len().saturating_sub(MAX_CHANGES);
    history.drain(..over);
}

/// The history as JSON: `[{"level", "at_ms", "source"}, …]`, oldest first.
pub fn history_json(history: &[Change]) -> Value {
    Value::Array(
        history
            .iter()
            .map(|c| {
                let mut v = Value::object();
                v.set("level", c.level.as_str().into());
                v.set("at_ms", (c.at_ms as f64).into());
                v.set("source", c.source.as_str().into());
                v
            })
            .collect(),
    )
}

/// Reads [`history_json`]; entries with an unknown level are skipped.
pub fn history_from_json(v: Option<&Value>) -> Vec<Change> {
    v.and_then(Value::as_array)
        .unwrap_or(&[])
        .iter()
        .filter_map(|x| {
            Some(Change {
                level: Level::parse(x.get_str("level")?)?,
                at_ms: x.get_f64("at_ms").unwrap_or(0.0) as i64,
                source: x.get_str("source").unwrap_or("event").to_string(),
            })
        })
        .take(MAX_CHANGES)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn prefs(json: &str) -> Option<Level> {
        from_categories(&parse(json).unwrap_or_default())
    }

    #[test]
    fn names_round_trip_and_nothing_else_parses() {
        for l in LEVELS {
            assert_eq!(Level::parse(l.as_str()), Some(l));
        }
        for bad in ["", "None", "full", "analytics ", "1"] {
            assert_eq!(Level::parse(bad), None, "{bad}");
        }
        assert!(Level::None < Level::Device && Level::Device < Level::Analytics);
        assert!(Level::Analytics < Level::Marketing);
    }

    #[test]
    fn what_each_level_allows() {
        let table: Vec<(bool, bool, bool)> = LEVELS
            .iter()
            .map(|l| (l.stores(), l.sends(), l.identifies()))
            .collect();
        assert_eq!(
            table,
            vec![
                (false, false, false),
                (true, false, false),
                (true, true, false),
                (true, true, true)
            ]
        );
    }

    #[test]
    fn signals_cap_choices_and_defaults() {
        let p = Policy::default();
        assert_eq!(p.effective(None, false, false), Level::Marketing);
        assert_eq!(p.effective(None, true, false), Level::Analytics);
        assert_eq!(p.effective(None, false, true), Level::Analytics);
        assert_eq!(
            p.effective(Some(Level::Device), true, true),
            Level::Device,
            "a cap never raises"
        );
        let strict = Policy::from_json(
            &parse(r#"{"default":"device","gpc":"none","dnt":"marketing"}"#).unwrap_or_default(),
        );
        assert_eq!(strict.default, Level::Device);
        assert_eq!(
            strict.effective(Some(Level::Marketing), false, true),
            Level::Marketing,
            "dnt not honoured"
        );
        assert_eq!(
            strict.effective(Some(Level::Marketing), true, false),
            Level::None
        );
        // Unknown members keep their defaults.
        let odd = Policy::from_json(&parse(r#"{"default":"all","gpc":3}"#).unwrap_or_default());
        assert_eq!(odd, Policy::default());
    }

    #[test]
    fn segment_categories_map_to_levels() {
        for (name, level) in [
            ("Functional", Some(Level::Device)),
            ("personalization", Some(Level::Device)),
            ("Analytics", Some(Level::Analytics)),
            ("Performance", Some(Level::Analytics)),
            ("Advertising", Some(Level::Marketing)),
            ("Data Sharing", Some(Level::Marketing)),
            ("sale_of_data", Some(Level::Marketing)),
            ("Strictly Necessary", None),
            ("C0004", None),
        ] {
            assert_eq!(category_level(name), level, "{name}");
        }
    }

    #[test]
    fn granted_categories_raise_and_denied_ones_cap() {
        assert_eq!(prefs(r#"{"Analytics":true}"#), Some(Level::Analytics));
        assert_eq!(
            prefs(r#"{"Analytics":true,"Advertising":true}"#),
            Some(Level::Marketing)
        );
        assert_eq!(
            prefs(r#"{"Analytics":false,"Advertising":true}"#),
            Some(Level::Device),
            "marketing without analytics is not allowed"
        );
        assert_eq!(
            prefs(r#"{"Functional":false,"Analytics":true}"#),
            Some(Level::None)
        );
        assert_eq!(
            prefs(r#"{"Functional":true,"Analytics":false,"Marketing":false}"#),
            Some(Level::Device)
        );
        assert_eq!(
            prefs(r#"{"Analytics":false,"Advertising":false}"#),
            Some(Level::None)
        );
        assert_eq!(
            prefs(r#"{"Analytics":true,"Marketing":false}"#),
            Some(Level::Analytics)
        );
        assert_eq!(prefs(r#"{"Necessary":true,"C0002":true}"#), None);
        assert_eq!(prefs(r#"{"Analytics":"yes"}"#), None, "booleans only");
        assert_eq!(prefs("[]"), None);
    }

    #[test]
    fn the_context_we_send_reads_back_as_its_level() {
        for l in LEVELS {
            let mut ctx = Value::object();
            ctx.set("consent", context_value(l, "api"));
            assert_eq!(of_context(&ctx), Some(l));
            // The categories alone say the same.
            let mut only = Value::object();
            let mut c = Value::object();
            c.set(
                "categoryPreferences",
                context_value(l, "")
                    .get("categoryPreferences")
                    .cloned()
                    .unwrap_or_default(),
            );
            only.set("consent", c);
            assert_eq!(of_context(&only), Some(l));
        }
        assert_eq!(of_context(&Value::object()), None);
        let bad = parse(r#"{"consent":{"level":"everything"}}"#).unwrap_or_default();
        assert_eq!(of_context(&bad), None);
    }

    fn at(level: &str, ms: i64) -> Event {
        let text = format!(
            r#"{{"type":"track","event":"X","anonymousId":"a","messageId":"m{ms}",
            "timestamp":"2026-11-24T10:00:00Z","context":{{"consent":{{"level":"{level}",
            "source":"api"}}}}}}"#
        );
        let mut e =
            Event::from_json(&parse(&text).unwrap_or_default()).unwrap_or_else(|e| panic!("{e:?}"));
        e.timestamp_ms = ms;
        e
    }

    #[test]
    fn history_keeps_changes_in_time_order() {
        let mut h = Vec::new();
        for (level, ms) in [
            ("marketing", 10),
            ("marketing", 20),
            ("device", 30),
            ("analytics", 25),
            ("device", 40),
        ] {
            note(&mut h, &at(level, ms));
        }
        let got: Vec<(&str, i64)> = h.iter().map(|c| (c.level.as_str(), c.at_ms)).collect();
        assert_eq!(
            got,
            vec![("marketing", 10), ("analytics", 25), ("device", 30)]
        );
        assert!(h.iter().all(|c| c.source == "api"));
        let back = history_from_json(Some(&history_json(&h)));
        assert_eq!(back, h);
        let mut long = Vec::new();
        for i in 0..(MAX_CHANGES as i64 + 10) {
            note(
                &mut long,
                &at(if i % 2 == 0 { "none" } else { "device" }, i),
            );
        }
        assert_eq!(long.len(), MAX_CHANGES);
        assert_eq!(long[0].at_ms, 10, "the oldest go first");
    }
}
