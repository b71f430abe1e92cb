//! `POST /v1/batch` (and the single-call routes): validate with the engine, resolve each event's
//! customer through the shop's identity map, hand each customer's events to its Durable Object.
//! The answer waits only until the events are durable in the objects; the objects mirror them
//! to D1 afterwards (their outbox, delivered from an alarm).

use std::cell::RefCell;
use std::collections::HashMap;

use affinity::event::{parse_batch, MAX_BATCH_BYTES};
use affinity::json::Value;
use worker::Response;

use super::{ItemError, Outcome};
use crate::platform::auth;
use crate::platform::d1;
use crate::platform::store::shops::Shop;
use crate::platform::store::{events as ev, MAX_PARAMS};
use crate::platform::web::{self, call_customer, Ctx};
use crate::platform::{Error, Result};

/// How long an anonymous id's link (or its absence) is remembered per isolate: an `identify`
/// handled by another isolate reaches this one's routing within this time.
const LINK_CACHE_MS: i64 = 10_000;

/// (shop, anonymous id) → (linked customer, when looked up).
type LinkCache = HashMap<(String, String), (Option<String>, i64)>;

thread_local! {
    /// Per isolate: the identity links seen lately.
    static LINKS: RefCell<LinkCache> = RefCell::new(HashMap::new());
}

/// The customers `anonymous_ids` are linked to in the shop's identity map, from the per-isolate
/// cache or D1.
async fn resolve(
    db: &worker::D1Database,
    shop: &str,
    anonymous_ids: Vec<String>,
    now: i64,
) -> Result<HashMap<String, String>> {
    let mut known = HashMap::new();
    let mut lookup = Vec::new();
    LINKS.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 50_000 {
            c.retain(|_, (_, at)| now - *at < LINK_CACHE_MS);
        }
        for a in anonymous_ids {
            match c.get(&(shop.to_string(), a.clone())) {
                Some((link, at)) if now - at < LINK_CACHE_MS => {
                    if let Some(customer) = link {
                        known.insert(a, customer.clone());
                    }
                }
                _ => lookup.push(a),
            }
        }
    });
    for chunk in lookup.chunks(MAX_PARAMS - 1) {
        let found = d1::all(db, &ev::links_of(shop, chunk)).await?;
        LINKS.with(|c| {
            let mut c = c.borrow_mut();
            for a in chunk {
                let link = found
                    .iter()
                    .find(|l| &l.anonymous_id == a)
                    .map(|l| l.customer_id.clone());
                if let Some(customer) = &link {
                    known.insert(a.clone(), customer.clone());
                }
                c.insert((shop.to_string(), a.clone()), (link, now));
            }
        });
    }
    Ok(known)
}

/// Who the events of a batch come from, for the model's source counting.
#[derive(Debug, Clone, PartialEq)]
pub enum Sender {
    /// The public API (the write key names the shop): the request's address prefix and user
    /// agent are the source.
    Request,
    /// The admin seed path for this shop (the admin secret names it; a write key in the body is
    /// ignored): each customer is its own source (the demo's synthetic history).
    Seed(Shop),
}

/// Handles a batch; `call` is the type of a single-call route (`track`, `identify`, …).
pub async fn batch(ctx: Ctx, call: Option<&'static str>) -> Result<Response> {
    receive(ctx, call, Sender::Request).await
}

/// `POST /v1/admin/seed?shop=`: a batch sent with the admin secret whose customers each count
/// as their own source.
pub async fn seed(ctx: Ctx) -> Result<Response> {
    let shop = ctx.admin_shop().await?;
    receive(ctx, None, Sender::Seed(shop)).await
}

