//! The Worker's fetch handler: ingest, config and model, the profile API, plugin files and the
//! dashboard. Routing is [`crate::routes::route`]; logic that needs no runtime lives in the pure
//! modules.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use affinity::event::{parse_batch, MAX_BATCH_BYTES};
use affinity::json::Value;
use affinity::profile::Profile;
use wasm_bindgen::JsValue;
use worker::{
    event, Context, D1Database, Env, Headers, Method, Request, RequestInit, Response, Result,
};

use crate::analytics::d1::{self, Shop};
use crate::auth;
use crate::dashboard::{self, Overview, TimelineEntry};
use crate::ingest::{self, ItemError, Outcome};
use crate::model;
use crate::recs_edge;
use crate::routes::{self, form_value, parse_form, Route};

/// The current time, Unix ms.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// A JSON response.
pub fn json_response(status: u16, body: &str) -> Result<Response> {
    let headers = Headers::new();
    headers.set("Content-Type", "application/json; charset=utf-8")?;
    Ok(Response::ok(body)?
        .with_status(status)
        .with_headers(headers))
}

/// A JSON error response `{"error": message}`.
pub fn json_error(status: u16, message: &str) -> Result<Response> {
    json_response(status, &serde_json::json!({ "error": message }).to_string())
}

thread_local! {
    static READY: Cell<bool> = const { Cell::new(false) };
    static SHOP_CACHE: RefCell<HashMap<String, (Shop, i64)>> = RefCell::new(HashMap::new());
}

/// How long a write key → shop lookup is cached per isolate.
const SHOP_CACHE_MS: i64 = 60_000;

pub(crate) fn db(env: &Env) -> Result<D1Database> {
    env.d1("DB")
}

/// Once per isolate: apply D1 migrations and make sure the demo shop exists with the configured
/// write key and admin secret.
pub(crate) async fn ensure_ready(env: &Env) -> Result<()> {
    if READY.with(Cell::get) {
        return Ok(());
    }
    let db = db(env)?;
    d1::migrate(&db).await?;
    let id = env
        .var("DEMO_SHOP_ID")
        .map(|v| v.to_string())
        .unwrap_or_else(|_| "demo".into());
    if let Ok(key) = env.var("DEMO_WRITE_KEY").map(|v| v.to_string()) {
        let admin_hash = match env.secret("ADMIN_SECRET") {
            Ok(s) => auth::admin_hash(&id, &s.to_string()),
            Err(_) => {
                worker::console_error!("ADMIN_SECRET is not set: the dashboard stays locked");
                String::new()
            }
        };
        let name = env
            .var("DEMO_SHOP_NAME")
            .map(|v| v.to_string())
            .unwrap_or_else(|_| "Demo Shop".into());
        let shop = Shop {
            id,
            name,
            write_key: key,
            admin_hash,
        };
        d1::upsert_shop(&db, &shop, now_ms()).await?;
        crate::segments_edge::ensure_defaults(&db, &shop.id).await?;
    }
    READY.with(|r| r.set(true));
    Ok(())
}

async fn shop_for_key(env: &Env, key: &str) -> Result<Option<Shop>> {
    let now = now_ms();
    let cached = SHOP_CACHE.with(|c| {
        c.borrow()
            .get(key)
            .filter(|(_, at)| now - at < SHOP_CACHE_MS)
            .map(|(s, _)| s.clone())
    });
    if cached.is_some() {
        return Ok(cached);
    }
    let shop = d1::shop_by_key(&db(env)?, key).await?;
    if let Some(s) = &shop {
        SHOP_CACHE.with(|c| c.borrow_mut().insert(key.to_string(), (s.clone(), now)));
    }
    Ok(shop)
}

pub(crate) fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

pub(crate) fn query(req: &Request) -> Vec<(String, String)> {
    req.url()
        .ok()
        .and_then(|u| u.query().map(parse_form))
        .unwrap_or_default()
}

