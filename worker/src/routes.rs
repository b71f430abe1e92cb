//! Which handler a request goes to, and small URL helpers. Pure; the handlers are in
//! `edge`.

/// Something the Worker answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `OPTIONS /v1/*`: CORS preflight.
    Preflight,
    /// `POST /v1/batch`: a Segment batch.
    Batch,
    /// `POST /v1/track|page|identify|alias|screen|group`: one Segment call of that type.
    Single(&'static str),
    /// `GET /v1/config`: the shop's plugin configuration.
    Config,
    /// `GET /v1/model`: the latest item model.
    Model,
    /// `GET /v1/model/<version>`: one version of the item model (immutable).
    ModelVersion(String),
    /// `POST /v1/admin/model/rebuild?shop=`: rebuild the item model now (admin).
    AdminRebuild,
    /// `POST /v1/admin/settings?shop=`: change the shop's model settings (admin).
    AdminSettings,
    /// `GET /v1/profile/<customer id>`: a customer's profile (admin).
    Profile(String),
    /// `GET /affinity.js`, `/affinity_core.js`, `/affinity_core_bg.wasm`: the plugin files.
    PluginFile(&'static str),
    /// `GET /dashboard`: the overview.
    Overview,
    /// `GET /dashboard/login`: the sign-in page.
    LoginPage,
    /// `POST /dashboard/login`: signing in.
    Login,
    /// `GET|POST /dashboard/logout`.
    Logout,
    /// `GET /dashboard/customers`: the customer list.
    Customers,
    /// `GET /dashboard/customers/<id>`: one customer.
    Customer(String),
    /// `GET /dashboard/recommendations`: recommendation performance and the model.
    Recommendations,
    /// `POST /dashboard/recommendations/rebuild`: the "Rebuild now" button.
    RebuildNow,
    /// `/dashboard/segments…`: the segment list, editor, validation and preview.
    Segments(crate::segments::pages::SegmentRoute),
    /// A known path with the wrong method.
    MethodNotAllowed,
    /// Anything else under the Worker's paths.
    NotFound,
}

const PLUGIN_FILES: [&str; 3] = ["affinity.js", "affinity_core.js", "affinity_core_bg.wasm"];
const SINGLE_CALLS: [&str; 6] = ["track", "page", "identify", "alias", "screen", "group"];

/// Routes a request by method and (still percent-encoded) path.
pub fn route(method: &str, path: &str) -> Route {
    let get = method == "GET" || method == "HEAD";
    let post = method == "POST";
    if path.starts_with("/v1/") && method == "OPTIONS" {
        return Route::Preflight;
    }
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let only = |ok: bool, r: Route| if ok { r } else { Route::MethodNotAllowed };
    if let Some(file) = path.strip_prefix('/') {
        if let Some(f) = PLUGIN_FILES.iter().find(|f| **f == file) {
            return only(get, Route::PluginFile(f));
        }
    }
    if let Some(rest) = path.strip_prefix("/v1/") {
        if rest == "batch" || rest == "import" {
            return only(post, Route::Batch);
        }
        if let Some(call) = SINGLE_CALLS.iter().find(|c| **c == rest) {
            return only(post, Route::Single(call));
        }
        return match rest {
            "config" => only(get, Route::Config),
            "model" => only(get, Route::Model),
            "admin/model/rebuild" => only(post, Route::AdminRebuild),
            "admin/settings" => only(post, Route::AdminSettings),
            _ if rest.starts_with("model/") => match rest.strip_prefix("model/") {
                Some(v) if !v.is_empty() && !v.contains('/') => {
                    only(get, Route::ModelVersion(percent_decode(v)))
                }
                _ => Route::NotFound,
            },
            _ => match rest.strip_prefix("profile/") {
                Some(id) if !id.is_empty() && !id.contains('/') => {
                    only(get, Route::Profile(percent_decode(id)))
                }
                _ => Route::NotFound,
            },
        };
    }
    if let Some(rest) = path.strip_prefix("/dashboard/segments") {
        if rest.is_empty() || rest.starts_with('/') {
            return crate::segments::pages::route(method, rest)
                .map_or(Route::NotFound, Route::Segments);
        }
    }
    match path {
        "/dashboard" => only(get, Route::Overview),
        "/dashboard/login" if post => Route::Login,
        "/dashboard/login" => only(get, Route::LoginPage),
        "/dashboard/logout" => only(get || post, Route::Logout),
        "/dashboard/customers" => only(get, Route::Customers),
        "/dashboard/recommendations" => only(get, Route::Recommendations),
        "/dashboard/recommendations/rebuild" => only(post, Route::RebuildNow),
        _ => match path.strip_prefix("/dashboard/customers/") {
            Some(id) if !id.is_empty() && !id.contains('/') => {
                only(get, Route::Customer(percent_decode(id)))
            }
            _ => Route::NotFound,
        },
    }
}

/// Decodes `%XX` escapes (invalid ones are kept as they are; invalid UTF-8 is replaced).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let v = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(v as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes a path segment or query value: everything but unreserved characters is `%XX`.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes an `application/x-www-form-urlencoded` body or query string into pairs.
pub fn parse_form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| percent_decode(&s.replace('+', " "));
            (dec(k), dec(v))
        })
        .collect()
}