async fn receive(mut ctx: Ctx, call: Option<&'static str>, sender: Sender) -> Result<Response> {
    let too_large = || {
        Error::status(
            413,
            format!("the body is larger than the {MAX_BATCH_BYTES}-byte limit"),
        )
    };
    if ctx
        .header("Content-Length")
        .and_then(|l| l.parse::<usize>().ok())
        .is_some_and(|l| l > MAX_BATCH_BYTES)
    {
        return Err(too_large());
    }
    let mut body = ctx.text().await?;
    if body.len() > MAX_BATCH_BYTES {
        return Err(too_large());
    }
    if let Some(call) = call {
        body = super::single_to_batch(&body, call).map_err(|e| Error::bad_request(e.message()))?;
    }
    let now = ctx.now;
    let (envelope, items) = match parse_batch(&body, now) {
        Ok(parsed) => parsed,
        Err(e) if e.is_too_large() => return Err(Error::status(413, e.message())),
        Err(e) => return Err(Error::bad_request(e.message())),
    };
    let shop = match &sender {
        Sender::Seed(shop) => shop.clone(),
        Sender::Request => {
            let key = envelope
                .get_str("writeKey")
                .map(str::to_string)
                .or_else(|| {
                    ctx.header("Authorization")
                        .and_then(|h| auth::basic_write_key(&h))
                })
                .ok_or_else(|| {
                    Error::unauthorized(
                        "a write key is required (`writeKey` in the body or HTTP Basic auth)",
                    )
                })?;
            ctx.shop_for_key(&key).await?
        }
    };
    let mut outcome = Outcome::default();
    let mut valid = Vec::new();
    let mut failed = Vec::new();
    let mut index_of: HashMap<String, usize> = HashMap::new();
    for item in items {
        match item.result {
            Ok(e) => {
                index_of.entry(e.message_id.clone()).or_insert(item.index);
                valid.push(super::within_consent(e));
            }
            Err(e) => failed.push((item.index, e.message().to_string())),
        }
    }
    if !failed.is_empty() {
        let ids = super::message_ids(&body);
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
        return respond(&outcome);
    }
    if let Some(cf) = ctx.req.cf() {
        super::with_edge_location(&mut valid, cf.country().as_deref(), cf.region().as_deref());
    }
    let db = ctx.db()?;
    let links = super::links_in(&valid);
    let lookup: Vec<String> = super::anonymous_ids_to_resolve(&valid)
        .into_iter()
        .filter(|a| !links.iter().any(|(l, _)| l == a))
        .collect();
    let known = resolve(&db, &shop.id, lookup, now).await?;
    if !links.is_empty() {
        let stmts: Vec<_> = links
            .iter()
            .map(|(anon, customer)| ev::link(&shop.id, anon, customer, now))
            .collect();
        d1::batch(&db, &stmts).await?;
        LINKS.with(|c| {
            let mut c = c.borrow_mut();
            for (anon, customer) in &links {
                c.insert(
                    (shop.id.clone(), anon.clone()),
                    (Some(customer.clone()), now),
                );
            }
        });
    }
    let mut groups = super::group_by_customer(valid, &known);
    // Every event's source is the edge's, whatever the sender wrote there.
    let request_source = super::source_of(
        &shop.admin_hash,
        ctx.header("CF-Connecting-IP").as_deref(),
        ctx.header("User-Agent").as_deref(),
    );
    for g in &mut groups {
        let source = match sender {
            Sender::Request => request_source.clone(),
            Sender::Seed(_) => super::seed_source(&shop.admin_hash, &g.customer),
        };
        for e in &mut g.events {
            if e.context.as_object().is_none() {
                e.context = Value::object();
            }
            e.context.set(super::SOURCE_KEY, source.as_str().into());
        }
    }
    let calls = groups.iter().map(|group| apply_group(&ctx, &shop, group));
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
    if outcome.accepted > 0 {
        ctx.after_response(crate::config::jobs::build_if_needed(
            ctx.env.clone(),
            shop.id.clone(),
        ));
    }
    if unavailable {
        return web::json(503, &serde_json::to_string(&outcome)?);
    }
    respond(&outcome)
}

/// Sends one customer's events to its Durable Object; `(applied, duplicates)`, or `None` when
/// the object could not be reached or refused them (logged).
async fn apply_group(ctx: &Ctx, shop: &Shop, group: &super::Group) -> Option<(usize, usize)> {
    let mut body = Value::object();
    body.set("shop", shop.id.as_str().into());
    body.set("count_automated", Value::Bool(shop.count_automated != 0.0));
    body.set("customer", group.customer.as_str().into());
    body.set(
        "events",
        Value::Array(group.events.iter().map(|e| e.to_json()).collect()),
    );
    let answer = call_customer(
        &ctx.env,
        &shop.id,
        &group.customer,
        "/apply",
        Some(&body.to_json()),
    )
    .await;
    match answer {
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

fn respond(outcome: &Outcome) -> Result<Response> {
    web::json(outcome.status(), &serde_json::to_string(outcome)?)
}
