//! HTML building blocks for the dashboard: formatting, the page frame and the pieces every page
//! shares. Pages are askama templates under `worker/templates/` (`.html`: every `{{ value }}` is
//! HTML-escaped by askama); no page builds markup with `format!`. What is not escaped is
//! marked by type, not by a filter at the use: [`Asset`] (files of `worker/assets/` included at
//! compile time) and the sub-templates ([`Time`], charts, sparklines), whose own values are
//! escaped when they render. URLs from data go through the `url` filter ([`filters::url`]),
//! which is the engine's one URL check, [`affinity::markup::safe_url`].

use std::fmt;

use askama::Template;

use affinity::time;

/// How the dashboard writes a shop's money: the currency's symbol (or its ISO 4217 code and a
/// space when it has none here) and its minor digits. Amounts are not converted: the shop's
/// events carry its own currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency {
    symbol: String,
    decimals: u32,
}

impl Currency {
    /// The currency of an ISO 4217 code (`USD` when empty); symbols for the common ones, the
    /// code itself for the rest (`SEK 1,234.50`). Yen, won and the other currencies without
    /// minor units are written whole.
    pub fn of(code: &str) -> Currency {
        let code = code.trim().to_ascii_uppercase();
        let symbol = match code.as_str() {
            "" | "USD" => "$",
            "EUR" => "€",
            "GBP" => "£",
            "JPY" => "¥",
            "INR" => "₹",
            "KRW" => "₩",
            "CNY" => "CN¥",
            "BRL" => "R$",
            "CAD" => "CA$",
            "AUD" => "A$",
            "NZD" => "NZ$",
            "MXN" => "MX$",
            _ => "",
        };
        let symbol = if symbol.is_empty() {
            format!("{code} ")
        } else {
            symbol.to_string()
        };
        let whole = [
            "JPY", "KRW", "VND", "CLP", "ISK", "PYG", "UGX", "XAF", "XOF",
        ];
        Currency {
            symbol,
            decimals: if whole.contains(&code.as_str()) { 0 } else { 2 },
        }
    }

    fn write(&self, x: f64, decimals: u32) -> String {
        let scale = 10i64.pow(decimals);
        let minor = (x * scale as f64).round() as i64;
        let (sign, minor) = if minor < 0 {
            ("-", -minor)
        } else {
            ("", minor)
        };
        let whole = group_thousands(minor / scale);
        match decimals {
            0 => format!("{sign}{}{whole}", self.symbol),
            d => format!(
                "{sign}{}{whole}.{:0w$}",
                self.symbol,
                minor % scale,
                w = d as usize
            ),
        }
    }
}

thread_local! {
    static CURRENCY: std::cell::RefCell<Currency> = std::cell::RefCell::new(Currency::of("USD"));
}

/// Renders with money in `currency`: every [`money`], [`money_whole`] and [`money_short`] inside
/// `render` writes it. Building a page is synchronous (no `await` inside), so another request
/// the isolate serves meanwhile cannot see or change it; the previous currency is back after.
pub fn in_currency<T>(currency: &Currency, render: impl FnOnce() -> T) -> T {
    let before = CURRENCY.with(|c| c.replace(currency.clone()));
    let out = render();
    CURRENCY.with(|c| c.replace(before));
    out
}

/// A money amount in the page's currency ([`in_currency`]; dollars outside it): `$1,234.50`,
/// `€1,234.50`, `¥1,235`.
pub fn money(x: f64) -> String {
    CURRENCY.with(|c| {
        let c = c.borrow();
        c.write(x, c.decimals)
    })
}

/// A whole money amount, for axes and hover values: `$40`.
pub fn money_whole(x: f64) -> String {
    CURRENCY.with(|c| c.borrow().write(x, 0))
}

/// A money amount for an axis, thousands shortened: `$1.2k`, `$40`.
pub fn money_short(x: f64) -> String {
    if x >= 1000.0 {
        let symbol = CURRENCY.with(|c| c.borrow().symbol.clone());
        format!("{symbol}{:.1}k", x / 1000.0)
    } else {
        money_whole(x)
    }
}

/// An integer with thousands separators: `12,345`.
pub fn count(n: f64) -> String {
    let n = n.round() as i64;
    if n < 0 {
        format!("-{}", group_thousands(-n))
    } else {
        group_thousands(n)
    }
}

