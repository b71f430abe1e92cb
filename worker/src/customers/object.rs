//! The `Customer` Durable Object: one per shop and customer
//! ([`crate::platform::customer_object_name`]), with SQLite storage ([`store::object`]) holding
//! the applied messages (the timeline), the profile, segment membership and an outbox of D1
//! statements not yet delivered.
//!
//! `POST /apply` answers as soon as the new events, the profile and the outbox are committed to
//! the object's storage (one synchronous block: one transaction). Everything else happens in the
//! alarm, which `apply` sets to fire [`COALESCE_MS`] later: evaluating the shop's segments (the
//! engine's `SegmentSet`, cached per isolate, its version checked in D1 at most every
//! [`crate::segments::SET_CHECK_MS`]), delivering the outbox to D1 in order, and
//! re-arming at the set's `next_change_ms`, so a time window closing with no new event still
//! moves the customer out.
//!
//! Nothing is lost silently: a stored profile that does not decode is kept in `quarantine` as it
//! was and the profile is rebuilt from the stored messages (every applied event is kept); an
//! outbox entry that does not decode stays in the outbox, marked, and is skipped. Both are logged
//! with their id and counted on the shop's health figure (`/v1/admin/health`).
//!
//! Internal endpoints (called by the Worker only):
//! - `POST /apply` `{"shop","customer","events":[Segment JSON…]}` → `{"applied":n,"duplicates":d}`;
//!   with `"follow_link":true` (the customer is an anonymous id) an object that holds a link
//!   forwards the events to the linked customer's object and answers with its answer
//! - `POST /link` `{"shop","customer","to"}` → `{"linked":true}`: this anonymous id is linked to
//!   `to` (the latest link wins)
//! - `GET /profile` → the engine's profile JSON plus `rfm`, `cart_value`, `segments` (names of
//!   the segments the customer is in) and `segment_state` (404 if unknown)
//! - `POST /evaluate` → re-evaluates segments now (after a segment was saved) and re-arms
//! - `GET /timeline?limit=N` → `[{"message_id","ts","type","name","json"}]`, newest first
//! - `POST /erase` → deletes everything the object stores (its shop is being deleted)

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use affinity::event::Event;
use affinity::json::Value;
use affinity::profile::Profile;
use serde::de::DeserializeOwned;
use worker::{
    durable_object, DurableObject, Env, Request, Response, SqlStorage, SqlStorageValue, State,
};

use crate::platform::d1;
use crate::platform::store::{self, health, object as sql, Arg, Query, Stmt};
use crate::platform::web::{json, json_error, now_ms};
use crate::platform::{Error, Result};
use crate::segments::{self as segs, Held};

/// Retry delay for D1 statements that could not be delivered.
const RETRY_MS: i64 = 30_000;

/// The alarm after an apply waits this long, so the batches a shopper's page sends in quick
/// succession share one segment evaluation and one D1 delivery.
const COALESCE_MS: i64 = 500;

/// Outbox entries delivered per D1 round trip.
const OUTBOX_CHUNK: u32 = 20;

/// A customer's Durable Object.
#[durable_object]
#[derive(Debug)]
pub struct Customer {
    state: State,
    env: Env,
    flushing: Cell<bool>,
    /// Outbox entries this instance queued (a flush looks again only if it grew meanwhile).
    queued: Cell<u64>,
    /// The schema was ensured by this instance (the object's storage outlives instances).
    schema_ready: Cell<bool>,
    /// `meta` as read or written by this instance (write-through; the object is single-threaded).
    meta_cache: RefCell<HashMap<String, Option<String>>>,
    /// `meta_cache` holds every stored row.
    meta_loaded: Cell<bool>,
    /// The profile an apply just stored, handed to the alarm that follows so it does not decode
    /// it again (taken there; every other read goes to storage).
    handed_over: RefCell<Option<Profile>>,
}

fn value(arg: &Arg) -> SqlStorageValue {
    match arg {
        Arg::Null => SqlStorageValue::Null,
        Arg::Num(n) => SqlStorageValue::Float(*n),
        Arg::Text(s) => SqlStorageValue::String(s.clone()),
    }
}

