//! The runtime side of the item model and of recommendation measurement: building the model
//! from D1 and storing it in KV (`MODELS`, key `model/<shop>/<version>`), recording builds in
//! D1 `models`, serving `/v1/config` and `/v1/model[/<version>]`, the admin rebuild and settings
//! API, the cron (`scheduled`) and the dashboard's recommendations page. The logic is in the pure
//! modules [`crate::model`] and [`crate::recs`].

use serde::Deserialize;
use worker::{event, D1Database, Env, Request, Response, Result, ScheduleContext, ScheduledEvent};

use crate::analytics::d1;
use crate::analytics::Arg;
use crate::edge::{
    db, ensure_ready, header, html_response, json_error, json_response, now_ms, query, redirect,
    session, shop_from_query,
};
use crate::model::{self, BuildInfo, ClickRow, MetaRow, Settings};
use crate::recs::{self, Click, Exposure, OrderEvent, RecsPage, SlotRow};
use crate::routes::{self, form_value};

/// At most this many shops are rebuilt per cron run (each build is one shop's CPU budget).
const CRON_SHOPS: usize = 20;

/// The shop's model settings (defaults when the columns are missing or NULL).
pub async fn settings(db: &D1Database, shop: &str) -> Result<Settings> {
    Ok(
        d1::first::<Settings>(db, model::SETTINGS_SQL, &[shop.into()])
            .await?
            .unwrap_or_default(),
    )
}

/// The latest recorded build of a shop.
pub async fn latest(db: &D1Database, shop: &str) -> Result<Option<BuildInfo>> {
    d1::first(db, model::LATEST_SQL, &[shop.into()]).await
}

#[derive(Deserialize)]
struct JsonRow {
    json: String,
}

/// Builds the shop's model from D1 with the engine's `ModelBuilder`, stores it in KV and records
/// the build. `build_ms` is wall time from the first read to the stored model (in Workers the
/// clock only advances at I/O, so this bounds the CPU the build needs from above).
pub async fn rebuild(env: &Env, shop: &str) -> Result<BuildInfo> {
    let start = now_ms();
    let db = db(env)?;
    let since = model::window_start_ms(start);
    let window =
        |limit: usize| -> Vec<Arg> { vec![shop.into(), since.into(), (limit as f64).into()] };
    let rows: Vec<ClickRow> =
        d1::rows(&db, model::CLICKS_SQL, &window(model::MAX_CLICK_ROWS)).await?;
    let orders: Vec<JsonRow> = d1::rows(&db, model::ORDERS_SQL, &window(model::MAX_ORDERS)).await?;
    let orders: Vec<Vec<String>> = orders
        .iter()
        .map(|o| model::order_products(&o.json))
        .collect();
    let meta: Vec<MetaRow> = d1::rows(&db, model::META_SQL, &[shop.into()]).await?;
    let k = settings(&db, shop).await?.k();
    let read = now_ms();
    let built = model::build(&rows, &orders, &meta, k);
    env.kv("MODELS")?
        .put_bytes(&model::kv_key(shop, &built.info.version), &built.bytes)?
        .execute()
        .await?;
    let end = now_ms();
    let mut info = built.info;
    info.created_at = end as f64;
    info.build_ms = (end - start) as f64;
    d1::prepare(
        &db,
        model::INSERT_SQL,
        &[
            shop.into(),
            info.version.as_str().into(),
            info.created_at.into(),
            info.items.into(),
            info.pairs.into(),
            info.bytes.into(),
            info.build_ms.into(),
            info.sessions.into(),
            info.events.into(),
            info.format.into(),
        ],
    )?
    .run()
    .await?;
    worker::console_log!(
        "model {shop}/{}: {} rows, {} sessions, {} orders, k {k}: {} items, {} pairs, {} bytes; \
         read {} ms, build + store {} ms",
        info.version,
        rows.len(),
        info.sessions,
        orders.len(),
        info.items,
        info.pairs,
        info.bytes,
        read - start,
        end - read
    );
    Ok(info)
}

#[derive(Deserialize)]
struct Count {
    n: f64,
}

