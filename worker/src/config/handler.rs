//! Serving what the page loads: `/v1/config` (the shop's settings, compiled segments and the
//! model version), `/v1/model[/<version>]` (bytes from KV `MODELS`, immutable by version) and the
//! plugin files; plus the admin API for model rebuilds and settings. No request builds a model
//! it does not ask for: a shop without one gets a config without a model (the page falls back)
//! until its first events start a build ([`super::jobs::build_if_needed`]).

use worker::{EncodeBody, Headers, Response};

use super::jobs;
use crate::platform::d1;
use crate::platform::http::etag_matches;
use crate::platform::store::shops;
use crate::platform::web::{self, Ctx};
use crate::platform::{Error, Result};

/// `GET /v1/config?key=`.
pub async fn config(ctx: Ctx) -> Result<Response> {
    let (shop, key) = ctx.shop_from_key_param().await?;
    let db = ctx.db()?;
    let version = jobs::latest(&db, &shop.id)
        .await?
        .filter(|m| m.format == f64::from(affinity::recommend::FORMAT_VERSION))
        .map(|m| m.version);
    let s = jobs::settings(&db, &shop.id).await?;
    let body = super::config_json(
        &shop.id,
        &key,
        version.as_deref(),
        s.holdout_percent,
        s.consent_json(),
    );
    let body = crate::segments::handler::add_to_config(&db, &shop.id, &body).await?;
    let mut resp = web::json(200, &body)?;
    resp.headers_mut()
        .set("Cache-Control", "public, max-age=60")?;
    Ok(resp)
}

/// `GET /v1/model?key=`: the latest model (`max-age=60`); 404 while the shop has none.
pub async fn model_latest(ctx: Ctx) -> Result<Response> {
    let (shop, _) = ctx.shop_from_key_param().await?;
    let m = jobs::latest(&ctx.db()?, &shop.id)
        .await?
        .ok_or_else(|| Error::not_found("the shop has no model yet"))?;
    serve(&ctx, &shop.id, &m.version, "public, max-age=60").await
}

/// `GET /v1/model/<version>?key=`: one version (immutable); 404 when unknown.
pub async fn model_version(ctx: Ctx, version: &str) -> Result<Response> {
    let (shop, _) = ctx.shop_from_key_param().await?;
    if !super::valid_version(version) {
        return Err(Error::not_found("no such model version"));
    }
    serve(
        &ctx,
        &shop.id,
        version,
        "public, max-age=31536000, immutable",
    )
    .await
}

/// One model version, brotli-encoded as stored when the client accepts it (the wire bytes a
/// shopper downloads; Cloudflare does not compress `application/octet-stream` itself), else the
/// raw bytes. Each encoding has its own ETag; either revalidates the version.
async fn serve(ctx: &Ctx, shop: &str, version: &str, cache: &str) -> Result<Response> {
    let plain_tag = format!("\"{version}\"");
    let br_tag = format!("\"{version}.br\"");
    let wants_br = ctx
        .client_accept_encoding()
        .is_some_and(|a| super::accepts_brotli(&a));
    let revalidated = ctx.header("If-None-Match").and_then(|h| {
        [&br_tag, &plain_tag]
            .into_iter()
            .find(|tag| etag_matches(&h, tag))
    });
    let (mut resp, etag) = if let Some(tag) = revalidated {
        (Response::empty()?.with_status(304), tag.clone())
    } else {
        let kv = ctx
            .env
            .kv("MODELS")
            .map_err(|e| Error::Runtime(e.to_string()))?;
        let get = |key: String| {
            let kv = &kv;
            async move {
                kv.get(&key)
                    .bytes()
                    .await
                    .map_err(|e| Error::Runtime(e.to_string()))
            }
        };
        // Versions built before compressed copies were kept have only the raw bytes.
        let br = match wants_br {
            true => get(super::kv_key_br(shop, version)).await?,
            false => None,
        };
        let (mut r, tag) = match br {
            Some(bytes) => {
                // Sent as stored: the runtime must not encode it again.
                let mut r = Response::from_bytes(bytes)?.with_encode_body(EncodeBody::Manual);
                r.headers_mut().set("Content-Encoding", "br")?;
                (r, br_tag)
            }
            None => {
                let bytes = get(super::kv_key(shop, version))
                    .await?
                    .ok_or_else(|| Error::not_found("no such model version"))?;
                (Response::from_bytes(bytes)?, plain_tag)
            }
        };
        r.headers_mut()
            .set("Content-Type", "application/octet-stream")?;
        (r, tag)
    };
    let h = resp.headers_mut();
    h.set("ETag", &etag)?;
    h.set("Vary", "Accept-Encoding")?;
    h.set("Cache-Control", cache)?;
    Ok(resp)
}

/// `POST /v1/admin/model/rebuild?shop=`: `{version, items, pairs, bytes, build_ms, sessions,
/// events}` (the admin asked for the build, so it runs in the request).
pub async fn admin_rebuild(ctx: Ctx) -> Result<Response> {
    let shop = ctx.admin_shop().await?;
    let info = jobs::rebuild(&ctx.env, &shop.id).await?;
    web::json_no_store(200, &super::build_json(&info))
}

/// `POST /v1/admin/settings?shop=` with any of the shop's settings (`crate::shops::Settings`:
/// `name`, `currency`, `time_zone`, `min_support`, `holdout_percent`, `count_automated`): the
/// new settings, all of them.
pub async fn admin_settings(mut ctx: Ctx) -> Result<Response> {
    let shop = ctx.admin_shop().await?;
    let db = ctx.db()?;
    let current = jobs::settings(&db, &shop.id).await?;
    let body = ctx.text().await?;
    let new = current.with_json(&body).map_err(Error::bad_request)?;
    d1::run(&db, &shops::set_settings(&shop.id, &new.to_row())).await?;
    web::json_no_store(200, &new.to_json().to_string())
}

/// `GET /affinity.js`, `/affinity_core.js`, `/affinity_core_bg.wasm`: the plugin files from
/// `ASSETS`, with CORS, CORP and cache headers.
pub async fn plugin_file(ctx: Ctx, file: &str) -> Result<Response> {
    let url = ctx.req.url()?;
    let mut asset = ctx
        .env
        .assets("ASSETS")?
        .fetch(url.to_string(), None)
        .await?;
    let status = asset.status_code();
    let (content_type, cache) = super::plugin_file_headers(file);
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