/// The JSON body of an internal call (`what` names it in the 400 when it is unreadable or not
/// JSON).
async fn body_json(req: &mut Request, what: &str) -> Result<Value> {
    let body = req
        .text()
        .await
        .map_err(|e| Error::bad_request(format!("{what}: the body could not be read: {e}")))?;
    affinity::json::parse(&body)
        .map_err(|_| Error::bad_request(format!("{what}: body is not JSON")))
}

impl Customer {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn exec(&self, stmt: &Stmt) -> Result<()> {
        let args: Vec<SqlStorageValue> = stmt.args.iter().map(value).collect();
        self.sql().exec(&stmt.sql, Some(args))?;
        Ok(())
    }

    fn all<T: DeserializeOwned>(&self, q: &Query<T>) -> Result<Vec<T>> {
        let args: Vec<SqlStorageValue> = q.stmt.args.iter().map(value).collect();
        Ok(self.sql().exec(&q.stmt.sql, Some(args))?.to_array()?)
    }

    fn first<T: DeserializeOwned>(&self, q: &Query<T>) -> Result<Option<T>> {
        Ok(self.all(q)?.into_iter().next())
    }

    fn has_tables(&self) -> Result<bool> {
        Ok(self.first(&sql::has_tables())?.is_some_and(|c| c.n > 0.0))
    }

    /// Creates the schema (idempotent) and adds columns older objects lack. A new object gets
    /// the whole schema in one call; an existing one (a new instance of a stored object) also
    /// has its columns checked.
    fn ensure_schema(&self) -> Result<()> {
        if self.schema_ready.get() {
            return Ok(());
        }
        let existed = self.has_tables()?;
        self.sql().exec(&sql::SCHEMA.join(";\n"), None)?;
        if existed {
            for (table, column, alter) in sql::ADDED_COLUMNS {
                if !self
                    .all(&sql::columns(table))?
                    .iter()
                    .any(|c| c.name == column)
                {
                    self.exec(&Stmt::plain(alter))?;
                }
            }
        }
        self.schema_ready.set(true);
        Ok(())
    }

    /// A `meta` value. The first read of an instance loads every row (a handful) into the cache;
    /// writes go through it.
    fn meta(&self, key: &str) -> Result<Option<String>> {
        if !self.meta_loaded.get() {
            let rows = if self.schema_ready.get() || self.has_tables()? {
                self.all(&sql::all_meta())?
            } else {
                Vec::new()
            };
            let mut cache = self.meta_cache.borrow_mut();
            cache.clear();
            cache.extend(rows.into_iter().map(|r| (r.key, Some(r.value))));
            self.meta_loaded.set(true);
        }
        Ok(self.meta_cache.borrow().get(key).cloned().flatten())
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        if self.meta_cache.borrow().get(key).and_then(Option::as_deref) == Some(value) {
            return Ok(());
        }
        self.exec(&sql::set_meta(key, value))?;
        self.meta_cache
            .borrow_mut()
            .insert(key.to_string(), Some(value.to_string()));
        Ok(())
    }

    /// The stored profile. One that does not decode is kept in quarantine as it was, counted on
    /// the shop's health figure, and the profile is rebuilt from the stored messages.
    fn load_profile(&self, shop: &str, customer: &str) -> Result<Option<Profile>> {
        let Some(row) = self.first(&sql::profile())? else {
            return Ok(None);
        };
        let decoded = affinity::json::parse(&row.json)
            .map_err(|e| e.message().to_string())
            .and_then(|v| Profile::from_json(&v).map_err(|e| e.message().to_string()));
        match decoded {
            Ok(p) => Ok(Some(p)),
            Err(error) => {
                worker::console_error!(
                    "customer {shop}:{customer}: stored profile does not decode ({error}); \
                     kept in quarantine, rebuilding from the stored messages"
                );
                let now = now_ms();
                self.exec(&sql::quarantine(
                    "profile", customer, &row.json, &error, now,
                ))?;
                self.queue(&[health::record(shop, "profile", customer, &error, now)])?;
                let mut profile = Profile::new(customer);
                for m in self.all(&sql::all_messages())? {
                    if let Ok(e) = affinity::json::parse(&m.json)
                        .map_err(|_| ())
                        .and_then(|v| Event::from_json(&v).map_err(|_| ()))
                    {
                        super::apply_event(&mut profile, &e);
                    }
                }
                self.exec(&sql::set_profile(&profile.to_json().to_json()))?;
                Ok(Some(profile))
            }
        }
    }

