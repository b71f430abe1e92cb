//! The dashboard's segment pages: the list with sizes and sparklines, the editor (live
//! validation and preview through one small inline script, `worker/assets/editor.js`, allowed
//! by its hash in the page's Content-Security-Policy), and the segments card of a customer's
//! page. Templates under `worker/templates/` escape every value from data.

use askama::Template;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::{Held, Listed, RuleError, PREVIEW_LIMIT};
use crate::platform::html::{
    count, filters, render, when, Asset, Fragment, Frame, Nav, Px, Time, EDITOR_JS,
};
use crate::platform::http::percent_encode;

/// Something under `/dashboard/segments`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentRoute {
    /// `GET /dashboard/segments`: the list.
    List,
    /// `GET /dashboard/segments/new` (`None`) or `/dashboard/segments/<name>`: the editor.
    Edit(Option<String>),
    /// `POST /dashboard/segments/new` (`None`) or `/dashboard/segments/<name>`: save.
    Save(Option<String>),
    /// `POST /dashboard/segments/<name>/delete`.
    Delete(String),
    /// `POST /dashboard/segments/validate` (`name`, `source`): JSON.
    Validate,
    /// `POST /dashboard/segments/preview` (`name`, `source`): JSON.
    Preview,
}

/// Path words that cannot be segment names.
pub const RESERVED: [&str; 3] = ["new", "validate", "preview"];

/// The editor's script (`worker/assets/editor.js`): validates the rule as it is typed
/// (debounced) and asks for a preview. Reads only its own elements and writes text only
/// (`textContent`), never HTML. The page includes it byte for byte, so [`script_hash`] of it is
/// the hash the Content-Security-Policy allows.
pub const EDITOR_SCRIPT: &str = EDITOR_JS.text();

/// `'sha256-…'` of a script, for a Content-Security-Policy `script-src`.
pub fn script_hash(script: &str) -> String {
    let digest = Sha256::digest(script.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The last point of a sparkline.
struct SparkEnd {
    x: Px,
    y: Px,
    day: String,
    text: String,
}

/// A sparkline of segment sizes: coordinates computed here, written out by its template.
#[derive(Template)]
#[template(path = "sparkline.html", whitespace = "minimize")]
struct Sparkline<'a> {
    name: &'a str,
    width: f64,
    height: f64,
    n: usize,
    points: String,
    last: Option<SparkEnd>,
}

// Numbers and escaped text only: rendered by its own template.
impl askama::filters::HtmlSafe for Sparkline<'_> {}

impl<'a> Sparkline<'a> {
    fn new(name: &'a str, history: &[(String, f64)]) -> Sparkline<'a> {
        let (w, h) = (160.0, 32.0);
        let max = history.iter().map(|p| p.1).fold(0.0, f64::max).max(1.0);
        let n = history.len();
        let x = |i: usize| {
            if n <= 1 {
                w - 2.0
            } else {
                2.0 + (w - 4.0) * i as f64 / (n - 1) as f64
            }
        };
        let y = |v: f64| h - 3.0 - (h - 6.0) * v / max;
        let points = if n > 1 {
            history
                .iter()
                .enumerate()
                .map(|(i, p)| format!("{},{}", Px(x(i)), Px(y(p.1))))
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            String::new()
        };
        Sparkline {
            name,
            width: w,
            height: h,
            n,
            points,
            last: history.last().map(|(day, v)| SparkEnd {
                x: Px(x(n - 1)),
                y: Px(y(*v)),
                day: day.clone(),
                text: count(*v),
            }),
        }
    }
}

/// An inline SVG sparkline of `(day, size)` points, oldest first.
pub fn sparkline(name: &str, history: &[(String, f64)]) -> String {
    render(&Sparkline::new(name, history))
}

fn segment_href(name: &str) -> String {
    format!("/dashboard/segments/{}", percent_encode(name))
}

struct ListRow<'a> {
    name: &'a str,
    href: String,
    size: f64,
    source: &'a str,
    members: String,
    spark: Sparkline<'a>,
    changed: Time,
}

#[derive(Template)]
#[template(path = "segments.html", whitespace = "minimize")]
struct ListHtml<'a> {
    frame: Frame<'a>,
    rows: Vec<ListRow<'a>>,
}

/// The segment list: name, rule, members now, size over time, last change.
pub fn list_page(shop_name: &str, segments: &[Listed], now_ms: i64) -> String {
    render(&ListHtml {
        frame: Frame::new(shop_name, Nav::Segments, "Segments"),
        rows: segments
            .iter()
            .map(|s| ListRow {
                name: &s.row.name,
                href: segment_href(&s.row.name),
                size: s.size,
                source: &s.row.source,
                members: count(s.size),
                spark: Sparkline::new(&s.row.name, &s.history),
                changed: Time::new(s.row.updated_at as i64, now_ms),
            })
            .collect(),
    })
}

/// What the editor shows.
#[derive(Debug, Clone, Default)]
pub struct Editor<'a> {
    /// The segment being edited (`None` for a new one).
    pub existing: Option<&'a str>,
    /// Name field value.
    pub name: &'a str,
    /// Rule text.
    pub source: &'a str,
    /// An error from saving.
    pub error: Option<&'a RuleError>,
    /// Members now (existing segments).
    pub size: Option<f64>,
}

