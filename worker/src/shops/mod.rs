//! Shops: many on one deployment. The operator creates, lists, renames, re-configures, rotates,
//! exports and deletes them through the operator API ([`handler`], `Authorization: Bearer
//! <OPERATOR_SECRET>`), with the `make shop` command. Every key, row and object is scoped by
//! shop; nothing routes to a default shop.
//!
//! Per-shop [`Settings`] live here, in one place: what the operator API, the admin API and the
//! dashboard's settings page read and write, validated the same way. A rotation's end or a
//! deletion reaches every isolate within [`crate::platform::SHOP_CACHE_MS`].

use affinity::consent::{Level, Policy};
use serde_json::Value as Json;

use crate::platform::store::shops::SettingsRow;

#[cfg(target_arch = "wasm32")]
pub mod handler;
pub mod pages;

/// How long the previous write key keeps working after a rotation: 24 hours, so pages cached
/// with the old tag keep sending while the new one rolls out.
pub const KEY_GRACE_MS: i64 = 24 * 3_600_000;

/// Default minimum support `k`: a relation enters the model only when seen in ≥ k distinct
/// sessions (the engine's default, chosen by the offline evaluation); at least 2 at the edge.
pub const DEFAULT_MIN_SUPPORT: u32 = 2;

/// Default share of shoppers in the recommendation holdout, in percent.
pub const DEFAULT_HOLDOUT_PERCENT: f64 = 10.0;

/// A shop's settings, with their defaults (see [`Settings::default`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Display name (1–100 characters). Default: the shop id.
    pub name: String,
    /// ISO 4217 currency code of prices and revenue. Default `USD`.
    pub currency: String,
    /// Time zone of days, weeks and months: `UTC`, an IANA name (`Europe/Berlin`) or a fixed
    /// offset (`+05:30`). Default `UTC`.
    pub time_zone: String,
    /// Minimum support `k` of the item model, 2–100. Default [`DEFAULT_MIN_SUPPORT`].
    pub min_support: u32,
    /// Share of shoppers in the recommendation holdout, 0–100 percent (100 switches
    /// personalization off for everybody). Default [`DEFAULT_HOLDOUT_PERCENT`].
    pub holdout_percent: f64,
    /// Count traffic from automated browsers (headless Chromium, webdriver) as shoppers. Default
    /// `true`: such visits are real shoppers in tests and in some shops' own monitoring; crawlers
    /// are flagged by user agent either way.
    pub count_automated: bool,
    /// Consent (`docs/consent.md`): the level before the shopper chooses (default `marketing`,
    /// what the plugin did before levels existed; shops whose law asks for opt-in choose `none`
    /// or `device`), and the levels Global Privacy Control and Do Not Track cap every level to
    /// (default `analytics` each; `marketing` ignores the signal). See [`Policy`].
    pub consent: Policy,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            name: String::new(),
            currency: "USD".into(),
            time_zone: "UTC".into(),
            min_support: DEFAULT_MIN_SUPPORT,
            holdout_percent: DEFAULT_HOLDOUT_PERCENT,
            count_automated: true,
            consent: Policy::default(),
        }
    }
}

impl From<SettingsRow> for Settings {
    fn from(row: SettingsRow) -> Settings {
        let d = Settings::default();
        Settings {
            name: row.name.unwrap_or(d.name),
            currency: row.currency.unwrap_or(d.currency),
            time_zone: row.time_zone.unwrap_or(d.time_zone),
            min_support: row
                .min_support
                .filter(|k| k.is_finite() && *k >= 1.0)
                .map_or(d.min_support, |k| k.min(100.0) as u32),
            holdout_percent: row.holdout_percent.unwrap_or(d.holdout_percent),
            count_automated: row.count_automated.is_none_or(|c| c != 0.0),
            consent: {
                let level = |v: Option<String>, or: Level| {
                    v.as_deref().and_then(Level::parse).unwrap_or(or)
                };
                Policy {
                    default: level(row.consent_default, d.consent.default),
                    gpc: level(row.consent_gpc, d.consent.gpc),
                    dnt: level(row.consent_dnt, d.consent.dnt),
                }
            },
        }
    }
}

impl Settings {
    /// The minimum support as the model builder takes it.
    pub fn k(&self) -> u32 {
        self.min_support.max(1)
    }

    /// The row that stores these settings.
    pub fn to_row(&self) -> SettingsRow {
        SettingsRow {
            name: Some(self.name.clone()),
            currency: Some(self.currency.clone()),
            time_zone: Some(self.time_zone.clone()),
            min_support: Some(f64::from(self.min_support)),
            holdout_percent: Some(self.holdout_percent),
            count_automated: Some(if self.count_automated { 1.0 } else { 0.0 }),
            consent_default: Some(self.consent.default.as_str().into()),
            consent_gpc: Some(self.consent.gpc.as_str().into()),
            consent_dnt: Some(self.consent.dnt.as_str().into()),
        }
    }

