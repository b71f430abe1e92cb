//! The dashboard's settings page: every setting of the shop in one form.

use askama::Template;

use super::Settings;
use crate::platform::html::{render, Frame, Nav};

#[derive(Template)]
#[template(path = "settings.html", whitespace = "minimize")]
struct SettingsHtml<'a> {
    frame: Frame<'a>,
    shop_id: &'a str,
    s: &'a Settings,
    saved: bool,
    error: Option<&'a str>,
    /// `(field, label, current level)` of each consent setting.
    consent_fields: [(&'static str, &'static str, &'static str); 3],
    /// Every level name, lowest first.
    levels: [&'static str; 4],
}

/// The settings page of `shop_id` showing `settings`, after a save (`saved`) or with the reason a
/// save was refused (`error`, the form then shows what was sent).
pub fn settings_page(
    shop_id: &str,
    settings: &Settings,
    saved: bool,
    error: Option<&str>,
) -> String {
    render(&SettingsHtml {
        frame: Frame::new(&settings.name, Nav::Settings, "Settings"),
        shop_id,
        s: settings,
        saved,
        error,
        consent_fields: [
            (
                "consent_default",
                "Level before the shopper chooses (default marketing; choose none or device where the law asks for opt-in)",
                settings.consent.default.as_str(),
            ),
            (
                "consent_gpc",
                "Highest level when the browser sends Global Privacy Control (default analytics; marketing ignores it)",
                settings.consent.gpc.as_str(),
            ),
            (
                "consent_dnt",
                "Highest level when the browser sends Do Not Track (default analytics; marketing ignores it)",
                settings.consent.dnt.as_str(),
            ),
        ],
        levels: affinity::consent::LEVELS.map(affinity::consent::Level::as_str),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_shows_every_setting_escaped() {
        let s = Settings {
            name: "<b>A&B</b>".into(),
            time_zone: "Asia/Kolkata".into(),
            count_automated: false,
            ..Settings::default()
        };
        let html = settings_page("s1", &s, true, Some("`x` <bad>"));
        assert!(html.contains("id=\"settings-saved\""));
        assert!(!html.contains("<b>A&B</b>") && !html.contains("<bad>"));
        for v in [
            "Asia/Kolkata",
            "value=\"USD\"",
            "value=\"10\"",
            "value=\"2\"",
        ] {
            assert!(html.contains(v), "{v}");
        }
        assert!(html.contains("<option value=\"false\" selected>"));
        assert!(html.contains("<option value=\"marketing\" selected>"));
        let strict = Settings {
            consent: affinity::consent::Policy {
                default: affinity::consent::Level::Device,
                ..affinity::consent::Policy::default()
            },
            ..Settings::default()
        };
        let html = settings_page("s1", &strict, false, None);
        assert!(html.contains("<option value=\"device\" selected>"));
        assert_eq!(
            html.matches("<option value=\"analytics\" selected>")
                .count(),
            2
        );
    }
}