/// Adds the CORS headers of the public API.
fn with_cors(req: &Request, mut resp: Response) -> Result<Response> {
    let origin = header(req, "Origin").unwrap_or_else(|| "*".into());
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

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let path = req.path();
    let route = routes::route(req.method().as_ref(), &path);
    let api = path.starts_with("/v1/");
    let result = handle(route, req.clone()?, &env).await;
    let resp = match result {
        Ok(r) => r,
        Err(e) => {
            worker::console_error!("{path}: {e}");
            if api {
                json_error(500, "internal error; please retry")?
            } else {
                Response::error("Internal error", 500)?
            }
        }
    };
    if api {
        with_cors(&req, resp)
    } else {
        Ok(resp)
    }
}

async fn handle(route: Route, req: Request, env: &Env) -> Result<Response> {
    match route {
        Route::Preflight => Ok(Response::empty()?.with_status(204)),
        Route::PluginFile(file) => plugin_file(req, env, file).await,
        Route::MethodNotAllowed => json_error(405, "method not allowed"),
        Route::NotFound => json_error(404, "not found"),
        route => {
            ensure_ready(env).await?;
            match route {
                Route::Batch => batch(req, env, None).await,
                Route::Single(call) => batch(req, env, Some(call)).await,
                Route::Config => recs_edge::config(req, env).await,
                Route::Model => recs_edge::model_latest(req, env).await,
                Route::ModelVersion(v) => recs_edge::model_version(req, env, &v).await,
                Route::AdminRebuild => recs_edge::admin_rebuild(req, env).await,
                Route::AdminSettings => recs_edge::admin_settings(req, env).await,
                Route::Recommendations => recs_edge::recommendations(req, env).await,
                Route::RebuildNow => recs_edge::rebuild_now(req, env).await,
                Route::Profile(id) => profile_api(req, env, &id).await,
                Route::LoginPage => login_page(req, env).await,
                Route::Login => login(req, env).await,
                Route::Logout => logout(),
                Route::Overview => overview(req, env).await,
                Route::Customers => customers(req, env).await,
                Route::Customer(id) => customer(req, env, &id).await,
                Route::Segments(r) => crate::segments_edge::handle(r, req, env).await,
                _ => json_error(404, "not found"),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Ingest

async fn batch(mut req: Request, env: &Env, call: Option<&'static str>) -> Result<Response> {
    let too_large = || {
        json_error(
            413,
            &format!("the body is larger than the {MAX_BATCH_BYTES}-byte limit"),
        )
    };
    if header(&req, "Content-Length")
        .and_then(|l| l.parse::<usize>().ok())
        .is_some_and(|l| l > MAX_BATCH_BYTES)
    {
        return too_large();
    }
    let bytes = req.bytes().await?;
    if bytes.len() > MAX_BATCH_BYTES {
        return too_large();
    }
    let Ok(mut body) = String::from_utf8(bytes) else {
        return json_error(400, "the body is not UTF-8 text");
    };
    if let Some(call) = call {
        body = match ingest::single_to_batch(&body, call) {
            Ok(b) => b,
            Err(e) => return json_error(400, e.message()),
        };
    }
    let now = now_ms();
    let (envelope, items) = match parse_batch(&body, now) {
        Ok(parsed) => parsed,
        Err(e) if e.is_too_large() => return json_error(413, e.message()),
        Err(e) => return json_error(400, e.message()),
    };
    let key = envelope
        .get_str("writeKey")
        .map(str::to_string)
        .or_else(|| header(&req, "Authorization").and_then(|h| auth::basic_write_key(&h)));
    let Some(key) = key else {
        return json_error(
            401,
            "a write key is required (`writeKey` in the body or HTTP Basic auth)",
        );
    };
    let Some(shop) = shop_for_key(env, &key).await? else {
        return json_error(401, "unknown write key");
    };
    let mut outcome = Outcome::default();
    let mut valid = Vec::new();
    let mut failed = Vec::new();
    let mut index_of: HashMap<String, usize> = HashMap::new();
    for item in items {
        match item.result {
            Ok(e) => {
                index_of.entry(e.message_id.clone()).or_insert(item.index);
                valid.push(e);
            }
            Err(e) => failed.push((item.index, e.message().to_string())),
        }
    }
    if !failed.is_empty() {
        let ids = ingest::message_ids(&body);
        outcome.errors = failed
            .into_iter()
            .map(|(index, error)| ItemError {
                index,
                message_id: ids.get(index).cloned().flatten(),
                error,
            })
            .collect();
    }
    if valid.is_empty() {
        return respond_outcome(&outcome);
    }
    let db = db(env)?;
    let links = ingest::links_in(&valid);
    let lookup: Vec<String> = ingest::anonymous_ids_to_resolve(&valid)
        .into_iter()
        .filter(|a| !links.iter().any(|(l, _)| l == a))
        .collect();
    let known: HashMap<String, String> = if lookup.is_empty() {
        HashMap::new()
    } else {
        d1::resolve_identities(&db, &shop.id, &lookup)
            .await?
            .into_iter()
            .collect()
    };
    if !links.is_empty() {
        d1::link_identities(&db, &shop.id, &links, now).await?;
    }
    let namespace = env.durable_object("CUSTOMER")?;
    let groups = ingest::group_by_customer(valid, &known);
    let calls = groups
        .iter()
        .map(|group| apply_group(&namespace, &shop.id, group));
    let answers = futures_util::future::join_all(calls).await;
    let mut unavailable = false;
    for (group, answer) in groups.iter().zip(answers) {
        match answer {
            Some((applied, duplicates)) => {
                outcome.accepted += applied;
                outcome.duplicates += duplicates;
            }
            None => {
                unavailable = true;
                for e in &group.events {
                    outcome.errors.push(ItemError {
                        index: index_of.get(&e.message_id).copied().unwrap_or(0),
                        message_id: Some(e.message_id.clone()),
                        error: "temporarily unavailable; retry the batch (delivery is idempotent)"
                            .into(),
                    });
                }
            }
        }
    }
    if unavailable {
        return json_response(
            503,
            &serde_json::to_string(&outcome).unwrap_or_else(|_| "{}".into()),
        );
    }
    respond_outcome(&outcome)
}

/// Sends one customer's events to its Durable Object; `(applied, duplicates)`, or `None` when
/// the object could not be reached or refused them (logged).
async fn apply_group(
    namespace: &worker::ObjectNamespace,
    shop: &str,
    group: &ingest::Group,
) -> Option<(usize, usize)> {
    let mut body = Value::object();
    body.set("shop", shop.into());
    body.set("customer", group.customer.as_str().into());
    body.set(
        "events",
        Value::Array(group.events.iter().map(|e| e.to_json()).collect()),
    );
    let call = async {
        let stub = namespace
            .id_from_name(&format!("{shop}:{}", group.customer))?
            .get_stub()?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_body(Some(JsValue::from_str(&body.to_json())));
        stub.fetch_with_request(Request::new_with_init("https://customer/apply", &init)?)
            .await
    };
    match call.await {
        Ok(mut r) if r.status_code() == 200 => {
            let a = r.json::<serde_json::Value>().await.ok()?;
            Some((
                a["applied"].as_u64().unwrap_or(0) as usize,
                a["duplicates"].as_u64().unwrap_or(0) as usize,
            ))
        }
        Ok(mut r) => {
            let text = r.text().await.unwrap_or_default();
            worker::console_error!("customer {}: {} {text}", group.customer, r.status_code());
            None
        }
        Err(e) => {
            worker::console_error!("customer {}: {e}", group.customer);
            None
        }
    }
}

fn respond_outcome(outcome: &Outcome) -> Result<Response> {
    let body = serde_json::to_string(outcome).unwrap_or_else(|_| "{}".into());
    json_response(outcome.status(), &body)
}

// ---------------------------------------------------------------------------------------------
// Config and model (handlers in `recs_edge`)

pub(crate) async fn shop_from_query(
    req: &Request,
    env: &Env,
) -> Result<std::result::Result<(Shop, String), Response>> {
    let Some(key) = form_value(&query(req), "key").filter(|k| !k.is_empty()) else {
        return Ok(Err(json_error(
            401,
            "the `key` query parameter (write key) is required",
        )?));
    };
    match shop_for_key(env, &key).await? {
        Some(shop) => Ok(Ok((shop, key))),
        None => Ok(Err(json_error(401, "unknown write key")?)),
    }
}

// ---------------------------------------------------------------------------------------------
// Profile API and customer objects

async fn customer_call(env: &Env, shop: &str, customer: &str, path: &str) -> Result<Response> {
    let stub = env
        .durable_object("CUSTOMER")?
        .id_from_name(&format!("{shop}:{customer}"))?
        .get_stub()?;
    stub.fetch_with_str(&format!("https://customer{path}"))
        .await
}

/// The shop named by `?shop=` (default: the demo shop) if the request carries its admin secret
/// as `Authorization: Bearer <secret>`; else the 401 to answer.
pub(crate) async fn admin_shop(
    req: &Request,
    env: &Env,
) -> Result<std::result::Result<Shop, Response>> {
    let shop_id = form_value(&query(req), "shop").unwrap_or_else(|| {
        env.var("DEMO_SHOP_ID")
            .map(|v| v.to_string())
            .unwrap_or_else(|_| "demo".into())
    });
    let token = header(req, "Authorization");
    let token = token.as_deref().and_then(auth::bearer_token);
    let shop = if auth::valid_shop_id(&shop_id) {
        d1::shop_by_id(&db(env)?, &shop_id).await?
    } else {
        None
    };
    match (shop, token) {
        (Some(s), Some(t)) if auth::secret_matches(&s.id, t, &s.admin_hash) => Ok(Ok(s)),
        _ => {
            let mut resp = json_error(
                401,
                "an admin secret is required: Authorization: Bearer <secret>",
            )?;
            resp.headers_mut()
                .set("WWW-Authenticate", "Bearer realm=\"affinity\"")?;
            Ok(Err(resp))
        }
    }
}

async fn profile_api(req: Request, env: &Env, customer: &str) -> Result<Response> {
    let shop = match admin_shop(&req, env).await? {
        Ok(shop) => shop.id,
        Err(resp) => return Ok(resp),
    };
    let mut resp = customer_call(env, &shop, customer, "/profile").await?;
    let status = resp.status_code();
    let body = resp.text().await?;
    let mut out = json_response(status, &body)?;
    out.headers_mut().set("Cache-Control", "no-store")?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Plugin files

async fn plugin_file(req: Request, env: &Env, file: &str) -> Result<Response> {
    let url = req.url()?;
    let mut asset = env.assets("ASSETS")?.fetch(url.to_string(), None).await?;
    let status = asset.status_code();
    let (content_type, cache) = routes::plugin_file_headers(file);
    let headers = Headers::new();
    headers.set("Access-Control-Allow-Origin", "*")?;
    headers.set("Cross-Origin-Resource-Policy", "cross-origin")?;
    headers.set("X-Content-Type-Options", "nosniff")?;
    if status != 200 {
        headers.set("Content-Type", "text/plain; charset=utf-8")?;
        headers.set("Cache-Control", "no-store")?;
        return Ok(Response::ok(format!("{file} is not built"))?
            .with_status(if status == 304 { 404 } else { status.max(400) })
            .with_headers(headers));
    }
    if let Some(etag) = asset.headers().get("ETag")? {
        headers.set("ETag", &etag)?;
    }
    headers.set("Content-Type", content_type)?;
    headers.set("Cache-Control", cache)?;
    let bytes = asset.bytes().await?;
    Ok(Response::from_bytes(bytes)?.with_headers(headers))
}

// ---------------------------------------------------------------------------------------------
// Dashboard

pub(crate) fn html_response(status: u16, html: String) -> Result<Response> {
    let headers = Headers::new();
    headers.set("Content-Type", "text/html; charset=utf-8")?;
    headers.set("Cache-Control", "no-store")?;
    headers.set("X-Frame-Options", "DENY")?;
    headers.set("Referrer-Policy", "same-origin")?;
    headers.set(
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )?;
    Ok(Response::from_html(html)?
        .with_status(status)
        .with_headers(headers))
}

pub(crate) fn redirect(location: &str, cookie: Option<&str>) -> Result<Response> {
    let headers = Headers::new();
    headers.set("Location", location)?;
    headers.set("Cache-Control", "no-store")?;
    if let Some(c) = cookie {
        headers.set("Set-Cookie", c)?;
    }
    Ok(Response::empty()?.with_status(303).with_headers(headers))
}

/// The signed-in shop, if the session cookie is valid.
pub(crate) async fn session(req: &Request, env: &Env) -> Result<Option<Shop>> {
    let Some(cookies) = header(req, "Cookie") else {
        return Ok(None);
    };
    let Some(value) = auth::cookie(&cookies, auth::COOKIE_NAME) else {
        return Ok(None);
    };
    let Some(shop_id) = auth::session_shop(value) else {
        return Ok(None);
    };
    let Some(shop) = d1::shop_by_id(&db(env)?, shop_id).await? else {
        return Ok(None);
    };
    Ok(auth::verify_session(value, &shop.admin_hash, now_ms())
        .is_some()
        .then_some(shop))
}

fn default_shop(env: &Env) -> String {
    env.var("DEMO_SHOP_ID")
        .map(|v| v.to_string())
        .unwrap_or_else(|_| "demo".into())
}

async fn login_page(req: Request, env: &Env) -> Result<Response> {
    if session(&req, env).await?.is_some() {
        return redirect("/dashboard", None);
    }
    html_response(200, dashboard::login_page(&default_shop(env), None))
}

async fn login(mut req: Request, env: &Env) -> Result<Response> {
    let form = parse_form(&req.text().await.unwrap_or_default());
    let shop_id = form_value(&form, "shop")
        .unwrap_or_default()
        .trim()
        .to_string();
    let secret = form_value(&form, "secret").unwrap_or_default();
    let shop = if auth::valid_shop_id(&shop_id) {
        d1::shop_by_id(&db(env)?, &shop_id).await?
    } else {
        None
    };
    match shop {
        Some(s) if auth::secret_matches(&s.id, &secret, &s.admin_hash) => {
            let value = auth::sign_session(&s.admin_hash, &s.id, now_ms() + auth::SESSION_MS);
            let secure = req.url().map(|u| u.scheme() == "https").unwrap_or(false);
            redirect("/dashboard", Some(&auth::session_cookie(&value, secure)))
        }
        _ => html_response(
            401,
            dashboard::login_page(
                &shop_id,
                Some("That shop ID and admin secret do not match. Please try again."),
            ),
        ),
    }
}

fn logout() -> Result<Response> {
    redirect("/dashboard/login", Some(&auth::clear_cookie()))
}

async fn overview(req: Request, env: &Env) -> Result<Response> {
    let Some(shop) = session(&req, env).await? else {
        return redirect("/dashboard/login", None);
    };
    let db = db(env)?;
    let now = now_ms();
    let since = model::window_start(now);
    let data = Overview {
        kpis: d1::kpis(&db, &shop.id, &since).await?,
        days: dashboard::fill_days(&d1::days(&db, &shop.id, &since).await?, now),
        top_products: d1::top_products(&db, &shop.id, 8).await?,
        latest_orders: d1::latest_orders(&db, &shop.id, 8).await?,
        latest_customers: d1::customers(&db, &shop.id, "", 8).await?,
    };
    html_response(200, dashboard::overview_page(&shop.name, &data, now))
}

async fn customers(req: Request, env: &Env) -> Result<Response> {
    let Some(shop) = session(&req, env).await? else {
        return redirect("/dashboard/login", None);
    };
    let q = form_value(&query(&req), "q").unwrap_or_default();
    let q = q.trim();
    let rows = d1::customers(&db(env)?, &shop.id, q, 100).await?;
    html_response(
        200,
        dashboard::customers_page(&shop.name, q, &rows, now_ms()),
    )
}

async fn customer(req: Request, env: &Env, id: &str) -> Result<Response> {
    let Some(shop) = session(&req, env).await? else {
        return redirect("/dashboard/login", None);
    };
    let mut p = customer_call(env, &shop.id, id, "/profile").await?;
    if p.status_code() != 200 {
        return html_response(
            404,
            dashboard::not_found_page(&shop.name, &format!("No customer with id {id}.")),
        );
    }
    let text = p.text().await?;
    let segments_html = crate::segments_edge::customer_card(&text, now_ms());
    let profile = affinity::json::parse(&text)
        .ok()
        .and_then(|v| Profile::from_json(&v).ok())
        .unwrap_or_else(|| Profile::new(id));
    let mut t = customer_call(env, &shop.id, id, "/timeline?limit=100").await?;
    let timeline: Vec<TimelineEntry> = if t.status_code() == 200 {
        t.json().await.unwrap_or_default()
    } else {
        Vec::new()
    };
    html_response(
        200,
        dashboard::customer_page(&shop.name, &profile, &segments_html, &timeline, now_ms()),
    )
}
