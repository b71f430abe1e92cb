//! The operator API (`/v1/operator/*`, `Authorization: Bearer <OPERATOR_SECRET>`): create, list,
//! show, re-configure, rotate, export and delete shops.
//!
//! Deletion: the shop's keys, secret and sessions stop at once (`deleted_at`); each erase pass
//! (`POST …/delete`, again until it answers `"done": true`, and the cron) erases up to
//! [`ERASE_OBJECTS`] customer objects, then the shop's D1 rows and KV models; the shop's own row
//! goes last, once a pass finds nothing left at least [`QUIET_MS`] after the deletion (an object
//! delivers its last outbox entries within a second of its last event).

use serde_json::json;
use worker::{Env, Response};

use super::{credential, valid_write_key, Settings, KEY_GRACE_MS, TABLES};
use crate::platform::auth;
use crate::platform::d1;
use crate::platform::store::{shops, Stmt};
use crate::platform::web::{self, call_customer, forget_shop, random_bytes, Ctx};
use crate::platform::{model_prefix, Error, Result};

/// Customer objects erased per pass (each is one subrequest).
pub const ERASE_OBJECTS: usize = 40;

/// Rows deleted per statement in an erase pass.
const ERASE_ROWS: usize = 5_000;

/// A deleted shop's row stays until this long after its deletion with nothing left.
pub const QUIET_MS: i64 = 10_000;

/// Rows per export page.
const EXPORT_PAGE: usize = 500;

fn json_body(body: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
    let v: serde_json::Value = if body.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str(body)
            .map_err(|_| Error::bad_request("the body is not a JSON object"))?
    };
    match v {
        serde_json::Value::Object(o) => Ok(o),
        _ => Err(Error::bad_request("the body is not a JSON object")),
    }
}

fn text_field(o: &serde_json::Map<String, serde_json::Value>, key: &str) -> Result<Option<String>> {
    match o.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::bad_request(format!("`{key}` must be text"))),
    }
}

/// The write key and admin secret a create or rotate request gives, each generated when absent
/// (`pk_…`, `sk_…`), validated when given.
fn credentials(o: &serde_json::Map<String, serde_json::Value>) -> Result<(String, String)> {
    let write_key = match text_field(o, "write_key")? {
        Some(k) if valid_write_key(&k) => k,
        Some(_) => {
            return Err(Error::bad_request(
                "`write_key` must be 8–128 characters of A-Z, a-z, 0-9, _ and -",
            ))
        }
        None => credential("pk_", &random_bytes()?),
    };
    let secret = match text_field(o, "admin_secret")? {
        Some(s) if s.len() >= 12 => s,
        Some(_) => {
            return Err(Error::bad_request(
                "`admin_secret` must be at least 12 characters",
            ))
        }
        None => credential("sk_", &random_bytes()?),
    };
    Ok((write_key, secret))
}

async fn live_shop(ctx: &Ctx, id: &str) -> Result<shops::ShopInfo> {
    d1::first(&ctx.db()?, &shops::info(id))
        .await?
        .filter(|s| s.deleted_at.is_none())
        .ok_or_else(|| Error::not_found(format!("no shop {id}")))
}

/// The shop's settings (defaults where unset).
pub async fn load_settings(db: &worker::D1Database, shop: &str) -> Result<Settings> {
    Ok(d1::first(db, &shops::settings(shop))
        .await?
        .map(Settings::from)
        .unwrap_or_default())
}

/// `GET /v1/operator/shops`: every shop, deleted ones (still erasing) included.
pub async fn list(ctx: Ctx) -> Result<Response> {
    ctx.operator()?;
    let all = d1::all(&ctx.db()?, &shops::list()).await?;
    web::json_no_store(200, &serde_json::to_string(&all)?)
}

