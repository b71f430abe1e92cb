//! HTML building blocks for the dashboard: escaping, formatting and the page frame. Every string
//! that comes from data (customer ids, product names, event properties) goes through [`esc`].

use std::fmt::Write as _;

use affinity::time;

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    affinity::markup::escape_html(s, &mut out);
    out
}

/// A money amount: `$1,234.50`.
pub fn money(x: f64) -> String {
    let cents = (x * 100.0).round() as i64;
    let (sign, cents) = if cents < 0 {
        ("-", -cents)
    } else {
        ("", cents)
    };
    format!("{sign}${}.{:02}", group_thousands(cents / 100), cents % 100)
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

/// A `<time>` element with the exact time as its title and the relative time as text.
pub fn time_tag(ms: i64, now_ms: i64) -> String {
    format!(
        "<time datetime=\"{}\" title=\"{}\">{}</time>",
        esc(&time::format_rfc3339(ms.max(0))),
        esc(&when(ms)),
        esc(&ago(ms, now_ms))
    )
}

/// Which navigation item is active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// The overview.
    Overview,
    /// Customers.
    Customers,
    /// Recommendations.
    Recommendations,
    /// Segments.
    Segments,
}

const CSS: &str = r#"
:root{--bg:#f6f7fb;--card:#fff;--ink:#1d2433;--muted:#6b7385;--line:#e6e8ef;--brand:#5b5bd6;
--brand-soft:#ececfc;--ok:#1f9d72;--ok-soft:#e3f5ee;--warn:#c2410c;--radius:12px}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
color:var(--ink);background:var(--bg)}
a{color:var(--brand);text-decoration:none}a:hover{text-decoration:underline}
header.top{background:#151a2d;color:#fff}
header.top .in{max-width:1200px;margin:0 auto;padding:0 24px;display:flex;align-items:center;gap:28px;height:56px}
.logo{font-weight:700;font-size:17px;letter-spacing:.2px;color:#fff;display:flex;align-items:center;gap:8px}
.logo i{display:inline-block;width:22px;height:22px;border-radius:6px;background:linear-gradient(135deg,#8b8bf5,#5b5bd6 60%,#2fb38a)}
nav.main{display:flex;gap:4px;flex:1}
nav.main a{color:#c9cde0;padding:8px 12px;border-radius:8px}
nav.main a:hover{background:#242b45;text-decoration:none;color:#fff}
nav.main a.active{background:#2b3356;color:#fff}
.shop{color:#c9cde0;font-size:13px}.shop b{color:#fff;font-weight:600}
.signout{color:#c9cde0;border:1px solid #3a4266;padding:5px 12px;border-radius:8px;font-size:13px}
.signout:hover{color:#fff;text-decoration:none;border-color:#6b74a8}
main{max-width:1200px;margin:0 auto;padding:28px 24px 60px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:15px;margin:0 0 14px}
.sub{color:var(--muted);margin:0 0 22px}
.grid{display:grid;gap:16px}
.kpis{grid-template-columns:repeat(5,1fr);margin-bottom:16px}
.two{grid-template-columns:1fr 1fr;margin-bottom:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:var(--radius);padding:18px 20px;
box-shadow:0 1px 2px rgba(20,24,40,.04)}
.kpi .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.6px}
.kpi .value{font-size:26px;font-weight:700;margin-top:4px;font-variant-numeric:tabular-nums}
.kpi .hint{color:var(--muted);font-size:12px}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
th{text-align:left;color:var(--muted);font-weight:600;font-size:12px;text-transform:uppercase;
letter-spacing:.5px;padding:8px 10px;border-bottom:1px solid var(--line)}
td{padding:9px 10px;border-bottom:1px solid var(--line);vertical-align:top}
tr:last-child td{border-bottom:0}
td.num,th.num{text-align:right}
.muted{color:var(--muted)}
time{white-space:nowrap}
.empty{color:var(--muted);padding:18px 4px;text-align:center}
.pill{display:inline-block;padding:1px 8px;border-radius:999px;background:var(--brand-soft);color:var(--brand);
font-size:12px;font-weight:600}
.pill.ok{background:var(--ok-soft);color:var(--ok)}.pill.warn{background:#fdeee4;color:var(--warn)}
.chart svg{width:100%;height:auto;display:block}
.legend{display:flex;gap:16px;color:var(--muted);font-size:12px;margin:-6px 0 8px}
.legend span:before{content:"";display:inline-block;width:10px;height:10px;border-radius:3px;margin-right:6px;
vertical-align:-1px;background:var(--c)}
form.search{display:flex;gap:8px;margin-bottom:16px}
input[type=text],input[type=password],input[type=search]{font:inherit;padding:9px 12px;border:1px solid var(--line);
border-radius:8px;background:#fff;min-width:0}
input:focus{outline:2px solid var(--brand-soft);border-color:var(--brand)}
button{font:inherit;font-weight:600;padding:9px 16px;border:0;border-radius:8px;background:var(--brand);color:#fff;cursor:pointer}
button:hover{background:#4848c4}
.id{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;word-break:break-all}
dl.facts{display:grid;grid-template-columns:auto 1fr;gap:6px 18px;margin:0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;font-variant-numeric:tabular-nums}
.bar{height:8px;border-radius:4px;background:var(--brand-soft);overflow:hidden;min-width:80px}
.bar i{display:block;height:100%;background:var(--brand)}
.aff td{border:0;padding:4px 6px}
.timeline{list-style:none;margin:0;padding:0}
.timeline li{display:grid;grid-template-columns:170px 1fr;gap:12px;padding:9px 0;border-bottom:1px solid var(--line)}
.timeline li:last-child{border-bottom:0}
.timeline .ev{font-weight:600}.timeline .props{color:var(--muted);font-size:13px}
.login{max-width:380px;margin:9vh auto}
.login .card{padding:28px}
.login label{display:block;font-weight:600;margin:14px 0 6px}
.login input{width:100%}.login button{width:100%;margin-top:20px;padding:11px}
.error{background:#fdeee4;color:var(--warn);border-radius:8px;padding:9px 12px;margin-top:14px}
.back{display:inline-block;margin-bottom:10px}
@media (max-width:900px){.kpis{grid-template-columns:repeat(2,1fr)}.two{grid-template-columns:1fr}}
"#;

/// A complete HTML document with the dashboard's styles.
pub fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\">\
         <title>{} · Affinity</title><style>{CSS}</style></head><body>{body}</body></html>",
        esc(title)
    )
}

/// A signed-in page: header (logo, navigation, shop name, sign-out) and `content`.
pub fn page(shop_name: &str, nav: Nav, title: &str, content: &str) -> String {
    let link = |href: &str, label: &str, id: &str, active: bool| {
        format!(
            "<a href=\"{href}\" id=\"{id}\"{}>{label}</a>",
            if active { " class=\"active\"" } else { "" }
        )
    };
    let mut body = String::new();
    let _ = write!(
        body,
        "<header class=\"top\"><div class=\"in\"><a class=\"logo\" href=\"/dashboard\"><i></i>Affinity</a>\
         <nav class=\"main\">{}{}{}{}</nav>\
         <span class=\"shop\" id=\"shop-name\">Shop: <b>{}</b></span>\
         <a class=\"signout\" id=\"sign-out\" href=\"/dashboard/logout\">Sign out</a></div></header>\
         <main>{content}</main>",
        link("/dashboard", "Overview", "nav-overview", nav == Nav::Overview),
        link(
            "/dashboard/customers",
            "Customers",
            "nav-customers",
            nav == Nav::Customers
        ),
        link(
            "/dashboard/segments",
            "Segments",
            "nav-segments",
            nav == Nav::Segments
        ),
        link(
            "/dashboard/recommendations",
            "Recommendations",
            "nav-recommendations",
            nav == Nav::Recommendations
        ),
        esc(shop_name),
    );
    document(title, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_dangerous() {
        assert_eq!(
            esc(r#"<script>alert("x&'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&amp;&#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(esc("plain ü"), "plain ü");
    }

    #[test]
    fn numbers() {
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
    fn page_escapes_shop_name() {
        let html = page("<b>x</b>", Nav::Customers, "T", "<p>c</p>");
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;"));
        assert!(html.contains("id=\"nav-customers\" class=\"active\""));
        assert!(html.contains("<p>c</p>"));
    }
}