    /// Adds D1 statements to the outbox (in entries of at most one D1 batch).
    fn queue(&self, stmts: &[Stmt]) -> Result<()> {
        for chunk in stmts.chunks(store::BATCH_STATEMENTS) {
            self.exec(&sql::push_outbox(&serde_json::to_string(chunk)?))?;
            self.queued.set(self.queued.get() + 1);
        }
        Ok(())
    }

    async fn apply(&self, mut req: Request) -> Result<Response> {
        let root = body_json(&mut req, "apply").await?;
        let (Some(shop), Some(customer)) = (root.get_str("shop"), root.get_str("customer")) else {
            return Err(Error::bad_request(
                "apply: `shop` and `customer` are required",
            ));
        };
        let raw_events = root.get("events").and_then(Value::as_array).unwrap_or(&[]);
        let count_automated = root.get("count_automated").and_then(Value::as_bool) != Some(false);
        let mut fresh: Vec<Event> = Vec::new();
        for raw in raw_events {
            let event = Event::from_json(raw)
                .map_err(|e| Error::bad_request(format!("apply: {}", e.message())))?;
            fresh.push(event);
        }
        // Everything below is synchronous: the runtime commits it as one transaction.
        self.ensure_schema()?;
        // An anonymous id linked to a customer: its events belong to that customer's object.
        if root.get("follow_link").and_then(Value::as_bool) == Some(true) {
            if let Some(to) = self.meta("linked_to")?.filter(|to| to != customer) {
                return self.forward(shop, &to, raw_events, count_automated).await;
            }
        }
        if self.meta("shop")?.is_none() {
            self.set_meta("shop", shop)?;
            self.set_meta("customer", customer)?;
        }
        // Idempotence: skip messages applied before (or twice in this request).
        let mut seen: HashSet<String> = HashSet::new();
        let ids: Vec<&str> = fresh.iter().map(|e| e.message_id.as_str()).collect();
        for chunk in ids.chunks(store::MAX_PARAMS) {
            for known in self.all(&sql::known_messages(chunk))? {
                seen.insert(known.message_id);
            }
        }
        let mut duplicates = 0usize;
        let mut new_events = Vec::with_capacity(fresh.len());
        for event in fresh {
            if !seen.insert(event.message_id.clone()) {
                duplicates += 1;
            } else {
                new_events.push(event);
            }
        }
        let applied = new_events.len();
        if applied > 0 {
            let now = now_ms();
            let mut profile = self
                .load_profile(shop, customer)?
                .unwrap_or_else(|| Profile::new(customer));
            let version: i64 = self
                .meta("version")?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
                + applied as i64;
            let was_bot = self.meta("bot")?.as_deref() == Some("1");
            let rows: Vec<sql::MessageRow<'_>> = new_events
                .iter()
                .map(|e| sql::MessageRow {
                    id: &e.message_id,
                    ts: e.timestamp_ms,
                    kind: e.kind.as_str(),
                    name: e.name.as_deref(),
                    json: e.to_json().to_json(),
                })
                .collect();
            for chunk in rows.chunks(16) {
                self.exec(&sql::insert_messages(chunk, now))?;
            }
            let latest_context = new_events
                .iter()
                .max_by_key(|e| e.timestamp_ms)
                .map(|e| (e.timestamp_ms, e.context.to_json()));
            let mut folded = crate::customers::fold(
                shop,
                customer,
                &mut profile,
                new_events,
                crate::customers::Mirror {
                    version,
                    was_bot,
                    count_automated,
                    now_ms: now,
                },
            );
            let profile_json = profile.to_json().to_json();
            self.exec(&sql::set_profile(&profile_json))?;
            *self.handed_over.borrow_mut() = Some(profile);
            self.set_meta("version", &version.to_string())?;
            if folded.any_bot {
                self.set_meta("bot", "1")?;
            }
            if let Some((ts, context)) = latest_context {
                let newer = self
                    .meta("context_ts")?
                    .and_then(|t| t.parse::<i64>().ok())
                    .is_none_or(|t| ts >= t);
                if newer {
                    self.set_meta("context_ts", &ts.to_string())?;
                    self.set_meta("context", &context)?;
                }
            }
            folded.statements.push(store::events::set_profile(
                shop,
                customer,
                &profile_json,
                version,
            ));
            self.queue(&folded.statements)?;
            // Segments and delivery to D1 happen in the alarm, after this answer.
            self.arm(Some(now + COALESCE_MS)).await;
        }
        json(
            200,
            &serde_json::json!({ "applied": applied, "duplicates": duplicates }).to_string(),
        )
    }