/// `POST /v1/operator/shops` `{"id"?, "name"?, "write_key"?, "admin_secret"?, …settings}`:
/// creates a shop with the default segments; answers `{"id","name","write_key","admin_secret"}`
/// (the secret is shown this once and stored only hashed). Generated when not given: the id
/// (`shop_…`), a write key (`pk_…`) and a secret (`sk_…`).
pub async fn create(mut ctx: Ctx) -> Result<Response> {
    ctx.operator()?;
    let o = json_body(&ctx.text().await?)?;
    let id = match text_field(&o, "id")? {
        Some(id) => id,
        None => {
            let r = random_bytes()?;
            let hex: String = r[..6].iter().map(|b| format!("{b:02x}")).collect();
            format!("shop-{hex}")
        }
    };
    if !auth::valid_shop_id(&id) {
        return Err(Error::bad_request(
            "`id` must be 1–64 characters of a-z, 0-9, - and _",
        ));
    }
    let (write_key, secret) = credentials(&o)?;
    let mut settings = Settings {
        name: id.clone(),
        ..Settings::default()
    };
    for (key, value) in &o {
        if !matches!(key.as_str(), "id" | "write_key" | "admin_secret") {
            settings.set(key, value).map_err(Error::bad_request)?;
        }
    }
    let db = ctx.db()?;
    if d1::first(&db, &shops::info(&id)).await?.is_some() {
        return Err(Error::status(409, format!("a shop {id} exists")));
    }
    if d1::first(&db, &shops::by_key(&write_key, ctx.now))
        .await?
        .is_some()
    {
        return Err(Error::status(409, "that write key belongs to another shop"));
    }
    let shop = shops::Shop {
        id: id.clone(),
        name: settings.name.clone(),
        write_key: write_key.clone(),
        admin_hash: auth::admin_hash(&id, &secret),
        count_automated: 1.0,
    };
    let mut stmts = vec![
        shops::insert(&shop, ctx.now),
        shops::set_settings(&id, &settings.to_row()),
    ];
    stmts.extend(crate::segments::default_stmts(&id, ctx.now));
    d1::batch(&db, &stmts).await?;
    let body = json!({"id": id, "name": settings.name, "write_key": write_key, "admin_secret": secret,
        "settings": settings.to_json()});
    web::json_no_store(201, &body.to_string())
}

/// `GET /v1/operator/shops/<id>`: the shop, its settings, and while it is being erased, what is
/// left.
pub async fn show(ctx: Ctx, id: &str) -> Result<Response> {
    ctx.operator()?;
    let db = ctx.db()?;
    let info = d1::first(&db, &shops::info(id))
        .await?
        .ok_or_else(|| Error::not_found(format!("no shop {id}")))?;
    let settings = load_settings(&db, id).await?;
    let mut body = json!({"shop": info, "settings": settings.to_json()});
    if info.deleted_at.is_some() {
        body["left"] = left(&ctx.env, id).await?;
    }
    web::json_no_store(200, &body.to_string())
}

/// `POST /v1/operator/shops/<id>/settings` with any settings: the new settings.
pub async fn settings(mut ctx: Ctx, id: &str) -> Result<Response> {
    ctx.operator()?;
    live_shop(&ctx, id).await?;
    let db = ctx.db()?;
    let current = load_settings(&db, id).await?;
    let new = current
        .with_json(&ctx.text().await?)
        .map_err(Error::bad_request)?;
    d1::run(&db, &shops::set_settings(id, &new.to_row())).await?;
    web::json_no_store(200, &new.to_json().to_string())
}

/// `GET /dashboard/settings`: the signed-in shop's settings.
pub async fn dashboard_settings(ctx: Ctx) -> Result<Response> {
    let shop = ctx.signed_in().await?;
    let settings = load_settings(&ctx.db()?, &shop.id).await?;
    let saved = ctx.param("saved").is_some();
    web::html(
        200,
        super::pages::settings_page(&shop.id, &settings, saved, None),
    )
}

/// `POST /dashboard/settings` (form fields named like the settings): saves them all or none;
/// an invalid value answers 422 with the form and the reason.
pub async fn dashboard_save(mut ctx: Ctx) -> Result<Response> {
    let shop = ctx.signed_in().await?;
    let db = ctx.db()?;
    let form = ctx.form().await?;
    let mut new = load_settings(&db, &shop.id).await?;
    for (key, value) in &form {
        if let Err(e) = new.set(key, &serde_json::Value::from(value.as_str())) {
            return web::html(
                422,
                super::pages::settings_page(&shop.id, &new, false, Some(&e)),
            );
        }
    }
    d1::run(&db, &shops::set_settings(&shop.id, &new.to_row())).await?;
    forget_shop(&shop.id);
    web::redirect("/dashboard/settings?saved=1", None)
}