    /// The settings as JSON (what the APIs answer).
    pub fn to_json(&self) -> Json {
        serde_json::json!({
            "name": self.name,
            "currency": self.currency,
            "time_zone": self.time_zone,
            "min_support": self.min_support,
            "holdout_percent": self.holdout_percent,
            "count_automated": self.count_automated,
            "consent_default": self.consent.default.as_str(),
            "consent_gpc": self.consent.gpc.as_str(),
            "consent_dnt": self.consent.dnt.as_str(),
        })
    }

    /// The consent policy as the page reads it in the config: `{"default", "gpc", "dnt"}`.
    pub fn consent_json(&self) -> Json {
        serde_json::json!({
            "default": self.consent.default.as_str(),
            "gpc": self.consent.gpc.as_str(),
            "dnt": self.consent.dnt.as_str(),
        })
    }

    /// These settings changed by one named value given as text (a form field) or JSON; an
    /// unknown name or an invalid value is an error that says what is allowed.
    pub fn set(&mut self, key: &str, value: &Json) -> Result<(), String> {
        let text = value.as_str().map(str::trim);
        let number = value
            .as_f64()
            .or_else(|| text.and_then(|t| t.parse::<f64>().ok()));
        match key {
            "name" => {
                let name = text.ok_or("`name` must be text")?;
                if name.is_empty()
                    || name.chars().count() > 100
                    || name.chars().any(char::is_control)
                {
                    return Err("`name` must be 1–100 characters without control characters".into());
                }
                self.name = name.to_string();
            }
            "currency" => {
                let c = text.ok_or("`currency` must be text")?;
                if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                    return Err("`currency` must be an ISO 4217 code such as USD or EUR".into());
                }
                self.currency = c.to_string();
            }
            "time_zone" => {
                let z = text.ok_or("`time_zone` must be text")?;
                if !valid_time_zone(z) {
                    return Err(
                        "`time_zone` must be UTC, an IANA name such as Europe/Berlin, or an \
                         offset such as +05:30"
                            .into(),
                    );
                }
                self.time_zone = z.to_string();
            }
            "min_support" => match number {
                Some(n) if n.fract() == 0.0 && (2.0..=100.0).contains(&n) => {
                    self.min_support = n as u32;
                }
                _ => return Err("`min_support` must be an integer 2..=100".into()),
            },
            "holdout_percent" => match number {
                Some(n) if (0.0..=100.0).contains(&n) => self.holdout_percent = n,
                _ => return Err("`holdout_percent` must be a number 0..=100".into()),
            },
            "count_automated" => {
                self.count_automated = match (value.as_bool(), text) {
                    (Some(b), _) => b,
                    (None, Some("1" | "true" | "on")) => true,
                    (None, Some("0" | "false" | "off")) => false,
                    _ => return Err("`count_automated` must be true or false".into()),
                }
            }
            "consent_default" | "consent_gpc" | "consent_dnt" => {
                let level = text.and_then(Level::parse).ok_or_else(|| {
                    format!("`{key}` must be one of none, device, analytics, marketing")
                })?;
                match key {
                    "consent_default" => self.consent.default = level,
                    "consent_gpc" => self.consent.gpc = level,
                    _ => self.consent.dnt = level,
                }
            }
            other => return Err(format!("unknown setting `{other}`")),
        }
        Ok(())
    }

    /// These settings changed by a JSON object of settings (`{"holdout_percent": 5, …}`).
    pub fn with_json(&self, body: &str) -> Result<Settings, String> {
        let v: Json =
            serde_json::from_str(body).map_err(|_| "the body is not a JSON object".to_string())?;
        let obj = v.as_object().ok_or("the body is not a JSON object")?;
        let mut s = self.clone();
        for (key, value) in obj {
            s.set(key, value)?;
        }
        Ok(s)
    }
}

/// `UTC`, a fixed offset `±HH:MM` (within ±14:00), or an IANA-style name (`Area/Location`,
/// letters, digits, `_`, `-`, `+`).
pub fn valid_time_zone(z: &str) -> bool {
    if z == "UTC" {
        return true;
    }
    let b = z.as_bytes();
    if b.len() == 6 && matches!(b[0], b'+' | b'-') && b[3] == b':' {
        let digits = |i: usize| (b[i] as char).to_digit(10);
        if let (Some(h1), Some(h2), Some(m1), Some(m2)) =
            (digits(1), digits(2), digits(4), digits(5))
        {
            let (h, m) = (h1 * 10 + h2, m1 * 10 + m2);
            return m < 60 && (h < 14 || (h == 14 && m == 0));
        }
        return false;
    }
    let mut parts = z.split('/');
    let area_ok = parts
        .next()
        .is_some_and(|a| !a.is_empty() && a.bytes().all(|c| c.is_ascii_alphabetic() || c == b'_'));
    let rest: Vec<&str> = parts.collect();
    area_ok
        && !rest.is_empty()
        && z.len() <= 64
        && rest.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'+'))
        })
}

/// A new random credential: `prefix` and 24 random bytes in base64url.
pub fn credential(prefix: &str, random: &[u8; 24]) -> String {
    use base64::Engine as _;
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
    )
}

