//! The customer Durable Object's own SQLite storage: its schema and every statement it runs.
//!
//! - `meta`: key → value (`shop`, `customer`, `version`, `bot`, `context`, `context_ts`);
//! - `messages`: applied message ids with the event JSON (idempotence and the timeline);
//! - `profile`: one row, the engine's profile JSON;
//! - `segments`: membership per segment with entry and exit times;
//! - `outbox`: D1 statements not yet delivered, in order;
//! - `quarantine`: stored values that failed to decode, kept as they were (never overwritten).

use serde::{Deserialize, Serialize};

use super::{Count, Query, Stmt};

/// The schema, created idempotently before the object reads or writes.
pub const SCHEMA: [&str; 7] = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS messages (message_id TEXT PRIMARY KEY, ts INTEGER NOT NULL, \
     type TEXT NOT NULL, name TEXT, json TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS messages_by_ts ON messages (ts)",
    "CREATE TABLE IF NOT EXISTS profile (id INTEGER PRIMARY KEY CHECK (id = 1), \
     json TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS segments (name TEXT PRIMARY KEY, member INTEGER NOT NULL, \
     entered_at INTEGER, exited_at INTEGER)",
    "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, \
     statements TEXT NOT NULL, failed INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS quarantine (id INTEGER PRIMARY KEY AUTOINCREMENT, \
     kind TEXT NOT NULL, ref TEXT NOT NULL, body TEXT NOT NULL, error TEXT NOT NULL, \
     at INTEGER NOT NULL)",
];

/// Migrations of objects created before a column existed: `(table, column, ALTER statement)`.
pub const ADDED_COLUMNS: [(&str, &str, &str); 1] = [(
    "outbox",
    "failed",
    "ALTER TABLE outbox ADD COLUMN failed INTEGER NOT NULL DEFAULT 0",
)];

/// A column of a table (`PRAGMA table_info`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ColumnRow {
    /// Column name.
    pub name: String,
}

/// The columns of `table` (one of the schema's own names).
pub fn columns(table: &str) -> Query<ColumnRow> {
    Query::from(Stmt::plain(&format!(
        "SELECT name FROM pragma_table_info('{table}')"
    )))
}

/// 1 when the object has stored anything (its `profile` table exists).
pub fn has_tables() -> Query<Count> {
    Query::from(Stmt::plain(
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'profile'",
    ))
}

/// A text value.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Value {
    /// The value.
    pub v: String,
}

/// A `meta` row.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MetaRow {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// Every `meta` row (a handful: the object reads them once per instance).
pub fn all_meta() -> Query<MetaRow> {
    Query::from(Stmt::plain("SELECT key, value FROM meta"))
}

/// A `meta` value.
pub fn meta(key: &str) -> Query<Value> {
    Query::named(
        "SELECT value AS v FROM meta WHERE key = :key",
        &[("key", key.into())],
    )
}

/// Sets a `meta` value.
pub fn set_meta(key: &str, value: &str) -> Stmt {
    Stmt::named(
        "INSERT INTO meta (key, value) VALUES (:key, :value) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[("key", key.into()), ("value", value.into())],
    )
}

/// A stored JSON text.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct JsonRow {
    /// The JSON.
    pub json: String,
}

/// The stored profile.
pub fn profile() -> Query<JsonRow> {
    Query::from(Stmt::plain("SELECT json FROM profile WHERE id = 1"))
}

/// Stores the profile.
pub fn set_profile(json: &str) -> Stmt {
    Stmt::named(
        "INSERT INTO profile (id, json) VALUES (1, :json) \
         ON CONFLICT (id) DO UPDATE SET json = excluded.json",
        &[("json", json.into())],
    )
}

/// One message id.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MessageId {
    /// The id.
    pub message_id: String,
}

/// Which of `ids` were applied before (at most [`super::MAX_PARAMS`] ids: callers chunk).
pub fn known_messages(ids: &[&str]) -> Query<MessageId> {
    let names: Vec<String> = (0..ids.len()).map(|i| format!("m{i}")).collect();
    let marks: Vec<String> = names.iter().map(|n| format!(":{n}")).collect();
    let params: Vec<(&str, super::Arg)> = names
        .iter()
        .zip(ids)
        .map(|(n, id)| (n.as_str(), (*id).into()))
        .collect();
    Query::named(
        &format!(
            "SELECT message_id FROM messages WHERE message_id IN ({})",
            marks.join(", ")
        ),
        &params,
    )
}

/// A message to record.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRow<'a> {
    /// `messageId`.
    pub id: &'a str,
    /// Event time, Unix ms.
    pub ts: i64,
    /// Call type.
    pub kind: &'a str,
    /// Track event name.
    pub name: Option<&'a str>,
    /// The event as JSON.
    pub json: String,
}

