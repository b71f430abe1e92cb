//! The request context and everything a handler needs from the runtime: the request's parts,
//! responses, auth guards, D1, KV and the customer Durable Objects.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;

use wasm_bindgen::JsValue;
use worker::{D1Database, Env, Headers, Method, Request, RequestInit, Response};

use super::auth;
use super::d1;
use super::http::{form_value, parse_form};
use super::store::shops::{self, Shop};
use super::{customer_object_name, Error, Result, SHOP_CACHE_MS};

/// The current time, Unix ms.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// One request with its environment.
pub struct Ctx {
    /// The request.
    pub req: Request,
    /// Bindings, vars and secrets.
    pub env: Env,
    /// The invocation (for work after the response).
    pub ctx: worker::Context,
    /// When the request arrived, Unix ms.
    pub now: i64,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("path", &self.req.path())
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

thread_local! {
    static SHOP_CACHE: RefCell<HashMap<String, (Shop, i64)>> = RefCell::new(HashMap::new());
}

impl Ctx {
    /// The D1 database.
    pub fn db(&self) -> Result<D1Database> {
        Ok(self.env.d1("DB")?)
    }

    /// A request header.
    pub fn header(&self, name: &str) -> Option<String> {
        self.req.headers().get(name).ok().flatten()
    }

    /// The encodings the client accepts. Cloudflare replaces the request's `Accept-Encoding` with
    /// what its own edge accepts (`wrangler dev` does the same: `br, gzip` whatever the client
    /// sent) and keeps the client's value in `request.cf.clientAcceptEncoding`; that is read
    /// first, the header only where it is absent.
    pub fn client_accept_encoding(&self) -> Option<String> {
        let cf = js_sys::Reflect::get(self.req.inner(), &JsValue::from_str("cf")).ok();
        cf.filter(|cf| cf.is_object())
            .and_then(|cf| {
                js_sys::Reflect::get(&cf, &JsValue::from_str("clientAcceptEncoding")).ok()
            })
            .and_then(|v| v.as_string())
            .or_else(|| self.header("Accept-Encoding"))
    }

    /// The decoded query string pairs.
    pub fn query(&self) -> Vec<(String, String)> {
        self.req
            .url()
            .ok()
            .and_then(|u| u.query().map(parse_form))
            .unwrap_or_default()
    }

    /// A query parameter.
    pub fn param(&self, key: &str) -> Option<String> {
        form_value(&self.query(), key)
    }

    /// The body as UTF-8 text; a body that cannot be read is a 400, never an empty string.
    pub async fn text(&mut self) -> Result<String> {
        let bytes = self
            .req
            .bytes()
            .await
            .map_err(|e| Error::bad_request(format!("the body could not be read: {e}")))?;
        String::from_utf8(bytes).map_err(|_| Error::bad_request("the body is not UTF-8 text"))
    }

    /// The decoded form body of a POST.
    pub async fn form(&mut self) -> Result<Vec<(String, String)>> {
        Ok(parse_form(&self.text().await?))
    }

    /// Runs `work` after the response is sent (within the invocation's limits).
    pub fn after_response(&self, work: impl Future<Output = ()> + 'static) {
        self.ctx.wait_until(work);
    }

    /// The shop a public write key belongs to (cached per isolate for a minute), or 401.
    pub async fn shop_for_key(&self, key: &str) -> Result<Shop> {
        let now = self.now;
        let cached = SHOP_CACHE.with(|c| {
            c.borrow()
                .get(key)
                .filter(|(_, at)| now - at < SHOP_CACHE_MS)
                .map(|(s, _)| s.clone())
        });
        if let Some(shop) = cached {
            return Ok(shop);
        }
        let shop = d1::first(&self.db()?, &shops::by_key(key, now))
            .await?
            .ok_or_else(|| Error::unauthorized("unknown write key"))?;
        SHOP_CACHE.with(|c| c.borrow_mut().insert(key.to_string(), (shop.clone(), now)));
        Ok(shop)
    }

    /// The shop of the `?key=` write key (config and model requests), or 401.
    pub async fn shop_from_key_param(&self) -> Result<(Shop, String)> {
        let key = self.param("key").filter(|k| !k.is_empty()).ok_or_else(|| {
            Error::unauthorized("the `key` query parameter (write key) is required")
        })?;
        Ok((self.shop_for_key(&key).await?, key))
    }

    /// The shop named by `?shop=` if the request carries its admin secret as
    /// `Authorization: Bearer <secret>`; else 401. There is no default shop.
    pub async fn admin_shop(&self) -> Result<Shop> {
        let denied = || {
            Error::unauthorized(
                "an admin secret is required: ?shop=<id> and Authorization: Bearer <secret>",
            )
        };
        let shop_id = self.param("shop").ok_or_else(denied)?;
        let token = self.header("Authorization").ok_or_else(denied)?;
        let token = auth::bearer_token(&token).ok_or_else(denied)?;
        if !auth::valid_shop_id(&shop_id) {
            return Err(denied());
        }
        match d1::first(&self.db()?, &shops::by_id(&shop_id)).await? {
            Some(s) if auth::secret_matches(&s.id, token, &s.admin_hash) => Ok(s),
            _ => Err(denied()),
        }
    }