    /// Hands an apply on to the object of the customer this anonymous id is linked to, and
    /// answers with its answer.
    async fn forward(
        &self,
        shop: &str,
        to: &str,
        events: &[Value],
        count_automated: bool,
    ) -> Result<Response> {
        let mut body = Value::object();
        body.set("shop", shop.into());
        body.set("count_automated", Value::Bool(count_automated));
        body.set("customer", to.into());
        body.set("events", Value::Array(events.to_vec()));
        let mut answer = crate::platform::web::call_customer(
            &self.env,
            shop,
            to,
            "/apply",
            Some(&body.to_json()),
        )
        .await?;
        let status = answer.status_code();
        let text = answer.text().await?;
        json(status, &text)
    }

    /// `POST /link` `{"shop","customer","to"}`: this anonymous id is linked to `to` (the latest
    /// link wins); its later events are forwarded there.
    async fn link(&self, mut req: Request) -> Result<Response> {
        let root = body_json(&mut req, "link").await?;
        let (Some(shop), Some(customer), Some(to)) = (
            root.get_str("shop"),
            root.get_str("customer"),
            root.get_str("to"),
        ) else {
            return Err(Error::bad_request(
                "link: `shop`, `customer` and `to` are required",
            ));
        };
        self.ensure_schema()?;
        if self.meta("shop")?.is_none() {
            self.set_meta("shop", shop)?;
            self.set_meta("customer", customer)?;
        }
        self.set_meta("linked_to", to)?;
        json(200, "{\"linked\":true}")
    }

    /// Delivers the outbox to D1 in order; on failure, retries later from an alarm.
    async fn flush(&self, shop: &str) {
        if self.flushing.replace(true) {
            return; // The running flush picks up new rows.
        }
        let result = self.flush_all(shop).await;
        self.flushing.set(false);
        if let Err(e) = result {
            worker::console_error!("analytics delivery failed, retrying: {e}");
            self.arm(Some(now_ms() + RETRY_MS)).await;
        }
    }

    async fn flush_all(&self, shop: &str) -> Result<()> {
        let db = self.env.d1("DB")?;
        loop {
            let rows = self.all(&sql::outbox(OUTBOX_CHUNK))?;
            let Some(last) = rows.last().map(|r| r.id) else {
                return Ok(());
            };
            let full = rows.len() as u32 == OUTBOX_CHUNK;
            let queued_before = self.queued.get();
            let mut stmts: Vec<Stmt> = Vec::new();
            let mut delivered = 0usize;
            for row in rows {
                match serde_json::from_str::<Vec<Stmt>>(&row.statements) {
                    Ok(s) => {
                        stmts.extend(s);
                        delivered += 1;
                    }
                    Err(e) => {
                        // Kept as it was, skipped by delivery, counted.
                        let reference =
                            format!("{}#{}", self.meta("customer")?.unwrap_or_default(), row.id);
                        worker::console_error!("outbox entry {reference} does not decode: {e}");
                        self.exec(&sql::fail_outbox(row.id))?;
                        self.queue(&[health::record(
                            shop,
                            "outbox",
                            &reference,
                            &e.to_string(),
                            now_ms(),
                        )])?;
                    }
                }
            }
            d1::batch(&db, &stmts).await?;
            if delivered > 0 {
                self.exec(&sql::delete_delivered(last))?;
            }
            // Another round only if this one was full or entries were queued meanwhile (an
            // alarm that fires during this flush leaves them to it).
            if !full && self.queued.get() == queued_before {
                return Ok(());
            }
        }
    }