/// Records applied messages in one statement (at most 16 rows: 6 parameters each).
pub fn insert_messages(rows: &[MessageRow<'_>], now_ms: i64) -> Stmt {
    assert!(rows.len() <= 16, "at most 16 rows per statement");
    let mut sql = String::from(
        "INSERT OR IGNORE INTO messages (message_id, ts, type, name, json, applied_at) VALUES ",
    );
    let mut names: Vec<(String, super::Arg)> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(:id{i}, :ts{i}, :kind{i}, :name{i}, :json{i}, :now{i})"
        ));
        names.push((format!("id{i}"), r.id.into()));
        names.push((format!("ts{i}"), r.ts.into()));
        names.push((format!("kind{i}"), r.kind.into()));
        names.push((format!("name{i}"), r.name.into()));
        names.push((format!("json{i}"), r.json.as_str().into()));
        names.push((format!("now{i}"), now_ms.into()));
    }
    let params: Vec<(&str, super::Arg)> =
        names.iter().map(|(n, a)| (n.as_str(), a.clone())).collect();
    Stmt::named(&sql, &params)
}

/// Every applied message's JSON, oldest first (to rebuild a profile that does not decode).
pub fn all_messages() -> Query<JsonRow> {
    Query::from(Stmt::plain(
        "SELECT json FROM messages ORDER BY ts, message_id",
    ))
}

/// One entry of a customer's timeline (from the Durable Object).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct TimelineEntry {
    /// The event's messageId.
    pub message_id: String,
    /// When, Unix ms.
    pub ts: f64,
    /// Spec call type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Event name.
    #[serde(default)]
    pub name: Option<String>,
    /// The full event JSON.
    pub json: String,
}

/// The newest `limit` messages.
pub fn timeline(limit: u32) -> Query<TimelineEntry> {
    Query::named(
        "SELECT message_id, ts, type, name, json FROM messages \
         ORDER BY ts DESC, message_id DESC LIMIT :limit",
        &[("limit", limit.into())],
    )
}

/// A stored segment state row.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HeldRow {
    /// Segment name.
    pub name: String,
    /// 1 when in the segment.
    pub member: f64,
    /// Last entry, Unix ms.
    pub entered_at: Option<f64>,
    /// Last exit, Unix ms.
    pub exited_at: Option<f64>,
}

/// The stored segment states by name.
pub fn held() -> Query<HeldRow> {
    Query::from(Stmt::plain(
        "SELECT name, member, entered_at, exited_at FROM segments ORDER BY name",
    ))
}

/// Forgets every segment state (the new states are inserted next, in the same transaction).
pub fn clear_held() -> Stmt {
    Stmt::plain("DELETE FROM segments")
}

/// Stores one segment state.
pub fn insert_held(
    name: &str,
    member: bool,
    entered_at: Option<i64>,
    exited_at: Option<i64>,
) -> Stmt {
    Stmt::named(
        "INSERT INTO segments (name, member, entered_at, exited_at) \
         VALUES (:name, :member, :entered_at, :exited_at)",
        &[
            ("name", name.into()),
            ("member", member.into()),
            ("entered_at", entered_at.into()),
            ("exited_at", exited_at.into()),
        ],
    )
}

/// Queues D1 statements (JSON of `[Stmt]`).
pub fn push_outbox(statements_json: &str) -> Stmt {
    Stmt::named(
        "INSERT INTO outbox (statements) VALUES (:statements)",
        &[("statements", statements_json.into())],
    )
}

/// One outbox entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OutboxRow {
    /// Entry id (delivery order).
    pub id: f64,
    /// JSON of `[Stmt]`.
    pub statements: String,
}

/// The oldest entries not yet delivered, that decoded before, at most `limit`.
pub fn outbox(limit: u32) -> Query<OutboxRow> {
    Query::named(
        "SELECT id, statements FROM outbox WHERE failed = 0 ORDER BY id LIMIT :limit",
        &[("limit", limit.into())],
    )
}

/// Entries waiting for delivery.
pub fn outbox_len() -> Query<Count> {
    Query::from(Stmt::plain(
        "SELECT COUNT(*) AS n FROM outbox WHERE failed = 0",
    ))
}

/// Removes the delivered entries: every entry up to `last` that is not marked failed (delivery
/// reads in id order and marks what does not decode before it deletes; entries queued meanwhile
/// have higher ids).
pub fn delete_delivered(last: f64) -> Stmt {
    Stmt::named(
        "DELETE FROM outbox WHERE failed = 0 AND id <= :last",
        &[("last", last.into())],
    )
}

/// Marks an entry that does not decode: it stays, is skipped by delivery and is counted.
pub fn fail_outbox(id: f64) -> Stmt {
    Stmt::named(
        "UPDATE outbox SET failed = 1 WHERE id = :id",
        &[("id", id.into())],
    )
}

/// Keeps a value that failed to decode, as it was, with why.
pub fn quarantine(kind: &str, reference: &str, body: &str, error: &str, now_ms: i64) -> Stmt {
    Stmt::named(
        "INSERT INTO quarantine (kind, ref, body, error, at) \
         VALUES (:kind, :ref, :body, :error, :now)",
        &[
            ("kind", kind.into()),
            ("ref", reference.into()),
            ("body", body.into()),
            ("error", error.into()),
            ("now", now_ms.into()),
        ],
    )
}

/// Values kept in quarantine.
pub fn quarantined() -> Query<Count> {
    Query::from(Stmt::plain("SELECT COUNT(*) AS n FROM quarantine"))
}
