//! The `Customer` Durable Object: one per shop and customer (`idFromName(shop + ":" + customer)`),
//! with SQLite storage holding the applied messages (the timeline), the profile, segment
//! membership and an outbox of D1 statements not yet delivered.
//!
//! Segments: after every applied batch the object evaluates the shop's segments (the engine's
//! `SegmentSet`, loaded from D1 and cached by version) over its profile and the context of the
//! customer's latest event, keeps membership with entry and exit times in its `segments` table,
//! mirrors changes to D1 `memberships` through the outbox, and sets its alarm to the set's
//! `next_change_ms`, so a time window closing with no new event still moves the customer out. The
//! alarm re-evaluates, delivers the outbox and re-arms.
//!
//! Internal endpoints (called by the Worker only):
//! - `POST /apply` `{"shop","customer","events":[Segment JSON…]}` → `{"applied":n,"duplicates":d}`
//! - `GET /profile` → the engine's profile JSON plus `rfm`, `cart_value`, `segments` (names of
//!   the segments the customer is in) and `segment_state` (`[{name, member, entered_at,
//!   exited_at}]`) (404 if unknown)
//! - `POST /evaluate` → re-evaluates segments now (after a segment was saved) and re-arms
//! - `GET /timeline?limit=N` → `[{"message_id","ts","type","name","json"}]`, newest first

use std::cell::Cell;
use std::collections::HashSet;

use affinity::event::Event;
use affinity::json::Value;
use affinity::profile::Profile;
use serde::Deserialize;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, SqlStorage, State};

use crate::analytics::{self, d1, Stmt};
use crate::edge::{json_error, json_response, now_ms};
use crate::segments::{self as segs, Held};
use crate::segments_edge;

/// Retry delay for D1 statements that could not be delivered.
const RETRY_MS: i64 = 30_000;

const SCHEMA: [&str; 5] = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS messages (message_id TEXT PRIMARY KEY, ts INTEGER NOT NULL, \
     type TEXT NOT NULL, name TEXT, json TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS messages_by_ts ON messages (ts)",
    "CREATE TABLE IF NOT EXISTS profile (id INTEGER PRIMARY KEY CHECK (id = 1), \
     json TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS segments (name TEXT PRIMARY KEY, member INTEGER NOT NULL, \
     entered_at INTEGER, exited_at INTEGER)",
];
const OUTBOX: &str = "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, \
     statements TEXT NOT NULL)";

/// A customer's Durable Object.
#[durable_object]
#[derive(Debug)]
pub struct Customer {
    state: State,
    env: Env,
    flushing: Cell<bool>,
}

#[derive(Deserialize)]
struct One<T> {
    v: T,
}

#[derive(Deserialize)]
struct Json {
    json: String,
}

impl Customer {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn has_tables(&self) -> Result<bool> {
        let rows: Vec<One<f64>> = self
            .sql()
            .exec(
                "SELECT COUNT(*) AS v FROM sqlite_master WHERE type = 'table' AND name = 'profile'",
                None,
            )?
            .to_array()?;
        Ok(rows.first().is_some_and(|r| r.v > 0.0))
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        let rows: Vec<One<String>> = self
            .sql()
            .exec(
                "SELECT value AS v FROM meta WHERE key = ?",
                vec![key.into()],
            )?
            .to_array()?;
        Ok(rows.into_iter().next().map(|r| r.v))
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.sql().exec(
            "INSERT INTO meta (key, value) VALUES (?, ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            vec![key.into(), value.into()],
        )?;
        Ok(())
    }

    fn load_profile(&self, customer: &str) -> Result<Option<Profile>> {
        let rows: Vec<Json> = self
            .sql()
            .exec("SELECT json FROM profile WHERE id = 1", None)?
            .to_array()?;
        match rows.first() {
            None => Ok(None),
            Some(r) => {
                let v = affinity::json::parse(&r.json)
                    .map_err(|e| worker::Error::RustError(e.message().to_string()))?;
                Ok(Some(
                    Profile::from_json(&v).unwrap_or_else(|_| Profile::new(customer)),
                ))
            }
        }
    }

