//! Segments on the runtime: D1 reads and writes, the shop config's `segments`, the per-isolate
//! cache customer objects evaluate with, and the dashboard handlers. The logic is in the pure
//! [`crate::segments`] module. A save answers once the segment is stored; the backfill of
//! memberships, the objects' re-evaluation and today's sizes follow after the response.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use affinity::rules::SegmentSet;
use affinity::time;
use worker::{D1Database, Env, Response};

use crate::platform::d1;
use crate::platform::http::form_value;
use crate::platform::store::{health, segments as sql, shops, Stmt};
use crate::platform::web::{self, call_customer, now_ms, Ctx};
use crate::platform::{Error, Result};
use crate::segments::pages::{self, Editor, SegmentRoute};
use crate::segments::{self, CountRow, Held, SegmentRow, StoredProfile};

thread_local! {
    /// Per isolate: shop → its set as last read, and when.
    static SETS: RefCell<HashMap<String, CachedSet>> = RefCell::new(HashMap::new());
}

/// Forgets the shop's cached set in this isolate (its shop was deleted, or its set changed here).
pub fn forget(shop: &str) {
    SETS.with(|s| s.borrow_mut().remove(shop));
}

/// The shop's compiled set as shipped (`(version, base64url)`); version 0 and an empty set when
/// the shop has none.
pub async fn shipped(db: &D1Database, shop: &str) -> Result<(i64, String)> {
    let row = d1::first(db, &sql::set_of(shop)).await?;
    Ok(match row {
        Some(r) => (r.version as i64, segments::shipped_form(r.compiled)),
        None => (0, segments::encode_set(&segments::compile(&[]))),
    })
}

/// Adds `segments` to the shop config JSON and folds the set's version into its `version`.
pub async fn add_to_config(db: &D1Database, shop: &str, config_json: &str) -> Result<String> {
    let (version, compiled) = shipped(db, shop).await?;
    Ok(segments::with_segments(config_json, &compiled, version))
}

/// What an isolate knows of a shop's set: `(version, set)` or `None` (no segments), and when the
/// version was read.
type CachedSet = (Option<(i64, Rc<SegmentSet>)>, i64);

/// The shop's set for evaluation. The version is read from D1 when `fresh`, when this isolate
/// last read it more than [`segments::SET_CHECK_MS`] ago, or when its cached version is older than
/// `at_least` (the version the customer was last evaluated with: an evaluation never goes back
/// to an older set); the set is decoded only when the version changed. `None` when the shop has
/// no segments. A stored set that does not decode is an error (logged and counted on the shop's
/// health figure), never an empty set: evaluating against nothing would forget every membership.
pub async fn current_set(
    db: &D1Database,
    shop: &str,
    fresh: bool,
    at_least: i64,
) -> Result<Option<(i64, Rc<SegmentSet>)>> {
    let now = now_ms();
    let cached = SETS.with(|s| s.borrow().get(shop).cloned());
    if let Some((known, checked_at)) = &cached {
        let version = known.as_ref().map_or(0, |(v, _)| *v);
        if segments::cached_set_usable(Some((version, *checked_at)), now, fresh, at_least) {
            return Ok(known.clone());
        }
    }
    let version = d1::first(db, &sql::set_version(shop)).await?;
    let Some(version) = version.map(|v| v.version as i64) else {
        SETS.with(|s| s.borrow_mut().insert(shop.to_string(), (None, now)));
        return Ok(None);
    };
    if let Some((Some((v, set)), _)) =
        cached.filter(|(k, _)| k.as_ref().is_some_and(|(v, _)| *v == version))
    {
        SETS.with(|s| {
            s.borrow_mut()
                .insert(shop.to_string(), (Some((v, set.clone())), now))
        });
        return Ok(Some((v, set)));
    }
    let (version, compiled) = shipped(db, shop).await?;
    let Some(set) = segments::decode_set(&compiled) else {
        let reference = format!("v{version}");
        worker::console_error!("segments of {shop}: the stored set {reference} does not decode");
        d1::run(
            db,
            &health::record(shop, "segment_set", &reference, "does not decode", now_ms()),
        )
        .await?;
        return Err(Error::Runtime(format!(
            "the segment set {reference} of {shop} does not decode"
        )));
    };
    let set = Rc::new(set);
    SETS.with(|s| {
        s.borrow_mut()
            .insert(shop.to_string(), (Some((version, set.clone())), now))
    });
    Ok(Some((version, set)))
}