/// The latest model, built now when the shop has none yet (or only an empty one and events
/// arrived since, or one in an older binary format), so a fresh shop works without waiting for
/// the cron and a new page build never meets a model it cannot read.
pub async fn ensure_model(env: &Env, shop: &str) -> Result<BuildInfo> {
    let db = db(env)?;
    match latest(&db, shop).await? {
        // A model in a format this build no longer reads is rebuilt before it is served.
        Some(m) if m.format != f64::from(affinity::recommend::FORMAT_VERSION) => {
            rebuild(env, shop).await
        }
        Some(m) if m.items > 0.0 => Ok(m),
        Some(m) => {
            let newer: Option<Count> = d1::first(
                &db,
                model::NEWER_EVENTS_SQL,
                &[shop.into(), m.created_at.into()],
            )
            .await?;
            if newer.is_some_and(|c| c.n > 0.0) {
                rebuild(env, shop).await
            } else {
                Ok(m)
            }
        }
        None => rebuild(env, shop).await,
    }
}

/// `GET /v1/config?key=`.
pub async fn config(req: Request, env: &Env) -> Result<Response> {
    let (shop, key) = match shop_from_query(&req, env).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    let m = ensure_model(env, &shop.id).await?;
    let s = settings(&db(env)?, &shop.id).await?;
    let body = model::config_json(&shop.id, &key, &m.version, s.holdout_percent);
    // Segments (issue 3): compiled set + its version folded into `version`.
    let body = crate::segments_edge::add_to_config(env, &shop.id, &body).await?;
    let mut resp = json_response(200, &body)?;
    resp.headers_mut()
        .set("Cache-Control", "public, max-age=60")?;
    Ok(resp)
}

/// `GET /v1/model?key=`: the latest model (`max-age=60`).
pub async fn model_latest(req: Request, env: &Env) -> Result<Response> {
    let (shop, _) = match shop_from_query(&req, env).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    let m = ensure_model(env, &shop.id).await?;
    serve(&req, env, &shop.id, &m.version, "public, max-age=60").await
}

/// `GET /v1/model/<version>?key=`: one version (immutable); 404 when unknown.
pub async fn model_version(req: Request, env: &Env, version: &str) -> Result<Response> {
    let (shop, _) = match shop_from_query(&req, env).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    if !model::valid_version(version) {
        return json_error(404, "no such model version");
    }
    serve(
        &req,
        env,
        &shop.id,
        version,
        "public, max-age=31536000, immutable",
    )
    .await
}

async fn serve(
    req: &Request,
    env: &Env,
    shop: &str,
    version: &str,
    cache: &str,
) -> Result<Response> {
    let etag = format!("\"{version}\"");
    let mut resp = if header(req, "If-None-Match").is_some_and(|h| routes::etag_matches(&h, &etag))
    {
        Response::empty()?.with_status(304)
    } else {
        match env
            .kv("MODELS")?
            .get(&model::kv_key(shop, version))
            .bytes()
            .await?
        {
            Some(bytes) => {
                let mut r = Response::from_bytes(bytes)?;
                r.headers_mut()
                    .set("Content-Type", "application/octet-stream")?;
                r
            }
            None => return json_error(404, "no such model version"),
        }
    };
    let h = resp.headers_mut();
    h.set("ETag", &etag)?;
    h.set("Cache-Control", cache)?;
    Ok(resp)
}

/// `POST /v1/admin/model/rebuild?shop=`: `{version, items, pairs, bytes, build_ms, sessions, events}`.
pub async fn admin_rebuild(req: Request, env: &Env) -> Result<Response> {
    let shop = match crate::edge::admin_shop(&req, env).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let info = rebuild(env, &shop.id).await?;
    let mut resp = json_response(200, &model::build_json(&info))?;
    resp.headers_mut().set("Cache-Control", "no-store")?;
    Ok(resp)
}