    fn held(&self) -> Result<Vec<Held>> {
        Ok(self
            .all(&sql::held())?
            .into_iter()
            .map(|r| Held {
                name: r.name,
                member: r.member > 0.0,
                entered_at: r.entered_at.map(|t| t as i64),
                exited_at: r.exited_at.map(|t| t as i64),
            })
            .collect())
    }

    /// Evaluates the set with the engine over the stored context, stores the new membership and
    /// queues the D1 statements mirroring the changes; returns the next time to look again.
    /// Synchronous: one storage transaction.
    fn evaluate_segments(
        &self,
        shop: &str,
        customer: &str,
        profile: &Profile,
        set: &affinity::rules::SegmentSet,
        now: i64,
    ) -> Result<Option<i64>> {
        let context = self
            .meta("context")?
            .and_then(|c| affinity::json::parse(&c).ok())
            .unwrap_or_default();
        let context = segs::context_of(&context);
        let previous = self.held()?;
        let eval = segs::evaluate(shop, set, profile, &context, &previous, now);
        // Segments no longer in the set are forgotten (their D1 rows go with the segment). The
        // stored state is rewritten only when it changed.
        if eval.state != previous {
            self.exec(&sql::clear_held())?;
            for h in &eval.state {
                self.exec(&sql::insert_held(
                    &h.name,
                    h.member,
                    h.entered_at,
                    h.exited_at,
                ))?;
            }
        }
        let mut stmts: Vec<Stmt> = eval
            .changed
            .iter()
            .map(|h| segs::membership_stmt(shop, customer, h, now))
            .collect();
        // First evaluation of a segment (new segment or new customer) with no membership: clear
        // a backfilled row, if any, without creating one.
        for h in &eval.state {
            if !h.member && !previous.iter().any(|p| p.name == h.name) {
                stmts.push(segs::clear_stmt(shop, customer, &h.name, now));
            }
        }
        self.queue(&stmts)?;
        Ok(eval.next_change_ms)
    }

    /// Sets the alarm to `at` (Unix ms) unless one is already due earlier.
    async fn arm(&self, at: Option<i64>) {
        let Some(at) = at else { return };
        let storage = self.state.storage();
        let now = now_ms();
        let existing = storage.get_alarm().await.ok().flatten();
        if existing.is_some_and(|t| t > now && t <= at) {
            return;
        }
        if let Err(e) = storage.set_alarm((at - now).max(1)).await {
            worker::console_error!("setting the alarm failed: {e}");
        }
    }

    /// The alarm (and `POST /evaluate`): evaluates segments (a window may have closed, events
    /// arrived, or the set changed), delivers the outbox, re-arms.
    async fn reevaluate(&self, fresh: bool) -> Result<()> {
        self.ensure_schema()?;
        let (Some(shop), Some(customer)) = (self.meta("shop")?, self.meta("customer")?) else {
            return Ok(());
        };
        let mut next = None;
        // The set this customer was last evaluated with: never evaluate with an older one.
        let evaluated_with: i64 = self
            .meta("set_version")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let set = match self.env.d1("DB") {
            Ok(db) => {
                crate::segments::handler::current_set(&db, &shop, fresh, evaluated_with).await
            }
            Err(e) => Err(Error::from(e)),
        };
        match set {
            Ok(Some((version, set))) => {
                let handed_over = self.handed_over.borrow_mut().take();
                let profile = match handed_over {
                    Some(p) => Some(p),
                    None => self.load_profile(&shop, &customer)?,
                };
                if let Some(profile) = profile {
                    next = self.evaluate_segments(&shop, &customer, &profile, &set, now_ms())?;
                    self.set_meta("set_version", &version.to_string())?;
                }
            }
            Ok(None) => {}
            // The set could not be read or decoded now: keep the stored membership as it is and
            // look again later (never evaluate against an empty set: that would forget it).
            Err(e) => {
                worker::console_error!("segments of {shop}: {e}");
                next = Some(now_ms() + RETRY_MS);
            }
        }
        self.flush(&shop).await;
        self.arm(next).await;
        Ok(())
    }