    /// Passes when the request carries the deployment's operator secret
    /// (`Authorization: Bearer <OPERATOR_SECRET>`, a wrangler secret); else 401. With no secret
    /// configured the operator API is closed.
    pub fn operator(&self) -> Result<()> {
        let denied = || {
            Error::unauthorized("the operator secret is required: Authorization: Bearer <secret>")
        };
        let secret = self
            .env
            .secret("OPERATOR_SECRET")
            .map(|s| s.to_string())
            .ok()
            .filter(|s| !s.is_empty())
            .ok_or_else(denied)?;
        let token = self.header("Authorization").ok_or_else(denied)?;
        let token = auth::bearer_token(&token).ok_or_else(denied)?;
        if auth::constant_time_eq(token.as_bytes(), secret.as_bytes()) {
            Ok(())
        } else {
            Err(denied())
        }
    }

    /// The signed-in shop, if the session cookie is valid.
    pub async fn session(&self) -> Result<Option<Shop>> {
        let Some(cookies) = self.header("Cookie") else {
            return Ok(None);
        };
        let Some(value) = auth::cookie(&cookies, auth::COOKIE_NAME) else {
            return Ok(None);
        };
        let Some(shop_id) = auth::session_shop(value) else {
            return Ok(None);
        };
        let Some(shop) = d1::first(&self.db()?, &shops::by_id(shop_id)).await? else {
            return Ok(None);
        };
        Ok(auth::verify_session(value, &shop.admin_hash, self.now)
            .is_some()
            .then_some(shop))
    }

    /// The signed-in shop, or a redirect to the sign-in page.
    pub async fn signed_in(&self) -> Result<Shop> {
        self.session()
            .await?
            .ok_or_else(|| Error::Redirect("/dashboard/login".into()))
    }
}

/// Forgets the cached write-key lookups of a shop in this isolate (after a rotation or a
/// deletion; other isolates follow within [`SHOP_CACHE_MS`]).
pub fn forget_shop(shop: &str) {
    SHOP_CACHE.with(|c| c.borrow_mut().retain(|_, (s, _)| s.id != shop));
}

/// 24 random bytes from the platform's generator.
pub fn random_bytes() -> Result<[u8; 24]> {
    let mut buf = [0u8; 24];
    getrandom::fill(&mut buf).map_err(|e| Error::Runtime(format!("random: {e}")))?;
    Ok(buf)
}

/// A JSON response.
pub fn json(status: u16, body: &str) -> Result<Response> {
    let headers = Headers::new();
    headers.set("Content-Type", "application/json; charset=utf-8")?;
    Ok(Response::ok(body)?
        .with_status(status)
        .with_headers(headers))
}

/// A JSON response that no cache keeps.
pub fn json_no_store(status: u16, body: &str) -> Result<Response> {
    let mut resp = json(status, body)?;
    resp.headers_mut().set("Cache-Control", "no-store")?;
    Ok(resp)
}

/// A JSON error response `{"error": message}`.
pub fn json_error(status: u16, message: &str) -> Result<Response> {
    json(status, &serde_json::json!({ "error": message }).to_string())
}

/// The dashboard's strict Content-Security-Policy.
pub const DASHBOARD_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; \
    img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// An HTML page with the dashboard's security headers.
pub fn html(status: u16, html: String) -> Result<Response> {
    let headers = Headers::new();
    headers.set("Content-Type", "text/html; charset=utf-8")?;
    headers.set("Cache-Control", "no-store")?;
    headers.set("X-Frame-Options", "DENY")?;
    headers.set("Referrer-Policy", "same-origin")?;
    headers.set("Content-Security-Policy", DASHBOARD_CSP)?;
    Ok(Response::from_html(html)?
        .with_status(status)
        .with_headers(headers))
}

/// A CSV download (`filename`: letters, digits, `-`, `_`, `.` only).
pub fn csv(filename: &str, body: String) -> Result<Response> {
    let name: String = filename
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    let headers = Headers::new();
    headers.set("Content-Type", "text/csv; charset=utf-8")?;
    headers.set("Cache-Control", "no-store")?;
    headers.set("X-Content-Type-Options", "nosniff")?;
    headers.set(
        "Content-Disposition",
        &format!("attachment; filename=\"{name}\""),
    )?;
    Ok(Response::ok(body)?.with_headers(headers))
}

/// A `303 See Other`, optionally setting a cookie.
pub fn redirect(location: &str, cookie: Option<&str>) -> Result<Response> {
    let headers = Headers::new();
    headers.set("Location", location)?;
    headers.set("Cache-Control", "no-store")?;
    if let Some(c) = cookie {
        headers.set("Set-Cookie", c)?;
    }
    Ok(Response::empty()?.with_status(303).with_headers(headers))
}

/// Adds the CORS headers of the public API.
pub fn with_cors(origin: Option<String>, mut resp: Response) -> Result<Response> {
    let origin = origin.unwrap_or_else(|| "*".into());
    let h = resp.headers_mut();
    h.set("Access-Control-Allow-Origin", &origin)?;
    h.set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")?;
    h.set(
        "Access-Control-Allow-Headers",
        "content-type, authorization",
    )?;
    h.set("Access-Control-Max-Age", "86400")?;
    h.append("Vary", "Origin")?;
    Ok(resp)
}

/// Calls a customer's Durable Object: `path` with an optional JSON body (`POST` when given).
pub async fn call_customer(
    env: &Env,
    shop: &str,
    customer: &str,
    path: &str,
    body: Option<&str>,
) -> Result<Response> {
    let stub = env
        .durable_object("CUSTOMER")?
        .id_from_name(&customer_object_name(shop, customer))?
        .get_stub()?;
    let mut init = RequestInit::new();
    if let Some(body) = body {
        init.with_method(Method::Post)
            .with_body(Some(JsValue::from_str(body)));
    }
    let req = Request::new_with_init(&format!("https://customer{path}"), &init)?;
    Ok(stub.fetch_with_request(req).await?)
}
