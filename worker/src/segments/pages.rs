//! The dashboard's segment pages: the list with sizes and sparklines, the editor (live
//! validation and preview through one small inline script, allowed by its hash in the page's
//! Content-Security-Policy), and the segments card of a customer's page. Every value from data
//! goes through [`esc`].

use std::fmt::Write as _;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::{Held, Listed, RuleError, PREVIEW_LIMIT};
use crate::html::{count, esc, page, time_tag, when, Nav};
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
    /// A known path with the wrong method.
    MethodNotAllowed,
}

/// Path words that cannot be segment names.
pub const RESERVED: [&str; 3] = ["new", "validate", "preview"];

/// Routes `rest`, the (still percent-encoded) path after `/dashboard/segments`, without a
/// trailing slash; `None` when it is not a segment path.
pub fn route(method: &str, rest: &str) -> Option<SegmentRoute> {
    let get = method == "GET" || method == "HEAD";
    let post = method == "POST";
    let pick = |g: Option<SegmentRoute>, p: Option<SegmentRoute>| {
        Some(match (get, post, g, p) {
            (true, _, Some(r), _) | (_, true, _, Some(r)) => r,
            _ => SegmentRoute::MethodNotAllowed,
        })
    };
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    match rest {
        "" => pick(Some(SegmentRoute::List), None),
        "new" => pick(
            Some(SegmentRoute::Edit(None)),
            Some(SegmentRoute::Save(None)),
        ),
        "validate" => pick(None, Some(SegmentRoute::Validate)),
        "preview" => pick(None, Some(SegmentRoute::Preview)),
        _ => {
            let (name, action) = match rest.split_once('/') {
                Some((n, a)) => (n, Some(a)),
                None => (rest, None),
            };
            let name = crate::platform::http::percent_decode(name);
            if name.is_empty() || name.contains('/') {
                return None;
            }
            match action {
                None => pick(
                    Some(SegmentRoute::Edit(Some(name.clone()))),
                    Some(SegmentRoute::Save(Some(name))),
                ),
                Some("delete") => pick(None, Some(SegmentRoute::Delete(name))),
                Some(_) => None,
            }
        }
    }
}

/// The editor's script: validates the rule as it is typed (debounced) and asks for a preview.
/// Reads only its own elements and writes text only (`textContent`), never HTML.
pub const EDITOR_SCRIPT: &str = r#"(function(){
var f=document.getElementById("segment-form"),t=document.getElementById("segment-rule"),
n=document.getElementById("segment-name"),st=document.getElementById("rule-status"),
er=document.getElementById("rule-error"),pb=document.getElementById("preview"),
pc=document.getElementById("preview-count"),timer=0,seq=0;
function body(){return "name="+encodeURIComponent(n.value)+"&source="+encodeURIComponent(t.value);}
function post(u){return fetch(u,{method:"POST",credentials:"same-origin",
headers:{"content-type":"application/x-www-form-urlencoded"},body:body()}).then(function(r){return r.json();});}
function show(j){var e=j.error;
if(j.ok){st.textContent="\u2713 Valid rule";st.className="rule-ok";er.textContent="";er.hidden=true;
st.removeAttribute("data-line");st.removeAttribute("data-column");return;}
st.textContent=e.message+(e.line?" (line "+e.line+", column "+e.column+")":"");
st.className="rule-bad";st.setAttribute("data-line",e.line||"");st.setAttribute("data-column",e.column||"");
er.textContent=e.display;er.hidden=false;}
function validate(){var my=++seq;post("/dashboard/segments/validate").then(function(j){if(my===seq)show(j);})
.catch(function(){st.textContent="Could not check the rule (offline?)";st.className="rule-bad";});}
t.addEventListener("input",function(){clearTimeout(timer);timer=setTimeout(validate,250);});
n.addEventListener("input",function(){clearTimeout(timer);timer=setTimeout(validate,250);});
pb.addEventListener("click",function(){pc.textContent="counting\u2026";
post("/dashboard/segments/preview").then(function(j){if(j.ok){pc.textContent=j.count+" of "+j.evaluated+
" customers match now"+(j.limited?" (the "+j.evaluated+" most recent)":"");pc.setAttribute("data-count",j.count);}
else{show(j);pc.textContent="";}}).catch(function(){pc.textContent="Preview failed";});});
if(t.value)validate();
})();"#;