/// `POST /v1/operator/shops/<id>/rotate` `{"write_key"?, "admin_secret"?, "grace_hours"?}`: a
/// new write key (the old one works for `grace_hours`, default 24, then stops) and a new admin
/// secret (the old one and every dashboard session stop at once).
pub async fn rotate(mut ctx: Ctx, id: &str) -> Result<Response> {
    ctx.operator()?;
    live_shop(&ctx, id).await?;
    let o = json_body(&ctx.text().await?)?;
    let (write_key, secret) = credentials(&o)?;
    let grace_ms = match o.get("grace_hours") {
        None => KEY_GRACE_MS,
        Some(v) => match v.as_f64() {
            Some(h) if (0.0..=720.0).contains(&h) => (h * 3_600_000.0) as i64,
            _ => return Err(Error::bad_request("`grace_hours` must be a number 0..=720")),
        },
    };
    let until = ctx.now + grace_ms;
    d1::run(
        &ctx.db()?,
        &shops::rotate(id, &write_key, &auth::admin_hash(id, &secret), until),
    )
    .await?;
    forget_shop(id);
    let body = json!({"id": id, "write_key": write_key, "admin_secret": secret,
        "previous_key_until": until});
    web::json_no_store(200, &body.to_string())
}

/// `GET /v1/operator/shops/<id>/export?table=<name>&after=<rowid>`: one page of the shop's rows
/// of one table as JSON lines (`_rowid` first); `X-Next-After` names the next page, absent on
/// the last. Without `table`: the list of tables. Works for a deleted shop until it is erased.
pub async fn export(ctx: Ctx, id: &str) -> Result<Response> {
    ctx.operator()?;
    let db = ctx.db()?;
    d1::first(&db, &shops::info(id))
        .await?
        .ok_or_else(|| Error::not_found(format!("no shop {id}")))?;
    let Some(table) = ctx.param("table") else {
        let names: Vec<&str> = TABLES.iter().map(|(t, _)| *t).collect();
        return web::json_no_store(200, &json!({"tables": names}).to_string());
    };
    let (table, column) = TABLES
        .iter()
        .find(|(t, _)| *t == table)
        .ok_or_else(|| Error::bad_request(format!("no table {table}")))?;
    let after: i64 = ctx
        .param("after")
        .map(|a| {
            a.parse()
                .map_err(|_| Error::bad_request("`after` must be a row id"))
        })
        .transpose()?
        .unwrap_or(0);
    let rows = d1::all(
        &db,
        &shops::export_page(table, column, id, after, EXPORT_PAGE),
    )
    .await?;
    let mut body = String::new();
    for r in &rows {
        body.push_str(&r.to_string());
        body.push('\n');
    }
    let headers = worker::Headers::new();
    headers.set("Content-Type", "application/x-ndjson; charset=utf-8")?;
    headers.set("Cache-Control", "no-store")?;
    if rows.len() == EXPORT_PAGE {
        if let Some(last) = rows.last().and_then(|r| r["_rowid"].as_i64()) {
            headers.set("X-Next-After", &last.to_string())?;
        }
    }
    Ok(Response::ok(body)?.with_headers(headers))
}

/// `POST /v1/operator/shops/<id>/delete`: marks the shop deleted (first call) and runs one erase
/// pass; `{"done": bool, "left": {…}}`. Call again until `done`.
pub async fn delete(ctx: Ctx, id: &str) -> Result<Response> {
    ctx.operator()?;
    let db = ctx.db()?;
    let info = d1::first(&db, &shops::info(id))
        .await?
        .ok_or_else(|| Error::not_found(format!("no shop {id}")))?;
    if info.deleted_at.is_none() {
        d1::run(&db, &shops::mark_deleted(id, ctx.now)).await?;
    }
    // The shop's per-isolate cache entries go here; other isolates' expire (keys and identity
    // links after 10 s; a cached segment set is only read for a live shop's objects).
    forget_shop(id);
    crate::segments::handler::forget(id);
    let deleted_at = info.deleted_at.map_or(ctx.now, |t| t as i64);
    let done = erase_pass(&ctx.env, id, deleted_at, ctx.now).await?;
    let left = if done {
        json!({})
    } else {
        left(&ctx.env, id).await?
    };
    web::json_no_store(
        200,
        &json!({"id": id, "done": done, "left": left}).to_string(),
    )
}

