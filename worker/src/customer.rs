//! The `Customer` Durable Object: one per shop and customer (`idFromName(shop + ":" + customer)`),
//! with SQLite storage holding the applied messages (the timeline), the profile and an outbox of
//! D1 statements not yet delivered.
//!
//! Internal endpoints (called by the Worker only):
//! - `POST /apply` `{"shop","customer","events":[Segment JSON…]}` → `{"applied":n,"duplicates":d}`
//! - `GET /profile` → the engine's profile JSON plus `rfm` and `cart_value` (404 if unknown)
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

/// Retry delay for D1 statements that could not be delivered.
const RETRY_MS: i64 = 30_000;

const SCHEMA: [&str; 4] = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS messages (message_id TEXT PRIMARY KEY, ts INTEGER NOT NULL, \
     type TEXT NOT NULL, name TEXT, json TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS messages_by_ts ON messages (ts)",
    "CREATE TABLE IF NOT EXISTS profile (id INTEGER PRIMARY KEY CHECK (id = 1), \
     json TEXT NOT NULL)",
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
            let folded =
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
            for chunk in folded.statements.chunks(d1::BATCH_STATEMENTS) {
                let text = serde_json::to_string(chunk)
                    .map_err(|e| worker::Error::RustError(e.to_string()))?;
                sql.exec(
                    "INSERT INTO outbox (statements) VALUES (?)",
                    vec![text.into()],
                )?;
            }
            self.flush().await;
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
            let _ = self.state.storage().set_alarm(RETRY_MS).await;
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
            self.sql().exec(OUTBOX, None)?;
            self.flush().await;
        }
        Response::ok("flushed")
    }
}