/// True for a usable write key: 8–128 characters of `A-Z a-z 0-9 _ -`.
pub fn valid_write_key(key: &str) -> bool {
    (8..=128).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}

/// The D1 tables a shop's export and erase cover, with the column that names the shop.
pub const TABLES: [(&str, &str); 23] = [
    ("shops", "id"),
    ("identities", "shop"),
    ("events", "shop"),
    ("customers", "shop"),
    ("products", "shop"),
    ("product_daily", "shop"),
    ("catalog", "shop"),
    ("orders", "shop"),
    ("daily", "shop"),
    ("models", "shop"),
    ("segments", "shop"),
    ("segment_sets", "shop"),
    ("memberships", "shop"),
    ("segment_sizes", "shop"),
    ("health_issues", "shop"),
    ("rollup_slots", "shop"),
    ("visitor_slots", "shop"),
    ("product_viewers", "shop"),
    ("product_slots", "shop"),
    ("order_lines", "shop"),
    ("refunds", "shop"),
    ("ingest_freshness", "shop"),
    ("visits", "shop"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_documented_values() {
        let d = Settings::default();
        assert_eq!((d.currency.as_str(), d.time_zone.as_str()), ("USD", "UTC"));
        assert_eq!(
            (d.min_support, d.holdout_percent, d.count_automated),
            (2, 10.0, true)
        );
        assert_eq!(Settings::from(SettingsRow::default()), d);
    }

    #[test]
    fn settings_validate_each_value() {
        let s = Settings::default();
        let t = s
            .with_json(r#"{"name":"Alpha","currency":"EUR","time_zone":"Asia/Kolkata","min_support":3,"holdout_percent":0,"count_automated":false}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.name, "Alpha");
        assert_eq!(t.currency, "EUR");
        assert_eq!(t.time_zone, "Asia/Kolkata");
        assert_eq!(
            (t.min_support, t.holdout_percent, t.count_automated),
            (3, 0.0, false)
        );
        assert_eq!(Settings::from(t.to_row()), t, "the row round-trips");
        for bad in [
            r#"{"min_support":1}"#,
            r#"{"min_support":2.5}"#,
            r#"{"holdout_percent":100.5}"#,
            r#"{"currency":"eur"}"#,
            r#"{"time_zone":"Mars/Olympus Mons"}"#,
            r#"{"time_zone":"+15:00"}"#,
            r#"{"name":""}"#,
            r#"{"other":1}"#,
            "[]",
            "nope",
        ] {
            assert!(s.with_json(bad).is_err(), "{bad}");
        }
        assert!(s.with_json(r#"{"holdout_percent":100}"#).is_ok());
        let mut f = s.clone();
        f.set("holdout_percent", &Json::from("25"))
            .unwrap_or_else(|e| panic!("{e}"));
        f.set("count_automated", &Json::from("off"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((f.holdout_percent, f.count_automated), (25.0, false));
    }

    #[test]
    fn consent_settings_validate_and_reach_the_config() {
        let d = Settings::default();
        assert_eq!(
            d.consent_json(),
            serde_json::json!({"default": "marketing", "gpc": "analytics", "dnt": "analytics"})
        );
        let t = d
            .with_json(
                r#"{"consent_default":"device","consent_gpc":"none","consent_dnt":"marketing"}"#,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (t.consent.default, t.consent.gpc, t.consent.dnt),
            (Level::Device, Level::None, Level::Marketing)
        );
        assert_eq!(Settings::from(t.to_row()), t, "the row round-trips");
        assert_eq!(t.to_json()["consent_default"], "device");
        for bad in [
            r#"{"consent_default":"all"}"#,
            r#"{"consent_gpc":2}"#,
            r#"{"consent_dnt":"Device"}"#,
        ] {
            let err = d.with_json(bad).err().unwrap_or_default();
            assert!(
                err.contains("none, device, analytics, marketing"),
                "{bad}: {err}"
            );
        }
        // A stored value the page would not know falls back to the default.
        let row = SettingsRow {
            consent_default: Some("everything".into()),
            ..SettingsRow::default()
        };
        assert_eq!(Settings::from(row).consent, Policy::default());
    }

    #[test]
    fn time_zones() {
        for ok in [
            "UTC",
            "Europe/Berlin",
            "America/Argentina/Buenos_Aires",
            "+05:30",
            "-03:00",
            "Etc/GMT+5",
        ] {
            assert!(valid_time_zone(ok), "{ok}");
        }
        for bad in [
            "",
            "utc/",
            "Europe/",
            "+5:30",
            "+14:30",
            "+05:60",
            "Europe/Ber lin",
        ] {
            assert!(!valid_time_zone(bad), "{bad}");
        }
    }

    #[test]
    fn credentials() {
        let k = credential("pk_", &[7u8; 24]);
        assert!(k.starts_with("pk_") && k.len() == 3 + 32);
        assert!(valid_write_key(&k));
        assert!(!valid_write_key("short"));
        assert!(!valid_write_key("has space in it"));
    }
}
