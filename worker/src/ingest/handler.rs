//! `POST /v1/batch` (and the single-call routes): validate with the engine, group the events by
//! customer (a `userId`, a link made in the batch or seen lately, else the anonymous id, whose
//! object forwards them if it is linked), hand each customer's events to its Durable Object.
//! The answer waits only until the events are durable in the objects; the objects mirror them
//! to D1 afterwards (their outbox, delivered from an alarm).

use std::cell::RefCell;
use std::collections::HashMap;

use affinity::event::{parse_batch, Kind, MAX_BATCH_BYTES};
use affinity::json::Value;
use worker::Response;

use super::{ItemError, Outcome};
use crate::platform::auth;
use crate::platform::d1;
use crate::platform::store::events as ev;
use crate::platform::store::shops::Shop;
use crate::platform::web::{self, call_customer, Ctx};
use crate::platform::{Error, Result};

/// How long a link this isolate saw (anonymous id → customer) routes that id's events straight
/// to the customer's object. Without it they go to the anonymous id's own object, which holds
/// its link and forwards them: a link made through another isolate takes effect at once, and a
/// relink reaches this isolate's shortcut within this time.
const LINK_CACHE_MS: i64 = 10_000;

/// (shop, anonymous id) → (linked customer, when seen).
type LinkCache = HashMap<(String, String), (String, i64)>;

thread_local! {
    /// Per isolate: the identity links seen lately.
    static LINKS: RefCell<LinkCache> = RefCell::new(HashMap::new());
}

/// The customers this isolate saw `anonymous_ids` linked to lately (no storage is read: the
/// anonymous ids' objects know the rest).
fn cached_links(shop: &str, anonymous_ids: Vec<String>, now: i64) -> HashMap<String, String> {
    LINKS.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 50_000 {
            c.retain(|_, (_, at)| now - *at < LINK_CACHE_MS);
        }
        anonymous_ids
            .into_iter()
            .filter_map(|a| {
                let (customer, at) = c.get(&(shop.to_string(), a.clone()))?;
                (now - at < LINK_CACHE_MS).then(|| (a, customer.clone()))
            })
            .collect()
    })
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
    let links = super::links_in(&valid);
    let known = cached_links(&shop.id, super::anonymous_ids_to_resolve(&valid), now);
    if !links.is_empty() {
        let stmts: Vec<_> = links
            .iter()
            .map(|(anon, customer)| ev::link(&shop.id, anon, customer, now))
            .collect();
        d1::batch(&ctx.db()?, &stmts).await?;
        LINKS.with(|c| {
            let mut c = c.borrow_mut();
            for (anon, customer) in &links {
                c.insert((shop.id.clone(), anon.clone()), (customer.clone(), now));
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
    // Each new link is also kept by the anonymous id's object, which forwards that id's later
    // events (the identity map is never read on this path).
    let link_calls = links
        .iter()
        .map(|(anon, customer)| link_object(&ctx, &shop, anon, customer));
    let calls = groups.iter().map(|group| apply_group(&ctx, &shop, group));
    let (linked, answers) = futures_util::future::join(
        futures_util::future::join_all(link_calls),
        futures_util::future::join_all(calls),
    )
    .await;
    let mut unavailable = false;
    for ((anon, customer), ok) in links.iter().zip(linked) {
        if ok {
            continue;
        }
        unavailable = true;
        for e in groups.iter().flat_map(|g| &g.events) {
            let from = match e.kind {
                Kind::Alias => e.previous_id.as_deref(),
                _ => e.anonymous_id.as_deref(),
            };
            if e.user_id.as_deref() == Some(customer) && from == Some(anon) {
                outcome.errors.push(unavailable_item(&index_of, e));
            }
        }
    }
    for (group, answer) in groups.iter().zip(answers) {
        match answer {
            Some((applied, duplicates)) => {
                outcome.accepted += applied;
                outcome.duplicates += duplicates;
            }
            None => {
                unavailable = true;
                for e in &group.events {
                    outcome.errors.push(unavailable_item(&index_of, e));
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

/// The answer for an event whose object could not be reached: retry (delivery is idempotent).
fn unavailable_item(index_of: &HashMap<String, usize>, e: &affinity::event::Event) -> ItemError {
    ItemError {
        index: index_of.get(&e.message_id).copied().unwrap_or(0),
        message_id: Some(e.message_id.clone()),
        error: "temporarily unavailable; retry the batch (delivery is idempotent)".into(),
    }
}

/// Tells an anonymous id's object which customer it is linked to; false when it could not be
/// reached or refused (logged).
async fn link_object(ctx: &Ctx, shop: &Shop, anon: &str, customer: &str) -> bool {
    let mut body = Value::object();
    body.set("shop", shop.id.as_str().into());
    body.set("customer", anon.into());
    body.set("to", customer.into());
    match call_customer(&ctx.env, &shop.id, anon, "/link", Some(&body.to_json())).await {
        Ok(r) if r.status_code() == 200 => true,
        Ok(mut r) => {
            let text = r.text().await.unwrap_or_default();
            worker::console_error!("linking {anon}: {} {text}", r.status_code());
            false
        }
        Err(e) => {
            worker::console_error!("linking {anon}: {e}");
            false
        }
    }
}

/// Sends one customer's events to its Durable Object; `(applied, duplicates)`, or `None` when
/// the object could not be reached or refused them (logged). A group that is an anonymous id's
/// own (no link known here) asks the object to forward it if that id is linked.
async fn apply_group(ctx: &Ctx, shop: &Shop, group: &super::Group) -> Option<(usize, usize)> {
    let mut body = Value::object();
    body.set("shop", shop.id.as_str().into());
    body.set("count_automated", Value::Bool(shop.count_automated != 0.0));
    body.set("customer", group.customer.as_str().into());
    let anonymous = group
        .events
        .iter()
        .all(|e| e.user_id.is_none() && e.anonymous_id.as_deref() == Some(group.customer.as_str()));
    if anonymous {
        body.set("follow_link", Value::Bool(true));
    }
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