async fn stored(db: &D1Database, shop: &str) -> Result<Vec<SegmentRow>> {
    d1::all(db, &sql::stored(shop)).await
}

async fn sizes(db: &D1Database, shop: &str) -> Result<Vec<CountRow>> {
    d1::all(db, &sql::sizes(shop)).await
}

/// Computes every segment's size from the D1 memberships and records it for today (a background
/// job: the cron, and after a save).
pub async fn record_sizes(db: &D1Database, shop: &str, now_ms: i64) -> Result<()> {
    let names = stored(db, shop).await?;
    let counts = sizes(db, shop).await?;
    let day = time::format_date(now_ms);
    let stmts: Vec<Stmt> = names
        .iter()
        .map(|r| {
            let n = counts
                .iter()
                .find(|c| c.segment == r.name)
                .map_or(0.0, |c| c.size);
            segments::size_stmt(shop, &r.name, &day, n)
        })
        .collect();
    d1::batch(db, &stmts).await
}

/// The cron's part: records today's sizes for every shop with segments.
pub async fn record_all_sizes(db: &D1Database, now_ms: i64) -> Result<()> {
    for s in d1::all(db, &shops::with_segments(1000)).await? {
        record_sizes(db, &s.id, now_ms).await?;
    }
    Ok(())
}

/// Stored profiles for previews and backfills; one that does not decode is skipped there, and
/// counted here on the shop's health figure (it stays as it is in D1).
async fn profiles(db: &D1Database, shop: &str, now: i64) -> Result<Vec<StoredProfile>> {
    let rows = d1::all(db, &sql::profiles(shop, segments::PREVIEW_LIMIT)).await?;
    let bad: Vec<Stmt> = segments::undecodable(&rows)
        .into_iter()
        .map(|(id, error)| {
            worker::console_error!("segments of {shop}: mirror profile of {id} does not decode");
            health::record(shop, "mirror_profile", id, &error, now)
        })
        .collect();
    d1::batch(db, &bad).await?;
    Ok(rows)
}

/// After a save: memberships of `name` for the stored profiles (the bounded preview set), written
/// with the same idempotent upserts customer objects use. Returns the customers whose membership
/// changed.
async fn backfill(
    db: &D1Database,
    shop: &str,
    set: &SegmentSet,
    name: &str,
) -> Result<Vec<String>> {
    let now = now_ms();
    let profiles = profiles(db, shop, now).await?;
    let members = segments::members_of(shop, set, name, &profiles, now);
    let current = d1::all(db, &sql::members(shop, name)).await?;
    let evaluated: std::collections::HashSet<&str> =
        profiles.iter().map(|p| p.customer_id.as_str()).collect();
    let mut stmts = Vec::new();
    let mut changed = Vec::new();
    for id in &members {
        if !current.iter().any(|c| &c.customer_id == id) {
            let held = Held {
                name: name.to_string(),
                member: true,
                entered_at: Some(now),
                exited_at: None,
            };
            stmts.push(segments::membership_stmt(shop, id, &held, now));
            changed.push(id.clone());
        }
    }
    for c in &current {
        if evaluated.contains(c.customer_id.as_str()) && !members.contains(&c.customer_id) {
            let held = Held {
                name: name.to_string(),
                member: false,
                entered_at: None,
                exited_at: Some(now),
            };
            stmts.push(segments::membership_stmt(shop, &c.customer_id, &held, now));
            changed.push(c.customer_id.clone());
        }
    }
    d1::batch(db, &stmts).await?;
    Ok(changed)
}

