//! Segments on the runtime: D1 reads and writes, the shop config's `segments`, the per-isolate
//! cache customer objects evaluate with, and the dashboard handlers. The logic is in the pure
//! [`crate::segments`] module.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use affinity::rules::SegmentSet;
use affinity::time;
use serde::Deserialize;
use worker::{D1Database, Env, Headers, Request, Response, Result};

use crate::analytics::{d1, Stmt};
use crate::edge::{db, html_response, json_error, json_response, now_ms, redirect, session};
use crate::routes::{form_value, parse_form};
use crate::segments::pages::{self, Editor, SegmentRoute};
use crate::segments::{self, CountRow, Held, SegmentRow, SizeRow, StoredProfile};

thread_local! {
    /// Per isolate: shop → (set version, compiled set).
    static SETS: RefCell<HashMap<String, (i64, Rc<SegmentSet>)>> = RefCell::new(HashMap::new());
}

#[derive(Deserialize)]
struct SetRow {
    version: f64,
    compiled: String,
}

#[derive(Deserialize)]
struct VersionRow {
    version: f64,
}

/// Gives a shop the default segments when it has none yet (idempotent; the demo shop calls it
/// when it is ensured).
pub async fn ensure_defaults(db: &D1Database, shop: &str) -> Result<()> {
    d1::run_batch(db, &segments::default_stmts(shop, now_ms())).await
}

/// The shop's compiled set as shipped (`(version, base64url)`); version 0 and an empty set when
/// the shop has none.
pub async fn shipped(db: &D1Database, shop: &str) -> Result<(i64, String)> {
    let row: Option<SetRow> = d1::first(
        db,
        "SELECT version, compiled FROM segment_sets WHERE shop = ?",
        &[shop.into()],
    )
    .await?;
    Ok(match row {
        Some(r) => (r.version as i64, r.compiled),
        None => (0, segments::encode_set(&segments::compile(&[]))),
    })
}

/// Adds `segments` to the shop config JSON and folds the set's version into its `version`.
pub async fn add_to_config(env: &Env, shop: &str, config_json: &str) -> Result<String> {
    let (version, compiled) = shipped(&db(env)?, shop).await?;
    Ok(segments::with_segments(config_json, &compiled, version))
}

/// The shop's set for evaluation: the version is read from D1 on every call, the set is decoded
/// only when the version changed (cached per isolate). `None` when the shop has no segments.
pub async fn current_set(db: &D1Database, shop: &str) -> Result<Option<(i64, Rc<SegmentSet>)>> {
    let version: Option<VersionRow> = d1::first(
        db,
        "SELECT version FROM segment_sets WHERE shop = ?",
        &[shop.into()],
    )
    .await?;
    let Some(version) = version.map(|v| v.version as i64) else {
        return Ok(None);
    };
    let cached = SETS.with(|s| {
        s.borrow()
            .get(shop)
            .filter(|(v, _)| *v == version)
            .map(|(v, set)| (*v, set.clone()))
    });
    if cached.is_some() {
        return Ok(cached);
    }
    let (version, compiled) = shipped(db, shop).await?;
    let set = Rc::new(segments::decode_set(&compiled).unwrap_or_else(|| segments::compile(&[])));
    SETS.with(|s| {
        s.borrow_mut()
            .insert(shop.to_string(), (version, set.clone()))
    });
    Ok(Some((version, set)))
}

async fn stored(db: &D1Database, shop: &str) -> Result<Vec<SegmentRow>> {
    d1::rows(
        db,
        "SELECT name, source, compiled, created_at, updated_at, version FROM segments \
         WHERE shop = ? ORDER BY name",
        &[shop.into()],
    )
    .await
}

async fn sizes(db: &D1Database, shop: &str) -> Result<Vec<CountRow>> {
    d1::rows(db, segments::SIZES_SQL, &[shop.into()]).await
}

/// Computes every segment's size from the D1 memberships and records it for today.
pub async fn record_sizes(db: &D1Database, shop: &str) -> Result<Vec<CountRow>> {
    let names = stored(db, shop).await?;
    let counts = sizes(db, shop).await?;
    let day = time::format_date(now_ms());
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
    for chunk in stmts.chunks(d1::BATCH_STATEMENTS) {
        d1::run_batch(db, chunk).await?;
    }
    Ok(counts)
}

/// The cron's part: records today's sizes for every shop with segments.
pub async fn record_all_sizes(env: &Env) -> Result<()> {
    #[derive(Deserialize)]
    struct S {
        shop: String,
    }
    let db = db(env)?;
    let shops: Vec<S> = d1::rows(&db, "SELECT shop FROM segment_sets LIMIT 1000", &[]).await?;
    for s in shops {
        record_sizes(&db, &s.shop).await?;
    }
    Ok(())
}

async fn profiles(db: &D1Database, shop: &str) -> Result<Vec<StoredProfile>> {
    d1::rows(
        db,
        segments::PROFILES_SQL,
        &[shop.into(), f64::from(segments::PREVIEW_LIMIT).into()],
    )
    .await
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
    #[derive(Deserialize)]
    struct M {
        customer_id: String,
    }
    let now = now_ms();
    let profiles = profiles(db, shop).await?;
    let members = segments::members_of(shop, set, name, &profiles, now);
    let current: Vec<M> = d1::rows(
        db,
        "SELECT customer_id FROM memberships WHERE shop = ? AND segment = ? AND member = 1",
        &[shop.into(), name.into()],
    )
    .await?;
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
    for chunk in stmts.chunks(d1::BATCH_STATEMENTS) {
        d1::run_batch(db, chunk).await?;
    }
    Ok(changed)
}