    fn profile(&self) -> Result<Response> {
        if !self.has_tables()? {
            return json_error(404, "unknown customer");
        }
        let shop = self.meta("shop")?.unwrap_or_default();
        let customer = self.meta("customer")?.unwrap_or_default();
        let Some(profile) = self.load_profile(&shop, &customer)? else {
            return json_error(404, "unknown customer");
        };
        let now = now_ms();
        let rfm = profile.rfm(now);
        let mut v = profile.to_json();
        let mut r = Value::object();
        r.set(
            "recency_days",
            rfm.recency_days.map_or(Value::Null, Value::Number),
        );
        r.set("frequency", f64::from(rfm.frequency).into());
        r.set("monetary", rfm.monetary.into());
        v.set("rfm", r);
        v.set("cart_value", profile.cart_value().into());
        v.set("shop", shop.into());
        let held = self.held()?;
        v.set(
            "segments",
            Value::Array(
                held.iter()
                    .filter(|h| h.member)
                    .map(|h| h.name.as_str().into())
                    .collect(),
            ),
        );
        let state = affinity::json::parse(&serde_json::to_string(&held)?).unwrap_or_default();
        v.set("segment_state", state);
        json(200, &v.to_json())
    }

    fn timeline(&self, limit: u32) -> Result<Response> {
        if !self.has_tables()? {
            return json(200, "[]");
        }
        let rows = self.all(&sql::timeline(limit))?;
        json(200, &serde_json::to_string(&rows)?)
    }

    async fn route(&self, req: Request) -> Result<Response> {
        let url = req.url()?;
        let method = req.method().to_string();
        match (method.as_str(), url.path()) {
            ("POST", "/apply") => self.apply(req).await,
            ("POST", "/link") => self.link(req).await,
            ("GET", "/profile") => self.profile(),
            ("POST", "/erase") => {
                // The shop is being deleted: everything this object stores goes, alarm included.
                let storage = self.state.storage();
                storage.delete_alarm().await?;
                storage.delete_all().await?;
                self.schema_ready.set(false);
                self.meta_cache.borrow_mut().clear();
                self.meta_loaded.set(false);
                self.handed_over.borrow_mut().take();
                json(200, "{\"erased\":true}")
            }
            ("POST", "/evaluate") => {
                if self.has_tables()? {
                    self.reevaluate(true).await?;
                }
                json(200, "{\"evaluated\":true}")
            }
            ("GET", "/timeline") => {
                let limit = url
                    .query_pairs()
                    .find(|(k, _)| k == "limit")
                    .and_then(|(_, v)| v.parse::<u32>().ok())
                    .unwrap_or(50)
                    .clamp(1, 500);
                self.timeline(limit)
            }
            _ => json_error(404, "no such customer endpoint"),
        }
    }
}

impl DurableObject for Customer {
    fn new(state: State, env: Env) -> Self {
        Customer {
            state,
            env,
            flushing: Cell::new(false),
            queued: Cell::new(0),
            schema_ready: Cell::new(false),
            meta_cache: RefCell::new(HashMap::new()),
            meta_loaded: Cell::new(false),
            handed_over: RefCell::new(None),
        }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        match self.route(req).await {
            Ok(r) => Ok(r),
            Err(Error::Status { status, message }) => Ok(json_error(status, &message)?),
            Err(e) => Err(e.into()),
        }
    }

    async fn alarm(&self) -> worker::Result<Response> {
        if self.schema_ready.get() || self.has_tables()? {
            self.reevaluate(false).await?;
        }
        Response::ok("done")
    }
}