/// Where a rule error is, for the status line's `data-line` / `data-column`.
struct Place {
    line: String,
    column: String,
}

#[derive(Template)]
#[template(path = "segment_editor.html", whitespace = "minimize")]
struct EditorHtml<'a> {
    frame: Frame<'a>,
    size: Option<f64>,
    members: String,
    action: String,
    name: &'a str,
    readonly: bool,
    source: &'a str,
    status: String,
    status_class: &'static str,
    error: Option<Place>,
    display: &'a str,
    delete: Option<String>,
    preview_limit: String,
    script: Asset,
}

/// The segment editor page.
pub fn editor_page(shop_name: &str, e: &Editor<'_>) -> String {
    let (title, action) = match e.existing {
        Some(n) => (format!("Segment {n}"), segment_href(n)),
        None => ("New segment".to_string(), "/dashboard/segments/new".into()),
    };
    let number = |n: Option<usize>| n.map_or(String::new(), |n| n.to_string());
    render(&EditorHtml {
        frame: Frame::new(shop_name, Nav::Segments, title),
        size: e.size,
        members: e.size.map(count).unwrap_or_default(),
        action,
        name: e.name,
        readonly: e.existing.is_some(),
        source: e.source,
        status: e
            .error
            .map_or(String::new(), |err| match (err.line, err.column) {
                (Some(l), Some(c)) => format!("{} (line {l}, column {c})", err.message),
                _ => err.message.clone(),
            }),
        status_class: if e.error.is_some() { "rule-bad" } else { "" },
        error: e.error.map(|err| Place {
            line: number(err.line),
            column: number(err.column),
        }),
        display: e.error.map_or("", |err| err.display.as_str()),
        delete: e.existing.map(|n| format!("{}/delete", segment_href(n))),
        preview_limit: count(f64::from(PREVIEW_LIMIT)),
        script: EDITOR_JS,
    })
}

struct HeldView<'a> {
    name: &'a str,
    href: String,
    entered: Option<Time>,
    exited: Option<Time>,
    entered_when: String,
}

#[derive(Template)]
#[template(path = "segments_card.html", whitespace = "minimize")]
struct CardHtml<'a> {
    current: Vec<HeldView<'a>>,
    past: Vec<HeldView<'a>>,
}

fn held_view(h: &Held, now_ms: i64) -> HeldView<'_> {
    HeldView {
        name: &h.name,
        href: segment_href(&h.name),
        entered: h.entered_at.map(|t| Time::new(t, now_ms)),
        exited: h.exited_at.map(|t| Time::new(t, now_ms)),
        entered_when: h.entered_at.map_or("–".into(), when),
    }
}

/// The segments card of a customer's page: current segments with entry times, then past ones.
pub fn customer_card(held: &[Held], now_ms: i64) -> Fragment {
    let view = |h| held_view(h, now_ms);
    Fragment::of(&CardHtml {
        current: held.iter().filter(|h| h.member).map(view).collect(),
        past: held
            .iter()
            .filter(|h| !h.member && h.exited_at.is_some())
            .map(view)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segments::SegmentRow;

    #[test]
    fn hashes_scripts() {
        // echo -n 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert_eq!(
            script_hash("alert(1)"),
            "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
        );
    }

    #[test]
    fn pages_escape() {
        let row = SegmentRow {
            name: "vip".into(),
            source: "traits.x = \"<script>\"".into(),
            compiled: String::new(),
            created_at: 0.0,
            updated_at: 1.0,
            version: 1.0,
        };
        let listed = Listed {
            row,
            size: 2.0,
            history: vec![("2026-11-23".into(), 1.0), ("2026-11-24".into(), 2.0)],
        };
        let html = list_page("<shop>", &[listed], 10);
        assert!(html.contains("data-segment=\"vip\" data-size=\"2\""));
        assert!(!html.contains("<script>"));
        assert!(html.contains("&#60;script&#62;"));
        assert!(html.contains("<polyline"));
        let err = RuleError {
            message: "expected <x>".into(),
            line: Some(2),
            column: Some(5),
            display: "error\n  ^^".into(),
        };
        let html = editor_page(
            "s",
            &Editor {
                existing: Some("vip"),
                name: "vip",
                source: "</textarea><script>",
                error: Some(&err),
                size: Some(3.0),
            },
        );
        assert!(html.contains("&#60;/textarea&#62;&#60;script&#62;"));
        assert!(html.contains("data-line=\"2\" data-column=\"5\""));
        assert!(html.contains("expected &#60;x&#62; (line 2, column 5)"));
        assert_eq!(html.matches("<script>").count(), 1);
        assert!(html.contains(EDITOR_SCRIPT));
        let card = customer_card(
            &[Held {
                name: "vip".into(),
                member: true,
                entered_at: Some(5),
                exited_at: None,
            }],
            10,
        );
        assert!(card
            .as_str()
            .contains("data-segment=\"vip\" data-member=\"1\""));
    }
}