/// Asks the objects of customers a backfill changed to re-evaluate now (at most
/// [`segments::NOTIFY_LIMIT`], concurrently): they keep the segment's state, entry time and alarm
/// (a backfilled time window then still closes on time). Others pick the new set up with their
/// next event or alarm. Failures are logged, not fatal.
async fn notify(env: &Env, shop: &str, customers: &[String]) {
    let Ok(namespace) = env.durable_object("CUSTOMER") else {
        return;
    };
    let calls = customers
        .iter()
        .take(segments::NOTIFY_LIMIT)
        .map(|customer| {
            let namespace = &namespace;
            async move {
                let stub = namespace
                    .id_from_name(&format!("{shop}:{customer}"))?
                    .get_stub()?;
                let mut init = worker::RequestInit::new();
                init.with_method(worker::Method::Post);
                stub.fetch_with_request(Request::new_with_init("https://customer/evaluate", &init)?)
                    .await
            }
        });
    for r in futures_util::future::join_all(calls).await {
        if let Err(e) = r {
            worker::console_error!("segments: re-evaluating a customer failed: {e}");
        }
    }
}

/// The Content-Security-Policy of pages that run the editor script: the dashboard's strict policy
/// plus that one inline script (by hash) and fetches to this origin.
fn editor_response(status: u16, html: String) -> Result<Response> {
    let mut resp = html_response(status, html)?;
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

fn no_store_json(status: u16, body: &str) -> Result<Response> {
    let mut resp = json_response(status, body)?;
    let h: &mut Headers = resp.headers_mut();
    h.set("Cache-Control", "no-store")?;
    Ok(resp)
}

/// Handles `/dashboard/segments…` (signed in).
pub async fn handle(route: SegmentRoute, mut req: Request, env: &Env) -> Result<Response> {
    let Some(shop) = session(&req, env).await? else {
        return match route {
            SegmentRoute::Validate | SegmentRoute::Preview => json_error(401, "not signed in"),
            _ => redirect("/dashboard/login", None),
        };
    };
    let db = db(env)?;
    let form = if req.method() == worker::Method::Post {
        parse_form(&req.text().await.unwrap_or_default())
    } else {
        Vec::new()
    };
    let field = |k: &str| form_value(&form, k).unwrap_or_default();
    let now = now_ms();
    match route {
        SegmentRoute::List => {
            let counts = record_sizes(&db, &shop.id).await?;
            let since = time::format_date(now - 29 * time::DAY_MS);
            let history: Vec<SizeRow> = d1::rows(
                &db,
                "SELECT segment, day, size FROM segment_sizes WHERE shop = ? AND day >= ? \
                 ORDER BY day",
                &[shop.id.as_str().into(), since.into()],
            )
            .await?;
            let listed = segments::listing(stored(&db, &shop.id).await?, &counts, &history);
            html_response(200, pages::list_page(&shop.name, &listed, now))
        }
        SegmentRoute::Edit(name) => {
            let rows = stored(&db, &shop.id).await?;
            match name {
                None => editor_response(200, pages::editor_page(&shop.name, &Editor::default())),
                Some(name) => {
                    let Some(row) = rows.iter().find(|r| r.name == name) else {
                        return html_response(
                            404,
                            crate::dashboard::not_found_page(
                                &shop.name,
                                &format!("No segment named {name}."),
                            ),
                        );
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
            no_store_json(200, &segments::validation_json(&checked))
        }
        SegmentRoute::Preview => {
            let rows = stored(&db, &shop.id).await?;
            let name = draft_name(&field("name"));
            match segments::check(&name, &field("source"), &rows) {
                Err(e) => no_store_json(200, &segments::validation_json(&Err(e))),
                Ok((_, set)) => {
                    let profiles = profiles(&db, &shop.id).await?;
                    let n = segments::members_of(&shop.id, &set, &name, &profiles, now).len();
                    no_store_json(
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
                    d1::run_batch(
                        &db,
                        &segments::save_stmts(&shop.id, &name, &source, &rule, &set, now),
                    )
                    .await?;
                    let changed = backfill(&db, &shop.id, &set, &name).await?;
                    notify(env, &shop.id, &changed).await;
                    record_sizes(&db, &shop.id).await?;
                    redirect("/dashboard/segments", None)
                }
            }
        }
        SegmentRoute::Delete(name) => {
            let rows: Vec<SegmentRow> = stored(&db, &shop.id)
                .await?
                .into_iter()
                .filter(|r| r.name != name)
                .collect();
            let named = rows
                .iter()
                .filter_map(|r| r.rule().map(|rule| (r.name.clone(), rule)))
                .collect();
            let set = match SegmentSet::new(named) {
                Ok(set) => set,
                Err(e) => {
                    // Another segment refers to this one: say so instead of breaking it.
                    return html_response(
                        409,
                        crate::dashboard::not_found_page(
                            &shop.name,
                            &format!("{name} cannot be deleted: {}", e.message()),
                        ),
                    );
                }
            };
            d1::run_batch(&db, &segments::delete_stmts(&shop.id, &name, &set, now)).await?;
            redirect("/dashboard/segments", None)
        }
        SegmentRoute::MethodNotAllowed => json_error(405, "method not allowed"),
    }
}

/// The segments card of a customer page, from the object's profile JSON (`segment_state`).
pub fn customer_card(profile_json: &str, now_ms: i64) -> String {
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