/// The first value of `key` in a query string or form body.
pub fn form_value(pairs: &[(String, String)], key: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

/// The `Content-Type` and `Cache-Control` of a plugin file.
pub fn plugin_file_headers(file: &str) -> (&'static str, &'static str) {
    if file.ends_with(".wasm") {
        ("application/wasm", "public, max-age=3600")
    } else if file == "affinity.js" {
        // The loader is the one URL shops embed: keep it short-lived so fixes roll out fast.
        ("text/javascript; charset=utf-8", "public, max-age=300")
    } else {
        ("text/javascript; charset=utf-8", "public, max-age=3600")
    }
}

/// True if an `If-None-Match` header value matches the entity tag `etag` (quoted or weak forms).
pub fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let bare = etag.trim_matches('"');
    if_none_match.split(',').any(|t| {
        let t = t.trim();
        t == "*" || t.trim_start_matches("W/").trim_matches('"') == bare
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_api() {
        assert_eq!(route("POST", "/v1/batch"), Route::Batch);
        assert_eq!(route("POST", "/v1/batch/"), Route::Batch);
        assert_eq!(route("GET", "/v1/batch"), Route::MethodNotAllowed);
        assert_eq!(route("OPTIONS", "/v1/batch"), Route::Preflight);
        assert_eq!(route("POST", "/v1/track"), Route::Single("track"));
        assert_eq!(route("POST", "/v1/identify"), Route::Single("identify"));
        assert_eq!(route("GET", "/v1/config"), Route::Config);
        assert_eq!(route("GET", "/v1/model"), Route::Model);
        assert_eq!(
            route("GET", "/v1/model/abc123"),
            Route::ModelVersion("abc123".into())
        );
        assert_eq!(route("GET", "/v1/model/a/b"), Route::NotFound);
        assert_eq!(
            route("POST", "/v1/admin/model/rebuild"),
            Route::AdminRebuild
        );
        assert_eq!(
            route("GET", "/v1/admin/model/rebuild"),
            Route::MethodNotAllowed
        );
        assert_eq!(route("POST", "/v1/admin/settings"), Route::AdminSettings);
        assert_eq!(
            route("GET", "/dashboard/recommendations"),
            Route::Recommendations
        );
        assert_eq!(
            route("POST", "/dashboard/recommendations/rebuild"),
            Route::RebuildNow
        );
        assert_eq!(
            route("GET", "/v1/profile/user%40x.com"),
            Route::Profile("user@x.com".into())
        );
        assert_eq!(route("GET", "/v1/profile/"), Route::NotFound);
        assert_eq!(route("GET", "/v1/nope"), Route::NotFound);
    }

    #[test]
    fn routes_files_and_dashboard() {
        assert_eq!(
            route("GET", "/affinity_core_bg.wasm"),
            Route::PluginFile("affinity_core_bg.wasm")
        );
        assert_eq!(route("POST", "/affinity.js"), Route::MethodNotAllowed);
        assert_eq!(route("GET", "/dashboard"), Route::Overview);
        assert_eq!(route("GET", "/dashboard/"), Route::Overview);
        assert_eq!(route("GET", "/dashboard/login"), Route::LoginPage);
        assert_eq!(route("POST", "/dashboard/login"), Route::Login);
        assert_eq!(route("POST", "/dashboard/logout"), Route::Logout);
        assert_eq!(route("GET", "/dashboard/customers"), Route::Customers);
        assert_eq!(
            route("GET", "/dashboard/customers/anon%20one"),
            Route::Customer("anon one".into())
        );
        assert_eq!(route("GET", "/dashboard/customers/a/b"), Route::NotFound);
        assert_eq!(route("GET", "/dashboard/x"), Route::NotFound);
        assert_eq!(route("DELETE", "/dashboard"), Route::MethodNotAllowed);
    }

    #[test]
    fn percent_coding() {
        assert_eq!(percent_decode("a%20b%2Fc%zz%4"), "a b/c%zz%4");
        assert_eq!(percent_decode("%C3%A9"), "é");
        assert_eq!(percent_encode("a b/é"), "a%20b%2F%C3%A9");
        for s in ["user@example.com", "x y z", "ü/ä?&="] {
            assert_eq!(percent_decode(&percent_encode(s)), s);
        }
    }

    #[test]
    fn forms() {
        let pairs = parse_form("shop=demo&secret=a+b%26c&empty=&flag");
        assert_eq!(form_value(&pairs, "shop").as_deref(), Some("demo"));
        assert_eq!(form_value(&pairs, "secret").as_deref(), Some("a b&c"));
        assert_eq!(form_value(&pairs, "empty").as_deref(), Some(""));
        assert_eq!(form_value(&pairs, "flag").as_deref(), Some(""));
        assert_eq!(form_value(&pairs, "missing"), None);
    }

    #[test]
    fn plugin_headers() {
        assert_eq!(
            plugin_file_headers("affinity_core_bg.wasm").0,
            "application/wasm"
        );
        assert!(plugin_file_headers("affinity.js").1.contains("max-age=300"));
        assert!(plugin_file_headers("affinity_core.js")
            .1
            .contains("max-age=3600"));
    }

    #[test]
    fn etags() {
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("W/\"abc\", \"x\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
    }
}