/// `'sha256-…'` of a script, for a Content-Security-Policy `script-src`.
pub fn script_hash(script: &str) -> String {
    let digest = Sha256::digest(script.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

const STYLE: &str = "<style>\
.rule{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;white-space:pre-wrap;word-break:break-word}\
textarea{font:13px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;width:100%;min-height:140px;padding:10px 12px;\
border:1px solid var(--line);border-radius:8px;resize:vertical}\
.editor label{display:block;font-weight:600;margin:14px 0 6px}\
.rule-ok{color:var(--ok);font-weight:600}.rule-bad{color:var(--warn);font-weight:600}\
pre.caret{background:#fdeee4;color:#7c2d12;border-radius:8px;padding:10px 12px;overflow:auto;font-size:12px}\
.actions{display:flex;gap:10px;align-items:center;margin-top:16px;flex-wrap:wrap}\
button.ghost{background:#fff;color:var(--brand);border:1px solid var(--brand)}button.ghost:hover{background:var(--brand-soft)}\
button.danger{background:#fff;color:var(--warn);border:1px solid #f3c4a8}\
.spark{display:block}.btn-link{display:inline-block;background:var(--brand);color:#fff;padding:9px 16px;border-radius:8px;font-weight:600}.btn-link:hover{text-decoration:none;background:#4848c4}.seg-list li{padding:6px 0;border-bottom:1px solid var(--line);list-style:none}\
.seg-list{margin:0;padding:0}.seg-list li:last-child{border-bottom:0}\
</style>";

/// An inline SVG sparkline of `(day, size)` points, oldest first.
pub fn sparkline(name: &str, history: &[(String, f64)]) -> String {
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
    let mut svg = format!(
        "<svg class=\"spark\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" \
         aria-label=\"{} size over time\" data-points=\"{n}\">",
        esc(name)
    );
    if n > 1 {
        let points: Vec<String> = history
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.1)))
            .collect();
        let _ = write!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#5b5bd6\" stroke-width=\"1.5\" stroke-linejoin=\"round\"/>",
            points.join(" ")
        );
    }
    if let Some((day, v)) = history.last() {
        let _ = write!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"#5b5bd6\"><title>{}: {}</title></circle>",
            x(n - 1),
            y(*v),
            esc(day),
            count(*v)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The segment list: name, rule, members now, size over time, last change.
pub fn list_page(shop_name: &str, segments: &[Listed], now_ms: i64) -> String {
    let mut rows = String::new();
    for s in segments {
        let name = &s.row.name;
        let _ = write!(
            rows,
            "<tr data-segment=\"{}\" data-size=\"{}\"><td><a href=\"/dashboard/segments/{}\"><b>{}</b></a></td>\
             <td class=\"rule\">{}</td><td class=\"num size\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            s.size,
            percent_encode(name),
            esc(name),
            esc(&s.row.source),
            count(s.size),
            sparkline(name, &s.history),
            time_tag(s.row.updated_at as i64, now_ms),
        );
    }
    if segments.is_empty() {
        rows = "<tr><td colspan=\"5\" class=\"empty\">No segments yet.</td></tr>".into();
    }
    let content = format!(
        "{STYLE}<div style=\"display:flex;justify-content:space-between;align-items:flex-start\">\
         <div><h1>Segments</h1><p class=\"sub\">Who is in each segment now (customers' Durable Objects \
         keep membership current, including when a time window closes) and how sizes changed.</p></div>\
         <a class=\"btn-link\" id=\"new-segment\" href=\"/dashboard/segments/new\">New segment</a></div>\
         <div class=\"card\"><table id=\"segments\"><thead><tr><th>Segment</th><th>Rule</th>\
         <th class=\"num\">Members</th><th>Size over time</th><th>Changed</th></tr></thead>\
         <tbody>{rows}</tbody></table></div>"
    );
    page(shop_name, Nav::Segments, "Segments", &content)
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

/// The segment editor page.
pub fn editor_page(shop_name: &str, e: &Editor<'_>) -> String {
    let (title, action) = match e.existing {
        Some(n) => (
            format!("Segment {n}"),
            format!("/dashboard/segments/{}", percent_encode(n)),
        ),
        None => ("New segment".to_string(), "/dashboard/segments/new".into()),
    };
    let (status, class, display) = match e.error {
        Some(err) => (
            match (err.line, err.column) {
                (Some(l), Some(c)) => format!("{} (line {l}, column {c})", err.message),
                _ => err.message.clone(),
            },
            "rule-bad",
            Some(err.display.as_str()),
        ),
        None => (String::new(), "", None),
    };
    let data = e.error.map_or(String::new(), |err| {
        format!(
            " data-line=\"{}\" data-column=\"{}\"",
            err.line.map_or(String::new(), |l| l.to_string()),
            err.column.map_or(String::new(), |c| c.to_string())
        )
    });
    let mut c = format!(
        "{STYLE}<a class=\"back\" href=\"/dashboard/segments\">← Segments</a><h1>{}</h1>\
         <p class=\"sub\">Rules use the segment language (see <code>docs/rules.md</code>), e.g. \
         <span class=\"rule\">performed \"Product Viewed\" where category = \"Tents\" at least 2 times in the last 7 days</span>.{}</p>\
         <div class=\"card editor\"><form id=\"segment-form\" method=\"post\" action=\"{}\">\
         <label for=\"segment-name\">Name</label>\
         <input type=\"text\" id=\"segment-name\" name=\"name\" value=\"{}\" pattern=\"[a-z0-9][a-z0-9_\\-]{{0,63}}\" required{}>\
         <label for=\"segment-rule\">Rule</label>\
         <textarea id=\"segment-rule\" name=\"source\" spellcheck=\"false\" required>{}</textarea>\
         <div id=\"rule-status\" class=\"{class}\" role=\"status\" aria-live=\"polite\"{data}>{}</div>\
         <pre id=\"rule-error\" class=\"caret\"{}>{}</pre>\
         <div class=\"actions\"><button type=\"submit\" id=\"save\">Save segment</button>\
         <button type=\"button\" class=\"ghost\" id=\"preview\">Preview size</button>\
         <span id=\"preview-count\" class=\"muted\"></span></div></form>",
        esc(&title),
        e.size.map_or(String::new(), |s| format!(
            " <b id=\"segment-size\" data-size=\"{s}\">{}</b> members now.",
            count(s)
        )),
        esc(&action),
        esc(e.name),
        if e.existing.is_some() { " readonly" } else { "" },
        esc(e.source),
        esc(&status),
        if display.is_some() { "" } else { " hidden" },
        esc(display.unwrap_or("")),
    );
    if let Some(n) = e.existing {
        let _ = write!(
            c,
            "<form method=\"post\" action=\"/dashboard/segments/{}/delete\" style=\"margin-top:14px\">\
             <button type=\"submit\" class=\"danger\" id=\"delete\">Delete segment</button></form>",
            percent_encode(n)
        );
    }
    let _ = write!(
        c,
        "<p class=\"muted\" style=\"margin:14px 0 0\">The preview and the backfill on save evaluate the \
         rule over the {} most recently seen customers' stored profiles, with no page context.</p></div>\
         <script>{EDITOR_SCRIPT}</script>",
        count(f64::from(PREVIEW_LIMIT))
    );
    page(shop_name, Nav::Segments, &title, &c)
}

/// The segments card of a customer's page: current segments with entry times, then past ones.
pub fn customer_card(held: &[Held], now_ms: i64) -> String {
    let mut items = String::new();
    for h in held.iter().filter(|h| h.member) {
        let _ = write!(
            items,
            "<li data-segment=\"{}\" data-member=\"1\"><a href=\"/dashboard/segments/{}\"><span class=\"pill ok\">{}</span></a> \
             <span class=\"muted\">entered {}</span></li>",
            esc(&h.name),
            percent_encode(&h.name),
            esc(&h.name),
            h.entered_at.map_or("–".into(), |t| time_tag(t, now_ms)),
        );
    }
    for h in held.iter().filter(|h| !h.member && h.exited_at.is_some()) {
        let _ = write!(
            items,
            "<li data-segment=\"{}\" data-member=\"0\"><span class=\"pill\">{}</span> <span class=\"muted\">left {} \
             (entered {})</span></li>",
            esc(&h.name),
            esc(&h.name),
            h.exited_at.map_or("–".into(), |t| time_tag(t, now_ms)),
            esc(&h.entered_at.map_or("–".into(), when)),
        );
    }
    if items.is_empty() {
        items = "<li class=\"muted\">In no segment.</li>".into();
    }
    format!(
        "{STYLE}<section class=\"card\" id=\"customer-segments\" style=\"margin-bottom:16px\"><h2>Segments</h2>\
         <ul class=\"seg-list\">{items}</ul></section>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segments::SegmentRow;

    #[test]
    fn routes() {
        use SegmentRoute as R;
        assert_eq!(route("GET", ""), Some(R::List));
        assert_eq!(route("GET", "/new"), Some(R::Edit(None)));
        assert_eq!(route("POST", "/new"), Some(R::Save(None)));
        assert_eq!(route("POST", "/validate"), Some(R::Validate));
        assert_eq!(route("GET", "/validate"), Some(R::MethodNotAllowed));
        assert_eq!(route("POST", "/preview"), Some(R::Preview));
        assert_eq!(route("GET", "/vip"), Some(R::Edit(Some("vip".into()))));
        assert_eq!(route("POST", "/vip"), Some(R::Save(Some("vip".into()))));
        assert_eq!(route("POST", "/vip/delete"), Some(R::Delete("vip".into())));
        assert_eq!(route("GET", "/vip/delete"), Some(R::MethodNotAllowed));
        assert_eq!(route("GET", "/vip/x"), None);
        assert_eq!(route("GET", "/a%2Fb"), None);
    }

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
        assert!(html.contains("&lt;script&gt;"));
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
        assert!(html.contains("&lt;/textarea&gt;&lt;script&gt;"));
        assert!(html.contains("data-line=\"2\" data-column=\"5\""));
        assert!(html.contains("expected &lt;x&gt; (line 2, column 5)"));
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
        assert!(card.contains("data-segment=\"vip\" data-member=\"1\""));
    }
}