/// Asks the objects of customers a backfill changed to re-evaluate now (at most
/// [`segments::NOTIFY_LIMIT`], concurrently): they keep the segment's state, entry time and alarm
/// (a backfilled time window then still closes on time). Others pick the new set up with their
/// next event or alarm. Failures are logged, not fatal.
async fn notify(env: &Env, shop: &str, customers: &[String]) {
    let calls = customers
        .iter()
        .take(segments::NOTIFY_LIMIT)
        .map(|customer| call_customer(env, shop, customer, "/evaluate", Some("{}")));
    for r in futures_util::future::join_all(calls).await {
        if let Err(e) = r {
            worker::console_error!("segments: re-evaluating a customer failed: {e}");
        }
    }
}

/// After a save: backfill, notify the changed customers' objects, record today's sizes.
async fn after_save(env: Env, shop: String, set: SegmentSet, name: String) {
    let work = async {
        let db = env.d1("DB")?;
        let changed = backfill(&db, &shop, &set, &name).await?;
        notify(&env, &shop, &changed).await;
        record_sizes(&db, &shop, now_ms()).await
    };
    if let Err(e) = work.await {
        worker::console_error!("segments of {shop}: after saving {name}: {e}");
    }
}

/// The Content-Security-Policy of pages that run the editor script: the dashboard's strict policy
/// plus that one inline script (by hash) and fetches to this origin.
fn editor_response(status: u16, html: String) -> Result<Response> {
    let mut resp = web::html(status, html)?;
    resp.headers_mut().set(
        "Content-Security-Policy",
        &format!(
            "default-src 'none'; script-src {}; connect-src 'self'; style-src 'unsafe-inline'; \
             img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            pages::script_hash(pages::EDITOR_SCRIPT)
        ),
    )?;
    Ok(resp)
}

