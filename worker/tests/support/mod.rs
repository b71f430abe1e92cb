//! What the store tests share: every migration applied to an in-memory SQLite database, and
//! statements and queries run on it as D1 runs them.
#![allow(dead_code)]

use affinity::event::Event;
use affinity::json::parse;
use affinity_worker::platform::store::{Arg, Query, Stmt};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::Connection;
use serde::de::DeserializeOwned;

/// Parameters as rusqlite binds them.
pub fn bind(args: &[Arg]) -> Vec<SqlValue> {
    args.iter()
        .map(|a| match a {
            Arg::Null => SqlValue::Null,
            Arg::Num(n) => SqlValue::Real(*n),
            Arg::Text(t) => SqlValue::Text(t.clone()),
        })
        .collect()
}

pub fn exec(db: &Connection, stmt: &Stmt) {
    db.execute(&stmt.sql, rusqlite::params_from_iter(bind(&stmt.args)))
        .unwrap_or_else(|e| panic!("{e}: {}", stmt.sql));
}

pub fn exec_all(db: &Connection, stmts: &[Stmt]) {
    for s in stmts {
        exec(db, s);
    }
}

/// Rows as D1 returns them: JSON objects keyed by column name, numbers as numbers.
pub fn all<T: DeserializeOwned>(db: &Connection, q: &Query<T>) -> Vec<T> {
    let mut st = db
        .prepare(&q.stmt.sql)
        .unwrap_or_else(|e| panic!("{e}: {}", q.stmt.sql));
    let names: Vec<String> = st.column_names().map(|s| s.to_string()).collect();
    let rows = st
        .query_map(rusqlite::params_from_iter(bind(&q.stmt.args)), |row| {
            let mut obj = serde_json::Map::new();
            for (i, name) in names.iter().enumerate() {
                let v = match row.get_ref(i)? {
                    ValueRef::Null => serde_json::Value::Null,
                    ValueRef::Integer(n) => serde_json::Value::from(n),
                    ValueRef::Real(x) => serde_json::Value::from(x),
                    ValueRef::Text(t) => {
                        serde_json::Value::from(String::from_utf8_lossy(t).into_owned())
                    }
                    ValueRef::Blob(_) => serde_json::Value::Null,
                };
                obj.insert(name.clone(), v);
            }
            Ok(serde_json::Value::Object(obj))
        })
        .unwrap_or_else(|e| panic!("{e}: {}", q.stmt.sql));
    rows.map(|r| {
        let v = r.unwrap_or_else(|e| panic!("{e}"));
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}: {v}"))
    })
    .collect()
}

pub fn first<T: DeserializeOwned>(db: &Connection, q: &Query<T>) -> Option<T> {
    all(db, q).into_iter().next()
}

/// A fresh database with every migration applied, in order, as wrangler applies them.
pub fn d1() -> Connection {
    let db = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "migrations: {files:?}");
    for f in files {
        let sql = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{e}"));
        db.execute_batch(&sql)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    }
    db
}

pub fn event(json: &str) -> Event {
    Event::from_json(&parse(json).unwrap_or_default()).unwrap_or_else(|e| panic!("{e:?}"))
}