fn group_thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A percentage with one decimal: `12.5%`.
pub fn percent(ratio: f64) -> String {
    if ratio.is_finite() {
        format!("{:.1}%", ratio * 100.0)
    } else {
        "–".to_string()
    }
}

/// A UTC time stamp for people: `2026-11-24 10:05 UTC`.
pub fn when(ms: i64) -> String {
    if ms <= 0 {
        return "–".to_string();
    }
    let s = time::format_rfc3339(ms);
    format!("{} {} UTC", &s[..10], &s[11..16])
}

/// How long ago `ms` was at `now_ms`: `just now`, `5 min ago`, `3 h ago`, `2 d ago`.
pub fn ago(ms: i64, now_ms: i64) -> String {
    if ms <= 0 {
        return "–".to_string();
    }
    let s = (now_ms - ms).max(0) / 1000;
    match s {
        0..=59 => "just now".to_string(),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ => format!("{} d ago", s / 86_400),
    }
}

/// A `<time>` element: the exact time (RFC 3339) as its machine value, the UTC time as its
/// title and the relative time as its text.
#[derive(Debug, Clone, PartialEq, Eq, Template)]
#[template(
    source = r#"<time datetime="{{ datetime }}" title="{{ title }}">{{ text }}</time>"#,
    ext = "html"
)]
pub struct Time {
    datetime: String,
    title: String,
    text: String,
}

impl Time {
    /// The tag for `ms` seen at `now_ms`.
    pub fn new(ms: i64, now_ms: i64) -> Time {
        Time {
            datetime: time::format_rfc3339(ms.max(0)),
            title: when(ms),
            text: ago(ms, now_ms),
        }
    }
}

// Its values are escaped by its own template.
impl askama::filters::HtmlSafe for Time {}

/// A file of `worker/assets/` included at compile time (CSS, the editor script): written into
/// pages as it is, never escaped. Only this crate makes one, and only from those files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset(&'static str);

impl Asset {
    /// The text of the file.
    pub const fn text(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl askama::filters::HtmlSafe for Asset {}

/// The dashboard's styles (`worker/assets/dashboard.css`), in every page's `<style>` block.
pub const DASHBOARD_CSS: Asset = Asset(include_str!("../../assets/dashboard.css"));

/// The segment editor's script (`worker/assets/editor.js`), inline and allowed by its hash.
pub const EDITOR_JS: Asset = Asset(include_str!("../../assets/editor.js"));

/// A coordinate or length in an SVG chart: one decimal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Px(pub f64);

impl fmt::Display for Px {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1}", self.0)
    }
}

impl askama::filters::HtmlSafe for Px {}

/// Filters the templates can use besides askama's own.
pub mod filters {
    /// The URL if it may be a link or image source, else `#` (the engine's
    /// [`affinity::markup::safe_url`]: `javascript:`, `data:`, `vbscript:` … refused). The template
    /// still HTML-escapes the result for its attribute.
    pub fn url<T: std::fmt::Display + ?Sized>(
        url: &T,
        _: &dyn askama::Values,
    ) -> askama::Result<String> {
        Ok(affinity::markup::safe_url(&url.to_string()).to_string())
    }
}

/// Renders a template. Rendering can only fail if a value's `Display` fails, which none of
/// the dashboard's do; the result is then empty rather than half a page.
pub fn render(t: &impl Template) -> String {
    t.render().unwrap_or_default()
}

/// HTML that came out of a template (so everything from data in it was escaped), to be placed
/// into another page as it is. It can only be made by rendering a template: no caller can pass
/// raw text where a fragment is expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment(String);

impl Fragment {
    /// Renders `t` into a fragment.
    pub fn of(t: &impl Template) -> Fragment {
        Fragment(render(t))
    }

    /// The HTML text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Fragment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for Fragment {}

/// Which navigation item is active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// The overview.
    Overview,
    /// The funnel.
    Funnel,
    /// Retention.
    Retention,
    /// Customers.
    Customers,
    /// Products.
    Products,
    /// Explore.
    Explore,
    /// Recommendations.
    Recommendations,
    /// Segments.
    Segments,
    /// The shop's settings.
    Settings,
}

/// One link of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NavItem {
    /// Path.
    pub href: &'static str,
    /// Text.
    pub label: &'static str,
    /// Element id (`nav-…`).
    pub id: &'static str,
    /// The current section.
    pub active: bool,
}