/// Handles `/dashboard/segments…` (signed in).
pub async fn handle(route: SegmentRoute, mut ctx: Ctx) -> Result<Response> {
    let Some(shop) = ctx.session().await? else {
        return match route {
            SegmentRoute::Validate | SegmentRoute::Preview => web::json_error(401, "not signed in"),
            _ => web::redirect("/dashboard/login", None),
        };
    };
    let db = ctx.db()?;
    let form = if ctx.req.method() == worker::Method::Post {
        ctx.form().await?
    } else {
        Vec::new()
    };
    let field = |k: &str| form_value(&form, k).unwrap_or_default();
    let now = ctx.now;
    match route {
        SegmentRoute::List => {
            // Read only: today's size is recorded by the cron and after saves.
            let counts = sizes(&db, &shop.id).await?;
            let since = time::format_date(now - 29 * time::DAY_MS);
            let history = d1::all(&db, &sql::size_history(&shop.id, &since)).await?;
            let listed = segments::listing(stored(&db, &shop.id).await?, &counts, &history);
            web::html(200, pages::list_page(&shop.name, &listed, now))
        }
        SegmentRoute::Edit(name) => {
            let rows = stored(&db, &shop.id).await?;
            match name {
                None => editor_response(200, pages::editor_page(&shop.name, &Editor::default())),
                Some(name) => {
                    let Some(row) = rows.iter().find(|r| r.name == name) else {
                        return Err(Error::not_found(format!("No segment named {name}.")));
                    };
                    let size = sizes(&db, &shop.id)
                        .await?
                        .iter()
                        .find(|c| c.segment == name)
                        .map_or(0.0, |c| c.size);
                    editor_response(
                        200,
                        pages::editor_page(
                            &shop.name,
                            &Editor {
                                existing: Some(&name),
                                name: &name,
                                source: &row.source,
                                error: None,
                                size: Some(size),
                            },
                        ),
                    )
                }
            }
        }
        SegmentRoute::Validate => {
            let rows = stored(&db, &shop.id).await?;
            let name = draft_name(&field("name"));
            let checked = segments::check(&name, &field("source"), &rows);
            web::json_no_store(200, &segments::validation_json(&checked))
        }
        SegmentRoute::Preview => {
            let rows = stored(&db, &shop.id).await?;
            let name = draft_name(&field("name"));
            match segments::check(&name, &field("source"), &rows) {
                Err(e) => web::json_no_store(200, &segments::validation_json(&Err(e))),
                Ok((_, set)) => {
                    let profiles = profiles(&db, &shop.id, now).await?;
                    let n = segments::members_of(&shop.id, &set, &name, &profiles, now).len();
                    web::json_no_store(
                        200,
                        &serde_json::json!({
                            "ok": true,
                            "count": n,
                            "evaluated": profiles.len(),
                            "limit": segments::PREVIEW_LIMIT,
                            "limited": profiles.len() as u32 >= segments::PREVIEW_LIMIT,
                        })
                        .to_string(),
                    )
                }
            }
        }
        SegmentRoute::Save(existing) => {
            let rows = stored(&db, &shop.id).await?;
            let name = existing
                .clone()
                .unwrap_or_else(|| field("name").trim().to_string());
            let source = field("source");
            if existing.is_some() && !rows.iter().any(|r| r.name == name) {
                return Err(Error::not_found(format!("No segment named {name}.")));
            }
            let taken = existing.is_none() && rows.iter().any(|r| r.name == name);
            let checked = if taken {
                Err(segments::RuleError {
                    message: format!("a segment named {name:?} already exists"),
                    line: None,
                    column: None,
                    display: format!("error: a segment named {name:?} already exists"),
                })
            } else {
                segments::check(&name, &source, &rows)
            };
            match checked {
                Err(e) => editor_response(
                    422,
                    pages::editor_page(
                        &shop.name,
                        &Editor {
                            existing: existing.as_deref(),
                            name: &name,
                            source: &source,
                            error: Some(&e),
                            size: None,
                        },
                    ),
                ),
                Ok((rule, set)) => {
                    d1::batch(
                        &db,
                        &segments::save_stmts(&shop.id, &name, &source, &rule, &set, now),
                    )
                    .await?;
                    forget(&shop.id);
                    ctx.after_response(after_save(ctx.env.clone(), shop.id.clone(), set, name));
                    web::redirect("/dashboard/segments", None)
                }
            }
        }
        SegmentRoute::Delete(name) => {
            let stored_rows = stored(&db, &shop.id).await?;
            if !stored_rows.iter().any(|r| r.name == name) {
                return Err(Error::not_found(format!("No segment named {name}.")));
            }
            let rows: Vec<SegmentRow> =
                stored_rows.into_iter().filter(|r| r.name != name).collect();
            let named = rows
                .iter()
                .filter_map(|r| r.rule().map(|rule| (r.name.clone(), rule)))
                .collect();
            let set = match SegmentSet::new(named) {
                Ok(set) => set,
                Err(e) => {
                    // Another segment refers to this one: say so instead of breaking it.
                    return Err(Error::status(
                        409,
                        format!("{name} cannot be deleted: {}", e.message()),
                    ));
                }
            };
            d1::batch(&db, &segments::delete_stmts(&shop.id, &name, &set, now)).await?;
            forget(&shop.id);
            web::redirect("/dashboard/segments", None)
        }
    }
}

/// The segments card of a customer page, from the object's profile JSON (`segment_state`).
pub fn customer_card(profile_json: &str, now_ms: i64) -> crate::platform::html::Fragment {
    let held: Vec<Held> = serde_json::from_str::<serde_json::Value>(profile_json)
        .ok()
        .and_then(|v| serde_json::from_value(v["segment_state"].clone()).ok())
        .unwrap_or_default();
    pages::customer_card(&held, now_ms)
}

/// The name a rule being edited is checked under: a new segment may not be named yet.
fn draft_name(name: &str) -> String {
    match name.trim() {
        "" => "unnamed".to_string(),
        name => name.to_string(),
    }
}