/// What of a deleted shop is left: rows per table and models.
async fn left(env: &Env, shop: &str) -> Result<serde_json::Value> {
    let db = env.d1("DB")?;
    let mut out = serde_json::Map::new();
    for (table, column) in TABLES {
        let n = d1::first(&db, &shops::count_rows(table, column, shop))
            .await?
            .map_or(0.0, |c| c.n);
        if n > 0.0 {
            out.insert(table.to_string(), n.into());
        }
    }
    // Each version is kept raw and brotli-compressed: count versions, not keys.
    let models = model_keys(env, shop)
        .await?
        .iter()
        .filter(|k| !k.ends_with(".br"))
        .count();
    if models > 0 {
        out.insert("kv_models".into(), models.into());
    }
    Ok(out.into())
}

async fn model_keys(env: &Env, shop: &str) -> Result<Vec<String>> {
    let kv = env
        .kv("MODELS")
        .map_err(|e| Error::Runtime(e.to_string()))?;
    let list = kv
        .list()
        .prefix(model_prefix(shop))
        .execute()
        .await
        .map_err(|e| Error::Runtime(e.to_string()))?;
    Ok(list.keys.into_iter().map(|k| k.name).collect())
}

/// One erase pass over a deleted shop; true once everything is gone (the shop row included).
pub async fn erase_pass(env: &Env, shop: &str, deleted_at: i64, now: i64) -> Result<bool> {
    let db = env.d1("DB")?;
    let customers: Vec<String> = d1::all(&db, &shops::object_customers(shop, ERASE_OBJECTS))
        .await?
        .into_iter()
        .map(|c| c.customer_id)
        .collect();
    if !customers.is_empty() {
        let calls = customers
            .iter()
            .map(|c| call_customer(env, shop, c, "/erase", Some("{}")));
        for (c, r) in customers
            .iter()
            .zip(futures_util::future::join_all(calls).await)
        {
            match r {
                Ok(r) if r.status_code() == 200 => {}
                Ok(r) => return Err(Error::Runtime(format!("erasing {c}: {}", r.status_code()))),
                Err(e) => return Err(Error::Runtime(format!("erasing {c}: {e}"))),
            }
        }
        d1::batch(&db, &shops::forget_customers(shop, &customers)).await?;
        return Ok(false);
    }
    let mut stmts: Vec<Stmt> = TABLES
        .iter()
        .filter(|(t, _)| *t != "shops")
        .map(|(t, c)| shops::delete_rows(t, c, shop, ERASE_ROWS))
        .collect();
    d1::batch(&db, &stmts).await?;
    let kv = env
        .kv("MODELS")
        .map_err(|e| Error::Runtime(e.to_string()))?;
    for key in model_keys(env, shop).await? {
        kv.delete(&key)
            .await
            .map_err(|e| Error::Runtime(e.to_string()))?;
    }
    let rest = left(env, shop).await?;
    let only_shop_row = rest
        .as_object()
        .is_some_and(|o| o.keys().all(|k| k == "shops"));
    if only_shop_row && now - deleted_at >= QUIET_MS {
        stmts = vec![shops::remove(shop)];
        d1::batch(&db, &stmts).await?;
        return Ok(true);
    }
    Ok(false)
}

/// The cron's part: one erase pass for each deleted shop.
pub async fn erase_deleted(env: &Env, now: i64) -> Result<()> {
    let db = env.d1("DB")?;
    for s in d1::all(&db, &shops::deleted(10)).await? {
        let deleted_at = d1::first(&db, &shops::info(&s.id))
            .await?
            .and_then(|i| i.deleted_at)
            .map_or(now, |t| t as i64);
        if let Err(e) = erase_pass(env, &s.id, deleted_at, now).await {
            worker::console_error!("cron: erasing shop {}: {e}", s.id);
        }
    }
    Ok(())
}