    async fn apply(&self, mut req: Request) -> Result<Response> {
        let body = req.text().await?;
        let Ok(root) = affinity::json::parse(&body) else {
            return json_error(400, "apply: body is not JSON");
        };
        let (Some(shop), Some(customer)) = (root.get_str("shop"), root.get_str("customer")) else {
            return json_error(400, "apply: `shop` and `customer` are required");
        };
        let raw_events = root.get("events").and_then(Value::as_array).unwrap_or(&[]);
        let sql = self.sql();
        for stmt in SCHEMA.iter().chain([OUTBOX].iter()) {
            sql.exec(stmt, None)?;
        }
        if self.meta("shop")?.is_none() {
            self.set_meta("shop", shop)?;
            self.set_meta("customer", customer)?;
        }
        // Idempotence: skip messages applied before (or twice in this request).
        let mut seen: HashSet<String> = HashSet::new();
        let mut fresh: Vec<Event> = Vec::new();
        let mut duplicates = 0usize;
        for raw in raw_events {
            let event = match Event::from_json(raw) {
                Ok(e) => e,
                Err(e) => return json_error(400, &format!("apply: {}", e.message())),
            };
            let known: Vec<One<f64>> = sql
                .exec(
                    "SELECT COUNT(*) AS v FROM messages WHERE message_id = ?",
                    vec![event.message_id.as_str().into()],
                )?
                .to_array()?;
            if known.first().is_some_and(|k| k.v > 0.0) || !seen.insert(event.message_id.clone()) {
                duplicates += 1;
            } else {
                fresh.push(event);
            }
        }
        let applied = fresh.len();
        if applied > 0 {
            // Read before the synchronous block below (a D1 round trip; cached by version).
            let set = self.segment_set(shop).await;
            let now = now_ms();
            let mut profile = self
                .load_profile(customer)?
                .unwrap_or_else(|| Profile::new(customer));
            let version: i64 = self
                .meta("version")?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
                + applied as i64;
            let was_bot = self.meta("bot")?.as_deref() == Some("1");
            let rows: Vec<(String, i64, &'static str, Option<String>, String)> = fresh
                .iter()
                .map(|e| {
                    (
                        e.message_id.clone(),
                        e.timestamp_ms,
                        e.kind.as_str(),
                        e.name.clone(),
                        e.to_json().to_json(),
                    )
                })
                .collect();
            let latest_context = fresh
                .iter()
                .max_by_key(|e| e.timestamp_ms)
                .map(|e| (e.timestamp_ms, e.context.to_json()));
            let mut folded =
                analytics::fold(shop, customer, &mut profile, fresh, version, was_bot, now);
            // Everything below is synchronous: the runtime commits it as one transaction.
            for (id, ts, kind, name, json) in rows {
                sql.exec(
                    "INSERT OR IGNORE INTO messages (message_id, ts, type, name, json, applied_at) \
                     VALUES (?, ?, ?, ?, ?, ?)",
                    vec![
                        id.into(),
                        ts.into(),
                        kind.into(),
                        name.into(),
                        json.into(),
                        now.into(),
                    ],
                )?;
            }
            sql.exec(
                "INSERT INTO profile (id, json) VALUES (1, ?) \
                 ON CONFLICT (id) DO UPDATE SET json = excluded.json",
                vec![profile.to_json().to_json().into()],
            )?;
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
            folded.statements.push(segs::profile_stmt(
                shop,
                customer,
                &profile.to_json().to_json(),
                version,
            ));
            let next_change = match &set {
                Some(set) => {
                    let (stmts, next) =
                        self.evaluate_segments(shop, customer, &profile, set, now)?;
                    folded.statements.extend(stmts);
                    next
                }
                None => None,
            };
            for chunk in folded.statements.chunks(d1::BATCH_STATEMENTS) {
                let text = serde_json::to_string(chunk)
                    .map_err(|e| worker::Error::RustError(e.to_string()))?;
                sql.exec(
                    "INSERT INTO outbox (statements) VALUES (?)",
                    vec![text.into()],
                )?;
            }
            self.flush().await;
            self.arm(next_change).await;
        }
        json_response(
            200,
            &serde_json::json!({ "applied": applied, "duplicates": duplicates }).to_string(),
        )
    }

    /// Delivers the outbox to D1 in order; on failure, retries later from an alarm.
    async fn flush(&self) {
        if self.flushing.replace(true) {
            return; // The running flush picks up new rows.
        }
        let result = self.flush_all().await;
        self.flushing.set(false);
        if let Err(e) = result {
            worker::console_error!("analytics delivery failed, retrying: {e}");
            self.arm(Some(now_ms() + RETRY_MS)).await;
        }
    }

    async fn flush_all(&self) -> Result<()> {
        #[derive(Deserialize)]
        struct Row {
            id: f64,
            statements: String,
        }
        let db = self.env.d1("DB")?;
        loop {
            let rows: Vec<Row> = self
                .sql()
                .exec(
                    "SELECT id, statements FROM outbox ORDER BY id LIMIT 1",
                    None,
                )?
                .to_array()?;
            let Some(row) = rows.into_iter().next() else {
                return Ok(());
            };
            let stmts: Vec<Stmt> = serde_json::from_str(&row.statements).unwrap_or_default();
            d1::run_batch(&db, &stmts).await?;
            self.sql()
                .exec("DELETE FROM outbox WHERE id = ?", vec![row.id.into()])?;
        }
    }

    /// The shop's segment set (D1, cached by version per isolate); `None` when the shop has none
    /// or D1 cannot be read now (the next batch or alarm evaluates again).
    async fn segment_set(&self, shop: &str) -> Option<std::rc::Rc<affinity::rules::SegmentSet>> {
        let db = self.env.d1("DB").ok()?;
        match segments_edge::current_set(&db, shop).await {
            Ok(set) => set.map(|(_, s)| s),
            Err(e) => {
                worker::console_error!("segments of {shop}: {e}");
                None
            }
        }
    }

    fn held(&self) -> Result<Vec<Held>> {
        #[derive(Deserialize)]
        struct Row {
            name: String,
            member: f64,
            entered_at: Option<f64>,
            exited_at: Option<f64>,
        }
        // Objects created before segments existed get the table on first read.
        self.sql().exec(SCHEMA[4], None)?;
        let rows: Vec<Row> = self
            .sql()
            .exec(
                "SELECT name, member, entered_at, exited_at FROM segments ORDER BY name",
                None,
            )?
            .to_array()?;
        Ok(rows
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
    /// returns the D1 statements mirroring the changes and the next time to look again.
    /// Synchronous: part of the caller's storage transaction.
    fn evaluate_segments(
        &self,
        shop: &str,
        customer: &str,
        profile: &Profile,
        set: &affinity::rules::SegmentSet,
        now: i64,
    ) -> Result<(Vec<Stmt>, Option<i64>)> {
        let context = self
            .meta("context")?
            .and_then(|c| affinity::json::parse(&c).ok())
            .unwrap_or_default();
        let context = segs::context_of(&context);
        let previous = self.held()?;
        let eval = segs::evaluate(shop, set, profile, &context, &previous, now);
        let sql = self.sql();
        // Segments no longer in the set are forgotten (their D1 rows go with the segment).
        sql.exec("DELETE FROM segments", None)?;
        for h in &eval.state {
            sql.exec(
                "INSERT INTO segments (name, member, entered_at, exited_at) VALUES (?, ?, ?, ?)",
                vec![
                    h.name.as_str().into(),
                    i64::from(h.member).into(),
                    h.entered_at.into(),
                    h.exited_at.into(),
                ],
            )?;
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
        Ok((stmts, eval.next_change_ms))
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

    /// The alarm (and `POST /evaluate`): re-evaluates segments (a window may have closed, or the
    /// set changed), delivers the outbox, re-arms.
    async fn reevaluate(&self) -> Result<()> {
        self.sql().exec(OUTBOX, None)?;
        for stmt in SCHEMA {
            self.sql().exec(stmt, None)?;
        }
        let (Some(shop), Some(customer)) = (self.meta("shop")?, self.meta("customer")?) else {
            return Ok(());
        };
        let mut next = None;
        if let (Some(set), Some(profile)) =
            (self.segment_set(&shop).await, self.load_profile(&customer)?)
        {
            let now = now_ms();
            let (stmts, next_change) =
                self.evaluate_segments(&shop, &customer, &profile, &set, now)?;
            for chunk in stmts.chunks(d1::BATCH_STATEMENTS) {
                let text = serde_json::to_string(chunk)
                    .map_err(|e| worker::Error::RustError(e.to_string()))?;
                self.sql().exec(
                    "INSERT INTO outbox (statements) VALUES (?)",
                    vec![text.into()],
                )?;
            }
            next = next_change;
        }
        self.flush().await;
        self.arm(next).await;
        Ok(())
    }

    fn profile(&self) -> Result<Response> {
        if !self.has_tables()? {
            return json_error(404, "unknown customer");
        }
        let customer = self.meta("customer")?.unwrap_or_default();
        let Some(profile) = self.load_profile(&customer)? else {
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
        if let Some(shop) = self.meta("shop")? {
            v.set("shop", shop.into());
        }
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
        let state = serde_json::to_string(&held)
            .ok()
            .and_then(|t| affinity::json::parse(&t).ok())
            .unwrap_or_default();
        v.set("segment_state", state);
        json_response(200, &v.to_json())
    }

    fn timeline(&self, limit: u32) -> Result<Response> {
        if !self.has_tables()? {
            return json_response(200, "[]");
        }
        #[derive(Deserialize, serde::Serialize)]
        struct Row {
            message_id: String,
            ts: f64,
            #[serde(rename = "type")]
            kind: String,
            name: Option<String>,
            json: String,
        }
        let rows: Vec<Row> = self
            .sql()
            .exec(
                "SELECT message_id, ts, type, name, json FROM messages \
                 ORDER BY ts DESC, message_id DESC LIMIT ?",
                vec![i64::from(limit).into()],
            )?
            .to_array()?;
        let body =
            serde_json::to_string(&rows).map_err(|e| worker::Error::RustError(e.to_string()))?;
        json_response(200, &body)
    }
}

impl DurableObject for Customer {
    fn new(state: State, env: Env) -> Self {
        Customer {
            state,
            env,
            flushing: Cell::new(false),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let url = req.url()?;
        let method = req.method().to_string();
        match (method.as_str(), url.path()) {
            ("POST", "/apply") => self.apply(req).await,
            ("GET", "/profile") => self.profile(),
            ("POST", "/evaluate") => {
                if self.has_tables()? {
                    self.reevaluate().await?;
                }
                json_response(200, "{\"evaluated\":true}")
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

    async fn alarm(&self) -> Result<Response> {
        if self.has_tables()? {
            self.reevaluate().await?;
        }
        Response::ok("done")
    }
}
