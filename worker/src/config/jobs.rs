//! Background work, never done on a request that does not need it: model builds (the cron, the
//! first events of a new shop, "Rebuild now") and segment sizes (the cron).
//!
//! CPU: a model build reads up to [`super::MAX_CLICK_ROWS`] interaction rows and
//! [`super::MAX_ORDERS`] orders and runs the engine's `ModelBuilder`; measured on workerd for the
//! seeded demo (≈ 5k rows, 800 sessions → 240 items) at 12–60 ms for build + encode + KV write,
//! so the 200k-row bound needs ≈ 2–3 s (`limits.cpu_ms = 30000` in `wrangler.toml`). Recording
//! segment sizes is one grouped D1 query and one batch per shop (< 5 ms CPU).

use std::cell::RefCell;
use std::collections::HashSet;

use worker::{D1Database, Env};

use super::BuildInfo;
use crate::platform::d1;
use crate::platform::store::{catalog, models, shops};
use crate::platform::web::now_ms;
use crate::platform::{Error, Result};

/// At most this many shops are rebuilt per cron run (each build is one shop's CPU budget).
pub const CRON_SHOPS: usize = 20;

/// The shop's settings (defaults where unset): the shops feature owns them.
pub use crate::shops::handler::load_settings as settings;

/// The latest recorded build of a shop.
pub async fn latest(db: &D1Database, shop: &str) -> Result<Option<BuildInfo>> {
    d1::first(db, &models::latest(shop)).await
}

/// Builds the shop's model from D1 with the engine's `ModelBuilder`, stores it in KV and records
/// the build. `build_ms` is wall time from the first read to the stored model (in Workers the
/// clock only advances at I/O, so this bounds the CPU the build needs from above).
pub async fn rebuild(env: &Env, shop: &str) -> Result<BuildInfo> {
    let start = now_ms();
    let db = env.d1("DB")?;
    let (since, until) = super::window(start);
    let rows = d1::all(
        &db,
        &models::clicks(shop, since, until, super::MAX_CLICK_ROWS),
    )
    .await?;
    let orders = d1::all(&db, &models::orders(shop, since, until, super::MAX_ORDERS)).await?;
    let meta = d1::all(&db, &catalog::meta(shop)).await?;
    let k = settings(&db, shop).await?.k();
    let read = now_ms();
    let built = super::build(shop, &rows, &orders, &meta, k, until);
    let br = super::compress(&built.bytes);
    let kv = env
        .kv("MODELS")
        .map_err(|e| Error::Runtime(e.to_string()))?;
    // Both copies are stored before the build is recorded: no config names the version until then.
    for (key, bytes) in [
        (super::kv_key_br(shop, &built.info.version), &br),
        (super::kv_key(shop, &built.info.version), &built.bytes),
    ] {
        kv.put_bytes(&key, bytes)
            .map_err(|e| Error::Runtime(e.to_string()))?
            .execute()
            .await
            .map_err(|e| Error::Runtime(e.to_string()))?;
    }
    let end = now_ms();
    let mut info = built.info;
    info.created_at = end as f64;
    info.build_ms = (end - start) as f64;
    d1::run(&db, &models::record(shop, &info)).await?;
    worker::console_log!(
        "model {shop}/{}: {} rows, {} sessions, {} orders, k {k}: {} items, {} pairs, {} bytes \
         ({} brotli); read {} ms, build + store {} ms",
        info.version,
        rows.len(),
        info.sessions,
        orders.len(),
        info.items,
        info.pairs,
        info.bytes,
        br.len(),
        read - start,
        end - read
    );
    Ok(info)
}

/// Whether the shop's model needs a build now: none yet, one in a binary format the page can no
/// longer read, or an empty one while events arrived since and the shop has a catalog (the
/// model's items are the catalog's: without one, a build after each batch could only produce
/// another empty model; the upload starts a build).
pub async fn needs_build(db: &D1Database, shop: &str) -> Result<bool> {
    Ok(match latest(db, shop).await? {
        None => true,
        Some(m) if m.format != f64::from(affinity::recommend::FORMAT_VERSION) => true,
        Some(m) if m.items > 0.0 => false,
        Some(m) => {
            d1::first(db, &catalog::any(shop))
                .await?
                .is_some_and(|c| c.n > 0.0)
                && d1::first(db, &models::newer_events(shop, m.created_at))
                    .await?
                    .is_some_and(|c| c.n > 0.0)
        }
    })
}

/// After a catalog upload (in `waitUntil`): rebuild the shop's model with the new catalog.
pub async fn rebuild_after_upload(env: Env, shop: String) {
    if let Err(e) = rebuild(&env, &shop).await {
        worker::console_error!("model of {shop} after the catalog upload: {e}");
    }
}

thread_local! {
    /// Per isolate: shops known to have a model worth serving, and builds under way, so the
    /// check after each batch costs nothing once a shop has its model.
    static HAS_MODEL: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
    static BUILDING: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

/// After a batch (in `waitUntil`): builds the model of a shop that has none worth serving yet
/// (its first events arrived), so a new shop gets recommendations without waiting for the cron.
pub async fn build_if_needed(env: Env, shop: String) {
    if HAS_MODEL.with(|h| h.borrow().contains(&shop))
        || !BUILDING.with(|b| b.borrow_mut().insert(shop.clone()))
    {
        return;
    }
    let work = async {
        let db = env.d1("DB")?;
        if needs_build(&db, &shop).await? {
            let info = rebuild(&env, &shop).await?;
            return Ok::<bool, Error>(info.items > 0.0);
        }
        Ok(true)
    };
    match work.await {
        Ok(true) => HAS_MODEL.with(|h| {
            h.borrow_mut().insert(shop.clone());
        }),
        Ok(false) => {}
        Err(e) => worker::console_error!("model of {shop}: {e}"),
    }
    BUILDING.with(|b| b.borrow_mut().remove(&shop));
}

/// The cron: rebuild the model of every shop with events received after its latest model (at
/// most [`CRON_SHOPS`] per run), then record segment sizes.
pub async fn run_all(env: &Env, now_ms: i64) {
    let work = async {
        let db = env.d1("DB")?;
        for s in d1::all(&db, &shops::stale_models(CRON_SHOPS)).await? {
            if let Err(e) = rebuild(env, &s.id).await {
                worker::console_error!("cron: model of {}: {e}", s.id);
            }
        }
        crate::segments::handler::record_all_sizes(&db, now_ms).await
    };
    if let Err(e) = work.await {
        worker::console_error!("cron: {e}");
    }
}