const NAV: [(Nav, &str, &str, &str); 9] = [
    (Nav::Overview, "/dashboard", "Overview", "nav-overview"),
    (Nav::Funnel, "/dashboard/funnel", "Funnel", "nav-funnel"),
    (
        Nav::Retention,
        "/dashboard/retention",
        "Retention",
        "nav-retention",
    ),
    (
        Nav::Customers,
        "/dashboard/customers",
        "Customers",
        "nav-customers",
    ),
    (
        Nav::Products,
        "/dashboard/products",
        "Products",
        "nav-products",
    ),
    (Nav::Explore, "/dashboard/explore", "Explore", "nav-explore"),
    (
        Nav::Segments,
        "/dashboard/segments",
        "Segments",
        "nav-segments",
    ),
    (
        Nav::Recommendations,
        "/dashboard/recommendations",
        "Recommendations",
        "nav-recommendations",
    ),
    (
        Nav::Settings,
        "/dashboard/settings",
        "Settings",
        "nav-settings",
    ),
];

/// What the page layout (`templates/document.html`, `templates/page.html`) shows around a page:
/// every page template has one as its `frame` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The document title (before ` · Affinity`).
    pub title: String,
    /// The signed-in shop's name (empty on the sign-in page).
    pub shop: &'a str,
    /// The active section.
    pub nav: Nav,
}

impl<'a> Frame<'a> {
    /// The frame of a signed-in page.
    pub fn new(shop: &'a str, nav: Nav, title: impl Into<String>) -> Frame<'a> {
        Frame {
            title: title.into(),
            shop,
            nav,
        }
    }

    /// The navigation links, the active one marked.
    pub fn nav_items(&self) -> [NavItem; 9] {
        NAV.map(|(nav, href, label, id)| NavItem {
            href,
            label,
            id,
            active: nav == self.nav,
        })
    }

    /// The page styles.
    pub fn css(&self) -> Asset {
        DASHBOARD_CSS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(
            in_currency(&Currency::of("eur"), || (money(1234.5), money(-3.456))),
            ("€1,234.50".to_string(), "-€3.46".to_string())
        );
        assert_eq!(
            in_currency(&Currency::of("JPY"), || money(1234.5)),
            "¥1,235"
        );
        assert_eq!(in_currency(&Currency::of("SEK"), || money(0.5)), "SEK 0.50");
        assert_eq!(
            in_currency(&Currency::of("GBP"), || (
                money_whole(40.4),
                money_short(1234.0)
            )),
            ("£40".to_string(), "£1.2k".to_string())
        );
        // Outside a render, and after one: dollars.
        assert_eq!(money(1234.5), "$1,234.50");
        assert_eq!(money(0.0), "$0.00");
        assert_eq!(money(-3.456), "-$3.46");
        assert_eq!(money(1_000_000.0), "$1,000,000.00");
        assert_eq!(count(999.0), "999");
        assert_eq!(count(12345.0), "12,345");
        assert_eq!(percent(0.125), "12.5%");
        assert_eq!(percent(f64::NAN), "–");
    }

    #[test]
    fn times() {
        assert_eq!(when(1_790_000_000_000), "2026-09-21 14:13 UTC");
        assert_eq!(when(0), "–");
        let now = 1_790_000_000_000;
        assert_eq!(ago(now - 5_000, now), "just now");
        assert_eq!(ago(now - 300_000, now), "5 min ago");
        assert_eq!(ago(now - 7_200_000, now), "2 h ago");
        assert_eq!(ago(now - 3 * 86_400_000, now), "3 d ago");
    }

    #[test]
    fn time_tags_and_urls() {
        let now = 1_790_000_000_000;
        assert_eq!(
            render(&Time::new(now - 300_000, now)),
            "<time datetime=\"2026-09-21T14:08:20.000Z\" title=\"2026-09-21 14:08 UTC\">5 min ago</time>"
        );
        let url = |u: &str| filters::url(u, &askama::NO_VALUES).unwrap_or_default();
        assert_eq!(url("/p/1"), "/p/1");
        assert_eq!(url(" JavaScript:alert(1)"), "#");
        assert_eq!(Px(1.26).to_string(), "1.3");
        assert_eq!(Px(3.0).to_string(), "3.0");
    }
}
