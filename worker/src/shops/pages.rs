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
    }
}