/// `POST /v1/admin/settings?shop=` with `{"min_support"?, "holdout_percent"?}`: the new
/// settings `{"min_support","holdout_percent"}`.
pub async fn admin_settings(mut req: Request, env: &Env) -> Result<Response> {
    let shop = match crate::edge::admin_shop(&req, env).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let db = db(env)?;
    let current = settings(&db, &shop.id).await?;
    let body = req.text().await.unwrap_or_default();
    let new = match model::parse_settings(&body, current) {
        Ok(s) => s,
        Err(e) => return json_error(400, &e),
    };
    d1::prepare(
        &db,
        "UPDATE shops SET min_support = ?2, holdout_percent = ?3 WHERE id = ?1",
        &[
            shop.id.as_str().into(),
            f64::from(new.k()).into(),
            new.holdout_percent.into(),
        ],
    )?
    .run()
    .await?;
    let body =
        serde_json::json!({ "min_support": new.k(), "holdout_percent": new.holdout_percent });
    let mut resp = json_response(200, &body.to_string())?;
    resp.headers_mut().set("Cache-Control", "no-store")?;
    Ok(resp)
}

/// `GET /dashboard/recommendations`.
pub async fn recommendations(req: Request, env: &Env) -> Result<Response> {
    let Some(shop) = session(&req, env).await? else {
        return redirect("/dashboard/login", None);
    };
    let notice =
        form_value(&query(&req), "rebuilt").map(|v| format!("Model rebuilt: version {v}."));
    let data = page_data(env, &shop.id, notice).await?;
    html_response(200, recs::recs_page(&shop.name, &data, now_ms()))
}

/// `POST /dashboard/recommendations/rebuild`: rebuild, then back to the page.
pub async fn rebuild_now(req: Request, env: &Env) -> Result<Response> {
    let Some(shop) = session(&req, env).await? else {
        return redirect("/dashboard/login", None);
    };
    let info = rebuild(env, &shop.id).await?;
    redirect(
        &format!(
            "/dashboard/recommendations?rebuilt={}",
            routes::percent_encode(&info.version)
        ),
        None,
    )
}

async fn page_data(env: &Env, shop: &str, notice: Option<String>) -> Result<RecsPage> {
    let db = db(env)?;
    let since = model::window_start_ms(now_ms());
    let window = || -> Vec<Arg> { vec![shop.into(), since.into(), (recs::MAX_ROWS as f64).into()] };
    let slots: Vec<SlotRow> = d1::rows(&db, recs::SLOTS_SQL, &[shop.into(), since.into()]).await?;
    let clicks: Vec<Click> = d1::rows(&db, recs::CLICKS_SQL, &window()).await?;
    let orders: Vec<OrderEvent> = d1::rows(&db, recs::ORDERS_SQL, &window()).await?;
    let exposures: Vec<Exposure> = d1::rows(&db, recs::EXPOSURES_SQL, &window()).await?;
    let s = settings(&db, shop).await?;
    let (personalized, holdout) = recs::groups(&exposures, &orders);
    Ok(RecsPage {
        model: latest(&db, shop).await?,
        min_support: s.k(),
        holdout_percent: s.holdout_percent,
        attributed: recs::attribute(&clicks, &orders),
        slots,
        personalized,
        holdout,
        notice,
    })
}

#[derive(Deserialize)]
struct ShopId {
    id: String,
}

/// The cron (`*/30 * * * *`): rebuild the model of every shop with events received after its
/// latest model (at most [`CRON_SHOPS`] per run).
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    if let Err(e) = cron(&env).await {
        worker::console_error!("cron: {e}");
    }
}

async fn cron(env: &Env) -> Result<()> {
    ensure_ready(env).await?;
    let stale: Vec<ShopId> = d1::rows(
        &db(env)?,
        model::STALE_SHOPS_SQL,
        &[(CRON_SHOPS as f64).into()],
    )
    .await?;
    for s in stale {
        if let Err(e) = rebuild(env, &s.id).await {
            worker::console_error!("cron: model of {}: {e}", s.id);
        }
    }
    // Segment sizes over time (issue 3).
    if let Err(e) = crate::segments_edge::record_all_sizes(env).await {
        worker::console_error!("cron: segment sizes: {e}");
    }
    Ok(())
}
